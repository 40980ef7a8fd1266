"""Command line: ``mne-sscsleep`` (also ``python -m mne_sscsleep``)."""

from __future__ import annotations

import argparse
import sys
import time


def _demo(args):
    import numpy as np

    from . import SSCSleepClassifier
    from .datasets import simulate_sleep_epochs
    from .metrics import sleep_report

    n_nights = args.subjects
    print(
        f"Simulating {n_nights} nights of {args.hours:g} h of Fpz-Cz sleep EEG (simulated data, "
        "for demonstration only) ...",
        flush=True,
    )
    start = time.perf_counter()
    epochs, y, groups = simulate_sleep_epochs(
        n_nights, hours=args.hours, random_state=args.seed, verbose="error"
    )
    print(f"  {len(y)} epochs in {time.perf_counter() - start:.1f} s", flush=True)
    held_out = groups == n_nights - 1
    train, test = np.flatnonzero(~held_out), np.flatnonzero(held_out)
    print(
        f"Training SSC-SleepNet on {n_nights - 1} nights ({len(train)} epochs), at most "
        f"{args.max_epochs} passes with early stopping ...",
        flush=True,
    )
    clf = SSCSleepClassifier(max_epochs=args.max_epochs, random_state=args.seed, verbose=1)
    start = time.perf_counter()
    clf.fit(epochs[train], y[train])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = clf.predict(epochs[test])
    stage_seconds = time.perf_counter() - start
    print(
        f"\nTrained in {fit_seconds:.1f} s; staged the held-out night ({len(test)} epochs) in "
        f"{stage_seconds:.2f} s.\n\nHeld-out night (a subject never seen in training):"
    )
    print(sleep_report(y[test], predicted))
    hypnogram = "".join(
        {"W": "W", "N1": "1", "N2": "2", "N3": "3", "R": "R"}[s] for s in predicted
    )
    print("\nPredicted hypnogram (one character per 30 s, 120 per hour):")
    for hour in range(0, len(hypnogram), 120):
        print("  " + hypnogram[hour : hour + 120])
    return 0


def build_parser():
    """Argument parser of the ``mne-sscsleep`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="mne-sscsleep",
        description="SSC-SleepNet automatic sleep staging (W, N1, N2, N3, R) of single-channel "
        "EEG.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="simulate nights, train, stage a held-out night and print the sleep report",
        description="Simulate nights of sleep EEG, train SSC-SleepNet on all but one, stage the "
        "held-out night and print its sleep report. Runs in ~2 minutes on 2 CPU cores.",
    )
    demo.add_argument("--subjects", type=int, default=5, help="nights to simulate (default 5)")
    demo.add_argument("--hours", type=float, default=8.0, help="hours per night (default 8)")
    demo.add_argument("--max-epochs", type=int, default=15, help="training passes (default 15)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str | None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    code : int
        Exit status.
    """
    args = build_parser().parse_args(argv)
    if getattr(args, "subjects", 2) < 2:
        print(
            "mne-sscsleep: error: --subjects must be at least 2 (train + held out)",
            file=sys.stderr,
        )
        return 2
    return args.handler(args)
