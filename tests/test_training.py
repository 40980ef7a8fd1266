"""Pair sampling, the DataLoader-based iterators and the training callbacks."""

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset
from skorch.history import History

from mne_sscsleep import AdaptiveLoss, EpochLoader, N1Adaptation, PairLoader
from mne_sscsleep._epochs import EpochsDataset
from mne_sscsleep.training import EarlyStopping, PairBatchSampler, sample_pairs


@pytest.fixture
def labels(rng):
    return rng.choice(5, size=4000, p=[0.15, 0.07, 0.5, 0.13, 0.15])


@pytest.mark.parametrize("same_stage", [0.0, 0.3, 0.8, 1.0])
@pytest.mark.parametrize("n1_share", [None, 0.25, 0.5])
def test_pair_shares_match_settings(labels, same_stage, n1_share):
    pairs = sample_pairs(
        labels, 20000, same_stage=same_stage, n1_share=n1_share, rng=np.random.default_rng(1)
    )
    anchor, partner = labels[pairs[:, 0]], labels[pairs[:, 1]]
    assert np.mean(anchor == partner) == pytest.approx(same_stage, abs=0.015)
    expected_n1 = np.mean(labels == 1) if n1_share is None else n1_share
    assert np.mean(anchor == 1) == pytest.approx(expected_n1, abs=0.015)
    # Different-stage partners are spread over the other stages, not one of them.
    different = partner[anchor != partner]
    if different.size:
        assert len(np.unique(different)) == 5


def _dataset(n=300, n_times=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 1, n_times)).astype(np.float32)
    y = rng.choice(5, n)
    return EpochsDataset(X, y), X, y


def test_pair_loader_batches_are_interleaved_pairs_and_new_each_epoch():
    dataset, X, y = _dataset()
    loader = PairLoader(dataset, batch_size=16, same_stage=1.0, random_state=0)
    assert isinstance(loader, torch.utils.data.DataLoader)
    assert len(loader) == 10  # 150 pairs
    batches = list(loader)
    assert sum(len(b[1]) for b in batches) == 300
    xb, yb = batches[0]
    assert xb.shape == (32, 1, 3000) and xb.dtype == torch.float32 and yb.dtype == torch.int64
    assert (yb[0::2] == yb[1::2]).all()  # same_stage=1: every pair shares its stage
    # Rows are real epochs of the data, with their labels.
    row = np.flatnonzero((X[:, 0, :5] == xb[3, 0, :5].numpy()).all(axis=1))[0]
    assert y[row] == yb[3]
    # Each pass over the loader (each training epoch) draws new pairs.
    first_pass = torch.cat([b[1] for b in batches])
    second_pass = torch.cat([b[1] for b in loader])
    assert not torch.equal(first_pass, second_pass)


def test_pair_draws_depend_on_the_pass_number_only():
    """A loader started at pass k draws what an uninterrupted one drew at its pass k."""
    dataset, _, _ = _dataset()
    uninterrupted = PairLoader(dataset, batch_size=16, random_state=3)
    passes = [torch.cat([b[1] for b in uninterrupted]) for _ in range(3)]
    resumed = PairLoader(dataset, batch_size=16, random_state=3, start_pass=2)
    assert torch.equal(torch.cat([b[1] for b in resumed]), passes[2])
    assert not torch.equal(passes[1], passes[2])


def test_pair_loader_on_a_subset_draws_only_from_the_subset():
    dataset, X, y = _dataset()
    keep = np.arange(100, 300)
    subset = torch.utils.data.Subset(dataset, keep)
    a = list(PairLoader(subset, batch_size=8, random_state=5))
    b = list(PairLoader(subset, batch_size=8, random_state=5))
    assert all(torch.equal(u[0], v[0]) and torch.equal(u[1], v[1]) for u, v in zip(a, b))
    # Every row drawn is an epoch of the subset, never one outside it.
    rows = torch.cat([batch[0] for batch in a])[:, 0, :4].numpy()
    subset_rows = {tuple(x) for x in X[keep, 0, :4]}
    assert all(tuple(r) in subset_rows for r in rows)
    assert not {tuple(x) for x in X[:100, 0, :4]} & {tuple(r) for r in rows}


def test_pair_loader_passes_dataloader_arguments_and_refuses_what_it_cannot_honour():
    dataset, _, _ = _dataset(120)
    in_process = [b[1] for b in PairLoader(dataset, batch_size=8, random_state=1)]
    workers = PairLoader(
        dataset, batch_size=8, random_state=1, num_workers=1, persistent_workers=True
    )
    assert workers.num_workers == 1 and workers.persistent_workers
    # Worker processes read the same batches (the sampler runs in the main process).
    assert all(torch.equal(u, v) for u, v in zip(in_process, [b[1] for b in workers]))
    assert len(list(workers)) == len(workers)  # a second pass on the persistent workers
    with pytest.raises(ValueError, match="shuffle=False is not supported"):
        PairLoader(dataset, shuffle=False)
    with pytest.raises(TypeError, match="unexpected keyword argument 'gain_jitter'"):
        PairLoader(dataset, gain_jitter=0.3)  # augmentation is a module now, not dropped
    with pytest.raises(ValueError, match="same_stage"):
        PairLoader(dataset, same_stage=1.5)
    with pytest.raises(ValueError, match="n1_share"):
        PairLoader(dataset, n1_share=-0.1)
    with pytest.raises(ValueError, match="needs labels"):
        PairLoader(EpochsDataset(np.zeros((4, 1, 3000), np.float32)))
    with pytest.raises(TypeError, match="the dataset SSCSleepClassifier builds"):
        PairLoader(torch.utils.data.TensorDataset(torch.zeros(3)))


def test_drop_last_and_batch_sampler_length():
    sampler = PairBatchSampler(np.arange(10) % 5, batch_size=2, drop_last=True, random_state=0)
    assert [len(batch) for batch in sampler] == [4, 4] and len(sampler) == 2


def test_epoch_loader_views_without_copying_and_keeps_order():
    dataset, X, y = _dataset(70)
    batches = list(EpochLoader(dataset, batch_size=32))
    assert [len(b[0]) for b in batches] == [32, 32, 6]
    assert np.shares_memory(batches[0][0].numpy(), X)
    np.testing.assert_array_equal(torch.cat([b[1] for b in batches]).numpy(), y)
    subset = torch.utils.data.Subset(dataset, [5, 1, 9])
    xb, yb = next(iter(EpochLoader(subset, batch_size=8)))
    np.testing.assert_array_equal(xb.numpy(), X[[5, 1, 9]])
    np.testing.assert_array_equal(yb.numpy(), y[[5, 1, 9]])
    unlabelled = next(iter(EpochLoader(EpochsDataset(X), batch_size=8)))[1]
    assert unlabelled.shape == (8,)
    with pytest.raises(ValueError, match="shuffle=True is not supported"):
        EpochLoader(dataset, shuffle=True)
    # Any skorch Dataset over arrays works too.
    plain = next(iter(EpochLoader(Dataset(X, y), batch_size=4)))
    np.testing.assert_array_equal(plain[0].numpy(), X[:4])


def test_read_only_memmaps_are_served(tmp_path):
    X = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=(9, 1, 30)
    )
    X[:] = np.arange(9)[:, None, None]
    X.flush()
    readonly = np.load(tmp_path / "x.npy", mmap_mode="r")
    xb, _ = next(iter(EpochLoader(EpochsDataset(readonly), batch_size=4)))
    np.testing.assert_array_equal(xb[:, 0, 0].numpy(), [0, 1, 2, 3])


class _FakeNet:
    def __init__(self):
        self.criterion_ = AdaptiveLoss()
        self.history = History()


def _run_epoch(callback, net, n1_correct, training=True):
    net.history.new_epoch()
    callback.on_epoch_begin(net)
    target = torch.tensor([1, 1, 1, 1, 2, 0])
    logits = torch.zeros(6, 5)
    logits[torch.arange(6), target] = 5.0
    if not n1_correct:
        logits[:4, 1], logits[:4, 0] = 0.0, 5.0  # every N1 called W
    callback.on_batch_end(
        net, batch=(None, target), training=training, y_pred=(logits, None, None)
    )
    callback.on_epoch_end(net)


def test_n1_weight_rises_while_n1_is_misclassified_and_falls_when_it_is_not():
    callback = N1Adaptation(gain=2.0, max_weight=2.5, momentum=0.5).initialize()
    net = _FakeNet()
    weights = []
    for correct in (False, False, False, True, True):
        _run_epoch(callback, net, correct)
        weights.append(net.criterion_.n1_weight)
    # e = 1, 1, 1, 0, 0 -> smoothed (before each epoch) 0, 0.5, 0.75, 0.875, 0.4375;
    # weight = min(1 + 2 e, 2.5)
    np.testing.assert_allclose(weights, [1.0, 2.0, 2.5, 2.5, 1.875])
    assert net.history[:, "n1_weight"] == weights
    assert net.history[:, "n1_error"] == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_n1_weight_is_recomputed_from_the_history_so_a_resumed_fit_continues():
    callback = N1Adaptation(gain=2.0, max_weight=3.0, momentum=0.5).initialize()
    net = _FakeNet()
    for correct in (False, False):
        _run_epoch(callback, net, correct)
    # A fresh callback (a new process) on the restored history sets the same next weight.
    fresh, restored = N1Adaptation(gain=2.0, max_weight=3.0, momentum=0.5).initialize(), _FakeNet()
    restored.history = History(net.history.to_list())
    _run_epoch(callback, net, True)
    _run_epoch(fresh, restored, True)
    assert restored.criterion_.n1_weight == net.criterion_.n1_weight == 2.5


@pytest.mark.parametrize("on", ["train", "valid"])
def test_n1_adaptation_reads_only_its_own_batches(on):
    callback = N1Adaptation(on=on).initialize()
    net = _FakeNet()
    net.history.new_epoch()
    callback.on_epoch_begin(net)
    target = torch.tensor([1, 1])
    right, wrong = torch.zeros(2, 5), torch.zeros(2, 5)
    right[:, 1] = wrong[:, 0] = 5.0
    callback.on_batch_end(net, batch=(None, target), training=True, y_pred=(right, None, None))
    callback.on_batch_end(net, batch=(None, target), training=False, y_pred=(wrong, None, None))
    callback.on_epoch_end(net)
    # Training batches were all right, validation batches all wrong.
    assert net.history[-1, "n1_error"] == (0.0 if on == "train" else 1.0)


def test_n1_adaptation_on_valid_falls_back_to_training_batches_without_a_split():
    callback = N1Adaptation(on="valid").initialize()
    net = _FakeNet()
    _run_epoch(callback, net, n1_correct=False, training=True)
    assert net.history[-1, "n1_error"] == 1.0


def test_n1_adaptation_argument_errors():
    with pytest.raises(ValueError, match="max_weight >= 1"):
        N1Adaptation(max_weight=0.5).initialize()
    with pytest.raises(ValueError, match="'valid' or 'train'"):
        N1Adaptation(on="test").initialize()


def test_early_stopping_replays_a_restored_history():
    history = [
        {"epoch": 1, "valid_macro_f1": 0.5},
        {"epoch": 2, "valid_macro_f1": 0.6},
        {"epoch": 3, "valid_macro_f1": 0.55},
        {"epoch": 4, "valid_macro_f1": 0.58},
    ]
    stopper = EarlyStopping(monitor="valid_macro_f1", lower_is_better=False, patience=3)
    stopper.replay(history)
    assert stopper.misses_ == 2 and stopper.best_epoch_ == 2 and not stopper.stopped
    history.append({"epoch": 5, "valid_macro_f1": 0.59})
    assert stopper.replay(history).stopped
