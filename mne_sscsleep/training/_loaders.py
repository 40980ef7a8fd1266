"""Training and prediction iterators: :class:`torch.utils.data.DataLoader` with batch samplers.

Both loaders pass ``batch_size=None`` and a sampler of whole batches to ``DataLoader``, so the
dataset is indexed once per batch (a slice view or one sorted gather) instead of once per epoch
of EEG, while every ``DataLoader`` argument (``num_workers``, ``pin_memory``,
``persistent_workers``, ``prefetch_factor``, ...) keeps working: set them as
``iterator_train__num_workers=2`` etc. on the classifier.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

from ._sampling import PairBatchSampler, SequentialBatchSampler


def resolve_dataset(dataset):
    """The skorch ``Dataset`` behind (nested) ``Subset`` objects, and the positions they keep.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset | torch.utils.data.Subset
        What skorch hands to an iterator (the validation split makes ``Subset`` objects).

    Returns
    -------
    root : skorch.dataset.Dataset
        The dataset that holds the arrays.
    indices : ndarray of int64
        Positions of ``dataset``'s items in ``root``.

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> root = Dataset(np.zeros((6, 1, 3000), np.float32))
    >>> subset = torch.utils.data.Subset(torch.utils.data.Subset(root, [5, 3, 1]), [2, 0])
    >>> resolve_dataset(subset)[1].tolist()
    [1, 5]
    """
    indices = None
    while isinstance(dataset, torch.utils.data.Subset):
        sub = np.asarray(dataset.indices, dtype=np.int64)
        indices = sub if indices is None else sub[indices]
        dataset = dataset.dataset
    if not isinstance(dataset, Dataset) or not hasattr(dataset, "X"):
        raise TypeError(
            "mne-sscsleep's loaders need the dataset SSCSleepClassifier builds (a skorch "
            f"Dataset over an array of epochs), got {type(dataset).__name__}."
        )
    if indices is None:
        indices = np.arange(len(dataset), dtype=np.int64)
    return dataset, indices


class PairLoader(DataLoader):
    """Training iterator of SSC-SleepNet: batches of epoch pairs, new pairs each epoch.

    A :class:`torch.utils.data.DataLoader` whose :class:`PairBatchSampler` yields
    ``2 * batch_size`` dataset positions per batch, the pair partners in rows ``2k`` and
    ``2k + 1``. Plugged in as ``SSCSleepClassifier(iterator_train=PairLoader)``; its arguments
    are reachable as ``iterator_train__same_stage`` etc.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset | torch.utils.data.Subset
        The training epochs, with labels.
    batch_size : int
        Pairs per batch (the model sees ``2 * batch_size`` epochs per step).
    same_stage : float
        Share of pairs whose two epochs share a stage.
    n1_share : float | None
        Share of pairs that contain an N1 anchor (None: N1's natural frequency).
    n_pairs : int | None
        Pairs per training epoch (of runs, with context); by default each training epoch visits
        about as many epochs as the training set holds.
    random_state : int | numpy.random.Generator | None
        Seed of the pair draws (the classifier passes one derived from its ``random_state``).
    start_pass : int
        Number of the first pass, for draws that depend on the pass (see
        :class:`PairBatchSampler`); the classifier passes the length of its history.
    context : int
        Context models (``SSCSleepClassifier(context=k)``): each anchor brings a run of
        ``run_length`` consecutive epochs, each read with its ``k`` neighbours on either side
        (see :class:`PairBatchSampler`); the classifier sets it.
    run_length : int
        Epochs per run of a context model.
    shuffle : bool
        Pairs are always drawn at random; ``shuffle=False`` is an error rather than ignored.
    drop_last : bool
        Drop a last batch smaller than ``batch_size`` pairs.
    rank, world_size : int
        Data-parallel training: this process's shard of the recordings (see
        :class:`PairBatchSampler`); the classifier sets them with ``distributed=True``.
    min_batches : int | None
        Fewest batches of a pass (see :class:`PairBatchSampler`).
    **kwargs
        Other :class:`~torch.utils.data.DataLoader` arguments (``num_workers``,
        ``pin_memory``, ``persistent_workers``, ``prefetch_factor``, ...).

    Yields
    ------
    X : Tensor of float32, shape (2 * B, 1, n_times)
    y : Tensor of int64, shape (2 * B,)

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> X = np.zeros((100, 1, 3000), dtype=np.float32)
    >>> loader = PairLoader(Dataset(X, np.arange(100) % 5), batch_size=8, random_state=0)
    >>> xb, yb = next(iter(loader))
    >>> tuple(xb.shape), len(loader)
    ((16, 1, 3000), 7)
    """

    def __init__(
        self,
        dataset,
        batch_size=64,
        same_stage=0.5,
        n1_share=None,
        n_pairs=None,
        random_state=None,
        start_pass=0,
        context=0,
        run_length=16,
        shuffle=True,
        drop_last=False,
        rank=0,
        world_size=1,
        min_batches=None,
        **kwargs,
    ):
        if not shuffle:
            raise ValueError(
                "PairLoader draws new random pairs every epoch; shuffle=False is not supported. "
                "For plain batches in order, use iterator_train=torch.utils.data.DataLoader."
            )
        root, indices = resolve_dataset(dataset)
        if root.y is None:
            raise ValueError("PairLoader needs labels to pair epochs by stage.")
        recording = getattr(root, "recording", None)  # shards are whole recordings
        sampler = PairBatchSampler(
            np.asarray(root.y)[indices],
            batch_size,
            indices=indices,
            same_stage=same_stage,
            n1_share=n1_share,
            n_pairs=n_pairs,
            drop_last=drop_last,
            random_state=random_state,
            start_pass=start_pass,
            context=context,
            run_length=run_length,
            neighbors=_neighbors(root, context),
            n_total=len(root),
            rank=rank,
            world_size=world_size,
            groups=None if recording is None else recording[indices],
            min_batches=min_batches,
        )
        super().__init__(root, batch_size=None, sampler=sampler, **kwargs)


class EpochLoader(DataLoader):
    """Validation and prediction iterator: consecutive single epochs, in order.

    A :class:`torch.utils.data.DataLoader` over batches of :class:`SequentialBatchSampler`:
    where the epochs are contiguous in memory, batches are views of the data (no copy).

    Parameters
    ----------
    dataset : skorch.dataset.Dataset | torch.utils.data.Subset
        Epochs (labelled or not).
    batch_size : int
        Epochs per batch.
    shuffle : bool
        Predictions must line up with the input, so ``shuffle=True`` is an error.
    drop_last : bool
        Drop a last batch smaller than ``batch_size``.
    context : int
        Context models: each batch's epochs come with their ``context`` neighbours on either
        side (the classifier sets it).
    **kwargs
        Other :class:`~torch.utils.data.DataLoader` arguments (``num_workers``,
        ``pin_memory``, ...).

    Yields
    ------
    X : Tensor of float32, shape (B, 1, n_times)
    y : Tensor of int64, shape (B,) (zeros when the dataset has no labels)

    Examples
    --------
    >>> import numpy as np
    >>> from mne_sscsleep._epochs import EpochsDataset
    >>> loader = EpochLoader(EpochsDataset(np.zeros((70, 1, 3000), np.float32)), batch_size=32)
    >>> [len(xb) for xb, _ in loader]
    [32, 32, 6]
    """

    def __init__(
        self, dataset, batch_size=256, shuffle=False, drop_last=False, context=0, **kwargs
    ):
        if shuffle:
            raise ValueError(
                "EpochLoader keeps epochs in order so that predictions line up with the input; "
                "shuffle=True is not supported."
            )
        root, indices = resolve_dataset(dataset)
        _neighbors(root, context)
        sampler = SequentialBatchSampler(indices, batch_size, drop_last=drop_last, context=context)
        super().__init__(root, batch_size=None, sampler=sampler, **kwargs)


def _neighbors(root, context):
    """The dataset's ``neighbors`` of a context model (None without context)."""
    if not context:
        return None
    if not callable(getattr(root, "neighbors", None)):
        raise TypeError(
            f"A context model needs epochs in recording order; got a {type(root).__name__} "
            "without neighbors(). Pass mne.Epochs or arrays to SSCSleepClassifier."
        )
    return root.neighbors
