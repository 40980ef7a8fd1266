"""Hand-crafted spectral features: the classical baseline the deep model must beat."""

from __future__ import annotations

import numpy as np

#: EEG bands (Hz) of the features: delta (slow and fast), theta, alpha, sigma, beta, gamma.
BANDS = ((0.5, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 12.0), (12.0, 16.0), (16.0, 30.0), (30.0, 45.0))


def spectral_features(data, sfreq):
    """Log relative band powers, log total power and log peak-to-peak amplitude per epoch.

    The approach of MNE's sleep-staging tutorial (Welch power in canonical bands), plus the
    amplitude features that distinguish N3.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_times) or (n_epochs, 1, n_times)
        One channel of EEG (any unit; features are logs, so a unit change shifts two columns).
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    features : ndarray, shape (n_epochs, len(BANDS) + 2)
    """
    from scipy.signal import welch

    data = np.asarray(data).reshape(len(data), -1)
    freqs, power = welch(data, fs=sfreq, nperseg=int(4 * sfreq))
    bands = [(low, min(high, sfreq / 2)) for low, high in BANDS if low < sfreq / 2]
    band_power = np.stack(
        [power[:, (freqs >= low) & (freqs < high)].mean(axis=1) for low, high in bands], axis=1
    )
    total = band_power.sum(axis=1, keepdims=True)
    tiny = np.finfo(float).tiny
    return np.column_stack(
        [
            np.log(band_power / total + tiny),
            np.log(total + tiny),
            np.log(np.ptp(data, axis=1) + tiny),
        ]
    )
