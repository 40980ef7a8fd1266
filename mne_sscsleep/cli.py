"""Command line: ``mne-sscsleep`` (also ``python -m mne_sscsleep``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._stages import DEFAULT_SFREQ, STAGES
from ._version import __version__


def _demo(args):
    import numpy as np

    from . import SSCSleepClassifier
    from .datasets import simulate_sleep_epochs
    from .metrics import sleep_report

    SSCSleepClassifier(device=args.device).check_device()
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
        f"Training SSC-SleepNet ({args.preset} preset) on {n_nights - 1} nights ({len(train)} "
        f"epochs), at most {args.max_epochs} passes with early stopping ...",
        flush=True,
    )
    clf = _classifier(args)
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


def _context(value):
    if value == "auto":
        return value
    try:
        context = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a whole number of epochs, got {value!r}"
        ) from None
    if context < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {context}")
    return context


def _add_context_argument(parser):
    parser.add_argument(
        "--context",
        type=_context,
        default="auto",
        help="neighbouring 30-s epochs on each side that each epoch is classified with "
        "(default 'auto': the preset's, 2 for lite, 0 for the paper's single-epoch model)",
    )


def _training_data(args):
    from .datasets import load_edf_folder, simulate_sleep_epochs

    if args.data is None:
        print(f"Simulating {args.simulate} nights of {args.hours:g} h (simulated data) ...")
        epochs, y, _ = simulate_sleep_epochs(
            args.simulate,
            hours=args.hours,
            sfreq=args.sfreq,
            random_state=args.seed,
            verbose="error",
        )
        return epochs, y
    epochs, y, _ = load_edf_folder(
        args.data,
        args.channel,
        sfreq=args.sfreq,
        trim_wake=args.trim_wake,
        stage_map=args.stage_map,
    )
    return epochs, y


def _settings(args):
    """What must not change between an interrupted training and its resumption."""
    return {
        "data": None if args.data is None else str(Path(args.data).resolve()),
        "channel": args.channel,
        "sfreq": args.sfreq,
        "trim_wake": args.trim_wake,
        "stage_map": args.stage_map and {str(k): v for k, v in args.stage_map.items()},
        "simulate": args.simulate if args.data is None else None,
        "hours": args.hours if args.data is None else None,
        "seed": args.seed,
        "preset": args.preset,
        "context": args.context,
        "batch_size": args.batch_size,
        "pretrained": None if args.pretrained is None else str(args.pretrained),
    }


def _train(args):
    from ._check import check_output_file
    from .io import is_model_file
    from .metrics import sleep_report
    from .training import fit_resumable

    # Everything that can be checked is checked before hours of training.
    output = check_output_file(
        args.output, "model file", overwrite=args.overwrite, is_ours=is_model_file
    )
    if args.data is not None and not Path(args.data).expanduser().is_dir():
        raise FileNotFoundError(
            f"--data {args.data!r} is not a folder; give the folder of EDF recordings."
        )
    folder = Path(args.checkpoint_dir or output.with_suffix(".checkpoints"))
    clf = _classifier(args, sfreq=args.sfreq)
    clf.check_device()
    epochs, y = _training_data(args)
    counts = ", ".join(f"{stage} {(y == stage).sum()}" for stage in STAGES)
    print(f"{len(y)} labelled epochs ({counts}); training up to {args.max_epochs} passes ...")
    if args.resume:
        print(f"Resuming from the checkpoints in {folder}.")
    start = time.perf_counter()
    fit_resumable(clf, epochs, y, folder=folder, resume=args.resume, settings=_settings(args))
    print(f"Trained in {time.perf_counter() - start:.1f} s.")
    report = sleep_report(y, clf.predict(epochs))
    print(
        f"On its own training data (optimistic; judge on held-out nights): macro-F1 "
        f"{report.macro_f1:.3f}, N1-F1 {report.n1_f1:.3f}, kappa {report.kappa:.3f}."
    )
    path = clf.save(output, overwrite=args.overwrite)
    print(f"Model written to {path} (checkpoints in {folder}).")
    return 0


def _stage(args):
    import glob

    from . import SSCSleepClassifier, stage
    from ._check import check_output_file
    from .hypnogram import HYPNOGRAM_SUFFIXES, is_hypnogram_file
    from .staging import read_recording_file
    from .viz import FIGURE_SUFFIXES, is_figure_file

    first = args.recording[0]
    if args.out_dir or len(args.recording) > 1 or Path(first).is_dir() or glob.has_magic(first):
        return _stage_batch(args)
    recording = first
    output = args.output or "hypnogram.tsv"
    # Cheap checks first: a bad output name should not cost a model load and a night's staging.
    check_output_file(
        output,
        "hypnogram",
        suffixes=HYPNOGRAM_SUFFIXES,
        overwrite=args.overwrite,
        is_ours=is_hypnogram_file,
        inputs=[recording],
    )
    if args.plot:
        check_output_file(
            args.plot,
            "plot",
            suffixes=FIGURE_SUFFIXES,
            overwrite=args.overwrite,
            is_ours=is_figure_file,
            inputs=[recording, output],
        )
    raw = read_recording_file(recording)
    model = SSCSleepClassifier.load(args.model, device=args.device)
    start = time.perf_counter()
    # stage() takes the model's channel when the recording has it, and lists the channels
    # when it cannot choose.
    hypnogram = stage(
        model,
        raw,
        picks=args.channel,
        min_confidence=args.min_confidence,
        verbose="error",
    )
    hypnogram.save(output, raw, overwrite=args.overwrite)
    print(f"{hypnogram!r}\nHypnogram written to {output}")
    if hypnogram.bad.any():
        print(f"{hypnogram.bad.sum()} epochs could not be scored: staged '?' (see 'reason').")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from .viz import plot_hypnogram, save_figure

        save_figure(plot_hypnogram(hypnogram), args.plot, overwrite=args.overwrite)
        print(f"Plot written to {args.plot}")
    print(f"Staged in {time.perf_counter() - start:.1f} s.")
    return 0


def _stage_batch(args):
    from .batch import stage_many

    if args.output is not None or args.plot:
        raise ValueError(
            "Several recordings are staged into a folder: give --out-dir DIR (one hypnogram per "
            "recording, plus summary.tsv) instead of -o/--plot."
        )
    out_dir = args.out_dir or "hypnograms"
    summary = stage_many(
        args.model,
        args.recording,
        out_dir,
        fmt=args.format,
        picks=args.channel,
        min_confidence=args.min_confidence,
        jobs=args.jobs,
        overwrite=args.overwrite,
        device=args.device,
        progress=sys.stderr.isatty(),
    )
    columns = [c for c in ("recording", "status", "TST", "SE (%)", "SOL", "WASO") if c in summary]
    table = summary[columns].copy()
    table["recording"] = [Path(name).name for name in table["recording"]]
    print(table.to_string(index=False, float_format=lambda value: f"{value:.1f}"))
    counts = summary["status"].value_counts()
    print(
        f"{counts.get('staged', 0)} staged, {counts.get('skipped', 0)} skipped (hypnogram "
        f"exists; --overwrite to redo), {counts.get('failed', 0)} failed. Hypnograms and "
        f"summary.tsv in {out_dir}"
    )
    failed = summary[summary["status"] == "failed"]
    for name, error in zip(failed["recording"], failed["error"]):
        print(f"mne-sscsleep: failed: {name}: {error}", file=sys.stderr)
    return 1 if len(failed) else 0


def _store_build(args):
    from .datasets import EpochStore

    store = EpochStore.from_edf_folder(
        args.output,
        args.data,
        args.channel,
        sfreq=args.sfreq,
        trim_wake=args.trim_wake,
        dtype=args.dtype,
        stage_map=args.stage_map,
        on_error="warn",
        progress=sys.stderr.isatty(),
    )
    print(store)
    return 0


def _store_info(args):
    import numpy as np

    from .datasets import EpochStore

    store = EpochStore.open(args.store)
    print(store)
    if len(store):
        counts = np.bincount(store.y, minlength=len(STAGES))
        print("epochs per stage: " + ", ".join(f"{s} {n}" for s, n in zip(STAGES, counts)))
    return 0


def _info(args):
    from .io import format_model_info, model_info

    print(format_model_info(model_info(args.model)))
    return 0


def build_parser():
    """Argument parser of the ``mne-sscsleep`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with subcommands ``demo``, ``train``, ``stage`` and ``info``.

    Examples
    --------
    >>> build_parser().parse_args(["info", "model.sscsleep"]).model
    'model.sscsleep'
    """
    parser = argparse.ArgumentParser(
        prog="mne-sscsleep",
        description="SSC-SleepNet automatic sleep staging (W, N1, N2, N3, R) of single-channel "
        "EEG.",
    )
    parser.add_argument("--version", action="version", version=f"mne-sscsleep {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="simulate nights, train, stage a held-out night and print the sleep report",
        description="Simulate nights of sleep EEG, train SSC-SleepNet on all but one, stage the "
        "held-out night and print its sleep report. With the lite preset (the default here) "
        "it runs in about a minute on 2 CPU cores.",
    )
    demo.add_argument(
        "--subjects", type=_at_least(2), default=5, help="nights to simulate (default 5)"
    )
    demo.add_argument("--hours", type=_positive, default=8.0, help="hours per night (default 8)")
    _add_training_arguments(
        demo,
        max_epochs=15,
        preset="lite",
        preset_help="network and training preset (default lite: the paper's network takes "
        "~100x longer to train on a CPU)",
    )
    demo.set_defaults(handler=_demo)

    train = commands.add_parser(
        "train",
        help="train a model on EDF recordings with hypnograms (or simulated nights)",
        description="Train SSC-SleepNet and write a model file. --data takes a folder of EDF "
        "recordings whose sleep stages are EDF+ annotations, Sleep-EDF style hypnogram files "
        "(SC4001E0-PSG.edf + SC4001EC-Hypnogram.edf) or per-epoch stage files beside them "
        "(night1.edf + night1.csv/.tsv/.txt: one stage per 30 s, W/N1/N2/N3/R, '?' for "
        "unscored, or a table with a 'stage' column); without --data it trains on simulated "
        "nights. Every epoch is checkpointed, so an interrupted training continues with "
        "--resume (same arguments) and ends as the uninterrupted one would.",
    )
    train.add_argument("--data", help="folder of EDF recordings (and hypnograms)")
    train.add_argument(
        "--channel", help="EEG channel (default: the only EEG channel of each recording)"
    )
    train.add_argument(
        "--sfreq",
        type=float,
        default=DEFAULT_SFREQ,
        help=f"sampling rate of the model in Hz; recordings are resampled (default "
        f"{DEFAULT_SFREQ:g})",
    )
    train.add_argument(
        "--simulate", type=_at_least(2), default=5, help="simulated nights without --data"
    )
    train.add_argument("--hours", type=_positive, default=8.0, help="hours per simulated night")
    train.add_argument(
        "--trim-wake",
        type=float,
        default=30.0,
        help="minutes of wake kept around sleep (default 30)",
    )
    _add_training_arguments(
        train,
        max_epochs=20,
        preset="paper",
        preset_help="paper: SSC-SleepNet as the paper specifies it (default; a GPU helps); "
        "lite: the fast CPU design",
    )
    train.add_argument("-o", "--output", default="model.sscsleep", help="model file to write")
    train.add_argument(
        "--checkpoint-dir",
        help="folder of the per-epoch checkpoints (default: the output's name + .checkpoints)",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted training from its last checkpoint",
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the model file if it exists (only a model file is ever replaced)",
    )
    _add_stage_map_argument(train)
    train.set_defaults(handler=_train)

    stage = commands.add_parser(
        "stage",
        help="stage a recording into a hypnogram file (TSV, CSV or EDF+) and plot",
        description="Stage EEG recordings (any format MNE reads) with a trained model. Epochs "
        "that cannot be scored (BAD_ annotations, flat or extreme signal) are staged '?'. One "
        "recording goes to -o FILE; several (files, folders, glob patterns) or --out-dir DIR "
        "give one hypnogram each and summary.tsv (sleep statistics per night), skip nights "
        "already staged unless --overwrite, go on past files that fail (listed at the end, "
        "exit status 1) and run --jobs N in parallel.",
    )
    stage.add_argument(
        "recording",
        nargs="+",
        help="the recording (night.edf), or several: files, folders, glob patterns ('psg/*.edf')",
    )
    stage.add_argument("--model", required=True, help="model file from `mne-sscsleep train`")
    stage.add_argument(
        "--channel", help="EEG channel (default: the one the model learnt, or the only EEG one)"
    )
    stage.add_argument(
        "-o",
        "--output",
        help="hypnogram file of one recording: .tsv, .csv or .edf (default hypnogram.tsv)",
    )
    stage.add_argument(
        "--out-dir",
        help="folder of hypnograms (one per recording) and summary.tsv, for several recordings "
        "(default hypnograms)",
    )
    stage.add_argument(
        "--format",
        choices=("tsv", "csv", "edf"),
        default="tsv",
        help="hypnogram format with --out-dir (default tsv)",
    )
    stage.add_argument(
        "--jobs", type=int, default=1, help="recordings staged in parallel (-1: one per core)"
    )
    stage.add_argument(
        "--overwrite",
        action="store_true",
        help="replace hypnograms (and the plot) that mne-sscsleep wrote before; with several "
        "recordings, stage again those whose hypnogram is complete (default: skip them). Other "
        "files are never replaced.",
    )
    stage.add_argument("--plot", help="also save a hypnogram figure (e.g. hypnogram.png)")
    stage.add_argument(
        "--min-confidence",
        type=_probability,
        help="report epochs whose top stage probability is below this (0-1) as unscored '?'",
    )
    _add_device_argument(stage)
    stage.set_defaults(handler=_stage)

    store = commands.add_parser(
        "store",
        help="build or describe an epoch store (a dataset on disk, larger than memory)",
        description="Epoch stores hold labelled 30-s epochs of many recordings on disk; "
        "training reads them batch by batch (EpochStore in Python).",
    )
    store_commands = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    build = store_commands.add_parser(
        "build",
        help="build (or resume) a store from a folder of EDF recordings with hypnograms",
        description="Add every recording of a folder (found as `train --data` finds them) to "
        "an epoch store, one file at a time; recordings already in the store are skipped, so "
        "an interrupted build resumes. A recording that cannot be read is skipped with a "
        "warning.",
    )
    build.add_argument("data", help="folder of EDF recordings (and hypnograms)")
    build.add_argument("-o", "--output", required=True, help="the store's folder")
    build.add_argument("--channel", help="EEG channel (default: the only EEG channel)")
    build.add_argument("--sfreq", type=_positive, default=DEFAULT_SFREQ, help="store rate (Hz)")
    build.add_argument("--trim-wake", type=float, default=30.0, help="minutes of wake kept")
    build.add_argument(
        "--dtype",
        choices=("float32", "float16"),
        default="float32",
        help="float16 halves the disk space (microvolts, 3 significant digits)",
    )
    _add_stage_map_argument(build)
    build.set_defaults(handler=_store_build)
    store_info = store_commands.add_parser("info", help="describe a store")
    store_info.add_argument("store", help="the store's folder")
    store_info.set_defaults(handler=_store_info)

    info = commands.add_parser(
        "info",
        help="describe a model file (stages, channel, rate, network, training)",
        description="Check a model file and print what it holds, without building the model.",
    )
    info.add_argument("model", help="model file from `mne-sscsleep train`")
    info.set_defaults(handler=_info)
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

    Examples
    --------
    >>> main(["info", "model.sscsleep"])  # doctest: +SKIP
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("mne-sscsleep: interrupted.", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            "mne-sscsleep: error: out of memory. Stage or train on fewer or shorter recordings "
            "at a time, or on a machine with more memory.",
            file=sys.stderr,
        )
        return 1
    except (OSError, ValueError, TypeError, ImportError, RuntimeError) as error:
        # The library's own message, as it is (messages name the command-line option too).
        print(f"mne-sscsleep: error: {error}", file=sys.stderr)
        return 1


def _at_least(minimum):
    def check(value):
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {number}")
        return number

    return check


def _positive(value):
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value!r}")
    return number


def _probability(value):
    number = _positive(value)
    if number >= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value!r}")
    return number


def _pretrained(value):
    return None if value.lower() == "none" else value


def _stage_map(value):
    """``0=W,1=N1,...`` -> ``{0: 'W', 1: 'N1', ...}`` (integer codes of stage files)."""
    from ._stages import stage_index

    mapping = {}
    for item in value.split(","):
        code, sep, stage = item.partition("=")
        try:
            code = int(code)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected CODE=STAGE pairs such as 0=W,1=N1,2=N2,3=N3,4=R; {item!r} has no "
                "integer code"
            ) from None
        if not sep or stage_index(stage) is None:
            raise argparse.ArgumentTypeError(
                f"{item!r} does not map a code to a sleep stage (W, N1, N2, N3, R)"
            )
        mapping[code] = stage.strip()
    return mapping


def _add_stage_map_argument(parser):
    parser.add_argument(
        "--stage-map",
        type=_stage_map,
        help="what integer codes in per-epoch stage files mean, e.g. 0=W,1=N1,2=N2,3=N3,4=R "
        "(codes are never guessed)",
    )


def _classifier(args, **params):
    """The classifier that the training options of ``demo`` and ``train`` describe."""
    from . import SSCSleepClassifier

    return SSCSleepClassifier(
        preset=args.preset,
        context=args.context,
        pretrained=args.pretrained,
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
        device=args.device,
        verbose=1,
        **params,
    )


def _add_training_arguments(parser, *, max_epochs, preset, preset_help):
    """The training options that ``demo`` and ``train`` share."""
    parser.add_argument(
        "--max-epochs",
        type=_at_least(1),
        default=max_epochs,
        help=f"training passes (default {max_epochs})",
    )
    parser.add_argument(
        "--batch-size",
        type=_at_least(1),
        default=64,
        help="pairs of 30-s epochs per optimiser step (default 64); a pass still takes the "
        "preset's fewest steps (50 for lite), so fewer pairs train faster on a small machine",
    )
    _add_device_argument(parser)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--preset", choices=("lite", "paper"), default=preset, help=preset_help)
    _add_context_argument(parser)
    parser.add_argument(
        "--pretrained",
        type=_pretrained,
        default="auto",
        help="start training from a model file, a shipped starting point ('lite-simulated'), "
        "or 'none' for random weights (default auto: the lite preset fine-tunes "
        "'lite-simulated', a lite network trained on simulated nights; the paper preset "
        "starts from random weights)",
    )


def _add_device_argument(parser):
    parser.add_argument(
        "--device",
        default="cpu",
        help="where the network runs: cpu (default), cuda or cuda:N (needs a CUDA build of "
        "PyTorch and a GPU)",
    )
