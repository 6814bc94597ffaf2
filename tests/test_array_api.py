"""Array API inputs (PyTorch, array-api-strict) against the NumPy results.

Under ``sklearn.config_context(array_api_dispatch=True)``,
PartOfSpeechComponentAnalysis fits and transforms in the namespace and on the
device of its input, and the classifiers score there. Every result here is
compared with the same computation on NumPy arrays (float32 inputs, to 1e-4),
and its namespace, device and dtype with those of the input. scikit-learn's
own Array API checks run on the estimator table of ``test_common.py``.
"""

import os

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.frozen import FrozenEstimator

from sklearn_pos import (
    NearestPrototypeClassifier,
    PartOfSpeechComponentAnalysis,
    ZeroShotClassifier,
)
from sklearn_pos import _sphere
from sklearn_pos._array_api import device_of, namespace, to_numpy

ATOL = 1e-4


def _torch():
    torch = pytest.importorskip("torch")
    return torch, lambda a: torch.asarray(a, device="cpu")


def _strict():
    strict = pytest.importorskip("array_api_strict")
    return strict, strict.asarray


@pytest.fixture(params=["torch", "array_api_strict"])
def lib(request):
    """``(module, asarray)`` of an Array API library, on its CPU device."""
    return _torch() if request.param == "torch" else _strict()


def _data(n=900, d=12, seed=0):
    rng = np.random.RandomState(seed)
    X = (rng.normal(size=(n, d)) + 1.5).astype(np.float32)
    y = np.repeat(["adj", "noun", "verb"], n // 3)
    X[y == "noun", 0] += 2 * rng.normal(size=n // 3).astype(np.float32)
    return X, y


def _same_kind(result, like):
    """Assert ``result`` has the namespace, device and dtype of ``like``."""
    with sklearn.config_context(array_api_dispatch=True):
        xp, is_numpy = namespace(like)
        assert namespace(result)[0].__name__ == xp.__name__
    assert not is_numpy
    assert device_of(result) == device_of(like)
    assert result.dtype == like.dtype


def test_scipy_array_api_is_enabled_for_the_test_suite():
    # Set by the repository's conftest.py before scipy is imported: without
    # it scikit-learn refuses to enable dispatch (and its checks skip).
    assert os.environ.get("SCIPY_ARRAY_API") == "1"
    with sklearn.config_context(array_api_dispatch=True):
        assert sklearn.get_config()["array_api_dispatch"]


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
@pytest.mark.parametrize("output", ["coordinates", "projection", "complement"])
def test_pos_fit_and_transform_match_numpy(lib, geometry, output):
    _, asarray = lib
    X, y = _data()
    params = dict(n_components=3, geometry=geometry, output=output, target="noun")
    ref = PartOfSpeechComponentAnalysis(**params).fit(X, y)
    Xa = asarray(X)
    with sklearn.config_context(array_api_dispatch=True):
        est = PartOfSpeechComponentAnalysis(**params).fit(Xa, y)
        Z = est.transform(Xa)
        V = est.tangent_vectors(Xa)
        other = est.project(Xa, subspace="adj", output="complement")
    for name in (
        "mean_",
        "center_",
        "class_components_",
        "class_eigenvalues_",
        "components_",
        "eigenvalues_",
    ):
        attribute = getattr(est, name)
        assert not isinstance(attribute, np.ndarray), name
        assert device_of(attribute) == device_of(Xa)
        assert_allclose(to_numpy(attribute), getattr(ref, name), atol=ATOL)
    assert_allclose(to_numpy(est.class_counts_), ref.class_counts_)
    assert list(est.classes_) == list(ref.classes_)
    assert est.n_iter_ == ref.n_iter_ or geometry == "tangent"
    for result, expected in [
        (Z, ref.transform(X)),
        (V, ref.tangent_vectors(X)),
        (other, ref.project(X, subspace="adj", output="complement")),
    ]:
        _same_kind(result, Xa)
        assert_allclose(to_numpy(result), expected, atol=ATOL)
    if output == "coordinates":
        with sklearn.config_context(array_api_dispatch=True):
            back = est.inverse_transform(Z)
        _same_kind(back, Xa)
        assert_allclose(
            to_numpy(back), ref.inverse_transform(ref.transform(X)), atol=ATOL
        )


def test_pos_float64_stays_float64(lib):
    _, asarray = lib
    X, y = _data()
    X = X.astype(np.float64)
    ref = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        Z = PartOfSpeechComponentAnalysis(n_components=2).fit(asarray(X), y)
        Z = Z.transform(asarray(X))
    _same_kind(Z, asarray(X))
    assert_allclose(to_numpy(Z), ref.transform(X), atol=1e-10)


def test_pos_labels_of_the_namespace(lib):
    # y as an array of the namespace of X (numeric labels) is read on the host.
    _, asarray = lib
    X, y = _data()
    codes = np.unique(y, return_inverse=True)[1]
    ref = PartOfSpeechComponentAnalysis(n_components=2).fit(X, codes)
    with sklearn.config_context(array_api_dispatch=True):
        est = PartOfSpeechComponentAnalysis(n_components=2).fit(
            asarray(X), asarray(codes)
        )
    assert_allclose(est.classes_, ref.classes_)
    assert_allclose(to_numpy(est.components_), ref.components_, atol=ATOL)


def test_pos_fitted_on_numpy_transforms_tensors(lib):
    # The fitted attributes are copied to the namespace of X.
    _, asarray = lib
    X, y = _data()
    ref = PartOfSpeechComponentAnalysis(n_components=2, output="projection").fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        Z = ref.transform(asarray(X))
    _same_kind(Z, asarray(X))
    assert_allclose(to_numpy(Z), ref.transform(X), atol=ATOL)
    assert isinstance(ref.mean_, np.ndarray)


def test_without_dispatch_tensors_give_numpy_bit_identical():
    # Without dispatch, scikit-learn's validation converts a tensor to NumPy
    # (float64: a torch dtype is no NumPy dtype to keep), as before.
    torch, asarray = _torch()
    X, y = _data()
    ref = PartOfSpeechComponentAnalysis(n_components=2).fit(X.astype(np.float64), y)
    est = PartOfSpeechComponentAnalysis(n_components=2).fit(asarray(X), y)
    assert isinstance(est.mean_, np.ndarray)
    Z = est.transform(asarray(X))
    assert isinstance(Z, np.ndarray)
    np.testing.assert_array_equal(Z, ref.transform(X.astype(np.float64)))
    np.testing.assert_array_equal(est.class_components_, ref.class_components_)


def test_pos_zero_row_error_names_it(lib):
    _, asarray = lib
    X, y = _data()
    X[5] = 0
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match=r"1 row\(s\) of zero norm .*index 5"):
            PartOfSpeechComponentAnalysis(n_components=2).fit(asarray(X), y)


def test_sphere_maps_near_the_antipode_match_numpy(lib):
    # The rows handled apart (antipode, near it, tiny norms) in any namespace.
    _, asarray = lib
    rng = np.random.RandomState(1)
    X = rng.normal(size=(50, 6)) + 1.0
    mu = _sphere.normalize_rows(X[:1])[0]
    U = _sphere.normalize_rows(X)
    U[3] = -mu
    U[4] = _sphere.normalize_rows((-mu + 1e-3 * U[5])[None])[0]
    R = X.copy()
    R[7] *= 1e-300
    with sklearn.config_context(array_api_dispatch=True):
        log = _sphere.log_map(asarray(U), asarray(mu))
        back = _sphere.exp_map(log, asarray(mu))
        norms = _sphere.row_norms(asarray(R))
        mean = _sphere.intrinsic_mean(asarray(U[5:]))[0]
    assert_allclose(to_numpy(log), _sphere.log_map(U, mu), atol=1e-12)
    assert_allclose(to_numpy(back), _sphere.exp_map(_sphere.log_map(U, mu), mu))
    assert_allclose(to_numpy(norms), _sphere.row_norms(R), rtol=1e-12)
    assert to_numpy(norms)[7] > 0
    assert_allclose(to_numpy(mean), _sphere.intrinsic_mean(U[5:])[0], atol=1e-10)


def _classifiers(X, y):
    prototypes = dict(zip(np.unique(y).tolist(), X[:3]))
    pos = PartOfSpeechComponentAnalysis(n_components=3, output="complement")
    pos.fit(X, np.roll(y, 1))
    return [
        NearestPrototypeClassifier().fit(X[::10], y[::10]),
        NearestPrototypeClassifier(mean="extrinsic").fit(X[::10], y[::10]),
        ZeroShotClassifier(prototypes=prototypes).fit(X),
        ZeroShotClassifier(
            prototypes=prototypes, image_transform=FrozenEstimator(pos)
        ).fit(X),
    ]


@pytest.mark.parametrize("labels", ["str", "int"])
def test_classifiers_predict_in_the_namespace(lib, labels):
    _, asarray = lib
    X, y = _data()
    if labels == "int":
        y = np.unique(y, return_inverse=True)[1]
    Xa = asarray(X)
    for clf in _classifiers(X, y):
        with sklearn.config_context(array_api_dispatch=True):
            outputs = {
                name: getattr(clf, name)(Xa)
                for name in (
                    "decision_function",
                    "predict_proba",
                    "predict_log_proba",
                    "cosine_similarity",
                )
            }
            predicted = clf.predict(Xa)
            score = clf.score(Xa, y)
        for name, result in outputs.items():
            assert not isinstance(result, np.ndarray), name
            assert device_of(result) == device_of(Xa)
            expected = getattr(clf, name)(X).dtype.name
            assert str(result.dtype).rsplit(".", 1)[-1] == expected
            assert_allclose(to_numpy(result), getattr(clf, name)(X), atol=ATOL)
        np.testing.assert_array_equal(to_numpy(predicted), clf.predict(X))
        # Numeric labels come back in the namespace; strings as NumPy.
        assert isinstance(predicted, np.ndarray) == (labels == "str")
        assert score == clf.score(X, y)


def test_classifiers_fit_on_tensors(lib):
    # fit reads the few labelled rows on the host; predictions agree.
    _, asarray = lib
    X, y = _data()
    ref = NearestPrototypeClassifier().fit(X[::10], y[::10])
    with sklearn.config_context(array_api_dispatch=True):
        clf = NearestPrototypeClassifier().fit(asarray(X[::10]), y[::10])
        proba = clf.predict_proba(asarray(X))
    assert_allclose(clf.prototypes_, ref.prototypes_, atol=1e-12)
    assert_allclose(to_numpy(proba), ref.predict_proba(X), atol=ATOL)
