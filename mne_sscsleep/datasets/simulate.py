"""A simulator of single-channel sleep EEG, for tests, demos and documentation.

.. warning::
   The simulator is **not** a substitute for real polysomnography. It exists so that tests, the
   demo and the documentation run anywhere, offline, in seconds. Scores on simulated nights say
   that the code works and learns, not how well it stages real sleep.
"""

from __future__ import annotations

import numpy as np

from .._stages import EPOCH_DURATION, SIMULATED_DESCRIPTION, STAGES
from ._recordings import labelled_epochs_array

W, N1, N2, N3, R = range(len(STAGES))
_SECONDS = int(EPOCH_DURATION)
#: Channel name of simulated recordings.
CHANNEL = "EEG Fpz-Cz"
# Annotations of simulated recordings, as in Sleep-EDF's hypnograms: N3 is scored with
# Rechtschaffen & Kales's stages 3 and 4 (high-amplitude delta over 20-50 % and over 50 % of
# the epoch).
_DESCRIPTIONS = ("Sleep stage W", "Sleep stage 1", "Sleep stage 2", None, "Sleep stage R")
_RK_STAGE_4_DELTA_SHARE = 0.5

# Background rhythms: amplitude (microvolts RMS) per stage W, N1, N2, N3, R. Values follow the
# AASM descriptions at a frontal-central derivation: wake shows alpha (eyes closed) and beta/EMG;
# N1 loses alpha and gains theta; N2 adds delta; N3 is dominated by high-amplitude delta; REM is
# low-amplitude mixed frequency with little muscle tone.
_BACKGROUND = np.array(
    # pink  delta theta alpha beta  emg
    [
        [6.0, 4.0, 4.0, 16.0, 5.0, 4.0],  # W (eyes closed; eyes open lowers alpha, see below)
        [8.0, 8.0, 9.0, 10.0, 3.0, 2.0],  # N1 (alpha only in the `alpha on` seconds)
        [9.0, 12.0, 8.0, 3.0, 2.0, 1.5],  # N2
        [10.0, 15.0, 8.0, 2.0, 1.5, 1.2],  # N3 (plus the high-delta seconds)
        [6.0, 6.0, 8.0, 7.0, 3.0, 0.6],  # R (alpha 1.5 Hz slower, in short bursts)
    ]
)
_PINK, _DELTA, _THETA, _ALPHA, _BETA, _EMG = range(6)
# Seconds of high-amplitude delta: RMS 40 uV gives waves of ~110 uV peak to peak (> 75 uV).
_HIGH_DELTA_UV = 40.0
# Share of each epoch's seconds with alpha (W, N1, R) or high delta (N2, N3): (low, high) of a
# uniform draw. N3 needs > 20 % high delta (AASM); N2 may have up to ~20 %, so the two overlap
# at the border, as in real scoring.
_ALPHA_SHARE = {W: (0.6, 1.0), N1: (0.05, 0.5), R: (0.0, 0.25)}
_DELTA_SHARE = {N2: (0.0, 0.18), N3: (0.22, 1.0)}

# Transient events: rate per second per stage W, N1, N2, N3, R.
_EVENTS = ("blink", "slow_eye", "vertex", "spindle", "k_complex", "rem", "sawtooth", "movement")
_EVENT_RATES = np.array(
    # blink  slow  vertex spindle kcomplex rem   sawtooth movement
    [
        [0.04, 0.01, 0.0, 0.0, 0.0, 0.0, 0.0, 0.012],  # W (eyes closed)
        [0.01, 0.04, 0.03, 0.005, 0.002, 0.0, 0.0, 0.004],  # N1
        [0.0, 0.0, 0.005, 0.06, 0.03, 0.0, 0.0, 0.002],  # N2
        [0.0, 0.0, 0.0, 0.02, 0.008, 0.0, 0.0, 0.001],  # N3
        [0.0, 0.005, 0.0, 0.0, 0.0, 0.07, 0.02, 0.002],  # R (half the epochs phasic)
    ]
)

#: Derivation families of :func:`simulate_sleep_raw`, with their channel names and rhythm mix.
#:
#: For each family: the channel name, and how each background rhythm (pink, delta, theta,
#: alpha, beta, EMG) and each transient (blink, slow eye movement, vertex wave, spindle,
#: K-complex, rapid eye movement, saw-tooth wave, movement) scales against the frontal Fpz-Cz
#: derivation, with the shift of the spindle frequency (Hz). Central
#: (C4-A1): strong spindles and vertex waves, faster spindles, jaw EMG through the mastoid, eye
#: movements far away; parietal-occipital (Pz-Oz): strong alpha, weak frontal delta, almost no
#: eye movements (as in Sleep-EDF's second channel).
DERIVATIONS = {
    "frontal": dict(
        channel="EEG Fpz-Cz",
        background=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        events=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        spindle_shift=0.0,
    ),
    "central": dict(
        channel="EEG C4-A1",
        background=(1.0, 0.85, 1.0, 1.4, 0.9, 1.4),
        events=(0.2, 0.35, 1.3, 1.6, 1.2, 0.3, 1.3, 1.0),
        spindle_shift=0.6,
    ),
    "occipital": dict(
        channel="EEG Pz-Oz",
        background=(0.8, 0.55, 0.8, 2.2, 0.8, 0.6),
        events=(0.05, 0.15, 0.6, 0.7, 0.55, 0.1, 0.8, 0.8),
        spindle_shift=0.9,
    ),
}
# Recording artefacts (artefacts=True): rate per second of electrode pops, sweat waves and
# large movements (movements mostly in wake).
_POP_RATE, _SWEAT_RATE = 1 / 900, 1 / 7200
_MOVEMENT_RATE = {W: 1 / 120, N1: 1 / 600, N2: 1 / 1800, N3: 1 / 3600, R: 1 / 1200}


def simulate_hypnogram(n_epochs=None, *, template=None, random_state=None):
    """Simulate a night's hypnogram from NREM/REM cycles and a Markov-style fragmentation.

    The night is a wake period before sleep (5-30 min, like the Sleep-EDF protocol that keeps at
    most 30 min of wake around sleep), then ~90-min cycles, then a final wake period. Cycle ``k``
    (from 0) enters through N1, descends to N2 and N3, and ends in REM; the N3 share of NREM
    shrinks (``max(0, 0.5 - 0.2 k)``) and the REM share grows (``0.12 + 0.08 k``, at most 0.45)
    through the night. Brief arousals (wake, then N1 back to sleep) and N1 at REM boundaries
    fragment the sleep, which is where most N1 is found in real nights.

    With ``template`` (a real night's hypnogram, e.g. a Sleep-EDF expert's), the night is that
    one, varied so that no two draws repeat it exactly: the wake kept before and after sleep is
    cropped to 10-30 min, and each stage change moves by up to one epoch either way. A model
    trained on such nights cannot learn a generator's transitions, only real ones.

    Parameters
    ----------
    n_epochs : int | None
        Number of 30-s epochs (ignored with ``template``).
    template : array-like of int | None
        A hypnogram (indices into :data:`mne_sscsleep.STAGES`) to vary.
    random_state : int | numpy.random.Generator | None
        Seed or generator.

    Returns
    -------
    stages : ndarray of int64, shape (n_epochs,)
        Index into :data:`mne_sscsleep.STAGES` of each epoch.

    Examples
    --------
    >>> stages = simulate_hypnogram(960, random_state=0)
    >>> stages.shape
    (960,)
    >>> varied = simulate_hypnogram(template=stages, random_state=1)
    >>> 0.9 < np.mean(varied[: len(stages)] == stages[: len(varied)]) < 1.0  # doctest: +SKIP
    True
    """
    rng = np.random.default_rng(random_state)
    if template is not None:
        return _vary_hypnogram(np.asarray(template, dtype=np.int64), rng)
    if n_epochs is None:
        raise ValueError("simulate_hypnogram needs n_epochs, or a template to vary.")
    n_epochs = int(n_epochs)
    lead_in = int(rng.integers(20, 61))
    lead_out = int(rng.integers(10, 61))
    stages = []
    cycle = 0
    while len(stages) < n_epochs - lead_in - lead_out:
        length = int(np.clip(rng.normal(180, 20), 140, 230))
        rem = int(round(length * min(0.45, 0.12 + 0.08 * cycle + rng.normal(0, 0.03))))
        nrem = length - rem
        entry = int(rng.integers(2, 8) if cycle == 0 else rng.integers(0, 4))
        deep = int(round((nrem - entry) * max(0.0, 0.5 - 0.2 * cycle + rng.normal(0, 0.05))))
        descent = int(rng.integers(15, 35))
        rest = max(nrem - entry - descent - deep, 0)
        stages += [N1] * entry + [N2] * descent + [N3] * deep + [N2] * rest + [R] * rem
        cycle += 1
    stages = np.array(stages[: max(n_epochs - lead_in - lead_out, 0)], dtype=np.int64)
    stages = _fragment(stages, rng)
    out = np.concatenate([np.full(lead_in, W), stages, np.full(lead_out, W)])
    return out[:n_epochs]


def _vary_hypnogram(template, rng):
    """A real hypnogram, cropped to 10-30 min of wake around sleep, stage changes jittered."""
    if template.ndim != 1 or not len(template) or template.min() < 0 or template.max() > R:
        raise ValueError("template must be a 1-D array of stage indices 0..4 (W, N1, N2, N3, R).")
    sleep = np.flatnonzero(template != W)
    if not len(sleep):
        raise ValueError("template holds no sleep.")
    before, after = (int(rng.integers(20, 61)) for _ in range(2))
    stages = template[max(sleep[0] - before, 0) : sleep[-1] + after + 1].copy()
    changes = np.flatnonzero(np.diff(stages)) + 1
    for change in changes:
        shift = int(rng.choice([-1, 0, 0, 1]))  # a scorer's uncertainty about a boundary
        if shift < 0 and change > 1:
            stages[change - 1] = stages[change]
        elif shift > 0 and change + 1 < len(stages):
            stages[change] = stages[change - 1]
    return stages


def _fragment(stages, rng):
    """Add arousals (W then N1), light-sleep dips and N1 at REM transitions."""
    stages = stages.copy()
    arousal_rate = {N2: 0.012, N3: 0.004, R: 0.02, N1: 0.0, W: 0.0}
    dip_rate = {N2: 0.008, N3: 0.0, R: 0.01, N1: 0.0, W: 0.0}
    position = 0
    while position < len(stages):
        stage = int(stages[position])
        draw = rng.random()
        if draw < arousal_rate[stage]:
            # Mostly brief awakenings; one in eight lasts 5-15 min (wake after sleep onset).
            wake = int(rng.integers(1, 4) if rng.random() < 0.875 else rng.integers(10, 31))
            drowsy = int(rng.integers(1, 5))
            stages[position : position + wake] = W
            stages[position + wake : position + wake + drowsy] = N1
            position += wake + drowsy
            continue
        if draw < arousal_rate[stage] + dip_rate[stage]:
            # A shift to N1 without waking, e.g. after a movement.
            drowsy = int(rng.integers(1, 4))
            stages[position : position + drowsy] = N1
            position += drowsy
            continue
        following = stages[position + 1] if position + 1 < len(stages) else stage
        if stage != following and R in (stage, following) and rng.random() < 0.6:
            # REM often begins or ends through a few epochs of N1.
            stages[position : position + int(rng.integers(1, 3))] = N1
        position += 1
    return stages


def _band_noise(n_samples, sfreq, low, high, rng, *, pink=False):
    """Unit-RMS Gaussian noise restricted to ``low``-``high`` Hz (smooth band edges).

    Drawn directly in the frequency domain (white noise has independent Gaussian Fourier
    coefficients) at a fast FFT length, then cropped.
    """
    from scipy.fft import irfft, next_fast_len

    n_fft = next_fast_len(n_samples, real=True)
    width = max(0.25, 0.1 * (high - low))
    # Coefficients beyond 12 edge widths of the band are below 1e-5: leave them zero.
    resolution = sfreq / n_fft
    first = max(int((low - 12 * width) / resolution), 0)
    last = min(int((high + 12 * width) / resolution) + 1, n_fft // 2 + 1)
    freqs = np.arange(first, last) * resolution
    gain = 1.0 / (1.0 + np.exp(-(freqs - low) / width)) / (1.0 + np.exp((freqs - high) / width))
    if pink:
        gain = gain / np.sqrt(np.maximum(freqs, low))
    spectrum = np.zeros(n_fft // 2 + 1, dtype=complex)
    spectrum[first:last] = gain * (
        rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)
    )
    noise = irfft(spectrum, n_fft)[:n_samples]
    return noise / noise.std()


def _per_second_mask(share_low_high, n_epochs, rng):
    """Mark a random, clustered share of each epoch's seconds (a smoothed random field)."""
    low, high = share_low_high
    share = rng.uniform(low, high, n_epochs)
    field = rng.standard_normal((n_epochs, _SECONDS + 4))
    field = np.stack([field[:, k : k + _SECONDS] for k in range(5)]).mean(axis=0)
    ranks = field.argsort(axis=1).argsort(axis=1) / _SECONDS
    return ranks < share[:, np.newaxis]


def _subject_params(rng):
    return dict(
        gain=float(rng.lognormal(0.0, 0.25)),
        alpha_peak=float(rng.uniform(8.5, 11.5)),
        spindle_freq=float(rng.uniform(12.0, 14.5)),
        white_noise=float(rng.uniform(1.0, 4.0)),
        line_freq=float(rng.choice([50.0, 60.0])),
        line_amplitude=float(rng.uniform(1.0, 8.0)),
        drift=float(rng.uniform(2.0, 10.0)),
    )


def simulate_subject(random_state=None, *, gain=(0.3, 3.0), line_freq=None):
    """Draw what differs between people and their recordings, for :func:`simulate_sleep_raw`.

    Parameters
    ----------
    random_state : int | numpy.random.Generator | None
        Seed or generator.
    gain : tuple of float
        Range of the overall amplitude factor (log-uniform): skull, age, electrode impedance
        and amplifier gain together.
    line_freq : float | None
        Mains frequency (50 or 60 Hz; None: either).

    Returns
    -------
    subject : dict
        ``gain``, ``alpha_peak`` (8-12 Hz) and ``spindle_freq`` (11.5-15 Hz), the strength of
        alpha, spindles and slow waves (``alpha_strength``, ``spindle_strength``,
        ``delta_strength``: some people have hardly any alpha, older people smaller slow
        waves), noise, drift and mains interference.

    Examples
    --------
    >>> subject = simulate_subject(0)
    >>> 0.3 <= subject["gain"] <= 3.0
    True
    """
    rng = np.random.default_rng(random_state)
    low, high = gain
    return dict(
        gain=float(np.exp(rng.uniform(np.log(low), np.log(high)))),
        alpha_peak=float(rng.uniform(8.0, 12.0)),
        spindle_freq=float(rng.uniform(11.5, 15.0)),
        alpha_strength=float(rng.lognormal(0.0, 0.5)),
        spindle_strength=float(rng.lognormal(0.0, 0.35)),
        delta_strength=float(rng.lognormal(0.0, 0.3)),
        white_noise=float(rng.uniform(1.0, 6.0)),
        line_freq=float(rng.choice([50.0, 60.0]) if line_freq is None else line_freq),
        line_amplitude=float(rng.uniform(1.0, 15.0)),
        drift=float(rng.uniform(2.0, 20.0)),
    )


def _simulate_night(
    stages,
    sfreq,
    rng,
    *,
    return_delta_share=False,
    subject=None,
    derivation="frontal",
    artefacts=False,
):
    """Simulate the EEG (microvolts) of one night with the given hypnogram.

    With ``return_delta_share``, also the share of each epoch's seconds with high-amplitude
    delta (the R&K criterion of stages 3 and 4); it draws nothing more from ``rng``. With the
    defaults (a subject drawn here, the frontal derivation, no artefacts) the draws from ``rng``
    are those of the first version of the simulator, so seeded nights stay the same.
    """
    n_epochs = len(stages)
    n_seconds = n_epochs * _SECONDS
    n_samples = int(round(n_seconds * sfreq))
    subject = _subject_params(rng) if subject is None else dict(subject)
    mix = DERIVATIONS[derivation]
    background = _BACKGROUND * np.asarray(mix["background"])
    strength = {
        _ALPHA: subject.get("alpha_strength", 1.0),
        _DELTA: subject.get("delta_strength", 1.0),
    }
    for column, factor in strength.items():
        background[:, column] *= factor
    event_scale = np.asarray(mix["events"], dtype=float).copy()
    event_scale[_EVENTS.index("spindle")] *= subject.get("spindle_strength", 1.0)
    event_scale[_EVENTS.index("k_complex")] *= subject.get("delta_strength", 1.0)
    subject["spindle_freq"] += mix["spindle_shift"]
    subject["event_scale"] = event_scale
    nyquist = sfreq / 2.0

    # Per-epoch amplitudes (stage row times a log-normal jitter), then per-epoch quirks.
    amplitude = background[stages] * rng.lognormal(0.0, 0.4, (n_epochs, _BACKGROUND.shape[1]))
    rates = _EVENT_RATES[stages].copy()
    eyes_open = _eyes_open_runs(stages, rng)
    amplitude[eyes_open, _ALPHA] *= 0.25
    amplitude[eyes_open, _BETA] *= 1.5
    amplitude[eyes_open, _EMG] *= 1.6
    rates[eyes_open, _EVENTS.index("blink")] = 0.2
    rates[eyes_open, _EVENTS.index("movement")] *= 2
    phasic = (stages == R) & (rng.random(n_epochs) < 0.5)
    rates[(stages == R) & ~phasic, _EVENTS.index("rem")] = 0.005
    # N1 is genuinely ambiguous: each N1 epoch borrows 20-90 % of the look of wake or REM.
    n1 = np.flatnonzero(stages == N1)
    look_alike = np.where(rng.random(n1.size) < 0.55, W, R)
    share = rng.uniform(0.2, 0.9, n1.size)[:, np.newaxis]
    amplitude[n1] = (1 - share) * amplitude[n1] + share * background[look_alike]
    rates[n1] = (1 - share) * rates[n1] + share * _EVENT_RATES[look_alike]

    alpha_on = np.ones((n_epochs, _SECONDS), dtype=bool)  # N2/N3 keep their weak alpha
    high_delta = np.zeros((n_epochs, _SECONDS), dtype=bool)
    for stage, share in _ALPHA_SHARE.items():
        rows = stages == stage
        alpha_on[rows] = _per_second_mask(share, rows.sum(), rng)
    for stage, share in _DELTA_SHARE.items():
        rows = stages == stage
        high_delta[rows] = _per_second_mask(share, rows.sum(), rng)

    # Seconds of a stage change keep the previous epoch's look for 0-12 s: scorers label an
    # epoch by its majority, so transition epochs are mixtures.
    second_epoch = np.repeat(np.arange(n_epochs), _SECONDS)
    change = np.flatnonzero(np.diff(stages) != 0) + 1
    for epoch, bleed in zip(change, rng.integers(0, 13, change.size)):
        second_epoch[epoch * _SECONDS : epoch * _SECONDS + bleed] = epoch - 1
    second_amplitude = amplitude[second_epoch] * subject["gain"]
    second_rates = rates[second_epoch]
    alpha_on, high_delta = alpha_on.ravel(), high_delta.ravel()
    second_amplitude[:, _ALPHA] *= np.where(alpha_on, 1.0, 0.15)
    delta_boost = (
        _HIGH_DELTA_UV
        * mix["background"][_DELTA]
        * strength[_DELTA]
        * subject["gain"]
        * rng.lognormal(0, 0.15, n_seconds)
    )
    second_amplitude[:, _DELTA] = np.where(high_delta, delta_boost, second_amplitude[:, _DELTA])
    slow_alpha = stages[second_epoch] == R

    # Continuous band-limited rhythms under piecewise-linear (1-s) envelopes.
    seconds = (np.arange(n_samples) + 0.5) / sfreq
    centres = np.arange(n_seconds) + 0.5
    alpha_band = (subject["alpha_peak"] - 1.2, subject["alpha_peak"] + 1.2)
    bands = [
        (_PINK, (0.3, 0.9 * nyquist), True),
        (_DELTA, (0.5, 2.0), False),
        (_THETA, (4.0, 7.5), False),
        (_BETA, (16.0, min(30.0, 0.9 * nyquist)), False),
        (_EMG, (30.0, 0.9 * nyquist), False),
    ]
    signal = np.zeros(n_samples)
    for column, (low, high), pink in bands:
        if low >= high:
            continue
        envelope = np.interp(seconds, centres, second_amplitude[:, column])
        signal += envelope * _band_noise(n_samples, sfreq, low, high, rng, pink=pink)
    for slow, shift in ((False, 0.0), (True, 1.5)):
        envelope = np.interp(seconds, centres, second_amplitude[:, _ALPHA] * (slow_alpha == slow))
        low, high = alpha_band[0] - shift, alpha_band[1] - shift
        signal += envelope * _band_noise(n_samples, sfreq, low, high, rng)

    _add_events(signal, second_rates, sfreq, subject, rng)
    signal += subject["drift"] * _band_noise(n_samples, sfreq, 0.01, 0.3, rng)
    signal += subject["white_noise"] * rng.standard_normal(n_samples)
    if subject["line_freq"] < 0.45 * sfreq:  # at 100 Hz, the anti-aliasing filter removed it
        phase = rng.uniform(0, 2 * np.pi)
        signal += subject["line_amplitude"] * np.sin(
            2 * np.pi * subject["line_freq"] * seconds + phase
        )
    if artefacts:
        _add_artefacts(signal, stages, sfreq, subject, rng)
    if return_delta_share:
        return signal, high_delta.reshape(n_epochs, _SECONDS).mean(axis=1)
    return signal


def _add_artefacts(signal, stages, sfreq, subject, rng):
    """Electrode pops, sweat waves and large movements (microvolts), as Poisson processes."""
    n_seconds = len(stages) * _SECONDS
    stage_of_second = np.repeat(stages, _SECONDS)
    movement_rate = np.array([_MOVEMENT_RATE[int(stage)] for stage in range(len(STAGES))])
    for onset in np.flatnonzero(rng.random(n_seconds) < movement_rate[stage_of_second]):
        length = int(rng.uniform(2.0, 10.0) * sfreq)
        start = int((onset + rng.random()) * sfreq)
        burst = rng.uniform(80, 300) * rng.standard_normal(length) * np.hanning(length)
        burst += rng.uniform(-200, 200) * np.hanning(length)  # the baseline swings too
        stop = min(start + length, len(signal))
        signal[start:stop] += burst[: stop - start]
    for onset in np.flatnonzero(rng.random(n_seconds) < _POP_RATE):
        start = int((onset + rng.random()) * sfreq)
        t = np.arange(int(2.0 * sfreq)) / sfreq
        pop = rng.uniform(100, 500) * rng.choice([-1, 1]) * np.exp(-t / rng.uniform(0.2, 0.8))
        stop = min(start + len(pop), len(signal))
        signal[start:stop] += pop[: stop - start]
    for onset in np.flatnonzero(rng.random(n_seconds) < _SWEAT_RATE):
        length = int(rng.uniform(60, 300) * sfreq)
        start = int(onset * sfreq)
        t = np.arange(length) / sfreq
        wave = rng.uniform(30, 120) * np.sin(2 * np.pi * rng.uniform(0.05, 0.25) * t)
        stop = min(start + length, len(signal))
        signal[start:stop] += (wave * np.hanning(length))[: stop - start]


def _eyes_open_runs(stages, rng):
    """Each run of wake is eyes-open (low alpha, blinks, more EMG) with probability 0.4."""
    eyes_open = np.zeros(len(stages), dtype=bool)
    is_wake = np.concatenate([[0], (stages == W).astype(int), [0]])
    starts = np.flatnonzero(np.diff(is_wake) == 1)
    stops = np.flatnonzero(np.diff(is_wake) == -1)
    for start, stop in zip(starts, stops):
        eyes_open[start:stop] = rng.random() < 0.4
    return eyes_open


def _add_events(signal, second_rates, sfreq, subject, rng):
    """Add transient graphoelements, each drawn as a Poisson process from per-second rates."""
    counts = rng.poisson(second_rates)
    for column, name in enumerate(_EVENTS):
        seconds = np.repeat(np.arange(len(counts)), counts[:, column])
        for onset in seconds + rng.random(seconds.size):
            scale = subject["gain"] * subject.get("event_scale", np.ones(len(_EVENTS)))[column]
            waveform = _waveform(name, sfreq, subject, rng) * scale
            start = int(onset * sfreq)
            stop = min(start + waveform.size, signal.size)
            signal[start:stop] += waveform[: stop - start]


def _waveform(name, sfreq, subject, rng):
    """One graphoelement in microvolts (Fpz-Cz polarity)."""

    def time(duration):
        return np.arange(int(duration * sfreq)) / sfreq

    if name == "blink":  # frontal positive bump, 0.2-0.4 s
        t = time(rng.uniform(0.2, 0.4))
        return rng.uniform(60, 150) * np.sin(np.pi * t / t[-1]) ** 2
    if name == "slow_eye":  # slow rolling eye movement, 1-4 s
        t = time(rng.uniform(1.0, 4.0))
        return rng.uniform(30, 70) * rng.choice([-1, 1]) * np.sin(np.pi * t / t[-1])
    if name == "vertex":  # sharp wave, ~0.2 s, maximal at Cz (positive at Fpz-Cz)
        t = time(rng.uniform(0.15, 0.3))
        return rng.uniform(40, 100) * np.sin(np.pi * t / t[-1]) ** 3
    if name == "spindle":  # waxing-waning 11-16 Hz burst, 0.5-2 s
        t = time(rng.uniform(0.5, 2.0))
        freq = subject["spindle_freq"] + rng.normal(0, 0.4)
        return rng.uniform(15, 35) * np.hanning(t.size) * np.sin(2 * np.pi * freq * t)
    if name == "k_complex":  # sharp negative then slower positive deflection, ~1 s
        t = time(rng.uniform(0.7, 1.2))
        shape = -np.sin(2 * np.pi * t / t[-1]) * np.exp(-1.5 * t / t[-1])
        return rng.uniform(80, 180) * shape / np.abs(shape).max()
    if name == "rem":  # rapid eye movement: steep rise, slower return
        t = time(rng.uniform(0.3, 0.6))
        shape = (1 - np.exp(-t / 0.04)) * np.exp(-t / 0.15)
        return rng.uniform(50, 150) * rng.choice([-1, 1]) * shape / shape.max()
    if name == "sawtooth":  # 2-3 Hz train of triangular waves, 1.5-4 s
        t = time(rng.uniform(1.5, 4.0))
        freq = rng.uniform(2.0, 3.0)
        return rng.uniform(20, 45) * (2 * ((t * freq) % 1.0) - 1) * np.hanning(t.size)
    if name == "movement":  # muscle burst: broadband noise, 0.5-3 s
        t = time(rng.uniform(0.5, 3.0))
        return rng.uniform(20, 60) * rng.standard_normal(t.size) * np.hanning(t.size)
    raise ValueError(name)


def _check_sfreq(sfreq):
    sfreq = float(sfreq)
    if not sfreq >= 50:
        raise ValueError(f"sfreq must be at least 50 Hz to hold sleep spindles, got {sfreq}.")
    if not float(sfreq * EPOCH_DURATION).is_integer():
        raise ValueError(f"sfreq * 30 s must be a whole number of samples, got sfreq={sfreq}.")
    return sfreq


def _n_epochs(hours):
    n_epochs = int(round(float(hours) * 3600 / EPOCH_DURATION))
    if n_epochs < 10:
        raise ValueError(f"hours={hours} gives fewer than 10 epochs; simulate at least 5 minutes.")
    return n_epochs


def simulate_sleep_raw(
    hours=8.0,
    *,
    sfreq=100.0,
    hypnogram=None,
    derivation="frontal",
    subject=None,
    artefacts=False,
    band=None,
    random_state=None,
    verbose=None,
):
    """Simulate one night of single-channel sleep EEG as a continuous recording.

    The defaults give the package's standard simulated night. The other arguments draw what
    differs between people and labs, for benchmarks that must not flatter a model trained on
    the standard nights: another derivation, another subject (gain x0.3-3, own alpha and
    spindle frequencies, strength of alpha, spindles and slow waves), another sampling rate
    with the band an amplifier at that rate records, artefacts, and real stage sequences.

    Parameters
    ----------
    hours : float
        Length of the recording (after the standard trimming of wake to 30 min around sleep);
        ignored with ``hypnogram``.
    sfreq : float
        Sampling rate in Hz (Sleep-EDF: 100 Hz; HMC: 256 Hz; SHHS: 125 Hz). Above 100 Hz the
        subject's 50 or 60 Hz line noise is included.
    hypnogram : array-like | None
        The stage of each 30-s epoch (indices into :data:`mne_sscsleep.STAGES`), e.g. a real
        night varied by :func:`simulate_hypnogram` with ``template=``; None draws one.
    derivation : ``'frontal'`` | ``'central'`` | ``'occipital'``
        The derivation family (:data:`DERIVATIONS`): Fpz-Cz, C4-A1 or Pz-Oz, each with its own
        mix of rhythms and transients.
    subject : dict | None
        The person and their recording, from :func:`simulate_subject`; None draws a subject of
        the standard nights' narrower variety.
    artefacts : bool
        Add electrode pops, sweat waves and large movements.
    band : tuple of float | None
        ``(highpass, lowpass)`` in Hz of the recording amplifier (e.g. ``(0.3, 0.4 * sfreq)``);
        None records the simulated signal as it is.
    random_state : int | numpy.random.Generator | None
        Seed or generator; the same seed gives the same night.
    verbose : bool | str | int | None
        MNE verbosity.

    Returns
    -------
    raw : mne.io.RawArray
        One EEG channel (``'EEG Fpz-Cz'`` for the frontal derivation) in volts, with one
        annotation per 30-s epoch described
        as in Sleep-EDF's hypnograms (``'Sleep stage W'``, ``'Sleep stage 1'``,
        ``'Sleep stage 2'``, ``'Sleep stage 3'``, ``'Sleep stage 4'``, ``'Sleep stage R'``): N3
        epochs are R&K stage 4 where high-amplitude delta fills more than half of the epoch,
        stage 3 otherwise, so MNE's sleep tutorial code runs on them unchanged.

    See Also
    --------
    simulate_sleep_epochs : Several subjects' nights as labelled ``mne.Epochs``.

    Notes
    -----
    The simulator is for tests and demos, not a model of real sleep. See
    :func:`simulate_sleep_epochs` for what it contains.

    Examples
    --------
    >>> raw = simulate_sleep_raw(hours=1.0, random_state=0, verbose="error")
    >>> raw.ch_names, raw.info["sfreq"], len(raw.annotations)
    (['EEG Fpz-Cz'], 100.0, 120)
    """
    import mne

    sfreq = _check_sfreq(sfreq)
    if derivation not in DERIVATIONS:
        raise ValueError(
            f"derivation must be one of {', '.join(map(repr, DERIVATIONS))}, got {derivation!r}."
        )
    rng = np.random.default_rng(random_state)
    if hypnogram is None:
        stages = simulate_hypnogram(_n_epochs(hours), random_state=rng)
    else:
        stages = np.asarray(hypnogram, dtype=np.int64)
        if stages.ndim != 1 or len(stages) < 10 or stages.min() < 0 or stages.max() > R:
            raise ValueError(
                "hypnogram must be at least 10 stage indices 0..4 (W, N1, N2, N3, R)."
            )
    signal, delta_share = _simulate_night(
        stages,
        sfreq,
        rng,
        return_delta_share=True,
        subject=subject,
        derivation=derivation,
        artefacts=artefacts,
    )
    if band is not None:
        from mne.filter import filter_data

        low, high = band
        signal = filter_data(
            signal, sfreq, low, min(high, 0.49 * sfreq), method="iir", verbose="error"
        )
    info = mne.create_info([DERIVATIONS[derivation]["channel"]], sfreq, ch_types="eeg")
    info["description"] = SIMULATED_DESCRIPTION
    raw = mne.io.RawArray(signal[np.newaxis] * 1e-6, info, verbose=verbose)
    onsets = np.arange(len(stages)) * EPOCH_DURATION
    descriptions = [
        _DESCRIPTIONS[stage] or f"Sleep stage {4 if share > _RK_STAGE_4_DELTA_SHARE else 3}"
        for stage, share in zip(stages, delta_share)
    ]
    raw.set_annotations(mne.Annotations(onsets, EPOCH_DURATION, descriptions))
    return raw


def simulate_sleep_epochs(
    n_subjects=4, hours=8.0, *, sfreq=100.0, random_state=None, verbose=None
):
    """Simulate 30-s epochs of single-channel sleep EEG for several subjects.

    Each subject contributes one night. The hypnogram comes from :func:`simulate_hypnogram`
    (NREM/REM cycles of ~90 min, more N3 early and more REM late, arousals, N1 at transitions;
    typical shares: W 10-20 %, N1 5-10 %, N2 45-55 %, N3 10-20 %, R ~20 %). The EEG of each epoch
    follows the AASM stage signatures at a frontal-central derivation:

    - **W**: alpha (8-12 Hz, peak varying by subject) when eyes are closed; beta, muscle
      activity, blinks and movement when eyes are open.
    - **N1**: alpha drops out (present in 5-50 % of the epoch), theta, slow eye movements and
      vertex sharp waves.
    - **N2**: sleep spindles (11-16 Hz) and K-complexes on a mixed background.
    - **N3**: delta waves of more than 75 uV peak to peak over more than 20 % of the epoch.
    - **R**: low-amplitude mixed frequency, saw-tooth waves, rapid eye movements, low muscle tone.

    Each subject has their own amplitude, alpha peak, spindle frequency, noise and drift (and 50
    or 60 Hz line noise when ``sfreq`` allows it). N1 is made genuinely ambiguous: each N1 epoch
    borrows part of the look of wake or REM, and epochs at stage changes keep the previous
    stage's look for up to 12 s.

    Parameters
    ----------
    n_subjects : int
        Number of subjects (one night each).
    hours : float
        Hours per night, after the standard trimming of wake to 30 min around sleep.
    sfreq : float
        Sampling rate in Hz.
    random_state : int | numpy.random.Generator | None
        Seed or generator; the same seed gives the same subjects, nights and epochs.
    verbose : bool | str | int | None
        MNE verbosity of the epochs' construction (None: MNE's current level).

    Returns
    -------
    epochs : mne.EpochsArray
        Channel ``'EEG Fpz-Cz'`` in volts, 30-s epochs, labels in ``events``/``event_id``
        (Sleep-EDF names), and ``metadata`` with columns ``subject``, ``stage`` and ``epoch``
        (index within the night).
    y : ndarray of str, shape (n_epochs,)
        Stage of each epoch: ``'W', 'N1', 'N2', 'N3', 'R'``.
    groups : ndarray of int, shape (n_epochs,)
        Subject of each epoch, for subject-wise splits such as ``GroupKFold``.

    Notes
    -----
    This is simulated data for tests and demos. It does not replace real polysomnography.

    Examples
    --------
    >>> epochs, y, groups = simulate_sleep_epochs(2, hours=1.0, random_state=0, verbose="error")
    >>> epochs.get_data().shape, sorted(set(groups.tolist()))
    ((240, 1, 3000), [0, 1])
    """
    import pandas as pd

    sfreq = _check_sfreq(sfreq)
    n_subjects = int(n_subjects)
    if n_subjects < 1:
        raise ValueError(f"n_subjects must be at least 1, got {n_subjects}.")
    n_epochs = _n_epochs(hours)
    n_times = int(round(EPOCH_DURATION * sfreq))
    rng = np.random.default_rng(random_state)
    data, stages, groups = [], [], []
    for subject in range(n_subjects):
        night = simulate_hypnogram(n_epochs, random_state=rng)
        signal = _simulate_night(night, sfreq, rng)
        data.append((signal * 1e-6).reshape(n_epochs, 1, n_times))
        stages.append(night)
        groups.append(np.full(n_epochs, subject))
    stages, groups = np.concatenate(stages), np.concatenate(groups)
    y = np.array(STAGES, dtype=object)[stages].astype(str)
    metadata = pd.DataFrame(
        {"subject": groups, "stage": y, "epoch": np.tile(np.arange(n_epochs), n_subjects)}
    )
    epochs = labelled_epochs_array(
        np.concatenate(data), stages, CHANNEL, sfreq, metadata, verbose=verbose
    )
    epochs.info["description"] = SIMULATED_DESCRIPTION
    return epochs, y, groups
