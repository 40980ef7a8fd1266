"""SSC-SleepNet sleep staging for MNE-Python and scikit-learn."""

from . import datasets, metrics
from ._epochs import STAGES, check_epochs, stage_indices
from ._version import __version__

__all__ = ["STAGES", "__version__", "check_epochs", "datasets", "metrics", "stage_indices"]
