"""SSCSleepClassifier: SSC-SleepNet as a skorch / scikit-learn classifier.

Data flow: user object -> :func:`~mne_sscsleep.check_epochs` (in skorch's ``get_dataset`` hook,
or in ``partial_fit`` for labelled training data) -> skorch's fit loop -> pair loader, network,
augmentation and loss -> probabilities over the stages the model knows -> the user's labels.
"""

from __future__ import annotations

import copy
import functools
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring, LoadInitState, PrintLog, ProgressBar
from skorch.exceptions import NotInitializedError
from skorch.history import History
from skorch.utils import to_tensor

from ._check import Interval, Options, Rule, check_params
from ._docs import fill_doc
from ._epochs import (
    EpochsDataset,
    check_dataset,
    check_epochs,
    check_epochs_labels,
    training_record,
)
from ._stages import DEFAULT_SFREQ, StageEncoder
from ._tags import NOT_APPLICABLE_CHECKS, SleepStagerTags
from .io import read_model, write_model
from .metrics import StageScorer, macro_f1_score, n1_f1_score, stage_accuracy_score
from .nn import CONTEXT_MODELS, AdaptiveLoss, ContextNet, stage_softmax
from .training import (
    STARTING_POINTS,
    DistributedSync,
    EarlyStopping,
    EpochLoader,
    PairLoader,
    PassTimeEstimate,
    RecordingSplit,
    check_device,
    check_state_shapes,
    check_training_size,
    get_preset,
    is_interactive,
    is_main_process,
    load_pretrained,
    print_line,
    process_group,
    resolve_dataset,
    starting_point,
    validation_note,
)

#: Parameters (beside every ``module__*``) that the fitted network and its inputs follow: a
#: fitted model whose parameters changed since cannot predict or be saved.
_NETWORK_PARAMS = ("module", "preset", "sfreq", "context", "context_model", "night_time")
#: Start of the warning for epochs whose network output is not a number.
_NAN_OUTPUT = "The network's output is not a number"
#: Epochs in 24 h: an array longer than this without recording ids is several nights.
_ONE_DAY_OF_EPOCHS = 2880
# Purposes of the seeds derived from random_state (independent streams).
_SEED_WEIGHTS, _SEED_EPOCH, _SEED_PAIRS, _SEED_SPLIT = range(4)
# Early stopping counts no miss before validation macro-F1 first passes this. Measured on the
# small protocol of benchmarks/generalise.py against min_score='chance' (the validation set's
# constant-prediction macro-F1 + 0.05, lower on most sets): 0.3 won by 0.052 +- 0.112, 6 of 8.
_MIN_VALID_MACRO_F1 = 0.3


def _uncompiled(module):
    """The module behind ``torch.compile`` (``compile=True``), so files load either way."""
    return getattr(module, "_orig_mod", module)


def _encoder_attribute(name, attribute, doc):
    """A fitted attribute read from the label encoder (AttributeError before fit)."""

    def get(clf):
        try:
            encoder = clf.label_encoder_
        except AttributeError:
            raise AttributeError(
                f"{type(clf).__name__} has no {name} before fit; call fit(X, y) first."
            ) from None
        return getattr(encoder, attribute)

    return property(get, doc=doc)


@fill_doc
class SSCSleepClassifier(NeuralNetClassifier):
    """SSC-SleepNet sleep stager: a skorch ``NeuralNetClassifier`` and scikit-learn estimator.

    ``fit(X, y)`` takes ``mne.Epochs`` (labels read from ``events`` when ``y`` is None) or
    arrays in volts, with labels as stage names (``'W', 'N1', 'N2', 'N3', 'R'`` or aliases such
    as ``'Sleep stage 4'``) or integer codes with a ``stage_map``. ``predict`` returns the
    user's own labels (``classes_``, in stage order W, N1, N2, N3, R).

    %(classifier_training)s

    Parameters
    ----------
    %(classifier_parameters)s

    Attributes
    ----------
    %(classifier_attributes)s

    Notes
    -----
    %(classifier_notes)s

    Examples
    --------
    >>> from mne_sscsleep.datasets import simulate_sleep_epochs
    >>> epochs, y, groups = simulate_sleep_epochs(2, hours=1, random_state=0, verbose="error")
    >>> clf = SSCSleepClassifier(preset="lite", max_epochs=1, random_state=0, verbose=0)
    >>> clf.fit(epochs, y).predict(epochs[:3]).shape
    (3,)
    >>> clf.save("model.sscsleep")  # doctest: +SKIP
    """

    def __init__(
        self,
        module=None,
        *,
        preset="paper",
        criterion=AdaptiveLoss,
        optimizer=None,
        lr=None,
        max_epochs=30,
        batch_size=64,
        iterator_train=PairLoader,
        iterator_valid=EpochLoader,
        train_split=RecordingSplit(0.1),  # noqa: B008
        augmentation="auto",
        predict_nonlinearity=stage_softmax,
        classes=None,
        stage_map=None,
        sfreq=DEFAULT_SFREQ,
        picks=None,
        resample=False,
        on_flat="raise",
        scaling="recording",
        pretrained="auto",
        patience="auto",
        context="auto",
        context_model="gru",
        night_time=False,
        distributed=False,
        amp=None,
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
            classes=classes,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.preset = preset
        self.augmentation = augmentation
        self.context = context
        self.context_model = context_model
        self.night_time = night_time
        self.distributed = distributed
        self.amp = amp
        self.stage_map = stage_map
        self.sfreq = sfreq
        self.picks = picks
        self.resample = resample
        self.on_flat = on_flat
        self.scaling = scaling
        self.pretrained = pretrained
        self.patience = patience
        self.random_state = random_state

    # ---- skorch hooks -------------------------------------------------------------------------
    def get_default_callbacks(self):
        # skorch's valid_acc compares indices with labels (ours score stage indices); our
        # print_log comes last.
        dropped = ("valid_acc", "print_log")
        kept = [item for item in super().get_default_callbacks() if item[0] not in dropped]
        return _default_callbacks(self, kept)

    def get_dataset(self, X, y=None, *, recording=None, stage_map=None, labelled=None):
        """Validate the input once and wrap it for skorch (the one input boundary).

        ``X``, ``y`` and ``recording`` are those of :meth:`fit`; a dataset this method made
        (or skorch's split of one) passes as it is. ``stage_map`` says what the labels mean
        (the classifier's, or its fitted one when training further); ``labelled`` whether the
        data are for training (None: when ``y`` is given). Returns an
        :class:`~mne_sscsleep._epochs.EpochsDataset` or a ``torch.utils.data.Subset`` of one.
        """
        if isinstance(X, torch.utils.data.Subset):
            resolve_dataset(X)  # skorch's validation split of a checked dataset
            return X
        labelled = y is not None if labelled is None else labelled
        options = dict(sfreq=self.sfreq, recording=recording)
        if isinstance(X, EpochsDataset):
            dataset = check_dataset(X, y, stage_map=stage_map, labelled=labelled, **options)
        else:
            options.update(picks=self.picks, resample=self.resample, on_flat=self.on_flat)
            if labelled:
                dataset = check_epochs_labels(X, y, stage_map=stage_map, **options)
            else:
                dataset = check_epochs(X, **options)
        if self._context() and recording is None and isinstance(X, np.ndarray):
            _warn_if_unordered(len(dataset), self._context())
        return dataset.normalised(self.scaling)

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X)
        split = self.train_split
        if split is None:
            return dataset, None
        if getattr(split, "random_state", 0) is None and self.random_state is not None:
            # The classifier's seed decides the split, the same in every process.
            split = copy.copy(split)
            split.random_state = _seed(self.random_state, _SEED_SPLIT)
        dataset_train, dataset_valid = split(dataset, y, **fit_params)
        if self.verbose and is_main_process():
            print(validation_note(dataset_train, dataset_valid))
        return dataset_train, dataset_valid

    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        # The preset fills defaults; explicit prefixed parameters win.
        preset = self._preset() if prefix in ("module", "criterion", "optimizer") else None
        if prefix == "module":
            if self.module is None:
                params = {**preset.network_params, **params}
            params.setdefault("sfreq", self.sfreq)
        elif prefix == "criterion" and self.criterion is AdaptiveLoss:
            params = {**preset.criterion_params, **params}
        elif prefix == "optimizer" and self.lr is None:
            finetune = preset.finetune_lr if getattr(self, "pretrained_", None) else None
            params.setdefault("lr", finetune or preset.lr)
        elif prefix in ("iterator_train", "iterator_valid"):
            params = _loader_params(self, prefix, params)
        return params

    def initialize_module(self):
        check_device(self.device)
        if self.random_state is not None:
            torch.manual_seed(_seed(self.random_state, _SEED_WEIGHTS))
        self.module_ = _build_network(self)
        self.pretrained_ = _start_from_pretrained(self)
        if self.pretrained_:
            self._log(
                f"Training starts from the network of {self.pretrained_['source']} "
                "(pretrained=None starts from random weights)."
            )
        preset = self._preset()
        augmentation = preset.augmentation if self.augmentation == "auto" else self.augmentation
        if augmentation is not None:
            # A module of the net's own: skorch moves it to the device and switches it between
            # training (augment) and evaluation (identity) with the network.
            self.augmentation_ = self.initialized_instance(
                augmentation, self.get_params_for("augmentation")
            )
        elif hasattr(self, "augmentation_"):
            del self.augmentation_
        return self

    def initialize_optimizer(self, triggered_directly=None):
        if self.optimizer is not None:
            return super().initialize_optimizer()
        args, kwargs = self.get_params_for_optimizer("optimizer", self.get_all_learnable_params())
        self.optimizer_ = self._preset().optimizer(*args, **kwargs)
        return self

    def torch_compile(self, module, name):
        # Only the network: the criterion's N1 weight changes every epoch (N1Adaptation), which
        # would make a compiled criterion recompile each time, and its cost is negligible.
        if name != "module":
            return module
        return super().torch_compile(module, name)

    def initialize_criterion(self):
        super().initialize_criterion()
        encoder = getattr(self, "label_encoder_", None)
        if encoder is not None and hasattr(self.criterion_, "set_class_counts"):
            self.criterion_.set_class_counts(encoder.counts_)
        return self

    def infer(self, x, **fit_params):
        fit_params.pop("groups", None)  # skorch hands fit's parameters on; groups are the split's
        augmentation = getattr(self, "augmentation_", None)
        if augmentation is not None and augmentation.training:
            x = to_tensor(x, device=self.device)
            if isinstance(x, dict):  # a context model's batch: epochs and their windows
                x = {**x, "x": augmentation(x["x"])}
            else:
                x = augmentation(x)
        if self.amp is None:
            return super().infer(x, **fit_params)
        # Mixed precision: the network in bfloat16 (no gradient scaling needed), the loss in
        # float32 (AdaptiveLoss casts the logits).
        with torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16):
            outputs = super().infer(x, **fit_params)
        if isinstance(outputs, tuple):
            return tuple(output.float() for output in outputs)
        return outputs.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        if isinstance(self.criterion_, AdaptiveLoss):
            # The pair iterator puts the two epochs of pair k in rows 2k and 2k + 1.
            paired = training and _is_subclass(self.iterator_train, PairLoader)
            return self.criterion_(y_pred, y_true, paired=paired)
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return self.criterion_(logits, y_true)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # A checkpoint's history must be in place before the other callbacks begin, so that
        # scores, early stopping and the N1 adaptation continue where it left off: load it here
        # (skorch calls the net's own hook first; LoadInitState then sees it has loaded).
        for _, callback in self.callbacks_:
            if isinstance(callback, LoadInitState):
                callback.on_train_begin(net, X=X, y=y, **kwargs)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        if self.random_state is not None:
            # Dropout and augmentation draw from a generator seeded per epoch: a training
            # resumed at epoch k draws what the uninterrupted one drew.
            torch.manual_seed(_seed(self.random_state, _SEED_EPOCH, len(self.history)))

    def check_is_fitted(self, attributes=None, *args, **kwargs):
        if attributes is None and not hasattr(self, "label_encoder_"):
            raise NotInitializedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) before predicting."
            )
        fitted = getattr(self, "fitted_params_", None)
        if attributes is None and fitted is not None:
            _check_unchanged(fitted, _network_params(self.get_params(deep=False)))
        return super().check_is_fitted(attributes, *args, **kwargs)

    # ---- scikit-learn API ---------------------------------------------------------------------
    @fill_doc
    def fit(self, X, y=None, *, recording=None, groups=None, **fit_params):  # noqa: D417
        """Train on labelled 30-s epochs (from scratch, unless ``warm_start``).

        Parameters
        ----------
        %(fit_X_y_recording)s
        groups : array-like, shape (n_epochs,) | None
            Groups of a grouped ``train_split`` (e.g. ``ValidSplit(GroupKFold(5))``).
        **fit_params
            Refused: the network takes nothing but the epochs (``sample_weight`` has no meaning
            here; class weights are the loss's ``criterion__class_weight``).

        Returns
        -------
        self : SSCSleepClassifier
            The fitted classifier.
        """
        _refuse_fit_params(fit_params)
        dataset = _TrainingData(_training_data(self, X, y, recording, encoder=None))
        if not self.warm_start:
            self.training_data_ = None  # recorded afresh by partial_fit
        split_params = {} if groups is None else {"groups": groups}
        return super().fit(dataset, None, **split_params)  # partial_fit reads y from the dataset

    def partial_fit(self, X, y=None, classes=None, *, recording=None, **fit_params):
        """Train further on labelled epochs, keeping the current weights.

        Parameters
        ----------
        X : mne.Epochs | list of mne.Epochs | ndarray
            EEG epochs, as for :meth:`fit`.
        y : array-like, shape (n_epochs,) | None
            Stage labels, as for :meth:`fit`.
        classes : array-like | None
            On the first call of an unfitted classifier, the labels to predict (as the
            ``classes`` parameter); later calls must name the same labels, or None.
        recording : array-like, shape (n_epochs,) | None
            The recording of each epoch, as for :meth:`fit`.
        **fit_params
            ``groups`` of a grouped ``train_split``, as for :meth:`fit`; nothing else.

        Returns
        -------
        self : SSCSleepClassifier
            The classifier.
        """
        # skorch's fit hands on its own _routing_method; groups are the split's.
        _refuse_fit_params(
            {k: v for k, v in fit_params.items() if k not in ("groups", "_routing_method")}
        )
        if isinstance(X, _TrainingData):  # from fit: checked and labels learned there
            dataset = X.dataset
        else:
            encoder = getattr(self, "label_encoder_", None)
            dataset = _training_data(self, X, y, recording, encoder=encoder, classes=classes)
        # fit() comes through here too (skorch's fit calls partial_fit), after a fresh start.
        self.training_data_ = training_record(dataset, getattr(self, "training_data_", None))
        if getattr(self, "pretrained_", None):
            self.training_data_["pretrained"] = self.pretrained_["source"]
        # What the weights being trained fit (check_is_fitted compares them).
        self.fitted_params_ = _network_params(self.get_params(deep=False))
        return super().partial_fit(dataset, dataset.y, **fit_params)

    @fill_doc
    def predict_proba(self, X, *, recording=None):  # noqa: D417 (fill_doc)
        """Stage probabilities of each epoch.

        %(predict_X_recording)s

        Returns
        -------
        proba : ndarray of float32, shape (n_epochs, n_classes)
            Columns follow ``classes_``: skorch's softmax over the five stages, renormalised
            over the stages the model knows. Rows of epochs for which the network's output is
            not a number (a damaged model, or input far outside what it was trained on) are NaN,
            with a warning.
        """
        self.check_is_fitted()
        dataset = self.get_dataset(X, recording=recording)
        _warn_if_other_channel(getattr(self, "ch_name_", None), dataset)
        outputs = super().predict_proba(dataset)
        return _stage_probabilities(outputs, self.label_encoder_.present_)

    @fill_doc
    def predict(self, X, *, recording=None):  # noqa: D417 (fill_doc)
        """Stage of each epoch, as the user's labels.

        %(predict_X_recording)s

        Returns
        -------
        y_pred : ndarray, shape (n_epochs,)
            Values from ``classes_``.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", _NAN_OUTPUT, RuntimeWarning)  # an error here
            proba = self.predict_proba(X, recording=recording)  # checks that it is fitted
        unknown = np.isnan(proba).any(axis=1)
        if unknown.any():
            raise ValueError(
                f"Cannot predict {np.count_nonzero(unknown)} of {len(proba)} epochs (epochs "
                f"{_first_positions(unknown)}): the network's output is not a number, so the "
                "model is probably damaged. Retrain it or copy its file again; "
                "mne_sscsleep.stage() leaves such epochs unscored ('?')."
            )
        return self.classes_[proba.argmax(axis=1)]

    def label_stages(self, labels):
        """Canonical stage index of each label, read as the model reads its training labels.

        Parameters
        ----------
        labels : array-like, shape (n_epochs,)
            Labels in the form given in training (or any stage name).

        Returns
        -------
        indices : ndarray of int64, shape (n_epochs,)
            Indices into :data:`~mne_sscsleep.STAGES`.
        """
        self.check_is_fitted()
        return self.label_encoder_.transform(labels)

    def save(self, fname, *, overwrite=False):
        """Save the fitted model to one file (weights, labels, sampling rate, channel, history).

        Components are stored by their names in :data:`mne_sscsleep.io.REGISTRY`; runtime
        settings (``device``, ``compile``, DataLoader workers) and user callbacks are not
        stored. The file is written to a temporary file and renamed into place.

        Parameters
        ----------
        fname : str | pathlib.Path
            Output file, conventionally ``*.sscsleep``.
        overwrite : bool
            Replace an existing model file (any other file is never replaced).

        Returns
        -------
        fname : pathlib.Path
            The file written.
        """
        self.check_is_fitted()
        return write_model(fname, **_model_payload(self), overwrite=overwrite)

    @classmethod
    def load(cls, fname, *, device="cpu"):
        """Load a model saved with :meth:`save`, checking that the file is sound and safe.

        The file is read with :func:`mne_sscsleep.io.read_model`: anything it names outside
        mne-sscsleep's registry is refused before anything is built, damaged weights are
        refused, and the weights must fit the network the file describes.

        Parameters
        ----------
        fname : str | pathlib.Path
            The model file.
        device : str
            ``'cpu'`` or ``'cuda'``.

        Returns
        -------
        clf : SSCSleepClassifier
            Fitted and ready to ``predict``, as an instance of ``cls`` (a subclass loads as
            itself).
        """
        return _restore(cls, read_model(fname), fname=fname, device=device)

    def check_device(self):
        """Check that ``device`` names a device this machine has, before any work.

        Raises
        ------
        ValueError
            Naming the device, what PyTorch sees and how to fix it (a CUDA build of PyTorch,
            or ``device='cpu'``).
        """
        check_device(self.device)

    def check_params(self):
        """Check every parameter against the classifier's table, as ``fit`` does first.

        Raises
        ------
        TypeError, ValueError
            Naming the parameter, what it must be and what it is.
        """
        check_params(self.get_params(deep=False), _PARAMETER_TABLE)
        _check_combinations(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False  # mne.Epochs carry their labels
        tags.classifier_tags.multi_class = True
        tags.non_deterministic = self.random_state is None
        return SleepStagerTags.from_tags(tags, NOT_APPLICABLE_CHECKS)

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        # skorch lists its private record of the names to validate as a parameter; setting it
        # (as scikit-learn's check_set_params does) would break set_params.
        params.pop("_params_to_validate", None)
        return params

    # ---- the fitted label encoder, seen as scikit-learn attributes ---------------------------
    classes_ = _encoder_attribute("classes_", "classes_", "The labels the model predicts.")
    stages_ = _encoder_attribute("stages_", "stages_", "The stage of each of ``classes_``.")
    class_counts_ = _encoder_attribute("class_counts_", "counts_", "Training epochs per stage.")
    stage_map_ = _encoder_attribute("stage_map_", "stage_map_", "Each training label's stage.")

    # ---- helpers ------------------------------------------------------------------------------
    def _preset(self):
        check_params({"amp": self.amp}, {"amp": _PARAMETER_TABLE["amp"]})
        return get_preset(self.preset)

    def _context(self):
        context = self._preset().context if self.context == "auto" else self.context
        check_params({"context": context}, {"context": _PARAMETER_TABLE["context"]})
        return int(context)

    def _log(self, text):
        """skorch's per-epoch log: printed when verbose, by the main process."""
        if self.verbose and is_main_process():
            print_line(text)


class _TrainingData:
    """A dataset ``fit`` checked and learned the labels of, handed on to ``partial_fit``."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)


#: What each parameter may be (checked once, at the start of fit; see check_params).
_PARAMETER_TABLE = {
    "lr": Rule(
        Options(None),
        Interval(0, open=True),
        wanted="a positive learning rate (e.g. 1e-3) or None for the preset's",
        type_error=True,
    ),
    "random_state": Rule(
        Options(None), Interval(integer=True), wanted="an int or None", type_error=True
    ),
    "amp": Rule(Options(None, "bf16"), wanted="None or 'bf16'"),
    "context": Rule(
        Options("auto"),
        Interval(0, integer=True),
        wanted="'auto' or a non-negative integer (epochs on each side)",
    ),
    "context_model": Rule(
        Options(*CONTEXT_MODELS), wanted=f"one of {', '.join(map(repr, CONTEXT_MODELS))}"
    ),
    "scaling": Rule(
        Options(None, "recording", "spectrum"), wanted="None, 'recording' or 'spectrum'"
    ),
    "patience": Rule(
        Options("auto", None), Interval(0, integer=True), wanted="'auto', None or an int >= 0"
    ),
    "night_time": Rule(Options(False, True), wanted="True or False"),
}
_COUNT_RULES = {
    "max_epochs": Rule(Interval(1, integer=True), wanted="a whole number of at least 1"),
    "batch_size": Rule(
        Interval(1, integer=True),
        wanted="a whole number of at least 1 (-1 means one batch of all epochs)",
    ),
}
_VALID_METRICS = (
    ("acc", stage_accuracy_score),
    ("macro_f1", macro_f1_score),
    ("n1_f1", n1_f1_score),
)
_CPU_ADVICE = (
    "The paper's network is slow on a CPU: preset='lite' trains about 90 times faster there "
    "(--preset lite), and device='cuda' (--device cuda) runs the paper's on a GPU."
)


def _check_combinations(clf):
    """Parameters that depend on each other, the preset and this machine."""
    if not (isinstance(clf.batch_size, int) and clf.batch_size == -1):  # -1: all at once
        check_params({"batch_size": clf.batch_size}, _COUNT_RULES)
    if not (clf.max_epochs == 0 and _resumes(clf.callbacks)):  # a checkpoint holds every pass
        check_params({"max_epochs": clf.max_epochs}, _COUNT_RULES)
    get_preset(clf.preset)
    clf._context()
    check_device(clf.device)
    if clf.night_time and not clf._context():
        raise ValueError(
            "night_time=True feeds the time of night to the context model; it needs "
            "context >= 1 (e.g. context=5)."
        )
    if clf.distributed:
        if clf.random_state is None:
            raise ValueError(
                "distributed=True needs an int random_state, the same in every process, so "
                "that all processes hold out the same validation recordings."
            )
        if not _is_subclass(clf.iterator_train, PairLoader):
            name = getattr(clf.iterator_train, "__name__", clf.iterator_train)
            raise ValueError(
                "distributed=True shards the training pairs of PairLoader; got "
                f"iterator_train={name!r}."
            )
        process_group(clf.device)


def _stage_probabilities(outputs, present):
    """Probabilities over the ``present`` stages (NaN rows, with a warning, where not finite)."""
    finite = np.isfinite(outputs).all(axis=1)
    valid = outputs[finite]
    if valid.size and (valid.min() < -1e-4 or not np.allclose(valid.sum(axis=1), 1.0, atol=1e-3)):
        raise ValueError(
            "predict_nonlinearity does not turn the network's outputs into probabilities "
            "(rows are negative or do not sum to 1); use the default, "
            "mne_sscsleep.nn.stage_softmax."
        )
    proba = outputs[:, present]
    with np.errstate(invalid="ignore", divide="ignore"):
        proba = proba / proba.sum(axis=1, keepdims=True)
    if not finite.all():
        proba[~finite] = np.nan
        warnings.warn(
            f"{_NAN_OUTPUT} for {np.count_nonzero(~finite)} of {len(finite)} epochs (epochs "
            f"{_first_positions(~finite)}); their probabilities are NaN. The model is probably "
            "damaged (retrain it, or copy its file again).",
            RuntimeWarning,
            stacklevel=3,
        )
    return proba


def _valid_scorer(metric):
    # skorch's scoring callbacks pass stage indices: scored against the most probable stage.
    return StageScorer(metric, targets="stages")


def _warn_if_unordered(n_epochs, context):
    """Arrays of several nights without recording ids would mix them at the junctions."""
    if n_epochs > _ONE_DAY_OF_EPOCHS:
        warnings.warn(
            f"context={context}: the array holds {n_epochs} epochs (more than 24 h) but no "
            "recording ids, so it is read as one recording in row order and neighbours may "
            "cross from one night into the next. Pass recording=... (one id per epoch) or "
            "mne.Epochs with a 'recording' metadata column.",
            RuntimeWarning,
            stacklevel=5,
        )


def _on_cpu(device):
    try:
        return torch.device(device).type == "cpu"
    except (RuntimeError, TypeError):
        return False


def _first_positions(mask, limit=5):
    positions = np.flatnonzero(mask)
    shown = ", ".join(map(str, positions[:limit].tolist()))
    return shown + (", ..." if len(positions) > limit else "")


def _refuse_fit_params(fit_params):
    """fit and partial_fit take no per-epoch arguments: say so in our words."""
    if not fit_params:
        return
    names = ", ".join(sorted(fit_params))
    hint = (
        " SSCSleepClassifier does not weight epochs one by one: class weights come from the "
        "loss (criterion__class_weight=...) and the N1 penalty from callbacks__n1_adaptation__*."
        if "sample_weight" in fit_params
        else ""
    )
    raise TypeError(
        f"fit got {names}, which it does not take: it takes X, y, recording= (for context "
        f"models) and groups= (for a grouped train_split).{hint}"
    )


def _is_subclass(component, parent):
    return isinstance(component, type) and issubclass(component, parent)


def _model_payload(clf):
    """What a model file stores of a fitted classifier (see ``io.write_model``)."""
    defaults = {name for name, _ in clf.get_default_callbacks()}
    params = {
        name: value
        for name, value in clf.get_params(deep=False).items()
        if (not name.startswith("callbacks__") or name.split("__")[1] in defaults)
        and name != "stage_map"  # stored whole, as the fitted stage_map_
    }
    params["context"] = clf._context()  # the network's, not a preset's default of the day
    encoder = clf.label_encoder_
    return dict(
        params=params,
        module_state=_uncompiled(clf.module_).state_dict(),
        criterion_state=_uncompiled(clf.criterion_).state_dict(),
        classes=encoder.classes_,
        stages=encoder.stages_,
        class_counts=encoder.counts_,
        ch_name=clf.ch_name_,
        sfreq=clf.sfreq,
        history=clf.history.to_list(),
        stage_map=encoder.stage_map_,
        training_data=getattr(clf, "training_data_", None),
    )


def _restore(cls, model, *, fname, device):
    """A fitted ``cls`` from a model file's validated content (:func:`io.read_model`)."""
    try:
        clf = cls(**model.params, pretrained=None, device=device)  # its weights are its own
        clf.label_encoder_ = StageEncoder.from_fitted(
            model.classes, model.stages, model.class_counts, model.stage_map
        )
        clf.ch_name_ = model.ch_name
        clf.training_data_ = dict(model.training_data)
        check_state_shapes(
            lambda: _build_network(clf), model.module_state, what="module", fname=fname
        )
        check_state_shapes(
            lambda: clf.initialized_instance(clf.criterion, clf.get_params_for("criterion")),
            model.criterion_state,
            what="criterion",
            fname=fname,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # skorch's re-init messages
            clf.initialize()
        _uncompiled(clf.module_).load_state_dict(model.module_state)
        _uncompiled(clf.criterion_).load_state_dict(model.criterion_state)
        clf.fitted_params_ = _network_params(clf.get_params(deep=False))
    except (TypeError, ValueError, RuntimeError) as error:
        if str(error).startswith("Refusing to load"):
            raise
        raise ValueError(
            f"Refusing to load {str(fname)!r}: its parameters or weights do not fit this "
            f"version's {cls.__name__} ({str(error).splitlines()[0][:300]})."
        ) from None
    clf.history = History(model.history)
    return clf


def _default_callbacks(clf, callbacks):
    """skorch's defaults (but ``valid_acc`` and ``print_log``), then the classifier's own."""
    callbacks = list(callbacks)
    callbacks += [
        (f"valid_{name}", EpochScoring(_valid_scorer(metric), False, name=f"valid_{name}"))
        for name, metric in _VALID_METRICS
    ]
    callbacks += [(name, make()) for name, make in clf._preset().callbacks.items()]
    main = is_main_process()
    if clf.distributed:
        callbacks.append(("distributed_sync", DistributedSync()))
    if clf.verbose and (clf.verbose > 1 or is_interactive(sys.stderr)) and main:
        callbacks.append(("progress_bar", ProgressBar(postfix_keys=["train_loss"])))
    if clf.verbose and clf.preset == "paper" and _on_cpu(clf.device) and main:
        # The paper's network is ~100x the lite one's work: say early what a fit will cost.
        callbacks.append(("pass_time", PassTimeEstimate(advice=_CPU_ADVICE, sink=clf._log)))
    # The log prints each pass's row before early stopping may end training after it.
    callbacks.append(("print_log", PrintLog(sink=clf._log)))
    patience = clf._preset().patience if clf.patience == "auto" else clf.patience
    if patience and clf.train_split is not None:
        stopping = EarlyStopping(
            monitor="valid_macro_f1",
            lower_is_better=False,
            patience=patience,
            load_best=True,
            min_score=_MIN_VALID_MACRO_F1,
        )
        callbacks.append(("early_stopping", stopping))
    return callbacks


def _check_unchanged(fitted, current):
    """Refuse a fitted network whose parameters changed since (set_params after fit)."""
    changed = sorted(
        name
        for name in set(fitted) | set(current)
        if repr(fitted.get(name)) != repr(current.get(name))
    )
    if changed:
        shown = ", ".join(
            f"{name} {fitted.get(name)!r} -> {current.get(name)!r}" for name in changed
        )
        raise NotInitializedError(
            f"The network's parameters changed since it was fitted ({shown}): the fitted "
            "weights belong to the old network, so this model cannot predict or be saved. Set "
            "them back with set_params, or fit again."
        )


def _network_params(params):
    """The parameters the fitted network and its inputs follow (see ``check_is_fitted``)."""
    return {
        name: value
        for name, value in params.items()
        if name in _NETWORK_PARAMS or name.startswith("module__")
    }


def _resumes(callbacks):
    """Whether training starts from a checkpoint (a ``LoadInitState`` callback)."""
    callbacks = [item[1] if isinstance(item, tuple) else item for item in callbacks or []]
    return any(isinstance(callback, LoadInitState) for callback in callbacks)


def _warn_if_other_channel(trained_on, dataset):
    ch_name = resolve_dataset(dataset)[0].ch_name
    if trained_on and ch_name and ch_name != trained_on:
        warnings.warn(
            f"The model was trained on channel {trained_on!r} but is given {ch_name!r}. "
            "Predictions are only reliable for the same derivation.",
            RuntimeWarning,
            stacklevel=4,
        )


def _start_from_pretrained(clf):
    """Load the starting point of ``pretrained=`` into the fresh network; what was loaded."""
    pretrained = clf.pretrained
    if pretrained == "auto":
        # The preset's own starting point, for the preset's own network only.
        pretrained = clf._preset().pretrained
        tuned = [name for name in clf.get_params(deep=False) if name.startswith("module__")]
        if pretrained is None or clf.module is not None or tuned:
            return None
        if _shipped(pretrained).sfreq != clf.sfreq:
            return None
    if pretrained is None:
        return None
    model, name = _read_pretrained(pretrained)
    return load_pretrained(clf.module_, model, name=name, sfreq=clf.sfreq, context=clf._context())


@functools.cache
def _shipped(name):
    """A starting point that ships with the package, read and validated once per process."""
    return read_model(starting_point(name))


def _read_pretrained(pretrained):
    """The model file of ``pretrained=`` (a path or a shipped starting point) and its name."""
    if isinstance(pretrained, str) and pretrained in STARTING_POINTS:
        return _shipped(pretrained), pretrained
    if not isinstance(pretrained, (str, os.PathLike)):
        raise TypeError(
            f"pretrained must be 'auto', None, the name of a shipped starting point "
            f"({', '.join(map(repr, STARTING_POINTS))}) or the path of a model file, got "
            f"{type(pretrained).__name__}."
        )
    path = Path(pretrained).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"pretrained={str(pretrained)!r} is not a file; give the path of a model file saved "
            f"by SSCSleepClassifier.save, or the name of a shipped starting point "
            f"({', '.join(map(repr, STARTING_POINTS))})."
        )
    return read_model(path), str(pretrained)


def _loader_params(clf, prefix, params):
    """The classifier's defaults for its loaders (seeded pairs, shards, context windows)."""
    if prefix == "iterator_train" and _is_subclass(clf.iterator_train, PairLoader):
        if clf.random_state is not None:
            params.setdefault("random_state", _seed(clf.random_state, _SEED_PAIRS))
        params.setdefault("start_pass", len(clf.history) if clf.history else 0)
        params.setdefault("min_batches", clf._preset().min_batches)
        if clf.distributed:
            rank, world_size = process_group(clf.device)
            params.setdefault("rank", rank)
            params.setdefault("world_size", world_size)
    elif prefix == "iterator_valid" and clf.batch_size != -1:
        # As many epochs as a training batch holds: ~10 % faster on CPU than batch_size.
        params.setdefault("batch_size", 2 * clf.batch_size)
    context = clf._context()
    if context:
        iterator = getattr(clf, prefix)
        if not _is_subclass(iterator, (PairLoader, EpochLoader)):
            raise ValueError(
                f"context={context} needs mne-sscsleep's loaders (PairLoader, EpochLoader), "
                f"which read each epoch's neighbours; got {prefix}="
                f"{getattr(iterator, '__name__', iterator)!r}."
            )
        params["context"] = context
    return params


def _training_data(clf, X, y, recording, *, encoder, classes=None):
    """Check labelled input once and learn (``encoder`` None) or check its labels."""
    clf.check_params()
    reader = StageEncoder(clf.classes if classes is None else classes, clf.stage_map)
    dataset = clf.get_dataset(
        X, y, recording=recording, stage_map=reader.reading_map(encoder), labelled=True
    )
    if encoder is not None:
        _warn_if_other_channel(getattr(clf, "ch_name_", None), dataset)
    check_training_size(clf.train_split, dataset.y, dataset.recording, first=encoder is None)
    if encoder is None:
        clf.label_encoder_ = reader.fit(dataset.labels, dataset.y, stage_map=dataset.stage_map)
        clf.label_encoder_.missing_warning(stacklevel=3)
        clf.ch_name_ = dataset.ch_name
    else:
        encoder.check_more(dataset.y, classes)
    return dataset


def _build_network(clf):
    """The per-epoch network (the preset's or ``module``), wrapped when ``context > 0``."""
    module = clf.module if clf.module is not None else clf._preset().network
    network = clf.initialized_instance(module, clf.get_params_for("module"))
    context = clf._context()
    if not context:
        return network
    return ContextNet(network, context, model=clf.context_model, night_time=bool(clf.night_time))


def _seed(random_state, *key):
    """A seed of its own for each purpose (``key``), derived from ``random_state``."""
    sequence = np.random.SeedSequence(int(random_state), spawn_key=key)
    return int(sequence.generate_state(1)[0])
