"""Scale-out figures: a disk-backed store, two training processes, batch staging.

Simulated 8-h nights (the package's simulator: the figures measure the machinery, not staging
skill). Each measurement runs in a fresh process so that its peak memory is its own.

Usage::

    # 1. Build a store of 300 simulated nights (resumable; ~3.5 GB of float32, ~10 min)
    python benchmarks/scale.py build --store /tmp/scale.store --nights 300
    # 2. One training pass on the first 20, 100 and 300 nights: time and peak RSS (and the
    #    same pass on 20 nights held in memory, the reference)
    python benchmarks/scale.py fit --store /tmp/scale.store --nights 20 100 300
    # 3. Two training processes (torchrun, gloo) against one, same store and passes
    python benchmarks/scale.py distributed --store /tmp/scale.store --nights 20
    # 4. Staging throughput (nights per hour) with 1 and 2 jobs, and on a local Dask cluster
    python benchmarks/scale.py stage --nights 40 --jobs 1 2 --dask
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def build(args):
    from mne_sscsleep.datasets import EpochStore, simulate_sleep_epochs

    store = EpochStore.create(args.store, dtype=args.dtype)
    done = set(store.recordings["name"]) if len(store.recordings) else set()
    start = time.perf_counter()
    for night in range(args.nights):
        name = f"night {night:03d}"
        if name in done:
            continue
        epochs, _, _ = simulate_sleep_epochs(
            1, hours=args.hours, random_state=night, verbose="error"
        )
        store.add(epochs, recording=name, subject=night)
        if night % 10 == 0:
            print(f"{night + 1} nights, {time.perf_counter() - start:.0f} s", flush=True)
    print(store.reload())


def _fit_once(args):
    """One fit in this process; prints a JSON line of figures."""
    from mne_sscsleep import SSCSleepClassifier
    from mne_sscsleep.datasets import EpochStore

    store = EpochStore.open(args.store)
    if args.nights:
        store = store[store.recording < args.nights]
    clf = SSCSleepClassifier(
        preset=args.preset,
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        random_state=0,
        verbose=0,
        distributed=args.distributed,
    )
    start = time.perf_counter()
    if args.in_memory:  # the reference: the same epochs as one array in memory
        clf.fit(store.get_data(), store.labels, recording=store.recording)
    else:
        clf.fit(store)
    seconds = time.perf_counter() - start
    figures = {
        "nights": int(len(np.unique(store.recording))),
        "epochs": len(store),
        "seconds": seconds,
        "epochs_per_s": len(store) * args.max_epochs / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "valid_macro_f1": float(clf.history[-1, "valid_macro_f1"]),
        "rank": int(os.environ.get("RANK", 0)),
    }
    print("FIGURES " + json.dumps(figures), flush=True)


def _run(command, env=None):
    output = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    lines = [line for line in output.stdout.splitlines() if line.startswith("FIGURES ")]
    if output.returncode or not lines:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output.stdout}\n{output.stderr}")
    return [json.loads(line[len("FIGURES ") :]) for line in lines]


def _fit_command(args, nights, extra=()):
    return [
        sys.executable,
        __file__,
        "fit-once",
        "--store",
        str(args.store),
        "--nights",
        str(nights),
        "--preset",
        args.preset,
        "--max-epochs",
        str(args.max_epochs),
        "--batch-size",
        str(args.batch_size),
        *extra,
    ]


def fit(args):
    print(f"One pass ({args.preset} preset) on simulated 8-h nights, a fresh process each")
    print(
        f"{'data':>9} {'nights':>7} {'epochs':>8} {'time (s)':>9} {'epochs/s':>9} "
        f"{'peak RSS (MB)':>14}"
    )
    runs = [(nights, ()) for nights in args.nights]
    runs += [(nights, ("--in-memory",)) for nights in args.reference_nights]
    for nights, extra in runs:
        (row,) = _run(_fit_command(args, nights, extra))
        print(
            f"{'in memory' if extra else 'store':>9} {row['nights']:>7} {row['epochs']:>8} "
            f"{row['seconds']:>9.0f} {row['epochs_per_s']:>9.0f} {row['peak_rss_mb']:>14.0f}",
            flush=True,
        )


def distributed(args):
    (nights,) = args.nights
    one = _run(_fit_command(args, nights))[0]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    command = _fit_command(args, nights, extra=["--distributed"])
    two = _run(
        torchrun + command[1:],
        env={"OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // 2))},
    )
    print(f"{nights} nights, {args.max_epochs} pass(es), {args.preset} preset")
    print(f"{'processes':>9} {'time (s)':>9} {'valid macro-F1':>15} {'peak RSS/proc (MB)':>19}")
    slowest = max(row["seconds"] for row in two)
    rss = max(row["peak_rss_mb"] for row in two)
    for n, seconds, f1, peak in (
        (1, one["seconds"], one["valid_macro_f1"], one["peak_rss_mb"]),
        (2, slowest, two[0]["valid_macro_f1"], rss),
    ):
        print(f"{n:>9} {seconds:>9.0f} {f1:>15.3f} {peak:>19.0f}")


def stage(args):
    from mne_sscsleep import SSCSleepClassifier, stage_many
    from mne_sscsleep.datasets import simulate_sleep_epochs, simulate_sleep_raw

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        epochs, y, _ = simulate_sleep_epochs(2, hours=2, random_state=0, verbose="error")
        clf = SSCSleepClassifier(preset="lite", max_epochs=2, random_state=0, verbose=0)
        clf.fit(epochs, y).save(folder / "model.sscsleep")
        for night in range(args.nights):
            raw = simulate_sleep_raw(hours=8, random_state=100 + night, verbose="error")
            raw.export(folder / f"night{night:03d}.edf", verbose="error")
        print(f"Staging {args.nights} simulated 8-h EDF nights")
        print(f"{'engine':>34} {'time (s)':>9} {'nights/hour':>12}")
        model, files = folder / "model.sscsleep", sorted(folder.glob("night*.edf"))
        rows = []
        for jobs in args.jobs:
            start = time.perf_counter()
            summary = stage_many(model, files, folder / f"out{jobs}", jobs=jobs, progress=False)
            rows.append((f"joblib, {jobs} job(s)", time.perf_counter() - start, summary))
        if args.dask:
            rows += _stage_on_dask(model, files, folder / "dask")
        for name, seconds, summary in rows:
            assert (summary["status"] == "staged").all(), summary
            rate = args.nights / seconds * 3600
            print(f"{name:>34} {seconds:>9.1f} {rate:>12.0f}", flush=True)


def _stage_on_dask(model, files, out):
    """Stage on a local Dask cluster of two worker processes: timed with the cluster's start
    (workers import torch and MNE, load the model), then again with the workers warm."""
    import joblib
    from distributed import Client, LocalCluster

    from mne_sscsleep import stage_many

    rows = []
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            dashboard_address=None,
            env={"OMP_NUM_THREADS": "1"},  # one core a worker, as joblib's loky arranges
        ) as cluster,
        Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        for name, overwrite in (("Dask, 2 workers, with start-up", False), ("Dask, warm", True)):
            summary = stage_many(model, files, out, overwrite=overwrite, progress=False)
            rows.append((name, time.perf_counter() - start, summary))
            start = time.perf_counter()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("build", "fit", "fit-once", "distributed", "stage"):
        command = sub.add_parser(name)
        command.add_argument("--store", type=Path, default=Path("/tmp/scale.store"))
        command.add_argument("--nights", type=int, nargs="+", default=[20, 100, 300])
        command.add_argument("--hours", type=float, default=8.0)
        command.add_argument("--dtype", default="float32")
        command.add_argument("--preset", default="lite")
        command.add_argument("--max-epochs", type=int, default=1)
        command.add_argument("--batch-size", type=int, default=64)
        command.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
        command.add_argument("--distributed", action="store_true")
        command.add_argument("--in-memory", action="store_true")
        command.add_argument("--dask", action="store_true", help="stage on a LocalCluster too")
        command.add_argument(
            "--reference-nights",
            type=int,
            nargs="*",
            default=[20],
            help="also fit these numbers of nights from an array in memory (the reference)",
        )
    args = parser.parse_args(argv)
    if args.command in ("build", "stage"):
        args.nights = max(args.nights)
        (build if args.command == "build" else stage)(args)
    elif args.command == "fit-once":
        args.nights = args.nights[0]
        _fit_once(args)
    else:
        {"fit": fit, "distributed": distributed}[args.command](args)


if __name__ == "__main__":
    main()
