"""One partition of a job: embed its items, write them as one Parquet file.

This is the unit of work, run in the job's own process or as one task on a
Dask worker. The model comes from the process-wide cache of
:class:`~sklearn_pos.CLIPEmbedder`, so a worker loads it once and keeps it for
every partition it runs. The file is written under a temporary name and
renamed into place: a partition file exists whole or not at all, and a task
run twice (a worker lost after writing, before reporting) writes the same
file twice, never two copies of its rows.
"""

import errno
import functools
import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .._io import atomic_write
from ._manifest import JOB_KEY, canonical

#: Errors a partition reports back in full (all are counted, and all are in
#: the output's ``error`` column).
MAX_REPORTED_ERRORS = 20


class EmbedItemError(ValueError):
    """An item could not be embedded, with ``on_error="raise"``.

    Attributes
    ----------
    row : int
        Position of the item in the source (0-based).
    source : str or None
        The item: its path (images) or text; None for a missing value.
    reason : str
        Why it could not be embedded.
    """

    def __init__(self, message, *, row, source, reason):
        super().__init__(message)
        self.row = row
        self.source = source
        self.reason = reason

    def __reduce__(self):
        # keyword-only arguments are not in ``args``: needed to travel back from
        # a Dask worker
        return (
            functools.partial(
                type(self), row=self.row, source=self.source, reason=self.reason
            ),
            (str(self),),
        )


def item_error(row, item, reason):
    shown = "a missing value" if item is None else repr(item)
    return EmbedItemError(
        f"Row {row} ({shown}) could not be embedded: {reason}. Fix or remove it, "
        "or let the job record the error and go on (on_error='skip', "
        "--on-error skip).",
        row=row,
        source=item,
        reason=reason,
    )


def _static_error(item, modality):
    """Why ``item`` cannot be embedded, found without reading anything, or None."""
    if item is None:
        return "missing value"
    if not item.strip():
        return "empty text" if modality == "text" else "empty path"
    if not is_unicode(item):
        # A file name of bytes that are not UTF-8 (os.walk gives them as lone
        # surrogates): the row is kept, under a readable form of the name, and
        # flagged like an unreadable image, so one such name does not stop the
        # job and the rows keep their positions.
        if modality == "text":
            return "the text is not valid Unicode (it holds a lone surrogate)"
        return (
            "UnicodeError: the file name is not valid UTF-8; rename the file "
            "(e.g. convmv -f latin1 -t utf8) to embed it"
        )
    return None


def is_unicode(item):
    """Whether ``item`` can be written as UTF-8 (no lone surrogates)."""
    try:
        item.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(item):
    """``item`` as it can be stored in a string column (UTF-8).

    A name read from bytes that are not UTF-8 shows its bad bytes escaped
    (``caf\\xe9.png``).
    """
    if item is None or is_unicode(item):
        return item
    try:
        raw = item.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return item.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _resolve(item, base_dir):
    return item if os.path.isabs(item) else os.path.join(base_dir, item)


def _file_error(path):
    if not os.path.exists(path):
        return f"FileNotFoundError: no such file {path!r}"
    if not os.path.isfile(path):
        return f"IsADirectoryError: {path!r} is not a file"
    return None


def _decode_error(path):
    from .._clip import load_rgb

    try:
        load_rgb(path)
    except Exception as exc:  # noqa: BLE001 - any reason a file cannot be read
        return f"{type(exc).__name__}: {exc}"
    return None


def _device(requested, spread_gpus):
    """The device of this process: with several GPUs, worker ``i`` takes GPU ``i``."""
    if requested != "auto" or not spread_gpus:
        return requested
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count < 2:
        return requested
    try:
        from distributed import get_worker

        name = get_worker().name
    except (ImportError, ValueError):
        return requested
    if isinstance(name, int):
        return f"cuda:{name % count}"
    return requested


def embedder_for(embedder, spread_gpus=False):
    """The job's embedder, cloned and set for this process (the model is shared).

    A clone keeps the caller's embedder as it was; the process-wide model
    cache of :class:`~sklearn_pos.CLIPEmbedder` makes every clone in a
    process share one loaded model.
    """
    from sklearn.base import clone

    local = clone(embedder)
    local.set_params(device=_device(embedder.device, spread_gpus))
    if multiprocessing.current_process().daemon:
        # A daemonic process (a Dask worker by default) cannot start the
        # DataLoader's decoding processes: decode in this one.
        local.set_params(num_workers=0)
    return local


def model_identity(embedder, spread_gpus=False):
    """What the job's embeddings are made by, by content, and their width.

    The embedder's own :meth:`~sklearn_pos.CLIPEmbedder.identity`, computed
    where the model runs (the process of a local job, a worker of a
    cluster), so that the weights' digest is that of the file actually read.
    The local paths (and their sizes and times) that name the weights in the
    identity's ``weights`` entry are left out when the weights' digest is
    known: the same weights give the same description on every machine.

    Returns
    -------
    identity : dict
    embedding_dim : int
    """
    local = embedder_for(embedder, spread_gpus)
    identity = dict(local.identity())
    if identity.get("weights_content"):
        # The digest names the weights; the first entry says of which kind
        # (tag, file, hub, local folder) they are.
        identity["weights"] = list(identity["weights"][:1])
    # Loaded here, on the device this process's partitions use, so that the
    # model loads once.
    dim = local.get_model().embed_dim
    return canonical(identity), int(dim)


def _reason(exc):
    """The cause in an :class:`~sklearn_pos.ImageReadError` message."""
    text = str(exc)
    head = f"({exc.source}): "
    return text.partition(head)[2] if head in text else text


def _embed_images(embedder, items, paths, errors, ok, rows, on_error):
    """Embeddings of the images ``ok``; unreadable ones get an entry in ``errors``.

    The batched encoder stops at the first image it cannot read. Then every
    remaining file is decoded once, in threads, to find all such images, and
    the readable ones are encoded again: a partition without a bad file pays
    nothing for this, one with bad files pays one extra decoding pass.

    Returns the positions embedded and their embeddings (None if none is).
    """
    from .._clip import ImageReadError

    keep = list(ok)
    checked = False
    while keep:
        try:
            return keep, embedder.transform([paths[i] for i in keep])
        except ImageReadError as exc:
            bad = keep[exc.row]
            if on_error == "raise":
                raise item_error(rows[bad], items[bad], _reason(exc)) from None
            if not checked:
                workers = min(8, (os.cpu_count() or 1) + 2)
                with ThreadPoolExecutor(workers) as pool:
                    found = list(pool.map(_decode_error, [paths[i] for i in keep]))
                for i, reason in zip(keep, found):
                    errors[i] = reason
                checked = True
            if errors[bad] is None:
                # Decodes alone, yet fails in the encoder (its preprocessing).
                errors[bad] = _reason(exc)
            keep = [i for i in keep if errors[i] is None]
    return [], None


def embed_items(embedder, items, start, *, base_dir, on_error):
    """Embed ``items`` (rows ``start``...), recording why any item failed.

    Returns
    -------
    ok : list of int
        Positions (in ``items``) of the rows embedded.
    E : ndarray of shape (len(ok), d) or None
        Their embeddings, in order; None when no row is embedded.
    errors : list of (str or None)
        One entry per item: None, or why it has no embedding.
    """
    modality = embedder.modality
    n = len(items)
    rows = list(range(start, start + n))
    errors = [_static_error(item, modality) for item in items]
    first_static = next((i for i, e in enumerate(errors) if e is not None), None)
    if on_error == "raise" and first_static is not None:
        # An earlier row may fail too: the first bad row is the one reported.
        if first_static:
            embed_items(
                embedder,
                items[:first_static],
                start,
                base_dir=base_dir,
                on_error="raise",
            )
        raise item_error(rows[first_static], items[first_static], errors[first_static])
    if modality == "text":
        ok = [i for i in range(n) if errors[i] is None]
        return ok, (embedder.transform([items[i] for i in ok]) if ok else None), errors
    paths = [None if item is None else _resolve(item, base_dir) for item in items]
    if on_error == "skip":
        # Missing files are found by a stat, before any decoding.
        for i, path in enumerate(paths):
            if errors[i] is None:
                errors[i] = _file_error(path)
    ok = [i for i in range(n) if errors[i] is None]
    ok, E = _embed_images(embedder, items, paths, errors, ok, rows, on_error)
    return ok, E, errors


def partition_table(rows, items, ok, E, errors, *, dim, dtype, job_id):
    """The Parquet table of one partition: ``row, source, embedding, error``."""
    import pyarrow as pa

    n = len(items)
    values = np.full((n, dim), np.nan, dtype=dtype)
    valid = np.zeros(n, dtype=bool)
    if ok:
        E = np.asarray(E)
        if E.shape[1] != dim:
            raise RuntimeError(
                f"the model gave {E.shape[1]}-dimensional embeddings where the job "
                f"expects {dim}: every worker must load the same model."
            )
        values[ok] = E.astype(dtype, copy=False)
        valid[ok] = True
    value_type = pa.float16() if dtype == "float16" else pa.float32()
    # A row without an embedding holds a list of nulls (NaN in pandas), not a
    # null list: pyarrow before 26 cannot read null fixed-size lists back from
    # Parquet, and neither can every reader of these files.
    flat = pa.array(values.reshape(-1), type=value_type, mask=np.repeat(~valid, dim))
    embedding = pa.FixedSizeListArray.from_arrays(flat, dim)
    schema = pa.schema(
        [
            ("row", pa.int64()),
            ("source", pa.string()),
            ("embedding", pa.list_(value_type, dim)),
            ("error", pa.string()),
        ],
        metadata={JOB_KEY: job_id.encode()},
    )
    return pa.Table.from_arrays(
        [
            pa.array(rows, type=pa.int64()),
            pa.array([shown(item) for item in items], type=pa.string()),
            embedding,
            pa.array(errors, type=pa.string()),
        ],
        schema=schema,
    )


def output_error(path, exc, what="write"):
    """An OSError on the output as one that names ``path`` and what to do."""
    hint = (
        "check that the path is a writable folder, or choose another output "
        "folder (--output)"
    )
    if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", -1)):
        hint = (
            "free space (or raise the file size limit or quota), or choose another "
            "output folder (--output)"
        )
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "make the folder writable, or choose another output folder (--output)"
    reason = exc.strerror or str(exc)
    return OSError(exc.errno, f"could not {what} {path}: {reason}; {hint}.")


def table_bytes(table):
    """The Parquet file of ``table``, in memory, with page checksums.

    Serialised once, so that the bytes hashed into the manifest are the bytes
    written; each data page also carries its CRC, which readers verify.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, write_page_checksum=True)
    return sink.getvalue()


def write_table(table, path):
    """Write ``table`` to ``path`` atomically; ``(sha256, size)`` of the file."""
    data = table_bytes(table)
    checksum = hashlib.sha256(data).hexdigest()
    try:
        atomic_write(path, lambda f: f.write(data))
    except OSError as exc:
        raise output_error(path, exc) from None
    return checksum, data.size


def embed_partition(task):
    """Embed one partition and write its file; a summary of what was done.

    Parameters
    ----------
    task : dict
        ``index``, ``start``, ``items``, ``file`` (absolute path), ``embedder``
        (the job's :class:`~sklearn_pos.CLIPEmbedder`, unfitted), ``dim``, ``dtype``, ``on_error``,
        ``base_dir`` (where relative image paths start), ``job_id``,
        ``spread_gpus``.

    Returns
    -------
    result : dict
        ``index``, ``sha256`` and ``bytes`` (of the file written),
        ``n_rows``, ``n_errors``, ``errors`` (up to
        :data:`MAX_REPORTED_ERRORS` ``(row, source, error)`` triples),
        ``seconds``, ``pid``.
    """
    started = time.perf_counter()
    embedder = embedder_for(task["embedder"], task.get("spread_gpus", False))
    items, start = task["items"], task["start"]
    ok, E, errors = embed_items(
        embedder, items, start, base_dir=task["base_dir"], on_error=task["on_error"]
    )
    rows = list(range(start, start + len(items)))
    table = partition_table(
        rows,
        items,
        ok,
        E,
        errors,
        dim=task["dim"],
        dtype=task["dtype"],
        job_id=task["job_id"],
    )
    checksum, size = write_table(table, Path(task["file"]))
    failed = [
        (rows[i], shown(items[i]), e) for i, e in enumerate(errors) if e is not None
    ]
    return {
        "index": task["index"],
        "sha256": checksum,
        "bytes": size,
        "n_rows": len(items),
        "n_errors": len(failed),
        "errors": failed[:MAX_REPORTED_ERRORS],
        "seconds": time.perf_counter() - started,
        "pid": os.getpid(),
    }
