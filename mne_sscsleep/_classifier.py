"""SSCSleepClassifier: SSC-SleepNet as a skorch / scikit-learn classifier."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping, EpochScoring
from skorch.dataset import ValidSplit
from skorch.utils import to_numpy, to_tensor

from ._epochs import DEFAULT_SFREQ, N1, STAGES, check_epochs, check_epochs_labels
from ._loss import AdaptiveLoss
from ._model import SSCSleepNet
from ._pairs import EpochLoader, PairLoader

#: Fewest training epochs accepted: enough for a validation split and a few batches.
MIN_TRAINING_EPOCHS = 20


def _softmax(logits):
    """Softmax over the last dimension (a module-level function, so estimators pickle)."""
    return torch.softmax(logits, dim=-1)


def _valid_stage_predictions(net, dataset, y):
    # Runs on skorch's cached validation outputs: raw skorch prediction, canonical indices.
    proba = NeuralNet.predict_proba(net, dataset)
    return np.asarray(y), proba.argmax(axis=1)


def _valid_macro_f1(net, dataset, y):
    y_true, y_pred = _valid_stage_predictions(net, dataset, y)
    return f1_score(y_true, y_pred, average="macro", zero_division=0.0)


def _valid_n1_f1(net, dataset, y):
    y_true, y_pred = _valid_stage_predictions(net, dataset, y)
    return f1_score(y_true, y_pred, labels=[N1], average="macro", zero_division=0.0)


class N1Adaptation(Callback):
    r"""Raise the loss penalty on misclassified N1 with the recent N1 error.

    After each training epoch :math:`t`, with :math:`e_t` the share of N1 epochs misclassified
    (on the validation split when there is one, else on the training batches):

    .. math::

        \bar e_t = \rho\,\bar e_{t-1} + (1 - \rho)\,e_t, \qquad
        \lambda_{t+1} = \min(1 + \kappa\,\bar e_t,\ \lambda_\mathrm{max})

    with :math:`\bar e_0 = 0`, so :math:`\lambda_1 = 1`. :math:`\lambda` is the ``n1_weight`` of
    :class:`AdaptiveLoss`. The history gets ``n1_error`` (:math:`e_t`) and ``n1_weight`` (the
    :math:`\lambda` used during epoch :math:`t`) columns.

    Parameters
    ----------
    gain : float
        :math:`\kappa`; 0 switches the adaptation off.
    max_weight : float
        Upper bound :math:`\lambda_\mathrm{max} \ge 1`.
    momentum : float
        :math:`\rho` in [0, 1): smoothing of the error over epochs.

    Examples
    --------
    A stronger, faster adaptation, through the classifier's prefixed parameters:

    >>> from mne_sscsleep import SSCSleepClassifier
    >>> clf = SSCSleepClassifier(
    ...     callbacks__n1_adaptation__gain=4.0, callbacks__n1_adaptation__momentum=0.0
    ... )
    """

    def __init__(self, gain=2.0, max_weight=3.0, momentum=0.5):
        self.gain = gain
        self.max_weight = max_weight
        self.momentum = momentum

    def initialize(self):
        if self.max_weight < 1 or not 0 <= self.momentum < 1 or self.gain < 0:
            raise ValueError(
                "N1Adaptation needs gain >= 0, max_weight >= 1 and 0 <= momentum < 1; got "
                f"gain={self.gain}, max_weight={self.max_weight}, momentum={self.momentum}."
            )
        self.smoothed_error_ = 0.0
        self.counts_ = {}
        return self

    def on_train_begin(self, net, **kwargs):
        self.smoothed_error_ = 0.0
        net.criterion_.n1_weight = 1.0

    def on_epoch_begin(self, net, **kwargs):
        self.counts_ = {True: np.zeros(2), False: np.zeros(2)}

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        if y_pred is None:
            return
        target = batch[1]
        is_n1 = target == N1
        predicted = y_pred[0].argmax(dim=1)
        hits = (predicted[is_n1.to(predicted.device)] == N1).sum()
        self.counts_[training] += (float(is_n1.sum()), float(hits))

    def on_epoch_end(self, net, **kwargs):
        seen, hits = self.counts_[False] if self.counts_[False][0] else self.counts_[True]
        used = float(net.criterion_.n1_weight)
        error = 1.0 - hits / seen if seen else np.nan
        if seen:
            self.smoothed_error_ = (
                self.momentum * self.smoothed_error_ + (1 - self.momentum) * error
            )
        net.criterion_.n1_weight = float(
            min(1.0 + self.gain * self.smoothed_error_, self.max_weight)
        )
        net.history.record("n1_error", error)
        net.history.record("n1_weight", used)


class SSCSleepClassifier(NeuralNetClassifier):
    """SSC-SleepNet sleep stager: a skorch ``NeuralNetClassifier`` and scikit-learn estimator.

    ``fit(X, y)`` takes ``mne.Epochs`` (labels read from ``events`` when ``y`` is None) or
    arrays in volts, with labels as stage names (``'W', 'N1', 'N2', 'N3', 'R'`` or aliases such
    as ``'Sleep stage 4'``) or integers 0..4. ``predict`` returns the user's own labels
    (``classes_``, in stage order W, N1, N2, N3, R).

    Training feeds pairs of epochs (:class:`PairLoader`) to a pseudo-Siamese network
    (:class:`SSCSleepNet`) under :class:`AdaptiveLoss`; :class:`N1Adaptation` raises the N1
    penalty each epoch. A stratified 10 % of the training epochs is held out to monitor
    macro-F1, stop early and restore the best epoch.

    Parameters
    ----------
    module : type of torch.nn.Module
        The network; its arguments are ``module__*`` parameters (``sfreq`` is filled in).
    criterion : type of torch.nn.Module
        The loss; arguments as ``criterion__*`` (e.g. ``criterion__gamma``).
    optimizer : type of torch.optim.Optimizer
        Arguments as ``optimizer__*`` (e.g. ``optimizer__weight_decay``).
    lr : float
        Learning rate.
    max_epochs : int
        Maximum number of training epochs (passes over the data).
    batch_size : int
        Pairs per training batch (``2 * batch_size`` EEG epochs); prediction batches hold
        ``2 * batch_size`` epochs too (``iterator_valid__batch_size`` overrides).
    iterator_train, iterator_valid : type
        Batch iterators; ``iterator_train__same_stage``, ``iterator_train__n1_share`` set the
        pair shares.
    train_split : callable | None
        The validation split (skorch's ``ValidSplit``); None trains on everything (no early
        stopping).
    predict_nonlinearity : callable
        Turns the network's logits into probabilities (a softmax over stages).
    sfreq : float
        Sampling rate of the model in Hz; input epochs are 30 s long.
    picks : str | int | None
        Channel to use when the input has several.
    resample : bool
        Resample ``mne.Epochs`` at another rate to ``sfreq`` instead of raising an error.
    patience : int | None
        Early-stopping patience in epochs (on validation macro-F1); None disables it.
    random_state : int | None
        Seeds torch (weights, dropout) and the pair sampler; the same seed gives the same
        predictions on CPU. Note: seeding sets torch's global random state.
    device : str
        ``'cpu'`` or ``'cuda'``.
    verbose : int
        0: silent; 1: one line per training epoch.
    **kwargs
        Other skorch parameters (``callbacks``, ``warm_start``, prefixed parameters, ...).
        ``compile=True`` runs the network under ``torch.compile`` (arguments as
        ``compile__*``): on a 2-core CPU the first batch then takes ~70 s of code generation
        and later training steps are ~15 % faster, so it pays off only for long fits. Saved
        files hold plain weights either way.

    Attributes
    ----------
    classes_ : ndarray
        The user's labels of the stages seen in training, in stage order.
    stages_ : tuple of str
        The canonical stages behind ``classes_``.
    class_counts_ : ndarray of int, shape (5,)
        Training epochs per stage (W, N1, N2, N3, R).
    ch_name_ : str | None
        Channel the model was trained on (None for arrays).
    history : skorch.History
        Per-epoch losses, ``valid_macro_f1``, ``valid_n1_f1``, ``n1_error`` and ``n1_weight``.

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_epochs
    >>> epochs, y, groups = simulate_sleep_epochs(2, hours=1, random_state=0, verbose="error")
    >>> clf = SSCSleepClassifier(max_epochs=1, random_state=0, verbose=0).fit(epochs, y)
    >>> clf.predict(epochs[:3]).shape
    (3,)
    """

    def __init__(
        self,
        module=SSCSleepNet,
        *,
        criterion=AdaptiveLoss,
        optimizer=torch.optim.AdamW,
        lr=2e-3,
        max_epochs=30,
        batch_size=64,
        iterator_train=PairLoader,
        iterator_valid=EpochLoader,
        train_split=ValidSplit(0.1, stratified=True, random_state=0),  # noqa: B008
        predict_nonlinearity=_softmax,
        sfreq=DEFAULT_SFREQ,
        picks=None,
        resample=False,
        patience=5,
        random_state=None,
        device="cpu",
        verbose=1,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            train_split=train_split,
            predict_nonlinearity=predict_nonlinearity,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.sfreq = sfreq
        self.picks = picks
        self.resample = resample
        self.patience = patience
        self.random_state = random_state

    # ---- skorch hooks -------------------------------------------------------------------------
    def get_default_callbacks(self):
        callbacks = [
            (name, callback)
            for name, callback in super().get_default_callbacks()
            if name != "valid_acc"  # its scorer would call predict() on skorch's internal data
        ]
        extra = [
            ("valid_macro_f1", EpochScoring(_valid_macro_f1, False, name="valid_macro_f1")),
            ("valid_n1_f1", EpochScoring(_valid_n1_f1, False, name="valid_n1_f1")),
            ("n1_adaptation", N1Adaptation()),
        ]
        if self.patience and self.train_split is not None:
            extra.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_macro_f1",
                        lower_is_better=False,
                        patience=self.patience,
                        load_best=True,
                    ),
                )
            )
        return callbacks[:-1] + extra + callbacks[-1:]  # print_log stays last

    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        if prefix == "module":
            params.setdefault("sfreq", self.sfreq)
        elif prefix == "iterator_train" and self.random_state is not None:
            params.setdefault("random_state", self._seed_sequence().spawn(1)[0])
        elif prefix == "iterator_valid" and self.batch_size != -1:
            # As many epochs as a training batch holds: ~10 % faster on CPU than batch_size.
            params.setdefault("batch_size", 2 * self.batch_size)
        return params

    def torch_compile(self, module, name):
        # Only the network: the criterion's N1 weight changes every epoch (N1Adaptation), which
        # would make a compiled criterion recompile each time, and its cost is negligible.
        if name != "module":
            return module
        return super().torch_compile(module, name)

    def initialize_criterion(self):
        super().initialize_criterion()
        counts = getattr(self, "class_counts_", None)
        if counts is not None and hasattr(self.criterion_, "set_class_counts"):
            self.criterion_.set_class_counts(counts)
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        if isinstance(self.criterion_, AdaptiveLoss):
            # Training batches come from the pair iterator: rows 2k and 2k + 1 form a pair.
            return self.criterion_(y_pred, y_true, paired=training)
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return self.criterion_(logits, y_true)

    # ---- scikit-learn API ---------------------------------------------------------------------
    def fit(self, X, y=None, **fit_params):
        """Train on labelled 30-s epochs.

        Parameters
        ----------
        X : mne.Epochs | ndarray, shape (n_epochs, n_times) or (n_epochs, 1, n_times)
            EEG epochs (arrays in volts, sampled at ``sfreq``).
        y : array-like, shape (n_epochs,) | None
            Stage labels; None reads them from ``X.events`` for ``mne.Epochs``.
        **fit_params
            Passed to skorch's ``fit``.

        Returns
        -------
        self : SSCSleepClassifier
            The fitted classifier.
        """
        data, labels, stages = check_epochs_labels(
            X, y, sfreq=self.sfreq, picks=self.picks, resample=self.resample
        )
        self._learn_labels(labels, stages)
        self.ch_name_ = data.ch_name
        if self.random_state is not None:
            torch.manual_seed(int(self._seed_sequence().generate_state(1)[0]))
        return super().fit(data.data, stages, **fit_params)

    def predict_proba(self, X):
        """Stage probabilities of each epoch.

        Parameters
        ----------
        X : mne.Epochs | ndarray
            EEG epochs, as for :meth:`fit`.

        Returns
        -------
        proba : ndarray of float64, shape (n_epochs, n_classes)
            Columns follow ``classes_``; rows sum to 1 (stages absent from training get none).
        """
        return self._proba(X)

    def _proba(self, X, on_flat="raise"):
        logits = self._logits(X, on_flat)
        logits[:, self._absent_stages()] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba[:, self._present_stages()]

    def predict(self, X):
        """Stage of each epoch, as the user's labels.

        Parameters
        ----------
        X : mne.Epochs | ndarray
            EEG epochs, as for :meth:`fit`.

        Returns
        -------
        y_pred : ndarray, shape (n_epochs,)
            Values from ``classes_``.
        """
        proba = self.predict_proba(X)  # checks that the model is fitted
        return self.classes_[proba.argmax(axis=1)]

    def save(self, fname):
        """Save the fitted model to one file (weights, labels, sampling rate, channel, history).

        Parameters
        ----------
        fname : str | pathlib.Path
            Output file, conventionally ``*.sscsleep``.

        Returns
        -------
        fname : pathlib.Path
            The file written.
        """
        from ._io import save_model

        return save_model(self, fname)

    @classmethod
    def load(cls, fname, *, device="cpu"):
        """Load a model saved with :meth:`save`, checking that the file is compatible.

        Parameters
        ----------
        fname : str | pathlib.Path
            The model file.
        device : str
            ``'cpu'`` or ``'cuda'``.

        Returns
        -------
        clf : SSCSleepClassifier
        """
        from ._io import load_model

        return load_model(fname, device=device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False  # mne.Epochs carry their labels
        tags.classifier_tags.multi_class = True
        tags.non_deterministic = self.random_state is None
        return tags

    @property
    def classes_(self):
        try:
            return self.classes_user_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no classes_ before fit; call fit(X, y) first."
            ) from None

    # ---- helpers ------------------------------------------------------------------------------
    def _seed_sequence(self):
        return np.random.SeedSequence(int(self.random_state))

    def _learn_labels(self, labels, stages):
        """Check the training labels, then store the user's label of each stage seen."""
        counts = np.bincount(stages, minlength=len(STAGES))
        present = np.flatnonzero(counts)
        if len(stages) < MIN_TRAINING_EPOCHS:
            raise ValueError(
                f"Got {len(stages)} training epochs; SSCSleepClassifier needs at least "
                f"{MIN_TRAINING_EPOCHS} (a whole night has ~1000)."
            )
        if len(present) < 2:
            raise ValueError(
                f"The training data hold a single stage ({STAGES[present[0]]}); a sleep stager "
                "needs at least two, and normally all five (W, N1, N2, N3, R)."
            )
        self._check_validation_split(stages)  # before any fitted attribute changes
        missing = [STAGES[stage] for stage in range(len(STAGES)) if counts[stage] == 0]
        if missing:
            warnings.warn(
                f"Stage(s) {', '.join(missing)} are missing from the training data; the model "
                "cannot learn them and will never predict them. Train on whole nights to cover "
                "all five stages.",
                RuntimeWarning,
                stacklevel=3,
            )
        user_labels = []
        for stage in present:
            spellings = np.unique(labels[stages == stage].astype(str))
            # Several spellings of one stage (e.g. 'Sleep stage 3' and 'Sleep stage 4' for N3):
            # answer with the stage's canonical name.
            user_labels.append(STAGES[stage] if len(spellings) > 1 else labels[stages == stage][0])
        self.classes_user_ = np.asarray(user_labels)
        self.stages_ = tuple(STAGES[stage] for stage in present)
        self.class_counts_ = counts

    def _check_validation_split(self, stages):
        split = self.train_split
        if not isinstance(split, ValidSplit) or not split.stratified:
            return
        counts = np.bincount(stages)
        counts = counts[counts > 0]
        n_valid = split.cv if split.cv >= 1 else int(np.ceil(split.cv * len(stages)))
        if isinstance(split.cv, float) and (counts.min() < 2 or n_valid < len(counts)):
            raise ValueError(
                f"The stratified validation split ({split.cv:g} of {len(stages)} epochs) needs "
                f"at least {len(counts)} validation epochs and two epochs of every stage (the "
                f"rarest has {counts.min()}). Train on more epochs, or pass train_split=None "
                "to train without validation (and without early stopping)."
            )

    def _present_stages(self):
        return [STAGES.index(stage) for stage in self.stages_]

    def _absent_stages(self):
        return [index for index, stage in enumerate(STAGES) if stage not in self.stages_]

    def _logits(self, X, on_flat="raise"):
        if not hasattr(self, "classes_user_") or not getattr(self, "initialized_", False):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) before predicting."
            )
        data = check_epochs(
            X, sfreq=self.sfreq, picks=self.picks, resample=self.resample, on_flat=on_flat
        )
        if self.ch_name_ and data.ch_name and data.ch_name != self.ch_name_:
            warnings.warn(
                f"The model was trained on channel {self.ch_name_!r} but is predicting on "
                f"{data.ch_name!r}. Predictions are only reliable for the same derivation.",
                RuntimeWarning,
                stacklevel=3,
            )
        outputs = [to_numpy(out[0]) for out in self.forward_iter(data.data, training=False)]
        return np.concatenate(outputs).astype(np.float64)
