"""Seeded, stratified subsets of labelled vocabularies."""

from numbers import Integral

import numpy as np
from sklearn.model_selection import train_test_split

from .._labels import check_labels


def stratified_subset(data, labels, n_samples, *, random_state=None):
    """Draw ``n_samples`` rows, keeping the share of each label.

    The draw is the training part of scikit-learn's stratified
    :func:`~sklearn.model_selection.train_test_split` with
    ``train_size=n_samples``, so a given seed always picks the same rows. The
    selected rows are returned in their original order.

    Parameters
    ----------
    data : array-like of shape (n_rows,) or (n_rows, n_features)
        Words or their embeddings.

    labels : array-like of shape (n_rows,)
        Label (part of speech, theme) of each row.

    n_samples : int or None
        Number of rows to keep. ``None``, or a number at least ``n_rows``,
        keeps every row (unchanged, not copied).

    random_state : int, RandomState instance or None, default=None
        Seed of the draw. A RandomState instance is advanced by the call.

    Returns
    -------
    data : ndarray
        The selected rows of ``data``.

    labels : ndarray of shape (n_samples,)
        Their labels.

    Raises
    ------
    ValueError
        If some label would get no row (``n_samples`` smaller than the number
        of distinct labels, or too small for a rare label's share), if the rows
        left out are fewer than the labels, or if a label has a single row.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos.datasets import stratified_subset
    >>> words = np.array(["cat", "dog", "cow", "hen", "red", "big"])
    >>> pos = np.array(["noun", "noun", "noun", "noun", "adj", "adj"])
    >>> sub_words, sub_pos = stratified_subset(words, pos, 3, random_state=0)
    >>> sorted(sub_pos.tolist())
    ['adj', 'noun', 'noun']
    """
    data = np.asarray(data) if not isinstance(data, np.ndarray) else data
    labels = np.asarray(labels)
    if len(data) != len(labels):
        raise ValueError(
            f"data has {len(data)} rows but labels has {len(labels)}; give one "
            "label per row."
        )
    if n_samples is None or n_samples >= len(labels):
        return data, labels
    if not isinstance(n_samples, Integral) or n_samples < 1:
        raise ValueError(
            f"n_samples must be a positive integer or None; got {n_samples!r}."
        )
    labels = check_labels(labels, what="labels")
    categories, counts = np.unique(labels, return_counts=True)
    n_classes = len(categories)
    if n_samples < n_classes:
        raise ValueError(
            f"A stratified subset of {n_samples} rows cannot hold all "
            f"{n_classes} labels ({', '.join(map(str, categories.tolist()))}): ask "
            f"for at least {n_classes} rows, or None for all of them."
        )
    if len(labels) - n_samples < n_classes:
        raise ValueError(
            f"A stratified subset of {n_samples} of {len(labels)} rows leaves out "
            f"fewer rows than there are labels ({n_classes}): ask for at most "
            f"{len(labels) - n_classes} rows, or None for all of them."
        )
    if counts.min() < 2:
        single = categories[counts < 2].tolist()
        raise ValueError(
            f"Labels {single} have a single row, too few to stratify on: give "
            "them more rows, drop them, or use every row (n_samples=None)."
        )
    rows, _ = train_test_split(
        np.arange(len(labels)),
        train_size=n_samples,
        stratify=labels,
        random_state=random_state,
    )
    kept = np.unique(labels[rows])
    if len(kept) < n_classes:
        # The stratified draw rounds each label's share: a rare label can get
        # no row at all. That would silently remove a category.
        lost = [c for c in categories.tolist() if c not in set(kept.tolist())]
        needed = int(np.ceil(len(labels) / counts.min()))
        raise ValueError(
            f"A stratified subset of {n_samples} rows keeps no row of labels {lost} "
            f"(the rarest has {counts.min()} of {len(labels)} rows): ask for at "
            f"least {needed} rows, or None for all of them."
        )
    # Original order, so that a subset reads like the vocabulary it comes from.
    rows = np.sort(rows)
    return data[rows], labels[rows]
