"""Properties of the sphere maps and the intrinsic mean."""

import numpy as np
import pytest
from scipy.stats import special_ortho_group

from sklearn_pos import _sphere


def _unit(X):
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


@pytest.fixture
def cone():
    """Points in a cone of about 60 degrees around a random direction."""
    rng = np.random.default_rng(0)
    axis = _unit(rng.normal(size=16))
    X = _unit(axis + 0.6 * rng.normal(size=(300, 16)) / 4)
    return X, axis


def test_exp_of_log_is_identity(cone):
    X, axis = cone
    mu = _unit(axis + 0.3 * np.random.default_rng(1).normal(size=16))
    np.testing.assert_allclose(
        _sphere.exp_map(_sphere.log_map(X, mu), mu), X, atol=1e-12
    )


def test_log_of_exp_is_identity_below_pi():
    rng = np.random.default_rng(2)
    mu = _unit(rng.normal(size=10))
    V = rng.normal(size=(50, 10))
    V -= np.outer(V @ mu, mu)
    V *= (rng.uniform(0, 0.99 * np.pi, size=50) / np.linalg.norm(V, axis=1))[:, None]
    np.testing.assert_allclose(
        _sphere.log_map(_sphere.exp_map(V, mu), mu), V, atol=1e-10
    )


def test_log_is_tangent_with_geodesic_length(cone):
    X, mu = cone
    V = _sphere.log_map(X, mu)
    np.testing.assert_allclose(V @ mu, 0, atol=1e-12)
    np.testing.assert_allclose(
        np.linalg.norm(V, axis=1), np.arccos(np.clip(X @ mu, -1, 1))
    )


def test_log_map_scales_rows_with_inverse_norms(cone):
    X, mu = cone
    scaled = X * np.linspace(0.5, 3, len(X))[:, None]
    V = _sphere.log_map(scaled, mu, inv_norms=1 / np.linalg.norm(scaled, axis=1))
    np.testing.assert_allclose(V, _sphere.log_map(X, mu), atol=1e-12)


def test_base_point_and_zero_vector_are_exact():
    mu = _unit(np.arange(1.0, 6.0))
    assert np.all(_sphere.log_map(mu[None], mu) == 0)
    np.testing.assert_allclose(
        _sphere.exp_map(np.zeros((1, 5)), mu), mu[None], atol=1e-15
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_antipode_has_a_finite_log_of_length_pi(dtype):
    mu = _unit(np.array([0.3, -0.2, 0.9, 0.1])).astype(dtype)
    V = _sphere.log_map(-mu[None], mu)
    assert np.all(np.isfinite(V))
    np.testing.assert_allclose(np.linalg.norm(V), np.pi, rtol=1e-6)
    np.testing.assert_allclose(V @ mu, 0, atol=1e-6)
    np.testing.assert_allclose(_sphere.exp_map(V, mu), -mu[None], atol=1e-6)
    g, _, curvature = _sphere.mean_log(-mu[None], mu)
    assert np.all(np.isfinite(g)) and np.isfinite(curvature)


def test_exp_drops_the_normal_component():
    rng = np.random.default_rng(3)
    mu = _unit(rng.normal(size=6))
    V = rng.normal(size=(4, 6))
    tangent = V - np.outer(V @ mu, mu)
    np.testing.assert_allclose(_sphere.exp_map(V, mu), _sphere.exp_map(tangent, mu))
    np.testing.assert_allclose(np.linalg.norm(_sphere.exp_map(V, mu), axis=1), 1)


def test_mean_log_matches_materialised_logs(cone):
    X, axis = cone
    mu = _unit(axis + 0.2)
    cos = np.full(len(X), np.nan)
    g, variance, _ = _sphere.mean_log(X, mu, cos_out=cos, chunk_rows=37)
    V = _sphere.log_map(X, mu)
    np.testing.assert_allclose(g, V.mean(axis=0), atol=1e-13)
    np.testing.assert_allclose(variance, 0.5 * np.mean(np.sum(V**2, axis=1)))
    np.testing.assert_allclose(cos, X @ mu, atol=1e-15)


def _frechet(X, mu):
    return 0.5 * np.mean(np.arccos(np.clip(X @ _unit(mu), -1, 1)) ** 2)


@pytest.mark.parametrize("spread", [0.3, 1.0])
def test_mean_log_curvature_is_the_mean_hessian_eigenvalue(spread):
    """Against the Hessian of the Fréchet function by central differences."""
    rng = np.random.default_rng(10)
    d = 5
    mu = _unit(rng.normal(size=d))
    V = rng.normal(size=(60, d)) * spread
    V -= np.outer(V @ mu, mu)
    X = _sphere.exp_map(V, mu)
    # An orthonormal basis of the tangent space at mu, and F along geodesics.
    basis = np.linalg.svd(np.eye(d) - np.outer(mu, mu))[0][:, : d - 1].T
    h = 1e-4
    second = [
        (
            _frechet(X, _sphere.exp_map(h * e[None], mu)[0])
            - 2 * _frechet(X, mu)
            + _frechet(X, _sphere.exp_map(-h * e[None], mu)[0])
        )
        / h**2
        for e in basis
    ]
    _, _, curvature = _sphere.mean_log(X, mu)
    np.testing.assert_allclose(curvature, np.mean(second), rtol=1e-5)
    assert curvature < 1  # spread-out points: the unit step would undershoot


def test_intrinsic_mean_is_a_stationary_point(cone):
    X, _ = cone
    mu, center, n_iter, converged = _sphere.intrinsic_mean(X, tol=1e-12)
    assert converged and n_iter >= 2
    np.testing.assert_allclose(np.linalg.norm(mu), 1)
    np.testing.assert_allclose(_sphere.log_map(X, mu).mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(center, 0, atol=1e-12)


def test_intrinsic_mean_differs_from_one_step_and_extrinsic_means():
    """A skewed sample: the converged mean is not any cheaper approximation."""
    rng = np.random.default_rng(4)
    X = _unit(np.vstack([rng.normal([1, 0, 0], 0.05, (90, 3)), [[0, 1, 0.2]] * 10]))
    mu, _, _, _ = _sphere.intrinsic_mean(X, tol=1e-13)
    extrinsic = _unit(X.mean(axis=0))
    one_step = _sphere.exp_map(_sphere.log_map(X, X[0]).mean(axis=0)[None], X[0])[0]
    assert np.arccos(mu @ extrinsic) > 1e-3
    assert np.arccos(np.clip(mu @ one_step, -1, 1)) > 1e-3


def test_intrinsic_mean_of_symmetric_pairs_is_the_centre():
    rng = np.random.default_rng(5)
    centre = _unit(rng.normal(size=8))
    V = rng.normal(size=(40, 8))
    V -= np.outer(V @ centre, centre)
    V *= (rng.uniform(0.1, 1.2, size=40) / np.linalg.norm(V, axis=1))[:, None]
    X = _sphere.exp_map(np.vstack([V, -V]), centre)
    mu, _, _, converged = _sphere.intrinsic_mean(X, tol=1e-13)
    assert converged
    np.testing.assert_allclose(mu, centre, atol=1e-12)


def test_intrinsic_mean_is_rotation_equivariant_and_order_free(cone):
    X, _ = cone
    R = special_ortho_group.rvs(16, random_state=6)
    mu, *_ = _sphere.intrinsic_mean(X, tol=1e-13)
    mu_rotated, *_ = _sphere.intrinsic_mean(X @ R, tol=1e-13)
    np.testing.assert_allclose(mu_rotated, mu @ R, atol=1e-12)
    permuted = X[np.random.default_rng(7).permutation(len(X))]
    mu_permuted, *_ = _sphere.intrinsic_mean(permuted, tol=1e-13)
    np.testing.assert_allclose(mu_permuted, mu, atol=1e-13)


def test_intrinsic_mean_returns_the_cosines_at_the_mean(cone):
    X, _ = cone
    scaled = X * np.linspace(0.5, 2, len(X))[:, None]
    inv = 1 / np.linalg.norm(scaled, axis=1)
    mu, *_, cos = _sphere.intrinsic_mean(scaled, inv_norms=inv, return_cosines=True)
    np.testing.assert_allclose(cos, X @ mu, atol=1e-14)
    np.testing.assert_array_equal(cos, _sphere.cosines(scaled, mu, inv_norms=inv))


def test_intrinsic_mean_first_step_uses_the_curvature():
    """Spread-out points: the Newton step of the mean curvature lands far closer
    to the mean than the classical unit step, and the mean needs fewer passes."""
    rng = np.random.default_rng(11)
    X = _unit(rng.normal(size=(2000, 64)) + 0.5)
    e = _unit(X.mean(axis=0))
    g, _, curvature = _sphere.mean_log(X, e)
    unit_step, _, _ = _sphere.mean_log(X, _sphere.exp_map(g[None], e)[0])
    newton, _, _ = _sphere.mean_log(X, _sphere.exp_map(g[None] / curvature, e)[0])
    assert np.linalg.norm(newton) < 0.01 * np.linalg.norm(unit_step)
    _, _, n_iter, converged = _sphere.intrinsic_mean(X, tol=1e-7)
    assert converged and n_iter <= 3


def test_intrinsic_mean_in_float32_agrees_with_float64(cone):
    X, _ = cone
    mu64, *_ = _sphere.intrinsic_mean(X, tol=1e-12)
    mu32, _, _, converged = _sphere.intrinsic_mean(X.astype(np.float32), tol=1e-6)
    assert converged
    np.testing.assert_allclose(mu32, mu64, atol=1e-6)


def test_intrinsic_mean_reports_non_convergence(cone):
    X, _ = cone
    _, center, n_iter, converged = _sphere.intrinsic_mean(X, tol=1e-15, max_iter=1)
    assert not converged and n_iter == 1
    assert np.linalg.norm(center) > 1e-15


def _evaluate_with_second_moments(X, calls):
    """An ``evaluate`` for intrinsic_mean: the objective from the Gram pass."""

    def evaluate(candidate):
        calls.append(candidate)
        _, total, sum_sq, sum_sc = _sphere.log_second_moments(
            X, candidate, chunk_rows=64, return_stats=True
        )
        return _sphere.frechet_summary(total, sum_sq, sum_sc, X.shape[0], candidate)

    return evaluate


def test_second_moment_stats_evaluate_the_objective_like_mean_log(cone):
    X, axis = cone
    mu = _unit(axis + 0.2)
    ours = _sphere.log_second_moments(X, mu, chunk_rows=64, return_stats=True)
    summary = _sphere.frechet_summary(ours[1], ours[2], ours[3], X.shape[0], mu)
    for got, expected in zip(summary, _sphere.mean_log(X, mu)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    # Rows near the antipode take the explicit path, in both.
    far = np.vstack([X, -mu + 1e-4 * _unit(axis - mu)])
    far = _unit(far)
    ours = _sphere.log_second_moments(far, mu, chunk_rows=64, return_stats=True)
    summary = _sphere.frechet_summary(ours[1], ours[2], ours[3], far.shape[0], mu)
    for got, expected in zip(summary, _sphere.mean_log(far, mu)):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_intrinsic_mean_takes_its_last_step_in_evaluate(cone):
    X, _ = cone
    plain, plain_center, plain_iter, _ = _sphere.intrinsic_mean(X, tol=1e-10)
    calls = []
    mu, center, n_iter, converged, cos = _sphere.intrinsic_mean(
        X,
        tol=1e-10,
        return_cosines=True,
        evaluate=_evaluate_with_second_moments(X, calls),
    )
    # One call, at the returned mean, which needs no pass of its own.
    assert converged and len(calls) == 1 and calls[0] is mu and cos is None
    assert n_iter == plain_iter
    np.testing.assert_allclose(mu, plain, atol=1e-14)
    assert np.linalg.norm(center) <= 1e-10


def test_intrinsic_mean_goes_on_when_evaluate_does_not_converge(cone):
    X, _ = cone
    calls = []
    honest = _evaluate_with_second_moments(X, calls)

    def off(candidate):  # a gradient that misses tol: the iterations go on
        center, variance, curvature = honest(candidate)
        return center + 1e-6 * _unit(np.ones_like(center)), variance, curvature

    mu, center, n_iter, converged, cos = _sphere.intrinsic_mean(
        X, tol=1e-10, return_cosines=True, evaluate=off
    )
    assert converged and len(calls) == 1 and calls[0] is not mu
    np.testing.assert_allclose(cos, X @ mu, atol=1e-14)
    plain, *_ = _sphere.intrinsic_mean(X, tol=1e-12)
    np.testing.assert_allclose(mu, plain, atol=1e-9)


def test_intrinsic_mean_rejects_symmetric_data():
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="intrinsic mean is not"):
        _sphere.intrinsic_mean(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_second_moments_match_explicit_tangent_vectors(cone, dtype):
    X, axis = cone
    mu = _unit(axis + 0.1)
    raw = (X * np.linspace(0.5, 2, len(X))[:, None]).astype(dtype)
    inv = 1 / np.linalg.norm(raw.astype(np.float64), axis=1)
    rows = np.random.default_rng(8).permutation(len(X))[:250]
    gram, total = _sphere.log_second_moments(
        raw, mu, inv_norms=inv, rows=rows, chunk_rows=64
    )
    V = _sphere.log_map(X[rows], mu)
    atol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(gram, V.T @ V, atol=atol)
    np.testing.assert_allclose(total, V.sum(axis=0), atol=atol)
    # Cosines computed beforehand give the same result, and the input is untouched.
    before = raw.copy()
    cos = _sphere.cosines(raw, mu, inv_norms=inv)
    cached = _sphere.log_second_moments(
        raw, mu, inv_norms=inv, rows=rows, cos=cos, chunk_rows=64
    )
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(cached[0], gram, rtol=rtol, atol=atol * 1e-3)
    np.testing.assert_allclose(cached[1], total, rtol=rtol, atol=atol * 1e-3)
    np.testing.assert_array_equal(raw, before)


def test_log_second_moments_form_tangent_vectors_for_tight_float32_clusters():
    """Within 1e-3 rad of mu, the scaled-row Gram matrix would be all rounding."""
    rng = np.random.default_rng(9)
    mu = _unit(rng.normal(size=8))
    V = rng.normal(size=(200, 8)) * 1e-3
    V -= np.outer(V @ mu, mu)
    X = _sphere.exp_map(V, mu)
    gram, _ = _sphere.log_second_moments(X.astype(np.float32), mu)
    np.testing.assert_allclose(gram, V.T @ V, rtol=1e-3, atol=1e-9)


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e200, 1.0])
def test_row_norms_at_any_scale(scale):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(5, 8))
    expected = np.linalg.norm(X, axis=1) * scale
    np.testing.assert_allclose(_sphere.row_norms(X * scale), expected, rtol=1e-12)
    np.testing.assert_allclose(
        _sphere.normalize_rows(X * scale), _sphere.normalize_rows(X)
    )


def test_row_norms_keep_zero_and_non_finite_rows():
    X = np.array([[0.0, 0.0], [np.nan, 1.0], [np.inf, 1.0], [3e-300, 4e-300]])
    norms = _sphere.row_norms(X)
    assert norms[0] == 0 and not np.isfinite(norms[1:3]).any()
    assert norms[3] == pytest.approx(5e-300)


def test_normalize_rows_keeps_float32_and_zero_rows():
    X = np.random.RandomState(0).normal(size=(4, 3)).astype(np.float32)
    assert _sphere.normalize_rows(X).dtype == np.float32
    X[1] = 0
    np.testing.assert_array_equal(_sphere.normalize_rows(X)[1], 0)


def test_exp_of_huge_tangent_vectors_is_a_unit_vector_in_their_plane():
    # |v| = 1e300 overflows a plain sum of squares; Exp_mu(v) is still
    # cos(|v|) mu + sin(|v|) v / |v|, a unit vector of span(mu, v).
    rng = np.random.RandomState(0)
    mu = rng.normal(size=5)
    mu /= np.linalg.norm(mu)
    u = rng.normal(size=5)
    u -= (u @ mu) * mu
    u /= np.linalg.norm(u)
    for V, scale in [(1e300 * u[None], None), (2.0 * u[None], [5e299])]:
        X = _sphere.exp_map(V, mu, scale=scale)
        assert np.all(np.isfinite(X))
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
        a, b = X @ mu, X @ u
        np.testing.assert_allclose(a**2 + b**2, 1.0)
    # Moderate lengths: the closed form, exactly as before.
    X = _sphere.exp_map(7.5 * u[None], mu, scale=[2.0])
    np.testing.assert_allclose(X[0], np.cos(15.0) * mu + np.sin(15.0) * u, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_refuses_lengths_beyond_the_float_range(dtype):
    mu = np.eye(4, dtype=dtype)[0]
    big = np.finfo(dtype).max
    V = np.array([[0.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0]], dtype=dtype) * big
    with pytest.raises(ValueError, match=r"1 tangent vector\(s\) \(first at row 0\)"):
        _sphere.exp_map(V, mu)
    # Entries at the largest float, length within it: a unit vector.
    assert np.all(np.isfinite(_sphere.exp_map(V[1:], mu)))
