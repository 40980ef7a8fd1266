"""Ablation of SSC-SleepNet on simulated nights: a preset of ``benchmark.py``.

Trains the full model and each ablation (see ``benchmark.ABLATIONS``: plain cross-entropy, no
contrastive term, no N1 adaptation, no augmentation, single branches) and the spectral-feature
baseline on the same subject-wise folds, and prints macro-F1, N1-F1, kappa, per-stage F1, fit
time and the time to stage one night. Simulated data: the numbers say how the parts compare,
not how the model does on real sleep.

Usage::

    python benchmarks/ablation.py                          # 8 nights x 8 h, 4 folds
    python benchmarks/ablation.py --hours 4 --folds 2 --models ssc,ssc_ce_only
"""

import sys

from benchmark import ABLATIONS
from benchmark import main as benchmark_main


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    preset = [
        "--dataset",
        "simulated",
        "--subjects",
        "8",
        "--models",
        ",".join([*ABLATIONS, "features_gb"]),
        "--out",
        "ablation-results",
    ]
    return benchmark_main(preset + argv)  # later flags override the preset


if __name__ == "__main__":
    main()
