"""Real-data loaders, tested offline on small files written in each dataset's layout."""

import mne
import numpy as np
import pytest

from mne_sscsleep import STAGES
from mne_sscsleep.datasets import (
    EpochStore,
    load_hmc,
    load_shhs,
    load_sleep_edf,
    read_nsrr_stages,
    simulate_sleep_raw,
    sleep_edf,
)


def _night(hours, sfreq, seed):
    raw = simulate_sleep_raw(hours=hours, sfreq=sfreq, random_state=seed, verbose="error")
    stages = np.array(
        [
            {
                "Sleep stage W": "W",
                "Sleep stage 1": "N1",
                "Sleep stage 2": "N2",
                "Sleep stage 3": "N3",
                "Sleep stage 4": "N3",
                "Sleep stage R": "R",
            }[d]
            for d in raw.annotations.description
        ]
    )
    return raw, stages


def _runs(stages):
    """(onset, duration, stage) of each run of equal stages, like real hypnogram files."""
    edges = np.flatnonzero(np.diff(np.r_[-1, [STAGES.index(s) for s in stages], -1]) != 0)
    return [(30.0 * a, 30.0 * (b - a), stages[a]) for a, b in zip(edges[:-1], edges[1:])]


def _write_edf(fname, raw, ch_names, annotations=None):
    data = np.repeat(raw.get_data(), len(ch_names), axis=0)
    info = mne.create_info(ch_names, raw.info["sfreq"], "eeg")
    out = mne.io.RawArray(data, info, verbose="error")
    out.set_annotations(annotations)
    fname.parent.mkdir(parents=True, exist_ok=True)
    mne.export.export_raw(fname, out, fmt="edf", overwrite=True, verbose="error")


def _write_scoring_edf(fname, annotations, duration):
    # EDF+ with the scoring as annotations (a dummy signal: edfio cannot write annotation-only
    # files; mne.read_annotations reads both kinds).
    raw = mne.io.RawArray(
        np.zeros((1, int(duration))), mne.create_info(["dummy"], 1.0, "misc"), verbose="error"
    )
    raw.set_annotations(annotations)
    mne.export.export_raw(fname, raw, fmt="edf", overwrite=True, verbose="error")


SLEEP_EDF_NAMES = {
    "W": "Sleep stage W",
    "N1": "Sleep stage 1",
    "N2": "Sleep stage 2",
    "R": "Sleep stage R",
}


@pytest.fixture(scope="module")
def sleep_edf_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("mne_data")
    raw, stages = _night(2.0, 100.0, 21)
    onsets, durations, descriptions = [], [], []
    for k, (onset, duration, stage) in enumerate(_runs(stages)):
        onsets.append(onset)
        durations.append(duration)
        # R&K: N3 is scored 3 or 4 in Sleep-EDF.
        descriptions.append(SLEEP_EDF_NAMES.get(stage, f"Sleep stage {3 + k % 2}"))
    end = len(stages) * 30.0
    onsets += [end, end + 30]
    durations += [30.0, 60.0]
    descriptions += ["Movement time", "Sleep stage ?"]
    folder = root / "physionet-sleep-data"
    _write_edf(folder / "SC4001E0-PSG.edf", raw, ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal"])
    _write_scoring_edf(
        folder / "SC4001EC-Hypnogram.edf",
        mne.Annotations(onsets, durations, descriptions),
        end + 120,
    )
    return root, raw, stages


def test_sleep_edf_through_mne_fetcher_offline(sleep_edf_folder, monkeypatch):
    root, raw, stages = sleep_edf_folder
    monkeypatch.setattr(sleep_edf, "_network_available", lambda *a, **k: False)
    epochs, y, groups = load_sleep_edf([0], recording=[1], path=str(root), trim_wake=None)
    np.testing.assert_array_equal(y, stages)  # N3 from 3 and 4; '?' and movement dropped
    assert epochs.ch_names == ["EEG Fpz-Cz"] and epochs.info["sfreq"] == 100.0
    assert set(groups) == {0} and list(epochs.metadata["recording"].unique()) == [
        "SC4001E0-PSG.edf"
    ]
    np.testing.assert_allclose(epochs.get_data()[:, 0].ravel(), raw.get_data()[0], atol=2e-7)
    trimmed, y_trimmed, _ = load_sleep_edf([0], recording=[1], path=str(root), trim_wake=5)
    sleep = np.flatnonzero(stages != "W")
    assert len(y_trimmed) == min(sleep[-1] + 11, len(stages)) - max(sleep[0] - 10, 0)
    pz, _, _ = load_sleep_edf([0], recording=[1], path=str(root), channel="EEG Pz-Oz")
    assert pz.ch_names == ["EEG Pz-Oz"]
    store = EpochStore.from_loader(
        root / "sc.store", load_sleep_edf, [0], recording=[1], path=str(root), trim_wake=None
    )
    np.testing.assert_array_equal(store.labels, stages)
    assert store.recordings["name"].tolist() == ["SC4001E0-PSG.edf"]


def test_sleep_edf_without_files_or_network_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(sleep_edf, "_network_available", lambda *a, **k: False)
    with pytest.raises(
        FileNotFoundError,
        match=r"cannot be reached: SC4011E0-PSG.edf.*sleep-"
        r"cassette/ into .*physionet-sleep-data",
    ):
        load_sleep_edf([1], recording=[1], path=str(tmp_path))
    with pytest.raises(ValueError, match="study must be"):
        load_sleep_edf([1], study="XX", path=str(tmp_path))


def test_sleep_edf_wrong_channel(sleep_edf_folder, monkeypatch):
    root, _, _ = sleep_edf_folder
    monkeypatch.setattr(sleep_edf, "_network_available", lambda *a, **k: False)
    with pytest.raises(ValueError, match="'EEG C3' is not in SC4001E0-PSG.edf; available"):
        load_sleep_edf([0], recording=[1], path=str(root), channel="EEG C3")


def test_hmc_layout_resampled_from_256_hz(tmp_path):
    raw, stages = _night(1.0, 256.0, 22)
    names = {
        "W": "Sleep stage W",
        "N1": "Sleep stage N1",
        "N2": "Sleep stage N2",
        "N3": "Sleep stage N3",
        "R": "Sleep stage R",
    }
    runs = _runs(stages)
    annotations = mne.Annotations(
        [0.0] + [r[0] for r in runs] + [len(stages) * 30.0],
        [0.0] + [r[1] for r in runs] + [0.0],
        ["Lights off"] + [names[r[2]] for r in runs] + ["Lights on"],
    )
    channels = ["EEG F4-M1", "EEG C4-M1", "EEG O2-M1", "EEG C3-M2", "EMG chin"]
    _write_edf(tmp_path / "SN001.edf", raw, channels)
    _write_scoring_edf(tmp_path / "SN001_sleepscoring.edf", annotations, len(stages) * 30 + 1)
    epochs, y, groups = load_hmc(tmp_path)
    np.testing.assert_array_equal(y, stages)
    assert epochs.info["sfreq"] == 100.0 and epochs.get_data().shape == (len(y), 1, 3000)
    assert epochs.ch_names == ["EEG C4-M1"] and set(groups) == {1}
    store = EpochStore.from_loader(tmp_path / "hmc.store", load_hmc, [1], path=tmp_path)
    np.testing.assert_array_equal(store.get_data(), epochs.get_data().astype(np.float32))
    assert set(store.subject) == {1}
    with pytest.raises(FileNotFoundError, match="No HMC recordings"):
        load_hmc(tmp_path, subjects=[7])
    with pytest.raises(FileNotFoundError, match="No HMC folder"):
        load_hmc(tmp_path / "nope")


NSRR_XML = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<PSGAnnotation><SoftwareVersion>Compumedics</SoftwareVersion><EpochLength>30</EpochLength>
<ScoredEvents>
<ScoredEvent><EventType/><EventConcept>Recording Start Time</EventConcept><Start>0</Start>
<Duration>{total}</Duration><ClinicalData>22.00.00 01.01.85</ClinicalData></ScoredEvent>
{events}
<ScoredEvent><EventType>Arousals|Arousals</EventType>
<EventConcept>Arousal|Arousal ()</EventConcept><Start>100.0</Start><Duration>10.0</Duration>
<SignalLocation>C3</SignalLocation></ScoredEvent>
</ScoredEvents></PSGAnnotation>
"""
NSRR_CONCEPTS = {
    "W": "Wake|0",
    "N1": "Stage 1 sleep|1",
    "N2": "Stage 2 sleep|2",
    "N3": "Stage 3 sleep|3",
    "R": "REM sleep|5",
}


def test_shhs_nsrr_layout(tmp_path):
    raw, stages = _night(1.0, 125.0, 23)
    events = [
        f"<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>"
        f"{NSRR_CONCEPTS[stage]}</EventConcept><Start>{onset}</Start>"
        f"<Duration>{duration}</Duration></ScoredEvent>"
        for onset, duration, stage in _runs(stages)
    ]
    end = len(stages) * 30.0
    events.append(
        "<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Unscored|9"
        f"</EventConcept><Start>{end}</Start><Duration>60.0</Duration></ScoredEvent>"
    )
    xml = tmp_path / "polysomnography/annotations-events-nsrr/shhs1/shhs1-200001-nsrr.xml"
    xml.parent.mkdir(parents=True)
    xml.write_text(NSRR_XML.format(total=end + 60, events="\n".join(events)))
    edf = tmp_path / "polysomnography/edfs/shhs1/shhs1-200001.edf"
    _write_edf(edf, raw, ["EEG(sec)", "ECG", "EEG"])
    annotations = read_nsrr_stages(xml)
    assert len(annotations) == len(_runs(stages))  # unscored and arousals left out
    epochs, y, groups = load_shhs(tmp_path, trim_wake=None)
    np.testing.assert_array_equal(y, stages)
    assert epochs.ch_names == ["EEG"] and epochs.info["sfreq"] == 100.0
    assert set(groups) == {200001}
    with pytest.warns(RuntimeWarning, match="Skipped subject 200002"):
        store = EpochStore.from_loader(
            tmp_path / "shhs.store",
            load_shhs,
            [200001, 200002],
            path=tmp_path,
            trim_wake=None,
            on_error="warn",
        )
    np.testing.assert_array_equal(store.labels, stages)
    with pytest.raises(FileNotFoundError, match="No SHHS recordings"):
        load_shhs(tmp_path, visit="shhs2")


def test_edf_folder_pairs_hypnograms_and_groups_nights_by_subject(tmp_path):
    from mne_sscsleep.datasets import find_recordings, load_edf_folder

    expected = {}
    for night, seed in ((1, 31), (2, 32)):
        raw, stages = _night(1.0, 100.0, seed)
        annotations = mne.Annotations(
            [r[0] for r in _runs(stages)],
            [r[1] for r in _runs(stages)],
            [SLEEP_EDF_NAMES.get(r[2], "Sleep stage 4") for r in _runs(stages)],
        )
        name = f"SC40{7}{night}E0-PSG.edf"
        _write_edf(tmp_path / name, raw, ["EEG Fpz-Cz", "EEG Pz-Oz"])
        _write_scoring_edf(
            tmp_path / f"SC40{7}{night}EC-Hypnogram.edf", annotations, len(stages) * 30 + 1
        )
        expected[name] = stages
    # A lab's own EDF+ file that carries its stages as annotations.
    raw, stages = _night(0.5, 200.0, 33)
    _write_edf(tmp_path / "lab-night.edf", raw, ["EEG Fpz-Cz"], annotations=raw.annotations)
    expected["lab-night.edf"] = stages
    pairs = find_recordings(tmp_path)
    assert [(p.name, h.name if h else None) for p, h in pairs] == [
        ("SC4071E0-PSG.edf", "SC4071EC-Hypnogram.edf"),
        ("SC4072E0-PSG.edf", "SC4072EC-Hypnogram.edf"),
        ("lab-night.edf", None),
    ]
    epochs, y, groups = load_edf_folder(tmp_path, "EEG Fpz-Cz", trim_wake=None, progress=False)
    recordings = epochs.metadata["recording"].to_numpy()
    for name, stages in expected.items():
        np.testing.assert_array_equal(y[recordings == name], stages)
    # Both nights of Sleep-EDF subject 7 share a group; the lab file gets its position (2).
    assert set(groups[recordings == "SC4071E0-PSG.edf"]) == {7}
    assert set(groups[recordings == "SC4072E0-PSG.edf"]) == {7}
    assert set(groups[recordings == "lab-night.edf"]) == {2}
    assert epochs.info["sfreq"] == 100.0 and epochs.ch_names == ["EEG Fpz-Cz"]
    with pytest.raises(ValueError, match="SC4071E0-PSG.edf: .*2 channels.*picks='EEG Fpz-Cz'"):
        load_edf_folder(tmp_path, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No EDF recordings in"):
        load_edf_folder(tmp_path / "empty", progress=False)


def test_recordings_of_different_channels_are_not_mixed(tmp_path):
    from mne_sscsleep.datasets import load_edf_folder

    for name, channel, seed in (("a.edf", "EEG Fpz-Cz", 41), ("b.edf", "EEG C4-M1", 42)):
        raw, _ = _night(0.5, 100.0, seed)
        _write_edf(tmp_path / name, raw, [channel], annotations=raw.annotations)
    with pytest.raises(ValueError, match="different channels \\('EEG Fpz-Cz' in a.edf"):
        load_edf_folder(tmp_path, progress=False)
