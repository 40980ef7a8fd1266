"""A disk-backed store of labelled epochs: datasets larger than memory.

An :class:`EpochStore` is a folder:

- ``store.json``: the settings every recording shares (sampling rate, epoch length, channel,
  storage dtype) and the format version;
- ``recordings.jsonl``: one line per recording written (name, subject, source file, number of
  epochs, scale, data files), appended only once the recording's files are complete, so that a
  build interrupted at any moment resumes where it stopped;
- ``data/r000000.npy`` (EEG, ``(n_epochs, 1, n_times)``, float32 in volts or float16 times
  ``scale``) and ``data/r000000.labels.npy`` (stage index and position in the night of each
  epoch) per recording: plain ``.npy`` files that ``np.load(..., mmap_mode="r")`` maps.

Several processes may build one store at once (shards of a folder, two terminals): a
recording is identified by its content (a hash of its epochs and stages), its files are named
after that hash and written through temporary files, and the manifest is appended under a lock
after a last look at what the others added, so two different nights never share files and one
night is never stored twice.

Training reads batches by index through :class:`numpy.memmap` views opened per batch and
released right after, so a process holds the batch it is working on, never the store: peak
memory does not grow with the number of recordings. Only the labels, recording ids and time
positions (a few bytes per epoch) stay in memory. Nothing read from a store runs code: the
settings are JSON and the arrays are loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .._check import atomic_write, remove_stale_temporaries
from .._epochs import EpochsDataset, check_epochs_labels, labels_from_epochs, load_lazy_epochs
from .._stages import DEFAULT_SFREQ, EPOCH_DURATION, STAGES

try:  # one writer at a time appends to the manifest
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

FORMAT = "mne-sscsleep epoch store"
VERSION = 1
_DTYPES = ("float32", "float16")
# float16 keeps microvolts (scale 1e-6 V): 3 significant digits, up to 65,504 uV. A recording
# with larger values gets a coarser scale so that nothing overflows.
_FLOAT16_SCALE = 1e-6
_FLOAT16_MAX = 60000.0
# What a store's folder holds (anything else means the folder is not a store).
_STORE_FILES = ("store.json", "recordings.jsonl", "store.lock", "data")


class StoreArray:
    """The EEG of a store's recordings as one read-only array, read from disk on demand.

    Indexing with an int, a slice or an integer array returns float32 volts of shape
    ``(n, 1, n_times)``, read through a :class:`numpy.memmap` of each recording file involved
    that is released as soon as the rows are copied: memory holds the rows asked for, never the
    files. Pickling keeps only file names, so ``DataLoader`` workers open the files themselves.

    Parameters
    ----------
    files : list of pathlib.Path
        One ``.npy`` file per recording.
    n_epochs : array-like of int
        Epochs of each recording.
    scales : array-like of float
        Volts per stored unit of each recording (1 for float32 volts).
    n_times : int
        Samples per epoch.
    positions : ndarray of int64 | None
        The rows of the concatenated recordings this array exposes (None: all).
    """

    ndim = 3
    dtype = np.dtype(np.float32)

    def __init__(self, files, n_epochs, scales, n_times, positions=None):
        self.files = [Path(name) for name in files]
        self.starts = np.concatenate([[0], np.cumsum(n_epochs, dtype=np.int64)])
        self.scales = np.asarray(scales, dtype=np.float64)
        self.n_times = int(n_times)
        self.positions = None if positions is None else np.asarray(positions, np.int64)
        self._headers = {}

    @property
    def shape(self):
        return (len(self), 1, self.n_times)

    def __len__(self):
        return int(self.starts[-1]) if self.positions is None else len(self.positions)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            position = int(index) + (len(self) if index < 0 else 0)
            if not 0 <= position < len(self):
                raise IndexError(f"index {index} is out of range for {len(self)} epochs.")
            return self._read(np.array([position]))[0]
        if isinstance(index, slice):
            index = np.arange(*index.indices(len(self)))
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        return self._read(index.astype(np.int64, copy=False))

    def __array__(self, dtype=None, copy=None):
        data = self._read(np.arange(len(self)))
        return data if dtype is None else data.astype(dtype)

    def __getstate__(self):
        return {**self.__dict__, "_headers": {}}

    def _memmap(self, recording):
        """A fresh read-only map of one recording (the header is parsed once per process)."""
        fname = self.files[recording]
        if recording not in self._headers:
            offset, shape, dtype = _npy_header(fname, fname.parent.parent)
            expected = (int(self.starts[recording + 1] - self.starts[recording]), 1)
            if dtype not in (np.float32, np.float16) or shape != (*expected, self.n_times):
                raise ValueError(
                    f"The epoch store file {fname.name} is damaged: {dtype} of shape "
                    f"{shape}, not float EEG of shape {(*expected, self.n_times)}."
                )
            self._headers[recording] = (offset, shape, dtype)
        offset, shape, dtype = self._headers[recording]
        return np.memmap(fname, dtype=dtype, mode="r", offset=offset, shape=shape)

    def _read(self, index):
        rows = index if self.positions is None else self.positions[index]
        out = np.empty((len(rows), 1, self.n_times), dtype=np.float32)
        if not len(rows):
            return out
        recordings = np.searchsorted(self.starts, rows, side="right") - 1
        order = np.argsort(recordings, kind="stable")
        bounds = np.flatnonzero(np.diff(recordings[order])) + 1
        for group in np.split(order, bounds):
            recording = int(recordings[group[0]])
            local = rows[group] - self.starts[recording]
            sort = np.argsort(local, kind="stable")  # read each file forward
            block = self._memmap(recording)[local[sort]]
            if self.scales[recording] != 1.0:
                block = block.astype(np.float32) * np.float32(self.scales[recording])
            out[group[sort]] = block
        return out


class EpochStore:
    """Labelled 30-s epochs of many recordings on disk, used without loading them.

    Build a store once (:meth:`from_epochs`, :meth:`from_edf_folder`, :meth:`from_loader`,
    :meth:`add`, or ``mne-sscsleep store build``), then open it in any process
    (:meth:`open`) and pass it where epochs go: ``SSCSleepClassifier().fit(store)`` trains on
    it (labels from the store) reading batches from disk, ``predict(store)`` stages it, and
    ``store.subject`` gives the groups of a subject-wise ``GroupKFold``. Indexing a store with
    positions gives a store of those epochs (what scikit-learn's cross-validation does).

    Every recording passes the input checks of :func:`~mne_sscsleep.check_epochs` once, when
    it is added (finite values, volts, 30-s epochs, one channel at the store's rate), so
    training does not read the data again to check them.

    Parameters
    ----------
    path : str | pathlib.Path
        The store's folder. Use :meth:`open` or :meth:`create` rather than this constructor.

    Attributes
    ----------
    sfreq : float
        Sampling rate in Hz.
    ch_name : str | None
        The channel (the first recording's; others must match).
    dtype : ``'float32'`` | ``'float16'``
        How EEG is stored.

    Examples
    --------
    >>> from mne_sscsleep.datasets import EpochStore, simulate_sleep_epochs
    >>> epochs, y, groups = simulate_sleep_epochs(2, hours=1, random_state=0, verbose="error")
    >>> store = EpochStore.from_epochs("nights.store", epochs)  # doctest: +SKIP
    >>> store = EpochStore.open("nights.store")  # doctest: +SKIP
    >>> clf.fit(store)  # doctest: +SKIP
    >>> cross_validate(
    ...     clf, store, store.labels, groups=store.subject, cv=GroupKFold(5)
    ... )  # doctest: +SKIP
    """

    def __init__(self, path):
        self.path = Path(path).expanduser()
        settings = _read_settings(self.path)
        self.sfreq = float(settings["sfreq"])
        self.n_times = int(settings["n_times"])
        self.dtype = settings["dtype"]
        self.ch_name = settings.get("ch_name")
        self._entries, self._completed = _read_entries(self.path)
        self._positions = None  # the rows of a subset (store[indices]), None for the whole
        self._load_tables()

    # ---- building -----------------------------------------------------------------------------
    @classmethod
    def create(cls, path, *, sfreq=DEFAULT_SFREQ, dtype="float32"):
        """A new, empty store, or the existing one at ``path`` to add to (a resumed build).

        Parameters
        ----------
        path : str | pathlib.Path
            A folder that does not exist yet, or an existing store with the same settings.
        sfreq : float
            Sampling rate of the stored epochs in Hz.
        dtype : ``'float32'`` | ``'float16'``
            ``'float16'`` halves the disk space and the reads: microvolts with 3 significant
            digits (the scale is recorded per recording), well below EEG noise.

        Returns
        -------
        store : EpochStore
        """
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}.")
        sfreq = float(sfreq)
        path = Path(path).expanduser()
        if not (path / "store.json").is_file():
            # A folder of someone else's files is never written into; one holding only a
            # store's own files is a store another process is creating right now.
            foreign = [
                item.name
                for item in (path.iterdir() if path.is_dir() else ())
                if item.name not in _STORE_FILES and ".tmp-" not in item.name
            ]
            if path.exists() and (not path.is_dir() or foreign):
                raise FileExistsError(
                    f"{str(path)!r} exists and is not an epoch store; choose a new folder."
                )
            (path / "data").mkdir(parents=True, exist_ok=True)
            settings = {
                "format": FORMAT,
                "version": VERSION,
                "sfreq": sfreq,
                "n_times": int(round(sfreq * EPOCH_DURATION)),
                "epoch_duration": EPOCH_DURATION,
                "dtype": dtype,
                "ch_name": None,
            }
            (path / "recordings.jsonl").touch()
            if not (path / "store.json").is_file():
                _write_json(path / "store.json", settings)
        store = cls(path)
        if not np.isclose(store.sfreq, sfreq) or store.dtype != dtype:
            raise ValueError(
                f"The store at {str(path)!r} holds {store.dtype} epochs at "
                f"{store.sfreq:g} Hz, not {dtype} at {sfreq:g} Hz; add to it with its own "
                "settings or build a new store elsewhere."
            )
        remove_stale_temporaries(path / "data")
        return store

    def add(
        self,
        epochs,
        y=None,
        *,
        recording=None,
        subject=None,
        source=None,
        picks=None,
        resample=False,
        on_flat="raise",
        stage_map=None,
        source_id=None,
    ):
        """Add labelled epochs, one recording at a time; recordings already stored are skipped.

        A recording is identified by its content (its epochs and stages), not its name: two
        different nights under one name are both stored, and a night added twice (by a rerun,
        or by two processes at once) is stored once.

        Parameters
        ----------
        epochs : mne.Epochs | ndarray
            Epochs of one or several recordings (see :func:`~mne_sscsleep.check_epochs`).
        y : array-like | None
            Stage labels (None: the ``event_id`` names of ``mne.Epochs``).
        recording : str | array-like | None
            The recording's name, or one per epoch; None reads the ``'recording'`` metadata
            column of ``mne.Epochs`` (what every loader fills in), else its ``'subject'`` column
            (``'subject 3'``, as the simulator's), else one recording named after the store's
            size.
        subject : object | array-like | None
            The subject of the recording (or one per epoch); None reads the ``'subject'``
            metadata column, else takes the recording's name.
        source : str | None
            The file the recording came from (kept for provenance).
        picks : str | int | None
            The channel, as for :func:`~mne_sscsleep.check_epochs`.
        resample : bool
            Resample ``mne.Epochs`` at another rate to the store's.
        on_flat : ``'raise'`` | ``'warn'`` | ``'ignore'``
            What to do with flat epochs, as for :func:`~mne_sscsleep.check_epochs`.
        stage_map : dict | None
            What integer labels mean (see :func:`~mne_sscsleep.stage_indices`).
        source_id : str | None
            The identity of the source file (path, size and modification time), so that a
            resumed build skips it without reading it again.

        Returns
        -------
        n_added : int
            Recordings written (0 when all were already in the store).
        """
        import mne

        if self._positions is not None:
            raise ValueError(
                "This is a subset of a store (store[indices]); add recordings to the whole "
                "store, EpochStore.open(path)."
            )
        epochs = load_lazy_epochs(epochs)  # settles which epochs of lazy Epochs exist
        n_epochs = len(epochs)
        metadata = getattr(epochs, "metadata", None)
        names = _per_epoch(recording, n_epochs, metadata, "recording")
        if names is None:  # as the boundary reads recordings: else the subject column
            names = _per_epoch(None, n_epochs, metadata, "subject")
            names = None if names is None else np.array([f"subject {s}" for s in names], object)
        if names is None:
            names = np.full(n_epochs, f"recording {len(self._entries)}", dtype=object)
        subjects = _per_epoch(subject, n_epochs, metadata, "subject")
        if subjects is None:
            subjects = names
        labels = y
        if labels is None and isinstance(epochs, mne.BaseEpochs):
            labels = labels_from_epochs(epochs)
        if labels is None:
            raise ValueError("y is required for arrays; only mne.Epochs carry their labels.")
        labels = np.asarray(labels)
        if len(labels) != n_epochs:
            raise ValueError(f"Got {n_epochs} epochs but {len(labels)} labels.")
        added = 0
        for name in dict.fromkeys(names.tolist()):  # first-seen order
            mine = np.flatnonzero(names == name)
            part = epochs[mine] if len(mine) != n_epochs else epochs
            dataset = check_epochs_labels(
                part,
                labels[mine],
                sfreq=self.sfreq,
                picks=picks,
                resample=resample,
                on_flat=on_flat,
                stage_map=stage_map,
            )
            added += self._write(
                dataset,
                name=str(name),
                subject=_json_value(subjects[mine[0]]),
                source=source,
                simulated=dataset.provenance.get("simulated"),
                source_id=source_id,
            )
        return added

    @classmethod
    def from_epochs(cls, path, epochs, y=None, *, groups=None, dtype="float32", **kwargs):
        """Build (or resume) a store from ``mne.Epochs`` or arrays in memory.

        Parameters
        ----------
        path : str | pathlib.Path
            The store's folder.
        epochs : mne.Epochs | ndarray
            Epochs of one or several recordings (``'recording'`` metadata column, or
            ``recording=``).
        y : array-like | None
            Stage labels (None: from ``mne.Epochs``).
        groups : array-like | None
            Subject of each epoch (None: the ``'subject'`` metadata column).
        dtype : ``'float32'`` | ``'float16'``
            Storage type (see :meth:`create`).
        **kwargs
            ``recording``, ``picks``, ``resample``, ``on_flat``, ``sfreq`` (of the store).

        Returns
        -------
        store : EpochStore
        """
        store = cls.create(path, sfreq=kwargs.pop("sfreq", DEFAULT_SFREQ), dtype=dtype)
        store.add(epochs, y, subject=groups, **kwargs)
        return store

    @classmethod
    def from_edf_folder(
        cls,
        path,
        folder,
        channel=None,
        *,
        sfreq=DEFAULT_SFREQ,
        trim_wake=30.0,
        dtype="float32",
        stage_map=None,
        on_error="raise",
        progress=True,
    ):
        """Build (or resume) a store from a folder of EDF/EDF+ recordings, one file at a time.

        Recordings and their stages are found as :func:`~mne_sscsleep.datasets.load_edf_folder`
        finds them; only one recording is in memory at a time. A recording already in the
        store (the same file, unchanged, or the same content from anywhere) is skipped, so an
        interrupted build resumes where it stopped, and several processes may build one store
        at once.

        Parameters
        ----------
        path : str | pathlib.Path
            The store's folder.
        folder : str | pathlib.Path
            The folder of recordings.
        channel : str | int | None
            The EEG channel, the same in every file.
        sfreq : float
            Sampling rate of the store (recordings are resampled to it).
        trim_wake : float | None
            Minutes of wake kept around sleep (None keeps all).
        dtype : ``'float32'`` | ``'float16'``
            Storage type (see :meth:`create`).
        stage_map : dict | None
            What integer codes in per-epoch stage files mean.
        on_error : ``'raise'`` | ``'warn'``
            What to do with a recording that cannot be read: stop, or warn and go on.
        progress : bool
            Show a progress bar over the files.

        Returns
        -------
        store : EpochStore
        """
        from tqdm.auto import tqdm

        from .edf_folder import find_recordings, read_paired_recording, subject_from_name

        _check_on_error(on_error)
        pairs = find_recordings(folder)  # before anything is written
        store = cls.create(path, sfreq=sfreq, dtype=dtype)
        for index, (fname, hypnogram) in enumerate(
            tqdm(pairs, desc="Building the store", unit="file", disable=not progress)
        ):
            source_id = _source_id(fname, hypnogram)
            store._refresh()  # what other builders added meanwhile
            if source_id in {entry.get("source_id") for entry in store._entries}:
                continue
            try:
                epochs, y = read_paired_recording(
                    fname, hypnogram, channel, sfreq, trim_wake, stage_map
                )
                store.add(
                    epochs,
                    y,
                    recording=fname.name,
                    subject=subject_from_name(fname, index),
                    source=str(fname.resolve()),
                    source_id=source_id,
                )
            except (ValueError, OSError) as error:
                _skip_or_raise(on_error, fname.name, error)
        return store

    @classmethod
    def from_loader(
        cls,
        path,
        loader,
        subjects,
        /,
        *,
        dtype="float32",
        on_error="raise",
        progress=True,
        **kwargs,
    ):
        """Build (or resume) a store with a dataset loader, one subject at a time.

        Parameters
        ----------
        path : str | pathlib.Path
            The store's folder.
        loader : callable
            :func:`~mne_sscsleep.datasets.load_sleep_edf`,
            :func:`~mne_sscsleep.datasets.load_hmc`, :func:`~mne_sscsleep.datasets.load_shhs`
            or any function taking ``subjects=[s]`` and returning ``(epochs, y, groups)``.
        subjects : list
            The subjects to load, one call each; subjects already stored are skipped.
        dtype : ``'float32'`` | ``'float16'``
            Storage type (see :meth:`create`).
        on_error : ``'raise'`` | ``'warn'``
            What to do when a subject cannot be loaded: stop, or warn and go on (the subject
            is tried again by the next build).
        progress : bool
            Show a progress bar over the subjects.
        **kwargs
            Passed to the loader (its own ``path``, ``channel``, ``sfreq``, ...): the first
            three arguments are positional only, so ``path=`` here is the loader's.

        Returns
        -------
        store : EpochStore

        Examples
        --------
        >>> from mne_sscsleep.datasets import load_hmc
        >>> store = EpochStore.from_loader(
        ...     "hmc.store", load_hmc, range(1, 155), path="~/data/hmc/recordings"
        ... )  # doctest: +SKIP
        """
        from tqdm.auto import tqdm

        _check_on_error(on_error)
        store = cls.create(path, sfreq=kwargs.get("sfreq", DEFAULT_SFREQ), dtype=dtype)
        name = getattr(loader, "__name__", "loader")
        # A subject of one dataset (loader and its arguments, such as the path) is done once.
        options = hashlib.sha256(repr(sorted(kwargs.items())).encode()).hexdigest()[:12]
        for subject in tqdm(list(subjects), desc="Building the store", disable=not progress):
            key = f"{name}:{options}:{subject!r}"
            store._refresh()
            if key in store._completed:
                continue
            try:
                epochs, y, groups = loader(subjects=[subject], **kwargs)
                store.add(epochs, y, subject=groups)
            except (ValueError, OSError) as error:
                _skip_or_raise(on_error, f"subject {subject!r}", error)
                continue
            with store._locked():
                store._append({"completed": key})
            store._completed.add(key)
        return store

    # ---- reading ------------------------------------------------------------------------------
    @classmethod
    def open(cls, path):
        """Open an existing store (in any process).

        Parameters
        ----------
        path : str | pathlib.Path
            The store's folder.

        Returns
        -------
        store : EpochStore
        """
        return cls(path)

    def reload(self):
        """Read the store again, as it is on disk now (after another process added to it).

        Returns
        -------
        store : EpochStore
            The whole store.
        """
        return self.open(self.path)

    def __len__(self):
        return len(self.y)

    @property
    def shape(self):
        """``(n_epochs, 1, n_times)``, as of the array the store stands for."""
        return (len(self), 1, self.n_times)

    def __getitem__(self, index):
        """A store of the epochs at ``index`` (positions, a slice or a boolean mask)."""
        positions = np.atleast_1d(np.arange(len(self))[index])
        view = copy.copy(self)  # shares the recordings list; reads nothing from disk
        view._positions = positions if self._positions is None else self._positions[positions]
        view._index = tuple(values[positions] for values in self._joined())
        return view

    def __repr__(self):
        n_recordings = len(np.unique(self.recording)) if len(self) else 0
        return (
            f"<EpochStore | {len(self)} epochs, {n_recordings} recordings, {self.dtype} at "
            f"{self.sfreq:g} Hz, {self.ch_name or 'unnamed channel'}, {str(self.path)!r}>"
        )

    @property
    def recordings(self):
        """The whole store's recordings: name, subject, source, n_epochs, scale, simulated."""
        import pandas as pd

        columns = ["name", "subject", "source", "n_epochs", "scale", "simulated"]
        return pd.DataFrame([{key: e.get(key) for key in columns} for e in self._entries])

    @property
    def labels(self):
        """Canonical stage name of each epoch (``'W'``, ``'N1'``, ...)."""
        return np.asarray(STAGES)[self.y]

    @property
    def subject(self):
        """The subject of each epoch: the groups of a subject-wise ``GroupKFold``."""
        return self._per_recording([entry["subject"] for entry in self._entries])

    def get_data(self, item=None):
        """EEG in volts, read into memory.

        Parameters
        ----------
        item : int | slice | array-like of int | None
            The epochs to read (None: all of them, which must fit in memory).

        Returns
        -------
        data : ndarray of float32, shape (n, 1, n_times)
            EEG in volts.
        """
        array = self._array()
        return array[np.arange(len(self)) if item is None else item]

    def to_dataset(self, *, sfreq=None):
        """The store as the classifier's dataset, reading its EEG from disk batch by batch.

        Parameters
        ----------
        sfreq : float | None
            The rate the dataset is for (a classifier's ``sfreq``): refused unless it is the
            store's; None takes the store's.

        Returns
        -------
        dataset : mne_sscsleep._epochs.EpochsDataset
            ``X`` is a :class:`StoreArray`; ``y``, labels, recordings and time positions are
            in memory.
        """
        if sfreq is not None and not np.isclose(self.sfreq, sfreq):
            raise ValueError(
                f"The epoch store holds epochs at {self.sfreq:g} Hz but the model works at "
                f"{sfreq:g} Hz; build the store at {sfreq:g} Hz (EpochStore.create(..., "
                f"sfreq={sfreq:g}))."
            )
        if not len(self):
            raise ValueError(f"The store at {str(self.path)!r} holds no epochs yet.")
        dataset = EpochsDataset(
            self._array(),
            self.y,
            labels=self.labels,
            ch_name=self.ch_name,
            sfreq=self.sfreq,
            recording=self.recording,
            time_index=self.time_index,
        )
        entries = [self._entries[code] for code in np.unique(self.recording)]
        simulated = [entry.get("simulated") for entry in entries]
        dataset.provenance = {
            "input": "EpochStore",
            "simulated": None if None in simulated else all(simulated),
            "description": f"epoch store {self.path.name}",
            "recordings": sorted(entry["name"] for entry in entries),
        }
        return dataset

    # ---- internals ----------------------------------------------------------------------------
    def _array(self):
        files = [self.path / "data" / entry["file"] for entry in self._entries]
        n_epochs = [entry["n_epochs"] for entry in self._entries]
        scales = [entry["scale"] for entry in self._entries]
        return StoreArray(files, n_epochs, scales, self.n_times, positions=self._positions)

    def _load_tables(self):
        """Each recording's (stage, position) table, read once when the store is opened."""
        self._tables = [
            _load_npy(
                self.path / "data" / entry["labels"],
                (entry["n_epochs"], 2),
                (np.int32, np.int64),
                self.path,
            )
            for entry in self._entries
        ]
        self._index = None

    def _refresh(self):
        """Read the manifest again: recordings other processes added since."""
        entries, completed = _read_entries(self.path)
        for entry in entries[len(self._entries) :]:
            self._tables.append(
                _load_npy(
                    self.path / "data" / entry["labels"],
                    (entry["n_epochs"], 2),
                    (np.int32, np.int64),
                    self.path,
                )
            )
            self._entries.append(entry)
            self._index = None
        self._completed |= completed

    @contextlib.contextmanager
    def _locked(self):
        """Exclusive access to the manifest and settings (short: one append)."""
        with open(self.path / "store.lock", "a+b") as fid:
            if fcntl is not None:
                fcntl.flock(fid.fileno(), fcntl.LOCK_EX)
            else:
                fid.seek(0)
                msvcrt.locking(fid.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(fid.fileno(), fcntl.LOCK_UN)
                else:
                    fid.seek(0)
                    msvcrt.locking(fid.fileno(), msvcrt.LK_UNLCK, 1)

    def _joined(self):
        """``(y, time_index, recording)`` of every epoch, joined when first asked after a write."""
        if self._index is None:
            if self._tables:
                table = np.concatenate(self._tables).astype(np.int64)
                sizes = [len(part) for part in self._tables]
                recording = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
                self._index = (table[:, 0], table[:, 1], recording)
            else:
                self._index = (np.zeros(0, np.int64),) * 3
        return self._index

    @property
    def y(self):
        """Stage index of each epoch (0..4 for W, N1, N2, N3, R)."""
        return self._joined()[0]

    @property
    def time_index(self):
        """Position of each epoch in its night, in epochs from the first."""
        return self._joined()[1]

    @property
    def recording(self):
        """Recording code of each epoch (its row in :attr:`recordings`)."""
        return self._joined()[2]

    def _per_recording(self, values):
        values = np.asarray(values, dtype=object)
        out = values[self.recording]
        kinds = {type(value) for value in values.tolist()}
        return out.astype(np.int64) if kinds == {int} else out

    def _write(self, dataset, *, name, subject, source, simulated, source_id=None):
        """Store one recording unless its content is there already; 1 if written, else 0."""
        table = np.column_stack([dataset.y, dataset.time_index]).astype(np.int32)
        content = _content_hash(dataset.X, table, self.sfreq)
        self._refresh()
        if content in {entry.get("content") for entry in self._entries}:
            return 0
        data = dataset.X
        scale = 1.0
        if self.dtype == "float16":
            peak = float(np.abs(data).max()) if len(data) else 0.0
            scale = max(_FLOAT16_SCALE, peak / _FLOAT16_MAX)
            data = (data / np.float32(scale)).astype(np.float16)
        # Files named after the content: another process storing the same night writes the
        # same bytes, and two different nights never share a file.
        stem = f"r-{content[:20]}"
        _save_npy(self.path / "data" / f"{stem}.npy", data)
        _save_npy(self.path / "data" / f"{stem}.labels.npy", table)
        entry = {
            "name": name,
            "subject": subject,
            "source": source,
            "source_id": source_id,
            "content": content,
            "n_epochs": len(table),
            "scale": scale,
            "simulated": simulated,
            "file": f"{stem}.npy",
            "labels": f"{stem}.labels.npy",
        }
        with self._locked():
            self._refresh()  # the last look, under the lock, at what others added
            if content in {existing.get("content") for existing in self._entries}:
                return 0
            self._set_channel(dataset.ch_name, name)
            self._append(entry)
        self._entries.append(entry)
        self._tables.append(table)
        self._index = None  # joined again when next read, not at every recording added
        return 1

    def _set_channel(self, ch_name, name):
        """Record the store's channel with its first recording; refuse another (locked)."""
        settings = _read_settings(self.path)
        self.ch_name = settings.get("ch_name")
        if ch_name is None:
            return
        if self.ch_name is None:
            self.ch_name = ch_name
            _write_json(self.path / "store.json", {**settings, "ch_name": ch_name})
        elif ch_name != self.ch_name:
            raise ValueError(
                f"Recording {name!r} is channel {ch_name!r} but the store holds "
                f"{self.ch_name!r}; pick the same channel in every recording (picks=..., "
                "--channel)."
            )

    def _append(self, record):
        with open(self.path / "recordings.jsonl", "rb+") as fid:
            fid.seek(0, os.SEEK_END)
            if fid.tell():
                fid.seek(-1, os.SEEK_END)
                if fid.read(1) != b"\n":  # a line torn by a crash: start a fresh one
                    fid.write(b"\n")
            fid.write((json.dumps(record) + "\n").encode("utf-8"))
            fid.flush()
            os.fsync(fid.fileno())


def _check_on_error(on_error):
    if on_error not in ("raise", "warn"):
        raise ValueError(f"on_error must be 'raise' or 'warn', got {on_error!r}.")


def _skip_or_raise(on_error, what, error):
    """A recording (or subject) that failed: stop with its name, or warn and go on."""
    if on_error == "raise":
        raise type(error)(f"{what}: {error}") from None
    import warnings

    warnings.warn(f"Skipped {what}: {error}", RuntimeWarning, stacklevel=3)


def _read_settings(path):
    fname = Path(path) / "store.json"
    if not fname.is_file():
        raise FileNotFoundError(
            f"No epoch store at {str(path)!r} (no store.json). Build one with "
            "EpochStore.from_epochs(...), EpochStore.from_edf_folder(...) or "
            "`mne-sscsleep store build`."
        )
    try:
        settings = json.loads(fname.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{str(fname)!r} is not an epoch store's settings (not JSON).") from None
    if not isinstance(settings, dict) or settings.get("format") != FORMAT:
        raise ValueError(f"{str(fname)!r} is not an mne-sscsleep epoch store.")
    if settings.get("version") != VERSION:
        raise ValueError(
            f"The store at {str(path)!r} has format version {settings.get('version')!r}; this "
            f"mne-sscsleep reads version {VERSION}. Rebuild it with this version."
        )
    if settings.get("dtype") not in _DTYPES:
        raise ValueError(f"The store at {str(path)!r} has an unknown dtype.")
    return settings


def _read_entries(path):
    """Recordings and completed loader keys; a torn last line (a crash mid-write) is ignored."""
    entries, completed = [], set()
    fname = Path(path) / "recordings.jsonl"
    if not fname.is_file():
        return entries, completed
    for line in fname.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if "completed" in record:
            completed.add(str(record["completed"]))
        elif _valid_entry(record):
            entries.append(record)
    return entries, completed


def _valid_entry(record):
    files = (record.get("file"), record.get("labels"))
    return (
        all(isinstance(name, str) and Path(name).name == name for name in files)
        and isinstance(record.get("n_epochs"), int)
        and record["n_epochs"] >= 0
        and isinstance(record.get("scale"), (int, float))
        and isinstance(record.get("name"), str)
    )


def _write_json(fname, data):
    with atomic_write(fname) as tmp:
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")


def _save_npy(fname, array):
    with atomic_write(fname) as tmp, open(tmp, "wb") as fid:
        np.lib.format.write_array(fid, np.ascontiguousarray(array), allow_pickle=False)


def _npy_header(fname, store_path):
    """``(offset, shape, dtype)`` of a ``.npy`` file, checked against the file's size.

    The header is the file's claim; it is believed only when the file holds exactly that many
    bytes, so a damaged or forged file cannot make a reader allocate what it merely claims.
    """
    try:
        with open(fname, "rb") as fid:
            major, _ = np.lib.format.read_magic(fid)
            read_header = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(fid)
            offset = fid.tell()
    except (OSError, ValueError) as error:
        raise ValueError(
            f"The store at {str(store_path)!r} is damaged: {Path(fname).name} cannot be read "
            f"({error})."
        ) from None
    size = Path(fname).stat().st_size
    if fortran or dtype.hasobject or offset + int(np.prod(shape)) * dtype.itemsize != size:
        raise ValueError(
            f"The store at {str(store_path)!r} is damaged: {Path(fname).name} claims "
            f"{dtype} of shape {shape} but holds {size - offset} bytes."
        )
    return offset, shape, dtype


def _load_npy(fname, shape, dtypes, store_path):
    """A small array of the store (a labels table), after checking it is what it should be."""
    offset, found, dtype = _npy_header(fname, store_path)
    if tuple(found) != tuple(shape) or dtype not in [np.dtype(d) for d in dtypes]:
        raise ValueError(
            f"The store at {str(store_path)!r} is damaged: {Path(fname).name} has shape "
            f"{found} ({dtype}), not {tuple(shape)}."
        )
    return np.fromfile(fname, dtype=dtype, offset=offset).reshape(found)


def _content_hash(data, table, sfreq):
    """What identifies a recording in a store: its EEG, stages and positions, and the rate."""
    sha = hashlib.sha256(f"{float(sfreq)!r}|{data.shape}|".encode())
    for start in range(0, len(data), 1024):
        sha.update(np.ascontiguousarray(data[start : start + 1024], dtype=np.float32).data)
    sha.update(np.ascontiguousarray(table, dtype=np.int64).data)
    return sha.hexdigest()


def _source_id(fname, hypnogram=None):
    """A source file (and its hypnogram) as it is now: path, size and modification time."""
    parts = []
    for path in (fname, hypnogram):
        if path is not None:
            stat = Path(path).stat()
            parts.append(f"{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}")
    return "+".join(parts)


def _per_epoch(value, n_epochs, metadata, column):
    """One value per epoch from an argument, a metadata column, or None."""
    if value is None:
        if metadata is not None and column in metadata.columns:
            return metadata[column].to_numpy(dtype=object)
        return None
    values = np.asarray(value, dtype=object)
    if values.ndim == 0:
        return np.full(n_epochs, value, dtype=object)
    if len(values) != n_epochs:
        raise ValueError(f"{column} must be one value or one per epoch ({n_epochs}).")
    return values


def _json_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (int, str)) else str(value)
