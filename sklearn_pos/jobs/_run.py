"""``embed_collection``: plan, resume, run and summarise a job."""

import os
import time
import warnings
from numbers import Integral
from pathlib import Path

from sklearn.base import clone
from sklearn.utils import Bunch

from .._clip.weights import absolute_model_name, absolute_weights
from .._io import TMP_PREFIX
from ._execute import open_executor
from ._lock import output_lock
from ._manifest import (
    MANIFEST,
    ManifestMismatchError,
    describe_job,
    differences,
    new_manifest,
    plan_partitions,
    read_manifest,
    write_manifest,
)
from ._partition import embed_partition, model_identity, output_error
from ._source import read_source
from ._verify import checked_plan, damaged_message, load_partition

#: Seconds between two writes of the manifest while partitions complete.
_SAVE_EVERY_S = 2.0

_PYARROW = (
    'The output is written with pyarrow: pip install "sklearn_pos[distributed]" '
    "(or pip install pyarrow)."
)


def _require_pyarrow():
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise ImportError(_PYARROW) from exc


def _check_params(embedder, partition_size, dtype, on_error):
    from ..embedding import CLIPEmbedder

    if not isinstance(embedder, CLIPEmbedder):
        raise TypeError(
            "embedder must be a CLIPEmbedder, e.g. embedder=CLIPEmbedder("
            "'ViT-B-32', 'openai', modality='image'); got "
            f"{type(embedder).__name__}."
        )
    if not isinstance(partition_size, Integral) or partition_size < 1:
        raise ValueError(
            f"partition_size must be a positive integer, got {partition_size!r}."
        )
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}.")
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}.")


def _absolute_folder(memory):
    """A store folder given as a path-like as an absolute path; others as is."""
    if isinstance(memory, os.PathLike):
        return os.path.abspath(os.fspath(memory))
    return memory


def _prepare_folder(output, job, recorded):
    """Check that ``output`` (a folder) may receive the job's partitions."""
    if recorded is not None:
        diff = differences(job, recorded.get("job", {}))
        if diff:
            raise ManifestMismatchError(
                f"{output} holds the output of another job ({output / MANIFEST}); "
                "mixing the two would give rows of different models, settings or "
                "sources in one table. Differences:\n  "
                + "\n  ".join(diff)
                + "\nRerun with the settings recorded there to finish that job, or "
                "write to another folder (or remove this one).",
                differences=diff,
            )
        return
    stray = sorted(p.name for p in output.glob("*.parquet"))
    if stray:
        raise ManifestMismatchError(
            f"{output} already holds Parquet files ({stray[:3]}...) but no "
            f"{MANIFEST}: they were not written by this job. Write to another "
            "folder, or remove them.",
            differences=[f"{MANIFEST}: missing"],
        )


def _count_errors(path):
    import pyarrow.parquet as pq

    column = pq.read_table(path, columns=["error"]).column("error")
    return len(column) - column.null_count


def _remove_temporary(output):
    for path in output.glob(f"{TMP_PREFIX}*"):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise output_error(path, exc, what="remove the temporary file") from None


def _progress(total, initial, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="row",
        desc="embed",
        dynamic_ncols=True,
    )


def embed_collection(
    source,
    output,
    *,
    embedder,
    column=None,
    partition_size=10_000,
    dtype="float32",
    scheduler=None,
    on_error="skip",
    progress=True,
):
    """Embed a whole collection into Parquet files, resumably, here or on Dask.

    The items of ``source`` are cut into partitions of ``partition_size``
    consecutive rows; each partition is embedded by ``embedder`` (a clone of
    it per process, set to that process's device) and written as one
    Parquet file
    ``output/part-NNNNN.parquet`` with the columns

    - ``row`` (int64): the item's position in ``source``;
    - ``source`` (string): the image path as listed, or the text;
    - ``embedding`` (fixed-size list of float32, or float16 with
      ``dtype="float16"``): for an item that could not be embedded, a list of
      nulls (NaN in pandas);
    - ``error`` (string): null, or why the item could not be embedded.

    ``pandas.read_parquet(output)`` (and Dask, DuckDB, Polars, pyarrow) read
    the folder as one table; :func:`read_embeddings` gives ``(X, meta)``.

    Each file is written under a temporary name and renamed into place. A
    rerun skips the partitions already written and computes the missing ones,
    so a run stopped at any point (even killed) and run again yields every row
    exactly once. ``output/_manifest.json`` records the source, the model (by
    the digest of its weights), the settings that change the numbers and the
    partitions: a rerun with other ones refuses to mix its rows into the
    folder (:class:`ManifestMismatchError`). It also records the SHA-256 of
    each partition file as written, and the files carry page checksums: a
    rerun finds a partition damaged since (a changed byte, a file cut short,
    a copy of another partition), warns, and embeds it again;
    :func:`read_embeddings` refuses to read it. While it runs, a job holds
    the lock file ``output/_job.lock``: a second job on the folder fails at
    once (:class:`OutputLockedError`); the lock of a killed process of this
    host is taken over.

    Parameters
    ----------
    source : str, path-like or sequence of str
        A folder of images (listed by
        :func:`~sklearn_pos.datasets.list_images`: searched recursively for
        the suffixes of :data:`~sklearn_pos.datasets.IMAGE_SUFFIXES`, hidden
        files and folders skipped, paths sorted, as
        :func:`~sklearn_pos.datasets.load_image_folder` lists them); a text
        file of one item per line; a Parquet or CSV (``.csv``, ``.tsv``) file
        whose ``column`` holds the items; or the items themselves. Relative
        image paths start from the current folder.

    output : str or path-like
        The folder of the Parquet files (created if missing).

    embedder : CLIPEmbedder
        The embedder, unfitted; its ``modality`` says what the items are (a
        folder is read as images, so it needs ``modality="image"``). It is
        not changed: each process running partitions uses a clone, set to
        its device (``device="auto"`` on a ``"local:N"`` cluster with several
        GPUs gives worker ``i`` GPU ``i``) and, in a daemonic Dask worker, to
        ``num_workers=0``. With ``memory`` (a folder, shared by every
        worker), items already in the embedding store are not encoded again;
        ``verbose`` is ignored (see ``progress``).

    column : str or None, default=None
        The column of a Parquet or CSV source.

    partition_size : int, default=10_000
        Rows per partition: per file and per task. Smaller partitions lose less
        work to an interruption; larger ones write fewer files.

    dtype : {"float32", "float16"}, default="float32"
        Type of the stored embeddings.

    scheduler : None, str or distributed.Client, default=None
        ``None`` or ``"local"``: this process, one partition after another.
        ``"local:N"``: a Dask ``LocalCluster`` of N worker processes, started
        and stopped by the job (with several GPUs, worker ``i`` uses GPU
        ``i``). An address such as ``"tcp://scheduler:8786"``, or a
        ``distributed.Client``: an existing cluster, whose workers must see
        the images, ``output`` (and ``memory``) at the same paths, on a shared
        file system. Each partition is
        one task; a worker keeps its model for all its tasks, and the task of
        a lost worker is run again elsewhere. An address is asked for its
        identity first: one where no scheduler answers within Dask's
        ``distributed.comm.timeouts.connect`` (30 s by default) fails with a
        ``ValueError`` naming it.

    on_error : {"skip", "raise"}, default="skip"
        ``"skip"``: a missing, empty, corrupt or unreadable item (an image
        whose file name is not valid UTF-8 too) gets an ``error`` and no
        embedding, and the job goes on. ``"raise"``: the job
        stops at the first such item with an :class:`EmbedItemError` naming
        its row and path (the partitions written before it stay).

    progress : bool, default=True
        Show one progress bar (rows and rows/s) over all partitions.

    Returns
    -------
    summary : :class:`~sklearn.utils.Bunch`
        ``output`` (Path), ``n_rows``, ``n_errors`` (in the whole output),
        ``n_partitions``, ``n_written`` and ``n_skipped`` (partitions written
        by this run, and found complete), ``rows_written``, ``embedding_dim``,
        ``seconds`` (of this call), ``rows_per_s`` (rows written per second),
        ``errors`` (up to 20 ``(row, source, error)`` of this run per
        partition), ``damaged`` (the file names of the partitions found
        damaged and embedded again) and ``executor`` (where it ran).

    Raises
    ------
    ManifestMismatchError
        If ``output`` holds the rows of a job with another source, model or
        settings.
    EmbedItemError
        With ``on_error="raise"``, for the first item that cannot be embedded.
    OutputLockedError
        If another job is writing ``output``.
    OSError
        If the output cannot be written (no space left, file too large, no
        permission); the message names the file and what to do.

    See Also
    --------
    read_embeddings : The output as an array and a table.

    Examples
    --------
    >>> from sklearn_pos import CLIPEmbedder, embed_collection, read_embeddings
    >>> text = CLIPEmbedder("sklearn-pos-tiny", pretrained=None, device="cpu")
    >>> summary = embed_collection(
    ...     ["a dog", "a cat", "a red car"], "emb", embedder=text,
    ...     partition_size=2, progress=False,
    ... )
    >>> summary.n_rows, summary.n_partitions, summary.n_errors
    (3, 2, 0)
    >>> X, meta = read_embeddings("emb")
    >>> X.shape, X.dtype
    ((3, 64), dtype('float32'))
    >>> meta.columns.tolist()
    ['row', 'source', 'error']
    >>> embed_collection(
    ...     ["a dog", "a cat", "a red car"], "emb", embedder=text,
    ...     partition_size=2, progress=False,
    ... ).n_skipped                                   # a rerun has nothing to do
    2
    """
    started = time.perf_counter()
    _check_params(embedder, partition_size, dtype, on_error)
    _require_pyarrow()
    src = read_source(source, modality=embedder.modality, column=column)
    output = Path(os.path.expanduser(os.fspath(output))).absolute()
    # Paths made absolute, so that every worker reads the same files; the
    # caller's embedder is left as it was.
    embedder = clone(embedder).set_params(
        model_name=absolute_model_name(embedder.model_name, embedder.backend),
        pretrained=absolute_weights(embedder.pretrained),
        memory=_absolute_folder(embedder.memory),
        verbose=False,
    )
    created = _create_folder(output)
    try:
        # Taken before anything is loaded, so that a second job on the folder
        # fails at once.
        with output_lock(output):
            summary = _run_locked(
                src,
                output,
                embedder,
                scheduler=scheduler,
                partition_size=partition_size,
                dtype=dtype,
                on_error=on_error,
                progress=progress,
                started=started,
            )
    except BaseException:
        if created:
            # A job that failed before writing anything leaves no folder.
            try:
                output.rmdir()
            except OSError:
                pass
        raise
    return summary


def _create_folder(output):
    """Create ``output`` if missing; whether it was created."""
    if output.exists() and not output.is_dir():
        raise ValueError(
            f"output={str(output)!r} exists and is not a folder: give a folder for "
            "the Parquet partitions (it is created if missing)."
        )
    if output.is_dir():
        return False
    try:
        output.mkdir(parents=True)
    except FileExistsError:
        return False
    except OSError as exc:
        raise output_error(output, exc, what="create the folder") from None
    return True


def _write_manifest(output, manifest):
    try:
        write_manifest(output, manifest)
    except OSError as exc:
        raise output_error(output / MANIFEST, exc) from None


def _check_done(output, parts, job_id):
    """Split ``parts`` into the sound ones and the others; remove damaged files.

    A partition whose digest is recorded is compared by it (its bytes are
    read and hashed, nothing parsed); one without is parsed and checked (page
    checksums, rows), and its digest recorded. A damaged file is removed, so
    that an interrupted rewrite cannot leave it to be trusted later.
    """
    done, damaged = [], {}
    for part in parts:
        path = output / part["file"]
        _, checksum, problem = load_partition(path, part, job_id, verify_only=True)
        if problem is None:
            if part.get("sha256") is None:
                part["sha256"], part["bytes"] = checksum, path.stat().st_size
            done.append(part)
            continue
        if problem != "missing":
            damaged[part["file"]] = problem
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise output_error(
                    path, exc, what="remove the damaged partition"
                ) from None
        part.pop("sha256", None)
        part.pop("bytes", None)
    return done, damaged


def _run_locked(
    src,
    output,
    embedder,
    *,
    scheduler,
    partition_size,
    dtype,
    on_error,
    progress,
    started,
):
    """The job, once ``output`` exists and is locked: plan, resume, run, summarise."""
    requested_workers = embedder.num_workers
    with open_executor(scheduler) as executor:
        if embedder.num_workers is None and executor.decode_workers is not None:
            embedder.set_params(num_workers=executor.decode_workers)
        model, dim = executor.call(model_identity, embedder, executor.spread_gpus)
        job = describe_job(src, model, partition_size=partition_size, dtype=dtype)
        recorded = read_manifest(output)
        _prepare_folder(output, job, recorded)
        settings = {
            "device": embedder.device,
            "batch_size": embedder.batch_size,
            "num_workers": requested_workers,
            "memory": embedder.memory,
            "scheduler": scheduler if isinstance(scheduler, str) else repr(scheduler),
            "on_error": on_error,
            "source_location": src.location,
        }
        if recorded is None:
            parts = plan_partitions(len(src.items), partition_size)
            manifest = new_manifest(job, parts, dim, settings)
        else:
            manifest = recorded
            parts = checked_plan(manifest, output)
        job_id = manifest["job_id"]
        _remove_temporary(output)
        done, damaged = _check_done(output, parts, job_id)
        if damaged:
            warnings.warn(
                damaged_message(
                    output, damaged, action="This run embeds them again."
                ),
                stacklevel=3,
            )
        manifest["complete"] = False
        _write_manifest(output, manifest)
        done_index = {p["index"] for p in done}
        todo = [p for p in parts if p["index"] not in done_index]
        base_dir = os.getcwd()
        tasks = [
            {
                "key": f"sklearn-pos-embed-{job_id[:12]}-{p['index']}",
                "index": p["index"],
                "start": p["start"],
                "items": src.items[p["start"] : p["stop"]],
                "file": str(output / p["file"]),
                "embedder": embedder,
                "dim": dim,
                "dtype": dtype,
                "on_error": on_error,
                "base_dir": base_dir,
                "job_id": job_id,
                "spread_gpus": executor.spread_gpus,
            }
            for p in todo
        ]
        rows_done = sum(p["stop"] - p["start"] for p in done)
        bar = _progress(len(src.items), rows_done, progress)
        results = []
        last_saved = time.monotonic()
        try:
            for result in executor.run(embed_partition, tasks):
                results.append(result)
                part = parts[result["index"]]
                if result.get("sha256"):
                    part["sha256"], part["bytes"] = result["sha256"], result["bytes"]
                # The digests reach the manifest at most every few seconds (a
                # partition written but not yet recorded is checked by its
                # pages and rows on a rerun, and recorded then).
                if time.monotonic() - last_saved > _SAVE_EVERY_S:
                    _write_manifest(output, manifest)
                    last_saved = time.monotonic()
                if bar is not None:
                    bar.update(result["n_rows"])
                    bar.set_postfix(errors=sum(r["n_errors"] for r in results))
        finally:
            if bar is not None:
                bar.close()
            if results:
                _write_manifest(output, manifest)
        description = executor.description
    _remove_temporary(output)
    n_errors = sum(r["n_errors"] for r in results) + sum(
        _count_errors(output / p["file"]) for p in done
    )
    seconds = time.perf_counter() - started
    rows_written = sum(r["n_rows"] for r in results)
    summary = Bunch(
        output=output,
        n_rows=len(src.items),
        n_errors=int(n_errors),
        n_partitions=len(parts),
        n_written=len(results),
        n_skipped=len(done),
        rows_written=rows_written,
        embedding_dim=dim,
        seconds=seconds,
        rows_per_s=rows_written / seconds if seconds > 0 else float("nan"),
        errors=sorted(e for r in results for e in r["errors"]),
        damaged=sorted(damaged),
        executor=description,
    )
    manifest["complete"] = True
    manifest["summary"] = {
        "n_rows": summary.n_rows,
        "n_errors": summary.n_errors,
        "embedding_dim": dim,
    }
    _write_manifest(output, manifest)
    return summary
