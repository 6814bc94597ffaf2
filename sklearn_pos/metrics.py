"""Diagnostics of fitted part-of-speech subspaces."""

import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ._compat import HasMethods, validate_params
from ._labels import check_labels
from .caveats import caveat_of, stamp_table

#: Rows of ``X`` projected at once, to bound the memory of the coordinates.
_CHUNK_ROWS = 8192


@validate_params(
    {
        "estimator": [HasMethods(["fit", "transform"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "labels": ["array-like", None],
        "normalize": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def class_invariance(estimator, X, y, *, labels=None, normalize=True):
    """How much of each data category every learned subspace captures.

    For the subspace ``W_i`` of category ``i`` (``k`` orthonormal directions,
    ``estimator.class_components_[i]``) and the points of data category
    ``j``, the score is the mean squared norm of their coordinates in the
    subspace,

    .. math::

        s(i, j) = \\frac{1}{n_j} \\| W_i^\\top (Y_j - m) \\|_F^2 ,

    where ``Y_j`` holds the points mapped into the fitted space
    (``Log_mu(x)`` for ``geometry="tangent"``, the normalised ``x`` for
    ``"euclidean"``) and ``m`` is the centre ``center_``. A subspace that
    captures its own category and ignores the others puts most of each row's
    mass on the diagonal: this is the class-invariance heatmap of Oldfield et
    al. (2023, Fig. 6), where the rows are shown normalised to sum to one.

    Parameters
    ----------
    estimator : PartOfSpeechComponentAnalysis or VocabularyPartOfSpeechAnalysis
        A fitted estimator: any object with ``classes_``,
        ``class_components_`` and a ``tangent_vectors`` method, as
        :class:`~sklearn_pos.PartOfSpeechComponentAnalysis` has, or one that
        holds such an estimator as ``pos_``, as
        :class:`~sklearn_pos.VocabularyPartOfSpeechAnalysis` does (its
        subspaces, one per vocabulary category, are scored).

    X : array-like of shape (n_samples, n_features)
        Embeddings to score, e.g. those the estimator was fitted on, or
        held-out words. Rows are scaled to unit norm, as in ``transform``.

    y : array-like of shape (n_samples,)
        Category of each row. The categories need not be those of the fit:
        any grouping of the rows gives one column each.

    labels : array-like of shape (n_labels,), default=None
        Data categories to report, in this order. ``None`` uses the sorted
        distinct values of ``y``. Every label must occur in ``y``. The rows
        follow the same order where they can: the subspaces of categories in
        ``labels`` come first, in that order, then the others in the order
        of the estimator's ``classes_``, so that the diagonal of a square table
        pairs each subspace with its own category.

    normalize : bool, default=True
        Divide each row by its sum, as in the paper's figure, so that a row
        reads as the share of the subspace's energy taken by each category.
        ``False`` returns the raw mean squared norms.

    Returns
    -------
    table : pandas.DataFrame of shape (n_subspaces, n_labels)
        Rows: the subspaces, labelled by their categories (index name
        ``"subspace"``; one per entry of the estimator's ``classes_``). Columns:
        the data categories (columns name ``"data"``). When the estimator
        holds a CLIPEmbedder of random weights, ``table.attrs["caveat"]``
        says so (:func:`sklearn_pos.caveats.caveat_of`).

    See Also
    --------
    sklearn_pos.plotting.ClassInvarianceDisplay : Heatmap of this table.

    References
    ----------
    J. Oldfield, C. Tzelepis, Y. Panagakis, M. A. Nicolaou and I. Patras.
    "Parts of Speech-Grounded Subspaces in Vision-Language Models".
    NeurIPS 2023. https://arxiv.org/abs/2305.14053

    Examples
    --------
    Two categories of points that vary along different axes:

    >>> import numpy as np
    >>> from sklearn_pos import PartOfSpeechComponentAnalysis
    >>> from sklearn_pos.metrics import class_invariance
    >>> rng = np.random.RandomState(0)
    >>> X = np.tile([0.0, 0.0, 0.0, 5.0], (200, 1))
    >>> y = np.repeat(["adj", "noun"], 100)
    >>> X[:100, 0] += rng.normal(size=100)      # adjectives vary along x0
    >>> X[100:, 1] += rng.normal(size=100)      # nouns along x1
    >>> X += 0.05 * rng.normal(size=X.shape)
    >>> pos = PartOfSpeechComponentAnalysis(n_components=1).fit(X, y)
    >>> table = class_invariance(pos, X, y)
    >>> table.index.name, table.index.tolist(), table.columns.tolist()
    ('subspace', ['adj', 'noun'], ['adj', 'noun'])
    >>> table.to_numpy().round(2)
    array([[1., 0.],
           [0., 1.]])
    """
    # A VocabularyPartOfSpeechAnalysis keeps its subspaces in pos_; X still goes
    # through the step's own tangent_vectors, which checks it against the step.
    if not callable(getattr(estimator, "tangent_vectors", None)):
        last = getattr(estimator, "steps", None)
        hint = (
            f" For a Pipeline, pass its part-of-speech step, e.g. pipeline[-1] or "
            f"pipeline.named_steps[{last[-1][0]!r}], with X embedded by the steps "
            "before it."
            if last
            else ""
        )
        raise TypeError(
            "class_invariance needs a fitted PartOfSpeechComponentAnalysis or "
            "VocabularyPartOfSpeechAnalysis (an estimator with classes_, "
            "class_components_ and a tangent_vectors method); got "
            f"{type(estimator).__name__}.{hint}"
        )
    check_is_fitted(estimator)
    subspaces = getattr(estimator, "pos_", estimator)
    check_is_fitted(subspaces, ["classes_", "class_components_"])
    y = check_labels(y)
    check_consistent_length(X, y)
    if y.shape[0] == 0:
        # A table of no category (tangent_vectors maps 0 rows to 0 rows).
        raise ValueError(
            "Found array with 0 sample(s) while a minimum of 1 is required by "
            "class_invariance: every category of the table needs at least one "
            "row of X. Pass labelled embeddings."
        )
    if labels is None:
        labels = np.unique(y)
    else:
        labels = check_labels(labels, what="labels")
        if labels.size == 0:
            raise ValueError(
                "labels is empty: give the categories to report (those of y), "
                "or labels=None for all of them."
            )
        missing = [lab for lab in labels.tolist() if not np.any(y == lab)]
        if missing:
            raise ValueError(
                f"labels {missing} do not occur in y; every reported category needs "
                "at least one row."
            )
        if len(set(labels.tolist())) != len(labels):
            raise ValueError(f"labels must be distinct, got {labels.tolist()}.")

    Y = estimator.tangent_vectors(X)
    components = np.asarray(subspaces.class_components_)
    n_subspaces, k, n_features = components.shape
    span = n_features - 1 if getattr(subspaces, "geometry", None) == "tangent" else None
    if k >= (n_features if span is None else span):
        warnings.warn(
            f"The subspaces have {k} components for {n_features} features: each "
            "one spans the whole space in which the rows are compared, so every "
            "row of the table is the same. Refit with fewer n_components to "
            "compare the categories.",
            UserWarning,
            stacklevel=2,
        )
    # All subspaces at once: the coordinates of a block in every subspace are
    # one product with the stacked bases.
    stacked = components.reshape(n_subspaces * k, n_features).astype(Y.dtype)
    codes = np.full(y.shape[0], -1, dtype=np.intp)
    for c, label in enumerate(labels):
        codes[y == label] = c
    sums = np.zeros((n_subspaces, len(labels)))
    for start in range(0, Y.shape[0], _CHUNK_ROWS):
        block_codes = codes[start : start + _CHUNK_ROWS]
        keep = block_codes >= 0
        coords = Y[start : start + _CHUNK_ROWS][keep] @ stacked.T
        energy = (coords.astype(np.float64) ** 2).reshape(-1, n_subspaces, k).sum(2)
        # energy[n, i] = ||W_i^T (y_n - m)||^2; add it to the row's category.
        np.add.at(sums.T, block_codes[keep], energy)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    scores = sums / counts
    classes = np.asarray(subspaces.classes_).tolist()
    label_list = labels.tolist()
    rows = [classes.index(c) for c in label_list if c in classes]
    rows += [i for i in range(len(classes)) if i not in rows]
    scores = scores[rows]
    if normalize:
        totals = scores.sum(axis=1, keepdims=True)
        scores = np.divide(scores, totals, out=np.zeros_like(scores), where=totals > 0)
    table = pd.DataFrame(
        scores,
        index=pd.Index([classes[i] for i in rows], name="subspace"),
        columns=pd.Index(label_list, name="data"),
    )
    # a table of random weights says so, as the figures of it do
    return stamp_table(table, caveat_of(estimator))
