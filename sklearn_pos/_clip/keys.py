"""Content identities: what makes two sets of weights, or two inputs, the same.

Two kinds of identity, both plain hashable tuples of str / int / None:

- the identity of a model's weights (:func:`random_weights_identity`,
  :func:`checkpoint_identity`, :func:`tag_identity`, :func:`hub_identity`,
  :func:`local_dir_identity`): equal identities mean equal weights. It keys the
  process-wide model cache and is the weights part of every on-disk cache key.
- the identity of one input item (:func:`text_identity`, :func:`image_identity`):
  equal identities mean the embedding can be reused.

For the process-wide model cache, files are identified by absolute path, size
and modification time (cheap); for the embedding store (:func:`store_item_key`,
:func:`weights_content`), by the digest of their bytes, so a copy is a hit and a
rewrite that keeps size and modification time is not served stale.
The tuples are part of the on-disk cache keys: changing what they hold changes
every key, so bump the cache format of :mod:`sklearn_pos.embedding` with them.
"""

import hashlib
import json
import os

import numpy as np


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


def local_dir_identity(config_path, checkpoint_path):
    """A ``local-dir:`` folder, by its config and weights files."""
    return ("local-dir",) + file_identity(config_path) + file_identity(checkpoint_path)


# ---------------------------------------------------------------------- input items


def text_identity(text):
    """A text is its own identity."""
    return text


def image_identity(item):
    """Hashable description of an image input's content.

    Paths give ``("path", absolute path, size, mtime)`` (size and mtime ``None``
    when the file cannot be read: the read error is reported at encoding time),
    arrays ``("array", shape, dtype, pixel hash)``, PIL images
    ``("pil", mode, size, pixel hash)``; any other object falls back to its ``id``.
    """
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        try:
            st = os.stat(path)
        except OSError:
            return ("path", os.path.abspath(path), None, None)
        return ("path", os.path.abspath(path), st.st_size, st.st_mtime_ns)
    if isinstance(item, np.ndarray):
        arr = np.ascontiguousarray(item)
        digest = hashlib.blake2b(arr.tobytes(), digest_size=16).hexdigest()
        return ("array", arr.shape, str(arr.dtype), digest)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        Image = None
    if Image is not None and isinstance(item, Image.Image):
        digest = hashlib.blake2b(item.tobytes(), digest_size=16).hexdigest()
        return ("pil", item.mode, item.size, digest)
    return ("object", type(item).__name__, id(item))


# ------------------------------------------------------------ embedding-store keys

_FILE_DIGESTS = {}


def file_digest(path):
    """BLAKE2b digest of a file's bytes, memoised by its full ``stat``.

    The memo is keyed by inode, size, modification *and* change time: tools that
    rewrite a file and restore its modification time (``cp -p``, ``rsync -t``)
    cannot restore its change time, so a rewritten file is always read again.
    """
    st = os.stat(path)
    memo = (
        os.path.abspath(path),
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    )
    digest = _FILE_DIGESTS.get(memo)
    if digest is None:
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
        digest = _FILE_DIGESTS[memo] = h.hexdigest()
    return digest


def weights_content(spec):
    """What the weights of ``spec`` are, by content: the checkpoint's digest.

    Random weights are described by their architecture and seed (already in
    ``spec.identity``); hub and local folders by the digests of their files.
    """
    paths = [p for p in spec.identity if isinstance(p, str) and os.path.isfile(p)]
    if spec.checkpoint is not None:
        paths = [spec.checkpoint]
    return [file_digest(p) for p in paths]


def store_item_key(item, modality):
    """The embedding-store key of one input, or ``None`` when it cannot be read.

    Texts are keyed by their characters; image files by their bytes (not their
    name: a copy is the same image, a rewrite is another); arrays by shape,
    dtype and bytes; PIL images by mode, size, palette, transparency, the EXIF
    orientation that is applied when decoding, and their pixels.
    """
    from ..store import item_key

    if modality == "text":
        return item_key(b"text\0" + item.encode("utf-8", "surrogatepass"))
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
