"""A newcomer's first hour: MNE's tutorial code, labels, parameters, the CLI and clinical output.

Each test follows what a sleep researcher who knows MNE and scikit-learn would type, and checks
that it either works or fails with our message (never a traceback from torch or skorch, never a
silently wrong result).
"""

import re
import subprocess
import sys
import warnings

import mne
import numpy as np
import pandas as pd
import pytest
from helpers import TINY
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GroupKFold, cross_validate

from mne_sscsleep import STAGES as STAGES_NAMES
from mne_sscsleep import SSCSleepClassifier, stage
from mne_sscsleep.cli import main
from mne_sscsleep.datasets import read_stage_file, simulate_sleep_epochs, simulate_sleep_raw
from mne_sscsleep.io import model_info
from mne_sscsleep.metrics import SCORERS

# MNE's sleep tutorial ("Sleep stage classification from polysomnography (PSG) data"), verbatim.
ANNOTATION_DESC_2_EVENT_ID = {
    "Sleep stage W": 1,
    "Sleep stage 1": 2,
    "Sleep stage 2": 3,
    "Sleep stage 3": 4,
    "Sleep stage 4": 4,
    "Sleep stage R": 5,
}
EVENT_ID = {
    "Sleep stage W": 1,
    "Sleep stage 1": 2,
    "Sleep stage 2": 3,
    "Sleep stage 3/4": 4,
    "Sleep stage R": 5,
}


@pytest.fixture(scope="module")
def psg_files(tmp_path_factory):
    """Two simulated nights as Sleep-EDF-like files: an EDF recording + a hypnogram file."""
    folder = tmp_path_factory.mktemp("sleep-edf")
    files = []
    for seed in (3, 4):
        raw = simulate_sleep_raw(hours=3.0, random_state=seed, verbose="error")
        psg, hypnogram = folder / f"SC40{seed}1E0-PSG.edf", folder / f"SC40{seed}1EC-Hypnogram.txt"
        mne.export.export_raw(psg, raw.copy().set_annotations(None), fmt="edf", verbose="error")
        raw.annotations.save(hypnogram)
        files.append((psg, hypnogram))
    return files


def _tutorial_epochs(psg, hypnogram):
    """The tutorial's code: read, attach the hypnogram, events every 30 s, lazy Epochs."""
    raw = mne.io.read_raw_edf(psg, stim_channel="Event marker", infer_types=True, verbose="error")
    annotations = mne.read_annotations(hypnogram)
    raw.set_annotations(annotations, emit_warning=False)
    events, _ = mne.events_from_annotations(
        raw, event_id=ANNOTATION_DESC_2_EVENT_ID, chunk_duration=30.0, verbose="error"
    )
    tmax = 30.0 - 1.0 / raw.info["sfreq"]
    return mne.Epochs(
        raw=raw,
        events=events,
        event_id=EVENT_ID,
        tmin=0.0,
        tmax=tmax,
        baseline=None,
        verbose="error",
    )


def test_simulator_writes_sleep_edf_descriptions():
    raw = simulate_sleep_raw(hours=8.0, random_state=0, verbose="error")
    descriptions = set(raw.annotations.description)
    # R&K stages 3 and 4 as in Sleep-EDF's hypnograms, never the merged '3/4'.
    assert {"Sleep stage 3", "Sleep stage 4"} <= descriptions
    assert "Sleep stage 3/4" not in descriptions


@pytest.mark.slow
def test_mne_tutorial_flow_runs_unchanged(psg_files):
    epochs_train = _tutorial_epochs(*psg_files[0])
    epochs_test = _tutorial_epochs(*psg_files[1])
    assert not epochs_train.preload  # lazy, as in the tutorial
    clf = SSCSleepClassifier(**dict(TINY, max_epochs=2))
    y_train = epochs_train.events[:, 2]
    clf.fit(epochs_train, y_train)
    # Event codes 1..5 were read through event_id; predictions come back as codes.
    np.testing.assert_array_equal(clf.classes_, [1, 2, 3, 4, 5])
    assert clf.stage_map_[4] == "N3" and clf.stage_map_[1] == "W"
    # More passes on arrays of the same codes: read as the first fit read them ...
    clf.partial_fit(epochs_train.get_data(), y_train)
    y_pred = clf.predict(epochs_test)
    y_test = epochs_test.events[:, 2]
    assert set(np.unique(y_pred)) <= {1, 2, 3, 4, 5}
    accuracy = accuracy_score(y_test, y_pred)
    # The same score as reading both through their stages: the codes were not shifted.
    assert accuracy == pytest.approx(np.mean(clf.label_stages(y_test) == clf.label_stages(y_pred)))
    # A fresh fit on arrays never reads codes through an earlier fit's map.
    with pytest.raises(ValueError, match="stage_map"):
        clf.fit(epochs_train.get_data(), y_train)
    # y=None: the labels are the event_id names, and so are the predictions (one rule).
    by_name = SSCSleepClassifier(**TINY).fit(epochs_train)
    assert "Sleep stage 3/4" in by_name.classes_
    assert set(by_name.predict(epochs_test[:30])) <= set(EVENT_ID)


def test_lazy_epochs_that_drop_epochs_say_how_to_take_y(psg_files):
    epochs = _tutorial_epochs(*psg_files[0])
    y = epochs.events[:, 2]
    epochs.drop_bad()  # as MNE does when it reads: the last epoch might not fit, etc.
    epochs.drop([0, 1])  # the user drops two more after taking y
    with pytest.raises(ValueError, match="MNE dropped bad epochs.*y = epochs.drop_bad"):
        SSCSleepClassifier(**TINY).fit(epochs, y)


@pytest.mark.slow
def test_cross_validate_scores_event_codes_correctly(psg_files):
    epochs = mne.concatenate_epochs(
        [_tutorial_epochs(*files).load_data() for files in psg_files], verbose="error"
    )
    y = epochs.events[:, 2]
    groups = np.repeat([0, 1], [len(_tutorial_epochs(*files).drop_bad()) for files in psg_files])
    # Arrays carry no event_id: integer codes 1..5 need a stage_map.
    with pytest.raises(ValueError, match="never guesses.*stage_map"):
        SSCSleepClassifier(**TINY).fit(epochs.get_data(), y)
    codes = {1: "W", 2: "N1", 3: "N2", 4: "N3", 5: "R"}
    # Epochs (scikit-learn slices them, and y alike: the codes stay event codes) and arrays
    # with the mapping said out loud: each fold's score is the plain accuracy of the codes.
    for X, clf in (
        (epochs, SSCSleepClassifier(**TINY)),
        (epochs.get_data(), SSCSleepClassifier(**TINY, stage_map=codes)),
    ):
        results = cross_validate(
            clf,
            X,
            y,
            groups=groups,
            cv=GroupKFold(2),
            scoring={"acc": SCORERS["accuracy"]},
            return_estimator=True,
            error_score="raise",
        )
        for (_, test), fitted, score in zip(
            GroupKFold(2).split(y, y, groups), results["estimator"], results["test_acc"]
        ):
            assert score == pytest.approx(accuracy_score(y[test], fitted.predict(X[test])))


def test_labels_never_guessed_and_spellings(sim_nights):
    epochs, y, groups = sim_nights
    X, y = epochs.get_data()[groups == 0], y[groups == 0]
    index = np.array([["W", "N1", "N2", "N3", "R"].index(stage) for stage in y])
    with pytest.raises(ValueError, match="never guesses.*stage_map"):
        SSCSleepClassifier(**TINY).fit(X[index != 3], index[index != 3])
    with pytest.raises(ValueError, match="LabelEncoder"):  # all five codes: still no guess
        SSCSleepClassifier(**TINY).fit(X, index)
    # With the mapping said out loud, the same integers train, and come back as given.
    clf = SSCSleepClassifier(**TINY, stage_map={0: "W", 1: "N1", 2: "N2", 4: "R"})
    clf.fit(X[index != 3], index[index != 3])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2, 4])
    # partial_fit reads later batches as the first; a fresh fit never reads through an old map.
    clf.partial_fit(X[index != 3], index[index != 3])
    with pytest.raises(ValueError, match="never guesses"):
        clf.set_params(stage_map=None).fit(X[index != 3], index[index != 3])
    # Spellings: 'NREM 1' like 'nrem1', trailing spaces stripped; one spelling per stage back.
    spelled = np.array(
        [{"W": "Wake ", "N1": "NREM 1", "N2": "nrem2", "N3": "NREM 3", "R": "REM"}[s] for s in y]
    )
    clf = SSCSleepClassifier(**TINY).fit(X, spelled)
    assert list(clf.classes_) == ["Wake ", "NREM 1", "nrem2", "NREM 3", "REM"]
    # Two spellings of one stage: predict could answer with one only, so scores would count
    # the other wrong; refused unless classes says which one to predict.
    spelled[::7] = np.char.replace(spelled[::7].astype(str), "NREM 1", "N1")
    with pytest.raises(ValueError, match="stage N1 in 2 ways.*classes="):
        SSCSleepClassifier(**TINY).fit(X, spelled)
    declared = ["Wake ", "N1", "nrem2", "NREM 3", "REM"]
    clf = SSCSleepClassifier(**TINY, classes=declared).fit(X, spelled)
    assert list(clf.classes_) == declared


def test_parameters_are_checked_early_in_our_words(small_epochs, sim_nights):
    epochs, y = small_epochs
    cases = [
        (dict(batch_size=0), ValueError, "batch_size must be a whole number of at least 1"),
        (dict(max_epochs=0), ValueError, "max_epochs must be a whole number of at least 1"),
        (dict(lr=0.0), ValueError, "lr must be a positive learning rate"),
        (dict(lr="fast"), TypeError, "lr must be a positive learning rate"),
        (dict(device="gpu"), ValueError, "device must be 'cpu', 'cuda'"),
    ]
    if not __import__("torch").cuda.is_available():
        cases.append((dict(device="cuda"), ValueError, "no CUDA GPU.*install a CUDA build"))
    for params, error, match in cases:
        with pytest.raises(error, match=match):
            SSCSleepClassifier(**{**TINY, **params}).fit(epochs, y)
    # Too small for the validation split: one message that gives the real minimum.
    night, night_y, groups = sim_nights
    few = np.flatnonzero(groups == 0)[np.linspace(0, 359, 25).astype(int)]
    assert len(set(night_y[few])) >= 3
    with pytest.raises(ValueError, match="needs at least (\\d+) here for the stratified"):
        SSCSleepClassifier(**TINY).fit(night[few], night_y[few])
    SSCSleepClassifier(**TINY, train_split=None).fit(night[few], night_y[few])
    # The flat-epoch error's advice is reachable.
    data = epochs.get_data()
    data[3] = 0.0
    with pytest.raises(ValueError, match="flat.*on_flat='ignore'"):
        SSCSleepClassifier(**TINY).fit(data, y)
    SSCSleepClassifier(**TINY, on_flat="ignore").fit(data, y)


def test_partial_fit_with_string_labels(small_epochs):
    epochs, y = small_epochs
    clf = SSCSleepClassifier(**TINY, classes=["W", "N1", "N2", "N3", "R"])
    clf.partial_fit(epochs, y).partial_fit(epochs.get_data(), list(y))
    assert len(clf.history) == 2 and set(clf.predict(epochs[:5])) <= set(STAGES_NAMES)


def test_save_errors_are_ours(small_epochs, tmp_path):
    epochs, y = small_epochs
    clf = SSCSleepClassifier(**TINY).fit(epochs, y)
    with pytest.raises(ValueError, match="is a folder; give a file name"):
        clf.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="folder .* does not exist.*mkdir -p"):
        clf.save(tmp_path / "missing" / "model.sscsleep")
    with pytest.raises(OSError, match="Could not write the model file|no permission"):
        clf.save("/proc/model.sscsleep")  # a place no one can write, even root


def test_training_feedback(sim_nights, capsys):
    epochs, y, groups = sim_nights
    keep = groups < 2
    clf = SSCSleepClassifier(**dict(TINY, max_epochs=8, verbose=1, patience=1))
    clf.fit(epochs[keep], y[keep])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == len(clf.history)  # the last pass's row too, before early stopping
    assert "\x1b[" not in out  # captured output is not a terminal: no colour codes
    assert "random split of the training epochs" in out and "optimistic" in out
    # verbose=2 forces a progress bar inside each pass, even off a terminal.
    SSCSleepClassifier(**dict(TINY, verbose=2)).fit(epochs[keep], y[keep])
    bar = capsys.readouterr().err  # tqdm: "7/16 [00:07<00:05,  1.73it/s" (or "s/it")
    assert re.search(r"\d+/\d+ \[\d\d:\d\d<", bar), bar[-300:]


def test_validation_holds_out_whole_recordings():
    epochs, y, groups = simulate_sleep_epochs(10, hours=0.5, random_state=0, verbose="error")
    clf = SSCSleepClassifier(**dict(TINY, verbose=1, random_state=1))
    train, valid = clf.get_split_datasets(clf.get_dataset(epochs, y))
    train_nights = set(groups[np.asarray(train.indices)])
    valid_nights = set(groups[np.asarray(valid.indices)])
    assert valid_nights and not train_nights & valid_nights


def test_cli_reports_mistakes_in_one_line(tmp_path, capsys, psg_files):
    garbage = tmp_path / "night.edf"
    garbage.write_bytes(b"not an EDF file at all" * 10)
    for args, message in (
        (["stage", str(tmp_path), "--model", "m"], "No model file at 'm'"),
        (["stage", str(garbage), "--model", "m"], "Cannot read .*night.edf' as a recording"),
        (["stage", str(garbage), "--model", "m", "-o", "h.xlsx"], "Unknown hypnogram format"),
        (["stage", str(garbage), "--model", "m", "--plot", "h.doc"], "Unknown plot format"),
        (["train", "-o", str(tmp_path / "no" / "m.sscsleep")], "folder .* does not exist"),
        (["train", "--data", str(garbage)], "is not a folder"),
        (["demo", "--device", "cuda:x"], "device must be"),
    ):
        assert main(args) == 1
        err = capsys.readouterr().err
        assert err.startswith("mne-sscsleep: error:") and "Traceback" not in err
        assert __import__("re").search(message, err), (args, err)


def test_cli_version_and_fast_help():
    code = (
        "import sys; from mne_sscsleep.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "assert 'torch' not in sys.modules and 'mne' not in sys.modules, 'heavy imports'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "mne_sscsleep", "--version"], capture_output=True, text=True
    )
    assert result.stdout.startswith("mne-sscsleep ")


@pytest.mark.slow
def test_per_epoch_stage_files(tmp_path, capsys):
    folder = tmp_path / "lab"
    folder.mkdir()
    raw = simulate_sleep_raw(hours=2.0, random_state=8, verbose="error")
    stages = [d.replace("Sleep stage ", "") for d in raw.annotations.description]
    mne.export.export_raw(
        folder / "night1.edf", raw.copy().set_annotations(None), fmt="edf", verbose="error"
    )
    # One stage per line, R&K style with an unscored epoch.
    rk = {"1": "N1", "2": "N2", "3": "N3", "4": "N3"}
    lines = ["?" if i == 5 else rk.get(s, s) for i, s in enumerate(stages)]
    (folder / "night1.txt").write_text("\n".join(lines) + "\n")
    mne.export.export_raw(
        folder / "night2.edf", raw.copy().set_annotations(None), fmt="edf", verbose="error"
    )
    pd.DataFrame({"onset": np.arange(len(stages)) * 30.0, "stage": lines}).to_csv(
        folder / "night2-hypnogram.csv", index=False
    )
    annotations = read_stage_file(folder / "night1.txt")
    assert len(annotations) == len(stages) - 1 and 150.0 not in annotations.onset
    output = tmp_path / "model.sscsleep"
    args = ["train", "--data", str(folder), "--preset", "lite", "--max-epochs", "1"]
    args += ["--batch-size", "8"]
    assert main([*args, "--trim-wake", "1000", "-o", str(output)]) == 0
    assert "2 recording(s)" in "\n".join(
        __import__("mne_sscsleep").io.format_model_info(model_info(output)).splitlines()
    )
    (folder / "night2-hypnogram.csv").write_text("onset,stage\n0,W\n30,banana\n")
    assert main([*args, "-o", str(tmp_path / "other.sscsleep")]) == 1
    assert "'banana' are not sleep stages" in capsys.readouterr().err


@pytest.fixture(scope="module")
def sim_model(sim_nights):
    epochs, y, groups = sim_nights
    keep = groups < 2
    return SSCSleepClassifier(**dict(TINY, max_epochs=2)).fit(epochs[keep], y[keep])


def test_unscored_epochs_are_never_exported_as_stages(sim_model, tmp_path):
    raw = simulate_sleep_raw(hours=1.0, random_state=12, verbose="error")
    raw.load_data()
    raw._data[0, 30 * 100 * 10 : 30 * 100 * 12] = 0.0  # epochs 10 and 11: electrode off
    raw._data[0, 30 * 100 * 40 + 17] = np.nan  # one missing sample in epoch 40
    with pytest.warns(RuntimeWarning, match="3 of 120 epochs cannot be scored"):
        hypnogram = stage(sim_model, raw)
    assert hypnogram.stage[[10, 11, 40]].tolist() == ["?"] * 3
    assert (hypnogram.stage != "?").sum() == 117  # one NaN sample does not refuse the night
    assert hypnogram.reason[10] == "flat" and hypnogram.reason[40] == "annotated"
    annotations = hypnogram.to_annotations()
    assert annotations.description[10] == "Sleep stage ?"
    hypnogram.save(tmp_path / "night.tsv")
    table = pd.read_csv(tmp_path / "night.tsv", sep="\t")
    assert table["stage"][[10, 11, 40]].tolist() == ["?"] * 3
    hypnogram.save(tmp_path / "night.edf", raw.copy().crop(0, 3599.99).load_data())
    read = mne.read_annotations(tmp_path / "night.edf")
    described = {round(o): d for o, d in zip(read.onset, read.description)}
    assert described[300] == "Sleep stage ?" and described[1200] == "Sleep stage ?"
    # A confidence threshold leaves uncertain epochs to a human scorer.
    uncertain = stage(sim_model, raw, min_confidence=0.99)
    assert (uncertain.reason == "uncertain").sum() == np.sum(
        (hypnogram.proba.max(axis=1) < 0.99) & ~hypnogram.bad
    )
    with pytest.raises(ValueError, match="min_confidence must be between 0 and 1"):
        stage(sim_model, raw, min_confidence=1.5)


def test_provenance_recorded_and_simulated_model_warns(sim_model, tmp_path, psg_files):
    path = sim_model.save(tmp_path / "sim.sscsleep")
    record = model_info(path)["training_data"]
    assert record["simulated"] is True and record["n_recordings"] == 2
    assert record["n_epochs"] == int(sim_model.class_counts_.sum())
    assert record["package_version"] and record["date"]
    real = mne.io.read_raw_edf(psg_files[0][0], verbose="error")  # carries no simulator mark
    with pytest.warns(RuntimeWarning, match="trained only on simulated nights"):
        stage(path, real)
    simulated = simulate_sleep_raw(hours=0.5, random_state=1, verbose="error")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        stage(path, simulated)  # the simulator's own nights: no warning
    # A model trained on files records them.
    real_epochs = _tutorial_epochs(*psg_files[0])
    clf = SSCSleepClassifier(**TINY).fit(real_epochs, real_epochs.events[:, 2])
    assert clf.training_data_["simulated"] is False
    assert clf.training_data_["recordings"] == [psg_files[0][0].name]


def test_install_instructions_fit_an_ordinary_machine():
    from pathlib import Path

    root = Path(__file__).parents[1]
    pages = {name: (root / name).read_text() for name in ("README.rst", "docs/install.rst")}
    pages["docs/index.rst"] = (root / "docs/index.rst").read_text()
    for name, text in pages.items():
        # Not published yet: never tell users to install it from PyPI.
        assert "pip install mne-sscsleep" not in text, name
        assert 'pip install "mne-sscsleep' not in text, name
    for name in ("README.rst", "docs/install.rst"):
        assert "download.pytorch.org/whl/cpu" in pages[name], name  # the CPU-only build
        assert "torch==2.13.0" in pages[name], name  # what CI runs
    assert "CUDA build" in pages["docs/install.rst"]
