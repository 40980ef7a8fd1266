"""SSC-SleepNet as the paper draws it (Lin et al., 2025, Section II and Fig. 2).

Plain ``torch.nn.Module`` classes. Layer lists follow the paper; where it is silent or
contradicts itself, the choice made here is a constructor argument, and the reason is given in
the docstring of :class:`SSCSleepNet` and in the user guide. Shapes use ``B`` for the batch and
``T = round(30 * sfreq)`` for the samples of an epoch.
"""

from __future__ import annotations

import torch
from torch import nn

from .._stages import DEFAULT_SFREQ, EPOCH_DURATION, N_STAGES
from ._blocks import EpochNetwork, SEResidualBlock, check_epoch_batch, make_activation


class CNNLSTMBranch(nn.Module):
    """The paper's CNN-LSTM branch: four convolutions, then an LSTM of 128 units.

    ``Conv(64, k0) -> BN -> GELU -> MaxPool(2) -> Dropout -> Conv(32, 5) -> BN -> GELU ->
    MaxPool(2) -> Conv(128, 5) -> BN -> GELU -> Conv(256, 5) -> BN -> GELU -> MaxPool(2) ->
    Dropout -> LSTM(128) -> Dropout``, convolutions with stride 1 and "same" padding; the last
    hidden state of the LSTM is the branch's output.

    Parameters
    ----------
    filters : tuple of int
        Channels of the four convolutions (the paper: 64, 32, 128, 256).
    kernels : tuple of int
        Kernels of the four convolutions, in samples. The paper's text gives 50 for the first,
        its figure 5: 50 is taken (0.5 s at 100 Hz, DeepSleepNet's small filter, which the
        CNN-LSTM design descends from; a 5-sample first kernel sees 50 ms).
    lstm_units : int
        Hidden size of the LSTM (the paper: 128).
    bidirectional : bool
        The paper's LSTM reads forward only.
    dropout : float
        The paper's dropout rate (0.5).

    Notes
    -----
    Shapes: ``(B, 1, T) -> (B, lstm_units)`` (``2 * lstm_units`` if bidirectional); the LSTM
    reads ``T / 8`` steps of 256 features.

    Examples
    --------
    >>> CNNLSTMBranch()(torch.randn(2, 1, 3000)).shape
    torch.Size([2, 128])
    """

    def __init__(
        self,
        filters=(64, 32, 128, 256),
        kernels=(50, 5, 5, 5),
        lstm_units=128,
        bidirectional=False,
        dropout=0.5,
    ):
        super().__init__()
        if len(filters) != 4 or len(kernels) != 4:
            raise ValueError(
                f"filters and kernels need four values (the paper's four convolutions), got "
                f"{filters} and {kernels}."
            )

        def conv(in_channels, out_channels, kernel):
            # "Same" padding as in TensorFlow (one more zero on the right for even kernels),
            # spelled out so that PyTorch pads without copying the input.
            return [
                nn.ConstantPad1d(((kernel - 1) // 2, kernel // 2), 0.0),
                nn.Conv1d(in_channels, out_channels, kernel, bias=False),
                nn.BatchNorm1d(out_channels),
                nn.GELU(),
            ]

        f1, f2, f3, f4 = filters
        k1, k2, k3, k4 = kernels
        self.features = nn.Sequential(
            *conv(1, f1, k1),
            nn.MaxPool1d(2, 2),
            nn.Dropout(dropout),
            *conv(f1, f2, k2),
            nn.MaxPool1d(2, 2),
            *conv(f2, f3, k3),
            *conv(f3, f4, k4),
            nn.MaxPool1d(2, 2),
            nn.Dropout(dropout),
        )
        self.lstm = nn.LSTM(f4, lstm_units, batch_first=True, bidirectional=bidirectional)
        self.dropout = nn.Dropout(dropout)
        self.out_features = lstm_units * (2 if bidirectional else 1)

    def forward(self, x):
        """The LSTM's last hidden state ``(B, out_features)`` of epochs ``x`` ``(B, 1, T)``."""
        _, (hidden, _) = self.lstm(self.features(x).transpose(1, 2))
        return self.dropout(torch.cat(list(hidden), dim=1))


class SEResNetBranch(nn.Module):
    """The paper's SE-ResNet branch: a strided stem and four stages of residual SE blocks.

    ``Conv(64, 7, stride 2) -> BN -> GELU -> MaxPool(3, 2) -> SE-ResNet stages of widths
    64/128/256/512 -> GELU -> global average pooling``; a block is ``Conv(b, 3) -> BN -> GELU ->
    Conv(b, 3) -> BN -> SE(b // 16, GELU) -> + shortcut -> layer norm``.

    Parameters
    ----------
    widths : tuple of int
        Channels of the stages (the paper: 64, 128, 256, 512).
    blocks : tuple of int
        Blocks per stage. Not stated; two per stage (ResNet-18's layout) is what brings the
        whole network to the paper's ~4.6 M parameters.
    strides : tuple of int
        Stride of each stage's first block. Not stated; ResNet's 1, 2, 2, 2.
    reduction : int
        Squeeze-and-excitation ratio (the paper: 16).
    residual_norm : None | ``'layer'``
        The paper's text mentions a layer normalisation after the residual sum (its figure
        does not): ``'layer'`` follows the text.
    stem_kernel : int
        Kernel of the stem convolution (the paper: 7, stride 2).

    Notes
    -----
    Shapes: ``(B, 1, T) -> (B, widths[-1])``. Projection shortcuts (1x1 convolution + batch norm)
    where a block changes width or stride, as in ResNet; no activation after the residual sum,
    as drawn (the branch ends with one GELU).

    Examples
    --------
    >>> SEResNetBranch(widths=(8, 16, 32, 64))(torch.randn(2, 1, 3000)).shape
    torch.Size([2, 64])
    """

    def __init__(
        self,
        widths=(64, 128, 256, 512),
        blocks=(2, 2, 2, 2),
        strides=(1, 2, 2, 2),
        reduction=16,
        residual_norm="layer",
        stem_kernel=7,
    ):
        super().__init__()
        if not len(widths) == len(blocks) == len(strides):
            raise ValueError(
                f"widths, blocks and strides need one value per stage, got {widths}, {blocks} "
                f"and {strides}."
            )
        self.stem = nn.Sequential(
            nn.Conv1d(1, widths[0], stem_kernel, 2, stem_kernel // 2, bias=False),
            nn.BatchNorm1d(widths[0]),
            nn.GELU(),
            nn.MaxPool1d(3, 2, 1),
        )
        layers, in_channels = [], widths[0]
        for width, n_blocks, stride in zip(widths, blocks, strides):
            for index in range(n_blocks):
                layers.append(
                    SEResidualBlock(
                        in_channels,
                        width,
                        kernel_size=3,
                        stride=stride if index == 0 else 1,
                        reduction=reduction,
                        activation="gelu",
                        post_activation=False,
                        residual_norm=residual_norm,
                        min_hidden=1,
                    )
                )
                in_channels = width
        self.blocks = nn.Sequential(*layers)
        self.activation = nn.GELU()
        self.out_features = in_channels

    def forward(self, x):
        """Globally average-pooled features ``(B, widths[-1])`` of epochs ``x`` ``(B, 1, T)``."""
        return self.activation(self.blocks(self.stem(x))).mean(dim=-1)


_BRANCHES = {"se_resnet": SEResNetBranch, "cnn_lstm": CNNLSTMBranch}
_ARRANGEMENTS = (
    "se_resnet+cnn_lstm",
    "se_resnet",
    "cnn_lstm",
    "se_resnet+se_resnet",
    "cnn_lstm+cnn_lstm",
)
_FUSIONS = ("distance", "distance+embeddings", "euclidean")


class SSCSleepNet(EpochNetwork):
    """SSC-SleepNet as the paper specifies it: SE-ResNet and CNN-LSTM fused by their distance.

    Both branches read the same 30-s epoch and share no weights (pseudo-Siamese). Their outputs
    (512-d and 128-d) are brought to one ``embedding_dim``-d space by one linear layer each; the
    element-wise distance ``|u - v|`` of the two embeddings feeds a dense head of three layers
    (``head_widths`` hidden units, GELU, dropout 0.5) that gives the 5 stage logits. The two
    embeddings are also returned, for the contrastive term of :class:`AdaptiveLoss`.

    Where the paper is silent or contradicts itself, the choice made and why:

    - **first kernel** 50 vs 5: 50 (``cnn_kernels``), see :class:`CNNLSTMBranch`;
    - **blocks per stage, strides**: two blocks per stage, strides 1, 2, 2, 2 (``se_blocks``,
      ``se_strides``): ResNet-18's layout, the one that matches the paper's ~4.6 M parameters;
    - **layer norm after the residual sum**: kept, as the text says (``residual_norm``);
    - **one space for 512-d and 128-d outputs**: a linear projection of each to
      ``embedding_dim`` = 128 (the CNN-LSTM's width), so neither branch is privileged;
    - **element-wise vs scalar distance**: element-wise ``|u - v|`` (``fusion='distance'``), as
      in Siamese networks that classify from a distance (Koch et al., 2015): one scalar cannot
      tell five stages apart. ``'euclidean'`` gives the scalar reading, and
      ``'distance+embeddings'`` feeds ``[u, v, |u - v|]`` (see the user guide for why and how
      they compare);
    - **head widths**: 128 and 64 hidden units (``head_widths``), the smallest head of three
      dense layers that does not narrow the 128-d distance abruptly;
    - **input**: the paper describes no filtering or normalisation: none here
      (``normalization=None``); the input is scaled to microvolts.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz); the input has ``round(30 * sfreq)`` samples. Kernels are in samples,
        as in the paper, which used each dataset's native rate.
    n_classes : int
        Number of outputs (the 5 stages W, N1, N2, N3, R).
    branches : str
        ``'se_resnet+cnn_lstm'`` (SSC-SleepNet), one branch alone (``'se_resnet'``,
        ``'cnn_lstm'``: the head reads its embedding), or two branches of one kind
        (``'se_resnet+se_resnet'``, ``'cnn_lstm+cnn_lstm'``): the variants of the paper's Fig. 3.
        Two branches of one kind do not share weights either: with one input epoch, shared
        weights would make the distance zero.
    se_widths, se_blocks, se_strides : tuple of int
        SE-ResNet stages (see :class:`SEResNetBranch`).
    se_reduction : int
        Squeeze-and-excitation ratio.
    residual_norm : None | ``'layer'``
        Layer norm after each residual sum.
    cnn_filters, cnn_kernels : tuple of int
        CNN-LSTM convolutions (see :class:`CNNLSTMBranch`).
    lstm_units : int
        LSTM size.
    embedding_dim : int
        Size of the common space of the two branch outputs.
    fusion : ``'distance'`` | ``'distance+embeddings'`` | ``'euclidean'``
        What the head reads: ``|u - v|``, ``[u, v, |u - v|]`` or ``||u - v||``.
    head_widths : tuple of int
        Hidden units of the head's dense layers (the last layer gives ``n_classes``).
    dropout : float
        Dropout of the CNN-LSTM branch and the head.
    normalization : None | ``'epoch'``
        None (the paper): the input is only scaled to microvolts. ``'epoch'``: each epoch is
        standardised on its own.
    input_scale : float
        Factor from the input's unit to microvolts (``1e6`` for volts, as the classifier passes).

    Notes
    -----
    Shapes of ``forward``: ``(B, 1, T) -> (logits (B, n_classes), u (B, D), v (B, D))``; with one
    branch, ``v`` is an empty ``(B, 0)`` tensor. At 100 Hz the default network has 4,385,605
    parameters (the paper: ~4.6 M) and takes ~0.74 G multiply-adds per epoch
    (:func:`multiply_adds`).

    Examples
    --------
    >>> net = SSCSleepNet(se_widths=(8, 16, 32, 64), cnn_filters=(8, 8, 8, 8), lstm_units=8)
    >>> logits, u, v = net(20e-6 * torch.randn(2, 1, 3000))
    >>> tuple(logits.shape), tuple(u.shape), tuple(v.shape)
    ((2, 5), (2, 128), (2, 128))
    """

    def __init__(
        self,
        sfreq=DEFAULT_SFREQ,
        n_classes=N_STAGES,
        branches="se_resnet+cnn_lstm",
        se_widths=(64, 128, 256, 512),
        se_blocks=(2, 2, 2, 2),
        se_strides=(1, 2, 2, 2),
        se_reduction=16,
        residual_norm="layer",
        cnn_filters=(64, 32, 128, 256),
        cnn_kernels=(50, 5, 5, 5),
        lstm_units=128,
        embedding_dim=128,
        fusion="distance",
        head_widths=(128, 64),
        dropout=0.5,
        normalization=None,
        input_scale=1e6,
    ):
        super().__init__()
        if branches not in _ARRANGEMENTS:
            raise ValueError(f"branches must be one of {_ARRANGEMENTS}, got {branches!r}.")
        if fusion not in _FUSIONS:
            raise ValueError(f"fusion must be one of {_FUSIONS}, got {fusion!r}.")
        if normalization not in (None, "epoch"):
            raise ValueError(f"normalization must be None or 'epoch', got {normalization!r}.")
        self.n_times = int(round(sfreq * EPOCH_DURATION))
        self.input_scale = float(input_scale)
        self.normalization = normalization
        self.fusion = fusion
        options = {
            "se_resnet": dict(
                widths=tuple(se_widths),
                blocks=tuple(se_blocks),
                strides=tuple(se_strides),
                reduction=se_reduction,
                residual_norm=residual_norm,
            ),
            "cnn_lstm": dict(
                filters=tuple(cnn_filters),
                kernels=tuple(cnn_kernels),
                lstm_units=lstm_units,
                dropout=dropout,
            ),
        }
        kinds = branches.split("+")
        self.branch_a = _BRANCHES[kinds[0]](**options[kinds[0]])
        self.project_a = nn.Linear(self.branch_a.out_features, embedding_dim)
        self.branch_b = self.project_b = None
        if len(kinds) == 2:
            self.branch_b = _BRANCHES[kinds[1]](**options[kinds[1]])
            self.project_b = nn.Linear(self.branch_b.out_features, embedding_dim)
        if self.branch_b is None:
            n_fused = embedding_dim
        else:
            n_fused = {"distance": 1, "distance+embeddings": 3, "euclidean": 0}[fusion]
            n_fused = n_fused * embedding_dim or 1
        self.n_features = n_fused
        layers, width = [], n_fused
        for hidden in head_widths:
            layers += [nn.Linear(width, hidden), make_activation("gelu"), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, n_classes))
        self.head = nn.Sequential(*layers)

    def forward_features(self, x):
        """Fused features ``(B, n_features)``: ``|u - v|``, or what ``fusion`` names.

        Returns ``(fused, u, v)``, the embeddings as :meth:`forward` returns them (``u`` alone
        is fused with one branch); a context model (:class:`~mne_sscsleep.nn.ContextNet`) reads
        ``fused`` of neighbouring epochs.
        """
        check_epoch_batch(self, x)
        x = x * self.input_scale
        if self.normalization == "epoch":
            std, mean = torch.std_mean(x, dim=-1, keepdim=True)
            x = (x - mean) / std.clamp(min=1e-3)
        u = self.project_a(self.branch_a(x))
        if self.branch_b is None:
            return u, u, u.new_zeros(len(u), 0)
        v = self.project_b(self.branch_b(x))
        distance = (u - v).abs()
        if self.fusion == "distance":
            fused = distance
        elif self.fusion == "distance+embeddings":
            fused = torch.cat([u, v, distance], dim=1)
        else:
            fused = distance.pow(2).sum(dim=1, keepdim=True).add(1e-12).sqrt()
        return fused, u, v
