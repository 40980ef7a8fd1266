"""The validation split: whole recordings held out, because epochs of one night are not
independent.

Epochs next to each other in a night look alike; a validation split of random epochs scores
the model on the neighbours of its training epochs, so early stopping and the choice of the
best pass reward memorising the training people. :class:`RecordingSplit` holds out whole
recordings whenever there are enough of them, and says what it did when there are not.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.dataset import ValidSplit

from ._loaders import resolve_dataset

#: Fewest training epochs accepted: enough for a validation split and a few batches.
MIN_TRAINING_EPOCHS = 20
_STAGES = ("W", "N1", "N2", "N3", "R")


class RecordingSplit:
    """Hold out whole recordings for validation (a random share of epochs if too few).

    A skorch ``train_split``: ``split(dataset, y)`` returns the training and validation
    subsets. With at least ``min_recordings`` recordings, ``share`` of them (at least one) are
    held out whole; with fewer, a stratified ``share`` of the epochs, whose neighbours in the
    night are trained on (the classifier says so when it trains).

    Parameters
    ----------
    share : float
        Share of the recordings (or epochs) held out, in (0, 1).
    min_recordings : int
        Fewest recordings for a split by recording.
    random_state : int | None
        Seed of the draw (None: the classifier's ``random_state`` is used).

    Examples
    --------
    >>> from mne_sscsleep._epochs import EpochsDataset
    >>> dataset = EpochsDataset(
    ...     np.zeros((40, 1, 3000), np.float32), np.arange(40) % 5, recording=np.arange(40) // 10
    ... )
    >>> train, valid = RecordingSplit(0.25, random_state=0)(dataset)
    >>> len(train), len(valid), len(set(dataset.recording[valid.indices]))
    (30, 10, 1)
    """

    def __init__(self, share=0.1, *, min_recordings=3, random_state=None):
        self.share = share
        self.min_recordings = min_recordings
        self.random_state = random_state

    def __repr__(self):
        return (
            f"RecordingSplit({self.share!r}, min_recordings={self.min_recordings!r}, "
            f"random_state={self.random_state!r})"
        )

    def by_recording(self, n_recordings):
        """Whether a dataset of ``n_recordings`` recordings is split by whole recordings.

        Parameters
        ----------
        n_recordings : int
            How many recordings the dataset holds.

        Returns
        -------
        bool
            True from ``min_recordings`` recordings on; below, epochs are split stratified.
        """
        return n_recordings >= self.min_recordings

    def __call__(self, dataset, y=None, groups=None):
        from sklearn.model_selection import GroupShuffleSplit

        if not 0 < self.share < 1:
            raise ValueError(f"RecordingSplit's share must be in (0, 1), got {self.share!r}.")
        root, indices = resolve_dataset(dataset)
        recording = np.asarray(root.recording)[indices]
        n_recordings = len(np.unique(recording))
        if not self.by_recording(n_recordings):
            split = ValidSplit(self.share, stratified=True, random_state=self.random_state)
            return split(dataset, np.asarray(root.y)[indices] if y is None else y)
        n_valid = max(1, int(round(self.share * n_recordings)))
        splitter = GroupShuffleSplit(n_splits=1, test_size=n_valid, random_state=self.random_state)
        train, valid = next(splitter.split(np.zeros(len(recording)), groups=recording))
        return torch.utils.data.Subset(dataset, train), torch.utils.data.Subset(dataset, valid)


def check_training_size(split, stages, recording, *, first=True):
    """Refuse training data too small to train on, or for ``split`` to validate on.

    Parameters
    ----------
    split : callable | None
        The classifier's ``train_split``.
    stages : ndarray of int, shape (n_epochs,)
        Stage index of each training epoch.
    recording : ndarray, shape (n_epochs,)
        Recording of each training epoch.
    first : bool
        Whether these are a model's first training data (``partial_fit`` adds to a fitted
        model without the minimum of a first fit).

    Examples
    --------
    >>> check_training_size(None, np.arange(10) % 5, np.zeros(10))
    Traceback (most recent call last):
    ...
    ValueError: Got 10 training epochs; SSCSleepClassifier needs at least 20 here ...
    """
    counts = np.bincount(stages, minlength=len(_STAGES))
    share = _stratified_share(split, len(np.unique(recording)))
    minimum = MIN_TRAINING_EPOCHS
    if share is not None:
        # Every stage needs an epoch on both sides of the split.
        n_stages = int(np.count_nonzero(counts))
        minimum = max(minimum, int(np.ceil(n_stages / min(share, 1 - share))))
    if first and len(stages) < minimum:
        reason = (
            ""
            if share is None
            else f" for the stratified validation split of {share:g} to hold one epoch of each "
            f"of its {np.count_nonzero(counts)} stages; pass train_split=None to train on "
            f"fewer, down to {MIN_TRAINING_EPOCHS}, without validation or early stopping"
        )
        raise ValueError(
            f"Got {len(stages)} training epochs; SSCSleepClassifier needs at least {minimum} "
            f"here{reason} (a whole night has ~1000)."
        )
    present = counts[counts > 0]
    if share is not None and (len(stages) < minimum or present.min() < 2):
        rarest = _STAGES[int(np.flatnonzero(counts == present.min())[0])]
        raise ValueError(
            f"Got {len(stages)} training epochs; the stratified validation split of "
            f"{share:g} needs at least {minimum} epochs and two epochs of every stage "
            f"present (the rarest, {rarest}, has {present.min()}). Train on more epochs, "
            "or pass train_split=None to train without validation (and without early "
            "stopping)."
        )


def _stratified_share(split, n_recordings):
    """The validation share of a stratified split of epochs, or None."""
    if isinstance(split, RecordingSplit):
        return None if split.by_recording(n_recordings) else split.share
    if isinstance(split, ValidSplit) and split.stratified and isinstance(split.cv, float):
        return split.cv
    return None


def validation_note(dataset_train, dataset_valid):
    """One line saying what the ``valid_*`` columns of the training log score.

    Parameters
    ----------
    dataset_train, dataset_valid : Dataset
        The split's two sides (subsets of one dataset).

    Returns
    -------
    note : str
        Whether whole recordings are held out, or a random share of epochs.

    Examples
    --------
    >>> from mne_sscsleep._epochs import EpochsDataset
    >>> dataset = EpochsDataset(
    ...     np.zeros((40, 1, 3000), np.float32), np.arange(40) % 5, recording=np.arange(40) // 10
    ... )
    >>> validation_note(*RecordingSplit(0.25, random_state=0)(dataset))[:60]
    'Validation (valid_* columns): 1 of 4 training recordings (10'
    """
    train_root, train = resolve_dataset(dataset_train)
    valid_root, valid = resolve_dataset(dataset_valid)
    train_recordings = set(np.asarray(train_root.recording)[train].tolist())
    valid_recordings = set(np.asarray(valid_root.recording)[valid].tolist())
    n_recordings = len(train_recordings | valid_recordings)
    if valid_root is train_root and not train_recordings & valid_recordings:
        return (
            f"Validation (valid_* columns): {len(valid_recordings)} of {n_recordings} training "
            f"recordings ({len(valid)} epochs) held out whole; the model never trains on them."
        )
    share = f"{len(valid)} epochs" + (
        f" from the same {n_recordings} recordings" if n_recordings > 1 else ""
    )
    return (
        f"Validation (valid_* columns): a random split of the training epochs ({share}); "
        "their neighbours in the night are trained on, so these scores are optimistic. With 3 "
        "or more recordings (metadata 'recording' or 'subject', or recording=), whole "
        "recordings are held out instead."
    )
