"""The benchmark scripts run end to end at CI-friendly size."""

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmark_module(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("benchmark", None)
    return runpy.run_path(str(BENCHMARKS / "benchmark.py"))


@pytest.mark.slow
def test_benchmark_on_simulated_data(benchmark_module, tmp_path, capsys):
    models = "paper,paper_cnn_lstm,paper_wce,lite,lite_context0,features_gb,features_yasa" + (
        ",yasa" if _has_yasa() else ""
    )
    argv = ["--dataset", "simulated", "--subjects", "3", "--hours", "2.5", "--folds", "3"]
    argv += ["--max-epochs", "1", "--batch-size", "8", "--paper-width", "0.125"]
    argv += ["--models", models]
    results = benchmark_module["main"]([*argv, "--out", str(tmp_path)])
    assert set(results) == set(models.split(","))
    for folds in results.values():
        assert [fold["fold"] for fold in folds] == [0, 1, 2]
        for fold in folds:
            assert fold["stage_s_per_night"] > 0
            # Each fold is scored on its own held-out subject (one 2.5-h night, 300 epochs).
            assert fold["peak_rss_mb"] > 100 and fold["n_epochs"] == 300
            assert fold["transitions_true"] > 0 and fold["transitions_predicted"] >= 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["args"]["dataset"] == "simulated" and saved["args"]["protocol"] == "kfold"
    table = (tmp_path / "results.md").read_text()
    assert "SIMULATED" in table and "| lite |" in table and "| features_gb |" in table
    assert "| lite_context0 |" in table and "| features_yasa |" in table
    assert "paper network at 0.125 width" in table
    epochs, y, _ = benchmark_module["load_dataset"](
        benchmark_module["build_parser"]().parse_args(argv)
    )
    for name, folds in results.items():
        # The table reports the folds' mean and spread, and the report of the pooled folds.
        values = np.array([fold["macro_f1"] for fold in folds])
        pooled = benchmark_module["pooled_report"](folds, y)
        assert sorted(np.concatenate([fold["test_index"] for fold in folds])) == list(range(900))
        row = f"| {name} | {values.mean():.3f} ± {values.std():.3f} |"
        assert row in table and f"| {pooled.macro_gmean:.3f} |" in table
    # The paper's figures beside ours: its Fig. 3 / 4 macro-F1 and the corrected headline.
    assert "| 77.2 |" in table and "| 78.0 |" in table
    assert "not macro-F1" in table and "84.5 / 90.1" in table
    assert "Wrote" in capsys.readouterr().out


@pytest.mark.slow
def test_holdout_protocol_keeps_validation_subjects_apart(benchmark_module, tmp_path):
    argv = ["--dataset", "simulated", "--subjects", "6", "--hours", "2", "--protocol", "holdout"]
    argv += ["--valid-subjects", "1", "--max-epochs", "1", "--batch-size", "8"]
    argv += ["--models", "lite,features_gb"]
    args = benchmark_module["build_parser"]().parse_args(argv)
    args.folds = None
    _, y, groups = benchmark_module["load_dataset"](args)
    ((train, test, valid),) = list(benchmark_module["splits"](y, groups, args))
    subjects = [set(groups[index]) for index in (train, test, valid)]
    assert [len(s) for s in subjects] == [3, 2, 1]  # 70 % = 4 subjects, one of them validates
    assert not (
        subjects[0] & subjects[1] or subjects[0] & subjects[2] or subjects[1] & subjects[2]
    )
    results = benchmark_module["main"]([*argv, "--out", str(tmp_path)])
    assert len(results["lite"]) == 1 and results["lite"][0]["n_epochs"] == len(test)
    assert "70/30 subject holdout (1 validation subjects)" in (tmp_path / "results.md").read_text()


def test_ablation_is_a_preset_of_the_benchmark(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    calls = []
    ablation = runpy.run_path(str(BENCHMARKS / "ablation.py"))
    monkeypatch.setitem(ablation["main"].__globals__, "benchmark_main", calls.append)
    ablation["main"](["--folds", "2"])
    (argv,) = calls
    assert argv[argv.index("--dataset") + 1] == "simulated"
    models = argv[argv.index("--models") + 1].split(",")
    assert {"paper", "paper_cnn_lstm", "paper_2x_se_resnet", "paper_wce_fl_cl", "lite"} <= set(
        models
    )
    assert argv[-2:] == ["--folds", "2"]


def test_context_benchmark_is_a_preset_of_the_benchmark(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    calls = []
    context = runpy.run_path(str(BENCHMARKS / "context.py"))
    monkeypatch.setitem(context["main"].__globals__, "benchmark_main", calls.append)
    context["main"](["--part", "lite", "--folds", "2"])
    context["main"]([])
    lite, everything = calls
    models = lite[lite.index("--models") + 1].split(",")
    assert {"features_yasa", "lite", "lite_context2", "lite_context5", "lite_context10"} <= set(
        models
    )
    assert lite[lite.index("--hours") + 1] == "8" and lite[-2:] == ["--folds", "2"]
    models = everything[everything.index("--models") + 1].split(",")
    assert {"paper", "paper_context2", "paper_context5", "paper_context10"} <= set(models)


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
    argv = ["--nights", "1", "--passes", "1", "--repeats", "1", "--rss-epochs", "300"]
    speed["main"]([*argv, "--paper-epochs", "64", "--paper-rss-epochs", "64"])
    out = capsys.readouterr().out
    assert "[lite] training (960 epochs, median of 1):" in out and "without augmentation" in out
    assert "bare PyTorch loop" in out and "overhead" in out
    assert "[paper] training (64 epochs, median of 1):" in out and "slower than lite" in out
    assert "[lite] staging one 8-h night (960 epochs)" in out
    assert "[paper] staging one 8-h night (960 epochs)" in out
    assert "[lite] fitting 300 epochs (one pass): peak RSS" in out
    assert "[paper] fitting 64 epochs (one pass): peak RSS" in out
    assert ("no CUDA GPU visible" in out) != torch.cuda.is_available()


@pytest.mark.slow
def test_n1_signal_script_compares_both_settings_on_the_same_folds(monkeypatch, capsys):
    script = runpy.run_path(str(BENCHMARKS / "n1_signal.py"))
    results = script["main"](
        ["--nights", "2", "--hours", "2", "--folds", "2", "--seeds", "1", "--max-epochs", "2"]
        + ["--batch-size", "8"]
    )
    assert set(results) == {"valid", "train"}
    assert len(results["valid"]) == len(results["train"]) == 2
    out = capsys.readouterr().out
    assert "SIMULATED data" in out and "optimism" in out
    for on, runs in results.items():
        mean = np.mean([run["macro_f1"] for run in runs])
        assert f"{mean:.3f} ±" in out.split(f"\n{on}")[1].splitlines()[0]


@pytest.fixture
def generalise(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return runpy.run_path(str(BENCHMARKS / "generalise.py"))


def _protocol_data(n_people, labs):
    """Labels of a protocol's data: each person a night in each lab, 4 epochs a night."""
    person = np.repeat(np.arange(n_people), 4 * len(labs))
    lab = np.tile(np.repeat(labs, 4), n_people)
    return {"person": person, "lab": lab}


def test_generalisation_folds_never_test_on_a_training_person_or_lab(generalise):
    folds = generalise["folds"]
    for protocol, data in (
        ("whole", _protocol_data(10, ["frontal100"])),
        ("small", _protocol_data(8, ["central128"])),
        ("shift", _protocol_data(10, ["frontal100", "central256", "occipital128"])),
    ):
        names = []
        for name, train, test in folds(protocol, data):
            names.append(name)
            assert not set(data["person"][train]) & set(data["person"][test]), (protocol, name)
            if protocol == "shift":
                assert set(data["lab"][train]) == {"frontal100"}
                assert len(set(data["lab"][test])) == 1 and "frontal100" not in data["lab"][test]
        assert len(names) == {"whole": 5, "small": 8, "shift": 4}[protocol]


def test_generalisation_table_pairs_each_model_by_fold(generalise, tmp_path):
    rows = []
    for fold, (features, lite, scratch) in enumerate([(0.5, 0.7, 0.4), (0.6, 0.5, 0.5)]):
        for model, score in (("features", features), ("lite", lite), ("lite_scratch", scratch)):
            rows.append(
                dict(model=model, seed=0, fold=f"f{fold}", macro_f1=score, n1_f1=score / 2,
                     kappa=score, test=[], predicted=[])
            )  # fmt: skip
    (tmp_path / "small.jsonl").write_text("\n".join(json.dumps(row) for row in rows))
    args = type("Args", (), {"out": tmp_path, "cache": None, "against": "features,lite_scratch"})
    text = generalise["table"](args)
    lite = next(line for line in text.splitlines() if line.startswith("| lite |"))
    # Against the features: +0.2 and -0.1 (mean +0.05, one fold of two won); against the
    # model from random weights: +0.3 and 0.0 (one won, a tie is no win).
    assert "| 0.600 ± 0.141 |" in lite
    assert "+0.050 ± 0.212 |" in lite and "+0.150 ± 0.212 |" in lite
    assert lite.count("1/2") == 2
