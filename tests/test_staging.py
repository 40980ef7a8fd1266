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
    assert not hypnogram.flat.any()
    # Annotations already in the recording are left alone.
    assert raw.annotations == annotations_before or len(raw.annotations) == len(annotations_before)
    np.testing.assert_array_equal(raw.annotations.description, annotations_before.description)
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
        assert list(table.columns[:5]) == ["onset", "duration", "stage", "confidence", "flat"]
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


def test_flat_segments_are_flagged(model, night):
    raw = night.copy().load_data()
    raw._data[0, 30 * 100 * 5 : 30 * 100 * 8] = 0.0
    with pytest.warns(RuntimeWarning, match="3 of 120 epochs are flat"):
        hypnogram = stage(model, raw)
    np.testing.assert_array_equal(np.flatnonzero(hypnogram.flat), [5, 6, 7])


def test_stage_input_errors(model, night, tmp_path):
    two = night.copy().add_channels(
        [night.copy().rename_channels({"EEG Fpz-Cz": "EOG horizontal"})]
    )
    with pytest.raises(ValueError, match="2 channels.*picks='EEG Fpz-Cz'"):
        stage(model, two.set_channel_types({"EOG horizontal": "eeg"}))
    assert len(stage(model, two, picks="EEG Fpz-Cz")) == 120
    with pytest.raises(ValueError, match="'C3' is not in the recording"):
        stage(model, night, picks="C3")
    with pytest.raises(TypeError, match="continuous mne.io.Raw"):
        stage(model, np.zeros((10, 3000)))
    with pytest.raises(ValueError, match="less than one 30-s epoch"):
        stage(model, night.copy().crop(0, 10))
    with pytest.warns(RuntimeWarning, match="trained on channel 'EEG Fpz-Cz'"):
        stage(model, two, picks="EOG horizontal")
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
