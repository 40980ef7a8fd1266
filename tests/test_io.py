"""Model files: round trips, and files that must never run code or load damaged weights."""

import pickle
import sys
import zipfile

import numpy as np
import pytest
import torch
from helpers import TINY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mne_sscsleep import SSCSleepClassifier, model_info, stage
from mne_sscsleep import io as model_io
from mne_sscsleep.cli import main
from mne_sscsleep.datasets import simulate_sleep_raw

MARKER = "pwned.txt"


@pytest.fixture(scope="module")
def saved(sim_nights, tmp_path_factory):
    epochs, y, groups = sim_nights
    keep = np.flatnonzero(groups == 0)
    clf = SSCSleepClassifier(**dict(TINY, max_epochs=2)).fit(epochs[keep], y[keep])
    path = clf.save(tmp_path_factory.mktemp("model") / "night.sscsleep")
    return clf, path, epochs[keep][:40].get_data().astype(np.float32)


def _payload(path):
    return torch.load(path, weights_only=True)


def _write(payload, path, *, fix_checksum=True):
    if fix_checksum:  # a forger recomputes the checksum: the registry must still refuse
        payload["checksum"] = model_io._checksum(payload)
    torch.save(payload, path)
    return path


def test_round_trip_keeps_predictions_labels_and_history(saved, tmp_path):
    clf, path, data = saved
    loaded = SSCSleepClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(data), clf.predict_proba(data))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.sfreq == 100.0 and loaded.ch_name_ == "EEG Fpz-Cz"
    assert loaded.stages_ == clf.stages_
    assert loaded.get_params()["module__cnn_filters"] == 4
    assert loaded.history.to_list() == model_io.read_model(path).history
    assert len(loaded.history) == 2
    payload = _payload(path)
    components = {name: payload["params"][name] for name in model_io.COMPONENT_FIELDS}
    assert components["criterion"] == {"__component__": "AdaptiveLoss"}
    assert components["module"] is None and payload["params"]["preset"] == "lite"
    assert not any("__import__" in str(value) for value in payload["params"].values())
    assert "compile" not in payload["params"] and "device" not in payload["params"]


def test_load_honours_the_class_it_is_called_on(saved):
    class LabStager(SSCSleepClassifier):
        pass

    _, path, data = saved
    loaded = LabStager.load(path)
    assert type(loaded) is LabStager
    assert loaded.predict(data).shape == (len(data),)


def test_model_info_summarises_without_building(saved):
    clf, path, _ = saved
    info = model_info(path)
    assert info["stages"] == clf.stages_ and info["ch_name"] == "EEG Fpz-Cz"
    assert info["sfreq"] == 100.0 and info["network"] == "SSCSleepNetLite"
    assert info["preset"] == "lite"
    assert info["n_parameters"] == sum(p.numel() for p in clf.module_.parameters())
    assert info["n_epochs_trained"] == 2 and info["class_counts"]["N2"] == clf.class_counts_[2]
    best = int(np.argmax(clf.history[:, "valid_macro_f1"]))
    assert info["best_epoch"] == best + 1
    assert info["best_valid_macro_f1"] == clf.history[best, "valid_macro_f1"]


_TARGETS = ("os:system", "subprocess:getoutput", "builtins:eval", "evil_module:run")


@pytest.fixture
def attacker(tmp_path, monkeypatch):
    """An attacker's module on sys.path that leaves a marker when imported or called."""
    marker = tmp_path / MARKER
    (tmp_path / "evil_module.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\n"
        f"def run(*args, **kwargs):\n    open({str(marker)!r}, 'w').write('called')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    sys.modules.pop("evil_module", None)
    yield marker
    sys.modules.pop("evil_module", None)


def _assert_nothing_ran(marker):
    assert not marker.exists(), marker.read_text()
    assert "evil_module" not in sys.modules


@pytest.mark.parametrize("form", ["__import__", "__component__"])
@pytest.mark.parametrize("target", _TARGETS)
@pytest.mark.parametrize("field", sorted(model_io.COMPONENT_FIELDS))
def test_a_file_naming_code_is_refused_and_nothing_runs(
    saved, tmp_path, attacker, field, target, form
):
    _, path, _ = saved
    payload = _payload(path)
    payload["params"][field] = {form: target}
    # Parameters for the callable, as the exploit passed a shell command to getoutput.
    payload["params"][f"{field}__cmd"] = f"touch {MARKER}"
    crafted = _write(payload, tmp_path / "crafted.sscsleep")
    with pytest.raises(ValueError, match=f"Refusing to load .*{field!r}"):
        SSCSleepClassifier.load(crafted)
    with pytest.raises(ValueError, match="Refusing to load"):
        model_info(crafted)
    _assert_nothing_ran(attacker)


@pytest.mark.parametrize("format_version", [2, 3])
def test_the_old_exploit_is_dead(saved, tmp_path, attacker, format_version, capsys):
    """criterion subprocess:getoutput + criterion__cmd ran a shell command in load and stage."""
    _, path, _ = saved
    payload = _payload(path)
    payload["format_version"] = format_version
    payload["params"]["criterion"] = {"__import__": "subprocess:getoutput"}
    payload["params"]["criterion__cmd"] = f"touch {MARKER}"
    crafted = _write(payload, tmp_path / "exploit.sscsleep")
    with pytest.raises(ValueError, match="Refusing to load|which reads format"):
        SSCSleepClassifier.load(crafted)
    raw = simulate_sleep_raw(hours=0.5, random_state=0, verbose="error")
    with pytest.raises(ValueError):
        stage(crafted, raw)
    night = tmp_path / "night.edf"
    import mne

    mne.export.export_raw(night, raw, fmt="edf", verbose="error")
    assert main(["stage", str(night), "--model", str(crafted), "-o", "h.tsv"]) == 1
    assert "mne-sscsleep: error:" in capsys.readouterr().err
    _assert_nothing_ran(attacker)


def test_a_pickled_callable_is_refused_by_the_reader(tmp_path, attacker):
    class Exploit:
        def __reduce__(self):
            return (__import__("os").system, (f"touch {MARKER}",))

    fname = tmp_path / "pickled.sscsleep"
    with open(fname, "wb") as handle:
        pickle.dump({"format": model_io.FORMAT, "payload": Exploit()}, handle)
    with pytest.raises(ValueError, match="not a readable mne-sscsleep model file"):
        SSCSleepClassifier.load(fname)
    _assert_nothing_ran(attacker)


@pytest.mark.parametrize(
    "name, value",
    [
        ("compile", True),
        (
            "compile__options",
            {"__mapping__": {"cpp.cxx": {"__sequence__": ["sh"], "tuple": True}}},
        ),
        ("torch_load_kwargs", {"__mapping__": {"weights_only": False}}),
        ("device", "cuda"),
        ("callbacks", None),
        ("_params_to_validate", None),
    ],
)
def test_runtime_settings_in_a_file_are_refused(saved, tmp_path, name, value):
    _, path, _ = saved
    payload = _payload(path)
    payload["params"][name] = value
    with pytest.raises(ValueError, match=f"it sets {name!r}, a runtime setting"):
        SSCSleepClassifier.load(_write(payload, tmp_path / "runtime.sscsleep"))


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("module__sfreq", {"__component__": "SSCSleepNet"}, "only module, criterion"),
        ("criterion", {"__component__": "SSCSleepNet"}, "must name a loss"),
        ("train_split", {"__component__": "ValidSplit", "args": ["x", 1, 2]}, "malformed"),
        ("lr", {"weird": 1}, "unknown value"),
        ("lr", [1, 2], "holds a list"),
    ],
)
def test_malformed_parameters_are_refused(saved, tmp_path, name, value, match):
    _, path, _ = saved
    payload = _payload(path)
    payload["params"][name] = value
    with pytest.raises(ValueError, match=match):
        SSCSleepClassifier.load(_write(payload, tmp_path / "malformed.sscsleep"))


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("stages", ["W", "N1", "N1"], "not distinct stages in order"),
        ("stages", ["W", "X"], "not distinct stages in order"),
        ("classes", ["W", "N1", "N2", "N3", "Z"], "do not map to its stages"),
        ("stage_map", [["W", "W"], ["N1", "X"]], "not a list of \\(label, stage\\) pairs"),
        ("stage_map", [["W", "R"], [1, "N1"]], "do not map to its stages"),
        ("training_data", {"source": {"nested": 1}}, "training-data record is not plain data"),
        ("classes", ["W", 1, "N2", "N3", "R"], "do not match its stages"),
        ("sfreq", -100.0, "not a positive number"),
        ("class_counts", [1, 2], "not 5 counts"),
        ("history", {"epoch": 1}, "not a list of records"),
        ("epoch_duration", 20.0, "20.0-s epochs"),
        ("format_version", "3", "no valid format version"),
    ],
)
def test_inconsistent_metadata_is_refused(saved, tmp_path, key, value, match):
    _, path, _ = saved
    payload = _payload(path)
    payload[key] = value
    with pytest.raises(ValueError, match=match):
        SSCSleepClassifier.load(_write(payload, tmp_path / "metadata.sscsleep"))


def test_weights_that_do_not_fit_are_refused_before_allocation(saved, tmp_path):
    _, path, _ = saved
    payload = _payload(path)
    # A file that claims an enormous network: refused from the shapes, nothing allocated.
    payload["params"]["module__se_channels"] = {"__sequence__": [10**6, 10**6], "tuple": True}
    with pytest.raises(ValueError, match="do not fit the network the file describes"):
        SSCSleepClassifier.load(_write(payload, tmp_path / "huge.sscsleep"))
    payload = _payload(path)
    payload["module_state"] = dict(payload["module_state"])
    key = next(iter(payload["module_state"]))
    payload["module_state"][key] = torch.zeros(3, 3)
    with pytest.raises(ValueError, match=f"first mismatch: {key!r}"):
        SSCSleepClassifier.load(_write(payload, tmp_path / "shapes.sscsleep"))
    payload = _payload(path)
    payload["params"]["module__no_such_argument"] = 3
    with pytest.raises(ValueError, match="do not fit this version's SSCSleepClassifier"):
        SSCSleepClassifier.load(_write(payload, tmp_path / "argument.sscsleep"))


def test_non_finite_weights_are_refused(saved, tmp_path):
    _, path, _ = saved
    payload = _payload(path)
    key = next(k for k, v in payload["module_state"].items() if v.is_floating_point())
    payload["module_state"][key] = payload["module_state"][key].clone().fill_(float("nan"))
    with pytest.raises(ValueError, match=f"damaged: the network weights {key!r} holds NaN"):
        SSCSleepClassifier.load(_write(payload, tmp_path / "nan.sscsleep"))


def _largest_record(path):
    """The largest tensor storage of a torch.save archive (records ``<name>/data/<key>``)."""
    with zipfile.ZipFile(path) as archive:
        storages = [info for info in archive.infolist() if "/data/" in info.filename]
        return max(storages, key=lambda info: info.file_size).filename


def _replace_record(path, record, data, out):
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, data if info.filename == record else source.read(info))
    return out


def test_damaged_weights_in_a_valid_container_are_refused(saved, tmp_path, capsys):
    """2 kB of random bytes in the weights: the file still opens, the checksum says no."""
    _, path, _ = saved
    record = _largest_record(path)
    with zipfile.ZipFile(path) as archive:
        original = bytearray(archive.read(record))
    assert len(original) >= 2048
    original[:2048] = np.random.default_rng(0).bytes(2048)
    damaged = _replace_record(path, record, bytes(original), tmp_path / "damaged.sscsleep")
    torch.load(damaged, weights_only=True)  # the container itself is fine
    with pytest.raises(ValueError, match="is damaged: its content does not match the checksum"):
        SSCSleepClassifier.load(damaged)
    assert main(["info", str(damaged)]) == 1
    assert "damaged" in capsys.readouterr().err


def test_unreadable_files_get_clear_messages(saved, tmp_path):
    _, path, _ = saved
    with pytest.raises(FileNotFoundError, match="No model file"):
        SSCSleepClassifier.load(tmp_path / "missing.sscsleep")
    (tmp_path / "empty.sscsleep").write_bytes(b"")
    with pytest.raises(ValueError, match="is empty \\(0 bytes\\)"):
        SSCSleepClassifier.load(tmp_path / "empty.sscsleep")
    content = path.read_bytes()
    (tmp_path / "truncated.sscsleep").write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="not a readable mne-sscsleep model file.*truncated"):
        SSCSleepClassifier.load(tmp_path / "truncated.sscsleep")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ValueError, match="not a readable mne-sscsleep model file"):
        SSCSleepClassifier.load(tmp_path / "notes.txt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an mne-sscsleep model file"):
        SSCSleepClassifier.load(tmp_path / "other.pt")


@pytest.mark.parametrize(
    "version, package, match",
    [
        (99, "9.0", "mne-sscsleep 9.0 in model format 99.*Upgrade"),
        (3, "0.1.0.dev0", "model format 3; .* reads format 4. Retrain"),
        (1, "0.1.0.dev0", "model format 1; .* reads format 4. Retrain"),
    ],
)
def test_other_format_versions_say_what_to_do(saved, tmp_path, version, package, match):
    _, path, _ = saved
    payload = _payload(path)
    payload["format_version"], payload["package_version"] = version, package
    with pytest.raises(ValueError, match=match):
        SSCSleepClassifier.load(_write(payload, tmp_path / "version.sscsleep"))


class _LabOptimizer(torch.optim.Adam):
    """A user's own optimiser: not in the registry, so not stored."""


def test_unstorable_parameters_are_left_out_with_a_warning(sim_nights, tmp_path):
    epochs, y, groups = sim_nights
    keep = np.flatnonzero(groups == 1)
    clf = SSCSleepClassifier(**TINY, optimizer=_LabOptimizer).fit(epochs[keep], y[keep])
    with pytest.warns(RuntimeWarning, match="Not stored in the model file.*: optimizer\\."):
        path = clf.save(tmp_path / "custom.sscsleep")
    assert "optimizer" not in _payload(path)["params"]
    loaded = SSCSleepClassifier.load(path)
    assert loaded.optimizer is None  # the preset's (AdamW for lite), as the warning advises
    assert type(loaded.optimizer_) is torch.optim.AdamW
    data = epochs[keep][:20].get_data()
    np.testing.assert_array_equal(loaded.predict_proba(data), clf.predict_proba(data))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=64)), max_size=3),
    truncate=st.one_of(st.none(), st.floats(0, 1)),
)
def test_corrupted_bytes_give_a_documented_error_or_the_same_model(
    saved, tmp_path, cuts, truncate
):
    _, path, data = saved
    content = bytearray(path.read_bytes())
    for where, junk in cuts:
        start = int(where * (len(content) - 1))
        content[start : start + len(junk)] = junk
    if truncate is not None:
        content = content[: int(truncate * len(content))]
    fname = tmp_path / "corrupted.sscsleep"
    fname.write_bytes(bytes(content))
    try:
        loaded = SSCSleepClassifier.load(fname)
    except ValueError as error:  # documented: every refusal names the file
        assert str(fname) in str(error), error
        return
    # What loads is the model that was saved (the damage hit bytes the reader ignores).
    reference = SSCSleepClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(data), reference.predict_proba(data))


def test_files_are_read_with_weights_only(saved, monkeypatch):
    _, path, _ = saved
    seen = {}
    original = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    model_io.read_model(path)
    assert seen.get("weights_only") is True


def test_checksum_covers_every_field(saved):
    _, path, _ = saved
    payload = _payload(path)
    reference = model_io._checksum(payload)
    first = next(iter(payload["module_state"]))
    changes = {
        "params": {**payload["params"], "lr": 1.0},
        "history": payload["history"][:1],
        "classes": list(reversed(payload["classes"])),
        "ch_name": "EEG Pz-Oz",
        "module_state": {**payload["module_state"], first: payload["module_state"][first] + 1},
    }
    for key, value in changes.items():
        assert model_io._checksum({**payload, key: value}) != reference, key
