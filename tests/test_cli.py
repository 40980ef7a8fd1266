import subprocess
import sys

import pytest

from mne_sscsleep.cli import main


@pytest.mark.slow
def test_demo_runs_end_to_end(capsys):
    args = ["demo", "--subjects", "2", "--hours", "2.5", "--max-epochs", "1", "--batch-size", "8"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Held-out night" in out and "macro-F1" in out and "Predicted hypnogram" in out


@pytest.mark.slow
def test_context_model_from_the_command_line(tmp_path, capsys):
    output = tmp_path / "context.sscsleep"
    args = ["train", "--simulate", "2", "--hours", "1.5", "--preset", "lite", "--context", "3"]
    assert main([*args, "--max-epochs", "1", "--batch-size", "8", "-o", str(output)]) == 0
    assert main(["info", str(output)]) == 0
    assert "context:        3 epochs on each side (gru)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["demo", "--context", "-1"])
    assert "--context: must be 0 or more, got -1" in capsys.readouterr().err


def test_demo_needs_two_subjects(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--subjects", "1"])
    assert exit_info.value.code == 2
    assert "--subjects: must be at least 2, got 1" in capsys.readouterr().err


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
        main(
            [
                "train",
                "--data",
                str(edf_folder / "train"),
                "--preset",
                "lite",
                "--max-epochs",
                "1",
                "-o",
                str(model),
            ]
        )
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


def test_cli_errors_exit_non_zero(edf_folder, trained_model, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["stage", str(edf_folder / "missing.edf"), "--model", "nope.sscsleep"]) == 1
    assert "No recording at" in capsys.readouterr().err
    assert main(["stage", str(edf_folder / "new.edf"), "--model", "nope.sscsleep"]) == 1
    assert "No model file" in capsys.readouterr().err
    assert main(["train", "--data", str(edf_folder / "nowhere")]) == 1
    assert "is not a folder; give the folder of EDF recordings" in capsys.readouterr().err
    assert not (tmp_path / "model.checkpoints").exists()  # nothing written for a failed start
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
    with pytest.raises(SystemExit):
        main(["train", "--max-epochs", "0"])
    assert "--max-epochs: must be at least 1, got 0" in capsys.readouterr().err


def test_info_describes_a_model_file(trained_model, capsys):
    assert main(["info", str(trained_model)]) == 0
    out = capsys.readouterr().out
    assert "stages:         W, N1, N2, N3, R" in out
    assert "channel:        EEG Fpz-Cz" in out and "sampling rate:  100 Hz" in out
    assert "network:        SSCSleepNet" in out
    assert "context:        2 epochs on each side (gru)" in out  # the lite preset's default
    assert "training:       1 epochs; best validation macro-F1" in out
    assert main(["info", str(trained_model.with_name("missing.sscsleep"))]) == 1
    assert "No model file" in capsys.readouterr().err


def test_channel_errors_speak_of_the_option(edf_folder, tmp_path, capsys):
    import mne

    from mne_sscsleep.datasets import simulate_sleep_raw

    folder = tmp_path / "two_eeg"
    folder.mkdir()
    raw = simulate_sleep_raw(hours=0.5, random_state=2, verbose="error")
    other = raw.copy().rename_channels({"EEG Fpz-Cz": "EEG Pz-Oz"})
    mne.export.export_raw(
        folder / "night.edf", raw.add_channels([other]), fmt="edf", verbose="error"
    )
    assert main(["train", "--data", str(folder), "-o", str(tmp_path / "m.sscsleep")]) == 1
    assert "(on the command line: --channel 'EEG Fpz-Cz')" in capsys.readouterr().err


def _crash_at_epoch(epoch):
    from mne_sscsleep.training import N1Adaptation

    original = N1Adaptation.on_epoch_begin

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == epoch:
            raise RuntimeError("power cut")
        return original(self, net, **kwargs)

    return on_epoch_begin


@pytest.mark.slow
def test_an_interrupted_training_resumes_to_the_same_model(
    edf_folder, tmp_path, monkeypatch, capsys
):
    import torch

    from mne_sscsleep import SSCSleepClassifier
    from mne_sscsleep.training import N1Adaptation

    args = ["train", "--data", str(edf_folder / "train"), "--preset", "lite", "--max-epochs", "3"]
    # Single-epoch, for the suite's time (the lite default, context 2, takes ~2 min here; it
    # resumes exactly too since the window gather is deterministic, checked by hand and in
    # test_context.py::test_a_seeded_context_fit_is_the_same_every_run).
    args += ["--seed", "1", "--context", "0", "--batch-size", "8"]
    full, resumed = tmp_path / "full.sscsleep", tmp_path / "resumed.sscsleep"
    assert main([*args, "-o", str(full)]) == 0
    with monkeypatch.context() as patch:
        patch.setattr(N1Adaptation, "on_epoch_begin", _crash_at_epoch(3))
        assert main([*args, "-o", str(resumed)]) == 1
    assert "power cut" in capsys.readouterr().err
    checkpoints = tmp_path / "resumed.checkpoints" / "last"
    assert not resumed.exists() and (checkpoints / "latest").read_text() == "epoch-00002"
    assert main([*args, "-o", str(resumed), "--resume"]) == 0
    a, b = SSCSleepClassifier.load(full), SSCSleepClassifier.load(resumed)
    for key, value in a.module_.state_dict().items():
        assert torch.equal(value, b.module_.state_dict()[key]), key
    for column in ("train_loss", "valid_macro_f1", "n1_weight", "n1_error"):
        assert a.history[:, column] == b.history[:, column]
    assert len(b.history) == 3


@pytest.mark.slow
def test_resume_refuses_other_settings_or_no_checkpoint(edf_folder, tmp_path, capsys):
    import torch

    from mne_sscsleep import SSCSleepClassifier

    output = str(tmp_path / "model.sscsleep")
    assert main(["train", "--simulate", "2", "--hours", "1", "--resume", "-o", output]) == 1
    assert "Nothing to resume" in capsys.readouterr().err
    base = ["train", "--simulate", "2", "--hours", "1", "--preset", "lite", "--max-epochs", "1"]
    base += ["--batch-size", "8", "-o", output]
    assert main(base) == 0
    # The model file is ours: a rerun replaces it only when asked to.
    assert main(base) == 1
    assert "exists; pass overwrite=True (--overwrite" in capsys.readouterr().err
    assert main([*base, "--seed", "5", "--resume", "--overwrite"]) == 1
    assert "other settings (seed 0 -> 5)" in capsys.readouterr().err
    assert main([*base, "--batch-size", "16", "--resume", "--overwrite"]) == 1
    assert "other settings (batch_size 8 -> 16)" in capsys.readouterr().err
    # Resuming a finished training trains nothing more and writes the same model.
    before = SSCSleepClassifier.load(output)
    assert main([*base, "--resume", "--overwrite"]) == 0
    after = SSCSleepClassifier.load(output)
    assert before.history.to_list() == after.history.to_list()
    for key, value in before.module_.state_dict().items():
        assert torch.equal(value, after.module_.state_dict()[key]), key


@pytest.mark.slow
def test_train_the_paper_preset_from_the_command_line(tmp_path, capsys):
    output = tmp_path / "paper.sscsleep"
    args = ["train", "--simulate", "2", "--hours", "1.5", "--max-epochs", "1", "-o", str(output)]
    assert main(args) == 0
    assert main(["info", str(output)]) == 0
    out = capsys.readouterr().out
    assert "preset:         paper" in out and "network:        SSCSleepNet, 4,4" in out
