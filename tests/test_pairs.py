import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from mne_sscsleep import EpochLoader, PairLoader
from mne_sscsleep._pairs import sample_pairs


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
    return Dataset(X, y), X, y


def test_pair_loader_batches_are_interleaved_pairs_and_new_each_epoch():
    dataset, X, y = _dataset()
    loader = PairLoader(
        dataset, batch_size=16, same_stage=1.0, random_state=0, gain_jitter=0, time_stretch=0
    )
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


def test_pair_loader_is_seeded_and_works_on_subsets():
    dataset, _, y = _dataset()
    subset = torch.utils.data.Subset(dataset, np.arange(100, 300))
    a = [b[1] for b in PairLoader(subset, batch_size=8, random_state=5)]
    b = [b[1] for b in PairLoader(subset, batch_size=8, random_state=5)]
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    labels = torch.cat(a).numpy()
    assert np.bincount(labels, minlength=5).sum() == 200


def test_pair_loader_argument_errors():
    dataset, _, _ = _dataset(20)
    with pytest.raises(ValueError, match="same_stage"):
        PairLoader(dataset, same_stage=1.5)
    with pytest.raises(ValueError, match="n1_share"):
        PairLoader(dataset, n1_share=-0.1)
    with pytest.raises(ValueError, match="needs labels"):
        PairLoader(Dataset(np.zeros((4, 1, 3000), np.float32), None))
    with pytest.raises(TypeError, match="NumPy array"):
        PairLoader(torch.utils.data.TensorDataset(torch.zeros(3)))


def test_augmentation_changes_gain_and_frequency_but_not_labels():
    t = np.arange(3000) / 100.0
    X = np.tile(np.sin(2 * np.pi * 10 * t).astype(np.float32), (40, 1, 1)) * 1e-5
    dataset = Dataset(X, np.arange(40) % 5)
    loader = PairLoader(dataset, batch_size=20, gain_jitter=0.3, time_stretch=0.1, random_state=0)
    xb, yb = next(iter(loader))
    spectrum = np.abs(np.fft.rfft(xb.numpy()[:, 0], axis=-1))
    peaks = np.fft.rfftfreq(3000, 0.01)[spectrum.argmax(axis=-1)]
    assert peaks.min() >= 8.9 and peaks.max() <= 11.1 and peaks.std() > 0.3
    std = xb.numpy().std(axis=-1).ravel() / X[0].std()
    assert 0.3 < std.min() < 0.95 and 1.05 < std.max() < 3
    plain = PairLoader(dataset, batch_size=20, gain_jitter=0, time_stretch=0, random_state=0)
    np.testing.assert_array_equal(next(iter(plain))[1], yb)  # same pairs, same labels
    with pytest.raises(ValueError, match="time_stretch"):
        PairLoader(dataset, time_stretch=0.6)


def test_epoch_loader_views_without_copying():
    dataset, X, y = _dataset(70)
    batches = list(EpochLoader(dataset, batch_size=32))
    assert [len(b[0]) for b in batches] == [32, 32, 6]
    assert np.shares_memory(batches[0][0].numpy(), X)
    np.testing.assert_array_equal(torch.cat([b[1] for b in batches]).numpy(), y)
    subset = torch.utils.data.Subset(dataset, [5, 1, 9])
    xb, yb = next(iter(EpochLoader(subset, batch_size=8)))
    np.testing.assert_array_equal(xb.numpy(), X[[5, 1, 9]])
    unlabelled = next(iter(EpochLoader(Dataset(X, None), batch_size=8)))[1]
    assert unlabelled.shape == (8,)
