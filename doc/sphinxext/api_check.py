"""Fail the build when a public name is missing from ``api.rst``.

The public names are ``sklearn_pos.__all__`` and the ``__all__`` of the public
submodules listed in ``PUBLIC_MODULES`` (for a module without ``__all__``: the
functions and classes it defines whose names do not start with ``_``). A name
counts as documented when an ``autosummary`` table of ``api.rst`` lists it
under ``.. currentmodule:: sklearn_pos`` or under its own module.
"""

import importlib
import inspect
import re
from pathlib import Path

from sphinx.errors import ExtensionError

# The submodules a user imports from (the others are implementation, or only
# hold names exported by the package itself).
PUBLIC_MODULES = (
    "sklearn_pos",
    "sklearn_pos.caveats",
    "sklearn_pos.clap",
    "sklearn_pos.datasets",
    "sklearn_pos.embedding",
    "sklearn_pos.evaluation",
    "sklearn_pos.jobs",
    "sklearn_pos.metrics",
    "sklearn_pos.persistence",
    "sklearn_pos.plotting",
    "sklearn_pos.store",
    "sklearn_pos.templates",
)
NOT_DOCUMENTED = {"__version__"}


def public_names(module_name):
    """Return the public names of a module: its ``__all__`` or what it defines."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module_name
        ]
    return sorted(set(names) - NOT_DOCUMENTED)


def documented_names(api_rst):
    """Return ``{"module.name"}`` for every entry of the autosummary tables."""
    documented = set()
    module = None
    in_table = False
    for line in Path(api_rst).read_text(encoding="utf-8").splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line.strip())
        if match:
            module = match.group(1)
            in_table = False
            continue
        if line.startswith(".. autosummary::"):
            in_table = True
            continue
        if in_table:
            entry = line.strip()
            if not entry or entry.startswith(":"):
                continue
            if not line.startswith(" "):
                in_table = False
                continue
            documented.add(f"{module}.{entry}")
    return documented


def missing_names(api_rst):
    """Return the public names that ``api_rst`` does not list, as ``module.name``."""
    documented = documented_names(api_rst)
    top_level = set(public_names("sklearn_pos"))
    missing = []
    for module_name in PUBLIC_MODULES:
        for name in public_names(module_name):
            if f"{module_name}.{name}" in documented:
                continue
            # A name the package exports is documented once, at the top level.
            if name in top_level and f"sklearn_pos.{name}" in documented:
                continue
            missing.append(f"{module_name}.{name}")
    return missing


def _check(app):
    missing = missing_names(Path(app.srcdir) / "api.rst")
    if missing:
        raise ExtensionError(
            "doc/api.rst does not list these public names: "
            + ", ".join(missing)
            + ". Add each to an autosummary table of doc/api.rst (under "
            "'.. currentmodule:: sklearn_pos' when the package exports it)."
        )


def setup(app):
    app.connect("builder-inited", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
