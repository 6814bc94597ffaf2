"""Part-of-speech component analysis (Oldfield et al., NeurIPS 2023)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from . import _linalg, _sphere
from ._array_api import device_of, namespace, to_namespace, to_numpy
from ._compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
)
from ._labels import check_labels_as_given, encode_labels, plain_label
from ._text import validate_embeddings
from ._validation import inverse_row_norms

#: What ``transform`` and ``project`` can return.
_OUTPUTS = ("coordinates", "projection", "complement")


def _check_one_label(label, name):
    """Refuse a sequence where one label is expected (numpy would broadcast it)."""
    if isinstance(label, (list, tuple, set, dict, np.ndarray)):
        raise ValueError(
            f"{name} must be one category label, got {label!r}; pass a single "
            "label, e.g. 'noun'."
        )


def _class_rows(codes, n_classes):
    """Row indices of each class (ascending) and the class sizes."""
    counts = np.bincount(codes, minlength=n_classes)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [order[bounds[c] : bounds[c + 1]] for c in range(n_classes)], counts


def _block_buffer(X, class_rows, n_columns):
    """Work space for one block of rows of the Gram passes (NumPy; else None)."""
    _, is_numpy = namespace(X)
    if not is_numpy:
        return None
    n_rows = min(_linalg.GRAM_CHUNK_ROWS, max(rows.size for rows in class_rows))
    return np.empty((n_rows, n_columns), dtype=X.dtype)


class _SubspaceFeatureNamesMixin(ClassNamePrefixFeaturesOutMixin):
    """Feature names of a transformer whose ``output`` selects the output space.

    ``"coordinates"`` are new features, named by scikit-learn's class-name
    prefix (``"partofspeechcomponentanalysis0"``, ...); the projection and the
    complement live in the input space and keep the input feature names.
    """

    @property
    def _n_features_out(self):
        # Read by ClassNamePrefixFeaturesOutMixin: the width of the coordinates.
        return self.n_components_

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        ``"<class name in lower case>0"``, ... for ``output="coordinates"``
        (e.g. ``"partofspeechcomponentanalysis0"``); the input feature names
        otherwise, as the projection and the complement live in the input
        space.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; see scikit-learn's conventions.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Transformed feature names.
        """
        check_is_fitted(self)
        if self.output == "coordinates":
            return super().get_feature_names_out(input_features)
        return _check_feature_names_in(self, input_features)


class PartOfSpeechComponentAnalysis(
    _SubspaceFeatureNamesMixin, TransformerMixin, BaseEstimator
):
    """Subspaces that capture one category's variance and suppress the others'.

    The part-of-speech component analysis of Oldfield et al. (2023) learns, in
    closed form, an orthonormal basis ``W_i`` (``d x k``) for each category
    ``i`` of labelled embeddings (nouns, adjectives, verbs and adverbs of a
    vocabulary in the paper; any labels work, e.g. a list of artists against
    the rest). With per-category covariances

    .. math::

        C_c = \\frac{1}{n_c} (Y_c - m)^\\top (Y_c - m),

    centred by the single mean ``m`` of all points, ``W_i`` is formed by the
    top ``k`` eigenvectors of

    .. math::

        M_i = (1 - \\lambda) C_i - \\lambda \\sum_{j \\ne i} C_j,

    which maximises
    ``(1 - lam) ||W^T Y_i||^2 / n_i - lam * sum_j ||W^T Y_j||^2 / n_j``
    over ``W^T W = I``. ``lam = 0`` is the PCA of the target category and
    ``lam = 1`` keeps the directions the other categories vary least along.

    Rows of ``X`` are scaled to unit norm first. With ``geometry="tangent"``
    (the paper's main method) ``Y`` holds the Riemannian logarithms
    ``Log_mu(x)`` of the points at their intrinsic (Karcher) mean ``mu`` on
    the unit sphere, and results are mapped back to the sphere with
    ``Exp_mu``; with ``geometry="euclidean"``, ``Y`` is the data itself.

    Read more in the :doc:`user guide </user_guide/method>`.

    Empty input: ``fit`` needs at least one sample (scikit-learn's "Found array
    with 0 sample(s)" error); ``transform``, ``project``, ``tangent_vectors``
    and ``inverse_transform`` of 0 rows return 0 rows of the output width, as
    an empty partition of a Dask collection needs.

    Parameters
    ----------
    n_components : int, default=None
        Number of directions ``k`` kept per category, largest eigenvalues
        first. ``None`` keeps all ``n_features`` (an ordered basis of the
        whole space, so ``output="projection"`` is then the identity). With
        ``geometry="tangent"`` the directions are those of the tangent space
        at ``mean_`` (``n_features - 1`` of them); the normal direction
        ``mean_`` itself comes last, only when all ``n_features`` are kept.

    lam : float, default=0.5
        Trade-off ``lambda`` in ``[0, 1]`` between the target category's
        variance (weight ``1 - lam``) and the other categories' (weight
        ``lam``). The paper uses 0.5.

    geometry : {"tangent", "euclidean"}, default="tangent"
        ``"tangent"``: work in the tangent space of the sphere at the
        intrinsic mean. ``"euclidean"``: work on the normalised embeddings
        directly, centred by their Euclidean mean (the paper's baseline).

    target : label, default=None
        The category whose subspace :meth:`transform` uses; must be one of
        the labels seen in ``fit``. ``None`` selects ``classes_[0]``, the
        smallest label (so any ``y`` works). The subspaces of all categories
        are learned in every case, see ``class_components_``, and
        :meth:`project` maps onto any of them without refitting; as for any
        parameter, changing ``target`` takes effect at the next ``fit``.

    output : {"coordinates", "projection", "complement"}, default="coordinates"
        What :meth:`transform` returns, with ``W`` the target's subspace and
        ``m`` the centre (``center_``):

        - ``"coordinates"``: ``(n, k)`` array ``(Log_mu(x) - m) W``;
        - ``"projection"``: ``(n, d)`` array
          ``Exp_mu(W W^T (Log_mu(x) - m) + m)``, the points mapped onto the
          target's submanifold (unit norm);
        - ``"complement"``: ``(n, d)`` array
          ``Exp_mu((I - W W^T)(Log_mu(x) - m) + m)``, the points with the
          target's subspace removed (unit norm).

        With ``geometry="euclidean"`` the logarithm and exponential are
        dropped: the projection is ``W W^T (x - m) + m`` exactly as in the
        paper, which is not of unit norm (cosine similarities are unaffected).

    tol : float, default=1e-7
        Convergence tolerance of the intrinsic mean: iterations stop when the
        Riemannian gradient step is at most ``tol`` radians.

    max_iter : int, default=100
        Maximum number of iterations for the intrinsic mean.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The category labels, sorted.

    target_ : label
        The category used by :meth:`transform` (``target`` resolved).

    mean_ : ndarray of shape (n_features,)
        The base point: the intrinsic mean ``mu`` on the sphere (unit norm)
        for ``geometry="tangent"``; the Euclidean mean ``m`` of the normalised
        rows for ``geometry="euclidean"``.

    center_ : ndarray of shape (n_features,)
        The mean ``m`` of the data in the space where the subspaces are
        computed: the mean tangent vector ``mean(Log_mu(x))`` (close to zero,
        since ``mu`` is its fixed point) for ``"tangent"``, equal to
        ``mean_`` for ``"euclidean"``.

    class_components_ : ndarray of shape (n_classes, n_components_, n_features)
        Orthonormal basis of every category's subspace, rows ordered by
        decreasing eigenvalue; ``class_components_[i]`` belongs to
        ``classes_[i]``. Of the dtype of ``X``: the covariances are summed
        in float64, and for float32 data the eigenproblems are solved in
        float32, as scikit-learn's PCA does, in about half the time.

    class_eigenvalues_ : ndarray of shape (n_classes, n_components_)
        The matching eigenvalues of ``M_i`` (decreasing; may be negative).

    components_ : ndarray of shape (n_components_, n_features)
        The target category's basis, ``class_components_[target index]``.

    eigenvalues_ : ndarray of shape (n_components_,)
        The target category's eigenvalues.

    class_counts_ : ndarray of shape (n_classes,)
        Number of training points of each category.

    n_components_ : int
        Number of directions kept per category.

    n_iter_ : int
        Iterations of the intrinsic mean (``geometry="tangent"``); 0 for
        ``"euclidean"``.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    VocabularyPartOfSpeechAnalysis : The same parameters, constraints and
        defaults, with the subspaces fitted on a labelled vocabulary, as a
        step of a Pipeline on images.
    sklearn.decomposition.PCA : Unsupervised principal components.
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : Supervised
        directions that separate classes.

    References
    ----------
    J. Oldfield, C. Tzelepis, Y. Panagakis, M. A. Nicolaou and I. Patras.
    "Parts of Speech-Grounded Subspaces in Vision-Language Models".
    NeurIPS 2023. https://arxiv.org/abs/2305.14053

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos import PartOfSpeechComponentAnalysis
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 8)) + 4.0
    >>> y = np.repeat(["adj", "noun"], 100)
    >>> X[y == "noun", 0] += 3 * rng.normal(size=100)   # nouns vary along x0
    >>> pos = PartOfSpeechComponentAnalysis(n_components=2, target="noun")
    >>> pos.fit(X, y).transform(X).shape
    (200, 2)
    >>> pos.classes_
    array(['adj', 'noun'], dtype='<U4')
    >>> Z = pos.set_params(output="projection").fit_transform(X, y)
    >>> np.allclose(np.linalg.norm(Z, axis=1), 1.0)
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "lam": [Interval(Real, 0, 1, closed="both")],
        "geometry": [StrOptions({"tangent", "euclidean"})],
        "target": "no_validation",
        "output": [StrOptions({"coordinates", "projection", "complement"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=None,
        *,
        lam=0.5,
        geometry="tangent",
        target=None,
        output="coordinates",
        tol=1e-7,
        max_iter=100,
    ):
        self.n_components = n_components
        self.lam = lam
        self.geometry = geometry
        self.target = target
        self.output = output
        self.tol = tol
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn every category's subspace from labelled embeddings.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings, one row per item (e.g. a word). Rows are scaled to
            unit norm; none may be zero.
        y : array-like of shape (n_samples,)
            Category of each row, e.g. ``"noun"``, ``"adj"``, ``"verb"``,
            ``"adv"``; at least two distinct labels.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        check_labels_as_given(y)
        # Labels are sorted and counted on the host, whatever the namespace.
        y = to_numpy(y)
        xp, is_numpy = namespace(X)
        X, y = validate_embeddings(
            self, X, y, dtype=[xp.float64, xp.float32], ensure_all_finite=False
        )
        n_samples, n_features = X.shape
        self.classes_, codes = encode_labels(y)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "PartOfSpeechComponentAnalysis needs at least two categories in y "
                f"to contrast, got 1 class ({self.classes_.tolist()[0]!r}). Add the "
                "rows of the other categories (e.g. the rest of the vocabulary)."
            )
        target_index = self._target_index()
        k = n_features if self.n_components is None else self.n_components
        if k > n_features:
            raise ValueError(
                f"n_components={k} must be at most the number of features "
                f"({n_features}); use n_components=None to keep all of them."
            )
        span = n_features - 1 if self.geometry == "tangent" else n_features
        if self.n_components is not None and k >= span:
            warnings.warn(
                f"n_components={k} spans the whole "
                f"{'tangent space' if self.geometry == 'tangent' else 'space'} "
                f"({span} directions for {n_features} features): every category's "
                "subspace is then the same space, the projection is the identity "
                "and the subspaces do not tell the categories apart. Keep fewer "
                f"components, e.g. n_components={max(1, span // 2)}.",
                UserWarning,
            )
        inv_norms, extrinsic = inverse_row_norms(X, return_mean=True)
        class_rows, self.class_counts_ = _class_rows(codes, self.classes_.shape[0])

        if self.geometry == "tangent":
            self.mean_, self.center_, self.n_iter_, moments = self._intrinsic_moments(
                X, inv_norms, extrinsic, class_rows
            )
            covariances = self._tangent_covariances(moments)
        else:
            self.mean_ = self.center_ = extrinsic
            self.n_iter_ = 0
            covariances = self._euclidean_covariances(X, inv_norms, class_rows)
        # The d x d eigenproblems are solved by LAPACK on the host, whatever
        # the namespace of X: a copy of n_classes d x d matrices.
        covariances = to_numpy(covariances)
        normal = to_numpy(self.mean_) if self.geometry == "tangent" else None
        dtype = np.float32 if X.dtype == xp.float32 else np.float64
        values, components = _linalg.contrastive_subspaces(
            covariances, self.lam, k, normal, dtype
        )
        self.class_eigenvalues_, self.class_components_ = values, components
        if not is_numpy:
            # Fitted attributes live in the namespace and on the device of X.
            on = device_of(X)
            self.class_eigenvalues_ = xp.asarray(self.class_eigenvalues_, device=on)
            self.class_components_ = xp.asarray(self.class_components_, device=on)
            self.class_counts_ = xp.asarray(self.class_counts_, device=on)
        self.n_components_ = k
        self.target_ = self.classes_[target_index]
        self.components_ = self.class_components_[target_index, ...]
        self.eigenvalues_ = self.class_eigenvalues_[target_index, ...]
        return self

    def _target_index(self):
        if self.target is None:
            return 0
        _check_one_label(self.target, "target")
        matches = np.flatnonzero(self.classes_ == self.target)
        if matches.size == 0:
            raise ValueError(
                f"target={plain_label(self.target)!r} is not one of the categories "
                f"in y: {self.classes_.tolist()}. Pass one of these labels."
            )
        return int(matches[0])

    def _subspace_index(self, subspace):
        """Index in ``classes_`` of a category label; ``None`` is ``target_``."""
        if subspace is None:
            subspace = self.target_
        _check_one_label(subspace, "subspace")
        matches = np.flatnonzero(self.classes_ == subspace)
        if matches.size == 0:
            raise ValueError(
                f"subspace={plain_label(subspace)!r} is not one of the learned "
                f"subspaces {self.classes_.tolist()}; pass one of these labels "
                "(classes_)."
            )
        return int(matches[0])

    def _fitted(self, name, X):
        """Fitted attribute ``name`` in the namespace and on the device of ``X``.

        The attribute itself when it is there already (the estimator was fitted
        on arrays of that kind); a copy otherwise, e.g. NumPy attributes used on
        CUDA tensors.
        """
        xp, _ = namespace(X)
        return to_namespace(getattr(self, name), xp, device_of(X))

    def _to_space(self, X, inv_norms):
        """Map rows of ``X`` (scaled by ``inv_norms``) into the fitted space."""
        if self.geometry == "tangent":
            return _sphere.log_map(X, self._fitted("mean_", X), inv_norms=inv_norms)
        xp, _ = namespace(X)
        return X * xp.astype(inv_norms[:, None], X.dtype, copy=False)

    def _from_space(self, V):
        """Inverse of :meth:`_to_space` (onto the sphere for ``"tangent"``)."""
        if self.geometry == "tangent":
            return _sphere.exp_map(V, self._fitted("mean_", V))
        return V

    def _intrinsic_moments(self, X, inv_norms, extrinsic, class_rows):
        """The intrinsic mean and every class's sums of tangent vectors there.

        Returns ``mean_``, ``center_``, ``n_iter_`` and, per class, the
        ``(gram, total)`` sums of :func:`_sphere.log_second_moments` at the
        mean. The pass that forms them also evaluates the mean's gradient, so
        the last iteration of :func:`_sphere.intrinsic_mean` takes place in it
        rather than in a pass of its own.
        """
        # One work space for all classes, with two more columns for the sums
        # (see log_second_moments).
        buffer = _block_buffer(X, class_rows, X.shape[1] + 2)

        def moments_at(mu, cos=None, return_stats=False):
            return [
                _sphere.log_second_moments(
                    X,
                    mu,
                    inv_norms=inv_norms,
                    rows=rows,
                    cos=cos,
                    buffer=buffer,
                    return_stats=return_stats,
                )
                for rows in class_rows
            ]

        evaluated = {}

        def evaluate(candidate):
            evaluated["moments"] = moments = moments_at(candidate, return_stats=True)
            return _sphere.frechet_summary(
                sum(m[1] for m in moments),
                sum(m[2] for m in moments),
                sum(m[3] for m in moments),
                X.shape[0],
                candidate,
            )

        mean, center, n_iter, converged, cos = _sphere.intrinsic_mean(
            X,
            tol=self.tol,
            max_iter=self.max_iter,
            inv_norms=inv_norms,
            extrinsic=extrinsic,
            return_cosines=True,
            evaluate=evaluate,
        )
        if not converged:
            warnings.warn(
                f"The intrinsic mean did not converge in max_iter={self.max_iter} "
                f"iterations (last step {np.linalg.norm(to_numpy(center)):.2e} > "
                f"tol={self.tol:.1e}). Increase max_iter or tol.",
                ConvergenceWarning,
            )
        if cos is None:  # the last evaluation formed the moments at mean
            moments = [m[:2] for m in evaluated["moments"]]
        else:
            moments = moments_at(mean, cos=cos)
        return mean, center, n_iter, moments

    def _tangent_covariances(self, moments):
        """Per-class covariances about ``center_`` from the sums at ``mean_``.

        ``C = S / n - s m^T / n - m s^T / n + m m^T`` for the sums ``S`` of
        ``v v^T`` and ``s`` of ``v`` over the ``n`` rows of a class (``m =
        center_``).
        """
        xp, _ = namespace(moments[0][0])
        m = self.center_
        covariances = []
        for (gram, total), count in zip(moments, self.class_counts_):
            gram /= float(count)
            mean_c = total / float(count)
            # + m m^T - mean_c m^T - m mean_c^T, one symmetric rank-two update
            covariances.append(_linalg.subtract_symmetric(gram, mean_c - m / 2, m))
        return xp.stack(covariances)

    def _euclidean_covariances(self, X, inv_norms, class_rows):
        """Per-class covariances of the normalised rows about ``center_``.

        ``center_`` is far from zero here, so each block is centred before its
        Gram matrix is formed; the products are summed in float64.
        """
        xp, is_numpy = namespace(X)
        on = device_of(X)
        n_features = X.shape[1]
        m = self.center_
        step = _linalg.GRAM_CHUNK_ROWS
        buffer = _block_buffer(X, class_rows, n_features)
        # Accumulated in place: no stacked copy of the n_classes d x d matrices.
        covariances = xp.zeros(
            (len(class_rows), n_features, n_features), dtype=xp.float64, device=on
        )
        for c, (rows, count) in enumerate(zip(class_rows, self.class_counts_)):
            for start in range(0, rows.size, step):
                block = rows[start : start + step]
                if is_numpy:
                    # Copied into the buffer (see _sphere.log_second_moments for
                    # the mode), scaled to the sphere and centred in place.
                    Y = np.take(X, block, axis=0, out=buffer[: block.size], mode="clip")
                else:
                    block = xp.asarray(block, device=on)
                    Y = xp.take(X, block, axis=0)
                Y *= xp.astype(xp.take(inv_norms, block, axis=0)[:, None], X.dtype)
                Y -= xp.astype(m, X.dtype)
                covariances[c, ...] += Y.T @ Y
            covariances[c, ...] /= float(count)
        return covariances

    def tangent_vectors(self, X):
        """Centred vectors of ``X`` in the space where the subspaces live.

        Every subspace of :attr:`class_components_` is a set of directions in
        one vector space: the tangent space of the sphere at ``mean_`` for
        ``geometry="tangent"``, the embedding space itself for
        ``"euclidean"``. This method maps rows of ``X`` there and subtracts
        the centre ``m`` (``center_``):

        .. math::

            v = \\mathrm{Log}_\\mu(x / \\|x\\|) - m \\quad \\text{(tangent)},
            \\qquad v = x / \\|x\\| - m \\quad \\text{(euclidean)},

        where ``Log_mu(q) = arccos(<mu, q>) (q - <mu, q> mu) / ||q - <mu, q> mu||``
        is the Riemannian logarithm at ``mu = mean_``. The coordinates of
        ``x`` in the subspace of ``classes_[i]`` are then
        ``v @ class_components_[i].T``, for any ``i``; :meth:`project` gives
        them, and the projections, directly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings; rows are scaled to unit norm, none may be zero.

        Returns
        -------
        V : ndarray of shape (n_samples, n_features)
            The centred vectors, of the dtype of ``X`` (float32 or float64).

        See Also
        --------
        project : Coordinates in, projection onto or complement of any
            category's subspace.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_pos import PartOfSpeechComponentAnalysis
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(200, 6)) + 3.0
        >>> y = np.repeat(["adj", "noun"], 100)
        >>> pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
        >>> V = pos.tangent_vectors(X)
        >>> V.shape
        (200, 6)
        >>> bool(np.allclose(V @ pos.mean_, 0.0))   # orthogonal to mu: tangent
        True
        >>> coords = V @ pos.class_components_[1].T  # the "noun" coordinates
        >>> bool(np.allclose(coords, pos.project(X, subspace="noun")))
        True
        """
        check_is_fitted(self)
        # No rows in, no rows out: an empty partition of a Dask collection.
        xp, _ = namespace(X)
        X = validate_embeddings(
            self,
            X,
            dtype=[xp.float64, xp.float32],
            reset=False,
            ensure_all_finite=False,
            ensure_min_samples=0,
        )
        V = self._to_space(X, inverse_row_norms(X))
        xp, _ = namespace(V)
        V -= xp.astype(self._fitted("center_", V), V.dtype)
        return V

    def project(self, X, *, subspace=None, output=None):
        """Map embeddings onto (or away from) any category's subspace.

        :meth:`transform` is ``project(X)``: the subspace of ``target_`` and
        the ``output`` parameter. ``project`` reaches every subspace learned
        by ``fit`` (one per category, :attr:`class_components_`) without
        refitting: with ``W`` the basis of ``subspace`` and ``v`` the
        centred vectors of :meth:`tangent_vectors`,

        - ``"coordinates"``: ``v W^T``, of shape ``(n, n_components_)``;
        - ``"projection"``: ``Exp_mu(v W^T W + m)``, onto the category's
          submanifold;
        - ``"complement"``: ``Exp_mu(v - v W^T W + m)``, the category's
          subspace removed

        (without ``Exp_mu`` for ``geometry="euclidean"``). The result equals
        that of an estimator fitted with ``target=subspace`` and
        ``output=output``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings; rows are scaled to unit norm, none may be zero.

        subspace : label, default=None
            The category whose subspace is used, one of ``classes_``.
            ``None`` uses ``target_``.

        output : {"coordinates", "projection", "complement"}, default=None
            What to return, as for the ``output`` parameter. ``None`` uses
            the estimator's ``output``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components_) or (n_samples, n_features)
            Coordinates, projection or complement, of the dtype of ``X``.

        See Also
        --------
        tangent_vectors : The centred vectors the subspaces act on.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_pos import PartOfSpeechComponentAnalysis
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(200, 6)) + 3.0
        >>> y = np.repeat(["adj", "noun"], 100)
        >>> pos = PartOfSpeechComponentAnalysis(n_components=2, target="noun").fit(X, y)
        >>> pos.project(X, subspace="adj").shape      # coordinates, like transform
        (200, 2)
        >>> Z = pos.project(X, subspace="adj", output="complement")
        >>> Z.shape
        (200, 6)
        >>> refit = PartOfSpeechComponentAnalysis(
        ...     n_components=2, target="adj", output="complement"
        ... ).fit(X, y)
        >>> bool(np.allclose(Z, refit.transform(X)))
        True
        """
        check_is_fitted(self)
        index = self._subspace_index(subspace)
        if output is None:
            output = self.output
        elif output not in _OUTPUTS:
            raise ValueError(
                f"output={output!r} is not one of {list(_OUTPUTS)}; pass one of "
                "these, or None for the estimator's output."
            )
        Y = self.tangent_vectors(X)
        xp, _ = namespace(Y)
        W = xp.astype(self._fitted("class_components_", Y)[index, ...], Y.dtype)
        coordinates = Y @ W.T
        if output == "coordinates":
            return coordinates
        center = xp.astype(self._fitted("center_", Y), Y.dtype)
        if output == "projection":
            V = coordinates @ W + center
        else:
            V = Y - coordinates @ W + center
        return self._from_space(V)

    def transform(self, X):
        """Map embeddings onto (or away from) the target category's subspace.

        The same as :meth:`project` with its defaults (``target_`` and
        ``output``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings; rows are scaled to unit norm.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components_) or (n_samples, n_features)
            Depending on ``output``: coordinates in the target's subspace, the
            projection onto it, or onto its orthogonal complement.
        """
        return self.project(X)

    def inverse_transform(self, X):
        """Map subspace coordinates back to embeddings.

        Only defined for ``output="coordinates"``: the other outputs already
        live in the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)
            Coordinates, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            ``Exp_mu(W c + m)`` (unit norm) for ``geometry="tangent"``, or
            ``W c + m`` for ``"euclidean"``.
        """
        check_is_fitted(self)
        if self.output != "coordinates":
            raise ValueError(
                f"inverse_transform maps coordinates back to embeddings, but "
                f"output={self.output!r} already returns embeddings in the input "
                "space. Use output='coordinates' to get invertible coordinates."
            )
        xp, _ = namespace(X)
        # 0 rows give 0 rows (see the class docstring); NaN and infinity are
        # refused with scikit-learn's message.
        X = check_array(
            X,
            dtype=[xp.float64, xp.float32],
            ensure_min_samples=0,
            input_name="X",
            estimator=self,
        )
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} columns, but inverse_transform expects "
                f"{self.n_components_} coordinates (n_components_)."
            )
        W = xp.astype(self._fitted("components_", X), X.dtype)
        center = xp.astype(self._fitted("center_", X), X.dtype)
        if self.geometry == "tangent":
            # Coordinates near the largest float would overflow in W c + m and
            # in its length, and Exp_mu of an infinite vector is NaN: each row
            # is divided by its largest entry first, and exp_map is told the
            # scale, so that every finite row gives a finite unit vector.
            scale = _sphere.row_scales(X)
            V = (X / xp.astype(scale, X.dtype)[:, None]) @ W
            V = V + center / xp.astype(scale, X.dtype)[:, None]
            return _sphere.exp_map(V, self._fitted("mean_", X), scale=scale)
        with np.errstate(over="ignore"):
            V = X @ W + center
        if not bool(xp.all(xp.isfinite(V))):
            bad = np.flatnonzero(~np.all(np.isfinite(to_numpy(V)), axis=1))
            raise ValueError(
                f"inverse_transform of {bad.size} row(s) of X (first at index "
                f"{bad[0]}) overflows {X.dtype}: W c + m is larger than the "
                f"largest {X.dtype} number. Coordinates of embeddings are of the "
                "order of 1; rescale X, or convert it to float64."
            )
        return V

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.array_api_support = True
        return tags
