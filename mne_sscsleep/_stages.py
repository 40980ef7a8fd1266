"""Ground floor: sleep stages, their names and the epoch geometry.

Imports nothing of this package, so everything else (the network, the loss, the pair sampler,
the input boundary, metrics, plots) can rely on it without pulling in anything above it.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

#: The canonical AASM stages, in the order used for model outputs, reports and plots.
STAGES = ("W", "N1", "N2", "N3", "R")
#: Number of stages (outputs of the network).
N_STAGES = len(STAGES)
#: Index of N1 in :data:`STAGES`.
N1 = STAGES.index("N1")
#: Annotation / event names of each stage, as in Sleep-EDF (the convention MNE users know).
STAGE_DESCRIPTIONS = {
    "W": "Sleep stage W",
    "N1": "Sleep stage 1",
    "N2": "Sleep stage 2",
    "N3": "Sleep stage 3/4",
    "R": "Sleep stage R",
}
#: Stage of an epoch that cannot be scored (e.g. electrode off), and its annotation.
UNSCORED = "?"
UNSCORED_DESCRIPTION = "Sleep stage ?"
#: ``info['description']`` of the simulator's recordings and epochs: models trained on them
#: record it, and staging a real recording with such a model warns.
SIMULATED_DESCRIPTION = "Simulated sleep EEG (mne-sscsleep simulator), not a real recording"
#: Default sampling rate (Hz) and epoch duration (s) of the model: Sleep-EDF's Fpz-Cz.
DEFAULT_SFREQ = 100.0
EPOCH_DURATION = 30.0

_ALIASES = {
    "W": ("w", "wake", "awake", "stage w", "sleep stage w", "stage 0", "sleep stage 0", "s0"),
    "N1": ("n1", "s1", "stage 1", "stage n1", "sleep stage 1", "sleep stage n1", "nrem1"),
    "N2": ("n2", "s2", "stage 2", "stage n2", "sleep stage 2", "sleep stage n2", "nrem2"),
    "N3": (
        "n3",
        "n4",
        "s3",
        "s4",
        "sws",
        "stage 3",
        "stage 4",
        "stage n3",
        "sleep stage 3",
        "sleep stage 4",
        "sleep stage n3",
        "sleep stage n4",
        "sleep stage 3/4",
        "nrem3",
        "nrem4",
    ),
    "R": ("r", "rem", "stage r", "stage rem", "sleep stage r", "sleep stage rem", "s5"),
}
_ALIAS_TO_INDEX = {
    alias: STAGES.index(stage) for stage, aliases in _ALIASES.items() for alias in aliases
}


def _normalise_label(label: str) -> str:
    label = re.sub(r"[\s_]+", " ", label.strip().lower())
    # 'NREM 1', 'NREM-1', 'N 1' and 'Stage N 1' are spellings of 'NREM1' / 'N1'.
    return re.sub(r"\b(nrem|n)[ -]?([1-4])\b", r"\1\2", label)


def stage_indices(y, *, name="y", stage_map=None) -> np.ndarray:
    """Map sleep-stage labels to indices into :data:`STAGES`.

    Parameters
    ----------
    y : array-like, shape (n_epochs,)
        Labels, all of one kind: strings (``'W', 'N1', 'N2', 'N3', 'R'`` or a common alias such
        as ``'Sleep stage 4'``, ``'REM'``, ``'Wake'``, ``'NREM 1'``; case and surrounding spaces
        ignored; R&K stage 4 maps to N3) or integer codes with a ``stage_map`` saying what they
        mean. Integers are never guessed (0..4 is W..R in DeepSleepNet's convention, N1..W in
        scikit-learn's ``LabelEncoder``, and MNE's sleep tutorial uses 1..5): without
        ``stage_map`` they are an error.
    name : str
        Name of the argument, used in error messages.
    stage_map : dict | None
        An explicit mapping from each label to a stage (any spelling above), e.g.
        ``{1: 'W', 2: 'N1', 3: 'N2', 4: 'N3', 5: 'R'}`` for MNE's sleep tutorial codes; every
        label must be a key.

    Returns
    -------
    indices : ndarray of int64, shape (n_epochs,)
        Index of each label's stage in :data:`STAGES`.

    Examples
    --------
    >>> stage_indices(["Sleep stage W", "REM", "NREM 1", "Sleep stage 4"])
    array([0, 4, 1, 3])
    >>> stage_indices([5, 2, 1], stage_map={1: "W", 2: "N1", 3: "N2", 4: "N3", 5: "R"})
    array([4, 1, 0])
    >>> stage_indices([0, 1, 2, 3, 4])
    Traceback (most recent call last):
    ...
    ValueError: y holds integer labels (0, 1, 2, 3, 4); mne-sscsleep never guesses ...
    """
    try:
        y = np.asarray(y)
    except ValueError:  # ragged nested sequences
        raise ValueError(
            f"{name} must be one label per epoch (a flat list or 1-D array); got a ragged nested "
            "sequence."
        ) from None
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be one label per epoch (1-D), got an array of shape {y.shape}. "
            "Flatten it or pass one column of labels."
        )
    if y.size == 0:
        return np.zeros(0, dtype=np.int64)
    if stage_map is not None:
        return _mapped_stage_indices(y, stage_map, name)
    y, kind = label_kind(y, name=name)
    if kind == "int":
        return _integer_stage_indices(y, name)
    labels = y.tolist()
    indices = np.empty(len(labels), dtype=np.int64)
    unknown = []
    for position, label in enumerate(labels):
        index = stage_index(label)
        if index is None:
            unknown.append(label)
        else:
            indices[position] = index
    if unknown:
        shown = ", ".join(repr(label) for label in sorted(set(unknown))[:10])
        raise ValueError(
            f"{name} has labels that are not sleep stages: {shown}. Allowed: {', '.join(STAGES)} "
            "or aliases such as 'Sleep stage W/1/2/3/4/R', 'Wake', 'REM', 'NREM 1'; other "
            "spellings need stage_map={label: stage}. Drop epochs scored '?' or "
            "'Movement time' before fitting."
        )
    return indices


def label_kind(y, *, name="y"):
    """Refuse what cannot be sleep-stage labels, whatever they mean.

    Parameters
    ----------
    y : ndarray, shape (n_epochs,)
        Labels.
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    y : ndarray
        The labels (integers as an integer array).
    kind : ``'int'`` | ``'str'``
        Integer codes (which need a ``stage_map``) or names.

    Examples
    --------
    >>> label_kind(np.array([2.0, 0.0]))[1], label_kind(np.array(["N1"]))[1]
    ('int', 'str')
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be one label per epoch (1-D), got an array of shape {y.shape}. "
            "Flatten it or pass one column of labels."
        )
    if y.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} holds complex numbers.")
    if y.dtype.kind == "b":
        raise TypeError(
            f"{name} holds booleans; sleep stages are strings (or integer codes with a stage_map)."
        )
    if y.dtype.kind in "iu":
        return y, "int"
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(
                f"Unknown label type: {name} holds non-integer (continuous) numbers; sleep "
                "stages are strings such as 'N1' (or integer codes with a stage_map)."
            )
        return y.astype(np.int64), "int"
    if y.dtype.kind not in "OUST":  # T: NumPy 2 StringDType (pandas 3 strings)
        raise TypeError(
            f"{name} has dtype {y.dtype}; sleep stages are strings such as 'N1' (or integer "
            "codes with a stage_map)."
        )
    kinds = {type(label) for label in y.tolist()}
    if kinds <= {str, bytes}:
        return y, "str"
    if kinds <= {int}:
        return np.asarray(y.tolist(), dtype=np.int64), "int"
    shown = ", ".join(sorted(kind.__name__ for kind in kinds))
    problem = f"mixes label types ({shown})" if len(kinds) > 1 else f"holds {shown} labels"
    raise TypeError(
        f"{name} {problem}. Use one kind throughout: stage names such as 'W', 'N1', 'N2', "
        "'N3', 'R', or integer codes with a stage_map."
    )


def stage_index(label):
    """Index into :data:`STAGES` of one stage name or alias, or None if it names no stage.

    Parameters
    ----------
    label : str | bytes
        A stage name such as ``'N1'``, ``'Sleep stage 4'`` or ``'REM'``.

    Returns
    -------
    index : int | None
        The stage's index, None for anything else (integers included).

    Examples
    --------
    >>> stage_index(" NREM 2 "), stage_index("Movement time")
    (2, None)
    """
    if isinstance(label, bytes):
        label = label.decode("utf-8", errors="replace")
    if not isinstance(label, str):
        return None
    return _ALIAS_TO_INDEX.get(_normalise_label(label))


def _map_key(label):
    """Labels as dictionary keys: NumPy scalars as Python ones, strings stripped."""
    if hasattr(label, "item") and not isinstance(label, (str, bytes)):
        label = label.item()
    if isinstance(label, float) and label.is_integer():
        label = int(label)
    if isinstance(label, str):
        label = label.strip()
    return label


def check_stage_map(stage_map, *, name="stage_map"):
    """Validate a ``{label: stage}`` mapping; return it as ``{label: stage index}``.

    Parameters
    ----------
    stage_map : dict
        Each label (an integer code or a string) to a stage name or alias.
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    mapping : dict
        The labels (NumPy scalars as Python ones, strings stripped) to stage indices.

    Examples
    --------
    >>> check_stage_map({1: "Sleep stage W", 2: "N1"})
    {1: 0, 2: 1}
    """
    if not isinstance(stage_map, dict) or not stage_map:
        raise TypeError(
            f"{name} must be a non-empty dict from your labels to stages, e.g. {{1: 'W', 2: "
            f"'N1', 3: 'N2', 4: 'N3', 5: 'R'}}; got {stage_map!r}."
        )
    mapping = {}
    for label, stage in stage_map.items():
        index = stage_index(stage)
        if index is None:
            raise ValueError(
                f"{name} maps {label!r} to {stage!r}, which is not a sleep stage; use one of "
                f"{', '.join(STAGES)} (or an alias such as 'Sleep stage 1', 'REM')."
            )
        mapping[_map_key(label)] = index
    return mapping


def _mapped_stage_indices(y, stage_map, name):
    mapping = check_stage_map(stage_map)
    keys = [_map_key(label) for label in y.tolist()]
    for key in set(keys) - set(mapping):
        index = stage_index(key)  # stage names need no entry
        if index is not None:
            mapping[key] = index
    unknown = sorted({key for key in keys if key not in mapping}, key=repr)
    if unknown:
        raise ValueError(
            f"{name} has labels that stage_map does not name: "
            f"{', '.join(map(repr, unknown[:10]))}; add them to stage_map (or drop those "
            "epochs)."
        )
    return np.array([mapping[key] for key in keys], dtype=np.int64)


def _integer_stage_indices(y, name):
    values = np.unique(np.asarray(y).astype(np.int64)).tolist()
    shown = ", ".join(map(str, values[:10])) + (", ..." if len(values) > 10 else "")
    raise ValueError(
        f"{name} holds integer labels ({shown}); mne-sscsleep never guesses what integer codes "
        "mean: 0..4 may be W, N1, N2, N3, R, or scikit-learn's LabelEncoder order (N1, N2, N3, "
        "R, W), and MNE's sleep tutorial uses 1..5. Say what they mean: pass "
        "stage_map={code: stage} (e.g. {0: 'W', 1: 'N1', 2: 'N2', 3: 'N3', 4: 'R'}), or for "
        "mne.Epochs y=epochs.events[:, 2] (read through epochs.event_id), or stage names "
        "('W', 'N1', ...)."
    )


class StageEncoder:
    """The user's label of each stage, fitted on training labels (a ``LabelEncoder`` of stages).

    The classifier trains on canonical stage indices (into :data:`STAGES`) and answers in the
    user's labels: this object holds both sides, so labels are read and written in one place.

    Parameters
    ----------
    classes : array-like | None
        The labels to predict, one per stage (any order); None: one label per stage present in
        the training data, as spelled there.
    stage_map : dict | None
        What the training labels mean (``{label: stage}``), see :func:`stage_indices`.

    Attributes
    ----------
    classes_ : ndarray
        The predicted labels, in stage order.
    stages_ : tuple of str
        The stage of each of ``classes_``.
    counts_ : ndarray of int, shape (5,)
        Training epochs of each stage of :data:`STAGES`.
    stage_map_ : dict
        Every training label (and each of ``classes_``) to its stage name.

    Examples
    --------
    >>> encoder = StageEncoder().fit(["W", "N2", "W", "REM"], stage_indices(["W", "N2", "W", "R"]))
    >>> encoder.classes_.tolist(), encoder.stages_
    (['W', 'N2', 'REM'], ('W', 'N2', 'R'))
    >>> encoder.inverse_transform([4, 0]).tolist()
    ['REM', 'W']
    """

    def __init__(self, classes=None, stage_map=None):
        self.classes = classes
        self.stage_map = stage_map

    def fit(self, labels, stages, *, stage_map=None):
        """Learn the label of each stage from training labels and their stage indices.

        Parameters
        ----------
        labels : array-like, shape (n_epochs,)
            The training labels as the user gave them.
        stages : array-like of int, shape (n_epochs,)
            Their stage indices (read with :meth:`reading_map`).
        stage_map : dict | None
            The map the labels were read with, kept in ``stage_map_``.

        Returns
        -------
        self : StageEncoder
            The fitted encoder.
        """
        labels, stages = np.asarray(labels), np.asarray(stages, dtype=np.int64)
        counts = np.bincount(stages, minlength=N_STAGES)
        seen = np.flatnonzero(counts)
        if len(seen) < 2:
            raise ValueError(
                f"The training data hold a single stage ({STAGES[seen[0]]}); a sleep stager "
                "needs at least two, and normally all five (W, N1, N2, N3, R)."
            )
        if self.classes is None:
            present = seen
            classes = [_one_label(labels[stages == stage], stage) for stage in seen]
        else:
            present, classes = self._declared()
            unknown = [STAGES[stage] for stage in seen if stage not in present]
            if unknown:
                raise ValueError(
                    f"The training data hold stage(s) {', '.join(unknown)}, which classes="
                    f"{list(self.classes)!r} does not name; add them to classes or drop those "
                    "epochs."
                )
        mapping = {}
        for label, stage in zip(labels.tolist(), stages.tolist()):
            mapping.setdefault(_map_key(label), STAGES[stage])
        mapping.update(stage_map or {})
        return self._set(classes, [STAGES[stage] for stage in present], counts, mapping)

    @classmethod
    def from_fitted(cls, classes, stages, counts, stage_map=None):
        """An encoder as fitted before (a model file's labels).

        Parameters
        ----------
        classes : array-like
            The predicted labels, in stage order.
        stages : sequence of str
            The stage of each label.
        counts : array-like of int, shape (5,)
            Training epochs of each stage.
        stage_map : dict | None
            Label to stage name; None: ``classes`` to ``stages``.

        Returns
        -------
        encoder : StageEncoder
            The fitted encoder.
        """
        return cls()._set(classes, stages, counts, stage_map)

    def _set(self, classes, stages, counts, stage_map=None):
        self.classes_ = np.asarray(classes)
        self.stages_ = tuple(stages)
        self.counts_ = np.asarray(counts)
        if stage_map is None:
            stage_map = {_map_key(label): stage for label, stage in zip(classes, stages)}
        self.stage_map_ = stage_map
        return self

    @property
    def present_(self):
        """Stage indices of ``classes_`` (the columns of the predicted probabilities)."""
        return np.array([STAGES.index(stage) for stage in self.stages_], dtype=np.int64)

    def missing_warning(self, *, stacklevel=2):
        """Warn about stages the training data lack (they cannot be learned).

        Parameters
        ----------
        stacklevel : int
            Frames above the caller that the warning names (as :func:`warnings.warn`'s).
        """
        missing = [STAGES[stage] for stage in range(N_STAGES) if self.counts_[stage] == 0]
        if missing:
            consequence = (
                "the model cannot learn them and will never predict them"
                if self.classes is None
                else "their probabilities are not learned"
            )
            warnings.warn(
                f"Stage(s) {', '.join(missing)} are missing from the training data; "
                f"{consequence}. Train on whole nights to cover all five stages.",
                RuntimeWarning,
                stacklevel=stacklevel + 1,
            )

    def check_more(self, stages, classes=None):
        """Refuse further training labels (``partial_fit``) of stages this encoder lacks.

        Parameters
        ----------
        stages : array-like of int
            Stage indices of the new labels.
        classes : array-like | None
            ``partial_fit``'s ``classes``: None, or the same labels as ``classes_``.
        """
        if classes is not None:
            _, labels = StageEncoder(classes, self.stage_map)._declared()
            if list(map(str, labels)) != list(map(str, self.classes_)):
                raise ValueError(
                    f"partial_fit got classes={list(classes)!r}, but the model predicts "
                    f"{list(self.classes_)!r}; pass the same classes or None."
                )
        new = sorted(
            set(STAGES[stage] for stage in np.asarray(stages).tolist()) - set(self.stages_)
        )
        if new:
            raise ValueError(
                f"partial_fit got stage(s) {', '.join(new)}, which the model does not predict "
                f"(it knows {', '.join(self.stages_)}). Declare every stage up front with "
                "classes=['W', 'N1', 'N2', 'N3', 'R'] (a parameter, or partial_fit's argument on "
                "the first call)."
            )

    def reading_map(self, fitted=None):
        """The ``{label: stage}`` mapping that reads training labels (None: their names).

        Parameters
        ----------
        fitted : StageEncoder | None
            The fitted encoder of a model trained further (``partial_fit``): its integer
            codes mean what they meant at first. A fresh fit never reads labels through an
            earlier one.

        Returns
        -------
        stage_map : dict | None
            The mapping to pass to :func:`stage_indices`.
        """
        if self.stage_map is not None:
            check_stage_map(self.stage_map)
            return self.stage_map
        known = getattr(fitted, "stage_map_", None)
        if known and any(not isinstance(label, str) for label in known):
            return known
        return None

    def transform(self, labels):
        """Stage indices of labels, read as the training labels were.

        Parameters
        ----------
        labels : array-like, shape (n_epochs,)
            Labels as in training, or stage names.

        Returns
        -------
        stages : ndarray of int64, shape (n_epochs,)
            Their stages (indices into :data:`STAGES`).
        """
        return stage_indices(np.asarray(labels), stage_map=self.stage_map_)

    def inverse_transform(self, stages):
        """The user's labels of stage indices (each must be one of ``stages_``).

        Parameters
        ----------
        stages : array-like of int, shape (n_epochs,)
            Indices into :data:`STAGES`.

        Returns
        -------
        labels : ndarray, shape (n_epochs,)
            Values from ``classes_``.
        """
        column = np.full(N_STAGES, -1, dtype=np.int64)
        column[self.present_] = np.arange(len(self.stages_))
        positions = column[np.asarray(stages, dtype=np.int64)]
        if (positions < 0).any():
            raise ValueError(f"Stage indices outside the encoder's stages {self.stages_}.")
        return self.classes_[positions]

    def _declared(self):
        """Stage indices and labels (in stage order) of the ``classes`` declaration."""
        labels = np.asarray(self.classes)
        if labels.ndim != 1 or len(labels) == 0:
            raise ValueError(f"classes must be a non-empty list of labels, got {self.classes!r}.")
        indices = stage_indices(labels, name="classes", stage_map=self.reading_map())
        if len(set(indices.tolist())) != len(indices):
            raise ValueError(
                f"classes={list(labels)!r} names a stage twice; give one label per stage."
            )
        order = np.argsort(indices)
        return indices[order], labels[order].tolist()


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
