"""The two networks (the paper's and the lite one), their blocks and the augmentation module."""

import numpy as np
import pytest
import torch

from mne_sscsleep.nn import (
    Augmentation,
    CNNLSTMBranch,
    CNNLSTMBranchLite,
    SEResNetBranch,
    SEResNetBranchLite,
    SSCSleepNet,
    SSCSleepNetLite,
    multiply_adds,
)

#: A paper network small enough to train in a test (same layers, fewer channels).
SMALL_PAPER = dict(
    se_widths=(8, 16, 32, 64),
    cnn_filters=(8, 8, 16, 16),
    lstm_units=16,
    embedding_dim=16,
    head_widths=(16, 8),
)


def _layers(module):
    """(name, type, shape of the weight) of every module with parameters of its own."""
    rows = []
    for name, sub in module.named_modules():
        own = list(sub.named_parameters(recurse=False))
        if own:
            rows.append((name, type(sub).__name__, tuple(own[0][1].shape)))
    return rows


def test_the_paper_network_layer_by_layer():
    """Pins PAPER.md section 3 point by point (and our documented choices where it is silent)."""
    net = SSCSleepNet()
    assert sum(p.numel() for p in net.parameters()) == 4_440_445  # the paper: ~4.6 M
    assert multiply_adds(net, 3000) == 748_827_200
    layers = dict((name, (kind, shape)) for name, kind, shape in _layers(net))
    # CNN-LSTM branch: Conv(64, 50) BN GELU Pool Drop Conv(32, 5) BN GELU Pool Conv(128, 5) BN
    # GELU Conv(256, 5) BN GELU Pool Drop LSTM(128) Drop.
    assert isinstance(net.branch_a, SEResNetBranch) and isinstance(net.branch_b, CNNLSTMBranch)
    features = net.branch_b.features
    kinds = [type(layer).__name__ for layer in features]
    assert kinds == [
        "ConstantPad1d", "Conv1d", "BatchNorm1d", "GELU", "MaxPool1d", "Dropout",
        "ConstantPad1d", "Conv1d", "BatchNorm1d", "GELU", "MaxPool1d",
        "ConstantPad1d", "Conv1d", "BatchNorm1d", "GELU",
        "ConstantPad1d", "Conv1d", "BatchNorm1d", "GELU", "MaxPool1d", "Dropout",
    ]  # fmt: skip
    convs = [layer for layer in features if isinstance(layer, torch.nn.Conv1d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (64, 50, 1), (32, 5, 1), (128, 5, 1), (256, 5, 1)
    ]  # fmt: skip
    assert [p.p for p in features if isinstance(p, torch.nn.Dropout)] == [0.5, 0.5]
    assert net.branch_b.lstm.hidden_size == 128 and not net.branch_b.lstm.bidirectional
    assert net.branch_b.dropout.p == 0.5
    # SE-ResNet branch: Conv(64, 7, stride 2) BN GELU MaxPool(3, 2), 4 stages x 2 blocks of
    # widths 64-512, SE ratio 16 with GELU, layer norm after each residual sum.
    stem = net.branch_a.stem
    assert (stem[0].out_channels, stem[0].kernel_size[0], stem[0].stride[0]) == (64, 7, 2)
    assert (stem[3].kernel_size, stem[3].stride) == (3, 2)
    blocks = list(net.branch_a.blocks)
    assert [b.conv1.out_channels for b in blocks] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [b.conv1.stride[0] for b in blocks] == [1, 1, 2, 1, 2, 1, 2, 1]
    assert all(b.conv1.kernel_size[0] == 3 and b.conv2.kernel_size[0] == 3 for b in blocks)
    assert [b.se.fc1.out_features for b in blocks] == [4, 4, 8, 8, 16, 16, 32, 32]
    assert all(type(b.activation).__name__ == "GELU" for b in blocks)
    assert all(b.norm is not None and not b.post_activation for b in blocks)
    # Fusion: both outputs projected to 128-d, |u - v| into a head of three dense layers.
    assert layers["project_a"] == ("Linear", (128, 512))
    assert layers["project_b"] == ("Linear", (128, 128))
    head = [layer for layer in net.head if isinstance(layer, torch.nn.Linear)]
    assert [(h.in_features, h.out_features) for h in head] == [(128, 128), (128, 64), (64, 5)]
    # The branches share no parameters.
    a = {id(p) for p in net.branch_a.parameters()}
    assert a.isdisjoint(id(p) for p in net.branch_b.parameters())


def test_the_lite_network_is_unchanged():
    net = SSCSleepNetLite()
    assert sum(p.numel() for p in net.parameters()) == 131_909
    assert multiply_adds(net, 3000) < multiply_adds(SSCSleepNet(), 3000) / 100


@pytest.mark.parametrize("sfreq", [100.0, 128.0])
def test_shapes_follow_sfreq(sfreq):
    n_times = int(30 * sfreq)
    lite = SSCSleepNetLite(sfreq=sfreq, embedding_dim=16).eval()
    logits, z_se, z_lstm = lite(torch.randn(3, 1, n_times))
    assert logits.shape == (3, 5) and z_se.shape == (3, 16) and z_lstm.shape == (3, 16)
    assert SEResNetBranchLite(sfreq)(torch.randn(2, 1, n_times)).shape == (2, 64)
    assert CNNLSTMBranchLite(sfreq, embedding_dim=8)(torch.randn(2, 1, n_times)).shape == (2, 8)
    paper = SSCSleepNet(sfreq=sfreq, **SMALL_PAPER).eval()
    logits, u, v = paper(torch.randn(3, 1, n_times) * 1e-5)
    assert logits.shape == (3, 5) and u.shape == (3, 16) and v.shape == (3, 16)
    assert SEResNetBranch(widths=(4, 8, 8, 8))(torch.randn(2, 1, n_times)).shape == (2, 8)
    assert CNNLSTMBranch(lstm_units=6)(torch.randn(2, 1, n_times)).shape == (2, 6)


@pytest.mark.parametrize("cls", [SSCSleepNet, SSCSleepNetLite])
def test_wrong_input_shape_is_a_clear_error(cls):
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, 1, 3000\), got"):
        cls()(torch.randn(2, 1, 2000))


@pytest.mark.parametrize(
    "net",
    [SSCSleepNetLite(), SSCSleepNet(**SMALL_PAPER)],
    ids=["lite", "paper"],
)
def test_both_branches_receive_gradients(net):
    torch.manual_seed(0)
    logits, u, v = net(torch.randn(8, 1, 3000) * 2e-5)
    (logits.logsumexp(1).mean() + (u - v).pow(2).mean()).backward()
    children = [
        child
        for name, child in net.named_children()
        if "branch" in name or name in ("se_resnet", "cnn_lstm")
    ]
    assert len(children) == 2
    for branch in children:
        grads = [p.grad for p in branch.parameters()]
        assert all(g is not None for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0


@pytest.mark.parametrize(
    "branches, shapes",
    [
        ("se_resnet", (16, 0)),
        ("cnn_lstm", (16, 0)),
        ("se_resnet+se_resnet", (16, 16)),
        ("cnn_lstm+cnn_lstm", (16, 16)),
    ],
)
def test_the_papers_model_variants(branches, shapes):
    """Fig. 3's variants: one branch alone, or two of one kind (not sharing weights)."""
    net = SSCSleepNet(branches=branches, **SMALL_PAPER).eval()
    logits, u, v = net(torch.randn(2, 1, 3000) * 2e-5)
    assert logits.shape == (2, 5) and (u.shape[1], v.shape[1]) == shapes
    if net.branch_b is not None:
        assert type(net.branch_a) is type(net.branch_b)
        assert {id(p) for p in net.branch_a.parameters()}.isdisjoint(
            id(p) for p in net.branch_b.parameters()
        )
        assert not torch.allclose(u, v)  # two independent branches see the epoch differently
    with pytest.raises(ValueError, match="branches must be one of"):
        SSCSleepNet(branches="siamese")


@pytest.mark.parametrize(
    "fusion, width", [("distance", 16), ("distance+embeddings", 48), ("euclidean", 1)]
)
def test_fusion_readings(fusion, width):
    net = SSCSleepNet(fusion=fusion, **SMALL_PAPER).eval()
    assert net.head[0].in_features == width
    x = torch.randn(3, 1, 3000) * 2e-5
    logits, u, v = net(x)
    if fusion == "distance":
        # The head reads |u - v| alone: swapping the branches' roles changes nothing.
        np.testing.assert_allclose(
            net.head((v - u).abs()).detach(), logits.detach(), rtol=1e-5, atol=1e-6
        )
    with pytest.raises(ValueError, match="fusion must be one of"):
        SSCSleepNet(fusion="cosine")


def test_paper_input_is_raw_microvolts_unless_asked():
    torch.manual_seed(0)
    net = SSCSleepNet(**SMALL_PAPER).eval()
    x = torch.randn(4, 1, 3000) * 30e-6
    # No normalisation: the amplitude reaches the network (3x gain changes the embeddings).
    assert not torch.allclose(net(x)[1], net(3 * x)[1])
    standardised = SSCSleepNet(normalization="epoch", **SMALL_PAPER).eval()
    torch.testing.assert_close(standardised(x)[1], standardised(3 * x)[1], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="normalization must be"):
        SSCSleepNet(normalization="global")


def test_epoch_normalisation_makes_the_lite_branches_gain_invariant():
    torch.manual_seed(0)
    net = SSCSleepNetLite().eval()
    x = torch.randn(4, 1, 3000) * 30e-6  # volts
    small, big = net(x), net(3 * x)
    torch.testing.assert_close(small[1], big[1], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(small[2], big[2], rtol=1e-4, atol=1e-4)
    # ... while the amplitude feature still lets the head see the gain.
    assert not torch.allclose(small[0], big[0])
    no_amplitude = SSCSleepNetLite(amplitude_feature=False).eval()
    torch.testing.assert_close(no_amplitude(x)[0], no_amplitude(3 * x)[0], rtol=1e-4, atol=1e-4)


def test_lite_global_normalisation_learns_the_training_scale():
    torch.manual_seed(0)
    net = SSCSleepNetLite(normalization="global", amplitude_feature=False)
    x = torch.randn(64, 1, 3000) * 30e-6  # volts: the net works in microvolts
    for _ in range(50):  # let the running statistics converge
        net(x)
    assert abs(float(net.input_norm.running_var) - 900) / 900 < 0.1
    with pytest.raises(ValueError, match="normalization must be"):
        SSCSleepNetLite(normalization="robust")
    with pytest.raises(ValueError, match="branches must be"):
        SSCSleepNetLite(branches="siamese")


def test_multiply_adds_counts_convolutions_linear_layers_and_lstms():
    conv = torch.nn.Conv1d(2, 3, 5, padding=2)
    assert multiply_adds(torch.nn.Sequential(torch.nn.Conv1d(1, 2, 1), conv), 10) == (
        2 * 10 * 1 + 3 * 10 * 2 * 5
    )
    lstm = CNNLSTMBranch(filters=(4, 4, 4, 4), lstm_units=3)
    # 4 gates x 3 units x (4 inputs + 3 recurrent) per step, 3000 / 8 steps.
    convs = 4 * 3000 * 50 + 4 * 1500 * 4 * 5 + 4 * 750 * 4 * 5 * 2
    assert multiply_adds(lstm, 3000) == convs + 375 * 4 * 3 * (4 + 3)


def test_augmentation_changes_gain_and_frequency_in_training_mode_only():
    t = torch.arange(3000) / 100.0
    x = (torch.sin(2 * torch.pi * 10 * t) * 1e-5).repeat(40, 1, 1)
    augment = Augmentation(gain_jitter=0.3, time_stretch=0.1)
    torch.manual_seed(0)
    out = augment(x).numpy()
    spectrum = abs(np.fft.rfft(out[:, 0], axis=-1))
    peaks = np.fft.rfftfreq(3000, 0.01)[spectrum.argmax(axis=-1)]
    assert peaks.min() >= 8.9 and peaks.max() <= 11.1 and peaks.std() > 0.3
    std = out.std(axis=-1).ravel() / float(x[0].std())
    assert 0.3 < std.min() < 0.95 and 1.05 < std.max() < 3
    torch.manual_seed(0)
    np.testing.assert_array_equal(augment(x).numpy(), out)  # torch's generator drives it
    assert torch.equal(augment.eval()(x), x)
    assert torch.equal(Augmentation(0.0, 0.0).train()(x), x)
    with pytest.raises(ValueError, match="time_stretch"):
        Augmentation(time_stretch=0.6)
    with pytest.raises(ValueError, match="gain_jitter"):
        Augmentation(gain_jitter=-1)
