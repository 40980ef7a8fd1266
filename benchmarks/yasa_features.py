"""Hand-crafted features: the classical baselines the deep model must beat.

:func:`spectral_features` is the approach of MNE's sleep-staging tutorial (band powers of each
epoch alone). :func:`yasa_features` follows YASA's ``SleepStaging`` (Vallat & Walker, eLife
2021): its EEG feature set, per-night robust scaling of a centred 7.5-min and a past 2-min
rolling average of every feature, and the time of night, so that a gradient-boosting model on
them sees about 7 minutes of context, as YASA's pretrained stager does. Written from YASA's
description and public code with NumPy/SciPy only (YASA, antropy and LightGBM are not needed).
"""

from __future__ import annotations

import numpy as np

#: Seconds per epoch (the AASM manual's).
EPOCH_DURATION = 30.0

#: EEG bands (Hz) of the features: delta (slow and fast), theta, alpha, sigma, beta, gamma.
BANDS = ((0.5, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 12.0), (12.0, 16.0), (16.0, 30.0), (30.0, 45.0))
#: YASA's bands (Hz) and names.
YASA_BANDS = (
    (0.4, 1.0, "sdelta"),
    (1.0, 4.0, "fdelta"),
    (4.0, 8.0, "theta"),
    (8.0, 12.0, "alpha"),
    (12.0, 16.0, "sigma"),
    (16.0, 30.0, "beta"),
)
#: YASA's broadband filter and total-power range (Hz).
YASA_BROADBAND = (0.4, 30.0)
#: Epochs of YASA's centred (triangular, 7.5 min) and past (2 min) rolling windows.
YASA_CENTRED_WINDOW, YASA_PAST_WINDOW = 15, 4


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


def yasa_features(data, sfreq, recording=None):
    """YASA's EEG features with its rolling context, per recording.

    For each 30-s epoch (after a 0.4-30 Hz filter of each recording's continuous signal, in
    microvolts): standard deviation, interquartile range, skewness, kurtosis, zero crossings,
    Hjorth mobility and complexity, relative power in six bands (Welch, 5-s Hamming windows,
    median averaging), the delta/theta, delta/sigma, delta/beta and alpha/theta ratios, total
    power, permutation entropy (order 3), Higuchi (k_max 10) and Petrosian fractal dimensions.
    Then, per recording, a centred triangular rolling mean over 15 epochs (7.5 min) and a past
    rolling mean over 4 epochs (2 min) of every feature, each robust-scaled over the night
    (median and 5-95 % range), and the time since the recording's start (hours, and as a
    fraction of the night).

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_times) or (n_epochs, 1, n_times)
        One channel of EEG in volts, consecutive epochs of each recording in time order.
    sfreq : float
        Sampling rate in Hz.
    recording : array-like, shape (n_epochs,) | None
        Recording of each epoch (None: one recording). Rolling windows and scaling stay within
        a recording.

    Returns
    -------
    features : ndarray of float64, shape (n_epochs, 3 * 21 + 2)
        The 21 epoch features, their centred and past rolling versions, and the two time
        features.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> yasa_features(20e-6 * rng.standard_normal((20, 3000)), 100.0).shape
    (20, 65)
    """
    import pandas as pd
    from mne.filter import filter_data
    from sklearn.preprocessing import robust_scale

    data = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    recording = np.zeros(len(data), int) if recording is None else np.asarray(recording)
    out = np.empty((len(data), 3 * 21 + 2))
    for name in pd.unique(recording):
        rows = np.flatnonzero(recording == name)
        signal = data[rows].ravel() * 1e6
        if len(signal) > 3 * sfreq:  # FIR filter of the night, as YASA filters the recording
            signal = filter_data(signal, sfreq, *YASA_BROADBAND, verbose="error")
        epochs = signal.reshape(len(rows), -1)
        features = pd.DataFrame(_epoch_features(epochs, sfreq))
        centred = features.rolling(
            YASA_CENTRED_WINDOW, center=True, min_periods=1, win_type="triang"
        ).mean()
        past = features.rolling(YASA_PAST_WINDOW, min_periods=1).mean()
        hours = np.arange(len(rows)) * EPOCH_DURATION / 3600
        out[rows] = np.column_stack(
            [
                features.to_numpy(),
                robust_scale(centred.to_numpy(), quantile_range=(5, 95)),
                robust_scale(past.to_numpy(), quantile_range=(5, 95)),
                hours,
                hours / max(hours[-1], 1e-12),
            ]
        )
    return out


def _epoch_features(epochs, sfreq):
    """The 21 per-epoch features of YASA (epochs in microvolts, shape (n, n_times))."""
    from scipy import stats
    from scipy.signal import welch

    tiny = np.finfo(float).tiny
    diff1 = np.diff(epochs, axis=1)
    diff2 = np.diff(diff1, axis=1)
    var0, var1, var2 = epochs.var(axis=1), diff1.var(axis=1), diff2.var(axis=1)
    mobility = np.sqrt(var1 / (var0 + tiny))
    complexity = np.sqrt(var2 / (var1 + tiny)) / (mobility + tiny)
    features = {
        "std": epochs.std(axis=1, ddof=1),
        "iqr": stats.iqr(epochs, axis=1),
        "skew": stats.skew(epochs, axis=1),
        "kurt": stats.kurtosis(epochs, axis=1),
        "nzc": (np.diff(np.signbit(epochs), axis=1)).sum(axis=1).astype(float),
        "hmob": mobility,
        "hcomp": complexity,
    }
    freqs, psd = welch(
        epochs, sfreq, window="hamming", nperseg=int(5 * sfreq), average="median", axis=1
    )
    resolution = freqs[1] - freqs[0]
    broad = (freqs >= YASA_BROADBAND[0]) & (freqs <= YASA_BROADBAND[1])
    total = psd[:, broad].sum(axis=1) * resolution + tiny
    for low, high, name in YASA_BANDS:
        band = (freqs >= low) & (freqs <= high)
        features[name] = psd[:, band].sum(axis=1) * resolution / total
    features["dt"] = features["fdelta"] / (features["theta"] + tiny)
    features["ds"] = features["fdelta"] / (features["sigma"] + tiny)
    features["db"] = features["fdelta"] / (features["beta"] + tiny)
    features["at"] = features["alpha"] / (features["theta"] + tiny)
    features["abspow"] = np.trapezoid(psd[:, broad], dx=resolution, axis=1)
    features["perm"] = _permutation_entropy(epochs)
    features["higuchi"] = _higuchi_fd(epochs)
    features["petrosian"] = _petrosian_fd(diff1)
    return features


def _permutation_entropy(epochs):
    """Normalised permutation entropy of order 3, delay 1 (antropy's default)."""
    a, b, c = epochs[:, :-2], epochs[:, 1:-1], epochs[:, 2:]
    code = (a < b).astype(np.int8) * 4 + (b < c) * 2 + (a < c)
    counts = np.stack([(code == value).sum(axis=1) for value in range(8)], axis=1)
    p = counts / counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=1)
    return entropy / np.log2(6)


def _higuchi_fd(epochs, kmax=10):
    """Higuchi fractal dimension (antropy's definition), vectorised over epochs."""
    n_times = epochs.shape[1]
    lengths = []
    for k in range(1, kmax + 1):
        per_offset = []
        for m in range(k):
            samples = epochs[:, m::k]
            n_steps = samples.shape[1] - 1
            if n_steps < 1:
                continue
            curve = np.abs(np.diff(samples, axis=1)).sum(axis=1)
            per_offset.append(curve * (n_times - 1) / (n_steps * k) / k)
        lengths.append(np.mean(per_offset, axis=0))
    log_k = np.log(1.0 / np.arange(1, kmax + 1))
    log_l = np.log(np.maximum(np.stack(lengths, axis=1), np.finfo(float).tiny))
    centred_k = log_k - log_k.mean()
    return (log_l - log_l.mean(axis=1, keepdims=True)) @ centred_k / (centred_k @ centred_k)


def _petrosian_fd(diff1):
    """Petrosian fractal dimension from the first difference (antropy's definition)."""
    n_times = diff1.shape[1] + 1
    changes = (np.diff(np.signbit(diff1), axis=1)).sum(axis=1)
    return np.log10(n_times) / (np.log10(n_times) + np.log10(n_times / (n_times + 0.4 * changes)))
