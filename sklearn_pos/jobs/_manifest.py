"""The plan of a job (its partitions) and the manifest that records it.

The manifest, ``_manifest.json`` in the output folder, holds what the output
*is*: the source (kind, column, row count, digest of the items), the
embedder's identity (architecture, the digest of the weights' bytes or the
seed, preprocessing, modality, precision, normalisation), the stored dtype
and the partitioning. A rerun computes the same description and
refuses to write into a folder whose manifest says otherwise, so one folder
never mixes two jobs' rows. Settings that do not change the output (device,
batch size, scheduler, error policy) are recorded but not compared.

The leading underscore keeps readers of the folder (pyarrow, pandas, Dask)
from taking the manifest, or temporary files, for data.
"""

import json
import time
from pathlib import Path

from .._io import atomic_write
from .._identity import identity_digest

#: Bump when the layout of the output changes. 2: the model is described by
#: the embedder's own identity (:meth:`CLIPEmbedder.identity`).
FORMAT = 2
MANIFEST = "_manifest.json"
#: Key of the Parquet schema metadata naming the job a partition belongs to.
JOB_KEY = b"sklearn_pos.job"


class ManifestMismatchError(ValueError):
    """The output folder holds another job's rows; the message lists the differences.

    Attributes
    ----------
    differences : list of str
        One line per differing field: its name, this job's value, the folder's.
    """

    def __init__(self, message, *, differences=()):
        super().__init__(message)
        self.differences = list(differences)

    def __reduce__(self):
        return (_rebuild_mismatch, (str(self), self.differences))


def _rebuild_mismatch(message, differences):
    return ManifestMismatchError(message, differences=differences)


def canonical(value):
    """``value`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def describe_job(source, model, *, partition_size, dtype):
    """The part of the manifest that two runs into one folder must share.

    ``model`` is the embedder's description (:func:`._partition.model_identity`),
    which holds the modality, precision and normalisation too.
    """
    return canonical(
        {
            "format": FORMAT,
            "source": {
                "kind": source.kind,
                "column": source.column,
                "n_rows": len(source.items),
                "items": source.fingerprint(),
            },
            "model": model,
            "dtype": dtype,
            "partition_size": int(partition_size),
        }
    )


def partition_name(index, n_partitions):
    width = max(5, len(str(max(0, n_partitions - 1))))
    return f"part-{index:0{width}d}.parquet"


def plan_partitions(n_rows, partition_size):
    """``[{"index", "start", "stop", "file"}]``: consecutive rows, in order."""
    n = -(-n_rows // partition_size)
    return [
        {
            "index": i,
            "start": i * partition_size,
            "stop": min(n_rows, (i + 1) * partition_size),
            "file": partition_name(i, n),
        }
        for i in range(n)
    ]


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: value}


def differences(job, recorded):
    """Lines ``field: this run X, the folder Y`` for each differing field."""
    here, there = _flatten(job), _flatten(recorded)
    lines = []
    for key in sorted(set(here) | set(there)):
        if here.get(key) != there.get(key):
            lines.append(
                f"{key}: this run {here.get(key)!r}, the folder {there.get(key)!r}"
            )
    return lines


def read_manifest(folder):
    """The manifest of ``folder`` as a dict, or None when there is none."""
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{path} cannot be read ({exc}). It describes the job that wrote this "
            "folder: restore it, or remove the folder to start over."
        ) from None


def write_manifest(folder, manifest):
    text = json.dumps(manifest, sort_keys=True, indent=1, default=str) + "\n"
    atomic_write(Path(folder) / MANIFEST, lambda f: f.write(text.encode("utf-8")))


def new_manifest(job, partitions, embedding_dim, settings):
    from .._version import __version__

    return {
        "job": job,
        "job_id": identity_digest(job),
        "embedding_dim": embedding_dim,
        "partitions": partitions,
        "settings": settings,
        "sklearn_pos_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "complete": False,
    }
