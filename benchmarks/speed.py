"""Speed and memory of the default SSCSleepClassifier, each against a reference timed in the run.

Prints:

1. training throughput (EEG epochs per second, a pair counting as two) of
   ``SSCSleepClassifier.fit`` (default augmentation, and without it) and of a bare PyTorch loop
   over the same ``nn.Module``, loss and optimiser (random pairs, no skorch, no augmentation):
   the ratio to the run without augmentation is the skorch + pair-sampling overhead. The three
   are timed in turn ``--repeats`` times and medians are reported, because a shared 2-core
   machine drifts by +-20 % from minute to minute;
2. the time to stage one 8-hour night (960 epochs) with ``stage()``, against YASA's
   ``SleepStaging`` on the same night (if yasa is installed; its first, JIT-compiling call is
   excluded);
3. the peak RSS of a fresh process fitting ``--rss-epochs`` epochs (default 40,000, the size of
   Sleep-EDF-20) for one pass, against the size of that input as float32.

Usage::

    python benchmarks/speed.py                   # ~5 min on 2 cores
    python benchmarks/speed.py --rss-epochs 10000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings

import numpy as np
import torch

from mne_sscsleep import AdaptiveLoss, SSCSleepClassifier, SSCSleepNet, stage
from mne_sscsleep.datasets import simulate_sleep_epochs, simulate_sleep_raw


def ours_throughput(data, y, passes, **params):
    clf = SSCSleepClassifier(
        max_epochs=passes, train_split=None, patience=None, random_state=0, verbose=0, **params
    )
    clf.fit(data, y)
    visited = sum(batch["train_batch_size"] for batch in clf.history[-1, "batches"])
    return visited / float(np.median(clf.history[:, "dur"])), clf


def bare_throughput(data, y, passes, batch_size=128):
    """The same module, loss and optimiser in a plain loop over random pairs."""
    torch.manual_seed(0)
    module, criterion = SSCSleepNet(), AdaptiveLoss()
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


def staging_times(clf, repeats=3):
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
    yasa_times = []
    for _ in range(repeats + 1):  # the first call compiles numba code: not counted
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yasa.SleepStaging(raw, eeg_name="EEG Fpz-Cz").predict()
        yasa_times.append(time.perf_counter() - start)
    return float(np.median(ours)), float(np.median(yasa_times[1:]))


_RSS_CHILD = """
import os, resource, sys, numpy as np
from mne_sscsleep import SSCSleepClassifier
def current_mb():
    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
n = int(sys.argv[1])
baseline = current_mb()  # interpreter, torch, mne
X = np.empty((n, 1, 3000), dtype=np.float32)  # filled in place: no float64 temporaries
np.random.default_rng(0).standard_normal(dtype=np.float32, out=X)
X *= 2e-5
y = np.resize(np.array(['W', 'N1', 'N2', 'N2', 'N3', 'R']), n)
SSCSleepClassifier(max_epochs=1, patience=None, random_state=0, verbose=0).fit(X, y)
print(baseline, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def fit_peak_rss(n_epochs):
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(n_epochs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nights", type=int, default=4, help="simulated 8-h training nights")
    parser.add_argument("--passes", type=int, default=2, help="training passes per timing")
    parser.add_argument("--repeats", type=int, default=3, help="timings of each kind")
    parser.add_argument("--rss-epochs", type=int, default=40_000)
    args = parser.parse_args(argv)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"CUDA {'available' if torch.cuda.is_available() else 'not available'}"
    )
    epochs, y, _ = simulate_sleep_epochs(args.nights, hours=8.0, random_state=0, verbose="error")
    data = epochs.get_data().astype(np.float32)

    no_augmentation = dict(augmentation=None)
    timings = {"ours": [], "ours_no_augmentation": [], "bare": []}
    for _ in range(args.repeats):  # interleaved, so that machine drift hits all three alike
        ours, clf = ours_throughput(data, y, args.passes)
        timings["ours"].append(ours)
        timings["ours_no_augmentation"].append(
            ours_throughput(data, y, args.passes, **no_augmentation)[0]
        )
        timings["bare"].append(bare_throughput(data, y, args.passes))
    ours, plain, bare = (float(np.median(timings[key])) for key in timings)
    spread = ", ".join(f"{key} {min(v):.0f}-{max(v):.0f}" for key, v in timings.items())
    print(
        f"training ({len(data)} epochs, median of {args.repeats}): {ours:.0f} epochs/s "
        f"(SSCSleepClassifier.fit, default augmentation; target >= 800); {plain:.0f} epochs/s "
        f"without augmentation; bare PyTorch loop {bare:.0f} epochs/s; skorch + pair-sampling "
        f"overhead {bare / plain - 1:+.0%} (target <= +10%), with augmentation "
        f"{bare / ours - 1:+.0%} [range: {spread}]"
    )

    ours_stage, yasa_stage = staging_times(clf)
    line = f"staging one 8-h night (960 epochs): {ours_stage:.2f} s (target < 1 s)"
    if yasa_stage is not None:
        line += f"; YASA {yasa_stage:.2f} s; {yasa_stage / ours_stage:.1f}x faster (target >= 5x)"
    print(line)

    baseline_mb, peak_mb = fit_peak_rss(args.rss_epochs)
    input_mb = args.rss_epochs * 3000 * 4 / 2**20
    extra = peak_mb - baseline_mb
    print(
        f"fitting {args.rss_epochs} epochs (one pass): peak RSS {peak_mb:.0f} MB, of which "
        f"{baseline_mb:.0f} MB is Python + torch + mne before any data; float32 input "
        f"{input_mb:.0f} MB; (peak - imports) / input = {extra / input_mb:.2f} (target < 2)"
    )


if __name__ == "__main__":
    main()
