"""Spectral features computed inside the network: log relative power in the EEG bands."""

from __future__ import annotations

import math

import torch
from torch import nn

#: Frequency bands (Hz) of :class:`SpectralFeatures`.
#:
#: Slow and fast delta, theta, alpha, sigma, beta: YASA's, whose feature model stages well from
#: a few hundred epochs.
SPECTRAL_BANDS = ((0.4, 1.0), (1.0, 4.0), (4.0, 8.0), (8.0, 12.0), (12.0, 16.0), (16.0, 30.0))


class SpectralFeatures(nn.Module):
    """Log relative band powers of each epoch (Welch: 5-s Hann segments, half overlap).

    Relative powers do not depend on the recording's gain; they are standardised over the
    training data (batch norm without affine parameters), as the network's other features.

    Parameters
    ----------
    sfreq : float
        Sampling rate of the input in Hz.
    bands : tuple of (float, float)
        Frequency bands in Hz.
    segment : float
        Length of the Welch segments in seconds.

    Notes
    -----
    Shapes: ``(B, 1, T) -> (B, len(bands))``.

    Examples
    --------
    >>> features = SpectralFeatures(100.0)
    >>> features(torch.randn(4, 1, 3000)).shape
    torch.Size([4, 6])
    """

    def __init__(self, sfreq, bands=SPECTRAL_BANDS, segment=5.0):
        super().__init__()
        self.n_fft = int(round(segment * sfreq))
        freqs = torch.fft.rfftfreq(self.n_fft, 1.0 / sfreq)
        usable = [(low, min(high, sfreq / 2)) for low, high in bands if low < sfreq / 2]
        weights = torch.stack([((freqs >= low) & (freqs < high)).float() for low, high in usable])
        self.register_buffer("weights", weights, persistent=False)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        self.n_features = len(usable)
        self.norm = nn.BatchNorm1d(self.n_features, affine=False)

    def forward(self, x):
        """Log relative band powers.

        Parameters
        ----------
        x : Tensor, shape (B, 1, T)
            Epochs (any unit).

        Returns
        -------
        features : Tensor, shape (B, n_features)
            Standardised log relative powers.
        """
        segments = x[:, 0].float().unfold(-1, self.n_fft, self.n_fft // 2)
        power = torch.fft.rfft(segments * self.window).abs().square().mean(dim=1)
        band = power @ self.weights.T
        relative = band / band.sum(dim=1, keepdim=True).clamp(min=1e-12)
        return self.norm(torch.log(relative + 1e-6) / math.log(10))
