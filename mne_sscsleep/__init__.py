"""SSC-SleepNet sleep staging for MNE-Python and scikit-learn."""

from . import datasets, metrics, viz
from ._classifier import N1Adaptation, SSCSleepClassifier
from ._epochs import STAGES, check_epochs, stage_indices
from ._loss import AdaptiveLoss
from ._model import CNNLSTMBranch, SEResNetBranch, SSCSleepNet
from ._pairs import EpochLoader, PairLoader
from ._staging import Hypnogram, stage
from ._version import __version__

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
    "metrics",
    "stage",
    "stage_indices",
    "viz",
]
