"""Stage a whole recording: ``mne.io.Raw`` in, hypnogram (stages, probabilities) out."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._channels import pick_from_info
from ._classifier import SSCSleepClassifier
from ._epochs import FLAT_PTP_VOLTS, UnitError, check_epochs, data_provenance
from ._stages import (
    EPOCH_DURATION,
    STAGE_DESCRIPTIONS,
    STAGES,
    UNSCORED,
    UNSCORED_DESCRIPTION,
    stage_indices,
)
from .metrics import sleep_statistics

#: Why an epoch was left unscored (``Hypnogram.reason``).
BAD_REASONS = {
    "annotated": "inside a BAD_ annotation, or samples missing (NaN)",
    "flat": "flat signal (peak-to-peak below 0.1 uV): electrode off or a zero-filled gap",
    "amplitude": "amplitude far above the rest of the night: electrode off, movement or noise",
    "uncertain": "the model's confidence is below the min_confidence asked for",
}
#: Channel types a sleep-EEG model may stage without ``allow_non_eeg=True``.
_EEG_TYPES = ("eeg",)


@dataclass
class Hypnogram:
    """Result of :func:`stage`: one row per 30-s epoch of the recording.

    Parameters
    ----------
    onset : ndarray of float, shape (n_epochs,)
        Start of each epoch in seconds from the start of the recording.
    stage : ndarray of str, shape (n_epochs,)
        Canonical stage of each epoch (``'W', 'N1', 'N2', 'N3', 'R'``), or ``'?'`` for epochs
        that cannot be scored (see ``bad``).
    label : ndarray, shape (n_epochs,)
        The model's prediction as its own label (its ``classes_``), for every epoch, including
        those left unscored.
    proba : ndarray of float, shape (n_epochs, n_classes)
        Stage probabilities the model gave; columns follow ``classes``.
    classes : ndarray
        The model's labels, in stage order.
    bad : ndarray of bool, shape (n_epochs,)
        Epochs whose signal cannot be scored (electrode off, gap, artifact); their ``stage`` is
        ``'?'``.
    reason : ndarray of str, shape (n_epochs,)
        Why an epoch is bad (a key of :data:`BAD_REASONS`), ``''`` for good epochs.
    ch_name : str
        Channel that was staged.
    orig_time : datetime | None
        Measurement start of the recording (for annotations).
    class_stages : tuple of str | None
        The canonical stage of each of ``classes`` (None: ``classes`` are stage names or the
        codes 0..4).
    meas_date : datetime | None
        Start of the recording (``raw.info['meas_date']``), for clock times in plots.

    Examples
    --------
    >>> hypnogram = stage("model.sscsleep", raw)  # doctest: +SKIP
    >>> hypnogram.to_data_frame().head()  # doctest: +SKIP
    >>> raw.set_annotations(hypnogram.to_annotations())  # doctest: +SKIP
    """

    onset: np.ndarray
    stage: np.ndarray
    label: np.ndarray
    proba: np.ndarray
    classes: np.ndarray
    bad: np.ndarray
    reason: np.ndarray
    ch_name: str
    orig_time: object = None
    class_stages: tuple = None
    meas_date: object = None

    def __post_init__(self):
        if self.class_stages is None:
            self.class_stages = tuple(STAGES[index] for index in stage_indices(self.classes))

    @property
    def confidence(self):
        """Probability of the stage given, per epoch; NaN for unscored epochs (ndarray)."""
        return np.where(self.bad, np.nan, self.proba.max(axis=1))

    def __len__(self):
        return len(self.stage)

    def __repr__(self):
        counts = ", ".join(
            f"{stage} {np.mean(self.stage == stage):.0%}"
            for stage in STAGES + ((UNSCORED,) if self.bad.any() else ())
        )
        return f"<Hypnogram | {len(self)} epochs of 30 s ({len(self) / 120:.1f} h) | {counts}>"

    def to_data_frame(self):
        """One row per epoch: onset, duration, stage, confidence, bad, reason, probabilities.

        Returns
        -------
        df : pandas.DataFrame
            One row per epoch.
        """
        import pandas as pd

        df = pd.DataFrame(
            {
                "onset": self.onset,
                "duration": EPOCH_DURATION,
                "stage": self.stage,
                "confidence": self.confidence,
                "bad": self.bad,
                "reason": self.reason,
            }
        )
        for column, stage in enumerate(self.class_stages):
            df[f"p_{stage}"] = self.proba[:, column]
        return df

    def sleep_statistics(self):
        """Sleep statistics of the night, with the AASM definitions.

        See :func:`mne_sscsleep.metrics.sleep_statistics`; unscored epochs count in the time
        in bed only.

        Returns
        -------
        statistics : dict
            TIB, SPT, TST, SE (%), SOL, REM latency, WASO, total wake, minutes and % of each
            stage, unscored minutes.
        """
        return sleep_statistics(self)

    def to_annotations(self):
        """Convert to ``mne.Annotations`` (Sleep-EDF descriptions), for ``raw.set_annotations``.

        Unscored epochs become ``'Sleep stage ?'``, as in Sleep-EDF's own hypnograms.

        Returns
        -------
        annotations : mne.Annotations
            One annotation per 30-s epoch.
        """
        import mne

        descriptions = {**STAGE_DESCRIPTIONS, UNSCORED: UNSCORED_DESCRIPTION}
        return mne.Annotations(
            self.onset,
            EPOCH_DURATION,
            [descriptions[stage] for stage in self.stage],
            orig_time=self.orig_time,
        )

    def save(self, fname, raw=None, *, overwrite=False):
        """Write the hypnogram: ``.tsv``/``.txt`` (tab-separated), ``.csv`` or ``.edf`` (EDF+).

        Parameters
        ----------
        fname : str | pathlib.Path
            Output file; the extension picks the format.
        raw : mne.io.Raw | None
            For EDF+ only: the staged recording, written with the stages as annotations (EDF+
            needs a signal; install ``edfio`` for EDF export).
        overwrite : bool
            Replace an existing file.

        Returns
        -------
        fname : pathlib.Path
            The file written.
        """
        fname = Path(fname)
        if fname.exists() and not overwrite:
            raise FileExistsError(f"{str(fname)!r} exists; pass overwrite=True to replace it.")
        suffix = fname.suffix.lower()
        if suffix in (".tsv", ".txt", ".csv"):
            sep = "," if suffix == ".csv" else "\t"
            self.to_data_frame().to_csv(fname, sep=sep, index=False, float_format="%.4f")
        elif suffix in (".edf", ".edf+"):
            if raw is None:
                raise ValueError("EDF+ output needs the recording: hypnogram.save(fname, raw).")
            import mne

            out = raw.copy().pick([self.ch_name]).load_data(verbose="error")
            missing = ~np.isfinite(out._data)
            if missing.any():
                # EDF stores no NaN; those samples' epochs are marked 'Sleep stage ?'.
                out._data[missing] = 0.0
                warnings.warn(
                    f"{missing.sum()} missing (NaN) samples are written as 0 in {fname.name}; "
                    "their epochs are annotated 'Sleep stage ?'.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            out.set_annotations(self.to_annotations())
            try:
                mne.export.export_raw(fname, out, fmt="edf", overwrite=True, verbose="error")
            except ImportError as error:
                raise ImportError(
                    "EDF export needs the edfio package: pip install edfio"
                ) from error
        else:
            raise ValueError(
                f"Unknown hypnogram format {suffix!r}; use .tsv, .csv or .edf (EDF+)."
            )
        return fname


def _signal_at(raw, ch_name, sfreq, verbose):
    """The channel in volts at ``sfreq``, and which of its native samples are BAD or missing.

    Only the staged channel is read (or copied). Spans under ``BAD_*`` annotations come back as
    NaN from MNE (``reject_by_annotation='NaN'``); they and missing samples are zero-filled so
    that resampling stays finite, and reported in the mask.
    """
    import mne

    native = raw.get_data(picks=[ch_name], reject_by_annotation="NaN", verbose=verbose)[0]
    missing = ~np.isfinite(native)
    if missing.any():
        native = np.where(missing, 0.0, native)
    raw_sfreq = float(raw.info["sfreq"])
    if not np.isclose(raw_sfreq, sfreq):
        native = mne.filter.resample(native, up=sfreq, down=raw_sfreq, verbose=verbose)
    return native, missing, raw_sfreq


def _bad_epochs(data, missing, raw_sfreq, amplitude_ratio):
    """Reason each epoch cannot be scored (a key of BAD_REASONS), or ''."""
    n_epochs = len(data)
    reason = np.full(n_epochs, "", dtype=object)
    covered = np.zeros(n_epochs, dtype=bool)
    epoch_of_sample = (np.flatnonzero(missing) / raw_sfreq // EPOCH_DURATION).astype(int)
    covered[epoch_of_sample[epoch_of_sample < n_epochs]] = True
    ptp = np.ptp(data[:, 0], axis=-1)
    flat = ptp < FLAT_PTP_VOLTS
    std = data[:, 0].std(axis=-1, dtype=np.float64)
    if amplitude_ratio is not None:
        good = ~(covered | flat)
        typical = np.median(std[good]) if good.any() else 0.0
        reason[good & (std > amplitude_ratio * typical)] = "amplitude"
    reason[flat] = "flat"
    reason[covered] = "annotated"
    return reason.astype(str)


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

    The chosen channel is resampled to the model's rate when needed and cut into consecutive
    30-s epochs from the start of the recording; a trailing part shorter than 30 s is left
    unstaged (with a warning). Annotations already in ``raw`` are left untouched.

    Epochs that cannot be scored are flagged instead of staged silently: their stage is
    ``'?'`` (``'Sleep stage ?'`` in annotations), ``bad`` is True and ``reason`` says why:
    ``'annotated'`` (overlapping a ``BAD_*`` annotation, MNE's mark for bad spans, or with
    missing samples), ``'flat'`` (a disconnected electrode or a zero-filled gap) or
    ``'amplitude'`` (standard deviation above ``amplitude_ratio`` times the night's median, e.g.
    an electrode picking up mains or movement), or ``'uncertain'`` (with ``min_confidence``,
    the model's top probability fell below it). A warning counts them. A few missing (NaN)
    samples leave only their epochs unscored, never the whole night.

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
        MNE verbosity for reading and resampling.

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
            "derivation (Fpz-Cz style). Pick an EEG channel with picks=..., fix the type "
            f"(raw.set_channel_types({{{ch_name!r}: 'eeg'}})) if it is EEG, or pass "
            "allow_non_eeg=True to stage it anyway."
        )
    _warn_if_simulated_model(model, raw)
    signal, missing, raw_sfreq = _signal_at(raw, ch_name, model.sfreq, verbose)
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
    data = signal[: n_epochs * n_times].astype(np.float32).reshape(n_epochs, 1, n_times)
    reason = _bad_epochs(data, missing, raw_sfreq, amplitude_ratio).astype(object)
    dataset = _checked(data, model, ch_name)
    proba = model.predict_proba(dataset)
    if min_confidence is not None:
        reason[(reason == "") & (proba.max(axis=1) < min_confidence)] = "uncertain"
    reason = reason.astype(str)
    bad = reason != ""
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
    index = proba.argmax(axis=1)
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
        raise UnitError(
            f"Channel {ch_name!r} varies by {np.median(data.std(axis=-1)):.3g} V per epoch "
            "(median standard deviation), far above scalp EEG: its file probably declares a "
            "unit MNE does not know (EDF physical dimension other than uV, mV or V), so "
            "microvolts were "
            f"read as volts. Scale it first, e.g. raw.load_data().apply_function(lambda x: x * "
            f"1e-6, picks=[{ch_name!r}]), or fix the file's unit."
        ) from None


#: Recording files :func:`stage_many` finds in a folder (hypnogram files excluded).
RECORDING_SUFFIXES = (".edf", ".bdf", ".fif", ".vhdr", ".set", ".cnt")
_OUTPUT_SUFFIXES = {"tsv": ".tsv", "csv": ".csv", "edf": ".edf"}
# Models loaded in this process, by file: each worker of stage_many loads a model once.
_LOADED_MODELS = {}


def find_recording_files(items):
    """Recording files from paths, glob patterns and folders.

    Parameters
    ----------
    items : str | pathlib.Path | list of those
        Files, glob patterns (``'data/*.edf'``, ``'**/*.edf'``) or folders (their recording
        files, :data:`RECORDING_SUFFIXES`, without Sleep-EDF hypnogram files).

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
                if p.suffix.lower() in RECORDING_SUFFIXES and "hypnogram" not in p.name.lower()
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


def read_recording_file(fname):
    """Open a recording lazily, or fail with one line naming the file and what is wrong.

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

    from .io import first_line

    path = Path(fname).expanduser()
    if path.is_dir():
        raise IsADirectoryError(
            f"{str(fname)!r} is a folder, not a recording; give an EDF (or other MNE-readable) "
            "file."
        )
    if not path.is_file():
        raise FileNotFoundError(f"No recording at {str(fname)!r}.")
    try:
        return mne.io.read_raw(path, preload=False, verbose="error")
    except Exception as error:  # noqa: BLE001 -- any reader failure on a user's file
        raise ValueError(
            f"Cannot read {str(fname)!r} as a recording ({first_line(error)}). Is it an EDF/BDF "
            "file (or another format MNE reads), and complete?"
        ) from None


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

    Each recording is staged by :func:`stage` into ``output_dir/<name>.<fmt>``; a recording
    whose output exists already is skipped (its statistics are read back from a TSV/CSV), so
    an interrupted run resumes. A file that cannot be read or staged is reported in the
    summary and the others go on. Work runs through :class:`joblib.Parallel`: ``jobs`` local
    processes, or any joblib backend, e.g. a Dask cluster::

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
        Hypnogram format (see :meth:`Hypnogram.save`).
    picks : str | int | None
        The EEG channel, as for :func:`stage` (None: the model's, or the only EEG channel).
    min_confidence : float | None
        As for :func:`stage`: epochs below it are unscored.
    jobs : int | None
        Parallel workers (``-1``: one per CPU core). None: 1, or what an active
        ``joblib.parallel_backend`` context says.
    overwrite : bool
        Stage again recordings whose hypnogram exists.
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
    stems = [f.name.rsplit(".", 1)[0] if "." in f.name else f.name for f in files]
    if len(set(stems)) != len(stems):
        repeated = sorted({s for s in stems if stems.count(s) > 1})
        raise ValueError(
            f"Several recordings would write the same hypnogram ({', '.join(repeated[:5])}); "
            "stage recordings of different names, or into different output folders."
        )
    output_dir = Path(output_dir).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if model_file is None:  # a fitted classifier: the workers read it from a file
            model_file = Path(tmp) / "model.sscsleep"
            model.save(model_file)
        tasks = (
            joblib.delayed(_stage_one)(
                str(model_file.resolve()),
                str(fname),
                str(output_dir / (stem + _OUTPUT_SUFFIXES[fmt])),
                picks=picks,
                min_confidence=min_confidence,
                overwrite=overwrite,
                device=device,
            )
            for fname, stem in zip(files, stems)
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
    summary.to_csv(output_dir / "summary.tsv", sep="\t", index=False, float_format="%.2f")
    return summary


def _stage_one(model_file, fname, output, *, picks, min_confidence, overwrite, device):
    """Stage one recording (in a worker): a summary row, never an exception for a bad file."""
    import time

    from .io import first_line

    row = {"recording": fname, "output": output, "status": "staged", "error": ""}
    start = time.perf_counter()
    caught = []
    try:
        if Path(output).exists() and not overwrite:
            row["status"] = "skipped"
            if Path(output).suffix in (".tsv", ".csv"):
                import pandas as pd

                sep = "," if output.endswith(".csv") else "\t"
                stages = pd.read_csv(output, sep=sep)["stage"].astype(str).to_numpy()
                row.update(_night_figures(stages))
        else:
            caught = _stage_file(model_file, fname, output, picks, min_confidence, device, row)
    except Exception as error:  # noqa: BLE001 -- one bad file must not stop the others
        row.update(status="failed", error=first_line(error))
    row["warnings"] = "; ".join(dict.fromkeys(first_line(w.message) for w in caught))
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


def _stage_file(model_file, fname, output, picks, min_confidence, device, row):
    """Stage and save one recording; fills ``row`` and returns the warnings it raised."""
    key = (model_file, Path(model_file).stat().st_mtime_ns, device)
    if key not in _LOADED_MODELS:
        _LOADED_MODELS.clear()
        _LOADED_MODELS[key] = SSCSleepClassifier.load(model_file, device=device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = read_recording_file(fname)
        hypnogram = stage(
            _LOADED_MODELS[key],
            raw,
            picks=picks,
            min_confidence=min_confidence,
            verbose="error",
        )
        hypnogram.save(output, raw, overwrite=True)
    row.update(_night_figures(hypnogram.stage))
    return caught


def _night_figures(stages):
    stages = np.asarray(stages)
    figures = {"n_epochs": len(stages), "unscored": int((stages == UNSCORED).sum())}
    figures.update(sleep_statistics(stages))
    return figures
