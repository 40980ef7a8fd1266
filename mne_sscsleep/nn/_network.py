"""SSC-SleepNet: the pseudo-Siamese network that fuses the two branches into stage logits."""

from __future__ import annotations

import torch
from torch import nn

from .._stages import DEFAULT_SFREQ, EPOCH_DURATION, N_STAGES
from ._branches import CNNLSTMBranch, SEResNetBranch


def stage_softmax(logits):
    """Stage probabilities from logits: a softmax over the last dimension.

    The classifier's ``predict_nonlinearity`` (a module-level function, so estimators pickle and
    model files can name it).

    Parameters
    ----------
    logits : Tensor, shape (B, n_classes)
        Unnormalised stage scores.

    Returns
    -------
    proba : Tensor, shape (B, n_classes)
        Rows sum to 1.

    Examples
    --------
    >>> stage_softmax(torch.zeros(1, 5))
    tensor([[0.2000, 0.2000, 0.2000, 0.2000, 0.2000]])
    """
    return torch.softmax(logits, dim=-1)


class SSCSleepNet(nn.Module):
    """Pseudo-Siamese SSC-SleepNet: two branches that share no weights, fused into 5 logits.

    By default each epoch is standardised on its own (zero mean, unit standard deviation), so the
    branches see the shape of the signal whatever the recording's gain, which differs between
    people and amplifiers; the epoch's log standard deviation, standardised over the training
    data, joins the fused features so that amplitude (N3's high-amplitude delta) still counts.
    ``normalization='global'`` instead standardises by running statistics of the training data.

    ``forward`` takes a batch of *single* epochs, so prediction needs no pairs. During training,
    the pair iterator (:class:`mne_sscsleep.PairLoader`) interleaves the two epochs of each pair
    in the batch, and :class:`mne_sscsleep.AdaptiveLoss` compares the branch embeddings returned
    beside the logits.

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
    >>> net = SSCSleepNet()
    >>> logits, z_se, z_lstm = net(20e-6 * torch.randn(4, 1, 3000))  # volts
    >>> tuple(logits.shape), tuple(z_se.shape), tuple(z_lstm.shape)
    ((4, 5), (4, 64), (4, 64))
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
            SEResNetBranch(sfreq, tuple(se_channels), embedding_dim)
            if branches in ("both", "se_resnet")
            else None
        )
        self.cnn_lstm = (
            CNNLSTMBranch(sfreq, cnn_filters, lstm_hidden, embedding_dim=embedding_dim)
            if branches in ("both", "cnn_lstm")
            else None
        )
        n_fused = embedding_dim * (2 if branches == "both" else 1) + int(self.amplitude_feature)
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(n_fused, embedding_dim),
            nn.ReLU(),
            nn.Linear(embedding_dim, n_classes),
        )

    def forward(self, x):
        """Compute the logits and branch embeddings of single epochs.

        Parameters
        ----------
        x : Tensor, shape (B, 1, T)
            EEG epochs in the input's unit (volts by default, see ``input_scale``).

        Returns
        -------
        logits : Tensor, shape (B, n_classes)
            Unnormalised stage scores.
        z_se : Tensor, shape (B, D) or (B, 0)
            SE-ResNet embedding (empty when that branch is switched off).
        z_lstm : Tensor, shape (B, D) or (B, 0)
            CNN-LSTM embedding (empty when that branch is switched off).
        """
        if x.ndim != 3 or x.shape[1] != 1 or x.shape[2] != self.n_times:
            raise ValueError(
                f"SSCSleepNet expects input of shape (batch, 1, {self.n_times}), got "
                f"{tuple(x.shape)}."
            )
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
        absent = x.new_zeros(len(x), 0)
        z_se = absent if z_se is None else z_se
        z_lstm = absent if z_lstm is None else z_lstm
        return self.head(torch.cat(features, dim=1)), z_se, z_lstm
