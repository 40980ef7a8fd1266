"""Peak memory of staging long and fast recordings (issue 24: "any rate, any length").

Writes EDF files of one EEG channel (random EEG-like noise: the figure of interest is memory,
not stages), then stages each in a fresh process with a small lite model and prints the
resident memory of the process once the model and the (lazy) recording are open, and its peak
while staging (whole process, imports included; Linux's VmHWM)::

    python benchmarks/staging_memory.py                 # 48 h at 256 Hz, 1 h at 10 kHz
    python benchmarks/staging_memory.py --cases 8:100 48:256

The EDF files take ~90 MB (48 h at 256 Hz) and ~70 MB (1 h at 10 kHz) in a temporary folder.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import PEAK_MB, TINY, write_edf  # noqa: E402  (EDF writer, peak memory)

_STAGE = PEAK_MB + (
    "import sys, time, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "from mne_sscsleep import SSCSleepClassifier, stage\n"
    "from mne_sscsleep.staging import read_recording_file\n"
    "model = SSCSleepClassifier.load(sys.argv[1])\n"
    "raw = read_recording_file(sys.argv[2])\n"
    "before = peak_mb(reset=True)\n"
    "start = time.perf_counter()\n"
    "hypnogram = stage(model, raw)\n"
    "seconds = time.perf_counter() - start\n"
    "print(len(hypnogram), before, peak_mb(), round(seconds, 1))\n"
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", nargs="+", default=["48:256", "1:10000"], help="HOURS:SFREQ pairs"
    )
    args = parser.parse_args()
    from mne_sscsleep import SSCSleepClassifier
    from mne_sscsleep.datasets import simulate_sleep_epochs

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        epochs, y, _ = simulate_sleep_epochs(2, hours=1.0, random_state=0, verbose="error")
        model = SSCSleepClassifier(**TINY).fit(epochs, y).save(folder / "m.sscsleep")
        print(
            "| recording | channel at its rate (MB, float64) | epochs | RSS before (MB) | "
            "peak RSS while staging (MB) | seconds |"
        )
        print("|---|---|---|---|---|---|")
        rng = np.random.default_rng(0)
        for case in args.cases:
            hours, sfreq = map(float, case.split(":"))
            n = int(hours * 3600 * sfreq)
            path = folder / f"{hours:g}h_{sfreq:g}Hz.edf"
            # Written a piece at a time: the benchmark process never holds the whole signal.
            write_edf(path, {"EEG Fpz-Cz": (_LazyNoise(n, rng), sfreq)}, physical=(-500, 500))
            result = subprocess.run(
                [sys.executable, "-c", _STAGE, str(model), str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            n_epochs, before, peak, seconds = result.stdout.split()
            print(
                f"| {hours:g} h at {sfreq:g} Hz | {n * 8 / 2**20:,.0f} | {n_epochs} | {before} | "
                f"{peak} | {seconds} |"
            )
            path.unlink()


class _LazyNoise:
    """EEG-like noise generated on slicing, so that writing a long file stays light."""

    def __init__(self, n, rng):
        self.n, self.rng = n, rng

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        start, stop, _ = index.indices(self.n)
        return self.rng.normal(0, 20e-6, stop - start)


if __name__ == "__main__":
    main()
