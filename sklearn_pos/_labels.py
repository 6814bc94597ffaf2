"""Category labels: one check before any set of labels is sorted.

``np.unique`` sorts, so a ``y`` mixing strings and numbers (or holding
``None``) fails with numpy's ``'<' not supported``, a float ``y`` with a NaN
gives the NaN a class of its own, and a continuous float ``y`` becomes
hundreds of one-row categories. Every estimator and function that groups
rows by label checks its labels here first.
"""

from numbers import Number

import numpy as np
from sklearn.utils.multiclass import type_of_target

__all__ = [
    "as_given",
    "check_labels",
    "check_labels_as_given",
    "encode_labels",
    "is_missing",
    "plain_label",
]


def plain_label(label):
    """A label as a Python value, so that messages show ``'noun'``, not a numpy repr."""
    return label.item() if isinstance(label, np.generic) else label


def is_missing(value):
    """Whether one value (a label, an item to embed) is missing.

    None, NaN, ``pd.NA`` and ``NaT`` are; any other value is not.

    Examples
    --------
    >>> import math
    >>> from sklearn_pos._labels import is_missing
    >>> [is_missing(v) for v in ("noun", None, math.nan, 0)]
    [False, True, True, False]
    """
    if value is None:
        return True
    try:
        return bool(value != value)  # noqa: PLR0124 - NaN and NaT only
    except (TypeError, ValueError):  # pd.NA refuses bool()
        return True


def _kind(value):
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, Number):
        return "number"
    return type(value).__name__


def _all_text(y):
    """Whether every element of the object array ``y`` is a ``str``."""
    return set(map(type, y.ravel().tolist())) <= {str, np.str_}


def as_given(values):
    """``values`` as an object array of its elements, when numpy would coerce them.

    ``np.asarray(["noun", 1])`` is ``['noun', '1']`` and ``np.asarray(["a",
    np.nan])`` is ``['a', 'nan']``: a list or tuple mixing texts with other
    values silently becomes texts. Returns the elements as given (an object
    array) in that case, to be checked as such, and ``None`` otherwise (an
    array, a pandas object or a list that numpy keeps as it is).
    """
    if hasattr(values, "dtype") or isinstance(values, str):
        return None
    try:
        coerced = np.asarray(values)
    except ValueError:  # ragged: the usual validation reports it
        return None
    if coerced.dtype.kind not in "US" or coerced.ndim != 1:
        return None
    elements = np.empty(len(coerced), dtype=object)
    elements[:] = list(values)
    if set(map(type, elements.tolist())) <= {str, np.str_}:
        return None
    return elements


def check_labels_as_given(y, *, what="y"):
    """Refuse a list or tuple of labels that numpy would coerce (see :func:`as_given`).

    For estimators, before ``validate_data`` turns ``y`` into an array: a
    ``y`` of ``["noun", 1]`` would otherwise be fitted as the texts ``'noun'``
    and ``'1'``, and ``predict`` would return ``'1'`` where ``1`` was meant.
    """
    elements = as_given(y)
    if elements is not None:
        _checked_labels(elements, what, True)


def check_labels(y, *, what="y", allow_continuous=False):
    """``y`` as a 1-D array of category labels that can be sorted.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels.
    what : str, default="y"
        How ``y`` is named in the messages.
    allow_continuous : bool, default=False
        Let float labels with non-integer values through (scikit-learn's
        ``check_classification_targets`` then reports them in its own words).

    Returns
    -------
    y : ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        If ``y`` is not 1-D, holds missing labels (None or NaN), mixes labels of
        different types (e.g. int and str; also in a list, which numpy would
        turn into texts), or holds continuous values.
    """
    return _checked_labels(y, what, allow_continuous)[0]


def _checked_labels(y, what, allow_continuous):
    """:func:`check_labels`, and whether ``y`` is a non-empty object array of texts."""
    elements = as_given(y)
    if elements is not None:
        # Missing and mixed labels are reported as given, not as numpy's texts.
        _checked_labels(elements, what, allow_continuous)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"{what} must be one-dimensional (one label per row), got shape {y.shape}."
        )
    if y.dtype.kind == "O" and y.size and _all_text(y):
        # the common case (texts in an object array), checked in C loops
        return y, True
    if y.dtype.kind == "f":
        missing = np.isnan(y)
    elif y.dtype.kind == "O":
        missing = np.fromiter((is_missing(v) for v in y), dtype=bool, count=y.size)
    else:
        missing = np.zeros(y.size, dtype=bool)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(
            f"{what} has {rows.size} missing label(s) (None or NaN), first at row "
            f"{rows[0]}: every row needs a category. Drop these rows or give them "
            "a label."
        )
    if y.dtype.kind == "O" and y.size:
        kinds = {}
        for value in y:
            kinds.setdefault(_kind(value), value)
        if len(kinds) > 1:
            shown = ", ".join(
                f"{name} ({value!r})" for name, value in sorted(kinds.items())
            )
            raise ValueError(
                f"{what} mixes labels of different types: {shown}. Labels are "
                "sorted and compared, so use one type for all of them, e.g. "
                "y.astype(str)."
            )
    if not allow_continuous and y.dtype.kind in "fO" and y.size:
        try:
            continuous = type_of_target(y) == "continuous"
        except ValueError:
            continuous = False
        if continuous:
            n_distinct = np.unique(y).size
            raise ValueError(
                f"{what} holds continuous values ({n_distinct} distinct floats in "
                f"{y.size} rows, e.g. {plain_label(y[0])!r}), not category labels. Give one "
                "label per category (e.g. 'noun', 'verb'); cast float codes such "
                "as 0.0, 1.0 to int."
            )
    return y, False


def encode_labels(y, *, what="y", allow_continuous=False):
    """Sorted distinct labels of ``y`` and the code of each row.

    ``y`` is checked by :func:`check_labels` first.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    codes : ndarray of shape (n_samples,)
        ``classes[codes]`` equals ``y``.
    """
    y, text = _checked_labels(y, what, allow_continuous)
    if text:
        # Sorting fixed-width text is several times faster than sorting Python
        # objects; the classes stay an object array, as scikit-learn keeps them.
        classes, codes = np.unique(y.astype(str), return_inverse=True)
        return classes.astype(object), codes.ravel()
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.ravel()
