"""Array namespaces: NumPy by default, any Array API library under dispatch.

With ``sklearn.config_context(array_api_dispatch=True)``, the estimators that
declare ``array_api_support`` take PyTorch tensors, CuPy arrays or any other
Array API array and compute in that namespace, on the array's device. These
helpers find the namespace of the inputs and move the few small arrays that
must cross between namespaces (labels, fitted attributes, d x d matrices for
LAPACK).

For NumPy input, :func:`namespace` returns ``array_api_compat``'s NumPy
namespace, whose functions are NumPy's own (``xp.sqrt is np.sqrt``), so code
written against it gives the same bits as plain NumPy code.
"""

import numpy as np

from ._compat import (
    _convert_to_numpy,
    _is_numpy_namespace,
    array_api_compat,
    device,
    get_namespace,
)

__all__ = ["device_of", "namespace", "to_namespace", "to_numpy"]

#: The Array API view of NumPy: NumPy's functions under the standard's names.
NUMPY = array_api_compat.numpy


def namespace(*arrays):
    """``(xp, is_numpy)`` for the arrays: NumPy unless dispatch gives another.

    Without ``array_api_dispatch`` (or for NumPy arrays) ``xp`` is
    :data:`NUMPY` and ``is_numpy`` is True. ``None`` entries are ignored.
    """
    arrays = [a for a in arrays if _is_array(a) and not isinstance(a, np.ndarray)]
    if not arrays:
        return NUMPY, True
    xp, is_array_api = get_namespace(*arrays)
    if not is_array_api or _is_numpy_namespace(xp):
        return NUMPY, True
    return xp, False


def device_of(array):
    """Device of ``array`` (``"cpu"`` for NumPy)."""
    if isinstance(array, np.ndarray):
        return "cpu"
    return device(array)


def _own_namespace(array):
    """The namespace an array belongs to, whatever the dispatch setting."""
    if isinstance(array, np.ndarray):
        return NUMPY
    return array_api_compat.array_namespace(array)


def to_numpy(array):
    """``array`` as a NumPy array (copied to the host from any device).

    Anything that is not an Array API array (a list, a DataFrame, a sparse
    matrix, ``None``) is returned unchanged, for the usual input validation.
    """
    if isinstance(array, np.ndarray) or not _is_array(array):
        return array
    return _convert_to_numpy(array, _own_namespace(array))


def _is_array(obj):
    """Whether ``obj`` is an array of an Array API namespace (NumPy included)."""
    if obj is None or type(obj).__module__.startswith("scipy.sparse"):
        return False
    return array_api_compat.is_array_api_obj(obj)


def to_namespace(array, xp, device=None):
    """``array`` in namespace ``xp`` on ``device``; unchanged if already there.

    NumPy arrays stay as they are for the NumPy namespace. Arrays of another
    namespace go through the host (a copy of a small fitted attribute).
    """
    if _is_numpy_namespace(xp):
        return to_numpy(array)
    if isinstance(array, np.ndarray):
        return xp.asarray(array, device=device)
    if _own_namespace(array).__name__ != xp.__name__:
        return xp.asarray(to_numpy(array), device=device)
    if device is not None and device_of(array) != device:
        return array_api_compat.to_device(array, device)
    return array
