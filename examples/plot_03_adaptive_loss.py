"""
.. _ex-adaptive-loss:

The adaptive loss at work: N1 weight and confusion matrices
============================================================

SSC-SleepNet's adaptive loss mixes weighted cross-entropy with focal loss and raises the penalty
on misclassified N1 as training goes (:class:`~mne_sscsleep.N1Adaptation`). Here the same model
is trained twice on the same simulated nights: once with plain cross-entropy, once with the
adaptive loss, and tested on a held-out subject.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import simulate_sleep_epochs
from mne_sscsleep.metrics import sleep_report
from mne_sscsleep.viz import plot_confusion_matrix

epochs, y, groups = simulate_sleep_epochs(4, hours=3.0, random_state=2, verbose="error")
X = epochs.get_data().astype(np.float32)
train, test = groups < 3, groups == 3

# %%
# Two models, one difference
# --------------------------
# The ``'lite'`` preset (fast on a CPU; the paper preset's schedule is the next example). Plain
# cross-entropy is the adaptive loss with ``lam=0`` (no focal part), no class weights, no
# contrastive term and no N1 adaptation (``gain=0``).
common = dict(preset="lite", max_epochs=10, random_state=0, verbose=0)
plain = SSCSleepClassifier(
    criterion__lam=0.0,
    criterion__class_weight=None,
    criterion__contrastive_weight=0.0,
    callbacks__n1_adaptation__gain=0.0,
    **common,
)
adaptive = SSCSleepClassifier(**common)
for model in (plain, adaptive):
    model.fit(X[train], y[train])

# %%
# The N1 weight over training
# ---------------------------
# After each training epoch, :class:`~mne_sscsleep.N1Adaptation` sets the N1 penalty
# :math:`\lambda` from the smoothed share of validation N1 epochs the model got wrong. The
# history records both.
history = adaptive.history
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(history[:, "epoch"], history[:, "n1_weight"], "o-", label=r"N1 weight $\lambda$")
ax.plot(history[:, "epoch"], history[:, "n1_error"], "s--", label="validation N1 error")
ax.plot(history[:, "epoch"], history[:, "valid_n1_f1"], "^:", label="validation N1-F1")
ax.set(xlabel="training epoch", ylim=(0, None), title="Adaptive N1 penalty")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Held-out subject
# ----------------
for name, model in (("cross-entropy", plain), ("adaptive loss", adaptive)):
    report = sleep_report(y[test], model.predict(X[test]))
    print(f"{name}: macro-F1 {report.macro_f1:.3f}, N1-F1 {report.n1_f1:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
for ax, (name, model) in zip(axes, (("cross-entropy", plain), ("adaptive loss", adaptive))):
    plot_confusion_matrix(y[test], model.predict(X[test]), ax=ax)
    ax.set_title(name)
fig.tight_layout()
plt.show()

# %%
# One held-out night is a noisy comparison: on these simulated nights the adaptive loss helps
# N1 most when training data are scarce, and the benchmark in ``benchmarks/ablation.py``
# compares the variants over subject-wise folds (see the Benchmarks page).
