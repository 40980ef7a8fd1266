"""Ground floor: sleep stages, their names and the epoch geometry.

Imports nothing of this package, so everything else (the network, the loss, the pair sampler,
the input boundary, metrics, plots) can rely on it without pulling in anything above it.
"""

from __future__ import annotations

import re

import numpy as np

#: The canonical AASM stages, in the order used for model outputs, reports and plots.
STAGES = ("W", "N1", "N2", "N3", "R")
#: Number of stages (outputs of the network).
N_STAGES = len(STAGES)
#: Index of N1 in :data:`STAGES`.
N1 = STAGES.index("N1")
#: Annotation / event names of each stage, as in Sleep-EDF (the convention MNE users know).
STAGE_DESCRIPTIONS = {
    "W": "Sleep stage W",
    "N1": "Sleep stage 1",
    "N2": "Sleep stage 2",
    "N3": "Sleep stage 3/4",
    "R": "Sleep stage R",
}
#: Stage of an epoch that cannot be scored (e.g. electrode off), and its annotation.
UNSCORED = "?"
UNSCORED_DESCRIPTION = "Sleep stage ?"
#: Default sampling rate (Hz) and epoch duration (s) of the model: Sleep-EDF's Fpz-Cz.
DEFAULT_SFREQ = 100.0
EPOCH_DURATION = 30.0

_ALIASES = {
    "W": ("w", "wake", "awake", "stage w", "sleep stage w", "stage 0", "sleep stage 0", "s0"),
    "N1": ("n1", "s1", "stage 1", "stage n1", "sleep stage 1", "sleep stage n1", "nrem1"),
    "N2": ("n2", "s2", "stage 2", "stage n2", "sleep stage 2", "sleep stage n2", "nrem2"),
    "N3": (
        "n3",
        "n4",
        "s3",
        "s4",
        "sws",
        "stage 3",
        "stage 4",
        "stage n3",
        "sleep stage 3",
        "sleep stage 4",
        "sleep stage n3",
        "sleep stage n4",
        "sleep stage 3/4",
        "nrem3",
        "nrem4",
    ),
    "R": ("r", "rem", "stage r", "stage rem", "sleep stage r", "sleep stage rem", "s5"),
}
_ALIAS_TO_INDEX = {
    alias: STAGES.index(stage) for stage, aliases in _ALIASES.items() for alias in aliases
}


def _normalise_label(label: str) -> str:
    return re.sub(r"[\s_]+", " ", label.strip().lower())


def stage_indices(y, *, name="y") -> np.ndarray:
    """Map sleep-stage labels to indices into :data:`STAGES`.

    Parameters
    ----------
    y : array-like, shape (n_epochs,)
        Labels, all of one kind: strings (``'W', 'N1', 'N2', 'N3', 'R'`` or a common alias such
        as ``'Sleep stage 4'``, ``'REM'``, ``'Wake'``; case-insensitive; R&K stage 4 maps to N3)
        or integers ``0..4`` meaning ``W, N1, N2, N3, R`` (the DeepSleepNet / braindecode
        convention).
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    indices : ndarray of int64, shape (n_epochs,)
        Index of each label's stage in :data:`STAGES`.

    Examples
    --------
    >>> stage_indices(["Sleep stage W", "REM", "N1", "Sleep stage 4"])
    array([0, 4, 1, 3])
    """
    try:
        y = np.asarray(y)
    except ValueError:  # ragged nested sequences
        raise ValueError(
            f"{name} must be one label per epoch (a flat list or 1-D array); got a ragged nested "
            "sequence."
        ) from None
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be one label per epoch (1-D), got an array of shape {y.shape}. "
            "Flatten it or pass one column of labels."
        )
    if y.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} holds complex numbers.")
    if y.dtype.kind == "b":
        raise TypeError(f"{name} holds booleans; sleep stages are strings or integers 0..4.")
    if y.dtype.kind in "iu":
        return _integer_stage_indices(y, name)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(
                f"Unknown label type: {name} holds non-integer (continuous) numbers; sleep "
                "stages are strings such as 'N1' or integers 0..4 (W, N1, N2, N3, R)."
            )
        return _integer_stage_indices(y, name)
    if y.dtype.kind not in "OUST":  # T: NumPy 2 StringDType (pandas 3 strings)
        raise TypeError(
            f"{name} has dtype {y.dtype}; sleep stages are strings such as 'N1' or integers "
            "0..4 (W, N1, N2, N3, R)."
        )
    labels = y.tolist()
    kinds = {type(label) for label in labels}
    if not kinds <= {str, bytes}:
        if kinds <= {int}:
            return _integer_stage_indices(np.asarray(labels, dtype=object), name)
        shown = ", ".join(sorted(kind.__name__ for kind in kinds))
        problem = f"mixes label types ({shown})" if len(kinds) > 1 else f"holds {shown} labels"
        raise TypeError(
            f"{name} {problem}. Use one kind throughout: stage names such as 'W', 'N1', 'N2', "
            "'N3', 'R', or integers 0..4."
        )
    indices = np.empty(len(labels), dtype=np.int64)
    unknown = []
    for position, label in enumerate(labels):
        if isinstance(label, bytes):
            label = label.decode("utf-8", errors="replace")
        index = _ALIAS_TO_INDEX.get(_normalise_label(label))
        if index is None:
            unknown.append(label)
        else:
            indices[position] = index
    if unknown:
        shown = ", ".join(repr(label) for label in sorted(set(unknown))[:10])
        raise ValueError(
            f"{name} has labels that are not sleep stages: {shown}. Allowed: {', '.join(STAGES)} "
            "or aliases such as 'Sleep stage W/1/2/3/4/R', 'Wake', 'REM'. Drop epochs scored "
            "'?' or 'Movement time' before fitting."
        )
    return indices


def _integer_stage_indices(y, name):
    values = np.unique(y)
    bad = [value for value in values.tolist() if value not in range(N_STAGES)]
    if bad:
        raise ValueError(
            f"{name} has integer labels outside 0..4: {bad[:10]}. Integer labels mean "
            "0=W, 1=N1, 2=N2, 3=N3, 4=R; map your codes to these or pass stage names."
        )
    return np.asarray(y).astype(np.int64)
