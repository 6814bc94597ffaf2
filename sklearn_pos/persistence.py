"""Fitted subspaces saved as arrays and JSON: a file that cannot run code.

A fitted :class:`~sklearn_pos.PartOfSpeechComponentAnalysis` is a few arrays
(the base point, every category's basis and eigenvalues, the class counts)
and a few labels and numbers. :func:`save_subspaces` writes them to one
NumPy ``.npz`` archive: each array as a plain ``.npy`` member, and one
member ``__metadata__`` holding UTF-8 JSON (format version, estimator class
and parameters, the class labels, the dtype, the library version, the
SHA-256 of every array, and the caller's own metadata). :func:`load_subspaces`
reads it with ``numpy.load(allow_pickle=False)``, so no byte of the file is
ever executed, checks every digest and shape, and rebuilds the estimator.

Pickle and joblib files can run arbitrary code when loaded: load them only
from sources you trust. :func:`load_subspaces` recognises them and refuses
them without unpickling anything.
"""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from ._io import atomic_write
from ._labels import plain_label

__all__ = ["load_subspaces", "save_subspaces"]

#: Version of the layout below; a file of a later version is refused.
FORMAT_VERSION = 1
_FORMAT_NAME = "sklearn_pos.subspaces"
_METADATA = "__metadata__"
_ZIP_MAGIC = b"PK\x03\x04"

#: Fitted arrays stored as ``.npy`` members (``components_`` and
#: ``eigenvalues_`` are the target's rows of the ``class_*`` arrays, rebuilt
#: as views on load, exactly as ``fit`` sets them).
_ARRAYS = ("mean_", "center_", "class_components_", "class_eigenvalues_",
           "class_counts_")  # fmt: skip
_INTS = ("n_components_", "n_iter_", "n_features_in_")
_DERIVED = ("components_", "eigenvalues_", "target_")
_FITTED = set(_ARRAYS) | set(_INTS) | set(_DERIVED) | {"classes_",
                                                       "feature_names_in_"}
#: Label dtypes that JSON holds exactly (``O``: Python str labels).
_LABEL_KINDS = "OUiub"

_OUTPUTS = ("coordinates", "projection", "complement")


def _sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _estimator_of(estimator):
    """The fitted PartOfSpeechComponentAnalysis behind ``estimator``."""
    from sklearn.utils.validation import check_is_fitted

    from .decomposition import PartOfSpeechComponentAnalysis
    from .vocabulary import VocabularyPartOfSpeechAnalysis

    if isinstance(estimator, VocabularyPartOfSpeechAnalysis):
        check_is_fitted(estimator)
        return estimator.pos_
    if not isinstance(estimator, PartOfSpeechComponentAnalysis):
        raise TypeError(
            "save_subspaces saves a fitted PartOfSpeechComponentAnalysis or "
            f"VocabularyPartOfSpeechAnalysis, got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    return estimator


def _labels_to_json(classes):
    from ._array_api import to_numpy

    classes = np.asarray(to_numpy(classes))
    values = [plain_label(c) for c in classes.tolist()]
    if classes.dtype.kind == "f" and all(float(v).is_integer() for v in values):
        # integer-valued float labels (0.0, 1.0, ...) are exact in JSON too
        pass
    elif classes.dtype.kind not in _LABEL_KINDS or (
        classes.dtype.kind == "O" and not all(isinstance(v, str) for v in values)
    ):
        raise TypeError(
            "save_subspaces stores class labels as JSON: they must be strings, "
            f"integers or booleans, got {classes.dtype} labels "
            f"({values[:3]!r}). Fit on y.astype(str) or integer codes."
        )
    return {"values": values, "dtype": classes.dtype.str}


def _labels_from_json(spec):
    dtype = np.dtype(spec["dtype"])
    if dtype.kind == "O":
        out = np.empty(len(spec["values"]), dtype=object)
        out[:] = [str(v) for v in spec["values"]]
        return out
    return np.asarray(spec["values"], dtype=dtype)


def save_subspaces(estimator, path, *, metadata=None):
    """Save fitted part-of-speech subspaces to a file that cannot run code.

    The file is a NumPy ``.npz`` archive of the fitted arrays and one JSON
    document (format version, estimator class and parameters, class labels,
    dtype, library version, SHA-256 of every array, ``metadata``). Unlike a
    pickle or joblib file, loading it executes nothing; read it back with
    :func:`load_subspaces`. The file is written under a temporary name and
    renamed into place, so a reader never sees half of it.

    What is kept: every fitted attribute and parameter of the
    :class:`~sklearn_pos.PartOfSpeechComponentAnalysis` (all categories'
    subspaces, so :meth:`~sklearn_pos.PartOfSpeechComponentAnalysis.project`
    still reaches any of them). Arrays of another namespace (e.g. PyTorch
    tensors fitted under ``array_api_dispatch``) are saved, and loaded, as
    NumPy arrays. For a fitted
    :class:`~sklearn_pos.VocabularyPartOfSpeechAnalysis`, the fitted
    subspace estimator ``pos_`` is saved (the vocabulary, its embedder and
    embeddings are not: the file holds the subspaces, not how they were made;
    record that in ``metadata``).

    Parameters
    ----------
    estimator : PartOfSpeechComponentAnalysis or VocabularyPartOfSpeechAnalysis
        A fitted estimator.
    path : str or path-like
        The file to write (replaced if it exists). ``.npz`` is the usual
        suffix; none is added.
    metadata : dict, default=None
        Anything else to keep with the subspaces (how they were made, scores,
        ...), as long as ``json.dumps`` can write it. Returned by
        ``load_subspaces(path, return_metadata=True)``.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If ``estimator`` is of another class, its labels or ``metadata``
        cannot be written as JSON.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load_subspaces : Read the file back.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from sklearn_pos import (
    ...     PartOfSpeechComponentAnalysis, load_subspaces, save_subspaces)
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(60, 5)) + 2, np.repeat(["adj", "noun"], 30)
    >>> pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "subspaces.npz")
    >>> _ = save_subspaces(pos, path, metadata={"source": "random"})
    >>> loaded, meta = load_subspaces(path, return_metadata=True)
    >>> np.array_equal(loaded.transform(X), pos.transform(X)), meta["source"]
    (True, 'random')
    """
    from ._version import __version__
    from ._array_api import to_numpy

    pos = _estimator_of(estimator)
    unknown = sorted(
        name
        for name in vars(pos)
        if name.endswith("_") and not name.startswith("_") and name not in _FITTED
    )
    if unknown:
        # Saving without them would silently lose part of the fit.
        raise TypeError(
            f"save_subspaces does not know how to save the fitted attribute(s) "
            f"{unknown} of this estimator; the file would not hold all of it."
        )
    arrays = {name: np.asarray(to_numpy(getattr(pos, name))) for name in _ARRAYS}
    params = {k: plain_label(v) for k, v in pos.get_params(deep=False).items()}
    classes = _labels_to_json(pos.classes_)
    document = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "estimator": type(pos).__name__,
        "saved_from": type(estimator).__name__,
        "params": params,
        "classes": classes,
        "target_index": int(np.flatnonzero(np.asarray(classes["values"], dtype=object)
                                           == plain_label(pos.target_))[0]),
        "center_is_mean": pos.center_ is pos.mean_,
        "fitted": {name: int(getattr(pos, name)) for name in _INTS},
        "feature_names_in": (
            [str(f) for f in pos.feature_names_in_]
            if hasattr(pos, "feature_names_in_")
            else None
        ),
        "dtype": str(arrays["class_components_"].dtype),
        "sklearn_pos_version": __version__,
        "arrays": {
            name: {
                "sha256": _sha256(a),
                "shape": list(a.shape),
                "dtype": a.dtype.str,
            }
            for name, a in arrays.items()
        },
        "metadata": metadata if metadata is not None else {},
    }
    try:
        text = json.dumps(document, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"save_subspaces writes its parameters and metadata as JSON: {exc}. "
            "Pass metadata of dicts, lists, strings, finite numbers, booleans "
            "and None only."
        ) from None
    members = dict(arrays)
    members[_METADATA] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    atomic_write(path, lambda f: np.savez(f, **members))
    return path


class _Damaged(ValueError):
    pass


def _refuse(path, problem):
    return ValueError(
        f"{path} is not a usable subspaces file: {problem}. Re-create it with "
        "sklearn_pos.save_subspaces (or 'sklearn-pos fit')."
    )


def _looks_like_pickle(head):
    # Pickle protocol 2+ opens with PROTO (0x80); joblib compresses with
    # zlib, gzip, bz2, xz, lzma or lz4, whose streams open as below.
    return head[:1] == b"\x80" or head.startswith(
        (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b", b"BZh",
         b"\xfd7zXZ", b"\x5d\x00\x00", b"\x04\x22\x4d\x18")
    )  # fmt: skip


def load_subspaces(path, *, target=None, output=None, return_metadata=False):
    """Load subspaces saved by :func:`save_subspaces`, verifying every byte.

    The file is read with ``numpy.load(allow_pickle=False)``: nothing in it
    is executed. Every array's SHA-256, shape and dtype are checked against
    the file's JSON document, so a damaged or truncated file is reported,
    never loaded. A pickle or joblib file (e.g. the ``pos_subspaces.joblib``
    of older versions of ``sklearn-pos fit``) is refused unread: unpickling
    can run arbitrary code, so open such a file with ``joblib.load`` only if
    you trust where it comes from, and save its estimator again with
    :func:`save_subspaces`.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_subspaces`.
    target : label, default=None
        Make another saved category's subspace the target: the estimator
        returned transforms as one fitted with ``target=target`` on the same
        data would (every category's subspace is saved, so no refit is
        needed). ``None`` keeps the saved target.
    output : {"coordinates", "projection", "complement"}, default=None
        Set the estimator's ``output``; ``None`` keeps the saved one.
    return_metadata : bool, default=False
        Also return the file's JSON document.

    Returns
    -------
    estimator : PartOfSpeechComponentAnalysis
        The fitted estimator, with NumPy fitted attributes; without
        ``target`` and ``output`` it transforms and inverse-transforms
        exactly as the saved one.
    metadata : dict
        Only with ``return_metadata=True``: the ``metadata`` given to
        :func:`save_subspaces`, plus ``"saved_with"``: the document the
        library wrote (format version, estimator class and parameters,
        ``sklearn_pos_version``, digests, ...).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a subspaces file, is a pickle/joblib file, is
        damaged or truncated, or was written by a later format version (the
        message names the file); if ``target`` is not a saved category or
        ``output`` not one of the three.

    See Also
    --------
    save_subspaces : Write the file.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from sklearn_pos import (
    ...     PartOfSpeechComponentAnalysis, load_subspaces, save_subspaces)
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(60, 5)) + 2, np.repeat([0, 1], 30)
    >>> pos = PartOfSpeechComponentAnalysis(n_components=2, target=1).fit(X, y)
    >>> path = save_subspaces(pos, os.path.join(tempfile.mkdtemp(), "pos.npz"))
    >>> loaded = load_subspaces(path)
    >>> print(loaded.target_, loaded.classes_)
    1 [0 1]

    Another category's subspace, as a projection in the input space, as if
    fitted with ``target=0, output="projection"``:

    >>> onto_0 = load_subspaces(path, target=0, output="projection")
    >>> refit = PartOfSpeechComponentAnalysis(
    ...     n_components=2, target=0, output="projection").fit(X, y)
    >>> bool(np.allclose(onto_0.transform(X), refit.transform(X)))
    True
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder; give the subspaces file written by save_subspaces."
        )
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise _refuse(path, "it is empty")
    if not head.startswith(_ZIP_MAGIC):
        if _looks_like_pickle(head):
            raise ValueError(
                f"{path} is a pickle/joblib file, not a subspaces file; it was not "
                "loaded because unpickling a file can run any code it holds. "
                "Re-create the subspaces with 'sklearn-pos fit' (which writes a "
                ".npz file) or sklearn_pos.save_subspaces; if you trust where the "
                "file comes from, load it with joblib.load and save its estimator "
                "with sklearn_pos.save_subspaces."
            )
        raise _refuse(path, "it is not a NumPy .npz archive")
    if output is not None and output not in _OUTPUTS:
        raise ValueError(
            f"output={output!r} is not one of 'coordinates', 'projection', "
            "'complement'; pass one of these, or None for the saved output."
        )
    try:
        document, arrays = _read(path)
        estimator = _rebuild(document, arrays, target=target, output=output)
    except _Damaged as exc:
        raise _refuse(path, str(exc)) from None
    if return_metadata:
        metadata = dict(document.get("metadata") or {})
        metadata["saved_with"] = {
            k: v for k, v in document.items() if k != "metadata"
        }
        return estimator, metadata
    return estimator


def _read(path):
    """The JSON document and the verified arrays of the archive at ``path``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _METADATA not in npz.files:
                raise _Damaged(f"it has no {_METADATA} member")
            raw = npz[_METADATA]
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise _Damaged(f"its {_METADATA} member is not UTF-8 text")
            document = json.loads(raw.tobytes().decode("utf-8"))
            if not isinstance(document, dict) or document.get("format") != (
                _FORMAT_NAME
            ):
                raise _Damaged("it was not written by save_subspaces")
            version = document.get("format_version")
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise _Damaged(
                    f"it has format version {version!r}, and this version of "
                    f"sklearn_pos reads version {FORMAT_VERSION} and earlier "
                    "(upgrade sklearn_pos to read it)"
                )
            specs = document["arrays"]
            if sorted(specs) != sorted(_ARRAYS):
                raise _Damaged(f"it lists the arrays {sorted(specs)}")
            arrays = {}
            for name in _ARRAYS:
                if name not in npz.files:
                    raise _Damaged(f"the array {name} is missing")
                a = npz[name]
                spec = specs[name]
                if (
                    list(a.shape) != spec["shape"]
                    or a.dtype.str != spec["dtype"]
                    or _sha256(a) != spec["sha256"]
                ):
                    raise _Damaged(
                        f"the array {name} does not match its SHA-256 digest, shape "
                        "or dtype (the file is damaged)"
                    )
                arrays[name] = a
    except _Damaged:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile,
            UnicodeDecodeError) as exc:  # fmt: skip
        # zipfile, zlib and numpy report a damaged archive in all these ways
        if isinstance(exc, FileNotFoundError):
            raise
        reason = str(exc) or type(exc).__name__
        raise _Damaged(f"it is damaged or truncated ({reason})") from None
    except Exception as exc:  # noqa: BLE001 - e.g. zlib.error on a flipped byte
        raise _Damaged(
            f"it is damaged or truncated ({type(exc).__name__}: {exc})"
        ) from None
    return document, arrays


def _rebuild(document, arrays, *, target=None, output=None):
    """The fitted estimator of a verified archive.

    With ``target`` (one of the saved categories) and ``output``, it is the
    estimator ``fit`` would have made with these parameters: every category's
    subspace is saved, so ``target_`` and the target's rows
    (``components_``, ``eigenvalues_``) are chosen here, before the state is
    restored; ``project`` gives the same result without them.
    """
    from .decomposition import PartOfSpeechComponentAnalysis

    try:
        if document["estimator"] != PartOfSpeechComponentAnalysis.__name__:
            raise _Damaged(f"it holds a {document['estimator']!r}")
        classes = _labels_from_json(document["classes"])
        target_index = int(document["target_index"])
        fitted = {name: int(document["fitted"][name]) for name in _INTS}
        pos = PartOfSpeechComponentAnalysis(**document["params"])
    except _Damaged:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise _Damaged(f"its JSON document is incomplete ({exc!r})") from None
    d = fitted["n_features_in_"]
    expected = {
        "mean_": (d,),
        "center_": (d,),
        "class_components_": (len(classes), fitted["n_components_"], d),
        "class_eigenvalues_": (len(classes), fitted["n_components_"]),
        "class_counts_": (len(classes),),
    }  # fmt: skip
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise _Damaged(
                f"the array {name} has shape {arrays[name].shape}, expected {shape}"
            )
    if not 0 <= target_index < len(classes):
        raise _Damaged(f"its target index {target_index} is out of range")
    if target is not None:
        matches = np.flatnonzero(np.asarray(classes) == target)
        if matches.size != 1:
            raise ValueError(
                f"target={target!r} is not one of the saved subspaces "
                f"{[plain_label(c) for c in classes]}; choose one of them."
            )
        target_index = int(matches[0])
        pos.set_params(target=plain_label(classes[target_index]))
    if output is not None:
        pos.set_params(output=output)
    state = {
        "classes_": classes,
        "mean_": arrays["mean_"],
        "center_": (
            arrays["mean_"] if document.get("center_is_mean") else arrays["center_"]
        ),
        "class_components_": arrays["class_components_"],
        "class_eigenvalues_": arrays["class_eigenvalues_"],
        "class_counts_": arrays["class_counts_"],
        # As fit sets them: the target's label and views of its rows.
        "target_": classes[target_index],
        "components_": arrays["class_components_"][target_index, ...],
        "eigenvalues_": arrays["class_eigenvalues_"][target_index, ...],
        **fitted,
    }
    names = document.get("feature_names_in")
    if names is not None:
        state["feature_names_in_"] = np.asarray(names, dtype=object)
    # The state is restored as unpickling restores it, through the estimator's
    # own __setstate__, but from verified arrays and JSON.
    pos.__setstate__(state)
    return pos
