"""Plots: hypnogram, confusion matrix, stage probabilities (matplotlib is imported lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._check import atomic_write, check_output_file
from ._docs import fill_doc
from ._stages import EPOCH_DURATION, STAGES, UNSCORED, stage_indices

__all__ = [
    "FIGURE_SUFFIXES",
    "is_figure_file",
    "plot_bland_altman",
    "plot_confusion_matrix",
    "plot_hypnogram",
    "plot_stage_probabilities",
    "save_figure",
]

#: Figure formats :func:`save_figure` writes.
FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".eps", ".tif", ".tiff", ".webp")
# The mark of a figure this package wrote (PNG 'Software', PDF and SVG 'Creator' metadata);
# other formats carry none, so an existing file of theirs is never replaced.
_CREATOR = "mne-sscsleep"
_METADATA_KEY = {".png": "Software", ".pdf": "Creator", ".svg": "Creator"}

# Clinical display order, top to bottom: W, R, N1, N2, N3.
_DISPLAY_ORDER = ("W", "R", "N1", "N2", "N3")
_COLORS = {"W": "#e6a700", "N1": "#2ca02c", "N2": "#1f77b4", "N3": "#17307a", "R": "#d62728"}


def _as_stages(stages):
    """Canonical stage names of a Hypnogram or of labels in any accepted form ('?' kept)."""
    from .hypnogram import Hypnogram

    if isinstance(stages, Hypnogram):
        return np.asarray(stages.stage)
    labels = np.asarray(stages)
    names = np.full(len(labels), UNSCORED, dtype=object)
    scored = np.array([label != UNSCORED for label in labels.tolist()], dtype=bool)
    names[scored] = np.array(STAGES)[stage_indices(labels[scored])]
    return names.astype(str)


def plot_hypnogram(
    hypnogram,
    *,
    true_stages=None,
    probabilities=True,
    highlight_n1=True,
    meas_date=None,
    ax=None,
):
    """Plot a hypnogram, optionally over the true one and above the stage probabilities.

    Parameters
    ----------
    hypnogram : Hypnogram | array-like, shape (n_epochs,)
        Result of :func:`mne_sscsleep.stage`, or one stage label per 30-s epoch (``'?'`` for
        an unscored epoch).
    true_stages : array-like, shape (n_epochs,) | None
        Reference scoring, drawn underneath in grey.
    probabilities : bool
        For a :class:`Hypnogram`, add a panel with the stage probabilities over the night.
    highlight_n1 : bool
        Shade the epochs scored N1, the stage automatic stagers miss most.
    meas_date : datetime.datetime | None
        Start of the recording, for clock times on the time axis; None takes a Hypnogram's
        ``meas_date`` (the recording's ``info['meas_date']``). Without one the axis counts
        hours from the start.
    ax : matplotlib.axes.Axes | None
        Axes to draw the hypnogram in (then no probability panel is added).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure. Unscored epochs (flat signal, artifacts, below ``min_confidence``) are
        drawn on their own ``'?'`` row and hatched, never as a sleep stage; the legend sits
        beside the axes, so it hides no epoch.

    Examples
    --------
    >>> fig = plot_hypnogram(["W", "N1", "N2", "?", "N3", "R"], true_stages=["W"] * 6)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from .hypnogram import Hypnogram

    stages = _as_stages(hypnogram)
    if len(stages) == 0:
        raise ValueError(
            "The hypnogram is empty (no epochs): there is nothing to plot. Stage a recording "
            "of at least one 30-s epoch first."
        )
    if meas_date is None and isinstance(hypnogram, Hypnogram):
        meas_date = hypnogram.meas_date
    show_proba = probabilities and isinstance(hypnogram, Hypnogram) and ax is None
    if ax is None:
        n_rows = 2 if show_proba else 1
        fig, axes = plt.subplots(
            n_rows,
            1,
            figsize=(10.5, 4.5 if show_proba else 3),
            sharex=True,
            squeeze=False,
            gridspec_kw={"height_ratios": [3, 2][:n_rows]},
            layout="constrained",
        )
        ax = axes[0, 0]
    else:
        fig = ax.figure
    hours = np.arange(len(stages) + 1) * EPOCH_DURATION / 3600
    unscored = stages == UNSCORED
    rows = _DISPLAY_ORDER + ((UNSCORED,) if unscored.any() else ())
    level = {stage: len(_DISPLAY_ORDER) - 1 - i for i, stage in enumerate(rows)}
    handles = []
    if true_stages is not None:
        reference = _as_stages(true_stages)
        if len(reference) != len(stages):
            raise ValueError(
                f"true_stages has {len(reference)} epochs but the hypnogram has {len(stages)}."
            )
        handles += ax.step(
            hours,
            _levels(reference, {stage: level[stage] for stage in _DISPLAY_ORDER}),
            where="post",
            color="0.7",
            lw=2.5,
            label="reference",
        )
    stage_levels = {stage: level[stage] for stage in _DISPLAY_ORDER}  # '?' leaves a gap
    handles += ax.step(
        hours, _levels(stages, stage_levels), where="post", color="k", lw=1, label="predicted"
    )
    rem = stages == "R"
    if rem.any():
        ax.hlines(
            np.full(rem.sum(), level["R"]),
            hours[:-1][rem],
            hours[1:][rem],
            color=_COLORS["R"],
            lw=4,
        )
        handles.append(Patch(color=_COLORS["R"], label="R"))
    if highlight_n1 and (stages == "N1").any():
        for start, stop in _runs(stages == "N1"):
            ax.axvspan(hours[start], hours[stop], color=_COLORS["N1"], alpha=0.25, lw=0)
        handles.append(Patch(color=_COLORS["N1"], alpha=0.25, label="N1 (shaded)"))
    if unscored.any():  # epochs stage() could not score: their own row, hatched
        ax.hlines(
            np.full(unscored.sum(), level[UNSCORED]),
            hours[:-1][unscored],
            hours[1:][unscored],
            color="0.4",
            lw=4,
        )
        for start, stop in _runs(unscored):
            ax.axvspan(hours[start], hours[stop], color="0.5", alpha=0.3, lw=0, hatch="//")
        handles.append(
            Patch(facecolor="0.5", alpha=0.3, hatch="//", label=f"unscored ({unscored.sum()})")
        )
    ax.set_yticks(
        [level[stage] for stage in rows],
        [stage if stage != UNSCORED else "? (unscored)" for stage in rows],
    )
    ax.set_ylim(min(level.values()) - 0.5, len(_DISPLAY_ORDER) - 0.5)
    ax.set_xlim(0, hours[-1])
    ax.set_ylabel("Stage")
    ax.set_title("Hypnogram")
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.005, 1.0),
        fontsize="small",
        frameon=False,
    )
    time_axis = axes[1, 0] if show_proba else ax
    if show_proba:
        plot_stage_probabilities(hypnogram, ax=axes[1, 0])
    _time_axis(time_axis, meas_date)
    return fig


def _time_axis(ax, meas_date):
    """Clock time from the recording's start when known, else hours from the start."""
    if meas_date is None:
        ax.set_xlabel("Time from start (h)")
        return
    import datetime

    from matplotlib.ticker import FixedLocator, FuncFormatter

    span = ax.get_xlim()[1]
    step = 1.0 if span > 3 else 0.5 if span > 1 else 0.25
    # Ticks on round clock times (22:00, 23:00, ...), not at the recording's odd start minute.
    start = meas_date.hour + meas_date.minute / 60 + meas_date.second / 3600
    first = (-start) % step
    ax.xaxis.set_major_locator(FixedLocator(np.arange(first, span + 1e-9, step)))

    def clock(hours, _position):
        return (meas_date + datetime.timedelta(hours=hours)).strftime("%H:%M")

    ax.xaxis.set_major_formatter(FuncFormatter(clock))
    zone = meas_date.tzname() or "local"
    ax.set_xlabel(f"Clock time ({zone}; recording began {meas_date:%Y-%m-%d %H:%M})")


def _levels(stages, level):
    # Unscored epochs ('?') leave a gap in the line.
    values = np.array([level.get(stage, np.nan) for stage in stages], dtype=float)
    return np.append(values, values[-1])


def _runs(mask):
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))


@fill_doc
def plot_stage_probabilities(hypnogram, *, ax=None):  # noqa: D417 (fill_doc)
    """Stacked stage probabilities over the night.

    Parameters
    ----------
    hypnogram : Hypnogram
        Result of :func:`mne_sscsleep.stage`.
    %(ax_fig)s

    Examples
    --------
    >>> fig = plot_stage_probabilities(stage(model, raw))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 2.5), layout="constrained")
    else:
        fig = ax.figure
    columns = list(hypnogram.class_stages)
    hours = (np.arange(len(hypnogram)) + 0.5) * EPOCH_DURATION / 3600
    order = [stage for stage in _DISPLAY_ORDER if stage in columns]
    ax.stackplot(
        hours,
        [hypnogram.proba[:, columns.index(stage)] for stage in order],
        labels=order,
        colors=[_COLORS[stage] for stage in order],
        alpha=0.85,
    )
    ax.set_ylim(0, 1)
    ax.set_xlim(0, len(hypnogram) * EPOCH_DURATION / 3600)
    ax.set_xlabel("Time from start (h)")
    ax.set_ylabel("Probability")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return fig


@fill_doc
def plot_confusion_matrix(y_true, y_pred, *, normalize=True, ax=None):  # noqa: D417 (fill_doc)
    """Confusion matrix of two scorings, rows normalised to recall by default.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_epochs,)
        Reference and predicted stages (any accepted label form).
    normalize : bool
        Show each row as shares of the true stage (recall on the diagonal) instead of counts.
    %(ax_fig)s

    Examples
    --------
    >>> fig = plot_confusion_matrix(["W", "N1", "N2", "R"], ["W", "W", "N2", "R"])
    """
    import matplotlib.pyplot as plt

    from .metrics import sleep_report

    report = sleep_report(y_true, y_pred)
    matrix = report.confusion.astype(float)
    if normalize:
        matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    else:
        fig = ax.figure
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    for row in range(len(STAGES)):
        for col in range(len(STAGES)):
            text = f"{matrix[row, col]:.2f}" if normalize else f"{int(matrix[row, col])}"
            dark = matrix[row, col] > 0.6 * (1 if normalize else matrix.max())
            ax.text(
                col,
                row,
                text,
                ha="center",
                va="center",
                fontsize="small",
                color="white" if dark else "black",
            )
    ax.set_xticks(range(len(STAGES)), STAGES)
    ax.set_yticks(range(len(STAGES)), STAGES)
    ax.set_xlabel("Predicted stage")
    ax.set_ylabel("True stage")
    ax.set_title(f"macro-F1 {report.macro_f1:.2f}, N1-F1 {report.n1_f1:.2f}")
    fig.colorbar(image, ax=ax, shrink=0.8, label="Share of true stage" if normalize else "Epochs")
    return fig


def plot_bland_altman(reference, predicted, *, name="", unit="min", ax=None):
    """Bland-Altman plot of one sleep statistic: difference against mean, bias and 95 % limits.

    As the paper's Fig. 6 (sleep efficiency, WASO, total sleep time, manual vs automatic).

    Parameters
    ----------
    reference, predicted : array-like, shape (n_recordings,)
        The statistic per recording, from the reference scoring and from the model (e.g. a
        column of ``sleep_statistics`` over nights). Recordings where either is NaN are left
        out.
    name : str
        Name of the statistic, for the title and axes.
    unit : str
        Its unit.
    ax : matplotlib.axes.Axes | None
        Axes to draw in.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure: one point per recording, the bias (mean difference) and its 95 % limits of
        agreement (bias -+ 1.96 standard deviations of the differences).

    Examples
    --------
    >>> fig = plot_bland_altman([400, 380, 420, 390], [410, 370, 430, 395], name="TST")
    """
    import matplotlib.pyplot as plt

    reference = np.asarray(reference, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if reference.shape != predicted.shape or reference.ndim != 1:
        raise ValueError(
            f"reference and predicted must be one value per recording each, got shapes "
            f"{reference.shape} and {predicted.shape}."
        )
    both = np.isfinite(reference) & np.isfinite(predicted)
    if both.sum() < 2:
        raise ValueError("A Bland-Altman plot needs at least two recordings with both values.")
    reference, predicted = reference[both], predicted[both]
    mean, difference = (reference + predicted) / 2, predicted - reference
    bias, spread = difference.mean(), difference.std(ddof=1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    else:
        fig = ax.figure
    ax.scatter(mean, difference, color="k", s=18)
    for value, style, label in (
        (bias, "-", f"bias {bias:+.1f}"),
        (bias + 1.96 * spread, "--", f"+1.96 sd {bias + 1.96 * spread:+.1f}"),
        (bias - 1.96 * spread, "--", f"-1.96 sd {bias - 1.96 * spread:+.1f}"),
    ):
        ax.axhline(value, color="tab:red", ls=style, lw=1, label=label)
    suffix = f" ({unit})" if unit else ""
    ax.set_xlabel(f"mean of reference and predicted{suffix}")
    ax.set_ylabel(f"predicted - reference{suffix}")
    ax.set_title(f"Bland-Altman: {name}" if name else "Bland-Altman")
    ax.legend(fontsize="small", loc="best")
    return fig


def save_figure(fig, fname, *, overwrite=False, dpi=120):
    """Save a figure through a temporary file, marked as this package's.

    An existing file is replaced only with ``overwrite=True`` and only when it is a figure this
    package wrote (PNG, PDF and SVG carry the mark); anything else is never written over.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    fname : str | pathlib.Path
        The file; the extension picks the format (:data:`FIGURE_SUFFIXES`).
    overwrite : bool
        Replace a figure this package wrote before.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    fname : pathlib.Path
        The file written.

    Examples
    --------
    >>> save_figure(plot_hypnogram(hypnogram), "night.png")  # doctest: +SKIP
    """
    fname = check_output_file(
        fname, "plot", suffixes=FIGURE_SUFFIXES, overwrite=overwrite, is_ours=is_figure_file
    )
    key = _METADATA_KEY.get(fname.suffix.lower())
    metadata = {key: _CREATOR} if key else None
    with atomic_write(fname) as tmp:
        fig.savefig(tmp, dpi=dpi, metadata=metadata, format=fname.suffix.lower()[1:])
    return fname


@fill_doc
def is_figure_file(fname):  # noqa: D417 (fill_doc)
    """Whether a file is a figure this package wrote (PNG, PDF or SVG with its mark).

    %(fname_ours)s
        True when the file's metadata name mne-sscsleep as its creator.

    Examples
    --------
    >>> is_figure_file(save_figure(plot_hypnogram(hypnogram), "night.png"))  # doctest: +SKIP
    True
    """
    fname = Path(fname)
    if fname.suffix.lower() not in _METADATA_KEY:
        return False
    mark = _CREATOR.encode()
    try:
        size = fname.stat().st_size
        with open(fname, "rb") as fid:
            head = fid.read(1 << 16)
            fid.seek(max(size - (1 << 16), 0))
            tail = fid.read()
    except OSError:
        return False
    return mark in head or mark in tail
