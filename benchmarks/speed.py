"""Speed and memory of both presets of SSCSleepClassifier, each against a reference in the run.

Prints, for ``preset='lite'`` and ``preset='paper'`` in the same run:

1. training throughput (EEG epochs per second, a pair counting as two) of
   ``SSCSleepClassifier.fit``; for the lite preset also without augmentation and a bare PyTorch
   loop over the same ``nn.Module``, loss and optimiser (random pairs, no skorch): the ratio is
   the skorch + pair-sampling overhead. Timings are interleaved ``--repeats`` times and medians
   are reported, because a shared 2-core machine drifts by +-20 % from minute to minute. The
   paper preset trains on the first ``--paper-epochs`` epochs only (its network takes ~130
   times more multiply-adds);
2. the time to stage one 8-hour night (960 epochs) with ``stage()``, against YASA's
   ``SleepStaging`` on the same night (if yasa is installed; its first, JIT-compiling call is
   excluded);
3. the peak RSS of a fresh process fitting ``--rss-epochs`` epochs for one pass (the lite
   preset; ``--paper-rss-epochs`` for the paper preset), against that input as float32;
4. on a CUDA GPU (if one is visible), the paper preset's training throughput in float32 and
   with ``amp='bf16'`` (mixed precision); without a GPU it says it measured none.

Usage::

    python benchmarks/speed.py                   # ~10 min on 2 cores
    python benchmarks/speed.py --rss-epochs 10000 --paper-epochs 256
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings

import numpy as np
import torch

from mne_sscsleep import AdaptiveLoss, SSCSleepClassifier, stage
from mne_sscsleep.datasets import simulate_sleep_epochs, simulate_sleep_raw
from mne_sscsleep.nn import SSCSleepNetLite
from mne_sscsleep.training import get_preset

#: The figures are those of the single-epoch networks, one pass over the data each (the lite
#: preset's defaults add context 2 and a floor of 50 batches a pass; see the user guide).
SINGLE_EPOCH = dict(context=0, iterator_train__min_batches=None)


def ours_throughput(data, y, passes, **params):
    clf = SSCSleepClassifier(
        max_epochs=passes,
        train_split=None,
        patience=None,
        random_state=0,
        verbose=0,
        **{**SINGLE_EPOCH, **params},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # short slices may miss a stage
        clf.fit(data, y)
    visited = sum(batch["train_batch_size"] for batch in clf.history[-1, "batches"])
    return visited / float(np.median(clf.history[:, "dur"])), clf


def bare_throughput(data, y, passes, batch_size=128):
    """The lite module, loss and optimiser in a plain loop over random pairs."""
    torch.manual_seed(0)
    module = SSCSleepNetLite()
    criterion = AdaptiveLoss(**get_preset("lite").criterion_params)
    criterion.set_class_counts(np.bincount(_indices(y), minlength=5))
    optimizer = torch.optim.AdamW(module.parameters(), lr=2e-3)
    X = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))  # volts, as fit sees it
    target = torch.from_numpy(_indices(y))
    durations = []
    for _ in range(passes):
        order = torch.randperm(len(X))
        start = time.perf_counter()
        for first in range(0, len(X), batch_size):
            rows = order[first : first + batch_size]
            optimizer.zero_grad()
            loss = criterion(module(X[rows]), target[rows], paired=True)
            loss.backward()
            optimizer.step()
        durations.append(time.perf_counter() - start)
    return len(X) / float(np.median(durations))


def _indices(y):
    from mne_sscsleep import stage_indices

    return stage_indices(y)


def staging_times(clf, repeats=3, compare_yasa=True):
    raw = simulate_sleep_raw(hours=8.0, random_state=1, verbose="error")
    ours = []
    for _ in range(repeats):
        start = time.perf_counter()
        stage(clf, raw)
        ours.append(time.perf_counter() - start)
    try:
        import yasa
    except ImportError:
        return float(np.median(ours)), None
    if not compare_yasa:
        return float(np.median(ours)), None
    yasa_times = []
    for _ in range(repeats + 1):  # the first call compiles numba code: not counted
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yasa.SleepStaging(raw, eeg_name="EEG Fpz-Cz").predict()
        yasa_times.append(time.perf_counter() - start)
    return float(np.median(ours)), float(np.median(yasa_times[1:]))


_RSS_CHILD = """
import os, resource, sys, warnings, numpy as np
from mne_sscsleep import SSCSleepClassifier
warnings.simplefilter("ignore")
def current_mb():
    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
n, preset = int(sys.argv[1]), sys.argv[2]
baseline = current_mb()  # interpreter, torch, mne
X = np.empty((n, 1, 3000), dtype=np.float32)  # filled in place: no float64 temporaries
np.random.default_rng(0).standard_normal(dtype=np.float32, out=X)
X *= 2e-5
y = np.resize(np.array(['W', 'N1', 'N2', 'N2', 'N3', 'R']), n)
SSCSleepClassifier(
    preset=preset, context=0, iterator_train__min_batches=None, max_epochs=1, patience=None,
    random_state=0, verbose=0,
).fit(X, y)
try:  # this process's own high-water mark: ru_maxrss would keep the parent's across exec
    status = open('/proc/self/status').read()
    peak = int(status.split('VmHWM:')[1].split()[0]) / 1024
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(baseline, peak)
"""


def fit_peak_rss(n_epochs, preset):
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(n_epochs), preset],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def _rss_line(preset, n_epochs):
    baseline_mb, peak_mb = fit_peak_rss(n_epochs, preset)
    input_mb = n_epochs * 3000 * 4 / 2**20
    return (
        f"[{preset}] fitting {n_epochs} epochs (one pass): peak RSS {peak_mb:.0f} MB, of which "
        f"{baseline_mb:.0f} MB is Python + torch + mne before any data; float32 input "
        f"{input_mb:.0f} MB; (peak - imports) / input = {(peak_mb - baseline_mb) / input_mb:.2f}"
        + (
            " (target < 2)"
            if preset == "lite"
            else " (mostly the activations of one training batch of 256 epochs, which do not grow"
            " with the data: 1,000 and 4,000 epochs peaked at 4.7 and 5.2 GB)"
        )
    )


def gpu_lines(data, y, passes):
    if not torch.cuda.is_available():
        return ["no CUDA GPU visible: mixed precision (amp='bf16') not measured on a GPU"]
    lines = [f"GPU: {torch.cuda.get_device_name()}"]
    for amp in (None, "bf16"):
        speed, _ = ours_throughput(data, y, passes, preset="paper", device="cuda", amp=amp)
        lines.append(f"[paper] training on the GPU, amp={amp!r}: {speed:.0f} epochs/s")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nights", type=int, default=4, help="simulated 8-h training nights")
    parser.add_argument("--passes", type=int, default=2, help="training passes per timing")
    parser.add_argument("--repeats", type=int, default=3, help="timings of each kind")
    parser.add_argument("--paper-epochs", type=int, default=512, help="paper training epochs")
    parser.add_argument("--rss-epochs", type=int, default=40_000)
    parser.add_argument("--paper-rss-epochs", type=int, default=4_000)
    args = parser.parse_args(argv)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"CUDA {'available' if torch.cuda.is_available() else 'not available'}"
    )
    epochs, y, _ = simulate_sleep_epochs(args.nights, hours=8.0, random_state=0, verbose="error")
    data = epochs.get_data().astype(np.float32)
    # A random subset (all stages) for the paper preset's shorter run.
    paper_rows = np.sort(np.random.default_rng(0).choice(len(y), args.paper_epochs, False))

    timings = {"lite": [], "lite_no_augmentation": [], "bare": [], "paper": []}
    models = {}
    for _ in range(args.repeats):  # interleaved, so that machine drift hits all alike
        speed, models["lite"] = ours_throughput(data, y, args.passes, preset="lite")
        timings["lite"].append(speed)
        timings["lite_no_augmentation"].append(
            ours_throughput(data, y, args.passes, preset="lite", augmentation=None)[0]
        )
        timings["bare"].append(bare_throughput(data, y, args.passes))
        speed, models["paper"] = ours_throughput(
            data[paper_rows], y[paper_rows], args.passes, preset="paper"
        )
        timings["paper"].append(speed)
    lite, plain, bare, paper = (float(np.median(timings[key])) for key in timings)
    spread = ", ".join(f"{key} {min(v):.0f}-{max(v):.0f}" for key, v in timings.items())
    print(
        f"[lite] training ({len(data)} epochs, median of {args.repeats}): {lite:.0f} epochs/s "
        f"(default augmentation; target >= 800); {plain:.0f} epochs/s without augmentation; "
        f"bare PyTorch loop {bare:.0f} epochs/s; skorch + pair-sampling overhead "
        f"{bare / plain - 1:+.0%} (target <= +10%), with augmentation {bare / lite - 1:+.0%}"
    )
    print(
        f"[paper] training ({args.paper_epochs} epochs, median of {args.repeats}): "
        f"{paper:.0f} epochs/s ({lite / paper:.0f}x slower than lite) [range: {spread}]"
    )
    for preset in ("lite", "paper"):
        ours_stage, yasa_stage = staging_times(models[preset], compare_yasa=preset == "lite")
        line = f"[{preset}] staging one 8-h night (960 epochs): {ours_stage:.2f} s"
        if preset == "lite":
            line += " (target < 1 s)"
        if yasa_stage is not None:
            line += f"; YASA {yasa_stage:.2f} s; {yasa_stage / ours_stage:.1f}x faster"
        print(line)
    print(_rss_line("lite", args.rss_epochs))
    print(_rss_line("paper", args.paper_rss_epochs))
    for line in gpu_lines(data[paper_rows], y[paper_rows], args.passes):
        print(line)


if __name__ == "__main__":
    main()
