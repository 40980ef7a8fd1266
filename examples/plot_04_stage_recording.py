"""
.. _ex-stage-recording:

Stage a whole recording into ``mne.Annotations``
=================================================

What a clinician's engineer needs: a saved model, a polysomnography recording with several
channels at another sampling rate, and a hypnogram back as MNE annotations and as a file.
"""

# %%
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import matplotlib.pyplot as plt
import mne
import numpy as np

from mne_sscsleep import SSCSleepClassifier, stage
from mne_sscsleep.datasets import simulate_sleep_epochs, simulate_sleep_raw
from mne_sscsleep.viz import plot_hypnogram

# %%
# Train once, save the model
# --------------------------
# One file holds the weights, the labels, the sampling rate, the channel and the training
# history. It loads with ``torch.load(weights_only=True)``: opening it runs no code.
epochs, y, _ = simulate_sleep_epochs(3, hours=3.0, random_state=3, verbose="error")
clf = SSCSleepClassifier(preset="lite", max_epochs=6, random_state=0, verbose=0).fit(epochs, y)
folder = Path(tempfile.mkdtemp())
model_file = clf.save(folder / "model.sscsleep")
print(f"saved {model_file.name}: {model_file.stat().st_size / 1e6:.1f} MB")

# %%
# A recording to stage
# --------------------
# A simulated 3-hour night at 256 Hz (as in the HMC dataset), recorded from 22:47, with an EOG
# channel next to the EEG: :func:`~mne_sscsleep.stage` resamples the channel it stages and takes
# the one the model was trained on (``picks`` chooses another). We keep the simulated scoring
# aside as the reference and clear the annotations.
raw = simulate_sleep_raw(hours=3.0, sfreq=256.0, random_state=11, verbose="error")
raw.set_meas_date(datetime(2026, 3, 14, 22, 47, tzinfo=timezone.utc))
reference = raw.annotations.copy()
eog = mne.io.RawArray(
    np.random.default_rng(0).normal(0, 30e-6, (1, raw.n_times)),
    mne.create_info(["EOG E1-M2"], raw.info["sfreq"], ch_types="eog"),
    verbose="error",
)
raw.add_channels([eog], force_update_info=True)
raw.set_annotations(None)
print(raw)

# %%
# Stage it
# --------
hypnogram = stage(model_file, raw)
print(hypnogram)
print(hypnogram.to_data_frame().head())

# %%
# As annotations
# --------------
# One annotation per 30-s epoch, with Sleep-EDF's descriptions, ready for
# ``raw.set_annotations`` (and MNE's raw browser, ``events_from_annotations``, ...).
annotations = hypnogram.to_annotations()
raw.set_annotations(annotations)
print(annotations[:5])
events, event_id = mne.events_from_annotations(raw, verbose="error")
print(event_id)

# %%
# As a file
# ---------
# ``.tsv`` and ``.csv`` give one row per epoch with the probabilities; ``.edf`` writes EDF+ with
# the stages as annotations. The shell equivalent is
# ``mne-sscsleep stage night.edf --model model.sscsleep -o night.tsv``.
hypnogram.save(folder / "night.tsv")
print((folder / "night.tsv").read_text().splitlines()[:3])

# %%
# Against the reference scoring
# -----------------------------
# In clock time from the recording's ``meas_date``; epochs that cannot be scored would get a row
# of their own.
plot_hypnogram(hypnogram, true_stages=reference.description)
plt.show()

# %%
# Sleep statistics, and the model against the scorer over nights
# ---------------------------------------------------------------
# The night's AASM statistics (minutes unless marked %): time in bed, sleep period, total sleep
# time, efficiency, latencies, wake after sleep onset, minutes and shares of each stage.
import pandas as pd  # noqa: E402

from mne_sscsleep.metrics import compare_sleep_statistics, sleep_statistics  # noqa: E402
from mne_sscsleep.viz import plot_bland_altman  # noqa: E402

print(pd.Series(hypnogram.sleep_statistics()).round(1))

# %%
# Over several nights, the paper's Table VIII compares the statistics of the expert's and the
# model's hypnograms (mean and standard deviation over recordings, and the bias with its 95 %
# limits of agreement), and its Fig. 6 shows them as Bland-Altman plots.
nights = [simulate_sleep_raw(hours=3.0, random_state=20 + k, verbose="error") for k in range(6)]
truth = [night.annotations.description for night in nights]
staged = [stage(clf, night) for night in nights]
table = compare_sleep_statistics(truth, staged)
print(table.loc[["TST", "SE (%)", "WASO", "N1", "REM latency"]].round(1))
plot_bland_altman(
    [sleep_statistics(night)["TST"] for night in truth],
    [night.sleep_statistics()["TST"] for night in staged],
    name="total sleep time",
)
plt.show()
