"""Neighbouring epochs as context: recording order, windows, context network, classifier."""

import warnings

import mne
import numpy as np
import pytest
import torch
from helpers import TINY, benchmark_module
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

from mne_sscsleep import SSCSleepClassifier, stage
from mne_sscsleep._epochs import (
    EpochsDataset,
    check_epochs,
    check_epochs_labels,
    epochs_order,
)
from mne_sscsleep._protocols import WindowRequest
from mne_sscsleep.datasets import simulate_sleep_epochs, simulate_sleep_raw
from mne_sscsleep.metrics import transitions_per_hour
from mne_sscsleep.nn import ContextNet, SSCSleepNet, SSCSleepNetLite
from mne_sscsleep.training import EpochLoader, PairLoader

CONTEXT = dict(TINY, context=2)


@pytest.fixture(scope="module")
def nights():
    """Three 1-hour simulated nights: (epochs, y, groups)."""
    return simulate_sleep_epochs(3, hours=1.0, random_state=3, verbose="error")


@pytest.fixture(scope="module")
def fitted(nights):
    epochs, y, _ = nights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return SSCSleepClassifier(**CONTEXT).fit(epochs, y)


# ---- recording order ---------------------------------------------------------------------------
def test_neighbors_stay_in_their_recording_and_stop_at_gaps():
    X = np.zeros((7, 1, 3000), np.float32)
    # Rows out of time order, two recordings, and a gap (time 3 missing) in recording 'b'.
    dataset = EpochsDataset(X, recording=[1, 0, 1, 0, 1, 0, 1], time_index=[2, 1, 0, 0, 1, 2, 4])
    neighbors = dataset.neighbors([2, 0, 6, 3], [-1, 0, 1, 2])
    assert neighbors.tolist() == [
        [-1, 2, 4, 0],  # recording 1, time 0: times 1 and 2 follow
        [4, 0, -1, -1],  # time 2: time 3 is missing
        [-1, 6, -1, -1],  # time 4, after the gap
        [-1, 3, 1, 5],  # recording 0, time 0
    ]


def test_order_comes_from_events_and_metadata_even_resampled(nights):
    epochs, _, groups = nights
    recording, time_index = epochs_order(epochs)
    assert np.array_equal(recording, groups)
    assert time_index[:3].tolist() == [0, 1, 2]
    # Dropped epochs leave a gap; resampling keeps the order (events count original samples).
    subset = epochs[[0, 1, 2, 5, 6]].copy().resample(50.0, verbose="error")
    assert epochs_order(subset)[1].tolist() == [0, 1, 2, 5, 6]
    dataset = check_epochs(epochs[[0, 1, 2, 5, 6]])
    assert dataset.neighbors([2, 3], [-1, 0, 1]).tolist() == [[1, 2, -1], [-1, 3, 4]]


def test_events_closer_than_an_epoch_mean_row_order(nights):
    epochs, _, _ = nights
    night = epochs[:10].copy()
    night.metadata = None
    # EpochsArray's default events (0, 1, 2, ...) and two nights that both start at sample 0.
    plain = mne.EpochsArray(night.get_data(), night.info, verbose="error")
    assert epochs_order(plain)[1].tolist() == list(range(10))
    twice = mne.concatenate_epochs([night, night], verbose="error")
    twice.events[:, 0] = np.tile(night.events[:, 0], 2)
    assert epochs_order(twice)[1].tolist() == list(range(20))
    recording, time_index = epochs_order(twice, recording=[0] * 10 + [1] * 10)
    assert time_index.tolist() == list(range(10)) * 2


def test_list_of_nights_and_scikit_learn_singles(nights):
    epochs, _, _ = nights
    first, second = epochs[:120].copy(), epochs[120:240].copy()
    for night in (first, second):
        night.metadata = None
    # A list of nights: each item its own recording, even with the same event samples.
    second.events[:, 0] = first.events[:, 0]
    dataset = check_epochs([first, second])
    assert dataset.neighbors([119, 120], [-1, 0, 1]).tolist() == [[118, 119, -1], [-1, 120, 121]]
    # scikit-learn indexes Epochs into one-epoch items: their events keep the order.
    singles = [epochs[i] for i in (0, 1, 2, 130, 131)]
    dataset = check_epochs(singles)
    assert dataset.neighbors([2, 3], [-1, 0, 1]).tolist() == [[1, 2, -1], [-1, 3, 4]]


def test_array_recordings_are_checked():
    X = 20e-6 * np.random.default_rng(0).standard_normal((4, 3000))
    assert check_epochs(X, recording=["a", "a", "b", "b"]).recording.tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="one recording id per epoch"):
        check_epochs(X, recording=[0, 1])


# ---- samplers ----------------------------------------------------------------------------------
def test_training_runs_are_consecutive_candidates_paired_slot_by_slot():
    n = 200
    dataset = EpochsDataset(
        np.zeros((n, 1, 3000), np.float32),
        np.repeat(np.arange(5), 40),
        recording=np.repeat([0, 1], 100),
    )
    candidates = np.setdiff1d(np.arange(n), np.arange(0, n, 10))  # a validation split's holes
    loader = PairLoader(
        torch.utils.data.Subset(dataset, candidates),
        batch_size=16,
        context=3,
        run_length=4,
        random_state=0,
    )
    for batch, _ in loader:
        windows = batch["windows"].numpy()
        centres = windows[:, 3] >= 0
        assert centres.sum() % 2 == 0  # pairs in rows 2k, 2k + 1
        # Every centre is a training candidate; its window never leaves its recording.
        assert len(batch["x"]) >= centres.sum()
    sampler = loader.sampler
    first = next(iter(sampler)).centres
    assert np.isin(first, candidates).all()
    assert len(sampler) == -(-sampler.n_pairs // sampler.pairs_per_batch)


def test_prediction_batches_read_each_epoch_once():
    dataset = EpochsDataset(np.zeros((70, 1, 3000), np.float32), recording=[0] * 35 + [1] * 35)
    loader = EpochLoader(dataset, batch_size=32, context=2)
    batches = list(loader)
    outputs = [int((batch["windows"][:, 2] >= 0).sum()) for batch, _ in batches]
    assert outputs == [32, 32, 6]
    # A batch reads its centres plus at most 2 neighbours on each side.
    assert all(len(batch["x"]) <= n + 4 for (batch, _), n in zip(batches, outputs))


# ---- the network -------------------------------------------------------------------------------
def _windows(n, k, recording):
    dataset = EpochsDataset(np.zeros((n, 1, 3000), np.float32), recording=recording)
    return torch.from_numpy(dataset.neighbors(np.arange(n), np.arange(-k, k + 1)))


@pytest.mark.parametrize("model", ["gru", "transformer"])
def test_context_net_reads_its_window_and_nothing_else(model):
    torch.manual_seed(0)
    net = ContextNet(SSCSleepNetLite(), context=2, model=model).eval()
    x = 20e-6 * torch.randn(12, 1, 3000)
    windows = _windows(12, 2, [0] * 6 + [1] * 6)
    # Untrained, its last layer is zero: it predicts what its per-epoch network predicts.
    with torch.no_grad():
        assert torch.allclose(net(x, windows)[0], net.epoch_network(x)[0], atol=1e-5)
        torch.nn.init.normal_(net.context_head[-1].weight)
        reference = net(x, windows)[0]
        changed = x.clone()
        changed[3] = 20e-6 * torch.randn(1, 3000)  # epoch 3 of recording 0
        difference = (net(changed, windows)[0] - reference).abs().sum(dim=1)
    assert (difference[[1, 2, 3, 4, 5]] > 0).all()  # within 2 epochs of epoch 3
    assert (difference[[0]] == 0).all()  # 3 epochs away
    assert (difference[6:] == 0).all()  # the other recording


def test_context_net_outputs_only_centres_and_wraps_the_paper_network():
    net = ContextNet(
        SSCSleepNet(se_widths=(4, 4, 8, 8), cnn_filters=(4, 4, 4, 4), lstm_units=4),
        context=1,
    )
    windows = torch.tensor([[-1, 0, 1], [0, 1, 2], [-1, -1, -1]])
    logits, u, v = net(20e-6 * torch.randn(3, 1, 3000), windows)
    assert logits.shape == (2, 5) and u.shape[0] == v.shape[0] == 2
    with pytest.raises(ValueError, match="windows must have shape"):
        net(torch.zeros(3, 1, 3000), windows[:, :2])


# ---- the classifier ----------------------------------------------------------------------------
def test_context_classifier_fits_epochs_and_predicts_in_input_order(fitted, nights):
    epochs, y, _ = nights
    assert isinstance(fitted.module_, ContextNet)
    proba = fitted.predict_proba(epochs)
    assert proba.shape == (len(y), len(fitted.classes_))
    # Shuffled input: the same window for each epoch, so the same probabilities.
    order = np.random.default_rng(0).permutation(len(y))
    np.testing.assert_allclose(fitted.predict_proba(epochs[order]), proba[order], atol=1e-5)
    # Subsampled input: neighbours that are not given are masked, not taken from other rows.
    every_other = fitted.predict_proba(epochs[::2])
    assert every_other.shape == (len(y[::2]), proba.shape[1])
    assert not np.allclose(every_other, proba[::2], atol=1e-4)


@pytest.mark.slow
def test_a_seeded_context_fit_is_the_same_every_run(nights):
    """With torch's default threads (2 here): the window gather's backward is deterministic
    (an indexed gather's backward added into repeated rows in a varying order)."""
    epochs, y, _ = nights
    if torch.get_num_threads() < 2:
        pytest.skip("one thread: deterministic anyway")
    params = dict(preset="lite", context=2, max_epochs=1, random_state=0, verbose=0)
    params["iterator_train__min_batches"] = 15
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first, second = (SSCSleepClassifier(**params).fit(epochs, y) for _ in range(2))
    for (name, one), other in zip(
        first.module_.state_dict().items(), second.module_.state_dict().values()
    ):
        assert torch.equal(one, other), name


def test_arrays_with_recording_ids_equal_each_night_alone(fitted, nights):
    epochs, _, groups = nights
    data = epochs.get_data().astype(np.float32)
    together = fitted.predict_proba(data, recording=groups)
    alone = np.concatenate([fitted.predict_proba(data[groups == g]) for g in np.unique(groups)])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    # Without ids the nights are one sequence: the junctions differ.
    assert not np.allclose(fitted.predict_proba(data), alone, atol=1e-4)


def test_long_arrays_without_recording_ids_warn():
    clf = SSCSleepClassifier(**CONTEXT)
    X = np.tile(20e-6 * np.random.default_rng(0).standard_normal((1, 3000)), (2881, 1))
    X = X.astype(np.float32) * np.linspace(1, 2, 2881, dtype=np.float32)[:, None]
    with pytest.warns(RuntimeWarning, match="no recording ids"):
        clf.get_dataset(X)


@pytest.mark.slow
def test_grid_search_over_context_with_group_kfold(nights):
    epochs, y, groups = nights
    search = GridSearchCV(
        SSCSleepClassifier(**TINY, train_split=None),
        param_grid={"context": [0, 5]},
        cv=GroupKFold(3),
        scoring="accuracy",
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        search.fit(epochs, y, groups=groups)
    assert search.best_params_["context"] in (0, 5)
    assert isinstance(search.best_estimator_.module_, ContextNet) == (
        search.best_params_["context"] == 5
    )
    assert len(search.cv_results_["mean_test_score"]) == 2


def test_cross_validate_passes_recordings_of_arrays(nights):
    epochs, y, groups = nights
    data = epochs.get_data().astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = cross_validate(
            SSCSleepClassifier(**CONTEXT, train_split=None),
            data,
            y,
            groups=groups,
            cv=GroupKFold(3),
            params={"recording": groups},
            error_score="raise",
        )
    assert len(scores["test_score"]) == 3


def test_save_load_and_stage_a_context_model(fitted, tmp_path):
    path = fitted.save(tmp_path / "context.sscsleep")
    loaded = SSCSleepClassifier.load(path)
    assert loaded.context == 2 and isinstance(loaded.module_, ContextNet)
    raw = simulate_sleep_raw(hours=0.5, random_state=5, verbose="error")
    hypnogram = stage(path, raw)
    np.testing.assert_allclose(hypnogram.proba, stage(fitted, raw).proba, atol=1e-5)
    assert len(hypnogram.stage) == 60


def test_paper_preset_with_context_fits(nights):
    epochs, y, _ = nights
    clf = SSCSleepClassifier(
        preset="paper",
        context=1,
        max_epochs=1,
        batch_size=16,
        random_state=0,
        verbose=0,
        module__se_widths=(4, 4, 8, 8),
        module__cnn_filters=(4, 4, 4, 4),
        module__lstm_units=4,
        module__embedding_dim=8,
        module__head_widths=(8, 8),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        clf.fit(epochs[:240], y[:240])
    assert isinstance(clf.module_.epoch_network, SSCSleepNet)
    assert clf.predict(epochs[240:300]).shape == (60,)


def test_time_of_night_is_per_recording_and_reaches_the_network(nights):
    epochs, y, groups = nights
    dataset = check_epochs(epochs[[0, 1, 2, 119, 120, 121]])
    hours, share = dataset.night_time().T
    # Each night starts at 0; epoch 119 is the last of its night (1 h = 120 epochs).
    np.testing.assert_allclose(hours, [0, 30 / 3600, 60 / 3600, 119 * 30 / 3600, 0, 30 / 3600])
    np.testing.assert_allclose(share, [0, 1 / 119, 2 / 119, 1, 0, 1])
    net = ContextNet(SSCSleepNetLite(), context=1, night_time=True)
    batch, _ = dataset[WindowRequest(np.array([0, 1]), 1)]
    assert net(**batch)[0].shape == (2, 5)
    with pytest.raises(ValueError, match="pass night_time of shape"):
        net(batch["x"], batch["windows"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        clf = SSCSleepClassifier(**CONTEXT, night_time=True).fit(epochs, y)
    assert clf.module_.night_time and clf.predict(epochs[:10]).shape == (10,)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"context": 0, "night_time": True}, "night_time=True .* needs context >= 1"),
        ({"context": -1}, "context must be 'auto' or a non-negative integer"),
        ({"context": 2.5}, "context must be 'auto' or a non-negative integer"),
        ({"context": 2, "context_model": "lstm"}, "context_model must be one of"),
        (
            {"context": 2, "iterator_train": torch.utils.data.DataLoader},
            "needs mne-sscsleep's loaders",
        ),
    ],
)
def test_bad_context_settings_say_what_is_allowed(nights, params, match):
    epochs, y, _ = nights
    with pytest.raises(ValueError, match=match):
        SSCSleepClassifier(**{**TINY, **params}).fit(epochs, y)


def test_recording_cannot_double_a_checked_dataset(nights):
    epochs, y, groups = nights
    dataset = check_epochs_labels(epochs, y)
    with pytest.raises(ValueError, match="recording= cannot be combined"):
        SSCSleepClassifier(**CONTEXT).fit(dataset, recording=groups)
    with pytest.raises(ValueError, match="recording= cannot be combined"):
        SSCSleepClassifier(**CONTEXT).get_dataset(dataset, recording=groups)


def test_transitions_per_hour_counts_within_recordings():
    stages = ["W", "N1", "N2", "N2"] * 30  # 1 h: 2 changes per cycle, 29 between cycles
    assert transitions_per_hour(stages) == pytest.approx(89.0)
    # Split into two recordings at a change (N1 -> N2): that change is not a transition.
    assert transitions_per_hour(stages, recording=[0] * 62 + [1] * 58) == pytest.approx(88.0)
    with pytest.raises(ValueError, match="one per epoch"):
        transitions_per_hour(stages, recording=[0])


# ---- the YASA-style baseline -------------------------------------------------------------------
def test_yasa_features_are_per_recording_and_see_seven_minutes(nights):
    yasa_features = benchmark_module("yasa_features").yasa_features

    epochs, _, groups = nights
    data = epochs.get_data()
    features = yasa_features(data, 100.0, groups)
    assert features.shape == (len(data), 65) and np.isfinite(features).all()
    # Each night is filtered, smoothed and scaled on its own.
    alone = yasa_features(data[groups == 1], 100.0)
    np.testing.assert_allclose(features[groups == 1], alone, rtol=1e-6, atol=1e-9)
    # Time of night: hours since the start, and the fraction of the night.
    assert features[groups == 1][0, -2] == 0 and features[groups == 1][-1, -1] == 1
    # The rolling features are robust-scaled per night: median 0 in every night.
    for night in np.unique(groups):
        np.testing.assert_allclose(
            np.median(features[groups == night, 21:63], axis=0), 0, atol=1e-9
        )
    # The epoch features see their own epoch only (and the filter's few seconds around it).
    changed = data.copy()
    changed[10] *= 3
    difference = np.abs(yasa_features(changed, 100.0, groups) - features)
    assert difference[10, :21].max() > 0 and difference[30, :21].max() == 0
