"""Ablation of SSC-SleepNet on simulated nights, split by subject.

For each fold of a subject-wise ``GroupKFold`` it trains the full model and its ablations on the
same training subjects and scores the held-out subjects:

- ``full``: SSC-SleepNet as shipped (both branches, pairs, adaptive loss, N1 adaptation);
- ``ce_only``: plain cross-entropy (no class weights, focal, contrastive or N1 adaptation);
- ``no_contrastive``: the adaptive loss without the contrastive term;
- ``no_n1_adaptation``: the adaptive loss with a fixed N1 penalty (gain 0);
- ``no_augmentation``: without the gain jitter and time stretch of the pair loader;
- ``stretch_0.15``: a wider time stretch (+-15 % instead of +-10 %);
- ``se_resnet`` / ``cnn_lstm``: a single branch (no contrastive term possible);
- ``features``: log band powers + random forest (the classical baseline).

It prints macro-F1, N1-F1 and kappa per variant (mean over folds), fit throughput (EEG epochs
per second over whole training epochs, validation included; a pair counts as two) and the time
to stage one night. Simulated data: the numbers say how the parts compare, not how the model
does on real sleep.

Usage::

    python benchmarks/ablation.py                       # 8 nights, 4 folds, all variants
    python benchmarks/ablation.py --variants full,features --folds 2 --hours 4
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GroupKFold

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep._features import spectral_features
from mne_sscsleep.datasets import simulate_sleep_epochs
from mne_sscsleep.metrics import sleep_report

VARIANTS = {
    "full": {},
    "ce_only": {
        "criterion__alpha": 1.0,
        "criterion__class_weight": None,
        "criterion__contrastive_weight": 0.0,
        "callbacks__n1_adaptation__gain": 0.0,
    },
    "no_contrastive": {"criterion__contrastive_weight": 0.0},
    "no_n1_adaptation": {"callbacks__n1_adaptation__gain": 0.0},
    "no_augmentation": {"iterator_train__gain_jitter": 0.0, "iterator_train__time_stretch": 0.0},
    "stretch_0.15": {"iterator_train__time_stretch": 0.15},
    "se_resnet": {"module__branches": "se_resnet"},
    "cnn_lstm": {"module__branches": "cnn_lstm"},
    "features": None,
}


def run_variant(name, epochs, y, train, test, args):
    """Fit one variant on ``train``, score it on ``test``; return a dict of figures."""
    if VARIANTS[name] is None:
        start = time.perf_counter()
        features = spectral_features(epochs.get_data(), epochs.info["sfreq"])
        forest = RandomForestClassifier(300, random_state=args.seed, n_jobs=-1)
        forest.fit(features[train], y[train])
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predicted = forest.predict(spectral_features(epochs[test].get_data(), 100.0))
        stage_seconds = time.perf_counter() - start
        throughput = np.nan
    else:
        clf = SSCSleepClassifier(
            max_epochs=args.max_epochs, random_state=args.seed, verbose=0, **VARIANTS[name]
        )
        clf.set_params(callbacks__print_log__sink=lambda *a, **k: None)
        start = time.perf_counter()
        clf.fit(epochs[train], y[train])
        fit_seconds = time.perf_counter() - start
        train_seconds = sum(clf.history[:, "dur"])
        visited = sum(
            sum(batch.get("train_batch_size", 0) for batch in epoch)
            for epoch in clf.history[:, "batches"]
        )
        throughput = visited / train_seconds
        start = time.perf_counter()
        predicted = clf.predict(epochs[test])
        stage_seconds = time.perf_counter() - start
    report = sleep_report(y[test], predicted)
    return {
        "macro_f1": report.macro_f1,
        "n1_f1": report.n1_f1,
        "kappa": report.kappa,
        "fit_s": fit_seconds,
        "train_epochs_per_s": throughput,
        "stage_s_per_night": stage_seconds * args.epochs_per_night / len(test),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=8)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--max-epochs", type=int, default=15)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the per-fold results to this file")
    args = parser.parse_args(argv)
    args.epochs_per_night = 960
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {list(VARIANTS)}")

    epochs, y, groups = simulate_sleep_epochs(
        args.subjects, hours=args.hours, random_state=args.seed, verbose="error"
    )
    print(
        f"{args.subjects} simulated nights x {args.hours:g} h = {len(y)} epochs; "
        f"{args.folds}-fold subject-wise CV",
        flush=True,
    )
    results = {name: [] for name in variants}
    for fold, (train, test) in enumerate(GroupKFold(args.folds).split(y, y, groups)):
        for name in variants:
            result = run_variant(name, epochs, y, train, test, args)
            results[name].append(result)
            print(
                f"fold {fold} {name:<17} macro-F1 {result['macro_f1']:.3f}  "
                f"N1-F1 {result['n1_f1']:.3f}  kappa {result['kappa']:.3f}  "
                f"fit {result['fit_s']:.0f} s",
                flush=True,
            )

    print("\n| variant | macro-F1 | N1-F1 | kappa | fit epochs/s | stage 1 night (s) |")
    print("|---|---|---|---|---|---|")
    for name, folds in results.items():
        mean = {key: np.nanmean([fold[key] for fold in folds]) for key in folds[0]}
        std = {key: np.nanstd([fold[key] for fold in folds]) for key in folds[0]}
        print(
            f"| {name} | {mean['macro_f1']:.3f} ± {std['macro_f1']:.3f} | "
            f"{mean['n1_f1']:.3f} ± {std['n1_f1']:.3f} | {mean['kappa']:.3f} | "
            f"{mean['train_epochs_per_s']:.0f} | {mean['stage_s_per_night']:.2f} |"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
