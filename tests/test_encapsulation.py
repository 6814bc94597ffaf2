"""Only decomposition.py touches the internals of PartOfSpeechComponentAnalysis.

Other modules (metrics, plotting, the CLI, the vocabulary step) go through its
public seam, ``project`` and ``tangent_vectors``: they neither call its private
members nor rewrite its fitted attributes on an estimator they did not create.
"""

import ast
from pathlib import Path

import pytest

import sklearn_pos

PACKAGE = Path(sklearn_pos.__file__).parent
DECOMPOSITION = PACKAGE / "decomposition.py"


def _estimator_class(tree):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ClassDef)
            and node.name == "PartOfSpeechComponentAnalysis"
        ):
            return node
    raise AssertionError("PartOfSpeechComponentAnalysis not found")


def _internals():
    """``(private member names, fitted attribute names)`` of the estimator."""
    cls = _estimator_class(ast.parse(DECOMPOSITION.read_text()))
    private = {"_centered"}  # the former name of tangent_vectors
    fitted = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef):
            name = node.name
            if name.startswith("_") and not name.startswith("__"):
                private.add(name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
            and node.attr.endswith("_")
            and not node.attr.startswith("_")
        ):
            fitted.add(node.attr)
    return private, fitted


def _is_self(node):
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _stored_attributes(target):
    """The ``obj.attr`` nodes an assignment target writes, tuples unpacked."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _stored_attributes(element)
    elif isinstance(target, ast.Starred):
        yield from _stored_attributes(target.value)
    elif isinstance(target, ast.Attribute):
        yield target


def violations(source, private, fitted, where="<string>"):
    """Lines of ``source`` that reach into the estimator's internals."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in private
            and not _is_self(node.value)
        ):
            found.append(f"{where}:{node.lineno}: accesses .{node.attr}")
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            for attr in _stored_attributes(target):
                if attr.attr in fitted and not _is_self(attr.value):
                    found.append(f"{where}:{attr.lineno}: assigns .{attr.attr}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in fitted
            and not _is_self(node.args[0])
        ):
            found.append(f"{where}:{node.lineno}: {node.func.id} {node.args[1].value}")
    return found


def test_the_internals_are_found():
    private, fitted = _internals()
    assert {"_centered", "_to_space", "_from_space", "_subspace_index"} <= private
    assert {"components_", "target_", "eigenvalues_", "class_components_"} <= fitted


@pytest.mark.parametrize(
    "line",
    [
        "Y = estimator._centered(X)",
        "V = pos._to_space(X, inv)",
        "pos.components_ = fitted.class_components_[1]",
        "pos.target_, pos.eigenvalues_ = 'adj', values",
        "setattr(pos, 'components_', W)",
        "pos.mean_ += 1",
    ],
)
def test_the_scan_catches_reaching_in(line):
    private, fitted = _internals()
    assert violations(line, private, fitted)


def test_the_scan_allows_the_public_seam_and_own_attributes():
    private, fitted = _internals()
    source = (
        "Y = estimator.tangent_vectors(X)\n"
        "Z = estimator.project(X, subspace='adj', output='projection')\n"
        "self.components_ = pos.components_\n"
        "W = pos.class_components_[0]\n"
        "self._to_space(X, inv)\n"
    )
    assert violations(source, private, fitted) == []


def test_no_module_reaches_into_the_estimator():
    private, fitted = _internals()
    modules = sorted(p for p in PACKAGE.rglob("*.py") if p != DECOMPOSITION)
    assert len(modules) > 5
    found = []
    for path in modules:
        where = str(path.relative_to(PACKAGE))
        found += violations(path.read_text(encoding="utf-8"), private, fitted, where)
    assert found == []
