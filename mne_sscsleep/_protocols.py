"""The contracts between floors, named: what a sampler hands a dataset, what makes its own.

Ground floor: imports nothing of the package, so the input boundary (``_epochs``), the training
side (``training``) and the stores (``datasets``) speak these types without importing one
another.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np


class WindowRequest(NamedTuple):
    """A context loader's batch: the epochs to classify and the neighbours each one brings.

    The samplers of :mod:`mne_sscsleep.training` yield these; an ``EpochsDataset`` indexed by
    one returns the batch ``({"x", "windows", ...}, y)`` of the centres and their ``context``
    neighbours on either side (within each recording).
    """

    #: Positions of the epochs to classify, in batch order.
    centres: np.ndarray
    #: Neighbouring epochs on each side.
    context: int


@runtime_checkable
class DatasetSource(Protocol):
    """What makes its own checked dataset, such as :class:`~mne_sscsleep.datasets.EpochStore`.

    :func:`~mne_sscsleep.check_epochs` hands such an object the model's rate and takes the
    ``EpochsDataset`` it returns (with its labels, recordings and provenance) as it is; the
    object checks its own rate and contents.
    """

    def to_dataset(self, *, sfreq):
        """The object's epochs at ``sfreq`` Hz, as an ``EpochsDataset``."""
