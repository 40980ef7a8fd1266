"""Training-time behaviour as skorch callbacks: N1 adaptation and early stopping.

Their state is derived from the net's ``history`` wherever it can be, so a training resumed from a
checkpoint (skorch's ``Checkpoint`` + ``LoadInitState``) continues exactly where it stopped.
"""

from __future__ import annotations

import re
import time

import numpy as np
import torch
from skorch.callbacks import Callback, PrintLog
from skorch.callbacks import EarlyStopping as _SkorchEarlyStopping

from .._stages import N1
from ._loaders import resolve_dataset

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# How far above chance validation macro-F1 must once be before early stopping counts misses.
_ABOVE_CHANCE = 0.05


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
    min_score : float | ``'chance'`` | None
        No miss is counted until the monitored score has once passed ``min_score`` (reached,
        for a lower-is-better score): training does not stop, and no "best" epoch is chosen,
        while the model is still at chance (the classifier sets 0.3 for validation macro-F1).
        ``'chance'`` (for a macro-F1 monitor): 0.05 above :func:`chance_macro_f1` of the
        validation labels, the macro-F1 that calling every epoch the same stage already
        scores (0.31 on a 60-epoch recording of two stages, 0.13 on a whole night), found at
        the first pass.
        Replayed histories (resumed training) use a float ``min_score`` only.

    Examples
    --------
    >>> stopper = EarlyStopping(monitor="valid_macro_f1", lower_is_better=False, patience=3)
    """

    def __init__(
        self,
        monitor="valid_loss",
        patience=5,
        threshold=1e-4,
        threshold_mode="rel",
        lower_is_better=True,
        sink=print,
        load_best=False,
        min_score=None,
    ):
        super().__init__(
            monitor=monitor,
            patience=patience,
            threshold=threshold,
            threshold_mode=threshold_mode,
            lower_is_better=lower_is_better,
            sink=sink,
            load_best=load_best,
        )
        self.min_score = min_score

    def on_train_begin(self, net, **kwargs):
        if self.min_score == "chance" and not self.monitor.endswith("macro_f1"):
            raise ValueError(
                f"EarlyStopping(min_score='chance') knows the chance level of a macro-F1 "
                f"monitor only; give a number for monitor={self.monitor!r}."
            )
        self.floor_ = None if self.min_score == "chance" else self.min_score
        super().on_train_begin(net, **kwargs)
        self.replay(net.history)

    def on_epoch_begin(self, net, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_valid=dataset_valid, **kwargs)
        if self.min_score == "chance" and self.floor_ is None and dataset_valid is not None:
            root, indices = resolve_dataset(dataset_valid)
            if root.y is not None:
                self.floor_ = chance_macro_f1(np.asarray(root.y)[indices]) + _ABOVE_CHANCE

    def _is_score_improved(self, score):
        floor = getattr(self, "floor_", None)
        if floor is not None and not self._passed(self.dynamic_threshold_, floor):
            return True  # still at chance: the latest epoch is as good a "best" as any
        return super()._is_score_improved(score)

    def _passed(self, threshold, floor):
        if self.lower_is_better:
            return threshold <= floor
        return threshold > floor

    def on_epoch_end(self, net, **kwargs):
        # skorch runs its PrintLog last and stops by raising here: print the last pass's row
        # first, then say why training stops.
        messages = []
        sink, self.sink = self.sink, messages.append
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            for _, callback in getattr(net, "callbacks_", []):
                if isinstance(callback, PrintLog):
                    callback.on_epoch_end(net, **kwargs)
            raise
        finally:
            self.sink = sink
            for message in messages:
                sink(message)

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
        if self.min_score != "chance":
            self.floor_ = self.min_score
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


def chance_macro_f1(labels):
    """The macro-F1 of the best constant prediction: what a model at chance scores.

    Macro-F1 averages over the stages present (:func:`mne_sscsleep.metrics.macro_f1_score`):
    calling every epoch stage ``c``, of share ``p``, scores ``2p / (1 + p)`` divided by the
    number of stages present. On a short recording of few stages that is far above the
    0.13-0.2 of a whole night.

    Parameters
    ----------
    labels : array-like of int
        Stage indices.

    Returns
    -------
    score : float
        The best constant prediction's macro-F1 (0 for no labels).

    Examples
    --------
    >>> round(chance_macro_f1([2] * 27 + [3] * 33), 3)  # two stages, 45 % and 55 %
    0.355
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64).ravel())
    counts = counts[counts > 0]
    if not len(counts):
        return 0.0
    share = counts / counts.sum()
    return float(np.max(2 * share / (1 + share)) / len(counts))


def _step(value, direction, step, low, high):
    if not step:
        return value
    # Rounded to the step's grid (and to 10 decimals), so that 0.25 + 0.05 is 0.3 exactly.
    moved = round(round((value + direction * step) / step) * step, 10)
    return float(np.clip(moved, low, high))


class LossSchedule(Callback):
    """The paper's step rules for the loss's ``alpha``, ``gamma`` and ``lam`` after each pass.

    After training epoch :math:`t` (Lin et al., 2025, Section II-D):

    - an accuracy :math:`a_t` is compared with a reference :math:`r_t` (``reference`` at the
      start, then the previous epoch's accuracy): if :math:`a_t > r_t`, :math:`\\alpha` grows by
      ``alpha_step`` and :math:`\\gamma` by ``gamma_step``, otherwise both shrink by a step,
      within ``alpha_range`` and ``gamma_range``;
    - :math:`\\lambda` grows by ``lam_step`` when the weighted cross-entropy exceeds the focal
      loss, and shrinks otherwise (the paper states the first half; the second follows by
      symmetry), within ``lam_range``. *Which* quantities are compared is ``lam_rule``: the
      paper's words read literally (``'raw'``: the two losses) make the rule one-sided, since
      the focal loss :math:`\\alpha (1 - p)^\\gamma \\mathrm{CE}` is below the cross-entropy
      whenever :math:`\\alpha \\le 1`, so :math:`\\lambda` climbs to its maximum in every
      training; ``'balance'`` (default) compares their contributions
      :math:`(1 - \\lambda)\\,\\mathrm{WCE}` and :math:`\\lambda\\,\\mathrm{FL}`, which moves
      :math:`\\lambda` towards the balance of the two terms, the evident purpose of the rule.

    The starting values are the criterion's ``lam``, ``alpha`` and ``gamma``. The values used
    in each epoch are recorded in the history (``alpha``, ``gamma``, ``lam``) with the quantities
    that drove them (``schedule_acc``, ``loss_wce``, ``loss_fl``, ``loss_cl``), and they are
    recomputed from those records at the start of every epoch, so a resumed training continues
    the same trajectory.

    Parameters
    ----------
    focus : ``'all'`` | ``'n1'``
        The accuracy that drives :math:`\\alpha` and :math:`\\gamma`: over all stages, or the
        share of N1 epochs staged N1 (the paper's N1-optimised run of Table VII).
    on : ``'valid'`` | ``'train'``
        Where the accuracy is measured: the validation split (the training batches when there
        is none) or the training batches.
    reference : float
        Reference accuracy of the first epoch (the paper: 0.7).
    alpha_range, gamma_range, lam_range : tuple of float
        Bounds (the paper: 0.1-1.0, 0-5, 0.01-0.99).
    alpha_step, gamma_step, lam_step : float
        Steps (the paper: 0.05, 1, 0.05); 0 keeps the quantity fixed.
    lam_rule : ``'balance'`` | ``'raw'``
        What the :math:`\\lambda` rule compares (see above).

    Examples
    --------
    The paper's N1-optimised run, through the classifier's prefixed parameters:

    >>> from mne_sscsleep import SSCSleepClassifier
    >>> clf = SSCSleepClassifier(preset="paper", callbacks__loss_schedule__focus="n1")
    """

    def __init__(
        self,
        focus="all",
        on="valid",
        reference=0.7,
        alpha_range=(0.1, 1.0),
        gamma_range=(0.0, 5.0),
        lam_range=(0.01, 0.99),
        alpha_step=0.05,
        gamma_step=1.0,
        lam_step=0.05,
        lam_rule="balance",
    ):
        self.focus = focus
        self.on = on
        self.reference = reference
        self.alpha_range = alpha_range
        self.alpha_step = alpha_step
        self.gamma_range = gamma_range
        self.gamma_step = gamma_step
        self.lam_range = lam_range
        self.lam_step = lam_step
        self.lam_rule = lam_rule

    def initialize(self):
        if self.focus not in ("all", "n1"):
            raise ValueError(f"LossSchedule's focus must be 'all' or 'n1', got {self.focus!r}.")
        if self.on not in ("valid", "train"):
            raise ValueError(f"LossSchedule's on must be 'valid' or 'train', got {self.on!r}.")
        if self.lam_rule not in ("balance", "raw"):
            raise ValueError(
                f"LossSchedule's lam_rule must be 'balance' or 'raw', got {self.lam_rule!r}."
            )
        for name in ("alpha", "gamma", "lam"):
            low, high = getattr(self, f"{name}_range")
            if not low <= high or getattr(self, f"{name}_step") < 0:
                raise ValueError(
                    f"LossSchedule needs {name}_range low <= high and {name}_step >= 0, got "
                    f"{(low, high)} and {getattr(self, f'{name}_step')}."
                )
        self._reset()
        return self

    def _reset(self):
        # Per kind of batch (training or not): correct, counted; and the training loss terms.
        self.hits_ = {True: np.zeros(2), False: np.zeros(2)}
        self.terms_ = np.zeros(4)  # wce, fl, cl sums and the number of batches

    def values_after(self, initial, records):
        """``alpha``, ``gamma`` and ``lam`` after a sequence of recorded epochs.

        Parameters
        ----------
        initial : dict
            Starting ``alpha``, ``gamma`` and ``lam``.
        records : sequence of dict
            History rows with ``schedule_acc``, ``loss_wce`` and ``loss_fl``.

        Returns
        -------
        values : dict
            The ``alpha``, ``gamma`` and ``lam`` of the next epoch.
        """
        values, reference = dict(initial), self.reference
        for row in records:
            accuracy, wce, fl = (row.get(key) for key in ("schedule_acc", "loss_wce", "loss_fl"))
            if accuracy is not None and np.isfinite(accuracy):
                direction = 1 if accuracy > reference else -1
                values["alpha"] = _step(
                    values["alpha"], direction, self.alpha_step, *self.alpha_range
                )
                values["gamma"] = _step(
                    values["gamma"], direction, self.gamma_step, *self.gamma_range
                )
                reference = accuracy
            if wce is not None and fl is not None and np.isfinite(wce) and np.isfinite(fl):
                if self.lam_rule == "balance":
                    wce, fl = (1.0 - values["lam"]) * wce, values["lam"] * fl
                values["lam"] = _step(
                    values["lam"], 1 if wce > fl else -1, self.lam_step, *self.lam_range
                )
        return values

    def on_epoch_begin(self, net, **kwargs):
        criterion = net.criterion_
        initial = getattr(criterion, "initial_", None)
        if initial is None:
            raise TypeError(
                f"LossSchedule adapts AdaptiveLoss's lam, alpha and gamma; the criterion is a "
                f"{type(criterion).__name__}. Pass callbacks__loss_schedule=None to remove it."
            )
        values = self.values_after(initial, net.history[:-1])
        for name, value in values.items():
            setattr(criterion, name, value)
            net.history.record(name, value)
        self._reset()

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        if y_pred is None:
            return
        target = batch[1]
        logits = y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred
        predicted = logits.argmax(dim=1).to(target.device)
        if self.focus == "n1":
            chosen = target == N1
            hits, seen = (predicted[chosen] == N1).sum(), chosen.sum()
        else:
            hits, seen = (predicted == target).sum(), len(target)
        self.hits_[bool(training)] += (float(hits), float(seen))
        terms = getattr(net.criterion_, "terms_", None)
        if training and terms:
            self.terms_ += (float(terms["wce"]), float(terms["fl"]), float(terms["cl"]), 1.0)

    def on_epoch_end(self, net, **kwargs):
        training = self.on == "train" or not self.hits_[False][1]
        hits, seen = self.hits_[training]
        net.history.record("schedule_acc", hits / seen if seen else np.nan)
        wce, fl, cl, batches = self.terms_
        for name, total in (("loss_wce", wce), ("loss_fl", fl), ("loss_cl", cl)):
            net.history.record(name, total / batches if batches else np.nan)


class LRPlateau(Callback):
    """``torch.optim.lr_scheduler.ReduceLROnPlateau`` driven by the history (resumable).

    At the end of each epoch the monitored scores recorded so far are replayed through a fresh
    :class:`torch.optim.lr_scheduler.ReduceLROnPlateau` (torch's own rule), and the learning
    rate it arrives at is set on the optimiser and recorded as ``lr``: the decision depends on
    the history alone, so a training resumed from a checkpoint lowers the rate when the
    uninterrupted one would.

    Parameters
    ----------
    monitor : str
        History key (``'valid_loss'``; ``'train_loss'`` is used when the history has no
        validation).
    factor, patience, threshold, min_lr : float
        As in :class:`torch.optim.lr_scheduler.ReduceLROnPlateau`.

    Examples
    --------
    >>> scheduler = LRPlateau(monitor="valid_loss", factor=0.5, patience=2)
    """

    def __init__(self, monitor="valid_loss", factor=0.5, patience=2, threshold=1e-4, min_lr=1e-6):
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.min_lr = min_lr

    def on_train_begin(self, net, **kwargs):
        # The rate the optimiser was built with (not its current one: a checkpoint restores a
        # reduced rate), from which the replay starts.
        initial = net.get_params_for("optimizer").get("lr", net.lr)
        self.initial_lrs_ = [initial] * len(net.optimizer_.param_groups)

    def lr_after(self, scores, initial_lr):
        """The learning rate after a sequence of monitored scores.

        Parameters
        ----------
        scores : sequence of float
            The monitored value of each epoch so far.
        initial_lr : float
            The rate before any reduction.

        Returns
        -------
        lr : float
            The rate torch's ``ReduceLROnPlateau`` arrives at.
        """
        dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=initial_lr)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            dummy,
            mode="min",
            factor=self.factor,
            patience=self.patience,
            threshold=self.threshold,
            min_lr=self.min_lr,
        )
        for score in scores:
            if score is not None and np.isfinite(score):
                scheduler.step(score)
        return float(dummy.param_groups[0]["lr"])

    def on_epoch_end(self, net, **kwargs):
        monitor = self.monitor if self.monitor in net.history[-1] else "train_loss"
        scores = [row.get(monitor) for row in net.history]
        for group, initial in zip(net.optimizer_.param_groups, self.initial_lrs_):
            group["lr"] = self.lr_after(scores, initial)
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])


class PassTimeEstimate(Callback):
    """Say, before the first training pass ends, how long a pass will take.

    After the first few training batches, the time per batch (the first batch, which warms
    up, left out) times the batches of a pass gives the length of a pass and of the whole
    training; the message also names the faster ways to train (a smaller preset, a GPU).

    Parameters
    ----------
    advice : str
        What to add to the estimate (e.g. ``preset='lite' trains ~90x faster on a CPU``).
    n_batches : int
        Training batches timed before the estimate (after the first).
    sink : callable
        Where the message goes.

    Examples
    --------
    >>> estimate = PassTimeEstimate(advice="Use a GPU: device='cuda'.")
    """

    def __init__(self, advice="", n_batches=3, sink=print):
        self.advice = advice
        self.n_batches = n_batches
        self.sink = sink

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self.times_ = []
        self.batches_per_pass_ = None
        if len(net.history) == 1 and dataset_train is not None:  # the first pass only
            self.batches_per_pass_ = len(net.get_iterator(dataset_train, training=True))

    def on_batch_begin(self, net, training=False, **kwargs):
        if training and self.batches_per_pass_:
            self.times_.append(time.perf_counter())

    def on_batch_end(self, net, training=False, **kwargs):
        if not training or not self.batches_per_pass_:
            return
        if len(self.times_) == self.n_batches + 1:
            seconds = (time.perf_counter() - self.times_[1]) / self.n_batches
            per_pass = seconds * self.batches_per_pass_
            total = per_pass * net.max_epochs
            self.sink(
                f"A training pass ({self.batches_per_pass_} batches) takes about "
                f"{_duration(per_pass)} here (measured on the first batches), so "
                f"{net.max_epochs} passes take up to {_duration(total)}. {self.advice}".strip()
            )
            self.batches_per_pass_ = None


def _duration(seconds):
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def is_interactive(stream):
    """Whether ``stream`` is a terminal or a notebook: where progress bars and colours belong.

    Parameters
    ----------
    stream : file-like
        E.g. ``sys.stderr``.

    Returns
    -------
    bool
        True in an IPython kernel or for a TTY.

    Examples
    --------
    >>> import io
    >>> is_interactive(io.StringIO())
    False
    """
    try:
        get_ipython = __import__("IPython").get_ipython
        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            return True
    except (ImportError, AttributeError):
        pass
    return bool(getattr(stream, "isatty", lambda: False)())


def print_line(text, stream=None):
    r"""Print one line of the training log, without ANSI colours off a terminal.

    Parameters
    ----------
    text : str
        A line of skorch's ``PrintLog`` (or any message).
    stream : file-like | None
        Where to print; None: ``sys.stdout``.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> print_line("\x1b[32m0.812\x1b[0m", out)
    >>> out.getvalue()
    '0.812\n'
    """
    import sys

    stream = sys.stdout if stream is None else stream
    print(text if is_interactive(stream) else _ANSI.sub("", text), file=stream, flush=True)
