import numpy as np
import pytest
import torch

from mne_sscsleep import CNNLSTMBranch, SEResNetBranch, SSCSleepNet
from mne_sscsleep.nn import Augmentation


@pytest.mark.parametrize("sfreq", [100.0, 128.0])
def test_shapes_follow_sfreq(sfreq):
    n_times = int(30 * sfreq)
    net = SSCSleepNet(sfreq=sfreq, embedding_dim=16).eval()
    logits, z_se, z_lstm = net(torch.randn(3, 1, n_times))
    assert logits.shape == (3, 5) and z_se.shape == (3, 16) and z_lstm.shape == (3, 16)
    assert SEResNetBranch(sfreq)(torch.randn(2, 1, n_times)).shape == (2, 64)
    assert CNNLSTMBranch(sfreq, embedding_dim=8)(torch.randn(2, 1, n_times)).shape == (2, 8)


def test_wrong_input_shape_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"expects input of shape \(batch, 1, 3000\), got \(2, 1, 2000\)"
    ):
        SSCSleepNet()(torch.randn(2, 1, 2000))


def test_branches_do_not_share_weights_and_both_receive_gradients():
    torch.manual_seed(0)
    net = SSCSleepNet()
    se_params = {id(p) for p in net.se_resnet.parameters()}
    assert se_params.isdisjoint(id(p) for p in net.cnn_lstm.parameters())
    logits, z_se, z_lstm = net(torch.randn(8, 1, 3000))
    (logits.logsumexp(1).mean() + z_se.sum() * 0 + z_lstm.sum() * 0).backward()
    for branch in (net.se_resnet, net.cnn_lstm):
        grads = [p.grad for p in branch.parameters()]
        assert all(g is not None for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0
    assert net.cnn_lstm.lstm.weight_ih_l0.grad.abs().sum() > 0
    assert net.se_resnet.blocks[0].se.fc1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("branches", ["se_resnet", "cnn_lstm"])
def test_single_branch_variants(branches):
    logits, z_se, z_lstm = SSCSleepNet(branches=branches).eval()(torch.randn(2, 1, 3000))
    assert logits.shape == (2, 5)
    assert z_se.shape == ((2, 0) if branches == "cnn_lstm" else (2, 64))
    assert z_lstm.shape == ((2, 0) if branches == "se_resnet" else (2, 64))
    with pytest.raises(ValueError, match="branches must be"):
        SSCSleepNet(branches="siamese")


def test_epoch_normalisation_makes_the_branches_gain_invariant():
    torch.manual_seed(0)
    net = SSCSleepNet().eval()
    x = torch.randn(4, 1, 3000) * 30e-6  # volts
    small, big = net(x), net(3 * x)
    torch.testing.assert_close(small[1], big[1], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(small[2], big[2], rtol=1e-4, atol=1e-4)
    # ... while the amplitude feature still lets the head see the gain.
    assert not torch.allclose(small[0], big[0])
    no_amplitude = SSCSleepNet(amplitude_feature=False).eval()
    torch.testing.assert_close(no_amplitude(x)[0], no_amplitude(3 * x)[0], rtol=1e-4, atol=1e-4)


def test_global_normalisation_learns_the_training_scale():
    torch.manual_seed(0)
    net = SSCSleepNet(normalization="global", amplitude_feature=False)
    x = torch.randn(64, 1, 3000) * 30e-6  # volts: the net works in microvolts
    for _ in range(50):  # let the running statistics converge
        net(x)
    assert abs(float(net.input_norm.running_var) - 900) / 900 < 0.1
    with pytest.raises(ValueError, match="normalization must be"):
        SSCSleepNet(normalization="robust")


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
