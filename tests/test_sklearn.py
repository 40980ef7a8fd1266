"""SSCSleepClassifier as a scikit-learn / skorch citizen."""

import pickle
import warnings

import joblib
import mne
import numpy as np
import pytest
import torch
from helpers import TINY
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback, Checkpoint

from mne_sscsleep import STAGES, SSCSleepClassifier
from mne_sscsleep.metrics import SCORERS, n1_f1_scorer

_NOT_EEG = (
    "feeds a few-feature toy array; the model needs 30-s EEG epochs (3000 samples at 100 Hz), "
    "so the check cannot reach what it tests"
)
_SKORCH = "skorch design shared by every NeuralNet: "
EXPECTED_FAILED_CHECKS = {
    "check_no_attributes_set_in_init": _SKORCH
    + "prefixed parameters, history_ and initialized_ are set in __init__",
    "check_set_params": _SKORCH + "get_params exposes its private _params_to_validate set",
    "check_estimators_nan_inf": "NaN/inf in fit are rejected with the epoch indices (see "
    "test_bad_input_names_the_problem_and_the_fix); the check's predict step needs a model "
    "fitted on its toy array",
    **{
        name: _NOT_EEG
        for name in (
            "check_fit_score_takes_y",
            "check_estimators_overwrite_params",
            "check_dont_overwrite_parameters",
            "check_estimators_fit_returns_self",
            "check_readonly_memmap_input",
            "check_n_features_in_after_fitting",
            "check_positive_only_tag_during_fit",
            "check_estimators_dtypes",
            "check_dtype_object",
            "check_pipeline_consistency",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_classifier_data_not_an_array",
            "check_classifiers_one_label",
            "check_classifiers_one_label_sample_weights",
            "check_classifiers_classes",
            "check_estimators_partial_fit_n_features",
            "check_classifiers_train",
            "check_supervised_y_2d",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_fit2d_1sample",
            "check_fit2d_1feature",
            "check_dict_unchanged",
            "check_fit_idempotent",
            "check_fit_check_is_fitted",
            "check_n_features_in",
            "check_fit2d_predict1d",
        )
    },
}


@parametrize_with_checks(
    [SSCSleepClassifier(**TINY)], expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)


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
    scores = cross_val_score(
        pipe, epochs.get_data(), y, groups=groups, cv=GroupKFold(3), scoring=n1_f1_scorer
    )
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    # mne.Epochs straight into cross_validate, split by subject, several scorers.
    results = cross_validate(
        SSCSleepClassifier(**TINY), epochs, y, groups=groups, cv=GroupKFold(3), scoring=SCORERS
    )
    assert results["test_macro_f1"].shape == (3,)
    assert np.all(results["test_macro_f1"] > 0.1)


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


def test_save_load_one_file(fitted, tmp_path):
    clf, data = fitted
    path = clf.save(tmp_path / "night.sscsleep")
    loaded = SSCSleepClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(data[:50]), clf.predict_proba(data[:50]))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.sfreq == 100.0 and loaded.ch_name_ is None and loaded.stages_ == clf.stages_
    assert loaded.get_params()["module__cnn_filters"] == 4
    assert len(loaded.history) == 2


def test_compiled_model_saves_plain_weights(fitted, tmp_path):
    # skorch's compile=True wraps module_ in torch.compile; files must not depend on it. The
    # "eager" backend exercises the wrapper without minutes of code generation.
    _, data = fitted
    y = np.resize(np.array(STAGES), len(data))
    clf = SSCSleepClassifier(**TINY, compile=True, compile__backend="eager").fit(data, y)
    assert hasattr(clf.module_, "_orig_mod")
    loaded = SSCSleepClassifier.load(clf.save(tmp_path / "compiled.sscsleep"))
    assert not hasattr(loaded.module_, "_orig_mod") or loaded.compile
    np.testing.assert_allclose(loaded.predict_proba(data[:20]), clf.predict_proba(data[:20]))


def test_load_refuses_incompatible_files(fitted, tmp_path):
    clf, _ = fitted
    with pytest.raises(FileNotFoundError, match="No model file"):
        SSCSleepClassifier.load(tmp_path / "missing.sscsleep")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ValueError, match="not an mne-sscsleep model file"):
        SSCSleepClassifier.load(tmp_path / "notes.txt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an mne-sscsleep model file"):
        SSCSleepClassifier.load(tmp_path / "other.pt")
    path = clf.save(tmp_path / "model.sscsleep")
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = 99
    payload["package_version"] = "9.0"
    torch.save(payload, tmp_path / "future.sscsleep")
    with pytest.raises(ValueError, match="mne-sscsleep 9.0 in model format 99.*Upgrade"):
        SSCSleepClassifier.load(tmp_path / "future.sscsleep")
    payload["format_version"], payload["package_version"] = 1, "0.1.0.dev0"
    torch.save(payload, tmp_path / "old.sscsleep")
    with pytest.raises(ValueError, match="model format 1, whose network layers differ.*Retrain"):
        SSCSleepClassifier.load(tmp_path / "old.sscsleep")


class _InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_interrupted_fit_leaves_a_usable_estimator(nights):
    _, y, _, data = nights
    clf = SSCSleepClassifier(
        **dict(TINY, max_epochs=5), callbacks=[("interrupt", _InterruptAt(2))]
    )
    clf.fit(data, y)
    assert len(clf.history) == 2
    proba = clf.predict_proba(data[:20])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_best_epoch_checkpoint_is_restorable(nights, tmp_path):
    _, y, _, data = nights
    checkpoint = Checkpoint(monitor="valid_macro_f1_best", dirname=str(tmp_path))
    clf = SSCSleepClassifier(**dict(TINY, max_epochs=3), callbacks=[("checkpoint", checkpoint)])
    clf.fit(data, y)
    best = int(np.argmax(clf.history[:, "valid_macro_f1"])) + 1
    assert clf.history[best - 1, "event_cp"] is True
    restored = SSCSleepClassifier(**TINY)
    restored.initialize()
    restored.load_params(checkpoint=checkpoint)
    restored.classes_user_, restored.stages_ = clf.classes_user_, clf.stages_
    restored.ch_name_ = clf.ch_name_
    assert set(restored.predict(data[:20])) <= set(STAGES)


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


def test_missing_stage_fewer_epochs_than_a_batch_and_channel_policy(small):
    epochs, y, data = small
    keep = np.flatnonzero(y != "R")
    with pytest.warns(RuntimeWarning, match="R are missing"):
        clf = SSCSleepClassifier(**TINY).fit(epochs[keep], y[keep])
    assert "R" not in clf.classes_
    # Fewer epochs than one batch of pairs still trains (without a validation split).
    few_index = np.concatenate([np.flatnonzero(y == stage)[:6] for stage in STAGES])
    few = SSCSleepClassifier(**dict(TINY, batch_size=64, train_split=None))
    few.fit(data[few_index], y[few_index])
    assert len(few_index) == 30 and len(few.predict(data[:5])) == 5
    # Another channel name than the one trained on: predictions come with a warning.
    renamed = epochs[:5].copy().rename_channels({"EEG Fpz-Cz": "EEG Pz-Oz"})
    with pytest.warns(RuntimeWarning, match="trained on channel 'EEG Fpz-Cz'.*'EEG Pz-Oz'"):
        clf.predict(renamed)
    with pytest.raises(NotFittedError):
        SSCSleepClassifier().predict_proba(data[:2])


def test_determinism_of_predictions_and_history(small):
    _, y, data = small

    def run(seed):
        clf = SSCSleepClassifier(**dict(TINY, max_epochs=2, random_state=seed)).fit(data, y)
        history = [
            {key: value for key, value in epoch.items() if key not in ("dur", "batches")}
            for epoch in clf.history
        ]
        return clf.predict_proba(data), history

    first, second, other = run(7), run(7), run(8)
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1] == second[1]
    assert not np.allclose(first[0], other[0])
