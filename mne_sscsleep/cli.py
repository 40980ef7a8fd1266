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


def _find_recordings(directory):
    """(recording, hypnogram or None) pairs of the EDF files in ``directory``.

    Sleep-EDF keeps the hypnogram of ``SC4001E0-PSG.edf`` in ``SC4001EC-Hypnogram.edf``: files
    whose names share the first six characters and contain 'hypnogram' are paired. Other EDF
    files must carry their sleep-stage annotations themselves (EDF+).
    """
    from pathlib import Path

    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"No folder at {str(directory)!r}.")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".edf", ".bdf"))
    hypnograms = [p for p in files if "hypnogram" in p.name.lower()]
    recordings = [p for p in files if p not in hypnograms]
    if not recordings:
        raise FileNotFoundError(f"No EDF recordings in {str(directory)!r}.")
    pairs = []
    for recording in recordings:
        match = [h for h in hypnograms if h.name[:6].lower() == recording.name[:6].lower()]
        pairs.append((recording, match[0] if match else None))
    return pairs


def _load_training_data(args):
    import mne
    import numpy as np
    from tqdm import tqdm

    from .datasets import epochs_from_raw, simulate_sleep_epochs

    if args.data is None:
        print(f"Simulating {args.simulate} nights of {args.hours:g} h (simulated data) ...")
        epochs, y, _ = simulate_sleep_epochs(
            args.simulate, hours=args.hours, random_state=args.seed, verbose="error"
        )
        return epochs.get_data(), y, "EEG Fpz-Cz"
    data, labels = [], []
    for recording, hypnogram in tqdm(_find_recordings(args.data), desc="Reading recordings"):
        raw = mne.io.read_raw(recording, preload=False, verbose="error")
        if hypnogram is not None:
            raw.set_annotations(mne.read_annotations(hypnogram), verbose="error")
        epochs, y = epochs_from_raw(
            raw, picks=args.channel, trim_wake=args.trim_wake, verbose="error"
        )
        data.append(epochs.get_data())
        labels.append(y)
    return np.concatenate(data), np.concatenate(labels), args.channel


def _train(args):
    import mne
    import numpy as np

    from . import SSCSleepClassifier
    from .metrics import sleep_report

    data, y, ch_name = _load_training_data(args)
    counts = ", ".join(f"{stage} {np.sum(y == stage)}" for stage in ("W", "N1", "N2", "N3", "R"))
    print(f"{len(y)} labelled epochs ({counts}); training up to {args.max_epochs} passes ...")
    # One EpochsArray of all recordings, so the model records the channel it learnt.
    epochs = mne.EpochsArray(
        data, mne.create_info([ch_name], 100.0, "eeg"), tmin=0.0, verbose="error"
    )
    clf = SSCSleepClassifier(max_epochs=args.max_epochs, random_state=args.seed, verbose=1)
    start = time.perf_counter()
    clf.fit(epochs, y)
    print(f"Trained in {time.perf_counter() - start:.1f} s.")
    report = sleep_report(y, clf.predict(epochs))
    print(
        f"On its own training data (optimistic; judge on held-out nights): macro-F1 "
        f"{report.macro_f1:.3f}, N1-F1 {report.n1_f1:.3f}, kappa {report.kappa:.3f}."
    )
    path = clf.save(args.output)
    print(f"Model written to {path}")
    return 0


def _stage(args):
    import mne

    from . import SSCSleepClassifier, stage

    model = SSCSleepClassifier.load(args.model)
    start = time.perf_counter()
    raw = mne.io.read_raw(args.recording, preload=False, verbose="error")
    # stage() checks the channel and lists the available ones if it is missing.
    hypnogram = stage(model, raw, picks=args.channel or model.ch_name_, verbose="error")
    hypnogram.save(args.output, raw, overwrite=True)
    print(f"{hypnogram!r}\nHypnogram written to {args.output}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from .viz import plot_hypnogram

        plot_hypnogram(hypnogram).savefig(args.plot, dpi=120)
        print(f"Plot written to {args.plot}")
    print(f"Staged in {time.perf_counter() - start:.1f} s.")
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

    train = commands.add_parser(
        "train",
        help="train a model on EDF recordings with hypnograms (or simulated nights)",
        description="Train SSC-SleepNet and write a model file. --data takes a folder of EDF "
        "recordings whose sleep stages are EDF+ annotations or Sleep-EDF style hypnogram files "
        "(SC4001E0-PSG.edf + SC4001EC-Hypnogram.edf); without --data it trains on simulated "
        "nights.",
    )
    train.add_argument("--data", help="folder of EDF recordings (and hypnograms)")
    train.add_argument("--channel", default="EEG Fpz-Cz", help="EEG channel (default Fpz-Cz)")
    train.add_argument("--simulate", type=int, default=5, help="simulated nights without --data")
    train.add_argument("--hours", type=float, default=8.0, help="hours per simulated night")
    train.add_argument(
        "--trim-wake",
        type=float,
        default=30.0,
        help="minutes of wake kept around sleep (default 30)",
    )
    train.add_argument("--max-epochs", type=int, default=20, help="training passes (default 20)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("-o", "--output", default="model.sscsleep", help="model file to write")
    train.set_defaults(handler=_train)

    stage = commands.add_parser(
        "stage",
        help="stage a recording into a hypnogram file (TSV, CSV or EDF+) and plot",
        description="Stage an EEG recording (any format MNE reads) with a trained model.",
    )
    stage.add_argument("recording", help="the recording, e.g. night.edf")
    stage.add_argument("--model", required=True, help="model file from `mne-sscsleep train`")
    stage.add_argument("--channel", help="EEG channel (default: the one the model learnt)")
    stage.add_argument(
        "-o",
        "--output",
        default="hypnogram.tsv",
        help="hypnogram file: .tsv, .csv or .edf (default hypnogram.tsv)",
    )
    stage.add_argument("--plot", help="also save a hypnogram figure (e.g. hypnogram.png)")
    stage.set_defaults(handler=_stage)
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
    try:
        return args.handler(args)
    except (FileNotFoundError, FileExistsError, ValueError, TypeError, ImportError) as error:
        print(f"mne-sscsleep: error: {error}", file=sys.stderr)
        return 1
