"""Declared dependency bounds, their lowest-versions pins, and the doctest setup."""

import configparser
import doctest
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOWEST = ROOT / "requirements" / "lowest.txt"

pytestmark = pytest.mark.skipif(
    not PYPROJECT.exists(), reason="needs the source tree (pyproject.toml)"
)


def _canonical(name):
    # PEP 503 normalisation: open_clip_torch == open-clip-torch.
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_lower_bounds():
    """{package: lower bound} of the dependencies and the runtime extras."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = (
        project["dependencies"]
        + extras["clip"]
        + extras["plot"]
        + extras["distributed"]
        + [r for r in extras["transformers"] if not r.startswith("sklearn_pos[")]
    )
    bounds = {}
    for requirement in requirements:
        match = re.fullmatch(
            r"([A-Za-z0-9_.-]+)(?:\[[A-Za-z0-9_,.-]+\])?>=([0-9][0-9A-Za-z.]*)",
            requirement,
        )
        assert match, f"{requirement!r}: declare runtime dependencies as 'name>=X.Y.Z'"
        bounds[_canonical(match[1])] = match[2]
    return bounds


def _lowest_pins():
    pins = {}
    for line in LOWEST.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r} in {LOWEST.name}: pin as 'name==X.Y.Z'"
            pins[_canonical(name)] = version
    return pins


def test_lowest_pins_equal_declared_lower_bounds():
    # .ci/lowest tests requirements/lowest.txt: it only tests the declared
    # minimum if every pin is exactly the bound of pyproject.toml.
    assert _lowest_pins() == _declared_lower_bounds()


def test_pytest_configuration_runs_the_docstring_examples():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    section = config["tool:pytest"]
    assert "sklearn_pos" in section["testpaths"].split()
    assert "--doctest-modules" in section["addopts"].split()
    flags = section["doctest_optionflags"].split()
    assert {"NORMALIZE_WHITESPACE", "ELLIPSIS"} <= set(flags)


def _unexpected(exc):
    test = doctest.DocTest([], {}, "example", "example.py", 0, "")
    example = doctest.Example("import torch\n", "")
    try:
        raise exc
    except BaseException:
        return doctest.UnexpectedException(test, example, sys.exc_info())


class _ExcInfo:
    def __init__(self, value):
        self.value = value


def _doctest_conftest():
    from sklearn_pos import conftest

    return conftest


@pytest.mark.parametrize(
    "exc, expected",
    [
        (ModuleNotFoundError("No module named 'torch'", name="torch"), "torch"),
        (
            ModuleNotFoundError("No module named 'PIL.Image'", name="PIL.Image"),
            "PIL.Image",
        ),
        # A dependency of the core, or a typo, is a real failure.
        (ModuleNotFoundError("No module named 'scipy'", name="scipy"), None),
        (ValueError("wrong output"), None),
    ],
)
def test_doctest_skip_rule_names_missing_optional_modules(exc, expected):
    conftest = _doctest_conftest()
    excinfo = _ExcInfo(_unexpected(exc))
    assert conftest._missing_optional_module(excinfo) == expected


def test_doctest_skip_rule_follows_reraised_import_errors():
    # plotting re-raises ImportError("... pip install ...") from the original.
    conftest = _doctest_conftest()
    try:
        try:
            raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")
        except ImportError as original:
            raise ImportError("install the [plot] extra") from original
    except ImportError as advice:
        excinfo = _ExcInfo(_unexpected(advice))
    assert conftest._missing_optional_module(excinfo) == "matplotlib"
    # A doctest whose output merely differs is never skipped.
    test = doctest.DocTest([], {}, "example", "example.py", 0, "")
    failure = doctest.DocTestFailure(test, doctest.Example("1\n", "2\n"), "1\n")
    assert conftest._missing_optional_module(_ExcInfo(failure)) is None
    assert conftest._missing_optional_module(None) is None
