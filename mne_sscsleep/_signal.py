"""Resampling one channel to the model's rate: polyphase, in chunks, in bounded memory.

MNE's default resampling is one FFT of the whole signal: a 48-h recording at 256 Hz takes
gigabytes, and a 1-h recording at 10 kHz fails. Here the channel is read and resampled a chunk
at a time with a polyphase filter (:func:`scipy.signal.resample_poly`), each chunk read with
enough of its neighbours that the result equals resampling the whole signal at once; only the
output, at the model's rate, is ever held whole. Training data (the loaders) and staging use
the same filter, so a model sees at staging what it saw in training. Imports nothing of this
package.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

#: Native samples read at a time (~32 MB of float64).
CHUNK_SAMPLES = 1 << 22
# The largest up/down factor kept exact; rarer rates are approximated to within ~1e-7.
_MAX_FACTOR = 4096


def resampling_factors(sfreq, target):
    """Integer ``(up, down)`` with ``sfreq * up / down == target`` (to within ~1e-7).

    Parameters
    ----------
    sfreq : float
        Rate of the signal in Hz.
    target : float
        Rate wanted in Hz.

    Returns
    -------
    up, down : int
        The polyphase factors, in lowest terms.

    Examples
    --------
    >>> resampling_factors(256.0, 100.0)
    (25, 64)
    >>> resampling_factors(100.0, 100.0)
    (1, 1)
    """
    ratio = Fraction(str(float(target))) / Fraction(str(float(sfreq)))
    if max(ratio.numerator, ratio.denominator) > _MAX_FACTOR:
        ratio = ratio.limit_denominator(_MAX_FACTOR)
    return ratio.numerator, ratio.denominator


@lru_cache(maxsize=8)
def _filter(up, down):
    """The low-pass FIR of ``resample_poly`` (its default: a Kaiser window, beta 5)."""
    from scipy import signal

    max_rate = max(up, down)
    half_len = 10 * max_rate
    return signal.firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0))


def resampled_length(n_samples, up, down):
    """Samples after resampling ``n_samples`` by ``up / down`` (int)."""
    return -(-int(n_samples) * up // down)


def resample(x, up, down):
    """Resample a 1-D signal by ``up / down`` (the whole signal at once).

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        The signal.
    up, down : int
        Factors from :func:`resampling_factors`.

    Returns
    -------
    y : ndarray of float64, shape (ceil(n_samples * up / down),)
        The resampled signal.
    """
    from scipy import signal

    if up == down == 1:
        return np.asarray(x, dtype=np.float64)
    taps = _filter(up, down)
    return signal.resample_poly(x, up, down, window=taps, padtype="reflect")


def resample_in_chunks(read, n_samples, up, down, *, chunk=CHUNK_SAMPLES):
    """Yield a long signal resampled by ``up / down``, one chunk at a time.

    Each chunk is read with the neighbouring samples the filter reaches, so the chunks joined
    equal :func:`resample` of the whole signal.

    Parameters
    ----------
    read : callable
        ``read(start, stop)`` returns the native samples ``start:stop`` (1-D).
    n_samples : int
        Length of the native signal.
    up, down : int
        Factors from :func:`resampling_factors`.
    chunk : int
        Native samples per chunk (rounded down to a multiple of ``down``).

    Yields
    ------
    start, stop : int
        The native samples the chunk covers.
    y : ndarray of float64
        The resampled samples ``ceil(start * up / down)`` to ``ceil(stop * up / down)``.
    """
    chunk = max(int(chunk) // down, 1) * down
    reach = len(_filter(up, down)) // 2 // up + 1 if (up, down) != (1, 1) else 0
    pad = -(-reach // down) * down  # a multiple of down keeps output positions whole
    n_out = resampled_length(n_samples, up, down)
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        low, high = max(start - pad, 0), min(stop + pad, n_samples)
        y = resample(read(low, high), up, down)
        first = (start - low) * up // down
        n_kept = (n_out if stop == n_samples else stop * up // down) - start * up // down
        yield start, stop, y[first : first + n_kept]
