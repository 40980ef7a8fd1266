import warnings

import numpy as np
import pytest
import torch
from helpers import TINY
from sklearn.exceptions import NotFittedError
from skorch.history import History

from mne_sscsleep import STAGES, AdaptiveLoss, N1Adaptation, SSCSleepClassifier
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
    pred = clf.predict(epochs)
    assert pred.shape == (len(y),) and set(pred) <= set(STAGES)
    proba = clf.predict_proba(epochs)
    assert proba.shape == (len(y), 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], pred)


def test_history_records_n1_adaptation_and_validation_scores(tiny_fitted):
    history = tiny_fitted.history
    for key in (
        "train_loss",
        "valid_loss",
        "valid_macro_f1",
        "valid_n1_f1",
        "n1_error",
        "n1_weight",
    ):
        assert len(history[:, key]) == 2
    assert history[0, "n1_weight"] == 1.0
    assert history[1, "n1_weight"] >= 1.0


def test_criterion_weights_are_fitted_state_not_a_mutated_parameter(tiny, tiny_fitted):
    _, y = tiny
    clf = tiny_fitted
    assert clf.criterion_.class_weight == "sqrt"
    counts = np.array([np.sum(y == s) for s in STAGES])
    expected = np.sqrt(counts.sum() / (5 * counts))
    np.testing.assert_allclose(clf.criterion_.class_weights.numpy(), expected, rtol=1e-5)


def test_prefixed_parameters_reach_module_criterion_and_iterator(tiny):
    epochs, y = tiny
    clf = _tiny_clf(
        max_epochs=1,
        criterion__gamma=0.0,
        criterion__class_weight=[1, 4, 1, 1, 1],
        iterator_train__same_stage=0.9,
        optimizer__weight_decay=0.05,
    )
    clf.fit(epochs, y)
    assert clf.module_.se_resnet.project.out_features == 16
    assert clf.criterion_.gamma == 0.0
    np.testing.assert_allclose(clf.criterion_.class_weights.numpy(), [1, 4, 1, 1, 1])
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 0.05


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
        labels, expected = stage_index, np.arange(5)
    else:
        labels, expected = None, np.array(list(epochs.event_id))
    clf = _tiny_clf(max_epochs=1).fit(epochs, labels)
    np.testing.assert_array_equal(clf.classes_, expected)
    assert set(clf.predict(epochs[:20])) <= set(expected)


def test_missing_stage_warns_and_is_never_predicted(tiny):
    epochs, y = tiny
    keep = np.flatnonzero(y != "N1")
    with pytest.warns(RuntimeWarning, match="N1 are missing from the training data"):
        clf = _tiny_clf(max_epochs=1).fit(epochs[keep], y[keep])
    assert list(clf.classes_) == ["W", "N2", "N3", "R"]
    proba = clf.predict_proba(epochs)
    assert proba.shape == (len(y), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert "N1" not in set(clf.predict(epochs))


def test_same_seed_same_predictions_different_seed_different(tiny):
    epochs, y = tiny
    a = _tiny_clf(random_state=3).fit(epochs, y).predict_proba(epochs)
    b = _tiny_clf(random_state=3).fit(epochs, y).predict_proba(epochs)
    c = _tiny_clf(random_state=4).fit(epochs, y).predict_proba(epochs)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match="call fit"):
        SSCSleepClassifier().predict(np.zeros((2, 3000)))


def test_single_stage_and_too_few_epochs(tiny):
    epochs, y = tiny
    only_n2 = np.flatnonzero(y == "N2")[:50]
    with pytest.raises(ValueError, match="single stage \\(N2\\)"):
        _tiny_clf().fit(epochs[only_n2], y[only_n2])
    with pytest.raises(ValueError, match="needs at least 20"):
        _tiny_clf().fit(epochs[:10], y[:10])


class _FakeNet:
    def __init__(self):
        self.criterion_ = AdaptiveLoss()
        self.history = History()


def _run_epoch(callback, net, n1_correct):
    net.history.new_epoch()
    callback.on_epoch_begin(net)
    target = torch.tensor([1, 1, 1, 1, 2, 0])
    logits = torch.zeros(6, 5)
    logits[torch.arange(6), target] = 5.0
    if not n1_correct:
        logits[:4, 1], logits[:4, 0] = 0.0, 5.0  # every N1 called W
    callback.on_batch_end(net, batch=(None, target), training=False, y_pred=(logits, None, None))
    callback.on_epoch_end(net)


def test_n1_weight_rises_while_n1_is_misclassified_and_falls_when_it_is_not():
    callback = N1Adaptation(gain=2.0, max_weight=2.5, momentum=0.5).initialize()
    net = _FakeNet()
    callback.on_train_begin(net)
    weights = []
    for correct in (False, False, False, True, True):
        _run_epoch(callback, net, correct)
        weights.append(net.criterion_.n1_weight)
    # e = 1, 1, 1, 0, 0 -> smoothed 0.5, 0.75, 0.875, 0.4375, 0.21875; weight = 1 + 2 e (<= 2.5)
    np.testing.assert_allclose(weights, [2.0, 2.5, 2.5, 1.875, 1.4375])
    assert net.history[:, "n1_weight"] == [1.0, 2.0, 2.5, 2.5, 1.875]
    assert net.history[:, "n1_error"] == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_n1_adaptation_argument_errors():
    with pytest.raises(ValueError, match="max_weight >= 1"):
        N1Adaptation(max_weight=0.5).initialize()


@pytest.mark.slow
def test_learns_held_out_subjects(sim_nights):
    """Trained on 4 simulated nights, it stages 2 unseen subjects far above chance (0.2)."""
    epochs, y, groups = sim_nights
    train, test = np.flatnonzero(groups < 4), np.flatnonzero(groups >= 4)
    clf = SSCSleepClassifier(max_epochs=12, patience=4, random_state=0, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clf.fit(epochs[train], y[train])
    report = sleep_report(y[test], clf.predict(epochs[test]))
    print(report)
    assert report.macro_f1 > 0.65
    assert report.n1_f1 > 0.2
    assert report.kappa > 0.6
