import subprocess
import sys

import pytest

from mne_sscsleep.cli import main


def test_demo_runs_end_to_end(capsys):
    assert main(["demo", "--subjects", "2", "--hours", "2.5", "--max-epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "Held-out night" in out and "macro-F1" in out and "Predicted hypnogram" in out


def test_demo_needs_two_subjects(capsys):
    assert main(["demo", "--subjects", "1"]) == 2
    assert "--subjects must be at least 2" in capsys.readouterr().err


def test_help_and_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "mne_sscsleep", "demo", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "--max-epochs" in result.stdout
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


@pytest.fixture(scope="module")
def edf_folder(tmp_path_factory):
    import mne

    from mne_sscsleep.datasets import simulate_sleep_raw

    folder = tmp_path_factory.mktemp("recordings")
    (folder / "train").mkdir()
    for seed in range(2):
        raw = simulate_sleep_raw(hours=2.5, random_state=seed, verbose="error")
        mne.export.export_raw(
            folder / "train" / f"night{seed}.edf", raw, fmt="edf", verbose="error"
        )
    new = simulate_sleep_raw(hours=1.0, sfreq=200.0, random_state=7, verbose="error")
    new.set_annotations(None)
    mne.export.export_raw(folder / "new.edf", new, fmt="edf", verbose="error")
    return folder


@pytest.fixture(scope="module")
def trained_model(edf_folder):
    model = edf_folder / "model.sscsleep"
    assert (
        main(["train", "--data", str(edf_folder / "train"), "--max-epochs", "1", "-o", str(model)])
        == 0
    )
    return model


def test_edf_to_model_to_hypnogram(edf_folder, trained_model, capsys):
    import pandas as pd

    from mne_sscsleep import SSCSleepClassifier

    model = trained_model
    clf = SSCSleepClassifier.load(model)
    assert clf.ch_name_ == "EEG Fpz-Cz" and clf.sfreq == 100.0
    tsv, png = edf_folder / "hypnogram.tsv", edf_folder / "hypnogram.png"
    code = main(
        [
            "stage",
            str(edf_folder / "new.edf"),
            "--model",
            str(model),
            "-o",
            str(tsv),
            "--plot",
            str(png),
        ]
    )
    assert code == 0
    table = pd.read_csv(tsv, sep="\t")
    assert len(table) == 120  # one hour at 200 Hz, resampled, in 30-s epochs
    assert set(table["stage"]) <= {"W", "N1", "N2", "N3", "R"}
    assert table["onset"].iloc[-1] == 119 * 30
    assert png.stat().st_size > 10_000
    assert "Hypnogram written" in capsys.readouterr().out


def test_cli_errors_exit_non_zero(edf_folder, trained_model, capsys):
    assert main(["stage", str(edf_folder / "missing.edf"), "--model", "nope.sscsleep"]) == 1
    assert "No model file" in capsys.readouterr().err
    assert main(["train", "--data", str(edf_folder / "nowhere")]) == 1
    assert "No folder" in capsys.readouterr().err
    assert (
        main(
            [
                "stage",
                str(edf_folder / "new.edf"),
                "--model",
                str(trained_model),
                "--channel",
                "C3",
            ]
        )
        == 1
    )
    assert "'C3' is not in" in capsys.readouterr().err
