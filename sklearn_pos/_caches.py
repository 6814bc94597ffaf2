"""The registry of every in-process cache of sklearn_pos, and :func:`clear_caches`.

Each cache is a :class:`BoundedCache`: a least-recently-used mapping with a
maximum size and its own lock, registered here under a name when its module is
imported. Keeping them in one place gives one rule for all of them (bounded,
locked, cleared together) and one public function to release them.

The caches hold what can be recomputed: built models, resolved weights files,
file digests, embedded vocabularies, fitted subspaces and opened embedding
stores. Nothing on disk is touched here; the on-disk embedding store is
emptied with :func:`sklearn_pos.store.clear_store`.

This module imports nothing from sklearn_pos, so that every module can
register its caches without creating an import cycle.
"""

import threading
from collections import OrderedDict

__all__ = ["BoundedCache", "clear_caches", "register_cache"]

_REGISTRY = {}
_REGISTRY_LOCK = threading.Lock()
_MISSING = object()


class BoundedCache:
    """A thread-safe least-recently-used mapping holding at most ``maxsize`` items.

    Reads and writes take the cache's own re-entrant lock, so threads (joblib's
    threading backend, Dask's threaded scheduler) can share it; the least
    recently used item is dropped when a new one would exceed ``maxsize``.

    Parameters
    ----------
    name : str
        Name shown by :func:`clear_caches`.

    maxsize : int
        The most items kept.
    """

    def __init__(self, name, maxsize):
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}.")
        self.name = name
        self.maxsize = int(maxsize)
        self.lock = threading.RLock()
        self._data = OrderedDict()

    def get(self, key, default=None):
        """The value of ``key`` (marked as recently used), else ``default``."""
        with self.lock:
            try:
                value = self._data[key]
            except KeyError:
                return default
            self._data.move_to_end(key)
            return value

    def set(self, key, value):
        """Keep ``value`` under ``key``, dropping the least recently used items."""
        with self.lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def get_or_create(self, key, create):
        """The value of ``key``, made by ``create()`` (once) when missing.

        ``create`` runs under the lock, so that threads asking for the same
        missing key at once build it once (e.g. a model of several hundred
        megabytes) instead of each building its own copy.
        """
        with self.lock:
            value = self.get(key, _MISSING)
            if value is _MISSING:
                value = self.set(key, create())
            return value

    def clear(self):
        """Drop every item; return how many there were."""
        with self.lock:
            n = len(self._data)
            self._data.clear()
        return n

    def __len__(self):
        return len(self._data)

    def __contains__(self, key):
        with self.lock:
            return key in self._data

    def __repr__(self):
        return f"BoundedCache({self.name!r}, {len(self)}/{self.maxsize})"


def register_cache(name, maxsize):
    """A new :class:`BoundedCache`, registered under ``name`` (unique)."""
    cache = BoundedCache(name, maxsize)
    with _REGISTRY_LOCK:
        if name in _REGISTRY:
            raise ValueError(f"A cache named {name!r} is already registered.")
        _REGISTRY[name] = cache
    return cache


def clear_caches():
    """Release everything sklearn_pos caches in this process.

    The caches hold the models shared by every :class:`~sklearn_pos.CLIPEmbedder`
    of a set of weights (clones, grid-search candidates, text and image
    embedders), the local files of ``pretrained`` tags, file digests, the
    vocabularies embedded and the subspaces fitted by
    :class:`~sklearn_pos.VocabularyPartOfSpeechAnalysis`, and the embedding
    stores opened for ``memory=``. Everything is recomputed on demand, so
    clearing changes no result; it frees memory (a model can take gigabytes)
    and makes the next use read files again. The on-disk embedding store is
    not touched (see :func:`~sklearn_pos.store.clear_store`).

    Each cache is bounded (least recently used items go first) and may be
    used from several threads; this function may be called from any thread.

    Returns
    -------
    n_cleared : dict of str to int
        How many items each cache held, by cache name: ``"models"``,
        ``"tag_files"``, ``"file_digests"``, ``"vocabulary_embeddings"``,
        ``"vocabulary_subspaces"`` and ``"open_stores"`` (every module that
        owns a cache is imported by ``import sklearn_pos``).

    Examples
    --------
    >>> from sklearn_pos import CLIPEmbedder, clear_caches
    >>> emb = CLIPEmbedder("sklearn-pos-tiny", pretrained=None, device="cpu")
    >>> _ = emb.transform(["dog"])
    >>> clear_caches()["models"] >= 1
    True
    >>> clear_caches()["models"]
    0
    """
    with _REGISTRY_LOCK:
        caches = list(_REGISTRY.values())
    return {cache.name: cache.clear() for cache in caches}
