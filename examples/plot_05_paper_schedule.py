"""
The paper preset: its network and its loss schedule
===================================================

``SSCSleepClassifier(preset='paper')`` (the default) is SSC-SleepNet as the paper specifies it:
an SE-ResNet branch and a CNN-LSTM branch fused by the distance of their outputs, trained with
``(1 - lam) WCE + lam FL + CL`` whose ``alpha``, ``gamma`` and ``lam`` move by fixed steps after
each training pass. This example trains it on simulated nights and plots those trajectories.

The paper's network has 4.4 M parameters; to build this page in a minute on a CPU, its layers
keep their kinds and order but get a quarter of the channels (``module__*``). Simulated data,
and few of them: the point is the schedule, not the scores.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import simulate_sleep_epochs
from mne_sscsleep.metrics import sleep_report
from mne_sscsleep.nn import SSCSleepNet, multiply_adds

epochs, y, groups = simulate_sleep_epochs(3, hours=4.0, random_state=4, verbose="error")
X = epochs.get_data().astype(np.float32)
train, test = groups < 2, groups == 2

full = SSCSleepNet()
print(
    f"the paper's network: {sum(p.numel() for p in full.parameters()):,} parameters, "
    f"{multiply_adds(full, 3000) / 1e6:.0f} M multiply-adds per 30-s epoch"
)

# %%
# Train the paper preset
# ----------------------
quarter = dict(
    module__se_widths=(16, 32, 64, 128),
    module__cnn_filters=(16, 8, 32, 64),
    module__lstm_units=32,
    module__embedding_dim=32,
    module__head_widths=(32, 16),
)
clf = SSCSleepClassifier(preset="paper", max_epochs=12, random_state=0, verbose=0, **quarter)
clf.fit(X[train], y[train])
print(sleep_report(y[test], clf.predict(X[test])))

# %%
# After 12 passes on these few simulated nights the quarter-width network stages only W and N2
# well (macro-F1 about 0.33 on this run). On small data the paper preset starts slowly and, in
# the ablations on the :doc:`/benchmarks` page, stays behind the lite preset: use
# ``preset='lite'`` on a CPU, and the paper preset with a GPU and full nights.

# %%
# The schedule
# ------------
# After each pass, ``alpha`` and ``gamma`` grow by a step when the validation accuracy beats
# the previous epoch's (a reference of 0.7 at first) and shrink otherwise; ``lam`` grows when
# the weighted cross-entropy's share of the loss exceeds the focal loss's
# (:class:`~mne_sscsleep.training.LossSchedule`). The history records the values each epoch
# trained with, and the quantities that moved them.
history = clf.history
epoch = history[:, "epoch"]
fig, axes = plt.subplots(3, 1, figsize=(7, 6.5), sharex=True, layout="constrained")
axes[0].step(epoch, history[:, "alpha"], where="post", label=r"$\alpha$ (focal factor)")
axes[0].step(epoch, history[:, "lam"], where="post", label=r"$\lambda$ (focal share)")
axes[0].set(ylim=(0, 1), ylabel="value")
axes[0].legend(loc="lower left")
axes[1].step(epoch, history[:, "gamma"], where="post", color="tab:green")
axes[1].set(ylim=(-0.2, 5.2), ylabel=r"$\gamma$")
axes[2].plot(epoch, history[:, "loss_wce"], "o-", label="WCE")
axes[2].plot(epoch, history[:, "loss_fl"], "s-", label="FL")
axes[2].plot(epoch, history[:, "loss_cl"], "^-", label="CL")
axes[2].plot(epoch, history[:, "schedule_acc"], "k--", label="validation accuracy")
axes[2].set(xlabel="training epoch", ylabel="per epoch")
axes[2].legend(loc="upper right", fontsize="small")
fig.suptitle("The paper's loss schedule")
plt.show()

# %%
# The learning rate
# -----------------
# Adam with ReduceLROnPlateau on the validation loss
# (:class:`~mne_sscsleep.training.LRPlateau`): the rate halves after two epochs without
# improvement.
print(dict(zip(epoch, history[:, "lr"])))
