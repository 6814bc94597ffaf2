"""Checks of embedding rows and class names, each rule written once.

Rows: every row that is to be scaled to unit norm (to lie on the sphere, or to
be compared by cosine) must be finite and non-zero. :func:`check_rows` is that
rule; :func:`unit_rows` and :func:`inverse_row_norms` are the two ways the
estimators use it. A row that breaks it is named in the error, by its index or
by its name (e.g. the class of a prototype).

Class names: :func:`check_class_names` is the one reading of a ``class_names``
parameter, for the zero-shot classifier, the text prototypes, the prompt
templates and CLAP alike: a sequence (or a mapping label -> name where the
caller takes one) of distinct, non-blank strings. Duplicates are refused rather
than dropped, so that the classes an estimator learns are the ones given.

Embedding arguments of functions (not estimators, which use
``validate_data``): :func:`check_embedding_values` refuses texts, non-numeric
arrays, empty arrays and non-finite values, naming the argument.

Category labels (``y``) are checked in :mod:`sklearn_pos._labels`.
"""

import numpy as np

from . import _sphere
from ._array_api import namespace, to_numpy
from ._labels import plain_label

__all__ = [
    "check_class_names",
    "check_embedding_values",
    "check_rows",
    "inverse_row_norms",
    "is_torch",
    "non_finite_error",
    "unit_rows",
]


def _first_row(bad, row_names):
    """``"index 3"``, or ``"row 'cat'"`` when the rows have names."""
    i = int(bad[0])
    if row_names is None:
        return f"index {i}"
    return f"row {plain_label(np.asarray(row_names, dtype=object)[i])!r}"


def check_rows(X, what="X", row_names=None, *, return_mean=False):
    """L2 norms of the rows of ``X``, after checking that every row has one.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows to be scaled to unit norm, in any Array API namespace.
    what : str, default="X"
        How ``X`` is named in the messages.
    row_names : sequence, default=None
        Names of the rows (e.g. the classes of prototypes), used in the
        messages instead of row indices.
    return_mean : bool, default=False
        Also return the Euclidean mean of the rows scaled to unit norm, from
        the same pass over ``X`` (:func:`sklearn_pos._sphere.norms_and_mean`).

    Returns
    -------
    norms : ndarray of shape (n_samples,)
        Row norms, float64, finite and positive.
    mean : ndarray of shape (n_features,)
        Only with ``return_mean=True``.

    Raises
    ------
    ValueError
        If a row holds NaN or infinite values, has a norm that overflows
        float64, or has zero norm, naming the first such row.
    """
    xp, _ = namespace(X)
    if return_mean:
        norms, mean = _sphere.norms_and_mean(X)
    else:
        norms = _sphere.row_norms(X)
    # The norms double as the check for NaN and infinite values, which saves a
    # pass over X; the rows are looked at again only to word the error.
    infinite = ~xp.isfinite(norms)
    if bool(xp.any(infinite)):
        bad = np.flatnonzero(to_numpy(infinite))
        if np.isfinite(to_numpy(X[int(bad[0])])).all():
            raise ValueError(
                f"{what}: {bad.size} row(s) whose norm overflows float64 (first "
                f"at {_first_row(bad, row_names)}); rescale them."
            )
        raise ValueError(
            f"{what}: {bad.size} row(s) with NaN or infinity (first at "
            f"{_first_row(bad, row_names)}); every row must be a finite embedding."
        )
    zero = norms == 0
    if bool(xp.any(zero)):
        bad = np.flatnonzero(to_numpy(zero))
        raise ValueError(
            f"{what}: {bad.size} row(s) of zero norm (first at "
            f"{_first_row(bad, row_names)}). A zero embedding has no direction: it "
            "cannot be scaled to unit norm, and it is as similar to every "
            "direction as to any other. Remove or replace these rows, or check "
            "how they were embedded."
        )
    return (norms, mean) if return_mean else norms


def unit_rows(X, what="X", row_names=None):
    """``X`` with each row scaled to unit L2 norm, in the dtype of ``X``.

    Rows are checked by :func:`check_rows` first. Unlike
    :func:`sklearn_pos._sphere.normalize_rows`, which leaves zero rows as
    zeros, a row that cannot be scaled is an error.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos._validation import unit_rows
    >>> unit_rows(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    return _sphere.divide_rows(X, check_rows(X, what, row_names))


def inverse_row_norms(X, what="X", *, return_mean=False):
    """Reciprocal row norms of ``X`` in float64, for scaling rows on the fly.

    Rows are checked by :func:`check_rows` first; the reciprocal of each norm
    must also be representable in the dtype of ``X``, as the scaled rows are
    formed in that dtype (a float32 row of norm 1e-39 cannot be).

    Returns
    -------
    inv_norms : ndarray of shape (n_samples,)
    mean : ndarray of shape (n_features,)
        Only with ``return_mean=True``: see :func:`check_rows`.
    """
    xp, is_numpy = namespace(X)
    checked = check_rows(X, what, return_mean=return_mean)
    norms = checked[0] if return_mean else checked
    inv_norms = 1.0 / norms
    largest = (np.finfo if is_numpy else xp.finfo)(X.dtype).max
    if not bool(xp.all(inv_norms <= largest)):
        tiny = np.flatnonzero(to_numpy(inv_norms) > largest)
        raise ValueError(
            f"{what}: {tiny.size} row(s) of norm below {1 / largest:.1e} (first at "
            f"index {tiny[0]}), too small to be scaled to unit norm in {X.dtype}; "
            f"convert {what} to float64 or rescale these rows."
        )
    return (inv_norms, checked[1]) if return_mean else inv_norms


def check_class_names(class_names, *, what="class_names", mapping=True):
    """Labels and names of the classes given by a ``class_names`` parameter.

    Parameters
    ----------
    class_names : sequence of str, or mapping
        A list, tuple, 1-D array, pandas Series or one-column DataFrame of
        class names, which are also the class labels; or, with
        ``mapping=True``, a mapping ``label -> name``.
    what : str, default="class_names"
        How the parameter is named in the messages.
    mapping : bool, default=True
        Whether a mapping ``label -> name`` is accepted.

    Returns
    -------
    labels : list
        One label per class, in the given order.
    names : list of str
        One name per class, in the same order.

    Raises
    ------
    TypeError
        If ``class_names`` is a single string (it would be read as one class
        per character), a mapping where none is accepted, or holds a name that
        is not a string.
    ValueError
        If it is empty, not one-dimensional, holds a blank name, or names a
        class twice.

    Examples
    --------
    >>> from sklearn_pos._validation import check_class_names
    >>> check_class_names(["cat", "dog"])
    (['cat', 'dog'], ['cat', 'dog'])
    >>> check_class_names({0: "cat", 1: "dog"})
    ([0, 1], ['cat', 'dog'])
    """
    if isinstance(class_names, str):
        raise TypeError(
            f"{what} must be a sequence of class names, got the single string "
            f"{class_names!r}, which would be read as one class per character; "
            f"wrap it in a list: [{class_names!r}]."
        )
    if isinstance(class_names, dict):
        if not mapping:
            raise TypeError(
                f"{what} must be a sequence of class names; for a mapping label -> "
                "name pass list(mapping.values()) (ZeroShotClassifier takes the "
                "mapping itself)."
            )
        labels, names = list(class_names.keys()), list(class_names.values())
    else:
        if hasattr(class_names, "columns"):  # a DataFrame: its one column
            if class_names.shape[1] != 1:
                raise ValueError(
                    f"{what} must be a 1-D sequence of class names; got a "
                    f"DataFrame with {class_names.shape[1]} columns."
                )
            class_names = class_names.iloc[:, 0]
        values = np.asarray(class_names, dtype=object)
        if values.ndim == 2 and 1 in values.shape:
            values = values.ravel()
        if values.ndim != 1:
            raise ValueError(
                f"{what} must be a 1-D sequence of class names (str); got an array "
                f"of shape {values.shape}."
            )
        names = values.tolist()
        labels = names
    if not names:
        raise ValueError(
            f"{what} is empty; give at least one class name, e.g. ['dog', 'owl']."
        )
    for name in names:
        if not isinstance(name, str):
            hint = (
                " Use a mapping such as {0: 'airplane', 1: 'automobile'} when the "
                "labels are not names."
                if mapping
                else ""
            )
            raise TypeError(
                f"{what} must hold class names (non-empty strings) to fill the "
                f"prompt templates, got {name!r} ({type(name).__name__}).{hint}"
            )
        if not name.strip():
            raise ValueError(
                f"{what} must hold non-empty strings (class names), got {name!r}."
            )
    seen, duplicates = set(), []
    for label in labels:
        if label in seen and label not in duplicates:
            duplicates.append(label)
        seen.add(label)
    if duplicates:
        raise ValueError(
            f"{what} has duplicate classes {sorted(map(str, duplicates))}; each "
            "class needs one name (or use a mapping label -> name). Remove the "
            "repeats, e.g. list(dict.fromkeys(names))."
        )
    return labels, names


def is_torch(values):
    """Whether ``values`` is a torch object (checked without importing torch)."""
    return type(values).__module__.startswith("torch")


def non_finite_error(name):
    """The error for an embedding argument ``name`` holding NaN or infinity."""
    return ValueError(
        f"{name} contains NaN or infinite values; every embedding must be finite."
    )


def check_embedding_values(values, name, *, check_finite=True):
    """An embedding argument of a function, checked and named in the errors.

    Parameters
    ----------
    values : array-like or torch.Tensor
        One embedding or an array of them.
    name : str
        The argument's name, used in the messages.
    check_finite : bool, default=True
        Also refuse NaN and infinite values. Callers that check several
        tensors at once (one device synchronisation) pass ``False`` and raise
        :func:`non_finite_error` themselves.

    Returns
    -------
    values : ndarray or torch.Tensor
        A NumPy array of the values' own numeric dtype; a tensor as it is.

    Raises
    ------
    TypeError
        If ``values`` is a string, or holds no real numbers (texts, booleans,
        complex values).
    ValueError
        If it is empty, or (``check_finite=True``) not finite.

    Examples
    --------
    >>> from sklearn_pos._validation import check_embedding_values
    >>> check_embedding_values([[0.6, 0.8]], "image_embeddings")
    array([[0.6, 0.8]])
    """
    if is_torch(values):
        import torch

        if (
            not isinstance(values, torch.Tensor)
            or values.dtype == torch.bool
            or values.is_complex()
        ):
            raise TypeError(
                f"{name} must be a tensor of real numbers, got "
                f"{getattr(values, 'dtype', type(values).__name__)}."
            )
        arr = values
    else:
        if isinstance(values, (str, bytes)):
            raise TypeError(
                f"{name} must hold embeddings (an array of numbers), got the string "
                f"{values!r}: embed texts first, e.g. with "
                "CLIPEmbedder(modality='text')."
            )
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf":
            raise TypeError(
                f"{name} must hold embeddings (an array of numbers), got an array "
                f"of dtype {arr.dtype}: embed texts and images first, e.g. with "
                "CLIPEmbedder."
            )
    if 0 in tuple(arr.shape):
        raise ValueError(
            f"{name} is empty (shape {tuple(arr.shape)}); give at least one "
            "embedding of at least one feature."
        )
    if check_finite:
        if is_torch(arr):
            finite = bool(arr.isfinite().all())
        else:
            finite = bool(np.isfinite(arr).all())
        if not finite:
            raise non_finite_error(name)
    return arr
