"""Render attribute names in numpydoc type specifications as text.

A type such as ``ndarray of shape (n_samples, n_components_)`` holds an
attribute name ending in ``_``, which reStructuredText reads as a reference to
a target named ``n_components`` and reports as unknown. The type lines of a
docstring (``name : type``) get that underscore escaped before numpydoc
renders them, so they read as written.
"""

import re

_TYPE_LINE = re.compile(r"^(\s*[\w*, ]+ : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w\\])([A-Za-z]\w*?)_(?=[\s,)\]]|$)")


def escape_type_lines(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match and "`" not in match.group(2):
            lines[i] = match.group(1) + _TRAILING_UNDERSCORE.sub(r"\1\\_", match.group(2))


_SKLEARN_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^>`]*>)?`")


def unlink_sklearn_labels(app, what, name, obj, options, lines):
    """Write scikit-learn's own :ref: and :term: links as text.

    Methods estimators inherit from scikit-learn (``set_output``,
    ``get_params``, ...) keep scikit-learn's docstrings, whose ``:ref:`` and
    ``:term:`` roles point into scikit-learn's user guide and glossary: labels
    of another site that intersphinx does not carry.
    """
    module = getattr(obj, "__module__", "") or ""
    if module.startswith("sklearn.") or module == "sklearn":
        for i, line in enumerate(lines):
            lines[i] = _SKLEARN_ROLE.sub(r"\1", line)


def setup(app):
    # Before numpydoc (priority 500), which turns these lines into field lists.
    app.connect("autodoc-process-docstring", escape_type_lines, priority=100)
    app.connect("autodoc-process-docstring", unlink_sklearn_labels, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

