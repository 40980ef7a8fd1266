"""Sphinx configuration of the mne-sscsleep documentation.

Build: ``sphinx-build -W docs docs/_build/html`` (executes the gallery, ~3 min on 2 cores).
Set ``SSCSLEEP_DOCS_FAST=1`` to skip running the examples (what the test suite does).
"""

import os
from datetime import date

import mne_sscsleep

project = "mne-sscsleep"
author = "mne-sscsleep developers"
copyright = f"2026-{date.today().year}, {author}"
release = mne_sscsleep.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

# The architecture diagram of the user guide is drawn by docs/sscsleepnet_diagram.py.
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
default_role = "py:obj"
nitpicky = False

# -- autodoc / autosummary / numpydoc ------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Every public docstring is validated at build time; with -W a violation fails the build.
# Left out: extended summary (ES01), See Also (SA01), named returns (RT02, MNE style), and
# Examples (EX01) on *methods*: public
# functions and classes must have Examples, which tests/test_docs.py checks.
numpydoc_validation_checks = {"all", "ES01", "SA01", "EX01", "GL08", "RT02"}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.__repr__$",
    r"\.__call__$",
    # skorch and torch methods inherited without our own docstrings
    r"SSCSleepClassifier\.(?!fit$|predict$|predict_proba$|save$|load$|classes_$)",
    # torch building blocks: forward's one-line docstring gives its shapes, the class the rest
    r"(Branch(Lite)?|ChannelLayerNorm|Augmentation|SEResidualBlock|SqueezeExcitation)\.",
    r"SSCSleepNet(Lite)?\.(?!forward$)",
    r"(LossSchedule|LRPlateau)\.(?!values_after$|lr_after$)",
    r"Preset\.",
    r"AdaptiveLoss\.(?!forward$|set_class_counts$)",
    r"N1Adaptation\.(?!weight_after$)",  # skorch callback hooks, documented by skorch
    r"EarlyStopping\.(?!replay$|stopped$)",
    r"(Pair|Epoch)Loader\.",  # torch DataLoader methods
    r"(PairBatch|SequentialBatch)Sampler\.",  # torch Sampler protocol
    r"ModelFile\.",  # dataclass fields, documented in the class's Attributes
    # data (constants and scorers): "#:" comments, not numpydoc docstrings
    r"\.[A-Z][A-Z0-9_]+$",  # STAGES, EVENT_ID, REGISTRY, DERIVATIONS, ...
    r"\.(macro_f1_scorer|n1_f1_scorer|accuracy_scorer|macro_gmean_scorer)$",
}

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "mne": ("https://mne.tools/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "torch": ("https://docs.pytorch.org/docs/stable", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
}
intersphinx_timeout = 5


def _online(host="mne.tools", port=443, timeout=3.0):
    import socket

    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


# Builds without network (CI, this project's sandbox) cannot fetch the inventories, and Sphinx
# reports that as an untyped warning that -W turns into an error: link out only when online.
if os.environ.get("SSCSLEEP_DOCS_OFFLINE") or not _online():
    print("mne-sscsleep docs: offline, intersphinx links to other projects are not resolved")
    intersphinx_mapping = {}

# -- sphinx-gallery ------------------------------------------------------------------------------
fast = bool(os.environ.get("SSCSLEEP_DOCS_FAST"))
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Only plot_*.py run at build time; sleep_edf_*.py needs internet and is shown, not run.
    "filename_pattern": r"/plot_",
    "plot_gallery": not fast,
    "within_subsection_order": "FileNameSortKey",
    "reference_url": {"mne_sscsleep": None},
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("mne_sscsleep",),
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "abort_on_example_error": True,
}

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"mne-sscsleep {release}"
html_theme_options = {
    "github_url": "https://github.com/mne-sscsleep/mne-sscsleep",
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_context = {"default_mode": "light"}
