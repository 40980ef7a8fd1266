"""The paper's ablations on simulated nights: a preset of ``benchmark.py``.

Trains, on the same subject-wise folds, the model variants of the paper's Fig. 3 (CNN-LSTM
alone, SE-ResNet alone, two CNN-LSTMs, two SE-ResNets, SSC-SleepNet), the loss variants of its
Fig. 4 (WCE, FL, CL, WCE+FL, WCE+CL, WCE+FL+CL with lambda fixed at 0.75, and the adaptive
schedule), the N1-focused schedule of its Table VII, the lite preset and the spectral-feature
baseline, and prints each one's scores beside the paper's. The paper network runs at
``--paper-width`` (default 0.25 of its channels) so that the grid fits a CPU; pass 1.0 on a GPU.
Simulated data: the numbers say how the parts compare, not how the model does on real sleep.

Usage::

    python benchmarks/ablation.py                  # 6 nights x 4 h, 3 folds, ~1.5 h on 2 cores
    python benchmarks/ablation.py --paper-width 1 --hours 8 --device cuda
"""

import sys

from benchmark import ABLATIONS
from benchmark import main as benchmark_main

MODELS = [name for name in ABLATIONS if name.startswith("paper")] + ["lite", "features_gb"]


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    preset = [
        "--dataset",
        "simulated",
        "--subjects",
        "6",
        "--hours",
        "4",
        "--folds",
        "3",
        "--max-epochs",
        "20",
        "--paper-width",
        "0.25",
        "--models",
        ",".join(MODELS),
        "--out",
        "ablation-results",
    ]
    return benchmark_main(preset + argv)  # later flags override the preset


if __name__ == "__main__":
    main()
