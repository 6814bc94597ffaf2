"""PartOfSpeechComponentAnalysis: the paper's equations, planted structure, seam."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import linalg
from scipy.linalg import subspace_angles
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_pos import PartOfSpeechComponentAnalysis, _linalg, _sphere
from sklearn_pos._linalg import top_eigenvectors

D = 12


def _unit(X):
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


def _planted(rng, n_per_class=400, *, shared=2.0, own=1.0, noise=0.05):
    """Tangent data at a known point with known per-class directions.

    Basis vectors e0..e3 of the tangent space at mu:
    - e0: the "noun" and "adj" classes both vary strongly along it (shared);
    - e1: only nouns vary along it; e2: only adjectives; e3: only verbs.
    """
    mu = _unit(rng.normal(size=D))
    basis = np.linalg.qr(np.column_stack([mu, rng.normal(size=(D, D - 1))]))[0][:, 1:].T
    scales = {
        "noun": {0: shared, 1: own},
        "adj": {0: shared, 2: own},
        "verb": {3: own},
    }
    V, y = [], []
    for label, dirs in scales.items():
        coef = noise * rng.normal(size=(n_per_class, D - 1))
        for j, s in dirs.items():
            coef[:, j] = s * 0.3 * rng.normal(size=n_per_class)
        V.append(coef @ basis)
        y += [label] * n_per_class
    X = _sphere.exp_map(np.vstack(V), mu)
    return X, np.array(y), mu, basis


def _reference_fit(X, y, lam, k, geometry="tangent"):
    """The paper's closed form, written directly from the equations.

    In the tangent geometry the normal direction mu (eigenvalue 0 of every
    M_i, as no tangent vector has a component along it) is left out.
    """
    X = _unit(X)
    if geometry == "tangent":
        mu = PartOfSpeechComponentAnalysis(tol=1e-13).fit(X, y).mean_
        Y = _sphere.log_map(X, mu)
    else:
        Y = X
    m = Y.mean(axis=0)
    classes = np.unique(y)
    C = {c: (Y[y == c] - m).T @ (Y[y == c] - m) / np.sum(y == c) for c in classes}
    out = {}
    for i in classes:
        M = (1 - lam) * C[i] - lam * sum(C[j] for j in classes if j != i)
        values, vectors = np.linalg.eigh(M)
        if geometry == "tangent":
            keep = np.abs(vectors.T @ mu) < 0.5
            values, vectors = values[keep], vectors[:, keep]
        out[i] = (values[::-1][:k], vectors[:, ::-1][:, :k].T)
    return out, m


def _objective(W, X, y, target, lam, est):
    Y = est.tangent_vectors(X)
    value = 0.0
    for c in np.unique(y):
        energy = np.sum((Y[y == c] @ W.T) ** 2) / np.sum(y == c)
        value += (1 - lam) * energy if c == target else -lam * energy
    return value


@pytest.fixture
def planted():
    return _planted(np.random.default_rng(0))


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
@pytest.mark.parametrize("lam", [0.0, 0.5, 0.9])
def test_matches_the_closed_form(planted, geometry, lam, monkeypatch):
    X, y, _, _ = planted
    # Small blocks exercise the blocked accumulation, including a permuted y.
    monkeypatch.setattr(_linalg, "GRAM_CHUNK_ROWS", 97)
    order = np.random.default_rng(1).permutation(len(y))
    X, y = X[order], y[order]
    est = PartOfSpeechComponentAnalysis(
        n_components=4, lam=lam, geometry=geometry, tol=1e-13
    )
    est.fit(X, y)
    reference, m = _reference_fit(X, y, lam, 4, geometry)
    np.testing.assert_allclose(est.center_, m, atol=1e-12)
    for i, c in enumerate(est.classes_):
        values, vectors = reference[c]
        np.testing.assert_allclose(est.class_eigenvalues_[i], values, atol=1e-12)
        assert np.max(subspace_angles(est.class_components_[i].T, vectors.T)) < 1e-8


def test_recovers_planted_directions_and_lambda_matters(planted):
    X, y, _, basis = planted
    # lam = 0 is PCA of the nouns: the shared direction e0 dominates.
    pca = PartOfSpeechComponentAnalysis(n_components=1, lam=0.0, target="noun").fit(
        X, y
    )
    assert abs(pca.components_[0] @ basis[0]) > 0.99
    # lam = 0.5 suppresses what adjectives also do: the noun-only e1 wins.
    pos = PartOfSpeechComponentAnalysis(n_components=1, lam=0.5, target="noun").fit(
        X, y
    )
    assert abs(pos.components_[0] @ basis[1]) > 0.99
    both = PartOfSpeechComponentAnalysis(n_components=1, target="adj").fit(X, y)
    assert abs(both.components_[0] @ basis[2]) > 0.99
    verbs = PartOfSpeechComponentAnalysis(n_components=1, target="verb").fit(X, y)
    assert abs(verbs.components_[0] @ basis[3]) > 0.99


def test_learned_subspace_maximises_the_objective(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(n_components=3, target="noun").fit(X, y)
    best = _objective(est.components_, X, y, "noun", 0.5, est)
    np.testing.assert_allclose(best, est.eigenvalues_.sum(), rtol=1e-10)
    rng = np.random.default_rng(2)
    for _ in range(20):
        W = np.linalg.qr(rng.normal(size=(D, 3)))[0].T
        assert _objective(W, X, y, "noun", 0.5, est) < best


def test_subspaces_are_orthonormal_and_ordered(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(n_components=5).fit(X, y)
    assert est.class_components_.shape == (3, 5, D)
    for W, values in zip(est.class_components_, est.class_eigenvalues_):
        np.testing.assert_allclose(W @ W.T, np.eye(5), atol=1e-12)
        assert np.all(np.diff(values) <= 0)
    np.testing.assert_array_equal(est.class_counts_, [400, 400, 400])


@pytest.mark.parametrize("scale", [1.0, 1e-12])
def test_tangent_eigenproblem_is_exact_at_any_scale(scale):
    """Against the eigenpairs in an explicit orthonormal basis of the tangent
    space; tight clusters have covariances of 1e-12 and below."""
    rng = np.random.default_rng(12)
    d = 12
    mu = _unit(rng.normal(size=d))
    B = rng.normal(size=(d, d))
    M = scale * (B + B.T)  # indefinite, with a component along mu
    Q = np.linalg.svd(np.eye(d) - np.outer(mu, mu))[0][:, : d - 1]
    ref_values, ref_vectors = np.linalg.eigh(Q.T @ M @ Q)
    ref_values, ref_vectors = ref_values[::-1], (Q @ ref_vectors[:, ::-1]).T
    values, vectors = top_eigenvectors(M, 5, mu)
    np.testing.assert_allclose(values, ref_values[:5], rtol=1e-10)
    np.testing.assert_allclose(np.abs(np.sum(vectors * ref_vectors[:5], axis=1)), 1)
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(5), atol=1e-12)
    given = M.copy()
    values, vectors = top_eigenvectors(M, d, mu)
    np.testing.assert_array_equal(M, given)  # the input is left as it is
    np.testing.assert_allclose(values[:-1], ref_values, rtol=1e-10)
    assert values[-1] == 0 and abs(vectors[-1] @ mu) == pytest.approx(1)


def test_tangent_subspaces_lie_in_the_tangent_space(planted):
    X, y, _, _ = planted
    # Verbs have a single positive eigenvalue: the other directions kept are
    # tangent ones with negative eigenvalues, never the normal mean_.
    with pytest.warns(UserWarning, match="spans the whole tangent space"):
        est = PartOfSpeechComponentAnalysis(n_components=D - 1).fit(X, y)
    np.testing.assert_allclose(est.class_components_ @ est.mean_, 0, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(est.mean_), 1)
    assert np.sum(est.class_eigenvalues_[2] > 0) == 1
    full = PartOfSpeechComponentAnalysis().fit(X, y)
    np.testing.assert_allclose(np.abs(full.class_components_[:, -1] @ full.mean_), 1)
    np.testing.assert_array_equal(full.class_eigenvalues_[:, -1], 0)


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
def test_projection_and_complement_split_the_centred_data(planted, geometry):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(n_components=3, geometry=geometry, target="adj")
    P = est.set_params(output="projection").fit(X, y).transform(X)
    Q = est.set_params(output="complement").transform(X)
    # In the fitted space (tangent vectors, or the data for "euclidean") the
    # two parts are orthogonal and add up to the centred point.
    if geometry == "tangent":
        np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1)
        np.testing.assert_allclose(np.linalg.norm(Q, axis=1), 1)
        A, B = est.tangent_vectors(P), est.tangent_vectors(Q)
    else:
        A, B = P - est.center_, Q - est.center_
    np.testing.assert_allclose(np.sum(A * B, axis=1), 0, atol=1e-10)
    np.testing.assert_allclose(A + B, est.tangent_vectors(X), atol=1e-10)
    np.testing.assert_allclose(A @ est.components_.T @ est.components_, A, atol=1e-10)


def test_tangent_projection_and_complement_are_idempotent(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(
        n_components=3, target="noun", output="projection"
    )
    P = est.fit(X, y).transform(X)
    np.testing.assert_allclose(est.transform(P), P, atol=1e-10)
    Q = est.set_params(output="complement").transform(X)
    np.testing.assert_allclose(est.transform(Q), Q, atol=1e-10)


def test_euclidean_projection_is_the_papers_formula(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(
        3, geometry="euclidean", output="projection"
    ).fit(X, y)
    m, W = X.mean(axis=0), est.components_
    np.testing.assert_allclose(est.transform(X), (X - m) @ W.T @ W + m, atol=1e-12)
    assert est.n_iter_ == 0


def test_coordinates_invert_to_the_projection(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(n_components=3, target="verb").fit(X, y)
    C = est.transform(X)
    assert C.shape == (len(X), 3)
    projection = clone(est).set_params(output="projection").fit(X, y).transform(X)
    np.testing.assert_allclose(est.inverse_transform(C), projection, atol=1e-12)


def test_all_components_make_the_projection_the_identity(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(output="projection").fit(X, y)
    assert est.n_components_ == D
    np.testing.assert_allclose(est.transform(X), X, atol=1e-10)


def test_rows_are_normalised_and_order_does_not_matter(planted):
    X, y, _, _ = planted
    rng = np.random.default_rng(3)
    est = PartOfSpeechComponentAnalysis(n_components=3, output="projection").fit(X, y)
    scaled = X * rng.uniform(0.1, 10, size=(len(X), 1))
    order = rng.permutation(len(X))
    other = clone(est).fit(scaled[order], y[order])
    np.testing.assert_allclose(other.mean_, est.mean_, atol=1e-12)
    np.testing.assert_allclose(
        other.class_components_, est.class_components_, atol=1e-8
    )
    np.testing.assert_allclose(other.transform(scaled), est.transform(X), atol=1e-8)


def test_intrinsic_mean_is_converged(planted):
    X, y, mu_true, _ = planted
    est = PartOfSpeechComponentAnalysis(tol=1e-12).fit(X, y)
    assert est.n_iter_ >= 2
    np.testing.assert_allclose(
        _sphere.log_map(X, est.mean_).mean(axis=0), 0, atol=1e-12
    )
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        PartOfSpeechComponentAnalysis(tol=0, max_iter=2).fit(X, y)


def test_float32_is_preserved_and_close_to_float64(planted):
    X, y, _, _ = planted
    est64 = PartOfSpeechComponentAnalysis(n_components=2, output="projection").fit(X, y)
    X32 = X.astype(np.float32)
    est32 = clone(est64).fit(X32, y)
    Z = est32.transform(X32)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z, est64.transform(X), atol=1e-5)


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
@pytest.mark.parametrize("k", [3, D])
def test_float32_data_get_float32_subspaces(planted, geometry, k):
    # The eigenproblems of float32 data are solved in float32 (as in PCA):
    # orthonormal, tangent, and the planted subspaces of the float64 fit.
    X, y, _, _ = planted
    params = {"n_components": k, "geometry": geometry}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # k = D spans the space
        est32 = PartOfSpeechComponentAnalysis(**params).fit(X.astype(np.float32), y)
        est64 = PartOfSpeechComponentAnalysis(**params).fit(X, y)
    assert est32.class_components_.dtype == np.float32
    assert est32.class_eigenvalues_.dtype == np.float32
    assert est64.class_components_.dtype == np.float64
    # LAPACK's eigenvectors are orthonormal to a small multiple of d * eps:
    # 1.25e-6 for float32 at d = 12, for scipy.linalg.eigh itself.
    atol = 10 * D * np.finfo(np.float32).eps
    for i in range(len(est32.classes_)):
        W32 = est32.class_components_[i].astype(np.float64)
        np.testing.assert_allclose(W32 @ W32.T, np.eye(k), atol=atol)
        if geometry == "tangent" and k < D:
            np.testing.assert_allclose(W32 @ est32.mean_, 0, atol=1e-6)
        # the well-separated leading directions agree with float64
        W64 = est64.class_components_[i]
        assert np.max(subspace_angles(W32[:1].T, W64[:1].T)) < 1e-4
    np.testing.assert_allclose(
        est32.class_eigenvalues_, est64.class_eigenvalues_, rtol=1e-3, atol=1e-6
    )


def test_any_labels_and_default_target():
    rng = np.random.default_rng(4)
    X = _unit(rng.normal(size=(60, 5)) + 3)
    for y in (np.repeat([3, 1, 2], 20), np.repeat(["theme", "adj", "noun"], 20)):
        est = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
        assert est.target_ == np.sort(np.unique(y))[0]
        np.testing.assert_array_equal(est.components_, est.class_components_[0])
    est = PartOfSpeechComponentAnalysis(n_components=2, target="theme").fit(X, y)
    np.testing.assert_array_equal(est.components_, est.class_components_[2])


def test_pickle_round_trip_gives_identical_transforms(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(n_components=3, output="complement").fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))


def test_pandas_in_and_out(planted):
    X, y, _, _ = planted
    frame = pd.DataFrame(X, columns=[f"dim{i}" for i in range(D)])
    est = PartOfSpeechComponentAnalysis(n_components=2).set_output(transform="pandas")
    out = est.fit_transform(frame, pd.Series(y))
    assert list(out.columns) == [
        "partofspeechcomponentanalysis0",
        "partofspeechcomponentanalysis1",
    ]
    est.set_params(output="projection")
    assert list(est.fit_transform(frame, y).columns) == list(frame.columns)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.nan, "NaN"),
        (np.inf, "infinity"),
    ],
)
def test_rejects_non_finite_values(planted, bad, message):
    X, y, _, _ = planted
    X = X.copy()
    X[5, 2] = bad
    with pytest.raises(ValueError, match=message):
        PartOfSpeechComponentAnalysis().fit(X, y)


def test_rejects_zero_rows_at_fit_and_transform(planted):
    X, y, _, _ = planted
    Z = X.copy()
    Z[[7, 9]] = 0
    with pytest.raises(
        ValueError, match=r"2 row\(s\) of zero norm \(first at index 7\)"
    ):
        PartOfSpeechComponentAnalysis().fit(Z, y)
    est = PartOfSpeechComponentAnalysis().fit(X, y)
    with pytest.raises(ValueError, match="zero norm"):
        est.transform(Z)


def test_parameter_and_shape_errors(planted):
    X, y, _, _ = planted
    with pytest.raises(ValueError, match="at least two categories.*1 class"):
        PartOfSpeechComponentAnalysis().fit(X, np.zeros(len(X)))
    with pytest.raises(
        ValueError, match=r"target='adverb' is not one of.*'adj', 'noun', 'verb'"
    ):
        PartOfSpeechComponentAnalysis(target="adverb").fit(X, y)
    with pytest.raises(ValueError, match=f"n_components=13 must be at most.*\\({D}\\)"):
        PartOfSpeechComponentAnalysis(n_components=13).fit(X, y)
    with pytest.raises(ValueError, match="lam"):
        PartOfSpeechComponentAnalysis(lam=1.5).fit(X, y)
    with pytest.raises(ValueError, match="geometry"):
        PartOfSpeechComponentAnalysis(geometry="hyperbolic").fit(X, y)
    est = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    with pytest.raises(ValueError, match=f"X has 5 features.*expecting {D} features"):
        est.transform(X[:, :5])
    with pytest.raises(ValueError, match="expects 2 coordinates"):
        est.inverse_transform(np.zeros((3, 4)))
    est.set_params(output="projection")
    with pytest.raises(ValueError, match="output='coordinates'"):
        est.inverse_transform(np.zeros((3, 2)))
    with pytest.raises(NotFittedError):
        PartOfSpeechComponentAnalysis().transform(X)


def test_large_finite_float32_values_are_accepted(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(n_components=2, output="projection").fit(X, y)
    big = (X * 1e30).astype(np.float32)  # squares overflow float32, not float64
    np.testing.assert_allclose(est.transform(big), est.transform(X), atol=1e-5)


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
@pytest.mark.parametrize("output", ["coordinates", "projection", "complement"])
def test_project_is_transform_and_a_refit_for_another_category(
    planted, geometry, output
):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(
        n_components=2, geometry=geometry, target="noun", output=output
    ).fit(X, y)
    np.testing.assert_array_equal(est.project(X), est.transform(X))
    np.testing.assert_array_equal(est.project(X, subspace="noun"), est.transform(X))
    for other in ("adj", "verb"):
        refit = clone(est).set_params(target=other).fit(X, y)
        np.testing.assert_array_equal(
            est.project(X, subspace=other), refit.transform(X)
        )
        # output= overrides the estimator's own output.
        for out in ("coordinates", "projection", "complement"):
            expected = clone(refit).set_params(output=out).fit(X, y).transform(X)
            np.testing.assert_array_equal(
                est.project(X, subspace=other, output=out), expected
            )
    # float32 stays float32, as in transform.
    assert est.project(X.astype(np.float32), subspace="adj").dtype == np.float32


def test_project_rejects_unknown_subspaces_and_outputs(planted):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"subspace='pronoun' is not one of the learned subspaces "
        r"\['adj', 'noun', 'verb'\]",
    ):
        est.project(X, subspace="pronoun")
    with pytest.raises(ValueError, match=r"subspace=3 is not one of"):
        est.project(X, subspace=np.int64(3))
    with pytest.raises(ValueError, match=r"output='basis' is not one of"):
        est.project(X, subspace="adj", output="basis")
    with pytest.raises(NotFittedError):
        PartOfSpeechComponentAnalysis().project(X, subspace="adj")
    with pytest.raises(NotFittedError):
        PartOfSpeechComponentAnalysis().tangent_vectors(X)


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
def test_tangent_vectors_give_every_subspaces_coordinates(planted, geometry):
    X, y, _, _ = planted
    est = PartOfSpeechComponentAnalysis(n_components=3, geometry=geometry).fit(X, y)
    V = est.tangent_vectors(X)
    U = _unit(X)
    if geometry == "tangent":
        expected = _sphere.log_map(U, est.mean_) - est.center_
        np.testing.assert_allclose(V @ est.mean_, 0.0, atol=1e-12)
    else:
        expected = U - est.mean_
    np.testing.assert_allclose(V, expected, atol=1e-12)
    for label, W in zip(est.classes_, est.class_components_):
        np.testing.assert_allclose(
            V @ W.T, est.project(X, subspace=label, output="coordinates"), atol=1e-12
        )
    with pytest.raises(ValueError, match="features"):
        est.tangent_vectors(X[:, :5])


def test_feature_names_are_unchanged(planted):
    X, y, _, _ = planted
    names = [f"dim{i}" for i in range(D)]
    frame = pd.DataFrame(X, columns=names)
    est = PartOfSpeechComponentAnalysis(n_components=3).fit(frame, y)
    out = est.get_feature_names_out()
    assert out.dtype == object
    assert out.tolist() == [f"partofspeechcomponentanalysis{i}" for i in range(3)]
    assert est.get_feature_names_out(names).tolist() == out.tolist()
    with pytest.raises(ValueError, match="input_features is not equal"):
        est.get_feature_names_out([f"x{i}" for i in range(D)])
    est.set_params(output="complement")
    assert est.get_feature_names_out().tolist() == names
    plain = PartOfSpeechComponentAnalysis(output="projection").fit(X, y)
    assert plain.get_feature_names_out().tolist() == [f"x{i}" for i in range(D)]
    with pytest.raises(NotFittedError):
        PartOfSpeechComponentAnalysis().get_feature_names_out()


@pytest.mark.parametrize("tangent", [False, True])
def test_eigenvector_signs_follow_the_largest_entry(tangent):
    # The convention: each eigenvector's largest-magnitude entry is positive
    # (scikit-learn's svd_flip on column eigenvectors).
    rng = np.random.RandomState(3)
    A = rng.normal(size=(D, D))
    M = A + A.T
    normal = _unit(rng.normal(size=D)) if tangent else None
    for k in (1, 4, D):
        values, vectors = top_eigenvectors(M, k, normal)
        biggest = vectors[np.arange(k), np.argmax(np.abs(vectors), axis=1)]
        assert np.all(biggest > 0)
        if tangent:
            continue
        # The same numbers as the sign fix written by hand on LAPACK's output.
        raw_values, raw = linalg.eigh(M, subset_by_index=[D - k, D - 1], driver="evr")
        raw = raw[:, ::-1].T
        signs = np.sign(raw[np.arange(k), np.argmax(np.abs(raw), axis=1)])
        # (to rounding: above k/d = 0.1 the divide-and-conquer route runs)
        np.testing.assert_allclose(vectors, raw * signs[:, None], atol=1e-12)
        np.testing.assert_allclose(values, raw_values[::-1], atol=1e-12)


@pytest.mark.parametrize(
    "dtype, rtol, atol", [(np.float64, 1e-10, 1e-8), (np.float32, 1e-4, 1e-4)]
)
@pytest.mark.parametrize("d", [1, 2, 40, 101])
def test_both_eigensolvers_give_the_same_subspaces(d, dtype, rtol, atol):
    rng = np.random.RandomState(0)
    A = rng.normal(size=(d, d))
    M = A @ A.T
    full_values, full = linalg.eigh(M)
    cut = int(_linalg.SUBSET_MAX_FRACTION * d)
    for k in sorted({min(max(k, 1), d) for k in (cut, cut + 1, d // 2, d - 1, d)}):
        before = M.astype(dtype)
        given = before.copy()
        fast_values, fast = _linalg.eigh_top(given, k)
        np.testing.assert_array_equal(given, before)  # the input is left as it is
        assert fast_values.dtype == fast.dtype == dtype
        assert fast.shape == (d, k)
        # backward stable: errors of the order of rtol times the largest
        np.testing.assert_allclose(
            fast_values, full_values[d - k :], rtol=0, atol=rtol * full_values[-1]
        )
        np.testing.assert_allclose(fast.T @ fast, np.eye(k), atol=atol)
        # the same subspace: equal orthogonal projectors
        np.testing.assert_allclose(
            fast @ fast.T, full[:, d - k :] @ full[:, d - k :].T, atol=atol
        )


# ------------------------------------------------------------ bad inputs


def _words(n_features=6, n=40, seed=0):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, n_features)) + 3.0, np.repeat(["adj", "noun"], n // 2)


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.array([1, "noun"] * 20, dtype=object), "mixes labels of different types"),
        (np.array([None, "noun"] * 20, dtype=object), r"20 missing label\(s\)"),
        (np.random.RandomState(0).uniform(size=40), "continuous values"),
    ],
    ids=["int and str", "None", "continuous"],
)
def test_labels_that_cannot_be_categories(labels, match):
    X, _ = _words()
    with pytest.raises(ValueError, match=match):
        PartOfSpeechComponentAnalysis(n_components=2).fit(X, labels)


def test_integer_valued_float_labels_are_categories():
    X, _ = _words()
    est = PartOfSpeechComponentAnalysis(n_components=2).fit(
        X, np.repeat([0.0, 1.0], 20)
    )
    np.testing.assert_array_equal(est.classes_, [0.0, 1.0])


@pytest.mark.parametrize("geometry, span", [("tangent", 5), ("euclidean", 6)])
def test_n_components_spanning_the_space_warns(geometry, span):
    X, y = _words()
    with pytest.warns(UserWarning, match=f"n_components={span} spans the whole"):
        PartOfSpeechComponentAnalysis(n_components=span, geometry=geometry).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PartOfSpeechComponentAnalysis(n_components=span - 1, geometry=geometry).fit(
            X, y
        )
        PartOfSpeechComponentAnalysis(geometry=geometry).fit(X, y)  # None: all


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e-300), (np.float32, 1e-30)])
def test_tiny_rows_are_not_zero_rows(dtype, scale):
    X, y = _words()
    X = X.astype(dtype)
    est = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    tiny = PartOfSpeechComponentAnalysis(n_components=2).fit(X * dtype(scale), y)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(tiny.mean_, est.mean_, rtol=rtol)
    np.testing.assert_allclose(
        tiny.transform(X * dtype(scale)), est.transform(X), rtol=rtol, atol=rtol
    )
    X[3] = 0
    with pytest.raises(ValueError, match=r"1 row\(s\) of zero norm \(first at index 3"):
        PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)


@pytest.mark.parametrize("label", [["adj"], ["adj", "noun"], np.array(["noun"])])
def test_a_list_is_not_one_category(label):
    X, y = _words()
    with pytest.raises(ValueError, match="target must be one category label"):
        PartOfSpeechComponentAnalysis(n_components=2, target=label).fit(X, y)
    est = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    with pytest.raises(ValueError, match="subspace must be one category label"):
        est.project(X, subspace=label)


@pytest.mark.parametrize("value", [1e300, -1e308, 1e-300])
def test_inverse_transform_of_extreme_coordinates_is_finite(value):
    rng = np.random.RandomState(0)
    X, y, _, _ = _planted(rng, n_per_class=50)
    est = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    C = np.full((2, 2), value)
    Z = est.inverse_transform(C)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0)
    # On the great circle through mean_ along W^T c + m, formed divided by
    # |value| (W^T c alone for large values, m for small ones).
    s = abs(value)
    direction = (C[0] / s) @ est.components_ + est.center_ / s
    direction /= np.abs(direction).max()
    direction -= (direction @ est.mean_) * est.mean_
    direction /= np.linalg.norm(direction)
    np.testing.assert_allclose((Z @ est.mean_) ** 2 + (Z @ direction) ** 2, 1.0)


@pytest.mark.filterwarnings("ignore:n_components=12 spans the whole space")
def test_inverse_transform_refuses_lengths_beyond_the_float_range():
    rng = np.random.RandomState(0)
    X, y, _, _ = _planted(rng, n_per_class=50)
    est = PartOfSpeechComponentAnalysis(n_components=2).fit(X.astype(np.float32), y)
    C = np.full((1, 2), np.finfo(np.float32).max, dtype=np.float32)
    with pytest.raises(ValueError, match="longer than the largest float32"):
        est.inverse_transform(C)
    euclid = PartOfSpeechComponentAnalysis(n_components=D, geometry="euclidean")
    euclid.fit(X, y)
    W = euclid.components_
    assert np.abs(W[:, 0]).max() < 0.9  # so that 1.9e308 W[:, 0] is finite
    C = 1.9 * W[:, 0][None] * 1e308  # coordinates of 1.9e308 e_0
    with pytest.raises(ValueError, match=r"1 row\(s\) of X .* overflows float64"):
        euclid.inverse_transform(C)
    assert np.all(np.isfinite(euclid.inverse_transform(C / 2)))
