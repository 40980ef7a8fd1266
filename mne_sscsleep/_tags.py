"""scikit-learn tags of the classifier, with the generic checks that cannot apply to it.

scikit-learn's ``check_estimator`` fits estimators on toy arrays of a few features. A model of
30-s EEG epochs needs ``round(30 * sfreq)`` samples per epoch (3000 at 100 Hz) and refuses
anything else with a message that says so; the checks that fit on toy data therefore test that
refusal, not what they are meant to test. They are declared here, each with its reason, so that
``check_estimator(clf, expected_failed_checks=get_tags(clf).not_applicable_checks)`` runs every
other check (tests/test_sklearn.py does, and requires them to pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sklearn.utils import Tags

_FIXED_INPUT = (
    "fits a toy array of a few features; the model takes 30-s EEG epochs "
    "(round(30 * sfreq) samples each) and refuses other input, so the check cannot reach what "
    "it tests"
)

#: Checks of ``sklearn.utils.estimator_checks`` that cannot apply, with the reason.
NOT_APPLICABLE_CHECKS = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet stores prefixed parameters (module__*), history_ and initialized_ "
        "in __init__, by design"
    ),
    **{
        name: _FIXED_INPUT
        for name in (
            "check_classifier_data_not_an_array",
            "check_classifiers_classes",
            "check_classifiers_one_label",
            "check_classifiers_train",
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_dtype_object",
            "check_estimators_dtypes",
            "check_estimators_fit_returns_self",
            "check_estimators_nan_inf",
            "check_estimators_overwrite_params",
            "check_estimators_partial_fit_n_features",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit2d_1feature",
            "check_fit2d_1sample",
            "check_fit2d_predict1d",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_n_features_in",
            "check_n_features_in_after_fitting",
            "check_pipeline_consistency",
            "check_positive_only_tag_during_fit",
            "check_readonly_memmap_input",
            "check_supervised_y_2d",
        )
    },
}


@dataclass(slots=True)
class SleepStagerTags(Tags):
    """scikit-learn's :class:`~sklearn.utils.Tags`, plus the checks that cannot apply.

    Parameters
    ----------
    not_applicable_checks : dict
        ``{check name: reason}``: what to pass as ``expected_failed_checks`` to
        :func:`sklearn.utils.estimator_checks.check_estimator`.
    """

    not_applicable_checks: dict = field(default_factory=dict)

    @classmethod
    def from_tags(cls, tags, not_applicable_checks):
        """These tags from scikit-learn's, with the declared checks."""
        values = {item.name: getattr(tags, item.name) for item in fields(Tags)}
        return cls(**values, not_applicable_checks=dict(not_applicable_checks))
