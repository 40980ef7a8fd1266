r"""The adaptive loss of SSC-SleepNet: weighted cross-entropy + focal loss + contrastive term.

For a batch of epochs with true stages :math:`y_i`, predicted probabilities :math:`p_{i,c}`
(softmax of the logits) and class weights :math:`w_c`:

.. math::

    \mathrm{CE}_i = -\log p_{i,y_i}, \qquad
    \mathrm{FL}_i = -(1 - p_{i,y_i})^{\gamma} \log p_{i,y_i}

    L_\mathrm{cls} = \frac{\sum_i w_{y_i} m_i \left[\alpha\,\mathrm{CE}_i
        + (1-\alpha)\,\mathrm{FL}_i\right]}{\sum_i w_{y_i} m_i}

where :math:`\alpha` (``alpha``) weighs cross-entropy against focal loss and :math:`m_i` is the
N1 penalty: :math:`m_i = 1 + (\lambda - 1)(1 - p_{i,\mathrm{N1}})` for N1 epochs (treated as a
constant, not differentiated) and 1 otherwise. The more an N1 epoch is misclassified, the closer
its penalty comes to :math:`\lambda`. :math:`\lambda \ge 1` (``n1_weight``) is fitted state that
:class:`~mne_sscsleep.N1Adaptation` raises each training epoch with the recent N1 error.

With pairs :math:`(a, b)` and :math:`s = 1` for pairs of the same stage (0 otherwise), the
contrastive term compares the pair *across* the two branches, on L2-normalised embeddings
:math:`\hat z`:

.. math::

    d_{ab} = \lVert \hat z^\mathrm{SE}_a - \hat z^\mathrm{LSTM}_b \rVert_2, \qquad
    \ell_{ab} = s\, d_{ab}^2 + (1 - s) \max(0, \mu - d_{ab})^2

    L_\mathrm{con} = \tfrac{1}{2}\,\mathrm{mean}_{(a,b)} (\ell_{ab} + \ell_{ba})

with margin :math:`\mu` (``margin``). The total is
:math:`L = L_\mathrm{cls} + \beta L_\mathrm{con}` with :math:`\beta` = ``contrastive_weight``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._stages import N1, STAGES


def class_weights_from_counts(counts, class_weight="balanced"):
    """Per-stage loss weights from training counts.

    Parameters
    ----------
    counts : array-like of int, shape (5,)
        Training epochs per stage (W, N1, N2, N3, R).
    class_weight : ``'balanced'`` | ``'sqrt'`` | None | array-like, shape (5,)
        ``'balanced'``: :math:`w_c = n / (K n_c)` (scikit-learn's rule), ``'sqrt'``: its square
        root, None: all ones, or explicit weights in stage order. Absent stages get weight 0.

    Returns
    -------
    weights : ndarray of float32, shape (5,)
        One weight per stage, 0 for stages without training epochs.

    Examples
    --------
    >>> class_weights_from_counts([40, 10, 40, 10, 0], "balanced").tolist()
    [0.625, 2.5, 0.625, 2.5, 0.0]
    """
    counts = np.asarray(counts, dtype=float)
    present = counts > 0
    if class_weight is None:
        weights = np.ones(len(counts))
    elif isinstance(class_weight, str):
        if class_weight not in ("balanced", "sqrt"):
            raise ValueError(
                f"class_weight must be 'balanced', 'sqrt', None or 5 numbers, got "
                f"{class_weight!r}."
            )
        weights = np.zeros(len(counts))
        weights[present] = counts.sum() / (present.sum() * counts[present])
        if class_weight == "sqrt":
            weights = np.sqrt(weights)
    else:
        weights = np.asarray(class_weight, dtype=float)
        if (
            weights.shape != counts.shape
            or not np.all(np.isfinite(weights))
            or (weights < 0).any()
        ):
            raise ValueError(
                f"class_weight must hold {len(counts)} non-negative numbers (one per stage "
                f"{', '.join(STAGES)}), got {class_weight!r}."
            )
    return np.where(present, weights, 0.0).astype(np.float32)


def focal_cross_entropy(logits, target, *, weight=None, alpha=0.5, gamma=2.0, sample_weight=None):
    """Weighted mixture of cross-entropy and focal loss (the classification part of the loss).

    Parameters
    ----------
    logits : Tensor, shape (B, K)
        Unnormalised class scores.
    target : Tensor of int64, shape (B,)
        True classes.
    weight : Tensor, shape (K,) | None
        Class weights :math:`w_c`.
    alpha : float
        Share of cross-entropy; ``1 - alpha`` goes to focal loss.
    gamma : float
        Focusing parameter of the focal loss (0 turns it into cross-entropy).
    sample_weight : Tensor, shape (B,) | None
        Extra per-epoch weights :math:`m_i`.

    Returns
    -------
    loss : Tensor, scalar
        :math:`\\sum_i w_{y_i} m_i [\\alpha CE_i + (1-\\alpha) FL_i] / \\sum_i w_{y_i} m_i`;
        with ``gamma=0`` this equals ``torch.nn.functional.cross_entropy(logits, target,
        weight)``.

    Examples
    --------
    >>> logits, target = torch.tensor([[2.0, 0, 0, 0, 0]]), torch.tensor([0])
    >>> bool(focal_cross_entropy(logits, target, alpha=0.0) < F.cross_entropy(logits, target))
    True
    """
    log_p = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    focal = (1.0 - log_p.exp()).clamp(min=0.0).pow(gamma) if gamma else 1.0
    per_epoch = -(alpha + (1.0 - alpha) * focal) * log_p
    scale = weight[target] if weight is not None else torch.ones_like(log_p)
    if sample_weight is not None:
        scale = scale * sample_weight
    return (scale * per_epoch).sum() / scale.sum().clamp(min=torch.finfo(scale.dtype).tiny)


def contrastive_loss(z_a, z_b, same, margin=1.0):
    """Margin contrastive loss on L2-normalised embeddings (Hadsell et al., 2006).

    Parameters
    ----------
    z_a, z_b : Tensor, shape (P, D)
        Embeddings of the two sides of ``P`` pairs.
    same : Tensor of bool, shape (P,)
        Whether each pair shares a stage.
    margin : float
        Distance beyond which different-stage pairs cost nothing (distances are at most 2).

    Returns
    -------
    loss : Tensor, scalar
        ``mean(same * d**2 + (1 - same) * relu(margin - d)**2)``.

    Examples
    --------
    >>> z = torch.randn(4, 8)
    >>> float(contrastive_loss(z, z, torch.ones(4, dtype=torch.bool)))
    0.0
    """
    distance = (F.normalize(z_a, dim=1) - F.normalize(z_b, dim=1)).norm(dim=1)
    same = same.to(distance.dtype)
    return (same * distance**2 + (1 - same) * F.relu(margin - distance) ** 2).mean()


class AdaptiveLoss(nn.Module):
    """SSC-SleepNet's criterion: weighted CE + focal loss, N1 penalty and contrastive term.

    Weighted cross-entropy and focal loss are mixed by ``alpha``, misclassified N1 epochs get an
    adaptive penalty, and training pairs add a cross-branch contrastive term.

    The formulas are in the module docstring of ``mne_sscsleep.nn._loss`` and the user guide. Every
    constant is a constructor argument, so ``SSCSleepClassifier(criterion__gamma=...)`` and
    ``GridSearchCV`` reach it.

    Parameters
    ----------
    alpha : float
        Weighting factor: share of weighted cross-entropy (the rest is focal loss).
    gamma : float
        Focal-loss focusing parameter.
    class_weight : ``'balanced'`` | ``'sqrt'`` | None | array-like, shape (5,)
        How class weights follow the training counts (see :func:`class_weights_from_counts`),
        or explicit weights in stage order W, N1, N2, N3, R.
    contrastive_weight : float
        :math:`\\beta`, weight of the contrastive term (0 switches it off).
    margin : float
        Margin :math:`\\mu` of the contrastive term, in L2-normalised embedding distance.

    Attributes
    ----------
    class_weights : Tensor, shape (5,)
        Fitted by :meth:`set_class_counts` when the classifier fits (a buffer, saved with the
        criterion's state).
    n1_weight : float
        Current :math:`\\lambda`, set by :class:`~mne_sscsleep.N1Adaptation` (1 = no extra
        penalty).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from mne_sscsleep import SSCSleepNet
    >>> criterion = AdaptiveLoss(gamma=2.0).set_class_counts(np.array([100, 20, 300, 80, 100]))
    >>> outputs = SSCSleepNet()(20e-6 * torch.randn(4, 1, 3000))
    >>> loss = criterion(outputs, torch.tensor([0, 1, 1, 2]), paired=True)
    >>> loss.ndim, bool(loss > 0)
    (0, True)
    """

    def __init__(
        self, alpha=0.5, gamma=2.0, class_weight="sqrt", contrastive_weight=0.1, margin=1.0
    ):
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma
        self.class_weight = class_weight
        self.contrastive_weight = contrastive_weight
        self.margin = margin
        self.register_buffer("class_weights", torch.ones(len(STAGES)))
        self.n1_weight = 1.0

    def set_class_counts(self, counts):
        """Fit the class weights to the training counts per stage.

        Parameters
        ----------
        counts : array-like of int, shape (5,)
            Training epochs per stage.

        Returns
        -------
        self : AdaptiveLoss
            The criterion, with its class weights set.
        """
        weights = class_weights_from_counts(counts, self.class_weight)
        self.class_weights.copy_(torch.as_tensor(weights))
        return self

    def forward(self, outputs, target, paired=False):
        """Loss of a batch.

        Parameters
        ----------
        outputs : tuple of Tensor
            ``(logits (B, 5), z_se (B, D), z_lstm (B, D))`` from
            :class:`SSCSleepNet`.
        target : Tensor of int64, shape (B,)
            Stage indices.
        paired : bool
            Whether rows ``2k`` and ``2k + 1`` form a training pair (then the contrastive term
            is added).

        Returns
        -------
        loss : Tensor, scalar
            The loss of the batch.
        """
        logits, z_se, z_lstm = outputs
        target = target.long()
        sample_weight = None
        if self.n1_weight != 1.0:
            with torch.no_grad():
                p_n1 = F.softmax(logits, dim=1)[:, N1]
                sample_weight = torch.where(
                    target == N1, 1.0 + (self.n1_weight - 1.0) * (1.0 - p_n1), 1.0
                )
        loss = focal_cross_entropy(
            logits,
            target,
            weight=self.class_weights.to(logits.dtype),
            alpha=self.alpha,
            gamma=self.gamma,
            sample_weight=sample_weight,
        )
        both_branches = z_se is not None and z_lstm is not None and z_se.numel() and z_lstm.numel()
        if paired and self.contrastive_weight and both_branches:
            n_pairs = len(target) // 2
            a, b = slice(0, 2 * n_pairs, 2), slice(1, 2 * n_pairs, 2)
            same = target[a] == target[b]
            contrastive = 0.5 * (
                contrastive_loss(z_se[a], z_lstm[b], same, self.margin)
                + contrastive_loss(z_se[b], z_lstm[a], same, self.margin)
            )
            loss = loss + self.contrastive_weight * contrastive
        return loss
