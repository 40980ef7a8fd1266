import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import cohen_kappa_score, f1_score
from sklearn.model_selection import cross_val_score, cross_validate

from mne_sscsleep.metrics import (
    SCORERS,
    macro_f1_score,
    n1_f1_score,
    n1_f1_scorer,
    sleep_report,
)


def test_report_matches_scikit_learn(rng):
    y_true = rng.integers(0, 5, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 5, 500))
    report = sleep_report(y_true, y_pred)
    np.testing.assert_allclose(report.f1, f1_score(y_true, y_pred, average=None))
    assert report.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert report.kappa == pytest.approx(cohen_kappa_score(y_true, y_pred))
    assert report.accuracy == pytest.approx(np.mean(y_true == y_pred))
    assert report.confusion.sum() == 500 and np.trace(report.confusion) == np.sum(y_true == y_pred)
    np.testing.assert_array_equal(report.support, np.bincount(y_true, minlength=5))
    assert report.n1_f1 == pytest.approx(f1_score(y_true == 1, y_pred == 1))


def test_mixed_spellings_are_the_same_stage():
    assert n1_f1_score(["Sleep stage 1", "N1", "W"], [1, 1, 0]) == 1.0
    assert macro_f1_score(["REM", "Sleep stage 4"], ["R", "N3"]) == 1.0


def test_report_text_and_dict():
    report = sleep_report(["W", "N1", "N2", "N3", "R", "N2"], ["W", "W", "N2", "N3", "R", "N2"])
    text = str(report)
    assert "macro-F1" in text and "N1-F1 0.000" in text and "confusion" in text
    summary = report.to_dict()
    assert summary["f1_N1"] == 0.0 and summary["f1_W"] == pytest.approx(2 / 3)
    assert summary["n_epochs"] == 6 and len(summary["confusion"]) == 5


def test_perfect_single_stage_kappa():
    assert sleep_report(["N2", "N2"], ["N2", "N2"]).kappa == 1.0


def test_metric_errors():
    with pytest.raises(ValueError, match="y_true has 2 labels but y_pred has 1"):
        macro_f1_score(["W", "N1"], ["W"])
    with pytest.raises(ValueError, match="y_pred has labels that are not sleep stages"):
        n1_f1_score(["W"], ["Z"])
    with pytest.raises(ValueError, match="zero epochs"):
        sleep_report([], [])


def test_scorers_in_cross_validation(rng):
    X = rng.standard_normal((100, 3))
    y = np.array(["W", "N1", "N2", "N3", "R"] * 20)
    scores = cross_val_score(
        DummyClassifier(strategy="constant", constant="N1"), X, y, cv=2, scoring=n1_f1_scorer
    )
    np.testing.assert_allclose(scores, 2 * 0.2 / 1.2)
    results = cross_validate(
        DummyClassifier(strategy="most_frequent"), X, y, cv=2, scoring=SCORERS
    )
    assert {"test_macro_f1", "test_n1_f1", "test_accuracy"} <= set(results)
