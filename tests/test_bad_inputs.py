"""Bad and unusual inputs, the way a newcomer makes them: each gets our message.

Every case must raise the expected error from mne-sscsleep's own code (the innermost frame of
the traceback is in the package, so the message is ours, not torch's or skorch's) and match the
text that names the problem and the fix. ``python tests/test_bad_inputs.py`` prints the table.
"""

import re
import sys
import traceback
from pathlib import Path

import mne
import numpy as np
import pytest
import scipy.sparse
import torch
from helpers import TINY, write_edf

from mne_sscsleep import SSCSleepClassifier, check_epochs, stage, stage_many
from mne_sscsleep.cli import main
from mne_sscsleep.datasets import (
    EpochStore,
    find_recordings,
    load_edf_folder,
    read_stage_file,
    simulate_sleep_epochs,
    simulate_sleep_raw,
)
from mne_sscsleep.metrics import sleep_report
from mne_sscsleep.staging import read_recording_file
from mne_sscsleep.viz import plot_hypnogram

# What the cases share (data, a fitted model, files), filled once and emptied by the
# module-scoped fixture below; its files live in pytest's own temporary folder.
_STATE = {}


@pytest.fixture(scope="module", autouse=True)
def _shared_state(tmp_path_factory):
    _STATE.clear()
    _STATE["tmp"] = tmp_path_factory.mktemp("bad_inputs")
    yield
    _STATE.clear()


def _data():
    if "X" not in _STATE:
        epochs, y, _ = simulate_sleep_epochs(2, hours=1.5, random_state=0, verbose="error")
        _STATE.update(epochs=epochs, y=y, X=epochs.get_data().astype(np.float32))
        _STATE["model"] = SSCSleepClassifier(**TINY).fit(_STATE["X"], y)
        _STATE["raw"] = simulate_sleep_raw(hours=0.5, random_state=1, verbose="error")
    return _STATE


def _clf(**params):
    return SSCSleepClassifier(**{**TINY, **params})


def _fit(**params):
    return lambda: _clf(**params).fit(_data()["X"], _data()["y"])


def _fit_with(X=None, y=None, **params):
    def run():
        data = _data()
        return _clf(**params).fit(
            data["X"] if X is None else X(data), data["y"] if y is None else y(data)
        )

    return run


def _ints(data):
    return np.array([["W", "N1", "N2", "N3", "R"].index(s) for s in data["y"]])


def _flat(data):
    X = data["X"].copy()
    X[4] = 0.0
    return X


def _nan(data):
    X = data["X"].copy()
    X[2, 0, 10] = np.nan
    return X


def _epochs_at(sfreq):
    def make(data):
        return data["epochs"].copy().resample(sfreq, verbose="error")

    return make


def _two_channels(data):
    epochs = data["epochs"]
    other = epochs.copy().rename_channels({"EEG Fpz-Cz": "EEG Pz-Oz"})
    return epochs.copy().add_channels([other])


def _predict(X):
    return lambda: _data()["model"].predict(X(_data()))


def _stage(raw=None, **kwargs):
    return lambda: stage(_data()["model"], _data()["raw"] if raw is None else raw(), **kwargs)


def _eog_raw():
    raw = simulate_sleep_raw(hours=0.5, random_state=1, verbose="error")
    return raw.set_channel_types({"EEG Fpz-Cz": "eog"})


def _tmp():
    import tempfile

    return Path(tempfile.mkdtemp(dir=_STATE["tmp"]))


def _model_file():
    if "model_file" not in _STATE:
        _STATE["model_file"] = _tmp() / "model.sscsleep"
        _data()["model"].save(_STATE["model_file"])
    return _STATE["model_file"]


def _not_a_store():
    folder = _tmp()
    (folder / "store.json").write_text('{"format": "my own"}')
    return folder


def _store():
    if "store" not in _STATE:
        _STATE["store"] = EpochStore.from_epochs(_tmp() / "store", _data()["epochs"])
    return _STATE["store"]


def _text_file(text, name="stages.txt"):
    def run():
        path = _tmp()
        (path / name).write_text(text)
        return read_stage_file(path / name)

    return run


def _edf(name="night.edf", *, seconds=600, sfreq=100.0, **kwargs):
    path = _tmp() / name
    signal = np.random.default_rng(0).normal(0, 20e-6, int(seconds * sfreq))
    return write_edf(path, {"EEG Fpz-Cz": (signal, sfreq)}, **kwargs)


def _truncated_edf():
    path = _edf()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    return path


def _one_hertz_raw():
    rng = np.random.default_rng(0)
    path = _tmp() / "slow.edf"
    write_edf(
        path,
        {"EEG": (rng.normal(0, 2e-5, 1200), 1.0), "EMG": (rng.normal(0, 2e-5, 120000), 100.0)},
    )
    return read_recording_file(path)


def _forged_model(change, checksum=True):
    def make():
        payload = torch.load(_model_file(), weights_only=True)
        change(payload)
        if checksum:
            payload["checksum"] = __import__("mne_sscsleep").io._checksum(payload)
        path = _tmp() / "forged.sscsleep"
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(100_000)
        try:
            torch.save(payload, path)
        finally:
            sys.setrecursionlimit(limit)
        return SSCSleepClassifier.load(path)

    return make


def _first_weight(value):
    def change(payload):
        key = next(k for k, v in payload["module_state"].items() if v.is_floating_point())
        payload["module_state"][key] = value(payload["module_state"][key])

    return change


def _deep_list(depth=5000):
    nested = []
    for _ in range(depth):
        nested = [nested]
    return nested


def _huge_weights(payload):
    for key, value in payload["module_state"].items():
        if value.is_floating_point() and "running" not in key:
            payload["module_state"][key] = torch.full_like(value, 1e38)


def _claiming_store():
    import json

    store = EpochStore.from_epochs(_tmp() / "claims", _data()["epochs"][:60], _data()["y"][:60])
    manifest = store.path / "recordings.jsonl"
    entry = json.loads(manifest.read_text().splitlines()[0])
    labels = store.path / "data" / entry["labels"]
    labels.write_bytes(
        labels.read_bytes().replace(f"({entry['n_epochs']}, 2)".encode(), b"(2147483648, 2)")
    )
    manifest.write_text(json.dumps({**entry, "n_epochs": 2**31}) + "\n")
    return store.path


def _refitted_with(**params):
    def run():
        clf = _clf().fit(_data()["X"], _data()["y"])
        clf.set_params(**params)
        return clf.predict(_data()["X"][:3])

    return run


def _two_spellings_of_n3(data):
    return np.where(
        data["y"] == "N3",
        np.where(np.arange(len(data["y"])) % 2, "Sleep stage 4", "N3"),
        data["y"],
    )


def _recordings_folder():
    folder = _tmp()
    _edf("a.edf").rename(folder / "a.edf")
    return folder


def _ambiguous_pairs():
    folder = _tmp()
    for name in ("night1.edf", "night1.csv", "night1-hypnogram.txt"):
        (folder / name).touch()
    return folder


# (what a user does, the call, the error, words the message must contain)
API_CASES = [
    (
        "fit a list of numbers",
        lambda: _clf().fit([1, 2, 3], ["W"] * 3),
        ValueError,
        "shape \\(n_epochs, n_times\\)",
    ),
    ("fit a 1-D array", _fit_with(X=lambda d: d["X"][0, 0]), ValueError, "shape"),
    ("fit a 4-D array", _fit_with(X=lambda d: d["X"][:, None]), ValueError, "shape"),
    ("fit microvolts", _fit_with(X=lambda d: d["X"] * 1e6), ValueError, "multiply it by 1e-6"),
    ("fit with a NaN sample", _fit_with(X=_nan), ValueError, "NaN or infinite.*Drop them"),
    ("fit complex data", _fit_with(X=lambda d: d["X"] + 0j), ValueError, "Complex"),
    ("fit strings as data", _fit_with(X=lambda d: d["X"].astype(str)), TypeError, "numeric"),
    (
        "fit a ragged list",
        lambda: _clf().fit([[0.0] * 3000, [0.0] * 10], ["W", "N1"]),
        ValueError,
        "ragged",
    ),
    (
        "fit sparse data",
        _fit_with(X=lambda d: scipy.sparse.csr_matrix(d["X"][:, 0])),
        TypeError,
        "Sparse input",
    ),
    (
        "fit a torch TensorDataset",
        _fit_with(X=lambda d: torch.utils.data.TensorDataset(torch.zeros(3))),
        TypeError,
        "builds its own dataset",
    ),
    (
        "fit a continuous Raw",
        lambda: _clf().fit(_data()["raw"], None),
        TypeError,
        "make_fixed_length_epochs",
    ),
    ("fit arrays without y", lambda: _clf().fit(_data()["X"]), ValueError, "y is required"),
    (
        "y of the wrong length",
        _fit_with(y=lambda d: d["y"][:-3]),
        ValueError,
        "one label per epoch",
    ),
    ("y as a column", _fit_with(y=lambda d: d["y"][:, None]), ValueError, "one label per epoch"),
    ("y continuous", _fit_with(y=lambda d: np.full(len(d["y"]), 0.5)), ValueError, "non-integer"),
    ("y booleans", _fit_with(y=lambda d: d["y"] == "W"), TypeError, "booleans"),
    (
        "y unknown names",
        _fit_with(y=lambda d: np.where(d["y"] == "W", "Awake?", d["y"])),
        ValueError,
        "not sleep stages.*'Awake\\?'",
    ),
    (
        "y MNE codes 1..5 on arrays",
        _fit_with(y=lambda d: _ints(d) + 1),
        ValueError,
        "never guesses.*stage_map=.*event_id",
    ),
    (
        "y ints 0..4, all five (never guessed)",
        _fit_with(y=_ints),
        ValueError,
        "LabelEncoder.*stage_map=\\{code: stage\\}.*events\\[:, 2\\]",
    ),
    (
        "y mixing ints and names",
        _fit_with(y=lambda d: np.array([0, *d["y"][1:]], dtype=object)),
        TypeError,
        "mixes label types",
    ),
    ("Epochs at 200 Hz", _fit_with(X=_epochs_at(200.0)), ValueError, "resample=True"),
    ("Epochs of 20 s", _fit_with(X=lambda d: d["X"][..., :2000]), ValueError, "30-s epochs"),
    ("two EEG channels, no picks", _fit_with(X=_two_channels), ValueError, "picks="),
    ("a flat epoch", _fit_with(X=_flat), ValueError, "flat.*on_flat='ignore'"),
    (
        "too few epochs",
        lambda: _clf().fit(_data()["X"][:10], _data()["y"][:10]),
        ValueError,
        "needs at least",
    ),
    (
        "a single stage",
        lambda: _clf().fit(_data()["X"][:30], ["N2"] * 30),
        ValueError,
        "single stage",
    ),
    ("batch_size=0", _fit(batch_size=0), ValueError, "batch_size must be"),
    ("batch_size=1.5", _fit(batch_size=1.5), ValueError, "batch_size must be"),
    ("max_epochs=0", _fit(max_epochs=0), ValueError, "max_epochs must be"),
    ("max_epochs='10'", _fit(max_epochs="10"), ValueError, "max_epochs must be"),
    ("lr=-1", _fit(lr=-1), ValueError, "positive learning rate"),
    ("lr='fast'", _fit(lr="fast"), TypeError, "lr must be a positive learning rate"),
    ("device='tpu'", _fit(device="tpu"), ValueError, "device must be"),
    ("device='cuda:7'", _fit(device="cuda:7"), ValueError, "CUDA|GPU"),
    ("preset='fast'", _fit(preset="fast"), ValueError, "preset"),
    (
        "context=-1",
        _fit(context=-1),
        ValueError,
        "context must be 'auto' or a non-negative integer",
    ),
    (
        "context_model='lstm'",
        _fit(context=2, context_model="lstm"),
        ValueError,
        "context_model must be",
    ),
    ("amp='fp16'", _fit(amp="fp16"), ValueError, "amp must be"),
    ("on_flat='maybe'", _fit(on_flat="maybe"), ValueError, "on_flat must be"),
    ("random_state=1.5", _fit(random_state=1.5), TypeError, "random_state must be an int"),
    ("stage_map a list", _fit(stage_map=["W"]), TypeError, "stage_map must be a non-empty dict"),
    ("stage_map to a non-stage", _fit(stage_map={"W": "Awake?"}), ValueError, "not a sleep stage"),
    (
        "stage_map missing a code",
        _fit_with(y=lambda d: _ints(d) + 1, stage_map={1: "W"}),
        ValueError,
        "stage_map does not name: 2",
    ),
    (
        "classes naming a stage twice",
        _fit(classes=["W", "Wake", "N1"]),
        ValueError,
        "names a stage twice",
    ),
    (
        "predict before fit",
        lambda: _clf().predict(_data()["X"]),
        Exception,
        "not fitted yet.*fit\\(X, y\\)",
    ),
    ("predict 20-s epochs", _predict(lambda d: d["X"][..., :2000]), ValueError, "30-s epochs"),
    ("predict 200-Hz Epochs", _predict(_epochs_at(200.0)), ValueError, "resample"),
    (
        "predict with recording of wrong length",
        lambda: _data()["model"].predict(_data()["X"], recording=[0, 1]),
        ValueError,
        "one recording id per epoch",
    ),
    ("save to a folder", lambda: _data()["model"].save(Path.cwd()), ValueError, "is a folder"),
    (
        "save into a missing folder",
        lambda: _data()["model"].save("/no/such/dir/m.sscsleep"),
        FileNotFoundError,
        "does not exist",
    ),
    (
        "save where no one can write",
        lambda: _data()["model"].save("/proc/m.sscsleep"),
        OSError,
        "Could not write|no permission",
    ),
    (
        "load a missing file",
        lambda: SSCSleepClassifier.load("/no/model.sscsleep"),
        FileNotFoundError,
        "No model file",
    ),
    (
        "load a text file",
        lambda: SSCSleepClassifier.load(__file__),
        ValueError,
        "not a readable mne-sscsleep model file",
    ),
    (
        "stage an array",
        lambda: stage(_data()["model"], _data()["X"]),
        TypeError,
        "continuous mne.io.Raw",
    ),
    (
        "stage 10 s",
        _stage(lambda: _data()["raw"].copy().crop(0, 10)),
        ValueError,
        "less than one 30-s epoch",
    ),
    ("stage an EOG channel", _stage(_eog_raw), ValueError, "not EEG.*allow_non_eeg=True"),
    ("stage a missing channel", _stage(picks="C3"), ValueError, "'C3' is not in"),
    ("stage amplitude_ratio=0.5", _stage(amplitude_ratio=0.5), ValueError, "amplitude_ratio"),
    ("stage min_confidence=2", _stage(min_confidence=2), ValueError, "between 0 and 1"),
    ("plot an empty hypnogram", lambda: plot_hypnogram([]), ValueError, "hypnogram is empty"),
    ("plot unknown stages", lambda: plot_hypnogram(["W", "Z"]), ValueError, "not sleep stages"),
    (
        "report of unequal lengths",
        lambda: sleep_report(["W", "N1"], ["W"]),
        ValueError,
        "y_true has 2 labels but y_pred has 1",
    ),
    (
        "report of MNE codes",
        lambda: sleep_report([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]),
        ValueError,
        "stage_map",
    ),
    (
        "check_epochs sfreq=-1",
        lambda: check_epochs(_data()["X"], sfreq=-1),
        ValueError,
        "sfreq must be a positive number",
    ),
    ("simulate 0 subjects", lambda: simulate_sleep_epochs(0), ValueError, "at least 1"),
    (
        "simulate 1 minute",
        lambda: simulate_sleep_epochs(1, hours=1 / 60),
        ValueError,
        "at least 5 minutes",
    ),
    (
        "load a missing folder",
        lambda: load_edf_folder("/no/such/folder"),
        FileNotFoundError,
        "No recordings folder",
    ),
    (
        "stage file with an unknown stage",
        _text_file("W\nN1\nBanana\n"),
        ValueError,
        "'Banana' are not sleep stages",
    ),
    (
        "stage file mixing names and codes",
        _text_file("W\n1\n2\n"),
        ValueError,
        "mixes stage names and numeric codes",
    ),
    (
        "stage file with codes 1..5",
        _text_file("1\n2\n3\n4\n5\n"),
        ValueError,
        "never guesses.*--stage-map 0=W",
    ),
    (
        "stage table without a stage column",
        _text_file("a,b\n1,2\n", "t.csv"),
        ValueError,
        "'stage' column",
    ),
    ("empty stage file", _text_file(""), ValueError, "empty"),
    (
        "open a store that is not there",
        lambda: EpochStore.open("/no/such/store"),
        FileNotFoundError,
        "No epoch store .* EpochStore.from_epochs",
    ),
    (
        "open a folder that is no store",
        lambda: EpochStore.open(_not_a_store()),
        ValueError,
        "not an mne-sscsleep epoch store",
    ),
    (
        "store dtype float64",
        lambda: EpochStore.create(_tmp() / "s", dtype="float64"),
        ValueError,
        "'float32' or 'float16'",
    ),
    (
        "fit a 100-Hz store at 128 Hz",
        lambda: _clf(sfreq=128).fit(_store()),
        ValueError,
        "build the store at 128 Hz",
    ),
    (
        "recording= with a store",
        lambda: _clf().fit(_store(), recording=np.zeros(len(_store()))),
        ValueError,
        "cannot be combined with EpochStore.*leave recording= out",
    ),
    (
        "fit an empty store",
        lambda: _clf().fit(EpochStore.create(_tmp() / "empty")),
        ValueError,
        "holds no epochs yet",
    ),
    (
        "distributed without a launcher",
        lambda: _clf(distributed=True).fit(_store()),
        RuntimeError,
        "torchrun --nproc_per_node",
    ),
    (
        "stage_many into format docx",
        lambda: stage_many(_model_file(), ["x.edf"], _tmp(), fmt="docx"),
        ValueError,
        "fmt must be 'tsv', 'csv' or 'edf'",
    ),
    (
        "stage_many with a missing model",
        lambda: stage_many("/no/model.sscsleep", [_tmp()], _tmp(), progress=False),
        FileNotFoundError,
        "No model file",
    ),
    (
        "stage_many of an empty folder",
        lambda: stage_many(_model_file(), [_tmp()], _tmp(), progress=False),
        FileNotFoundError,
        "No recording files in the folder",
    ),
    (
        "fit with sample_weight",
        lambda: _clf().fit(_data()["X"], _data()["y"], sample_weight=np.ones(len(_data()["y"]))),
        TypeError,
        "fit got sample_weight.*criterion__class_weight",
    ),
    (
        "y naming N3 in two ways",
        _fit_with(y=_two_spellings_of_n3),
        ValueError,
        "stage N3 in 2 ways.*classes=",
    ),
    (
        "predict after set_params(preset=...) on a fitted model",
        _refitted_with(preset="paper"),
        Exception,
        "preset 'lite' -> 'paper'.*fit again",
    ),
    (
        "save over a recording",
        lambda: _data()["model"].save(_edf(), overwrite=True),
        FileExistsError,
        "never writes over a file it did not create",
    ),
    (
        "save over an existing model file",
        lambda: _data()["model"].save(_model_file()),
        FileExistsError,
        "pass overwrite=True",
    ),
    (
        "stage a channel recorded at 1 Hz",
        lambda: stage(_data()["model"], _one_hertz_raw(), picks="EEG"),
        ValueError,
        "recorded at 1 Hz.*Pick the EEG channel",
    ),
    (
        "read a truncated EDF",
        lambda: read_recording_file(_truncated_edf()),
        ValueError,
        "is truncated.*Copy the complete file again",
    ),
    (
        "read an EDF without data records",
        lambda: read_recording_file(_edf(seconds=0.5)),
        ValueError,
        "holds no data records",
    ),
    (
        "read an EDF whose digital min = max",
        lambda: read_recording_file(_edf(digital=(7, 7))),
        ValueError,
        "digital minimum = maximum",
    ),
    (
        "load a model file with a stride-0 tensor",
        _forged_model(_first_weight(lambda _: torch.zeros(1).expand(2**28)), checksum=False),
        ValueError,
        "does not own its 268,435,456 elements",
    ),
    (
        "load a model file with sparse weights",
        _forged_model(_first_weight(lambda w: w.to_sparse()), checksum=False),
        ValueError,
        "sparse_coo tensor",
    ),
    (
        "load a model file nested 5000 deep",
        _forged_model(lambda p: p["history"].append(_deep_list()), checksum=False),
        ValueError,
        "nested deeper than",
    ),
    (
        "load a model file with complex NaN weights",
        _forged_model(_first_weight(lambda w: torch.complex(w, w * np.nan))),
        ValueError,
        "complex",
    ),
    (
        "load a model file whose nonlinearity is None",
        _forged_model(lambda p: p["params"].update(predict_nonlinearity=None)),
        ValueError,
        "not the stage softmax",
    ),
    (
        "load a model file that sets DataLoader workers",
        _forged_model(lambda p: p["params"].update(iterator_valid__num_workers=8)),
        ValueError,
        "runtime setting",
    ),
    (
        "load a model file whose channel name holds escapes",
        _forged_model(lambda p: p.update(ch_name="EEG\x1b[31m\nFpz")),
        ValueError,
        "not a printable name",
    ),
    (
        "predict with a model whose output is NaN",
        lambda: _forged_model(_huge_weights)().predict(_data()["X"][:5]),
        ValueError,
        "Cannot predict 5 of 5 epochs.*not a number",
    ),
    (
        "open a store whose manifest claims 2**31 labels",
        lambda: EpochStore.open(_claiming_store()),
        ValueError,
        "is damaged.*claims int32 of shape \\(2147483648, 2\\)",
    ),
    (
        "stage_many into a file",
        lambda: stage_many(_model_file(), [_edf()], _edf("out.tsv"), progress=False),
        NotADirectoryError,
        "is a file; give a folder",
    ),
    (
        "stage_many EDF hypnograms into the recordings' folder",
        lambda: (
            lambda folder: stage_many(_model_file(), folder, folder, fmt="edf", progress=False)
        )(_recordings_folder()),
        ValueError,
        "would be written over the recording itself",
    ),
    (
        "a recording with two stage files",
        lambda: find_recordings(_ambiguous_pairs()),
        ValueError,
        "has several stage files",
    ),
]


def _outcome(call, error, match):
    """'our message', 'wrong error', 'traceback from internals' or 'silently accepted'."""
    try:
        call()
    except Exception as caught:  # noqa: BLE001 -- classifying every outcome
        frames = traceback.extract_tb(caught.__traceback__)
        ours = any("mne_sscsleep" in frame.filename for frame in frames[-1:])
        if not isinstance(caught, error) or not re.search(match, str(caught), re.S):
            return "wrong error", f"{type(caught).__name__}: {str(caught)[:200]}"
        if not ours:
            return "traceback from internals", f"{frames[-1].filename}: {caught}"
        return "our message", str(caught)
    return "silently accepted", ""


@pytest.mark.parametrize("case", API_CASES, ids=[case[0] for case in API_CASES])
def test_api_bad_input_gets_our_message(case):
    name, call, error, match = case
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        outcome, detail = _outcome(call, error, match)
    assert outcome == "our message", f"{name}: {outcome}: {detail}"


def _cli_cases(tmp):
    garbage = tmp / "garbage.edf"
    garbage.write_bytes(b"\x00not an EDF" * 20)
    text = tmp / "notes.txt"
    text.write_text("hello")
    night = tmp / "night.edf"
    raw = simulate_sleep_raw(hours=0.1, random_state=0, verbose="error")
    mne.export.export_raw(night, raw, fmt="edf", overwrite=True, verbose="error")
    cut = tmp / "cut.edf"
    cut.write_bytes(night.read_bytes()[: night.stat().st_size // 2])
    lab = tmp / "lab"
    lab.mkdir()
    mne.export.export_raw(lab / "a.edf", raw, fmt="edf", verbose="error")
    scoring = tmp / "night.tsv"
    scoring.write_text("W\nN1\n")
    model = _model_file()
    return [
        ("no command", [], 2, "required: COMMAND|the following arguments are required"),
        ("unknown command", ["sleep"], 2, "invalid choice"),
        ("stage without --model", ["stage", str(garbage)], 2, "--model"),
        ("stage a folder, no model", ["stage", str(tmp), "--model", "m"], 1, "No model file"),
        (
            "stage several into one -o",
            ["stage", "a.edf", "b.edf", "--model", "m", "-o", "h.tsv"],
            1,
            "--out-dir DIR",
        ),
        ("stage --format docx", ["stage", "a.edf", "--model", "m", "--format", "docx"], 2, "docx"),
        ("stage --jobs x", ["stage", "a.edf", "--model", "m", "--jobs", "x"], 2, "invalid int"),
        (
            "store build from a missing folder",
            ["store", "build", str(tmp / "none"), "-o", str(tmp / "s")],
            1,
            "No recordings folder",
        ),
        ("store info of no store", ["store", "info", str(tmp)], 1, "No epoch store"),
        (
            "stage a missing file",
            ["stage", str(tmp / "x.edf"), "--model", "m"],
            1,
            "No recording at",
        ),
        ("stage a garbage file", ["stage", str(garbage), "--model", "m"], 1, "Cannot read"),
        ("stage a text file", ["stage", str(text), "--model", "m"], 1, "Cannot read"),
        (
            "stage to .xlsx",
            ["stage", str(garbage), "--model", "m", "-o", "h.xlsx"],
            1,
            "Unknown hypnogram format",
        ),
        (
            "stage to a folder",
            ["stage", str(garbage), "--model", "m", "-o", str(tmp)],
            1,
            "is a folder",
        ),
        (
            "stage into a missing folder",
            ["stage", str(garbage), "--model", "m", "-o", "/no/dir/h.tsv"],
            1,
            "does not exist",
        ),
        (
            "plot to .doc",
            ["stage", str(garbage), "--model", "m", "--plot", "p.doc"],
            1,
            "Unknown plot format",
        ),
        (
            "--min-confidence 2",
            ["stage", str(garbage), "--model", "m", "--min-confidence", "2"],
            2,
            "between 0 and 1",
        ),
        (
            "--min-confidence abc",
            ["stage", str(garbage), "--model", "m", "--min-confidence", "abc"],
            2,
            "expected a number",
        ),
        (
            "model is a text file",
            ["stage", str(night), "--model", str(text)],
            1,
            "not a readable mne-sscsleep model file",
        ),
        ("info of a missing file", ["info", str(tmp / "none.sscsleep")], 1, "No model file"),
        ("info of a text file", ["info", str(text)], 1, "not a readable"),
        ("info of a folder", ["info", str(tmp)], 1, "model file"),
        ("train --data a file", ["train", "--data", str(text)], 1, "is not a folder"),
        ("train --data missing", ["train", "--data", str(tmp / "none")], 1, "is not a folder"),
        (
            "train --data empty folder",
            ["train", "--data", str(tmp / "empty")],
            1,
            "No EDF recordings",
        ),
        (
            "train -o into a missing folder",
            ["train", "-o", "/no/dir/m.sscsleep"],
            1,
            "does not exist",
        ),
        ("train -o a folder", ["train", "-o", str(tmp)], 1, "is a folder"),
        ("train --max-epochs 0", ["train", "--max-epochs", "0"], 2, "at least 1"),
        ("train --max-epochs x", ["train", "--max-epochs", "x"], 2, "whole number"),
        ("train --hours -1", ["train", "--hours", "-1"], 2, "positive number"),
        ("train --simulate 1", ["train", "--simulate", "1"], 2, "at least 2"),
        ("train --preset fast", ["train", "--preset", "fast"], 2, "invalid choice"),
        ("train --context -2", ["train", "--context", "-2"], 2, "must be 0 or more"),
        ("train --device cuda:x", ["train", "--device", "cuda:x"], 1, "device must be"),
        ("train --device tpu", ["train", "--device", "tpu"], 1, "device must be"),
        (
            "train --resume with nothing",
            ["train", "--resume", "-o", str(tmp / "r.sscsleep")],
            1,
            "Nothing to resume",
        ),
        ("demo --subjects 1", ["demo", "--subjects", "1"], 2, "at least 2"),
        ("demo --hours 0", ["demo", "--hours", "0"], 2, "positive number"),
        ("demo --hours nan", ["demo", "--hours", "nan"], 2, "positive number"),
        (
            "stage -o the recording itself",
            ["stage", str(night), "--model", "m", "-o", str(night)],
            1,
            "is the file being read",
        ),
        (
            "stage EDF hypnograms into the recordings' folder",
            ["stage", str(lab), "--model", str(model), "--out-dir", str(lab), "--format", "edf"],
            1,
            "would be written over the recording itself",
        ),
        (
            "stage --out-dir a file",
            ["stage", str(night), "--model", str(model), "--out-dir", str(text)],
            1,
            "is a file; give a folder",
        ),
        ("stage a truncated EDF", ["stage", str(cut), "--model", "m"], 1, "is truncated"),
        (
            "stage -o over a scoring file",
            ["stage", str(night), "--model", "m", "-o", str(scoring), "--overwrite"],
            1,
            "not a hypnogram written by mne-sscsleep",
        ),
        (
            "train -o over a text file",
            ["train", "-o", str(text), "--overwrite"],
            1,
            "never writes over a file it did not create",
        ),
        ("train --stage-map 0=Z", ["train", "--stage-map", "0=Z"], 2, "does not map"),
        ("train --stage-map W=0", ["train", "--stage-map", "W=0"], 2, "no integer code"),
    ]


def _cli_outcome(argv, code, match, capsys):
    try:
        returned = main(argv)
    except SystemExit as exit_info:
        returned = exit_info.code
    except Exception as caught:  # noqa: BLE001
        return "traceback from internals", repr(caught)
    err = capsys.readouterr().err
    if "Traceback" in err:
        return "traceback from internals", err
    if returned != code or not re.search(match, err):
        return "wrong error", f"exit {returned}: {err.strip()[-300:]}"
    return "our message", err.strip().splitlines()[-1]


@pytest.mark.slow
def test_cli_bad_input_gets_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    problems = []
    for name, argv, code, match in _cli_cases(tmp_path):
        outcome, detail = _cli_outcome(argv, code, match, capsys)
        if outcome != "our message":
            problems.append(f"{name}: {outcome}: {detail}")
    assert not problems, "\n".join(problems)


if __name__ == "__main__":  # the table of the closing note
    import tempfile
    import warnings

    warnings.simplefilter("ignore")
    _STATE["tmp"] = Path(tempfile.mkdtemp())  # the table's run: a folder to look at afterwards
    rows = []
    for name, call, error, match in API_CASES:
        outcome, detail = _outcome(call, error, match)
        rows.append(("API", name, outcome, detail.splitlines()[0][:110] if detail else ""))

    class _Capture:
        def readouterr(self):
            value = sys.stderr.getvalue()
            sys.stderr.seek(0)
            sys.stderr.truncate()
            return type("R", (), {"err": value})

    tmp = _STATE["tmp"]
    (tmp / "empty").mkdir()
    import io
    import os

    os.chdir(tmp)
    real_stderr, sys.stderr = sys.stderr, io.StringIO()
    for name, argv, code, match in _cli_cases(tmp):
        outcome, detail = _cli_outcome(argv, code, match, _Capture())
        rows.append(("CLI", name, outcome, detail[:110]))
    sys.stderr = real_stderr
    print("| where | input | outcome | message (start) |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    counts = {}
    for row in rows:
        counts[row[2]] = counts.get(row[2], 0) + 1
    print(counts)
