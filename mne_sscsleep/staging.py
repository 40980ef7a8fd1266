"""Stage a whole recording: ``mne.io.Raw`` in, hypnogram (stages, probabilities) out.

Memory stays flat whatever the recording's length or rate: the staged channel is read and
resampled to the model's rate a chunk at a time (:mod:`mne_sscsleep._signal`), so only that
channel at the model's rate (69 MB for 48 h at 100 Hz) is ever held whole.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ._channels import pick_from_info
from ._check import first_line
from ._classifier import SSCSleepClassifier
from ._edf import EDF_SUFFIXES, check_recorded_rate, read_edf_header
from ._epochs import FLAT_PTP_VOLTS, UnitError, check_epochs, data_provenance
from ._signal import resample_in_chunks, resampled_length, resampling_factors
from ._stages import EPOCH_DURATION, UNSCORED
from .hypnogram import BAD_REASONS, Hypnogram

#: Channel types a sleep-EEG model may stage without ``allow_non_eeg=True``.
_EEG_TYPES = ("eeg",)


def read_recording_file(fname):
    """Open a recording lazily, or fail with one line naming the file and what is wrong.

    EDF and BDF headers are checked against the file first (see
    :func:`mne_sscsleep._edf.read_edf_header`): a truncated download, a file without data
    records or a broken scaling is an error, never a shorter or silently wrong night.

    Parameters
    ----------
    fname : str | pathlib.Path
        An EDF/BDF file, or any other format :func:`mne.io.read_raw` reads.

    Returns
    -------
    raw : mne.io.Raw
        The recording, not loaded into memory.

    Examples
    --------
    >>> raw = read_recording_file("night.edf")  # doctest: +SKIP
    """
    import mne

    path = Path(fname).expanduser()
    if path.is_dir():
        raise IsADirectoryError(
            f"{str(fname)!r} is a folder, not a recording; give an EDF (or other MNE-readable) "
            "file."
        )
    if not path.is_file():
        raise FileNotFoundError(f"No recording at {str(fname)!r}.")
    if path.suffix.lower() in EDF_SUFFIXES:
        try:
            read_edf_header(path)
        except ValueError as error:
            raise ValueError(f"Cannot read {str(fname)!r} as a recording: {error}") from None
    try:
        return mne.io.read_raw(path, preload=False, verbose="error")
    except Exception as error:  # noqa: BLE001 -- any reader failure on a user's file
        raise ValueError(
            f"Cannot read {str(fname)!r} as a recording ({first_line(error)}). Is it an EDF/BDF "
            "file (or another format MNE reads), and complete?"
        ) from None


def _signal_at(raw, ch_name, sfreq, verbose):
    """The channel in volts at ``sfreq`` (float32), and the epochs with BAD or missing samples.

    Read and resampled a chunk at a time. Spans under ``BAD_*`` annotations come back as NaN
    from MNE (``reject_by_annotation='NaN'``); they and missing samples are zero-filled so that
    resampling stays finite, and their epochs are reported.
    """
    raw_sfreq = float(raw.info["sfreq"])
    up, down = resampling_factors(raw_sfreq, sfreq)
    n_native = raw.n_times
    signal = np.empty(resampled_length(n_native, up, down), dtype=np.float32)
    n_epochs_native = int(n_native / raw_sfreq // EPOCH_DURATION) + 1
    covered = np.zeros(n_epochs_native, dtype=bool)

    def read(start, stop):
        chunk = raw.get_data(
            picks=[ch_name], start=start, stop=stop, reject_by_annotation="NaN", verbose=verbose
        )[0]
        missing = ~np.isfinite(chunk)
        if missing.any():
            positions = start + np.flatnonzero(missing)
            covered[(positions / raw_sfreq // EPOCH_DURATION).astype(np.int64)] = True
            chunk[missing] = 0.0
        return chunk

    position = 0
    for _, _, part in resample_in_chunks(read, n_native, up, down):
        signal[position : position + len(part)] = part
        position += len(part)
    return signal, covered


def _bad_epochs(data, covered, amplitude_ratio):
    """Reason each epoch cannot be scored (a key of BAD_REASONS), or ''."""
    n_epochs = len(data)
    reason = np.full(n_epochs, "", dtype=object)
    ptp = np.empty(n_epochs)
    std = np.empty(n_epochs)
    for start in range(0, n_epochs, 512):  # bounded temporaries
        block = data[start : start + 512, 0]
        ptp[start : start + 512] = np.ptp(block, axis=-1)
        std[start : start + 512] = block.std(axis=-1, dtype=np.float64)
    covered = covered[:n_epochs]
    flat = ptp < FLAT_PTP_VOLTS
    if amplitude_ratio is not None:
        good = ~(covered | flat)
        typical = np.median(std[good]) if good.any() else 0.0
        reason[good & (std > amplitude_ratio * typical)] = "amplitude"
    reason[flat] = "flat"
    reason[covered] = "annotated"
    return reason


def stage(
    model,
    raw,
    picks=None,
    *,
    amplitude_ratio=10.0,
    min_confidence=None,
    allow_non_eeg=False,
    verbose=None,
):
    """Stage a whole recording with a fitted model.

    The chosen channel is resampled to the model's rate when needed (a polyphase filter, a
    chunk at a time: memory does not grow with the recording's length or rate) and cut into
    consecutive 30-s epochs from the start of the recording; a trailing part shorter than 30 s
    is left unstaged (with a warning). Annotations already in ``raw`` are left untouched.

    Epochs that cannot be scored are flagged instead of staged silently: their stage is
    ``'?'`` (``'Sleep stage ?'`` in annotations), ``bad`` is True and ``reason`` says why:
    ``'annotated'`` (overlapping a ``BAD_*`` annotation, MNE's mark for bad spans, or with
    missing samples), ``'flat'`` (a disconnected electrode or a zero-filled gap),
    ``'amplitude'`` (standard deviation above ``amplitude_ratio`` times the night's median, e.g.
    an electrode picking up mains or movement), ``'uncertain'`` (with ``min_confidence``, the
    model's top probability fell below it) or ``'model'`` (the network's output was not a
    number: a damaged model). A warning counts them. A few missing (NaN) samples leave only
    their epochs unscored, never the whole night.

    Parameters
    ----------
    model : SSCSleepClassifier | str | pathlib.Path
        A fitted classifier or a model file written by :meth:`SSCSleepClassifier.save`.
    raw : mne.io.Raw
        The recording (volts, as MNE reads it).
    picks : str | int | None
        The EEG channel to stage. None: the channel the model was trained on when the
        recording has it (as ``mne-sscsleep stage`` does), else the only channel or the only
        EEG channel.
    amplitude_ratio : float | None
        Epochs whose standard deviation exceeds this multiple of the median over the night's
        other epochs are unscored; None keeps them. Scalp EEG stays within a few times its
        median (N3's delta at most ~3x), so the default of 10 only catches artifacts.
    min_confidence : float | None
        Report epochs whose top stage probability is below this value (between 0 and 1) as
        unscored (``'?'``, reason ``'uncertain'``), for review by a human scorer; None (default)
        stages every scorable epoch. The probabilities stay in the hypnogram.
    allow_non_eeg : bool
        Stage a channel MNE types as other than EEG (EOG, EMG, ECG, ...). The model reads one
        EEG derivation, so this is refused unless True.
    verbose : bool | str | int | None
        MNE verbosity for reading.

    Returns
    -------
    hypnogram : Hypnogram
        Stages, probabilities, confidence and bad-epoch flags per epoch;
        ``hypnogram.to_annotations()`` gives ``mne.Annotations`` for ``raw.set_annotations``,
        ``hypnogram.save('night.tsv')`` writes a file.

    Examples
    --------
    >>> hypnogram = stage("model.sscsleep", raw, picks="EEG Fpz-Cz")  # doctest: +SKIP
    >>> raw.set_annotations(hypnogram.to_annotations())  # doctest: +SKIP
    """
    import mne

    if isinstance(model, (str, Path)):
        model = SSCSleepClassifier.load(model)
    if not isinstance(raw, mne.io.BaseRaw):
        raise TypeError(
            f"stage() takes a continuous mne.io.Raw, got {type(raw).__name__}; for epochs use "
            "model.predict(epochs)."
        )
    if amplitude_ratio is not None and not amplitude_ratio > 1:
        raise ValueError(f"amplitude_ratio must be above 1 or None, got {amplitude_ratio!r}.")
    if min_confidence is not None and not 0 < min_confidence < 1:
        raise ValueError(
            f"min_confidence must be between 0 and 1 (e.g. 0.5) or None, got {min_confidence!r}."
        )
    model.check_is_fitted()
    if picks is None and model.ch_name_ in raw.ch_names:
        picks = model.ch_name_
    ch_name = pick_from_info(raw.info, picks)
    ch_type = raw.get_channel_types(picks=[ch_name])[0]
    if ch_type not in _EEG_TYPES and not allow_non_eeg:
        raise ValueError(
            f"Channel {ch_name!r} is of type {ch_type!r}, not EEG; the model stages one EEG "
            "derivation (Fpz-Cz style). Pick an EEG channel with picks=... (--channel), fix the "
            f"type (raw.set_channel_types({{{ch_name!r}: 'eeg'}})) if it is EEG, or pass "
            "allow_non_eeg=True to stage it anyway."
        )
    check_recorded_rate(raw, ch_name, model.sfreq)
    _warn_if_simulated_model(model, raw)
    signal, covered = _signal_at(raw, ch_name, model.sfreq, verbose)
    n_times = int(round(EPOCH_DURATION * model.sfreq))
    n_epochs = len(signal) // n_times
    if n_epochs == 0:
        raise ValueError(
            f"The recording lasts {len(signal) / model.sfreq:.1f} s, less than one 30-s epoch."
        )
    leftover = len(signal) - n_epochs * n_times
    if leftover:
        warnings.warn(
            f"The last {leftover / model.sfreq:.1f} s of the recording (less than one 30-s epoch) "
            "are not staged.",
            RuntimeWarning,
            stacklevel=2,
        )
    data = signal[: n_epochs * n_times].reshape(n_epochs, 1, n_times)
    reason = _bad_epochs(data, covered, amplitude_ratio)
    dataset = _checked(data, model, ch_name)
    with warnings.catch_warnings():
        # Counted below, with the other reasons an epoch is unscored.
        warnings.filterwarnings("ignore", "The network's output is not a number", RuntimeWarning)
        proba = model.predict_proba(dataset)
    reason[(reason == "") & ~np.isfinite(proba).all(axis=1)] = "model"
    if min_confidence is not None:
        confident = np.nan_to_num(proba, nan=1.0).max(axis=1) >= min_confidence
        reason[(reason == "") & ~confident] = "uncertain"
    reason = reason.astype(str)
    bad = reason != ""
    if (reason == "model").any():
        warnings.warn(
            f"The model's output is not a number for {(reason == 'model').sum()} of {n_epochs} "
            "epochs: they are unscored ('?'). The model file is probably damaged; retrain or "
            "copy it again.",
            RuntimeWarning,
            stacklevel=2,
        )
    if bad.any():
        counts = ", ".join(
            f"{(reason == key).sum()} {key}" for key in BAD_REASONS if (reason == key).any()
        )
        warnings.warn(
            f"{bad.sum()} of {n_epochs} epochs cannot be scored ({counts}); they are staged "
            f"{UNSCORED!r} and flagged in the hypnogram's 'bad' and 'reason' columns.",
            RuntimeWarning,
            stacklevel=2,
        )
    index = np.nan_to_num(proba, nan=-1.0).argmax(axis=1)
    stages = np.array(model.stages_, dtype=object)[index]
    stages[bad] = UNSCORED
    return Hypnogram(
        onset=np.arange(n_epochs) * EPOCH_DURATION,
        stage=stages.astype(str),
        label=model.classes_[index],
        proba=proba,
        classes=model.classes_,
        bad=bad,
        reason=reason,
        ch_name=ch_name,
        orig_time=raw.annotations.orig_time,
        class_stages=tuple(model.stages_),
        meas_date=raw.info["meas_date"],
    )


def _warn_if_simulated_model(model, raw):
    """A model trained only on the simulator says so before it stages a real recording."""
    trained_on = getattr(model, "training_data_", None) or {}
    if trained_on.get("simulated") and not data_provenance(raw)["simulated"]:
        warnings.warn(
            f"This model was trained only on simulated nights ({trained_on.get('n_recordings')} "
            f"recordings, {trained_on.get('n_epochs')} epochs of the mne-sscsleep simulator); "
            "its stages of a real recording are not to be trusted. Train on scored real "
            "recordings (mne-sscsleep train --data ...).",
            RuntimeWarning,
            stacklevel=3,
        )


def _checked(data, model, ch_name):
    """The same boundary as predict (units, length, channel warning); bad epochs are flagged
    by stage(), so flat ones pass."""
    try:
        return check_epochs(data, sfreq=model.sfreq, on_flat="ignore", ch_name=ch_name)
    except UnitError:
        std = float(np.median(data[: min(len(data), 512)].std(axis=-1)))
        raise UnitError(
            f"Channel {ch_name!r} varies by {std:.3g} V per epoch (median standard deviation), "
            "far above scalp EEG: its file probably declares a unit MNE does not know (EDF "
            "physical dimension other than uV, mV or V), so microvolts were read as volts. "
            "Scale it first, e.g. raw.load_data().apply_function(lambda x: x * 1e-6, "
            f"picks=[{ch_name!r}]), or fix the file's unit."
        ) from None
