"""
.. _ex-quickstart:

Quick start: fit on ``mne.Epochs``, report, plot a hypnogram
=============================================================

Train SSC-SleepNet on three simulated nights, stage a fourth night it has never seen, and look
at the result the way a sleep researcher would: a per-stage report, a confusion matrix and the
hypnogram with the stage probabilities.
"""

# %%
# Simulated nights
# ----------------
# :func:`~mne_sscsleep.datasets.simulate_sleep_epochs` returns :class:`mne.Epochs` of one EEG
# channel (Fpz-Cz, 100 Hz, volts), the stage of each epoch and the subject it belongs to.
# Simulated data only show how the package works.
import matplotlib.pyplot as plt
import numpy as np

from mne_sscsleep import STAGES, SSCSleepClassifier, stage, stage_indices
from mne_sscsleep.datasets import simulate_sleep_epochs, simulate_sleep_raw
from mne_sscsleep.metrics import sleep_report
from mne_sscsleep.viz import plot_confusion_matrix, plot_hypnogram

epochs, y, groups = simulate_sleep_epochs(3, hours=4.0, random_state=0, verbose="error")
print(epochs)
print({name: int((y == name).sum()) for name in ("W", "N1", "N2", "N3", "R")})

# %%
# Fit
# ---
# :class:`~mne_sscsleep.SSCSleepClassifier` is a skorch ``NeuralNetClassifier``: ``fit`` takes
# the epochs and labels (with ``y=None`` it reads them from ``epochs.events``). A stratified
# 10 % is held out to stop early on validation macro-F1. A real run would use more nights and
# the default 30 passes; 8 keep this example short. The ``'lite'`` preset trains in seconds on
# a laptop CPU; the default ``'paper'`` preset is the paper's 4.4-M-parameter network (about
# 100 times slower to train, best on a GPU).
clf = SSCSleepClassifier(preset="lite", max_epochs=8, random_state=0, verbose=1)
clf.fit(epochs, y)

# %%
# Report on a night the model has never seen
# -------------------------------------------
# Another simulated subject, as a continuous recording with its true stages as annotations.
# :func:`~mne_sscsleep.stage` cuts it into 30-s epochs and stages them.
raw = simulate_sleep_raw(hours=4.0, random_state=10, verbose="error")
hypnogram = stage(clf, raw)
print(hypnogram)

# stage_indices understands Sleep-EDF's descriptions ('Sleep stage 4', 'Sleep stage R', ...).
true_stages = np.array(STAGES)[stage_indices(raw.annotations.description)]
report = sleep_report(true_stages, hypnogram.stage)
print(report)

# %%
# Confusion matrix: rows are the true stages, normalised to 1, so the diagonal is each stage's
# recall. N1 is the hard one, confused with W and R.
plot_confusion_matrix(true_stages, hypnogram.stage)
plt.show()

# %%
# Hypnogram
# ---------
# The predicted hypnogram over the reference (grey), with N1 shaded and the stage
# probabilities below: low-confidence stretches are where a human scorer should look.
plot_hypnogram(hypnogram, true_stages=true_stages)
plt.show()
