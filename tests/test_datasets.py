import numpy as np
import pytest
from helpers import benchmark_module
from scipy.signal import welch
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GroupKFold

from mne_sscsleep import STAGES
from mne_sscsleep.datasets import simulate_hypnogram, simulate_sleep_epochs, simulate_sleep_raw
from mne_sscsleep.metrics import sleep_report


def test_epochs_layout(sim_nights):
    epochs, y, groups = sim_nights
    assert epochs.ch_names == ["EEG Fpz-Cz"]
    assert epochs.info["sfreq"] == 100.0
    assert epochs.get_data().shape == (6 * 360, 1, 3000)
    assert set(y) == set(STAGES)
    np.testing.assert_array_equal(np.unique(groups), np.arange(6))
    np.testing.assert_array_equal(epochs.metadata["subject"], groups)
    np.testing.assert_array_equal(epochs.metadata["stage"], y)
    # Labels also live in events/event_id under Sleep-EDF names.
    code_to_name = {code: name for name, code in epochs.event_id.items()}
    names = [code_to_name[code] for code in epochs.events[:, 2]]
    mapping = dict(zip(names, y))
    assert mapping["Sleep stage 1"] == "N1" and mapping["Sleep stage 3/4"] == "N3"
    # Volts, with EEG-like amplitude.
    assert 5e-6 < epochs.get_data().std() < 1e-4


def test_same_seed_same_data_and_different_seed_different_data():
    a = simulate_sleep_epochs(1, hours=0.5, random_state=3, verbose="error")
    b = simulate_sleep_epochs(1, hours=0.5, random_state=3, verbose="error")
    c = simulate_sleep_epochs(1, hours=0.5, random_state=4, verbose="error")
    np.testing.assert_array_equal(a[0].get_data(), b[0].get_data())
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0].get_data(), c[0].get_data())


def test_hypnogram_has_realistic_stage_shares_and_cycles():
    nights = np.array([simulate_hypnogram(960, random_state=seed) for seed in range(40)])
    shares = dict(zip(STAGES, np.bincount(nights.ravel(), minlength=5) / nights.size))
    assert 0.05 <= shares["N1"] <= 0.10
    assert 0.45 <= shares["N2"] <= 0.55
    assert 0.10 <= shares["N3"] <= 0.20
    assert 0.15 <= shares["R"] <= 0.25
    assert 0.08 <= shares["W"] <= 0.20
    # The standard protocol keeps wake at both ends; N3 is an early-night stage, REM a late one.
    assert (nights[:, 0] == 0).all() and (nights[:, -1] == 0).all()
    first, last = nights[:, :480], nights[:, 480:]
    assert (first == 3).mean() > 2 * (last == 3).mean()
    assert (last == 4).mean() > 1.3 * (first == 4).mean()
    # Roughly 90-min cycles: 4-6 REM periods per 8 hours (a new period after >= 15 min without
    # REM, the clinical definition).
    rem_periods = [1 + np.sum(np.diff(np.flatnonzero(night == 4)) > 30) for night in nights]
    assert 4 <= np.median(rem_periods) <= 6


def _band_power(data, sfreq, low, high):
    freqs, power = welch(data, fs=sfreq, nperseg=int(4 * sfreq))
    return power[:, (freqs >= low) & (freqs < high)].sum(axis=1)


def test_stage_signatures(sim_nights):
    epochs, y, _ = sim_nights
    data = epochs.get_data()[:, 0] * 1e6
    median = {
        band: {stage: np.median(_band_power(data[y == stage], 100, *edges)) for stage in STAGES}
        for band, edges in {
            "delta": (0.5, 2),
            "alpha": (8, 12),
            "sigma": (12, 15),
            "emg": (30, 45),
        }.items()
    }
    # N3: delta dominates, and > 75 uV waves cover > 20 % of most N3 epochs.
    assert median["delta"]["N3"] > 2 * median["delta"]["N2"] > 2 * median["delta"]["W"]
    seconds = data[y == "N3"].reshape(-1, 30, 100)
    big = np.ptp(seconds, axis=-1) > 75
    assert np.median(big.mean(axis=1)) > 0.2
    # Alpha: wake > N1 (drop-out) > N2.
    assert median["alpha"]["W"] > median["alpha"]["N1"] > median["alpha"]["N2"]
    # Spindles in N2, not in REM or wake.
    assert median["sigma"]["N2"] > 1.5 * median["sigma"]["R"]
    # Muscle tone: wake > N2 > REM (atonia).
    assert median["emg"]["W"] > median["emg"]["N2"] > median["emg"]["R"]


def test_subjects_differ(sim_nights):
    epochs, y, groups = sim_nights
    data = epochs.get_data()[:, 0]
    n2_std = [data[(groups == s) & (y == "N2")].std() for s in range(6)]
    assert max(n2_std) / min(n2_std) > 1.2


def test_raw_simulation_with_line_noise_above_100_hz():
    raw = simulate_sleep_raw(hours=0.5, sfreq=256.0, random_state=2, verbose="error")
    assert raw.info["sfreq"] == 256.0 and raw.n_times == 60 * 30 * 256
    assert len(raw.annotations) == 60
    assert set(raw.annotations.duration) == {30.0}
    assert raw.annotations.description[0] == "Sleep stage W"
    freqs, power = welch(raw.get_data()[0], fs=256.0, nperseg=1024)
    line = power[(np.abs(freqs - 50) < 0.5) | (np.abs(freqs - 60) < 0.5)].max()
    neighbours = np.median(power[(freqs > 40) & (freqs < 48)])
    assert line > 5 * neighbours


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_subjects=0), "n_subjects"),
        (dict(hours=0.01), "fewer than 10 epochs"),
        (dict(sfreq=20.0), "at least 50 Hz"),
        (dict(sfreq=100.01), "whole number of samples"),
    ],
)
def test_simulator_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_sleep_epochs(**kwargs)


def test_learnable_by_spectral_features_yet_n1_hardest(sim_nights):
    """The data are learnable subject-wise, but N1 stays the hardest stage (as in real data)."""
    epochs, y, groups = sim_nights
    features = benchmark_module("yasa_features").spectral_features(epochs.get_data(), 100.0)
    predictions = np.empty_like(y)
    for train, test in GroupKFold(3).split(features, y, groups):
        forest = RandomForestClassifier(100, random_state=0, n_jobs=1)
        predictions[test] = forest.fit(features[train], y[train]).predict(features[test])
    report = sleep_report(y, predictions)
    print(report)
    assert report.macro_f1 > 0.6  # chance is 0.2
    assert report.f1.argmin() == STAGES.index("N1")
    assert report.n1_f1 < report.macro_f1 - 0.15
