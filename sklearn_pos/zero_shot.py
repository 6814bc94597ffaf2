r"""Classifiers that compare embeddings with class prototypes by cosine similarity.

:class:`ZeroShotClassifier` builds one prototype per class from text, the
class name filled into prompt templates and embedded by a CLIP text encoder,
and needs no labelled image. :class:`~sklearn_pos.NearestPrototypeClassifier`
(in :mod:`sklearn_pos.prototypes`) builds the prototypes from a few labelled
images (class means on the sphere), optionally pulled towards text prototypes.

Both take numeric input, the image embeddings, and score a row ``x`` against
every prototype ``p_c`` (unit vectors) by

.. math::

    \mathrm{logit}_c(x) = s \cdot \cos(x, p_c), \qquad
    P(c \mid x) = \mathrm{softmax}_c(\mathrm{logit}(x)),

with ``s = logit_scale`` (100, the temperature CLIP was trained with).

Prompt templates are format strings (see :mod:`sklearn_pos.templates`).
"""

from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets

from ._array_api import to_numpy
from ._compat import HasMethods, Interval, StrOptions, _fit_context
from ._cosine import (
    CosinePrototypeClassifier,
    check_class_directions,
    class_mean_directions,
    float_unit_rows,
)
from ._labels import check_labels, check_labels_as_given, encode_labels
from ._text import embed_texts, validate_embeddings
from ._validation import check_class_names, unit_rows
from .templates import TEMPLATES, check_templates, format_prompts

__all__ = [
    "ZeroShotClassifier",
    "make_text_prototypes",
]


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _as_label_array(labels):
    """Labels as an array typed like ``np.unique(y)`` (object if mixed types)."""
    if len({type(label) for label in labels}) == 1:
        typed = np.asarray(labels)
        if typed.ndim == 1:
            return typed
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return out


def _check_known_labels(y, classes, where):
    """Raise if ``y`` holds labels that are not among ``classes``."""
    known = set(np.asarray(classes, dtype=object).tolist())
    present = np.unique(np.asarray(y, dtype=object)).tolist() if len(y) else []
    missing = [label for label in present if label not in known]
    if missing:
        shown = sorted(map(repr, missing))
        more = f" (and {len(shown) - 10} more)" if len(shown) > 10 else ""
        raise ValueError(
            f"y has {len(missing)} label(s) missing from the {where}: "
            f"{', '.join(shown[:10])}{more}. The known classes are "
            f"{np.asarray(classes).tolist()[:20]}"
            f"{' ...' if len(classes) > 20 else ''}; "
            "add the missing classes (names or prototypes) or map y onto these labels."
        )


def _prototype_array(values, what):
    """``values`` as a float64 array, or an error saying what was passed."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{what} must hold embeddings (numbers), but converting them to "
            f"float failed: {error}. Pass embeddings, e.g. from "
            "make_text_prototypes, or class_names with a text_embedder to embed "
            "texts."
        ) from None


def _fit_step(step, X, name):
    """Clone and fit a transformer on ``X`` alone (never on the labels)."""
    if isinstance(step, FrozenEstimator):
        return step
    if get_tags(step).target_tags.required:
        raise ValueError(
            f"{name}={type(step).__name__}(...) needs labels to be fitted, but the "
            "image labels are never used to fit it. For a part-of-speech subspace, "
            "fit PartOfSpeechComponentAnalysis on the labelled vocabulary and pass "
            "FrozenEstimator(fitted), or use VocabularyPartOfSpeechAnalysis, which "
            "fits itself on its vocabulary."
        )
    return clone(step).fit(X, None)


def make_text_prototypes(class_names, text_embedder, templates="bare"):
    """Embed class names under prompt templates into one prototype per class.

    Each class name is filled into every template, the prompts are embedded
    and scaled to unit norm, averaged over the templates and the mean is
    scaled to unit norm again (prompt ensembling, as in Radford et al., 2021).

    Parameters
    ----------
    class_names : sequence of str
        One name per class.

    text_embedder : object with ``transform(list of str)``
        Maps texts to embeddings, e.g. ``CLIPEmbedder(modality="text")``.
        A scikit-learn transformer that must be fitted first is fitted on a
        clone, on the prompts.

    templates : str or sequence of str, default="bare"
        A named set of :data:`~sklearn_pos.templates.TEMPLATES` or format
        strings with one ``{}`` placeholder.

    Returns
    -------
    prototypes : ndarray of shape (n_classes, n_features)
        Unit-norm prototypes, float64, in the order of ``class_names``.

    Examples
    --------
    >>> from sklearn_pos import CLIPEmbedder
    >>> from sklearn_pos.zero_shot import make_text_prototypes
    >>> text = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu")
    >>> P = make_text_prototypes(["cat", "dog"], text, templates="simple")
    >>> P.shape
    (2, 64)
    """
    _, names = check_class_names(class_names, mapping=False)
    templates = check_templates(templates)
    prompts = format_prompts(names, templates)
    E = unit_rows(
        embed_texts(text_embedder, prompts), "The prompt embeddings", prompts
    )
    P = E.reshape(len(names), len(templates), -1).mean(axis=1)
    return unit_rows(P, "The prototypes", names)


# --------------------------------------------------------------------------- #
# Zero-shot
# --------------------------------------------------------------------------- #
class ZeroShotClassifier(CosinePrototypeClassifier):
    """Classify image embeddings by cosine similarity to text prototypes.

    Zero-shot classification with CLIP (Radford et al., 2021): every class
    name is filled into prompt templates, the prompts are embedded by a text
    encoder and averaged into one unit prototype per class, and an image
    embedding is assigned to the class of the most similar prototype. No
    labelled image is needed: :meth:`fit` accepts unlabelled embeddings, or
    ``X=None``, and only checks labels when they are given, so the classifier
    also works as the last step of a :class:`~sklearn.pipeline.Pipeline`
    evaluated with :func:`~sklearn.model_selection.cross_val_score`.

    The prototypes come from, in this order:

    1. ``prototypes``: precomputed embeddings, an array (one row per class)
       or a mapping label -> embedding;
    2. ``class_names`` + ``templates`` + ``text_embedder``;
    3. neither: the normalised mean of each class's rows of ``X``, which
       needs ``y``. The classifier is then a nearest-centroid classifier
       under the cosine (equal to ``NearestPrototypeClassifier(
       mean="extrinsic")``); this keeps it usable on any labelled numeric
       data, including scikit-learn's estimator checks.

    With ``image_transform``, e.g. the projection onto the noun submanifold
    of :class:`~sklearn_pos.VocabularyPartOfSpeechAnalysis`, the image
    embeddings are mapped before the cosine, and with
    ``project_prototypes=True`` so are the prototypes. Mapping only the
    images onto the noun submanifold learned from WordNet and comparing
    them with the raw class-name embeddings is the zero-shot protocol of
    Oldfield et al. (2023, Table 1).

    Read more in the :doc:`user guide </user_guide/zero_shot>`.

    Empty input: ``fit`` needs at least one sample (scikit-learn's "Found
    array with 0 sample(s)" error); ``predict``, ``predict_proba``,
    ``predict_log_proba``, ``decision_function`` and ``cosine_similarity`` of
    0 rows return 0 rows, as an empty partition of a Dask collection needs;
    ``score`` of 0 rows raises, as the accuracy of no rows is undefined.

    Parameters
    ----------
    class_names : sequence of str or dict, default=None
        The classes. A list of names, which are also the labels
        (``classes_``), or a mapping label -> name, e.g.
        ``{0: "airplane", 1: "automobile"}`` for integer targets. The order
        is the order of ``classes_``.

    templates : str or sequence of str, default="bare"
        Prompt templates, format strings with one ``{}`` placeholder, or the
        name of a shipped set: ``"bare"`` (the name alone, the setting of
        Oldfield et al.), ``"simple"`` (7 templates) or ``"openai_imagenet"``
        (80 templates). See :mod:`sklearn_pos.templates`.

    text_embedder : object with ``transform``, default=None
        Maps a list of prompts to embeddings, e.g.
        ``CLIPEmbedder(modality="text")`` of the model that embedded the
        images. Needed with ``class_names`` unless ``prototypes`` is given.

    prototypes : array-like of shape (n_classes, n_features) or dict, default=None
        Precomputed class prototypes (scaled to unit norm), e.g. from
        :func:`make_text_prototypes`. Rows follow ``class_names`` (or are the
        classes ``0 .. n_classes - 1``); a mapping label -> embedding must
        contain every class of ``class_names`` (others are ignored) and
        defines the classes when ``class_names`` is None.

    image_transform : transformer, default=None
        Applied to the image embeddings before the cosine. It is cloned and
        fitted on ``X`` without the labels in :meth:`fit`; a transformer
        that needs labels (such as
        :class:`~sklearn_pos.PartOfSpeechComponentAnalysis`, fitted on a
        vocabulary) must be passed already fitted, wrapped in
        :class:`~sklearn.frozen.FrozenEstimator`. Its output must be
        embeddings of the prototypes' width (``output="projection"``).

    project_prototypes : bool, default=False
        Also map the prototypes with ``image_transform``. ``False`` compares
        transformed images with raw text prototypes, as in Oldfield et al.

    logit_scale : float, default=100.0
        Multiplies the cosine similarities before the softmax of
        :meth:`predict_proba`; CLIP's learned value is 100.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the order of ``class_names`` (sorted in the
        labelled-mean mode).

    class_names_ : list of str or None
        Name of each class used in the prompts (None without text).

    prototypes_ : ndarray of shape (n_classes, n_features_out)
        Unit prototypes the embeddings are compared with (mapped by
        ``image_transform`` when ``project_prototypes=True``).

    image_transform_ : transformer or None
        The fitted ``image_transform``.

    n_features_in_ : int
        Number of features of ``X`` (the image embedding width).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn_pos.NearestPrototypeClassifier : Prototypes from a few labelled
        images, optionally with these text prototypes as a prior.
    make_text_prototypes : The prototypes of class names under templates.
    sklearn_pos.VocabularyPartOfSpeechAnalysis : Noun submanifold projection
        learned from a part-of-speech labelled vocabulary.

    References
    ----------
    A. Radford et al. "Learning Transferable Visual Models From Natural
    Language Supervision". ICML 2021. https://arxiv.org/abs/2103.00020

    J. Oldfield, C. Tzelepis, Y. Panagakis, M. A. Nicolaou and I. Patras.
    "Parts of Speech-Grounded Subspaces in Vision-Language Models".
    NeurIPS 2023. https://arxiv.org/abs/2305.14053

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos import ZeroShotClassifier
    >>> prototypes = {"cat": [1.0, 0.0, 0.0], "dog": [0.0, 1.0, 0.0]}
    >>> clf = ZeroShotClassifier(prototypes=prototypes).fit(None)
    >>> clf.classes_
    array(['cat', 'dog'], dtype='<U3')
    >>> X = np.array([[0.9, 0.1, 0.2], [0.2, 0.8, 0.1]])
    >>> clf.predict(X)
    array(['cat', 'dog'], dtype='<U3')
    >>> clf.predict_proba(X).round(3)
    array([[1., 0.],
           [0., 1.]])

    With a CLIP text encoder, the class names are enough:

    >>> from sklearn_pos import CLIPEmbedder
    >>> text = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu")
    >>> clf = ZeroShotClassifier(["cat", "dog"], templates="simple",
    ...                          text_embedder=text).fit(None)
    >>> clf.prototypes_.shape
    (2, 64)
    """

    _parameter_constraints: dict = {
        "class_names": ["array-like", dict, None],
        "templates": [StrOptions(set(TEMPLATES)), "array-like"],
        "text_embedder": [HasMethods(["transform"]), None],
        "prototypes": ["array-like", dict, None],
        "image_transform": [HasMethods(["fit", "transform"]), None],
        "project_prototypes": ["boolean"],
        "logit_scale": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        class_names=None,
        *,
        templates="bare",
        text_embedder=None,
        prototypes=None,
        image_transform=None,
        project_prototypes=False,
        logit_scale=100.0,
    ):
        self.class_names = class_names
        self.templates = templates
        self.text_embedder = text_embedder
        self.prototypes = prototypes
        self.image_transform = image_transform
        self.project_prototypes = project_prototypes
        self.logit_scale = logit_scale

    def _has_text_side(self):
        return self.class_names is not None or self.prototypes is not None

    def _given_prototypes(self):
        """``(labels, names, P)`` from the ``prototypes`` parameter."""
        if isinstance(self.prototypes, dict):
            if self.class_names is None:
                labels, names = list(self.prototypes), None
            else:
                labels, names = check_class_names(self.class_names)
                missing = [label for label in labels if label not in self.prototypes]
                if missing:
                    raise ValueError(
                        f"{len(missing)} class(es) of class_names missing from the "
                        f"prototypes: {missing[:10]}"
                        f"{' ...' if len(missing) > 10 else ''}. "
                        f"The prototypes have keys {list(self.prototypes)[:10]}"
                        f"{' ...' if len(self.prototypes) > 10 else ''}."
                    )
            if not labels:
                raise ValueError("prototypes is an empty mapping; give one per class.")
            rows = [
                _prototype_array(self.prototypes[label], f"The prototype of {label!r}")
                for label in labels
            ]
            widths = {r.shape for r in rows}
            if len(widths) != 1 or rows[0].ndim != 1:
                raise ValueError(
                    "Every prototype must be a 1-d embedding of the same width; got "
                    f"shapes {sorted(widths)}."
                )
            P = np.stack(rows)
        else:
            P = _prototype_array(self.prototypes, "prototypes")
            if P.ndim != 2 or P.shape[0] == 0:
                raise ValueError(
                    "prototypes must be a 2-d array with one row per class, got an "
                    f"array of shape {P.shape}."
                )
            if self.class_names is None:
                labels, names = list(range(P.shape[0])), None
            else:
                labels, names = check_class_names(self.class_names)
                if len(labels) != P.shape[0]:
                    raise ValueError(
                        f"prototypes has {P.shape[0]} rows but class_names has "
                        f"{len(labels)} classes; give one prototype per class, in "
                        "the order of class_names (or a mapping label -> prototype)."
                    )
        return labels, names, P

    def _text_prototypes(self):
        """``(labels, names, P)`` from the prototypes or the class names."""
        if self.prototypes is not None:
            return self._given_prototypes()
        labels, names = check_class_names(self.class_names)
        templates = check_templates(self.templates)
        if self.text_embedder is None:
            raise ValueError(
                "class_names are embedded by a text_embedder, e.g. "
                "ZeroShotClassifier(class_names, text_embedder=CLIPEmbedder("
                "modality='text')), of the model that embeds the images; or pass "
                "precomputed prototypes."
            )
        return labels, names, make_text_prototypes(names, self.text_embedder, templates)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Build the class prototypes; labels, if given, are only checked.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Image embeddings, labelled or not: they set ``n_features_in_``,
            are checked against the prototypes' width and fit
            ``image_transform``. ``None`` is accepted when the classes come
            from ``class_names`` or ``prototypes``.

        y : array-like of shape (n_samples,), default=None
            Labels of ``X``. With text prototypes, every label must be one of
            the classes (an error names the missing ones); nothing is learned
            from them. Required when neither ``class_names`` nor
            ``prototypes`` is given (prototypes are then class means).

        Returns
        -------
        self : ZeroShotClassifier
            The fitted classifier.
        """
        if self.text_embedder is not None and self.prototypes is not None:
            raise ValueError(
                "Give either prototypes or a text_embedder (to embed class_names), "
                "not both."
            )
        if self.text_embedder is not None and self.class_names is None:
            raise ValueError(
                "text_embedder embeds the class names, but class_names is None; "
                "give the class names, e.g. ZeroShotClassifier(['cat', 'dog'], "
                "text_embedder=...)."
            )
        if X is None:
            if not self._has_text_side():
                raise ValueError(
                    "ZeroShotClassifier.fit(None) needs class_names (with a "
                    "text_embedder) or prototypes to define the classes."
                )
            if y is not None:
                raise ValueError("y was given without X; pass the embeddings of y.")
        elif y is None:
            # Fitted on the host: the prototypes are few rows (see predict).
            X = validate_embeddings(
                self, to_numpy(X), dtype=[np.float64, np.float32]
            )
        else:
            check_labels_as_given(y)
            X, y = validate_embeddings(
                self, to_numpy(X), to_numpy(y), dtype=[np.float64, np.float32]
            )
            check_classification_targets(check_labels(y, allow_continuous=True))

        if self._has_text_side():
            labels, names, P = self._text_prototypes()
            self.classes_ = _as_label_array(labels)
            self.class_names_ = None if names is None else list(names)
            P = unit_rows(P, "The prototypes", labels)
            if y is not None:
                _check_known_labels(y, self.classes_, "prototypes' classes")
        else:
            if y is None:
                raise ValueError(
                    "ZeroShotClassifier requires y to be passed, but the target y is "
                    "None: without class_names or prototypes the prototypes are the "
                    "class means of X. Give class_names and a text_embedder to "
                    "classify without labels."
                )
            self.classes_, codes = encode_labels(y, allow_continuous=True)
            self.class_names_ = None
            P = class_mean_directions(float_unit_rows(X), codes, len(self.classes_))
            check_class_directions(P, self.classes_)

        self.image_transform_ = None
        if self.image_transform is not None:
            self.image_transform_ = _fit_step(
                self.image_transform, X, "image_transform"
            )
        if X is None:
            self.n_features_in_ = getattr(
                self.image_transform_, "n_features_in_", P.shape[1]
            )
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        raw_width = P.shape[1]
        if self.image_transform_ is not None and self.project_prototypes:
            if raw_width != self.n_features_in_:
                raise ValueError(
                    f"The prototypes have {raw_width} features but the image "
                    f"embeddings have {self.n_features_in_}: images and texts must "
                    "be embedded by the same CLIP model."
                )
            P = np.asarray(self.image_transform_.transform(P), dtype=np.float64)
            P = unit_rows(P, "The projected prototypes", labels)
        self.prototypes_ = P
        # The images as compared: checked on one row (or the width alone).
        if self.image_transform_ is None:
            self._check_widths(self.n_features_in_, "The image embeddings")
        elif X is not None and X.shape[0]:
            Z = np.asarray(self.image_transform_.transform(X[:1]))
            self._check_widths(Z.shape[1], "The transformed image embeddings")
        elif raw_width == self.n_features_in_:
            Z = np.asarray(self.image_transform_.transform(np.eye(1, raw_width)))
            self._check_widths(Z.shape[1], "The transformed image embeddings")
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = not self._has_text_side()
        return tags
