"""Content identities and digests: when two models, inputs or records are the same.

The one home of every identity and digest of sklearn_pos:

- :func:`identity_digest`: the digest of any JSON-serialisable identity (the
  folder name of a model's namespace in the embedding store, the name of a
  request record, the digest of an embed job's manifest entries);
- :func:`item_key`: the 16-byte key of one input item's canonical bytes, and
  :func:`store_item_key` / :func:`store_item_keys`, the keys of texts, image
  files (by their bytes), arrays and PIL images;
- :func:`file_digest`: the digest of a file's bytes, memoised per process by
  the file's full status; :func:`values_digest`, of an array of words or
  numbers (a vocabulary);
- the identity of a model's weights (:func:`random_weights_identity`,
  :func:`checkpoint_identity`, :func:`tag_identity`, :func:`hub_identity`,
  :func:`local_dir_identity`, :func:`transformers_identity`): plain hashable
  tuples of str / int / None; equal identities mean equal weights. They key
  the process-wide model cache and are the weights part of every on-disk key;
- request records (:func:`weights_request`, :func:`request_record`,
  :func:`request_is_current`): what an embedder's weights resolved to, checked
  later without importing torch or open_clip.

For the process-wide model cache, files are identified by absolute path, size
and modification time (cheap); for the embedding store (:func:`store_item_key`,
:func:`weights_content`), by the digest of their bytes, so a copy is a hit and a
rewrite that keeps size and modification time is not served stale.
The tuples are part of the on-disk cache keys: changing what they hold changes
every key, so bump the cache format of :mod:`sklearn_pos.embedding` with them.

Nothing here imports torch, open_clip or Pillow at module level.
"""

import hashlib
import json
import os

import numpy as np

from ._caches import register_cache

#: Bytes of an item key (BLAKE2b digest).
KEY_BYTES = 16

# Digests of the files read in this process, keyed by their full status. Each
# entry is small; the bound only stops a long-running process that hashes many
# files (image folders) from growing without limit.
_FILE_DIGESTS = register_cache("file_digests", maxsize=65536)


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
    """Hex digest (32 characters) of a JSON-serialisable identity.

    Keys are sorted and values that JSON cannot hold are written with ``str``,
    so equal identities give equal digests in every process and on every
    machine.

    Examples
    --------
    >>> from sklearn_pos._identity import identity_digest
    >>> identity_digest({"a": 1, "b": [2, 3]}) == identity_digest({"b": [2, 3], "a": 1})
    True
    """
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def file_identity(path):
    """``(absolute path, size, mtime in ns)`` of an existing file."""
    st = os.stat(path)
    return (os.path.abspath(path), st.st_size, st.st_mtime_ns)


def config_identity(model_name):
    """The open_clip architecture config of ``model_name``, as canonical JSON."""
    import open_clip

    cfg = open_clip.get_model_config(model_name)
    return json.dumps(cfg, sort_keys=True, default=str)


# ------------------------------------------------------------------- model weights


def random_weights_identity(arch, seed):
    """Random weights of architecture ``arch`` drawn with ``seed``."""
    return ("random", arch, config_identity(arch), seed)


def checkpoint_identity(arch, path):
    """Architecture ``arch`` with the weights of the checkpoint file ``path``."""
    return ("file", arch, config_identity(arch)) + file_identity(path)


def tag_identity(arch, tag, path):
    """The open_clip tag ``tag`` of ``arch``, stored locally at ``path``."""
    return ("tag", arch, tag, path)


def hub_identity(repo_id, config_path, weights_path):
    """A Hugging Face hub repository, by the cached snapshot files it resolved to."""
    return (
        "hf-hub",
        repo_id,
        os.path.realpath(config_path),
        os.path.realpath(weights_path),
    )


def transformers_identity(name, revision, folder, paths):
    """A transformers model: its folder or hub id, and every content file.

    ``paths`` are the weight, config, processor and tokenizer files of the
    ``save_pretrained`` folder ``folder``; each enters with its size and
    modification time, so a model saved again into the same folder has
    another identity (and the store keys it by the files' digests).
    """
    head = ("transformers", name, revision, folder)
    return head + tuple(v for p in paths for v in file_identity(p))


def local_dir_identity(config_path, checkpoint_path):
    """A ``local-dir:`` folder, by its config and weights files."""
    return ("local-dir",) + file_identity(config_path) + file_identity(checkpoint_path)


# ---------------------------------------------------------------------- vocabularies


def values_digest(values):
    """Fast content digest of an array of words, labels or numbers.

    Order-sensitive and unambiguous (the lengths of the texts are part of it).
    A few milliseconds for the 141,445 WordNet words, where pickling them for
    ``joblib.hash`` takes half a second: every grid-search candidate pays it.

    Examples
    --------
    >>> from sklearn_pos._identity import values_digest
    >>> values_digest(["ab", "c"]) == values_digest(["a", "bc"])
    False
    """
    arr = np.asarray(values)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{arr.dtype.kind}{arr.shape}".encode())
    if arr.dtype.kind in "OUS":
        texts = [str(v) for v in arr.ravel().tolist()]
        h.update(np.fromiter(map(len, texts), np.int64, len(texts)).tobytes())
        h.update("\0".join(texts).encode("utf-8", "surrogatepass"))
    else:
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


# ------------------------------------------------------------ embedding-store keys


def file_digest(path):
    """BLAKE2b digest of a file's bytes, memoised by its full ``stat``.

    The memo is keyed by inode, size, modification *and* change time: tools that
    rewrite a file and restore its modification time (``cp -p``, ``rsync -t``)
    cannot restore its change time, so a rewritten file is always read again.
    """
    memo = tuple(full_status(path))
    digest = _FILE_DIGESTS.get(memo)
    if digest is None:
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
        digest = _FILE_DIGESTS.set(memo, h.hexdigest())
    return digest


def weights_content(spec):
    """What the weights of ``spec`` are, by content: the checkpoint's digest.

    Random weights are described by their architecture and seed (already in
    ``spec.identity``); hub and local folders by the digests of their files.
    """
    paths = _identity_files(spec)
    if spec.checkpoint is not None:
        paths = [spec.checkpoint]
    return [file_digest(p) for p in paths]


def _identity_files(spec):
    """The existing files named in a weights identity."""
    entries = spec.identity
    if spec.kind == "transformers":
        # after (kind, name, revision, folder): the content files; a revision
        # named like a file in the working folder is not one of them
        entries = entries[4:]
    return [p for p in entries if isinstance(p, str) and os.path.isfile(p)]


def store_item_keys(items, modality):
    """:func:`store_item_key` of every item (texts in one fast pass)."""
    if modality == "text":
        blake2b = hashlib.blake2b
        return [
            blake2b(
                b"text\0" + t.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES
            ).digest()
            for t in items
        ]
    return [store_item_key(item, modality) for item in items]


def store_item_key(item, modality):
    """The embedding-store key of one input, or ``None`` when it cannot be read.

    Texts are keyed by their characters; image files by their bytes (not their
    name: a copy is the same image, a rewrite is another); arrays by shape,
    dtype and bytes; PIL images by mode, size, palette, transparency, the EXIF
    orientation that is applied when decoding, and their pixels.
    """
    if modality == "text":
        return store_item_keys([item], "text")[0]
    if isinstance(item, (str, os.PathLike)):
        try:
            return item_key(b"file\0" + bytes.fromhex(file_digest(os.fspath(item))))
        except OSError:
            return None  # reported by the decoder, with its row
    if isinstance(item, np.ndarray):
        arr = np.ascontiguousarray(item)
        head = f"array\0{arr.shape}\0{arr.dtype.str}\0".encode()
        return item_key(head + arr.tobytes())
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        return None
    if isinstance(item, Image.Image):
        palette = item.getpalette() if item.mode in ("P", "PA") else None
        orientation = item.getexif().get(0x0112) if hasattr(item, "getexif") else None
        if orientation not in (None, 1):
            # Marks the entries written since the orientation is applied to
            # in-memory images too: older ones hold the image as stored.
            orientation = f"{orientation} applied"
        head = (
            f"pil\0{item.mode}\0{item.size}\0{palette}\0"
            f"{item.info.get('transparency')!r}\0{orientation}\0"
        ).encode()
        return item_key(head + item.tobytes())
    return None


# --------------------------------------------------------------- request records
#
# A *request* is what is known of an embedder before anything is imported or
# loaded: its model name, its ``pretrained`` argument (with the status of a
# checkpoint file it names), its seed and the versions of the libraries that
# build the model. The embedding store records which identity a request resolved
# to, together with the status of every file that identity was read from; a later
# process whose request matches, and whose files are unchanged, can then serve
# stored embeddings without importing torch or open_clip.


def full_status(path):
    """``[path, inode, size, mtime_ns, ctime_ns]`` of a file (after symlinks).

    The change time cannot be restored by ``cp -p`` or ``rsync -t``, so a file
    rewritten in place never keeps this status.
    """
    st = os.stat(path)
    return [
        os.path.abspath(path),
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    ]


def _version(distribution):
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def weights_request(
    model_name, pretrained, random_state, backend="open_clip", revision=None
):
    """What describes the weights of an embedder before anything is loaded.

    JSON-serialisable and cheap: nothing is imported, nothing is hashed. A
    transformers model is described by its folder (absolute) or hub id and
    revision; open_clip requests keep their earlier form, so stores written
    before the transformers backend existed are still found.
    """
    if backend == "transformers":
        if isinstance(model_name, os.PathLike):
            model_name = os.fspath(model_name)
        folder = os.path.expanduser(model_name)
        return {
            "backend": backend,
            "model_name": (
                os.path.abspath(folder) if os.path.isdir(folder) else model_name
            ),
            "revision": revision,
            "transformers": _version("transformers"),
            "torch": _version("torch"),
        }
    if isinstance(pretrained, os.PathLike):
        pretrained = os.fspath(pretrained)
    request = {
        "model_name": model_name,
        "pretrained": pretrained,
        "open_clip": _version("open_clip_torch"),
        "torch": _version("torch"),
    }
    if pretrained is None:
        request["seed"] = int(random_state)
    elif isinstance(pretrained, str) and os.path.isfile(pretrained):
        request["pretrained"] = os.path.abspath(pretrained)
        request["file"] = full_status(pretrained)
    return request


def config_file(arch, config_json):
    """The bundled config file holding ``arch``'s config, or None.

    None when the config was registered at run time (``add_model_config``) or
    differs from the file: then only a process that has open_clip imported can
    check it (:func:`request_is_current`).
    """
    from ._clip.configs import config_folders

    for folder in config_folders():
        path = os.path.join(folder, f"{arch}.json")
        try:
            with open(path, encoding="utf-8") as f:
                on_disk = json.load(f)
        except (OSError, ValueError):
            continue
        if json.dumps(on_disk, sort_keys=True, default=str) == config_json:
            return path
    return None


def _hub_refs(path):
    """The ``refs/`` files of the Hugging Face cache entry holding ``path``."""
    parts = os.path.abspath(path).split(os.sep)
    if "snapshots" not in parts:
        return []
    root = os.sep.join(parts[: parts.index("snapshots")])
    refs = os.path.join(root, "refs")
    try:
        names = sorted(os.listdir(refs))
    except OSError:
        return []
    return [
        os.path.join(refs, n) for n in names if os.path.isfile(os.path.join(refs, n))
    ]


def request_record(spec):
    """What a request resolved to: the files it was read from, and its config.

    Returns a JSON-serialisable dict with ``files`` (the :func:`full_status` of
    every file the weights identity depends on, including a hub cache's
    ``refs/``, so that a new revision is noticed) and ``config`` (the
    architecture's config, with the bundled file holding it, if any).
    """
    paths = _identity_files(spec)
    if spec.checkpoint is not None:
        paths.append(spec.checkpoint)
    for p in list(paths):
        paths.extend(_hub_refs(p))
    files = [full_status(p) for p in dict.fromkeys(paths)]
    config = None
    if spec.kind in ("random", "file", "tag"):
        text = config_identity(spec.model_name)
        path = config_file(spec.model_name, text)
        config = {
            "arch": spec.model_name,
            "json": text,
            "file": None if path is None else full_status(path),
        }
    return {"files": files, "config": config}


def request_is_current(record):
    """Whether the files and config of a :func:`request_record` are unchanged."""
    import sys

    try:
        for status in record["files"]:
            if full_status(status[0]) != status:
                return False
        config = record["config"]
        if config is None:
            return True
        if "open_clip" in sys.modules:
            # Configs may have been registered in this process: compare them.
            from ._clip.configs import register_bundled_configs

            register_bundled_configs()
            return config_identity(config["arch"]) == config["json"]
        status = config["file"]
        return status is not None and full_status(status[0]) == status
    except (OSError, KeyError, TypeError, IndexError, ValueError):
        return False
