"""Files written whole or not at all (the one atomic write of the package), and
the one normalisation of a ``pretrained`` value naming a local file."""

import os
import uuid
from pathlib import Path

#: Prefix of the temporary files of :func:`atomic_write`; readers skip them.
TMP_PREFIX = ".tmp-"


def atomic_write(path, write):
    """Write ``path`` with ``write(file)`` under a temporary name, then rename it.

    Readers see the old file or the whole new one, never a part: the data are
    flushed to disk before the rename, and a process killed on the way leaves
    at most a temporary file (its name starts with :data:`TMP_PREFIX`).
    """
    path = Path(path)
    tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}-{path.name}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def absolute_weights(pretrained):
    """``pretrained`` with a local file as an absolute path; anything else as is.

    A path-like, or a string naming an existing file (``~`` expanded), becomes
    the file's absolute path, so that another process or machine (a Dask
    worker, a later ``zero-shot`` run) reads the same file; tags,
    ``hf-hub:``/``local-dir:`` names and ``None`` are left unchanged.
    """
    if pretrained is None:
        return None
    if isinstance(pretrained, os.PathLike):
        return os.path.abspath(os.fspath(pretrained))
    if isinstance(pretrained, str) and not pretrained.startswith(
        ("hf-hub:", "local-dir:")
    ):
        expanded = os.path.expanduser(pretrained)
        if os.path.isfile(expanded):
            return os.path.abspath(expanded)
    return pretrained
