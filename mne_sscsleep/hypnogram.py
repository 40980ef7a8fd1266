"""The hypnogram of a staged recording, and its files (TSV, CSV, EDF+).

Every file is written through a temporary file renamed into place (an interruption leaves the
old file or the new one), and carries a mark of its writer: the TSV/CSV header row below, or
``mne-sscsleep`` as the EDF+ equipment code. Only a file with that mark is ever replaced, so a
scoring file or a recording at the output's name is never written over.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._check import atomic_write, check_output_file
from ._docs import fill_doc
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
    "model": "the model's output is not a number (NaN or infinite): a damaged model",
}
#: Hypnogram file formats, by extension.
HYPNOGRAM_SUFFIXES = (".tsv", ".txt", ".csv", ".edf")
#: The first columns of every TSV/CSV hypnogram this package writes (then ``p_<stage>``).
COLUMNS = ("onset", "duration", "stage", "confidence", "bad", "reason")
#: EDF+ equipment code of the hypnogram files this package writes.
EDF_EQUIPMENT = "mne-sscsleep"


@dataclass
class Hypnogram:
    """Result of :func:`~mne_sscsleep.stage`: one row per 30-s epoch of the recording.

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
        Stage probabilities the model gave; columns follow ``classes`` (NaN where the model's
        output was not a number).
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
        The canonical stage of each of ``classes`` (None: ``classes`` are stage names).
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

        The file is written to a temporary file and renamed into place. An existing file is
        replaced only with ``overwrite=True`` and only when it is a hypnogram this package
        wrote (see :func:`is_hypnogram_file`): a recording or a scoring file is never
        written over.

        Parameters
        ----------
        fname : str | pathlib.Path
            Output file; the extension picks the format.
        raw : mne.io.Raw | None
            For EDF+ only: the staged recording, written with the stages as annotations (EDF+
            needs a signal; install ``edfio`` for EDF export). It may not be ``fname`` itself.
        overwrite : bool
            Replace an existing hypnogram file of ours.

        Returns
        -------
        fname : pathlib.Path
            The file written.
        """
        sources = () if raw is None else [name for name in raw.filenames if name]
        fname = check_output_file(
            fname,
            "hypnogram",
            suffixes=HYPNOGRAM_SUFFIXES,
            overwrite=overwrite,
            is_ours=is_hypnogram_file,
            inputs=sources,
        )
        suffix = fname.suffix.lower()
        if suffix == ".edf":
            if raw is None:
                raise ValueError("EDF+ output needs the recording: hypnogram.save(fname, raw).")
            self._write_edf(fname, raw)
            return fname
        sep = "," if suffix == ".csv" else "\t"
        with atomic_write(fname) as tmp:
            self.to_data_frame().to_csv(tmp, sep=sep, index=False, float_format="%.4f")
        return fname

    def _write_edf(self, fname, raw):
        import mne

        try:
            import edfio  # noqa: F401 -- MNE's EDF export needs it
        except ImportError as error:
            raise ImportError("EDF export needs the edfio package: pip install edfio") from error
        out = raw.copy().pick([self.ch_name]).load_data(verbose="error")
        data = out.get_data()
        missing = ~np.isfinite(data)
        if missing.any():
            # EDF stores no NaN; those samples' epochs are marked 'Sleep stage ?'.
            out.apply_function(lambda x: np.where(np.isfinite(x), x, 0.0), channel_wise=False)
            warnings.warn(
                f"{missing.sum()} missing (NaN) samples are written as 0 in {fname.name}; "
                "their epochs are annotated 'Sleep stage ?'.",
                RuntimeWarning,
                stacklevel=3,
            )
        del data, missing
        out.set_annotations(self.to_annotations())
        out.info["device_info"] = {"type": EDF_EQUIPMENT}  # MNE's EDF+ equipment code
        with atomic_write(fname) as tmp:
            mne.export.export_raw(tmp, out, fmt="edf", overwrite=True, verbose="error")


@fill_doc
def is_hypnogram_file(fname):  # noqa: D417 (fill_doc)
    """Whether a file is a hypnogram this package wrote (the mark of its format).

    TSV/CSV/TXT files start with the header row ``onset, duration, stage, confidence, bad,
    reason, p_W, ...``; EDF files carry ``mne-sscsleep`` as the EDF+ equipment code.

    %(fname_ours)s
        True for one of our hypnogram files, False for anything else (a recording, a
        scoring file, another program's output).

    Examples
    --------
    >>> is_hypnogram_file("night1.tsv")  # doctest: +SKIP
    False
    """
    fname = Path(fname)
    try:
        with open(fname, "rb") as fid:
            head = fid.read(256)
    except OSError:
        return False
    if fname.suffix.lower() == ".edf":
        recording_field = head[88:168].decode("ascii", errors="replace").split()
        return EDF_EQUIPMENT in recording_field
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    sep = "," if fname.suffix.lower() == ".csv" else "\t"
    columns = first.split(sep)
    return tuple(columns[: len(COLUMNS)]) == COLUMNS and all(
        column.startswith("p_") for column in columns[len(COLUMNS) :]
    )


def read_hypnogram_stages(fname):
    """The stage of each epoch of a hypnogram file this package wrote.

    Parameters
    ----------
    fname : str | pathlib.Path
        A TSV/CSV/TXT or EDF+ hypnogram written by :meth:`Hypnogram.save`.

    Returns
    -------
    stages : ndarray of str, shape (n_epochs,)
        ``'W', 'N1', 'N2', 'N3', 'R'`` or ``'?'``, in time order.

    Raises
    ------
    ValueError
        If the file is not one of ours, or its rows are not consecutive 30-s epochs from the
        start (a file cut short or edited).

    Examples
    --------
    >>> read_hypnogram_stages("hypnograms/night1.tsv")[:3]  # doctest: +SKIP
    array(['W', 'W', 'N1'], dtype='<U1')
    """
    import pandas as pd

    fname = Path(fname)
    if not is_hypnogram_file(fname):
        raise ValueError(f"{str(fname)!r} is not a hypnogram written by mne-sscsleep.")
    if fname.suffix.lower() == ".edf":
        import mne

        annotations = mne.read_annotations(fname)
        descriptions = {**STAGE_DESCRIPTIONS, UNSCORED: UNSCORED_DESCRIPTION}
        names = {description: stage for stage, description in descriptions.items()}
        keep = [description in names for description in annotations.description]
        onset = annotations.onset[keep]
        stages = np.array([names[d] for d in annotations.description[keep]], dtype=object)
    else:
        sep = "," if fname.suffix.lower() == ".csv" else "\t"
        try:
            table = pd.read_csv(fname, sep=sep, usecols=["onset", "stage"], dtype={"stage": str})
        except (ValueError, pd.errors.ParserError) as error:
            raise ValueError(f"{str(fname)!r} cannot be read back ({error}).") from None
        onset, stages = table["onset"].to_numpy(float), table["stage"].to_numpy(object)
    if not np.allclose(onset, np.arange(len(onset)) * EPOCH_DURATION):
        raise ValueError(f"{str(fname)!r} does not hold consecutive 30-s epochs from the start.")
    return stages.astype(str)
