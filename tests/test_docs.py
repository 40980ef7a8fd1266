"""The documentation builds with warnings as errors, and public objects document themselves."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mne_sscsleep
from mne_sscsleep import datasets, io, metrics, nn, training, viz

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _public_objects():
    for module in (mne_sscsleep, datasets, io, metrics, nn, training, viz):
        for name in getattr(module, "__all__", None) or dir(module):
            obj = getattr(module, name)
            if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if obj.__module__.startswith("mne_sscsleep"):
                yield f"{obj.__module__}.{name}", obj


@pytest.mark.parametrize("name, obj", sorted(dict(_public_objects()).items()))
def test_public_objects_have_examples(name, obj):
    assert "Examples\n" in inspect.getdoc(obj), f"{name} has no Examples section"


def _documented(doc):
    """Names in a numpy docstring's Parameters section."""
    names, inside = set(), False
    for line in doc.splitlines():
        if line.strip() in ("Parameters", "Other Parameters"):
            inside = True
        elif inside and set(line.strip()) == {"-"}:
            continue
        elif inside and line.strip() and not line.startswith(" ") and " : " not in line:
            inside = False
        elif inside and line and not line.startswith(" "):
            names.update(part.strip().lstrip("*") for part in line.split(" : ")[0].split(","))
    return names


def _signature_params(obj):
    if inspect.isclass(obj) and obj.__init__ is object.__init__:
        return set()
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in params if p.name not in ("self", "cls")}


@pytest.mark.parametrize("name, obj", sorted(dict(_public_objects()).items()))
def test_public_objects_document_every_parameter(name, obj):
    # ruff's D417 cannot see entries filled in by fill_doc (``%(name)s``); this reads the
    # docstrings as users see them.
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and "Parameters\n" not in doc:
        doc = inspect.getdoc(obj.__init__) or ""
    missing = _signature_params(obj) - _documented(doc)
    missing -= {name for name in missing if f"**{name}" in doc or f"*{name}" in doc}
    assert not missing, f"{name} does not document {sorted(missing)}"


def _api_entries(text):
    """The fully qualified names that docs/api.rst's autosummary tables list."""
    entries, module, in_table = set(), None, False
    for line in text.splitlines():
        if line.startswith(".. currentmodule::"):
            module = line.split("::", 1)[1].strip()
        elif line.startswith(".. autosummary::"):
            in_table = True
        elif in_table and line.startswith("   ") and not line.strip().startswith(":"):
            entries.add(f"{module}.{line.strip()}")
        elif in_table and line.strip() and not line.startswith("   "):
            in_table = False
    return entries


def test_api_entries_are_parsed_from_autosummary_tables():
    text = ".. currentmodule:: pkg\n\n.. autosummary::\n   :toctree: generated/\n\n   stage\n"
    text += "\nstage\n-----\n"
    assert _api_entries(text) == {"pkg.stage"}  # the heading "stage" is not an entry


def test_every_public_object_is_in_the_api_reference():
    listed = _api_entries((DOCS / "api.rst").read_text())
    missing = []
    for module in (mne_sscsleep, datasets, io, metrics, nn, training, viz):
        for name in getattr(module, "__all__", None) or dir(module):
            obj = getattr(module, name)
            if name.startswith("_") or inspect.ismodule(obj):
                continue
            if getattr(obj, "__module__", "mne_sscsleep").startswith("mne_sscsleep") and not any(
                f"{owner.__name__}.{name}" in listed
                for owner in (module, mne_sscsleep, datasets, io, metrics, nn, training, viz)
            ):
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"not in an autosummary table of docs/api.rst: {missing}"


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("numpydoc")
    # The fast configuration renders the gallery pages without running the examples; a full
    # build (sphinx-build -W docs docs/_build/html) runs them. Offline: no intersphinx.
    env = dict(os.environ, SSCSLEEP_DOCS_FAST="1", SSCSLEEP_DOCS_OFFLINE="1", MPLBACKEND="Agg")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    html = tmp_path / "html"
    assert (html / "api.html").is_file() and (html / "user_guide.html").is_file()
    assert (html / "generated" / "mne_sscsleep.SSCSleepClassifier.html").is_file()
    assert (html / "auto_examples" / "plot_01_quickstart.html").is_file()
    # The architecture diagram of the user guide is drawn at build time.
    assert any((html / "_images").glob("sscsleepnet_diagram*.png"))


def _package_modules():
    import pkgutil

    return sorted(
        info.name
        for info in pkgutil.walk_packages(mne_sscsleep.__path__, "mne_sscsleep.")
        if info.name not in ("mne_sscsleep.__main__",)
    )


@pytest.mark.parametrize("module", _package_modules())
def test_docstring_examples_run(module):
    import doctest
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    plt.close("all")
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module}"
