import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import cohen_kappa_score, f1_score
from sklearn.model_selection import cross_val_score, cross_validate

from mne_sscsleep.metrics import (
    SCORERS,
    SLEEP_STATISTICS,
    compare_sleep_statistics,
    macro_f1_score,
    macro_gmean_score,
    n1_f1_score,
    n1_f1_scorer,
    sleep_report,
    sleep_statistics,
    stage_accuracy_score,
)

_CODES = {0: "W", 1: "N1", 2: "N2", 3: "N3", 4: "R"}


def test_report_matches_scikit_learn(rng):
    y_true = rng.integers(0, 5, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 5, 500))
    report = sleep_report(y_true, y_pred, stage_map=_CODES)
    np.testing.assert_allclose(report.f1, f1_score(y_true, y_pred, average=None))
    assert report.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert report.kappa == pytest.approx(cohen_kappa_score(y_true, y_pred))
    assert report.accuracy == pytest.approx(np.mean(y_true == y_pred))
    assert report.confusion.sum() == 500 and np.trace(report.confusion) == np.sum(y_true == y_pred)
    np.testing.assert_array_equal(report.support, np.bincount(y_true, minlength=5))
    assert report.n1_f1 == pytest.approx(f1_score(y_true == 1, y_pred == 1))


def test_mixed_spellings_are_the_same_stage():
    assert n1_f1_score(["Sleep stage 1", "N1", "W"], ["N1", "NREM 1", "Wake"]) == 1.0
    assert macro_f1_score(["REM", "Sleep stage 4"], ["R", "N3"]) == 1.0
    codes = {1: "W", 2: "N1", 3: "N2", 4: "N3", 5: "R"}
    assert n1_f1_score([2, 2, 1], [2, 2, 1], stage_map=codes) == 1.0


def test_integer_labels_are_never_guessed():
    # Not even all five of 0..4: LabelEncoder's N1..W would be read as W..R.
    with pytest.raises(ValueError, match="never guesses.*stage_map"):
        stage_accuracy_score([0, 1, 2, 3, 4], [0, 1, 2, 4, 4])
    with pytest.raises(ValueError, match="never guesses"):
        macro_f1_score([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    # With the meaning said, they score.
    assert stage_accuracy_score([0, 1, 2, 3], [0, 1, 2, 4], stage_map=_CODES) == 0.75
    encoder = {0: "N1", 1: "N2", 2: "N3", 3: "R", 4: "W"}
    assert n1_f1_score([0, 4, 4], [0, 4, 0], stage_map=encoder) == pytest.approx(2 / 3)


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


def test_gmean_is_the_root_of_specificity_times_recall(rng):
    y_true = rng.integers(0, 5, 400)
    y_pred = np.where(rng.random(400) < 0.6, y_true, rng.integers(0, 5, 400))
    report = sleep_report(y_true, y_pred, stage_map=_CODES)
    for stage in range(5):
        positive, predicted = y_true == stage, y_pred == stage
        recall = np.mean(predicted[positive])
        specificity = np.mean(~predicted[~positive])
        assert report.gmean[stage] == pytest.approx(np.sqrt(recall * specificity))
        assert report.specificity[stage] == pytest.approx(specificity)
    assert report.macro_gmean == pytest.approx(report.gmean.mean())
    assert macro_gmean_score(y_true, y_pred, stage_map=_CODES) == report.macro_gmean
    assert "G-mean" in str(report) and report.to_dict()["gmean_N1"] == report.gmean[1]
    # Only stages present in either scoring count (as for macro-F1).
    assert macro_gmean_score(["W", "N2"], ["W", "N2"]) == 1.0
    names = np.array(["W", "N1", "N2", "N3", "R"])[y_true]
    results = cross_validate(
        DummyClassifier(strategy="most_frequent"), y_true[:, None], names, cv=2, scoring=SCORERS
    )
    assert np.allclose(results["test_macro_gmean"], 0.0)  # one stage predicted: recall 0 else


def test_sleep_statistics_follow_the_aasm_definitions():
    # 10 min wake, N1, N2 (sleep onset at 10 min), 2 min wake, N3, R at 16 min, wake at the end.
    night = ["W"] * 20 + ["N1"] * 2 + ["N2"] * 4 + ["W"] * 4 + ["N3"] * 2 + ["R"] * 2 + ["W"] * 6
    stats = sleep_statistics(night)
    assert stats["TIB"] == 20.0 and stats["SOL"] == 10.0
    assert stats["SPT"] == 7.0  # from the first to the last sleep epoch (epochs 20-33)
    assert stats["TST"] == 5.0 and stats["WASO"] == 2.0 and stats["total wake"] == 15.0
    assert stats["SE (%)"] == 25.0
    assert stats["REM latency"] == 6.0  # from sleep onset (epoch 20) to the first R (epoch 32)
    assert (stats["N1"], stats["N2"], stats["N3"], stats["R"]) == (1.0, 2.0, 1.0, 1.0)
    assert stats["N2 (%)"] == pytest.approx(100 * 2 / 5)
    assert list(stats) == list(SLEEP_STATISTICS)
    unscored = sleep_statistics(["W", "?", "N2", "N2"])
    assert unscored["unscored"] == 0.5 and unscored["TIB"] == 2.0 and unscored["TST"] == 1.0
    no_sleep = sleep_statistics(["W"] * 4)
    assert no_sleep["TST"] == 0 and np.isnan(no_sleep["SOL"]) and np.isnan(no_sleep["REM latency"])
    with pytest.raises(ValueError, match="zero epochs"):
        sleep_statistics([])


def test_manual_versus_automatic_table():
    reference = [["W", "N2", "N2", "R"], ["W", "W", "N2", "N3"], ["N1", "N2", "N2", "N2"]]
    predicted = [["W", "N2", "N1", "R"], ["W", "N2", "N2", "N3"], ["N1", "N2", "N2", "N2"]]
    table = compare_sleep_statistics(reference, predicted)
    difference = np.array(
        [
            sleep_statistics(p)["TST"] - sleep_statistics(r)["TST"]
            for r, p in zip(reference, predicted)
        ]
    )
    assert table.loc["TST", "bias"] == pytest.approx(difference.mean())
    assert table.loc["TST", "loa_high"] == pytest.approx(
        difference.mean() + 1.96 * difference.std(ddof=1)
    )
    assert table.loc["TST", "reference_mean"] == pytest.approx(np.mean([1.5, 1.0, 2.0]))
    assert table.loc["REM latency", "n"] == 1  # defined only where both have R
    with pytest.raises(ValueError, match="one of each per recording"):
        compare_sleep_statistics(reference, predicted[:2])
