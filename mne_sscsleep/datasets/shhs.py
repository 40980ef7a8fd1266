"""The Sleep Heart Health Study (NSRR layout: EDF plus XML annotations)."""

from __future__ import annotations

from .._stages import DEFAULT_SFREQ, STAGE_DESCRIPTIONS
from ._recordings import combine_recordings, existing_folder, read_recording

#: NSRR stage concepts (``'Wake|0'`` ... ``'REM sleep|5'``): the code after '|' to a stage.
_NSRR_STAGES = {"0": "W", "1": "N1", "2": "N2", "3": "N3", "4": "N3", "5": "R"}


def read_nsrr_stages(fname):
    """Sleep stages of an NSRR XML annotation file as ``mne.Annotations``.

    Parameters
    ----------
    fname : str | pathlib.Path
        An ``*-nsrr.xml`` file (``ScoredEvent`` elements with ``EventType`` 'Stages|Stages').

    Returns
    -------
    annotations : mne.Annotations
        Descriptions ``'Sleep stage W'``, ..., one per scored stage run; unscored and movement
        periods are left out.

    Examples
    --------
    >>> annotations = read_nsrr_stages("shhs1-200001-nsrr.xml")  # doctest: +SKIP
    >>> raw.set_annotations(annotations)  # doctest: +SKIP
    """
    import xml.etree.ElementTree as ElementTree

    import mne

    onsets, durations, descriptions = [], [], []
    for event in ElementTree.parse(fname).getroot().iter("ScoredEvent"):
        if "stage" not in (event.findtext("EventType") or "").lower():
            continue
        code = (event.findtext("EventConcept") or "").split("|")[-1].strip()
        if code not in _NSRR_STAGES:
            continue  # unscored (9), movement (6)
        onsets.append(float(event.findtext("Start")))
        durations.append(float(event.findtext("Duration")))
        descriptions.append(STAGE_DESCRIPTIONS[_NSRR_STAGES[code]])
    if not onsets:
        raise ValueError(f"No sleep stages in {str(fname)!r} (no 'Stages' ScoredEvent).")
    return mne.Annotations(onsets, durations, descriptions)


def load_shhs(
    path, channel="EEG", *, visit="shhs1", subjects=None, sfreq=DEFAULT_SFREQ, trim_wake=30.0
):
    """Load SHHS nights from an NSRR download (EDF plus XML annotations).

    Expects NSRR's layout under ``path``: ``polysomnography/edfs/shhs1/shhs1-200001.edf`` and
    ``polysomnography/annotations-events-nsrr/shhs1/shhs1-200001-nsrr.xml``. SHHS's ``'EEG'``
    channel is C4-A1 at 125 Hz (``'EEG(sec)'``: C3-A2); it is resampled to ``sfreq``.

    Parameters
    ----------
    path : str | pathlib.Path
        The NSRR ``shhs`` folder (the one holding ``polysomnography``).
    channel : str
        EEG channel name.
    visit : ``'shhs1'`` | ``'shhs2'``
        SHHS visit.
    subjects : list of int | None
        NSRR ids (e.g. 200001); None loads every recording found.
    sfreq : float
        Sampling rate of the returned epochs.
    trim_wake : float | None
        Minutes of wake kept around sleep.

    Returns
    -------
    epochs, y, groups
        As :func:`load_sleep_edf`; groups are NSRR ids.

    Examples
    --------
    >>> epochs, y, groups = load_shhs("~/data/shhs", subjects=[200001])  # doctest: +SKIP
    """
    root = existing_folder(path, "SHHS")
    edfs = root / "polysomnography" / "edfs" / visit
    xmls = root / "polysomnography" / "annotations-events-nsrr" / visit
    recordings = []
    for edf in sorted(edfs.glob(f"{visit}-*.edf")):
        subject = int(edf.stem.split("-")[1])
        if subjects is not None and subject not in subjects:
            continue
        xml = xmls / f"{edf.stem}-nsrr.xml"
        if not xml.is_file():
            raise FileNotFoundError(f"{edf.name} has no annotation file {xml}.")
        epochs, y = read_recording(edf, read_nsrr_stages(xml), channel, sfreq, trim_wake)
        recordings.append((epochs, y, subject, edf.name))
    if not recordings:
        raise FileNotFoundError(
            f"No SHHS recordings in {str(edfs)!r}; expected NSRR's layout "
            f"polysomnography/edfs/{visit}/{visit}-*.edf under {str(root)!r}."
        )
    return combine_recordings(recordings, sfreq)
