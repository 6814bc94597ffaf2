"""Geometry of the unit sphere S^{d-1}: log and exp maps and the intrinsic mean.

This is the only module where the Riemannian maps are written. Conventions:

- points are rows of a 2-D array, each of unit L2 norm;
- ``mu`` is a single unit vector of shape ``(d,)``, the base point;
- tangent vectors at ``mu`` are rows orthogonal to ``mu``.

For a unit vector ``x`` with ``c = <mu, x>``, the logarithmic map is

    Log_mu(x) = theta / sin(theta) * (x - c mu),   theta = arccos(c),

which equals ``arccos(c) * P(x - mu) / ||P(x - mu)||`` with ``P = I - mu mu^T``
(``P(x - mu) = x - c mu``). The exponential map is

    Exp_mu(v) = cos(||v||) mu + sin(||v||) v / ||v||,   Exp_mu(0) = mu.

Two singular cases are handled explicitly instead of producing NaN:

- ``x == mu`` gives the zero tangent vector (the factor ``theta / sin(theta)``
  tends to 1);
- ``x == -mu`` (the antipode) has no unique logarithm: every tangent direction
  of length pi reaches it. A fixed, deterministic direction
  (:func:`antipodal_direction`) is used, so results are reproducible. Points
  within ``sqrt(eps)`` of the antipode (about 3e-4 radians in float32, 1.5e-8
  in float64), where rounding decides the direction, are treated the same.
"""

import numpy as np

#: Rows processed at once by the streaming reductions below: small enough for a
#: block to stay in cache and to keep float32 partial sums accurate, large
#: enough to amortise the Python overhead.
CHUNK_ROWS = 1024


def row_norms(X):
    """L2 norms of the rows of ``X`` as float64, correct at any scale.

    The squares are summed in the dtype of ``X`` (one fast pass); rows whose
    sum of squares underflows or overflows that dtype (a row scaled by 1e-300,
    or by 1e200) are measured again after division by their largest entry,
    so only an all-zero row has norm 0 and only a row with NaN or infinite
    values a non-finite norm.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", X, X).astype(np.float64))
    info = np.finfo(X.dtype)
    # Below this, the sum of squares is subnormal: imprecise, or zero.
    small = np.sqrt(info.tiny / info.eps)
    redo = np.flatnonzero(~(norms >= small) | ~np.isfinite(norms))
    if redo.size:
        rows = np.asarray(X[redo], dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            peak = np.max(np.abs(rows), axis=1) if rows.shape[1] else 0 * redo
            scaled = rows / np.where(peak > 0, peak, 1)[:, None]
            norms[redo] = peak * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    return norms


def normalize_rows(X):
    """Return ``X`` with each row scaled to unit L2 norm (a new array).

    Rows of zero norm are left as zeros; callers validate them first.
    """
    norms = row_norms(X)
    norms[norms == 0] = 1
    return _divide_rows(X, norms)


def _divide_rows(X, norms):
    """``X / norms[:, None]`` in the dtype of ``X``."""
    if X.dtype == np.float64 or np.all(norms >= np.finfo(X.dtype).tiny):
        return X / norms[:, None].astype(X.dtype, copy=False)
    # A tiny row's norm is not representable in the narrower dtype.
    return (X / norms[:, None]).astype(X.dtype, copy=False)


def unit_rows(X, what="X", row_names=None):
    """Return ``X`` with each row scaled to unit L2 norm; refuse rows that cannot be.

    Unlike :func:`normalize_rows`, a row of zero norm or with non-finite
    values raises a ``ValueError`` that names it: by ``row_names[i]`` when
    given (e.g. the class of a prototype), else by its index. ``what``
    describes ``X`` in the message.
    """
    norms = row_norms(X)
    bad = np.flatnonzero(~np.isfinite(norms) | (norms == 0))
    if bad.size:
        i = bad[0]
        row = f"index {i}"
        if row_names is not None:
            name = np.asarray(row_names, dtype=object)[i]
            row = repr(name.item() if isinstance(name, np.generic) else name)
        raise ValueError(
            f"{what}: a row has zero norm or non-finite values ({row}); every row "
            "must be a finite, non-zero embedding to be scaled to unit norm."
        )
    return _divide_rows(X, norms)


def antipodal_direction(mu):
    """Unit tangent vector at ``mu`` used for the logarithm of ``-mu``.

    It is the projection onto the tangent space of the canonical basis vector
    along which ``mu`` has its smallest absolute coordinate (the best
    conditioned choice), normalised. Deterministic for a given ``mu``.
    """
    mu = np.asarray(mu)
    e = np.zeros_like(mu)
    if mu.shape[0] == 1:
        # S^0 has a zero-dimensional tangent space.
        return e
    e[np.argmin(np.abs(mu))] = 1
    e -= (e @ mu) * mu
    return e / np.linalg.norm(e)


#: Below this ``sin(theta)``, on the far side of the sphere, the logarithm is
#: recomputed from the explicit vector ``x - c mu`` (see :func:`log_map`).
_NEAR_ANTIPODE = 1e-2


def _log_scale(cos, sin, dtype):
    """Factor ``theta / sin(theta)`` of the log map, ``theta`` and the antipode mask.

    ``sin`` is ``||x - cos * mu||``. Below ``sqrt(eps)`` of ``dtype`` the
    direction of ``x - cos * mu`` is dominated by rounding: on the side of
    ``mu`` the factor tends to 1 and is harmless, on the side of ``-mu`` the
    point is flagged as antipodal (its logarithm has no usable direction).
    """
    theta = np.arctan2(sin, cos)
    zero = sin == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(zero, 1, theta / np.where(zero, 1, sin))
    antipode = (sin <= np.sqrt(np.finfo(dtype).eps)) & (cos < 0)
    return scale.astype(cos.dtype, copy=False), theta, antipode


def cosines(X, mu, *, inv_norms=None):
    """Cosines ``<mu, x>`` of the rows ``x`` of ``X`` scaled by ``inv_norms``.

    One matrix-vector product in the dtype of ``X``; the result is float64,
    clipped to [-1, 1].
    """
    cos = np.asarray(X @ np.asarray(mu).astype(X.dtype), dtype=np.float64)
    if inv_norms is not None:
        cos *= inv_norms
    return np.clip(cos, -1.0, 1.0, out=cos)


def _log_coefficients(cos):
    """Per-row ``s = theta / sin(theta)``, ``theta`` and the near-antipode mask.

    ``cos`` holds ``c = <mu, x>`` (float64) and ``sin(theta)`` is taken as
    ``sqrt(1 - c^2)``: accurate except close to the antipode, where rows are
    flagged in ``near`` for the explicit computation.
    """
    sin = np.sqrt(1.0 - cos * cos)
    scale, theta, _ = _log_scale(cos, sin, np.float64)
    near = (sin < _NEAR_ANTIPODE) & (cos < 0)
    return scale, theta, near


def _log_explicit(X, mu):
    """Log map of unit rows from the explicit vectors ``x - c mu``.

    Accurate everywhere, including near the antipode; used for the few rows
    that :func:`_log_coefficients` flags.
    """
    mu = np.asarray(mu, dtype=X.dtype)
    cos = X @ mu
    V = X - cos[:, None] * mu
    sin = np.sqrt(np.einsum("ij,ij->i", V, V))
    scale, _, antipode = _log_scale(cos, sin, X.dtype)
    V *= scale[:, None]
    if antipode.any():
        V[antipode] = np.pi * antipodal_direction(mu)
    return V


def log_map(X, mu, *, inv_norms=None):
    """Riemannian logarithm ``Log_mu`` of each row of ``X``.

    With ``x`` the row scaled to unit norm, ``c = <mu, x>`` and
    ``s = theta / sin(theta)``: ``Log_mu(x) = s a r - s c mu`` for a raw row
    ``r`` with reciprocal norm ``a``, one scaled copy of ``X`` and a rank-one
    update.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Unit-norm rows, or rows to be scaled by ``inv_norms``.
    mu : ndarray of shape (n_features,)
        Unit-norm base point.
    inv_norms : ndarray of shape (n_samples,), default=None
        Reciprocal row norms of ``X``; ``None`` when the rows are unit norm.
        Scaling happens on the fly (``X`` is not modified).

    Returns
    -------
    V : ndarray of shape (n_samples, n_features)
        Tangent vectors at ``mu`` (orthogonal to ``mu``) of length equal to the
        geodesic distance ``arccos(<mu, x>)``; same dtype as ``X``.
    """
    mu = np.asarray(mu, dtype=np.float64)
    cos = cosines(X, mu, inv_norms=inv_norms)
    scale, _, near = _log_coefficients(cos)
    weights = scale if inv_norms is None else scale * inv_norms
    V = X * weights[:, None].astype(X.dtype)
    V -= (scale * cos)[:, None].astype(X.dtype) * mu.astype(X.dtype)
    if near.any():
        rows = X[near] if inv_norms is None else X[near] * inv_norms[near, None]
        V[near] = _log_explicit(rows.astype(X.dtype, copy=False), mu)
    return V


def log_second_moments(X, mu, *, inv_norms=None, rows=None, cos=None, chunk_rows=8192):
    """Sums ``sum_n v_n v_n^T`` and ``sum_n v_n`` of the tangent vectors ``v_n = Log_mu(x_n)``.

    Streams over blocks of the selected rows. Written as ``v = w r - p mu``
    (raw row ``r``, ``w = s a``, ``p = s c``, see :func:`log_map`), the Gram
    matrix is that of the scaled rows ``w r`` plus rank-one corrections along
    ``mu``, applied once at the end, which avoids forming the tangent
    vectors. The scaled rows keep their component along ``mu``, so their Gram
    matrix carries rounding of that size; in a block where it would matter
    (points within a small angle of ``mu`` in float32, or rows near the
    antipode) the tangent vectors are formed explicitly instead.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Unit-norm rows, or rows to be scaled by ``inv_norms``.
    mu : ndarray of shape (n_features,)
        Unit-norm base point.
    inv_norms : ndarray of shape (n_samples,), default=None
        Reciprocal row norms of ``X``; ``None`` when the rows are unit norm.
    rows : ndarray of int, default=None
        Indices of the rows to use (all rows when ``None``).
    cos : ndarray of shape (n_samples,), default=None
        ``<mu, x>`` for every row of ``X``, as returned by :func:`cosines`
        (or by :func:`intrinsic_mean` with ``return_cosines=True``), which
        saves a pass over the data; computed when ``None``.
    chunk_rows : int, default=8192
        Rows per block.

    Returns
    -------
    gram : ndarray of shape (n_features, n_features)
        ``sum_n v_n v_n^T`` in float64.
    total : ndarray of shape (n_features,)
        ``sum_n v_n`` in float64.
    """
    mu = np.asarray(mu, dtype=np.float64)
    d = X.shape[1]
    rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows)
    contiguous = rows.size > 0 and rows[-1] - rows[0] == rows.size - 1
    explicit_gram, scaled_gram = np.zeros((d, d)), np.zeros((d, d))
    total, u = np.zeros(d), np.zeros(d)
    normal_sq = 0.0
    eps = np.finfo(X.dtype).eps
    # One block of scaled rows at a time, reused: memory stays at one block.
    buffer = np.empty((min(chunk_rows, rows.size), d), dtype=X.dtype)
    for start in range(0, rows.size, chunk_rows):
        block = rows[start : start + chunk_rows]
        if contiguous:
            block = slice(block[0], block[-1] + 1)
            B = X[block]
        else:
            # mode="clip" (a no-op: the indices are valid) writes straight into
            # the buffer; the default mode would go through a temporary copy.
            B = np.take(X, block, axis=0, out=buffer[: block.size], mode="clip")
        a = None if inv_norms is None else inv_norms[block]
        c = cosines(B, mu, inv_norms=a) if cos is None else cos[block]
        scale, theta, near = _log_coefficients(c)
        normal = scale * c
        spread = max(float(theta @ theta), np.finfo(np.float64).tiny)
        if near.any() or eps * float(normal @ normal) / spread > 1e-6:
            V = log_map(B, mu, inv_norms=a)
            explicit_gram += V.T @ V
            total += V.sum(axis=0, dtype=np.float64)
            continue
        weights = (scale if a is None else scale * a)[:, None].astype(X.dtype)
        W = np.multiply(B, weights, out=buffer[: B.shape[0]])
        scaled_gram += W.T @ W
        # One pass for both sum_n p_n w_n r_n and sum_n w_n r_n.
        sums = W.T @ np.column_stack([normal, np.ones_like(normal)]).astype(X.dtype)
        u += sums[:, 0]
        normal_sq += float(normal @ normal)
        total += sums[:, 1] - normal.sum() * mu
    scaled_gram -= np.outer(u, mu)
    scaled_gram -= np.outer(mu, u)
    scaled_gram += normal_sq * np.outer(mu, mu)
    return explicit_gram + scaled_gram, total


def exp_map(V, mu):
    """Riemannian exponential ``Exp_mu`` of each row of ``V``.

    Any component of ``V`` along ``mu`` is removed first, so the rows are
    treated as tangent vectors. ``Exp_mu(0) = mu``. The result is renormalised
    to cancel rounding.

    Parameters
    ----------
    V : ndarray of shape (n_samples, n_features)
        Tangent vectors at ``mu``.
    mu : ndarray of shape (n_features,)
        Unit-norm base point.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Unit-norm points on the sphere; same dtype as ``V``.
    """
    mu = np.asarray(mu, dtype=V.dtype)
    V = V - (V @ mu)[:, None] * mu
    r = np.sqrt(np.einsum("ij,ij->i", V, V))
    # sin(r) / r written with np.sinc, which is exact (1) at r = 0.
    X = np.cos(r)[:, None] * mu + np.sinc(r / np.pi)[:, None] * V
    return normalize_rows(X)


def mean_log(X, mu, *, inv_norms=None, cos_out=None, chunk_rows=CHUNK_ROWS):
    """Mean of ``Log_mu(x)`` over the rows of ``X``, with the Fréchet function.

    Streams over blocks of rows without materialising the tangent vectors or
    a normalised copy of ``X``: for a raw row ``r`` with reciprocal norm
    ``a``, ``x = a r``, ``c = <mu, x>`` and ``s = theta / sin(theta)``,

        Log_mu(x) = s (x - c mu) = (s a) r - (s c) mu,

    so a block ``B`` contributes ``B^T (s a) - (s . c) mu``: two
    matrix-vector products in the dtype of ``X`` per block, accumulated in
    float64. The result is projected onto the tangent space at ``mu``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows on the sphere, or rows to be scaled by ``inv_norms``.
    mu : ndarray of shape (n_features,)
        Unit-norm base point.
    inv_norms : ndarray of shape (n_samples,), default=None
        Reciprocal row norms of ``X``; ``None`` when the rows are unit norm.
    cos_out : ndarray of shape (n_samples,), default=None
        If given, filled with ``<mu, x>`` for every row (float64), the
        cosines computed on the way (see :func:`cosines`).
    chunk_rows : int
        Rows per block.

    Returns
    -------
    g : ndarray of shape (n_features,)
        Mean tangent vector at ``mu``, the negative Riemannian gradient of the
        Fréchet function below (float64).
    variance : float
        Fréchet function ``mean_n theta_n^2 / 2``, with ``theta_n`` the
        geodesic distance from ``mu`` to ``x_n``.
    curvature : float
        Mean eigenvalue of the Riemannian Hessian of the Fréchet function at
        ``mu``. The Hessian of ``d(mu, x)^2 / 2`` has eigenvalue 1 along the
        geodesic to ``x`` and ``theta cot(theta)`` across it, so the mean is
        ``(1 + (d - 2) mean_n theta_n cot(theta_n)) / (d - 1)`` over the
        ``d - 1`` tangent directions; ``theta cot(theta) = s c`` comes with
        the other sums. Rows at the antipode, where the Hessian is not
        defined, count as 0.
    """
    mu = np.asarray(mu, dtype=np.float64)
    total = np.zeros_like(mu)
    sum_sq = sum_sc = 0.0
    for start in range(0, X.shape[0], chunk_rows):
        B = X[start : start + chunk_rows]
        a = None if inv_norms is None else inv_norms[start : start + chunk_rows]
        cos = cosines(B, mu, inv_norms=a)
        if cos_out is not None:
            cos_out[start : start + chunk_rows] = cos
        scale, theta, near = _log_coefficients(cos)
        if near.any():
            rows = B[near] if a is None else B[near] * a[near, None]
            V = _log_explicit(rows.astype(np.float64), mu)
            total += V.sum(axis=0)
            sum_sq += float(np.sum(V * V))
            scale[near] = theta[near] = 0
        sum_sq += float(theta @ theta)
        sum_sc += float(scale @ cos)
        weights = scale if a is None else scale * a
        total += B.T @ weights.astype(X.dtype)
    total -= sum_sc * mu
    total -= (total @ mu) * mu
    n, d = X.shape
    curvature = (1 + (d - 2) * sum_sc / n) / max(d - 1, 1)
    return total / n, sum_sq / (2 * n), curvature


def extrinsic_mean(X, *, inv_norms=None):
    """Euclidean mean of the rows of ``X`` scaled by ``inv_norms`` (float64)."""
    total = np.zeros(X.shape[1])
    for start in range(0, X.shape[0], CHUNK_ROWS):
        B = X[start : start + CHUNK_ROWS]
        if inv_norms is None:
            total += B.sum(axis=0, dtype=np.float64)
        else:
            total += B.T @ inv_norms[start : start + CHUNK_ROWS].astype(X.dtype)
    return total / X.shape[0]


def _newton_step(curvature):
    """Step length ``1 / h`` for the mean Hessian eigenvalue ``h``, within [0.1, 10].

    The unit step, the classical fixed-point iteration, where ``h <= 0``
    (points spread beyond the equator of ``mu``).
    """
    return float(np.clip(1 / curvature, 0.1, 10)) if curvature > 0 else 1.0


def intrinsic_mean(X, *, tol=1e-7, max_iter=100, inv_norms=None, return_cosines=False):
    """Intrinsic (Karcher / Fréchet) mean of points on the sphere.

    Riemannian gradient descent on the Fréchet function
    ``F(mu) = mean_n d(mu, x_n)^2 / 2``, started at the normalised Euclidean
    mean (which does not depend on the row order):

        mu <- Exp_mu( t * mean_n Log_mu(x_n) ).

    The first step has length ``t = 1 / h``, with ``h`` the mean eigenvalue
    of the Hessian of ``F`` (see :func:`mean_log`): a Newton step when the
    points spread alike in all directions. ``t = 1``, the classical
    fixed-point iteration, would be one for points close together, but
    undershoots for spread-out ones such as CLIP embeddings (``h`` about
    0.75). Later steps take the Barzilai-Borwein length from the last two
    gradients, which adapts to the actual Hessian. A step that would increase
    ``F`` is halved instead (this only happens for widely spread points).
    Iterations stop when the gradient ``||mean_n Log_mu(x_n)||`` is at most
    ``tol``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Points (rows), unit norm or normalised through ``inv_norms``.
    tol : float, default=1e-7
        Stop when the gradient norm (radians) falls to ``tol`` or below.
    max_iter : int, default=100
        Maximum number of gradient evaluations.
    inv_norms : ndarray of shape (n_samples,), default=None
        Reciprocal row norms, see :func:`mean_log`.
    return_cosines : bool, default=False
        Also return ``<mu, x>`` for every row at the returned ``mu``, which
        the last iteration computed anyway (see :func:`log_second_moments`).

    Returns
    -------
    mu : ndarray of shape (n_features,)
        The mean, float64, unit norm.
    center : ndarray of shape (n_features,)
        ``mean_n Log_mu(x_n)`` at the returned ``mu`` (norm ``<= tol`` on
        convergence).
    n_iter : int
        Number of gradient evaluations (>= 1).
    converged : bool
        Whether the gradient fell to ``tol`` within ``max_iter`` evaluations.
    cos : ndarray of shape (n_samples,)
        Only with ``return_cosines=True``: ``<mu, x>`` for every row (float64).

    Raises
    ------
    ValueError
        If the Euclidean mean of the points is zero, where the intrinsic mean
        is not determined (e.g. points spread symmetrically over the sphere).
    """
    extrinsic = extrinsic_mean(X, inv_norms=inv_norms)
    norm = np.linalg.norm(extrinsic)
    if not norm > 1e-12:
        raise ValueError(
            "The Euclidean mean of the normalised rows is zero, so the points are "
            "spread symmetrically over the sphere and their intrinsic mean is not "
            "determined. Use geometry='euclidean', or check the data: CLIP "
            "embeddings always lie in a narrow cone."
        )
    mu = extrinsic / norm
    # The cosines at mu and at the candidate; they swap when a step is taken.
    cos = candidate_cos = None
    if return_cosines:
        cos, candidate_cos = np.empty(X.shape[0]), np.empty(X.shape[0])
    center, variance, curvature = mean_log(X, mu, inv_norms=inv_norms, cos_out=cos)
    # Changes of F below this are rounding noise of the dtype, not increases.
    slack = 16 * np.finfo(X.dtype).eps
    step = _newton_step(curvature)
    converged = False
    for n_iter in range(1, max_iter + 1):
        if np.linalg.norm(center) <= tol:
            converged = True
            break
        if n_iter == max_iter:
            break
        candidate = exp_map(step * center[None, :], mu)[0]
        new_center, new_variance, curvature = mean_log(
            X, candidate, inv_norms=inv_norms, cos_out=candidate_cos
        )
        if new_variance <= variance * (1 + slack):
            # Barzilai-Borwein step length from the last step s = step * g and
            # the change of gradient, -(g_new - g) (tangent spaces at nearby
            # points identified, which is accurate for the short steps taken
            # near the mean), or the Newton step of the mean curvature when the
            # gradients give no positive curvature.
            change = center - new_center
            secant = step * (center @ change)
            if secant > 0:
                step = float(np.clip(step**2 * (center @ center) / secant, 0.1, 10))
            else:
                step = _newton_step(curvature)
            mu, center, variance = candidate, new_center, new_variance
            cos, candidate_cos = candidate_cos, cos
        else:
            step /= 2
    if return_cosines:
        return mu, center, n_iter, converged, cos
    return mu, center, n_iter, converged
