"""The networks, their loss and augmentation: plain ``torch.nn`` modules.

Nothing here imports the input boundary, scikit-learn or skorch: these modules take tensors and
give tensors, so they can be used in any PyTorch training loop. :class:`SSCSleepNet` is the
paper's network (``preset='paper'``), :class:`SSCSleepNetLite` this package's fast CPU design
(``preset='lite'``).
"""

from ._augment import Augmentation
from ._blocks import (
    ChannelLayerNorm,
    SEResidualBlock,
    SqueezeExcitation,
    multiply_adds,
    stage_softmax,
)
from ._context import CONTEXT_MODELS, ContextNet
from ._lite import CNNLSTMBranchLite, SEResNetBranchLite, SSCSleepNetLite
from ._loss import AdaptiveLoss, class_weights_from_counts, contrastive_loss, focal_cross_entropy
from ._paper import CNNLSTMBranch, SEResNetBranch, SSCSleepNet
from ._spectral import SPECTRAL_BANDS, SpectralFeatures

__all__ = [
    "AdaptiveLoss",
    "CONTEXT_MODELS",
    "Augmentation",
    "CNNLSTMBranch",
    "CNNLSTMBranchLite",
    "ChannelLayerNorm",
    "ContextNet",
    "SEResNetBranch",
    "SEResNetBranchLite",
    "SEResidualBlock",
    "SSCSleepNet",
    "SSCSleepNetLite",
    "SPECTRAL_BANDS",
    "SpectralFeatures",
    "SqueezeExcitation",
    "class_weights_from_counts",
    "contrastive_loss",
    "focal_cross_entropy",
    "multiply_adds",
    "stage_softmax",
]
