"""Sleep-staging metrics and scikit-learn scorers.

Labels may be given in any form :func:`mne_sscsleep.stage_indices` accepts (``'N1'``,
``'Sleep stage 1'``, ``1``, ...); they are mapped to the canonical stages before scoring, so
``y_true`` and ``y_pred`` may even use different spellings.
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
    make_scorer,
    precision_recall_fscore_support,
)

from ._stages import N1, STAGES, stage_indices

_ALL = list(range(len(STAGES)))


def _indices(y_true, y_pred):
    y_true = stage_indices(y_true, name="y_true")
    y_pred = stage_indices(y_pred, name="y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}; pass one of each per "
            "epoch."
        )
    return y_true, y_pred


def macro_f1_score(y_true, y_pred):
    """Macro-averaged F1 over the stages present in ``y_true`` or ``y_pred``.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_epochs,)
        True and predicted stages.

    Returns
    -------
    score : float
        The score, in [0, 1].

    Examples
    --------
    >>> macro_f1_score(["W", "N1", "N2"], ["W", "N2", "N2"])
    0.5555555555555555
    """
    y_true, y_pred = _indices(y_true, y_pred)
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0.0))


def n1_f1_score(y_true, y_pred):
    """F1 score of stage N1, the stage automatic scorers miss most.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_epochs,)
        True and predicted stages.

    Returns
    -------
    score : float
        0.0 when N1 is neither present nor predicted.

    Examples
    --------
    >>> n1_f1_score(["W", "N1", "N1", "N2"], ["W", "N1", "W", "N2"])
    0.6666666666666666
    """
    y_true, y_pred = _indices(y_true, y_pred)
    return float(f1_score(y_true, y_pred, labels=[N1], average="macro", zero_division=0.0))


def stage_accuracy_score(y_true, y_pred):
    """Share of epochs given the right stage, whatever the label spelling.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_epochs,)
        True and predicted stages.

    Returns
    -------
    score : float
        Accuracy.

    Examples
    --------
    >>> stage_accuracy_score(["Sleep stage W", "REM"], ["W", "N2"])
    0.5
    """
    y_true, y_pred = _indices(y_true, y_pred)
    return float(accuracy_score(y_true, y_pred))


#: Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: macro-F1 over stages.
macro_f1_scorer = make_scorer(macro_f1_score)
#: Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: F1 of N1.
n1_f1_scorer = make_scorer(n1_f1_score)
#: Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: accuracy over stages.
accuracy_scorer = make_scorer(stage_accuracy_score)
#: Scorers by name, e.g. ``cross_validate(..., scoring=SCORERS)``. They compare stages, so
#: labels and predictions may use different spellings (the classifier's scoring callbacks
#: compare its stage indices with its predictions in the user's labels).
SCORERS = {"macro_f1": macro_f1_scorer, "n1_f1": n1_f1_scorer, "accuracy": accuracy_scorer}


@dataclass(frozen=True)
class SleepReport:
    """Agreement between two hypnograms, as reported in sleep-staging papers.

    Parameters
    ----------
    stages : tuple of str
        The stages, in canonical order (rows and columns of ``confusion``).
    precision, recall, f1 : ndarray, shape (5,)
        Per-stage scores (0 for a stage neither present nor predicted).
    support : ndarray of int, shape (5,)
        Number of true epochs of each stage.
    macro_f1 : float
        Mean F1 over the stages present in ``y_true`` or ``y_pred``.
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
    support: np.ndarray
    macro_f1: float
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
            "kappa": self.kappa,
            "n_epochs": int(self.support.sum()),
        }
        for name in ("precision", "recall", "f1"):
            for stage, value in zip(self.stages, getattr(self, name)):
                summary[f"{name}_{stage}"] = float(value)
        summary["confusion"] = self.confusion.tolist()
        return summary

    def __str__(self):
        lines = [f"{'stage':<6}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"]
        for row in zip(self.stages, self.precision, self.recall, self.f1, self.support):
            lines.append(f"{row[0]:<6}{row[1]:>10.3f}{row[2]:>8.3f}{row[3]:>7.3f}{row[4]:>9d}")
        lines.append(
            f"accuracy {self.accuracy:.3f}   macro-F1 {self.macro_f1:.3f}   "
            f"kappa {self.kappa:.3f}   N1-F1 {self.n1_f1:.3f}"
        )
        lines.append("confusion (rows true, columns predicted): " + " ".join(self.stages))
        width = max(len(str(int(self.confusion.max()))), 2)
        for stage, row in zip(self.stages, self.confusion):
            lines.append(f"{stage:<6}" + " ".join(f"{count:>{width}d}" for count in row))
        return "\n".join(lines)


def sleep_report(y_true, y_pred):
    """Per-stage precision, recall and F1, macro-F1, accuracy, kappa and confusion matrix.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_epochs,)
        True and predicted stages, in any form :func:`mne_sscsleep.stage_indices` accepts.

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
    y_true, y_pred = _indices(y_true, y_pred)
    if len(y_true) == 0:
        raise ValueError("Cannot report on zero epochs.")
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=_ALL, zero_division=0.0
    )
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # Undefined when both raters use one single stage; handled below.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        kappa = cohen_kappa_score(y_true, y_pred, labels=_ALL)
    return SleepReport(
        stages=STAGES,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support.astype(int),
        macro_f1=macro_f1_score(y_true, y_pred),
        accuracy=float(accuracy_score(y_true, y_pred)),
        kappa=float(np.nan_to_num(kappa, nan=1.0 if np.array_equal(y_true, y_pred) else 0.0)),
        confusion=confusion_matrix(y_true, y_pred, labels=_ALL),
    )
