"""SSC-SleepNet sleep staging for MNE-Python and scikit-learn."""

from . import datasets, io, metrics, nn, training, viz
from ._classifier import SSCSleepClassifier
from ._epochs import check_epochs
from ._stages import STAGES, stage_indices
from ._version import __version__
from .io import model_info
from .nn import AdaptiveLoss, CNNLSTMBranch, SEResNetBranch, SSCSleepNet
from .staging import Hypnogram, stage
from .training import EpochLoader, N1Adaptation, PairLoader

__all__ = [
    "STAGES",
    "AdaptiveLoss",
    "CNNLSTMBranch",
    "EpochLoader",
    "Hypnogram",
    "N1Adaptation",
    "PairLoader",
    "SEResNetBranch",
    "SSCSleepClassifier",
    "SSCSleepNet",
    "__version__",
    "check_epochs",
    "datasets",
    "io",
    "metrics",
    "model_info",
    "nn",
    "stage",
    "stage_indices",
    "training",
    "viz",
]
