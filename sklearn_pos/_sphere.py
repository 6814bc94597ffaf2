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

Every function takes NumPy arrays, or under scikit-learn's
``array_api_dispatch`` arrays of any Array API namespace (PyTorch, CuPy, ...),
and computes in the namespace and on the device of its array arguments (see
``sklearn_pos._array_api``). Base points and cosines passed in must then be of
that namespace too. For NumPy, the code runs NumPy's own functions, with
buffers reused in place where that saves memory.
"""

import numpy as np

from . import _linalg
from ._array_api import device_of, namespace, to_numpy

#: Bytes of rows processed at once by the streaming reductions below: small
#: enough for a block to stay in cache and to keep float32 partial sums
#: accurate, large enough to amortise the Python overhead (2,048 rows of width
#: 512 in float32, 1,024 of width 1024).
CHUNK_BYTES = 4 * 2**20


def block_rows(X):
    """Rows per block of the streaming reductions over ``X``: see :data:`CHUNK_BYTES`.

    All rows at once outside NumPy, the fewest operations for an accelerator.
    """
    _, is_numpy = namespace(X)
    if not is_numpy:
        return max(X.shape[0], 1)
    row_bytes = max(X.shape[1], 1) * X.dtype.itemsize
    return max(256, CHUNK_BYTES // row_bytes)


def _finfo(xp, is_numpy, dtype):
    """Floating-point limits of ``dtype``: NumPy's scalars for NumPy arrays."""
    return np.finfo(dtype) if is_numpy else xp.finfo(dtype)


def _row_dots(X, Y, xp, is_numpy):
    """``sum_j X[i, j] Y[i, j]`` for every row ``i``."""
    if is_numpy:
        return np.einsum("ij,ij->i", X, Y)
    return xp.sum(X * Y, axis=1)


def _vector_norm(v, xp, is_numpy):
    """Euclidean norm of a vector, as a Python float."""
    return float(np.linalg.norm(v) if is_numpy else xp.linalg.vector_norm(v))


def _as_vector(mu, xp, like, dtype):
    """The base point ``mu`` in the namespace, on the device and of ``dtype``."""
    mu = xp.asarray(mu, device=device_of(like))
    return xp.astype(mu, dtype, copy=False)


def _take_rows(A, block, xp, is_numpy):
    """``A[block]`` for a slice or an index array of ``block``'s namespace."""
    if isinstance(block, slice) or is_numpy:
        return A[block]
    return xp.take(A, block, axis=0)


def row_norms(X):
    """L2 norms of the rows of ``X`` as float64, correct at any scale.

    The squares are summed in the dtype of ``X`` (one fast pass); rows whose
    sum of squares underflows or overflows that dtype (a row scaled by 1e-300,
    or by 1e200) are measured again after division by their largest entry,
    so only an all-zero row has norm 0 and only a row with NaN or infinite
    values a non-finite norm.
    """
    xp, is_numpy = namespace(X)
    norms = xp.sqrt(xp.astype(_row_dots(X, X, xp, is_numpy), xp.float64))
    info = _finfo(xp, is_numpy, X.dtype)
    # Below this, the sum of squares is subnormal: imprecise, or zero.
    small = float(np.sqrt(info.smallest_normal / info.eps))
    redo = ~(norms >= small) | ~xp.isfinite(norms)
    if not bool(xp.any(redo)):
        return norms
    # NumPy: only the rows to redo; other namespaces, which cannot assign to
    # selected rows, redo all rows and keep the new norms where needed.
    redo_rows = np.flatnonzero(redo) if is_numpy else slice(None)
    rows = xp.astype(X[redo_rows, ...], xp.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if rows.shape[1]:
            peak = xp.max(xp.abs(rows), axis=1)
        else:
            peak = xp.zeros(rows.shape[0], dtype=xp.float64, device=device_of(X))
        scaled = rows / xp.where(peak > 0, peak, 1.0)[:, None]
        redone = peak * xp.sqrt(_row_dots(scaled, scaled, xp, is_numpy))
    if is_numpy:
        norms[redo_rows] = redone
        return norms
    return xp.where(redo, redone, norms)


def norms_and_mean(X):
    """Row norms of ``X`` (as :func:`row_norms`) and the mean of its rows scaled to unit norm.

    One pass over ``X`` for both: each block of rows is scaled by its
    reciprocal norms while it is in cache, as in :func:`extrinsic_mean`. The
    mean (float64) is not finite when a row has zero or non-finite norm: check
    the norms before using it.
    """
    xp, is_numpy = namespace(X)
    n = X.shape[0]
    step = block_rows(X)
    if n <= step:
        norms = row_norms(X)
        with np.errstate(divide="ignore"):
            return norms, _scaled_row_sum(X, 1.0 / norms) / max(n, 1)
    norms = np.empty(n)  # NumPy: every other namespace takes one block
    total = np.zeros(X.shape[1])
    for start in range(0, n, step):
        B = X[start : start + step]
        norms[start : start + step] = block = row_norms(B)
        with np.errstate(divide="ignore"):
            total += _scaled_row_sum(B, 1.0 / block)
    return norms, total / n


def _scaled_row_sum(B, scale):
    """``sum_n scale[n] B[n]`` in float64, the product in the dtype of ``B``."""
    xp, _ = namespace(B)
    with np.errstate(invalid="ignore", over="ignore"):
        return xp.astype(B.T @ xp.astype(scale, B.dtype), xp.float64)


def normalize_rows(X):
    """Return ``X`` with each row scaled to unit L2 norm (a new array).

    Rows of zero norm are left as zeros; callers validate them first (see
    :func:`sklearn_pos._validation.unit_rows`).
    """
    xp, _ = namespace(X)
    norms = row_norms(X)
    return divide_rows(X, xp.where(norms == 0, 1.0, norms))


def divide_rows(X, norms):
    """``X / norms[:, None]`` in the dtype of ``X``."""
    xp, is_numpy = namespace(X)
    tiny = _finfo(xp, is_numpy, X.dtype).smallest_normal
    if X.dtype == xp.float64 or bool(xp.all(norms >= tiny)):
        return X / xp.astype(norms[:, None], X.dtype, copy=False)
    # A tiny row's norm is not representable in the narrower dtype.
    return xp.astype(X / norms[:, None], X.dtype, copy=False)


def antipodal_direction(mu):
    """Unit tangent vector at ``mu`` used for the logarithm of ``-mu``.

    It is the projection onto the tangent space of the canonical basis vector
    along which ``mu`` has its smallest absolute coordinate (the best
    conditioned choice), normalised. Deterministic for a given ``mu``.
    """
    xp, is_numpy = namespace(mu)
    mu = xp.asarray(mu)
    e = xp.zeros_like(mu)
    if mu.shape[0] == 1:
        # S^0 has a zero-dimensional tangent space.
        return e
    e[int(xp.argmin(xp.abs(mu)))] = 1
    e = e - (e @ mu) * mu
    return e / _vector_norm(e, xp, is_numpy)


#: Below this ``sin(theta)``, on the far side of the sphere, the logarithm is
#: recomputed from the explicit vector ``x - c mu`` (see :func:`log_map`).
_NEAR_ANTIPODE = 1e-2


def _log_scale(cos, sin, dtype, xp, is_numpy):
    """Factor ``theta / sin(theta)`` of the log map, ``theta`` and the antipode mask.

    ``sin`` is ``||x - cos * mu||``. Below ``sqrt(eps)`` of ``dtype`` the
    direction of ``x - cos * mu`` is dominated by rounding: on the side of
    ``mu`` the factor tends to 1 and is harmless, on the side of ``-mu`` the
    point is flagged as antipodal (its logarithm has no usable direction).
    """
    theta = xp.atan2(sin, cos)
    zero = sin == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = xp.where(zero, 1.0, theta / xp.where(zero, 1.0, sin))
    antipode = (sin <= float(np.sqrt(_finfo(xp, is_numpy, dtype).eps))) & (cos < 0)
    return xp.astype(scale, cos.dtype, copy=False), theta, antipode


def cosines(X, mu, *, inv_norms=None):
    """Cosines ``<mu, x>`` of the rows ``x`` of ``X`` scaled by ``inv_norms``.

    One matrix-vector product in the dtype of ``X``; the result is float64,
    clipped to [-1, 1].
    """
    xp, is_numpy = namespace(X)
    cos = xp.astype(X @ _as_vector(mu, xp, X, X.dtype), xp.float64, copy=False)
    if inv_norms is not None:
        cos = cos * inv_norms
    if is_numpy:
        return np.clip(cos, -1.0, 1.0, out=cos)
    return xp.clip(cos, -1.0, 1.0)


def _log_coefficients(cos, xp, is_numpy):
    """Per-row ``s = theta / sin(theta)``, ``theta`` and the near-antipode mask.

    ``cos`` holds ``c = <mu, x>`` (float64) and ``sin(theta)`` is taken as
    ``sqrt(1 - c^2)``: accurate except close to the antipode, where rows are
    flagged in ``near`` for the explicit computation.
    """
    sin = xp.sqrt(1.0 - cos * cos)
    scale, theta, _ = _log_scale(cos, sin, xp.float64, xp, is_numpy)
    near = (sin < _NEAR_ANTIPODE) & (cos < 0)
    return scale, theta, near


def _log_explicit(X, mu):
    """Log map of unit rows from the explicit vectors ``x - c mu``.

    Accurate everywhere, including near the antipode; used for the few rows
    that :func:`_log_coefficients` flags.
    """
    xp, is_numpy = namespace(X)
    mu = _as_vector(mu, xp, X, X.dtype)
    cos = X @ mu
    V = X - cos[:, None] * mu
    sin = xp.sqrt(_row_dots(V, V, xp, is_numpy))
    scale, _, antipode = _log_scale(cos, sin, X.dtype, xp, is_numpy)
    V = V * scale[:, None]
    if bool(xp.any(antipode)):
        V = xp.where(antipode[:, None], np.pi * antipodal_direction(mu), V)
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
    xp, is_numpy = namespace(X)
    mu = _as_vector(mu, xp, X, xp.float64)
    cos = cosines(X, mu, inv_norms=inv_norms)
    scale, _, near = _log_coefficients(cos, xp, is_numpy)
    weights = scale if inv_norms is None else scale * inv_norms
    V = X * xp.astype(weights[:, None], X.dtype)
    V -= xp.astype((scale * cos)[:, None], X.dtype) * xp.astype(mu, X.dtype)
    if bool(xp.any(near)):
        # NumPy: only the near rows; other namespaces, which cannot assign to
        # selected rows, all rows, of which the near ones are kept.
        sel = near if is_numpy else slice(None)
        rows = (
            X[sel, ...] if inv_norms is None else X[sel, ...] * inv_norms[sel][:, None]
        )
        explicit = _log_explicit(xp.astype(rows, X.dtype, copy=False), mu)
        if is_numpy:
            V[near] = explicit
        else:
            V = xp.where(near[:, None], explicit, V)
    return V


def log_second_moments(
    X,
    mu,
    *,
    inv_norms=None,
    rows=None,
    cos=None,
    chunk_rows=None,
    buffer=None,
    return_stats=False,
):
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
    chunk_rows : int, default=None
        Rows per block; ``None`` for :data:`sklearn_pos._linalg.GRAM_CHUNK_ROWS`.
    buffer : ndarray, default=None
        Work space (NumPy) of the dtype of ``X`` and shape ``(m,
        n_features + 2)`` with ``m`` at least ``min(chunk_rows, len(rows))``,
        to reuse across calls; allocated when ``None``.
    return_stats : bool, default=False
        Also return the sums that :func:`mean_log` reduces to the gradient,
        the Fréchet function and the curvature (see :func:`frechet_summary`),
        which makes this pass an evaluation of the intrinsic mean's objective
        at ``mu`` as well.

    Returns
    -------
    gram : ndarray of shape (n_features, n_features)
        ``sum_n v_n v_n^T`` in float64.
    total : ndarray of shape (n_features,)
        ``sum_n v_n`` in float64.
    sum_sq : float
        Only with ``return_stats=True``: ``sum_n theta_n^2``.
    sum_sc : float
        Only with ``return_stats=True``: ``sum_n theta_n cot(theta_n)`` over
        the rows not at the antipode.
    """
    xp, is_numpy = namespace(X)
    on = device_of(X)
    mu = _as_vector(mu, xp, X, xp.float64)
    d = X.shape[1]
    # Row indices are bookkeeping on the host, whatever the namespace of X.
    rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows)
    chunk_rows = _linalg.GRAM_CHUNK_ROWS if chunk_rows is None else chunk_rows
    contiguous = rows.size > 0 and rows[-1] - rows[0] == rows.size - 1
    # Gram matrix of the scaled rows, and of the tangent vectors of the blocks
    # where those are formed; the corrections along mu at the end apply to the
    # former only and are linear, so both share one accumulator.
    gram = xp.zeros((d, d), dtype=xp.float64, device=on)
    total = xp.zeros(d, dtype=xp.float64, device=on)
    u = xp.zeros(d, dtype=xp.float64, device=on)
    normal_sq = 0.0
    eps = _finfo(xp, is_numpy, X.dtype).eps
    sum_sq = sum_sc = 0.0
    if is_numpy and buffer is None:
        # One block of scaled rows at a time, reused: memory stays at one block.
        # Two more columns hold p and 1, so that one symmetric product (BLAS
        # syrk) gives the Gram matrix and both sums in a single pass.
        buffer = np.empty((min(chunk_rows, rows.size), d + 2), dtype=X.dtype)
    for start in range(0, rows.size, chunk_rows):
        block = rows[start : start + chunk_rows]
        if contiguous:
            block = slice(int(block[0]), int(block[-1]) + 1)
            B = X[block, ...]
        elif is_numpy:
            # mode="clip" (a no-op: the indices are valid) writes straight into
            # the buffer; the default mode would go through a temporary copy.
            B = np.take(X, block, axis=0, out=buffer[: block.size, :d], mode="clip")
        else:
            block = xp.asarray(block, device=on)
            B = xp.take(X, block, axis=0)
        a = None if inv_norms is None else _take_rows(inv_norms, block, xp, is_numpy)
        c = (
            cosines(B, mu, inv_norms=a)
            if cos is None
            else _take_rows(cos, block, xp, is_numpy)
        )
        scale, theta, near = _log_coefficients(c, xp, is_numpy)
        normal = scale * c
        spread = max(float(theta @ theta), np.finfo(np.float64).tiny)
        if bool(xp.any(near)) or eps * float(normal @ normal) / spread > 1e-6:
            V = log_map(B, mu, inv_norms=a)
            gram += V.T @ V
            total += xp.sum(V, axis=0, dtype=xp.float64)
            sum_sq += float(xp.sum(V * V))
            sum_sc += float(xp.where(near, 0.0, scale) @ c)
            continue
        weights = xp.astype((scale if a is None else scale * a)[:, None], X.dtype)
        if is_numpy:
            n_block = B.shape[0]
            A = buffer[:n_block]
            np.multiply(B, weights, out=A[:, :d])
            A[:, d] = normal
            A[:, d + 1] = 1.0
            G = A.T @ A  # syrk: the Gram matrix, sum_n p_n w_n r_n, sum_n w_n r_n
            gram += G[:d, :d]
            sums = G[:d, d:]
        else:
            W = B * weights
            gram += W.T @ W
            # One pass for both sum_n p_n w_n r_n and sum_n w_n r_n.
            both = xp.stack([normal, xp.ones_like(normal)], axis=1)
            sums = W.T @ xp.astype(both, X.dtype)
        u += sums[:, 0]
        normal_sq += float(normal @ normal)
        normal_sum = float(xp.sum(normal))
        total += sums[:, 1] - normal_sum * mu
        sum_sq += float(theta @ theta)
        sum_sc += normal_sum
    # - u mu^T - mu u^T + normal_sq mu mu^T, as one symmetric rank-two update
    gram = _linalg.subtract_symmetric(gram, u - (normal_sq / 2) * mu, mu)
    if return_stats:
        return gram, total, sum_sq, sum_sc
    return gram, total


def frechet_summary(total, sum_sq, sum_sc, n, mu):
    """Gradient, Fréchet function and mean curvature at ``mu`` from sums over rows.

    ``total`` is ``sum_n Log_mu(x_n)``, ``sum_sq`` is ``sum_n theta_n^2`` and
    ``sum_sc`` is ``sum_n theta_n cot(theta_n)`` over the ``n`` rows (see
    :func:`mean_log` for the three results).
    """
    d = mu.shape[0]
    total = total - (total @ mu) * mu
    curvature = (1 + (d - 2) * sum_sc / n) / max(d - 1, 1)
    return total / n, sum_sq / (2 * n), curvature


def row_scales(X):
    """The largest absolute entry of each row of ``X``, 1 for an all-zero row.

    Dividing a row by it bounds its entries by 1, so that products and norms
    formed from it do not overflow (:func:`exp_map`'s ``scale``).
    """
    xp, _ = namespace(X)
    if X.shape[1] == 0:
        return xp.ones(X.shape[0], dtype=X.dtype, device=device_of(X))
    peak = xp.max(xp.abs(X), axis=1)
    return xp.where(peak > 0, peak, xp.ones_like(peak))


def exp_map(V, mu, *, scale=None):
    """Riemannian exponential ``Exp_mu`` of each row of ``V``.

    Any component of ``V`` along ``mu`` is removed first, so the rows are
    treated as tangent vectors. ``Exp_mu(0) = mu``. The result is renormalised
    to cancel rounding.

    ``Exp_mu(v) = cos(|v|) mu + sin(|v|) v / |v|`` is defined for every
    finite ``v``, however long: each row is divided by its largest entry
    before its length is formed, so that a row with entries near the largest
    float still gives a unit vector rather than NaN. A length that itself
    exceeds the float range raises a ``ValueError``.

    Parameters
    ----------
    V : ndarray of shape (n_samples, n_features)
        Tangent vectors at ``mu``, or those vectors divided by ``scale``.
    mu : ndarray of shape (n_features,)
        Unit-norm base point.
    scale : ndarray of shape (n_samples,), default=None
        Positive factor of each row: the tangent vectors are
        ``scale[:, None] * V``, which need not be representable themselves.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Unit-norm points on the sphere; same dtype as ``V``.
    """
    xp, is_numpy = namespace(V)
    mu = _as_vector(mu, xp, V, V.dtype)
    if scale is None:
        with np.errstate(over="ignore", invalid="ignore"):
            T = V - (V @ mu)[:, None] * mu
            r = xp.sqrt(_row_dots(T, T, xp, is_numpy))
        if bool(xp.all(xp.isfinite(r))):  # nothing overflowed: the direct form
            if is_numpy:
                # sin(r) / r written with np.sinc, which is exact (1) at r = 0.
                sinc = np.sinc(r / np.pi)
            else:
                zero = r == 0
                sinc = xp.where(zero, 1.0, xp.sin(r) / xp.where(zero, 1.0, r))
            return normalize_rows(xp.cos(r)[:, None] * mu + sinc[:, None] * T)
    peak = row_scales(V)
    U = V / peak[:, None]
    U = U - (U @ mu)[:, None] * mu
    length = xp.sqrt(_row_dots(U, U, xp, is_numpy))
    if scale is not None:
        peak = peak * xp.astype(xp.asarray(scale, device=device_of(V)), V.dtype)
    with np.errstate(over="ignore"):
        r = peak * length
    if not bool(xp.all(xp.isfinite(r))):
        bad = np.flatnonzero(~np.isfinite(to_numpy(r)))
        raise ValueError(
            f"{bad.size} tangent vector(s) (first at row {bad[0]}) hold NaN or "
            f"infinite values, or are longer than the largest {V.dtype} "
            "number, so the exponential map cannot place them on the sphere. "
            "Their inputs are far outside the range of embeddings (of the "
            "order of 1); rescale them."
        )
    direction = U / xp.where(length > 0, length, xp.ones_like(length))[:, None]
    X = xp.cos(r)[:, None] * mu + xp.sin(r)[:, None] * direction
    return normalize_rows(X)


def mean_log(X, mu, *, inv_norms=None, cos_out=None, chunk_rows=None):
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
    chunk_rows : int, default=None
        Rows per block (NumPy), ``None`` for :func:`block_rows`; other
        namespaces take all rows in one block.

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
    xp, is_numpy = namespace(X)
    mu = _as_vector(mu, xp, X, xp.float64)
    if chunk_rows is None or not is_numpy:
        chunk_rows = block_rows(X)
    total = xp.zeros_like(mu)
    sum_sq = sum_sc = 0.0
    for start in range(0, X.shape[0], chunk_rows):
        B = X[start : start + chunk_rows, ...]
        a = None if inv_norms is None else inv_norms[start : start + chunk_rows]
        cos = cosines(B, mu, inv_norms=a)
        if cos_out is not None:
            cos_out[start : start + chunk_rows] = cos
        scale, theta, near = _log_coefficients(cos, xp, is_numpy)
        if bool(xp.any(near)):
            rows = B[near] if a is None else B[near] * a[near][:, None]
            V = _log_explicit(xp.astype(rows, xp.float64), mu)
            total += xp.sum(V, axis=0)
            sum_sq += float(xp.sum(V * V))
            scale = xp.where(near, 0.0, scale)
            theta = xp.where(near, 0.0, theta)
        sum_sq += float(theta @ theta)
        sum_sc += float(scale @ cos)
        weights = scale if a is None else scale * a
        total += B.T @ xp.astype(weights, X.dtype)
    total -= sum_sc * mu
    return frechet_summary(total, sum_sq, sum_sc, X.shape[0], mu)


def extrinsic_mean(X, *, inv_norms=None):
    """Euclidean mean of the rows of ``X`` scaled by ``inv_norms`` (float64)."""
    xp, is_numpy = namespace(X)
    chunk_rows = block_rows(X)
    total = xp.zeros(X.shape[1], dtype=xp.float64, device=device_of(X))
    for start in range(0, X.shape[0], chunk_rows):
        B = X[start : start + chunk_rows, ...]
        if inv_norms is None:
            total += xp.sum(B, axis=0, dtype=xp.float64)
        else:
            total += _scaled_row_sum(B, inv_norms[start : start + chunk_rows])
    return total / X.shape[0]


def _newton_step(curvature):
    """Step length ``1 / h`` for the mean Hessian eigenvalue ``h``, within [0.1, 10].

    The unit step, the classical fixed-point iteration, where ``h <= 0``
    (points spread beyond the equator of ``mu``).
    """
    return float(np.clip(1 / curvature, 0.1, 10)) if curvature > 0 else 1.0


def intrinsic_mean(
    X,
    *,
    tol=1e-7,
    max_iter=100,
    inv_norms=None,
    extrinsic=None,
    return_cosines=False,
    evaluate=None,
):
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
    extrinsic : ndarray of shape (n_features,), default=None
        The Euclidean mean of the normalised rows, where the starting point
        has been computed already (e.g. by :func:`norms_and_mean`); computed
        when ``None``.
    return_cosines : bool, default=False
        Also return ``<mu, x>`` for every row at the returned ``mu``, which
        the last iteration computed anyway (see :func:`log_second_moments`).
    evaluate : callable, default=None
        ``evaluate(candidate) -> (center, variance, curvature)``, the results
        of :func:`mean_log` at ``candidate``, computed by the caller together
        with work it needs at the mean anyway (e.g. the second moments of
        :func:`log_second_moments` with ``return_stats=True``). It replaces
        the pass of :func:`mean_log` at a candidate expected to be the last:
        when the gradient norms at the last two points, extrapolated at their
        rate, fall to ``tol`` or below. Convergence is still decided on the
        gradient ``evaluate`` returns; when it is not reached, the iterations
        go on with :func:`mean_log` (``evaluate`` is called at most once).

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
    cos : ndarray of shape (n_samples,) or None
        Only with ``return_cosines=True``: ``<mu, x>`` for every row (float64);
        ``None`` when ``mu`` was evaluated by ``evaluate``, whose results then
        belong to the returned ``mu``.

    Raises
    ------
    ValueError
        If the Euclidean mean of the points is zero, where the intrinsic mean
        is not determined (e.g. points spread symmetrically over the sphere).
    """
    xp, is_numpy = namespace(X)
    if extrinsic is None:
        extrinsic = extrinsic_mean(X, inv_norms=inv_norms)
    norm = _vector_norm(extrinsic, xp, is_numpy)
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
        cos, candidate_cos = (
            xp.empty(X.shape[0], dtype=xp.float64, device=device_of(X))
            for _ in range(2)
        )
    center, variance, curvature = mean_log(X, mu, inv_norms=inv_norms, cos_out=cos)
    # Changes of F below this are rounding noise of the dtype, not increases.
    slack = 16 * _finfo(xp, is_numpy, X.dtype).eps
    step = _newton_step(curvature)
    converged = False
    # Gradient norm at the previous accepted point (None: no rate to go by).
    previous = None
    # Whether ``cos`` holds the cosines at mu (not after an ``evaluate``).
    cos_at_mu = True
    for n_iter in range(1, max_iter + 1):
        norm = _vector_norm(center, xp, is_numpy)
        if norm <= tol:
            converged = True
            break
        if n_iter == max_iter:
            break
        candidate = exp_map(step * center[None, :], mu)[0, ...]
        last = (
            evaluate is not None and previous is not None and norm**2 <= tol * previous
        )
        if last:
            evaluate, evaluated = None, evaluate  # once: its pass is costly
            new_center, new_variance, new_curvature = evaluated(candidate)
        else:
            new_center, new_variance, new_curvature = mean_log(
                X, candidate, inv_norms=inv_norms, cos_out=candidate_cos
            )
        if new_variance <= variance * (1 + slack):
            # Barzilai-Borwein step length from the last step s = step * g and
            # the change of gradient, -(g_new - g) (tangent spaces at nearby
            # points identified, which is accurate for the short steps taken
            # near the mean), or the Newton step of the mean curvature when the
            # gradients give no positive curvature.
            change = center - new_center
            secant = step * float(center @ change)
            if secant > 0:
                step = step**2 * float(center @ center) / secant
                step = float(np.clip(step, 0.1, 10))
            else:
                step = _newton_step(new_curvature)
            previous = norm
            mu, center, variance = candidate, new_center, new_variance
            cos_at_mu = not last
            if cos_at_mu:
                cos, candidate_cos = candidate_cos, cos
        else:
            step /= 2
            previous = None  # no extrapolation across a rejected step
    if return_cosines:
        return mu, center, n_iter, converged, cos if cos_at_mu else None
    return mu, center, n_iter, converged
