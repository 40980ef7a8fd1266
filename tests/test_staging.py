import warnings

import mne
import numpy as np
import pandas as pd
import pytest
from helpers import TINY

from mne_sscsleep import STAGES, Hypnogram, SSCSleepClassifier, stage
from mne_sscsleep.datasets import epochs_from_raw, simulate_sleep_raw


@pytest.fixture(scope="module")
def model(sim_nights):
    epochs, y, groups = sim_nights
    keep = np.flatnonzero(groups < 2)
    return SSCSleepClassifier(**dict(TINY, max_epochs=2)).fit(epochs[keep], y[keep])


@pytest.fixture(scope="module")
def night():
    return simulate_sleep_raw(hours=1.0, random_state=11, verbose="error")


def test_stage_a_recording_that_is_not_a_multiple_of_30_s(model, night):
    raw = night.copy().crop(0, 3600 - 13 - 1 / 100)  # 119 epochs and 17 s
    annotations_before = raw.annotations.copy()
    with pytest.warns(RuntimeWarning, match="last 17.0 s .* are not staged"):
        hypnogram = stage(model, raw)
    assert isinstance(hypnogram, Hypnogram) and len(hypnogram) == 119
    np.testing.assert_array_equal(hypnogram.onset, np.arange(119) * 30.0)
    assert set(hypnogram.stage) <= set(STAGES)
    np.testing.assert_allclose(hypnogram.proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(hypnogram.confidence, hypnogram.proba.max(axis=1))
    assert not hypnogram.bad.any() and set(hypnogram.reason) == {""}
    # Annotations already in the recording are left alone.
    np.testing.assert_array_equal(raw.annotations.description, annotations_before.description)
    np.testing.assert_array_equal(raw.annotations.onset, annotations_before.onset)
    assert "119 epochs" in repr(hypnogram)


def test_stage_matches_predict_on_the_same_epochs(model, night):
    hypnogram = stage(model, night)
    epochs, _ = epochs_from_raw(night, verbose="error")
    np.testing.assert_array_equal(hypnogram.label, model.predict(epochs))


def test_stage_resamples_other_rates(model):
    raw = simulate_sleep_raw(hours=0.5, sfreq=256.0, random_state=3, verbose="error")
    hypnogram = stage(model, raw)
    assert len(hypnogram) == 60


def test_annotations_and_files(model, night, tmp_path):
    hypnogram = stage(model, night)
    annotations = hypnogram.to_annotations()
    raw = night.copy().set_annotations(annotations)
    assert len(raw.annotations) == 120
    assert set(raw.annotations.description) <= {
        "Sleep stage W",
        "Sleep stage 1",
        "Sleep stage 2",
        "Sleep stage 3/4",
        "Sleep stage R",
    }
    np.testing.assert_array_equal(raw.annotations.onset, np.arange(120) * 30.0)
    for suffix, sep in ((".tsv", "\t"), (".csv", ",")):
        path = hypnogram.save(tmp_path / f"night{suffix}")
        table = pd.read_csv(path, sep=sep)
        assert len(table) == 120
        assert list(table.columns[:6]) == [
            "onset",
            "duration",
            "stage",
            "confidence",
            "bad",
            "reason",
        ]
        np.testing.assert_array_equal(table["stage"], hypnogram.stage)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        hypnogram.save(tmp_path / "night.tsv")
    edf = hypnogram.save(tmp_path / "night.edf", night)
    read_back = mne.read_annotations(edf)
    stages = [d for d in read_back.description if d.startswith("Sleep stage")]
    assert len(stages) == 120
    with pytest.raises(ValueError, match="needs the recording"):
        hypnogram.save(tmp_path / "other.edf")
    with pytest.raises(ValueError, match="Unknown hypnogram format"):
        hypnogram.save(tmp_path / "night.xlsx")


def _disconnect(raw, start_epoch, stop_epoch, kind, rng):
    """Replace a stretch of the night by what a disconnected electrode records."""
    raw = raw.copy().load_data()
    sfreq = raw.info["sfreq"]
    span = slice(int(start_epoch * 30 * sfreq), int(stop_epoch * 30 * sfreq))
    n = span.stop - span.start
    t = np.arange(n) / sfreq
    if kind == "zeros":  # a gap the recorder filled with zeros
        raw._data[0, span] = 0.0
    elif kind == "saturated":  # the amplifier pinned at its rail
        raw._data[0, span] = 3.2e-3
    else:  # floating lead: slow swings towards the rails and broadband noise (~1 mV)
        raw._data[0, span] = 1e-3 * np.sin(2 * np.pi * 0.3 * t) + 100e-6 * rng.standard_normal(n)
    return raw


@pytest.mark.parametrize(
    "kind, reason", [("zeros", "flat"), ("saturated", "flat"), ("floating", "amplitude")]
)
def test_a_disconnected_stretch_is_flagged_not_staged(model, night, kind, reason, rng):
    raw = _disconnect(night, 40, 50, kind, rng)
    with pytest.warns(
        RuntimeWarning, match=f"10 of 120 epochs cannot be scored \\(10 {reason}\\)"
    ):
        hypnogram = stage(model, raw)
    np.testing.assert_array_equal(np.flatnonzero(hypnogram.bad), np.arange(40, 50))
    assert set(hypnogram.stage[40:50]) == {"?"} and set(hypnogram.reason[40:50]) == {reason}
    assert "?" not in set(hypnogram.stage[:40]) | set(hypnogram.stage[50:])
    assert np.isnan(hypnogram.confidence[40:50]).all()
    # The epochs around the stretch are staged as they were on the intact recording.
    intact = stage(model, night)
    np.testing.assert_array_equal(hypnogram.stage[:39], intact.stage[:39])
    np.testing.assert_array_equal(hypnogram.stage[51:], intact.stage[51:])
    described = hypnogram.to_annotations().description
    assert list(described[40:50]) == ["Sleep stage ?"] * 10
    table = hypnogram.to_data_frame()
    assert table["bad"].sum() == 10 and set(table.loc[table["bad"], "stage"]) == {"?"}


def test_bad_annotations_and_missing_samples_are_unscored(model, night):
    raw = night.copy().load_data()
    raw.set_annotations(raw.annotations + mne.Annotations([615.0], [90.0], ["BAD_electrode"]))
    raw._data[0, 100 * 30 * 100 + 5] = np.nan  # one missing sample in epoch 100
    with pytest.warns(RuntimeWarning, match="5 of 120 epochs cannot be scored \\(5 annotated\\)"):
        hypnogram = stage(model, raw)
    # 615-705 s touches epochs 20, 21, 22 and 23 (600-720 s); the NaN sits in epoch 100.
    np.testing.assert_array_equal(np.flatnonzero(hypnogram.bad), [20, 21, 22, 23, 100])


def test_clean_simulated_nights_have_no_bad_epochs(model):
    for seed in range(3):
        raw = simulate_sleep_raw(hours=8.0, random_state=seed, verbose="error")
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            assert not stage(model, raw).bad.any()


def test_stage_input_errors(model, night, tmp_path):
    two = night.copy().add_channels(
        [night.copy().rename_channels({"EEG Fpz-Cz": "EOG horizontal"})]
    )
    eeg_and_eog = two.copy().set_channel_types({"EOG horizontal": "eog"})
    # Like the command line, stage() picks the model's own channel by default.
    assert stage(model, two.set_channel_types({"EOG horizontal": "eeg"})).ch_name == "EEG Fpz-Cz"
    renamed = two.copy().rename_channels({"EEG Fpz-Cz": "EEG Pz-Oz"})
    with pytest.raises(ValueError, match="2 channels.*picks='EEG Pz-Oz'"):
        stage(model, renamed)
    assert len(stage(model, two, picks="EEG Fpz-Cz")) == 120
    # A non-EEG channel is refused unless the user insists.
    with pytest.raises(ValueError, match="'EOG horizontal' is of type 'eog', not EEG.*allow_non"):
        stage(model, eeg_and_eog, picks="EOG horizontal")
    with pytest.warns(RuntimeWarning, match="trained on channel"):
        assert stage(model, eeg_and_eog, picks=1, allow_non_eeg=True).ch_name == "EOG horizontal"
    with pytest.raises(ValueError, match="'C3' is not in the recording"):
        stage(model, night, picks="C3")
    with pytest.raises(TypeError, match="continuous mne.io.Raw"):
        stage(model, np.zeros((10, 3000)))
    with pytest.raises(ValueError, match="less than one 30-s epoch"):
        stage(model, night.copy().crop(0, 10))
    with pytest.warns(RuntimeWarning, match="trained on channel 'EEG Fpz-Cz'"):
        stage(model, two, picks="EOG horizontal")
    # With one EEG channel among others (EOG, EMG), that one is staged.
    assert stage(model, eeg_and_eog).ch_name == "EEG Fpz-Cz"
    with pytest.raises(ValueError, match="amplitude_ratio"):
        stage(model, night, amplitude_ratio=0.5)
    path = model.save(tmp_path / "m.sscsleep")
    np.testing.assert_array_equal(stage(path, night).label, stage(model, night).label)


def test_epochs_from_raw_reads_stage_annotations_and_trims_wake():
    raw = simulate_sleep_raw(hours=2.0, random_state=5, verbose="error")
    extra = mne.Annotations([0, 60], [30, 30], ["Lights off", "Movement time"])
    raw.set_annotations(raw.annotations + extra)
    epochs, y = epochs_from_raw(raw, verbose="error")
    assert len(y) == 240 and set(y) <= set(STAGES)
    trimmed, y_trimmed = epochs_from_raw(raw, trim_wake=5, verbose="error")
    sleep = np.flatnonzero(y != "W")
    assert len(y_trimmed) == min(sleep[-1] + 11, 240) - max(sleep[0] - 10, 0)
    raw.set_annotations(None)
    with pytest.raises(ValueError, match="no sleep-stage annotations"):
        epochs_from_raw(raw)


@pytest.mark.parametrize("unit, scale", [("uV", 1e6), ("mV", 1e3), ("counts", 1e6)])
def test_edf_units_are_read_in_volts(model, night, tmp_path, unit, scale):
    import edfio

    volts = night.get_data()[0]
    limit = 1000.0 if scale == 1e6 else 1.0  # +-1 mV in the file's unit
    signal = edfio.EdfSignal(
        volts * scale,
        sampling_frequency=100,
        label="EEG Fpz-Cz",
        physical_dimension=unit,
        physical_range=(-limit, limit),
    )
    fname = tmp_path / f"night_{unit}.edf"
    edfio.Edf([signal]).write(fname)
    raw = mne.io.read_raw(fname, verbose="error")
    if unit == "counts":  # a unit MNE does not know: microvolts read as volts, refused
        with pytest.raises(ValueError, match="declares a unit MNE does not know.*apply_function"):
            stage(model, raw)
        return
    np.testing.assert_allclose(raw.get_data()[0], volts, atol=2e-8)  # 16-bit resolution
    from_file, original = stage(model, raw), stage(model, night)
    np.testing.assert_allclose(from_file.proba, original.proba, atol=2e-3)
