"""Subject-wise benchmark of SSC-SleepNet (both presets, the paper's ablations) and baselines.

Every model is trained and scored on the very same subject-wise splits:

- ``paper``: ``SSCSleepClassifier(preset='paper')``; ``paper_<variant>`` the model variants of
  the paper's Fig. 3 (one branch alone, two branches of one kind) and the loss variants of its
  Fig. 4 (WCE, FL, CL, WCE+FL, WCE+CL, WCE+FL+CL with lambda fixed at 0.75; ``paper`` itself is
  the adaptive schedule), and ``paper_n1_focus`` (its Table VII run, schedule driven by N1);
- ``lite``: ``preset='lite'``; ``lite_<ablation>`` its ablations;
- ``<preset>_context<k>``: the preset with ``context=k`` (neighbouring epochs, a GRU over the
  per-epoch features; ``_tf`` suffix: the transformer encoder);
- ``features_yasa``: YASA's EEG features with its centred 7.5-min and past 2-min rolling
  windows robust-scaled per night and the time of night, gradient boosting (what a user would
  otherwise pick; ``benchmarks/yasa_features.py``);
- ``features_gb``: log band powers + gradient boosting (the approach of MNE's sleep tutorial);
- ``yasa``: YASA's pretrained ``SleepStaging`` (``pip install yasa``; scored, not trained).

Protocols: ``kfold`` (``GroupKFold`` by subject; metrics per fold, and once over the pooled
predictions of all test folds, as the paper computes them) and ``holdout`` (the paper's
SHHS-5463 split: 70 % of subjects for training, 30 % for testing, ``--valid-subjects`` of the
training subjects held out for validation). Real datasets default to the paper's protocol
(20 folds pooled; holdout for SHHS); their loaders keep 30 minutes of wake around sleep.

``--paper-width`` scales the channels of the paper network (0.25: a quarter of its widths,
about 1/16 of its multiply-adds) so that the ablation grid runs on a CPU; the table says so.

Writes ``results.json`` and ``results.md`` (a markdown table with the paper's figures beside
ours). SIMULATED data compare models; they say nothing about real sleep.

Usage::

    python benchmarks/benchmark.py --dataset simulated --models lite,paper,features_gb
    python benchmarks/benchmark.py --dataset simulated --models paper,paper_cnn_lstm,\\
        paper_se_resnet,paper_2x_cnn_lstm,paper_2x_se_resnet --paper-width 0.25
    python benchmarks/benchmark.py --dataset sleep-edf-sc --device cuda   # 20 folds, pooled
    python benchmarks/benchmark.py --dataset shhs --path /data/shhs --device cuda  # 70/30
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from pathlib import Path

import numpy as np
from yasa_features import spectral_features, yasa_features

from mne_sscsleep import STAGES, SSCSleepClassifier
from mne_sscsleep.metrics import sleep_report, transitions_per_hour

#: The paper's Table IX (recomputed from its confusion matrices, PAPER.md section 1):
#: macro-F1, macro G-mean, N1-F1, kappa and the data.
PAPER = {
    "sleep-edf-sc": (84.5, 90.1, 60.2, 0.85, "Sleep-EDF-SC (20 subjects, 39 nights, Fpz-Cz)"),
    "sleep-edf-x": (80.4, 89.6, 58.3, 0.79, "Sleep-EDF-X (78 subjects, 153 nights, Fpz-Cz)"),
    "shhs": (84.0, 89.5, 57.8, 0.86, "SHHS-5463 (C4-A1)"),
    "hmc": (76.7, 85.4, 55.2, 0.73, "HMC (151 recordings, F4-M1)"),
}
#: The paper's ablations on Sleep-EDF-SC (Figs. 3 and 4): model -> macro-F1.
PAPER_ABLATIONS = {
    "paper_cnn_lstm": 77.2,
    "paper_se_resnet": 80.3,
    "paper_2x_cnn_lstm": 79.9,
    "paper_2x_se_resnet": 80.6,
    "paper": 84.5,
    "paper_wce": 78.0,
    "paper_fl": 82.6,
    "paper_cl": 78.3,
    "paper_wce_fl": 83.7,
    "paper_wce_cl": 81.0,
    "paper_wce_fl_cl": 84.5,
}
_FIXED = {"callbacks__loss_schedule": None}  # the loss variants keep lam, alpha, gamma fixed
ABLATIONS = {
    # The paper preset and its variants (Fig. 3: networks; Fig. 4: losses; Table VII).
    "paper": {"preset": "paper"},
    "paper_cnn_lstm": {"preset": "paper", "module__branches": "cnn_lstm"},
    "paper_se_resnet": {"preset": "paper", "module__branches": "se_resnet"},
    "paper_2x_cnn_lstm": {"preset": "paper", "module__branches": "cnn_lstm+cnn_lstm"},
    "paper_2x_se_resnet": {"preset": "paper", "module__branches": "se_resnet+se_resnet"},
    "paper_wce": {"preset": "paper", "criterion__lam": 0.0, "criterion__contrastive_weight": 0.0}
    | _FIXED,
    "paper_fl": {"preset": "paper", "criterion__lam": 1.0, "criterion__contrastive_weight": 0.0}
    | _FIXED,
    # CL needs a classification loss for the head: plain (unweighted) cross-entropy.
    "paper_cl": {"preset": "paper", "criterion__lam": 0.0, "criterion__class_weight": None}
    | _FIXED,
    "paper_wce_fl": {"preset": "paper", "criterion__contrastive_weight": 0.0} | _FIXED,
    "paper_wce_cl": {"preset": "paper", "criterion__lam": 0.0} | _FIXED,
    "paper_wce_fl_cl": {"preset": "paper"} | _FIXED,
    "paper_n1_focus": {"preset": "paper", "callbacks__loss_schedule__focus": "n1"},
    # The lite preset and its ablations.
    "lite": {"preset": "lite"},
    "lite_ce_only": {
        "preset": "lite",
        "criterion__lam": 0.0,
        "criterion__class_weight": None,
        "criterion__contrastive_weight": 0.0,
        "callbacks__n1_adaptation__gain": 0.0,
    },
    "lite_no_contrastive": {"preset": "lite", "criterion__contrastive_weight": 0.0},
    "lite_no_n1_adaptation": {"preset": "lite", "callbacks__n1_adaptation__gain": 0.0},
    "lite_no_augmentation": {"preset": "lite", "augmentation": None},
    "lite_se_resnet": {"preset": "lite", "module__branches": "se_resnet"},
    "lite_cnn_lstm": {"preset": "lite", "module__branches": "cnn_lstm"},
}
# Neighbouring epochs as context, both presets.
for _preset in ("lite", "paper"):
    for _k in (0, 2, 5, 10):  # 0: the single-epoch network (lite defaults to 2)
        ABLATIONS[f"{_preset}_context{_k}"] = {"preset": _preset, "context": _k}
    ABLATIONS[f"{_preset}_context5_time"] = {"preset": _preset, "context": 5, "night_time": True}
    ABLATIONS[f"{_preset}_context5_tf"] = {
        "preset": _preset,
        "context": 5,
        "context_model": "transformer",
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
    if args.dataset in ("sleep-edf-sc", "sleep-edf-st", "sleep-edf-x"):
        study = "ST" if args.dataset.endswith("st") else "SC"
        if subjects is None:  # SC: the 20 of Sleep-EDF-20, or every subject MNE lists (X)
            subjects = {
                "sleep-edf-sc": list(range(20)),
                "sleep-edf-st": list(range(22)),
                "sleep-edf-x": _sleep_edf_sc_subjects(),
            }[args.dataset]
        return datasets.load_sleep_edf(
            subjects, study=study, path=args.path, channel=args.channel or "EEG Fpz-Cz"
        )
    if args.path is None:
        raise SystemExit(f"--path is required for {args.dataset}")
    if args.dataset == "hmc":
        return datasets.load_hmc(args.path, channel=args.channel or "EEG F4-M1", subjects=subjects)
    return datasets.load_shhs(args.path, channel=args.channel or "EEG", subjects=subjects)


def _sleep_edf_sc_subjects():
    import csv

    from mne.datasets.sleep_physionet import age

    with open(Path(age.__file__).with_name("age_records.csv")) as handle:
        return sorted({int(row["subject"]) for row in csv.DictReader(handle)})


def _subject_list(value):
    if value is None:
        return None
    if "," in str(value):
        return [int(v) for v in str(value).split(",")]
    return list(range(int(value)))


def _scaled(width, factor):
    return max(int(round(width * factor)), 4)


def paper_width(factor):
    """``module__*`` parameters that scale the paper network's channels by ``factor``."""
    if factor == 1.0:
        return {}
    return {
        "module__se_widths": tuple(_scaled(w, factor) for w in (64, 128, 256, 512)),
        "module__cnn_filters": tuple(_scaled(w, factor) for w in (64, 32, 128, 256)),
        "module__lstm_units": _scaled(128, factor),
        "module__embedding_dim": _scaled(128, factor),
        "module__head_widths": (_scaled(128, factor), _scaled(64, factor)),
    }


def run_ssc(params, data, y, groups, train, test, args, valid=None):
    if params["preset"] == "paper":
        params = {**paper_width(args.paper_width), **params}
    if valid is not None:  # the holdout protocol's validation subjects
        from skorch.helper import predefined_split

        from mne_sscsleep._epochs import check_epochs_labels

        valid_data, valid_y, valid_groups = valid
        params = {
            **params,
            "train_split": predefined_split(
                check_epochs_labels(valid_data, valid_y, recording=valid_groups)
            ),
        }
    clf = SSCSleepClassifier(
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
        verbose=0,
        device=args.device,
        **params,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        clf.fit(data[train], y[train], recording=groups[train])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = clf.predict(data[test], recording=groups[test])
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


def run_features_yasa(data, y, groups, train, test, args):
    from sklearn.ensemble import HistGradientBoostingClassifier

    start = time.perf_counter()
    features = yasa_features(data[train], args.sfreq, groups[train])
    model = HistGradientBoostingClassifier(random_state=args.seed).fit(features, y[train])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(yasa_features(data[test], args.sfreq, groups[test]))
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


def splits(y, groups, args):
    """(train, test, validation or None) index arrays of the protocol."""
    if args.protocol == "kfold":
        from sklearn.model_selection import GroupKFold

        for train, test in GroupKFold(args.folds).split(y, y, groups):
            yield train, test, None
        return
    rng = np.random.default_rng(args.seed)
    subjects = rng.permutation(np.unique(groups))
    n_train = int(round(0.7 * len(subjects)))
    n_valid = min(args.valid_subjects, n_train - 1)
    valid_subjects, train_subjects = subjects[:n_valid], subjects[n_valid:n_train]
    yield (
        np.flatnonzero(np.isin(groups, train_subjects)),
        np.flatnonzero(np.isin(groups, subjects[n_train:])),
        np.flatnonzero(np.isin(groups, valid_subjects)),
    )


def evaluate(models, data, y, groups, args, log=print):
    """Run every model on every split; return {model: [per-fold result dicts]}."""
    results = {name: [] for name in models}
    for fold, (train, test, valid) in enumerate(splits(y, groups, args)):
        for name in models:
            if name in ABLATIONS:
                valid_data = None if valid is None else (data[valid], y[valid], groups[valid])
                predicted, fit_s, stage_s = run_ssc(
                    ABLATIONS[name], data, y, groups, train, test, args, valid_data
                )
            elif name == "features_yasa":
                predicted, fit_s, stage_s = run_features_yasa(data, y, groups, train, test, args)
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
                transitions_true=transitions_per_hour(y[test], groups[test]),
                transitions_predicted=transitions_per_hour(predicted, groups[test]),
                peak_rss_mb=peak_rss_mb(),
                test_index=test.tolist(),
                predicted=[str(label) for label in predicted],
            )
            results[name].append(result)
            log(
                f"fold {fold} {name:<22} macro-F1 {report.macro_f1:.3f}  "
                f"macro G-mean {report.macro_gmean:.3f}  N1-F1 {report.n1_f1:.3f}  "
                f"kappa {report.kappa:.3f}  transitions/h {result['transitions_predicted']:.1f} "
                f"(true {result['transitions_true']:.1f})  fit {fit_s:.0f} s"
            )
    return results


def pooled_report(folds, y):
    """One report over the predictions of all test folds (the paper's protocol)."""
    index = np.concatenate([fold["test_index"] for fold in folds])
    predicted = np.concatenate([fold["predicted"] for fold in folds])
    return sleep_report(y[index], predicted)


def markdown_table(results, y, args):
    def mean_std(name, key):
        values = np.array([fold[key] for fold in results[name]], dtype=float)
        if np.all(np.isnan(values)):
            return "-"
        return f"{np.nanmean(values):.3f} ± {np.nanstd(values):.3f}"

    protocol = (
        f"{args.folds}-fold subject-wise CV"
        if args.protocol == "kfold"
        else f"70/30 subject holdout ({args.valid_subjects} validation subjects)"
    )
    uses_paper = any(ABLATIONS.get(name, {}).get("preset") == "paper" for name in results)
    width = (
        f"; paper network at {args.paper_width:g} width"
        if uses_paper and args.paper_width != 1.0
        else ""
    )
    lines = [
        f"Dataset: {args.dataset}"
        + (
            " (SIMULATED data: compares models, says nothing about real sleep)"
            if args.dataset == "simulated"
            else ""
        )
        + f"; {protocol}; max {args.max_epochs} training epochs{width}.",
        "",
        "| model | macro-F1 (folds) | N1-F1 (folds) | pooled macro-F1 | pooled macro G-mean "
        "| pooled N1-F1 | pooled kappa | F1 W | F1 N2 | F1 N3 | F1 R | transitions/h (true) "
        "| fit (s) | stage 1 night (s) | paper macro-F1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in results:
        pooled = pooled_report(results[name], y)
        f1 = dict(zip(STAGES, pooled.f1))

        def mean(key, name=name):
            values = [fold[key] for fold in results[name]]
            return np.nan if np.all(np.isnan(values)) else np.nanmean(values)

        paper = PAPER_ABLATIONS.get(name)
        lines.append(
            f"| {name} | {mean_std(name, 'macro_f1')} | {mean_std(name, 'f1_N1')} | "
            f"{pooled.macro_f1:.3f} | {pooled.macro_gmean:.3f} | {pooled.n1_f1:.3f} | "
            f"{pooled.kappa:.3f} | {f1['W']:.3f} | {f1['N2']:.3f} | {f1['N3']:.3f} | "
            f"{f1['R']:.3f} | {mean('transitions_predicted'):.1f} "
            f"({mean('transitions_true'):.1f}) | {mean('fit_s'):.1f} | "
            f"{mean('stage_s_per_night'):.2f} | "
            f"{'-' if paper is None else paper} |"
        )
    lines.append("")
    paper = PAPER.get(args.dataset)
    if paper:
        lines.append(
            f"Paper (Lin et al., 2025) on {paper[4]}: macro-F1 {paper[0]}, macro G-mean "
            f"{paper[1]}, N1-F1 {paper[2]}, kappa {paper[3]} (20 folds pooled, two GPUs; ours: "
            "the protocol and epochs above)."
        )
    else:
        lines.append(
            "Paper (Lin et al., 2025), real data, macro-F1 / macro G-mean: Sleep-EDF-SC "
            "84.5 / 90.1, Sleep-EDF-X 80.4 / 89.6, SHHS-5463 84.0 / 89.5, HMC 76.7 / 85.4 "
            "(the abstract's 89.6 / 89.5 / 85.4 are these macro G-means, not macro-F1). The "
            "'paper macro-F1' column gives its Sleep-EDF-SC ablations (Figs. 3 and 4): real "
            "data, not comparable with simulated nights, shown for the ranking."
        )
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dataset",
        default="simulated",
        choices=["simulated", "sleep-edf-sc", "sleep-edf-x", "sleep-edf-st", "hmc", "shhs"],
    )
    parser.add_argument("--path", help="data folder (MNE data folder for Sleep-EDF)")
    parser.add_argument("--channel", help="EEG channel (dataset default if omitted)")
    parser.add_argument("--subjects", help="number of subjects (first N) or a list 0,3,5")
    parser.add_argument("--hours", type=float, default=8.0, help="hours per simulated night")
    parser.add_argument(
        "--protocol",
        choices=["kfold", "holdout"],
        help="kfold (default; 20 folds on real data) or holdout (70/30, the default for SHHS)",
    )
    parser.add_argument("--folds", type=int, help="folds of the kfold protocol")
    parser.add_argument(
        "--valid-subjects", type=int, default=100, help="validation subjects of the holdout"
    )
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument(
        "--batch-size", type=int, default=64, help="pairs per training batch of the networks"
    )
    parser.add_argument(
        "--paper-width", type=float, default=1.0, help="scale of the paper network's channels"
    )
    parser.add_argument(
        "--models",
        default="paper,lite,features_gb,yasa",
        help=f"comma list of: {', '.join(ABLATIONS)}, features_yasa, features_gb, yasa",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmark-results", help="output folder")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    real = args.dataset != "simulated"
    if args.protocol is None:
        args.protocol = "holdout" if args.dataset == "shhs" else "kfold"
    if args.folds is None:
        args.folds = 20 if real else 4
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
    table = markdown_table(results, y, args)
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
