"""Labelled epochs from annotated recordings: what every loader and the simulator build on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._channels import pick_from_info
from .._edf import EDF_SUFFIXES, check_recorded_rate, read_edf_header
from .._epochs import labels_from_epochs
from .._signal import resample, resampling_factors
from .._stages import DEFAULT_SFREQ, EPOCH_DURATION, STAGE_DESCRIPTIONS, STAGES, stage_indices

#: ``event_id`` of labelled epochs (the Sleep-EDF description names, codes 1..5).
EVENT_ID = {STAGE_DESCRIPTIONS[stage]: code for code, stage in enumerate(STAGES, start=1)}


def labelled_epochs_array(data, stages, ch_name, sfreq, metadata=None, verbose="error"):
    """One-channel ``EpochsArray`` whose events carry the stages (Sleep-EDF ``event_id``).

    Parameters
    ----------
    data : ndarray, shape (n_epochs, 1, n_times)
        EEG in volts.
    stages : ndarray of int, shape (n_epochs,)
        Index of each epoch's stage in :data:`mne_sscsleep.STAGES`.
    ch_name : str
        Channel name.
    sfreq : float
        Sampling rate in Hz.
    metadata : pandas.DataFrame | None
        One row per epoch.
    verbose : bool | str | int | None
        MNE verbosity.

    Returns
    -------
    epochs : mne.EpochsArray
        The epochs, with ``event_id`` :data:`EVENT_ID` and one event per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.zeros((3, 1, 3000))
    >>> epochs = labelled_epochs_array(data, np.array([0, 2, 4]), "EEG Fpz-Cz", 100.0)
    >>> epochs.event_id["Sleep stage 2"], len(epochs)
    (3, 3)
    """
    import mne

    codes = np.asarray(stages) + 1
    # Events at consecutive, unique sample positions; only the stages present in event_id.
    events = np.column_stack(
        [np.arange(len(codes)) * data.shape[-1], np.zeros(len(codes), int), codes]
    )
    return mne.EpochsArray(
        data,
        mne.create_info([ch_name], sfreq, ch_types="eeg"),
        events=events,
        event_id={name: code for name, code in EVENT_ID.items() if code in codes},
        tmin=0.0,
        metadata=metadata,
        verbose=verbose,
    )


def epochs_from_raw(raw, *, picks=None, sfreq=DEFAULT_SFREQ, trim_wake=None, verbose=None):
    """Cut an annotated recording into labelled 30-s epochs of one channel.

    Annotations whose description names a sleep stage (``'Sleep stage W'``, ``'Sleep stage 4'``,
    ``'N2'``, ``'REM'``, ...; see :func:`mne_sscsleep.stage_indices`) are cut into 30-s epochs;
    other annotations (``'Sleep stage ?'``, ``'Movement time'``, lights, arousals) are ignored.

    Parameters
    ----------
    raw : mne.io.Raw
        Recording with sleep-stage annotations (e.g. a Sleep-EDF PSG file after
        ``raw.set_annotations(mne.read_annotations(hypnogram_file))``).
    picks : str | int | None
        The EEG channel; optional when the recording has one channel, or one EEG channel.
    sfreq : float | None
        Resample to this rate (Hz) first; None keeps the recording's rate.
    trim_wake : float | None
        Keep wake only up to this many minutes before the first and after the last sleep epoch
        (the Sleep-EDF protocol uses 30); None keeps everything.
    verbose : bool | str | int | None
        MNE verbosity.

    Returns
    -------
    epochs : mne.Epochs
        30-s epochs of the chosen channel, labels in ``events``/``event_id``.
    y : ndarray of str, shape (n_epochs,)
        Canonical stage of each epoch (``'W', 'N1', 'N2', 'N3', 'R'``).

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_raw
    >>> raw = simulate_sleep_raw(hours=1.0, random_state=0, verbose="error")
    >>> epochs, y = epochs_from_raw(raw, verbose="error")
    >>> len(epochs), y[:3].tolist()
    (120, ['W', 'W', 'W'])
    """
    import mne

    ch_name = pick_from_info(raw.info, picks)
    event_id = {}
    for description in sorted(set(raw.annotations.description)):
        try:
            event_id[description] = int(stage_indices([description])[0]) + 1
        except ValueError:
            continue
    if not event_id:
        raise ValueError(
            "The recording has no sleep-stage annotations (found: "
            f"{', '.join(sorted(set(raw.annotations.description))[:10]) or 'none'}). Attach the "
            "hypnogram first, e.g. raw.set_annotations(mne.read_annotations(hypnogram_file))."
        )
    recording = raw.copy().pick([ch_name]).load_data(verbose=verbose)
    if sfreq is not None and not np.isclose(recording.info["sfreq"], sfreq):
        recording = resample_raw(recording, sfreq)
    events, _ = mne.events_from_annotations(
        recording, event_id=event_id, chunk_duration=EPOCH_DURATION, verbose=verbose
    )
    used = {name: code for name, code in event_id.items() if code in events[:, 2]}
    # Several descriptions may share a stage (e.g. 'Sleep stage 3' and '4'): one name per code.
    codes = {}
    for name, code in used.items():
        codes.setdefault(code, name)
    epochs = mne.Epochs(
        recording,
        events,
        {name: code for code, name in codes.items()},
        tmin=0.0,
        tmax=EPOCH_DURATION - 1.0 / recording.info["sfreq"],
        baseline=None,
        preload=True,
        reject_by_annotation=False,
        verbose=verbose,
    )
    y = np.array(STAGES)[stage_indices(labels_from_epochs(epochs))]
    if trim_wake is not None:
        sleep = np.flatnonzero(y != "W")
        if sleep.size:
            margin = int(round(trim_wake * 60 / EPOCH_DURATION))
            keep = np.arange(max(sleep[0] - margin, 0), min(sleep[-1] + margin + 1, len(y)))
            epochs, y = epochs[keep], y[keep]
    return epochs, y


def resample_raw(raw, sfreq):
    """A one-channel recording resampled with the polyphase filter that staging uses.

    Training data and staged recordings go through the same filter
    (:mod:`mne_sscsleep._signal`), so the model sees the same band at staging as in training.

    Parameters
    ----------
    raw : mne.io.Raw
        A loaded recording of one channel.
    sfreq : float
        The rate wanted in Hz.

    Returns
    -------
    raw : mne.io.RawArray
        The resampled recording, with the same annotations and measurement date.

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_raw
    >>> raw = simulate_sleep_raw(hours=0.5, sfreq=200.0, random_state=0, verbose="error")
    >>> resample_raw(raw, 100.0).info["sfreq"]
    100.0
    """
    import mne

    up, down = resampling_factors(raw.info["sfreq"], sfreq)
    if up == down:
        return raw
    info = mne.create_info(raw.ch_names, float(sfreq), raw.get_channel_types())
    info.set_meas_date(raw.info["meas_date"])
    info["description"] = raw.info["description"]
    data = resample(raw.get_data()[0], up, down)[np.newaxis]
    first_samp = int(round(raw.first_samp * up / down))
    out = mne.io.RawArray(data, info, first_samp=first_samp, verbose="error")
    out.set_annotations(raw.annotations)
    return out


def combine_recordings(recordings, sfreq):
    """One ``EpochsArray`` from per-recording ``(epochs, y, subject, name)`` tuples.

    Parameters
    ----------
    recordings : list of tuple
        ``(epochs, y, subject, name)`` of each recording, all of one channel.
    sfreq : float
        Sampling rate of the epochs in Hz.

    Returns
    -------
    epochs : mne.EpochsArray
        All epochs, with ``metadata`` columns ``subject``, ``recording``, ``stage`` and
        ``epoch`` (index within the recording).
    y : ndarray of str
        Canonical stage of each epoch.
    groups : ndarray
        Subject of each epoch.
    """
    import pandas as pd

    if not recordings:
        raise ValueError("No recordings to load.")
    channels = {epochs.ch_names[0]: name for epochs, _, _, name in recordings}
    if len(channels) > 1:
        shown = ", ".join(f"{channel!r} in {name}" for channel, name in channels.items())
        raise ValueError(
            f"The recordings use different channels ({shown}); choose one with channel=..."
        )
    data = np.concatenate([epochs.get_data() for epochs, _, _, _ in recordings])
    y = np.concatenate([labels for _, labels, _, _ in recordings])
    groups = np.concatenate(
        [np.full(len(labels), subject) for _, labels, subject, _ in recordings]
    )
    metadata = pd.DataFrame(
        {
            "subject": groups,
            "recording": np.concatenate(
                [np.full(len(labels), name) for _, labels, _, name in recordings]
            ),
            "stage": y,
            "epoch": np.concatenate([np.arange(len(labels)) for _, labels, _, _ in recordings]),
        }
    )
    stages = stage_indices(y)
    ch_name = recordings[0][0].ch_names[0]
    return labelled_epochs_array(data, stages, ch_name, sfreq, metadata), y, groups


def read_recording(fname, annotations, channel, sfreq, trim_wake):
    """Labelled 30-s epochs of one channel of a recording file (any format MNE reads).

    Parameters
    ----------
    fname : str | pathlib.Path
        The recording.
    annotations : mne.Annotations | None
        Its sleep stages, when they are in another file; None uses the file's own.
    channel : str | int | None
        The EEG channel (see :func:`mne_sscsleep._channels.pick_channel`).
    sfreq : float
        Sampling rate of the epochs.
    trim_wake : float | None
        Minutes of wake kept around sleep.

    Returns
    -------
    epochs : mne.Epochs
    y : ndarray of str
    """
    import mne

    if Path(fname).suffix.lower() in EDF_SUFFIXES:
        read_edf_header(fname)  # a truncated or broken file is an error, never a short night
    raw = mne.io.read_raw(fname, preload=False, verbose="error")
    channel = pick_from_info(raw.info, channel, source=Path(fname).name)
    check_recorded_rate(raw, channel, DEFAULT_SFREQ if sfreq is None else sfreq)
    if annotations is not None:
        raw.set_annotations(annotations, emit_warning=False)
    return epochs_from_raw(raw, picks=channel, sfreq=sfreq, trim_wake=trim_wake, verbose="error")


def existing_folder(path, name):
    """``path`` as a Path, or a FileNotFoundError naming the dataset."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"No {name} folder at {str(folder)!r}.")
    return folder
