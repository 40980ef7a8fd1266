"""Fine-tuning: start training from the weights of a model trained elsewhere.

``SSCSleepClassifier(pretrained="model.sscsleep")`` builds its network as usual, then loads the
weights of the model file's network into it before the first pass: a user with a model trained
on another lab's nights and one or two scored nights of their own adapts it rather than
training from random weights. A single-epoch model can start the per-epoch network of a
``context`` model, whose sequence model then starts fresh, and a context model's per-epoch
network starts a single-epoch one.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import torch

#: Starting points that ship with the package (``pretrained=NAME``): name -> file in
#: ``mne_sscsleep/data/``, trained by ``benchmarks/pretrain.py`` on simulated nights only.
STARTING_POINTS = {"lite-simulated": "lite_simulated.sscsleep"}


def starting_point(name):
    """The model file of a starting point that ships with the package.

    Parameters
    ----------
    name : str
        A key of :data:`STARTING_POINTS` (``'lite-simulated'``).

    Returns
    -------
    fname : pathlib.Path
        The model file, to fine-tune from (``pretrained=name`` does this) or to load and use
        as it is (:meth:`mne_sscsleep.SSCSleepClassifier.load`).

    Examples
    --------
    >>> starting_point("lite-simulated").name
    'lite_simulated.sscsleep'
    """
    if name not in STARTING_POINTS:
        raise ValueError(
            f"No starting point named {name!r} ships with mne-sscsleep; the names are "
            f"{', '.join(map(repr, STARTING_POINTS))}, or give the path of a model file."
        )
    return Path(str(files("mne_sscsleep").joinpath("data", STARTING_POINTS[name])))


def load_pretrained(network, model, *, name, sfreq, context):
    """Load a pretrained network's weights into ``network`` (in place).

    Parameters
    ----------
    network : torch.nn.Module
        The classifier's freshly built network (a ``ContextNet`` when ``context > 0``).
    model : mne_sscsleep.io.ModelFile
        The model file's contents (:func:`mne_sscsleep.io.read_model`).
    name : str
        The model file's name, for messages.
    sfreq : float
        The classifier's rate, which the pretrained network's input length must match.
    context : int
        The classifier's context. With another context than the starting point's, only the
        per-epoch network carries over (into a single-epoch network, or into the per-epoch
        network of a context model, whose sequence model then starts fresh).

    Returns
    -------
    info : dict
        What was loaded: ``source`` (the file name) and ``context`` of the starting point.

    Examples
    --------
    The classifier calls it for ``pretrained=``; by hand:

    >>> from mne_sscsleep.io import read_model
    >>> clf = SSCSleepClassifier(preset="lite").initialize()  # doctest: +SKIP
    >>> load_pretrained(  # doctest: +SKIP
    ...     clf.module_, read_model("elsewhere.sscsleep"), name="elsewhere.sscsleep",
    ...     sfreq=100.0, context=0,
    ... )
    {'source': 'elsewhere.sscsleep', 'context': 0}
    """
    if model.sfreq != sfreq:
        raise ValueError(
            f"The pretrained network {name} works at {model.sfreq:g} Hz, this classifier "
            f"at {sfreq:g} Hz; use sfreq={model.sfreq:g} or another starting point."
        )
    stored_context = int(model.params.get("context", 0) or 0)
    state = model.module_state
    target = network
    if stored_context != context:
        # Only the per-epoch network carries over; a sequence model of another width
        # starts fresh.
        if stored_context:
            prefix = "epoch_network."
            state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if context:
            target = network.epoch_network
    try:
        target.load_state_dict(state)
    except RuntimeError as error:
        shown = str(error).splitlines()[1:2] or [str(error)[:200]]
        raise ValueError(
            f"The pretrained network {name} (preset {model.params.get('preset')!r}) does "
            "not fit this classifier's network: use the same preset and module__ parameters "
            f"({shown[0].strip()})."
        ) from None
    return {"source": name, "context": stored_context}


def check_state_shapes(build, state, *, what, fname):
    """Refuse stored weights that do not fit the network they describe, before allocating it.

    Parameters
    ----------
    build : callable
        Builds the described network (called on PyTorch's ``meta`` device: no memory).
    state : dict
        The stored ``state_dict``.
    what : str
        ``'module'`` or ``'criterion'``, for the message.
    fname : str | pathlib.Path
        The model file, for the message.

    Examples
    --------
    >>> build = lambda: torch.nn.Linear(2, 3)
    >>> check_state_shapes(build, {"weight": torch.zeros(3, 2)}, what="module", fname="m")
    Traceback (most recent call last):
    ...
    ValueError: Refusing to load 'm': the stored module weights do not fit ... 'bias').
    """
    with torch.device("meta"):
        probe = build()
    expected = {key: tuple(value.shape) for key, value in probe.state_dict().items()}
    stored = {key: tuple(value.shape) for key, value in state.items()}
    if expected != stored:
        wrong = sorted(set(expected) ^ set(stored)) or [
            key for key in expected if expected[key] != stored[key]
        ]
        raise ValueError(
            f"Refusing to load {str(fname)!r}: the stored {what} weights do not fit the "
            f"network the file describes (first mismatch: {wrong[0]!r})."
        )
