"""Subject-wise cross-validated benchmark of SSC-SleepNet against baselines, on one dataset.

Every model is trained and scored on the very same folds (``GroupKFold`` by subject):

- ``ssc``: SSCSleepClassifier as shipped; ``ssc_<ablation>`` its ablations (see ``ABLATIONS``);
- ``features_gb``: log band powers + gradient boosting (the approach of MNE's sleep tutorial);
- ``yasa``: YASA's pretrained ``SleepStaging`` on the same EEG channel (needs ``pip install
  yasa``; it is not trained on our folds, only scored on them).

For each fold and model it records accuracy, macro-F1, kappa, per-stage F1, fit time, the time
to stage one night (960 epochs) and the process's peak RSS so far, and writes ``results.json``
and ``results.md`` (a markdown table with the paper's figures beside ours).

Usage::

    python benchmarks/benchmark.py --dataset simulated                  # CPU, ~20 min
    python benchmarks/benchmark.py --dataset sleep-edf-sc --subjects 20 --folds 20 \\
        --max-epochs 60 --device cuda                                   # the paper's protocol
    python benchmarks/benchmark.py --dataset hmc --path /data/hmc/recordings
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from pathlib import Path

import numpy as np

from mne_sscsleep import STAGES, SSCSleepClassifier
from mne_sscsleep._features import spectral_features
from mne_sscsleep.metrics import sleep_report

#: Paper's reported macro-F1 / N1-F1 (Lin et al., 2025, abstract) and what they were measured on.
PAPER = {
    "sleep-edf-sc": (84.5, 60.2, "Sleep-EDF-SC (Sleep-EDF-20, Fpz-Cz)"),
    "sleep-edf-x": (89.6, 58.3, "Sleep-EDF-X (Sleep-EDF-78, Fpz-Cz)"),
    "shhs": (89.5, 57.8, "SHHS"),
    "hmc": (85.4, 55.2, "HMC"),
}
ABLATIONS = {
    "ssc": {},
    "ssc_ce_only": {
        "criterion__alpha": 1.0,
        "criterion__class_weight": None,
        "criterion__contrastive_weight": 0.0,
        "callbacks__n1_adaptation__gain": 0.0,
    },
    "ssc_no_contrastive": {"criterion__contrastive_weight": 0.0},
    "ssc_no_n1_adaptation": {"callbacks__n1_adaptation__gain": 0.0},
    "ssc_no_augmentation": {"augmentation": None},
    "ssc_se_resnet": {"module__branches": "se_resnet"},
    "ssc_cnn_lstm": {"module__branches": "cnn_lstm"},
}
NIGHT = 960  # epochs in an 8-hour night


def load_dataset(args):
    """(epochs, y, groups) of the chosen dataset."""
    from mne_sscsleep import datasets

    if args.dataset == "simulated":
        return datasets.simulate_sleep_epochs(
            int(args.subjects or 8), hours=args.hours, random_state=args.seed, verbose="error"
        )
    subjects = _subject_list(args.subjects)
    if args.dataset in ("sleep-edf-sc", "sleep-edf-st"):
        study = "SC" if args.dataset.endswith("sc") else "ST"
        if subjects is None:
            subjects = list(range(20 if study == "SC" else 22))
        return datasets.load_sleep_edf(
            subjects, study=study, path=args.path, channel=args.channel or "EEG Fpz-Cz"
        )
    if args.path is None:
        raise SystemExit(f"--path is required for {args.dataset}")
    if args.dataset == "hmc":
        return datasets.load_hmc(args.path, channel=args.channel or "EEG C4-M1", subjects=subjects)
    return datasets.load_shhs(args.path, channel=args.channel or "EEG", subjects=subjects)


def _subject_list(value):
    if value is None:
        return None
    if "," in str(value):
        return [int(v) for v in str(value).split(",")]
    return list(range(int(value)))


def run_ssc(params, data, y, train, test, args):
    clf = SSCSleepClassifier(
        max_epochs=args.max_epochs, random_state=args.seed, verbose=0, device=args.device, **params
    )
    start = time.perf_counter()
    clf.fit(data[train], y[train])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = clf.predict(data[test])
    return predicted, fit_seconds, (time.perf_counter() - start) * NIGHT / len(test)


def run_features_gb(data, y, train, test, args):
    from sklearn.ensemble import HistGradientBoostingClassifier

    start = time.perf_counter()
    features = spectral_features(data[train], args.sfreq)
    model = HistGradientBoostingClassifier(random_state=args.seed).fit(features, y[train])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(spectral_features(data[test], args.sfreq))
    return predicted, fit_seconds, (time.perf_counter() - start) * NIGHT / len(test)


def run_yasa(data, y, groups, test, args):
    """Stage each test subject's epochs, joined back into a continuous recording, with YASA."""
    import mne
    import yasa

    predicted = np.empty(len(test), dtype=object)
    seconds = 0.0
    for subject in np.unique(groups[test]):
        rows = np.flatnonzero(groups[test] == subject)
        signal = data[test[rows], 0].reshape(1, -1)
        raw = mne.io.RawArray(signal, mne.create_info(["EEG"], args.sfreq, "eeg"), verbose="error")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hypno = np.asarray(yasa.SleepStaging(raw, eeg_name="EEG").predict().hypno)
        seconds += (time.perf_counter() - start) * NIGHT / len(rows)
        predicted[rows] = hypno[: len(rows)]
    return predicted, np.nan, seconds / len(np.unique(groups[test]))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def evaluate(models, data, y, groups, args, log=print):
    """Run every model on every fold; return {model: [per-fold result dicts]}."""
    from sklearn.model_selection import GroupKFold

    results = {name: [] for name in models}
    for fold, (train, test) in enumerate(GroupKFold(args.folds).split(y, y, groups)):
        for name in models:
            if name in ABLATIONS:
                predicted, fit_s, stage_s = run_ssc(ABLATIONS[name], data, y, train, test, args)
            elif name == "features_gb":
                predicted, fit_s, stage_s = run_features_gb(data, y, train, test, args)
            elif name == "yasa":
                predicted, fit_s, stage_s = run_yasa(data, y, groups, test, args)
            else:
                raise SystemExit(f"unknown model {name!r}")
            report = sleep_report(y[test], predicted)
            result = dict(
                report.to_dict(),
                fold=fold,
                fit_s=fit_s,
                stage_s_per_night=stage_s,
                peak_rss_mb=peak_rss_mb(),
            )
            results[name].append(result)
            log(
                f"fold {fold} {name:<22} macro-F1 {report.macro_f1:.3f}  "
                f"N1-F1 {report.n1_f1:.3f}  kappa {report.kappa:.3f}  fit {fit_s:.0f} s"
            )
    return results


def markdown_table(results, args):
    def mean_std(name, key):
        values = np.array([fold[key] for fold in results[name]], dtype=float)
        if np.all(np.isnan(values)):
            return "-"
        return f"{np.nanmean(values):.3f} ± {np.nanstd(values):.3f}"

    lines = [
        f"Dataset: {args.dataset}"
        + (
            " (SIMULATED data: compares models, says nothing about real sleep)"
            if args.dataset == "simulated"
            else ""
        )
        + f"; {args.folds}-fold subject-wise CV; max {args.max_epochs} training epochs.",
        "",
        "| model | macro-F1 | N1-F1 | kappa | accuracy | F1 W | F1 N2 | F1 N3 | F1 R "
        "| fit (s) | stage 1 night (s) | peak RSS so far (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in results:

        def mean(key, name=name):
            values = [fold[key] for fold in results[name]]
            return np.nan if np.all(np.isnan(values)) else np.nanmean(values)

        lines.append(
            f"| {name} | {mean_std(name, 'macro_f1')} | {mean_std(name, 'f1_N1')} | "
            f"{mean('kappa'):.3f} | {mean('accuracy'):.3f} | {mean('f1_W'):.3f} | "
            f"{mean('f1_N2'):.3f} | {mean('f1_N3'):.3f} | {mean('f1_R'):.3f} | "
            f"{mean('fit_s'):.1f} | {mean('stage_s_per_night'):.2f} | "
            f"{max(fold['peak_rss_mb'] for fold in results[name]):.0f} |"
        )
    paper = PAPER.get(args.dataset)
    if paper:
        lines += [
            "",
            f"Paper (Lin et al., 2025) on {paper[2]}: macro-F1 {paper[0]}, N1-F1 "
            f"{paper[1]} (their splits and training budget, a GPU; ours: the folds and "
            "epochs above).",
        ]
    else:
        lines += [
            "",
            "Paper (Lin et al., 2025) on Sleep-EDF-SC / -X / SHHS / HMC: macro-F1 "
            "84.5 / 89.6 / 89.5 / 85.4, N1-F1 60.2 / 58.3 / 57.8 / 55.2 (real data; not "
            "comparable with simulated nights).",
        ]
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dataset",
        default="simulated",
        choices=["simulated", "sleep-edf-sc", "sleep-edf-st", "hmc", "shhs"],
    )
    parser.add_argument("--path", help="data folder (MNE data folder for Sleep-EDF)")
    parser.add_argument("--channel", help="EEG channel (dataset default if omitted)")
    parser.add_argument("--subjects", help="number of subjects (first N) or a list 0,3,5")
    parser.add_argument("--hours", type=float, default=8.0, help="hours per simulated night")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument(
        "--models",
        default="ssc,ssc_ce_only,features_gb,yasa",
        help=f"comma list of: {', '.join(ABLATIONS)}, features_gb, yasa",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmark-results", help="output folder")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    models = args.models.split(",")
    if "yasa" in models:
        try:
            import yasa  # noqa: F401
        except ImportError:
            print("yasa is not installed (pip install yasa): skipping the YASA baseline")
            models.remove("yasa")
    start = time.perf_counter()
    epochs, y, groups = load_dataset(args)
    args.sfreq = float(epochs.info["sfreq"])
    data = epochs.get_data().astype(np.float32)
    counts = ", ".join(f"{s} {np.mean(y == s):.0%}" for s in STAGES)
    print(
        f"{args.dataset}: {len(np.unique(groups))} subjects, {len(y)} epochs ({counts}); "
        f"loaded in {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    results = evaluate(models, data, y, groups, args, log=lambda line: print(line, flush=True))
    table = markdown_table(results, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps(
            {"args": {k: v for k, v in vars(args).items()}, "results": results},
            indent=2,
            default=float,
        )
    )
    (out / "results.md").write_text(table + "\n")
    print("\n" + table)
    print(f"\nWrote {out / 'results.json'} and {out / 'results.md'}")
    return results


if __name__ == "__main__":
    main()
