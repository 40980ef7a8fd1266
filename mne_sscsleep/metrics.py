"""Sleep-staging metrics and scikit-learn scorers.

Labels may be given in any form :func:`mne_sscsleep.stage_indices` accepts (``'N1'``,
``'Sleep stage 1'``, ``'NREM 1'``, or integer codes with ``stage_map=``); they are mapped to
the canonical stages before scoring, so ``y_true`` and ``y_pred`` may even use different
spellings. The scorers (:data:`SCORERS`) read labels through a fitted classifier's ``stage_map_``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from ._check import Options, Rule, check_params
from ._docs import fill_doc
from ._stages import EPOCH_DURATION, N1, STAGES, UNSCORED, stage_indices

__all__ = [
    "SCORERS",
    "SLEEP_STATISTICS",
    "SleepReport",
    "StageScorer",
    "accuracy_scorer",
    "compare_sleep_statistics",
    "macro_f1_score",
    "macro_f1_scorer",
    "macro_gmean_score",
    "macro_gmean_scorer",
    "n1_f1_score",
    "n1_f1_scorer",
    "sleep_report",
    "sleep_statistics",
    "stage_accuracy_score",
    "transitions_per_hour",
]

_ALL = list(range(len(STAGES)))
_NAMES = np.asarray(STAGES)
_SCORER_TARGETS = {"targets": Rule(Options("labels", "stages"), wanted="'labels' or 'stages'")}
# Stage indices read as themselves (validation scoring passes indices, not labels).
_INDEX_MAP = dict(enumerate(STAGES))


def _indices(y_true, y_pred, stage_map=None):
    y_true = stage_indices(y_true, name="y_true", stage_map=stage_map)
    y_pred = stage_indices(y_pred, name="y_pred", stage_map=stage_map)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}; pass one of each per "
            "epoch."
        )
    return y_true, y_pred


@fill_doc
def macro_f1_score(y_true, y_pred, *, stage_map=None):  # noqa: D417 (fill_doc)
    """Macro-averaged F1 over the stages present in ``y_true`` or ``y_pred``.

    %(score_params)s
        The score, in [0, 1].

    Examples
    --------
    >>> macro_f1_score(["W", "N1", "N2"], ["W", "N2", "N2"])
    0.5555555555555555
    """
    y_true, y_pred = _indices(y_true, y_pred, stage_map)
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0.0))


@fill_doc
def n1_f1_score(y_true, y_pred, *, stage_map=None):  # noqa: D417 (fill_doc)
    """F1 score of stage N1, the stage automatic scorers miss most.

    %(score_params)s
        0.0 when N1 is neither present nor predicted.

    Examples
    --------
    >>> n1_f1_score(["W", "N1", "N1", "N2"], ["W", "N1", "W", "N2"])
    0.6666666666666666
    """
    y_true, y_pred = _indices(y_true, y_pred, stage_map)
    return float(f1_score(y_true, y_pred, labels=[N1], average="macro", zero_division=0.0))


@fill_doc
def stage_accuracy_score(y_true, y_pred, *, stage_map=None):  # noqa: D417 (fill_doc)
    """Share of epochs given the right stage, whatever the label spelling.

    %(score_params)s
        Accuracy.

    Examples
    --------
    >>> stage_accuracy_score(["Sleep stage W", "REM"], ["W", "N2"])
    0.5
    """
    y_true, y_pred = _indices(y_true, y_pred, stage_map)
    return float(accuracy_score(y_true, y_pred))


def _gmeans(confusion):
    """Per-stage G-mean sqrt(specificity x recall) and specificity of a confusion matrix."""
    confusion = np.asarray(confusion, dtype=float)
    total = confusion.sum()
    true_positive = np.diag(confusion)
    actual, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(actual > 0, true_positive / actual, 0.0)
        negatives = total - actual
        true_negative = total - actual - predicted + true_positive
        specificity = np.where(negatives > 0, true_negative / negatives, 0.0)
    return np.sqrt(specificity * recall), specificity


@fill_doc
def macro_gmean_score(y_true, y_pred, *, stage_map=None):  # noqa: D417 (fill_doc)
    """Macro G-mean: the mean over stages of sqrt(specificity x recall).

    The paper's headline figure (its abstract calls the macro G-means 89.6, 89.5 and 85.4
    "macro-F1"). Averaged over the stages present in ``y_true`` or ``y_pred``.

    %(score_params)s
        Macro G-mean, in [0, 1].

    Examples
    --------
    >>> round(macro_gmean_score(["W", "W", "N2", "N2"], ["W", "N2", "N2", "N2"]), 3)
    0.707
    """
    y_true, y_pred = _indices(y_true, y_pred, stage_map)
    gmeans, _ = _gmeans(confusion_matrix(y_true, y_pred, labels=_ALL))
    present = np.union1d(y_true, y_pred)
    return float(gmeans[present].mean())


class StageScorer:
    """A scikit-learn scorer that compares stages, reading labels as the estimator does.

    ``scorer(estimator, X, y_true)`` predicts ``X`` and scores the prediction with ``metric``.
    When the estimator (or a ``Pipeline``'s last step) is a fitted
    :class:`~mne_sscsleep.SSCSleepClassifier`, both ``y_true`` and the prediction are read
    through its ``stage_map_``, so the integer event codes it was trained on (e.g. MNE's 1..5)
    score correctly; otherwise labels must be stage names.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_pred)`` on canonical stage names, e.g. :func:`macro_f1_score`.
    targets : ``'labels'`` | ``'stages'``
        ``'labels'``: ``y_true`` in the user's labels, compared with ``predict``.
        ``'stages'``: ``y_true`` are stage indices into :data:`~mne_sscsleep.STAGES` (what
        skorch's scoring callbacks pass), compared with the most probable stage of
        ``predict_proba`` (the classifier's validation columns).

    Examples
    --------
    >>> scorer = StageScorer(macro_f1_score)
    >>> scorer  # doctest: +ELLIPSIS
    StageScorer(macro_f1_score)
    """

    def __init__(self, metric, *, targets="labels"):
        check_params({"targets": targets}, _SCORER_TARGETS)
        self.metric = metric
        self.targets = targets

    def __repr__(self):
        targets = "" if self.targets == "labels" else f", targets={self.targets!r}"
        return f"StageScorer({self.metric.__name__}{targets})"

    def __call__(self, estimator, X, y_true):
        if self.targets == "stages":
            return self._score_stages(estimator, X, y_true)
        y_pred = estimator.predict(X)
        final = getattr(estimator, "_final_estimator", estimator)
        label_stages = getattr(final, "label_stages", None)
        if label_stages is None:
            return self.metric(y_true, y_pred)
        return self.metric(_NAMES[label_stages(y_true)], _NAMES[label_stages(y_pred)])

    def _score_stages(self, estimator, X, y_true):
        """Stage indices against the classifier's most probable stage: no label round trip."""
        proba = estimator.predict_proba(X)
        unknown = np.isnan(proba).any(axis=1)
        if unknown.any():
            raise ValueError(
                f"Cannot score {np.count_nonzero(unknown)} of {len(proba)} epochs: the "
                "network's output is not a number (training diverged, or the model is damaged)."
            )
        y_pred = estimator.label_encoder_.present_[proba.argmax(axis=1)]
        return self.metric(np.asarray(y_true, dtype=np.int64), y_pred, stage_map=_INDEX_MAP)


#: Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: macro-F1 over stages.
macro_f1_scorer = StageScorer(macro_f1_score)
#: Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: F1 of N1.
n1_f1_scorer = StageScorer(n1_f1_score)
#: Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: accuracy over stages.
accuracy_scorer = StageScorer(stage_accuracy_score)
#: Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: macro G-mean.
macro_gmean_scorer = StageScorer(macro_gmean_score)
#: Scorers by name, e.g. ``cross_validate(..., scoring=SCORERS)``. They compare stages, so
#: labels and predictions may use different spellings (the classifier's scoring callbacks
#: compare its stage indices with its predictions in the user's labels).
SCORERS = {
    "macro_f1": macro_f1_scorer,
    "n1_f1": n1_f1_scorer,
    "accuracy": accuracy_scorer,
    "macro_gmean": macro_gmean_scorer,
}


@dataclass(frozen=True)
class SleepReport:
    """Agreement between two hypnograms, as reported in sleep-staging papers.

    Parameters
    ----------
    stages : tuple of str
        The stages, in canonical order (rows and columns of ``confusion``).
    precision, recall, f1 : ndarray, shape (5,)
        Per-stage scores (0 for a stage neither present nor predicted).
    specificity, gmean : ndarray, shape (5,)
        Per-stage specificity and G-mean ``sqrt(specificity * recall)``.
    support : ndarray of int, shape (5,)
        Number of true epochs of each stage.
    macro_f1 : float
        Mean F1 over the stages present in ``y_true`` or ``y_pred``.
    macro_gmean : float
        Mean G-mean over the same stages (the paper's headline figure).
    accuracy : float
        Share of epochs whose stage agrees.
    kappa : float
        Cohen's kappa.
    confusion : ndarray of int, shape (5, 5)
        Rows: true stage; columns: predicted stage.

    Examples
    --------
    >>> report = sleep_report(["W", "N1", "N2", "N2", "R"], ["W", "W", "N2", "N2", "R"])
    >>> round(report.macro_f1, 3), report.n1_f1
    (0.667, 0.0)
    """

    stages: tuple
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    specificity: np.ndarray
    gmean: np.ndarray
    support: np.ndarray
    macro_f1: float
    macro_gmean: float
    accuracy: float
    kappa: float
    confusion: np.ndarray

    @property
    def n1_f1(self):
        """F1 of stage N1."""
        return float(self.f1[N1])

    def to_dict(self):
        """Plain-Python summary (for JSON): overall scores and per-stage F1.

        Returns
        -------
        summary : dict
            Overall scores and per-stage F1 as plain numbers.
        """
        summary = {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "macro_gmean": self.macro_gmean,
            "kappa": self.kappa,
            "n_epochs": int(self.support.sum()),
        }
        for name in ("precision", "recall", "f1", "gmean"):
            for stage, value in zip(self.stages, getattr(self, name)):
                summary[f"{name}_{stage}"] = float(value)
        summary["confusion"] = self.confusion.tolist()
        return summary

    def __str__(self):
        lines = [f"{'stage':<6}{'precision':>10}{'recall':>8}{'F1':>7}{'G-mean':>8}{'support':>9}"]
        rows = zip(self.stages, self.precision, self.recall, self.f1, self.gmean, self.support)
        for row in rows:
            lines.append(
                f"{row[0]:<6}{row[1]:>10.3f}{row[2]:>8.3f}{row[3]:>7.3f}{row[4]:>8.3f}{row[5]:>9d}"
            )
        lines.append(
            f"accuracy {self.accuracy:.3f}   macro-F1 {self.macro_f1:.3f}   "
            f"macro G-mean {self.macro_gmean:.3f}   kappa {self.kappa:.3f}   "
            f"N1-F1 {self.n1_f1:.3f}"
        )
        lines.append("confusion (rows true, columns predicted): " + " ".join(self.stages))
        width = max(len(str(int(self.confusion.max()))), 2)
        for stage, row in zip(self.stages, self.confusion):
            lines.append(f"{stage:<6}" + " ".join(f"{count:>{width}d}" for count in row))
        return "\n".join(lines)


def sleep_report(y_true, y_pred, *, stage_map=None):
    """Per-stage precision, recall, F1 and G-mean, macro scores, kappa and confusion matrix.

    For the paper's protocol (predictions of all test folds pooled, metrics computed once),
    concatenate the folds' labels and predictions and call this once.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_epochs,)
        True and predicted stages, in any form :func:`mne_sscsleep.stage_indices` accepts.
    stage_map : dict | None
        ``{label: stage}`` for labels that are not stage names, e.g. MNE's event codes
        ``{1: 'W', 2: 'N1', 3: 'N2', 4: 'N3', 5: 'R'}``.

    Returns
    -------
    report : SleepReport
        ``print(report)`` shows a table; ``report.to_dict()`` gives plain numbers.

    Examples
    --------
    >>> report = sleep_report(["W", "N1", "N2", "N2", "R"], ["W", "W", "N2", "N2", "R"])
    >>> round(report.macro_f1, 3), report.n1_f1
    (0.667, 0.0)
    """
    y_true, y_pred = _indices(y_true, y_pred, stage_map)
    if len(y_true) == 0:
        raise ValueError("Cannot report on zero epochs.")
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=_ALL, zero_division=0.0
    )
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # Undefined when both raters use one single stage; handled below.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        kappa = cohen_kappa_score(y_true, y_pred, labels=_ALL)
    confusion = confusion_matrix(y_true, y_pred, labels=_ALL)
    gmean, specificity = _gmeans(confusion)
    return SleepReport(
        stages=STAGES,
        precision=precision,
        recall=recall,
        f1=f1,
        specificity=specificity,
        gmean=gmean,
        support=support.astype(int),
        macro_f1=macro_f1_score(_NAMES[y_true], _NAMES[y_pred]),
        macro_gmean=macro_gmean_score(_NAMES[y_true], _NAMES[y_pred]),
        accuracy=float(accuracy_score(y_true, y_pred)),
        kappa=float(np.nan_to_num(kappa, nan=1.0 if np.array_equal(y_true, y_pred) else 0.0)),
        confusion=confusion,
    )


#: Sleep statistics of :func:`sleep_statistics`, in minutes unless the name says "%".
SLEEP_STATISTICS = (
    "TIB",
    "SPT",
    "TST",
    "SE (%)",
    "SOL",
    "REM latency",
    "WASO",
    "total wake",
    "N1",
    "N2",
    "N3",
    "R",
    "N1 (%)",
    "N2 (%)",
    "N3 (%)",
    "R (%)",
    "unscored",
)


def _hypnogram_stages(hypnogram):
    """Canonical stage names of a Hypnogram or labels ('?' kept for unscored epochs)."""
    stages = getattr(hypnogram, "stage", hypnogram)
    stages = np.asarray(stages, dtype=object)
    unscored = np.array([str(stage) == UNSCORED for stage in stages], dtype=bool)
    names = np.full(len(stages), UNSCORED, dtype=object)
    if (~unscored).any():
        names[~unscored] = np.asarray(STAGES, dtype=object)[
            stage_indices(stages[~unscored].tolist(), name="the hypnogram")
        ]
    return names


def transitions_per_hour(stages, recording=None, *, epoch_duration=EPOCH_DURATION):
    """Stage changes per hour: how much a hypnogram flickers.

    A scored hypnogram of a healthy night changes stage a few times an hour; a stager that
    classifies each epoch alone often changes far more (N2/N3/N2 from one epoch to the next).
    Compare the predicted rate with the reference's.

    Parameters
    ----------
    stages : array-like, shape (n_epochs,)
        Stages (any spelling) or a :class:`~mne_sscsleep.Hypnogram`, consecutive epochs in time
        order.
    recording : array-like, shape (n_epochs,) | None
        Recording of each epoch: changes between two recordings are not transitions.
    epoch_duration : float
        Seconds per epoch.

    Returns
    -------
    rate : float
        Transitions between consecutive epochs of a recording, per hour of recording.

    Examples
    --------
    >>> transitions_per_hour(["W"] * 60 + ["N1", "N2"] + ["N2"] * 58)
    2.0
    """
    names = _hypnogram_stages(stages)
    recording = np.zeros(len(names)) if recording is None else np.asarray(recording)
    if len(recording) != len(names):
        raise ValueError(
            f"recording has {len(recording)} values for {len(names)} epochs; give one per epoch."
        )
    if len(names) == 0:
        raise ValueError("Got no epochs; pass a hypnogram with at least one epoch.")
    same_recording = recording[1:] == recording[:-1]
    changes = np.sum((names[1:] != names[:-1]) & same_recording)
    return float(changes / (len(names) * epoch_duration / 3600))


def sleep_statistics(hypnogram, *, epoch_duration=EPOCH_DURATION):
    """Per-recording sleep statistics with the AASM definitions.

    The recording is taken to start at lights off and end at lights on (time in bed). Unscored
    epochs (``'?'``, e.g. from :func:`mne_sscsleep.stage`) count in the time in bed and nowhere
    else.

    - **TIB**: time in bed; **SPT**: sleep period time, from the first to the last epoch of
      sleep; **TST**: total sleep time (N1 + N2 + N3 + R); **SE (%)**: sleep efficiency,
      TST / TIB;
    - **SOL**: sleep onset latency, from the start to the first epoch of any sleep stage;
      **REM latency**: from sleep onset to the first R epoch;
    - **WASO**: wake after sleep onset, within the SPT; **total wake**: all wake in bed;
    - minutes of **N1**, **N2**, **N3**, **R**, and each as a percentage of TST;
    - **unscored**: minutes staged ``'?'``.

    Parameters
    ----------
    hypnogram : Hypnogram | array-like of str or int, shape (n_epochs,)
        One stage per epoch, in time order.
    epoch_duration : float
        Seconds per epoch.

    Returns
    -------
    statistics : dict
        :data:`SLEEP_STATISTICS` as keys; minutes unless the name says "%"; latencies are NaN
        when the stage never occurs.

    Examples
    --------
    >>> stats = sleep_statistics(["W", "W", "N1", "N2", "W", "N2", "R", "W"])
    >>> stats["TIB"], stats["TST"], stats["SOL"], stats["WASO"], stats["REM latency"]
    (4.0, 2.0, 1.0, 0.5, 2.0)
    """
    stages = _hypnogram_stages(hypnogram)
    if len(stages) == 0:
        raise ValueError("A hypnogram of zero epochs has no sleep statistics.")
    minute = epoch_duration / 60.0
    asleep = np.isin(stages, ("N1", "N2", "N3", "R"))
    wake = stages == "W"
    stats = dict.fromkeys(SLEEP_STATISTICS, np.nan)
    stats["TIB"] = len(stages) * minute
    stats["TST"] = asleep.sum() * minute
    stats["SE (%)"] = 100.0 * stats["TST"] / stats["TIB"]
    stats["total wake"] = wake.sum() * minute
    stats["unscored"] = (stages == UNSCORED).sum() * minute
    for stage in ("N1", "N2", "N3", "R"):
        stats[stage] = (stages == stage).sum() * minute
        stats[f"{stage} (%)"] = 100.0 * stats[stage] / stats["TST"] if stats["TST"] else np.nan
    if asleep.any():
        onset, last = np.flatnonzero(asleep)[[0, -1]]
        stats["SOL"] = onset * minute
        stats["SPT"] = (last - onset + 1) * minute
        stats["WASO"] = wake[onset : last + 1].sum() * minute
        rem = np.flatnonzero(stages[onset:] == "R")
        stats["REM latency"] = rem[0] * minute if rem.size else np.nan
    else:
        stats["SPT"] = stats["WASO"] = 0.0
    return {key: float(value) for key, value in stats.items()}


def compare_sleep_statistics(reference, predicted, *, epoch_duration=EPOCH_DURATION):
    """Manual vs automatic sleep statistics over recordings (the paper's Table VIII).

    Parameters
    ----------
    reference, predicted : list of Hypnogram or array-like
        One hypnogram per recording, in the same order (e.g. the expert's and the model's).
    epoch_duration : float
        Seconds per epoch.

    Returns
    -------
    table : pandas.DataFrame
        One row per statistic of :data:`SLEEP_STATISTICS`; columns ``reference_mean``,
        ``reference_sd``, ``predicted_mean``, ``predicted_sd``, ``bias`` (mean of predicted -
        reference), ``loa_low`` and ``loa_high`` (Bland-Altman 95 % limits of agreement,
        ``bias -+ 1.96 sd`` of the differences) and ``n`` (recordings where both are defined).

    Examples
    --------
    >>> table = compare_sleep_statistics([["W", "N2", "N2"]] * 2, [["W", "N1", "N2"]] * 2)
    >>> float(table.loc["N2", "bias"])
    -0.5
    """
    import pandas as pd

    if len(reference) != len(predicted) or not len(reference):
        raise ValueError(
            f"Got {len(reference)} reference and {len(predicted)} predicted hypnograms; pass "
            "one of each per recording (at least one)."
        )
    rows = []
    for true, pred in zip(reference, predicted):
        if len(_hypnogram_stages(true)) != len(_hypnogram_stages(pred)):
            raise ValueError("A reference and a predicted hypnogram differ in length.")
        rows.append(
            (
                sleep_statistics(true, epoch_duration=epoch_duration),
                sleep_statistics(pred, epoch_duration=epoch_duration),
            )
        )
    table = {}
    for key in SLEEP_STATISTICS:
        ref = np.array([r[key] for r, _ in rows])
        auto = np.array([p[key] for _, p in rows])
        both = np.isfinite(ref) & np.isfinite(auto)
        difference = auto[both] - ref[both]
        bias = difference.mean() if both.any() else np.nan
        spread = difference.std(ddof=1) if both.sum() > 1 else np.nan
        table[key] = {
            "reference_mean": np.nanmean(ref) if np.isfinite(ref).any() else np.nan,
            "reference_sd": np.nanstd(ref, ddof=1) if np.isfinite(ref).sum() > 1 else np.nan,
            "predicted_mean": np.nanmean(auto) if np.isfinite(auto).any() else np.nan,
            "predicted_sd": np.nanstd(auto, ddof=1) if np.isfinite(auto).sum() > 1 else np.nan,
            "bias": bias,
            "loa_low": bias - 1.96 * spread,
            "loa_high": bias + 1.96 * spread,
            "n": int(both.sum()),
        }
    return pd.DataFrame.from_dict(table, orient="index")
