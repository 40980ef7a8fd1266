"""Training that survives interruption: checkpoints that are never torn, and resuming from them.

skorch's :class:`~skorch.callbacks.Checkpoint` writes its files (weights, optimiser, loss state,
history) one after the other, in place: a training killed while it writes leaves a torn file,
or the weights of one pass beside the history of the previous. :class:`VersionedCheckpoint`
writes each checkpoint into a new folder and then switches a one-line pointer file to it
(written through a temporary file and renamed), so the pointer always names a complete
checkpoint. :func:`fit_resumable` is what ``mne-sscsleep train`` (and ``--resume``) runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path

from skorch.callbacks import Checkpoint, LoadInitState

from .._check import atomic_write, remove_stale_temporaries
from ._callbacks import EarlyStopping

# A checkpoint folder's own files: what marks it as ours, and what a new training may remove.
_SETTINGS = "settings.json"
_POINTER = "latest"
_FORMAT = "mne-sscsleep checkpoints"
_FILES = dict(
    f_params="params.pt",
    f_optimizer="optimizer.pt",
    f_criterion="criterion.pt",
    f_history="history.json",
)


class VersionedCheckpoint(Checkpoint):
    """The ``Checkpoint`` of skorch, written so that no interruption leaves a torn checkpoint.

    Each checkpoint goes to a new folder ``dirname/epoch-NNNNN`` (through a temporary folder);
    once its files are complete, the pointer file ``dirname/latest`` is switched to it in one
    rename and older checkpoints are removed. Loading (``LoadInitState``, ``load_params``)
    reads the checkpoint the pointer names. The parameters are those of
    :class:`skorch.callbacks.Checkpoint`.

    Parameters
    ----------
    monitor : str | callable | None
        When to checkpoint (None: every pass; ``'valid_macro_f1_best'``: on improvement).
    f_params, f_optimizer, f_criterion, f_history : str | None
        File names (in each checkpoint folder) of the weights, optimiser and loss states and
        the history; None leaves one out.
    f_pickle : str | None
        File name of a pickle of the whole net (None: none).
    fn_prefix : str
        Prefix of the file names.
    dirname : str
        The folder of the checkpoints (required).
    event_name : str | None
        History key recording when a checkpoint was made.
    sink : callable
        Where messages go.
    load_best : bool
        Load the checkpoint at the end of training.
    use_safetensors : bool
        Write weights with safetensors instead of ``torch.save``.
    **kwargs
        Other files to save, as ``f_<name>`` (skorch's custom modules).

    Examples
    --------
    >>> last = VersionedCheckpoint(monitor=None, dirname="model.checkpoints/last")
    """

    def save_model(self, net):
        root = Path(self.dirname)
        root.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(root)  # left by a training that was killed while saving
        version = root / f"epoch-{len(net.history):05d}"
        staging = root / f".{version.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        staging.mkdir()
        self.dirname = str(staging)
        try:
            super().save_model(net)
        finally:
            self.dirname = str(root)
        expected = [name for key, name in self._f_kwargs().items() if name and key != "f_pickle"]
        missing = [name for name in expected if not (staging / name).is_file()]
        if missing:  # skorch reports a failed save on its sink only: make it an error
            shutil.rmtree(staging, ignore_errors=True)
            raise OSError(f"Could not write the checkpoint files {missing} in {str(root)!r}.")
        for path in staging.iterdir():
            with open(path, "rb+") as fid:
                os.fsync(fid.fileno())
        if version.exists():  # left by a run killed before its pointer moved: never pointed at
            shutil.rmtree(version)
        os.replace(staging, version)
        with atomic_write(root / _POINTER) as tmp:
            tmp.write_text(version.name, encoding="utf-8")
        for old in root.iterdir():
            if old.is_dir() and old.name.startswith("epoch-") and old != version:
                shutil.rmtree(old, ignore_errors=True)

    def get_formatted_files(self, net):
        with self._at_latest():
            return super().get_formatted_files(net)

    @property
    def f_history_(self):
        with self._at_latest():
            return Checkpoint.f_history_.fget(self)

    @contextlib.contextmanager
    def _at_latest(self):
        """Read files in the checkpoint the pointer names (while saving: the new folder)."""
        root = self.dirname
        version = latest_checkpoint(root) if root else None
        if version is not None:
            self.dirname = str(version)
        try:
            yield
        finally:
            self.dirname = root


def latest_checkpoint(dirname):
    """The folder of the newest complete checkpoint in ``dirname``, or None.

    Parameters
    ----------
    dirname : str | pathlib.Path
        The ``dirname`` of a :class:`VersionedCheckpoint`.

    Returns
    -------
    folder : pathlib.Path | None
        The checkpoint folder the pointer names.

    Examples
    --------
    >>> latest_checkpoint("model.checkpoints/last")  # doctest: +SKIP
    PosixPath('model.checkpoints/last/epoch-00012')
    """
    pointer = Path(dirname) / _POINTER
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    folder = Path(dirname) / name
    if not name.startswith("epoch-") or Path(name).name != name or not folder.is_dir():
        raise ValueError(
            f"The checkpoint pointer {str(pointer)!r} names {name!r}, which is not a checkpoint "
            "of this folder; it was edited or damaged. Train again without --resume."
        )
    return folder


def _history(folder):
    from skorch.history import History

    version = latest_checkpoint(Path(folder) / "last")
    if version is None or not (version / _FILES["f_history"]).is_file():
        return None
    return History.from_file(str(version / _FILES["f_history"]))


def _is_checkpoint_folder(folder):
    try:
        settings = json.loads((Path(folder) / _SETTINGS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(settings, dict) and settings.get("format") == _FORMAT


def _start(folder, settings):
    """A checkpoint folder for a new training: ours (or new), emptied, with its settings."""
    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise FileExistsError(
                f"The checkpoint folder {str(folder)!r} is a file; choose another folder."
            )
        if any(folder.iterdir()) and not _is_checkpoint_folder(folder):
            raise FileExistsError(
                f"{str(folder)!r} exists and is not a checkpoint folder of mne-sscsleep; "
                "its files are never removed. Choose another checkpoint folder."
            )
        for part in ("last", "best"):
            shutil.rmtree(folder / part, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_write(folder / _SETTINGS) as tmp:
        tmp.write_text(json.dumps({"format": _FORMAT, **settings}, indent=2), encoding="utf-8")


def _resumed(folder, settings):
    """The history to resume from, after checking the folder was made with ``settings``."""
    folder = Path(folder)
    if not _is_checkpoint_folder(folder):
        raise FileNotFoundError(
            f"Nothing to resume in {str(folder)!r} (no checkpoint); train without --resume."
        )
    saved = json.loads((folder / _SETTINGS).read_text(encoding="utf-8"))
    changed = sorted(key for key in settings if saved.get(key) != settings[key])
    if changed:
        shown = ", ".join(f"{key} {saved.get(key)!r} -> {settings[key]!r}" for key in changed)
        raise ValueError(
            f"The checkpoint in {str(folder)!r} was written with other settings ({shown}); "
            "resume with the same arguments, or train without --resume."
        )
    history = _history(folder)
    if history is None:
        raise FileNotFoundError(
            f"Nothing to resume in {str(folder)!r} (no complete checkpoint yet); train "
            "without --resume."
        )
    return history


def fit_resumable(clf, X, y=None, *, folder, resume=False, settings=None):
    """Fit a classifier, checkpointing every pass, or resume an interrupted fit.

    Every training pass ends with a checkpoint in ``folder`` (``last/``: weights, optimiser,
    loss state and history; ``best/``: the weights of the best validation macro-F1). After an
    interruption at any moment, the same call with ``resume=True`` continues from the last
    complete checkpoint and ends with the model an uninterrupted fit gives (same seed, same
    data). At the end the best pass's weights are loaded.

    Parameters
    ----------
    clf : SSCSleepClassifier
        The classifier (with an int ``random_state``, for a resumed fit to match). Its
        ``callbacks`` gain the two checkpoints; its ``max_epochs`` is the whole training's.
    X : mne.Epochs | ndarray | EpochStore
        Training epochs, as for :meth:`~mne_sscsleep.SSCSleepClassifier.fit`.
    y : array-like | None
        Their labels, as for :meth:`~mne_sscsleep.SSCSleepClassifier.fit`.
    folder : str | pathlib.Path
        The checkpoint folder (created; a folder that is not one of ours is refused).
    resume : bool
        Continue from the checkpoints in ``folder``.
    settings : dict | None
        What must not change between an interrupted fit and its resumption (data, seed, ...),
        recorded in the folder and compared when resuming.

    Returns
    -------
    clf : SSCSleepClassifier
        The fitted classifier, with the best pass's weights.

    Examples
    --------
    >>> clf = SSCSleepClassifier(preset="lite", random_state=0)  # doctest: +SKIP
    >>> fit_resumable(clf, epochs, folder="model.checkpoints")  # doctest: +SKIP
    >>> fit_resumable(clf, epochs, folder="model.checkpoints", resume=True)  # doctest: +SKIP
    """
    settings = {"max_epochs": clf.max_epochs, **(settings or {})}
    folder = Path(folder).expanduser()
    done = _resumed(folder, settings) if resume else []
    if not resume:
        _start(folder, settings)
    last = VersionedCheckpoint(monitor=None, dirname=str(folder / "last"), **_FILES)
    best = VersionedCheckpoint(
        monitor="valid_macro_f1_best",
        dirname=str(folder / "best"),
        f_params=_FILES["f_params"],
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
        event_name="event_best",
    )
    # The best pass's weights are checkpointed before the last pass's state, whose history then
    # records it; resuming loads the last state before any other callback begins.
    callbacks = [*(clf.callbacks or []), ("best_checkpoint", best), ("checkpoint", last)]
    if resume:
        callbacks.append(("resume", LoadInitState(last)))
    total = clf.max_epochs
    remaining = total - len(done)
    clf.set_params(callbacks=callbacks, max_epochs=remaining)
    if resume:
        clf.initialize()
        stopper = dict(clf.callbacks_).get("early_stopping")
        if isinstance(stopper, EarlyStopping) and stopper.replay(done).stopped:
            clf.set_params(max_epochs=0)  # it had stopped early: nothing left to train
    try:
        clf.fit(X, y)
    finally:
        clf.set_params(max_epochs=total)
    best_version = latest_checkpoint(folder / "best")
    if best_version is not None:
        clf.load_params(f_params=str(best_version / _FILES["f_params"]))
    return clf
