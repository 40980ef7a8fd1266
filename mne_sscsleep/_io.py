"""One-file model persistence: weights plus everything needed to use them safely.

A model file is a ``torch.save`` of plain data (tensors, strings, numbers, lists, dicts), so it
loads with ``torch.load(weights_only=True)``: no arbitrary code runs when opening a file. It
holds the network and criterion state, the classifier's parameters, the user's class labels,
the sampling rate, channel and epoch length the model was trained for, the training history and
the package version.
"""

from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path

import numpy as np

from ._epochs import EPOCH_DURATION

FORMAT = "mne-sscsleep-model"
FORMAT_VERSION = 2
# Format 1 (pre-release) pooled the stems after batch norm: its weights do not fit the layers.
_OLDEST_FORMAT_VERSION = 2


def _encode(value):
    """Plain-data form of a parameter, or raise TypeError."""
    from skorch.dataset import ValidSplit

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return {
            "__sequence__": [_encode(item) for item in value],
            "tuple": isinstance(value, tuple),
        }
    if isinstance(value, ValidSplit):
        return {
            "__valid_split__": [_encode(value.cv), value.stratified, _encode(value.random_state)]
        }
    if isinstance(value, type) or callable(value):
        module, name = getattr(value, "__module__", None), getattr(value, "__qualname__", "")
        if module and name and "<" not in name:
            return {"__import__": f"{module}:{name}"}
    raise TypeError(f"cannot store {type(value).__name__} {value!r}")


def _decode(value):
    from skorch.dataset import ValidSplit

    if not isinstance(value, dict):
        return value
    if "__sequence__" in value:
        items = [_decode(item) for item in value["__sequence__"]]
        return tuple(items) if value["tuple"] else items
    if "__valid_split__" in value:
        cv, stratified, random_state = value["__valid_split__"]
        return ValidSplit(cv, stratified=stratified, random_state=random_state)
    if "__import__" in value:
        module, name = value["__import__"].split(":")
        target = importlib.import_module(module)
        for part in name.split("."):
            target = getattr(target, part)
        return target
    raise ValueError(f"unknown stored value {value!r}")


def save_model(clf, fname):
    """Save a fitted :class:`SSCSleepClassifier` to one file.

    Parameters
    ----------
    clf : SSCSleepClassifier
        A fitted classifier.
    fname : str | pathlib.Path
        Output file (conventionally ``*.sscsleep``); overwritten if it exists.

    Returns
    -------
    fname : pathlib.Path
        The file written.
    """
    import torch
    from sklearn.utils.validation import check_is_fitted

    from ._version import __version__

    check_is_fitted(clf, "classes_user_")
    params, skipped = {}, []
    for name, value in clf.get_params(deep=False).items():
        if name.startswith("_"):  # skorch's private bookkeeping
            continue
        try:
            params[name] = _encode(value)
        except TypeError:
            skipped.append(name)
    if skipped:
        warnings.warn(
            f"Not stored in the model file (not plain data): {', '.join(sorted(skipped))}. "
            "Set them again after loading if you need them for further training.",
            RuntimeWarning,
            stacklevel=3,
        )
    history = json.loads(json.dumps(clf.history.to_list(), default=float))
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "sfreq": float(clf.sfreq),
        "epoch_duration": EPOCH_DURATION,
        "ch_name": clf.ch_name_,
        "classes": clf.classes_.tolist(),
        "stages": list(clf.stages_),
        "class_counts": [int(count) for count in clf.class_counts_],
        "params": params,
        "module_state": _uncompiled(clf.module_).state_dict(),
        "criterion_state": _uncompiled(clf.criterion_).state_dict(),
        "history": history,
    }
    fname = Path(fname)
    torch.save(payload, fname)
    return fname


def read_model_info(fname):
    """Read a model file's metadata without building the model.

    Parameters
    ----------
    fname : str | pathlib.Path
        A file written by :meth:`SSCSleepClassifier.save`.

    Returns
    -------
    info : dict
        ``package_version``, ``sfreq``, ``epoch_duration``, ``ch_name``, ``classes``,
        ``stages``, ``class_counts`` and ``n_epochs_trained``.
    """
    payload = _load_payload(fname)
    info = {
        key: payload[key]
        for key in (
            "package_version",
            "sfreq",
            "epoch_duration",
            "ch_name",
            "classes",
            "stages",
            "class_counts",
        )
    }
    info["n_epochs_trained"] = len(payload["history"])
    return info


def _load_payload(fname):
    import pickle

    import torch

    from ._version import __version__

    fname = Path(fname)
    if not fname.is_file():
        raise FileNotFoundError(f"No model file at {str(fname)!r}.")
    try:
        payload = torch.load(fname, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        raise ValueError(
            f"{str(fname)!r} is not an mne-sscsleep model file (torch could not read it: "
            f"{str(error).splitlines()[0]}). Save models with SSCSleepClassifier.save()."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(
            f"{str(fname)!r} is not an mne-sscsleep model file. Save models with "
            "SSCSleepClassifier.save()."
        )
    if payload["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"{str(fname)!r} was written by mne-sscsleep {payload['package_version']} in model "
            f"format {payload['format_version']}; this is mne-sscsleep {__version__}, which "
            f"reads format {FORMAT_VERSION} and older. Upgrade mne-sscsleep to load it."
        )
    if payload["format_version"] < _OLDEST_FORMAT_VERSION:
        raise ValueError(
            f"{str(fname)!r} was written by mne-sscsleep {payload['package_version']} in model "
            f"format {payload['format_version']}, whose network layers differ from this "
            f"version's (format {FORMAT_VERSION}). Retrain the model with this version "
            "(mne-sscsleep train, or SSCSleepClassifier.fit) and save it again."
        )
    if payload["epoch_duration"] != EPOCH_DURATION:
        raise ValueError(
            f"{str(fname)!r} holds a model for {payload['epoch_duration']:g}-s epochs; this "
            f"version stages {EPOCH_DURATION:g}-s epochs only."
        )
    return payload


def _uncompiled(module):
    """The module behind ``torch.compile`` (``compile=True``), so files load either way."""
    return getattr(module, "_orig_mod", module)


def load_model(fname, *, device="cpu"):
    """Load a classifier saved with :meth:`SSCSleepClassifier.save`.

    Parameters
    ----------
    fname : str | pathlib.Path
        The model file.
    device : str
        Where to put the network (``'cpu'`` or ``'cuda'``).

    Returns
    -------
    clf : SSCSleepClassifier
        Fitted and ready to ``predict``.
    """
    from skorch.history import History

    from ._classifier import SSCSleepClassifier

    payload = _load_payload(fname)
    params = {name: _decode(value) for name, value in payload["params"].items()}
    params["device"] = device
    clf = SSCSleepClassifier(**params)
    clf.initialize()
    _uncompiled(clf.module_).load_state_dict(payload["module_state"])
    _uncompiled(clf.criterion_).load_state_dict(payload["criterion_state"])
    clf.classes_user_ = np.asarray(payload["classes"])
    clf.stages_ = tuple(payload["stages"])
    clf.class_counts_ = np.asarray(payload["class_counts"])
    clf.ch_name_ = payload["ch_name"]
    clf.history = History(payload["history"])
    return clf
