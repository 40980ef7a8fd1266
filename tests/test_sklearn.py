"""SSCSleepClassifier as a scikit-learn / skorch citizen."""

import pickle
import warnings

import joblib
import mne
import numpy as np
import pytest
from helpers import TINY
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_estimator

from mne_sscsleep import STAGES, SSCSleepClassifier
from mne_sscsleep.metrics import SCORERS, macro_f1_score, n1_f1_score, n1_f1_scorer


def test_check_estimator_passes_every_check_that_applies():
    """scikit-learn's own checks: those declared inapplicable in the tags fail (strictly), and
    every other one passes."""
    estimator = SSCSleepClassifier(**TINY)
    declared = get_tags(estimator).not_applicable_checks
    assert declared and all(isinstance(reason, str) and reason for reason in declared.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=declared, on_fail=None)
    outcome = {}
    for result in results:
        outcome.setdefault(result["check_name"], set()).add(result["status"])
    assert set(declared) <= set(outcome), "a declared check no longer exists"
    for name, statuses in outcome.items():
        if name in declared:
            assert statuses == {"xfail"}, f"{name} is declared inapplicable but {statuses}"
        elif name != "check_array_api_input":  # skipped without SCIPY_ARRAY_API
            assert statuses == {"passed"}, f"{name}: {statuses}"
    assert "check_set_params" in outcome and "check_get_params_invariance" in outcome


@pytest.fixture(scope="module")
def nights(sim_nights):
    """Three 3-h subjects as (epochs, y, groups), plus their data as arrays."""
    epochs, y, groups = sim_nights
    index = np.flatnonzero(groups < 3)
    return epochs[index], y[index], groups[index], epochs[index].get_data()


def test_clone_params_repr_and_tags():
    clf = SSCSleepClassifier(lr=0.01, criterion__gamma=1.0, module__embedding_dim=32)
    copy = clone(clf)
    assert copy is not clf
    assert copy.get_params()["criterion__gamma"] == 1.0
    assert copy.get_params()["module__embedding_dim"] == 32
    copy.set_params(
        lr=0.1,
        module__cnn_filters=8,
        criterion__alpha=0.2,
        iterator_train__n1_share=0.3,
        optimizer__weight_decay=0.1,
        callbacks__n1_adaptation__gain=1.5,
    )
    params = copy.get_params()
    assert params["lr"] == 0.1 and params["iterator_train__n1_share"] == 0.3
    assert params["criterion__alpha"] == 0.2 and params["optimizer__weight_decay"] == 0.1
    assert clf.get_params()["lr"] == 0.01  # the original is untouched
    assert "SSCSleepClassifier" in repr(clf)
    tags = clf.__sklearn_tags__()
    assert tags.estimator_type == "classifier" and tags.input_tags.three_d_array
    assert not tags.input_tags.allow_nan and not tags.target_tags.required


def _bandpass(info):
    return mne.decoding.FilterEstimator(info, l_freq=0.3, h_freq=35.0)


@pytest.mark.slow
def test_pipeline_and_group_cross_validation_on_epochs(nights):
    epochs, y, groups, _ = nights
    pipe = make_pipeline(_bandpass(epochs.info), SSCSleepClassifier(**TINY))
    data = epochs.get_data()
    scores = cross_val_score(pipe, data, y, groups=groups, cv=GroupKFold(3), scoring=n1_f1_scorer)
    # Each fold's score is the N1-F1 of that fold's model on its held-out subject.
    for fold, (train, test) in enumerate(GroupKFold(3).split(data, y, groups)):
        refit = clone(pipe).fit(data[train], y[train])
        assert scores[fold] == pytest.approx(n1_f1_score(y[test], refit.predict(data[test])))
    # mne.Epochs straight into cross_validate, split by subject, several scorers.
    results = cross_validate(
        SSCSleepClassifier(**TINY), epochs, y, groups=groups, cv=GroupKFold(3), scoring=SCORERS
    )
    assert set(results) >= {"test_macro_f1", "test_n1_f1", "test_accuracy"}
    train, test = next(GroupKFold(3).split(epochs, y, groups))
    refit = SSCSleepClassifier(**TINY).fit(epochs[train], y[train])
    assert results["test_macro_f1"][0] == pytest.approx(
        macro_f1_score(y[test], refit.predict(epochs[test]))
    )


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_with_the_n1_scorer(nights, n_jobs):
    _, y, groups, data = nights
    search = GridSearchCV(
        SSCSleepClassifier(**TINY),
        {"lr": [1e-3, 3e-3], "module__embedding_dim": [8], "criterion__gamma": [0.0, 2.0]},
        scoring=n1_f1_scorer,
        cv=GroupKFold(2),
        n_jobs=n_jobs,
        error_score="raise",
    )
    search.fit(data, y, groups=groups)
    assert len(search.cv_results_["params"]) == 4
    assert set(search.best_params_) == {"lr", "module__embedding_dim", "criterion__gamma"}
    assert set(search.predict(data[:10])) <= set(STAGES)


@pytest.fixture(scope="module")
def fitted(nights):
    _, y, _, data = nights
    return SSCSleepClassifier(**dict(TINY, max_epochs=2)).fit(data, y), data


def test_pickle_and_joblib_round_trips(fitted, tmp_path):
    clf, data = fitted
    expected = clf.predict_proba(data[:50])
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(data[:50]), expected)
    joblib.dump(clf, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(data[:50]), expected
    )


@pytest.mark.slow
def test_compiled_model_saves_plain_weights(fitted, tmp_path):
    # skorch's compile=True wraps module_ in torch.compile; files must not depend on it. The
    # "eager" backend exercises the wrapper without minutes of code generation.
    _, data = fitted
    y = np.resize(np.array(STAGES), len(data))
    clf = SSCSleepClassifier(**TINY, compile=True, compile__backend="eager").fit(data, y)
    assert hasattr(clf.module_, "_orig_mod")
    loaded = SSCSleepClassifier.load(clf.save(tmp_path / "compiled.sscsleep"))
    # compile is a runtime setting, not stored: the loaded network is a plain module.
    assert loaded.compile is False and not hasattr(loaded.module_, "_orig_mod")
    np.testing.assert_allclose(loaded.predict_proba(data[:20]), clf.predict_proba(data[:20]))


def _two_channels(epochs):
    other = epochs.copy().rename_channels({"EEG Fpz-Cz": "EEG Pz-Oz"})
    return epochs.copy().add_channels([other])


@pytest.fixture(scope="module")
def small(nights):
    epochs, y, _, data = nights
    return epochs[:400], y[:400], data[:400]


@pytest.mark.parametrize(
    "case, match",
    [
        ("multichannel", "2 channels.*picks='EEG Fpz-Cz'"),
        ("sfreq", "sampled at 200 Hz.*resample=True"),
        ("length", "1500 samples.*30-s epochs"),
        ("nan", "Epochs 7 contain NaN.*epochs.drop"),
        ("inf", "Epochs 7 contain NaN or infinite"),
        ("flat", "Epochs 7 are flat.*on_flat='ignore'"),
        ("unknown_labels", "not sleep stages: 'Sleep stage \\?'"),
        ("mixed_labels", "mixes label types"),
        ("one_class", "single stage"),
        ("empty", "0 sample\\(s\\)"),
        ("length_mismatch", "X has 400 epochs but y has 399 labels"),
        ("microvolts", "expects volts.*multiply it by 1e-6"),
        ("split", "stratified validation split.*train_split=None"),
    ],
)
def test_bad_input_names_the_problem_and_the_fix(small, case, match):
    epochs, y, data = small
    X, labels = data.copy(), y.copy()
    if case == "multichannel":
        X = _two_channels(epochs)
    elif case == "sfreq":
        X = mne.EpochsArray(np.repeat(data, 2, axis=-1), mne.create_info(1, 200.0, "eeg"))
    elif case == "length":
        X = data[..., :1500]
    elif case in ("nan", "inf", "flat"):
        X[7] = {"nan": np.nan, "inf": np.inf, "flat": 0.0}[case]
    elif case == "unknown_labels":
        labels = labels.astype(object)
        labels[3] = "Sleep stage ?"
    elif case == "mixed_labels":
        labels = labels.astype(object)
        labels[3] = 2
    elif case == "one_class":
        labels = np.full(len(labels), "N2")
    elif case == "empty":
        X, labels = data[:0], labels[:0]
    elif case == "length_mismatch":
        labels = labels[:-1]
    elif case == "microvolts":
        X = data * 1e6
    elif case == "split":
        labels = labels.copy()
        labels[labels == "N1"] = "N2"
        labels[0] = "N1"  # a single N1 epoch cannot be stratified
    with pytest.raises((ValueError, TypeError), match=match):
        SSCSleepClassifier(**TINY).fit(X, labels)
