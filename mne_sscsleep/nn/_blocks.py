"""Building blocks shared by the two networks: squeeze-and-excitation and residual SE blocks."""

from __future__ import annotations

import torch
from torch import nn

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


def make_activation(name):
    """A fresh activation module by name (``'relu'`` or ``'gelu'``).

    Parameters
    ----------
    name : str
        ``'relu'`` or ``'gelu'``.

    Returns
    -------
    module : torch.nn.Module
        The activation.

    Examples
    --------
    >>> make_activation("gelu")
    GELU(approximate='none')
    """
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation must be 'relu' or 'gelu', got {name!r}.")
    return _ACTIVATIONS[name]()


class ChannelLayerNorm(nn.Module):
    """Layer normalisation over the channels of each time step of ``(B, C, L)`` feature maps.

    What Keras' ``LayerNormalization()`` does on ``(B, L, C)`` tensors, the layout of the
    paper's TensorFlow code.

    Parameters
    ----------
    n_channels : int
        Channels ``C``.

    Examples
    --------
    >>> ChannelLayerNorm(8)(torch.randn(2, 8, 30)).shape
    torch.Size([2, 8, 30])
    """

    def __init__(self, n_channels):
        super().__init__()
        self.norm = nn.LayerNorm(n_channels)

    def forward(self, x):
        """Normalise each time step of ``x`` ``(B, C, L)`` over its channels."""
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class SqueezeExcitation(nn.Module):
    """Channel attention (Hu et al., 2018): ``x * sigmoid(W2 act(W1 mean_t(x)))``.

    Parameters
    ----------
    n_channels : int
        Channels ``C`` of the input ``(B, C, L)``.
    reduction : int
        Bottleneck ratio of the two fully connected layers.
    activation : ``'relu'`` | ``'gelu'``
        Activation of the bottleneck.
    min_hidden : int
        Fewest units of the bottleneck.

    Examples
    --------
    >>> SqueezeExcitation(16)(torch.randn(2, 16, 50)).shape
    torch.Size([2, 16, 50])
    """

    def __init__(self, n_channels, reduction=8, activation="relu", min_hidden=4):
        super().__init__()
        hidden = max(n_channels // reduction, min_hidden)
        self.fc1 = nn.Linear(n_channels, hidden)
        self.activation = make_activation(activation)
        self.fc2 = nn.Linear(hidden, n_channels)

    def forward(self, x):
        """Scale each channel of ``x`` ``(B, C, L)`` by its learnt weight in (0, 1)."""
        scale = torch.sigmoid(self.fc2(self.activation(self.fc1(x.mean(dim=-1)))))
        return x * scale.unsqueeze(-1)


class SEResidualBlock(nn.Module):
    """Two 1-D convolutions with batch norm, squeeze-and-excitation and a shortcut.

    ``conv -> BN -> act -> conv -> BN -> SE``, plus the shortcut (identity, or a 1x1 convolution
    with batch norm when the shape changes), then optionally ``act`` and/or a layer norm.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of input and output.
    kernel_size : int
        Kernel of both convolutions.
    stride : int
        Stride of the first convolution (and of the projection shortcut).
    reduction : int
        Bottleneck ratio of the squeeze-and-excitation.
    activation : ``'relu'`` | ``'gelu'``
        Activation inside the block (and of the SE bottleneck).
    post_activation : bool
        Apply the activation after the residual sum (ResNet's habit; the paper draws none).
    residual_norm : None | ``'layer'``
        Normalisation after the residual sum (the paper's text mentions a layer norm).
    min_hidden : int
        Fewest units of the SE bottleneck.

    Notes
    -----
    Shapes: ``(B, C_in, L) -> (B, C_out, ceil(L / stride))``.

    Examples
    --------
    >>> SEResidualBlock(8, 16, stride=2)(torch.randn(2, 8, 100)).shape
    torch.Size([2, 16, 50])
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size=7,
        stride=1,
        reduction=8,
        activation="relu",
        post_activation=True,
        residual_norm=None,
        min_hidden=4,
    ):
        super().__init__()
        if residual_norm not in (None, "layer"):
            raise ValueError(f"residual_norm must be None or 'layer', got {residual_norm!r}.")
        padding = kernel_size // 2
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn1 = nn.BatchNorm1d(out_channels)
        self.activation = make_activation(activation)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size, 1, padding, bias=False)
        self.bn2 = nn.BatchNorm1d(out_channels)
        self.se = SqueezeExcitation(out_channels, reduction, activation, min_hidden)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm1d(out_channels),
            )
        self.post_activation = bool(post_activation)
        self.norm = ChannelLayerNorm(out_channels) if residual_norm == "layer" else None

    def forward(self, x):
        """The block's output ``(B, C_out, ceil(L / stride))`` of ``x`` ``(B, C_in, L)``."""
        out = self.activation(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out))) + self.shortcut(x)
        if self.post_activation:
            out = self.activation(out)
        if self.norm is not None:
            out = self.norm(out)
        return out


def check_epoch_batch(network, x):
    """Refuse a batch that is not ``(B, 1, network.n_times)`` with a message naming both shapes.

    Parameters
    ----------
    network : torch.nn.Module
        A per-epoch network with an ``n_times`` attribute.
    x : Tensor
        The batch.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> check_epoch_batch(SimpleNamespace(n_times=3000), torch.zeros(2, 1, 3000))
    """
    if x.ndim != 3 or x.shape[1] != 1 or x.shape[2] != network.n_times:
        raise ValueError(
            f"{type(network).__name__} expects input of shape (batch, 1, {network.n_times}), "
            f"got {tuple(x.shape)}."
        )


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


def multiply_adds(module, n_times):
    """Count the multiply-adds of one forward pass of one epoch (convolutions, linears, LSTMs).

    Batch norm, activations, pooling and the squeeze-and-excitation's elementwise products are
    left out (a few percent at most).

    Parameters
    ----------
    module : torch.nn.Module
        A network taking ``(B, 1, n_times)``.
    n_times : int
        Samples per epoch.

    Returns
    -------
    macs : int
        Multiply-adds per epoch.

    Examples
    --------
    >>> multiply_adds(torch.nn.Conv1d(1, 4, 5, padding=2), 100)
    2000
    """
    total = 0

    def count(layer, inputs, output):
        nonlocal total
        if isinstance(layer, nn.Conv1d):
            kernel = layer.in_channels // layer.groups * layer.kernel_size[0]
            total += output.shape[1] * output.shape[2] * kernel
        elif isinstance(layer, nn.Linear):
            total += output.numel() // output.shape[0] * layer.in_features
        elif isinstance(layer, nn.LSTM):
            steps = inputs[0].shape[1]
            directions = 2 if layer.bidirectional else 1
            size_in, hidden = layer.input_size, layer.hidden_size
            for depth in range(layer.num_layers):
                width = size_in if depth == 0 else hidden * directions
                total += directions * steps * 4 * hidden * (width + hidden)

    hooks = [
        layer.register_forward_hook(count)
        for layer in module.modules()
        if isinstance(layer, (nn.Conv1d, nn.Linear, nn.LSTM))
    ]
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros(1, 1, n_times))
    finally:
        for hook in hooks:
            hook.remove()
        module.train(was_training)
    return int(total)


class EpochNetwork(nn.Module):
    """Base of the single-epoch networks: the head over ``forward_features``.

    A subclass defines ``head`` and ``forward_features(x) -> (fused, first, second)``; a
    context model (:class:`~mne_sscsleep.nn.ContextNet`) reads ``forward_features`` of
    neighbouring epochs.
    """

    def forward_features(self, x):
        """The fused features the head reads, and the branch embeddings.

        A context model (:class:`~mne_sscsleep.nn.ContextNet`) reads the fused features of
        neighbouring epochs.

        Parameters
        ----------
        x : Tensor, shape (B, 1, T)
            EEG epochs in the input's unit.

        Returns
        -------
        fused : Tensor, shape (B, n_features)
            What the head reads.
        first, second : Tensor, shape (B, D) or (B, 0)
            The branch embeddings, as :meth:`forward` returns them.
        """
        raise NotImplementedError(f"{type(self).__name__} must define forward_features")

    def forward(self, x):
        """Compute the logits and the two branch embeddings of single epochs.

        Parameters
        ----------
        x : Tensor, shape (B, 1, T)
            EEG epochs in the input's unit (volts by default, see ``input_scale``).

        Returns
        -------
        logits : Tensor, shape (B, n_classes)
            Unnormalised stage scores.
        first, second : Tensor, shape (B, D) or (B, 0)
            The branch embeddings, in the order of the network's branches (empty when a
            branch is switched off).
        """
        fused, first, second = self.forward_features(x)
        return self.head(fused), first, second
