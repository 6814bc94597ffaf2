"""A part-of-speech subspace learned from a labelled vocabulary, as a pipeline step.

:class:`PartOfSpeechComponentAnalysis` learns its subspaces from embeddings
labelled by part of speech. In a pipeline that classifies *images*, those
labels are not the ones ``fit`` receives: the subspace has to come from a
vocabulary (WordNet nouns, adjectives, verbs and adverbs), whatever the
images and their labels are. :class:`VocabularyPartOfSpeechAnalysis` holds
the vocabulary as a parameter and fits the subspace on it, ignoring the
``X`` and ``y`` of the pipeline except for the width of ``X``. Its ``lam``
and ``n_components`` can therefore be tuned by
:class:`~sklearn.model_selection.GridSearchCV` on an image task: every
candidate refits the closed form on the vocabulary, never on the image
labels.

Two caches keep this cheap. The vocabulary embeddings, when the step embeds
words itself, are computed once per process and reused by every clone
(keyed by the words and the embedder's parameters; see
:func:`sklearn_pos.clear_caches`). The fitted subspaces are memoised too
(keyed by the vocabulary's content and the subspace parameters), so the
folds of one candidate share one fit.

To use a fixed subspace instead, fit :class:`PartOfSpeechComponentAnalysis`
on the vocabulary once and put
``FrozenEstimator(fitted)`` (from :mod:`sklearn.frozen`) in the pipeline:
it is never refitted, which is right for a fixed subspace but cannot be
tuned.
"""

import copy
from numbers import Integral

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._caches import register_cache
from ._identity import values_digest
from ._compat import HasMethods, Interval, _fit_context
from ._labels import as_given, check_labels, check_labels_as_given
from ._text import embed_texts, validate_embeddings
from .decomposition import PartOfSpeechComponentAnalysis, _SubspaceFeatureNamesMixin

__all__ = ["VocabularyPartOfSpeechAnalysis"]

# Embedded vocabularies (words and labels, read-only) and fitted subspaces,
# shared by every clone and grid-search candidate of the process. An embedded
# WordNet takes hundreds of megabytes: only the most recent ones are kept.
_EMBEDDINGS = register_cache("vocabulary_embeddings", maxsize=2)
_SUBSPACES = register_cache("vocabulary_subspaces", maxsize=16)


def _embedder_key(embedder):
    """A key of what the embedder computes, or None if it cannot be keyed.

    For a :class:`~sklearn_pos.CLIPEmbedder`, its parameters and the identity of
    its weights by content (:meth:`~sklearn_pos.CLIPEmbedder.identity`), so that
    a checkpoint rewritten in place is a new key. For any other object, the
    whole object, fitted state included: two ``CountVectorizer`` with equal
    parameters fitted on different corpora are two keys.
    """
    from .embedding import CLIPEmbedder

    try:
        if isinstance(embedder, CLIPEmbedder):
            return joblib.hash(
                (
                    type(embedder).__qualname__,
                    embedder.get_params(deep=True),
                    embedder.identity(),
                )
            )
        return joblib.hash(embedder)
    except Exception:  # unpicklable, or no identity: no caching
        return None


def _check_words(data):
    """The words of a vocabulary as a list of str; missing or non-text rows fail."""
    words = data.tolist()
    bad = [i for i, w in enumerate(words) if not isinstance(w, str)]
    if bad:
        shown = ", ".join(f"row {i}: {words[i]!r}" for i in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise ValueError(
            f"The vocabulary has {len(bad)} word(s) that are not text ({shown}"
            f"{more}); drop or fill them (e.g. with pandas dropna) before fitting."
        )
    return words


def _split_vocabulary(vocabulary):
    """``(data, labels)`` from the accepted forms of ``vocabulary``."""
    if isinstance(vocabulary, str):
        if vocabulary != "wordnet":
            raise ValueError(
                f"vocabulary={vocabulary!r} is not a known vocabulary; use 'wordnet' "
                "or a pair (words or embeddings, labels)."
            )
        from .datasets import load_wordnet_vocabulary

        bunch = load_wordnet_vocabulary()
        return bunch.data, bunch.target
    if hasattr(vocabulary, "data") and hasattr(vocabulary, "target"):
        return vocabulary.data, vocabulary.target
    if isinstance(vocabulary, (tuple, list)) and len(vocabulary) == 2:
        return vocabulary
    raise TypeError(
        "vocabulary must be 'wordnet', a pair (words or embeddings, labels) or a "
        f"Bunch with data and target; got {type(vocabulary).__name__}."
    )


class VocabularyPartOfSpeechAnalysis(
    _SubspaceFeatureNamesMixin, TransformerMixin, BaseEstimator
):
    """Part-of-speech subspace learned from a vocabulary, applied to any embeddings.

    A pipeline step that fits :class:`~sklearn_pos.PartOfSpeechComponentAnalysis`
    on a labelled vocabulary, by default the WordNet words of each part of
    speech (:func:`~sklearn_pos.datasets.load_wordnet_vocabulary`), and
    transforms the pipeline's embeddings (e.g. of images) with it. The ``X``
    given to :meth:`fit` only sets the input width and ``y`` is ignored: the
    image labels never reach the subspace. With ``target="noun"`` and
    ``output="projection"`` the step maps embeddings onto the noun
    submanifold, as in the zero-shot experiments of Oldfield et al. (2023).

    ``lam`` and ``n_components`` are ordinary parameters, so
    :class:`~sklearn.model_selection.GridSearchCV` can tune them on an image
    task. The vocabulary is embedded once per process (or passed embedded)
    and each distinct subspace is fitted once: refitting is the closed form
    on cached embeddings.

    Read more in the :doc:`user guide </user_guide/tuning>`.

    Empty input: ``fit`` needs at least one sample (scikit-learn's "Found array
    with 0 sample(s)" error); ``transform``, ``project`` and
    ``inverse_transform`` of 0 rows return 0 rows of the output width, as an
    empty partition of a Dask collection needs.

    Parameters
    ----------
    vocabulary : "wordnet", pair or Bunch, default="wordnet"
        The labelled vocabulary. ``"wordnet"``: the bundled WordNet
        vocabulary (141,445 words). A pair ``(data, labels)`` or a Bunch
        with ``data`` and ``target``, where ``data`` holds either words
        (1-d, strings; embedded by ``text_embedder``) or their embeddings
        (2-d numeric array, used as is), and ``labels`` the category of each
        row (``"noun"``, ``"adj"``, ...). Embeddings passed here are copied
        by ``clone`` (and pickled with the estimator); words are small.

    text_embedder : object with ``transform``, default=None
        Embeds the words of the vocabulary, e.g.
        ``CLIPEmbedder(modality="text")`` of the model that embeds the
        images. Words are embedded alone, without a template, as in the
        paper. Not needed when the vocabulary is given as embeddings.

    n_components : int, default=None
        Dimension ``k`` of the subspace. ``None`` keeps all directions (then
        ``output="projection"`` is the identity). The paper uses 500 for
        ViT-B/32 zero-shot classification.

    lam : float, default=0.5
        Trade-off ``lambda`` in ``[0, 1]`` between the target category's
        variance and the others'.

    geometry : {"tangent", "euclidean"}, default="tangent"
        See :class:`~sklearn_pos.PartOfSpeechComponentAnalysis`.

    target : label, default=None
        The category whose subspace is used; one of the vocabulary's labels.
        ``None`` selects the smallest label (``"adj"`` for WordNet), as in
        :class:`~sklearn_pos.PartOfSpeechComponentAnalysis`: the two
        estimators share their subspace parameters, defaults included, so
        that a step fitted here and one fitted on the vocabulary's
        embeddings directly are the same. Pass ``target="noun"`` for the
        noun subspace of the paper.

    output : {"coordinates", "projection", "complement"}, default="coordinates"
        What :meth:`transform` returns: ``k`` subspace coordinates, the
        embeddings mapped onto the target's submanifold, or onto its
        complement (the default of
        :class:`~sklearn_pos.PartOfSpeechComponentAnalysis` too). Pass
        ``output="projection"`` to keep embeddings of the input's width, e.g.
        before a :class:`~sklearn_pos.ZeroShotClassifier`.

    vocabulary_size : int, default=None
        Use a random subset of this many words, stratified by label (faster,
        e.g. for tests and quick experiments): the draw of
        :func:`sklearn_pos.datasets.stratified_subset`, which needs at least
        one word per label. ``None`` uses them all.

    random_state : int, RandomState instance or None, default=0
        Seed of the ``vocabulary_size`` subset.

    tol : float, default=1e-7
        Convergence tolerance of the intrinsic mean.

    max_iter : int, default=100
        Maximum number of iterations of the intrinsic mean.

    Attributes
    ----------
    pos_ : PartOfSpeechComponentAnalysis
        The subspaces fitted on the vocabulary (``output`` as above), one
        per category (``pos_.class_components_``); :meth:`project` and
        :meth:`tangent_vectors` reach them through this step.

    components_ : ndarray of shape (n_components_, n_features)
        Orthonormal basis of the target category's subspace.

    n_components_ : int
        Number of directions kept.

    categories_ : ndarray of shape (n_categories,)
        The vocabulary's labels, sorted.

    n_vocabulary_ : int
        Number of vocabulary rows the subspace was fitted on.

    n_features_in_ : int
        Width of the embeddings (of ``X`` in fit, equal to the vocabulary's).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn_pos.PartOfSpeechComponentAnalysis : The subspace itself, fitted on
        labelled embeddings.
    sklearn_pos.ZeroShotClassifier : Zero-shot classification of the
        projected embeddings.
    sklearn_pos.clear_caches : Release the cached vocabulary embeddings and
        subspaces (and the other in-process caches).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos import VocabularyPartOfSpeechAnalysis
    >>> rng = np.random.RandomState(0)
    >>> words = rng.normal(size=(60, 8)) + 3          # stand-in word embeddings
    >>> pos = np.repeat(["adj", "noun", "verb"], 20)
    >>> step = VocabularyPartOfSpeechAnalysis(
    ...     (words, pos), n_components=3, target="noun", output="projection"
    ... )
    >>> images = rng.normal(size=(5, 8)) + 3
    >>> step.fit_transform(images, ["a", "b", "a", "b", "b"]).shape
    (5, 8)
    >>> step.set_params(output="coordinates").fit_transform(images).shape
    (5, 3)
    >>> step.categories_
    array(['adj', 'noun', 'verb'], dtype='<U4')
    """

    # The subspace parameters are PartOfSpeechComponentAnalysis's, with its
    # constraints: one rule per parameter, whichever estimator takes it.
    _parameter_constraints: dict = {
        "vocabulary": "no_validation",  # checked in fit, see _split_vocabulary
        "text_embedder": [HasMethods(["transform"]), None],
        **PartOfSpeechComponentAnalysis._parameter_constraints,
        "vocabulary_size": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        vocabulary="wordnet",
        *,
        text_embedder=None,
        n_components=None,
        lam=0.5,
        geometry="tangent",
        target=None,
        output="coordinates",
        vocabulary_size=None,
        random_state=0,
        tol=1e-7,
        max_iter=100,
    ):
        self.vocabulary = vocabulary
        self.text_embedder = text_embedder
        self.n_components = n_components
        self.lam = lam
        self.geometry = geometry
        self.target = target
        self.output = output
        self.vocabulary_size = vocabulary_size
        self.random_state = random_state
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ vocabulary

    def _subset(self, data, labels):
        from .datasets import stratified_subset

        if not isinstance(self.random_state, (Integral, type(None))):
            # A RandomState would change between calls: copy it so that every
            # fit of one estimator draws the same subset.
            state = copy.deepcopy(self.random_state)
        else:
            state = self.random_state
        try:
            return stratified_subset(
                data, labels, self.vocabulary_size, random_state=state
            )
        except ValueError as exc:
            raise ValueError(f"vocabulary_size={self.vocabulary_size}: {exc}") from None

    def _vocabulary_embeddings(self, X_width=None):
        """``(embeddings, labels, key)`` of the vocabulary, embedded at most once."""
        data, labels = _split_vocabulary(self.vocabulary)
        # A list mixing words with other values would become texts ('3').
        words = as_given(data)
        if words is not None:
            _check_words(words)
        if not isinstance(self.vocabulary, str):
            check_labels_as_given(labels, what="The vocabulary")
        labels = np.asarray(labels)
        data = np.asarray(data) if not isinstance(data, np.ndarray) else data
        if labels.ndim != 1 or len(labels) != len(data):
            raise ValueError(
                f"The vocabulary has {len(data)} rows but {labels.size} labels; give "
                "one label (part of speech) per word."
            )
        # The bundled vocabulary is named, not hashed: it cannot change.
        bundled = isinstance(self.vocabulary, str) and (
            self.vocabulary_size is None or isinstance(self.random_state, Integral)
        )
        if not bundled:
            labels = check_labels(labels, what="The vocabulary")
        data, labels = self._subset(data, labels)
        self._check_before_embedding(labels, X_width)
        if data.ndim == 2 and data.dtype.kind in "fiu":
            E = data
            key = ("embeddings", values_digest(E), values_digest(labels))
            return E, labels, key
        if data.ndim != 1 or data.dtype.kind not in "OUS":
            raise ValueError(
                "The vocabulary must hold words (1-d, strings) or their embeddings "
                f"(2-d, numeric); got an array of shape {data.shape} and dtype "
                f"{data.dtype}."
            )
        if self.text_embedder is None:
            raise ValueError(
                "The vocabulary holds words, which need a text_embedder, e.g. "
                "VocabularyPartOfSpeechAnalysis(text_embedder=CLIPEmbedder("
                "modality='text')) with the model that embeds the images; or pass "
                "the vocabulary as (embeddings, labels)."
            )
        words = data.tolist() if bundled else _check_words(data)
        embedder_key = _embedder_key(self.text_embedder)
        key = None
        if embedder_key is not None:
            if bundled:
                content = (self.vocabulary, self.vocabulary_size, self.random_state)
            else:
                content = (values_digest(words), values_digest(labels))
            key = ("words", embedder_key, content)
            cached = _EMBEDDINGS.get(key)
            if cached is not None:
                return cached[0], cached[1], key
        E = embed_texts(self.text_embedder, words, dtype=np.float32)
        if key is None:
            return E, labels, ("unkeyed", id(E))
        labels = labels.copy()
        E.flags.writeable = labels.flags.writeable = False
        _EMBEDDINGS.set(key, (E, labels))
        return E, labels, key

    def _check_before_embedding(self, labels, X_width):
        """Fail on parameters that cannot fit, before the vocabulary is embedded."""
        categories = np.asarray(sorted(set(labels.tolist())))
        if len(categories) < 2:
            raise ValueError(
                f"The vocabulary has {len(categories)} category "
                f"({categories.tolist()}); the subspaces need at least two parts "
                "of speech to tell apart."
            )
        if self.target is not None and self.target not in set(categories.tolist()):
            raise ValueError(
                f"target={self.target!r} is not one of the categories of the "
                f"vocabulary {categories.tolist()}; choose one of them."
            )
        if (
            X_width is not None
            and self.n_components is not None
            and self.n_components > X_width
        ):
            raise ValueError(
                f"n_components={self.n_components} must be at most the width of "
                f"the embeddings ({X_width}); use n_components=None to keep all of "
                "them."
            )

    def _fit_subspace(self, E, labels, key):
        params = dict(
            n_components=self.n_components,
            lam=self.lam,
            geometry=self.geometry,
            target=self.target,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        memo_key = None
        if key[0] != "unkeyed":
            memo_key = (key, joblib.hash(params))
            cached = _SUBSPACES.get(memo_key)
            if cached is not None:
                return copy.deepcopy(cached)
        pos = PartOfSpeechComponentAnalysis(**params).fit(E, labels)
        if memo_key is not None:
            _SUBSPACES.set(memo_key, copy.deepcopy(pos))
        return pos

    # ------------------------------------------------------------------ API

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X=None, y=None):
        """Fit the part-of-speech subspace on the vocabulary.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Embeddings the step will transform (e.g. of images). Only their
            width is used, checked against the vocabulary's; ``None`` skips
            the check.

        y : None
            Ignored: the subspace is learned from the vocabulary's labels,
            never from the labels of ``X``.

        Returns
        -------
        self : VocabularyPartOfSpeechAnalysis
            The fitted step.
        """
        if X is not None:
            X = validate_embeddings(self, X, dtype=[np.float64, np.float32])
        E, labels, key = self._vocabulary_embeddings(None if X is None else X.shape[1])
        if X is not None and X.shape[1] != E.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features but the vocabulary embeddings have "
                f"{E.shape[1]}: the images and the vocabulary must be embedded by the "
                "same CLIP model (the same model_name and pretrained weights)."
            )
        if X is None:
            self.n_features_in_ = E.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        pos = self._fit_subspace(E, labels, key)
        pos.set_params(output=self.output)
        self.pos_ = pos
        self.components_ = pos.components_
        self.n_components_ = pos.n_components_
        self.categories_ = pos.classes_
        self.n_vocabulary_ = int(E.shape[0])
        return self

    def transform(self, X):
        """Map embeddings onto (or away from) the target's subspace.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings of the vocabulary's width.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features) or (n_samples, n_components_)
            See ``output``.
        """
        return self.project(X)

    def _validated(self, X):
        """``X`` checked against this step's input (width, feature names)."""
        check_is_fitted(self)
        # pos_ was fitted on the vocabulary, not on X: X is validated here,
        # against what fit saw, and reaches pos_ as a plain array.
        # 0 rows give 0 rows (an empty partition of a Dask collection).
        return np.asarray(
            validate_embeddings(
                self,
                X,
                dtype=[np.float64, np.float32],
                reset=False,
                ensure_min_samples=0,
            )
        )

    def project(self, X, *, subspace=None, output=None):
        """Map embeddings onto (or away from) any vocabulary category's subspace.

        :meth:`transform` is ``project(X)``. Every category of the vocabulary
        has its subspace (``pos_.class_components_``), so another one needs
        no refit; see :meth:`PartOfSpeechComponentAnalysis.project
        <sklearn_pos.PartOfSpeechComponentAnalysis.project>`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings of the vocabulary's width.

        subspace : label, default=None
            One of ``categories_``; ``None`` uses ``target``.

        output : {"coordinates", "projection", "complement"}, default=None
            What to return; ``None`` uses the ``output`` of the last ``fit``,
            as :meth:`transform` does.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features) or (n_samples, n_components_)
            Projection, complement or coordinates.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_pos import VocabularyPartOfSpeechAnalysis
        >>> rng = np.random.RandomState(0)
        >>> words = rng.normal(size=(60, 8)) + 3
        >>> pos = np.repeat(["adj", "noun", "verb"], 20)
        >>> step = VocabularyPartOfSpeechAnalysis((words, pos), n_components=3)
        >>> images = rng.normal(size=(5, 8)) + 3
        >>> step.fit(images).project(images, subspace="adj", output="projection").shape
        (5, 8)
        >>> step.project(images, subspace="verb", output="coordinates").shape
        (5, 3)
        """
        X = self._validated(X)
        return self.pos_.project(X, subspace=subspace, output=output)

    def tangent_vectors(self, X):
        """Centred vectors of ``X`` in the space where the subspaces live.

        ``Log_mu(x / ||x||) - m`` with the vocabulary's intrinsic mean ``mu``
        and centre ``m`` (``x / ||x|| - m`` for ``geometry="euclidean"``); see
        :meth:`PartOfSpeechComponentAnalysis.tangent_vectors
        <sklearn_pos.PartOfSpeechComponentAnalysis.tangent_vectors>`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings of the vocabulary's width.

        Returns
        -------
        V : ndarray of shape (n_samples, n_features)
            The centred vectors.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_pos import VocabularyPartOfSpeechAnalysis
        >>> rng = np.random.RandomState(0)
        >>> words = rng.normal(size=(60, 8)) + 3
        >>> pos = np.repeat(["adj", "noun", "verb"], 20)
        >>> step = VocabularyPartOfSpeechAnalysis(
        ...     (words, pos), n_components=3, target="noun"
        ... )
        >>> images = rng.normal(size=(5, 8)) + 3
        >>> V = step.fit(images).tangent_vectors(images)
        >>> coords = V @ step.pos_.class_components_[1].T    # the noun subspace
        >>> bool(np.allclose(coords, step.project(images, output="coordinates")))
        True
        """
        X = self._validated(X)
        return self.pos_.tangent_vectors(X)

    def inverse_transform(self, X):
        """Map coordinates back to embeddings (``output="coordinates"`` only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)
            Coordinates.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Embeddings.
        """
        check_is_fitted(self)
        return self.pos_.inverse_transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
