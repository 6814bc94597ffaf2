"""Scoring by cosine similarity to class prototypes, shared by the classifiers.

:class:`~sklearn_pos.ZeroShotClassifier` (prototypes from text) and
:class:`~sklearn_pos.NearestPrototypeClassifier` (prototypes from labelled
embeddings) differ in how ``fit`` builds the prototypes; scoring, the
``predict*`` methods and the width checks live here, once.

Under ``array_api_dispatch`` the scoring methods take arrays of any Array API
namespace (PyTorch, CuPy, ...) and compute there, on the array's device: the
prototypes (``n_classes x d``) are copied to it. ``predict`` returns numeric
labels in that namespace and other labels (strings) as NumPy arrays.
"""

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted

from . import _sphere
from ._array_api import device_of, namespace, to_namespace, to_numpy
from ._labels import plain_label
from ._text import validate_embeddings
from ._validation import unit_rows

__all__ = [
    "CosinePrototypeClassifier",
    "check_class_directions",
    "class_mean_directions",
    "float_unit_rows",
]


def _float64(X):
    """``X`` as float64, in its namespace."""
    xp, is_numpy = namespace(X)
    if is_numpy:
        return np.asarray(X, dtype=np.float64)
    return xp.astype(X, xp.float64)


def float_unit_rows(X):
    """Unit rows as float64; zero rows (no direction) stay zero."""
    return _sphere.normalize_rows(_float64(X))


def check_class_directions(P, classes, where=None):
    """Raise if a class (among the rows ``where``) has a zero mean direction.

    A zero prototype has a cosine of 0 with everything, so it would neither win
    nor lose on its own merits: the class would be predicted by accident.
    """
    empty = ~(np.einsum("ij,ij->i", P, P) > 0)
    if where is not None:
        empty &= where
    bad = np.flatnonzero(empty)
    if bad.size:
        names = [repr(plain_label(label)) for label in np.asarray(classes)[bad][:10]]
        raise ValueError(
            f"{len(bad)} class(es) have no mean direction: {', '.join(names)}. "
            "Their rows are all zero, or cancel out (e.g. two opposite rows), so "
            "their prototype would be a zero vector that matches no embedding. "
            "Check the embeddings of these classes, or give them more rows."
        )


def class_mean_directions(X, codes, n_classes):
    """Normalised Euclidean mean of each class's unit rows (zero rows ignored)."""
    P = np.zeros((n_classes, X.shape[1]))
    np.add.at(P, codes, X)
    return _sphere.normalize_rows(P)


class CosinePrototypeClassifier(ClassifierMixin, BaseEstimator):
    """Scores rows against ``prototypes_`` by ``logit_scale`` times the cosine.

    Subclasses set ``classes_``, ``prototypes_`` (unit rows) and optionally
    ``image_transform_`` (applied to the rows first) in ``fit``.
    """

    def _embed(self, X):
        check_is_fitted(self)
        xp, is_numpy = namespace(X)
        # 0 rows give 0 rows (an empty partition of a Dask collection); the
        # image transform, which may be any scikit-learn transformer and
        # refuse them, is not asked.
        X = validate_embeddings(
            self,
            X,
            dtype=[xp.float64, xp.float32],
            reset=False,
            ensure_min_samples=0,
        )
        if X.shape[0] == 0:
            return xp.zeros(
                (0, self.prototypes_.shape[1]), dtype=xp.float64, device=device_of(X)
            )
        transform = getattr(self, "image_transform_", None)
        if transform is not None:
            Z = transform.transform(X)
            X = np.asarray(Z) if is_numpy else to_namespace(Z, xp, device_of(X))
            what = "The transformed X"
        else:
            what = "X"
        # A zero row would be as similar to every prototype as to any other:
        # no class could be predicted for it, so it is an error.
        return unit_rows(_float64(X), what)

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
        xp, _ = namespace(Z)
        return Z @ to_namespace(self.prototypes_, xp, device_of(Z)).T

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
        xp, is_numpy = namespace(cosine)
        if is_numpy:
            return self.classes_[np.argmax(cosine, axis=1)]
        labels = self.classes_[to_numpy(xp.argmax(cosine, axis=1))]
        if labels.dtype.kind in "biuf":
            return xp.asarray(labels, device=device_of(cosine))
        return labels

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.

        y : array-like of shape (n_samples,)
            True labels (NumPy, a list, or an array of the namespace of ``X``).

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Fraction of rows (weighted) whose label is predicted correctly.
        """
        n_samples = getattr(X, "shape", (None,))[0]
        if n_samples is None and hasattr(X, "__len__"):
            n_samples = len(X)
        if n_samples == 0:
            # predict maps 0 rows to 0 labels, but the mean accuracy of no
            # rows is undefined (accuracy_score would return NaN).
            raise ValueError(
                f"Found array with 0 sample(s) while a minimum of 1 is required "
                f"by {type(self).__name__}.score: the accuracy of no rows is "
                "undefined. Score on at least one labelled row."
            )
        # Labels are compared on the host, whatever the namespace of X.
        return float(
            accuracy_score(
                to_numpy(y),
                to_numpy(self.predict(X)),
                sample_weight=to_numpy(sample_weight),
            )
        )

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
        logits = self.logit_scale * self.cosine_similarity(X)
        xp, is_numpy = namespace(logits)
        if is_numpy:
            return softmax(logits, axis=1)
        e = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))
        return e / xp.sum(e, axis=1, keepdims=True)

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
        logits = self.logit_scale * self.cosine_similarity(X)
        xp, is_numpy = namespace(logits)
        if is_numpy:
            return log_softmax(logits, axis=1)
        z = logits - xp.max(logits, axis=1, keepdims=True)
        return z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))
