"""Benchmark helpers: tidy score tables.

:func:`evaluate_classifiers` scores several classifiers on one dataset and
returns one row per (method, metric[, fold]) in a pandas DataFrame, the
"tidy" layout that concatenates across datasets and pivots into the tables
of papers. :func:`compare_zero_shot` compares CLIP's zero-shot classifier
with and without image transforms (the paper's Table 1, ``sklearn-pos
zero-shot``); :func:`default_n_components` is the subspace size of the
class-invariance table (``sklearn-pos fit``).
"""

from numbers import Integral

import pandas as pd
from sklearn.base import clone
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import cross_validate
from sklearn.utils.validation import check_is_fitted

from .caveats import caveat_of, stamp_table

__all__ = ["compare_zero_shot", "default_n_components", "evaluate_classifiers"]


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


def default_n_components(n_features):
    """Directions kept per part of speech for the class-invariance table.

    64, the paper's value, for embeddings of 256 dimensions or more; a
    quarter of the width (at least 2) for narrower ones, e.g. 16 for the
    64-dimensional ``sklearn-pos-tiny``, so that a subspace stays a small
    part of the space. This is what ``sklearn-pos fit`` uses without
    ``--n-components``.

    Parameters
    ----------
    n_features : int
        The embedding width.

    Returns
    -------
    n_components : int

    Examples
    --------
    >>> from sklearn_pos.evaluation import default_n_components
    >>> default_n_components(512), default_n_components(64)
    (64, 16)
    """
    if not isinstance(n_features, Integral) or n_features < 1:
        raise ValueError(
            f"n_features must be a positive integer, got {n_features!r}."
        )
    return 64 if n_features >= 256 else max(2, n_features // 4)


def compare_zero_shot(
    images,
    y,
    *,
    text_embedder,
    transforms,
    class_names=None,
    templates="bare",
    return_predictions=False,
):
    """Top-1 accuracy of CLIP's zero-shot classifier, with and without transforms.

    The class prototypes (prompt embeddings, :func:`make_text_prototypes`)
    are computed once and shared; each transform maps only the image
    embeddings, as in Table 1 of Oldfield et al. (2023), where the images
    are projected onto the noun subspace. The first row, ``"CLIP"``, is the
    classifier on the embeddings as they are.

    Parameters
    ----------
    images : array-like of shape (n_images, n_features)
        Image embeddings (e.g. of :class:`~sklearn_pos.CLIPEmbedder` with
        ``modality="image"``).

    y : array-like of shape (n_images,)
        The class name of each image.

    text_embedder : CLIPEmbedder
        The text embedder of the same model, to embed the prompts.

    transforms : dict of str to transformer
        Named transformers, already fitted, applied to the image embeddings,
        e.g. ``{"noun": load_subspaces(path, output="projection")}``; each
        is wrapped in :class:`~sklearn.frozen.FrozenEstimator`, so nothing
        is refitted.

    class_names : sequence of str, default=None
        The classes to choose among; ``None`` uses the sorted unique ``y``.

    templates : str or sequence of str, default="bare"
        Prompt templates, as for :func:`make_text_prototypes`; ``"bare"``
        (the class name alone) is the paper's setting.

    return_predictions : bool, default=False
        Also return the predicted class of every image, per method.

    Returns
    -------
    table : DataFrame
        One row per method (``"CLIP"``, then the names of ``transforms``),
        index named ``"method"``, with the columns ``"top-1 accuracy (%)"``
        and ``"images"``. ``table.attrs["caveat"]`` is set when the text
        embedder's weights are random (:mod:`sklearn_pos.caveats`).

    predictions : DataFrame
        Only with ``return_predictions=True``: one row per image, the
        columns ``"class"`` (``y``), then one per method.

    See Also
    --------
    ZeroShotClassifier : The classifier compared.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn_pos import CLIPEmbedder
    >>> from sklearn_pos.evaluation import compare_zero_shot
    >>> text = CLIPEmbedder("sklearn-pos-tiny", pretrained=None, device="cpu")
    >>> images = text.transform(["a red car", "a blue sky", "a cat"])
    >>> table = compare_zero_shot(
    ...     images, ["car", "sky", "cat"], text_embedder=text,
    ...     transforms={"negated": FunctionTransformer(np.negative)})
    >>> table.index.tolist(), table.columns.tolist()
    (['CLIP', 'negated'], ['top-1 accuracy (%)', 'images'])
    """
    import numpy as np
    from sklearn.frozen import FrozenEstimator

    from .caveats import caveat_for
    from .zero_shot import ZeroShotClassifier, make_text_prototypes

    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(images):
        raise ValueError(
            f"y must hold one class name per image: got {len(y)} labels for "
            f"{len(images)} images."
        )
    if not isinstance(transforms, dict) or "CLIP" in transforms:
        raise ValueError(
            "transforms must be a dict of named transformers, none named 'CLIP' "
            "(the row of the embeddings as they are)."
        )
    if class_names is None:
        class_names = sorted(set(y.tolist()))
    prototypes = make_text_prototypes(class_names, text_embedder, templates)
    predicted = {
        "CLIP": ZeroShotClassifier(class_names, prototypes=prototypes)
        .fit(images)
        .predict(images)
    }
    for name, transform in transforms.items():
        predicted[name] = (
            ZeroShotClassifier(
                class_names,
                prototypes=prototypes,
                image_transform=FrozenEstimator(transform),
            )
            .fit(images)
            .predict(images)
        )
    table = pd.DataFrame(
        {
            "top-1 accuracy (%)": [
                100 * float(np.mean(p == y)) for p in predicted.values()
            ],
            "images": [len(y)] * len(predicted),
        },
        index=pd.Index(list(predicted), name="method"),
    )
    stamp_table(table, caveat_for(text_embedder))
    if return_predictions:
        return table, pd.DataFrame({"class": y, **predicted})
    return table
