"""Benchmark helpers: tidy score tables and a generated image folder.

:func:`evaluate_classifiers` scores several classifiers on one dataset and
returns one row per (method, metric[, fold]) in a pandas DataFrame, the
"tidy" layout that concatenates across datasets and pivots into the tables
of papers. :func:`make_image_folder` writes a small folder of generated
images in the ``root/<class>/<image>`` layout of torchvision's
``ImageFolder``, for examples and offline smoke runs.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import cross_validate
from sklearn.utils import Bunch, check_random_state

__all__ = ["COLOURS", "evaluate_classifiers", "make_image_folder"]

#: RGB values of the colour classes :func:`make_image_folder` can draw.
COLOURS = {
    "red": (205, 30, 35),
    "green": (35, 160, 50),
    "blue": (35, 60, 210),
    "yellow": (240, 215, 40),
    "orange": (245, 140, 25),
    "purple": (130, 45, 170),
    "pink": (245, 130, 190),
    "brown": (120, 75, 35),
    "black": (15, 15, 15),
    "white": (250, 250, 250),
}

_SHAPES = ("circle", "square", "triangle")


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
        (accuracy as a fraction).

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
    return pd.DataFrame(rows)


def _draw(colour, shape, size, rng):
    from PIL import Image, ImageDraw

    background = tuple(int(v) for v in rng.integers(170, 256, size=3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    half = int(rng.integers(size // 4, size // 2 - 2))
    cx, cy = (int(v) for v in rng.integers(half, size - half, size=2))
    box = [cx - half, cy - half, cx + half, cy + half]
    if shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon(
            [(cx, cy - half), (cx - half, cy + half), (cx + half, cy + half)],
            fill=colour,
        )
    pixels = np.asarray(image, dtype=np.float64)
    pixels += rng.normal(0, 12, size=pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_image_folder(
    root,
    *,
    classes=("red", "green", "blue"),
    n_per_class=8,
    image_size=64,
    random_state=0,
):
    """Write generated images of coloured shapes, one subfolder per colour.

    Each image is a circle, square or triangle of the class's colour on a
    random light background, with pixel noise. The layout is that of
    torchvision's ``ImageFolder`` (``root/<class>/<class>_<i>.png``), so the
    folder works wherever an image dataset folder is expected. A real CLIP
    model recognises the colours from their names; random weights do not.

    Parameters
    ----------
    root : str or path-like
        Folder to write into (created if needed).

    classes : sequence of str, default=("red", "green", "blue")
        Colour names, keys of :data:`COLOURS`.

    n_per_class : int, default=8
        Images per class.

    image_size : int, default=64
        Side of the square images, in pixels.

    random_state : int, RandomState instance or None, default=0
        Seed of the shapes, positions, backgrounds and noise.

    Returns
    -------
    folder : Bunch
        ``root`` (Path), ``paths`` (list of str, class by class),
        ``target`` (colour name per image), ``shape`` (shape drawn per
        image) and ``target_names`` (the classes, sorted as ``ImageFolder``
        sorts them).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_pos.evaluation import make_image_folder
    >>> folder = make_image_folder(tempfile.mkdtemp(), n_per_class=2)
    >>> folder.target_names
    ['blue', 'green', 'red']
    >>> len(folder.paths), folder.target[:2].tolist()
    (6, ['blue', 'blue'])
    """
    unknown = [c for c in classes if c not in COLOURS]
    if unknown or not len(classes):
        raise ValueError(
            f"classes must be non-empty colour names among {sorted(COLOURS)}; "
            f"unknown: {unknown}."
        )
    if n_per_class < 1 or image_size < 8:
        raise ValueError("n_per_class must be >= 1 and image_size >= 8.")
    seed = check_random_state(random_state).randint(2**31)
    rng = np.random.default_rng(seed)
    root = Path(root)
    paths, target, shapes = [], [], []
    for name in sorted(set(classes)):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            shape = _SHAPES[int(rng.integers(len(_SHAPES)))]
            path = folder / f"{name}_{i}.png"
            _draw(COLOURS[name], shape, image_size, rng).save(path)
            paths.append(str(path))
            target.append(name)
            shapes.append(shape)
    return Bunch(
        root=root,
        paths=paths,
        target=np.asarray(target),
        shape=np.asarray(shapes),
        target_names=sorted(set(classes)),
    )
