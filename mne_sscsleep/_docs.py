"""Shared docstring entries, filled in with :func:`fill_doc` (as MNE's ``mne.utils.docs``).

Parameter descriptions used by more than one docstring, or long enough to crowd the code they
describe (the classifier's), live here once.
"""

from __future__ import annotations

import textwrap

#: Docstring entries by name: ``%(name)s`` in a docstring decorated with :func:`fill_doc`.
docdict = {}

docdict["y_true_pred"] = """
y_true, y_pred : array-like, shape (n_epochs,)
    True and predicted stages.
stage_map : dict | None
    ``{label: stage}`` for labels that are not stage names (see
    :func:`mne_sscsleep.stage_indices`); integer codes need it.
"""

# The parameters and the return of a score function; its docstring goes on with what the
# score means, indented under it.
docdict["score_params"] = (
    "Parameters\n----------\n"
    + docdict["y_true_pred"].strip("\n")
    + "\n\nReturns\n-------\nscore : float"
)

docdict["ax_fig"] = """
ax : matplotlib.axes.Axes | None
    Axes to draw in (a new figure when None).

Returns
-------
fig : matplotlib.figure.Figure
    The figure.
"""

docdict["fname_model"] = """
Parameters
----------
fname : str | pathlib.Path
    A file written by :meth:`mne_sscsleep.SSCSleepClassifier.save`.
"""

docdict["model_channel_rate_history"] = """
ch_name : str | None
    Channel the model was trained on.
sfreq : float
    Sampling rate of the model in Hz.
history : list of dict
    The training history (skorch's ``History.to_list()``).
"""

docdict["fname_ours"] = """
Parameters
----------
fname : str | pathlib.Path
    An existing file.

Returns
-------
ours : bool
"""

docdict["classifier_attributes"] = """
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
"""

docdict["classifier_notes"] = """
Scoring callbacks receive the canonical stage indices (0..4) as ``y`` and the user's labels
from ``predict``: use the scorers of :mod:`mne_sscsleep.metrics`, which accept any stage
spelling, rather than scikit-learn's string scorers when labels are names.
"""

docdict["fit_X_y_recording"] = """
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
"""

docdict["predict_X_recording"] = """
Parameters
----------
X : mne.Epochs | list of mne.Epochs | ndarray | EpochsDataset
    EEG epochs, as for :meth:`fit`.
recording : array-like, shape (n_epochs,) | None
    The recording of each epoch (``context > 0``), as for :meth:`fit`.
"""

docdict["classifier_training"] = """
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
"""

docdict["clf_module"] = """
module : type of torch.nn.Module | None
    The network (None: the preset's); its arguments are ``module__*`` parameters
    (``sfreq`` is filled in).
"""

docdict["clf_preset"] = """
preset : ``'paper'`` | ``'lite'``
    Defaults of network, loss, schedule and optimiser (see above).
"""

docdict["clf_criterion"] = """
criterion : type of torch.nn.Module
    The loss; arguments as ``criterion__*`` (e.g. ``criterion__gamma``); the preset fills
    those of :class:`AdaptiveLoss`.
"""

docdict["clf_optimizer"] = """
optimizer : type of torch.optim.Optimizer | None
    None: the preset's (Adam for ``'paper'``, AdamW for ``'lite'``). Arguments as
    ``optimizer__*`` (e.g. ``optimizer__weight_decay``).
"""

docdict["clf_lr"] = """
lr : float | None
    Learning rate (None: the preset's, 1e-3 for ``'paper'`` and 2e-3 for ``'lite'``, or
    5e-4 for ``'lite'`` when training starts from a pretrained network).
"""

docdict["clf_max_epochs"] = """
max_epochs : int
    Maximum number of training epochs (passes over the data).
"""

docdict["clf_batch_size"] = """
batch_size : int
    Pairs per training batch (``2 * batch_size`` EEG epochs); prediction batches hold
    ``2 * batch_size`` epochs too (``iterator_valid__batch_size`` overrides).
"""

docdict["clf_iterator_train"] = """
iterator_train, iterator_valid : type
    Batch iterators (``DataLoader`` subclasses); ``iterator_train__same_stage``,
    ``iterator_train__n1_share`` set the pair shares, ``iterator_train__num_workers`` etc.
    go to the ``DataLoader``.
"""

docdict["clf_train_split"] = """
train_split : callable | None
    The validation split: :class:`~mne_sscsleep.training.RecordingSplit` (whole recordings
    held out) or any skorch ``train_split`` (``ValidSplit``, ``predefined_split``); None
    trains on everything (no early stopping). A split without a ``random_state`` of its own
    draws from the classifier's ``random_state``.
"""

docdict["clf_augmentation"] = """
augmentation : ``'auto'`` | type of torch.nn.Module | None
    Training-time augmentation of each batch, on the model's device (arguments as
    ``augmentation__gain_jitter``, ``augmentation__time_stretch``). ``'auto'``: the
    preset's (none for ``'paper'``, :class:`~mne_sscsleep.nn.Augmentation` for
    ``'lite'``); None: none.
"""

docdict["clf_predict_nonlinearity"] = """
predict_nonlinearity : callable
    Turns the network's logits into probabilities (a softmax over stages).
"""

docdict["clf_classes"] = """
classes : array-like | None
    The labels the model predicts, one per stage (e.g. ``['W', 'N1', 'N2', 'N3', 'R']``).
    None: the stages seen in training. Declaring them lets ``partial_fit`` learn from
    batches that miss a stage, and keeps ``predict_proba``'s columns fixed.
"""

docdict["clf_stage_map"] = """
stage_map : dict | None
    What your labels mean, ``{label: stage}`` (e.g. ``{1: 'W', 2: 'N1', 3: 'N2',
    4: 'N3', 5: 'R'}``). Needed for integer labels, which are never guessed (0..4 is W..R
    in one convention and N1..W in scikit-learn's ``LabelEncoder``); not needed for stage
    names, for ``mne.Epochs`` with ``y=None`` (labels are the ``event_id`` names) or with
    ``y=epochs.events[:, 2]`` (codes read through ``epochs.event_id``).
"""

docdict["clf_sfreq"] = """
sfreq : float
    Sampling rate of the model in Hz; input epochs are 30 s long.
"""

docdict["clf_picks"] = """
picks : str | int | None
    Channel to use when the input has several (None: the only one, or the only EEG one).
"""

docdict["clf_resample"] = """
resample : bool
    Resample ``mne.Epochs`` at another rate to ``sfreq`` instead of raising an error.
"""

docdict["clf_on_flat"] = """
on_flat : ``'raise'`` | ``'warn'`` | ``'ignore'``
    What to do with flat epochs (peak-to-peak below 0.1 uV: an electrode off or a
    zero-filled gap) in ``fit`` and ``predict``: an error (default), a warning, or
    nothing. :func:`~mne_sscsleep.stage` leaves such epochs unscored instead.
"""

docdict["clf_scaling"] = """
scaling : ``'recording'`` | ``'spectrum'`` | None
    ``'recording'`` (default): divide each recording by its own typical amplitude (the
    median over its epochs of their standard deviation) as batches are read, so that a
    person's or an amplifier's gain does not shift what the model sees (see
    :func:`~mne_sscsleep._epochs.recording_scales`); the same in ``fit``, ``predict`` and
    :func:`~mne_sscsleep.stage`. Recordings come from ``recording=``, the Epochs'
    metadata, or one per array: predict a whole recording at once, not a few of its epochs.
    ``'spectrum'``: also equalise each recording's mean power spectrum to one shape (a
    per-recording filter, :func:`~mne_sscsleep._epochs.recording_equalizers`), which undoes
    what a derivation or an amplifier's filters do to a whole night; see the user guide for
    what it gains and loses. None: each epoch as recorded (the network still standardises
    each epoch on its own).
"""

docdict["clf_pretrained"] = """
pretrained : ``'auto'`` | None | str | pathlib.Path
    Fine-tuning: start training from the network of a model file (one trained elsewhere,
    with the same preset and ``module__*`` settings) instead of random weights, or from a
    starting point that ships with the package, by name (``'lite-simulated'``, see
    :func:`~mne_sscsleep.training.starting_point`). With another ``context`` than the
    starting point's, only its per-epoch network carries over (a sequence model starts
    fresh). ``'auto'``: the preset's starting point, for the preset's own network at its
    rate (no ``module`` and no ``module__*`` parameters): ``'lite'`` starts from
    ``'lite-simulated'`` (a lite network trained on 120 varied simulated nights, simulated
    data only), ``'paper'`` from random weights. None: random weights. Recorded in
    ``training_data_``, not stored as a parameter; see the user guide for what it gains.
"""

docdict["clf_patience"] = """
patience : ``'auto'`` | int | None
    Early-stopping patience in epochs (on validation macro-F1); None disables it.
    ``'auto'``: the preset's, 10 for ``'paper'`` (its loss schedule starts slowly: the
    network often predicts one stage for the first few epochs) and 5 for ``'lite'``.
"""

docdict["clf_context"] = """
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
"""

docdict["clf_context_model"] = """
context_model : ``'gru'`` | ``'transformer'``
    The sequence model of ``context > 0``: a bidirectional GRU (default; chosen by
    measurement, see the user guide) or a one-layer transformer encoder.
"""

docdict["clf_night_time"] = """
night_time : bool
    With ``context > 0``, also give the sequence model each epoch's time of night (hours
    since the recording began and share of the night, as YASA's stager does). Off by
    default: it assumes whole recordings from lights off to lights on.
"""

docdict["clf_distributed"] = """
distributed : bool
    Data-parallel training over several processes (GPUs or nodes), each started by a
    launcher (``torchrun --nproc_per_node N script.py``, ``accelerate launch``, or
    ``srun`` running ``torchrun``) with the same script and ``random_state``. Each
    process trains on its own shard of the recordings; gradients are averaged every step
    (:class:`~mne_sscsleep.training.DistributedSync`, torch.distributed: gloo on CPUs,
    NCCL on GPUs), so all processes end with the same weights. Only rank 0 prints. Set
    ``device=f"cuda:{local_rank}"`` on GPUs. See the user guide's "Scaling out".
"""

docdict["clf_amp"] = """
amp : None | ``'bf16'``
    Mixed precision: ``'bf16'`` runs the network under :func:`torch.autocast` in bfloat16
    (the loss stays in float32; no gradient scaling is needed). Meant for CUDA GPUs with
    bfloat16 (Ampere and newer); on a CPU it works but is rarely faster.
"""

docdict["clf_random_state"] = """
random_state : int | None
    Seeds the weights, the validation split, the pair draws and, at the start of each
    epoch, torch's generator (dropout, augmentation): the same seed gives the same
    predictions on CPU (with the same number of threads), and a training resumed from a
    checkpoint continues as the uninterrupted one would. GPUs may differ run to run unless
    ``torch.use_deterministic_algorithms(True)``. Note: seeding sets torch's global random
    state.
"""

docdict["clf_device"] = """
device : str
    ``'cpu'`` or ``'cuda'`` (``'cuda:1'``, ...); checked when training starts.
"""

docdict["clf_verbose"] = """
verbose : int
    0: silent; 1: one line per training epoch with a progress bar inside each epoch
    (when the output is a terminal or a notebook, and no ANSI colours when it is not).
"""

docdict["clf_kwargs"] = """
**kwargs
    Other skorch parameters (``callbacks``, ``warm_start``, prefixed parameters, ...).
    ``compile=True`` runs the network under ``torch.compile`` (arguments as
    ``compile__*``): on a 2-core CPU the first batch then takes ~70 s of code generation
    and later training steps are ~15 % faster, so it pays off only for long fits. Saved
    files hold plain weights either way.
"""

#: The classifier's parameters, in the order of its signature.
docdict["classifier_parameters"] = "\n".join(
    docdict[key].strip("\n")
    for key in (
        "clf_module",
        "clf_preset",
        "clf_criterion",
        "clf_optimizer",
        "clf_lr",
        "clf_max_epochs",
        "clf_batch_size",
        "clf_iterator_train",
        "clf_train_split",
        "clf_augmentation",
        "clf_predict_nonlinearity",
        "clf_classes",
        "clf_stage_map",
        "clf_sfreq",
        "clf_picks",
        "clf_resample",
        "clf_on_flat",
        "clf_scaling",
        "clf_pretrained",
        "clf_patience",
        "clf_context",
        "clf_context_model",
        "clf_night_time",
        "clf_distributed",
        "clf_amp",
        "clf_random_state",
        "clf_device",
        "clf_verbose",
        "clf_kwargs",
    )
)


def fill_doc(obj):
    """Fill ``%(name)s`` entries of ``obj``'s docstring from :data:`docdict`.

    Each entry is indented as the line that names it.

    Parameters
    ----------
    obj : callable | type
        A function or class with a docstring.

    Returns
    -------
    obj : callable | type
        The same object, its docstring filled in.
    """
    lines = []
    for line in (obj.__doc__ or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("%(") and stripped.endswith(")s"):
            indent = line[: len(line) - len(line.lstrip())]
            entry = docdict[stripped[2:-2]].strip("\n")
            lines.append(textwrap.indent(entry, indent))
        else:
            lines.append(line)
    obj.__doc__ = "\n".join(lines)
    return obj
