"""A per-item, content-addressed store of embeddings on disk.

``CLIPEmbedder(memory=...)`` keeps one entry per distinct item (a text, an
image file's bytes, an in-memory image's pixels) under the identity of the
model that embedded it, so that every fold, grid-search candidate, rerun and
process that asks for an item again reads it instead of encoding it.

Layout and why
--------------
A store is a folder ``<location>/sklearn_pos_embeddings/v1`` holding one folder
per *namespace* (a model identity: architecture, weights content,
preprocessing, precision, normalisation, modality), named by the digest of that
identity and holding its description in ``identity.json``. Entries are written
in *shards*: immutable ``.npy`` files of records ``(key, crc32, embedding)``.
A shard is written under a temporary name and renamed into place, so readers
see either the whole shard or nothing, on a local disk and on a network file
system alike; writers never modify an existing file, so any number of
processes (``GridSearchCV(n_jobs=...)``, Dask workers) can read and write one
store without locks, and a process killed mid-write leaves at most a
temporary file that is ignored (and removed by :meth:`EmbeddingStore.clear`).
When a namespace holds many shards they are merged into one, the same way.

This uses NumPy alone: no database server, no extra dependency, and shards
are memory-mapped on read. SQLite or LMDB would give a single file, but both
rely on file locks that are unreliable on the network file systems a cluster
shares; immutable files renamed into place are safe there.

Every record carries the CRC-32 of its embedding; a record whose checksum does
not match is reported with a :class:`CorruptStoreWarning`, treated as a miss
(so it is recomputed and written again) and never returned.
"""

import hashlib
import json
import os
import threading
import uuid
import warnings
import zlib
from pathlib import Path

import numpy as np

from ._io import TMP_PREFIX as _TMP_PREFIX
from ._io import atomic_write as _atomic_write

__all__ = [
    "CorruptStoreWarning",
    "EmbeddingStore",
    "clear_store",
    "get_cache_dir",
    "open_store",
    "store_info",
]

#: Folder created under the ``memory`` location.
STORE_DIRNAME = "sklearn_pos_embeddings"
_FORMAT = "v1"
#: Bytes of an item key (BLAKE2b digest).
KEY_BYTES = 16
_SHARD_SUFFIX = ".npy"
_IDENTITY_FILE = "identity.json"
_REQUESTS_DIR = "requests"
#: A namespace with more shards than this is merged into one on the next write.
MAX_SHARDS = 32


class CorruptStoreWarning(UserWarning):
    """A store entry failed its checksum (or its shard could not be read).

    The entry is not returned: the item is encoded again and written anew.
    """


def item_key(data):
    """The 16-byte content key of ``data`` (bytes), as stored.

    Parameters
    ----------
    data : bytes
        A canonical byte serialisation of the item.

    Returns
    -------
    key : bytes of length 16

    Examples
    --------
    >>> from sklearn_pos.store import item_key
    >>> len(item_key(b"text:dog"))
    16
    """
    return hashlib.blake2b(data, digest_size=KEY_BYTES).digest()


def identity_digest(identity):
    """Hex digest naming the namespace of a JSON-serialisable model identity."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _record_dtype(width, dtype):
    return np.dtype(
        [("key", f"V{KEY_BYTES}"), ("crc", "<u4"), ("value", dtype, (width,))]
    )


def _checksums(values):
    """CRC-32 of each row's bytes."""
    values = np.ascontiguousarray(values)
    return np.fromiter(
        (zlib.crc32(row) for row in values.view(np.uint8).reshape(len(values), -1)),
        dtype=np.uint32,
        count=len(values),
    )


def _location_of(location):
    """The folder of a ``memory`` argument: a path, or a ``joblib.Memory``."""
    if hasattr(location, "location") and not isinstance(location, (str, os.PathLike)):
        location = location.location  # joblib.Memory
    if location is None:
        return None
    if not isinstance(location, (str, os.PathLike)):
        raise TypeError(
            "memory must be None, a folder path or a joblib.Memory, got "
            f"{type(location).__name__}."
        )
    return Path(os.path.expanduser(os.fspath(location)))


class _Shards:
    """In-process index of one namespace's shards, as sorted arrays.

    Keys are compared as fixed-width byte strings (``S16``): one ``argsort``
    when shards are added, one ``searchsorted`` per lookup, whatever the
    number of keys. Where a key is in several shards, the first shard read
    wins (the sort is stable).
    """

    def __init__(self):
        self.names = set()
        self.arrays = []  # memory-mapped record arrays, by shard number
        self.files = []  # their file names, by shard number
        self._parts = []  # (keys, shard numbers, rows) of each shard
        self.keys = np.empty(0, dtype=f"S{KEY_BYTES}")  # sorted, distinct
        self.shard = np.empty(0, dtype=np.intp)
        self.row = np.empty(0, dtype=np.intp)

    def add(self, name, records):
        number = len(self.arrays)
        self.arrays.append(records)
        self.files.append(name)
        self.names.add(name)
        keys = np.ascontiguousarray(records["key"]).view(f"S{KEY_BYTES}").ravel()
        self._parts.append(
            (
                keys,
                np.full(len(keys), number, dtype=np.intp),
                np.arange(len(keys), dtype=np.intp),
            )
        )

    def reindex(self):
        keys, shard, row = (np.concatenate(p) for p in zip(*self._parts))
        order = np.argsort(keys, kind="stable")
        keys, shard, row = keys[order], shard[order], row[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        self.keys, self.shard, self.row = keys[first], shard[first], row[first]

    def lookup(self, keys):
        """``(found, shard, row)`` of the byte keys ``keys``, in their order."""
        query = np.frombuffer(b"".join(keys), dtype=f"S{KEY_BYTES}")
        if not len(self.keys):
            return np.zeros(len(query), bool), self.shard, self.row
        pos = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        found = self.keys[pos] == query
        return found, self.shard[pos[found]], self.row[pos[found]]


class EmbeddingStore:
    """Per-item, content-addressed store of embeddings in a folder.

    Parameters
    ----------
    location : str, path-like or joblib.Memory
        The folder (created if missing). A ``joblib.Memory`` gives its
        ``location``. The store lives in its subfolder
        ``sklearn_pos_embeddings``.

    Raises
    ------
    ValueError
        If ``location`` exists and is not a folder, or cannot be created or
        written to; the message names it.

    See Also
    --------
    store_info : Entry counts and sizes of a store.
    clear_store : Remove a store.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from sklearn_pos.store import EmbeddingStore, item_key
    >>> store = EmbeddingStore(tempfile.mkdtemp())
    >>> model = {"model": "demo", "modality": "text"}
    >>> keys = [item_key(b"dog"), item_key(b"cat")]
    >>> store.put(model, keys, np.eye(2, dtype=np.float32))
    >>> values, found = store.get(model, [item_key(b"cat"), item_key(b"cow")])
    >>> found
    array([ True, False])
    >>> values
    array([[0., 1.]], dtype=float32)
    """

    def __init__(self, location):
        folder = _location_of(location)
        if folder is None:
            raise ValueError("EmbeddingStore needs a folder, got None.")
        self.location = folder
        self.root = folder / STORE_DIRNAME / _FORMAT
        self._check_writable()
        self._lock = threading.Lock()
        self._shards = {}

    def _check_writable(self):
        folder = self.location
        if folder.exists() and not folder.is_dir():
            raise ValueError(
                f"memory={str(folder)!r} exists and is not a folder; pass a folder "
                "path (it is created if missing) or None to disable the store."
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f"{_TMP_PREFIX}probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ValueError(
                f"memory={str(folder)!r} cannot be used as an embedding store: "
                f"{exc.strerror or exc}. Pass a folder you can write to, or None "
                "to disable the store."
            ) from exc

    def __repr__(self):
        return f"EmbeddingStore({str(self.location)!r})"

    # ------------------------------------------------------------------ reads
    def _folder(self, identity):
        return self.root / identity_digest(identity)

    def _refresh(self, folder):
        """Load shards written since the last call (by any process)."""
        state = self._shards.setdefault(folder, _Shards())
        try:
            names = {
                e.name
                for e in os.scandir(folder)
                if e.name.endswith(_SHARD_SUFFIX) and not e.name.startswith(".")
            }
        except FileNotFoundError:  # never written, or cleared by any process
            names = set()
        if not names >= state.names:
            # Shards were merged away by a writer: rebuild from the current set.
            state = self._shards[folder] = _Shards()
        added = False
        for name in sorted(names - state.names):
            try:
                records = np.load(folder / name, mmap_mode="r", allow_pickle=False)
                if records.dtype.names != ("key", "crc", "value"):
                    raise ValueError(f"unexpected record layout {records.dtype}")
            except FileNotFoundError:
                continue  # merged away between the listing and the read
            except (OSError, ValueError) as exc:
                warnings.warn(
                    f"Ignoring unreadable embedding-store shard {folder / name}: "
                    f"{exc}. Its items will be encoded again.",
                    CorruptStoreWarning,
                    stacklevel=4,
                )
                continue
            state.add(name, records)
            added = True
        if added:
            state.reindex()
        return state

    def get(self, identity, keys):
        """Look up ``keys`` in the namespace of ``identity``.

        Parameters
        ----------
        identity : dict
            JSON-serialisable identity of the model and its settings.
        keys : sequence of bytes
            Item keys (see :func:`item_key`).

        Returns
        -------
        values : ndarray of shape (n_found, width)
            The stored embeddings of the keys found, in the order of ``keys``.
        found : ndarray of bool, shape (len(keys),)
        """
        folder = self._folder(identity)
        with self._lock:
            state = self._refresh(folder)
            found, shard_of, row_of = state.lookup(keys)
            if not found.any():
                return np.empty((0, 0), np.float32), found
            rows = np.flatnonzero(found)
            first = state.arrays[shard_of[0]]["value"]
            values = np.empty((len(rows), first.shape[1]), dtype=first.dtype)
            crcs = np.empty(len(rows), np.uint32)
            for s in np.unique(shard_of):
                sel = np.flatnonzero(shard_of == s)
                records = state.arrays[s][row_of[sel]]
                values[sel] = records["value"]
                crcs[sel] = records["crc"]
        bad = np.flatnonzero(_checksums(values) != crcs)
        if bad.size:
            # Set the damaged shards aside, so that no process reads them again;
            # their items are encoded again and written to new shards.
            damaged = sorted({state.files[s] for s in shard_of[bad]})
            for name in damaged:
                try:
                    os.replace(folder / name, folder / f".corrupt-{name}")
                except FileNotFoundError:
                    pass
            warnings.warn(
                f"{bad.size} embedding-store entr{'y' if bad.size == 1 else 'ies'} "
                f"failed the checksum in {folder} (shards {damaged} set aside as "
                "'.corrupt-*'); they are encoded again.",
                CorruptStoreWarning,
                stacklevel=2,
            )
            with self._lock:
                self._shards.pop(folder, None)
            found[rows[bad]] = False
            values = np.delete(values, bad, axis=0)
        return values, found

    # ----------------------------------------------------------------- writes
    def put(self, identity, keys, values):
        """Write the embeddings ``values`` of ``keys`` as one new shard.

        Parameters
        ----------
        identity : dict
            JSON-serialisable identity of the model and its settings.
        keys : sequence of bytes
            Item keys, one per row of ``values``.
        values : ndarray of shape (len(keys), width)
        """
        values = np.ascontiguousarray(values)
        if values.ndim != 2 or len(keys) != values.shape[0]:
            raise ValueError(
                f"put needs one row of values per key; got {len(keys)} keys and "
                f"values of shape {values.shape}."
            )
        if not len(keys):
            return
        folder = self._folder(identity)
        folder.mkdir(parents=True, exist_ok=True)
        described = folder / _IDENTITY_FILE
        if not described.exists():
            text = json.dumps(identity, sort_keys=True, indent=1, default=str)
            _atomic_write(described, lambda f: f.write(text.encode("utf-8")))
        records = np.empty(len(keys), _record_dtype(values.shape[1], values.dtype))
        records["key"] = np.frombuffer(b"".join(keys), dtype=f"V{KEY_BYTES}")
        records["crc"] = _checksums(values)
        records["value"] = values
        self._write_shard(folder, records)
        with self._lock:
            state = self._refresh(folder)
            many = len(state.names) > MAX_SHARDS
        if many:
            self._merge(folder)

    def _write_shard(self, folder, records):
        name = f"{uuid.uuid4().hex}{_SHARD_SUFFIX}"
        _atomic_write(folder / name, lambda f: np.save(f, records, allow_pickle=False))

    def _merge(self, folder):
        """Replace a namespace's shards by one holding each key once."""
        with self._lock:
            state = self._refresh(folder)
            names = sorted(state.names)
            if len(names) < 2 or len({a.dtype for a in state.arrays}) != 1:
                return
            # The index points at each key's first record: keep exactly those.
            merged = np.concatenate(
                [
                    np.asarray(state.arrays[s][np.sort(state.row[state.shard == s])])
                    for s in range(len(state.arrays))
                ]
            )
        self._write_shard(folder, merged)
        for name in names:
            try:
                os.unlink(folder / name)
            except FileNotFoundError:
                pass  # another process merged it first

    # ------------------------------------------------------ request records
    def remember(self, request, identity):
        """Record that ``request`` resolved to the model ``identity``.

        A request is what a caller knows before loading anything (the model's
        name, the ``pretrained`` argument, the weights file's status, the
        settings); the identity is what it resolved to once loaded (with the
        digest of the weights actually read). Recalling it lets a later
        process find its namespace, and serve a fully stored input, without
        importing torch or loading the model.
        """
        folder = self.root / _REQUESTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(identity, sort_keys=True, default=str).encode("utf-8")
        _atomic_write(
            folder / f"{identity_digest(request)}.json", lambda f: f.write(text)
        )

    def recall(self, request):
        """The identity recorded for ``request`` by :meth:`remember`, or None."""
        path = self.root / _REQUESTS_DIR / f"{identity_digest(request)}.json"
        try:
            return json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # damaged: resolve the request again
            return None

    # ------------------------------------------------------------- management
    def info(self):
        """Entry counts and sizes, one row per namespace.

        Returns
        -------
        info : pandas.DataFrame
            Columns ``namespace``, ``model``, ``modality``, ``n_entries``,
            ``n_shards``, ``size_bytes``.
        """
        import pandas as pd

        rows = []
        folders = (p for p in self.root.iterdir() if p.is_dir())
        for folder in sorted(f for f in folders if f.name != _REQUESTS_DIR):
            try:
                identity = json.loads((folder / _IDENTITY_FILE).read_text("utf-8"))
            except (OSError, ValueError):
                identity = {}
            with self._lock:
                state = self._refresh(folder)
                n_entries = len(state.keys)
                n_shards = len(state.names)
            size = sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())
            rows.append(
                {
                    "namespace": folder.name,
                    "model": identity.get("model_name"),
                    "modality": identity.get("modality"),
                    "n_entries": n_entries,
                    "n_shards": n_shards,
                    "size_bytes": size,
                }
            )
        columns = ["namespace", "model", "modality", "n_entries", "n_shards"]
        return pd.DataFrame(rows, columns=columns + ["size_bytes"])

    def clear(self):
        """Remove every entry (the store's own folder; nothing else is touched).

        Returns
        -------
        n_entries : int
            How many entries were removed.
        """
        import shutil

        n = int(self.info()["n_entries"].sum())
        with self._lock:
            self._shards.clear()
            shutil.rmtree(self.location / STORE_DIRNAME, ignore_errors=True)
            self.root.mkdir(parents=True, exist_ok=True)
        return n


_OPEN_STORES = {}
_OPEN_LOCK = threading.Lock()


def open_store(location):
    """The process's :class:`EmbeddingStore` for ``location``, opened once.

    Every call with the same folder returns the same instance, so the folder is
    checked once and its shards are indexed once per process, not at every
    ``transform`` of every fold and candidate. A folder removed since is
    opened (and checked) anew.

    Parameters
    ----------
    location : str, path-like or joblib.Memory
        The ``memory`` folder.

    Returns
    -------
    store : EmbeddingStore

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_pos.store import open_store
    >>> folder = tempfile.mkdtemp()
    >>> open_store(folder) is open_store(folder)
    True
    """
    folder = _location_of(location)
    key = None if folder is None else os.path.abspath(folder)
    with _OPEN_LOCK:
        store = _OPEN_STORES.get(key)
        if store is None or not store.root.is_dir():
            store = _OPEN_STORES[key] = EmbeddingStore(location)
    return store


def store_info(location):
    """Entry counts and sizes of the store at ``location``.

    Parameters
    ----------
    location : str, path-like or joblib.Memory
        The ``memory`` folder given to :class:`~sklearn_pos.CLIPEmbedder`.

    Returns
    -------
    info : pandas.DataFrame
        One row per model identity (see :meth:`EmbeddingStore.info`).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_pos.store import store_info
    >>> store_info(tempfile.mkdtemp())["n_entries"].sum()
    0
    """
    return EmbeddingStore(location).info()


def clear_store(location):
    """Remove every entry of the store at ``location``.

    Parameters
    ----------
    location : str, path-like or joblib.Memory
        The ``memory`` folder given to :class:`~sklearn_pos.CLIPEmbedder`.

    Returns
    -------
    n_entries : int
        How many entries were removed.
    """
    return EmbeddingStore(location).clear()


#: Environment variable naming the default embedding store's folder.
CACHE_ENV = "SKLEARN_POS_CACHE"


def get_cache_dir(cache_dir=None):
    """The folder of the per-user embedding store, created if missing.

    Every ``sklearn-pos`` command keeps the embeddings it computes in this one
    folder (``fit``, ``zero-shot``, ``embed`` and ``cache`` by default), so
    that a rerun with other settings, or into another output folder, reads
    them instead of encoding again. As :func:`sklearn.datasets.get_data_home`
    does for data sets, the folder is, by precedence:

    1. ``cache_dir``, when given (the commands' ``--cache-dir``);
    2. the environment variable ``SKLEARN_POS_CACHE``, when set and not empty;
    3. ``$XDG_CACHE_HOME/sklearn_pos``, when ``XDG_CACHE_HOME`` is set and not
       empty (the freedesktop.org convention for caches);
    4. ``~/.cache/sklearn_pos``.

    ``~`` is expanded in each. Everything in it can be recomputed:
    ``sklearn-pos cache --clear`` (or :func:`clear_store`) empties it.

    Parameters
    ----------
    cache_dir : str or path-like, default=None
        The folder to use; ``None`` takes it from the environment as above.

    Returns
    -------
    cache_dir : pathlib.Path
        The folder (it exists when the function returns).

    Raises
    ------
    OSError
        If the folder cannot be created (e.g. a file of that name exists).

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_pos.store import get_cache_dir
    >>> folder = os.path.join(tempfile.mkdtemp(), "embeddings")
    >>> get_cache_dir(folder).is_dir()
    True
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or None
    if cache_dir is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        cache_dir = os.path.join(base, "sklearn_pos")
    folder = Path(os.path.expanduser(os.fspath(cache_dir)))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
