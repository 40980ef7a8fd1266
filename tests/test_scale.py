"""Scale out: the epoch store, data-parallel training and batch staging (small sizes)."""

import json
import pickle
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY
from sklearn.model_selection import GroupKFold, cross_validate

from mne_sscsleep import SSCSleepClassifier, stage_many
from mne_sscsleep.cli import main as cli_main
from mne_sscsleep.datasets import EpochStore, simulate_sleep_epochs, simulate_sleep_raw
from mne_sscsleep.datasets.store import StoreArray
from mne_sscsleep.training import PairBatchSampler

TESTS = Path(__file__).parent
# 1.5-h simulated nights hold no REM: fits warn, as they should.
pytestmark = pytest.mark.filterwarnings("ignore:Stage\\(s\\) R are missing")


@pytest.fixture(scope="module")
def nights():
    return simulate_sleep_epochs(4, hours=1.5, random_state=0, verbose="error")


@pytest.fixture(scope="module")
def store(nights, tmp_path_factory):
    epochs, _, _ = nights
    return EpochStore.from_epochs(tmp_path_factory.mktemp("store") / "nights", epochs)


@pytest.fixture(scope="module")
def edf_folder(tmp_path_factory):
    """Two simulated nights as EDF+ (stages as annotations) and one file that is no EDF."""
    folder = tmp_path_factory.mktemp("edf")
    for night in range(2):
        raw = simulate_sleep_raw(hours=0.5, random_state=night, verbose="error")
        raw.export(folder / f"night{night}.edf", verbose="error")
    (folder / "broken.edf").write_text("not an EDF file")
    return folder


@pytest.fixture(scope="module")
def model_file(nights, tmp_path_factory):
    epochs, y, _ = nights
    fname = tmp_path_factory.mktemp("model") / "model.sscsleep"
    SSCSleepClassifier(**TINY).fit(epochs, y).save(fname)
    return fname


# ---- the store ------------------------------------------------------------------------------
def test_store_holds_the_epochs_labels_and_order(nights, store):
    epochs, y, groups = nights
    reopened = EpochStore.open(store.path)  # as another process would
    assert len(reopened) == len(epochs) and reopened.shape == (len(epochs), 1, 3000)
    np.testing.assert_array_equal(reopened.get_data(), epochs.get_data().astype(np.float32))
    np.testing.assert_array_equal(reopened.labels, y)
    np.testing.assert_array_equal(reopened.subject, groups)
    assert reopened.ch_name == epochs.ch_names[0] and reopened.sfreq == 100.0
    # Time order within each night, from the epochs' events.
    assert (np.diff(reopened.time_index[reopened.recording == 0]) == 1).all()
    # A subset (what cross-validation makes) reads the right rows, in the order asked.
    subset = reopened[np.array([500, 3, 361])]
    np.testing.assert_array_equal(
        subset.get_data(), epochs.get_data()[[500, 3, 361]].astype(np.float32)
    )
    np.testing.assert_array_equal(subset.labels, y[[500, 3, 361]])


def test_float16_store_keeps_microvolts(nights, tmp_path):
    epochs, _, _ = nights
    half = EpochStore.from_epochs(tmp_path / "half", epochs[:200], dtype="float16")
    data = epochs.get_data()[:200]
    error = np.abs(half.get_data() - data).max()
    assert error < 1e-3 * np.abs(data).max()  # float16: 3 significant digits
    assert sum(f.stat().st_size for f in (tmp_path / "half" / "data").glob("r*[0-9].npy")) < (
        data.size * 2 + 1000
    )


def test_store_build_resumes_and_survives_a_torn_line(nights, tmp_path):
    epochs, y, _ = nights
    first = epochs[epochs.metadata["subject"] == 0]
    path = tmp_path / "resumed"
    EpochStore.from_epochs(path, first)
    with open(path / "recordings.jsonl", "a") as fid:
        fid.write('{"name": "half a li')  # a crash while appending
    store = EpochStore.create(path)
    assert store.add(epochs) == 3  # the first night is there already
    assert store.add(epochs) == 0
    assert len(store.reload()) == len(epochs)


def test_store_errors_name_the_fix(store, tmp_path):
    with pytest.raises(FileNotFoundError, match="EpochStore.from_epochs"):
        EpochStore.open(tmp_path / "nothing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "store.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not an mne-sscsleep epoch store"):
        EpochStore.open(tmp_path / "other")
    with pytest.raises(ValueError, match="holds float32 epochs at 100 Hz"):
        EpochStore.create(store.path, dtype="float16")
    with pytest.raises(ValueError, match="build the store at 128 Hz"):
        SSCSleepClassifier(**TINY, sfreq=128).fit(store)
    damaged = tmp_path / "damaged"
    shutil.copytree(store.path, damaged)
    first = json.loads((damaged / "recordings.jsonl").read_text().splitlines()[0])["file"]
    np.save(damaged / "data" / first, np.zeros((3, 1, 3000), np.float32))
    with pytest.raises(ValueError, match=f"{first} is damaged"):
        EpochStore.open(damaged).get_data([0])


def test_store_array_pickles_without_its_data(store):
    array = store.to_dataset().X
    payload = pickle.dumps(array)
    assert len(payload) < 10_000  # file names, not 3000 samples x 720 epochs
    np.testing.assert_array_equal(pickle.loads(payload)[[7, 2]], array[[7, 2]])


@pytest.mark.parametrize("context", [0, 1])
def test_fit_on_a_store_equals_fit_in_memory(nights, store, monkeypatch, context):
    # Pairs (and a context model's windows of neighbours) are drawn by index across the
    # store's recordings exactly as across the same epochs in memory.
    epochs, y, _ = nights
    in_memory = SSCSleepClassifier(**{**TINY, "context": context}).fit(epochs, y)
    reads = []
    read = StoreArray._read
    monkeypatch.setattr(
        StoreArray, "_read", lambda self, index: reads.append(len(index)) or read(self, index)
    )
    on_disk = SSCSleepClassifier(**{**TINY, "context": context}).fit(
        store
    )  # labels from the store
    # Batches are read from disk, never the whole store: 16 pairs, or 32 epochs to score
    # (with their neighbours for a context model); once per fit and per predict, the
    # recording scaling reads the epochs in chunks of at most 2,048.
    batch = 32 * (1 + 2 * context)
    chunks = [n for n in reads if n > batch]
    assert max(chunks) <= 2048 and sum(chunks) == len(store)  # the fit's scaling pass
    assert sum(reads) >= 2 * len(store)
    np.testing.assert_array_equal(on_disk.predict_proba(store), in_memory.predict_proba(epochs))
    names = [f"subject {subject}" for subject in range(4)]
    assert on_disk.training_data_["recordings"] == names


def test_dataloader_workers_read_the_store_themselves(store):
    plain = SSCSleepClassifier(**TINY).fit(store)
    workers = SSCSleepClassifier(
        **TINY, iterator_train__num_workers=2, iterator_valid__num_workers=1
    ).fit(store)
    np.testing.assert_array_equal(workers.predict_proba(store), plain.predict_proba(store))


def test_group_kfold_by_the_stores_subjects(store):
    results = cross_validate(
        SSCSleepClassifier(**TINY),
        store,
        store.labels,
        groups=store.subject,
        cv=GroupKFold(2),
        return_indices=True,
        return_estimator=True,
    )
    for train, test, estimator, score in zip(
        results["indices"]["train"],
        results["indices"]["test"],
        results["estimator"],
        results["test_score"],
    ):
        assert not set(store.subject[train]) & set(store.subject[test])
        assert np.isclose(score, (estimator.predict(store[test]) == store.labels[test]).mean())


def test_store_from_an_edf_folder_and_the_command_line(edf_folder, tmp_path):
    with pytest.warns(RuntimeWarning, match="Skipped broken.edf"):
        store = EpochStore.from_edf_folder(
            tmp_path / "s", edf_folder, trim_wake=None, on_error="warn", progress=False
        )
    assert list(store.recordings["name"]) == ["night0.edf", "night1.edf"]
    assert store.recordings["source"][0].endswith("night0.edf") and len(store) == 120
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli_main(["store", "build", str(edf_folder), "-o", str(tmp_path / "s")]) == 0
    assert len(EpochStore.open(tmp_path / "s")) == 120  # resumed: nothing added twice


def test_store_from_a_loader_resumes_by_subject(nights, tmp_path):
    epochs, y, groups = nights
    calls = []

    network = {"down": True}

    def load_subjects(subjects):
        calls.append(subjects[0])
        if subjects[0] == 2 and network["down"]:
            raise OSError("network down")
        mine = groups == subjects[0]
        return epochs[mine], y[mine], groups[mine]

    with pytest.raises(OSError):
        EpochStore.from_loader(tmp_path / "l", load_subjects, [0, 1, 2], progress=False)
    network["down"] = False
    store = EpochStore.from_loader(tmp_path / "l", load_subjects, [0, 1, 2], progress=False)
    assert calls == [0, 1, 2, 2]  # subjects 0 and 1 were not loaded again
    np.testing.assert_array_equal(np.unique(store.subject), [0, 1, 2])


# ---- data-parallel training -----------------------------------------------------------------
def test_pair_sampler_shards_whole_recordings():
    labels = np.arange(600) % 5
    recording = np.repeat(np.arange(6), 100)
    shards = [
        PairBatchSampler(labels, 16, groups=recording, rank=rank, world_size=2, random_state=0)
        for rank in (0, 1)
    ]
    seen = [set(np.concatenate(list(sampler)).tolist()) for sampler in shards]
    assert not seen[0] & seen[1]
    assert not set(recording[list(seen[0])]) & set(recording[list(seen[1])])
    # Each process draws half of a pass's pairs, in as many batches as the other.
    assert shards[0].n_pairs == shards[1].n_pairs == PairBatchSampler(labels, 16).n_pairs // 2
    assert len(shards[0]) == len(shards[1]) == 10


def test_distributed_needs_a_launcher_and_a_seed(store):
    with pytest.raises(ValueError, match="int random_state"):
        SSCSleepClassifier(**{**TINY, "random_state": None}, distributed=True).fit(store)
    with pytest.raises(RuntimeError, match="torchrun --nproc_per_node"):
        SSCSleepClassifier(**TINY, distributed=True).fit(store)


@pytest.mark.slow
def test_two_processes_train_disjoint_shards_to_identical_weights(store, tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", str(TESTS / "distributed_fit.py")]
    env = {"OMP_NUM_THREADS": "1", "PATH": "", "PYTHONPATH": str(TESTS)}
    done = subprocess.run(
        [*command, str(store.path), str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert not set(ranks[0]["recordings"]) & set(ranks[1]["recordings"])
    assert set(ranks[0]["recordings"]) | set(ranks[1]["recordings"]) == {0, 1, 2, 3}
    assert ranks[0]["n_batches"] == ranks[1]["n_batches"]
    assert ranks[0]["weights"] == ranks[1]["weights"]  # exactly, every tensor
    # Two processes of 16 pairs a batch take the steps of one process with 32 a batch.
    same_steps = {**TINY, "max_epochs": 3, "batch_size": 2 * TINY["batch_size"]}
    one = SSCSleepClassifier(**same_steps).fit(store)
    one_accuracy = (one.predict(store) == store.labels).mean()
    assert abs(ranks[0]["accuracy"] - one_accuracy) < 0.1, (ranks[0]["accuracy"], one_accuracy)


# ---- batch staging --------------------------------------------------------------------------
@pytest.mark.slow
def test_stage_many_continues_past_a_bad_file_and_skips_what_is_done(
    edf_folder, model_file, tmp_path
):
    summary = stage_many(model_file, edf_folder, tmp_path, jobs=2, progress=False)
    rows = summary.set_index(summary["recording"].map(lambda name: Path(name).name))
    assert rows.loc["broken.edf", "status"] == "failed"
    assert "broken.edf" not in {p.name for p in tmp_path.glob("*.tsv")}
    assert (rows.loc[["night0.edf", "night1.edf"], "status"] == "staged").all()
    assert rows.loc["night0.edf", "TIB"] == 30.0  # 0.5 h, from the hypnogram written
    written = (tmp_path / "summary.tsv").read_text().splitlines()
    assert len(written) == 4 and "TST" in written[0]
    again = stage_many(model_file, [edf_folder / "night*.edf"], tmp_path, progress=False)
    assert (again["status"] == "skipped").all()
    np.testing.assert_allclose(again["TST"], summary["TST"][1:])  # read back from the files
    redone = stage_many(model_file, edf_folder / "night0.edf", tmp_path, overwrite=True)
    assert list(redone["status"]) == ["staged"]


def test_stage_many_on_a_dask_cluster(edf_folder, model_file, tmp_path):
    joblib = pytest.importorskip("joblib")
    distributed = pytest.importorskip("distributed")
    files = sorted(edf_folder.glob("night*.edf"))
    local = stage_many(model_file, files, tmp_path / "local", progress=False)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        remote = stage_many(model_file, files, tmp_path / "dask", progress=False)
    assert (remote["status"] == "staged").all()
    for fname in files:
        name = fname.with_suffix(".tsv").name
        assert (tmp_path / "dask" / name).read_text() == (tmp_path / "local" / name).read_text()
    np.testing.assert_array_equal(remote["TST"], local["TST"])


def test_cli_stages_many_files_into_a_folder(edf_folder, model_file, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["stage", str(edf_folder), "--model", str(model_file), "--out-dir", str(out)]
    assert cli_main(args) == 1  # one recording failed
    captured = capsys.readouterr()
    assert "2 staged, 0 skipped" in captured.out and "1 failed" in captured.out
    assert "failed: " in captured.err and "broken.edf" in captured.err
    assert "Traceback" not in captured.err
    assert cli_main(args[:-2] + ["-o", "x.tsv"]) == 1
    assert "--out-dir DIR" in capsys.readouterr().err
