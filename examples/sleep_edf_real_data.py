"""
.. _ex-sleep-edf:

Real data: Sleep-EDF through MNE's fetcher
===========================================

Subject-wise cross-validation of SSC-SleepNet on the Sleep Cassette study of Sleep-EDF Expanded
(Fpz-Cz, 100 Hz), the dataset of the paper's headline figures.

This example needs internet access (about 50 MB per night from PhysioNet, cached in MNE's data
folder) and, for the full run, a GPU or a few hours of CPU. It is shown here but not run when the
documentation is built. ``benchmarks/benchmark.py --dataset sleep-edf-sc`` runs the same
protocol against baselines.
"""

# %%
# Load nights with the usual protocol
# -----------------------------------
# :func:`~mne_sscsleep.datasets.load_sleep_edf` wraps :mod:`mne.datasets.sleep_physionet`:
# R&K stages 3 and 4 become N3, '?' and movement epochs are dropped, and wake is trimmed to 30
# minutes around sleep. Files already in MNE's data folder are used without network.
import numpy as np
from sklearn.model_selection import GroupKFold, cross_validate

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import load_sleep_edf
from mne_sscsleep.metrics import SCORERS

subjects = list(range(10))  # up to 20 for Sleep-EDF-20, up to 82 for the whole SC study
epochs, y, groups = load_sleep_edf(subjects, recording=(1, 2))
print(epochs)
print({stage: int((y == stage).sum()) for stage in ("W", "N1", "N2", "N3", "R")})

# %%
# Cross-validate by subject
# -------------------------
# Both nights of a subject stay in the same fold. ``epochs.get_data()`` as float32 keeps the
# memory at one copy of the data.
X = epochs.get_data().astype(np.float32)
# The paper preset (the default): its network is best trained on a GPU (device="cuda",
# amp="bf16"); preset="lite" trains on a laptop CPU.
clf = SSCSleepClassifier(max_epochs=30, random_state=0, verbose=1)
scores = cross_validate(clf, X, y, groups=groups, cv=GroupKFold(5), scoring=SCORERS)
for name in SCORERS:
    print(f"{name:>9}: {scores[f'test_{name}'].mean():.3f} +- {scores[f'test_{name}'].std():.3f}")

# %%
# The paper reports macro-F1 84.5, macro G-mean 90.1 and N1-F1 60.2 on Sleep-EDF-SC (20
# subject-wise folds, predictions pooled); ``benchmarks/benchmark.py --dataset sleep-edf-sc``
# runs that protocol.
