"""A per-item, content-addressed store of embeddings on disk.

``CLIPEmbedder(memory=...)`` keeps one entry per distinct item (a text, an
image file's bytes, an in-memory image's pixels) under the identity of the
model that embedded it, so that every fold, grid-search candidate, rerun and
process that asks for an item again reads it instead of encoding it.

Layout and why
--------------
A store is a folder ``<location>/sklearn_pos_embeddings/v2`` holding one folder
per *namespace* (a model identity: architecture, weights content,
preprocessing, precision, normalisation, modality), named by the digest of that
identity and holding its description in ``identity.json``. Entries are written
in *shards*: immutable ``.npy`` files of records ``(crc32, key, embedding)``,
named ``<random 32 hex digits>-<crc32 of the records>.npy``.
A shard is written under a temporary name and renamed into place, so readers
see either the whole shard or nothing, on a local disk and on a network file
system alike; writers never modify an existing file, so any number of
processes (``GridSearchCV(n_jobs=...)``, Dask workers) can read and write one
store without locks, and a process killed mid-write leaves at most a
temporary file that is ignored (and removed by :meth:`EmbeddingStore.clear`).
When a namespace holds many shards they are merged into one, the same way.

This uses NumPy alone: no database server, no extra dependency, and shards
are memory-mapped on read. SQLite or LMDB would give a single file, but both
rely on file locks that are unreliable on network file systems a cluster
shares; immutable files renamed into place are safe there.

Nothing read back is trusted
----------------------------
- Every record carries the CRC-32 of its key and embedding, and every shard's
  file name the CRC-32 of all its records, both *started from the digest of
  the namespace*: a record is only valid in the folder of the model identity
  it was written for, so a shard copied or moved into another model's folder
  fails its checksums there. A shard is checked whole when a process first
  opens it (one CRC pass over bytes that building the index reads anyway), and
  every record again when it is returned or merged.
- A shard's ``.npy`` header is parsed without evaluating code (NumPy's header
  reader, no pickles) and must describe exactly the record layout of this
  store, with the file exactly as long as the header says.
- ``identity.json`` must hash to the name of its folder; a request record
  (:meth:`EmbeddingStore.remember`) must hold the very request it is filed
  under, and a digest of its content.

A damaged or foreign shard is reported with a :class:`CorruptStoreWarning`
naming the file; the records of it that still pass their checksum are written
to a new shard, the file is set aside as ``.corrupt-<name>`` (ignored by
readers, removed by :meth:`EmbeddingStore.clear`), and the other items are
misses: encoded again and written anew, never returned. A damaged description
or request record is reported the same way and written anew.
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

from ._caches import register_cache
# item_key makes the keys that EmbeddingStore.get and put take: part of
# this module's API, defined with the other content keys.
from ._identity import KEY_BYTES, identity_digest, item_key
from ._io import TMP_PREFIX as _TMP_PREFIX
from ._io import atomic_write as _atomic_write

__all__ = [
    "CorruptStoreWarning",
    "EmbeddingStore",
    "clear_store",
    "get_cache_dir",
    "item_key",
    "open_store",
    "store_info",
]

#: Folder created under the ``memory`` location.
STORE_DIRNAME = "sklearn_pos_embeddings"
# v2: records are (crc, key, value) with the checksum bound to the namespace;
# a v1 folder is not read (its entries are encoded again) and goes with clear().
_FORMAT = "v2"
_SHARD_SUFFIX = ".npy"
_IDENTITY_FILE = "identity.json"
_REQUESTS_DIR = "requests"
_CORRUPT_PREFIX = ".corrupt-"
#: A namespace with more shards than this is merged into one on the next write.
MAX_SHARDS = 32


class CorruptStoreWarning(UserWarning):
    """A store file was damaged or belongs to another model identity.

    The warning names the file. Nothing from it that fails its checks is
    returned: the items concerned are encoded again and written anew, and the
    file is set aside (shards) or written anew (descriptions, request records).
    """


def _record_dtype(width, dtype):
    # The checksum first, so that key and value are one contiguous run of
    # bytes per record, checked in one CRC call.
    return np.dtype(
        [("crc", "<u4"), ("key", f"V{KEY_BYTES}"), ("value", dtype, (width,))]
    )


def _is_record_dtype(dtype):
    """Whether ``dtype`` is exactly a record layout this store writes."""
    if dtype.names != ("crc", "key", "value") or dtype.hasobject:
        return False
    sub = dtype.fields["value"][0].subdtype
    if sub is None or len(sub[1]) != 1 or sub[0].kind not in "fiuc":
        return False
    return dtype == _record_dtype(sub[1][0], sub[0])


def _namespace_seed(namespace):
    """CRC-32 state that binds a record's checksum to its namespace folder."""
    return zlib.crc32(f"sklearn_pos store {_FORMAT} {namespace}\0".encode())


def _checksums(records, seed):
    """CRC-32 of each record's key and value bytes, started from ``seed``."""
    records = np.ascontiguousarray(records)
    raw = records.view(np.uint8).reshape(len(records), records.dtype.itemsize)
    raw = raw[:, 4:]  # after the crc field: key and value
    return np.fromiter(
        (zlib.crc32(row, seed) for row in raw), dtype=np.uint32, count=len(records)
    )


def _content_checksum(records, seed):
    """CRC-32 of all the bytes of a shard's records, started from ``seed``.

    One call over the whole (memory-mapped) buffer: checking a shard when it is
    opened costs about as much as reading it, with no loop over records.
    """
    return zlib.crc32(np.ascontiguousarray(records).view(np.uint8), seed)


def _named_checksum(name):
    """The content checksum a shard's file name carries, or None."""
    stem = name[: -len(_SHARD_SUFFIX)]
    token, _, checksum = stem.partition("-")
    if len(token) != 32 or len(checksum) != 8:
        return None
    try:
        int(token, 16)
        return int(checksum, 16)
    except ValueError:
        return None


class _Damaged(Exception):
    """A file that is not a whole shard of its namespace.

    ``records`` holds the records that could still be read (to be checked one
    by one), or None.
    """

    def __init__(self, reason, records=None):
        super().__init__(reason)
        self.reason = reason
        self.records = records


def _open_shard(path):
    """The records of the shard ``path``, memory-mapped.

    The header is read by NumPy's header parser (literals only: nothing is
    evaluated, no pickle is loaded) and must give the record layout of this
    store, with the file exactly as long as it says.

    Raises
    ------
    _Damaged
        When the file is not such a shard.
    OSError
        When the file cannot be opened (``FileNotFoundError`` included).
    """
    fmt = np.lib.format
    with open(path, "rb") as f:
        try:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(f)
            else:
                raise ValueError(f".npy format version {version} is not written here")
        except Exception as exc:  # noqa: BLE001 - any garbage is damage
            # Random bytes raise whatever the parser meets first (EOFError,
            # ValueError, SyntaxError, tokenize.TokenError, ...).
            raise _Damaged(
                f"not a readable .npy file ({type(exc).__name__}: {exc})"
            ) from None
        offset = f.tell()
        size = os.fstat(f.fileno()).st_size
    if not _is_record_dtype(dtype) or fortran or len(shape) != 1:
        raise _Damaged(
            f"not embedding records of this store (dtype {dtype}, shape {shape})"
        )
    (n,) = shape
    expected = offset + n * dtype.itemsize
    if size != expected:
        whole = max(0, min(n, (size - offset) // dtype.itemsize))
        readable = (
            np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(whole,))
            if whole
            else None
        )
        raise _Damaged(
            f"{size} bytes where its header announces {n} records in {expected}",
            readable,
        )
    if not n:
        return np.empty(0, dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(n,))


def _signature(stat):
    """What changes when a file is replaced or rewritten in place."""
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


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
        self.names = {}  # file name -> signature of the file when read
        self.arrays = []  # memory-mapped record arrays, by shard number
        self.files = []  # their file names, by shard number
        self._parts = []  # (keys, shard numbers, rows) of each shard
        self.keys = np.empty(0, dtype=f"S{KEY_BYTES}")  # sorted, distinct
        self.shard = np.empty(0, dtype=np.intp)
        self.row = np.empty(0, dtype=np.intp)

    def add(self, name, signature, records):
        number = len(self.arrays)
        self.arrays.append(records)
        self.files.append(name)
        self.names[name] = signature
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

    Warns
    -----
    CorruptStoreWarning
        When a file of the store is damaged or belongs to another model
        identity; the warning names it. What it held is encoded again (only
        the records that pass their checksum are kept) and never returned.

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
        self._lock = threading.RLock()
        self._shards = {}
        # namespace folder -> signature of its identity.json when last checked
        self._described = {}

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

    # ------------------------------------------------------------ descriptions
    def _folder(self, identity):
        return self.root / identity_digest(identity)

    def _describe(self, folder, identity):
        """Check ``identity.json`` of a namespace; write it when missing or wrong.

        Checked again whenever the file changes, at the cost of one ``stat``.
        Nothing is written for a namespace that does not exist yet on reads
        (``put`` creates the folder first).
        """
        path = folder / _IDENTITY_FILE
        try:
            signature = _signature(path.stat())
        except FileNotFoundError:
            signature = None
        if signature is not None and self._described.get(folder) == signature:
            return
        problem = None
        if signature is not None:
            try:
                described = json.loads(path.read_text("utf-8"))
                if identity_digest(described) != folder.name:
                    problem = "describes another model identity than its folder's"
            except FileNotFoundError:
                signature = None
            except (OSError, ValueError) as exc:  # ValueError: bad JSON or UTF-8
                problem = f"cannot be read ({exc})"
        if signature is not None and problem is None:
            self._described[folder] = signature
            return
        if not folder.is_dir():
            return  # never written (or cleared): nothing to describe
        if problem is not None:
            warnings.warn(
                f"Embedding-store identity file {path} {problem}; it is written "
                "anew from the identity its entries are stored under.",
                CorruptStoreWarning,
                stacklevel=4,
            )
        text = json.dumps(identity, sort_keys=True, indent=1, default=str)
        try:
            _atomic_write(path, lambda f: f.write(text.encode("utf-8")))
            self._described[folder] = _signature(path.stat())
        except OSError:
            # Cleared meanwhile, or not writable: the description is for people
            # and info(); the entries are bound to their folder by checksum.
            pass

    # ------------------------------------------------------------------ reads
    def _refresh(self, folder, _again=True):
        """Load shards written since the last call (by any process).

        A shard that cannot be read as one of this namespace is healed
        (:meth:`_heal`) instead of being indexed.
        """
        state = self._shards.setdefault(folder, _Shards())
        current = {}
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:  # never written, or cleared by any process
            entries = []
        for e in entries:
            if e.name.endswith(_SHARD_SUFFIX) and not e.name.startswith("."):
                try:
                    current[e.name] = _signature(e.stat())
                except FileNotFoundError:
                    pass  # merged away or set aside meanwhile
        if any(current.get(n) != sig for n, sig in state.names.items()):
            # Shards were merged away by a writer, or a file changed under its
            # name (which the store never does): rebuild from the current set.
            state = self._shards[folder] = _Shards()
        seed = _namespace_seed(folder.name)
        added = healed = False
        for name in sorted(set(current) - set(state.names)):
            path = folder / name
            try:
                records = _open_shard(path)
                expected = _named_checksum(name)
                if expected is None:
                    raise _Damaged(
                        "it is not named as a shard of this store "
                        "('<32 hex digits>-<8 hex digits>.npy')",
                        records,
                    )
                if _content_checksum(records, seed) != expected:
                    raise _Damaged(
                        "its content fails the checksum in its name (it belongs "
                        "to another model identity, or is damaged)",
                        records,
                    )
            except FileNotFoundError:
                continue  # merged away between the listing and the read
            except _Damaged as damage:
                healed |= self._heal(folder, name, damage.reason, damage.records)
                continue
            except OSError as exc:
                # Not the file's fault (permissions, too many open files): it
                # is left in place and read again next time.
                warnings.warn(
                    f"Embedding-store shard {path} cannot be read now "
                    f"({exc.strerror or exc}); its items are encoded again.",
                    CorruptStoreWarning,
                    stacklevel=4,
                )
                continue
            state.add(name, current[name], records)
            added = True
        if added:
            state.reindex()
        if healed and _again:
            return self._refresh(folder, _again=False)  # index the kept records
        return state

    def _heal(self, folder, name, reason, records):
        """Keep the valid records of a damaged shard in a new one, set it aside.

        The records that pass their checksum are written to a new shard
        *before* the damaged one is renamed to ``.corrupt-<name>``, so that no
        reader, in any process, loses them; the others are misses from now on.

        Returns
        -------
        written : bool
            Whether a new shard was written.
        """
        path = folder / name
        kept, outcome = 0, None
        if records is not None and len(records):
            records = np.array(records)  # read it all once, off the map
            keep = _checksums(records, _namespace_seed(folder.name)) == records["crc"]
            kept = int(keep.sum())
            if kept:
                try:
                    self._write_shard(folder, records[keep])
                except OSError as exc:  # a full disk, a read-only folder
                    outcome = (
                        f"its {kept} entries that passed their checksum could not "
                        f"be rewritten ({exc}) and are encoded again"
                    )
                    kept = 0
        aside = f"{_CORRUPT_PREFIX}{name}"
        try:
            os.replace(path, folder / aside)
            aside = f"set aside as {aside}"
        except FileNotFoundError:
            aside = f"set aside as {aside}"  # by another process
        except OSError as exc:
            aside = f"left in place, as it cannot be renamed ({exc})"
        if outcome is None:
            outcome = (
                f"{kept} of its entries passed their checksum and are kept, the "
                "others are encoded again"
            )
        warnings.warn(
            f"Embedding-store shard {path} is damaged: {reason}. It is {aside}; "
            f"{outcome}.",
            CorruptStoreWarning,
            stacklevel=4,
        )
        return bool(kept)

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
            Only records that pass their checksum are returned; the others are
            reported with a :class:`CorruptStoreWarning` and not found.
        found : ndarray of bool, shape (len(keys),)
        """
        folder = self._folder(identity)
        with self._lock:
            self._describe(folder, identity)
            state = self._refresh(folder)
            found, shard_of, row_of = state.lookup(keys)
            if not found.any():
                return np.empty((0, 0), np.float32), found
            rows = np.flatnonzero(found)
            layouts = {state.arrays[s].dtype for s in np.unique(shard_of)}
            if len(layouts) > 1:
                widths = sorted({d["value"].shape[0] for d in layouts})
                raise ValueError(
                    f"The items asked for are stored under one model identity "
                    f"with embeddings of different types or widths {widths}: "
                    "the identity must describe everything that determines the "
                    "embeddings; give each model its own identity."
                )
            records = np.empty(len(rows), dtype=layouts.pop())
            for s in np.unique(shard_of):
                sel = np.flatnonzero(shard_of == s)
                records[sel] = state.arrays[s][row_of[sel]]
            bad = np.flatnonzero(
                _checksums(records, _namespace_seed(folder.name)) != records["crc"]
            )
            if bad.size:
                # Heal the damaged shards, so that no process reads them again;
                # their bad items are encoded again and written to new shards.
                for s in np.unique(shard_of[bad]):
                    n_bad = int(np.sum(shard_of[bad] == s))
                    self._heal(
                        folder,
                        state.files[s],
                        f"{n_bad} entr{'y' if n_bad == 1 else 'ies'} asked for "
                        "failed the checksum",
                        state.arrays[s],
                    )
                self._shards.pop(folder, None)
                found[rows[bad]] = False
                records = np.delete(records, bad)
        return np.ascontiguousarray(records["value"]), found

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
            Numbers (floats, usually).

        Raises
        ------
        ValueError
            If ``values`` does not hold one row of numbers per key.
        """
        values = np.ascontiguousarray(values)
        if values.ndim != 2 or len(keys) != values.shape[0]:
            raise ValueError(
                f"put needs one row of values per key; got {len(keys)} keys and "
                f"values of shape {values.shape}."
            )
        if values.dtype.kind not in "fiuc":
            raise ValueError(
                f"put stores numbers; got values of dtype {values.dtype}."
            )
        if not len(keys):
            return
        folder = self._folder(identity)
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._describe(folder, identity)
        records = np.empty(len(keys), _record_dtype(values.shape[1], values.dtype))
        records["key"] = np.frombuffer(b"".join(keys), dtype=f"V{KEY_BYTES}")
        records["value"] = values
        records["crc"] = _checksums(records, _namespace_seed(folder.name))
        self._write_shard(folder, records)
        with self._lock:
            state = self._refresh(folder)
            many = len(state.names) > MAX_SHARDS
        if many:
            self._merge(folder)

    def _write_shard(self, folder, records):
        records = np.ascontiguousarray(records)
        checksum = _content_checksum(records, _namespace_seed(folder.name))
        name = f"{uuid.uuid4().hex}-{checksum:08x}{_SHARD_SUFFIX}"
        _atomic_write(folder / name, lambda f: np.save(f, records, allow_pickle=False))

    def _merge(self, folder):
        """Replace a namespace's shards by one holding each key once.

        Every record is checked on the way: one that fails its checksum is not
        copied, and its shard is set aside rather than removed.
        """
        seed = _namespace_seed(folder.name)
        with self._lock:
            state = self._refresh(folder)
            names = sorted(state.names)
            if len(names) < 2 or len({a.dtype for a in state.arrays}) != 1:
                return
            # The index points at each key's first record: keep exactly those.
            parts, damaged = [], {}
            for s in range(len(state.arrays)):
                part = np.asarray(state.arrays[s][np.sort(state.row[state.shard == s])])
                ok = _checksums(part, seed) == part["crc"]
                if not ok.all():
                    damaged[state.files[s]] = int(np.sum(~ok))
                parts.append(part[ok])
            merged = np.concatenate(parts)
        if len(merged):
            self._write_shard(folder, merged)
        for name in names:
            try:
                if name in damaged:
                    os.replace(folder / name, folder / f"{_CORRUPT_PREFIX}{name}")
                else:
                    os.unlink(folder / name)
            except FileNotFoundError:
                pass  # another process merged it first
        for name, n_bad in damaged.items():
            warnings.warn(
                f"Embedding-store shard {folder / name} is damaged: {n_bad} "
                f"entr{'y' if n_bad == 1 else 'ies'} failed the checksum while "
                f"merging. It is set aside as {_CORRUPT_PREFIX}{name}; its other "
                "entries are kept, the damaged ones are encoded again.",
                CorruptStoreWarning,
                stacklevel=4,
            )

    # ------------------------------------------------------ request records
    def _request_path(self, request):
        return self.root / _REQUESTS_DIR / f"{identity_digest(request)}.json"

    @staticmethod
    def _record_digest(request, identity):
        text = json.dumps([request, identity], sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def remember(self, request, identity):
        """Record that ``request`` resolved to the model ``identity``.

        A request is what a caller knows before loading anything (the model's
        name, the ``pretrained`` argument, the weights file's status, the
        settings); the identity is what it resolved to once loaded (with the
        digest of the weights actually read). Recalling it lets a later
        process find its namespace, and serve a fully stored input, without
        importing torch or loading the model.

        The record holds the request itself and a digest of its content, so
        that a record moved to another request's name, or edited, is noticed
        by :meth:`recall`.
        """
        folder = self.root / _REQUESTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "request": request,
            "identity": identity,
            "sha256": self._record_digest(request, identity),
        }
        text = json.dumps(record, sort_keys=True, default=str).encode("utf-8")
        _atomic_write(self._request_path(request), lambda f: f.write(text))

    def recall(self, request):
        """The identity recorded for ``request`` by :meth:`remember`, or None.

        A record that cannot be read, does not hold ``request`` (a record of
        another request under its name) or fails its digest is reported with a
        :class:`CorruptStoreWarning` naming it, removed, and not used: the
        request is resolved again (and remembered anew).
        """
        path = self._request_path(request)
        try:
            record = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except OSError as exc:  # not the file's fault: leave it
            warnings.warn(
                f"Embedding-store request record {path} cannot be read now "
                f"({exc.strerror or exc}); the model is resolved again.",
                CorruptStoreWarning,
                stacklevel=2,
            )
            return None
        except ValueError as exc:  # bad JSON or UTF-8
            problem = f"cannot be read ({exc})"
        else:
            problem = self._record_problem(record, request)
        if problem is None:
            return record["identity"]
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        warnings.warn(
            f"Embedding-store request record {path} {problem}; it is removed and "
            "the model is resolved again.",
            CorruptStoreWarning,
            stacklevel=2,
        )
        return None

    def _record_problem(self, record, request):
        """What is wrong with a request record read back, or None."""
        if not isinstance(record, dict) or set(record) != {
            "request",
            "identity",
            "sha256",
        }:
            return "is not a request record of this store"
        if identity_digest(record["request"]) != identity_digest(request):
            return "belongs to another request (model, weights or settings)"
        if record["sha256"] != self._record_digest(
            record["request"], record["identity"]
        ):
            return "fails its digest (it was changed after it was written)"
        return None

    # ------------------------------------------------------------- management
    def info(self):
        """Entry counts and sizes, one row per namespace.

        Returns
        -------
        info : pandas.DataFrame
            Columns ``namespace``, ``model``, ``modality``, ``n_entries``,
            ``n_shards``, ``size_bytes``. ``model`` and ``modality`` are None
            where the namespace's ``identity.json`` is missing or does not
            match its folder (reported with a :class:`CorruptStoreWarning`).
        """
        import pandas as pd

        rows = []
        folders = (p for p in self.root.iterdir() if p.is_dir())
        for folder in sorted(f for f in folders if f.name != _REQUESTS_DIR):
            path = folder / _IDENTITY_FILE
            try:
                identity = json.loads(path.read_text("utf-8"))
                if identity_digest(identity) != folder.name:
                    raise ValueError("it describes another model identity")
            except FileNotFoundError:
                identity = {}
            except (OSError, ValueError) as exc:
                warnings.warn(
                    f"Embedding-store identity file {path} is not trusted "
                    f"({exc}); it is written anew at the next use of its model.",
                    CorruptStoreWarning,
                    stacklevel=2,
                )
                identity = {}
            if not isinstance(identity, dict):
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

        Shards set aside as damaged, and the folders of earlier store formats,
        go with it.

        Returns
        -------
        n_entries : int
            How many entries were removed.
        """
        import shutil

        n = int(self.info()["n_entries"].sum())
        with self._lock:
            self._shards.clear()
            self._described.clear()
            shutil.rmtree(self.location / STORE_DIRNAME, ignore_errors=True)
            self.root.mkdir(parents=True, exist_ok=True)
        return n


# Stores by folder. A store holds the index of its shards, not the embeddings
# (those are memory-mapped): the bound only stops a process that opens many
# folders from keeping every index.
_OPEN_STORES = register_cache("open_stores", maxsize=64)


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
    with _OPEN_STORES.lock:
        store = _OPEN_STORES.get(key)
        if store is None or not store.root.is_dir():
            store = _OPEN_STORES.set(key, EmbeddingStore(location))
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

    The on-disk counterpart of :func:`get_cache_dir`, as
    :func:`sklearn.datasets.clear_data_home` is of
    :func:`~sklearn.datasets.get_data_home`: it deletes files, whereas
    :func:`sklearn_pos.clear_caches` only releases what this process holds
    in memory.

    Returns
    -------
    n_entries : int
        How many entries were removed.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_pos.store import clear_store
    >>> clear_store(tempfile.mkdtemp())
    0
    """
    return open_store(location).clear()


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
