"""NearestPrototypeClassifier: class means on the sphere and text priors."""

import numpy as np
import pytest
from scipy.special import softmax

import sklearn_pos
from sklearn_pos import _sphere
from sklearn_pos.datasets import PlantedTextEmbedder
from sklearn_pos.prototypes import NearestPrototypeClassifier
from sklearn_pos.zero_shot import ZeroShotClassifier

D = 16
NAMES = ["cat", "dog", "car"]


def _unit(X):
    X = np.asarray(X, dtype=float)
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


def _text(d=D):
    """A text embedder that knows the class names."""
    return PlantedTextEmbedder(NAMES, n_features=d)


def _images(rng, n_per_class=10, noise=0.3):
    """Unit 'image' embeddings near the bare class-name embeddings."""
    P = _text().transform(NAMES).astype(np.float64)
    X = np.repeat(P, n_per_class, axis=0) + noise * rng.normal(
        size=(3 * n_per_class, D)
    )
    return _unit(X), np.repeat(NAMES, n_per_class)


def test_public_import_paths():
    from sklearn_pos import zero_shot

    assert sklearn_pos.NearestPrototypeClassifier is NearestPrototypeClassifier
    # One home per estimator: sklearn_pos.prototypes, exported at the top level.
    assert NearestPrototypeClassifier.__module__ == "sklearn_pos.prototypes"
    assert not hasattr(zero_shot, "NearestPrototypeClassifier")


def _clusters(rng, n=(3, 6, 2)):
    centres = _unit(rng.normal(size=(len(n), D)) + 1.5)
    X = np.vstack([c + 0.2 * rng.normal(size=(k, D)) for c, k in zip(centres, n)])
    return 2 * X, np.repeat(["a", "b", "c"], n)


def test_class_means_on_the_sphere():
    rng = np.random.RandomState(0)
    X, y = _clusters(rng)
    intrinsic = NearestPrototypeClassifier().fit(X, y)
    extrinsic = NearestPrototypeClassifier(mean="extrinsic").fit(X, y)
    for i, label in enumerate(intrinsic.classes_):
        rows = _unit(X[y == label])
        mu = _sphere.intrinsic_mean(rows, tol=1e-10)[0]
        np.testing.assert_allclose(intrinsic.class_means_[i], mu, atol=1e-6)
        np.testing.assert_allclose(
            extrinsic.class_means_[i], _unit(rows.mean(0)), atol=1e-12
        )
    np.testing.assert_array_equal(intrinsic.class_counts_, [3, 6, 2])
    np.testing.assert_array_equal(intrinsic.prototypes_, intrinsic.class_means_)
    assert intrinsic.n_iter_ >= 1 and extrinsic.n_iter_ == 0
    assert intrinsic.score(X, y) == 1.0
    np.testing.assert_allclose(
        intrinsic.predict_proba(X),
        softmax(100 * _unit(X) @ intrinsic.prototypes_.T, axis=1),
    )


@pytest.mark.parametrize("weight", [0.5, 1.0, 4.0])
def test_text_prior_moves_prototypes_along_the_geodesic(weight):
    rng = np.random.RandomState(0)
    X, y = _clusters(rng)
    T = _unit(rng.normal(size=(3, D)))
    prior = dict(zip("abc", T))
    plain = NearestPrototypeClassifier().fit(X, y)
    clf = NearestPrototypeClassifier(prior=prior, prior_weight=weight).fit(X, y)
    for c in range(3):
        m, t, p = plain.class_means_[c], T[c], clf.prototypes_[c]
        alpha = weight / (clf.class_counts_[c] + weight)
        angle = np.arccos(np.clip(m @ t, -1, 1))
        assert np.arccos(np.clip(m @ p, -1, 1)) == pytest.approx(
            alpha * angle, abs=1e-7
        )
        assert np.arccos(np.clip(p @ t, -1, 1)) == pytest.approx(
            (1 - alpha) * angle, abs=1e-7
        )
    assert np.allclose(np.linalg.norm(clf.prototypes_, axis=1), 1)
    unweighted = NearestPrototypeClassifier(prior=prior, prior_weight=0).fit(X, y)
    np.testing.assert_allclose(unweighted.prototypes_, plain.prototypes_)


def test_prior_from_zero_shot_classifier_and_missing_classes():
    rng = np.random.RandomState(0)
    X, y = _images(rng, n_per_class=2)
    zs = ZeroShotClassifier(NAMES, text_embedder=_text())
    clf = NearestPrototypeClassifier(prior=zs, prior_weight=1e9).fit(X, y)
    order = [NAMES.index(c) for c in clf.classes_]
    np.testing.assert_allclose(
        clf.prototypes_, zs.fit(None).prototypes_[order], atol=1e-6
    )
    assert clf.prior_ is not zs
    with pytest.raises(
        ValueError, match=r"missing from the prototypes' classes: 'car'"
    ):
        NearestPrototypeClassifier(
            prior=ZeroShotClassifier(NAMES[:2], text_embedder=_text())
        ).fit(X, y)
    with pytest.raises(ValueError, match="same CLIP model"):
        NearestPrototypeClassifier(
            prior=ZeroShotClassifier(NAMES, text_embedder=_text(D + 3))
        ).fit(X, y)


def test_zero_rows_carry_no_direction():
    X = np.array([[1.0, 0.1], [0.0, 0.0], [0.1, 1.0], [0.0, 0.0]])
    y = np.array([0, 0, 1, 1])
    clf = NearestPrototypeClassifier().fit(X, y)
    np.testing.assert_array_equal(clf.class_counts_, [1, 1])
    np.testing.assert_allclose(clf.class_means_, _unit(X[[0, 2]]))
    assert np.isfinite(clf.predict_proba(X[[0, 2]])).all()
    # At predict time a zero row has no class: an error, not a uniform guess.
    with pytest.raises(
        ValueError, match=r"1 row\(s\) of zero norm \(first at index 1\)"
    ):
        clf.predict(X[:2])


# ------------------------------------------------------------ bad inputs


@pytest.mark.parametrize("mean", ["intrinsic", "extrinsic"])
def test_a_class_of_zero_rows_has_no_prototype(mean):
    X = np.array([[1.0, 0.1], [0.9, 0.2], [0.0, 0.0], [0.0, 0.0]])
    y = np.array(["cat", "cat", "dog", "dog"])
    with pytest.raises(ValueError, match=r"no mean direction: 'dog'"):
        NearestPrototypeClassifier(mean=mean).fit(X, y)


@pytest.mark.parametrize("mean", ["intrinsic", "extrinsic"])
def test_an_antipodal_class_has_no_prototype(mean):
    X = np.array([[1.0, 0.1], [0.9, 0.2], [0.0, 1.0], [0.0, -1.0]])
    y = np.array(["cat", "cat", "dog", "dog"])
    with pytest.raises(ValueError, match=r"no mean direction: 'dog'") as info:
        NearestPrototypeClassifier(mean=mean).fit(X, y)
    assert "geometry" not in str(info.value)  # not a parameter of this estimator


def test_a_prior_gives_a_class_of_zero_rows_its_prototype():
    X = np.array([[1.0, 0.1], [0.9, 0.2], [0.0, 0.0]])
    prior = {"cat": [1.0, 0.0], "dog": [0.0, 1.0]}
    clf = NearestPrototypeClassifier(prior=prior).fit(X, ["cat", "cat", "dog"])
    np.testing.assert_allclose(clf.prototypes_[1], [0.0, 1.0])
    # Rows that cancel out are not rescued by the prior.
    X = np.array([[1.0, 0.1], [0.0, 1.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match=r"no mean direction: 'dog'"):
        NearestPrototypeClassifier(prior=prior).fit(X, ["cat", "dog", "dog"])


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([1, "cat"] * 3, dtype=object), "mixes labels of different types"),
        (np.array([None, "cat"] * 3, dtype=object), "missing label"),
    ],
)
def test_labels_that_cannot_be_sorted(y, match):
    X = np.random.RandomState(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match=match):
        NearestPrototypeClassifier().fit(X, y)
