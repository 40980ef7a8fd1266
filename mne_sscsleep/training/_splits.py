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
