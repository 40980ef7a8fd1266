"""Stage a whole recording: ``mne.io.Raw`` in, hypnogram (stages, probabilities) out."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._epochs import EPOCH_DURATION, FLAT_PTP_VOLTS, STAGE_DESCRIPTIONS, STAGES, stage_indices


@dataclass
class Hypnogram:
    """Result of :func:`stage`: one row per 30-s epoch of the recording.

    Parameters
    ----------
    onset : ndarray of float, shape (n_epochs,)
        Start of each epoch in seconds from the start of the recording.
    stage : ndarray of str, shape (n_epochs,)
        Canonical stage of each epoch (``'W', 'N1', 'N2', 'N3', 'R'``).
    label : ndarray, shape (n_epochs,)
        The same stage as the model's own label (its ``classes_``).
    proba : ndarray of float, shape (n_epochs, n_classes)
        Stage probabilities; columns follow ``classes``.
    classes : ndarray
        The model's labels, in stage order.
    flat : ndarray of bool, shape (n_epochs,)
        Epochs whose signal is flat (e.g. electrode off); their stage is unreliable.
    ch_name : str
        Channel that was staged.
    orig_time : datetime | None
        Measurement start of the recording (for annotations).

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
    flat: np.ndarray
    ch_name: str
    orig_time: object = None

    @property
    def confidence(self):
        """Probability of the predicted stage, per epoch (ndarray, shape (n_epochs,))."""
        return self.proba.max(axis=1)

    def __len__(self):
        return len(self.stage)

    def __repr__(self):
        counts = ", ".join(f"{stage} {np.mean(self.stage == stage):.0%}" for stage in STAGES)
        return f"<Hypnogram | {len(self)} epochs of 30 s ({len(self) / 120:.1f} h) | {counts}>"

    def to_data_frame(self):
        """One row per epoch: onset, duration, stage, confidence, flat and probabilities.

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
                "flat": self.flat,
            }
        )
        for column, label in enumerate(self.classes):
            df[f"p_{STAGES[stage_indices([label])[0]]}"] = self.proba[:, column]
        return df

    def to_annotations(self):
        """Convert to ``mne.Annotations`` (Sleep-EDF descriptions), for ``raw.set_annotations``.

        Returns
        -------
        annotations : mne.Annotations
            One annotation per 30-s epoch.
        """
        import mne

        return mne.Annotations(
            self.onset,
            EPOCH_DURATION,
            [STAGE_DESCRIPTIONS[stage] for stage in self.stage],
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

            out = raw.copy().pick([self.ch_name])
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


def _pick_channel(raw, picks):
    if picks is None:
        eeg = [raw.ch_names[i] for i in _eeg_indices(raw)]
        if len(raw.ch_names) == 1:
            return raw.ch_names[0]
        if len(eeg) == 1:
            return eeg[0]
        hint = next((name for name in raw.ch_names if "fpz" in name.lower()), raw.ch_names[0])
        raise ValueError(
            f"The recording has {len(raw.ch_names)} channels ({', '.join(raw.ch_names[:8])}"
            f"{', ...' if len(raw.ch_names) > 8 else ''}); choose the EEG channel to stage, "
            f"e.g. picks={hint!r}."
        )
    if isinstance(picks, str):
        if picks not in raw.ch_names:
            raise ValueError(
                f"Channel {picks!r} is not in the recording; available: {', '.join(raw.ch_names)}."
            )
        return picks
    if isinstance(picks, (int, np.integer)) and -len(raw.ch_names) <= picks < len(raw.ch_names):
        return raw.ch_names[picks]
    raise ValueError(f"picks must be one channel name or index, got {picks!r}.")


def _eeg_indices(raw):
    import mne

    return mne.pick_types(raw.info, eeg=True, exclude=[])


def stage(model, raw, picks=None, *, verbose=None):
    """Stage a whole recording with a fitted model.

    The chosen channel is resampled to the model's rate when needed and cut into consecutive
    30-s epochs from the start of the recording; a trailing part shorter than 30 s is left
    unstaged (with a warning). Annotations already in ``raw`` are ignored and left untouched.

    Parameters
    ----------
    model : SSCSleepClassifier | str | pathlib.Path
        A fitted classifier or a model file written by :meth:`SSCSleepClassifier.save`.
    raw : mne.io.Raw
        The recording (volts, as MNE reads it).
    picks : str | int | None
        The EEG channel to stage; optional when the recording has one (EEG) channel.
    verbose : bool | str | int | None
        MNE verbosity for resampling.

    Returns
    -------
    hypnogram : Hypnogram
        Stages, probabilities and confidence per epoch; ``hypnogram.to_annotations()`` gives
        ``mne.Annotations`` for ``raw.set_annotations``, ``hypnogram.save('night.tsv')`` writes a
        file.

    Examples
    --------
    >>> hypnogram = stage("model.sscsleep", raw, picks="EEG Fpz-Cz")  # doctest: +SKIP
    >>> raw.set_annotations(hypnogram.to_annotations())  # doctest: +SKIP
    """
    import mne

    from ._classifier import SSCSleepClassifier

    if isinstance(model, (str, Path)):
        model = SSCSleepClassifier.load(model)
    if not isinstance(raw, mne.io.BaseRaw):
        raise TypeError(
            f"stage() takes a continuous mne.io.Raw, got {type(raw).__name__}; for epochs use "
            "model.predict(epochs)."
        )
    ch_name = _pick_channel(raw, picks)
    if np.isclose(raw.info["sfreq"], model.sfreq):
        # Reads (or copies) only the staged channel: no copy of the whole recording.
        signal = raw.get_data(picks=[ch_name], verbose=verbose)[0]
    else:
        recording = raw.copy().pick([ch_name]).load_data(verbose=verbose)
        signal = recording.resample(model.sfreq, verbose=verbose).get_data()[0]
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
    flat = np.ptp(data, axis=-1)[:, 0] < FLAT_PTP_VOLTS
    if flat.any():
        warnings.warn(
            f"{flat.sum()} of {n_epochs} epochs are flat (e.g. electrode off); their stages are "
            "unreliable and marked in the hypnogram's 'flat' column.",
            RuntimeWarning,
            stacklevel=2,
        )
    if model.ch_name_ and ch_name != model.ch_name_:
        warnings.warn(
            f"The model was trained on channel {model.ch_name_!r} but is staging {ch_name!r}. "
            "Stages are only reliable for the same derivation.",
            RuntimeWarning,
            stacklevel=2,
        )
    proba = model._proba(data, on_flat="ignore")  # flat epochs are reported in `flat`
    index = proba.argmax(axis=1)
    label = model.classes_[index]
    return Hypnogram(
        onset=np.arange(n_epochs) * EPOCH_DURATION,
        stage=np.array(model.stages_)[index],
        label=label,
        proba=proba,
        classes=model.classes_,
        flat=flat,
        ch_name=ch_name,
        orig_time=raw.annotations.orig_time,
    )
