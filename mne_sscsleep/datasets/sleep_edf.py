"""Sleep-EDF Expanded (Sleep Cassette and Sleep Telemetry) through MNE's fetchers."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np

from .._stages import DEFAULT_SFREQ
from ._recordings import combine_recordings, read_recording

PHYSIONET_HOST = "physionet.org"
SLEEP_EDF_URL = "https://physionet.org/physiobank/database/sleep-edfx/"


def _network_available(host=PHYSIONET_HOST, timeout=3.0):
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def load_sleep_edf(
    subjects,
    recording=(1, 2),
    study="SC",
    path=None,
    channel="EEG Fpz-Cz",
    *,
    sfreq=DEFAULT_SFREQ,
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
        epochs, y = read_recording(psg, mne.read_annotations(hypnogram), channel, sfreq, trim_wake)
        recordings.append((epochs, y, subject, Path(psg).name))
    return combine_recordings(recordings, sfreq)


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
