"""Neighbouring epochs as context: both presets at context 0, 2, 5 and 10 against YASA-style
features, on the same subject-wise folds of full simulated nights (a preset of
``benchmark.py``).

Reports macro-F1, N1-F1, kappa and transitions per hour (predicted and true) per model, with
their spread over folds. The paper network runs at ``--paper-width`` (default 0.25 of its
channels) so that the grid fits a CPU; pass 1.0 on a GPU. ``--part lite`` or ``--part paper``
runs half of the grid (the paper half takes most of the time). Simulated data: the numbers say
how the settings compare, not how the model does on real sleep.

Usage::

    python benchmarks/context.py                  # 6 nights x 8 h, 3 folds (~2 h on 2 cores)
    python benchmarks/context.py --part lite      # the lite preset and the baselines only
    python benchmarks/context.py --paper-width 1 --device cuda
"""

import sys

from benchmark import main as benchmark_main

PARTS = {
    "lite": [
        "features_yasa",
        "features_gb",
        "lite",
        "lite_context2",
        "lite_context5",
        "lite_context10",
        "lite_context5_tf",
    ],
    "paper": ["paper", "paper_context2", "paper_context5", "paper_context10"],
}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    part = "all"
    if "--part" in argv:
        position = argv.index("--part")
        part = argv[position + 1]
        del argv[position : position + 2]
    models = PARTS["lite"] + PARTS["paper"] if part == "all" else PARTS[part]
    preset = [
        "--dataset",
        "simulated",
        "--subjects",
        "6",
        "--hours",
        "8",
        "--folds",
        "3",
        "--max-epochs",
        "15",
        "--paper-width",
        "0.25",
        "--models",
        ",".join(models),
        "--out",
        f"context-results-{part}",
    ]
    return benchmark_main(preset + argv)  # later flags override the preset


if __name__ == "__main__":
    main()
