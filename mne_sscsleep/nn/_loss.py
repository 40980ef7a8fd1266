r"""The adaptive loss of SSC-SleepNet: weighted cross-entropy, focal loss and a contrastive term.

For a batch of epochs with true stages :math:`y_i`, predicted probabilities :math:`p_{i,c}`
(softmax of the logits) and class weights :math:`w_c`, the paper's loss (Eqs. 1-6) is

.. math::

    L = (1 - \lambda)\,\mathrm{WCE} + \lambda\,\mathrm{FL} + \beta\,\mathrm{CL}

    \mathrm{WCE} = \frac{\sum_i w_{y_i} m_i\,(-\log p_{i,y_i})}{\sum_i w_{y_i} m_i}, \qquad
    \mathrm{FL} = \frac{\sum_i v_i\,\alpha\,(1 - p_{i,y_i})^{\gamma}\,(-\log p_{i,y_i})}
        {\sum_i v_i}

with :math:`\lambda` (``lam``), :math:`\alpha` and :math:`\gamma` the quantities the paper
adapts after each training pass (:class:`mne_sscsleep.training.LossSchedule`), :math:`v_i = m_i`
(the paper's focal loss, not class-weighted) or :math:`v_i = w_{y_i} m_i`
(``focal_class_weight=True``), and :math:`m_i` an optional N1 penalty:
:math:`m_i = 1 + (\rho - 1)(1 - p_{i,\mathrm{N1}})` for N1 epochs (a constant, not
differentiated) and 1 otherwise, :math:`\rho` = ``n1_weight``, which
:class:`~mne_sscsleep.N1Adaptation` raises with the recent N1 error (1 leaves it out).

With pairs :math:`(a, b)` of epochs and :math:`s = 1` for pairs of the same stage (0 otherwise),
the contrastive term compares the pair *across* the two branches (the first branch's embedding
:math:`u` of one epoch with the second branch's :math:`v` of the other), the paper's Eq. 6:

.. math::

    D_{ab} = \lVert u_a - v_b \rVert_2, \qquad
    \mathrm{CL} = \frac{1}{2N} \sum_{(a,b)} \left[ s\, D_{ab}^2
        + (1 - s) \max(0, \mu - D_{ab})^2 \right]

averaged over both directions :math:`(a, b)` and :math:`(b, a)`, with margin :math:`\mu`
(``margin``), on raw embeddings (the paper's Euclidean distance) or L2-normalised ones
(``contrastive_normalize=True``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._stages import N1, STAGES

#: Relative class weights of ``class_weight='paper'`` in stage order (see
#: :func:`class_weights_from_counts`).
PAPER_CLASS_WEIGHTS = (1.0, 2.0, 1.0, 0.75, 1.0)


def class_weights_from_counts(counts, class_weight="balanced"):
    """Per-stage loss weights from training counts.

    Parameters
    ----------
    counts : array-like of int, shape (5,)
        Training epochs per stage (W, N1, N2, N3, R).
    class_weight : ``'paper'`` | ``'balanced'`` | ``'sqrt'`` | None | array-like, shape (5,)
        ``'balanced'``: :math:`w_c = n / (K n_c)` (scikit-learn's rule), ``'sqrt'``: its square
        root, None: all ones, or explicit weights in stage order.
        ``'paper'``: the order the paper states (N1 highest, N3 lowest, N2 and R comparable),
        relative weights W 1, N1 2, N2 1, N3 0.75, R 1, scaled so that the average weight over
        the training epochs is 1. No rule computed from counts alone gives the paper's order: N3
        is rarer than R, W and N2 (Sleep-EDF-SC: 5,703 N3 epochs against 7,717 R), so any
        weight that falls with the count puts N3 second, not last. N1's 2 is about the square
        root of its under-representation (Sleep-EDF-SC: 2,804 epochs, 3.0x fewer than the mean
        stage, sqrt 1.7). Absent stages get weight 0.

    Returns
    -------
    weights : ndarray of float32, shape (5,)
        One weight per stage, 0 for stages without training epochs.

    Examples
    --------
    >>> class_weights_from_counts([40, 10, 40, 10, 0], "balanced").tolist()
    [0.625, 2.5, 0.625, 2.5, 0.0]
    >>> weights = class_weights_from_counts([8285, 2804, 17799, 5703, 7717], "paper")
    >>> [round(float(weight), 2) for weight in weights]  # Sleep-EDF-SC's counts
    [0.97, 1.94, 0.97, 0.73, 0.97]
    """
    counts = np.asarray(counts, dtype=float)
    present = counts > 0
    if class_weight is None:
        weights = np.ones(len(counts))
    elif isinstance(class_weight, str):
        if class_weight not in ("paper", "balanced", "sqrt"):
            raise ValueError(
                f"class_weight must be 'paper', 'balanced', 'sqrt', None or 5 numbers, got "
                f"{class_weight!r}."
            )
        weights = np.zeros(len(counts))
        if class_weight == "paper":
            relative = np.asarray(PAPER_CLASS_WEIGHTS)
            weights[present] = relative[present] * counts.sum() / (relative * counts).sum()
        else:
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
    """Weighted mixture of cross-entropy and focal loss, normalised by the weights.

    ``alpha`` is the share of cross-entropy: :math:`\\sum_i s_i [\\alpha CE_i + (1 - \\alpha)
    FL_i] / \\sum_i s_i` with :math:`s_i = w_{y_i} m_i`. :class:`AdaptiveLoss` with
    ``lam = 1 - alpha``, ``alpha=1`` and ``focal_class_weight=True`` computes the same.

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
        With ``gamma=0`` this equals ``torch.nn.functional.cross_entropy(logits, target,
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


def contrastive_loss(z_a, z_b, same, margin=1.0, normalize=True):
    """Margin contrastive loss (Hadsell et al., 2006), without the paper's 1/2 factor.

    Parameters
    ----------
    z_a, z_b : Tensor, shape (P, D)
        Embeddings of the two sides of ``P`` pairs.
    same : Tensor of bool, shape (P,)
        Whether each pair shares a stage.
    margin : float
        Distance beyond which different-stage pairs cost nothing.
    normalize : bool
        Compare L2-normalised embeddings (distances are then at most 2).

    Returns
    -------
    loss : Tensor, scalar
        ``mean(same * d**2 + (1 - same) * relu(margin - d)**2)``.

    Examples
    --------
    >>> z = torch.randn(4, 8)
    >>> round(float(contrastive_loss(z, z, torch.ones(4, dtype=torch.bool))), 6)
    0.0
    """
    if normalize:
        z_a, z_b = F.normalize(z_a, dim=1), F.normalize(z_b, dim=1)
    distance = (z_a - z_b).pow(2).sum(dim=1).add(1e-12).sqrt()
    same = same.to(distance.dtype)
    return (same * distance**2 + (1 - same) * F.relu(margin - distance) ** 2).mean()


class AdaptiveLoss(nn.Module):
    """SSC-SleepNet's criterion: ``(1 - lam) WCE + lam FL + contrastive_weight CL``.

    The formulas are in the module docstring of ``mne_sscsleep.nn._loss`` and the user guide.
    ``lam``, ``alpha`` and ``gamma`` are the starting values of the quantities the paper adapts
    after each training pass (:class:`mne_sscsleep.training.LossSchedule` sets the current ones
    on the criterion); ``n1_weight`` is this package's N1 penalty (:class:`N1Adaptation`).
    Every constant is a constructor argument, reachable as ``criterion__*``; the presets of
    :class:`~mne_sscsleep.SSCSleepClassifier` fill them.

    Parameters
    ----------
    lam : float
        :math:`\\lambda` in [0, 1]: share of focal loss against weighted cross-entropy (the
        paper starts at 0.75).
    alpha : float
        Focal-loss factor :math:`\\alpha` (the paper starts at 0.25).
    gamma : float
        Focal-loss focusing parameter :math:`\\gamma` (the paper starts at 2).
    class_weight : ``'paper'`` | ``'balanced'`` | ``'sqrt'`` | None | array-like, shape (5,)
        Class weights of the weighted cross-entropy (see :func:`class_weights_from_counts`).
    focal_class_weight : bool
        Weight the focal loss by the class weights too (the paper does not).
    contrastive_weight : float
        :math:`\\beta`, weight of the contrastive term (the paper adds it as it is: 1; 0
        switches it off).
    margin : float
        Margin :math:`\\mu` of the contrastive term (the paper's value is not given; 1 is half
        the largest distance between normalised embeddings).
    contrastive_normalize : bool
        Measure the Euclidean distance between L2-normalised embeddings (default). On raw
        embeddings (False, the paper's words read literally) a fixed margin has no scale: the
        pull of same-stage pairs shrinks every embedding below the margin, the distance the
        head reads vanishes, and training collapsed to one stage in our runs (see the user
        guide).

    Attributes
    ----------
    class_weights : Tensor, shape (5,)
        Fitted by :meth:`set_class_counts` when the classifier fits (a buffer, saved with the
        criterion's state).
    n1_weight : float
        Current N1 penalty :math:`\\rho`, set by :class:`N1Adaptation` (1 = none).
    initial_ : dict
        The starting ``lam``, ``alpha`` and ``gamma`` (the schedule replays its steps from them).
    terms_ : dict of Tensor
        WCE, FL and CL of the last batch, detached (what the schedule compares).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from mne_sscsleep.nn import SSCSleepNetLite
    >>> criterion = AdaptiveLoss().set_class_counts(np.array([100, 20, 300, 80, 100]))
    >>> outputs = SSCSleepNetLite()(20e-6 * torch.randn(4, 1, 3000))
    >>> loss = criterion(outputs, torch.tensor([0, 1, 1, 2]), paired=True)
    >>> loss.ndim, bool(loss > 0), sorted(criterion.terms_)
    (0, True, ['cl', 'fl', 'wce'])
    """

    def __init__(
        self,
        lam=0.75,
        alpha=0.25,
        gamma=2.0,
        class_weight="paper",
        focal_class_weight=False,
        contrastive_weight=1.0,
        margin=1.0,
        contrastive_normalize=True,
    ):
        super().__init__()
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"lam must be in [0, 1], got {lam}.")
        if alpha < 0 or gamma < 0 or contrastive_weight < 0 or margin < 0:
            raise ValueError(
                "alpha, gamma, contrastive_weight and margin must be >= 0; got "
                f"alpha={alpha}, gamma={gamma}, contrastive_weight={contrastive_weight}, "
                f"margin={margin}."
            )
        self.lam = lam
        self.alpha = alpha
        self.gamma = gamma
        self.class_weight = class_weight
        self.focal_class_weight = focal_class_weight
        self.contrastive_weight = contrastive_weight
        self.margin = margin
        self.contrastive_normalize = contrastive_normalize
        self.register_buffer("class_weights", torch.ones(len(STAGES)))
        self.n1_weight = 1.0
        self.initial_ = {"lam": lam, "alpha": alpha, "gamma": gamma}
        self.terms_ = {}

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
            ``(logits (B, 5), u (B, D), v (B, D))`` from :class:`SSCSleepNet` or
            :class:`SSCSleepNetLite` (an empty ``v`` for single-branch networks).
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
        logits, u, v = outputs
        target = target.long()
        log_p = F.log_softmax(logits.float(), dim=1)
        nll = -log_p.gather(1, target[:, None]).squeeze(1)
        penalty = torch.ones_like(nll)
        if self.n1_weight != 1.0:
            with torch.no_grad():
                p_n1 = log_p[:, N1].exp()
                penalty = torch.where(
                    target == N1, 1.0 + (self.n1_weight - 1.0) * (1.0 - p_n1), 1.0
                )
        tiny = torch.finfo(nll.dtype).tiny
        class_scale = self.class_weights.to(nll.dtype)[target] * penalty
        wce = (class_scale * nll).sum() / class_scale.sum().clamp(min=tiny)
        focal_scale = class_scale if self.focal_class_weight else penalty
        modulation = (1.0 - (-nll).exp()).clamp(min=0.0).pow(self.gamma) if self.gamma else 1.0
        fl = (focal_scale * self.alpha * modulation * nll).sum() / focal_scale.sum().clamp(
            min=tiny
        )
        loss = (1.0 - self.lam) * wce + self.lam * fl
        cl = torch.zeros((), device=loss.device)
        if paired and self.contrastive_weight and u.numel() and v.numel():
            n_pairs = len(target) // 2
            a, b = slice(0, 2 * n_pairs, 2), slice(1, 2 * n_pairs, 2)
            same = target[a] == target[b]
            # The paper's 1 / (2N): half the mean, over both directions of each pair.
            cl = 0.25 * (
                contrastive_loss(u[a], v[b], same, self.margin, self.contrastive_normalize)
                + contrastive_loss(u[b], v[a], same, self.margin, self.contrastive_normalize)
            )
            loss = loss + self.contrastive_weight * cl
        # Detached tensors: reading them (a device sync) is left to whoever needs them.
        self.terms_ = {"wce": wce.detach(), "fl": fl.detach(), "cl": cl.detach()}
        return loss
