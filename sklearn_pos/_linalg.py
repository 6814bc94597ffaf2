"""Dense linear algebra of the fit: the eigensolvers and symmetric updates.

Kept apart from the estimators, as scikit-learn keeps its solvers in
``sklearn.utils.extmath``: the hand-written LAPACK route for the top
eigenpairs (:func:`eigh_divide_and_conquer`), the choice between it and
LAPACK's subset solver (:func:`eigh_top`), the tangent-space eigenproblem
(:func:`top_eigenvectors`), the per-category contrast problems solved side by
side (:func:`contrastive_subspaces`), and the symmetric rank-two update and
block size of the Gram passes shared with :mod:`sklearn_pos._sphere`.
"""

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import cpu_count
from scipy import linalg
from sklearn.utils.extmath import svd_flip
from threadpoolctl import ThreadpoolController

from ._array_api import namespace

#: Rows per block of the Gram matrices of the fit (the tangent vectors'
#: second moments in :func:`sklearn_pos._sphere.log_second_moments`, the
#: Euclidean covariances): BLAS's symmetric product reaches the speed of one
#: product over all rows at about 16,384 rows, where 8,192 take 10-20% longer
#: (d = 512 to 1024, ``python benchmarks/bench_fit.py``).
GRAM_CHUNK_ROWS = 16_384


def subtract_symmetric(G, a, b):
    """``G - (a b^T + b a^T)`` for a square ``G`` and vectors ``a``, ``b``.

    In place for NumPy (one product with two columns, one temporary); a new
    array in other namespaces.
    """
    xp, is_numpy = namespace(G)
    if is_numpy:
        G -= np.stack([a, b], axis=1) @ np.stack([b, a])
        return G
    return G - (a[:, None] * b[None, :] + b[:, None] * a[None, :])


#: Largest k / d for which LAPACK's subset solver (``evr``) is used rather than
#: the divide-and-conquer route of :func:`eigh_divide_and_conquer`. The two
#: cost the same at k / d = 0.1 (d = 512) to 0.15 (d = 768 and 1024), in
#: float32 and float64 alike (``python benchmarks/bench_fit.py --eigensolvers``).
SUBSET_MAX_FRACTION = 0.1


def _lapack_check(info, routine):
    if info != 0:
        raise np.linalg.LinAlgError(
            f"LAPACK's {routine} failed (info={info}) on a category's contrast "
            "matrix; check that the embeddings are finite and not all identical."
        )


def eigh_divide_and_conquer(M, k, overwrite=False):
    """The ``k`` largest eigenpairs of symmetric ``M`` by divide and conquer.

    The steps of LAPACK's ``syevd`` taken one by one: reduction to tridiagonal
    form (``sytrd``), every eigenpair of the tridiagonal matrix (``stevd``),
    then the reflectors of the reduction applied to the ``k`` wanted vectors
    only (``ormqr``, as ``ormtr`` does), where ``syevd`` applies them to all
    ``d``. Faster than ``scipy.linalg.eigh(driver="evd")`` at every k, by
    about a third for k = d / 2
    (``python benchmarks/bench_fit.py --eigensolvers``). scipy exposes
    ``stevd`` from release 1.16; with older releases this is ``syevd``.
    ``M`` is overwritten when ``overwrite`` is true.
    """
    d = M.shape[0]
    try:
        routines = linalg.get_lapack_funcs(
            ("sytrd", "sytrd_lwork", "stevd", "ormqr"), (M,)
        )
    except ValueError:  # scipy < 1.16
        routines = None
    if d == 1:  # its own eigenproblem (scipy 1.10's evd asks too little work)
        return M[0].copy(), np.ones((1, 1), dtype=M.dtype)
    if routines is None:
        values, vectors = linalg.eigh(
            M, driver="evd", overwrite_a=overwrite, check_finite=False
        )
        return values[d - k :], vectors[:, d - k :]
    sytrd, sytrd_lwork, stevd, ormqr = routines
    lwork, info = sytrd_lwork(d, lower=1)
    _lapack_check(info, "sytrd_lwork")
    # M is symmetric: its transpose is the same matrix in Fortran order.
    reflectors, diagonal, offdiagonal, tau, info = sytrd(
        M.T, lower=1, lwork=int(lwork), overwrite_a=overwrite
    )
    _lapack_check(info, "sytrd")
    values, Z, info = stevd(
        diagonal, offdiagonal, compute_v=1, overwrite_d=1, overwrite_e=1
    )
    _lapack_check(info, "stevd")
    # With lower=1, Q = H(1) ... H(d-1) acts on rows 2..d, its reflectors held
    # below the subdiagonal: the first row of the vectors is left as it is.
    vectors = np.empty((d, k), dtype=M.dtype, order="F")
    vectors[0] = Z[0, d - k :]
    rest = np.asfortranarray(Z[1:, d - k :])
    reflectors = reflectors[1:, : d - 1]
    work, info = ormqr("L", "N", reflectors, tau, rest, -1)[1:]
    _lapack_check(info, "ormqr")
    vectors[1:], _, info = ormqr(
        "L", "N", reflectors, tau, rest, int(work[0]), overwrite_c=1
    )
    _lapack_check(info, "ormqr")
    return values[d - k :], vectors


def eigh_top(M, k, overwrite=False):
    """The ``k`` largest eigenpairs of symmetric ``M``, in ascending order.

    Solved in the dtype of ``M``, which is overwritten when ``overwrite`` is
    true.
    """
    d = M.shape[0]
    if k <= SUBSET_MAX_FRACTION * d:
        return linalg.eigh(
            M,
            subset_by_index=[d - k, d - 1],
            driver="evr",
            overwrite_a=overwrite,
            check_finite=False,
        )
    return eigh_divide_and_conquer(M, k, overwrite)


def top_eigenvectors(M, k, normal=None, dtype=np.float64, overwrite=False):
    """The ``k`` largest eigenpairs of symmetric ``M``, largest first.

    With ``normal`` (a unit vector), the problem is solved in its orthogonal
    complement, the tangent space of the sphere at ``normal``: ``normal``
    itself, along which no tangent vector varies, comes last, with eigenvalue
    0, and only when all ``d`` directions are asked for.

    The eigensolver runs in ``dtype``, the dtype of the data: float32 data get
    a float32 solve, as in scikit-learn's PCA, in half the time of a float64
    one. Both results are returned in ``dtype``. ``M`` (float64) is
    overwritten when ``overwrite`` is true, and left as it is otherwise.

    Signs are fixed so that the largest-magnitude entry of each eigenvector is
    positive, which makes the result independent of the LAPACK path taken:
    scikit-learn's ``svd_flip`` convention on the columns of ``u``, here the
    eigenvectors as columns.
    """
    d = M.shape[0]
    n_solved = k
    if not overwrite:
        M = M.copy()
    if normal is not None:
        # With P = I - n n^T, the tangent problem is P M P on the complement of
        # n, and n is an eigenvector of P M P with eigenvalue 0, which may lie
        # among the wanted ones (M is indefinite). Adding sigma n n^T with sigma
        # below the spectrum (-2 ||M||_inf, as ||M||_2 <= ||M||_inf) moves it to
        # the bottom, so the top d - 1 eigenpairs of
        #     P M P + sigma n n^T = M - n b^T - b n^T,
        #     b = M n - (n^T M n + sigma) / 2 n,
        # are those of the tangent space. One rank-two update, no change of basis.
        normal = np.asarray(normal, dtype=np.float64)
        Mn = M @ normal
        sigma = -2.0 * float(np.max(np.sum(np.abs(M), axis=1))) or -1.0
        b = Mn - 0.5 * (float(normal @ Mn) + sigma) * normal
        M = subtract_symmetric(M, b, normal)
        n_solved = min(k, d - 1)
    values = np.zeros(0, dtype=dtype)
    vectors = np.zeros((0, d), dtype=dtype)
    if n_solved:
        values, vectors = eigh_top(
            M.astype(dtype, copy=False), n_solved, overwrite=True
        )
        values, vectors = values[::-1], np.ascontiguousarray(vectors[:, ::-1].T)
    if normal is not None:
        # Rounding leaves a component along normal of the order of the
        # precision of dtype; remove it and renormalise.
        n = normal.astype(dtype, copy=False)
        vectors -= (vectors @ n)[:, None] * n
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        if k == d:
            values = np.append(values, np.zeros(1, dtype=dtype))
            vectors = np.vstack([vectors, n[None, :]])
    # svd_flip flips the columns of its first argument in place: the transposed
    # view of the rows, so that ``vectors`` itself comes out flipped.
    svd_flip(vectors.T, None, u_based_decision=True)
    return values, vectors


@functools.cache
def blas_controller():
    """One controller of the loaded BLAS libraries, made at the first fit.

    Finding the libraries takes milliseconds (more with torch loaded), a cost
    paid once rather than at every fit; scipy's and numpy's BLAS, the ones
    limited, are loaded with this module.
    """
    return ThreadpoolController()


def contrastive_subspaces(covariances, lam, k, normal=None, dtype=np.float64):
    """The top ``k`` eigenpairs of every category's contrast matrix.

    ``covariances`` (n_classes x d x d, float64) are the categories' second
    moments ``C_i``; category ``i``'s subspace holds the top eigenvectors of
    ``M_i = (1 - lam) C_i - lam * sum_{j != i} C_j = C_i - lam * sum_j C_j``,
    found by :func:`top_eigenvectors` (in the complement of ``normal`` when
    it is given). ``covariances`` is overwritten with the ``M_i``.

    Returns the eigenvalues (n_classes x k) and the eigenvectors as rows
    (n_classes x k x d), largest first, in ``dtype``.
    """
    contrast = lam * covariances.sum(axis=0)

    # scipy's LAPACK runs on its own copy of OpenBLAS, whose threads would
    # compete for the cores with numpy's, still spinning after the products
    # that made the covariances; one thread solves these d x d problems faster
    # than that. The problems are independent, so they are solved side by side,
    # one thread each. scipy's LAPACK wrappers hold the GIL, but the numpy work
    # between those calls releases it, so the solves overlap only in part:
    # about 15% off four 1024 x 1024 problems on two cores.
    def solve(C):
        C -= contrast
        return top_eigenvectors(C, k, normal, dtype, overwrite=True)

    n_threads = min(len(covariances), cpu_count())
    with blas_controller().limit(limits=1, user_api="blas"):
        if n_threads > 1:
            with ThreadPoolExecutor(max_workers=n_threads) as pool:
                pairs = list(pool.map(solve, covariances))
        else:
            pairs = [solve(C) for C in covariances]
    values = np.stack([values for values, _ in pairs])
    vectors = np.stack([vectors for _, vectors in pairs])
    return values, vectors
