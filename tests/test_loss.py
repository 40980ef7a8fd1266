import numpy as np
import pytest
import torch
from torch.nn import functional as F

from mne_sscsleep import AdaptiveLoss
from mne_sscsleep.nn import class_weights_from_counts, contrastive_loss, focal_cross_entropy


def test_focal_with_gamma_zero_is_weighted_cross_entropy():
    torch.manual_seed(0)
    logits, target = torch.randn(32, 5), torch.randint(0, 5, (32,))
    weight = torch.tensor([1.0, 3.0, 0.5, 1.2, 0.8])
    expected = F.cross_entropy(logits, target, weight=weight)
    for alpha in (0.0, 0.3, 1.0):
        got = focal_cross_entropy(logits, target, weight=weight, alpha=alpha, gamma=0.0)
        torch.testing.assert_close(got, expected)


def test_focal_down_weights_easy_examples():
    logits = torch.tensor([[5.0, 0, 0, 0, 0], [0.2, 0, 0, 0, 0]])
    target = torch.tensor([0, 0])
    ce = F.cross_entropy(logits, target, reduction="none")
    focal = [
        float(focal_cross_entropy(logits[[i]], target[[i]], alpha=0.0, gamma=2.0))
        for i in range(2)
    ]
    # The easy example loses far more of its loss than the hard one.
    assert focal[0] / float(ce[0]) < 0.01 < focal[1] / float(ce[1])


def test_contrastive_zero_for_identical_same_stage_and_positive_for_close_different():
    z = torch.randn(6, 8)
    same, different = torch.ones(6, dtype=torch.bool), torch.zeros(6, dtype=torch.bool)
    assert float(contrastive_loss(z, z.clone(), same)) == pytest.approx(0.0, abs=1e-6)
    close = z + 0.01 * torch.randn(6, 8)
    assert float(contrastive_loss(z, close, different, margin=1.0)) > 0.9
    # Different stages already beyond the margin cost nothing.
    assert float(contrastive_loss(z, -z, different, margin=1.0)) == pytest.approx(0.0, abs=1e-6)


def test_contrastive_term_only_on_pairs_and_only_across_branches():
    torch.manual_seed(0)
    logits, target = torch.randn(8, 5), torch.tensor([0, 0, 1, 2, 3, 3, 4, 1])
    u, v = torch.randn(8, 4), torch.randn(8, 4)
    for normalize in (False, True):  # the paper's raw Euclidean distance, or normalised
        loss = AdaptiveLoss(contrastive_weight=0.5, contrastive_normalize=normalize)
        base = loss((logits, u, v), target, paired=False)
        paired = loss((logits, u, v), target, paired=True)
        a, b = slice(0, 8, 2), slice(1, 8, 2)
        same = target[a] == target[b]
        # The paper's (1 / 2N) sum over pairs, averaged over both directions of each pair.
        expected = (
            0.5
            * 0.5
            * 0.5
            * (
                contrastive_loss(u[a], v[b], same, normalize=normalize)
                + contrastive_loss(u[b], v[a], same, normalize=normalize)
            )
        )
        torch.testing.assert_close(paired - base, expected)
        assert float(loss.terms_["cl"]) == pytest.approx(float(expected) / 0.5)
    assert float(AdaptiveLoss(contrastive_weight=0)((logits, u, v), target, True)) == (
        pytest.approx(float(base))
    )
    raw = torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]])
    assert float(contrastive_loss(*raw, torch.tensor([True]), normalize=False)) == (
        pytest.approx(25.0)
    )


def test_the_papers_mix_of_weighted_cross_entropy_and_focal_loss():
    torch.manual_seed(0)
    logits, target = torch.randn(32, 5), torch.randint(0, 5, (32,))
    counts = np.array([30, 10, 60, 20, 30])
    outputs = (logits, torch.zeros(32, 0), torch.zeros(32, 0))
    weights = torch.as_tensor(class_weights_from_counts(counts, "paper"))
    wce = F.cross_entropy(logits, target, weight=weights)
    p = F.softmax(logits, 1).gather(1, target[:, None]).squeeze(1)
    fl = (0.25 * (1 - p) ** 2 * -p.log()).mean()  # the paper's focal loss: not class-weighted
    for lam in (0.0, 0.75, 1.0):
        loss = AdaptiveLoss(lam=lam).set_class_counts(counts)
        torch.testing.assert_close(loss(outputs, target), (1 - lam) * wce + lam * fl)
        torch.testing.assert_close(loss.terms_["wce"], wce)
        torch.testing.assert_close(loss.terms_["fl"], fl)
    # The schedule changes lam, alpha and gamma on the criterion between epochs.
    loss.lam, loss.alpha, loss.gamma = 0.5, 1.0, 0.0
    torch.testing.assert_close(
        loss(outputs, target), 0.5 * wce + 0.5 * F.cross_entropy(logits, target)
    )
    assert loss.initial_ == {"lam": 1.0, "alpha": 0.25, "gamma": 2.0}


def test_the_lite_mix_is_the_earlier_formula():
    """lam = 0.5, alpha = 1, class-weighted focal loss: 0.5 WCE + 0.5 weighted FL, as before."""
    torch.manual_seed(0)
    logits, target = torch.randn(32, 5), torch.randint(0, 5, (32,))
    counts = np.array([30, 10, 60, 20, 30])
    lite = AdaptiveLoss(
        lam=0.5, alpha=1.0, class_weight="sqrt", focal_class_weight=True, contrastive_weight=0
    ).set_class_counts(counts)
    weight = torch.as_tensor(class_weights_from_counts(counts, "sqrt"))
    expected = focal_cross_entropy(logits, target, weight=weight, alpha=0.5, gamma=2.0)
    outputs = (logits, torch.zeros(32, 0), torch.zeros(32, 0))
    torch.testing.assert_close(lite(outputs, target), expected)


def test_loss_argument_errors():
    with pytest.raises(ValueError, match="lam must be in \\[0, 1\\]"):
        AdaptiveLoss(lam=1.5)
    with pytest.raises(ValueError, match="must be >= 0"):
        AdaptiveLoss(gamma=-1)


def test_n1_penalty_raises_loss_of_misclassified_n1_only():
    loss = AdaptiveLoss(class_weight=None, contrastive_weight=0)
    target = torch.tensor([1, 2])
    loss.set_class_counts([1, 1, 1, 1, 1])
    wrong_n1 = torch.tensor([[3.0, -3, 0, 0, 0], [0, 0, 3.0, 0, 0]])  # N1 called W
    right_n1 = torch.tensor([[0, 3.0, 0, 0, 0], [0, 0, 3.0, 0, 0]])
    outputs = lambda logits: (logits, None, None)  # noqa: E731
    before_wrong, before_right = (
        float(loss(outputs(wrong_n1), target)),
        float(loss(outputs(right_n1), target)),
    )
    loss.n1_weight = 3.0
    after_wrong, after_right = (
        float(loss(outputs(wrong_n1), target)),
        float(loss(outputs(right_n1), target)),
    )
    assert after_wrong > 1.3 * before_wrong
    assert after_right == pytest.approx(before_right, rel=0.1)


def test_paper_class_weights_keep_the_papers_order_and_average_one():
    counts = np.array([8285, 2804, 17799, 5703, 7717])  # Sleep-EDF-SC (Table I)
    weights = class_weights_from_counts(counts, "paper")
    assert weights.argmax() == 1 and weights.argmin() == 3  # N1 highest, N3 lowest
    assert weights[2] == weights[4] == weights[0]  # N2 and R comparable (equal), as W
    assert (weights * counts).sum() / counts.sum() == pytest.approx(1.0)
    # Count-based rules do not give that order: N3 is rarer than R, W and N2.
    for rule in ("balanced", "sqrt"):
        assert (
            class_weights_from_counts(counts, rule)[3] > class_weights_from_counts(counts, rule)[4]
        )


@pytest.mark.parametrize(
    "class_weight, expected",
    [
        ("balanced", [100 / (4 * 50), 100 / (4 * 10), 100 / (4 * 30), 100 / (4 * 10), 0.0]),
        ("sqrt", np.sqrt([100 / (4 * 50), 100 / (4 * 10), 100 / (4 * 30), 100 / (4 * 10), 0.0])),
        (None, [1, 1, 1, 1, 0]),
        ([1, 5, 1, 1, 1], [1, 5, 1, 1, 0]),
    ],
)
def test_class_weights_from_training_counts(class_weight, expected):
    weights = class_weights_from_counts([50, 10, 30, 10, 0], class_weight)
    np.testing.assert_allclose(weights, expected, rtol=1e-6)


@pytest.mark.parametrize("bad", ["inverse", [1, 2, 3], [1, -1, 1, 1, 1]])
def test_bad_class_weight(bad):
    with pytest.raises(ValueError, match="class_weight"):
        class_weights_from_counts([5, 5, 5, 5, 5], bad)


def test_set_class_counts_fills_the_buffer_and_keeps_the_parameter():
    loss = AdaptiveLoss(class_weight="balanced").set_class_counts([10, 10, 10, 10, 10])
    torch.testing.assert_close(loss.class_weights, torch.ones(5))
    assert loss.class_weight == "balanced"
    assert "class_weights" in loss.state_dict()
