"""Partitions checked when read back: content, job and row range.

When a partition is written, the manifest records the SHA-256 of its bytes
(and their number); each data page of the file also carries a CRC. A
partition read back must have the recorded digest, parse with every page
checksum verified, belong to the job and hold exactly the rows of its place
in the plan, in order. So a flipped byte, a file cut short, or one partition
replaced by a copy of another is reported by name, never read as rows.

A partition without a recorded digest (written by a run stopped before it
updated the manifest, or by a version that recorded none) is checked by its
page checksums and its rows alone.
"""

import hashlib

import numpy as np

from .._identity import identity_digest
from ._manifest import JOB_KEY, plan_partitions


class DamagedOutputError(ValueError):
    """Partitions of an output folder are damaged; the message names them.

    Rerunning the job that wrote the folder re-embeds the damaged partitions
    and keeps the others.

    Attributes
    ----------
    damaged : dict
        File name of each damaged partition: what is wrong with it.
    """

    def __init__(self, message, *, damaged=None):
        super().__init__(message)
        self.damaged = dict(damaged or {})

    def __reduce__(self):
        return (_rebuild_damaged, (str(self), self.damaged))


def _rebuild_damaged(message, damaged):
    return DamagedOutputError(message, damaged=damaged)


def checked_plan(manifest, folder):
    """The partitions of ``manifest``, checked against the plan of its job.

    The plan follows from the row count and the partition size; a manifest
    whose list of partitions differs (edited, or damaged) would make rows
    go missing or repeat, and one whose job id is not the digest of its job
    description would take every partition for another job's: both are
    refused.
    """
    try:
        job = manifest["job"]
        plan = plan_partitions(
            int(job["source"]["n_rows"]), int(job["partition_size"])
        )
        parts = manifest["partitions"]
        # the job id is the digest of the description: equal unless edited
        same = manifest["job_id"] == identity_digest(job)
        same = same and len(parts) == len(plan) and all(
            {k: p.get(k) for k in ("index", "start", "stop", "file")} == q
            for p, q in zip(parts, plan)
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        same = False
    if not same:
        raise ValueError(
            f"The partitions or job id in {folder}/_manifest.json do not match the "
            "job it describes (the file was edited or damaged): rows would be "
            "missing or repeated. Remove the folder and run the job again."
        )
    return parts


def _rows_text(rows):
    if len(rows) == 0:
        return "no rows"
    if np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
        return f"rows {rows[0]}-{rows[-1]}"
    return f"{len(rows)} rows from {rows.min()} to {rows.max()}, not consecutive"


def load_partition(path, part, job_id, *, verify_only=False):
    """Read the partition ``part`` from ``path`` and check it.

    Parameters
    ----------
    path : Path
        The partition file.
    part : dict
        Its entry in the manifest (``start``, ``stop``, and ``sha256`` once
        recorded).
    job_id : str
        The job the folder holds.
    verify_only : bool, default=False
        With a recorded digest, compare it and parse nothing (what a resume
        needs); otherwise parse and check the rows too.

    Returns
    -------
    table : pyarrow.Table or None
        The rows (None with ``verify_only`` or when damaged).
    sha256 : str or None
        Digest of the file's bytes (None when missing).
    problem : str or None
        ``"missing"``, or why the partition is damaged; None when sound.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None, "missing"
    checksum = hashlib.sha256(data).hexdigest()
    recorded = part.get("sha256")
    if recorded is not None and checksum != recorded:
        return None, checksum, (
            f"its content ({len(data):,} bytes) differs from what was written "
            f"({part.get('bytes', '?'):,} bytes, SHA-256 recorded in the manifest)"
            if isinstance(part.get("bytes"), int)
            else "its content differs from the SHA-256 recorded in the manifest"
        )
    if recorded is not None and verify_only:
        return None, checksum, None
    try:
        table = pq.read_table(pa.BufferReader(data), page_checksum_verification=True)
        rows = table.column("row").to_numpy()
    except Exception as exc:  # noqa: BLE001 - any reason it cannot be parsed
        return None, checksum, f"it is not a readable partition ({exc})"
    if (table.schema.metadata or {}).get(JOB_KEY) != job_id.encode():
        return None, checksum, "it was written by another job"
    start, stop = int(part["start"]), int(part["stop"])
    if not np.array_equal(rows, np.arange(start, stop)):
        return None, checksum, (
            f"it holds {_rows_text(rows)} where rows {start}-{stop - 1} belong "
            "(a copy of another partition, or a file of another run)"
        )
    return (None if verify_only else table), checksum, None


def damaged_message(folder, damaged, *, action):
    """One message naming each damaged partition, and what to do."""
    names = sorted(damaged)
    listed = "; ".join(f"{name}: {damaged[name]}" for name in names[:5])
    more = f"; and {len(names) - 5} more" if len(names) > 5 else ""
    return (
        f"{folder}: {len(names)} partition{'s' if len(names) > 1 else ''} "
        f"{'are' if len(names) > 1 else 'is'} damaged ({listed}{more}). {action}"
    )
