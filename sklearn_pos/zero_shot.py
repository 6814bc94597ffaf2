r"""Classifiers that compare embeddings with class prototypes by cosine similarity.

:class:`ZeroShotClassifier` builds one prototype per class from text, the
class name filled into prompt templates and embedded by a CLIP text encoder,
and needs no labelled image. :class:`NearestPrototypeClassifier` builds the
prototypes from a few labelled images (class means on the sphere),
optionally pulled towards text prototypes.

Both take numeric input, the image embeddings, and score a row ``x`` against
every prototype ``p_c`` (unit vectors) by

.. math::

    \mathrm{logit}_c(x) = s \cdot \cos(x, p_c), \qquad
    P(c \mid x) = \mathrm{softmax}_c(\mathrm{logit}(x)),

with ``s = logit_scale`` (100, the temperature CLIP was trained with).

Prompt templates are format strings (see :mod:`sklearn_pos.templates`).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _sphere
from ._compat import HasMethods, Interval, StrOptions, _fit_context
from ._text import embed_texts
from .templates import TEMPLATES, check_templates, format_prompts

__all__ = [
    "NearestPrototypeClassifier",
    "ZeroShotClassifier",
    "make_text_prototypes",
]


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _normalize_rows(X):
    """Unit rows as float64; zero rows (no direction) stay zero."""
    return _sphere.normalize_rows(np.asarray(X, dtype=np.float64))


def _labels_and_names(class_names):
    """``(labels, names)`` from a list of names or a mapping label -> name."""
    if isinstance(class_names, dict):
        labels, names = list(class_names.keys()), list(class_names.values())
    else:
        names = list(np.asarray(class_names, dtype=object).ravel())
        labels = names
    if not names:
        raise ValueError("class_names is empty; give at least one class name.")
    seen, duplicates = set(), []
    for label in labels:
        if label in seen:
            duplicates.append(label)
        seen.add(label)
    if duplicates:
        raise ValueError(
            f"class_names has duplicate classes {sorted(map(str, set(duplicates)))}; "
            "each class needs one name (or use a mapping label -> name)."
        )
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(
            f"Class names must be strings to fill the prompt templates, got "
            f"{bad[0]!r} ({type(bad[0]).__name__}). Use a mapping such as "
            "{0: 'airplane', 1: 'automobile'} when the labels are not names."
        )
    return labels, names


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
    names = [str(n) for n in class_names]
    templates = check_templates(templates)
    if not names:
        raise ValueError("class_names is empty; give at least one class name.")
    prompts = format_prompts(names, templates)
    E = _sphere.unit_rows(
        embed_texts(text_embedder, prompts), "The prompt embeddings", prompts
    )
    P = E.reshape(len(names), len(templates), -1).mean(axis=1)
    return _sphere.unit_rows(P, "The prototypes", names)


class _CosinePrototypeClassifier(ClassifierMixin, BaseEstimator):
    """Scores rows against ``prototypes_`` by ``logit_scale`` times the cosine.

    Subclasses set ``classes_``, ``prototypes_`` (unit rows) and optionally
    ``image_transform_`` (applied to the rows first) in ``fit``.
    """

    def _embed(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        transform = getattr(self, "image_transform_", None)
        if transform is not None:
            X = np.asarray(transform.transform(X))
        return _normalize_rows(X)

    def _check_widths(self, width, source):
        expected = self.prototypes_.shape[1]
        if width != expected:
            raise ValueError(
                f"{source} have {width} features but the prototypes have "
                f"{expected}: images and texts must be embedded by the same CLIP "
                "model (the same model_name and pretrained weights)"
                + (
                    ", and image_transform must return embeddings "
                    "(e.g. output='projection'), not subspace coordinates."
                    if getattr(self, "image_transform_", None) is not None
                    else "."
                )
            )

    def cosine_similarity(self, X):
        """Cosine similarity of each row of ``X`` with each class prototype.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings (e.g. of images).

        Returns
        -------
        cosine : ndarray of shape (n_samples, n_classes)
            Column ``j`` belongs to ``classes_[j]``.
        """
        Z = self._embed(X)
        self._check_widths(Z.shape[1], "The embeddings")
        return Z @ self.prototypes_.T

    def decision_function(self, X):
        """Logits ``logit_scale * cosine`` of each row against each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            The logits; with two classes, following scikit-learn, the logit of
            ``classes_[1]`` minus that of ``classes_[0]``.
        """
        logits = self.logit_scale * self.cosine_similarity(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict(self, X):
        """Class of the most similar prototype for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        cosine = self.cosine_similarity(X)
        return self.classes_[np.argmax(cosine, axis=1)]

    def predict_proba(self, X):
        """Softmax of ``logit_scale * cosine`` over the classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns in the order of ``classes_``.
        """
        return softmax(self.logit_scale * self.cosine_similarity(X), axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        return log_softmax(self.logit_scale * self.cosine_similarity(X), axis=1)


# --------------------------------------------------------------------------- #
# Zero-shot
# --------------------------------------------------------------------------- #
class ZeroShotClassifier(_CosinePrototypeClassifier):
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

    Read more in the README, section "Zero-shot classification".

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
    NearestPrototypeClassifier : Prototypes from a few labelled images,
        optionally with these text prototypes as a prior.
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
                labels, names = _labels_and_names(self.class_names)
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
                np.asarray(self.prototypes[label], dtype=np.float64) for label in labels
            ]
            widths = {r.shape for r in rows}
            if len(widths) != 1 or rows[0].ndim != 1:
                raise ValueError(
                    "Every prototype must be a 1-d embedding of the same width; got "
                    f"shapes {sorted(widths)}."
                )
            P = np.stack(rows)
        else:
            P = np.asarray(self.prototypes, dtype=np.float64)
            if P.ndim != 2 or P.shape[0] == 0:
                raise ValueError(
                    "prototypes must be a 2-d array with one row per class, got an "
                    f"array of shape {P.shape}."
                )
            if self.class_names is None:
                labels, names = list(range(P.shape[0])), None
            else:
                labels, names = _labels_and_names(self.class_names)
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
        labels, names = _labels_and_names(self.class_names)
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
            X = validate_data(self, X, dtype=[np.float64, np.float32])
        else:
            X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
            check_classification_targets(y)

        if self._has_text_side():
            labels, names, P = self._text_prototypes()
            self.classes_ = _as_label_array(labels)
            self.class_names_ = None if names is None else list(names)
            P = _sphere.unit_rows(P, "The prototypes", labels)
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
            self.classes_, codes = np.unique(y, return_inverse=True)
            self.class_names_ = None
            P = _sphere_class_means(_normalize_rows(X), codes, len(self.classes_))

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
            P = _sphere.unit_rows(P, "The projected prototypes", labels)
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


def _sphere_class_means(X, codes, n_classes):
    """Normalised Euclidean mean of each class's unit rows (zero rows ignored)."""
    P = np.zeros((n_classes, X.shape[1]))
    np.add.at(P, codes, X)
    return _sphere.normalize_rows(P)


# --------------------------------------------------------------------------- #
# Few-shot
# --------------------------------------------------------------------------- #
class NearestPrototypeClassifier(_CosinePrototypeClassifier):
    r"""Nearest class mean on the sphere, optionally with text prototypes as a prior.

    Each class ``c`` is represented by the mean direction ``m_c`` of its
    labelled embeddings (rows scaled to unit norm): the intrinsic (Karcher)
    mean on the sphere, or the normalised Euclidean mean. A row is assigned
    to the class of the most similar prototype under the cosine, with
    probabilities ``softmax(logit_scale * cosine)``. A few labelled images
    per class suffice.

    With a ``prior`` (text prototypes ``t_c``, e.g. a
    :class:`ZeroShotClassifier` built from the class names), each prototype
    is moved from the image mean towards the text prototype along the
    geodesic between them:

    .. math::

        p_c = \mathrm{Exp}_{m_c}\big(\alpha_c \, \mathrm{Log}_{m_c}(t_c)\big),
        \qquad \alpha_c = \frac{w}{n_c + w},

    the weighted intrinsic mean of the two points with weights ``n_c`` (the
    number of labelled rows of the class) and ``w = prior_weight``: the text
    counts as ``w`` images. With one image per class and ``w = 1`` the
    prototype lies halfway; as images accumulate the data dominate.

    Read more in the README, section "Few-shot classification".

    Parameters
    ----------
    mean : {"intrinsic", "extrinsic"}, default="intrinsic"
        ``"intrinsic"``: the Karcher mean on the unit sphere (iterated to
        ``tol``); ``"extrinsic"``: the Euclidean mean of the unit rows,
        scaled to unit norm. Both agree closely for the narrow cones of CLIP
        embeddings.

    prior : ZeroShotClassifier, dict or None, default=None
        Source of the text prototypes: a :class:`ZeroShotClassifier`
        (cloned and fitted on ``X, y``; its ``prototypes_`` are used, and
        every class of ``y`` must be one of its classes), or a mapping
        label -> embedding. ``None``: image means only.

    prior_weight : float, default=1.0
        Weight ``w >= 0`` of the text prototype, in numbers of images.
        ``0`` ignores the prior.

    logit_scale : float, default=100.0
        Multiplies the cosine similarities before the softmax.

    tol : float, default=1e-7
        Convergence tolerance (radians) of the intrinsic means.

    max_iter : int, default=100
        Maximum number of iterations of each intrinsic mean.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (sorted).

    class_means_ : ndarray of shape (n_classes, n_features)
        Unit mean direction ``m_c`` of each class's embeddings (a zero row
        for a class whose rows are all zero).

    class_counts_ : ndarray of shape (n_classes,)
        Number of non-zero rows ``n_c`` of each class.

    prototypes_ : ndarray of shape (n_classes, n_features)
        The prototypes ``p_c`` compared with, after the prior.

    prior_ : ZeroShotClassifier or None
        The fitted prior.

    n_iter_ : int
        Largest number of iterations of the intrinsic means (0 for
        ``mean="extrinsic"``).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    ZeroShotClassifier : Prototypes from class names alone.
    sklearn.neighbors.NearestCentroid : Euclidean nearest centroid.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos import NearestPrototypeClassifier, ZeroShotClassifier
    >>> X = np.array([[1.0, 0.1, 0.0], [1.0, -0.1, 0.1], [0.0, 1.0, 0.2]])
    >>> y = np.array(["cat", "cat", "dog"])
    >>> clf = NearestPrototypeClassifier().fit(X, y)
    >>> clf.predict([[0.8, 0.3, 0.0], [0.1, 0.9, 0.0]])
    array(['cat', 'dog'], dtype='<U3')

    Text prototypes as a prior, weighted as 2 images:

    >>> text = ZeroShotClassifier(prototypes={"cat": [1, 0, 0], "dog": [0, 1, 0]})
    >>> clf = NearestPrototypeClassifier(prior=text, prior_weight=2).fit(X, y)
    >>> clf.prototypes_.round(2)
    array([[1.  , 0.  , 0.02],
           [0.  , 1.  , 0.07]])
    """

    _parameter_constraints: dict = {
        "mean": [StrOptions({"intrinsic", "extrinsic"})],
        "prior": [HasMethods(["fit"]), dict, None],
        "prior_weight": [Interval(Real, 0, None, closed="left")],
        "logit_scale": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        mean="intrinsic",
        prior=None,
        prior_weight=1.0,
        logit_scale=100.0,
        tol=1e-7,
        max_iter=100,
    ):
        self.mean = mean
        self.prior = prior
        self.prior_weight = prior_weight
        self.logit_scale = logit_scale
        self.tol = tol
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Compute the class means, and pull them towards the prior.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings of labelled images (rows are scaled to unit norm; rows
            of zero norm carry no direction and are ignored).

        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        self : NearestPrototypeClassifier
            The fitted classifier.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        U = _normalize_rows(X)
        nonzero = np.einsum("ij,ij->i", U, U) > 0
        self.class_counts_ = np.bincount(codes[nonzero], minlength=len(self.classes_))
        if self.mean == "extrinsic":
            means = _sphere_class_means(U, codes, len(self.classes_))
            self.n_iter_ = 0
        else:
            means, self.n_iter_ = self._intrinsic_means(U[nonzero], codes[nonzero])
        self.class_means_ = means

        self.prior_ = None
        P = means.copy()
        if self.prior is not None and self.prior_weight > 0:
            T = self._prior_prototypes(X, y)
            alpha = self.prior_weight / (self.class_counts_ + self.prior_weight)
            for c in range(len(self.classes_)):
                if self.class_counts_[c] == 0:
                    P[c] = T[c]
                    continue
                V = _sphere.log_map(T[c][None, :], means[c])
                P[c] = _sphere.exp_map(alpha[c] * V, means[c])[0]
        elif self.prior is not None:
            self._prior_prototypes(X, y)  # still check the classes
        self.prototypes_ = P
        return self

    def _intrinsic_means(self, U, codes):
        means = np.zeros((len(self.classes_), U.shape[1]))
        n_iter = 0
        for c in range(len(self.classes_)):
            rows = U[codes == c]
            if rows.shape[0] == 0:
                continue
            mu, center, it, converged = _sphere.intrinsic_mean(
                rows, tol=self.tol, max_iter=self.max_iter
            )
            if not converged:
                warnings.warn(
                    f"The intrinsic mean of class {self.classes_.tolist()[c]!r} did not "
                    f"converge in max_iter={self.max_iter} iterations (last step "
                    f"{np.linalg.norm(center):.2e} > tol={self.tol:.1e}). Increase "
                    "max_iter or tol, or use mean='extrinsic'.",
                    ConvergenceWarning,
                    stacklevel=3,
                )
            means[c] = mu
            n_iter = max(n_iter, it)
        return means, n_iter

    def _prior_prototypes(self, X, y):
        """Text prototype of each class of ``classes_``, unit rows."""
        prior = self.prior
        if isinstance(prior, dict):
            prior = ZeroShotClassifier(prototypes=prior)
        if getattr(prior, "image_transform", None) is not None:
            raise ValueError(
                "The prior's image_transform is not applied by "
                "NearestPrototypeClassifier; put the transform in a Pipeline "
                "before the classifier and give the prior its prototypes only."
            )
        self.prior_ = clone(prior).fit(X, y)
        classes = list(np.asarray(self.prior_.classes_, dtype=object))
        index = {label: i for i, label in enumerate(classes)}
        missing = [c for c in self.classes_.tolist() if c not in index]
        if missing:  # a prior that does not check y itself
            raise ValueError(
                f"y has {len(missing)} label(s) missing from the prior's prototypes: "
                f"{missing[:10]}."
            )
        T = np.asarray(self.prior_.prototypes_, dtype=np.float64)
        return T[[index[c] for c in self.classes_.tolist()]]
