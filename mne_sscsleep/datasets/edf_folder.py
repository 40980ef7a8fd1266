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
_SLEEP_EDF_RECORDING = re.compile(r"(S[CT]\d{4}[A-Z])[A-Z0-9]-PSG\.edf", re.IGNORECASE)
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


def read_stage_file(fname, *, stage_map=None):
    """Read a per-epoch hypnogram text file as ``mne.Annotations`` (one per 30-s epoch).

    Accepted layouts, each with one row per consecutive 30-s epoch from the start of the
    recording:

    - one stage per line (``W``, ``N1``, ``Sleep stage 2``, ``REM``, ... or integer codes,
      which need ``stage_map``: codes are never guessed);
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
    stage_map : dict | None
        What integer codes mean, ``{code: stage}`` (e.g. ``{0: 'W', 1: 'N1', 2: 'N2',
        3: 'N3', 4: 'R'}``); needed for files of codes.

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
    stages, keep = _stages_of(labels, fname, stage_map)
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


def _stages_of(labels, fname, stage_map=None):
    read = [_read_label(label) for label in labels]
    unknown = [labels[i] for i, value in enumerate(read) if value is None]
    if unknown:
        raise ValueError(
            f"{fname.name}: {', '.join(map(repr, sorted(set(unknown))[:10]))} "
            "are not sleep stages; write W, N1, N2, N3, R (or aliases such as 'Sleep stage 4', "
            "'REM'), '?' for unscored epochs, or integer codes with a stage map "
            "(stage_map=, --stage-map)."
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
        if stage_map is None:
            shown = ", ".join(map(str, sorted(set(codes))[:10]))
            raise ValueError(
                f"{fname.name} holds integer codes ({shown}); mne-sscsleep never guesses what "
                "codes mean (0..4 may be W..R, R&K files use 4 for stage 4 and 5 for REM). Say "
                "what they mean with a stage map: stage_map={0: 'W', 1: 'N1', ...} in Python, "
                "--stage-map 0=W,1=N1,2=N2,3=N3,4=R on the command line; or write stage names."
            )
        stages[keep] = stage_indices(
            np.array(codes), name=f"{fname.name}'s codes", stage_map=stage_map
        )
    elif scored:
        stages[keep] = scored
    return stages, keep


def find_recordings(path):
    """Pair each EDF/BDF recording of a folder with its hypnogram file, if any.

    Pairs are made by exact name rules, case aside, never by a shared beginning. For a
    recording ``<name>.edf`` (or ``.bdf``):

    - a per-epoch stage file (see :func:`read_stage_file`) named ``<name>.csv``,
      ``<name>.tsv`` or ``<name>.txt``, or ``<name>-hypnogram.<ext>`` (also with ``_``, ``.``
      or a space before ``hypnogram``);
    - else an EDF+ hypnogram ``<name>-hypnogram.edf`` (same separators); for a recording named
      ``<base>-PSG.edf`` also ``<base>-Hypnogram.edf``;
    - else, for Sleep-EDF's names, ``SC4ssNE0-PSG.edf`` with ``SC4ssNE?-Hypnogram.edf``
      (the first seven characters equal, any eighth: Sleep-EDF's scorer letter).

    Two candidates for one recording are an error, never a guess. Other recordings must carry
    their sleep stages themselves (EDF+ annotations).

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
        text = [p for p in stage_files if p.stem.lower() in _hypnogram_stems(stem, text=True)]
        edf = [p for p in hypnograms if p.stem.lower() in _hypnogram_stems(stem, text=False)]
        if not edf:
            edf = [p for p in hypnograms if _sleep_edf_pair(recording.name, p.name)]
        for kind, found in (("stage files", text), ("hypnogram files", edf)):
            if len(found) > 1:
                raise ValueError(
                    f"{recording.name} has several {kind} ({', '.join(p.name for p in found)}); "
                    "keep one per recording (see find_recordings for the name rules)."
                )
        match = text or edf
        pairs.append((recording, match[0] if match else None))
    return pairs


_SEPARATORS = ("-", "_", ".", " ")


def _hypnogram_stems(stem, *, text):
    """File stems (lower case) that name the hypnogram of the recording ``stem``."""
    stems = {f"{stem}{sep}hypnogram" for sep in _SEPARATORS}
    if text:
        stems.add(stem)
    for sep in ("-", "_"):
        if stem.endswith(f"{sep}psg"):
            base = stem[: -len("-psg")]
            stems |= {f"{base}{other}hypnogram" for other in _SEPARATORS}
    return stems


def _sleep_edf_pair(recording, hypnogram):
    """Sleep-EDF's naming: SC4001E0-PSG.edf with SC4001EC-Hypnogram.edf."""
    match = _SLEEP_EDF_RECORDING.fullmatch(recording)
    if not match:
        return False
    return (
        re.fullmatch(
            re.escape(match.group(1)) + r"[A-Z0-9]-Hypnogram\.edf", hypnogram, re.IGNORECASE
        )
        is not None
    )


def subject_from_name(fname, index):
    """The subject of a Sleep-EDF file name (``SC4ssN...``), else ``index``."""
    match = _SLEEP_EDF_NAME.match(Path(fname).name)
    return int(match.group(1)) if match else index


def read_paired_recording(recording, hypnogram, channel, sfreq, trim_wake, stage_map=None):
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
    stage_map : dict | None
        What integer codes of a stage file mean (see :func:`read_stage_file`).

    Returns
    -------
    epochs : mne.Epochs
    y : ndarray of str
    """
    import mne

    if hypnogram is None:
        annotations = None
    elif hypnogram.suffix.lower() in STAGE_FILE_SUFFIXES:
        annotations = read_stage_file(hypnogram, stage_map=stage_map)
    else:
        annotations = mne.read_annotations(hypnogram)
    return read_recording(recording, annotations, channel, sfreq, trim_wake)


def load_edf_folder(
    path, channel=None, *, sfreq=DEFAULT_SFREQ, trim_wake=30.0, stage_map=None, progress=True
):
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
    stage_map : dict | None
        What integer codes in per-epoch stage files mean (see :func:`read_stage_file`).
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
            epochs, y = read_paired_recording(
                recording, hypnogram, channel, sfreq, trim_wake, stage_map
            )
        except ValueError as error:
            raise ValueError(f"{recording.name}: {error}") from None
        recordings.append((epochs, y, subject_from_name(recording, index), recording.name))
    return combine_recordings(recordings, sfreq)
