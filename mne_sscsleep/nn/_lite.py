"""The lite network: this package's fast CPU design of SSC-SleepNet (``preset='lite'``).

Designed from the paper's abstract before the full paper was known: small stems with
sampling-rate-aware kernels, ReLU, a 64-d embedding per branch and a concatenating head,
131,909 parameters at 100 Hz. :mod:`mne_sscsleep.nn._paper` holds the paper's network.
Plain ``torch.nn.Module`` classes. Shapes use ``B`` for the batch, ``T = round(30 * sfreq)``
for samples per epoch and ``D`` for ``embedding_dim``.
"""

from __future__ import annotations

import torch
from torch import nn

from .._stages import DEFAULT_SFREQ, EPOCH_DURATION, N_STAGES
from ._blocks import EpochNetwork, SEResidualBlock, check_epoch_batch
from ._spectral import SpectralFeatures


def _conv_bn_relu(in_channels, out_channels, kernel_size, stride, pool=1):
    """Conv -> [max-pool] -> batch norm -> ReLU.

    Pooling right after the convolution, before normalisation, runs batch norm and ReLU on
    ``pool`` times fewer values: in the stems, on the 500-sample feature maps, that makes a
    training step ~20 % faster on CPU than conv -> BN -> ReLU -> pool.
    """
    layers = [
        nn.Conv1d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=False)
    ]
    if pool > 1:
        layers.append(nn.MaxPool1d(pool))
    layers += [nn.BatchNorm1d(out_channels), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class SEResNetBranchLite(nn.Module):
    """SE-ResNet branch: conv stem, residual SE blocks, global average pooling, projection.

    The stem's kernel spans 0.5 s and strides 1/16 s (DeepSleepNet's small filter), so the blocks
    work on ~8 ms resolution features; each block after the first halves the length.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz); sets the stem's kernel and stride.
    channels : tuple of int
        Output channels of the residual blocks.
    embedding_dim : int
        Size ``D`` of the latent vector.

    Notes
    -----
    Shapes: ``(B, 1, T) -> (B, D)``.

    Examples
    --------
    >>> import torch
    >>> SEResNetBranchLite(sfreq=100.0)(torch.randn(2, 1, 3000)).shape
    torch.Size([2, 64])
    """

    def __init__(self, sfreq=DEFAULT_SFREQ, channels=(16, 32, 64), embedding_dim=64):
        super().__init__()
        stem_kernel = max(int(round(sfreq / 2)), 3)
        stem_stride = max(int(round(sfreq / 16)), 1)
        self.stem = _conv_bn_relu(1, channels[0], stem_kernel, stem_stride, pool=4)
        blocks, in_channels = [], channels[0]
        for index, out_channels in enumerate(channels):
            stride = 1 if index == 0 else 2
            blocks.append(SEResidualBlock(in_channels, out_channels, stride=stride))
            in_channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.project = nn.Linear(in_channels, embedding_dim)

    def forward(self, x):
        """One latent vector ``(B, D)`` per standardised epoch of ``x`` ``(B, 1, T)``."""
        features = self.blocks(self.stem(x))
        return self.project(features.mean(dim=-1))


class CNNLSTMBranchLite(nn.Module):
    """CNN-LSTM branch: small- and large-kernel conv paths, then a bidirectional LSTM.

    The small-kernel path (0.5-s kernel) captures waveforms such as spindles and K-complexes,
    the large-kernel path (4-s kernel) the frequency content (DeepSleepNet's two filters). Both
    are pooled to ``n_steps`` time steps, stacked along channels and read by a bidirectional LSTM;
    the last states of both directions give the latent vector.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz); sets kernels and strides.
    n_filters : int
        Channels of each conv path.
    lstm_hidden : int
        Hidden size of each LSTM direction.
    n_steps : int
        Length of the feature sequence read by the LSTM.
    embedding_dim : int
        Size ``D`` of the latent vector.

    Notes
    -----
    Shapes: ``(B, 1, T) -> (B, D)``; internally ``(B, 2 * n_filters, n_steps)`` into the LSTM.

    Examples
    --------
    >>> import torch
    >>> CNNLSTMBranchLite(sfreq=100.0, embedding_dim=32)(torch.randn(2, 1, 3000)).shape
    torch.Size([2, 32])
    """

    def __init__(
        self, sfreq=DEFAULT_SFREQ, n_filters=32, lstm_hidden=32, n_steps=16, embedding_dim=64
    ):
        super().__init__()
        small_kernel, small_stride = max(int(round(sfreq / 2)), 3), max(int(round(sfreq / 16)), 1)
        large_kernel, large_stride = max(int(round(4 * sfreq)), 3), max(int(round(sfreq / 2)), 1)
        self.small = nn.Sequential(
            _conv_bn_relu(1, n_filters, small_kernel, small_stride, pool=8),
            _conv_bn_relu(n_filters, n_filters, 7, 1),
            nn.AdaptiveAvgPool1d(n_steps),
        )
        self.large = nn.Sequential(
            _conv_bn_relu(1, n_filters, large_kernel, large_stride, pool=2),
            _conv_bn_relu(n_filters, n_filters, 5, 1),
            nn.AdaptiveAvgPool1d(n_steps),
        )
        self.lstm = nn.LSTM(2 * n_filters, lstm_hidden, batch_first=True, bidirectional=True)
        self.project = nn.Linear(2 * lstm_hidden, embedding_dim)

    def forward(self, x):
        """One latent vector ``(B, D)`` per standardised epoch of ``x`` ``(B, 1, T)``."""
        sequence = torch.cat([self.small(x), self.large(x)], dim=1).transpose(1, 2)
        _, (hidden, _) = self.lstm(sequence)  # hidden: (2, B, lstm_hidden)
        return self.project(torch.cat([hidden[0], hidden[1]], dim=1))


class SSCSleepNetLite(EpochNetwork):
    """The lite SSC-SleepNet (``preset='lite'``): a small pseudo-Siamese network for CPUs.

    Two branches that share no weights (:class:`SEResNetBranchLite`, :class:`CNNLSTMBranchLite`)
    are concatenated into 5 logits; 131,909 parameters and 5.6 M multiply-adds per epoch at
    100 Hz, against 4.4 M and 749 M for the paper's :class:`SSCSleepNet`.

    By default each epoch is standardised on its own (zero mean, unit standard deviation), so
    the branches see the shape of the signal whatever the recording's gain, which differs
    between people and amplifiers; the epoch's log standard deviation, standardised over the
    training data, joins the fused features so that amplitude (N3's high-amplitude delta)
    still counts.
    ``normalization='global'`` instead standardises by running statistics of the training data.

    ``forward`` takes a batch of *single* epochs, so prediction needs no pairs. During training,
    the pair iterator (:class:`mne_sscsleep.PairLoader`) interleaves the two epochs of each pair
    in the batch, and :class:`mne_sscsleep.AdaptiveLoss` compares the branch embeddings returned
    beside the logits.

    Differences from the paper's network (designed before the full paper was known): kernels
    follow ``sfreq`` (0.5-s and 4-s stems), ReLU instead of GELU, three SE blocks of 16-64
    channels instead of eight of 64-512, a bidirectional LSTM of 32 units over 16 pooled steps
    instead of 128 units over every step, per-epoch standardisation plus a log-amplitude
    feature, and concatenation of the branch embeddings instead of a distance.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz). Input length is ``round(30 * sfreq)`` samples.
    n_classes : int
        Number of outputs (the 5 stages W, N1, N2, N3, R).
    embedding_dim : int
        Size ``D`` of each branch's latent vector (the space of the contrastive loss).
    se_channels : tuple of int
        Channels of the SE-ResNet blocks.
    cnn_filters : int
        Channels of each CNN-LSTM conv path.
    lstm_hidden : int
        Hidden size of each LSTM direction.
    dropout : float
        Dropout before the fusion head.
    branches : ``'both'`` | ``'se_resnet'`` | ``'cnn_lstm'``
        Which branches feed the head (single-branch variants exist for ablations).
    normalization : ``'epoch'`` | ``'global'``
        Standardise each epoch on its own, or with running statistics of the training data.
    amplitude_feature : bool
        Feed the epoch's log standard deviation to the head beside the branch embeddings.
    spectral_features : bool
        Also feed the head the epoch's log relative power in the classical EEG bands (slow and
        fast delta, theta, alpha, sigma, beta: :data:`SPECTRAL_BANDS`), computed from its
        spectrum in the forward pass: features that hold across people and labs and need no
        training to extract, for training sets of a few hundred epochs.
    input_scale : float
        Factor from the input's unit to microvolts (default ``1e6``: input in volts, as MNE
        stores EEG and as :class:`mne_sscsleep.SSCSleepClassifier` passes it). Scaling here, one
        batch at a time, spares the boundary a full-size copy of the data; it sets the unit of
        the amplitude feature and of the 1e-3 uV floor on an epoch's standard deviation.

    Notes
    -----
    Shapes of ``forward``: ``(B, 1, T) -> (logits (B, n_classes), z_se (B, D), z_lstm (B, D))``;
    the embedding of a branch that is switched off is an empty ``(B, 0)`` tensor (skorch moves and
    caches outputs as tensors).

    Examples
    --------
    >>> net = SSCSleepNetLite()
    >>> logits, z_se, z_lstm = net(20e-6 * torch.randn(4, 1, 3000))  # volts
    >>> [tuple(out.shape) for out in (logits, z_se, z_lstm)]
    [(4, 5), (4, 64), (4, 64)]
    """

    def __init__(
        self,
        sfreq=DEFAULT_SFREQ,
        n_classes=N_STAGES,
        embedding_dim=64,
        se_channels=(16, 32, 64),
        cnn_filters=32,
        lstm_hidden=32,
        dropout=0.25,
        branches="both",
        normalization="epoch",
        amplitude_feature=True,
        spectral_features=False,
        input_scale=1e6,
    ):
        super().__init__()
        if branches not in ("both", "se_resnet", "cnn_lstm"):
            raise ValueError(
                f"branches must be 'both', 'se_resnet' or 'cnn_lstm', got {branches!r}."
            )
        if normalization not in ("epoch", "global"):
            raise ValueError(f"normalization must be 'epoch' or 'global', got {normalization!r}.")
        self.n_times = int(round(sfreq * EPOCH_DURATION))
        self.normalization = normalization
        self.amplitude_feature = bool(amplitude_feature)
        self.input_scale = float(input_scale)
        # Global: running mean/variance over the training data. Epoch: each epoch is
        # standardised on its own; its log standard deviation (standardised over training by
        # `amplitude_norm`) can join the fused features.
        self.input_norm = nn.BatchNorm1d(1, affine=False) if normalization == "global" else None
        self.amplitude_norm = nn.BatchNorm1d(1, affine=False) if amplitude_feature else None
        self.se_resnet = (
            SEResNetBranchLite(sfreq, tuple(se_channels), embedding_dim)
            if branches in ("both", "se_resnet")
            else None
        )
        self.cnn_lstm = (
            CNNLSTMBranchLite(sfreq, cnn_filters, lstm_hidden, embedding_dim=embedding_dim)
            if branches in ("both", "cnn_lstm")
            else None
        )
        self.spectral = SpectralFeatures(sfreq) if spectral_features else None
        n_fused = (
            embedding_dim * (2 if branches == "both" else 1)
            + int(self.amplitude_feature)
            + (self.spectral.n_features if self.spectral is not None else 0)
        )
        self.n_features = n_fused
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(n_fused, embedding_dim),
            nn.ReLU(),
            nn.Linear(embedding_dim, n_classes),
        )

    def forward_features(self, x):
        """Fused features ``(B, n_features)``: both branch embeddings and the amplitude feature.

        Returns ``(fused, z_se, z_lstm)``, the embeddings as :meth:`forward` returns them; a
        context model (:class:`~mne_sscsleep.nn.ContextNet`) reads ``fused`` of neighbouring
        epochs.
        """
        check_epoch_batch(self, x)
        std, mean = torch.std_mean(x, dim=-1, keepdim=True)
        scale = (std * self.input_scale).clamp(min=1e-3)  # (B, 1, 1), microvolts
        if self.input_norm is not None:
            x = self.input_norm(x * self.input_scale)
        else:
            x = (x - mean) * (self.input_scale / scale)
        z_se = self.se_resnet(x) if self.se_resnet is not None else None
        z_lstm = self.cnn_lstm(x) if self.cnn_lstm is not None else None
        features = [z for z in (z_se, z_lstm) if z is not None]
        if self.amplitude_norm is not None:
            features.append(self.amplitude_norm(scale.log().squeeze(-1)))
        if self.spectral is not None:
            features.append(self.spectral(x))
        absent = x.new_zeros(len(x), 0)
        z_se = absent if z_se is None else z_se
        z_lstm = absent if z_lstm is None else z_lstm
        return torch.cat(features, dim=1), z_se, z_lstm
