r"""Projection-augmentation embedding (CLIP-PAE, Zhou et al., SIGGRAPH 2023).

Text-guided image editing pulls the CLIP embedding of the edited image
towards a target. CLIP-PAE builds that target from the image embedding itself:
within a *corpus subspace* spanned by prompts about one attribute (for
instance "a happy face", "a sad face", ...), the image's coordinates are moved
onto the target text, everything outside the subspace is kept.

This module provides the formula as a function,
:func:`projection_augmentation`, and the transformer
:class:`ProjectionAugmentationEmbedding`, which builds the corpus basis from
prompts (Gram-Schmidt) or from a word list (PCA). The editing loop, with its
generator, is outside this library: the transformer returns the target
embeddings that such a loop optimises towards (for instance with the loss
``1 - cos(E_I(G(w)), PAE)``).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.decomposition import PCA
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ._compat import HasMethods, Interval, StrOptions, _fit_context
from ._text import embed_texts, validate_embeddings
from ._validation import check_embedding_values, unit_rows

__all__ = ["ProjectionAugmentationEmbedding", "projection_augmentation"]

#: Below this absolute value, ``sum_k <e_T, b_k>`` counts as zero.
DENOMINATOR_TOL = 1e-8


def projection_augmentation(image_embeddings, target_embedding, components, alpha=8.0):
    r"""The projection-augmentation embedding of image embeddings.

    For an image embedding :math:`e_I`, a target text embedding :math:`e_T`
    and the orthonormal rows :math:`b_1, \dots, b_K` of ``components``,

    .. math::

        c_k = \langle e_I, b_k \rangle, \qquad
        \mathrm{PAE} = e_I - \alpha \sum_k |c_k| \, b_k
            + \frac{\alpha \sum_k |c_k|}{\sum_k \langle e_T, b_k \rangle} \, e_T .

    The second term removes mass from every corpus direction, the third puts
    the same total back along the target, so the sum of coordinates
    :math:`\sum_k \langle \mathrm{PAE}, b_k \rangle = \sum_k c_k` is kept,
    and when :math:`e_T` lies in the corpus subspace the part of
    :math:`e_I` orthogonal to it is unchanged. ``alpha = 0`` gives
    :math:`e_I`.

    The inputs are used as given (no normalisation) and the result is not
    normalised: this is the formula itself. :class:`ProjectionAugmentationEmbedding`
    wraps it with normalisation.

    Parameters
    ----------
    image_embeddings : array-like of shape (n_samples, n_features) or (n_features,)
        Image embeddings :math:`e_I`.

    target_embedding : array-like of shape (n_features,) or (n_samples, n_features)
        Target text embedding :math:`e_T`, shared by all rows or one per row.

    components : array-like of shape (n_components, n_features)
        Orthonormal basis :math:`b_k` of the corpus subspace, one per row.

    alpha : float, default=8.0
        Strength :math:`\alpha` of the augmentation; the paper uses about 8.

    Returns
    -------
    pae : ndarray of the shape of ``image_embeddings``
        The projection-augmentation embeddings.

    Raises
    ------
    ValueError
        If :math:`|\sum_k \langle e_T, b_k \rangle|` is below
        ``DENOMINATOR_TOL`` (1e-8) for some target: the formula is undefined;
        or if the result overflows float64 (a huge ``alpha``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos.pae import projection_augmentation
    >>> basis = np.eye(3)[:2]                  # the corpus spans x and y
    >>> e_image = np.array([0.6, 0.0, 0.8])    # has some x
    >>> e_target = np.array([0.0, 1.0, 0.0])   # the target is y
    >>> projection_augmentation(e_image, e_target, basis, alpha=1.0)
    array([0. , 0.6, 0.8])
    """
    if not isinstance(alpha, Real) or isinstance(alpha, bool) or not np.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number, got {alpha!r}.")
    E, T, B = (
        check_embedding_values(a, name).astype(np.float64, copy=False)
        for a, name in (
            (image_embeddings, "image_embeddings"),
            (target_embedding, "target_embedding"),
            (components, "components"),
        )
    )
    one_row = E.ndim == 1
    E = np.atleast_2d(E)
    if E.ndim != 2:
        raise ValueError(
            "image_embeddings must be 1-D or 2-D, got shape "
            f"{np.shape(image_embeddings)}."
        )
    if B.ndim != 2 or B.shape[1] != E.shape[1]:
        raise ValueError(
            f"components must have shape (n_components, {E.shape[1]}); got {B.shape}."
        )
    if T.shape not in {(E.shape[1],), (E.shape[0], E.shape[1])}:
        raise ValueError(
            f"target_embedding must have shape ({E.shape[1]},) or "
            f"({E.shape[0]}, {E.shape[1]}); got {T.shape}."
        )
    denominator = np.atleast_1d(T @ B.sum(axis=0))
    bad = np.flatnonzero(np.abs(denominator) <= DENOMINATOR_TOL)
    if bad.size:
        raise ValueError(
            f"The target embedding's coordinates in the corpus basis sum to "
            f"{denominator[bad[0]]:.3g} (sum_k <e_T, b_k>, target row {bad[0]}); "
            "the projection-augmentation formula divides by this sum, so it is "
            "undefined. Use a target with a component in the corpus subspace, "
            "or another basis."
        )
    coef = np.abs(E @ B.T)  # |c_k|, (n, K)
    total = coef.sum(axis=1)  # sum_k |c_k|, (n,)
    T2 = np.broadcast_to(T, E.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        pae = E - alpha * (coef @ B) + (alpha * total / denominator)[:, None] * T2
    bad = np.flatnonzero(~np.all(np.isfinite(pae), axis=1))
    if bad.size:
        # Finite inputs, an infinite or NaN result: the terms overflowed.
        raise ValueError(
            f"The projection-augmentation embedding of {bad.size} row(s) (first "
            f"at row {bad[0]}) overflows float64 with alpha={alpha!r}: the "
            "terms alpha * |c_k| exceed the largest float. Use a smaller alpha "
            "(the paper uses about 8) or rescale the embeddings."
        )
    return pae[0] if one_row else pae


def _gram_schmidt(V, rtol=1e-6):
    """Orthonormal rows spanning the rows of ``V``, in their order.

    Modified Gram-Schmidt with a second orthogonalisation pass. A row whose
    residual is below ``rtol`` times its norm is linearly dependent on the
    previous ones and is skipped; returns the basis and the kept row indices.
    """
    basis, kept = [], []
    for i, v in enumerate(V):
        r = v.astype(np.float64, copy=True)
        for _ in range(2):
            for b in basis:
                r -= (r @ b) * b
        norm = np.linalg.norm(r)
        if norm > rtol * np.linalg.norm(v):
            basis.append(r / norm)
            kept.append(i)
    return np.asarray(basis).reshape(len(basis), V.shape[1]), kept


def _is_text(values):
    """Whether ``values`` is a non-empty 1-D sequence of strings."""
    if isinstance(values, str):
        return True
    arr = np.asarray(values, dtype=object)
    return arr.ndim == 1 and arr.size > 0 and all(isinstance(v, str) for v in arr)


def _check_not_mixed(values, what):
    """Refuse a 1-D ``values`` holding texts and other things, or nothing.

    Texts are embedded and numbers taken as an embedding; a mixture is
    neither, and would otherwise fail inside the numeric conversion with a
    message that names neither the parameter nor the row.
    """
    if isinstance(values, str) or not hasattr(values, "__len__"):
        return
    try:
        arr = np.asarray(values, dtype=object)
    except ValueError:  # ragged nesting: the numeric check reports it
        return
    if arr.size == 0:
        raise ValueError(
            f"{what} is empty; pass prompts (a list of str) or their embeddings "
            "(an array of shape (n_prompts, n_features))."
        )
    if arr.ndim != 1:
        return
    is_text = np.fromiter((isinstance(v, str) for v in arr), bool, arr.size)
    if is_text.any() and not is_text.all():
        row = int(np.flatnonzero(~is_text)[0])
        raise ValueError(
            f"{what} mixes texts and other values: element {row} is "
            f"{arr[row]!r} ({type(arr[row]).__name__}), element "
            f"{int(np.flatnonzero(is_text)[0])} is text. Pass only prompts "
            "(str), e.g. [str(v) for v in values], or only embeddings (an "
            "array of numbers)."
        )


class ProjectionAugmentationEmbedding(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    r"""Move image embeddings onto a target text within a prompt subspace.

    CLIP-PAE (Zhou et al., 2023) defines, for an image embedding
    :math:`e_I`, a target text embedding :math:`e_T` and an orthonormal basis
    :math:`b_1, \dots, b_K` of a corpus subspace,

    .. math::

        c_k = \langle e_I, b_k \rangle, \qquad
        \mathrm{PAE} = e_I - \alpha \sum_k |c_k| \, b_k
            + \frac{\alpha \sum_k |c_k|}{\sum_k \langle e_T, b_k \rangle} \, e_T ,

    the optimisation target of text-guided image editing: the image's mass
    in the corpus directions is taken away and put back along the target,
    while its other attributes (outside the subspace) are kept.

    :meth:`fit` builds the basis from ``corpus`` and encodes ``target``;
    :meth:`transform` evaluates the formula for image embeddings. The data
    passed to :meth:`fit` are not used (only their width is checked), so the
    estimator can follow an image embedder in a
    :class:`~sklearn.pipeline.Pipeline`.

    Read more in the :doc:`user guide </user_guide/related>`.

    Empty input: ``fit`` needs at least one sample (scikit-learn's "Found
    array with 0 sample(s)" error); ``transform`` of 0 rows returns 0 rows
    of the output width, as an empty partition of a Dask collection needs.

    Parameters
    ----------
    corpus : list of str or array-like (n_prompts, n_features), default=None
        Prompts (or words) describing the attribute to edit, e.g.
        ``["a happy face", "a sad face", "an angry face"]``, encoded with
        ``text_embedder``; or their embeddings, computed elsewhere. Required.

    target : str or array-like of shape (n_features,), default=None
        The target text, e.g. ``"an angry face"``, encoded with
        ``text_embedder``; or its embedding. Required. It is encoded in
        :meth:`fit`: refit after changing it. To use one basis with many
        targets, call :func:`projection_augmentation` with ``components_``.

    text_embedder : object, default=None
        Any object whose ``transform(list of str)`` returns an ``(n, d)``
        array, such as ``CLIPEmbedder(modality="text")``. Needed when
        ``corpus`` or ``target`` is text.

    basis : {"gram-schmidt", "pca"}, default="gram-schmidt"
        How the corpus basis is built from the (normalised) corpus
        embeddings:

        - ``"gram-schmidt"``: orthonormalise them in order, so
          :math:`b_1` is the first prompt and each :math:`b_k` points towards
          prompt :math:`k` (prompts dependent on the previous ones are skipped
          with a warning). For a few prompts.
        - ``"pca"``: the principal axes of the centred embeddings
          (:class:`~sklearn.decomposition.PCA`), for a long word list. Each
          axis is oriented so that the corpus mean has a non-negative
          coordinate on it (``<b_k, mean> >= 0``), which fixes the signs the
          formula depends on.

    n_components : int or float, default=None
        Number of basis vectors :math:`K`. ``"gram-schmidt"``: keep the first
        ``n_components`` (``None``: all). ``"pca"``: as in
        :class:`~sklearn.decomposition.PCA` (an int, a fraction of variance in
        ``(0, 1)``, or ``None`` for all components).

    alpha : float, default=8.0
        Strength :math:`\alpha`, used by :meth:`transform`: change it with
        ``set_params`` without refitting. The paper uses about 8.

    normalize : bool, default=True
        Scale the outputs to unit norm (the formula's direction is what a
        cosine loss uses). Inputs are always scaled to unit norm first.

    Attributes
    ----------
    components_ : ndarray of shape (n_components_, n_features)
        The orthonormal basis :math:`b_k`, one per row.

    n_components_ : int
        Number of basis vectors :math:`K`.

    target_embedding_ : ndarray of shape (n_features,)
        The normalised target embedding :math:`e_T`.

    target_coordinate_sum_ : float
        :math:`\sum_k \langle e_T, b_k \rangle`, the formula's denominator.

    explained_variance_ratio_ : ndarray of shape (n_components_,)
        With ``basis="pca"`` only: the variance fraction of each axis.

    n_features_in_ : int
        Width of the embeddings.

    See Also
    --------
    projection_augmentation : The formula for any basis and targets.
    sklearn_pos.counterfactual.clip_nce_loss : Another editing objective.

    Notes
    -----
    Only the embedding is computed here: the generator (e.g. StyleGAN) and
    the optimisation of its latent code are outside this library.

    References
    ----------
    C. Zhou, F. Zhong and C. Oztireli. "CLIP-PAE: Projection-Augmentation
    Embedding to Extract Relevant Features for a Disentangled, Interpretable
    and Controllable Text-Guided Face Manipulation". SIGGRAPH 2023.
    https://arxiv.org/abs/2210.03919

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos.pae import ProjectionAugmentationEmbedding
    >>> rng = np.random.RandomState(0)
    >>> prompts = rng.normal(size=(3, 16))     # embeddings of three prompts
    >>> pae = ProjectionAugmentationEmbedding(corpus=prompts, target=prompts[2])
    >>> pae.fit().components_.shape
    (3, 16)
    >>> images = rng.normal(size=(5, 16))
    >>> edited = pae.transform(images)
    >>> edited.shape
    (5, 16)
    >>> t = pae.target_embedding_
    >>> bool(np.all(edited @ t > images @ t / np.linalg.norm(images, axis=1)))
    True
    """

    _parameter_constraints: dict = {
        "corpus": ["array-like", None],
        "target": [str, "array-like", None],
        "text_embedder": [HasMethods(["transform"]), None],
        "basis": [StrOptions({"gram-schmidt", "pca"})],
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
            None,
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "normalize": ["boolean"],
    }

    def __init__(
        self,
        corpus=None,
        target=None,
        *,
        text_embedder=None,
        basis="gram-schmidt",
        n_components=None,
        alpha=8.0,
        normalize=True,
    ):
        self.corpus = corpus
        self.target = target
        self.text_embedder = text_embedder
        self.basis = basis
        self.n_components = n_components
        self.alpha = alpha
        self.normalize = normalize

    def _embed(self, values, what):
        _check_not_mixed(values, what)
        if _is_text(values):
            if isinstance(values, str):
                values = [values]
            if self.text_embedder is None:
                raise ValueError(
                    f"{what} is text, so a text_embedder is needed to encode it, "
                    "e.g. text_embedder=CLIPEmbedder(modality='text'); or pass "
                    "embeddings instead."
                )
            return embed_texts(self.text_embedder, list(values))
        return check_array(values, dtype=np.float64, ensure_2d=False, input_name=what)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Build the corpus basis and encode the target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Not used, present for Pipelines; when given, its width must match
            the corpus embeddings.

        y : None
            Ignored.

        Returns
        -------
        self : ProjectionAugmentationEmbedding
            The fitted estimator.
        """
        if self.corpus is None:
            raise ValueError(
                "corpus is required: prompts describing the attribute (e.g. "
                "['a happy face', 'a sad face']) or their embeddings."
            )
        if self.target is None:
            raise ValueError(
                "target is required: the target text (e.g. 'an angry face') or "
                "its embedding."
            )
        C = self._embed(self.corpus, "corpus")
        if C.ndim != 2:
            raise ValueError(
                f"corpus embeddings must be 2-D (n_prompts, n_features); got shape "
                f"{C.shape}."
            )
        C = unit_rows(C, "corpus")
        d = C.shape[1]
        T = self._embed(self.target, "target")
        T = T.reshape(-1) if T.ndim == 2 and T.shape[0] == 1 else T
        if T.shape != (d,):
            raise ValueError(
                f"target must be one embedding of width {d}, like the corpus; got "
                f"shape {T.shape}."
            )
        if X is not None:
            validate_embeddings(self, X, dtype=[np.float64, np.float32])
            if self.n_features_in_ != d:
                raise ValueError(
                    f"X has {self.n_features_in_} features but the corpus "
                    f"embeddings have {d}."
                )
        T = unit_rows(T[None, :], "target")[0]

        if self.basis == "gram-schmidt":
            if isinstance(self.n_components, Real) and not isinstance(
                self.n_components, Integral
            ):
                raise ValueError(
                    "A fractional n_components (a variance ratio) needs "
                    "basis='pca'; with 'gram-schmidt' give an int or None."
                )
            B, kept = _gram_schmidt(C)
            if len(kept) < C.shape[0]:
                dropped = sorted(set(range(C.shape[0])) - set(kept))
                warnings.warn(
                    f"{len(dropped)} corpus embedding(s) (indices {dropped[:10]}) "
                    "are linearly dependent on the previous ones and add no "
                    "basis vector.",
                    UserWarning,
                )
            if self.n_components is not None:
                if self.n_components > B.shape[0]:
                    raise ValueError(
                        f"n_components={self.n_components} exceeds the "
                        f"{B.shape[0]} independent corpus embeddings."
                    )
                B = B[: self.n_components]
        else:
            if C.shape[0] < 2:
                raise ValueError("basis='pca' needs at least 2 corpus embeddings.")
            pca = PCA(n_components=self.n_components, svd_solver="full").fit(C)
            signs = np.where(pca.components_ @ C.mean(axis=0) < 0, -1.0, 1.0)
            B = pca.components_ * signs[:, None]
            self.explained_variance_ratio_ = pca.explained_variance_ratio_

        denominator = float(T @ B.sum(axis=0))
        if abs(denominator) <= DENOMINATOR_TOL:
            raise ValueError(
                f"The target embedding's coordinates in the corpus basis sum to "
                f"{denominator:.3g} (sum_k <e_T, b_k>); the projection-augmentation "
                "formula divides by this sum, so it is undefined. Use a target "
                "with a component in the corpus subspace, or another basis or "
                "n_components."
            )
        self.components_ = B
        self.n_components_ = B.shape[0]
        self.target_embedding_ = T
        self.target_coordinate_sum_ = denominator
        self.n_features_in_ = d
        return self

    def transform(self, X):
        """Projection-augmentation embeddings of image embeddings.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Image embeddings; rows are scaled to unit norm first.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            The PAE of each row with the current ``alpha`` (unit norm when
            ``normalize=True``); float32 input stays float32.
        """
        check_is_fitted(self, "components_")
        # 0 rows give 0 rows (an empty partition of a Dask collection).
        X = validate_embeddings(
            self,
            X,
            reset=False,
            dtype=[np.float64, np.float32],
            ensure_min_samples=0,
        )
        if X.shape[0] == 0:
            return np.empty((0, self.n_features_in_), dtype=X.dtype)
        E = unit_rows(X.astype(np.float64))
        out = projection_augmentation(
            E, self.target_embedding_, self.components_, alpha=self.alpha
        )
        if self.normalize:
            out = unit_rows(out, "The projection-augmentation embedding")
        return out.astype(X.dtype, copy=False)

    @property
    def _n_features_out(self):
        return self.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The basis comes from the ``corpus`` parameter, not from fit's X.
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
