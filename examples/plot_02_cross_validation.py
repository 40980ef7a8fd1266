"""
.. _ex-cross-validation:

Subject-wise cross-validation and grid search in a ``Pipeline``
================================================================

Epochs of one night are not independent: a model tested on epochs of a subject it was trained on
looks better than it is. Split by subject with :class:`~sklearn.model_selection.GroupKFold`,
score with the N1-F1 scorer, and tune hyper-parameters with
:class:`~sklearn.model_selection.GridSearchCV` inside a scikit-learn
:class:`~sklearn.pipeline.Pipeline`.
"""

# %%
import numpy as np
from mne.decoding import FilterEstimator
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import simulate_sleep_epochs
from mne_sscsleep.metrics import SCORERS

epochs, y, groups = simulate_sleep_epochs(4, hours=3.0, random_state=1, verbose="error")
print(f"{len(y)} epochs from {len(set(groups))} subjects")

# %%
# A pipeline: band-pass filter, then SSC-SleepNet
# ------------------------------------------------
# MNE's :class:`~mne.decoding.FilterEstimator` filters the epochs inside the pipeline. The
# classifier then sees arrays in volts (what scikit-learn passes between steps). Passing
# ``epochs.get_data()`` rather than the ``mne.Epochs`` keeps scikit-learn's slicing fast.
# Small settings keep this example under a minute; the defaults are larger.
X = epochs.get_data().astype(np.float32)
pipe = make_pipeline(
    FilterEstimator(epochs.info, l_freq=0.3, h_freq=35.0),
    SSCSleepClassifier(preset="lite", max_epochs=6, random_state=0, verbose=0),
)

# %%
# Cross-validation by subject
# ---------------------------
# Each fold tests on subjects never seen in training. ``SCORERS`` holds macro-F1, N1-F1 and
# accuracy.
scores = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(2), scoring=SCORERS)
for name in SCORERS:
    values = scores[f"test_{name}"]
    print(f"{name:>9}: {values.mean():.3f} (folds: {np.round(values, 3)})")

# %%
# These scores are low because the settings are small: two training subjects of 3 h and six passes,
# so that the whole page builds in under a minute. With eight subjects of 8 h and up to 20
# passes the same cross-validation reaches macro-F1 ~0.84 on simulated nights (see the
# Benchmarks page).

# %%
# Grid search on N1-F1
# --------------------
# Every part of the model is a parameter reachable through skorch's prefixes: the network
# (``module__*``), the adaptive loss (``criterion__*``), the pair sampler
# (``iterator_train__*``). Here: the focal-loss exponent and the share of pairs anchored on N1,
# ranked by N1-F1, the stage this model is built to improve.
search = GridSearchCV(
    pipe,
    param_grid={
        "sscsleepclassifier__criterion__gamma": [0.0, 2.0],
        "sscsleepclassifier__iterator_train__n1_share": [None, 0.2],
    },
    scoring=SCORERS,
    refit="n1_f1",
    cv=GroupKFold(2),
)
search.fit(X, y, groups=groups)
print("best parameters:", search.best_params_)
print(f"best N1-F1: {search.best_score_:.3f}")

# %%
# The results table, one row per parameter combination.
import pandas as pd  # noqa: E402

results = pd.DataFrame(search.cv_results_)
columns = ["params", "mean_test_n1_f1", "mean_test_macro_f1", "rank_test_n1_f1"]
print(results[columns].to_string(index=False))
