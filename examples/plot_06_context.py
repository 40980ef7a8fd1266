"""
.. _ex-context:

Neighbouring epochs as context
==============================

Human scorers stage an epoch by what surrounds it: N1 continues until there is evidence of
another stage, and a lone N3 epoch inside N2 is rarely scored. SSC-SleepNet, as the paper
specifies it, classifies each 30-s epoch alone (``context=0``), and its hypnograms flicker.
``SSCSleepClassifier(context=k)`` classifies each epoch from its own features and those of the
``k`` epochs before and after it in the same recording, through a small bidirectional GRU.

SIMULATED nights: the figures compare the two settings, not the model on real sleep. With more
nights and passes the gap is measured in the benchmark page.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import simulate_sleep_epochs
from mne_sscsleep.metrics import sleep_report, transitions_per_hour
from mne_sscsleep.viz import plot_hypnogram

# %%
# Four nights to train on, one held out
# -------------------------------------
# The epochs' metadata name each night (column ``'subject'``) and their events give the time
# order, so neighbours are read within a night and never across two.
epochs, y, groups = simulate_sleep_epochs(5, hours=6.0, random_state=2, verbose="error")
train, test = np.flatnonzero(groups < 4), np.flatnonzero(groups == 4)
print(epochs.metadata.head(3))

# %%
# The same model without and with context
# ---------------------------------------
predictions = {}
for context in (0, 5):
    clf = SSCSleepClassifier(
        preset="lite", context=context, max_epochs=12, random_state=0, verbose=0
    )
    clf.fit(epochs[train], y[train])
    predictions[context] = clf.predict(epochs[test])
    report = sleep_report(y[test], predictions[context])
    print(
        f"context={context}: macro-F1 {report.macro_f1:.3f}, N1-F1 {report.n1_f1:.3f}, "
        f"{transitions_per_hour(predictions[context]):.1f} transitions/h "
        f"(true {transitions_per_hour(y[test]):.1f})"
    )

# %%
# Hypnograms of the held-out night
# --------------------------------
# Grey: the true scoring. Single epochs flicker between N2 and N3 and jump to REM for one
# epoch; with 2.5 minutes of context either side the hypnogram follows the night's structure
# (about 10 stage changes an hour instead of 26; the reference has 6). One night says little
# about N1, which is rare: on this one its F1 went down (0.78 to 0.67 when this page was built),
# while over three subject-wise folds of 8-h nights context raised N1-F1 by about 0.10 (see the
# benchmarks page).
fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True, layout="constrained")
for ax, context in zip(axes, (0, 5)):
    plot_hypnogram(predictions[context], true_stages=y[test], ax=ax)
    ax.set_title(f"context={context}")
plt.show()
