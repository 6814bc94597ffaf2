"""pytest configuration of the docstring examples (``--doctest-modules``).

Only doctests are collected from this package (the tests live in ``tests/``), so
everything here applies to the ``>>>`` examples alone:

- each example runs in a fresh temporary working directory, so that examples
  which write files (the CLI's ``--output-dir``) leave nothing behind;
- numpy scalars print as in numpy 1.x (``0.5``, not ``np.float64(0.5)``), so
  that one expected output holds for every supported numpy;
- an example stopped by a missing optional dependency (``pip install .`` without
  the ``[clip]``, ``[plot]`` or ``[distributed]`` extra) is reported as
  skipped rather than failed.
"""

import doctest

import numpy as np
import pytest

# Top-level modules of the optional extras of pyproject.toml.
_OPTIONAL_MODULES = frozenset(
    {
        "torch",
        "torchvision",
        "open_clip",
        "PIL",
        "tqdm",
        "matplotlib",
        "pyarrow",
        "dask",
        "distributed",
    }
)


@pytest.fixture(autouse=True)
def _doctest_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the commands' default embedding store, kept out of the real home
    monkeypatch.setenv("SKLEARN_POS_CACHE", str(tmp_path / "cache"))
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        with np.printoptions(legacy="1.25"):
            yield
    else:
        yield


def _missing_optional_module(excinfo):
    """Name of the optional module whose absence stopped a doctest, or None."""
    if excinfo is None:
        return None
    error = excinfo.value
    # pytest raises one UnexpectedException, or MultipleDoctestFailures with
    # --doctest-continue-on-failure.
    for failure in getattr(error, "failures", [error]):
        if not isinstance(failure, doctest.UnexpectedException):
            continue
        exc = failure.exc_info[1]
        # Follow the chain: sklearn_pos re-raises some ImportErrors with
        # installation advice.
        seen = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            name = getattr(exc, "name", None)
            if (
                isinstance(exc, ModuleNotFoundError)
                and name
                and name.partition(".")[0] in _OPTIONAL_MODULES
            ):
                return name
            exc = exc.__cause__ or exc.__context__
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    missing = _missing_optional_module(call.excinfo)
    if missing is not None:
        lineno = getattr(getattr(item, "dtest", None), "lineno", None) or 0
        report.outcome = "skipped"
        report.longrepr = (
            str(item.path),
            lineno + 1,
            f"Skipped: the example needs {missing!r}, an optional dependency "
            "(pip install 'sklearn_pos[all]')",
        )
