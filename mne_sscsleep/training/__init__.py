"""The skorch side of training: pair sampling, data loaders and callbacks.

Nothing here imports the input boundary: the loaders take the skorch ``Dataset`` the classifier
builds, the callbacks read the net's history and outputs.
"""

from ._callbacks import EarlyStopping, N1Adaptation
from ._loaders import EpochLoader, PairLoader, resolve_dataset
from ._sampling import PairBatchSampler, SequentialBatchSampler, sample_pairs

__all__ = [
    "EarlyStopping",
    "EpochLoader",
    "N1Adaptation",
    "PairBatchSampler",
    "PairLoader",
    "SequentialBatchSampler",
    "resolve_dataset",
    "sample_pairs",
]
