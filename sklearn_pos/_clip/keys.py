"""Content identities: what makes two sets of weights, or two inputs, the same.

Two kinds of identity, both plain hashable tuples of str / int / None:

- the identity of a model's weights (:func:`random_weights_identity`,
  :func:`checkpoint_identity`, :func:`tag_identity`, :func:`hub_identity`,
  :func:`local_dir_identity`): equal identities mean equal weights. It keys the
  process-wide model cache and is the weights part of every on-disk cache key.
- the identity of one input item (:func:`text_identity`, :func:`image_identity`):
  equal identities mean the embedding can be reused.

Files are identified by absolute path, size and modification time (cheap, and a
rewritten file gets a new identity); in-memory images by a hash of their pixels.
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


def cached_compute(weights_key, settings, content, compute):
    """Target of ``joblib.Memory.cache``: only the first three arguments are hashed."""
    return compute()
