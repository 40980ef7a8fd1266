"""The two presets, the paper's loss schedule and learning-rate plateau, resuming them."""

import warnings

import numpy as np
import pytest
import torch
from helpers import TINY
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from skorch.callbacks import Callback, Checkpoint, LoadInitState
from skorch.history import History

from mne_sscsleep import AdaptiveLoss, SSCSleepClassifier, model_info, stage
from mne_sscsleep.datasets import simulate_sleep_raw
from mne_sscsleep.metrics import macro_f1_scorer
from mne_sscsleep.nn import Augmentation, SSCSleepNet, SSCSleepNetLite
from mne_sscsleep.training import LossSchedule, LRPlateau

#: The paper's layers with fewer channels, so that tests train it in seconds.
SMALL_PAPER = dict(
    preset="paper",
    module__se_widths=(4, 8, 8, 8),
    module__cnn_filters=(4, 4, 8, 8),
    module__lstm_units=8,
    module__embedding_dim=8,
    module__head_widths=(8, 8),
    batch_size=16,
    random_state=0,
    verbose=0,
)


def _callbacks(clf):
    return dict(clf.callbacks_)


def test_the_paper_preset_fills_the_papers_defaults():
    clf = SSCSleepClassifier().initialize()
    assert clf.preset == "paper" and type(clf.module_) is SSCSleepNet
    assert type(clf.optimizer_) is torch.optim.Adam
    assert clf.optimizer_.param_groups[0]["lr"] == 1e-3
    criterion = clf.criterion_
    assert (criterion.lam, criterion.alpha, criterion.gamma) == (0.75, 0.25, 2.0)
    assert criterion.class_weight == "paper" and criterion.contrastive_weight == 1.0
    assert not criterion.focal_class_weight
    callbacks = _callbacks(clf)
    assert isinstance(callbacks["loss_schedule"], LossSchedule)
    assert isinstance(callbacks["lr_scheduler"], LRPlateau)
    assert callbacks["n1_adaptation"].gain == 0.0  # present, off: it can be switched on
    assert not hasattr(clf, "augmentation_")


def test_the_lite_preset_fills_the_lite_defaults():
    clf = SSCSleepClassifier(preset="lite").initialize()
    # The lite network, read with two neighbouring epochs on each side (context='auto').
    assert type(clf.module_.epoch_network) is SSCSleepNetLite and clf.module_.context == 2
    assert type(clf.optimizer_) is torch.optim.AdamW
    # It fine-tunes the shipped starting point at a quarter of the rate from random weights.
    assert clf.pretrained_["source"] == "lite-simulated"
    assert clf.optimizer_.param_groups[0]["lr"] == 5e-4
    scratch = SSCSleepClassifier(preset="lite", pretrained=None).initialize()
    assert scratch.optimizer_.param_groups[0]["lr"] == 2e-3
    criterion = clf.criterion_
    assert (criterion.lam, criterion.alpha, criterion.class_weight) == (0.5, 1.0, "sqrt")
    assert criterion.focal_class_weight and criterion.contrastive_normalize
    callbacks = _callbacks(clf)
    assert "loss_schedule" not in callbacks and "lr_scheduler" not in callbacks
    assert callbacks["n1_adaptation"].gain == 2.0
    assert isinstance(clf.augmentation_, Augmentation)


def test_explicit_parameters_win_over_the_preset():
    clf = SSCSleepClassifier(
        preset="paper",
        module__embedding_dim=32,
        criterion__lam=0.5,
        criterion__class_weight="balanced",
        optimizer=torch.optim.SGD,
        lr=0.1,
        optimizer__momentum=0.9,
        callbacks__loss_schedule__focus="n1",
        callbacks__n1_adaptation__gain=2.0,
        augmentation=Augmentation,
        augmentation__time_stretch=0.05,
    ).initialize()
    assert clf.module_.project_a.out_features == 32
    assert clf.criterion_.lam == 0.5 and clf.criterion_.class_weight == "balanced"
    assert clf.criterion_.alpha == 0.25  # the rest still the preset's
    assert type(clf.optimizer_) is torch.optim.SGD
    assert clf.optimizer_.param_groups[0]["lr"] == 0.1
    assert clf.optimizer_.param_groups[0]["momentum"] == 0.9
    assert _callbacks(clf)["loss_schedule"].focus == "n1"
    assert _callbacks(clf)["n1_adaptation"].gain == 2.0  # the paper preset with the N1 penalty
    assert clf.augmentation_.time_stretch == 0.05
    lite = SSCSleepClassifier(preset="lite", module=SSCSleepNet, module__lstm_units=8)
    assert type(lite.initialize().module_.epoch_network) is SSCSleepNet  # an explicit one wins
    removed = SSCSleepClassifier(callbacks__loss_schedule=None).initialize()
    assert "loss_schedule" not in _callbacks(removed)


def test_presets_are_parameters():
    clf = SSCSleepClassifier(preset="lite", criterion__gamma=1.0)
    copy = clone(clf)
    assert copy.get_params()["preset"] == "lite" and copy.get_params()["criterion__gamma"] == 1.0
    copy.set_params(preset="paper")
    assert type(copy.initialize().module_) is SSCSleepNet
    assert clf.get_params()["preset"] == "lite"
    for bad in (dict(preset="fast"), dict(amp="fp16")):
        with pytest.raises(ValueError, match="preset must be one of 'paper', 'lite'|amp must be"):
            SSCSleepClassifier(**bad).initialize()


@pytest.fixture(scope="module")
def night(sim_nights):
    epochs, y, groups = sim_nights
    keep = np.flatnonzero(groups < 2)
    return epochs[keep].get_data().astype(np.float32), y[keep], groups[keep]


@pytest.mark.slow
def test_the_paper_preset_trains_saves_and_loads(sim_nights, tmp_path):
    epochs, y, groups = sim_nights
    keep = np.flatnonzero(groups < 2)
    epochs, y = epochs[keep], y[keep]
    data = epochs.get_data().astype(np.float32)
    clf = SSCSleepClassifier(**SMALL_PAPER, max_epochs=3).fit(epochs, None)  # mne.Epochs
    history = clf.history
    for column in (
        "alpha",
        "gamma",
        "lam",
        "schedule_acc",
        "loss_wce",
        "loss_fl",
        "loss_cl",
        "lr",
    ):
        assert len(history[:, column]) == 3, column
    assert history[0, "alpha"] == 0.25 and history[0, "gamma"] == 2.0 and history[0, "lam"] == 0.75
    # The values of epoch 2 follow the step rules from epoch 1's records.
    schedule = _callbacks(clf)["loss_schedule"]
    expected = schedule.values_after({"lam": 0.75, "alpha": 0.25, "gamma": 2.0}, history[:1])
    assert {key: history[1, key] for key in expected} == expected
    path = clf.save(tmp_path / "paper.sscsleep")
    loaded = SSCSleepClassifier.load(path)
    assert loaded.preset == "paper" and type(loaded.module_) is SSCSleepNet
    np.testing.assert_array_equal(loaded.predict_proba(data[:30]), clf.predict_proba(data[:30]))
    np.testing.assert_array_equal(loaded.predict(epochs[:30]), clf.predict(epochs[:30]))
    assert list(clf.classes_) == list(epochs.event_id)  # labels read from the events
    assert model_info(path)["preset"] == "paper" and model_info(path)["network"] == "SSCSleepNet"
    raw = simulate_sleep_raw(hours=0.5, random_state=3, verbose="error")
    hypnogram = stage(path, raw)
    assert len(hypnogram) == 60 and np.isfinite(hypnogram.proba).all()


class _Crash(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise RuntimeError("power cut")


@pytest.mark.slow
def test_a_resumed_paper_training_ends_as_the_uninterrupted_one(night, tmp_path):
    """The schedule and the plateau rule are rebuilt from the history: same final weights."""
    data, y, _ = night
    # threshold 1: no epoch counts as an improvement, so the rate halves from epoch 2 on.
    # No early stopping here: its best-epoch restore needs the best weights on disk after a
    # restart (mne-sscsleep train --resume checkpoints them; see the CLI's test).
    params = dict(SMALL_PAPER, max_epochs=4, patience=None, callbacks__lr_scheduler__patience=0)
    params["callbacks__lr_scheduler__threshold"] = 1.0

    def checkpoint(folder):
        return Checkpoint(monitor=None, dirname=str(folder), f_criterion="criterion.pt")

    full = SSCSleepClassifier(**params, callbacks=[("cp", checkpoint(tmp_path / "a"))])
    full.fit(data, y)
    cp = checkpoint(tmp_path / "b")
    crashing = SSCSleepClassifier(**params, callbacks=[("cp", cp), ("crash", _Crash(3))])
    with pytest.raises(RuntimeError, match="power cut"):
        crashing.fit(data, y)
    resumed = SSCSleepClassifier(
        **dict(params, max_epochs=2), callbacks=[("cp", cp), ("resume", LoadInitState(cp))]
    )
    resumed.fit(data, y)
    assert len(resumed.history) == 4
    for column in ("alpha", "gamma", "lam", "lr", "train_loss", "valid_loss"):
        assert resumed.history[:, column] == full.history[:, column], column
    assert full.history[-1, "lr"] < 1e-3  # the plateau rule acted, before and after the crash
    for key, value in full.module_.state_dict().items():
        assert torch.equal(value, resumed.module_.state_dict()[key]), key


@pytest.mark.slow
def test_grid_search_over_the_preset(night):
    data, y, groups = night
    every_other = slice(None, None, 2)  # whole nights of both groups, half the epochs
    data, y, groups = data[every_other], y[every_other], groups[every_other]
    single_epoch = dict(context=0, iterator_train__min_batches=None)  # the paper preset's
    search = GridSearchCV(
        SSCSleepClassifier(max_epochs=1, batch_size=16, random_state=0, verbose=0, **single_epoch),
        {"preset": ["lite", "paper"]},
        scoring=macro_f1_scorer,
        cv=GroupKFold(2),
        refit=False,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        search.fit(data, y, groups=groups)
    assert [p["preset"] for p in search.cv_results_["params"]] == ["lite", "paper"]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_mixed_precision_path_runs(night):
    data, y, _ = night
    clf = SSCSleepClassifier(**TINY, amp="bf16").fit(data[:300], y[:300])
    assert np.isfinite(clf.history[:, "train_loss"]).all()
    proba = clf.predict_proba(data[:10])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-3)


class _Net:
    def __init__(self):
        self.criterion_ = AdaptiveLoss()
        self.history = History()


def test_schedule_step_rules():
    schedule = LossSchedule().initialize()
    start = {"lam": 0.75, "alpha": 0.25, "gamma": 2.0}
    records = [
        {"schedule_acc": 0.8, "loss_wce": 1.0, "loss_fl": 0.1},  # beats 0.7: up
        {"schedule_acc": 0.75, "loss_wce": 1.0, "loss_fl": 0.5},  # below 0.8: down
        {"schedule_acc": 0.9, "loss_wce": 0.1, "loss_fl": 0.5},
    ]
    # lam 'balance': (1 - lam) WCE vs lam FL: 0.25 > 0.075 up; 0.2 vs 0.4 down; 0.025 < 0.4 down.
    assert schedule.values_after(start, records[:1]) == {"lam": 0.8, "alpha": 0.3, "gamma": 3.0}
    assert schedule.values_after(start, records[:2]) == {"lam": 0.75, "alpha": 0.25, "gamma": 2.0}
    assert schedule.values_after(start, records) == {"lam": 0.7, "alpha": 0.3, "gamma": 3.0}
    raw = LossSchedule(lam_rule="raw").initialize()  # WCE vs FL as such: up, up, down
    assert raw.values_after(start, records)["lam"] == 0.8
    # Bounds: alpha in [0.1, 1], gamma in [0, 5], lam in [0.01, 0.99].
    falling = [{"schedule_acc": 0.0, "loss_wce": 0.0, "loss_fl": 1.0}] * 30
    assert schedule.values_after(start, falling) == {"lam": 0.01, "alpha": 0.1, "gamma": 0.0}
    rising = [{"schedule_acc": 0.5 + k / 100, "loss_wce": 9.0, "loss_fl": 0.0} for k in range(30)]
    assert schedule.values_after(start, rising) == {"lam": 0.99, "alpha": 1.0, "gamma": 5.0}
    with pytest.raises(ValueError, match="focus must be 'all' or 'n1'"):
        LossSchedule(focus="w").initialize()


@pytest.mark.parametrize("focus, expected", [("all", 3 / 6), ("n1", 1 / 4)])
def test_schedule_accuracy_focus(focus, expected):
    schedule = LossSchedule(focus=focus, on="train").initialize()
    net = _Net()
    net.history.new_epoch()
    schedule.on_epoch_begin(net)
    assert net.criterion_.alpha == 0.25 and net.history[-1, "lam"] == 0.75
    target = torch.tensor([1, 1, 1, 1, 2, 0])
    logits = torch.zeros(6, 5)
    logits[torch.arange(6), torch.tensor([1, 0, 0, 2, 2, 0])] = 5.0  # one N1 of four right
    outputs = (logits, torch.zeros(6, 4), torch.zeros(6, 4))
    net.criterion_(outputs, target, paired=True)
    schedule.on_batch_end(net, batch=(None, target), training=True, y_pred=outputs)
    schedule.on_epoch_end(net)
    assert net.history[-1, "schedule_acc"] == pytest.approx(expected)
    assert net.history[-1, "loss_wce"] == pytest.approx(float(net.criterion_.terms_["wce"]))


def test_lr_plateau_replays_torchs_rule():
    plateau = LRPlateau(factor=0.5, patience=1)
    scores = [1.0, 0.9, 0.95, 0.97, 0.8, 0.85, 0.86]
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    torch_rule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    for step in range(1, len(scores) + 1):
        torch_rule.step(scores[step - 1])
        assert plateau.lr_after(scores[:step], 0.1) == optimizer.param_groups[0]["lr"]
    assert plateau.lr_after(scores, 0.1) == 0.025
