"""SSC-SleepNet sleep staging for MNE-Python and scikit-learn.

Attributes load on first use (as in MNE-Python), so ``mne-sscsleep --help`` and
``import mne_sscsleep`` do not import torch until a model is needed.
"""

import importlib

from ._version import __version__ as __version__

# Public name -> the submodule that defines it (None: the name is a submodule itself).
_LAZY = {
    "STAGES": "._stages",
    "stage_indices": "._stages",
    "StageEncoder": "._stages",
    "SSCSleepClassifier": "._classifier",
    "check_epochs": "._epochs",
    "model_info": ".io",
    "AdaptiveLoss": ".nn",
    "CNNLSTMBranch": ".nn",
    "SEResNetBranch": ".nn",
    "SSCSleepNet": ".nn",
    "Hypnogram": ".hypnogram",
    "stage": ".staging",
    "stage_many": ".batch",
    "EpochStore": ".datasets.store",
    "EpochLoader": ".training",
    "N1Adaptation": ".training",
    "PairLoader": ".training",
    "batch": None,
    "datasets": None,
    "hypnogram": None,
    "io": None,
    "metrics": None,
    "nn": None,
    "staging": None,
    "training": None,
    "viz": None,
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _LAZY[name]
    if module is None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return __all__
