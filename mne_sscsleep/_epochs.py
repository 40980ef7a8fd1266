"""The one boundary between user objects and the arrays the model consumes.

Everything a user hands to mne-sscsleep (``mne.Epochs`` or NumPy arrays, labels as strings,
aliases or integers) passes through :func:`check_epochs` and :func:`stage_indices` exactly once.
Past this module, data are ``float32`` arrays of shape ``(n_epochs, 1, n_times)`` in **volts**
and labels are integer indices into :data:`STAGES`.

Units: MNE stores EEG in volts, and so does everything up to the network; arrays handed in
directly are assumed to be in volts too. The network itself scales its input to microvolts
(:class:`mne_sscsleep.SSCSleepNet`'s ``input_scale``), one batch at a time, so a float32 array
passes this boundary without any copy: fitting 40,000 epochs holds the data once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

#: The canonical AASM stages, in the order used for model outputs, reports and plots.
STAGES = ("W", "N1", "N2", "N3", "R")
#: Annotation / event names of each stage, as in Sleep-EDF (the convention MNE users know).
STAGE_DESCRIPTIONS = {
    "W": "Sleep stage W",
    "N1": "Sleep stage 1",
    "N2": "Sleep stage 2",
    "N3": "Sleep stage 3/4",
    "R": "Sleep stage R",
}
#: Index of N1 in :data:`STAGES`.
N1 = STAGES.index("N1")
#: Default sampling rate (Hz) and epoch duration (s) of the model: Sleep-EDF's Fpz-Cz.
DEFAULT_SFREQ = 100.0
EPOCH_DURATION = 30.0

# Peak-to-peak amplitude (volts) under which an epoch is called flat: a disconnected electrode or
# a zero-padded gap, far below the few microvolts of even the quietest real EEG.
FLAT_PTP_VOLTS = 1e-7
# A standard deviation this large (volts) is ten millivolts: no scalp EEG is that big, so the
# array is almost certainly in microvolts.
_MAX_PLAUSIBLE_STD_VOLTS = 1e-2
# Epochs converted to float32 at a time: bounds the temporaries of large inputs.
_CHUNK = 2048

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


def _format_indices(indices, limit=10):
    indices = [int(i) for i in indices]
    shown = ", ".join(map(str, indices[:limit]))
    return shown + (f", ... ({len(indices)} in total)" if len(indices) > limit else "")


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
    y = np.asarray(y)
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
        return _integer_stage_indices(y.astype(np.int64), name)
    kinds = {type(label) for label in y.tolist()}
    if not kinds <= {str, np.str_}:
        if kinds <= {int, np.integer}:
            return _integer_stage_indices(y.astype(np.int64), name)
        shown = ", ".join(sorted(kind.__name__ for kind in kinds))
        raise TypeError(
            f"{name} mixes label types ({shown}). Use one kind throughout: stage names such as "
            "'W', 'N1', 'N2', 'N3', 'R', or integers 0..4."
        )
    indices = np.empty(len(y), dtype=np.int64)
    unknown = []
    for position, label in enumerate(y.tolist()):
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
    bad = np.setdiff1d(np.unique(y), np.arange(len(STAGES)))
    if bad.size:
        raise ValueError(
            f"{name} has integer labels outside 0..4: {bad[:10].tolist()}. Integer labels mean "
            "0=W, 1=N1, 2=N2, 3=N3, 4=R; map your codes to these or pass stage names."
        )
    return y.astype(np.int64)


def labels_from_epochs(epochs) -> np.ndarray:
    """Return each epoch's ``event_id`` name, the label MNE stores in ``epochs.events``.

    Parameters
    ----------
    epochs : mne.Epochs
        Epochs whose ``event_id`` keys name sleep stages (e.g. ``'Sleep stage W'``).

    Returns
    -------
    labels : ndarray of str, shape (n_epochs,)
    """
    code_to_name = {code: name for name, code in epochs.event_id.items()}
    return np.array([code_to_name[code] for code in epochs.events[:, 2]], dtype=object)


@dataclass(frozen=True)
class EpochsData:
    """Validated model input.

    Attributes
    ----------
    data : ndarray of float32, shape (n_epochs, 1, n_times)
        EEG in volts (a view of the input where it already was float32 and C-contiguous).
    ch_name : str or None
        Name of the channel used, or None for arrays (which carry no names).
    sfreq : float
        Sampling rate of ``data`` in Hz.
    """

    data: np.ndarray
    ch_name: str | None
    sfreq: float


def check_epochs(
    X,
    *,
    sfreq=DEFAULT_SFREQ,
    picks=None,
    resample=False,
    epoch_duration=EPOCH_DURATION,
    on_flat="raise",
) -> EpochsData:
    """Validate EEG epochs and convert them to the model's input.

    Parameters
    ----------
    X : mne.Epochs | ndarray, shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
        Epochs of one EEG channel. Arrays are taken to be in volts (as MNE stores EEG) and
        sampled at ``sfreq``.
    sfreq : float
        Sampling rate the model works at, in Hz.
    picks : str | int | None
        The channel to use when ``X`` has several: a name (``mne.Epochs``) or an index.
    resample : bool
        If True, ``mne.Epochs`` sampled at another rate are resampled to ``sfreq``; if False
        (default), such input is an error, so that resampling is never silent.
    epoch_duration : float
        Expected epoch duration in seconds (30 s in the AASM manual).
    on_flat : ``'raise'`` | ``'warn'`` | ``'ignore'``
        What to do with flat epochs (peak-to-peak below 0.1 uV), typically a disconnected
        electrode.

    Returns
    -------
    epochs_data : EpochsData
        ``data`` is float32 of shape ``(n_epochs, 1, n_times)`` in volts, with
        ``n_times == round(sfreq * epoch_duration)``. A C-contiguous float32 array is not
        copied; other input is converted in chunks, so no float64 copy is ever made.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(0, 20e-6, (4, 3000)).astype(np.float32)
    >>> checked = check_epochs(X)
    >>> checked.data.shape, checked.data.dtype, checked.sfreq
    ((4, 1, 3000), dtype('float32'), 100.0)
    >>> np.shares_memory(checked.data, X)
    True
    """
    if on_flat not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_flat must be 'raise', 'warn' or 'ignore', got {on_flat!r}.")
    import mne

    X = merge_epochs_list(X)
    if isinstance(X, mne.BaseEpochs):
        data, ch_name = _data_from_mne(X, sfreq=sfreq, picks=picks, resample=resample)
    elif isinstance(X, mne.io.BaseRaw):
        raise TypeError(
            "Got a continuous mne.io.Raw; the model needs 30-s epochs. Cut it first with "
            "mne.make_fixed_length_epochs(raw, duration=30.0), or stage a whole recording "
            "with mne_sscsleep.stage()."
        )
    else:
        data, ch_name = _data_from_array(X, picks=picks), None
    n_epochs, _, n_times = data.shape
    if n_epochs == 0:
        raise ValueError("Got 0 sample(s) (no epochs, empty input); pass at least one 30-s epoch.")
    if n_times == 0:
        raise ValueError(
            f"Found epochs with 0 feature(s) (shape=({n_epochs}, 0)) while a minimum of 1 is "
            "required: pass 30-s epochs of EEG."
        )
    _check_finite(data)
    expected = int(round(sfreq * epoch_duration))
    if n_times == expected + 1:
        # mne.Epochs(..., tmin=0, tmax=30) keeps both end points; drop the extra sample.
        _warn(
            f"Epochs have {n_times} samples, one more than {epoch_duration:g} s at {sfreq:g} Hz; "
            f"dropping the last sample. Create epochs with tmax={epoch_duration:g} - 1 / sfreq "
            "to avoid this warning."
        )
        data = data[..., :expected]
    elif n_times != expected:
        raise ValueError(
            f"Epochs last {n_times} samples ({n_times / sfreq:g} s at {sfreq:g} Hz) but the "
            f"model needs {epoch_duration:g}-s epochs ({expected} samples). Cut the recording "
            f"into {epoch_duration:g}-s epochs (tmin=0, tmax={epoch_duration:g} - 1 / sfreq); "
            "if the array is sampled at another rate, wrap it in mne.EpochsArray and pass "
            "resample=True."
        )
    return EpochsData(_checked_volts(data, on_flat), ch_name, float(sfreq))


def merge_epochs_list(X):
    """Merge a list of ``mne.Epochs`` into one ``EpochsArray``; anything else passes through.

    scikit-learn's cross-validation indexes objects without a ``shape`` (such as ``mne.Epochs``)
    into a *list* of one-epoch ``Epochs``; this turns such a list back into one object.

    Parameters
    ----------
    X : object
        Typically a list of ``mne.Epochs`` with the same channels and sampling rate.

    Returns
    -------
    X : mne.EpochsArray | object
    """
    import mne

    if not isinstance(X, (list, tuple)) or not X:
        return X
    if not all(isinstance(item, mne.BaseEpochs) for item in X):
        return X
    first = X[0]
    event_id = {}
    for item in X:
        if item.ch_names != first.ch_names or item.info["sfreq"] != first.info["sfreq"]:
            raise ValueError(
                "The list of epochs mixes channels or sampling rates ("
                f"{first.ch_names} at {first.info['sfreq']:g} Hz vs {item.ch_names} at "
                f"{item.info['sfreq']:g} Hz); pick and resample them alike first."
            )
        for name, code in item.event_id.items():
            if event_id.setdefault(name, code) != code:
                raise ValueError(
                    f"The list of epochs gives event {name!r} two codes ({event_id[name]} and "
                    f"{code}); make their event_id agree."
                )
    data = np.concatenate([item.get_data(copy=False) for item in X])
    events = np.concatenate([item.events for item in X])
    events[:, 0] = np.arange(len(events)) * len(first.times)  # unique sample positions
    return mne.EpochsArray(
        data, first.info, events=events, event_id=event_id, tmin=first.tmin, verbose="error"
    )


def _data_from_mne(epochs, *, sfreq, picks, resample):
    ch_names = epochs.ch_names
    if picks is None:
        if len(ch_names) != 1:
            hint = next((name for name in ch_names if "fpz" in name.lower()), ch_names[0])
            raise ValueError(
                f"The epochs have {len(ch_names)} channels ({', '.join(ch_names[:8])}"
                f"{', ...' if len(ch_names) > 8 else ''}) but the model stages one EEG channel. "
                f"Choose one with picks, e.g. picks={hint!r}."
            )
        ch_name = ch_names[0]
    elif isinstance(picks, (int, np.integer)):
        if not -len(ch_names) <= picks < len(ch_names):
            raise ValueError(f"picks={picks} is out of range for {len(ch_names)} channel(s).")
        ch_name = ch_names[picks]
    elif isinstance(picks, str):
        if picks not in ch_names:
            raise ValueError(
                f"Channel {picks!r} is not in the epochs; available: {', '.join(ch_names)}."
            )
        ch_name = picks
    else:
        raise TypeError(
            f"picks must be one channel name or index, got {type(picks).__name__} {picks!r}."
        )
    epochs_sfreq = float(epochs.info["sfreq"])
    if not np.isclose(epochs_sfreq, sfreq):
        if not resample:
            raise ValueError(
                f"The epochs are sampled at {epochs_sfreq:g} Hz but the model works at "
                f"{sfreq:g} Hz. Resample first (epochs.resample({sfreq:g})) or pass "
                "resample=True."
            )
        epochs = epochs.copy().pick([ch_name]).resample(sfreq, verbose="error")
    # get_data() returns float64; converting chunk by chunk keeps only the float32 result.
    n_epochs, n_times = len(epochs), len(epochs.times)
    data = np.empty((n_epochs, 1, n_times), dtype=np.float32)
    for start in range(0, n_epochs, _CHUNK):
        stop = min(start + _CHUNK, n_epochs)
        data[start:stop] = epochs.get_data(
            picks=[ch_name], item=slice(start, stop), verbose="error"
        )
    return data, ch_name


def _reject_sparse(X):
    import scipy.sparse

    if scipy.sparse.issparse(X):
        raise TypeError(
            "Sparse input is not supported: EEG epochs are dense. Pass a dense array "
            "(X.toarray()) or mne.Epochs."
        )


def _data_from_array(X, *, picks):
    _reject_sparse(X)
    if not hasattr(X, "shape") or not hasattr(X, "dtype"):
        X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported: EEG epochs are real-valued.")
    if X.dtype.kind not in "fiu":
        raise TypeError(
            f"Expected mne.Epochs or a numeric array of EEG in volts, got {type(X).__name__} "
            f"with dtype {X.dtype}."
        )
    if X.ndim == 2:
        X = X[:, np.newaxis, :]
    elif X.ndim == 3:
        if X.shape[1] != 1:
            if picks is None:
                raise ValueError(
                    f"The array has {X.shape[1]} channels (shape {X.shape}) but the model stages "
                    "one EEG channel. Select one (X[:, [k], :]) or pass picks=k."
                )
            if not isinstance(picks, (int, np.integer)) or not -X.shape[1] <= picks < X.shape[1]:
                raise ValueError(
                    f"For arrays, picks must be a channel index in 0..{X.shape[1] - 1}, got "
                    f"{picks!r}."
                )
            X = X[:, [picks], :]
    else:
        raise ValueError(
            "Expected an array of shape (n_epochs, n_times) or (n_epochs, 1, n_times), got "
            f"shape {X.shape}."
        )
    # No copy for C-contiguous float32 (the network scales each batch to microvolts itself);
    # other dtypes are cast straight into one float32 array, without temporaries.
    return np.ascontiguousarray(X, dtype=np.float32)


def _check_finite(data, chunk=2048):
    finite = np.concatenate(
        [
            np.isfinite(data[start : start + chunk]).all(axis=(1, 2))
            for start in range(0, len(data), chunk)
        ]
    )
    if not finite.all():
        raise ValueError(
            f"Epochs {_format_indices(np.flatnonzero(~finite))} contain NaN or infinite values. "
            "Drop them (epochs.drop(indices)) or repair the signal (e.g. interpolate the gap) "
            "before staging."
        )


def _checked_volts(data, on_flat, chunk=2048):
    # Chunked so that validating a large recording set never holds a second full-size array.
    std, ptp = [], []
    for start in range(0, len(data), chunk):
        block = data[start : start + chunk]
        std.append(block.std(axis=(1, 2), dtype=np.float64))
        ptp.append(np.ptp(block, axis=(1, 2)))
    std, ptp = np.concatenate(std), np.concatenate(ptp)
    std_volts = float(np.median(std))
    if std_volts > _MAX_PLAUSIBLE_STD_VOLTS:
        raise ValueError(
            f"The median epoch standard deviation is {std_volts:.3g} V, far above scalp EEG. "
            "mne-sscsleep, like MNE, expects volts: if your array is in microvolts, multiply it "
            "by 1e-6 (or pass mne.Epochs)."
        )
    flat = ptp < FLAT_PTP_VOLTS
    if flat.any() and on_flat != "ignore":
        message = (
            f"Epochs {_format_indices(np.flatnonzero(flat))} are flat (peak-to-peak below "
            f"{FLAT_PTP_VOLTS * 1e6:g} uV), e.g. a disconnected electrode. Drop them "
            "(epochs.drop(indices)) or pass on_flat='ignore' to keep them."
        )
        if on_flat == "raise":
            raise ValueError(message)
        _warn(message)
    return data


def check_epochs_labels(X, y, **kwargs):
    """Validate epochs and their labels together.

    Parameters
    ----------
    X : mne.Epochs | ndarray
        See :func:`check_epochs`.
    y : array-like, shape (n_epochs,) | None
        Stage labels (see :func:`stage_indices`). If None and ``X`` is ``mne.Epochs``, labels are
        read from ``X.events`` and ``X.event_id``.
    **kwargs
        Passed to :func:`check_epochs`.

    Returns
    -------
    epochs_data : EpochsData
        The validated input.
    labels : ndarray, shape (n_epochs,)
        The user's labels as given (or the ``event_id`` names).
    indices : ndarray of int64, shape (n_epochs,)
        Index of each label in :data:`STAGES`.
    """
    import mne

    _reject_sparse(X)
    X = merge_epochs_list(X)
    if y is None:
        if not isinstance(X, mne.BaseEpochs):
            raise ValueError(
                "y is required for arrays; only mne.Epochs carry their labels (in events and "
                "event_id)."
            )
        y = labels_from_epochs(X)
        name = "the event_id names of the epochs"
    else:
        name = "y"
    labels = np.asarray(y)
    n_epochs = len(X)
    if labels.ndim != 1 or len(labels) != n_epochs:
        raise ValueError(
            f"X has {n_epochs} epochs but y has {labels.shape[0] if labels.ndim else 0} labels "
            f"(shape {labels.shape}); pass one label per epoch."
        )
    indices = stage_indices(labels, name=name)
    return check_epochs(X, **kwargs), labels, indices


def _warn(message):
    import warnings

    warnings.warn(message, RuntimeWarning, stacklevel=4)
