"""The Haaglanden Medisch Centrum sleep staging database (PhysioNet layout)."""

from __future__ import annotations

from .._stages import DEFAULT_SFREQ
from ._recordings import combine_recordings, existing_folder, read_recording


def load_hmc(path, channel="EEG C4-M1", *, subjects=None, sfreq=DEFAULT_SFREQ, trim_wake=None):
    """Load the Haaglanden Medisch Centrum sleep staging database (PhysioNet layout).

    Each recording ``SN001.edf`` (256 Hz) has its scoring in ``SN001_sleepscoring.edf`` (EDF+
    annotations ``'Sleep stage W'``, ``'Sleep stage N1'``, ...). The chosen channel is resampled
    to ``sfreq``.

    Parameters
    ----------
    path : str | pathlib.Path
        Folder with the ``SN*.edf`` files (e.g. ``.../haaglanden-medisch-centrum-.../recordings``).
    channel : str
        EEG derivation (HMC has F4-M1, C4-M1, O2-M1 and C3-M2).
    subjects : list of int | None
        Subject numbers (1 for ``SN001``); None loads every recording found.
    sfreq : float
        Sampling rate of the returned epochs.
    trim_wake : float | None
        Minutes of wake kept around sleep; None keeps all (HMC scores lights-off to lights-on).

    Returns
    -------
    epochs, y, groups
        As :func:`load_sleep_edf`.

    Examples
    --------
    >>> epochs, y, groups = load_hmc("~/data/hmc", subjects=[1, 2])  # doctest: +SKIP
    """
    import mne

    folder = existing_folder(path, "HMC")
    recordings = []
    for psg in sorted(folder.glob("SN*.edf")):
        if psg.stem.endswith("_sleepscoring"):
            continue
        subject = int(psg.stem[2:])
        if subjects is not None and subject not in subjects:
            continue
        scoring = psg.with_name(f"{psg.stem}_sleepscoring.edf")
        if not scoring.is_file():
            raise FileNotFoundError(f"{psg.name} has no scoring file {scoring.name}.")
        annotations = mne.read_annotations(scoring)
        epochs, y = read_recording(psg, annotations, channel, sfreq, trim_wake)
        recordings.append((epochs, y, subject, psg.name))
    if not recordings:
        raise FileNotFoundError(f"No HMC recordings (SN*.edf) in {str(folder)!r}.")
    return combine_recordings(recordings, sfreq)
