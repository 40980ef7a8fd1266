"""EDF and BDF headers, checked against the file before MNE reads a sample.

MNE's EDF reader trusts the header: a file cut short by a broken download is read as a shorter
night (with a warning that ``verbose="error"`` hides), a header with zero data records gives
"No data in this range", a signal whose digital minimum equals its maximum gives values with no
meaning. The header is also the only place that says at which rate each signal was *recorded*
(MNE brings every signal of a file to the highest rate). :func:`read_edf_header` reads the
fixed-size header (bounded: a header that claims more signals than its file can hold is
refused before anything is allocated), checks it against the file's size and returns what the
staging and loading code needs. Imports nothing of this package.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

#: Files whose headers are checked here.
EDF_SUFFIXES = (".edf", ".bdf")
#: Lowest recorded rate (Hz) of a channel that can be staged or trained on: below it, sleep
#: spindles (11-16 Hz) cannot be represented, so the channel is not sleep EEG.
MIN_SFREQ = 32.0
# The EDF specification allows up to 9999 signals (4 ASCII digits).
_MAX_SIGNALS = 9999
_ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")


@dataclass(frozen=True)
class EDFHeader:
    """What an EDF/BDF header declares, checked against its file.

    Parameters
    ----------
    labels : tuple of str
        Signal labels (annotation signals included), as in the file.
    sfreqs : tuple of float
        Recorded sampling rate of each signal in Hz.
    n_records : int
        Data records in the file.
    record_duration : float
        Seconds per data record.
    """

    labels: tuple
    sfreqs: tuple
    n_records: int
    record_duration: float

    @property
    def duration(self):
        """Length of the recording in seconds (float)."""
        return self.n_records * self.record_duration

    def sfreq_of(self, ch_name):
        """The recorded rate of a channel as MNE names it, or None when it is not found.

        MNE strips the labels and may prefix ``'EEG '``-style labels identically; a label
        that occurs once is matched exactly after stripping.

        Parameters
        ----------
        ch_name : str
            Channel name in ``raw.ch_names``.

        Returns
        -------
        sfreq : float | None
            The rate in Hz.
        """
        matches = [
            sfreq
            for label, sfreq in zip(self.labels, self.sfreqs)
            if label.strip() == ch_name.strip()
        ]
        return matches[0] if len(matches) == 1 else None


def _field(block, start, width):
    return block[start : start + width].decode("ascii", errors="replace").strip()


def _number(text, name, fname, kind=float):
    try:
        return kind(text) if kind is float else int(float(text))
    except ValueError:
        raise ValueError(
            f"{Path(fname).name}: its EDF header is damaged ({name} is {text!r}, not a number). "
            "Export the recording again from the acquisition software."
        ) from None


def read_edf_header(fname):
    """Read and check the header of an EDF, EDF+ or BDF file.

    Parameters
    ----------
    fname : str | pathlib.Path
        The file.

    Returns
    -------
    header : EDFHeader
        Labels, recorded rates, number and length of the data records.

    Raises
    ------
    ValueError
        With a message naming the file, the problem and the fix: a header that is not EDF,
        a file shorter than its header declares (truncated), no data records, or a signal
        whose digital or physical range is empty.

    Examples
    --------
    >>> header = read_edf_header("night.edf")  # doctest: +SKIP
    >>> header.sfreq_of("EEG Fpz-Cz"), header.duration / 3600  # doctest: +SKIP
    (100.0, 8.0)
    """
    fname = Path(fname)
    name = fname.name
    size = fname.stat().st_size
    with open(fname, "rb") as fid:
        fixed = fid.read(256)
        if len(fixed) < 256:
            raise ValueError(f"{name}: {len(fixed)} bytes, shorter than an EDF header (256).")
        bdf = fixed[:1] == b"\xff"
        n_signals = _number(_field(fixed, 252, 4), "the number of signals", fname, int)
        if not 0 < n_signals <= _MAX_SIGNALS or 256 * (n_signals + 1) > size:
            raise ValueError(
                f"{name}: its EDF header declares {n_signals} signals, which the file "
                f"({size} bytes) cannot hold; it is damaged or not an EDF file."
            )
        signals = fid.read(256 * n_signals)
    header_bytes = _number(_field(fixed, 184, 8), "the header size", fname, int)
    if header_bytes != 256 * (n_signals + 1):
        raise ValueError(
            f"{name}: its EDF header says it is {header_bytes} bytes long, but {n_signals} "
            f"signals make {256 * (n_signals + 1)}; the file is damaged."
        )
    n_records = _number(_field(fixed, 236, 8), "the number of records", fname, int)
    record_duration = _number(_field(fixed, 244, 8), "the record duration", fname)

    def column(offset, width):
        start = offset * n_signals
        return [
            signals[start + i * width : start + (i + 1) * width]
            .decode("ascii", errors="replace")
            .strip()
            for i in range(n_signals)
        ]

    labels = column(0, 16)
    physical_min = column(16 + 80 + 8, 8)
    physical_max = column(16 + 80 + 8 + 8, 8)
    digital_min = column(16 + 80 + 8 + 16, 8)
    digital_max = column(16 + 80 + 8 + 24, 8)
    samples = column(16 + 80 + 8 + 32 + 80, 8)
    samples = [_number(text, "samples per record", fname, int) for text in samples]
    if any(count < 1 for count in samples):
        raise ValueError(f"{name}: a signal has no samples per data record; the file is damaged.")
    bytes_per_sample = 3 if bdf else 2
    record_bytes = sum(samples) * bytes_per_sample
    data_bytes = size - header_bytes
    if n_records == -1:  # allowed while recording: the size tells
        n_records = data_bytes // record_bytes
    if n_records == 0 or data_bytes < record_bytes:
        raise ValueError(
            f"{name} holds no data records (an empty or unfinished recording): nothing to read. "
            "Check that the recording was saved completely."
        )
    if n_records < 0:
        raise ValueError(f"{name}: its EDF header declares {n_records} data records.")
    if data_bytes < n_records * record_bytes:
        held = data_bytes // record_bytes
        raise ValueError(
            f"{name} is truncated: its header declares {n_records} data records "
            f"({n_records * record_duration / 3600:.2f} h) but the file holds {held} "
            f"({held * record_duration / 3600:.2f} h), as after an interrupted download or "
            "copy. Copy the complete file again."
        )
    if not record_duration > 0:
        signal_labels = [label for label in labels if label not in _ANNOTATION_LABELS]
        if signal_labels:
            raise ValueError(
                f"{name}: its data records last {record_duration} s; the file is damaged."
            )
    for label, low, high, dmin, dmax in zip(
        labels, physical_min, physical_max, digital_min, digital_max
    ):
        if label in _ANNOTATION_LABELS:
            continue
        ranges = (
            ("digital", dmin, dmax, "its samples cannot be scaled to physical values"),
            ("physical", low, high, "every sample reads as the same value"),
        )
        for kind, first, last, consequence in ranges:
            low_value = _number(first, f"the {kind} minimum of {label!r}", fname)
            if low_value == _number(last, f"the {kind} maximum of {label!r}", fname):
                raise ValueError(
                    f"{name}: signal {label!r} has {kind} minimum = maximum ({first}), so "
                    f"{consequence}; the file's header is broken. Export the recording "
                    "again, or leave this channel out."
                )
    sfreqs = tuple(count / record_duration if record_duration > 0 else 0.0 for count in samples)
    return EDFHeader(tuple(labels), sfreqs, int(n_records), float(record_duration))


def recorded_sfreq(raw, ch_name):
    """The rate a channel was recorded at, in Hz.

    MNE brings every signal of an EDF/BDF file to the file's highest rate; the file's header
    says at which rate each one was recorded. Other formats store one rate.

    Parameters
    ----------
    raw : mne.io.Raw
        The recording.
    ch_name : str
        One of its channels.

    Returns
    -------
    sfreq : float
        The recorded rate.
    """
    for name in raw.filenames:
        if name and Path(name).suffix.lower() in EDF_SUFFIXES and Path(name).is_file():
            sfreq = read_edf_header(name).sfreq_of(ch_name)
            if sfreq:
                return float(sfreq)
    return float(raw.info["sfreq"])


def check_recorded_rate(raw, ch_name, sfreq):
    """Refuse a channel recorded too slowly to hold sleep EEG; warn below the model's rate.

    Parameters
    ----------
    raw : mne.io.Raw
        The recording.
    ch_name : str
        The channel to stage or train on.
    sfreq : float
        The model's rate in Hz.
    """
    recorded = recorded_sfreq(raw, ch_name)
    if recorded < MIN_SFREQ:
        raise ValueError(
            f"Channel {ch_name!r} was recorded at {recorded:g} Hz: below {MIN_SFREQ:g} Hz, sleep "
            "spindles (11-16 Hz) and alpha cannot be represented, so it is not a sleep EEG "
            "signal (a respiration or position channel?). Pick the EEG channel (picks=..., "
            "--channel)."
        )
    if recorded < sfreq:
        warnings.warn(
            f"Channel {ch_name!r} was recorded at {recorded:g} Hz, below the model's "
            f"{sfreq:g} Hz: frequencies above {recorded / 2:g} Hz, which the model sees in "
            "recordings at its own rate, are missing. Stages may be less reliable.",
            RuntimeWarning,
            stacklevel=3,
        )
