"""The network, its loss and its augmentation: plain ``torch.nn`` modules.

Nothing here imports the input boundary, scikit-learn or skorch: these modules take tensors and
give tensors, so they can be used in any PyTorch training loop.
"""

from ._augment import Augmentation
from ._branches import CNNLSTMBranch, SEResidualBlock, SEResNetBranch, SqueezeExcitation
from ._loss import AdaptiveLoss, class_weights_from_counts, contrastive_loss, focal_cross_entropy
from ._network import SSCSleepNet, stage_softmax

__all__ = [
    "AdaptiveLoss",
    "Augmentation",
    "CNNLSTMBranch",
    "SEResNetBranch",
    "SEResidualBlock",
    "SSCSleepNet",
    "SqueezeExcitation",
    "class_weights_from_counts",
    "contrastive_loss",
    "focal_cross_entropy",
    "stage_softmax",
]
