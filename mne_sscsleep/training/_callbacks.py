"""Training-time behaviour as skorch callbacks: N1 adaptation and early stopping.

Their state is derived from the net's ``history`` wherever it can be, so a training resumed from a
checkpoint (skorch's ``Checkpoint`` + ``LoadInitState``) continues exactly where it stopped.
"""

from __future__ import annotations

import numpy as np
from skorch.callbacks import Callback
from skorch.callbacks import EarlyStopping as _SkorchEarlyStopping

from .._stages import N1


class N1Adaptation(Callback):
    r"""Raise the loss penalty on misclassified N1 with the recent N1 error.

    During training epoch :math:`t` the criterion's ``n1_weight`` is :math:`\lambda_t`, with
    :math:`e_s` the share of N1 epochs misclassified in epoch :math:`s`:

    .. math::

        \bar e_s = \rho\,\bar e_{s-1} + (1 - \rho)\,e_s, \qquad
        \lambda_t = \min(1 + \kappa\,\bar e_{t-1},\ \lambda_\mathrm{max})

    with :math:`\bar e_0 = 0`, so :math:`\lambda_1 = 1`. :math:`\lambda` is the ``n1_weight`` of
    :class:`~mne_sscsleep.AdaptiveLoss`. The history gets ``n1_error`` (:math:`e_t`) and
    ``n1_weight`` (the :math:`\lambda_t` used during epoch :math:`t`) columns, and
    :math:`\lambda_t` is recomputed from the ``n1_error`` column at the start of each epoch, so a
    resumed training continues the same schedule.

    Parameters
    ----------
    gain : float
        :math:`\kappa`; 0 switches the adaptation off.
    max_weight : float
        Upper bound :math:`\lambda_\mathrm{max} \ge 1`.
    momentum : float
        :math:`\rho` in [0, 1): smoothing of the error over epochs.
    on : ``'valid'`` | ``'train'``
        Where :math:`e_t` is measured. ``'valid'`` (default): the validation split, a clean
        signal (no dropout, no augmentation); the adaptation then tunes on the same held-out
        epochs as early stopping, so the validation scores in the history are somewhat
        optimistic (see the user guide for the measured effect). Without a validation split
        it falls back to the training batches. ``'train'``: the training batches (the
        network's predictions during its training step, with dropout and augmentation), so
        the validation epochs stay untouched by the adaptation and only early stopping tunes
        on them; on simulated nights this staged held-out subjects somewhat worse.

    Examples
    --------
    A stronger, faster adaptation, through the classifier's prefixed parameters:

    >>> from mne_sscsleep import SSCSleepClassifier
    >>> clf = SSCSleepClassifier(
    ...     callbacks__n1_adaptation__gain=4.0, callbacks__n1_adaptation__momentum=0.0
    ... )
    """

    def __init__(self, gain=2.0, max_weight=3.0, momentum=0.5, on="valid"):
        self.gain = gain
        self.max_weight = max_weight
        self.momentum = momentum
        self.on = on

    def initialize(self):
        if self.max_weight < 1 or not 0 <= self.momentum < 1 or self.gain < 0:
            raise ValueError(
                "N1Adaptation needs gain >= 0, max_weight >= 1 and 0 <= momentum < 1; got "
                f"gain={self.gain}, max_weight={self.max_weight}, momentum={self.momentum}."
            )
        if self.on not in ("train", "valid"):
            raise ValueError(f"N1Adaptation's on must be 'valid' or 'train', got {self.on!r}.")
        self.counts_ = {True: np.zeros(3), False: np.zeros(3)}
        return self

    def weight_after(self, errors):
        """:math:`\\lambda` after a sequence of per-epoch N1 errors (NaN: no N1 seen).

        Parameters
        ----------
        errors : sequence of float
            The errors :math:`e_1, e_2, \\ldots` of the epochs so far.

        Returns
        -------
        weight : float
            The ``n1_weight`` for the next epoch.
        """
        smoothed = 0.0
        for error in errors:
            if error is not None and np.isfinite(error):
                smoothed = self.momentum * smoothed + (1 - self.momentum) * error
        return float(min(1.0 + self.gain * smoothed, self.max_weight))

    def on_epoch_begin(self, net, **kwargs):
        previous = [row.get("n1_error") for row in net.history[:-1]]
        weight = self.weight_after(previous)
        if hasattr(net.criterion_, "n1_weight"):
            net.criterion_.n1_weight = weight
        net.history.record("n1_weight", weight)
        # Per kind of batch (training or not): batches, N1 epochs, N1 epochs staged N1.
        self.counts_ = {True: np.zeros(3), False: np.zeros(3)}

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        if y_pred is None:
            return
        target = batch[1]
        logits = y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred
        is_n1 = (target == N1).to(logits.device)
        hits = (logits.argmax(dim=1)[is_n1] == N1).sum()
        self.counts_[bool(training)] += (1.0, float(is_n1.sum()), float(hits))

    def on_epoch_end(self, net, **kwargs):
        training = self.on == "train" or not self.counts_[False][0]  # no validation batches
        _, seen, hits = self.counts_[training]
        net.history.record("n1_error", 1.0 - hits / seen if seen else np.nan)


class EarlyStopping(_SkorchEarlyStopping):
    """The ``EarlyStopping`` of skorch, picking up where a restored history left off.

    At the start of training it replays the monitored scores already in the history (e.g. loaded
    by ``LoadInitState`` from a checkpoint), so a resumed training counts its misses and best
    score as the uninterrupted one did. Weights of a best epoch before the restart are not in
    memory: restore them from a ``Checkpoint`` of the best epoch (``mne-sscsleep train --resume``
    does).

    Parameters
    ----------
    monitor : str
        History key to watch.
    patience : int
        Epochs without improvement before stopping.
    threshold : float
        Minimal improvement.
    threshold_mode : ``'rel'`` | ``'abs'``
        Whether ``threshold`` is relative or absolute.
    lower_is_better : bool
        Direction of improvement.
    sink : callable
        Where messages go.
    load_best : bool
        Restore the weights of the best epoch at the end of training.

    Examples
    --------
    >>> stopper = EarlyStopping(monitor="valid_macro_f1", lower_is_better=False, patience=3)
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.replay(net.history)

    def replay(self, history):
        """Count misses and find the best score over the epochs of ``history``.

        Parameters
        ----------
        history : skorch.History | list of dict
            Recorded epochs.

        Returns
        -------
        self : EarlyStopping
            With ``misses_``, ``best_epoch_`` and the improvement threshold as after those
            epochs; :attr:`stopped` tells whether training would have stopped.
        """
        self.misses_, self.best_epoch_ = 0, 0
        self.dynamic_threshold_ = np.inf if self.lower_is_better else -np.inf
        for row in history:
            if self.monitor not in row:
                continue
            score = row[self.monitor]
            if self._is_score_improved(score):
                self.misses_ = 0
                self.dynamic_threshold_ = self._calc_new_threshold(score)
                self.best_epoch_ = row.get("epoch", 0)
            else:
                self.misses_ += 1
        return self

    @property
    def stopped(self):
        """Whether the replayed or recorded misses already reached ``patience``."""
        return self.misses_ >= self.patience
