"""Datasets: a simulator of sleep EEG and loaders of real recordings.

Every loader returns ``(epochs, y, groups)``: one EEG channel at the model's rate in 30-s
epochs (``mne.EpochsArray``, labels in ``events``), the canonical stage of each epoch and the
subject of each epoch for subject-wise splits.

.. warning::
   The simulator is **not** a substitute for real polysomnography. It exists so that tests, the
   demo and the documentation run anywhere, offline, in seconds. Scores on simulated nights say
   that the code works and learns, not how well it stages real sleep.
"""

from ._recordings import EVENT_ID, epochs_from_raw, labelled_epochs_array
from .edf_folder import find_recordings, load_edf_folder, read_stage_file
from .hmc import load_hmc
from .shhs import load_shhs, read_nsrr_stages
from .simulate import (
    CHANNEL,
    DERIVATIONS,
    simulate_hypnogram,
    simulate_sleep_epochs,
    simulate_sleep_raw,
    simulate_subject,
)
from .sleep_edf import load_sleep_edf
from .store import EpochStore

__all__ = [
    "CHANNEL",
    "DERIVATIONS",
    "EVENT_ID",
    "EpochStore",
    "epochs_from_raw",
    "find_recordings",
    "labelled_epochs_array",
    "load_edf_folder",
    "load_hmc",
    "load_sleep_edf",
    "load_shhs",
    "read_nsrr_stages",
    "read_stage_file",
    "simulate_hypnogram",
    "simulate_sleep_epochs",
    "simulate_sleep_raw",
    "simulate_subject",
]
