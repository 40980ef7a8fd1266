"""SSCSleepClassifier's behaviour: labels, the input boundary, training state, determinism."""

import warnings

import mne
import numpy as np
import pytest
import torch
from helpers import TINY
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score
from skorch.callbacks import Callback, Checkpoint
from skorch.dataset import ValidSplit

from mne_sscsleep import STAGES, SSCSleepClassifier, check_epochs, stage, stage_indices
from mne_sscsleep._epochs import check_epochs_labels, labels_from_epochs
from mne_sscsleep.metrics import sleep_report


@pytest.fixture(scope="module")
def tiny(sim_nights):
    """400 epochs of one simulated night (all five stages) as (epochs, y)."""
    epochs, y, groups = sim_nights
    index = np.arange(360, 760)
    assert set(y[index]) == set(STAGES)
    return epochs[index], y[index]


def _tiny_clf(**kwargs):
    params = dict(
        TINY,
        max_epochs=2,
        batch_size=32,
        module__se_channels=(8, 16),
        module__cnn_filters=8,
        module__embedding_dim=16,
    )
    params.update(kwargs)
    return SSCSleepClassifier(**params)


@pytest.fixture(scope="module")
def tiny_fitted(tiny):
    epochs, y = tiny
    return _tiny_clf().fit(epochs, y)


def test_fit_predict_on_epochs_with_string_labels(tiny, tiny_fitted):
    epochs, y = tiny
    clf = tiny_fitted
    np.testing.assert_array_equal(clf.classes_, STAGES)
    assert clf.stages_ == STAGES and clf.ch_name_ == "EEG Fpz-Cz"
    np.testing.assert_array_equal(clf.class_counts_, [np.sum(y == s) for s in STAGES])
    proba = clf.predict_proba(epochs)
    assert proba.shape == (len(y), 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(epochs))
    # predict_proba is skorch's own: the softmax of the network's logits.
    logits = clf.forward(epochs)[0]
    np.testing.assert_allclose(proba, torch.softmax(logits, 1).numpy(), rtol=1e-5, atol=1e-6)


def test_history_follows_the_n1_schedule_and_scores_the_seeded_validation_split(tiny, tiny_fitted):
    epochs, y = tiny
    clf = tiny_fitted
    history = clf.history
    first_error = history[0, "n1_error"]
    assert history[:, "n1_weight"] == [1.0, min(1.0 + 2.0 * 0.5 * first_error, 3.0)]
    # The validation split is drawn from random_state: rebuilding it gives the same epochs,
    # and the restored (best) weights score on them what the history recorded.
    dataset = check_epochs_labels(epochs, y)
    _, valid = clf.get_split_datasets(dataset, dataset.y)
    best = int(np.argmax(history[:, "valid_macro_f1"]))
    y_valid = dataset.y[valid.indices]
    predicted = stage_indices(clf.predict(valid))
    assert f1_score(y_valid, predicted, average="macro") == pytest.approx(
        history[best, "valid_macro_f1"]
    )
    assert np.mean(y_valid == predicted) == pytest.approx(history[best, "valid_acc"])


def test_the_validation_split_follows_random_state(tiny):
    epochs, y = tiny
    dataset = check_epochs_labels(epochs, y)

    def valid_indices(**params):
        _, valid = SSCSleepClassifier(**params).get_split_datasets(dataset, dataset.y)
        return np.sort(valid.indices)

    np.testing.assert_array_equal(valid_indices(random_state=1), valid_indices(random_state=1))
    assert not np.array_equal(valid_indices(random_state=1), valid_indices(random_state=2))
    # A split with its own random_state keeps it.
    own = ValidSplit(0.1, stratified=True, random_state=7)
    np.testing.assert_array_equal(
        valid_indices(random_state=1, train_split=own),
        valid_indices(random_state=2, train_split=own),
    )


def test_criterion_weights_are_fitted_state_not_a_mutated_parameter(tiny, tiny_fitted):
    _, y = tiny
    clf = tiny_fitted
    assert clf.criterion_.class_weight == "sqrt"
    counts = np.array([np.sum(y == s) for s in STAGES])
    expected = np.sqrt(counts.sum() / (5 * counts))
    np.testing.assert_allclose(clf.criterion_.class_weights.numpy(), expected, rtol=1e-5)


def test_fit_leaves_get_params_untouched(tiny):
    """scikit-learn's contract on EEG-shaped data (its own check feeds toy arrays)."""
    epochs, y = tiny
    clf = _tiny_clf(max_epochs=1, criterion__gamma=1.0, iterator_train__n1_share=0.2)
    before = clf.get_params(deep=False)
    split_state = dict(vars(clf.train_split))
    clf.fit(epochs, y)
    after = clf.get_params(deep=False)
    assert set(after) == set(before)
    changed = [
        key for key in before if not (after[key] is before[key] or after[key] == before[key])
    ]
    assert not changed, changed
    assert vars(clf.train_split) == split_state


def test_prefixed_parameters_reach_module_criterion_augmentation_and_iterator(tiny):
    epochs, y = tiny
    clf = _tiny_clf(
        max_epochs=1,
        criterion__gamma=0.0,
        criterion__class_weight=[1, 4, 1, 1, 1],
        iterator_train__same_stage=0.9,
        optimizer__weight_decay=0.05,
        augmentation__time_stretch=0.05,
    )
    clf.fit(epochs, y)
    assert clf.module_.se_resnet.project.out_features == 16
    assert clf.criterion_.gamma == 0.0
    np.testing.assert_allclose(clf.criterion_.class_weights.numpy(), [1, 4, 1, 1, 1])
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 0.05
    assert clf.augmentation_.time_stretch == 0.05 and not clf.augmentation_.training
    dataset = check_epochs_labels(epochs, y)
    assert clf.get_iterator(dataset, training=True).sampler.same_stage == 0.9
    # DataLoader arguments reach the loaders, and training works with worker processes.
    workers = _tiny_clf(
        max_epochs=1,
        iterator_train__num_workers=1,
        iterator_train__persistent_workers=True,
        iterator_valid__num_workers=1,
    ).fit(epochs, y)
    assert workers.get_iterator(dataset, training=True).num_workers == 1
    assert workers.get_iterator(dataset, training=False).num_workers == 1
    assert len(workers.history) == 1
    no_augmentation = _tiny_clf(max_epochs=1, augmentation=None).fit(epochs, y)
    assert not hasattr(no_augmentation, "augmentation_")


@pytest.mark.parametrize("kind", ["aliases", "ints", "events"])
def test_users_get_their_own_labels_back(tiny, kind):
    epochs, y = tiny
    stage_index = np.array([STAGES.index(s) for s in y])
    if kind == "aliases":
        names = np.array(
            ["Sleep stage W", "Sleep stage 1", "Sleep stage 2", "Sleep stage 3/4", "Sleep stage R"]
        )
        labels, expected = names[stage_index], names
    elif kind == "ints":
        # scikit-learn's LabelEncoder codes (alphabetical: N1, N2, N3, R, W), said explicitly.
        encoder = {"N1": 0, "N2": 1, "N3": 2, "R": 3, "W": 4}
        labels = np.array([encoder[s] for s in y])
        expected = np.array([4, 0, 1, 2, 3])  # the codes of W, N1, N2, N3, R
        stage_map = {code: stage for stage, code in encoder.items()}
    else:
        labels, expected = None, np.array(list(epochs.event_id))
    params = {"stage_map": stage_map} if kind == "ints" else {}
    clf = _tiny_clf(max_epochs=1, **params).fit(epochs, labels)
    np.testing.assert_array_equal(clf.classes_, expected)
    assert set(clf.predict(epochs[:20])) <= set(expected)
    given = labels if labels is not None else labels_from_epochs(epochs)
    assert clf.score(epochs, given) == pytest.approx(
        np.mean(clf.label_stages(clf.predict(epochs)) == stage_index)
    )


def test_missing_stage_warns_and_is_never_predicted_unless_declared(tiny):
    epochs, y = tiny
    keep = np.flatnonzero(y != "N1")
    with pytest.warns(RuntimeWarning, match="N1 are missing.*will never predict them"):
        clf = _tiny_clf(max_epochs=1).fit(epochs[keep], y[keep])
    assert list(clf.classes_) == ["W", "N2", "N3", "R"]
    proba = clf.predict_proba(epochs)
    assert proba.shape == (len(y), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert "N1" not in set(clf.predict(epochs))
    # Declared classes keep a column for every stage.
    with pytest.warns(RuntimeWarning, match="N1 are missing.*probabilities are not learned"):
        declared = _tiny_clf(max_epochs=1, classes=["R", "W", "N1", "N2", "N3"])
        declared.fit(epochs[keep], y[keep])
    assert list(declared.classes_) == list(STAGES)  # in stage order
    assert declared.predict_proba(epochs[:5]).shape == (5, 5)


def test_partial_fit_learns_labels_and_checks_later_batches(tiny):
    epochs, y = tiny
    first, second = np.arange(0, 200), np.arange(200, 400)
    no_r = first[y[first] != "R"]
    clf = _tiny_clf(max_epochs=1, train_split=None)
    with pytest.warns(RuntimeWarning, match="R are missing"):
        clf.partial_fit(epochs[no_r], None, classes=list(STAGES))
    assert list(clf.classes_) == list(STAGES)
    clf.partial_fit(epochs[second], y[second])  # R appears now: declared, so accepted
    assert len(clf.history) == 2
    undeclared = _tiny_clf(max_epochs=1, train_split=None)
    with pytest.warns(RuntimeWarning, match="R are missing"):
        undeclared.partial_fit(epochs[no_r], y[no_r])
    with pytest.raises(ValueError, match="stage\\(s\\) R, which the model does not predict"):
        undeclared.partial_fit(epochs[second], y[second])
    with pytest.raises(ValueError, match="names a stage twice"):
        _tiny_clf(classes=["W", "Wake", "N2"]).fit(epochs, y)
    with pytest.raises(ValueError, match="stage\\(s\\) N1, N3, R, which classes="):
        _tiny_clf(classes=["W", "N2"]).fit(epochs, y)


def test_every_entry_point_passes_the_same_boundary(tiny, tiny_fitted):
    epochs, y = tiny
    clf = tiny_fitted
    data = epochs.get_data()
    for method in (clf.predict_proba, clf.predict, clf.forward):
        with pytest.raises(ValueError, match="expects volts.*multiply it by 1e-6"):
            method(data[:30] * 1e6)
        with pytest.raises(ValueError, match="Epochs 2 contain NaN"):
            method(np.where(np.arange(30)[:, None, None] == 2, np.nan, data[:30]))
    with pytest.raises(ValueError, match="expects volts"):
        clf.score(data[:30] * 1e6, y[:30])
    with pytest.raises(ValueError, match="expects volts"):
        clf.partial_fit(data * 1e6, y)
    with pytest.raises(TypeError, match="builds its own dataset"):
        clf.predict(torch.utils.data.TensorDataset(torch.zeros(3, 1, 3000)))
    fast = mne.EpochsArray(np.repeat(data[:4], 2, axis=-1), mne.create_info(1, 200.0, "eeg"))
    with pytest.raises(ValueError, match="sampled at 200 Hz.*resample=True"):
        clf.predict(fast)
    # What check_epochs returns is taken as it is, in any entry point.
    checked = check_epochs(data[:30])
    np.testing.assert_array_equal(clf.predict_proba(checked), clf.predict_proba(data[:30]))
    with pytest.raises(ValueError, match="checked at 200 Hz"):
        clf.predict(check_epochs(np.repeat(data[:2], 2, axis=-1), sfreq=200.0))


def test_input_is_checked_once_per_fit_and_once_per_predict(tiny, monkeypatch):
    """One trip in: fit checks X once (in get_dataset), then hands the checked data down."""
    import mne_sscsleep._classifier as module
    import mne_sscsleep._epochs as boundary

    epochs, y = tiny
    calls = []
    for name in ("check_epochs", "check_epochs_labels", "merge_epochs_list"):
        for owner in (module, boundary):
            original = getattr(owner, name, None)
            if original is None:
                continue

            def counted(*args, _original=original, _name=name, **kwargs):
                calls.append(_name)
                return _original(*args, **kwargs)

            monkeypatch.setattr(owner, name, counted)
    clf = _tiny_clf(max_epochs=2).fit(epochs, y)  # validation scored every pass
    assert calls == ["check_epochs_labels", "merge_epochs_list"], calls
    calls.clear()
    clf.predict(epochs[:50])
    assert calls == ["check_epochs", "merge_epochs_list"], calls


def test_channel_warning_comes_from_one_place(tiny, tiny_fitted, sim_nights):
    epochs, _ = tiny
    renamed = epochs[:5].copy().rename_channels({"EEG Fpz-Cz": "EEG Pz-Oz"})
    with pytest.warns(RuntimeWarning, match="trained on channel 'EEG Fpz-Cz'.*'EEG Pz-Oz'"):
        tiny_fitted.predict(renamed)
    with pytest.warns(RuntimeWarning, match="trained on channel 'EEG Fpz-Cz'.*'EEG Pz-Oz'"):
        tiny_fitted.predict(check_epochs(renamed.get_data(), ch_name="EEG Pz-Oz"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        tiny_fitted.predict(epochs[:5])


def test_same_seed_same_model_different_seed_different(tiny):
    epochs, y = tiny

    def run(seed):
        clf = _tiny_clf(random_state=seed).fit(epochs, y)
        history = [
            {key: value for key, value in epoch.items() if key not in ("dur", "batches")}
            for epoch in clf.history
        ]
        return clf.predict_proba(epochs), history

    first, second, other = run(3), run(3), run(4)
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1] == second[1]
    assert not np.allclose(first[0], other[0])


def test_not_fitted_everywhere(tiny):
    epochs, _ = tiny
    raw = mne.io.RawArray(np.zeros((1, 6000)), mne.create_info(1, 100.0, "eeg"), verbose="error")
    clf = SSCSleepClassifier()
    for call in (
        lambda: clf.predict(np.zeros((2, 3000))),
        lambda: clf.predict_proba(epochs[:2]),
        lambda: clf.save("never.sscsleep"),
        lambda: stage(clf, raw),
    ):
        with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
            call()
    initialized_only = SSCSleepClassifier(**TINY).initialize()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        initialized_only.predict(epochs[:2])
    with pytest.raises(AttributeError, match="no classes_ before fit"):
        clf.classes_  # noqa: B018


def test_single_stage_and_too_few_epochs(tiny):
    epochs, y = tiny
    only_n2 = np.flatnonzero(y == "N2")[:50]
    with pytest.raises(ValueError, match="single stage \\(N2\\)"):
        _tiny_clf().fit(epochs[only_n2], y[only_n2])
    with pytest.raises(ValueError, match="needs at least 20"):
        _tiny_clf().fit(epochs[:10], y[:10])
    with pytest.raises(TypeError, match="random_state must be an int or None"):
        _tiny_clf(random_state=np.random.default_rng(0)).fit(epochs, y)


class _RecordWeights(Callback):
    def initialize(self):
        self.weights_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        state = net.module_.state_dict()
        self.weights_.append({key: value.clone() for key, value in state.items()})


def _same(a, b):
    return all(torch.equal(a[key], b[key]) for key in a)


def test_checkpoint_and_early_stopping_restore_the_best_epochs_weights(tiny, tmp_path):
    epochs, y = tiny
    checkpoint = Checkpoint(monitor="valid_macro_f1_best", dirname=str(tmp_path))
    recorder = _RecordWeights()
    clf = _tiny_clf(max_epochs=4, callbacks=[("checkpoint", checkpoint), ("record", recorder)])
    clf.fit(epochs, y)
    weights = recorder.weights_
    assert not _same(weights[0], weights[-1])  # training changed the weights
    # The checkpoint holds the weights of the last epoch flagged best.
    best = max(i for i, flag in enumerate(clf.history[:, "valid_macro_f1_best"]) if flag)
    assert clf.history[best, "event_cp"] is True
    saved = torch.load(tmp_path / "params.pt", weights_only=True)
    assert _same(saved, weights[best])
    # Early stopping (load_best) left the model with the best epoch's weights.
    scores = clf.history[:, "valid_macro_f1"]
    best_by_stopper = clf.callbacks_[[n for n, _ in clf.callbacks_].index("early_stopping")][1]
    assert scores[best_by_stopper.best_epoch_ - 1] == max(scores)
    assert _same(clf.module_.state_dict(), weights[best_by_stopper.best_epoch_ - 1])


class _InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_interrupted_fit_leaves_a_usable_estimator(tiny):
    epochs, y = tiny
    clf = _tiny_clf(max_epochs=5, callbacks=[("interrupt", _InterruptAt(2))])
    clf.fit(epochs, y)
    assert len(clf.history) == 2
    proba = clf.predict_proba(epochs[:20])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_learns_held_out_subjects(sim_nights):
    """Trained on 4 simulated nights, it stages 2 unseen subjects far above chance (0.2).

    Three seeds: on this data one fit's macro-F1 is 0.68 +- 0.06 over seeds (10 seeds measured:
    0.59-0.78), so the mean of three is held to 0.6, two standard errors below.
    """
    epochs, y, groups = sim_nights
    train, test = np.flatnonzero(groups < 4), np.flatnonzero(groups >= 4)
    reports = []
    for seed in range(3):
        clf = SSCSleepClassifier(
            preset="lite",
            context=0,  # the single-epoch network learns (tests/test_context.py: context)
            iterator_train__min_batches=None,
            max_epochs=12,
            patience=4,
            random_state=seed,
            verbose=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            clf.fit(epochs[train], y[train])
        reports.append(sleep_report(y[test], clf.predict(epochs[test])))
        print(reports[-1])
    macro_f1 = [report.macro_f1 for report in reports]
    assert np.mean(macro_f1) > 0.6 and min(macro_f1) > 0.5
    assert np.mean([report.n1_f1 for report in reports]) > 0.2
    assert np.mean([report.kappa for report in reports]) > 0.6
