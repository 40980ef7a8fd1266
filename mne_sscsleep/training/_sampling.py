"""Which epochs go into which batch: pairs for Siamese training, consecutive runs for prediction.

Training batches hold ``batch_size`` pairs as ``2 * batch_size`` single epochs, the two epochs of
pair ``k`` in rows ``2k`` and ``2k + 1``; the model therefore always sees single epochs and the
loss knows which rows pair up. Pairs are drawn by index each pass, so the data are never copied
beyond the batch being built. The samplers yield whole batches of dataset positions, for a
:class:`torch.utils.data.DataLoader` with ``batch_size=None`` (see :mod:`._loaders`).
"""

from __future__ import annotations

import numpy as np
import torch

from .._protocols import WindowRequest
from .._stages import N1


def sample_pairs(labels, n_pairs, *, same_stage=0.5, n1_share=None, rng):
    """Draw pairs of epoch positions.

    Each pair has an anchor and a partner. Anchors are N1 epochs with probability ``n1_share``
    (drawn with replacement; None keeps N1 at its natural frequency) and otherwise a shuffle of
    the other epochs. With probability ``same_stage`` the partner is another epoch of the
    anchor's stage, otherwise an epoch of a different stage, drawn uniformly.

    Parameters
    ----------
    labels : ndarray of int, shape (n_epochs,)
        Stage index of each candidate epoch.
    n_pairs : int
        Number of pairs.
    same_stage : float
        Share of same-stage pairs, in [0, 1].
    n1_share : float | None
        Share of pairs whose anchor is N1, in [0, 1].
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pairs : ndarray of int64, shape (n_pairs, 2)
        Positions into ``labels`` of (anchor, partner).

    Examples
    --------
    >>> labels = np.array([0, 0, 1, 1, 2, 2])
    >>> pairs = sample_pairs(labels, 4, same_stage=1.0, rng=np.random.default_rng(0))
    >>> bool((labels[pairs[:, 0]] == labels[pairs[:, 1]]).all())
    True
    """
    labels = np.asarray(labels)
    n = len(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    stages, starts, counts = np.unique(sorted_labels, return_index=True, return_counts=True)
    is_n1 = labels == N1
    if n1_share is None or not is_n1.any():
        anchors = rng.permutation(np.resize(rng.permutation(n), n_pairs))
    else:
        n_n1 = rng.binomial(n_pairs, n1_share) if (~is_n1).any() else n_pairs
        n1_anchors = rng.choice(np.flatnonzero(is_n1), n_n1, replace=True)
        others = np.flatnonzero(~is_n1)
        other_anchors = (
            np.resize(rng.permutation(others), n_pairs - n_n1) if others.size else others
        )
        anchors = rng.permutation(np.concatenate([n1_anchors, other_anchors]))
    anchor_stage = np.searchsorted(stages, labels[anchors])
    want_same = rng.random(n_pairs) < same_stage
    if len(stages) == 1:
        want_same[:] = True
    # Same stage: a uniform draw within the anchor's stage block of `order`.
    same = order[starts[anchor_stage] + (rng.random(n_pairs) * counts[anchor_stage]).astype(int)]
    # Different stage: a uniform draw among the n - count epochs outside the anchor's block.
    outside = n - counts[anchor_stage]
    offset = (rng.random(n_pairs) * np.maximum(outside, 1)).astype(int)
    skip = offset >= starts[anchor_stage]
    different = order[np.minimum(offset + skip * counts[anchor_stage], n - 1)]
    partners = np.where(want_same, same, different)
    return np.column_stack([anchors, partners]).astype(np.int64)


def _pass_rng(random_state, pass_index, *rank):
    """The generator of one pass: a function of (seed, pass), so a resumed fit draws alike."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    key = (int(pass_index), *map(int, rank))
    return np.random.default_rng(np.random.SeedSequence(int(random_state), spawn_key=key))


def _shard(n_candidates, groups, rank, world_size):
    """Positions of shard ``rank``: whole recordings, round robin, when there are enough."""
    if groups is not None:
        recordings, codes = np.unique(np.asarray(groups), return_inverse=True)
        if len(recordings) >= world_size:
            return np.flatnonzero(codes.reshape(-1) % world_size == rank)
    return np.flatnonzero(np.arange(n_candidates) % world_size == rank)


class PairBatchSampler(torch.utils.data.Sampler):
    """Batches of interleaved epoch pairs, new pairs on every pass.

    Parameters
    ----------
    labels : ndarray of int, shape (n_candidates,)
        Stage index of each candidate epoch.
    batch_size : int
        Pairs per batch (each batch holds ``2 * batch_size`` positions).
    indices : ndarray of int, shape (n_candidates,) | None
        Dataset position of each candidate (default ``0..n_candidates - 1``).
    same_stage : float
        Share of pairs whose two epochs share a stage, in [0, 1].
    n1_share : float | None
        Share of pairs whose anchor is N1 (None: N1's natural frequency).
    n_pairs : int | None
        Pairs per pass (of runs, for context models); default ``ceil(n_candidates / 2)``
        (``ceil(n_candidates / (2 * run_length))`` with context), so a pass visits about as many
        epochs as there are candidates.
    drop_last : bool
        Drop a last batch smaller than ``batch_size`` pairs.
    random_state : int | numpy.random.Generator | None
        With an int, pass ``k`` draws from a generator seeded by ``(random_state, k)``: the
        draws depend on the pass number only, so a training resumed at pass ``k`` draws what an
        uninterrupted one would have.
    start_pass : int
        Number of the first pass (the classifier passes the epochs already in its history).
    context : int
        0: batches are arrays of positions. ``k > 0`` (context models): each pair's anchors
        bring a run of ``run_length`` consecutive epochs of their recordings, paired slot by
        slot, and batches are ``WindowRequest(positions, k)`` (``mne_sscsleep._protocols``)
        for the dataset to add each centre's ``k`` neighbours on either side.
    run_length : int
        Epochs of each run (context models): the neighbours a run reads are shared by its
        epochs, so a batch costs about ``(run_length + 2 * context) / run_length`` times the
        epochs it classifies. A batch holds ``max(1, batch_size // run_length)`` pairs of runs.
    neighbors : callable | None
        ``neighbors(positions, offsets)`` of the dataset (context models): positions of the
        epochs ``offsets`` away in the same recording, ``-1`` where there are none.
    n_total : int | None
        Size of the dataset that ``indices`` index (context models), so that runs keep to
        the candidates (the training part of a validation split).
    rank, world_size : int
        Data-parallel training (see :mod:`mne_sscsleep.training._distributed`): this process
        draws its pairs from shard ``rank`` of ``world_size`` disjoint shards of the
        candidates (whole recordings when ``groups`` names at least ``world_size`` of them,
        else every ``world_size``-th epoch), and every process yields the same number of
        batches per pass.
    groups : array-like, shape (n_candidates,) | None
        The recording of each candidate, for sharding by recording.
    min_batches : int | None
        Fewest batches of a pass: a small training set (a few hundred epochs, a handful of
        batches) gets more pairs drawn per pass, so that a training budget counted in passes
        still makes enough optimiser steps.

    Examples
    --------
    >>> import numpy as np
    >>> sampler = PairBatchSampler(np.arange(10) % 5, batch_size=2, random_state=0)
    >>> [len(batch) for batch in sampler]
    [4, 4, 2]
    """

    def __init__(
        self,
        labels,
        batch_size,
        *,
        indices=None,
        same_stage=0.5,
        n1_share=None,
        n_pairs=None,
        drop_last=False,
        random_state=None,
        start_pass=0,
        context=0,
        run_length=16,
        neighbors=None,
        n_total=None,
        rank=0,
        world_size=1,
        groups=None,
        min_batches=None,
    ):
        if not 0.0 <= same_stage <= 1.0:
            raise ValueError(f"same_stage must be in [0, 1], got {same_stage}.")
        if n1_share is not None and not 0.0 <= n1_share <= 1.0:
            raise ValueError(f"n1_share must be in [0, 1] or None, got {n1_share}.")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.labels = np.asarray(labels)
        if len(self.labels) == 0:
            raise ValueError("PairBatchSampler needs at least one labelled epoch.")
        self.indices = np.arange(len(self.labels)) if indices is None else np.asarray(indices)
        self.batch_size = int(batch_size)
        self.same_stage = same_stage
        self.n1_share = n1_share
        self.context = int(context)
        self.run_length = int(run_length) if self.context else 1
        if self.run_length < 1:
            raise ValueError(f"run_length must be at least 1, got {run_length}.")
        if self.context and neighbors is None:
            raise ValueError("A context model's pairs need the dataset's neighbors().")
        self.neighbors = neighbors
        self._candidate = None
        if self.context:
            self._candidate = np.zeros(
                int(n_total) if n_total else self.indices.max() + 1, dtype=bool
            )
            self._candidate[self.indices] = True
        # Pairs of anchors (of runs) per batch and per pass: a pass visits about as many epochs
        # as there are candidates.
        self.pairs_per_batch = max(1, self.batch_size // self.run_length)
        self.rank, self.world_size = int(rank), int(world_size)
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank must be in [0, world_size), got {rank} of {world_size}.")
        per_pass = int(n_pairs) if n_pairs else -(-len(self.labels) // (2 * self.run_length))
        if min_batches:  # small training sets: enough optimiser steps per pass
            per_pass = max(per_pass, int(min_batches) * self.pairs_per_batch * self.world_size)
        # Pairs per pass and process: the same on every process, so that they step together.
        self.n_pairs = -(-per_pass // self.world_size)
        if self.world_size > 1:
            shard = _shard(len(self.labels), groups, self.rank, self.world_size)
            if not len(shard):
                raise ValueError(
                    f"Process {self.rank} of {self.world_size} has no training epochs: fewer "
                    "epochs than processes."
                )
            self.labels, self.indices = self.labels[shard], self.indices[shard]
        self.drop_last = bool(drop_last)
        self.random_state = random_state
        self.pass_index = int(start_pass)
        self._rng = (
            None if isinstance(random_state, (int, np.integer)) else _pass_rng(random_state, 0)
        )

    def __len__(self):
        full, rest = divmod(self.n_pairs, self.pairs_per_batch)
        return full + (rest > 0 and not self.drop_last)

    def __iter__(self):
        rng = self._rng or _pass_rng(
            self.random_state, self.pass_index, *((self.rank,) if self.world_size > 1 else ())
        )
        self.pass_index += 1
        pairs = sample_pairs(
            self.labels,
            self.n_pairs,
            same_stage=self.same_stage,
            n1_share=self.n1_share,
            rng=rng,
        )
        if self.context:
            yield from self._run_batches(self.indices[pairs], rng)
            return
        rows = self.indices[pairs.ravel()]  # interleaved: anchor, partner, anchor, partner...
        step = 2 * self.batch_size
        for start in range(0, len(rows), step):
            batch = rows[start : start + step]
            if len(batch) < step and self.drop_last:
                return
            yield batch

    def _run_batches(self, anchors, rng):
        """Batches of paired runs around paired anchors (context models)."""
        n_pairs, length = len(anchors), self.run_length
        slot = rng.integers(0, length, n_pairs)  # where the anchor sits in its run
        # Anchor first, then the run's other slots in time order.
        columns = np.argsort(np.arange(length)[None, :] != slot[:, None], axis=1, kind="stable")
        offsets = columns - slot[:, None]
        runs = [self.neighbors(anchors[:, side], offsets) for side in (0, 1)]
        usable = np.ones(runs[0].shape, dtype=bool)
        for run in runs:
            usable &= (run >= 0) & self._candidate[run.clip(min=0)]
        for start in range(0, n_pairs, self.pairs_per_batch):
            if self.drop_last and start + self.pairs_per_batch > n_pairs:
                return
            block = slice(start, start + self.pairs_per_batch)
            keep = usable[block]
            # Interleaved: the two runs' epochs at the same slot form a pair (rows 2k, 2k + 1).
            centres = np.column_stack([runs[0][block][keep], runs[1][block][keep]]).ravel()
            yield WindowRequest(centres, self.context)


class SequentialBatchSampler(torch.utils.data.Sampler):
    """Consecutive batches of dataset positions, in order (for validation and prediction).

    Where the positions are a contiguous range, batches are ``slice`` objects, so an
    :class:`~mne_sscsleep._epochs.EpochsDataset` returns views of its data: no copy at all.

    Parameters
    ----------
    indices : ndarray of int, shape (n,)
        Dataset positions, in the order of the output.
    batch_size : int
        Positions per batch.
    drop_last : bool
        Drop a last batch smaller than ``batch_size``.
    context : int
        ``k > 0`` (context models): batches are ``WindowRequest(positions, k)``, for the
        dataset to add each centre's neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> list(SequentialBatchSampler(np.arange(5), 2))
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """

    def __init__(self, indices, batch_size, drop_last=False, context=0):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.context = int(context)
        self.indices = np.asarray(indices)
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)
        n = len(self.indices)
        self.start = int(self.indices[0]) if n else 0
        self.contiguous = n == 0 or np.array_equal(
            self.indices, np.arange(self.start, self.start + n)
        )

    def __len__(self):
        full, rest = divmod(len(self.indices), self.batch_size)
        return full + (rest > 0 and not self.drop_last)

    def __iter__(self):
        for first in range(0, len(self) * self.batch_size, self.batch_size):
            last = min(first + self.batch_size, len(self.indices))
            if self.context:
                yield WindowRequest(self.indices[first:last], self.context)
            elif self.contiguous:
                yield slice(self.start + first, self.start + last)
            else:
                yield self.indices[first:last]
