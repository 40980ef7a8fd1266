import mne
import numpy as np
import pytest

from mne_sscsleep import STAGES, check_epochs, stage_indices
from mne_sscsleep._epochs import check_epochs_labels, labels_from_epochs


@pytest.mark.parametrize(
    "labels, expected",
    [
        (["W", "N1", "N2", "N3", "R"], [0, 1, 2, 3, 4]),
        (
            ["Sleep stage W", "Sleep stage 1", "Sleep stage 2", "Sleep stage 3", "Sleep stage R"],
            [0, 1, 2, 3, 4],
        ),
        (["Sleep stage 4", "Sleep stage 3/4", "N4", "S4", "SWS"], [3, 3, 3, 3, 3]),
        (["wake", "Wake", "AWAKE", "rem", "REM", "Sleep_stage_R"], [0, 0, 0, 4, 4, 4]),
        (["NREM 1", " N2 ", "NREM-3", "Stage N 3", "N 1"], [1, 2, 3, 3, 1]),
        (np.array(["N2", "W"], dtype=object), [2, 0]),
        (np.array(["N2", "REM"], dtype=np.dtypes.StringDType()), [2, 4]),
        (np.array([b"N3", b"Wake"]), [3, 0]),
    ],
)
def test_stage_indices_accepts_names_and_aliases(labels, expected):
    out = stage_indices(labels)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(
    "labels, match",
    [
        (["W", "Sleep stage ?"], "not sleep stages.*'Sleep stage \\?'.*Allowed: W, N1"),
        (["W", "Movement time"], "Movement time"),
        # Integer codes are never guessed, not even all five of 0..4 (LabelEncoder's order is
        # N1, N2, N3, R, W): every kind needs a stage_map, and the message names both fixes.
        (
            [0, 1, 2, 3, 4],
            "integer labels \\(0, 1, 2, 3, 4\\).*LabelEncoder.*stage_map=.*event_id",
        ),
        (np.array([4, 0, 1, 2, 3], dtype=np.uint8), "never guesses"),
        ([2.0, 3.0, 0.0, 1.0, 4.0], "never guesses"),
        ([0, 5], "integer labels \\(0, 5\\)"),
        ([1, 2, 3, 4, 5], "stage_map=\\{code: stage\\}"),
        ([1.5, 2.0], "non-integer"),
        ([np.nan, 1.0], "non-integer"),
        (np.array(["W", 1], dtype=object), "mixes label types \\(int, str\\)"),
        ([True, False], "booleans"),
        ([["W"], ["N1"]], "1-D"),
    ],
)
def test_stage_indices_rejects_bad_labels(labels, match):
    with pytest.raises((ValueError, TypeError), match=match):
        stage_indices(labels)


def test_check_epochs_converts_to_float32_volts(small_epochs):
    epochs, _ = small_epochs
    out = check_epochs(epochs)
    assert out.X.dtype == np.float32
    assert out.X.shape == (len(epochs), 1, 3000)
    assert out.ch_name == "EEG Fpz-Cz" and out.sfreq == 100.0
    np.testing.assert_allclose(out.X, epochs.get_data(), rtol=1e-5, atol=1e-9)
    # Typical EEG amplitude: tens of microvolts.
    assert 5e-6 < out.X.std() < 200e-6


def test_check_epochs_does_not_copy_float32_arrays(small_epochs):
    epochs, _ = small_epochs
    data = epochs.get_data().astype(np.float32)
    assert check_epochs(data).X is data
    assert np.shares_memory(check_epochs(data[:, 0]).X, data)
    # Chunked conversion of other dtypes gives the same values.
    data64 = epochs.get_data()
    np.testing.assert_array_equal(check_epochs(data64).X, data)


@pytest.mark.parametrize("shape", ["2d", "3d"])
def test_check_epochs_accepts_arrays_in_volts(small_epochs, shape):
    epochs, _ = small_epochs
    data = epochs.get_data()
    if shape == "2d":
        data = data[:, 0]
    out = check_epochs(data)
    assert out.X.shape == (len(epochs), 1, 3000) and out.ch_name is None
    np.testing.assert_allclose(out.X[:, 0], epochs.get_data()[:, 0], rtol=1e-5, atol=1e-9)


def _two_channel(epochs):
    other = epochs.copy().rename_channels({"EEG Fpz-Cz": "EEG Pz-Oz"})
    return epochs.copy().add_channels([other])


def test_multichannel_needs_picks(small_epochs):
    epochs, _ = small_epochs
    both = _two_channel(epochs)
    with pytest.raises(ValueError, match="2 channels.*picks='EEG Fpz-Cz'"):
        check_epochs(both)
    assert check_epochs(both, picks="EEG Pz-Oz").ch_name == "EEG Pz-Oz"
    assert check_epochs(both, picks=0).ch_name == "EEG Fpz-Cz"
    with pytest.raises(ValueError, match="'Cz' is not in the epochs; available: EEG Fpz-Cz"):
        check_epochs(both, picks="Cz")
    with pytest.raises(TypeError, match="one channel name or index"):
        check_epochs(both, picks=["EEG Fpz-Cz", "EEG Pz-Oz"])


def test_multichannel_array_needs_picks(small_epochs):
    data = np.repeat(small_epochs[0].get_data(), 3, axis=1)
    with pytest.raises(ValueError, match="3 channels.*X\\[:, \\[k\\], :\\]"):
        check_epochs(data)
    assert check_epochs(data, picks=2).X.shape == (len(data), 1, 3000)
    with pytest.raises(ValueError, match="channel index in 0..2"):
        check_epochs(data, picks=3)


def test_wrong_sampling_rate_is_an_error_unless_resampling_is_asked(small_epochs):
    epochs, _ = small_epochs
    fast = mne.EpochsArray(
        np.repeat(epochs.get_data()[:4], 2, axis=-1),
        mne.create_info(["EEG Fpz-Cz"], 200.0, "eeg"),
        verbose="error",
    )
    with pytest.raises(ValueError, match="sampled at 200 Hz.*100 Hz.*resample=True"):
        check_epochs(fast)
    out = check_epochs(fast, resample=True)
    assert out.X.shape == (4, 1, 3000) and out.sfreq == 100.0


def test_epoch_length(small_epochs):
    data = small_epochs[0].get_data()[:3]
    with pytest.raises(ValueError, match="1500 samples \\(15 s at 100 Hz\\).*30-s epochs"):
        check_epochs(data[..., :1500])
    longer = np.concatenate([data, data[..., :1]], axis=-1)
    with pytest.warns(RuntimeWarning, match="3001 samples.*dropping the last sample"):
        out = check_epochs(longer)
    assert out.X.shape[-1] == 3000


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_epochs_are_named(small_epochs, bad):
    data = small_epochs[0].get_data()[:20].copy()
    data[3, 0, 100] = bad
    data[17, 0, 5] = bad
    with pytest.raises(ValueError, match="Epochs 3, 17 contain NaN or infinite.*epochs.drop"):
        check_epochs(data)


def test_flat_epochs(small_epochs):
    data = small_epochs[0].get_data()[:20].copy()
    data[5] = 1e-9
    with pytest.raises(ValueError, match="Epochs 5 are flat.*on_flat='ignore'"):
        check_epochs(data)
    with pytest.warns(RuntimeWarning, match="Epochs 5 are flat"):
        check_epochs(data, on_flat="warn")
    assert check_epochs(data, on_flat="ignore").X.shape[0] == 20
    with pytest.raises(ValueError, match="on_flat must be"):
        check_epochs(data, on_flat="drop")


def test_microvolt_arrays_are_caught(small_epochs):
    data = small_epochs[0].get_data()[:10] * 1e6
    with pytest.raises(ValueError, match="expects volts.*multiply it by 1e-6"):
        check_epochs(data)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((0, 3000)), "no epochs"),
        (np.zeros((2, 2, 2, 3000)), "shape \\(2, 2, 2, 3000\\)"),
        (np.array([["a"] * 3000]), "numeric array"),
    ],
)
def test_bad_array_inputs(X, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_epochs(X)


def test_raw_is_refused_with_a_pointer_to_epoching():
    raw = mne.io.RawArray(np.zeros((1, 6000)), mne.create_info(1, 100.0, "eeg"), verbose="error")
    with pytest.raises(TypeError, match="make_fixed_length_epochs"):
        check_epochs(raw)


def test_labels_come_from_events_when_y_is_none(small_epochs):
    epochs, y = small_epochs
    names = labels_from_epochs(epochs)
    assert set(names) <= {
        "Sleep stage W",
        "Sleep stage 1",
        "Sleep stage 2",
        "Sleep stage 3/4",
        "Sleep stage R",
    }
    dataset = check_epochs_labels(epochs, None)
    np.testing.assert_array_equal(np.array(STAGES)[dataset.y], y)
    np.testing.assert_array_equal(dataset.labels, names)
    assert dataset.X.shape[0] == len(y)


def test_labels_required_for_arrays_and_lengths_must_match(small_epochs):
    epochs, y = small_epochs
    with pytest.raises(ValueError, match="y is required for arrays"):
        check_epochs_labels(epochs.get_data(), None)
    with pytest.raises(ValueError, match=f"X has {len(y)} epochs but y has {len(y) - 1} labels"):
        check_epochs_labels(epochs, y[:-1])


def test_unknown_event_names_are_reported(small_epochs):
    epochs = small_epochs[0].copy()
    epochs.event_id = {
        ("stim" if code == 1 else name): code for name, code in epochs.event_id.items()
    }
    with pytest.raises(ValueError, match="event_id names.*'stim'"):
        check_epochs_labels(epochs, None)


def test_the_sole_eeg_channel_is_picked_as_for_raw(small_epochs):
    epochs, _ = small_epochs
    eog = epochs.copy().rename_channels({"EEG Fpz-Cz": "EOG left"})
    eog.set_channel_types({"EOG left": "eog"})
    both = epochs.copy().add_channels([eog])
    assert check_epochs(both).ch_name == "EEG Fpz-Cz"
    assert check_epochs(both, picks="EOG left").ch_name == "EOG left"
