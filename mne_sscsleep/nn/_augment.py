"""Training-time augmentation of EEG batches, as a module that runs on the model's device."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Augmentation(nn.Module):
    """Random gain and time stretch of each epoch of a training batch.

    ``x(t) -> g * x(c + (t - c) * s)`` about the epoch's centre ``c``, with linear interpolation
    and positions beyond the edges mirrored back into the epoch (one ``grid_sample``), where
    ``log g ~ N(0, gain_jitter**2)`` and ``s ~ U(1 - time_stretch, 1 + time_stretch)``.

    Amplitude varies between subjects and amplifiers, and individual alpha and spindle
    frequencies differ by about 10 % between people; both augmentations keep the model from
    learning one subject's. The module is the identity in evaluation mode (``.eval()``), so the
    classifier applies it to every batch and only training batches change. Random draws use
    torch's generator on the batch's device (seeded by the classifier's ``random_state``).

    Parameters
    ----------
    gain_jitter : float
        Standard deviation of the log-gain; 0 disables the gain change.
    time_stretch : float
        Maximum relative stretch, in [0, 0.5); 0 disables the stretch.

    Notes
    -----
    Shapes: ``(B, 1, T) -> (B, 1, T)``.

    Examples
    --------
    >>> augment = Augmentation(gain_jitter=0.3, time_stretch=0.1)
    >>> x = torch.randn(4, 1, 3000)
    >>> augment(x).shape, torch.equal(augment.eval()(x), x)
    (torch.Size([4, 1, 3000]), True)
    """

    def __init__(self, gain_jitter=0.3, time_stretch=0.1):
        super().__init__()
        if not gain_jitter >= 0:
            raise ValueError(f"gain_jitter must be >= 0, got {gain_jitter}.")
        if not 0.0 <= time_stretch < 0.5:
            raise ValueError(f"time_stretch must be in [0, 0.5), got {time_stretch}.")
        self.gain_jitter = float(gain_jitter)
        self.time_stretch = float(time_stretch)

    def forward(self, x):
        """Augment a training batch ``x`` ``(B, 1, T)`` (identity in evaluation mode)."""
        if not self.training:
            return x
        n_epochs = x.shape[0]
        if self.time_stretch:
            factors = 1.0 + self.time_stretch * (
                2.0 * torch.rand(n_epochs, 1, device=x.device, dtype=x.dtype) - 1.0
            )
            # grid_sample reads positions in [-1, 1] (align_corners: -1 and 1 are the end samples).
            positions = torch.linspace(-1.0, 1.0, x.shape[-1], device=x.device, dtype=x.dtype)
            positions = positions * factors
            grid = torch.stack([positions, torch.zeros_like(positions)], dim=-1)[:, None]
            x = F.grid_sample(
                x[:, :, None, :],
                grid,
                mode="bilinear",
                padding_mode="reflection",
                align_corners=True,
            )[:, :, 0, :]
        if self.gain_jitter:
            gains = torch.exp(
                self.gain_jitter * torch.randn(n_epochs, 1, 1, device=x.device, dtype=x.dtype)
            )
            x = x * gains
        return x

    def extra_repr(self):
        return f"gain_jitter={self.gain_jitter}, time_stretch={self.time_stretch}"
