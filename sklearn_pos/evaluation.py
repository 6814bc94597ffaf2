"""Benchmark helpers: tidy score tables.

:func:`evaluate_classifiers` scores several classifiers on one dataset and
returns one row per (method, metric[, fold]) in a pandas DataFrame, the
"tidy" layout that concatenates across datasets and pivots into the tables
of papers.
"""

import pandas as pd
from sklearn.base import clone
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import cross_validate
from sklearn.utils.validation import check_is_fitted

from .caveats import caveat_of, stamp_table

__all__ = ["evaluate_classifiers"]


def _named_scorers(scoring):
    """``{name: scorer}`` from the forms of ``scoring`` scikit-learn accepts."""
    if scoring is None or isinstance(scoring, str):
        scoring = ["accuracy" if scoring is None else scoring]
    if callable(scoring):
        return {"score": scoring}
    if isinstance(scoring, dict):
        items = scoring.items()
    else:
        items = ((name, name) for name in scoring)
    scorers = {}
    for name, scorer in items:
        scorers[str(name)] = get_scorer(scorer) if isinstance(scorer, str) else scorer
    if not scorers:
        raise ValueError("scoring is empty; give at least one metric, e.g. 'accuracy'.")
    return scorers


def _named_classifiers(classifiers):
    pairs = (
        list(classifiers.items())
        if isinstance(classifiers, dict)
        else list(classifiers)
    )
    if not pairs:
        raise ValueError("classifiers is empty; give a dict name -> estimator.")
    for pair in pairs:
        if not (
            isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
        ):
            raise TypeError(
                "classifiers must be a dict name -> estimator or a list of "
                f"(name, estimator) pairs; got the item {pair!r}."
            )
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"Method names must be unique, got {names}.")
    return pairs


def evaluate_classifiers(
    classifiers, X, y, *, scoring="accuracy", cv=None, dataset=None, n_jobs=None
):
    """Score several classifiers on one dataset, as a tidy DataFrame.

    Parameters
    ----------
    classifiers : dict or list of (str, estimator)
        The methods to compare, by name, e.g. ``{"CLIP": zero_shot,
        "noun-tangent": pipeline}``.

    X : array-like or list
        Test inputs (embeddings, or images/texts for pipelines that embed).

    y : array-like of shape (n_samples,)
        True labels.

    scoring : str, callable, list of str or dict, default="accuracy"
        Metrics, as scikit-learn's ``scoring``: a scorer name, a list of
        names or a dict ``{name: scorer or scorer name}``.

    cv : int, cross-validation generator, iterable or None, default=None
        ``None``: the classifiers are scored as they are, so they must be
        fitted (zero-shot classifiers can be fitted without labels). Else
        each classifier is cloned and cross-validated on ``X, y``
        (:func:`~sklearn.model_selection.cross_validate`), one row per fold.

    dataset : str, default=None
        Value of the ``dataset`` column, to concatenate several datasets.

    n_jobs : int, default=None
        Parallel jobs of the cross-validation.

    Returns
    -------
    results : pandas.DataFrame
        Columns ``dataset``, ``method``, ``fold`` (only with ``cv``),
        ``metric``, ``score`` and ``n_samples`` (rows scored): one row per
        method, metric (and fold). Scores are as the scorers return them
        (accuracy as a fraction). When a classifier holds a CLIPEmbedder
        of random weights (a pipeline step, a ``text_embedder``),
        ``results.attrs["caveat"]`` says so
        (:func:`sklearn_pos.caveats.caveat_of`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos import NearestPrototypeClassifier, ZeroShotClassifier
    >>> from sklearn_pos.evaluation import evaluate_classifiers
    >>> X = np.array([[1, 0.1], [0.9, -0.2], [0.1, 1], [-0.2, 0.8]])
    >>> y = np.array([0, 0, 1, 1])
    >>> text = ZeroShotClassifier(prototypes=[[1, 0], [0, 1]]).fit(X)
    >>> evaluate_classifiers({"zero-shot": text}, X, y, dataset="toy")
      dataset     method    metric  score  n_samples
    0     toy  zero-shot  accuracy    1.0          4
    >>> evaluate_classifiers({"prototypes": NearestPrototypeClassifier()},
    ...                      X, y, cv=2, dataset="toy")[["fold", "score"]]
       fold  score
    0     0    1.0
    1     1    1.0
    """
    pairs = _named_classifiers(classifiers)
    scorers = _named_scorers(scoring)
    rows = []
    for method, estimator in pairs:
        if cv is None:
            check_scoring(estimator, scoring=scorers)  # clear error for a non-estimator
            check_is_fitted(
                estimator,
                msg=(
                    f"The classifier {method!r} (%(name)s) is not fitted. With "
                    "cv=None the classifiers are scored as given: fit them first, "
                    "or pass cv (e.g. cv=5) to cross-validate clones of them."
                ),
            )
            for metric, scorer in scorers.items():
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "metric": metric,
                        "score": float(scorer(estimator, X, y)),
                        "n_samples": len(y),
                    }
                )
            continue
        result = cross_validate(
            clone(estimator),
            X,
            y,
            cv=cv,
            scoring=scorers,
            n_jobs=n_jobs,
            return_indices=True,
        )
        for fold, test in enumerate(result["indices"]["test"]):
            for metric in scorers:
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "fold": fold,
                        "metric": metric,
                        "score": float(result[f"test_{metric}"][fold]),
                        "n_samples": len(test),
                    }
                )
    results = pd.DataFrame(rows)
    # scores of random weights are not results: the table says so
    caveats = {caveat_of(estimator) for _, estimator in pairs} - {None}
    return stamp_table(results, min(caveats) if caveats else None)
