"""A folder of EDF recordings with their sleep stages: a lab's own data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .._stages import (
    DEFAULT_SFREQ,
    EPOCH_DURATION,
    STAGE_DESCRIPTIONS,
    STAGES,
    stage_index,
    stage_indices,
)
from ._recordings import combine_recordings, existing_folder, read_recording

_SLEEP_EDF_NAME = re.compile(r"^S[CT]4(\d\d)\d", re.IGNORECASE)
#: Extensions of per-epoch stage files (one stage per 30-s epoch).
STAGE_FILE_SUFFIXES = (".csv", ".tsv", ".txt")
# Marks of epochs a scorer left unscored, in common hypnogram files: skipped, never staged.
_UNSCORED_MARKS = {
    "?",
    "u",
    "x",
    "m",
    "mt",
    "a",
    "art",
    "artefact",
    "artifact",
    "movement",
    "movement time",
    "unscored",
    "unknown",
    "sleep stage ?",
    "sleep stage movement",
}
_STAGE_COLUMNS = ("stage", "sleep stage", "sleep_stage", "label", "hypnogram", "score", "scoring")


def read_stage_file(fname):
    """Read a per-epoch hypnogram text file as ``mne.Annotations`` (one per 30-s epoch).

    Accepted layouts, each with one row per consecutive 30-s epoch from the start of the
    recording:

    - one stage per line (``W``, ``N1``, ``Sleep stage 2``, ``REM``, ... or the integer codes
      0..4 of W, N1, N2, N3, R, all five present);
    - a table (comma, tab or semicolon separated) with a header naming a ``stage`` (or
      ``label``, ``hypnogram``, ``score``) column, and optionally an ``onset`` column in
      seconds, such as the hypnograms ``mne-sscsleep stage`` writes;
    - MNE's own annotation text files (``onset,duration,description``), read with
      :func:`mne.read_annotations`.

    Epochs marked unscored (``?``, ``M``/``Movement time``, ``Unscored``, artefact) are skipped.

    Parameters
    ----------
    fname : str | pathlib.Path
        A ``.csv``, ``.tsv`` or ``.txt`` file.

    Returns
    -------
    annotations : mne.Annotations
        Sleep-EDF descriptions (``'Sleep stage W'``, ...), 30 s long, onsets in seconds from
        the start of the recording.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "night.txt"
    >>> _ = path.write_text("W\\nW\\nN1\\nN2\\n?\\nREM\\n")
    >>> annotations = read_stage_file(path)
    >>> annotations.onset.tolist(), annotations.description[-1]
    ([0.0, 30.0, 60.0, 90.0, 150.0], 'Sleep stage R')
    """
    import mne

    fname = Path(fname)
    try:
        text = fname.read_text(encoding="utf-8-sig", errors="strict")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{fname.name}: cannot read it as a text hypnogram ({error}).") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{fname.name}: the hypnogram file is empty.")
    header = lines[0].lower()
    if "onset" in header and "description" in header:
        return mne.read_annotations(fname)
    delimiter = next((d for d in ("\t", ",", ";") if d in lines[0]), None)
    rows = [
        [cell.strip().strip('"') for cell in line.split(delimiter)] if delimiter else [line]
        for line in lines
    ]
    names = [cell.lower() for cell in rows[0]]
    onsets = None
    column = next((names.index(name) for name in _STAGE_COLUMNS if name in names), None)
    if column is not None:
        if "onset" in names:
            onsets = [row[names.index("onset")] for row in rows[1:]]
        rows = rows[1:]
    elif len(rows[0]) == 1 and _read_label(rows[0][0]) is None:
        rows = rows[1:]  # a one-column header such as 'Hypnogram' or 'Stages'
        column = 0
    else:
        column = 0 if len(rows[0]) == 1 else None
    if column is None:
        raise ValueError(
            f"{fname.name}: a table without a 'stage' column; name the column of stages "
            "'stage' in the header, or write one stage per line."
        )
    labels = [row[column] if column < len(row) else "" for row in rows]
    starts = (
        np.arange(len(labels)) * EPOCH_DURATION
        if onsets is None
        else np.array([_number(value, fname) for value in onsets])
    )
    stages, keep = _stages_of(labels, fname)
    if not keep.any():
        raise ValueError(f"{fname.name}: no epoch is scored with a sleep stage.")
    return mne.Annotations(
        starts[keep],
        EPOCH_DURATION,
        [STAGE_DESCRIPTIONS[STAGES[stage]] for stage in stages[keep]],
    )


def _number(value, fname):
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{fname.name}: onset {value!r} is not a number of seconds.") from None


def _read_label(label):
    """A stage index, 'unscored', ``('code', n)`` for a numeric code, or None."""
    if label.lower() in _UNSCORED_MARKS:
        return "unscored"
    if re.fullmatch(r"[+-]?\d+(\.0*)?", label):
        return ("code", int(float(label)))
    return stage_index(label)


def _stages_of(labels, fname):
    read = [_read_label(label) for label in labels]
    unknown = [labels[i] for i, value in enumerate(read) if value is None]
    if unknown:
        raise ValueError(
            f"{fname.name}: {', '.join(map(repr, sorted(set(unknown))[:10]))} "
            "are not sleep stages; write W, N1, N2, N3, R (or aliases such as 'Sleep stage 4', "
            "'REM'), '?' for unscored epochs, or the codes 0..4."
        )
    keep = np.array([value != "unscored" for value in read], dtype=bool)
    scored = [value for value in read if value != "unscored"]
    stages = np.zeros(len(read), dtype=np.int64)
    codes = [value[1] for value in scored if isinstance(value, tuple)]
    if codes and len(codes) != len(scored):
        raise ValueError(
            f"{fname.name}: mixes stage names and numeric codes; use one kind throughout."
        )
    if codes:
        try:
            stages[keep] = stage_indices(np.array(codes), name=f"{fname.name}'s codes")
        except ValueError as error:
            raise ValueError(str(error)) from None
    elif scored:
        stages[keep] = scored
    return stages, keep


def find_recordings(path):
    """Pair each EDF/BDF recording of a folder with its hypnogram file, if any.

    Sleep-EDF keeps the hypnogram of ``SC4001E0-PSG.edf`` in ``SC4001EC-Hypnogram.edf``: files
    whose names share the first six characters and contain ``'hypnogram'`` are paired. A text
    file of per-epoch stages (``.csv``, ``.tsv``, ``.txt``; see :func:`read_stage_file`) whose
    name starts with the recording's (``night1.edf`` + ``night1.csv`` or
    ``night1-hypnogram.txt``) is paired too. Other recordings must carry their sleep stages
    themselves (EDF+ annotations).

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
    stage_files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in STAGE_FILE_SUFFIXES and p.is_file()
    )
    hypnograms = [p for p in files if "hypnogram" in p.name.lower()]
    recordings = [p for p in files if p not in hypnograms]
    if not recordings:
        raise FileNotFoundError(f"No EDF recordings in {str(folder)!r}.")
    pairs = []
    for recording in recordings:
        stem = recording.stem.lower()
        text = [p for p in stage_files if p.name.lower().startswith(stem)]
        match = text or [h for h in hypnograms if h.name[:6].lower() == recording.name[:6].lower()]
        pairs.append((recording, match[0] if match else None))
    return pairs


def _subject(fname, index):
    match = _SLEEP_EDF_NAME.match(Path(fname).name)
    return int(match.group(1)) if match else index


def read_paired_recording(recording, hypnogram, channel, sfreq, trim_wake):
    """Labelled epochs of one recording of a folder, with its stages from ``hypnogram``.

    Parameters
    ----------
    recording : pathlib.Path
        The EDF/BDF file.
    hypnogram : pathlib.Path | None
        Its hypnogram (EDF+ annotations, or a per-epoch stage file, see
        :func:`read_stage_file`) as :func:`find_recordings` paired it; None: the recording's
        own annotations.
    channel : str | int | None
        The EEG channel.
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

    if hypnogram is None:
        annotations = None
    elif hypnogram.suffix.lower() in STAGE_FILE_SUFFIXES:
        annotations = read_stage_file(hypnogram)
    else:
        annotations = mne.read_annotations(hypnogram)
    return read_recording(recording, annotations, channel, sfreq, trim_wake)


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
    from tqdm.auto import tqdm

    pairs = find_recordings(path)
    recordings = []
    for index, (recording, hypnogram) in enumerate(
        tqdm(pairs, desc="Reading recordings", unit="file", disable=not progress)
    ):
        try:
            epochs, y = read_paired_recording(recording, hypnogram, channel, sfreq, trim_wake)
        except ValueError as error:
            raise ValueError(f"{recording.name}: {error}") from None
        recordings.append((epochs, y, _subject(recording, index), recording.name))
    return combine_recordings(recordings, sfreq)
