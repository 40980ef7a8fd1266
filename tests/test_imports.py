"""The package's import graph: no cycles, and the layers only import downwards.

Read from the source with ``ast`` (lazy imports inside functions count), so a cycle cannot hide
behind an import placed in a function.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mne_sscsleep"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph():
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            targets |= {c for c in candidates if c in files and c not in (name, "mne_sscsleep")}
        graph[name] = targets
    return graph


GRAPH = _import_graph()


def _reachable(start):
    seen, stack = set(), [start]
    while stack:
        for target in GRAPH[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def test_the_graph_was_read():
    assert {"mne_sscsleep._classifier", "mne_sscsleep.nn._paper", "mne_sscsleep.io"} <= set(GRAPH)
    assert "mne_sscsleep._epochs" in GRAPH["mne_sscsleep._classifier"]


def test_no_import_cycles():
    cycles = [name for name in GRAPH if name in _reachable(name)]
    assert not cycles, f"modules on an import cycle: {cycles}"


BOUNDARY = {"mne_sscsleep._epochs", "mne_sscsleep._channels"}
ABOVE_TRAINING = {
    "mne_sscsleep._classifier",
    "mne_sscsleep.io",
    "mne_sscsleep.staging",
    "mne_sscsleep.cli",
    "mne_sscsleep.metrics",
    "mne_sscsleep.viz",
} | {name for name in GRAPH if name.startswith("mne_sscsleep.datasets")}


@pytest.mark.parametrize(
    "module",
    sorted(
        name for name in GRAPH if name.startswith(("mne_sscsleep.nn", "mne_sscsleep.training"))
    ),
)
def test_network_loss_and_training_import_nothing_from_the_boundary_or_above(module):
    imported = _reachable(module)
    assert not imported & (BOUNDARY | ABOVE_TRAINING), sorted(
        imported & (BOUNDARY | ABOVE_TRAINING)
    )
    if module.startswith("mne_sscsleep.nn"):  # plain torch: not even the training side
        assert not {name for name in imported if name.startswith("mne_sscsleep.training")}


def test_the_ground_floor_imports_nothing_of_ours():
    assert GRAPH["mne_sscsleep._stages"] == set()
    assert _reachable("mne_sscsleep._channels") == set()


def test_model_files_do_not_know_the_classifier():
    assert "mne_sscsleep._classifier" not in _reachable("mne_sscsleep.io")


def test_datasets_do_not_know_the_model():
    for name in GRAPH:
        if name.startswith("mne_sscsleep.datasets"):
            imported = _reachable(name)
            assert not imported & {
                "mne_sscsleep._classifier",
                "mne_sscsleep.staging",
                "mne_sscsleep.cli",
            }, name


def test_the_input_boundary_knows_no_store():
    """_epochs.py converts what users hand in; the datasets package sits above it."""
    reachable = _reachable("mne_sscsleep._epochs")
    assert not {name for name in reachable if name.startswith("mne_sscsleep.datasets")}


def test_the_ground_floor_checks_import_nothing_of_ours():
    assert GRAPH["mne_sscsleep._check"] == set()
    assert GRAPH["mne_sscsleep._docs"] == set()
    assert GRAPH["mne_sscsleep._protocols"] == set()  # the contracts between floors


def test_the_classifier_holds_skorch_hooks_and_public_methods():
    """Helpers live beside the class as functions; the class stays readable (< 500 lines)."""
    import inspect

    from skorch import NeuralNetClassifier

    from mne_sscsleep import SSCSleepClassifier

    lines, _ = inspect.getsourcelines(SSCSleepClassifier)
    assert len(lines) < 500, f"SSCSleepClassifier has {len(lines)} lines"
    own = [name for name in vars(SSCSleepClassifier) if not name.startswith("__")]
    helpers = {"_preset", "_context", "_log"}  # the preset's defaults, read by the hooks
    other = [
        name
        for name in own
        if name.startswith("_") and name not in helpers and not hasattr(NeuralNetClassifier, name)
    ]
    assert not other, f"private methods beyond the hooks: {other}"


def test_no_module_imports_a_private_name_of_another():
    """Private names stay in their module: another floor uses only what a module makes public."""
    borrowed = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                borrowed += [
                    f"{_module_name(path)}: from {'.' * node.level}{node.module or ''} "
                    f"import {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    assert not borrowed, borrowed
