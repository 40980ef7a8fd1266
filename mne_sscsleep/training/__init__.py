"""The skorch side of training: pair sampling, data loaders, callbacks and presets.

Nothing here imports the input boundary: the loaders take the skorch ``Dataset`` the classifier
builds, the callbacks read the net's history and outputs.
"""

from ._callbacks import (
    EarlyStopping,
    LossSchedule,
    LRPlateau,
    N1Adaptation,
    PassTimeEstimate,
    chance_macro_f1,
    is_interactive,
    print_line,
)
from ._checkpoints import VersionedCheckpoint, fit_resumable, latest_checkpoint
from ._distributed import DistributedSync, check_device, is_main_process, process_group
from ._finetune import STARTING_POINTS, check_state_shapes, load_pretrained, starting_point
from ._loaders import EpochLoader, PairLoader, resolve_dataset
from ._presets import PRESETS, Preset, get_preset
from ._sampling import PairBatchSampler, SequentialBatchSampler, sample_pairs
from ._splits import (
    MIN_TRAINING_EPOCHS,
    RecordingSplit,
    check_training_size,
    validation_note,
)

__all__ = [
    "DistributedSync",
    "EarlyStopping",
    "EpochLoader",
    "LRPlateau",
    "LossSchedule",
    "N1Adaptation",
    "PairBatchSampler",
    "PRESETS",
    "PairLoader",
    "PassTimeEstimate",
    "Preset",
    "RecordingSplit",
    "SequentialBatchSampler",
    "STARTING_POINTS",
    "VersionedCheckpoint",
    "MIN_TRAINING_EPOCHS",
    "chance_macro_f1",
    "check_device",
    "check_state_shapes",
    "check_training_size",
    "fit_resumable",
    "get_preset",
    "is_interactive",
    "is_main_process",
    "latest_checkpoint",
    "load_pretrained",
    "print_line",
    "process_group",
    "resolve_dataset",
    "sample_pairs",
    "starting_point",
    "validation_note",
]
