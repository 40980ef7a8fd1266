"""
.. _ex-scale-out:

Datasets on disk and many nights to stage
=========================================

Two things that outgrow one process's memory: a training set of thousands of nights, and a
sleep lab's folder of recordings to stage. An :class:`~mne_sscsleep.datasets.EpochStore`
keeps labelled epochs on disk and the classifier reads them batch by batch;
:func:`~mne_sscsleep.stage_many` stages a folder of recordings in parallel, past bad files,
into hypnograms and a summary table. Simulated nights (not real polysomnography): the scores
show the flow, not how well real sleep is staged. See :doc:`/scale` for the figures at 300
nights and the recipe for several GPUs.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GroupKFold, cross_validate

from mne_sscsleep import SSCSleepClassifier, stage_many
from mne_sscsleep.datasets import EpochStore, simulate_sleep_epochs, simulate_sleep_raw
from mne_sscsleep.metrics import macro_f1_scorer

folder = Path(tempfile.mkdtemp())

# %%
# Build a store, one night at a time
# ----------------------------------
# Each night is checked and written as it comes, so memory holds one night while the store
# grows; building again skips the nights already there (an interrupted build resumes).
# ``EpochStore.from_edf_folder`` and ``EpochStore.from_loader`` (Sleep-EDF, HMC, SHHS) do the
# same from files, and ``mne-sscsleep store build`` from the shell.
store = EpochStore.create(folder / "nights.store", dtype="float16")
for night in range(9):
    epochs, _, _ = simulate_sleep_epochs(1, hours=2, random_state=night, verbose="error")
    store.add(epochs, recording=f"night {night}", subject=night // 3)  # 3 nights a subject
store = EpochStore.open(folder / "nights.store")  # what another process would do
print(store)
print(store.recordings[["name", "subject", "n_epochs"]].head(4))

# %%
# Train and cross-validate from the disk
# --------------------------------------
# ``fit`` reads the labels from the store and its EEG batch by batch. ``store.subject`` gives
# each epoch's subject, so ``GroupKFold`` keeps every subject's nights on one side of a split;
# indexing a store (what scikit-learn's splitters do) gives a store of those epochs.
clf = SSCSleepClassifier(preset="lite", max_epochs=5, random_state=0, verbose=0)
scores = cross_validate(
    clf, store, store.labels, groups=store.subject, cv=GroupKFold(3), scoring=macro_f1_scorer
)["test_score"]
print(f"macro-F1 over 3 subject-wise folds: {scores.mean():.3f} +- {scores.std():.3f}")
clf.fit(store)
model_file = clf.save(folder / "model.sscsleep")

# %%
# Stage a folder of recordings
# ----------------------------
# Four simulated nights as EDF files, and one file that is not a recording. Each worker loads
# the model once; the broken file is reported and the others are staged. Staging again skips
# the nights whose hypnogram exists (``overwrite=True`` redoes them); with
# ``joblib.parallel_backend("dask")`` the same call runs on a Dask cluster.
recordings = folder / "psg"
recordings.mkdir()
for night in range(4):
    raw = simulate_sleep_raw(hours=2, random_state=100 + night, verbose="error")
    raw.export(recordings / f"night{night}.edf", verbose="error")
(recordings / "corrupt.edf").write_text("not an EDF file")

summary = stage_many(model_file, recordings, folder / "hypnograms", jobs=2, progress=False)
summary["recording"] = [Path(name).name for name in summary["recording"]]
columns = ["recording", "status", "TST", "SE (%)", "N1 (%)", "error"]
print(summary[columns].round(1).to_string(max_colwidth=60))

# %%
# The summary table, per night
# ----------------------------
staged = summary[summary["status"] == "staged"]
minutes = staged[["N1", "N2", "N3", "R"]].to_numpy()
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
bottom = np.zeros(len(staged))
for column, stage in enumerate(["N1", "N2", "N3", "R"]):
    ax.bar(staged["recording"], minutes[:, column], bottom=bottom, label=stage)
    bottom += minutes[:, column]
ax.set(ylabel="Minutes", title="Sleep stages per night (summary.tsv, simulated)")
ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
plt.show()
