"""Real-data loaders: Sleep-EDF (SC and ST), HMC and SHHS, in their published layouts.

Every loader returns ``(epochs, y, groups)`` like :func:`simulate_sleep_epochs`: one EEG channel
at the model's rate in 30-s epochs, canonical stages, and the subject of each epoch.
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np

from ._epochs import STAGES

PHYSIONET_HOST = "physionet.org"
SLEEP_EDF_URL = "https://physionet.org/physiobank/database/sleep-edfx/"


def _network_available(host=PHYSIONET_HOST, timeout=3.0):
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _combine(recordings, sfreq):
    """One EpochsArray from per-recording (epochs, y, subject, name) tuples."""
    import pandas as pd

    from .datasets import labelled_epochs_array

    if not recordings:
        raise ValueError("No recordings to load.")
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
    stages = np.array([STAGES.index(stage) for stage in y])
    ch_name = recordings[0][0].ch_names[0]
    return labelled_epochs_array(data, stages, ch_name, sfreq, metadata), y, groups


def _read_recording(fname, annotations, channel, sfreq, trim_wake):
    import mne

    from .datasets import epochs_from_raw

    raw = mne.io.read_raw(fname, preload=False, verbose="error")
    if channel not in raw.ch_names:
        raise ValueError(
            f"Channel {channel!r} is not in {Path(fname).name}; available: "
            f"{', '.join(raw.ch_names)}. Pass channel=..."
        )
    if annotations is not None:
        raw.set_annotations(annotations, emit_warning=False)
    return epochs_from_raw(raw, picks=channel, sfreq=sfreq, trim_wake=trim_wake, verbose="error")


def load_sleep_edf(
    subjects,
    recording=(1, 2),
    study="SC",
    path=None,
    channel="EEG Fpz-Cz",
    *,
    sfreq=100.0,
    trim_wake=30.0,
):
    """Load Sleep-EDF Expanded nights with the standard sleep-staging protocol.

    Built on :mod:`mne.datasets.sleep_physionet` (``age`` for the Sleep Cassette study ``'SC'``,
    ``temazepam`` for the Sleep Telemetry study ``'ST'``). Files already in the MNE data folder
    (or ``path``) are used without network; missing files are downloaded when PhysioNet can be
    reached, and otherwise an error lists them and where to put them.

    The protocol: R&K stages 3 and 4 become N3; epochs scored '?' and 'Movement time' are
    dropped; wake is kept only up to ``trim_wake`` minutes before the first and after the last
    sleep epoch; 30-s epochs of one EEG channel at ``sfreq``.

    Parameters
    ----------
    subjects : list of int
        Subject numbers (SC: 0-82; ST: 0-21), as in MNE's fetchers.
    recording : tuple of int
        Nights to load for SC (1, 2 or both); ST always has both (placebo and temazepam).
    study : ``'SC'`` | ``'ST'``
        Sleep Cassette (age study) or Sleep Telemetry (temazepam study).
    path : str | None
        Folder that holds (or receives) ``physionet-sleep-data``; None uses MNE's default.
    channel : str
        EEG channel (``'EEG Fpz-Cz'`` or ``'EEG Pz-Oz'``).
    sfreq : float
        Sampling rate of the returned epochs (Sleep-EDF's EEG is 100 Hz).
    trim_wake : float | None
        Minutes of wake kept around sleep (30 in the usual protocol); None keeps all.

    Returns
    -------
    epochs : mne.EpochsArray
        Labels in ``events``/``event_id``; ``metadata`` has ``subject``, ``recording``,
        ``stage`` and ``epoch``.
    y : ndarray of str, shape (n_epochs,)
        Canonical stages.
    groups : ndarray of int, shape (n_epochs,)
        Subject of each epoch.

    Examples
    --------
    >>> epochs, y, groups = load_sleep_edf([0, 1], recording=[1])  # doctest: +SKIP
    """
    import mne
    from mne.datasets.sleep_physionet import age, temazepam

    if study not in ("SC", "ST"):
        raise ValueError(f"study must be 'SC' (age) or 'ST' (temazepam), got {study!r}.")
    subjects = [int(subject) for subject in np.atleast_1d(subjects)]
    folder = Path(age.data_path(path=path, verbose="error"))
    missing = [
        name
        for name in _sleep_edf_file_names(subjects, recording, study)
        if not (folder / name).is_file()
    ]
    if missing and not _network_available():
        raise FileNotFoundError(
            f"{len(missing)} Sleep-EDF file(s) are missing and {PHYSIONET_HOST} cannot be "
            f"reached: {', '.join(missing[:6])}{', ...' if len(missing) > 6 else ''}. Download "
            f"them from {SLEEP_EDF_URL}sleep-{'cassette' if study == 'SC' else 'telemetry'}/ "
            f"into {folder}, or run this with internet access."
        )
    if study == "SC":
        pairs = age.fetch_data(subjects, recording=list(recording), path=path, verbose="error")
    else:
        pairs = temazepam.fetch_data(subjects, path=path, verbose="error")
    recordings = []
    for psg, hypnogram in pairs:
        subject = int(Path(psg).name[3:5])
        epochs, y = _read_recording(
            psg, mne.read_annotations(hypnogram), channel, sfreq, trim_wake
        )
        recordings.append((epochs, y, subject, Path(psg).name))
    return _combine(recordings, sfreq)


def _sleep_edf_file_names(subjects, recording, study):
    """File names MNE's fetcher would need, read from MNE's own record lists."""
    import csv

    from mne.datasets.sleep_physionet import age, temazepam

    if study == "SC":
        records = Path(age.__file__).with_name("age_records.csv")
        with open(records) as handle:
            return [
                row["fname"]
                for row in csv.DictReader(handle)
                if int(row["subject"]) in subjects and int(row["night"]) in recording
            ]
    records = Path(temazepam.__file__).with_name("temazepam_records.csv")
    with open(records) as handle:
        return [
            name
            for row in csv.DictReader(handle)
            if int(row["subject"]) in subjects
            for name in (row["fname_PSG"], row["fname_Hypnogram"])
        ]


def load_hmc(path, channel="EEG C4-M1", *, subjects=None, sfreq=100.0, trim_wake=None):
    """Load the Haaglanden Medisch Centrum sleep staging database (PhysioNet layout).

    Each recording ``SN001.edf`` (256 Hz) has its scoring in ``SN001_sleepscoring.edf`` (EDF+
    annotations ``'Sleep stage W'``, ``'Sleep stage N1'``, ...). The chosen channel is resampled
    to ``sfreq``.

    Parameters
    ----------
    path : str | pathlib.Path
        Folder with the ``SN*.edf`` files (e.g. ``.../haaglanden-medisch-centrum-.../recordings``).
    channel : str
        EEG derivation (HMC has F4-M1, C4-M1, O2-M1 and C3-M2).
    subjects : list of int | None
        Subject numbers (1 for ``SN001``); None loads every recording found.
    sfreq : float
        Sampling rate of the returned epochs.
    trim_wake : float | None
        Minutes of wake kept around sleep; None keeps all (HMC scores lights-off to lights-on).

    Returns
    -------
    epochs, y, groups
        As :func:`load_sleep_edf`.

    Examples
    --------
    >>> epochs, y, groups = load_hmc("~/data/hmc", subjects=[1, 2])  # doctest: +SKIP
    """
    import mne

    folder = _existing_folder(path, "HMC")
    recordings = []
    for psg in sorted(folder.glob("SN*.edf")):
        if psg.stem.endswith("_sleepscoring"):
            continue
        subject = int(psg.stem[2:])
        if subjects is not None and subject not in subjects:
            continue
        scoring = psg.with_name(f"{psg.stem}_sleepscoring.edf")
        if not scoring.is_file():
            raise FileNotFoundError(f"{psg.name} has no scoring file {scoring.name}.")
        annotations = mne.read_annotations(scoring)
        epochs, y = _read_recording(psg, annotations, channel, sfreq, trim_wake)
        recordings.append((epochs, y, subject, psg.name))
    if not recordings:
        raise FileNotFoundError(f"No HMC recordings (SN*.edf) in {str(folder)!r}.")
    return _combine(recordings, sfreq)


#: NSRR stage concepts (``'Wake|0'`` ... ``'REM sleep|5'``): the code after '|' to a stage.
_NSRR_STAGES = {"0": "W", "1": "N1", "2": "N2", "3": "N3", "4": "N3", "5": "R"}


def read_nsrr_stages(fname):
    """Sleep stages of an NSRR XML annotation file as ``mne.Annotations``.

    Parameters
    ----------
    fname : str | pathlib.Path
        An ``*-nsrr.xml`` file (``ScoredEvent`` elements with ``EventType`` 'Stages|Stages').

    Returns
    -------
    annotations : mne.Annotations
        Descriptions ``'Sleep stage W'``, ..., one per scored stage run; unscored and movement
        periods are left out.

    Examples
    --------
    >>> annotations = read_nsrr_stages("shhs1-200001-nsrr.xml")  # doctest: +SKIP
    >>> raw.set_annotations(annotations)  # doctest: +SKIP
    """
    import xml.etree.ElementTree as ElementTree

    import mne

    from ._epochs import STAGE_DESCRIPTIONS

    onsets, durations, descriptions = [], [], []
    for event in ElementTree.parse(fname).getroot().iter("ScoredEvent"):
        if "stage" not in (event.findtext("EventType") or "").lower():
            continue
        code = (event.findtext("EventConcept") or "").split("|")[-1].strip()
        if code not in _NSRR_STAGES:
            continue  # unscored (9), movement (6)
        onsets.append(float(event.findtext("Start")))
        durations.append(float(event.findtext("Duration")))
        descriptions.append(STAGE_DESCRIPTIONS[_NSRR_STAGES[code]])
    if not onsets:
        raise ValueError(f"No sleep stages in {str(fname)!r} (no 'Stages' ScoredEvent).")
    return mne.Annotations(onsets, durations, descriptions)


def load_shhs(path, channel="EEG", *, visit="shhs1", subjects=None, sfreq=100.0, trim_wake=30.0):
    """Load SHHS nights from an NSRR download (EDF plus XML annotations).

    Expects NSRR's layout under ``path``: ``polysomnography/edfs/shhs1/shhs1-200001.edf`` and
    ``polysomnography/annotations-events-nsrr/shhs1/shhs1-200001-nsrr.xml``. SHHS's ``'EEG'``
    channel is C4-A1 at 125 Hz (``'EEG(sec)'``: C3-A2); it is resampled to ``sfreq``.

    Parameters
    ----------
    path : str | pathlib.Path
        The NSRR ``shhs`` folder (the one holding ``polysomnography``).
    channel : str
        EEG channel name.
    visit : ``'shhs1'`` | ``'shhs2'``
        SHHS visit.
    subjects : list of int | None
        NSRR ids (e.g. 200001); None loads every recording found.
    sfreq : float
        Sampling rate of the returned epochs.
    trim_wake : float | None
        Minutes of wake kept around sleep.

    Returns
    -------
    epochs, y, groups
        As :func:`load_sleep_edf`; groups are NSRR ids.

    Examples
    --------
    >>> epochs, y, groups = load_shhs("~/data/shhs", subjects=[200001])  # doctest: +SKIP
    """
    root = _existing_folder(path, "SHHS")
    edfs = root / "polysomnography" / "edfs" / visit
    xmls = root / "polysomnography" / "annotations-events-nsrr" / visit
    recordings = []
    for edf in sorted(edfs.glob(f"{visit}-*.edf")):
        subject = int(edf.stem.split("-")[1])
        if subjects is not None and subject not in subjects:
            continue
        xml = xmls / f"{edf.stem}-nsrr.xml"
        if not xml.is_file():
            raise FileNotFoundError(f"{edf.name} has no annotation file {xml}.")
        epochs, y = _read_recording(edf, read_nsrr_stages(xml), channel, sfreq, trim_wake)
        recordings.append((epochs, y, subject, edf.name))
    if not recordings:
        raise FileNotFoundError(
            f"No SHHS recordings in {str(edfs)!r}; expected NSRR's layout "
            f"polysomnography/edfs/{visit}/{visit}-*.edf under {str(root)!r}."
        )
    return _combine(recordings, sfreq)


def _existing_folder(path, name):
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"No {name} folder at {str(folder)!r}.")
    return folder
