"""A folder of EDF recordings with their sleep stages: a lab's own data."""

from __future__ import annotations

import re
from pathlib import Path

from .._stages import DEFAULT_SFREQ
from ._recordings import combine_recordings, existing_folder, read_recording

_SLEEP_EDF_NAME = re.compile(r"^S[CT]4(\d\d)\d", re.IGNORECASE)


def find_recordings(path):
    """Pair each EDF/BDF recording of a folder with its hypnogram file, if any.

    Sleep-EDF keeps the hypnogram of ``SC4001E0-PSG.edf`` in ``SC4001EC-Hypnogram.edf``: files
    whose names share the first six characters and contain ``'hypnogram'`` are paired. Other
    recordings must carry their sleep stages themselves (EDF+ annotations).

    Parameters
    ----------
    path : str | pathlib.Path
        The folder (not searched recursively).

    Returns
    -------
    pairs : list of (pathlib.Path, pathlib.Path | None)
        Each recording and its hypnogram file (None when it has none), sorted by name.

    Examples
    --------
    >>> find_recordings("~/data/sleep-edf")  # doctest: +SKIP
    [(PosixPath('.../SC4001E0-PSG.edf'), PosixPath('.../SC4001EC-Hypnogram.edf')), ...]
    """
    folder = existing_folder(path, "recordings")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".edf", ".bdf"))
    hypnograms = [p for p in files if "hypnogram" in p.name.lower()]
    recordings = [p for p in files if p not in hypnograms]
    if not recordings:
        raise FileNotFoundError(f"No EDF recordings in {str(folder)!r}.")
    pairs = []
    for recording in recordings:
        match = [h for h in hypnograms if h.name[:6].lower() == recording.name[:6].lower()]
        pairs.append((recording, match[0] if match else None))
    return pairs


def _subject(fname, index):
    match = _SLEEP_EDF_NAME.match(Path(fname).name)
    return int(match.group(1)) if match else index


def load_edf_folder(path, channel=None, *, sfreq=DEFAULT_SFREQ, trim_wake=30.0, progress=True):
    """Load every recording of a folder of EDF files as labelled 30-s epochs.

    Each recording's stages come from a Sleep-EDF style hypnogram file beside it
    (``SC4001E0-PSG.edf`` + ``SC4001EC-Hypnogram.edf``, see :func:`find_recordings`) or from
    its own EDF+ annotations (``'Sleep stage W'``, ``'N2'``, ``'REM'``, ...; see
    :func:`mne_sscsleep.stage_indices`). Other annotations are ignored.

    Parameters
    ----------
    path : str | pathlib.Path
        The folder.
    channel : str | int | None
        The EEG channel, the same in every file; None takes each file's only (EEG) channel.
    sfreq : float
        Sampling rate of the returned epochs in Hz (recordings are resampled to it).
    trim_wake : float | None
        Minutes of wake kept before the first and after the last sleep epoch (30 in the usual
        Sleep-EDF protocol); None keeps all.
    progress : bool
        Show a progress bar over the recordings (recordings are read quietly).

    Returns
    -------
    epochs : mne.EpochsArray
        Labels in ``events``/``event_id``; ``metadata`` has ``subject``, ``recording`` (file
        name), ``stage`` and ``epoch``.
    y : ndarray of str, shape (n_epochs,)
        Canonical stages.
    groups : ndarray of int, shape (n_epochs,)
        Subject of each epoch: the subject number of Sleep-EDF file names (``SC4ssN...``, so
        both nights of a subject share a group), else the recording's position in the folder.
        Use it with ``GroupKFold``.

    Examples
    --------
    >>> epochs, y, groups = load_edf_folder("~/data/sleep-edf", "EEG Fpz-Cz")  # doctest: +SKIP
    """
    import mne
    from tqdm.auto import tqdm

    pairs = find_recordings(path)
    recordings = []
    for index, (recording, hypnogram) in enumerate(
        tqdm(pairs, desc="Reading recordings", unit="file", disable=not progress)
    ):
        annotations = None if hypnogram is None else mne.read_annotations(hypnogram)
        try:
            epochs, y = read_recording(recording, annotations, channel, sfreq, trim_wake)
        except ValueError as error:
            raise ValueError(f"{recording.name}: {error}") from None
        recordings.append((epochs, y, _subject(recording, index), recording.name))
    return combine_recordings(recordings, sfreq)
