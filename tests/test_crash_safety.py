"""A process killed in the middle of writing a file, then run again, ends as if never killed.

Each test runs a command once to the end (the reference, which also counts the bytes it
writes), then, for several points inside those writes, runs it again killed there by SIGKILL
from inside the writer (tests/crash_driver.py), reruns it to the end, and compares everything
it produced with the reference. Deterministic: the same kill points every time.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from test_nothing_lost import _lab, _night

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import EpochStore, simulate_sleep_epochs

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("crash_driver.py")
# Where the kills land, as shares of everything the command writes.
KILL_POINTS = (0.1, 0.45, 0.8)


def _run(argv, under, tmp_path, *, after=None, cwd=None):
    env = {**os.environ, "CRASH_UNDER": str(under), "OMP_NUM_THREADS": "1"}
    report = tmp_path / "written.txt"
    if after is None:
        env["CRASH_REPORT"] = str(report)
    else:
        env["CRASH_AFTER_BYTES"] = str(after)
    result = subprocess.run(
        [sys.executable, str(DRIVER), *map(str, argv)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if after is None:
        assert result.returncode in (0, 1), result.stderr[-2000:]
        return result, int(report.read_text())
    return result, None


def _killed_then_finished(argv_of, under_of, tmp_path, total):
    """For each kill point: a run killed there, then a complete run; yields the folder."""
    for index, share in enumerate(KILL_POINTS):
        case = tmp_path / f"case{index}"
        case.mkdir()
        killed, _ = _run(argv_of(case), under_of(case), case, after=int(share * total))
        assert killed.returncode == -9, f"not killed at {share:.0%}: {killed.stderr[-500:]}"
        _run(argv_of(case), under_of(case), case)
        yield case


def _store_content(path):
    store = EpochStore.open(path)
    entries = [json.loads(line) for line in (path / "recordings.jsonl").read_text().splitlines()]
    contents = {entry["content"]: entry["name"] for entry in entries}
    assert len(contents) == len(entries), "a recording is stored twice"
    by_content = {}
    for code, entry in enumerate(entries):
        rows = np.flatnonzero(store.recording == code)
        by_content[entry["content"]] = (
            entry["name"],
            store.get_data(rows),
            store.y[rows],
            store.time_index[rows],
        )
    return by_content


def test_store_build_killed_mid_write_resumes_to_the_same_store(tmp_path):
    lab = _lab(tmp_path / "lab", range(4))
    reference = tmp_path / "reference"
    argv = ["store", "build", lab, "-o"]
    _, total = _run([*argv, reference / "store"], reference, tmp_path)
    expected = _store_content(reference / "store")
    assert len(expected) == 4
    cases = _killed_then_finished(
        lambda case: [*argv, case / "store"], lambda case: case, tmp_path, total
    )
    for case in cases:
        found = _store_content(case / "store")
        assert set(found) == set(expected)
        for content, (name, data, y, time_index) in expected.items():
            assert found[content][0] == name
            np.testing.assert_array_equal(found[content][1], data)
            np.testing.assert_array_equal(found[content][2], y)
            np.testing.assert_array_equal(found[content][3], time_index)
        assert not list((case / "store").rglob(".*.tmp-*")), "temporary files left behind"


def test_stage_many_killed_mid_write_resumes_to_the_same_hypnograms(tmp_path):
    recordings = tmp_path / "psg"
    recordings.mkdir()
    for seed in range(3):
        _night(recordings / f"night{seed}.edf", seed=seed)
    epochs, y, _ = simulate_sleep_epochs(2, hours=1.0, random_state=0, verbose="error")
    from helpers import TINY

    model = SSCSleepClassifier(**TINY).fit(epochs, y).save(tmp_path / "m.sscsleep")
    argv = ["stage", recordings, "--model", model, "--out-dir"]
    _, total = _run([*argv, tmp_path / "reference"], tmp_path / "reference", tmp_path)
    names = sorted(p.name for p in (tmp_path / "reference").glob("*.tsv"))
    assert names == ["night0.tsv", "night1.tsv", "night2.tsv", "summary.tsv"]
    for case in _killed_then_finished(
        lambda case: [*argv, case / "out"], lambda case: case / "out", tmp_path, total
    ):
        for name in names[:-1]:
            assert (case / "out" / name).read_bytes() == (
                tmp_path / "reference" / name
            ).read_bytes(), name
        summary = (case / "out" / "summary.tsv").read_text()
        assert "failed" not in summary and summary.count("\n") == 4
        assert not list((case / "out").glob(".*.tmp-*"))


def test_train_killed_mid_write_resumes_to_the_same_model(tmp_path):
    base = ["train", "--simulate", "2", "--hours", "1", "--preset", "lite", "--max-epochs", "2"]
    # The single-epoch network and small batches: faster, the same files written.
    base += ["--context", "0", "--batch-size", "8"]
    reference = tmp_path / "reference"
    reference.mkdir()
    _, total = _run([*base, "-o", reference / "m.sscsleep"], reference, tmp_path)
    expected = SSCSleepClassifier.load(reference / "m.sscsleep")

    for index, share in enumerate(KILL_POINTS):
        case = tmp_path / f"case{index}"
        case.mkdir()
        argv = [*base, "-o", case / "m.sscsleep"]
        killed, _ = _run(argv, case, case, after=int(share * total))
        assert killed.returncode == -9, killed.stderr[-500:]
        # What a user does: resume; if no checkpoint was complete yet, train again.
        finished, _ = _run([*argv, "--resume"], case, case)
        if finished.returncode == 1 and "Nothing to resume" in finished.stderr:
            finished, _ = _run(argv, case, case)
        assert finished.returncode == 0, finished.stderr[-2000:]
        found = SSCSleepClassifier.load(case / "m.sscsleep")
        for key, value in expected.module_.state_dict().items():
            assert torch.equal(value, found.module_.state_dict()[key]), (share, key)
        assert found.history[:, "train_loss"] == expected.history[:, "train_loss"]
