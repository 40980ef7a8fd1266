"""Stage many recordings into a folder of hypnograms: in parallel, resumable, past bad files.

Nothing a user made is written over: an output name that is taken by anything but a hypnogram
this package wrote (a scoring file, a recording) fails that recording with the reason, and an
output that would be one of the recordings is refused before any work. Hypnograms and the
summary are written through temporary files renamed into place, so an interrupted run leaves
complete files only, and a rerun stages again whatever is missing or incomplete.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ._check import atomic_write, first_line, refuse_replacing, remove_stale_temporaries
from ._classifier import SSCSleepClassifier
from ._signal import resampled_length, resampling_factors
from ._stages import EPOCH_DURATION, UNSCORED
from .hypnogram import is_hypnogram_file, read_hypnogram_stages
from .metrics import sleep_statistics
from .staging import read_recording_file, stage

#: Recording files :func:`stage_many` finds in a folder (hypnogram files excluded).
RECORDING_SUFFIXES = (".edf", ".bdf", ".fif", ".vhdr", ".set", ".cnt")
_OUTPUT_SUFFIXES = {"tsv": ".tsv", "csv": ".csv", "edf": ".edf"}
#: The first columns of the summary table :func:`stage_many` writes (its mark).
SUMMARY_COLUMNS = ("recording", "output", "status", "error")
# Models loaded in this process, by file: each worker of stage_many loads a model once.
_LOADED_MODELS = {}


def find_recording_files(items):
    """Recording files from paths, glob patterns and folders.

    Parameters
    ----------
    items : str | pathlib.Path | list of those
        Files, glob patterns (``'data/*.edf'``, ``'**/*.edf'``) or folders (their recording
        files, :data:`RECORDING_SUFFIXES`, without hypnogram files: Sleep-EDF's
        ``*Hypnogram*`` files and those this package wrote).

    Returns
    -------
    files : list of pathlib.Path
        Each file once, in the order given (sorted within a folder or pattern).

    Examples
    --------
    >>> find_recording_files(["night1.edf", "lab/*.edf"])  # doctest: +SKIP
    [PosixPath('night1.edf'), PosixPath('lab/a.edf'), PosixPath('lab/b.edf')]
    """
    import glob

    if isinstance(items, (str, Path)):
        items = [items]
    files = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in RECORDING_SUFFIXES
                and "hypnogram" not in p.name.lower()
                and not is_hypnogram_file(p)
            )
            if not found:
                raise FileNotFoundError(f"No recording files in the folder {str(item)!r}.")
        elif glob.has_magic(str(path)):
            found = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
            found = [p for p in found if p.is_file()]
            if not found:
                raise FileNotFoundError(f"No file matches {str(item)!r}.")
        else:
            found = [path]  # a missing file is reported as that recording's failure
        files.extend(found)
    return list(dict.fromkeys(files))


def _output_stem(fname):
    return fname.name.rsplit(".", 1)[0] if "." in fname.name else fname.name


def _check_output_folder(output_dir, files, outputs):
    """Refuse, before any work, an output folder that would destroy what it should not."""
    from ._check import same_file

    if output_dir.exists() and not output_dir.is_dir():
        raise NotADirectoryError(
            f"The output folder {str(output_dir)!r} is a file; give a folder for the "
            "hypnograms (it is created if needed)."
        )
    for fname, output in zip(files, outputs):
        if same_file(fname, output):
            raise ValueError(
                f"The hypnogram of {fname.name} would be written over the recording itself "
                f"({str(output)!r}): the output folder is the recordings' folder and the format "
                "is the recordings' own. Choose another output folder (--out-dir) or format."
            )
    summary = output_dir / "summary.tsv"
    if summary.exists():
        refuse_replacing(summary, "summary table", overwrite=True, is_ours=_is_summary_file)


def _is_summary_file(fname):
    with open(fname, encoding="utf-8", errors="replace") as fid:
        first = fid.readline().rstrip("\n").split("\t")
    return tuple(first[: len(SUMMARY_COLUMNS)]) == SUMMARY_COLUMNS


def stage_many(
    model,
    recordings,
    output_dir,
    *,
    fmt="tsv",
    picks=None,
    min_confidence=None,
    jobs=None,
    overwrite=False,
    device="cpu",
    progress=True,
):
    """Stage many recordings into a folder of hypnograms, in parallel, past bad files.

    Each recording is staged by :func:`~mne_sscsleep.stage` into
    ``output_dir/<name>.<fmt>``. A recording whose hypnogram is already there, complete (one
    row per 30-s epoch of the recording) and written by this package, is skipped (its
    statistics are read back), so an interrupted run resumes; an incomplete one is staged
    again. A file at the output's name that this package did not write (a scoring file, a
    recording) is never touched: that recording fails with the reason. A file that cannot be
    read or staged is reported in the summary and the others go on. Work runs through
    :class:`joblib.Parallel`: ``jobs`` local processes, or any joblib backend, e.g. a Dask
    cluster::

        from dask.distributed import Client
        client = Client("scheduler-address:8786")
        with joblib.parallel_backend("dask"):
            summary = stage_many("model.sscsleep", "psg/*.edf", "hypnograms")

    Every worker loads the model once, whatever the number of recordings it stages.

    Parameters
    ----------
    model : str | pathlib.Path | SSCSleepClassifier
        A model file (workers load it themselves), or a fitted classifier (written to a
        temporary model file for the workers).
    recordings : str | pathlib.Path | list
        Files, glob patterns or folders (see :func:`find_recording_files`).
    output_dir : str | pathlib.Path
        Folder of the hypnograms and of ``summary.tsv`` (created if needed).
    fmt : ``'tsv'`` | ``'csv'`` | ``'edf'``
        Hypnogram format (see :meth:`~mne_sscsleep.Hypnogram.save`).
    picks : str | int | None
        The EEG channel, as for :func:`~mne_sscsleep.stage` (None: the model's, or the only
        EEG channel).
    min_confidence : float | None
        As for :func:`~mne_sscsleep.stage`: epochs below it are unscored.
    jobs : int | None
        Parallel workers (``-1``: one per CPU core). None: 1, or what an active
        ``joblib.parallel_backend`` context says.
    overwrite : bool
        Stage again recordings whose complete hypnogram (of ours) exists.
    device : str
        Where the workers run the network (``'cpu'``, ``'cuda'``).
    progress : bool
        Show a progress bar over the recordings.

    Returns
    -------
    summary : pandas.DataFrame
        One row per recording: ``recording``, ``output``, ``status`` (``'staged'``,
        ``'skipped'`` or ``'failed'``), ``error``, ``warnings``, ``n_epochs``, ``unscored``,
        ``seconds`` and the sleep statistics (TIB, TST, SE (%), SOL, WASO, REM latency, stage
        minutes and percentages). Also written to ``output_dir/summary.tsv``.

    Examples
    --------
    >>> summary = stage_many("model.sscsleep", "psg/", "hypnograms", jobs=2)  # doctest: +SKIP
    >>> summary.loc[summary.status == "failed", ["recording", "error"]]  # doctest: +SKIP
    """
    import tempfile

    import joblib
    import pandas as pd
    from tqdm.auto import tqdm

    if fmt not in _OUTPUT_SUFFIXES:
        raise ValueError(f"fmt must be 'tsv', 'csv' or 'edf', got {fmt!r}.")
    model_file = None if isinstance(model, SSCSleepClassifier) else Path(model).expanduser()
    if model_file is not None and not model_file.is_file():
        raise FileNotFoundError(f"No model file at {str(model)!r}.")
    files = find_recording_files(recordings)
    if not files:
        raise ValueError("No recordings to stage.")
    stems = [_output_stem(fname) for fname in files]
    if len(set(stems)) != len(stems):
        repeated = sorted({s for s in stems if stems.count(s) > 1})
        raise ValueError(
            f"Several recordings would write the same hypnogram ({', '.join(repeated[:5])}); "
            "stage recordings of different names, or into different output folders."
        )
    output_dir = Path(output_dir).expanduser()
    outputs = [output_dir / (stem + _OUTPUT_SUFFIXES[fmt]) for stem in stems]
    _check_output_folder(output_dir, files, outputs)
    output_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(output_dir)
    with tempfile.TemporaryDirectory() as tmp:
        if model_file is None:  # a fitted classifier: the workers read it from a file
            model_file = Path(tmp) / "model.sscsleep"
            model.save(model_file)
        tasks = (
            joblib.delayed(_stage_one)(
                str(model_file.resolve()),
                str(fname),
                str(output),
                picks=picks,
                min_confidence=min_confidence,
                overwrite=overwrite,
                device=device,
            )
            for fname, output in zip(files, outputs)
        )
        results = joblib.Parallel(n_jobs=jobs, return_as="generator")(tasks)
        rows = list(
            tqdm(
                results,
                total=len(files),
                desc="Staging",
                unit="recording",
                disable=not progress,
            )
        )
    summary = pd.DataFrame(rows)
    with atomic_write(output_dir / "summary.tsv") as tmp_summary:
        summary.to_csv(tmp_summary, sep="\t", index=False, float_format="%.2f")
    return summary


def _stage_one(model_file, fname, output, *, picks, min_confidence, overwrite, device):
    """Stage one recording (in a worker): a summary row, never an exception for a bad file."""
    import time

    row = {"recording": fname, "output": output, "status": "staged", "error": ""}
    start = time.perf_counter()
    caught = []
    try:
        model = _model(model_file, device)
        raw = read_recording_file(fname)
        existing = Path(output)
        if existing.exists() and existing.stat().st_size:
            if not is_hypnogram_file(existing):
                refuse_replacing(existing, "hypnogram", overwrite=True, is_ours=None)
            stages = _complete_stages(existing, raw, model)
            if stages is not None and not overwrite:
                row["status"] = "skipped"
                row.update(_night_figures(stages))
        if row["status"] == "staged":
            caught = _stage_file(model, raw, output, picks, min_confidence, row)
    except Exception as error:  # noqa: BLE001 -- one bad file must not stop the others
        row.update(status="failed", error=first_line(error))
    row["warnings"] = "; ".join(dict.fromkeys(first_line(w.message) for w in caught))
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


def _model(model_file, device):
    key = (model_file, Path(model_file).stat().st_mtime_ns, device)
    if key not in _LOADED_MODELS:
        _LOADED_MODELS.clear()
        _LOADED_MODELS[key] = SSCSleepClassifier.load(model_file, device=device)
    return _LOADED_MODELS[key]


def _complete_stages(fname, raw, model):
    """The stages of a hypnogram of ours that covers the whole recording, else None."""
    up, down = resampling_factors(raw.info["sfreq"], model.sfreq)
    n_times = int(round(EPOCH_DURATION * model.sfreq))
    expected = resampled_length(raw.n_times, up, down) // n_times
    try:
        stages = read_hypnogram_stages(fname)
    except ValueError:
        return None
    return stages if len(stages) == expected else None


def _stage_file(model, raw, output, picks, min_confidence, row):
    """Stage and save one recording; fills ``row`` and returns the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hypnogram = stage(model, raw, picks=picks, min_confidence=min_confidence, verbose="error")
        hypnogram.save(output, raw, overwrite=True)
    row.update(_night_figures(hypnogram.stage))
    return caught


def _night_figures(stages):
    stages = np.asarray(stages)
    figures = {"n_epochs": len(stages), "unscored": int((stages == UNSCORED).sum())}
    figures.update(sleep_statistics(stages))
    return figures
