import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mne_sscsleep import STAGES, Hypnogram  # noqa: E402
from mne_sscsleep.viz import (  # noqa: E402
    plot_confusion_matrix,
    plot_hypnogram,
    plot_stage_probabilities,
)


@pytest.fixture
def hypnogram(rng):
    stages = np.array(
        ["W"] * 10
        + ["N1"] * 3
        + ["N2"] * 20
        + ["N3"] * 10
        + ["N2"] * 5
        + ["R"] * 8
        + ["N1"] * 2
        + ["W"] * 2
    )
    proba = rng.dirichlet(np.ones(5), len(stages))
    return Hypnogram(
        onset=np.arange(len(stages)) * 30.0,
        stage=stages,
        label=stages,
        proba=proba,
        classes=np.array(STAGES),
        bad=np.zeros(len(stages), bool),
        reason=np.full(len(stages), ""),
        ch_name="EEG Fpz-Cz",
    )


def test_hypnogram_with_probabilities(hypnogram):
    fig = plot_hypnogram(hypnogram)
    top, bottom = fig.axes[:2]
    position = {t.get_text(): y for t, y in zip(top.get_yticklabels(), top.get_yticks())}
    assert sorted(position, key=position.get, reverse=True) == ["W", "R", "N1", "N2", "N3"]
    legend = [text.get_text() for text in top.get_legend().get_texts()]
    assert legend == ["predicted", "R", "N1 (shaded)"] and top.get_ylabel() == "Stage"
    assert len(top.patches) == 2  # two runs of N1 shaded
    assert bottom.get_xlabel() == "Time from start (h)" and bottom.get_ylim() == (0.0, 1.0)
    assert len(bottom.collections) == 5  # one band per stage
    assert top.get_xlim()[1] == pytest.approx(len(hypnogram) * 30 / 3600)
    plt.close(fig)


def test_hypnogram_from_labels_against_reference(hypnogram):
    predicted = hypnogram.stage.copy()
    predicted[11] = "W"
    fig = plot_hypnogram(predicted, true_stages=hypnogram.stage, highlight_n1=False)
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["reference", "predicted"]
    assert len(ax.patches) == 0 and ax.get_legend() is not None
    assert ax.get_xlabel() == "Time from start (h)"
    with pytest.raises(ValueError, match="true_stages has 3 epochs"):
        plot_hypnogram(predicted, true_stages=["W", "W", "W"])
    plt.close("all")


def test_confusion_matrix_normalised(hypnogram):
    y_true = hypnogram.stage
    y_pred = y_true.copy()
    y_pred[:5] = "N1"  # half the wake called N1
    fig = plot_confusion_matrix(y_true, y_pred)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Predicted stage" and ax.get_ylabel() == "True stage"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(STAGES)
    texts = np.array([float(t.get_text()) for t in ax.texts]).reshape(5, 5)
    np.testing.assert_allclose(texts.sum(axis=1), 1.0, atol=0.02)
    assert texts[0, 0] == pytest.approx(7 / 12, abs=0.01)  # 12 wake epochs, 5 called N1
    assert texts[0, 1] == pytest.approx(5 / 12, abs=0.01)
    assert "macro-F1" in ax.get_title()
    counts = plot_confusion_matrix(y_true, y_pred, normalize=False).axes[0]
    assert int(counts.texts[1].get_text()) == 5
    plt.close("all")


def test_stage_probabilities(hypnogram):
    fig = plot_stage_probabilities(hypnogram)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Probability" and len(ax.collections) == 5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["W", "R", "N1", "N2", "N3"]
    plt.close(fig)


def test_unscored_epochs_leave_a_gap_and_are_hatched(hypnogram):
    bad = np.zeros(len(hypnogram), bool)
    bad[15:18] = True
    stages = np.where(bad, "?", hypnogram.stage)
    unscored = Hypnogram(
        onset=hypnogram.onset,
        stage=stages,
        label=hypnogram.label,
        proba=hypnogram.proba,
        classes=hypnogram.classes,
        bad=bad,
        reason=np.where(bad, "flat", ""),
        ch_name="EEG Fpz-Cz",
    )
    fig = plot_hypnogram(unscored, highlight_n1=False)
    top = fig.axes[0]
    assert "unscored (3)" in [text.get_text() for text in top.get_legend().get_texts()]
    # Unscored epochs have a row of their own, below N3, never a sleep stage's.
    rows = {t.get_text(): y for t, y in zip(top.get_yticklabels(), top.get_yticks())}
    assert rows["? (unscored)"] < rows["N3"]
    hatched = [patch for patch in top.patches if patch.get_hatch() == "//"]
    assert len(hatched) == 1
    x0, x1 = hatched[0].get_x(), hatched[0].get_x() + hatched[0].get_width()
    assert (x0, x1) == pytest.approx((15 * 30 / 3600, 18 * 30 / 3600))
    line = top.get_lines()[-1]
    assert np.isnan(line.get_ydata()[15:18]).all()  # no stage drawn where none was scored
    plt.close(fig)


def test_hypnogram_clock_time_legend_outside_and_empty(hypnogram):
    import datetime

    start = datetime.datetime(2026, 11, 29, 22, 30, tzinfo=datetime.timezone.utc)
    hypnogram.meas_date = start
    fig = plot_hypnogram(hypnogram)
    fig.canvas.draw()
    top, bottom = fig.axes[:2]
    assert bottom.get_xlabel().startswith("Clock time (UTC; recording began 2026-11-29 22:30")
    clock = bottom.xaxis.get_major_formatter()
    assert (clock(0.0, 0), clock(2.0, 1)) == ("22:30", "00:30")
    # The legend sits right of the axes: it covers no epoch.
    legend_box = top.get_legend().get_window_extent()
    assert legend_box.x0 >= top.get_window_extent().x1
    with pytest.raises(ValueError, match="hypnogram is empty"):
        plot_hypnogram([])
    plt.close("all")


def test_bland_altman_draws_the_bias_and_limits():
    from mne_sscsleep.viz import plot_bland_altman

    reference = np.array([400.0, 380.0, 420.0, 390.0, np.nan])
    predicted = np.array([410.0, 370.0, 435.0, 395.0, 300.0])
    fig = plot_bland_altman(reference, predicted, name="TST")
    (ax,) = fig.axes
    difference = predicted[:4] - reference[:4]
    bias, spread = difference.mean(), difference.std(ddof=1)
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines())
    np.testing.assert_allclose(levels, [bias - 1.96 * spread, bias, bias + 1.96 * spread])
    offsets = ax.collections[0].get_offsets()
    assert len(offsets) == 4  # the recording with a NaN is left out
    np.testing.assert_allclose(offsets[:, 1], difference)
    assert ax.get_title() == "Bland-Altman: TST"
    with pytest.raises(ValueError, match="at least two recordings"):
        plot_bland_altman([1.0], [2.0])
    plt.close(fig)
