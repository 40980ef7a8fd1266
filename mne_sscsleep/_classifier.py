"""SSCSleepClassifier: SSC-SleepNet as a skorch / scikit-learn classifier.

Data flow: user object -> :func:`~mne_sscsleep.check_epochs` (in skorch's ``get_dataset`` hook,
or in ``partial_fit`` for labelled training data) -> skorch's fit loop -> pair loader, network,
augmentation and loss -> probabilities over the stages the model knows -> the user's labels.
"""

from __future__ import annotations

import copy
import datetime
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring, LoadInitState, PrintLog, ProgressBar
from skorch.dataset import ValidSplit
from skorch.exceptions import NotInitializedError
from skorch.history import History
from skorch.utils import to_tensor

from ._epochs import EpochsDataset, check_epochs, check_epochs_labels, recording_scales
from ._stages import (
    DEFAULT_SFREQ,
    N_STAGES,
    STAGES,
    _map_key,
    check_stage_map,
    stage_indices,
)
from ._tags import NOT_APPLICABLE_CHECKS, SleepStagerTags
from .io import read_model, write_model
from .metrics import macro_f1_score, n1_f1_score, stage_accuracy_score
from .nn import AdaptiveLoss, ContextNet, stage_softmax
from .nn._context import CONTEXT_MODELS
from .training import (
    DistributedSync,
    EarlyStopping,
    EpochLoader,
    PairLoader,
    PassTimeEstimate,
    RecordingSplit,
    get_preset,
    is_main_process,
    load_pretrained,
    process_group,
    resolve_dataset,
)

#: Fewest training epochs accepted: enough for a validation split and a few batches.
MIN_TRAINING_EPOCHS = 20
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


class SSCSleepClassifier(NeuralNetClassifier):
    """SSC-SleepNet sleep stager: a skorch ``NeuralNetClassifier`` and scikit-learn estimator.

    ``fit(X, y)`` takes ``mne.Epochs`` (labels read from ``events`` when ``y`` is None) or
    arrays in volts, with labels as stage names (``'W', 'N1', 'N2', 'N3', 'R'`` or aliases such
    as ``'Sleep stage 4'``) or integer codes with a ``stage_map``. ``predict`` returns the
    user's own labels (``classes_``, in stage order W, N1, N2, N3, R).

    Every input passes :func:`~mne_sscsleep.check_epochs` in skorch's ``get_dataset`` hook, so
    ``fit``, ``partial_fit``, ``predict_proba``, ``forward``, ``score`` and scoring callbacks
    all apply the same checks; a :class:`~mne_sscsleep._epochs.EpochsDataset` from
    :func:`~mne_sscsleep.check_epochs` is taken as it is.

    Training feeds pairs of epochs (:class:`PairLoader`) to a pseudo-Siamese network under
    :class:`AdaptiveLoss`. A **preset** fills the defaults of the network, the loss, its
    adaptation, the optimiser and the learning-rate schedule:

    - ``'paper'`` (default): SSC-SleepNet as Lin et al. (2025) specify it
      (:class:`SSCSleepNet`, 4.4 M parameters); the loss ``(1 - lam) WCE + lam FL + CL`` with
      the paper's step schedule for ``alpha``, ``gamma`` and ``lam``
      (:class:`~mne_sscsleep.training.LossSchedule`); Adam with ReduceLROnPlateau
      (:class:`~mne_sscsleep.training.LRPlateau`); no augmentation. Choices where the paper is
      silent are listed in the user guide.
    - ``'lite'``: this package's fast CPU design (:class:`~mne_sscsleep.nn.SSCSleepNetLite`,
      132 k parameters, ~130 times fewer multiply-adds; a fixed loss mix with the adaptive N1
      penalty of :class:`N1Adaptation`; AdamW; gain and time-stretch augmentation).

    Any explicit ``module``, ``module__*``, ``criterion__*``, ``callbacks__*``,
    ``optimizer``, ``optimizer__*``, ``lr`` or ``augmentation`` wins over the preset. 10 % of
    the training recordings (at least one; of the epochs, stratified, with fewer than three
    recordings) are held out to monitor macro-F1, stop early and restore the best epoch.

    Parameters
    ----------
    module : type of torch.nn.Module | None
        The network (None: the preset's); its arguments are ``module__*`` parameters
        (``sfreq`` is filled in).
    preset : ``'paper'`` | ``'lite'``
        Defaults of network, loss, schedule and optimiser (see above).
    criterion : type of torch.nn.Module
        The loss; arguments as ``criterion__*`` (e.g. ``criterion__gamma``); the preset fills
        those of :class:`AdaptiveLoss`.
    optimizer : type of torch.optim.Optimizer | None
        None: the preset's (Adam for ``'paper'``, AdamW for ``'lite'``). Arguments as
        ``optimizer__*`` (e.g. ``optimizer__weight_decay``).
    lr : float | None
        Learning rate (None: the preset's, 1e-3 for ``'paper'`` and 2e-3 for ``'lite'``).
    max_epochs : int
        Maximum number of training epochs (passes over the data).
    batch_size : int
        Pairs per training batch (``2 * batch_size`` EEG epochs); prediction batches hold
        ``2 * batch_size`` epochs too (``iterator_valid__batch_size`` overrides).
    iterator_train, iterator_valid : type
        Batch iterators (``DataLoader`` subclasses); ``iterator_train__same_stage``,
        ``iterator_train__n1_share`` set the pair shares, ``iterator_train__num_workers`` etc.
        go to the ``DataLoader``.
    train_split : callable | None
        The validation split: :class:`~mne_sscsleep.training.RecordingSplit` (whole recordings
        held out) or any skorch ``train_split`` (``ValidSplit``, ``predefined_split``); None
        trains on everything (no early stopping). A split without a ``random_state`` of its own
        draws from the classifier's ``random_state``.
    augmentation : ``'auto'`` | type of torch.nn.Module | None
        Training-time augmentation of each batch, on the model's device (arguments as
        ``augmentation__gain_jitter``, ``augmentation__time_stretch``). ``'auto'``: the
        preset's (none for ``'paper'``, :class:`~mne_sscsleep.nn.Augmentation` for
        ``'lite'``); None: none.
    predict_nonlinearity : callable
        Turns the network's logits into probabilities (a softmax over stages).
    classes : array-like | None
        The labels the model predicts, one per stage (e.g. ``['W', 'N1', 'N2', 'N3', 'R']``).
        None: the stages seen in training. Declaring them lets ``partial_fit`` learn from
        batches that miss a stage, and keeps ``predict_proba``'s columns fixed.
    stage_map : dict | None
        What your labels mean, ``{label: stage}`` (e.g. ``{1: 'W', 2: 'N1', 3: 'N2',
        4: 'N3', 5: 'R'}``). Needed for integer labels, which are never guessed (0..4 is W..R
        in one convention and N1..W in scikit-learn's ``LabelEncoder``); not needed for stage
        names, for ``mne.Epochs`` with ``y=None`` (labels are the ``event_id`` names) or with
        ``y=epochs.events[:, 2]`` (codes read through ``epochs.event_id``).
    sfreq : float
        Sampling rate of the model in Hz; input epochs are 30 s long.
    picks : str | int | None
        Channel to use when the input has several (None: the only one, or the only EEG one).
    resample : bool
        Resample ``mne.Epochs`` at another rate to ``sfreq`` instead of raising an error.
    on_flat : ``'raise'`` | ``'warn'`` | ``'ignore'``
        What to do with flat epochs (peak-to-peak below 0.1 uV: an electrode off or a
        zero-filled gap) in ``fit`` and ``predict``: an error (default), a warning, or
        nothing. :func:`~mne_sscsleep.stage` leaves such epochs unscored instead.
    scaling : ``'recording'`` | None
        ``'recording'`` (default): divide each recording by its own typical amplitude (the
        median over its epochs of their standard deviation) as batches are read, so that a
        person's or an amplifier's gain does not shift what the model sees (see
        :func:`~mne_sscsleep._epochs.recording_scales`); the same in ``fit``, ``predict`` and
        :func:`~mne_sscsleep.stage`. Recordings come from ``recording=``, the Epochs'
        metadata, or one per array: predict a whole recording at once, not a few of its epochs.
        None: each epoch as recorded (the network still standardises each epoch on its own).
    pretrained : None | str | pathlib.Path
        Fine-tuning: start training from the network of a model file (one trained elsewhere,
        with the same preset and ``module__*`` settings) instead of random weights. A
        single-epoch model fills the per-epoch network of a ``context`` model, whose sequence
        model starts fresh. Recorded in ``training_data_``, not stored as a parameter.
    patience : ``'auto'`` | int | None
        Early-stopping patience in epochs (on validation macro-F1); None disables it.
        ``'auto'``: the preset's, 10 for ``'paper'`` (its loss schedule starts slowly: the
        network often predicts one stage for the first few epochs) and 5 for ``'lite'``.
    context : ``'auto'`` | int
        Neighbouring epochs on each side that each epoch is classified with. ``'auto'``: the
        preset's, 2 for ``'lite'`` (chosen by measurement on people, labs and small sets the
        model never trained on; see the user guide) and 0 for ``'paper'`` (the paper's
        single-epoch model). With ``context=k``, the per-epoch network's
        features of the ``k`` epochs before and after feed a small sequence model
        (:class:`~mne_sscsleep.nn.ContextNet`), trained end to end with the pairs and loss.
        Order and recordings come from ``mne.Epochs`` (event samples; metadata column
        ``'recording'``, else ``'subject'``) or from ``recording=`` for arrays; recording
        edges and gaps are masked, never filled from another recording.
    context_model : ``'gru'`` | ``'transformer'``
        The sequence model of ``context > 0``: a bidirectional GRU (default; chosen by
        measurement, see the user guide) or a one-layer transformer encoder.
    night_time : bool
        With ``context > 0``, also give the sequence model each epoch's time of night (hours
        since the recording began and share of the night, as YASA's stager does). Off by
        default: it assumes whole recordings from lights off to lights on.
    distributed : bool
        Data-parallel training over several processes (GPUs or nodes), each started by a
        launcher (``torchrun --nproc_per_node N script.py``, ``accelerate launch``, or
        ``srun`` running ``torchrun``) with the same script and ``random_state``. Each
        process trains on its own shard of the recordings; gradients are averaged every step
        (:class:`~mne_sscsleep.training.DistributedSync`, torch.distributed: gloo on CPUs,
        NCCL on GPUs), so all processes end with the same weights. Only rank 0 prints. Set
        ``device=f"cuda:{local_rank}"`` on GPUs. See the user guide's "Scaling out".
    amp : None | ``'bf16'``
        Mixed precision: ``'bf16'`` runs the network under :func:`torch.autocast` in bfloat16
        (the loss stays in float32; no gradient scaling is needed). Meant for CUDA GPUs with
        bfloat16 (Ampere and newer); on a CPU it works but is rarely faster.
    random_state : int | None
        Seeds the weights, the validation split, the pair draws and, at the start of each
        epoch, torch's generator (dropout, augmentation): the same seed gives the same
        predictions on CPU, and a training resumed from a checkpoint continues as the
        uninterrupted one would. Note: seeding sets torch's global random state.
    device : str
        ``'cpu'`` or ``'cuda'`` (``'cuda:1'``, ...); checked when training starts.
    verbose : int
        0: silent; 1: one line per training epoch with a progress bar inside each epoch
        (when the output is a terminal or a notebook, and no ANSI colours when it is not).
    **kwargs
        Other skorch parameters (``callbacks``, ``warm_start``, prefixed parameters, ...).
        ``compile=True`` runs the network under ``torch.compile`` (arguments as
        ``compile__*``): on a 2-core CPU the first batch then takes ~70 s of code generation
        and later training steps are ~15 % faster, so it pays off only for long fits. Saved
        files hold plain weights either way.

    Attributes
    ----------
    classes_ : ndarray
        The user's labels of the stages the model predicts, in stage order: the labels given
        in training, one per stage (training labels that name one stage in several ways, such
        as ``'Sleep stage 3'`` and ``'Sleep stage 4'``, need ``classes`` to say which one to
        predict).
    stage_map_ : dict
        Every training label (and every entry of ``stage_map`` or of the event codes read)
        to its canonical stage; scorers use it to read labels as the model does.
    stages_ : tuple of str
        The canonical stages behind ``classes_``.
    class_counts_ : ndarray of int, shape (5,)
        Training epochs per stage (W, N1, N2, N3, R).
    ch_name_ : str | None
        Channel the model was trained on (None for arrays).
    history : skorch.History
        Per-epoch losses, ``valid_acc``, ``valid_macro_f1``, ``valid_n1_f1``, ``n1_error`` and
        ``n1_weight``.

    Notes
    -----
    Scoring callbacks receive the canonical stage indices (0..4) as ``y`` and the user's labels
    from ``predict``: use the scorers of :mod:`mne_sscsleep.metrics`, which accept any stage
    spelling, rather than scikit-learn's string scorers when labels are names.

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
        pretrained=None,
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
        # The scoring callbacks compare skorch's targets (stage indices) with predict (the
        # user's labels): SCORERS compare stages, whatever the spelling.
        callbacks = [
            (name, callback)
            for name, callback in super().get_default_callbacks()
            if name != "valid_acc"
        ]
        extra = [
            (f"valid_{name}", EpochScoring(_ValidScorer(metric), False, name=f"valid_{name}"))
            for name, metric in (
                ("acc", stage_accuracy_score),
                ("macro_f1", macro_f1_score),
                ("n1_f1", n1_f1_score),
            )
        ]
        extra += [(name, make()) for name, make in self._preset().callbacks.items()]
        if self.distributed:
            extra.append(("distributed_sync", DistributedSync()))
        if self.verbose and (self.verbose > 1 or _interactive(sys.stderr)) and is_main_process():
            extra.append(("progress_bar", ProgressBar(postfix_keys=["train_loss"])))
        if self.verbose and self.preset == "paper" and _on_cpu(self.device) and is_main_process():
            # The paper's network is ~100x the lite one's work: say early what a fit will cost.
            extra.append(("pass_time", PassTimeEstimate(advice=_CPU_ADVICE, sink=self._log_line)))
        # The log prints each pass's row before early stopping may end training after it.
        extra.append(("print_log", PrintLog(sink=self._log_line)))
        patience = self._patience()
        if patience and self.train_split is not None:
            extra.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_macro_f1",
                        lower_is_better=False,
                        patience=patience,
                        load_best=True,
                        min_score=_MIN_VALID_MACRO_F1,
                    ),
                )
            )
        return callbacks[:-1] + extra  # skorch's print_log replaced by ours

    def get_dataset(self, X, y=None, *, recording=None):
        """Validate the input once and wrap it for skorch (the one input boundary).

        Parameters
        ----------
        X : mne.Epochs | list of mne.Epochs | ndarray | EpochsDataset
            EEG epochs (see :func:`~mne_sscsleep.check_epochs`); a dataset made by
            :func:`~mne_sscsleep.check_epochs` (or skorch's split of one) passes as it is.
        y : array-like | None
            Stage labels, when the data are for training.
        recording : array-like | None
            The recording of each epoch (see :meth:`fit`).

        Returns
        -------
        dataset : EpochsDataset | torch.utils.data.Subset
            The validated data.
        """
        if isinstance(X, torch.utils.data.Subset):
            resolve_dataset(X)  # skorch's validation split of a checked dataset
            return X
        if isinstance(X, EpochsDataset):
            if recording is not None:
                raise ValueError(
                    "recording= cannot be combined with a checked dataset, which has its "
                    "recordings already; pass them to check_epochs(X, recording=...)."
                )
            if not np.isclose(X.sfreq, self.sfreq):
                raise ValueError(
                    f"The dataset was checked at {X.sfreq:g} Hz but the model works at "
                    f"{self.sfreq:g} Hz; check it again with "
                    f"check_epochs(X, sfreq={self.sfreq:g})."
                )
            dataset = X
        elif y is None:
            dataset = check_epochs(X, recording=recording, **self._input_options())
        else:
            dataset = check_epochs_labels(X, y, recording=recording, **self._input_options())
        self._warn_if_other_channel(dataset)
        self._warn_if_unordered(X, dataset, recording)
        if self.scaling == "recording" and dataset.scale is None:
            dataset = dataset.scaled(recording_scales(dataset))
        return dataset

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X, y)
        split = self.train_split
        if split is None:
            return dataset, None
        if getattr(split, "random_state", 0) is None and self.random_state is not None:
            # The classifier's seed decides the split, the same in every process.
            split = copy.copy(split)
            split.random_state = self._seed(_SEED_SPLIT)
        dataset_train, dataset_valid = split(dataset, y, **fit_params)
        if self.verbose and is_main_process():
            print(_validation_note(dataset_train, dataset_valid))
        return dataset_train, dataset_valid

    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        # The preset fills defaults; explicit prefixed parameters win.
        preset = self._preset() if prefix in self._PRESET_PREFIXES else None
        if prefix == "module":
            if self.module is None:
                params = {**preset.network_params, **params}
            params.setdefault("sfreq", self.sfreq)
        elif prefix == "criterion" and self.criterion is AdaptiveLoss:
            params = {**preset.criterion_params, **params}
        elif prefix == "optimizer" and self.lr is None:
            params.setdefault("lr", preset.lr)
        elif prefix == "iterator_train" and _is_subclass(self.iterator_train, PairLoader):
            if self.random_state is not None:
                params.setdefault("random_state", self._seed(_SEED_PAIRS))
            params.setdefault("start_pass", len(self.history) if self.history else 0)
            params.setdefault("min_batches", self._preset().min_batches)
            if self.distributed:
                rank, world_size = process_group(self.device)
                params.setdefault("rank", rank)
                params.setdefault("world_size", world_size)
        elif prefix == "iterator_valid" and self.batch_size != -1:
            # As many epochs as a training batch holds: ~10 % faster on CPU than batch_size.
            params.setdefault("batch_size", 2 * self.batch_size)
        if prefix in ("iterator_train", "iterator_valid") and self._context():
            iterator = getattr(self, prefix)
            if not _is_subclass(iterator, (PairLoader, EpochLoader)):
                raise ValueError(
                    f"context={self._context()} needs mne-sscsleep's loaders (PairLoader, "
                    f"EpochLoader), which read each epoch's neighbours; got {prefix}="
                    f"{getattr(iterator, '__name__', iterator)!r}."
                )
            params["context"] = self._context()
        return params

    def initialize_module(self):
        self.check_device()
        if self.random_state is not None:
            torch.manual_seed(self._seed(_SEED_WEIGHTS))
        self.module_ = self._build_network()
        if self.pretrained is not None:
            path = Path(self.pretrained).expanduser()
            if not path.is_file():
                raise FileNotFoundError(
                    f"pretrained={str(self.pretrained)!r} is not a file; give the path of a "
                    "model file saved by SSCSleepClassifier.save."
                )
            self.pretrained_ = load_pretrained(
                self.module_,
                read_model(path),
                name=path.name,
                sfreq=self.sfreq,
                context=self._context(),
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
        counts = getattr(self, "class_counts_", None)
        if counts is not None and hasattr(self.criterion_, "set_class_counts"):
            self.criterion_.set_class_counts(counts)
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
            torch.manual_seed(self._seed(_SEED_EPOCH, len(self.history)))

    def check_is_fitted(self, attributes=None, *args, **kwargs):
        if attributes is None and not hasattr(self, "classes_user_"):
            raise NotInitializedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) before predicting."
            )
        fitted = getattr(self, "fitted_params_", None)
        if attributes is None and fitted is not None:
            current = self._network_params()
            changed = sorted(
                name
                for name in set(fitted) | set(current)
                if not _same_value(fitted.get(name), current.get(name))
            )
            if changed:
                shown = ", ".join(
                    f"{name} {fitted.get(name)!r} -> {current.get(name)!r}" for name in changed
                )
                raise NotInitializedError(
                    f"The network's parameters changed since it was fitted ({shown}): the "
                    "fitted weights belong to the old network, so this model cannot predict or "
                    "be saved. Set them back with set_params, or fit again."
                )
        return super().check_is_fitted(attributes, *args, **kwargs)

    # ---- scikit-learn API ---------------------------------------------------------------------
    def fit(self, X, y=None, *, recording=None, groups=None, **fit_params):
        """Train on labelled 30-s epochs (from scratch, unless ``warm_start``).

        Parameters
        ----------
        X : mne.Epochs | list of mne.Epochs | ndarray | EpochStore
            EEG epochs; arrays of shape ``(n_epochs, n_times)`` or ``(n_epochs, 1, n_times)``
            in volts, sampled at ``sfreq``. A list of Epochs holds one recording per item. An
            :class:`~mne_sscsleep.datasets.EpochStore` is read from disk batch by batch (its
            labels are used when ``y`` is None).
        y : array-like, shape (n_epochs,) | None
            Stage labels; None reads them from ``X.events`` for ``mne.Epochs``.
        recording : array-like, shape (n_epochs,) | None
            The recording (night) of each epoch, for ``context > 0``: neighbours are read within
            a recording only. None: from the Epochs' metadata, or one recording for arrays
            (rows in time order).
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
        dataset = self._training_dataset(X, y, recording)
        self._learn_labels(dataset, self.classes)
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
        dataset = self._training_dataset(
            X, y, recording, continuing=hasattr(self, "classes_user_")
        )
        if not hasattr(self, "classes_user_"):
            self._learn_labels(dataset, self.classes if classes is None else classes)
        else:
            self._check_known_stages(dataset, classes)
            self._warn_if_other_channel(dataset)
        # fit() comes through here too (skorch's fit calls partial_fit), after a fresh start.
        self.training_data_ = _training_record(dataset, getattr(self, "training_data_", None))
        if self.pretrained is not None:
            self.training_data_["pretrained"] = str(self.pretrained)
        self.fitted_params_ = self._network_params()  # what the weights being trained fit
        return super().partial_fit(dataset, dataset.y, **fit_params)

    def predict_proba(self, X, *, recording=None):
        """Stage probabilities of each epoch.

        Parameters
        ----------
        X : mne.Epochs | list of mne.Epochs | ndarray | EpochsDataset
            EEG epochs, as for :meth:`fit`.
        recording : array-like, shape (n_epochs,) | None
            The recording of each epoch (``context > 0``), as for :meth:`fit`.

        Returns
        -------
        proba : ndarray of float32, shape (n_epochs, n_classes)
            Columns follow ``classes_``: skorch's softmax over the five stages, renormalised
            over the stages the model knows. Rows of epochs for which the network's output is
            not a number (a damaged model, or input far outside what it was trained on) are NaN,
            with a warning.
        """
        self.check_is_fitted()
        if recording is not None:
            X = self.get_dataset(X, recording=recording)
        outputs = super().predict_proba(X)
        finite = np.isfinite(outputs).all(axis=1)
        valid = outputs[finite]
        if valid.size and (
            valid.min() < -1e-4 or not np.allclose(valid.sum(axis=1), 1.0, atol=1e-3)
        ):
            raise ValueError(
                "predict_nonlinearity does not turn the network's outputs into probabilities "
                "(rows are negative or do not sum to 1); use the default, "
                "mne_sscsleep.nn.stage_softmax."
            )
        proba = outputs[:, self._present_stages()]
        with np.errstate(invalid="ignore", divide="ignore"):
            proba = proba / proba.sum(axis=1, keepdims=True)
        if not finite.all():
            proba[~finite] = np.nan
            warnings.warn(
                f"{_NAN_OUTPUT} for {np.count_nonzero(~finite)} of "
                f"{len(finite)} epochs (epochs {_first_positions(~finite)}); their "
                "probabilities are NaN. The model is probably damaged (retrain it, or copy its "
                "file again).",
                RuntimeWarning,
                stacklevel=2,
            )
        return proba

    def predict(self, X, *, recording=None):
        """Stage of each epoch, as the user's labels.

        Parameters
        ----------
        X : mne.Epochs | list of mne.Epochs | ndarray | EpochsDataset
            EEG epochs, as for :meth:`fit`.
        recording : array-like, shape (n_epochs,) | None
            The recording of each epoch (``context > 0``), as for :meth:`fit`.

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
        defaults = {name for name, _ in self.get_default_callbacks()}
        params = {
            name: value
            for name, value in self.get_params(deep=False).items()
            if (not name.startswith("callbacks__") or name.split("__")[1] in defaults)
            and name != "stage_map"  # stored whole, as the fitted stage_map_
        }
        params["context"] = self._context()  # the network's, not a preset's default of the day
        return write_model(
            fname,
            params=params,
            module_state=_uncompiled(self.module_).state_dict(),
            criterion_state=_uncompiled(self.criterion_).state_dict(),
            classes=self.classes_user_,
            stages=self.stages_,
            class_counts=self.class_counts_,
            ch_name=self.ch_name_,
            sfreq=self.sfreq,
            history=self.history.to_list(),
            stage_map=self.stage_map_,
            training_data=getattr(self, "training_data_", None),
            overwrite=overwrite,
        )

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
        model = read_model(fname)
        try:
            clf = cls(**model.params, device=device)
            clf._set_labels(
                model.classes, model.stages, model.class_counts, model.ch_name, model.stage_map
            )
            clf.training_data_ = dict(model.training_data)
            clf._check_state_shapes(model, fname)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # skorch's re-init messages
                clf.initialize()
            _uncompiled(clf.module_).load_state_dict(model.module_state)
            _uncompiled(clf.criterion_).load_state_dict(model.criterion_state)
            clf.fitted_params_ = clf._network_params()
        except (TypeError, ValueError, RuntimeError) as error:
            if str(error).startswith("Refusing to load"):
                raise
            raise ValueError(
                f"Refusing to load {str(fname)!r}: its parameters or weights do not fit this "
                f"version's {cls.__name__} ({str(error).splitlines()[0][:300]})."
            ) from None
        clf.history = History(model.history)
        return clf

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

    @property
    def classes_(self):
        try:
            return self.classes_user_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no classes_ before fit; call fit(X, y) first."
            ) from None

    # ---- helpers ------------------------------------------------------------------------------
    _PRESET_PREFIXES = ("module", "criterion", "optimizer")

    def _preset(self):
        if self.amp not in (None, "bf16"):
            raise ValueError(f"amp must be None or 'bf16', got {self.amp!r}.")
        return get_preset(self.preset)

    def _context(self):
        context = self._preset().context if self.context == "auto" else self.context
        if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 0:
            raise ValueError(
                "context must be 'auto' or a non-negative integer (epochs on each side), got "
                f"{context!r}."
            )
        if self.night_time and not context:
            raise ValueError(
                "night_time=True feeds the time of night to the context model; it needs "
                "context >= 1 (e.g. context=5)."
            )
        if self.context_model not in CONTEXT_MODELS:
            raise ValueError(
                f"context_model must be one of {', '.join(map(repr, CONTEXT_MODELS))}, got "
                f"{self.context_model!r}."
            )
        return int(context)

    def _build_network(self):
        """The per-epoch network (the preset's or ``module``), wrapped when ``context > 0``."""
        module = self.module if self.module is not None else self._preset().network
        network = self.initialized_instance(module, self.get_params_for("module"))
        context = self._context()
        if not context:
            return network
        if not callable(getattr(network, "forward_features", None)):
            raise TypeError(
                f"context={context} needs a per-epoch network with forward_features() and "
                f"n_features (SSCSleepNet, SSCSleepNetLite); {type(network).__name__} has none."
            )
        return ContextNet(
            network, context, model=self.context_model, night_time=bool(self.night_time)
        )

    def _network_params(self):
        """The parameters the fitted network and its inputs follow (see check_is_fitted)."""
        params = self.get_params(deep=False)
        return {
            name: value
            for name, value in params.items()
            if name in _NETWORK_PARAMS or name.startswith("module__")
        }

    def _patience(self):
        return self._preset().patience if self.patience == "auto" else self.patience

    def _check_scaling(self):
        if self.scaling not in (None, "recording"):
            raise ValueError(f"scaling must be None or 'recording', got {self.scaling!r}.")

    def _input_options(self):
        self._check_scaling()
        return dict(
            sfreq=self.sfreq, picks=self.picks, resample=self.resample, on_flat=self.on_flat
        )

    def _training_dataset(self, X, y, recording=None, *, continuing=False):
        if self.random_state is not None and (
            isinstance(self.random_state, bool) or not isinstance(self.random_state, int)
        ):
            raise TypeError(
                f"random_state must be an int or None, got {type(self.random_state).__name__} "
                f"{self.random_state!r}."
            )
        self._check_training_params()
        stage_map = self._label_stage_map(continuing)
        if not isinstance(X, EpochsDataset):
            dataset = check_epochs_labels(
                X, y, recording=recording, stage_map=stage_map, **self._input_options()
            )
            self._warn_if_unordered(X, dataset, recording)
            return dataset
        if recording is not None:
            raise ValueError(
                "recording= cannot be combined with a checked dataset, which has its "
                "recordings already; pass them to check_epochs(X, recording=...)."
            )
        dataset = self.get_dataset(X)
        if y is not None:
            labels = np.asarray(y)
            if labels.ndim != 1 or len(labels) != len(dataset):
                raise ValueError(
                    f"X has {len(dataset)} epochs but y has {labels.shape} labels; pass one label "
                    "per epoch."
                )
            dataset = EpochsDataset(
                dataset.X,
                stage_indices(labels, stage_map=stage_map),
                labels=labels,
                ch_name=dataset.ch_name,
                sfreq=dataset.sfreq,
                recording=dataset.recording,
                time_index=dataset.time_index,
            )
            dataset.stage_map = stage_map
        elif dataset.y is None:
            raise ValueError("The dataset holds no labels; pass y, or use check_epochs_labels.")
        return dataset

    def _seed(self, *key):
        sequence = np.random.SeedSequence(int(self.random_state), spawn_key=key)
        return int(sequence.generate_state(1)[0])

    def _learn_labels(self, dataset, classes):
        """Check the training labels, then store the user's label of each stage."""
        stages = dataset.y
        counts = np.bincount(stages, minlength=N_STAGES)
        minimum = self._min_training_epochs(counts, dataset.recording)
        if len(stages) < minimum:
            raise ValueError(
                f"Got {len(stages)} training epochs; SSCSleepClassifier needs at least "
                f"{minimum} here{self._minimum_reason(counts, dataset.recording)} (a whole "
                "night has ~1000)."
            )
        seen = np.flatnonzero(counts)
        if len(seen) < 2:
            raise ValueError(
                f"The training data hold a single stage ({STAGES[seen[0]]}); a sleep stager "
                "needs at least two, and normally all five (W, N1, N2, N3, R)."
            )
        if classes is None:
            present = seen
            labels = [_one_label(dataset.labels[stages == stage], stage) for stage in seen]
        else:
            present, labels = self._declared_classes(classes)
            unknown = [STAGES[stage] for stage in seen if stage not in present]
            if unknown:
                raise ValueError(
                    f"The training data hold stage(s) {', '.join(unknown)}, which classes="
                    f"{list(classes)!r} does not name; add them to classes or drop those epochs."
                )
        # Before any fitted attribute changes.
        self._check_validation_split(stages, dataset.recording)
        missing = [STAGES[stage] for stage in range(N_STAGES) if counts[stage] == 0]
        if missing:
            consequence = (
                "the model cannot learn them and will never predict them"
                if classes is None
                else "their probabilities are not learned"
            )
            warnings.warn(
                f"Stage(s) {', '.join(missing)} are missing from the training data; "
                f"{consequence}. Train on whole nights to cover all five stages.",
                RuntimeWarning,
                stacklevel=3,
            )
        stage_map = {}
        for label, stage in zip(dataset.labels.tolist(), stages.tolist()):
            stage_map.setdefault(_map_key(label), STAGES[stage])
        stage_map.update(dataset.stage_map or {})
        stages_present = [STAGES[stage] for stage in present]
        stage_map.update({_map_key(label): stage for label, stage in zip(labels, stages_present)})
        self._set_labels(labels, stages_present, counts, dataset.ch_name, stage_map)

    def _set_labels(self, labels, stages, counts, ch_name, stage_map=None):
        self.classes_user_ = np.asarray(labels)
        self.stages_ = tuple(stages)
        self.class_counts_ = np.asarray(counts)
        self.ch_name_ = ch_name
        if stage_map is None:
            stage_map = {_map_key(label): stage for label, stage in zip(labels, stages)}
        self.stage_map_ = stage_map

    def _check_training_params(self):
        """Refuse settings that would fail deep inside torch or skorch, in our words."""
        for name in ("max_epochs", "batch_size"):
            value = getattr(self, name)
            if name == "batch_size" and value == -1:
                continue  # skorch's "the whole dataset in one batch"
            if name == "max_epochs" and value == 0 and self._resumes():
                continue  # a checkpoint that already holds every pass: nothing left to train
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(
                    f"{name} must be a whole number of at least 1, got {value!r}"
                    + (" (-1 means one batch of all epochs)." if name == "batch_size" else ".")
                )
        if self.lr is not None:
            try:
                lr = float(self.lr)
            except (TypeError, ValueError):
                raise TypeError(f"lr must be a number or None, got {self.lr!r}.") from None
            if not np.isfinite(lr) or lr <= 0:
                raise ValueError(
                    f"lr must be a positive learning rate (e.g. 1e-3), or None for the "
                    f"preset's; got {self.lr!r}."
                )
        self.check_device()
        if self.distributed:
            if self.random_state is None:
                raise ValueError(
                    "distributed=True needs an int random_state, the same in every process, so "
                    "that all processes hold out the same validation recordings."
                )
            if not _is_subclass(self.iterator_train, PairLoader):
                name = getattr(self.iterator_train, "__name__", self.iterator_train)
                raise ValueError(
                    "distributed=True shards the training pairs of PairLoader; got "
                    f"iterator_train={name!r}."
                )
            process_group(self.device)

    def _resumes(self):
        """Whether training starts from a checkpoint (a ``LoadInitState`` callback)."""
        callbacks = [item[1] if isinstance(item, tuple) else item for item in self.callbacks or []]
        return any(isinstance(callback, LoadInitState) for callback in callbacks)

    def _log_line(self, text):
        """skorch's per-epoch log: printed when verbose, without ANSI colours off a terminal."""
        if self.verbose and is_main_process():
            print(text if _interactive(sys.stdout) else _ANSI.sub("", text), flush=True)

    def check_device(self):
        """Check that ``device`` names a device this machine has, before any work.

        Raises
        ------
        ValueError
            Naming the device, what PyTorch sees and how to fix it (a CUDA build of PyTorch,
            or ``device='cpu'``).
        """
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError):
            raise ValueError(
                f"device must be 'cpu', 'cuda' or 'cuda:N', got {self.device!r}."
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else "a CUDA build"
            raise ValueError(
                f"device={self.device!r}, but PyTorch sees no CUDA GPU (torch "
                f"{torch.__version__}, {build}). On a GPU machine install a CUDA build of "
                "PyTorch (plain pip install torch from PyPI is one on Linux; see "
                "https://pytorch.org/get-started/locally/), or use device='cpu'."
            )
        if device.type == "cuda" and device.index is not None:
            if device.index >= torch.cuda.device_count():
                raise ValueError(
                    f"device={self.device!r}, but PyTorch sees {torch.cuda.device_count()} "
                    "GPU(s), numbered from 0."
                )
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"device={self.device!r}, but this machine has no MPS device.")

    def _label_stage_map(self, continuing=False):
        """The ``{label: stage}`` mapping that reads training labels (None: their names).

        ``continuing``: the labels add to a fitted model (``partial_fit``), so its codes mean
        what they meant at first; a fresh ``fit`` never reads labels through an earlier fit.
        """
        if self.stage_map is not None:
            check_stage_map(self.stage_map)
            return self.stage_map
        fitted = getattr(self, "stage_map_", None) if continuing else None
        if fitted and any(not isinstance(label, str) for label in fitted):
            return fitted
        return None

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
        return stage_indices(np.asarray(labels), stage_map=self.stage_map_)

    def _declared_classes(self, classes):
        """Stage indices and labels (in stage order) of a ``classes`` declaration."""
        labels = np.asarray(classes)
        if labels.ndim != 1 or len(labels) == 0:
            raise ValueError(f"classes must be a non-empty list of labels, got {classes!r}.")
        stage_map = self._label_stage_map()
        indices = stage_indices(labels, name="classes", stage_map=stage_map)
        if len(set(indices.tolist())) != len(indices):
            raise ValueError(
                f"classes={list(labels)!r} names a stage twice; give one label per stage."
            )
        order = np.argsort(indices)
        return indices[order], labels[order].tolist()

    def _check_known_stages(self, dataset, classes):
        if classes is not None:
            _, labels = self._declared_classes(classes)
            if list(map(str, labels)) != list(map(str, self.classes_user_)):
                raise ValueError(
                    f"partial_fit got classes={list(classes)!r}, but the model predicts "
                    f"{list(self.classes_user_)!r}; pass the same classes or None."
                )
        new = sorted(set(STAGES[stage] for stage in dataset.y) - set(self.stages_))
        if new:
            raise ValueError(
                f"partial_fit got stage(s) {', '.join(new)}, which the model does not predict "
                f"(it knows {', '.join(self.stages_)}). Declare every stage up front with "
                "classes=['W', 'N1', 'N2', 'N3', 'R'] (a parameter, or partial_fit's argument on "
                "the first call)."
            )
        self._check_validation_split(dataset.y, dataset.recording)

    def _stratified_share(self, recording):
        """The validation share of a stratified split of epochs, or None."""
        split = self.train_split
        if isinstance(split, RecordingSplit):
            if split.by_recording(len(np.unique(recording))):
                return None
            return split.share
        if isinstance(split, ValidSplit) and split.stratified and isinstance(split.cv, float):
            return split.cv
        return None

    def _min_training_epochs(self, counts, recording):
        """Fewest epochs a fit accepts: MIN_TRAINING_EPOCHS, more for a stratified split."""
        share = self._stratified_share(recording)
        n_stages = int(np.count_nonzero(counts))
        if share is None:
            return MIN_TRAINING_EPOCHS
        # Every stage needs an epoch on both sides of the split.
        return max(MIN_TRAINING_EPOCHS, int(np.ceil(n_stages / min(share, 1 - share))))

    def _minimum_reason(self, counts, recording):
        share = self._stratified_share(recording)
        if share is None:
            return ""
        return (
            f" for the stratified validation split of {share:g} to hold one epoch of each of "
            f"its {np.count_nonzero(counts)} stages; pass train_split=None to train on fewer, "
            f"down to {MIN_TRAINING_EPOCHS}, without validation or early stopping"
        )

    def _check_validation_split(self, stages, recording):
        share = self._stratified_share(recording)
        if share is None:
            return
        counts = np.bincount(stages, minlength=N_STAGES)
        minimum = self._min_training_epochs(counts, recording)
        present = counts[counts > 0]
        if len(stages) < minimum or present.min() < 2:
            rarest = STAGES[int(np.flatnonzero(counts == present.min())[0])]
            raise ValueError(
                f"Got {len(stages)} training epochs; the stratified validation split of "
                f"{share:g} needs at least {minimum} epochs and two epochs of every stage "
                f"present (the rarest, {rarest}, has {present.min()}). Train on more epochs, "
                "or pass train_split=None to train without validation (and without early "
                "stopping)."
            )

    def _check_state_shapes(self, model, fname):
        """Refuse weights that do not fit the described network, before allocating it."""
        components = (
            ("module", None, model.module_state),
            ("criterion", self.criterion, model.criterion_state),
        )
        for prefix, component, state in components:
            with torch.device("meta"):
                probe = (
                    self._build_network()
                    if prefix == "module"
                    else self.initialized_instance(component, self.get_params_for(prefix))
                )
            expected = {key: tuple(value.shape) for key, value in probe.state_dict().items()}
            stored = {key: tuple(value.shape) for key, value in state.items()}
            if expected != stored:
                wrong = sorted(set(expected) ^ set(stored)) or [
                    key for key in expected if expected[key] != stored[key]
                ]
                raise ValueError(
                    f"Refusing to load {str(fname)!r}: the stored {prefix} weights do not fit "
                    f"the network the file describes (first mismatch: {wrong[0]!r})."
                )

    def _warn_if_unordered(self, X, dataset, recording):
        """Arrays of several nights without recording ids would mix them at the junctions."""
        if (
            self._context()
            and recording is None
            and isinstance(X, np.ndarray)
            and len(dataset) > _ONE_DAY_OF_EPOCHS
        ):
            warnings.warn(
                f"context={self._context()}: the array holds {len(dataset)} epochs (more than "
                "24 h) but no recording ids, so it is read as one recording in row order and "
                "neighbours may cross from one night into the next. Pass recording=... (one id "
                "per epoch) or mne.Epochs with a 'recording' metadata column.",
                RuntimeWarning,
                stacklevel=4,
            )

    def _present_stages(self):
        return [STAGES.index(stage) for stage in self.stages_]

    def _warn_if_other_channel(self, dataset):
        trained_on = getattr(self, "ch_name_", None)
        if trained_on and dataset.ch_name and dataset.ch_name != trained_on:
            warnings.warn(
                f"The model was trained on channel {trained_on!r} but is given "
                f"{dataset.ch_name!r}. Predictions are only reliable for the same derivation.",
                RuntimeWarning,
                stacklevel=4,
            )


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _interactive(stream):
    """A terminal or a notebook: where progress bars and colours belong."""
    try:
        get_ipython = __import__("IPython").get_ipython
        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            return True
    except (ImportError, AttributeError):
        pass
    return bool(getattr(stream, "isatty", lambda: False)())


def _validation_note(dataset_train, dataset_valid):
    """One line saying what the valid_* columns score."""
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


def _training_record(dataset, previous=None):
    """What a model was trained on (``training_data_``), adding to an earlier record."""
    from ._version import __version__

    provenance = dataset.provenance or {}
    simulated = provenance.get("simulated")
    recordings = list(provenance.get("recordings") or [])
    n_recordings = len(np.unique(dataset.recording))
    record = {
        "source": _source(provenance),
        "simulated": simulated,
        "n_recordings": n_recordings,
        "n_epochs": len(dataset),
        "recordings": recordings[:1000],
        "date": datetime.date.today().isoformat(),
        "package_version": __version__,
    }
    if previous:
        known = previous.get("simulated")
        record.update(
            source=previous.get("source")
            if previous.get("source") == record["source"]
            else "several sources (partial_fit)",
            simulated=None if None in (known, simulated) else bool(known and simulated),
            n_recordings=int(previous.get("n_recordings", 0)) + n_recordings,
            n_epochs=int(previous.get("n_epochs", 0)) + len(dataset),
            recordings=sorted(set(previous.get("recordings") or []) | set(recordings))[:1000],
        )
    return record


def _source(provenance):
    if provenance.get("simulated"):
        return "simulated nights (mne-sscsleep simulator)"
    if provenance.get("input") == "array":
        return "arrays (origin not recorded)"
    description = provenance.get("description")
    return f"{provenance.get('input', 'mne.Epochs')}" + (f": {description}" if description else "")


def _one_label(labels, stage):
    """The user's one label of a stage: ``predict`` answers with it, so it must be unique."""
    spellings = list(dict.fromkeys(labels.tolist()))
    if len(spellings) == 1:
        return labels[0]
    shown = " and ".join(map(repr, spellings[:4]))
    raise ValueError(
        f"The training labels name stage {STAGES[stage]} in {len(spellings)} ways ({shown}), "
        "but the model predicts one label per stage, so every epoch labelled with the other "
        "spellings would be scored wrong. Merge them first (e.g. y = np.where(y == "
        f"{spellings[1]!r}, {spellings[0]!r}, y)), or name the label to predict for each stage "
        f"with classes=[...] (e.g. classes=[..., {spellings[0]!r}, ...])."
    )


class _ValidScorer:
    """A stage metric for the classifier's own scoring callbacks.

    skorch hands them the dataset's targets, the canonical stage indices, while ``predict``
    answers in the user's labels: read those back through the model's ``stage_map_``.
    """

    def __init__(self, metric):
        self.metric = metric

    def __call__(self, net, X, y):
        stages = np.asarray(STAGES)
        y_pred = net.label_stages(net.predict(X))
        return self.metric(stages[np.asarray(y, dtype=np.int64)], stages[y_pred])


_CPU_ADVICE = (
    "The paper's network is slow on a CPU: preset='lite' trains about 90 times faster there "
    "(--preset lite), and device='cuda' (--device cuda) runs the paper's on a GPU."
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


def _same_value(first, second):
    """Equal parameter values (tuples, lists, arrays and classes compared by their text)."""
    return first is second or repr(first) == repr(second)


def _is_subclass(component, parent):
    return isinstance(component, type) and issubclass(component, parent)
