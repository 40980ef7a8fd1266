"""Nothing lost, nothing silently wrong: each row of issue 24, as it was reproduced.

Every test here failed on the code before the fix: a user's recording or scoring file written
over, a store that lost recordings, labels read wrongly, a model file that made us allocate what
it claimed, a damaged model staged as wake.
"""

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import mne
import numpy as np
import pytest
import torch
from helpers import PEAK_MB, TINY, TINY_PAPER, write_edf
from sklearn.preprocessing import LabelEncoder
from skorch.exceptions import NotInitializedError

from mne_sscsleep import SSCSleepClassifier, stage, stage_many
from mne_sscsleep import io as model_io
from mne_sscsleep.cli import main
from mne_sscsleep.datasets import (
    EpochStore,
    find_recordings,
    load_edf_folder,
    simulate_sleep_epochs,
    simulate_sleep_raw,
)
from mne_sscsleep.hypnogram import is_hypnogram_file
from mne_sscsleep.staging import read_recording_file


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _night(path, *, hours=0.5, seed=0, sfreq=100.0, extra_channels=0):
    """A simulated night as an EDF file (EEG Fpz-Cz, plus EOG-like channels)."""
    raw = simulate_sleep_raw(hours=hours, sfreq=sfreq, random_state=seed, verbose="error")
    signals = {"EEG Fpz-Cz": (raw.get_data()[0], sfreq)}
    rng = np.random.default_rng(seed)
    for index in range(extra_channels):
        signals[f"EOG {index}"] = (rng.normal(0, 30e-6, raw.n_times), sfreq)
    write_edf(path, signals)
    return raw


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    epochs, y, _ = simulate_sleep_epochs(2, hours=1.0, random_state=0, verbose="error")
    clf = SSCSleepClassifier(**TINY).fit(epochs, y)
    return clf.save(tmp_path_factory.mktemp("model") / "m.sscsleep")


@pytest.fixture(scope="module")
def model(model_file):
    return SSCSleepClassifier.load(model_file)


# ---- 1, 2: outputs never replace recordings or scoring files --------------------------------
def test_1_stage_refuses_to_write_over_the_recording(model_file, tmp_path, capsys):
    psg = tmp_path / "psg.edf"
    _night(psg, extra_channels=2)
    before = _digest(psg)
    assert main(["stage", str(psg), "--model", str(model_file), "-o", str(psg)]) == 1
    assert "is the file being read" in capsys.readouterr().err
    assert _digest(psg) == before and len(mne.io.read_raw_edf(psg).ch_names) == 3


def test_2_batch_staging_into_the_recordings_folder_loses_nothing(model_file, tmp_path, capsys):
    folder = tmp_path / "lab"
    folder.mkdir()
    _night(folder / "night1.edf", seed=1)
    _night(folder / "night2.edf", seed=2)
    (folder / "night1.tsv").write_text("W\nW\nN1\nN2\n")  # the user's own scoring file
    before = {path.name: _digest(path) for path in folder.iterdir()}
    base = ["stage", str(folder), "--model", str(model_file), "--out-dir", str(folder)]
    # EDF hypnograms would be the recordings themselves: refused before any work.
    assert main([*base, "--overwrite", "--format", "edf"]) == 1
    assert "would be written over the recording itself" in capsys.readouterr().err
    assert {path.name: _digest(path) for path in folder.iterdir()} == before
    # TSV: night1.tsv is the user's, never replaced (with or without --overwrite) nor read as
    # a hypnogram of ours; night2 is staged.
    for extra in (["--overwrite"], []):
        assert main([*base, *extra]) == 1
        err = capsys.readouterr().err
        assert "night1.edf" in err and "not a hypnogram written by mne-sscsleep" in err
        assert _digest(folder / "night1.tsv") == before["night1.tsv"]
        assert _digest(folder / "night1.edf") == before["night1.edf"]
    assert is_hypnogram_file(folder / "night2.tsv")
    summary = (folder / "summary.tsv").read_text()
    assert "skipped" in summary and "failed" in summary  # night2 done by the first TSV run


def test_2_outputs_of_ours_are_replaced_only_when_asked(model, tmp_path):
    raw = simulate_sleep_raw(hours=0.5, random_state=3, verbose="error")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hypnogram = stage(model, raw)
    path = hypnogram.save(tmp_path / "h.tsv")
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        hypnogram.save(path)
    hypnogram.save(path, overwrite=True)
    scoring = tmp_path / "scoring.csv"
    scoring.write_text("stage\nW\nN1\n")
    with pytest.raises(FileExistsError, match="never writes over a file it did not create"):
        hypnogram.save(scoring, overwrite=True)
    assert scoring.read_text() == "stage\nW\nN1\n"
    model_path = model.save(tmp_path / "m.sscsleep")
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        model.save(model_path)
    model.save(model_path, overwrite=True)
    with pytest.raises(FileExistsError, match="never writes over"):
        model.save(scoring, overwrite=True)


def test_2_output_folder_that_is_a_file_gets_one_line(model_file, tmp_path, capsys):
    _night(tmp_path / "night.edf")
    (tmp_path / "out").write_text("a file")
    argv = ["stage", str(tmp_path / "night.edf"), "--model", str(model_file)]
    assert main([*argv, "--out-dir", str(tmp_path / "out")]) == 1
    assert "is a file; give a folder" in capsys.readouterr().err


# ---- 3, 4: a store identifies recordings by content, and takes concurrent writers -----------
def _scored_night(path, seed):
    """A recording and its scoring file (one stage per line), as a lab keeps them."""
    raw = _night(path, hours=0.25, seed=seed)
    stages = [d.replace("Sleep stage ", "") for d in raw.annotations.description]
    path.with_suffix(".txt").write_text("\n".join(stages) + "\n")


def _lab(folder, seeds):
    folder.mkdir(parents=True)
    for seed in seeds:
        _scored_night(folder / f"night{seed}.edf", seed)
    return folder


def _build(folder, store):
    return subprocess.Popen(
        [sys.executable, "-m", "mne_sscsleep", "store", "build", str(folder), "-o", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


@pytest.mark.slow
def test_3_concurrent_builds_of_one_store_lose_and_repeat_nothing(tmp_path):
    site_a = _lab(tmp_path / "a", range(0, 5))
    site_b = _lab(tmp_path / "b", range(10, 15))
    for folders, expected in (((site_a, site_b), 10), ((site_a, site_a), 5)):
        store_path = tmp_path / f"store{expected}"
        processes = [_build(folder, store_path) for folder in folders]
        for process in processes:
            assert process.wait(timeout=300) == 0, process.stderr.read().decode()
        store = EpochStore.open(store_path)
        assert len(store.recordings) == expected
        assert len(set(store.recordings["source"])) == expected
        # Each stored recording holds its own file's epochs.
        for name, source in zip(store.recordings["name"], store.recordings["source"]):
            epochs, _, _ = load_edf_folder(Path(source).parent, progress=False)
            mine = epochs.metadata["recording"].to_numpy() == name
            code = list(store.recordings["source"]).index(source)
            stored = store.get_data(np.flatnonzero(store.recording == code))
            np.testing.assert_allclose(stored, epochs.get_data()[mine], rtol=1e-6, atol=1e-12)


def test_4_same_name_other_night_is_stored_and_the_same_night_once(tmp_path):
    site_a = _lab(tmp_path / "siteA", [1])
    site_b = tmp_path / "siteB"
    site_b.mkdir()
    _scored_night(site_b / "night1.edf", seed=7)  # the same name, another night
    store = EpochStore.from_edf_folder(tmp_path / "s", site_a, progress=False)
    store = EpochStore.from_edf_folder(tmp_path / "s", site_b, progress=False)
    assert list(store.recordings["name"]) == ["night1.edf", "night1.edf"]
    assert EpochStore.from_edf_folder(tmp_path / "s", site_a, progress=False).shape == store.shape
    # In memory: two nights under one subject name are two recordings; a night again is none.
    night1, y1, _ = simulate_sleep_epochs(1, hours=0.25, random_state=1, verbose="error")
    night2, y2, _ = simulate_sleep_epochs(1, hours=0.25, random_state=2, verbose="error")
    memory = EpochStore.from_epochs(tmp_path / "m", night1, y1)
    assert memory.add(night2, y2) == 1 and memory.add(night1, y1) == 0
    assert list(memory.recordings["name"]) == ["subject 0", "subject 0"]


# ---- 5: exact pairing of recordings and hypnograms ------------------------------------------
def test_5_recordings_pair_with_their_own_hypnograms(tmp_path):
    names = [
        "patient_A.edf",
        "patient_A_hypnogram.edf",
        "patient_B.edf",
        "patient_B_hypnogram.edf",
        "SC4001E0-PSG.edf",
        "SC4001EC-Hypnogram.edf",
        "SC4011E0-PSG.edf",
        "SC4011EH-Hypnogram.edf",
        "night1.edf",
        "night10.edf",
        "night10.csv",
    ]
    for name in names:
        (tmp_path / name).touch()
    pairs = {rec.name: (hyp.name if hyp else None) for rec, hyp in find_recordings(tmp_path)}
    assert pairs == {
        "patient_A.edf": "patient_A_hypnogram.edf",
        "patient_B.edf": "patient_B_hypnogram.edf",
        "SC4001E0-PSG.edf": "SC4001EC-Hypnogram.edf",
        "SC4011E0-PSG.edf": "SC4011EH-Hypnogram.edf",
        "night1.edf": None,  # never night10.csv
        "night10.edf": "night10.csv",
    }
    (tmp_path / "night1.csv").touch()
    (tmp_path / "night1-hypnogram.txt").touch()
    with pytest.raises(ValueError, match="night1.edf has several stage files"):
        find_recordings(tmp_path)


# ---- 6, 7, 8: labels and fitted parameters ----------------------------------------------------
@pytest.fixture(scope="module")
def night(sim_nights):
    epochs, y, groups = sim_nights
    keep = groups < 2
    return epochs.get_data()[keep].astype(np.float32), y[keep]


def test_6_label_encoder_codes_are_refused_then_read_as_said(night):
    X, y = night
    encoder = LabelEncoder()
    codes = encoder.fit_transform(y)  # N1=0, N2=1, N3=2, R=3, W=4
    with pytest.raises(ValueError, match="LabelEncoder.*stage_map=.*events\\[:, 2\\]"):
        SSCSleepClassifier(**TINY).fit(X, codes)
    stage_map = dict(enumerate(encoder.classes_))
    clf = SSCSleepClassifier(**TINY, stage_map=stage_map).fit(X, codes)
    counts = [np.sum(y == stage) for stage in ("W", "N1", "N2", "N3", "R")]
    np.testing.assert_array_equal(clf.class_counts_, counts)
    # The class weight of N1, the rarest stage, is the highest: it landed on N1, not N2.
    weights = clf.criterion_.class_weights.numpy()
    assert counts[1] == min(counts) and int(np.argmax(weights)) == 1
    assert list(clf.classes_) == list(encoder.transform(["W", "N1", "N2", "N3", "R"]))


def test_7_changing_the_network_after_fit_never_saves_an_unloadable_model(night, tmp_path):
    X, y = night
    clf = SSCSleepClassifier(**TINY).fit(X, y)
    clf.set_params(preset="paper")
    with pytest.raises(NotInitializedError, match="preset 'lite' -> 'paper'.*fit again"):
        clf.predict(X[:5])
    with pytest.raises(NotInitializedError, match="preset 'lite' -> 'paper'"):
        clf.save(tmp_path / "m.sscsleep")
    assert not (tmp_path / "m.sscsleep").exists()
    clf.set_params(preset="lite")
    expected = clf.predict(X[:5])
    loaded = SSCSleepClassifier.load(clf.save(tmp_path / "m.sscsleep"))
    np.testing.assert_array_equal(loaded.predict(X[:5]), expected)
    # skorch re-initialises the network on module__ changes: its weights are not the fitted.
    clf.set_params(module__embedding_dim=16)
    with pytest.raises(NotInitializedError, match="module__embedding_dim 8 -> 16"):
        clf.predict(X[:5])


def test_8_two_spellings_of_one_stage_never_make_an_unused_class(night):
    X, y = night
    rk = np.array(
        [
            {"W": "Sleep stage W", "N1": "Sleep stage 1", "N2": "Sleep stage 2", "R": "R"}.get(
                stage, "Sleep stage 4" if index % 2 else "Sleep stage 3"
            )
            for index, stage in enumerate(y)
        ]
    )
    with pytest.raises(ValueError, match="stage N3 in 2 ways.*classes="):
        SSCSleepClassifier(**TINY).fit(X, rk)
    merged = np.where(rk == "Sleep stage 4", "Sleep stage 3", rk)
    clf = SSCSleepClassifier(**TINY).fit(X, merged)
    assert set(clf.classes_) <= set(merged)
    assert clf.score(X, merged) == np.mean(clf.predict(X) == merged)


# ---- 9, 10: staging resumes only complete hypnograms, and reads files honestly ---------------
def test_9_cut_or_empty_hypnograms_are_staged_again(model_file, tmp_path):
    (tmp_path / "rec").mkdir()
    _night(tmp_path / "rec" / "a.edf", seed=1)
    _night(tmp_path / "rec" / "b.edf", seed=2)
    out = tmp_path / "out"
    first = stage_many(model_file, tmp_path / "rec", out, progress=False)
    assert list(first["status"]) == ["staged", "staged"]
    lines = (out / "a.tsv").read_text().splitlines()
    (out / "a.tsv").write_text("\n".join(lines[:11]) + "\n")  # cut by an interruption
    (out / "b.tsv").write_text("")
    again = stage_many(model_file, tmp_path / "rec", out, progress=False)
    assert list(again["status"]) == ["staged", "staged"]
    assert list(again["n_epochs"]) == list(first["n_epochs"]) == [60, 60]
    assert list(stage_many(model_file, tmp_path / "rec", out, progress=False)["status"]) == [
        "skipped",
        "skipped",
    ]


def test_10_truncated_and_one_hertz_recordings_are_refused(model, model_file, tmp_path):
    whole = tmp_path / "whole.edf"
    _night(whole, hours=0.5)
    cut = tmp_path / "cut.edf"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    with pytest.raises(ValueError, match="cut.edf is truncated.*declares 1800 data records"):
        read_recording_file(cut)
    summary = stage_many(model_file, [cut, whole], tmp_path / "out", progress=False)
    assert list(summary["status"]) == ["failed", "staged"]
    assert "truncated" in summary["error"][0]
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "cut.edf").write_bytes(cut.read_bytes())
    with pytest.raises(ValueError, match="cut.edf.*truncated"):
        load_edf_folder(folder, progress=False)
    # A 1-Hz channel (MNE brings it to its file's highest rate: the header tells the truth).
    slow = tmp_path / "slow.edf"
    rng = np.random.default_rng(0)
    eeg, emg = rng.normal(0, 2e-5, 3600), rng.normal(0, 2e-5, 360000)
    write_edf(slow, {"EEG": (eeg, 1.0), "EMG": (emg, 100.0)})
    with pytest.raises(ValueError, match="recorded at 1 Hz"):
        stage(model, read_recording_file(slow), picks="EEG")


# ---- 11, 12: untrusted model files ------------------------------------------------------------
def _deep_list(depth):
    nested = []
    for _ in range(depth):
        nested = [nested]
    return nested


def _forged(model_file, tmp_path, name, change, *, checksum=True):
    payload = torch.load(model_file, weights_only=True)
    change(payload)
    if checksum:  # a forger recomputes the checksum
        payload["checksum"] = model_io._checksum(payload)
    path = tmp_path / name
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # pickling a deeply nested list recurses (loading does not)
    try:
        torch.save(payload, path)
    finally:
        sys.setrecursionlimit(limit)
    return path


def _set_weight(value):
    def change(payload):
        key = next(k for k, v in payload["module_state"].items() if v.is_floating_point())
        payload["module_state"][key] = value(payload["module_state"][key])

    return change


def test_11_a_stride_zero_tensor_is_refused_before_any_allocation(model_file, tmp_path):
    forged = _forged(
        model_file,
        tmp_path,
        "huge.sscsleep",
        _set_weight(lambda _: torch.zeros(1).expand(2**31)),
        checksum=False,
    )
    assert forged.stat().st_size < 10_000_000
    code = (
        "import resource, sys\n"
        "from mne_sscsleep import SSCSleepClassifier\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        f"    SSCSleepClassifier.load({str(forged)!r})\n"
        "except ValueError as error:\n"
        "    print(error)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    message, grown_mb = result.stdout.strip().splitlines()
    assert "does not own its 2,147,483,648 elements" in message
    assert int(grown_mb) < 200  # not the 8 GB it claims


@pytest.mark.parametrize(
    "change, checksum, match",
    [
        (_set_weight(lambda w: w.to_sparse()), False, "sparse_coo tensor; model weights are"),
        (_set_weight(lambda w: torch.complex(w, w * np.nan)), True, "complex"),
        (lambda p: p["history"].append(_deep_list(5000)), False, "nested deeper than 24"),
        (lambda p: p["params"].update(predict_nonlinearity=None), True, "not the stage softmax"),
        (lambda p: p["params"].update(iterator_valid__num_workers=8), True, "runtime setting"),
        (lambda p: p.update(ch_name="EEG\x1b[31m Fpz\nCz"), True, "not a printable name"),
    ],
)
def test_11_12_forged_model_files_are_refused_in_our_words(
    model_file, tmp_path, change, checksum, match
):
    forged = _forged(model_file, tmp_path, "forged.sscsleep", change, checksum=checksum)
    with pytest.raises(ValueError, match=match):
        SSCSleepClassifier.load(forged)


def test_11_a_store_manifest_cannot_claim_its_way_into_memory(tmp_path):
    epochs, y, _ = simulate_sleep_epochs(1, hours=0.25, random_state=0, verbose="error")
    store = EpochStore.from_epochs(tmp_path / "s", epochs, y)
    manifest = store.path / "recordings.jsonl"
    entry = json.loads(manifest.read_text())
    labels = store.path / "data" / entry["labels"]
    header = labels.read_bytes()
    labels.write_bytes(header.replace(f"({entry['n_epochs']}, 2)".encode(), b"(2147483648, 2)"))
    entry["n_epochs"] = 2**31
    manifest.write_text(json.dumps(entry) + "\n")
    with pytest.raises(ValueError, match="is damaged.*claims int32 of shape \\(2147483648, 2\\)"):
        EpochStore.open(store.path)


def _huge_weights(payload):
    for key, value in payload["module_state"].items():
        if value.is_floating_point() and "running" not in key:
            payload["module_state"][key] = torch.full_like(value, 1e38)


def test_12_a_model_that_outputs_nan_leaves_epochs_unscored_loudly(model_file, tmp_path):
    forged = _forged(model_file, tmp_path, "nan.sscsleep", _huge_weights)
    model = SSCSleepClassifier.load(forged)
    raw = simulate_sleep_raw(hours=0.5, random_state=1, verbose="error")
    with pytest.warns(RuntimeWarning, match="not a number for 60 of 60 epochs"):
        hypnogram = stage(model, raw)
    assert hypnogram.bad.all() and set(hypnogram.reason) == {"model"}
    assert set(hypnogram.stage) == {"?"}
    with pytest.raises(ValueError, match="Cannot predict 60 of 60 epochs.*not a number"):
        model.predict(raw.get_data()[0, :180000].reshape(60, 3000).astype(np.float32))


def test_12_model_info_prints_no_terminal_escapes(model_file):
    info = model_io.model_info(model_file)
    info["ch_name"] = "EEG\x1b[2J\nFpz"
    info["training_data"] = {"source": "x\x1b]0;owned\x07", "recordings": ["a\nb"]}
    text = model_io.format_model_info(info)
    assert "\x1b" not in text and "\\x1b[2J\\nFpz" in text and "a\\nb" in text


# ---- 13: memory does not grow with length or rate ---------------------------------------------
_PEAK = PEAK_MB + (
    "import sys, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "from mne_sscsleep import SSCSleepClassifier, stage\n"
    "from mne_sscsleep.staging import read_recording_file\n"
    "model = SSCSleepClassifier.load(sys.argv[1])\n"
    "raw = read_recording_file(sys.argv[2])\n"
    "before = peak_mb(reset=True)\n"
    "hypnogram = stage(model, raw)\n"
    "print(len(hypnogram), peak_mb() - before)\n"
)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")
def test_13_staging_memory_stays_flat_with_length_and_rate(model_file, tmp_path):
    rng = np.random.default_rng(0)
    grown = {}
    for hours, sfreq in ((2, 256.0), (12, 256.0), (0.25, 10000.0)):
        path = tmp_path / f"{hours}h_{sfreq:g}.edf"
        n = int(hours * 3600 * sfreq)
        write_edf(path, {"EEG Fpz-Cz": (rng.normal(0, 20e-6, n).astype(np.float32), sfreq)})
        result = subprocess.run(
            [sys.executable, "-c", _PEAK, str(model_file), str(path)],
            capture_output=True,
            text=True,
        )
        n_epochs, megabytes = map(int, result.stdout.split())
        assert n_epochs == int(hours * 120)
        grown[hours, sfreq] = megabytes
    # 12 h at 256 Hz is 85 MB of float64 at its own rate; staging holds the channel at 100 Hz
    # (17 MB as float32) and one chunk: the growth from 2 h to 12 h stays well below the
    # channel's own size.
    assert grown[12, 256.0] - grown[2, 256.0] < 60, grown
    assert grown[0.25, 10000.0] < 300, grown


# ---- 14: clear messages -----------------------------------------------------------------------
def test_14_sample_weight_and_broken_edf_headers_get_clear_messages(night, tmp_path):
    X, y = night
    with pytest.raises(TypeError, match="fit got sample_weight.*criterion__class_weight"):
        SSCSleepClassifier(**TINY).fit(X, y, sample_weight=np.ones(len(y)))
    rng = np.random.default_rng(0)
    empty = write_edf(tmp_path / "empty.edf", {"EEG": (rng.normal(0, 2e-5, 50), 100.0)})
    with pytest.raises(ValueError, match="empty.edf holds no data records"):
        read_recording_file(empty)
    flat_scale = write_edf(
        tmp_path / "scale.edf", {"EEG": (rng.normal(0, 2e-5, 3000), 100.0)}, digital=(5, 5)
    )
    with pytest.raises(ValueError, match="digital minimum = maximum"):
        read_recording_file(flat_scale)
    with np.errstate(divide="ignore", invalid="ignore"):  # the helper scales by max - min
        flat_range = write_edf(
            tmp_path / "range.edf", {"EEG": (rng.normal(0, 2e-5, 3000), 100.0)}, physical=(7, 7)
        )
    with pytest.raises(ValueError, match="physical minimum = maximum.*reads as the same"):
        read_recording_file(flat_range)


def test_14_groups_reach_the_split_only(night):
    from sklearn.model_selection import GroupKFold
    from skorch.dataset import ValidSplit

    X, y = night
    groups = np.repeat([0, 1], len(y) // 2)
    clf = SSCSleepClassifier(**TINY, train_split=ValidSplit(GroupKFold(2)))
    assert len(clf.fit(X, y, groups=groups).history) == 1


# ---- 16: the paper's network on a CPU says what it will cost -----------------------------------
def test_16_the_paper_preset_on_a_cpu_estimates_a_pass_first(night, capsys):
    X, y = night
    SSCSleepClassifier(**{**TINY_PAPER, "verbose": 1}).fit(X, y)
    out = capsys.readouterr().out
    estimate = out.index("A training pass (")
    assert "preset='lite'" in out[estimate:] and "device='cuda'" in out[estimate:]
    assert estimate < out.index("train_loss")  # before the first pass's row
    SSCSleepClassifier(**{**TINY, "verbose": 1}).fit(X, y)
    assert "A training pass (" not in capsys.readouterr().out
