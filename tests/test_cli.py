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
