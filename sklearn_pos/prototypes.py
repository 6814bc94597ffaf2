r"""Few-shot classification: nearest class mean on the sphere.

:class:`NearestPrototypeClassifier` represents each class by the mean
direction of a few labelled embeddings (e.g. of images), optionally pulled
towards a text prototype of the class, and scores rows like
:class:`~sklearn_pos.ZeroShotClassifier`: ``logit_scale`` times the cosine
similarity to each prototype, with a softmax for probabilities.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets

from . import _sphere
from ._array_api import to_numpy
from ._compat import HasMethods, Interval, StrOptions, _fit_context
from ._cosine import (
    CosinePrototypeClassifier,
    check_class_directions,
    class_mean_directions,
    float_unit_rows,
)
from ._labels import check_labels, check_labels_as_given, encode_labels
from ._text import validate_embeddings
from .zero_shot import ZeroShotClassifier

__all__ = ["NearestPrototypeClassifier"]


class NearestPrototypeClassifier(CosinePrototypeClassifier):
    r"""Nearest class mean on the sphere, optionally with text prototypes as a prior.

    Each class ``c`` is represented by the mean direction ``m_c`` of its
    labelled embeddings (rows scaled to unit norm): the intrinsic (Karcher)
    mean on the sphere, or the normalised Euclidean mean. A row is assigned
    to the class of the most similar prototype under the cosine, with
    probabilities ``softmax(logit_scale * cosine)``. A few labelled images
    per class suffice.

    With a ``prior`` (text prototypes ``t_c``, e.g. a
    :class:`~sklearn_pos.ZeroShotClassifier` built from the class names),
    each prototype is moved from the image mean towards the text prototype
    along the geodesic between them:

    .. math::

        p_c = \mathrm{Exp}_{m_c}\big(\alpha_c \, \mathrm{Log}_{m_c}(t_c)\big),
        \qquad \alpha_c = \frac{w}{n_c + w},

    the weighted intrinsic mean of the two points with weights ``n_c`` (the
    number of labelled rows of the class) and ``w = prior_weight``: the text
    counts as ``w`` images. With one image per class and ``w = 1`` the
    prototype lies halfway; as images accumulate the data dominate.

    Read more in the :doc:`user guide </user_guide/few_shot>`.

    Empty input: ``fit`` needs at least one sample (scikit-learn's "Found
    array with 0 sample(s)" error); ``predict``, ``predict_proba``,
    ``predict_log_proba``, ``decision_function`` and ``cosine_similarity`` of
    0 rows return 0 rows, as an empty partition of a Dask collection needs;
    ``score`` of 0 rows raises, as the accuracy of no rows is undefined.

    Parameters
    ----------
    mean : {"intrinsic", "extrinsic"}, default="intrinsic"
        ``"intrinsic"``: the Karcher mean on the unit sphere (iterated to
        ``tol``); ``"extrinsic"``: the Euclidean mean of the unit rows,
        scaled to unit norm. Both agree closely for the narrow cones of CLIP
        embeddings.

    prior : ZeroShotClassifier, dict or None, default=None
        Source of the text prototypes: a
        :class:`~sklearn_pos.ZeroShotClassifier`
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
        for a class whose rows are all zero, which a prior must then give its
        prototype; without a prior such a class is an error).

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
    sklearn_pos.ZeroShotClassifier : Prototypes from class names alone.
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
            of zero norm carry no direction and are ignored). Every class
            needs a mean direction: a class whose rows are all zero (without a
            prior) or cancel out raises a ValueError naming it.

        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        self : NearestPrototypeClassifier
            The fitted classifier.
        """
        check_labels_as_given(y)
        # Fitted on the host: a few labelled rows per class (see predict).
        X, y = validate_embeddings(
            self, to_numpy(X), to_numpy(y), dtype=[np.float64, np.float32]
        )
        check_classification_targets(check_labels(y, allow_continuous=True))
        self.classes_, codes = encode_labels(y, allow_continuous=True)
        U = float_unit_rows(X)
        nonzero = np.einsum("ij,ij->i", U, U) > 0
        self.class_counts_ = np.bincount(codes[nonzero], minlength=len(self.classes_))
        if self.mean == "extrinsic":
            means = class_mean_directions(U, codes, len(self.classes_))
            self.n_iter_ = 0
        else:
            means, self.n_iter_ = self._intrinsic_means(U[nonzero], codes[nonzero])
        self.class_means_ = means
        with_prior = self.prior is not None and self.prior_weight > 0
        # Without rows, a class takes the prior's prototype; with rows that
        # cancel out, it has no direction to pull towards the prior.
        check_class_directions(
            means, self.classes_, None if not with_prior else self.class_counts_ > 0
        )

        self.prior_ = None
        P = means.copy()
        if with_prior:
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
            if not np.linalg.norm(rows.sum(axis=0)) > 1e-12 * rows.shape[0]:
                continue  # no mean direction: reported by fit, naming the class
            mu, center, it, converged = _sphere.intrinsic_mean(
                rows, tol=self.tol, max_iter=self.max_iter
            )
            if not converged:
                warnings.warn(
                    f"The intrinsic mean of class {self.classes_.tolist()[c]!r} did "
                    f"not converge in max_iter={self.max_iter} iterations (last step "
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
