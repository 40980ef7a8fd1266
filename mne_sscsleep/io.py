"""Model files: one file of plain data, with components named from a fixed registry.

A model file is a ``torch.save`` of plain data (tensors, strings, numbers, lists, dicts), read
back with ``torch.load(weights_only=True)``, which refuses pickled objects. That alone is not
enough: a file also names the classifier's components (network, loss, optimiser, ...), and
skorch *calls* them with parameters read from the same file. So components are stored as names
from :data:`REGISTRY`, this package's own classes plus PyTorch's optimisers, never as import
paths; a file naming anything else is refused before anything is built, and nothing is imported
on its behalf. Runtime settings that could run code or tools (``compile`` and its options,
``torch_load_kwargs``) are never stored nor accepted.

The file also holds a SHA-256 checksum of its content: damaged weights (a truncated download,
a flipped disk block) are refused instead of staging every epoch as one stage with NaN
confidence. The checksum guards against accidents, not against a forger, who can recompute it;
safety against forged files comes from the registry.
"""

from __future__ import annotations

import hashlib
import math
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from skorch.dataset import Dataset, ValidSplit
from torch.utils.data import DataLoader

from ._check import atomic_write, check_output_file, first_line
from ._docs import fill_doc
from ._stages import EPOCH_DURATION, N_STAGES, STAGES
from ._version import __version__
from .nn import AdaptiveLoss, Augmentation, SSCSleepNet, SSCSleepNetLite, stage_softmax
from .training import EpochLoader, PairLoader, RecordingSplit, get_preset

__all__ = [
    "COMPONENT_FIELDS",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "REGISTRY",
    "ModelFile",
    "format_model_info",
    "is_model_file",
    "model_info",
    "read_model",
    "write_model",
]

#: The ``format`` field of every model file of this package.
FORMAT = "mne-sscsleep-model"
#: The layout version this package writes and reads (files of other versions are refused).
FORMAT_VERSION = 4


def _optimizers():
    return {
        f"torch.optim.{name}": optimizer
        for name, optimizer in sorted(vars(torch.optim).items())
        if isinstance(optimizer, type)
        and issubclass(optimizer, torch.optim.Optimizer)
        and optimizer is not torch.optim.Optimizer
    }


#: Every component a model file may name: ``name -> (kind, object)``.
REGISTRY = {
    "SSCSleepNet": ("network", SSCSleepNet),
    "SSCSleepNetLite": ("network", SSCSleepNetLite),
    "AdaptiveLoss": ("loss", AdaptiveLoss),
    "torch.nn.CrossEntropyLoss": ("loss", torch.nn.CrossEntropyLoss),
    **{name: ("optimizer", optimizer) for name, optimizer in _optimizers().items()},
    "ValidSplit": ("split", ValidSplit),
    "RecordingSplit": ("split", RecordingSplit),
    "PairLoader": ("iterator", PairLoader),
    "EpochLoader": ("iterator", EpochLoader),
    "torch.utils.data.DataLoader": ("iterator", DataLoader),
    "Augmentation": ("augmentation", Augmentation),
    "stage_softmax": ("nonlinearity", stage_softmax),
    "skorch.dataset.Dataset": ("dataset", Dataset),
}
_NAMES = {id(obj): name for name, (_, obj) in REGISTRY.items()}
#: The kind of component each classifier parameter holds.
COMPONENT_FIELDS = {
    "module": "network",
    "criterion": "loss",
    "optimizer": "optimizer",
    "train_split": "split",
    "iterator_train": "iterator",
    "iterator_valid": "iterator",
    "augmentation": "augmentation",
    "predict_nonlinearity": "nonlinearity",
    "dataset": "dataset",
}
# Runtime settings: never written, and refused when a file holds them (torch.compile's options
# name compilers and tools; torch_load_kwargs could switch off weights_only for later loads).
_RUNTIME_PARAMS = (
    "device",
    "compile",
    "torch_load_kwargs",
    "callbacks",
    "distributed",
    "pretrained",  # how training started (recorded in training_data), not the model
)
# DataLoader settings of the machine that trained, not of the model: a file that sets them would
# make every staging fork processes or pin memory.
_LOADER_RUNTIME = (
    "num_workers",
    "pin_memory",
    "pin_memory_device",
    "timeout",
    "worker_init_fn",
    "multiprocessing_context",
    "generator",
    "prefetch_factor",
    "persistent_workers",
    "in_order",
    "collate_fn",
)
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
#: The largest model file read (bytes), checked before anything it describes is built.
#:
#: No network of this package comes near it (the paper's is ~18 MB, its history a few
#: thousand values).
MAX_FILE_BYTES = 1 << 30
_MAX_DEPTH = 24
_MAX_ITEMS = 2_000_000
_TENSOR_DTYPES = (
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
    torch.int64,
    torch.int32,
    torch.uint8,
    torch.bool,
)


@fill_doc
@dataclass(frozen=True)
class ModelFile:
    """The validated content of a model file (what :func:`read_model` returns).

    Parameters
    ----------
    params : dict
        Classifier parameters, components resolved through :data:`REGISTRY`.
    module_state, criterion_state : dict of str to Tensor
        Weights and buffers of the network and the loss.
    classes : ndarray
        The user's labels, in stage order.
    stages : tuple of str
        The canonical stages behind ``classes``.
    class_counts : ndarray of int, shape (5,)
        Training epochs per stage.
    %(model_channel_rate_history)s
    package_version : str
        The mne-sscsleep version that wrote the file.
    format_version : int
        Layout version of the file.
    stage_map : dict
        Each training label to its canonical stage (the classes' own when the file has none).
    training_data : dict
        What the model was trained on (see :func:`model_info`); empty for files written before
        it was recorded.

    Examples
    --------
    >>> model = read_model("model.sscsleep")  # doctest: +SKIP
    >>> model.sfreq, model.ch_name  # doctest: +SKIP
    (100.0, 'EEG Fpz-Cz')
    """

    params: dict
    module_state: dict
    criterion_state: dict
    classes: np.ndarray
    stages: tuple
    class_counts: np.ndarray
    ch_name: str | None
    sfreq: float
    history: list
    package_version: str
    format_version: int
    stage_map: dict = None
    training_data: dict = None


class _NotStorable(TypeError):
    pass


def _encode(value, field):
    """Plain-data form of a parameter value, or raise _NotStorable."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.ndim <= 1:
        return {"__sequence__": value.tolist(), "tuple": False}
    if isinstance(value, (list, tuple)):
        return {
            "__sequence__": [_encode(item, field) for item in value],
            "tuple": isinstance(value, tuple),
        }
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"__mapping__": {key: _encode(item, field) for key, item in value.items()}}
    name = _NAMES.get(id(value))
    if name is not None and field in COMPONENT_FIELDS:
        return {"__component__": name}
    if isinstance(value, (RecordingSplit, ValidSplit)) and field == "train_split":
        return _encode_split(value, field)
    raise _NotStorable(field)


def _encode_split(split, field):
    """A validation split's class name and arguments, when they are plain numbers."""
    recording_wise = isinstance(split, RecordingSplit)
    size = split.share if recording_wise else split.cv
    if not isinstance(size, (int, float)) or not isinstance(split.random_state, (int, type(None))):
        raise _NotStorable(field)
    if recording_wise:
        return {
            "__component__": "RecordingSplit",
            "args": [float(size), int(split.min_recordings), split.random_state],
        }
    return {
        "__component__": "ValidSplit",
        "args": [size, bool(split.stratified), split.random_state],
    }


def _refuse(fname, message):
    return ValueError(f"Refusing to load {str(fname)!r}: {message}")


def _decode(value, field, fname):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if not isinstance(value, dict):
        raise _refuse(fname, f"parameter {field!r} holds a {type(value).__name__}.")
    if set(value) == {"__sequence__", "tuple"} and isinstance(value["__sequence__"], list):
        items = [_decode(item, field, fname) for item in value["__sequence__"]]
        return tuple(items) if value["tuple"] is True else items
    if set(value) == {"__mapping__"} and isinstance(value["__mapping__"], dict):
        mapping = value["__mapping__"]
        if not all(isinstance(key, str) for key in mapping):
            raise _refuse(fname, f"parameter {field!r} has non-string keys.")
        return {key: _decode(item, field, fname) for key, item in mapping.items()}
    if "__component__" in value:
        return _decode_component(value, field, fname)
    raise _refuse(
        fname,
        f"parameter {field!r} holds an unknown value {str(value)[:100]!r}; model files hold "
        "plain values and names from mne_sscsleep.io.REGISTRY only (nothing is imported).",
    )


def _decode_component(value, field, fname):
    name = value["__component__"]
    kind = COMPONENT_FIELDS.get(field)
    if kind is None:
        raise _refuse(
            fname,
            f"parameter {field!r} names a component ({name!r}), which only "
            f"{', '.join(COMPONENT_FIELDS)} may.",
        )
    entry = REGISTRY.get(name) if isinstance(name, str) else None
    if entry is None:
        raise _refuse(
            fname,
            f"parameter {field!r} names {name!r}, which is not one of mne-sscsleep's components "
            f"(mne_sscsleep.io.REGISTRY). Nothing was imported or run.",
        )
    if entry[0] != kind:
        raise _refuse(
            fname, f"parameter {field!r} must name a {kind}, but names the {entry[0]} {name!r}."
        )
    if name == "RecordingSplit":
        args = value.get("args")
        if (
            not isinstance(args, list)
            or len(args) != 3
            or not isinstance(args[0], float)
            or not 0 < args[0] < 1
            or not isinstance(args[1], int)
            or isinstance(args[1], bool)
            or not isinstance(args[2], (int, type(None)))
        ):
            raise _refuse(fname, f"parameter {field!r} has malformed RecordingSplit arguments.")
        return RecordingSplit(args[0], min_recordings=args[1], random_state=args[2])
    if name == "ValidSplit":
        args = value.get("args")
        if (
            not isinstance(args, list)
            or len(args) != 3
            or not isinstance(args[0], (int, float))
            or isinstance(args[0], bool)
            or not isinstance(args[1], bool)
            or not isinstance(args[2], (int, type(None)))
        ):
            raise _refuse(fname, f"parameter {field!r} has malformed ValidSplit arguments.")
        return ValidSplit(args[0], stratified=args[1], random_state=args[2])
    if set(value) != {"__component__"}:
        raise _refuse(fname, f"parameter {field!r} has unexpected entries {sorted(value)}.")
    return entry[1]


def _digest(value, sha):
    """Feed a canonical serialisation of plain data into ``sha``; refuse anything else."""
    if value is None or isinstance(value, bool):
        sha.update(b"b" + repr(value).encode())
    elif isinstance(value, int):
        sha.update(b"i" + str(value).encode() + b";")
    elif isinstance(value, float):
        sha.update(b"f" + value.hex().encode() + b";")
    elif isinstance(value, str):
        data = value.encode("utf-8", errors="surrogatepass")
        sha.update(b"s" + str(len(data)).encode() + b":" + data)
    elif isinstance(value, (list, tuple)):
        sha.update(b"l" + str(len(value)).encode() + b":")
        for item in value:
            _digest(item, sha)
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("dictionary with non-string keys")
        sha.update(b"d" + str(len(value)).encode() + b":")
        for key in sorted(value):
            _digest(key, sha)
            _digest(value[key], sha)
    elif isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        sha.update(f"t{tensor.dtype}{tuple(tensor.shape)}:".encode())
        sha.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    else:
        raise TypeError(f"a {type(value).__name__}")


def _checksum(payload):
    sha = hashlib.sha256()
    _digest({key: value for key, value in payload.items() if key != "checksum"}, sha)
    return sha.hexdigest()


def _plain_history(history):
    """skorch's history as JSON-compatible lists and dicts (NaN and inf kept as floats)."""

    def plain(value):
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if isinstance(value, (np.bool_, np.integer, np.floating)):
            return value.item()
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        return str(value)

    return plain(list(history))


@fill_doc
def write_model(  # noqa: D417 (fill_doc)
    fname,
    *,
    params,
    module_state,
    criterion_state,
    classes,
    stages,
    class_counts,
    ch_name,
    sfreq,
    history,
    stage_map=None,
    training_data=None,
    overwrite=False,
):
    """Write a model file (what :meth:`mne_sscsleep.SSCSleepClassifier.save` calls).

    The file is written to a temporary file and renamed into place. An existing file is
    replaced only with ``overwrite=True`` and only when it is a model file of this package.

    Parameters
    ----------
    fname : str | pathlib.Path
        Output file (conventionally ``*.sscsleep``).
    params : dict
        The classifier's ``get_params(deep=False)``. Components must be in :data:`REGISTRY`;
        other values that are not plain data are left out with a warning, runtime settings
        (``device``, ``compile``, ...) always.
    module_state, criterion_state : dict of str to Tensor
        ``state_dict()`` of the network and the loss.
    classes : array-like
        The user's labels, in stage order.
    stages : sequence of str
        Canonical stages behind ``classes``.
    class_counts : array-like of int, shape (5,)
        Training epochs per stage.
    %(model_channel_rate_history)s
    stage_map : dict | None
        Each training label (int or str) to its canonical stage.
    training_data : dict | None
        Provenance: what the model was trained on (plain data: strings, numbers, booleans,
        lists of strings).
    overwrite : bool
        Replace an existing model file.

    Returns
    -------
    fname : pathlib.Path
        The model file, complete (it is written to a temporary file and renamed).

    Examples
    --------
    >>> clf.save("model.sscsleep")  # doctest: +SKIP
    """
    stored, skipped = {}, []
    for name, value in params.items():
        if _is_runtime(name):
            continue
        try:
            stored[name] = _encode(value, name)
        except _NotStorable:
            skipped.append(name)
    if skipped:
        warnings.warn(
            f"Not stored in the model file (not plain data nor an mne-sscsleep component): "
            f"{', '.join(sorted(skipped))}. Set them again after loading if you need them for "
            "further training.",
            RuntimeWarning,
            stacklevel=3,
        )
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "sfreq": float(sfreq),
        "epoch_duration": EPOCH_DURATION,
        "ch_name": ch_name,
        "classes": [item.item() if hasattr(item, "item") else item for item in classes],
        "stages": list(stages),
        "class_counts": [int(count) for count in class_counts],
        "params": stored,
        "module_state": {key: value.detach().cpu() for key, value in module_state.items()},
        "criterion_state": {key: value.detach().cpu() for key, value in criterion_state.items()},
        "history": _plain_history(history),
        "stage_map": [
            [label.item() if hasattr(label, "item") else label, stage]
            for label, stage in (stage_map or dict(zip(classes, stages))).items()
        ],
        "training_data": _plain_history([training_data or {}])[0],
    }
    payload["checksum"] = _checksum(payload)
    fname = check_output_file(fname, "model file", overwrite=overwrite, is_ours=is_model_file)
    try:
        with atomic_write(fname) as tmp:
            torch.save(payload, tmp)
    except (OSError, RuntimeError) as error:
        raise OSError(
            f"Could not write the model file {str(fname)!r} ({first_line(error)}); choose a place "
            "you can write to, with enough free space."
        ) from None
    return fname


def _is_runtime(name):
    """Whether a parameter is a setting of the machine, never stored in model files."""
    prefix, _, rest = name.partition("__")
    if name.startswith("_") or prefix in _RUNTIME_PARAMS:
        return True
    return prefix in ("iterator_train", "iterator_valid") and rest in _LOADER_RUNTIME


@fill_doc
def is_model_file(fname):  # noqa: D417 (fill_doc)
    """Whether a file is a model file of this package (its format's mark, not its validity).

    %(fname_ours)s
        True when the file is a ``torch.save`` archive whose record names this package's model
        format; it may still be damaged (see :func:`read_model`).

    Examples
    --------
    >>> is_model_file(__file__)
    False
    """
    try:
        with zipfile.ZipFile(fname) as archive:
            records = [info for info in archive.infolist() if info.filename.endswith("data.pkl")]
            if len(records) != 1 or records[0].file_size > 64 << 20:
                return False
            return FORMAT.encode() in archive.read(records[0])
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _load_payload(fname):
    fname = Path(fname)
    if not fname.is_file():
        raise FileNotFoundError(f"No model file at {str(fname)!r}.")
    size = fname.stat().st_size
    if size == 0:
        raise ValueError(
            f"{str(fname)!r} is empty (0 bytes), not an mne-sscsleep model file; save models "
            "with SSCSleepClassifier.save() or mne-sscsleep train."
        )
    if size > MAX_FILE_BYTES:
        raise ValueError(
            f"{str(fname)!r} is {size / 2**30:.1f} GiB, larger than any mne-sscsleep model "
            f"({MAX_FILE_BYTES / 2**30:.0f} GiB at most; the paper's network is ~18 MB). It is "
            "not a model file of this package."
        )
    try:
        payload = torch.load(fname, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 -- an untrusted file may break the reader anywhere
        reason = first_line(error)
        raise ValueError(
            f"{str(fname)!r} is not a readable mne-sscsleep model file (torch could not read "
            f"it: {reason}). It may be truncated or another kind of file; save models with "
            "SSCSleepClassifier.save() or mne-sscsleep train."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(
            f"{str(fname)!r} is not an mne-sscsleep model file. Save models with "
            "SSCSleepClassifier.save()."
        )
    version = payload.get("format_version")
    written_by = payload.get("package_version")
    written_by = written_by if isinstance(written_by, str) else "an unknown version"
    if not isinstance(version, int) or isinstance(version, bool):
        raise _refuse(fname, "it has no valid format version.")
    if version != FORMAT_VERSION:
        advice = (
            "Upgrade mne-sscsleep to load it."
            if version > FORMAT_VERSION
            else "Retrain the model with this version (mne-sscsleep train, or "
            "SSCSleepClassifier.fit) and save it again."
        )
        raise ValueError(
            f"{str(fname)!r} was written by mne-sscsleep {written_by} in model format {version}; "
            f"this is mne-sscsleep {__version__}, which reads format {FORMAT_VERSION}. {advice}"
        )
    _check_bounds(payload, fname)
    checksum = payload.get("checksum")
    try:
        actual = _checksum(payload)
    except TypeError as error:
        raise _refuse(fname, f"it holds {error}, which model files never contain.") from None
    if checksum != actual:
        raise ValueError(
            f"{str(fname)!r} is damaged: its content does not match the checksum written with "
            "it (a truncated copy, a disk error, or an edit). Copy or download it again, or "
            "retrain the model."
        )
    return fname, payload


def _check_bounds(payload, fname):
    """Refuse, before anything is computed from them, shapes no model file of ours has.

    Nesting and the number of values are bounded, and every tensor must be a plain dense
    tensor of a real or integer type that owns exactly its elements: a tensor that claims more
    elements than its storage holds (a zero stride, ``expand``) would make any copy of it
    allocate what the file merely claims.
    """
    stack, n_items = [(payload, 0)], 0
    while stack:
        value, depth = stack.pop()
        n_items += 1
        if depth > _MAX_DEPTH or n_items > _MAX_ITEMS:
            raise _refuse(
                fname,
                f"its content is nested deeper than {_MAX_DEPTH} levels or holds more than "
                f"{_MAX_ITEMS:,} values; model files of this package never do.",
            )
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
            stack.extend((key, depth + 1) for key in value)
        elif isinstance(value, (list, tuple)):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, torch.Tensor):
            _check_tensor(value, fname)


def _check_tensor(tensor, fname):
    if tensor.layout != torch.strided or tensor.is_quantized:
        raise _refuse(fname, f"it holds a {tensor.layout} tensor; model weights are dense.")
    if tensor.dtype not in _TENSOR_DTYPES:
        raise _refuse(fname, f"it holds a tensor of type {tensor.dtype}; weights are real.")
    owned = tensor.numel() * tensor.element_size()
    if (
        not tensor.is_contiguous()
        or tensor.storage_offset() != 0
        or tensor.untyped_storage().nbytes() != owned
    ):
        raise _refuse(
            fname,
            f"it holds a tensor of shape {tuple(tensor.shape)} that does not own its "
            f"{tensor.numel():,} elements (strides {tensor.stride()}); model files hold plain "
            "weights.",
        )


def _check_state(state, fname, field):
    if not isinstance(state, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise _refuse(fname, f"{field} is not a dictionary of tensors.")
    for key, value in state.items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise ValueError(
                f"{str(fname)!r} is damaged: {field} {key!r} holds NaN or infinite values. "
                "Retrain the model."
            )
    return state


def _check_metadata(payload, fname):
    sfreq = payload.get("sfreq")
    if not isinstance(sfreq, float) or not math.isfinite(sfreq) or sfreq <= 0:
        raise _refuse(fname, f"its sampling rate {sfreq!r} is not a positive number.")
    if payload.get("epoch_duration") != EPOCH_DURATION:
        raise ValueError(
            f"{str(fname)!r} holds a model for {payload.get('epoch_duration')!r}-s epochs; this "
            f"version stages {EPOCH_DURATION:g}-s epochs only."
        )
    ch_name = payload.get("ch_name")
    if ch_name is not None and not _is_name(ch_name):
        raise _refuse(fname, "its channel name is not a printable name.")
    stages, classes = payload.get("stages"), payload.get("classes")
    if (
        not isinstance(stages, list)
        or not stages
        or not all(isinstance(stage, str) and stage in STAGES for stage in stages)
        or len(set(stages)) != len(stages)
        or sorted(stages, key=STAGES.index) != stages
    ):
        raise _refuse(fname, f"its stages {stages!r} are not distinct stages in order.")
    kinds = {type(label) for label in classes} if isinstance(classes, list) else set()
    if (
        len(kinds) != 1
        or not kinds <= {str, int}
        or not all(_is_name(label) for label in classes if isinstance(label, str))
        or len(classes) != len(stages)
        or len(set(classes)) != len(classes)
    ):
        raise _refuse(fname, f"its class labels {classes!r} do not match its stages.")
    stage_map = payload.get("stage_map")
    if not isinstance(stage_map, list) or not all(
        isinstance(pair, list)
        and len(pair) == 2
        and type(pair[0]) in (str, int)
        and pair[1] in STAGES
        for pair in stage_map
    ):
        raise _refuse(fname, "its label map is not a list of (label, stage) pairs.")
    mapping = dict(map(tuple, stage_map))
    if [mapping.get(label) for label in classes] != stages:
        raise _refuse(fname, f"its class labels {classes!r} do not map to its stages {stages}.")
    payload["stage_map"] = mapping
    training_data = payload.get("training_data", {})
    if not isinstance(training_data, dict) or not all(
        isinstance(key, str) and _is_plain(value) for key, value in training_data.items()
    ):
        raise _refuse(fname, "its training-data record is not plain data.")
    counts = payload.get("class_counts")
    if (
        not isinstance(counts, list)
        or len(counts) != N_STAGES
        or not all(isinstance(count, int) and count >= 0 for count in counts)
    ):
        raise _refuse(fname, f"its class counts {counts!r} are not {N_STAGES} counts.")
    history = payload.get("history")
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        raise _refuse(fname, "its training history is not a list of records.")
    params = payload.get("params")
    if not isinstance(params, dict) or not all(isinstance(name, str) for name in params):
        raise _refuse(fname, "its parameters are not a dictionary.")


def _is_name(text, limit=200):
    """A label a person could have typed: printable, one line, not absurdly long."""
    return isinstance(text, str) and len(text) <= limit and text.isprintable()


def _is_plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_is_plain(item) for item in value)
    return False


@fill_doc
def read_model(fname):  # noqa: D417 (fill_doc)
    """Read and validate a model file, without building the model.

    %(fname_model)s

    Returns
    -------
    model : ModelFile
        The validated content; :meth:`mne_sscsleep.SSCSleepClassifier.load` builds the
        classifier from it.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a model file, was written in a format this version does not read,
        is damaged (checksum, non-finite weights), or names anything outside
        :data:`REGISTRY` (nothing is imported or run on its behalf).

    Examples
    --------
    >>> model = read_model("model.sscsleep")  # doctest: +SKIP
    >>> model.stages  # doctest: +SKIP
    ('W', 'N1', 'N2', 'N3', 'R')
    """
    fname, payload = _load_payload(fname)
    _check_metadata(payload, fname)
    params = {}
    for name, value in payload["params"].items():
        if _is_runtime(name):
            raise _refuse(
                fname, f"it sets {name!r}, a runtime setting that model files never hold."
            )
        params[name] = _decode(value, name, fname)
    if params.get("predict_nonlinearity", stage_softmax) is not stage_softmax:
        raise _refuse(
            fname,
            "its predict_nonlinearity is not the stage softmax, so its outputs would not be "
            "probabilities.",
        )
    return ModelFile(
        params=params,
        module_state=_check_state(payload.get("module_state"), fname, "the network weights"),
        criterion_state=_check_state(payload.get("criterion_state"), fname, "the loss state"),
        classes=np.asarray(payload["classes"]),
        stages=tuple(payload["stages"]),
        class_counts=np.asarray(payload["class_counts"], dtype=np.int64),
        ch_name=payload["ch_name"],
        sfreq=payload["sfreq"],
        history=payload["history"],
        package_version=str(payload.get("package_version")),
        format_version=payload["format_version"],
        stage_map=payload["stage_map"],
        training_data=payload.get("training_data", {}),
    )


@fill_doc
def model_info(fname):  # noqa: D417 (fill_doc)
    """Describe a model file: stages, channel, rate, network and how training went.

    The file is fully validated (as by loading it) but no network is built.

    %(fname_model)s

    Returns
    -------
    info : dict
        ``file``, ``package_version``, ``format_version``, ``stages``, ``classes``,
        ``class_counts`` (training epochs per stage), ``ch_name``, ``sfreq``,
        ``epoch_duration``, ``network`` (registry name), ``preset``, ``n_parameters``,
        ``n_epochs_trained``, ``best_epoch`` and
        ``best_valid_macro_f1`` (None without validation), ``n1_adaptation`` (``on``),
        ``last_train_loss`` and ``training_data`` (provenance: ``source``, ``simulated``,
        ``n_recordings``, ``n_epochs``, ``recordings``, ``date``, ``package_version``; empty
        for files written before it was recorded).

    Examples
    --------
    >>> info = model_info("model.sscsleep")  # doctest: +SKIP
    >>> info["stages"], info["sfreq"]  # doctest: +SKIP
    (('W', 'N1', 'N2', 'N3', 'R'), 100.0)
    """
    model = read_model(fname)
    history = model.history
    scores = [
        (row.get("epoch", index + 1), row["valid_macro_f1"])
        for index, row in enumerate(history)
        if isinstance(row.get("valid_macro_f1"), (int, float))
    ]
    best = max(scores, key=lambda item: item[1]) if scores else (None, None)
    module = model.params.get("module")
    preset = model.params.get("preset", "paper")
    if module is None:
        module = get_preset(preset).network
    return {
        "file": str(Path(fname)),
        "package_version": model.package_version,
        "format_version": model.format_version,
        "stages": model.stages,
        "classes": model.classes.tolist(),
        "class_counts": dict(zip(STAGES, model.class_counts.tolist())),
        "ch_name": model.ch_name,
        "sfreq": model.sfreq,
        "epoch_duration": EPOCH_DURATION,
        "network": _NAMES.get(id(module)),
        "preset": preset,
        "context": int(model.params.get("context", 0) or 0),
        "context_model": model.params.get("context_model", "gru"),
        "n_parameters": int(
            sum(
                value.numel()
                for key, value in model.module_state.items()
                if not key.endswith(_BUFFERS)  # batch-norm statistics are not parameters
            )
        ),
        "n_epochs_trained": len(history),
        "best_epoch": best[0],
        "best_valid_macro_f1": best[1],
        "n1_adaptation": model.params.get("callbacks__n1_adaptation__on", "valid"),
        "last_train_loss": history[-1].get("train_loss") if history else None,
        "training_data": dict(model.training_data or {}),
    }


def format_model_info(info):
    """Human-readable lines of :func:`model_info` (what ``mne-sscsleep info`` prints).

    Parameters
    ----------
    info : dict
        Output of :func:`model_info`.

    Returns
    -------
    text : str
        One fact per line.

    Examples
    --------
    >>> print(format_model_info(model_info("model.sscsleep")))  # doctest: +SKIP
    """
    info = _printable(info)  # a file's strings may hold terminal escapes or line breaks
    counts = ", ".join(f"{stage} {count}" for stage, count in info["class_counts"].items())
    if info["best_epoch"] is None:
        training = f"{info['n_epochs_trained']} epochs (no validation split)"
    else:
        training = (
            f"{info['n_epochs_trained']} epochs; best validation macro-F1 "
            f"{info['best_valid_macro_f1']:.3f} at epoch {info['best_epoch']}"
        )
    lines = [
        f"model file:     {info['file']}",
        f"written by:     mne-sscsleep {info['package_version']} (format "
        f"{info['format_version']})",
        f"stages:         {', '.join(info['stages'])} (labels {info['classes']})",
        f"channel:        {info['ch_name'] or 'unnamed (trained on arrays)'}",
        f"sampling rate:  {info['sfreq']:g} Hz, {info['epoch_duration']:g}-s epochs",
        f"network:        {info['network']}, {info['n_parameters']:,} parameters",
        f"preset:         {info['preset']}",
        "context:        "
        + (
            f"{info['context']} epochs on each side ({info['context_model']})"
            if info.get("context")
            else "none (each epoch alone, as in the paper)"
        ),
        f"trained on:     {counts} epochs",
        f"training:       {training}",
        f"data:           {_describe_training_data(info.get('training_data') or {})}",
    ]
    return "\n".join(lines)


def _printable(value):
    """Strings with control characters escaped (``\\x1b``, ``\\n``), in nested containers."""
    if isinstance(value, str):
        return "".join(
            char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
            for char in value
        )
    if isinstance(value, dict):
        return {key: _printable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_printable(item) for item in value)
    return value


def _describe_training_data(record):
    if not record:
        return "not recorded (file written before mne-sscsleep recorded it)"
    text = (
        f"{record.get('source', 'unknown source')}; {record.get('n_recordings', '?')} "
        f"recording(s), {record.get('n_epochs', '?')} epochs; trained {record.get('date', '?')} "
        f"with mne-sscsleep {record.get('package_version', '?')}"
    )
    recordings = record.get("recordings") or []
    if recordings:
        shown = ", ".join(recordings[:5])
        if len(recordings) > 5:
            shown += f", ... ({len(recordings)} files)"
        text += f"\n                files: {shown}"
    if record.get("simulated"):
        text += "\n                SIMULATED data only: not for staging real recordings"
    return text
