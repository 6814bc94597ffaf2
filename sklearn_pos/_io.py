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
