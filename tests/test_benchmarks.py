"""The benchmark scripts run end to end at CI-friendly size."""

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmark_module(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("benchmark", None)
    return runpy.run_path(str(BENCHMARKS / "benchmark.py"))


@pytest.mark.slow
def test_benchmark_on_simulated_data(benchmark_module, tmp_path, capsys):
    models = "ssc,ssc_se_resnet,features_gb" + (",yasa" if _has_yasa() else "")
    results = benchmark_module["main"](
        [
            "--dataset",
            "simulated",
            "--subjects",
            "3",
            "--hours",
            "2.5",
            "--folds",
            "3",
            "--max-epochs",
            "1",
            "--models",
            models,
            "--out",
            str(tmp_path),
        ]
    )
    assert set(results) == set(models.split(","))
    for folds in results.values():
        assert [fold["fold"] for fold in folds] == [0, 1, 2]
        for fold in folds:
            assert fold["stage_s_per_night"] > 0
            # Each fold is scored on its own held-out subject (one 2.5-h night, 300 epochs).
            assert fold["peak_rss_mb"] > 100 and fold["n_epochs"] == 300
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["args"]["dataset"] == "simulated"
    table = (tmp_path / "results.md").read_text()
    assert "SIMULATED" in table and "| ssc |" in table and "| features_gb |" in table
    # The table reports the folds' mean and spread, not other numbers.
    for name, folds in results.items():
        values = np.array([fold["macro_f1"] for fold in folds])
        assert f"| {name} | {values.mean():.3f} ± {values.std():.3f} |" in table
    assert "84.5" in table  # the paper's figures beside ours
    assert "Wrote" in capsys.readouterr().out


def test_ablation_is_a_preset_of_the_benchmark(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    calls = []
    ablation = runpy.run_path(str(BENCHMARKS / "ablation.py"))
    monkeypatch.setitem(ablation["main"].__globals__, "benchmark_main", calls.append)
    ablation["main"](["--folds", "2"])
    (argv,) = calls
    assert argv[argv.index("--dataset") + 1] == "simulated"
    assert "ssc_no_contrastive" in argv[argv.index("--models") + 1]
    assert argv[-2:] == ["--folds", "2"]


def _has_yasa():
    try:
        import yasa  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.slow
def test_speed_script_prints_every_figure(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    speed = runpy.run_path(str(BENCHMARKS / "speed.py"))
    speed["main"](["--nights", "1", "--passes", "1", "--repeats", "1", "--rss-epochs", "300"])
    out = capsys.readouterr().out
    assert "training (960 epochs, median of 1):" in out and "without augmentation" in out
    assert "bare PyTorch loop" in out and "overhead" in out
    assert "staging one 8-h night (960 epochs)" in out
    assert "fitting 300 epochs (one pass): peak RSS" in out


@pytest.mark.slow
def test_n1_signal_script_compares_both_settings_on_the_same_folds(monkeypatch, capsys):
    script = runpy.run_path(str(BENCHMARKS / "n1_signal.py"))
    results = script["main"](
        ["--nights", "2", "--hours", "2", "--folds", "2", "--seeds", "1", "--max-epochs", "2"]
    )
    assert set(results) == {"valid", "train"}
    assert len(results["valid"]) == len(results["train"]) == 2
    out = capsys.readouterr().out
    assert "SIMULATED data" in out and "optimism" in out
    for on, runs in results.items():
        mean = np.mean([run["macro_f1"] for run in runs])
        assert f"{mean:.3f} ±" in out.split(f"\n{on}")[1].splitlines()[0]
