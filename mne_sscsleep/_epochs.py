"""The one boundary between user objects and the arrays the model consumes.

Everything a user hands to mne-sscsleep (``mne.Epochs``, lists of them, or NumPy arrays; labels
as strings, aliases or integers) becomes an :class:`EpochsDataset` here, exactly once:
:class:`mne_sscsleep.SSCSleepClassifier` calls :func:`check_epochs` from skorch's
``get_dataset`` hook, so ``fit``, ``partial_fit``, ``predict_proba``, ``forward``, ``score`` and
scoring callbacks all pass the same checks. Past this module, data are ``float32`` arrays of
shape ``(n_epochs, 1, n_times)`` in **volts** and labels are integer indices into
:data:`~mne_sscsleep.STAGES`.

Units: MNE stores EEG in volts, and so does everything up to the network; arrays handed in
directly are assumed to be in volts too. The network itself scales its input to microvolts
(:class:`mne_sscsleep.SSCSleepNet`'s ``input_scale``), one batch at a time, so a float32 array
passes this boundary without any copy: fitting 40,000 epochs holds the data once.
"""

from __future__ import annotations

import datetime
import inspect
import warnings
from pathlib import Path

import numpy as np
import torch
from skorch.dataset import Dataset

from ._channels import pick_channel, pick_from_info
from ._protocols import DatasetSource, WindowRequest
from ._stages import (
    DEFAULT_SFREQ,
    EPOCH_DURATION,
    SIMULATED_DESCRIPTION,
    STAGES,
    check_stage_map,
    label_kind,
    stage_index,
    stage_indices,
)

# Peak-to-peak amplitude (volts) under which an epoch is called flat: a disconnected electrode or
# a zero-padded gap, far below the few microvolts of even the quietest real EEG.
FLAT_PTP_VOLTS = 1e-7
# A standard deviation this large (volts) is ten millivolts: no scalp EEG is that big, so the
# array is almost certainly in microvolts.
_MAX_PLAUSIBLE_STD_VOLTS = 1e-2
# Epochs converted or checked at a time: bounds the temporaries of large inputs.
_CHUNK = 2048


class UnitError(ValueError):
    """The data look like microvolts where volts are expected (a ValueError)."""


def _format_indices(indices, limit=10):
    indices = [int(i) for i in indices]
    shown = ", ".join(map(str, indices[:limit]))
    return shown + (f", ... ({len(indices)} in total)" if len(indices) > limit else "")


def labels_from_epochs(epochs) -> np.ndarray:
    """Return each epoch's ``event_id`` name, the label MNE stores in ``epochs.events``.

    Parameters
    ----------
    epochs : mne.Epochs
        Epochs whose ``event_id`` keys name sleep stages (e.g. ``'Sleep stage W'``).

    Returns
    -------
    labels : ndarray of str, shape (n_epochs,)
        The ``event_id`` name of each epoch.

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_epochs
    >>> epochs, _, _ = simulate_sleep_epochs(1, hours=0.5, random_state=0, verbose="error")
    >>> labels_from_epochs(epochs)[:2].tolist()
    ['Sleep stage W', 'Sleep stage W']
    """
    code_to_name = {code: name for name, code in epochs.event_id.items()}
    return np.array([code_to_name[code] for code in epochs.events[:, 2]], dtype=object)


class EpochsDataset(Dataset):
    """Validated model input: what :func:`check_epochs` returns and the classifier trains on.

    A skorch ``Dataset`` whose ``X`` is float32 ``(n_epochs, 1, n_times)`` in volts and whose
    ``y`` holds stage indices (or None). Indexing with an int, a slice or an integer array
    returns ``(X, y)`` tensors: a slice is a view of the data (no copy), an array a gather sorted
    for speed, so a :class:`torch.utils.data.DataLoader` with ``batch_size=None`` and a batch
    sampler (:class:`mne_sscsleep.PairLoader`, :class:`mne_sscsleep.EpochLoader`) reads whole
    batches at once.

    Parameters
    ----------
    X : ndarray of float32, shape (n_epochs, 1, n_times)
        EEG in volts.
    y : ndarray of int64, shape (n_epochs,) | None
        Index of each epoch's stage in :data:`~mne_sscsleep.STAGES`.
    labels : ndarray, shape (n_epochs,) | None
        The user's own labels (the spelling ``predict`` answers in).
    ch_name : str | None
        Name of the channel (None for arrays, which carry no names).
    sfreq : float
        Sampling rate of ``X`` in Hz.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((5, 1, 3000), dtype=np.float32)
    >>> dataset = EpochsDataset(X, np.arange(5))
    >>> xb, yb = dataset[np.array([4, 0])]
    >>> tuple(xb.shape), yb.tolist()
    ((2, 1, 3000), [4, 0])
    """

    def __init__(
        self,
        X,
        y=None,
        *,
        labels=None,
        ch_name=None,
        sfreq=DEFAULT_SFREQ,
        recording=None,
        time_index=None,
    ):
        super().__init__(X, y)
        self.labels = labels
        self.ch_name = ch_name
        self.sfreq = float(sfreq)
        n_epochs = len(X)
        self.recording = (
            np.zeros(n_epochs, np.int64) if recording is None else np.asarray(recording, np.int64)
        )
        self.time_index = (
            np.arange(n_epochs, dtype=np.int64)
            if time_index is None
            else np.asarray(time_index, np.int64)
        )
        if self.recording.shape != (n_epochs,) or self.time_index.shape != (n_epochs,):
            raise ValueError(
                f"recording and time_index must hold one value per epoch ({n_epochs}), got "
                f"shapes {self.recording.shape} and {self.time_index.shape}."
            )
        self.stage_map = None  # {label: stage} used to read the labels, if not their names
        self.scale = None  # per-epoch factors applied as batches are read (see recording_scales)
        self.equalizer = None  # per-recording spectral gains (see recording_equalizers)
        self.provenance = {}  # where the epochs came from (see data_provenance)
        self._order = self._night_time = None  # computed when first needed

    def neighbors(self, positions, offsets):
        """Positions of the epochs ``offsets`` epochs away in time, in the same recording.

        Parameters
        ----------
        positions : array-like of int, shape (n,)
            Dataset positions.
        offsets : array-like of int, shape (m,) or (n, m)
            Offsets in epochs (``-2`` is the epoch one minute before), the same for every
            position or one row per position.

        Returns
        -------
        neighbors : ndarray of int64, shape (n, m)
            Dataset positions, ``-1`` where the recording has no such epoch (its start, its end,
            or a gap: epochs dropped or not given).

        Examples
        --------
        >>> dataset = EpochsDataset(np.zeros((4, 1, 3000), np.float32), recording=[0, 0, 1, 1])
        >>> dataset.neighbors([0, 3], [-1, 0, 1]).tolist()
        [[-1, 0, 1], [2, 3, -1]]
        """
        if self._order is None:
            order = np.lexsort((self.time_index, self.recording))
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            self._order = (order, rank, self.recording[order], self.time_index[order])
        order, rank, recording, time_index = self._order
        positions = np.asarray(positions, dtype=np.int64)
        offsets = np.asarray(offsets, dtype=np.int64)
        if offsets.ndim == 1:
            offsets = offsets[None, :]
        own = rank[positions][:, None]
        target = own + offsets
        clipped = target.clip(0, len(order) - 1)
        found = (
            (target == clipped)
            & (recording[clipped] == recording[own])
            & (time_index[clipped] - time_index[own] == offsets)
        )
        return np.where(found, order[clipped], -1)

    def _windows(self, centres, context):
        """A batch of centre epochs and their neighbours, for a context network.

        Rows ``0..n - 1`` of ``x`` are the centres in the order asked (so predictions line up),
        then the neighbours that are not centres themselves; every epoch is read once.
        """
        centres = np.asarray(centres, dtype=np.int64)
        window = self.neighbors(centres, np.arange(-context, context + 1))
        extra = np.setdiff1d(window[window >= 0], centres)
        rows = np.concatenate([centres, extra])
        unique, first = np.unique(rows, return_index=True)
        where = first[np.searchsorted(unique, window.clip(min=0))]
        windows = np.full((len(rows), 2 * context + 1), -1, dtype=np.int64)
        windows[: len(centres)] = np.where(window >= 0, where, -1)
        windows[np.arange(len(centres)), context] = np.arange(len(centres))
        xb, _ = self[rows]
        yb = torch.zeros(len(centres), dtype=torch.int64)
        if self.y is not None:
            yb = torch.as_tensor(np.asarray(self.y)[centres], dtype=torch.int64)
        batch = {
            "x": xb,
            "windows": torch.from_numpy(windows),
            "night_time": torch.from_numpy(self.night_time()[rows]),
        }
        return batch, yb

    def night_time(self):
        """Each epoch's time of night: hours since its recording began, and share of the night.

        Returns
        -------
        night_time : ndarray of float32, shape (n_epochs, 2)
            ``time_index * 30 s`` in hours, and ``time_index`` over the recording's last one
            (0 at the first epoch, 1 at the last), the time features of YASA's stager.

        Examples
        --------
        >>> dataset = EpochsDataset(np.zeros((3, 1, 3000), np.float32))
        >>> dataset.night_time()[:, 1].tolist()
        [0.0, 0.5, 1.0]
        """
        if self._night_time is None:
            codes = np.unique(self.recording, return_inverse=True)[1].reshape(-1)
            last = np.zeros(codes.max() + 1 if len(codes) else 0, np.int64)
            np.maximum.at(last, codes, self.time_index)
            hours = self.time_index * EPOCH_DURATION / 3600
            share = self.time_index / np.maximum(last[codes], 1)
            self._night_time = np.column_stack([hours, share]).astype(np.float32)
        return self._night_time

    def labelled(self, y, *, stage_map=None):
        """The same epochs with the labels ``y`` (a shallow copy, its own labels).

        Parameters
        ----------
        y : array-like, shape (n_epochs,)
            One stage label per epoch (see :func:`~mne_sscsleep.stage_indices`).
        stage_map : dict | None
            What the labels mean, if not stage names.

        Returns
        -------
        dataset : EpochsDataset
            A dataset sharing this one's data, with ``y``, ``labels`` and ``stage_map``.
        """
        import copy

        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(self):
            raise ValueError(
                f"X has {len(self)} epochs but y has {labels.shape} labels; pass one label "
                "per epoch."
            )
        dataset = copy.copy(self)
        dataset.y = stage_indices(labels, stage_map=stage_map)
        dataset.labels, dataset.stage_map = labels, stage_map
        return dataset

    def equalized(self, equalizer):
        """The same epochs, each recording filtered by its spectral gains as it is read.

        Parameters
        ----------
        equalizer : tuple of ndarray | None
            ``(row, gains)`` from :func:`recording_equalizers`; None: none.

        Returns
        -------
        dataset : EpochsDataset
            A dataset sharing this one's data (a shallow copy).
        """
        import copy

        dataset = copy.copy(self)
        dataset.equalizer = equalizer
        return dataset

    def _equalize(self, xb, positions):
        row, gains = self.equalizer
        spectrum = np.fft.rfft(xb, axis=-1)
        spectrum *= gains[row[positions]][:, np.newaxis, :]
        return np.fft.irfft(spectrum, n=xb.shape[-1], axis=-1).astype(np.float32)

    def scaled(self, scale):
        """The same epochs, each multiplied by its factor as it is read (a shallow copy).

        Parameters
        ----------
        scale : ndarray of float32, shape (n_epochs,) | None
            One factor per epoch (see :func:`recording_scales`); None: none.

        Returns
        -------
        dataset : EpochsDataset
            A dataset sharing this one's data.
        """
        import copy

        dataset = copy.copy(self)
        dataset.scale = None if scale is None else np.asarray(scale, dtype=np.float32)
        return dataset

    def normalised(self, scaling):
        """The same epochs, each recording normalised as ``scaling`` says (once).

        Parameters
        ----------
        scaling : None | ``'recording'`` | ``'spectrum'``
            None: as they are; ``'recording'``: :func:`recording_scales`; ``'spectrum'``:
            :func:`recording_equalizers`. Epochs that carry a normalisation already keep it.

        Returns
        -------
        dataset : EpochsDataset
            A dataset sharing this one's data.
        """
        if scaling is None or self.scale is not None or self.equalizer is not None:
            return self
        if scaling == "recording":
            return self.scaled(recording_scales(self))
        if scaling == "spectrum":
            return self.equalized(recording_equalizers(self))
        raise ValueError(f"scaling must be None, 'recording' or 'spectrum', not {scaling!r}.")

    def __getitem__(self, index):
        if isinstance(index, WindowRequest):  # from a context model's loader
            return self._windows(index.centres, int(index.context))
        X, y = self.X, self.y
        if isinstance(index, (int, np.integer)):
            xb = np.array(X[index])
            if self.scale is not None:
                xb *= self.scale[index]
            if self.equalizer is not None:
                xb = self._equalize(xb[np.newaxis], np.array([index]))[0]
            yb = torch.tensor(0 if y is None else int(y[index]), dtype=torch.int64)
            return torch.from_numpy(xb), yb
        if isinstance(index, slice):
            xb = X[index]
            if not xb.flags.writeable:  # read-only memmaps: torch wants writable memory
                xb = xb.copy()
            n_rows = len(xb)
            yb = None if y is None else np.asarray(y[index])
        else:
            index = np.asarray(index)
            # A sorted gather reads memory forward (faster); undo the sort to keep the order.
            order = np.argsort(index, kind="stable")
            xb = np.empty((len(index),) + X.shape[1:], dtype=X.dtype)
            xb[order] = X[index[order]]
            n_rows = len(index)
            yb = None if y is None else np.asarray(y)[index]
        if self.scale is not None:
            xb = xb * self.scale[index][:, np.newaxis, np.newaxis]
        if self.equalizer is not None:
            xb = self._equalize(xb, np.arange(len(X))[index])
        xb = torch.from_numpy(np.ascontiguousarray(xb))
        if yb is None:
            return xb, torch.zeros(n_rows, dtype=torch.int64)
        return xb, torch.as_tensor(yb, dtype=torch.int64)


#: Median epoch standard deviation (volts) that recording scaling brings every recording to:
#: typical scalp sleep EEG, so networks see the amplitudes they would see unscaled.
TARGET_STD_VOLTS = 20e-6


#: Largest spectral gain of :func:`recording_equalizers` relative to its median: bands a
#: recording barely holds (beyond its amplifier's band) are not raised from their noise.
_MAX_GAIN_RATIO = 10.0


def reference_spectrum(freqs):
    """The power spectrum every recording is equalised to: ``1 / (1 + f^2)`` (f in Hz).

    Sleep EEG's power falls roughly as ``1 / f^2`` above the slow waves; the knee at 1 Hz
    keeps the slowest waves from dominating.

    Parameters
    ----------
    freqs : ndarray
        Frequencies in Hz.

    Returns
    -------
    power : ndarray
        Relative power at each frequency.
    """
    return 1.0 / (1.0 + np.asarray(freqs, dtype=np.float64) ** 2)


def recording_equalizers(dataset, *, target=TARGET_STD_VOLTS, smooth_hz=1.0):
    """Per-recording spectral gains that bring each recording's mean spectrum to one shape.

    A derivation, an amplifier's filters and a person's rhythms colour a recording's spectrum
    as a whole (an occipital recording holds more alpha at every stage, a frontal one more
    slow waves); the stages are told apart by how epochs differ *within* the night. Each
    recording's mean power spectrum over its (non-flat) epochs, smoothed over ``smooth_hz``,
    is equalised to :func:`reference_spectrum` at a mean epoch spread of ``target``: a
    per-recording linear filter, as YASA standardises each night's features. Gains are bounded
    to ten times their median, so a band the recording barely holds is not raised from noise.

    Parameters
    ----------
    dataset : EpochsDataset
        Epochs with their ``recording`` codes.
    target : float
        The epochs' mean standard deviation after equalisation, in volts.
    smooth_hz : float
        Width of the moving average over frequency of each recording's log spectrum.

    Returns
    -------
    equalizer : tuple of ndarray
        ``row`` (int64, per epoch: its recording's row of ``gains``) and ``gains`` (float32,
        ``(n_recordings, n_times // 2 + 1)``, on the rfft bins of an epoch).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(0, 1e-4, (6, 1, 3000)).astype(np.float32)
    >>> row, gains = recording_equalizers(EpochsDataset(X, recording=[0, 0, 0, 1, 1, 1]))
    >>> row.tolist(), gains.shape
    ([0, 0, 0, 1, 1, 1], (2, 1501))
    """
    X, recording = dataset.X, dataset.recording
    n_times = X.shape[-1]
    freqs = np.fft.rfftfreq(n_times, 1.0 / dataset.sfreq)
    codes, row = np.unique(recording, return_inverse=True)
    row = row.reshape(-1).astype(np.int64)
    power = np.zeros((len(codes), len(freqs)))
    counts = np.zeros(len(codes))
    for start in range(0, len(X), _CHUNK):
        block = np.asarray(X[start : start + _CHUNK], dtype=np.float32)[:, 0]
        usable = np.ptp(block, axis=-1) >= FLAT_PTP_VOLTS
        block = block - block.mean(axis=-1, keepdims=True)
        spectra = np.abs(np.fft.rfft(block[usable], axis=-1)) ** 2
        np.add.at(power, row[start : start + len(block)][usable], spectra)
        np.add.at(counts, row[start : start + len(block)][usable], 1)
    width = max(1, int(round(smooth_hz * n_times / dataset.sfreq)))
    kernel = np.ones(width) / width
    reference = reference_spectrum(freqs)
    gains = np.ones((len(codes), len(freqs)), dtype=np.float32)
    for code in range(len(codes)):
        if counts[code] == 0:
            continue
        mean = power[code] / counts[code]
        floor = max(mean[1:].max() * 1e-12, np.finfo(float).tiny)
        smooth = np.exp(np.convolve(np.log(np.maximum(mean, floor)), kernel, mode="same"))
        gain = np.sqrt(reference / smooth)
        gain = np.minimum(gain, _MAX_GAIN_RATIO * np.median(gain))
        gain[0] = 0.0  # no offset
        # Parseval: an epoch's variance is the sum of its one-sided power over n_times^2.
        variance = 2 * np.sum(gain**2 * mean) / n_times**2
        gains[code] = gain * (target / np.sqrt(variance)) if variance > 0 else 1.0
    return row, gains


def recording_scales(dataset, *, target=TARGET_STD_VOLTS):
    """Per-epoch factors that bring each recording's median epoch spread to ``target``.

    Amplitude differs between people (skull, age) and recordings (electrodes, amplifier gain,
    derivation) by a factor of ten and more, while the shape of each stage's EEG does not.
    Dividing each recording by its own typical spread, the median over its epochs of their
    standard deviation (flat epochs left out), removes that factor, as U-Sleep scales each
    recording by its robust spread and YASA scales its features per night: the amplitude that
    marks N3 is then relative to the person's other epochs. Computed from the recording's own
    signal, the same way in training, prediction and staging.

    Parameters
    ----------
    dataset : EpochsDataset
        Epochs with their ``recording`` codes.
    target : float
        The median epoch standard deviation after scaling, in volts.

    Returns
    -------
    scale : ndarray of float32, shape (n_epochs,)
        The factor of each epoch (that of its recording).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(0, 1e-4, (6, 1, 3000)).astype(np.float32)
    >>> dataset = EpochsDataset(X, recording=[0, 0, 0, 1, 1, 1])
    >>> np.round(recording_scales(dataset) * 1e-4 / TARGET_STD_VOLTS, 2).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    X, recording = dataset.X, dataset.recording
    std = np.empty(len(X))
    ptp = np.empty(len(X))
    for start in range(0, len(X), _CHUNK):
        block = np.asarray(X[start : start + _CHUNK], dtype=np.float32)
        std[start : start + len(block)] = block.std(axis=(1, 2), dtype=np.float64)
        ptp[start : start + len(block)] = np.ptp(block, axis=(1, 2))
    scale = np.ones(len(X), dtype=np.float32)
    for code in np.unique(recording):
        mine = recording == code
        usable = mine & (ptp >= FLAT_PTP_VOLTS)
        typical = float(np.median(std[usable])) if usable.any() else 0.0
        if typical > 0:
            scale[mine] = target / typical
    return scale


def check_epochs(
    X,
    *,
    sfreq=DEFAULT_SFREQ,
    picks=None,
    resample=False,
    epoch_duration=EPOCH_DURATION,
    on_flat="raise",
    ch_name=None,
    recording=None,
) -> EpochsDataset:
    """Validate EEG epochs and convert them to the model's input.

    Parameters
    ----------
    X : mne.Epochs | list of mne.Epochs | ndarray | EpochStore
        Epochs of one EEG channel; arrays of shape ``(n_epochs, n_times)`` or
        ``(n_epochs, n_channels, n_times)``, taken to be in volts (as MNE stores EEG) and
        sampled at ``sfreq``. An :class:`~mne_sscsleep.datasets.EpochStore` (checked when its
        recordings were added) becomes a dataset that reads its EEG from disk batch by batch.
    sfreq : float
        Sampling rate the model works at, in Hz.
    picks : str | int | None
        The channel to use when ``X`` has several: a name (``mne.Epochs``) or an index. None
        picks the only channel, or the only EEG channel of ``mne.Epochs``.
    resample : bool
        If True, ``mne.Epochs`` sampled at another rate are resampled to ``sfreq``; if False
        (default), such input is an error, so that resampling is never silent.
    epoch_duration : float
        Expected epoch duration in seconds (30 s in the AASM manual).
    on_flat : ``'raise'`` | ``'warn'`` | ``'ignore'``
        What to do with flat epochs (peak-to-peak below 0.1 uV), typically a disconnected
        electrode.
    ch_name : str | None
        Name of the channel of an array (arrays carry no names), so that a model trained on
        another derivation can warn. Ignored for ``mne.Epochs``.
    recording : array-like, shape (n_epochs,) | None
        The recording (night) of each epoch, for models that read neighbouring epochs. None:
        from ``mne.Epochs`` metadata (column ``'recording'``, else ``'subject'``), or one
        recording for arrays. Time order within a recording comes from the event samples of
        ``mne.Epochs`` (a gap of more than 30 s, e.g. dropped epochs, breaks the sequence)
        and from the order of the rows for arrays.

    Returns
    -------
    dataset : EpochsDataset
        ``X`` is float32 of shape ``(n_epochs, 1, n_times)`` in volts, with
        ``n_times == round(sfreq * epoch_duration)``; ``y`` is None. A C-contiguous float32
        array is not copied; other input is converted in chunks, so no float64 copy is made.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(0, 20e-6, (4, 3000)).astype(np.float32)
    >>> checked = check_epochs(X)
    >>> checked.X.shape, checked.X.dtype, checked.sfreq
    ((4, 1, 3000), dtype('float32'), 100.0)
    >>> np.shares_memory(checked.X, X)
    True
    """
    options = _check_options(**{name: value for name, value in locals().items() if name != "X"})
    if isinstance(X, DatasetSource):
        if recording is not None:
            raise ValueError(
                f"recording= cannot be combined with {type(X).__name__}, which brings its "
                "own recordings; leave recording= out."
            )
        return X.to_dataset(sfreq=options["sfreq"])
    return _check_merged(load_lazy_epochs(merge_epochs_list(X)), **options)


# check_epochs' options and their defaults, read once from its signature.
_CHECK_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(check_epochs).parameters.items()
    if parameter.kind is parameter.KEYWORD_ONLY
}


def _check_options(**options):
    """:func:`check_epochs`' options, checked, with its defaults for those not given."""
    unknown = sorted(set(options) - set(_CHECK_DEFAULTS))
    if unknown:
        raise TypeError(f"check_epochs got unexpected option(s): {', '.join(unknown)}.")
    options = {**_CHECK_DEFAULTS, **options}
    if options["on_flat"] not in ("raise", "warn", "ignore"):
        raise ValueError(
            f"on_flat must be 'raise', 'warn' or 'ignore', got {options['on_flat']!r}."
        )
    for name in ("sfreq", "epoch_duration"):
        options[name] = _check_positive(options[name], name)
    return options


def _check_merged(X, *, sfreq, picks, resample, epoch_duration, on_flat, ch_name, recording):
    """:func:`check_epochs` of input already merged (lists) and settled (lazy Epochs), with
    options from :func:`_check_options`."""
    import mne

    time_index = None
    if isinstance(X, mne.BaseEpochs):
        recording, time_index = epochs_order(X, recording, epoch_duration=epoch_duration)
        data, ch_name = _data_from_mne(X, sfreq=sfreq, picks=picks, resample=resample)
    elif isinstance(X, mne.io.BaseRaw):
        raise TypeError(
            "Got a continuous mne.io.Raw; the model needs 30-s epochs. Cut it first with "
            "mne.make_fixed_length_epochs(raw, duration=30.0), or stage a whole recording "
            "with mne_sscsleep.stage()."
        )
    elif isinstance(X, torch.utils.data.Dataset):
        raise TypeError(
            f"Got a {type(X).__name__}; mne-sscsleep builds its own dataset. Pass mne.Epochs or "
            "an array of EEG in volts of shape (n_epochs, n_times)."
        )
    else:
        data = _data_from_array(X, picks=picks)
        recording = _recording_codes(recording, len(data))
        if ch_name is not None and not isinstance(ch_name, str):
            raise TypeError(f"ch_name must be a string or None, got {ch_name!r}.")
    n_epochs, _, n_times = data.shape
    if n_epochs == 0:
        raise ValueError("Got 0 sample(s) (no epochs, empty input); pass at least one 30-s epoch.")
    if n_times == 0:
        raise ValueError(
            f"Found epochs with 0 feature(s) (shape=({n_epochs}, 0)) while a minimum of 1 is "
            "required: pass 30-s epochs of EEG."
        )
    expected = int(round(sfreq * epoch_duration))
    if n_times == expected + 1:
        # mne.Epochs(..., tmin=0, tmax=30) keeps both end points; drop the extra sample.
        _warn(
            f"Epochs have {n_times} samples, one more than {epoch_duration:g} s at {sfreq:g} Hz; "
            f"dropping the last sample. Create epochs with tmax={epoch_duration:g} - 1 / sfreq "
            "to avoid this warning."
        )
        data = np.ascontiguousarray(data[..., :expected])  # batches are views: keep it C order
    elif n_times != expected:
        raise ValueError(
            f"Epochs last {n_times} samples ({n_times / sfreq:g} s at {sfreq:g} Hz) but the "
            f"model needs {epoch_duration:g}-s epochs ({expected} samples). Cut the recording "
            f"into {epoch_duration:g}-s epochs (tmin=0, tmax={epoch_duration:g} - 1 / sfreq); "
            "if the array is sampled at another rate, wrap it in mne.EpochsArray and pass "
            "resample=True."
        )
    _check_values(data, on_flat)
    dataset = EpochsDataset(
        data, ch_name=ch_name, sfreq=sfreq, recording=recording, time_index=time_index
    )
    dataset.provenance = data_provenance(X)
    return dataset


def data_provenance(X):
    """Where epochs came from, as model files record it.

    Parameters
    ----------
    X : mne.Epochs | mne.io.Raw | ndarray
        The input.

    Returns
    -------
    provenance : dict
        ``input`` (``'mne.Epochs'``, ``'mne.io.Raw'`` or ``'array'``), ``simulated`` (True
        for the simulator's data, False for MNE objects without its mark, None for arrays,
        which carry no mark), ``description`` (``info['description']``) and ``recordings``
        (the ``'recording'`` metadata column's names, e.g. the loaders' file names).

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_epochs
    >>> epochs, _, _ = simulate_sleep_epochs(1, hours=0.5, random_state=0, verbose="error")
    >>> data_provenance(epochs)["simulated"], data_provenance(epochs.get_data())["simulated"]
    (True, None)
    """
    import mne

    if not isinstance(X, (mne.BaseEpochs, mne.io.BaseRaw)):
        return {"input": "array", "simulated": None, "description": None, "recordings": []}
    description = X.info.get("description")
    recordings = []
    metadata = getattr(X, "metadata", None)
    if metadata is not None and "recording" in metadata.columns:
        recordings = sorted(map(str, metadata["recording"].unique()))
    # Lazy Epochs keep their Raw (private Epochs._raw; MNE offers no public link to it), which
    # knows its files.
    raw = getattr(X, "_raw", None)
    filenames = getattr(raw if raw is not None else X, "filenames", None) or []
    recordings = recordings or [Path(str(name)).name for name in filenames if name]
    return {
        "input": "mne.Epochs" if isinstance(X, mne.BaseEpochs) else "mne.io.Raw",
        "simulated": description == SIMULATED_DESCRIPTION,
        "description": description,
        "recordings": recordings,
    }


def training_record(dataset, previous=None):
    """What a model was trained on (its ``training_data_``), adding to an earlier record.

    Parameters
    ----------
    dataset : EpochsDataset
        The training data (with their ``provenance``).
    previous : dict | None
        The record of earlier training (``partial_fit``, ``warm_start``).

    Returns
    -------
    record : dict
        ``source``, ``simulated``, ``n_recordings``, ``n_epochs``, ``recordings``, ``date``
        and ``package_version``.
    """
    from ._version import __version__

    provenance = dataset.provenance or {}
    simulated = provenance.get("simulated")
    recordings = list(provenance.get("recordings") or [])
    n_recordings = len(np.unique(dataset.recording))
    record = {
        "source": _source(provenance),
        "simulated": simulated,
        "n_recordings": n_recordings,
        "n_epochs": len(dataset),
        "recordings": recordings[:1000],
        "date": datetime.date.today().isoformat(),
        "package_version": __version__,
    }
    if previous:
        known = previous.get("simulated")
        record.update(
            source=previous.get("source")
            if previous.get("source") == record["source"]
            else "several sources (partial_fit)",
            simulated=None if None in (known, simulated) else bool(known and simulated),
            n_recordings=int(previous.get("n_recordings", 0)) + n_recordings,
            n_epochs=int(previous.get("n_epochs", 0)) + len(dataset),
            recordings=sorted(set(previous.get("recordings") or []) | set(recordings))[:1000],
        )
    return record


def _source(provenance):
    if provenance.get("simulated"):
        return "simulated nights (mne-sscsleep simulator)"
    if provenance.get("input") == "array":
        return "arrays (origin not recorded)"
    description = provenance.get("description")
    return f"{provenance.get('input', 'mne.Epochs')}" + (f": {description}" if description else "")


def _recording_codes(recording, n_epochs):
    if recording is None:
        return None
    values = np.asarray(recording)
    if values.ndim != 1 or len(values) != n_epochs:
        raise ValueError(
            f"recording must give one recording id per epoch ({n_epochs}), got shape "
            f"{values.shape}."
        )
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError("recording holds NaN or infinite ids; give every epoch a recording id.")
    return np.unique(
        values.astype(str) if values.dtype == object else values, return_inverse=True
    )[1].reshape(-1)


def epochs_order(epochs, recording=None, *, epoch_duration=EPOCH_DURATION):
    """The recording of each epoch and its position in time there, from ``mne.Epochs``.

    Parameters
    ----------
    epochs : mne.Epochs
        Epochs cut from one or several recordings.
    recording : array-like, shape (n_epochs,) | None
        The recording of each epoch; None reads the ``'recording'`` column of
        ``epochs.metadata``, else its ``'subject'`` column, else takes one recording.
    epoch_duration : float
        Epoch length in seconds: consecutive epochs start this far apart.

    Returns
    -------
    recording : ndarray of int64, shape (n_epochs,)
        Recording codes ``0 .. n_recordings - 1``, in the sorted order of the ids given or
        read.
    time_index : ndarray of int64, shape (n_epochs,)
        Start of each epoch in epochs since the first one of its recording (from
        ``epochs.events``): consecutive epochs differ by one, a gap by more. Where the events
        of a recording are closer than one epoch apart (``mne.EpochsArray``'s default events
        0, 1, 2, ...), the rows are taken in their order.

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_epochs
    >>> epochs, _, _ = simulate_sleep_epochs(2, hours=0.5, random_state=0, verbose="error")
    >>> recording, time_index = epochs_order(epochs[[0, 1, 3, 60]])
    >>> recording.tolist(), time_index.tolist()
    ([0, 0, 0, 1], [0, 1, 3, 0])
    """
    metadata = epochs.metadata
    if recording is None and metadata is not None:
        for column in ("recording", "subject"):
            if column in metadata.columns:
                recording = metadata[column].to_numpy()
                break
    n_epochs = len(epochs.events)
    codes = (
        np.zeros(n_epochs, np.int64)
        if recording is None
        else _recording_codes(recording, n_epochs)
    )
    # Events count samples of the recording the epochs were cut from (before any resampling).
    # MNE keeps that rate only in the private Epochs._raw_sfreq (no public API gives it after
    # Epochs.resample); read with a fallback to info["sfreq"] for epochs that lack it.
    raw_sfreq = float(getattr(epochs, "_raw_sfreq", epochs.info["sfreq"]))
    step = epoch_duration * raw_sfreq
    samples = epochs.events[:, 0].astype(np.int64)
    time_index = np.empty(n_epochs, np.int64)
    for code in np.unique(codes):
        mine = codes == code
        time_index[mine] = np.round((samples[mine] - samples[mine].min()) / step)
        if len(np.unique(time_index[mine])) != mine.sum():
            # Events closer than one epoch (EpochsArray's default events 0, 1, 2, ..., or
            # overlapping windows) say nothing about time: take the rows in their order.
            time_index[mine] = np.arange(mine.sum())
    return codes, time_index


def _check_positive(value, name):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}.") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return value


def merge_epochs_list(X):
    """Merge a list of ``mne.Epochs`` into one ``EpochsArray``; anything else passes through.

    scikit-learn's cross-validation indexes objects without a ``shape`` (such as ``mne.Epochs``)
    into a *list* of one-epoch ``Epochs``; this turns such a list back into one object.

    Parameters
    ----------
    X : object
        Typically a list of ``mne.Epochs`` with the same channels and sampling rate.

    Returns
    -------
    X : mne.EpochsArray | object
        One ``EpochsArray`` for a list of Epochs, else ``X`` itself.

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_epochs
    >>> epochs, _, _ = simulate_sleep_epochs(1, hours=0.5, random_state=0, verbose="error")
    >>> len(merge_epochs_list([epochs[0], epochs[5], epochs[7]]))
    3
    """
    import mne

    if not isinstance(X, (list, tuple)) or not X:
        return X
    if not all(isinstance(item, mne.BaseEpochs) for item in X):
        return X
    first = X[0]
    event_id = {}
    for item in X:
        if item.ch_names != first.ch_names or item.info["sfreq"] != first.info["sfreq"]:
            raise ValueError(
                "The list of epochs mixes channels or sampling rates ("
                f"{first.ch_names} at {first.info['sfreq']:g} Hz vs {item.ch_names} at "
                f"{item.info['sfreq']:g} Hz); pick and resample them alike first."
            )
        for name, code in item.event_id.items():
            if event_id.setdefault(name, code) != code:
                raise ValueError(
                    f"The list of epochs gives event {name!r} two codes ({event_id[name]} and "
                    f"{code}); make their event_id agree."
                )
    data = np.concatenate([item.get_data(copy=False) for item in X])
    events = np.concatenate([item.events for item in X])
    if len(np.unique(events[:, 0])) != len(events):
        # Items cut from different recordings: shift each after the previous one, with a gap,
        # so that no epoch of one item reads as the neighbour of another's.
        offset = 0
        shifted = []
        for item in X:
            item_events = item.events.copy()
            item_events[:, 0] += offset - item_events[:, 0].min()
            offset = item_events[:, 0].max() + 10 * len(first.times)
            shifted.append(item_events)
        events = np.concatenate(shifted)
    metadata = None
    if all(item.metadata is not None for item in X):
        import pandas as pd

        metadata = pd.concat([item.metadata for item in X], ignore_index=True)
    merged = mne.EpochsArray(
        data,
        first.info,
        events=events,
        event_id=event_id,
        tmin=first.tmin,
        metadata=metadata,
        verbose="error",
    )
    # The events keep the first item's sample numbers: keep the rate they count in too (MNE's
    # private Epochs._raw_sfreq, read back by epochs_order; EpochsArray has no public way).
    merged._raw_sfreq = getattr(first, "_raw_sfreq", first.info["sfreq"])
    return merged


def _data_from_mne(epochs, *, sfreq, picks, resample):
    ch_name = pick_from_info(epochs.info, picks, source="the epochs")
    epochs_sfreq = float(epochs.info["sfreq"])
    if not np.isclose(epochs_sfreq, sfreq):
        if not resample:
            raise ValueError(
                f"The epochs are sampled at {epochs_sfreq:g} Hz but the model works at "
                f"{sfreq:g} Hz. Resample first (epochs.resample({sfreq:g})) or pass "
                "resample=True."
            )
        epochs = epochs.copy().pick([ch_name]).resample(sfreq, verbose="error")
    # get_data() returns float64; converting chunk by chunk keeps only the float32 result.
    n_epochs, n_times = len(epochs), len(epochs.times)
    data = np.empty((n_epochs, 1, n_times), dtype=np.float32)
    for start in range(0, n_epochs, _CHUNK):
        stop = min(start + _CHUNK, n_epochs)
        data[start:stop] = epochs.get_data(
            picks=[ch_name], item=slice(start, stop), verbose="error"
        )
    return data, ch_name


def _reject_sparse(X):
    import scipy.sparse

    if scipy.sparse.issparse(X):
        raise TypeError(
            "Sparse input is not supported: EEG epochs are dense. Pass a dense array "
            "(X.toarray()) or mne.Epochs."
        )


def _data_from_array(X, *, picks):
    _reject_sparse(X)
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except ValueError:  # ragged nested lists
            raise ValueError(
                "Expected mne.Epochs or an array of EEG in volts of shape (n_epochs, n_times); "
                "got a ragged nested sequence (epochs of different lengths)."
            ) from None
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported: EEG epochs are real-valued.")
    if X.dtype.kind not in "fiu":
        raise TypeError(
            f"Expected mne.Epochs or a numeric array of EEG in volts, got {type(X).__name__} "
            f"with dtype {X.dtype}."
        )
    if X.ndim == 2:
        X = X[:, np.newaxis, :]
    elif X.ndim == 3:
        if X.shape[1] != 1 or picks is not None:
            index, _ = pick_channel(X.shape[1], picks, source="the array")
            X = X[:, [index], :]
    else:
        raise ValueError(
            "Expected an array of shape (n_epochs, n_times) or (n_epochs, 1, n_times), got "
            f"shape {X.shape}."
        )
    # No copy for C-contiguous float32 (the network scales each batch to microvolts itself);
    # other dtypes are cast straight into one float32 array, without temporaries.
    return np.ascontiguousarray(X, dtype=np.float32)


def _check_values(data, on_flat):
    """Reject non-finite values and microvolt arrays; handle flat epochs (chunked)."""
    finite, std, ptp = [], [], []
    for start in range(0, len(data), _CHUNK):
        block = data[start : start + _CHUNK]
        block_finite = np.isfinite(block).all(axis=(1, 2))
        finite.append(block_finite)
        if block_finite.all():
            std.append(block.std(axis=(1, 2), dtype=np.float64))
            ptp.append(np.ptp(block, axis=(1, 2)))
    finite = np.concatenate(finite)
    if not finite.all():
        raise ValueError(
            f"Epochs {_format_indices(np.flatnonzero(~finite))} contain NaN or infinite values. "
            "Drop them (epochs.drop(indices)) or repair the signal (e.g. interpolate the gap) "
            "before staging."
        )
    std, ptp = np.concatenate(std), np.concatenate(ptp)
    std_volts = float(np.median(std))
    if std_volts > _MAX_PLAUSIBLE_STD_VOLTS:
        raise UnitError(
            f"The median epoch standard deviation is {std_volts:.3g} V, far above scalp EEG. "
            "mne-sscsleep, like MNE, expects volts: if your array is in microvolts, multiply it "
            "by 1e-6 (or pass mne.Epochs)."
        )
    flat = ptp < FLAT_PTP_VOLTS
    if flat.any() and on_flat != "ignore":
        message = (
            f"Epochs {_format_indices(np.flatnonzero(flat))} are flat (peak-to-peak below "
            f"{FLAT_PTP_VOLTS * 1e6:g} uV), e.g. a disconnected electrode. Drop them "
            "(epochs.drop(indices)) or pass on_flat='ignore' to keep them."
        )
        if on_flat == "raise":
            raise ValueError(message)
        _warn(message)


def check_dataset(dataset, y=None, *, sfreq, recording=None, stage_map=None, labelled=False):
    """A dataset from :func:`check_epochs`: as it is, or with the labels ``y``.

    Parameters
    ----------
    dataset : EpochsDataset
        Checked epochs.
    y : array-like | None
        Labels to give them (None: their own).
    sfreq : float
        The model's rate, which the dataset's must be.
    recording : None
        Refused: a checked dataset has its recordings.
    stage_map : dict | None
        What the labels ``y`` mean.
    labelled : bool
        Whether labels are needed (training).

    Returns
    -------
    dataset : EpochsDataset
        The dataset, or a shallow copy with the labels ``y``.
    """
    if recording is not None:
        raise ValueError(
            "recording= cannot be combined with a checked dataset, which has its "
            "recordings already; pass them to check_epochs(X, recording=...)."
        )
    if not np.isclose(dataset.sfreq, sfreq):
        raise ValueError(
            f"The dataset was checked at {dataset.sfreq:g} Hz but the model works at "
            f"{sfreq:g} Hz; check it again with check_epochs(X, sfreq={sfreq:g})."
        )
    if y is not None:
        return dataset.labelled(y, stage_map=stage_map)
    if labelled and dataset.y is None:
        raise ValueError("The dataset holds no labels; pass y, or use check_epochs_labels.")
    return dataset


def check_epochs_labels(X, y, *, stage_map=None, **kwargs):
    """Validate epochs and their labels together.

    Parameters
    ----------
    X : mne.Epochs | ndarray
        See :func:`check_epochs`.
    y : array-like, shape (n_epochs,) | None
        Stage labels (see :func:`~mne_sscsleep.stage_indices`). If None and ``X`` is
        ``mne.Epochs``, labels are the ``event_id`` names of ``X.events``. Integer labels equal
        to ``X.events[:, 2]`` (MNE's event codes, as in MNE's sleep tutorial) are read through
        ``X.event_id``: each code means the stage its event name names.
    stage_map : dict | None
        Explicit ``{label: stage}`` mapping (see :func:`~mne_sscsleep.stage_indices`); it wins
        over ``event_id``.
    **kwargs
        Passed to :func:`check_epochs`.

    Returns
    -------
    dataset : EpochsDataset
        The validated input, with ``y`` (stage indices), ``labels`` (the user's labels as
        given, or the ``event_id`` names) and ``stage_map`` (the ``{label: stage index}``
        mapping used, or None) filled in.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(0, 20e-6, (3, 3000))
    >>> dataset = check_epochs_labels(X, ["Wake", "REM", "N2"])
    >>> dataset.y.tolist(), dataset.labels.tolist()
    ([0, 4, 2], ['Wake', 'REM', 'N2'])
    """
    import mne

    _reject_sparse(X)
    if y is not None and stage_map is None and not isinstance(y, torch.Tensor):
        # Labels that cannot be stages whatever they mean (continuous, boolean) are refused
        # before the data are read; what they mean is decided after.
        label_kind(np.asarray(y), name="y")
    if isinstance(X, DatasetSource):
        dataset = check_epochs(X, **kwargs)
        if y is None and dataset.y is not None:
            return dataset  # it brought its labels
    else:
        X = load_lazy_epochs(merge_epochs_list(X))
        # The data's own problems are reported first.
        dataset = _check_merged(X, **_check_options(**kwargs))
    if y is None:
        if not isinstance(X, mne.BaseEpochs):
            raise ValueError(
                "y is required for arrays; only mne.Epochs carry their labels (in events and "
                "event_id)."
            )
        y = labels_from_epochs(X)
        name = "the event_id names of the epochs"
    else:
        name = "y"
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    try:
        labels = np.asarray(y)
    except ValueError:
        raise ValueError(
            f"{name} must be one label per epoch (a flat list or 1-D array)."
        ) from None
    n_epochs = len(dataset)
    if labels.ndim != 1 or len(labels) != n_epochs:
        dropped = ""
        if isinstance(X, mne.BaseEpochs) and labels.ndim == 1 and len(labels) > n_epochs:
            dropped = (
                " MNE dropped bad epochs when reading them (see epochs.drop_log): take y "
                "after epochs.drop_bad(), e.g. y = epochs.drop_bad().events[:, 2]."
            )
        raise ValueError(
            f"X has {n_epochs} epochs but y has {labels.shape[0] if labels.ndim else 0} labels "
            f"(shape {labels.shape}); pass one label per epoch.{dropped}"
        )
    if stage_map is None and isinstance(X, mne.BaseEpochs):
        stage_map = _event_code_stage_map(X, labels)
    if stage_map is not None:
        stage_map = {key: STAGES[index] for key, index in check_stage_map(stage_map).items()}
    indices = stage_indices(labels, name=name, stage_map=stage_map)
    dataset.y, dataset.labels, dataset.stage_map = indices, labels, stage_map
    return dataset


def _event_code_stage_map(epochs, labels):
    """``{code: event name}`` when ``labels`` are the epochs' event codes, else None."""
    if labels.dtype.kind not in "iu" or not np.array_equal(labels, epochs.events[:, 2]):
        return None
    names = {code: name for name, code in epochs.event_id.items()}
    not_stages = sorted(
        {names.get(code, str(code)) for code in np.unique(labels).tolist()}
        - {name for name in names.values() if stage_index(name) is not None}
    )
    if not_stages:
        raise ValueError(
            f"y holds the epochs' event codes, read through epochs.event_id, but the events "
            f"{', '.join(map(repr, not_stages[:10]))} name no sleep stage. Drop those epochs "
            "(epochs = epochs[list_of_stage_names]) or pass stage_map={code: stage}."
        )
    return {int(code): name for code, name in names.items() if stage_index(name) is not None}


def load_lazy_epochs(X):
    """Settle which epochs of a lazy (not preloaded) ``mne.Epochs`` exist; else pass through.

    MNE reads lazy epochs from the file only when asked and drops bad ones (``reject``,
    ``BAD_`` annotations, epochs past the end of the recording) as it reads them, so their
    number is unknown until then. :meth:`mne.Epochs.drop_bad` settles it, in place, as
    ``epochs.get_data()`` would, without keeping the data in memory; the boundary then reads
    the epochs in chunks.

    Parameters
    ----------
    X : object
        Typically ``mne.Epochs`` created without ``preload=True``.

    Returns
    -------
    X : object
        The same object, with its bad epochs dropped if it is lazy ``mne.Epochs``.

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_raw
    >>> import mne
    >>> raw = simulate_sleep_raw(hours=0.5, random_state=0, verbose="error")
    >>> events = mne.make_fixed_length_events(raw, duration=30.0)
    >>> epochs = mne.Epochs(raw, events, tmin=0, tmax=29.99, baseline=None, verbose="error")
    >>> len(load_lazy_epochs(epochs))
    60
    """
    import mne

    if isinstance(X, mne.BaseEpochs) and not X.preload:
        X.drop_bad(verbose="error")
    return X


def _warn(message):
    warnings.warn(message, RuntimeWarning, stacklevel=4)
