"""``read_embeddings``: the output of a job as an array and a table."""

import os
from pathlib import Path

import numpy as np

from ._manifest import MANIFEST, read_manifest
from ._verify import DamagedOutputError, checked_plan, damaged_message, load_partition


def read_embeddings(path, *, errors="nan", dtype=np.float32, allow_incomplete=False):
    """Read the output folder of :func:`embed_collection` as ``(X, meta)``.

    Parameters
    ----------
    path : str or path-like
        The ``output`` folder of the job.

    errors : {"nan", "drop"}, default="nan"
        Rows that could not be embedded: ``"nan"`` keeps them as rows of NaN,
        so that ``X[i]`` is row ``i`` of the source; ``"drop"`` leaves them
        out (what a nearest-neighbour index wants; ``meta["row"]`` then maps
        each row of ``X`` back to the source).

    dtype : numpy dtype or None, default=np.float32
        Type of ``X``; ``None`` keeps the stored type (float16 with
        ``dtype="float16"`` in the job).

    allow_incomplete : bool, default=False
        Read the partitions written so far when the job has not finished,
        instead of raising.

    Returns
    -------
    X : ndarray of shape (n_rows, embedding_dim)
        The embeddings, ordered by ``row``.

    meta : pandas.DataFrame
        One row per row of ``X``: ``row`` (position in the source),
        ``source`` (the path or text) and ``error`` (None, or why the item has
        no embedding).

    Raises
    ------
    FileNotFoundError
        If ``path`` holds no job output (no ``_manifest.json``).
    ValueError
        If partitions are missing (the job has not finished) and
        ``allow_incomplete`` is False.
    DamagedOutputError
        If a partition is not what was written: its bytes differ from the
        SHA-256 recorded in the manifest, a page fails its checksum, or it
        holds other rows than its own (a copy of another partition). The
        message names each such file; rerunning the job re-embeds them.

    See Also
    --------
    embed_collection : Write such a folder.

    Examples
    --------
    >>> from sklearn_pos import CLIPEmbedder, embed_collection, read_embeddings
    >>> text = CLIPEmbedder("sklearn-pos-tiny", pretrained=None, device="cpu")
    >>> _ = embed_collection(["a dog", ""], "emb", embedder=text, progress=False)
    >>> X, meta = read_embeddings("emb")
    >>> X.shape
    (2, 64)
    >>> meta
       row source       error
    0    0  a dog        None
    1    1         empty text
    >>> X, meta = read_embeddings("emb", errors="drop")
    >>> X.shape, meta["row"].tolist()
    ((1, 64), [0])
    """
    import pandas as pd

    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            'Reading the output needs pyarrow: pip install "sklearn_pos[distributed]" '
            "(or pip install pyarrow)."
        ) from exc
    if errors not in ("nan", "drop"):
        raise ValueError(f"errors must be 'nan' or 'drop', got {errors!r}.")
    folder = Path(os.path.expanduser(os.fspath(path)))
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is None:
        raise FileNotFoundError(
            f"{folder} holds no {MANIFEST}: it is not the output folder of "
            "embed_collection (sklearn-pos embed). Plain Parquet files can be read "
            "with pandas.read_parquet."
        )
    parts = checked_plan(manifest, folder)
    # Each partition is checked as it is read: its bytes against the digest
    # recorded when it was written, its pages against their checksums, its
    # rows against its place in the plan (so rows are unique and complete).
    tables, missing, damaged = [], [], {}
    for part in parts:
        table, _, problem = load_partition(
            folder / part["file"], part, manifest["job_id"]
        )
        if problem == "missing":
            missing.append(part["file"])
        elif problem is not None:
            damaged[part["file"]] = problem
        else:
            tables.append(table)
    if damaged:
        raise DamagedOutputError(
            damaged_message(
                folder,
                damaged,
                action="Run the same embed command (embed_collection call) again: it "
                "embeds these partitions anew and keeps the others.",
            ),
            damaged=damaged,
        )
    if missing and not allow_incomplete:
        raise ValueError(
            f"{folder} is incomplete: {len(missing)} of {len(parts)} partitions are "
            f"missing ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}). "
            "Run the same embed command again to compute them (the others are "
            "kept), or pass allow_incomplete=True to read what is there."
        )
    dim = int(manifest["embedding_dim"])
    stored = np.float16 if manifest["job"].get("dtype") == "float16" else np.float32
    out_dtype = stored if dtype is None else np.dtype(dtype)
    if tables:
        table = pa.concat_tables(tables)
    else:
        table = None
    if table is None or table.num_rows == 0:
        meta = pd.DataFrame(
            {
                "row": np.empty(0, np.int64),
                "source": np.empty(0, object),
                "error": np.empty(0, object),
            }
        )
        return np.empty((0, dim), out_dtype), meta
    column = table.column("embedding").combine_chunks()
    valid = table.column("error").is_null().to_numpy(zero_copy_only=False)
    # A fixed-size list's values hold every slot; nulls (the rows without an
    # embedding) come out as NaN.
    values = column.values.to_numpy(zero_copy_only=False)
    start = column.offset * dim
    X = values[start : start + len(column) * dim].reshape(len(column), dim)
    X = X.astype(out_dtype, copy=True)
    X[~valid] = np.nan
    meta = pd.DataFrame(
        {
            "row": table.column("row").to_numpy(),
            # object columns keep None for a missing value on every pandas
            "source": pd.Series(table.column("source").to_pylist(), dtype=object),
            "error": pd.Series(table.column("error").to_pylist(), dtype=object),
        }
    )
    order = np.argsort(meta["row"].to_numpy(), kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        X, meta = X[order], meta.iloc[order].reset_index(drop=True)
    if errors == "drop":
        keep = valid[order]
        X, meta = X[keep], meta[keep].reset_index(drop=True)
    return X, meta
