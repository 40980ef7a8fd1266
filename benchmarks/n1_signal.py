"""Where should the N1 adaptation read its error: the validation split or the training batches?

With ``N1Adaptation(on='valid')`` the N1 penalty and early stopping both tune on the same
held-out validation epochs; with ``on='train'`` the adaptation reads the N1 error of the
training batches instead, leaving the validation epochs to early stopping alone. This script
measures both on simulated nights, subject-wise: the held-out subjects' macro-F1, N1-F1 and
kappa, and how optimistic the best validation macro-F1 is about the held-out macro-F1.

SIMULATED data: the numbers compare the two settings, they say nothing about real sleep.

Usage::

    python benchmarks/n1_signal.py                  # 6 nights x 3 h, 3 folds x 3 seeds, ~4 min
    python benchmarks/n1_signal.py --seeds 1 --folds 2
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.model_selection import GroupKFold

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import simulate_sleep_epochs
from mne_sscsleep.metrics import sleep_report


def run(on, data, y, train, test, seed, args):
    clf = SSCSleepClassifier(
        preset="lite",  # the N1 adaptation is the lite preset's
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        patience=4,
        random_state=seed,
        verbose=0,
        callbacks__n1_adaptation__on=on,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        clf.fit(data[train], y[train])
    report = sleep_report(y[test], clf.predict(data[test]))
    best_valid = float(np.max(clf.history[:, "valid_macro_f1"]))
    return {
        "macro_f1": report.macro_f1,
        "n1_f1": report.n1_f1,
        "kappa": report.kappa,
        "optimism": best_valid - report.macro_f1,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nights", type=int, default=6, help="simulated nights (one each)")
    parser.add_argument("--hours", type=float, default=3.0, help="hours per night")
    parser.add_argument("--folds", type=int, default=3, help="subject-wise folds")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds per fold")
    parser.add_argument("--max-epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64, help="pairs per training batch")
    args = parser.parse_args(argv)
    epochs, y, groups = simulate_sleep_epochs(
        args.nights, hours=args.hours, random_state=0, verbose="error"
    )
    data = epochs.get_data().astype(np.float32)
    results = {"valid": [], "train": []}
    start = time.perf_counter()
    for train, test in GroupKFold(args.folds).split(data, y, groups):
        for seed in range(args.seeds):
            for on in results:  # interleaved: both settings see the same folds and seeds
                results[on].append(run(on, data, y, train, test, seed, args))
    print(
        f"SIMULATED data: {args.nights} nights x {args.hours:g} h, {args.folds} subject-wise "
        f"folds x {args.seeds} seeds ({time.perf_counter() - start:.0f} s)"
    )
    print("N1Adaptation(on=...)  held-out macro-F1   N1-F1           kappa           optimism")
    for on, runs in results.items():
        cells = []
        for key in ("macro_f1", "n1_f1", "kappa", "optimism"):
            values = np.array([run[key] for run in runs])
            cells.append(f"{values.mean():+.3f} ± {values.std():.3f}".lstrip("+"))
        print(f"{on:<21} " + "   ".join(f"{cell:<15}" for cell in cells))
    print(
        "optimism: best validation macro-F1 minus held-out macro-F1 (mean ± sd over "
        f"{len(results['valid'])} runs)"
    )
    return results


if __name__ == "__main__":
    main()
