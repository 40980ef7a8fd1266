"""
.. _ex-mne-tutorial:

MNE's sleep tutorial, with SSC-SleepNet
=======================================

MNE-Python's tutorial "Sleep stage classification from polysomnography (PSG) data" reads
Sleep-EDF recordings, turns the hypnogram into events every 30 s, cuts lazy ``mne.Epochs`` and
fits a scikit-learn pipeline on ``epochs.events[:, 2]``. The same code runs unchanged with
:class:`~mne_sscsleep.SSCSleepClassifier` in place of the pipeline: the integer event codes are
read through ``epochs.event_id`` and the predictions come back as event codes, so
``accuracy_score`` compares like with like.

Sleep-EDF cannot be downloaded here, so two **simulated** nights are written in its layout
first (an EDF recording and a hypnogram file each); with the real files, only the file names
change.
"""

# %%
import tempfile
from pathlib import Path

import mne
from sklearn.metrics import accuracy_score, confusion_matrix

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import simulate_sleep_raw

folder = Path(tempfile.mkdtemp())
files = []
for night, seed in enumerate((3, 4)):
    raw = simulate_sleep_raw(hours=4.0, random_state=seed, verbose="error")
    psg, hypnogram = folder / f"night{night}-PSG.edf", folder / f"night{night}-Hypnogram.txt"
    mne.export.export_raw(psg, raw.copy().set_annotations(None), fmt="edf", verbose="error")
    raw.annotations.save(hypnogram)  # 'Sleep stage W', '1', '2', '3', '4', 'R', as Sleep-EDF
    files.append((psg, hypnogram))

# %%
# The tutorial's code
# -------------------
# Unchanged from MNE's tutorial: R&K stages 3 and 4 merged into one event code, 30-s events,
# epochs without ``preload``.
annotation_desc_2_event_id = {
    "Sleep stage W": 1,
    "Sleep stage 1": 2,
    "Sleep stage 2": 3,
    "Sleep stage 3": 4,
    "Sleep stage 4": 4,
    "Sleep stage R": 5,
}
event_id = {
    "Sleep stage W": 1,
    "Sleep stage 1": 2,
    "Sleep stage 2": 3,
    "Sleep stage 3/4": 4,
    "Sleep stage R": 5,
}


def read_epochs(psg, hypnogram):
    raw = mne.io.read_raw_edf(psg, stim_channel="Event marker", infer_types=True, verbose="error")
    raw.set_annotations(mne.read_annotations(hypnogram), emit_warning=False)
    events, _ = mne.events_from_annotations(
        raw, event_id=annotation_desc_2_event_id, chunk_duration=30.0, verbose="error"
    )
    tmax = 30.0 - 1.0 / raw.info["sfreq"]
    return mne.Epochs(
        raw=raw,
        events=events,
        event_id=event_id,
        tmin=0.0,
        tmax=tmax,
        baseline=None,
        verbose="error",
    )


epochs_train, epochs_test = (read_epochs(*pair) for pair in files)

# %%
# SSC-SleepNet in place of the tutorial's pipeline
# ------------------------------------------------
# The lite preset, for a CPU. ``y_train`` is the tutorial's ``epochs_train.events[:, 2]``. One
# simulated night to train on and eight passes: the score shows that the code runs end to end,
# not how well the model stages sleep (see :doc:`/benchmarks`).
y_train = epochs_train.events[:, 2]
clf = SSCSleepClassifier(preset="lite", max_epochs=8, random_state=0, verbose=0)
clf.fit(epochs_train, y_train)
print("classes:", clf.classes_, "->", clf.stages_)

y_pred = clf.predict(epochs_test)
y_test = epochs_test.events[:, 2]
print(f"Accuracy score (simulated night): {accuracy_score(y_test, y_pred):.3f}")
print(confusion_matrix(y_test, y_pred))

# %%
# Integer labels are never guessed: the same codes as a plain array, which carries no
# ``event_id``, need the mapping said out loud (``stage_map``), or the fit stops with a message
# that explains why.
try:
    SSCSleepClassifier(preset="lite", max_epochs=1, verbose=0).fit(
        epochs_train.get_data(verbose="error"), y_train
    )
except ValueError as error:
    print(str(error)[:160], "...")
