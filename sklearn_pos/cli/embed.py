"""``sklearn-pos embed``: a whole collection to Parquet (:func:`~sklearn_pos.embed_collection`)."""

from pathlib import Path

from ._common import (
    EXIT_OK,
    EXIT_WEIGHTS,
    CommandError,
    cache_dir,
    describe_weights,
    embedder,
    info,
    pretrained_value,
)


def _default_memory(scheduler):
    """The store when ``--memory`` is not given: the shared cache folder.

    Only for work done on this machine ('local', 'local:N'): the workers of a
    remote scheduler would resolve this machine's home folder on theirs.
    """
    if scheduler == "local" or scheduler.startswith("local:"):
        return cache_dir(None)
    return None


def _modality(args):
    """``--modality``, or ``image`` for a folder SOURCE.

    A SOURCE that does not exist is left to the job, which names it.
    """
    if args.modality is not None:
        return args.modality
    source = Path(args.source).expanduser()
    if source.is_dir() or not source.exists():
        return "image"
    raise CommandError(
        f"Say what the items of {args.source} are: --modality text or --modality "
        "image."
    )


def run(args):
    """Run ``embed`` with the parsed ``args``; the exit status."""
    from ..embedding import WeightsUnavailableError
    from ..jobs import EmbedItemError, OutputLockedError, embed_collection
    from .messages import weights_message

    pretrained = pretrained_value(args.pretrained)
    job_embedder = embedder(
        args,
        args.model,
        pretrained,
        _modality(args),
        memory=args.memory or _default_memory(args.scheduler),
        num_workers=args.num_workers,
    )
    weights = describe_weights(args.model, pretrained, args.backend)
    info(f"Embedding {args.source} with {weights} ...")
    try:
        summary = embed_collection(
            args.source,
            args.output,
            embedder=job_embedder,
            column=args.column,
            partition_size=args.partition_size,
            dtype=args.dtype,
            scheduler=args.scheduler,
            on_error=args.on_error,
            progress=not args.no_progress,
        )
    except WeightsUnavailableError as exc:
        shown = "none" if pretrained is None else pretrained
        raise CommandError(
            weights_message(args.model, shown, exc, args.backend), EXIT_WEIGHTS
        ) from None
    except (EmbedItemError, OutputLockedError) as exc:
        raise CommandError(str(exc)) from None
    except (ValueError, TypeError, ImportError, OSError) as exc:
        raise CommandError(str(exc)) from None
    s = summary
    print(
        f"{s.n_rows:,} rows in {s.output} ({s.n_partitions} partitions: "
        f"{s.n_written} written, {s.n_skipped} already complete), on {s.executor}"
    )
    if s.damaged:
        print(
            f"{len(s.damaged)} damaged partition{'s' if len(s.damaged) > 1 else ''}"
            " embedded again: "
            + ", ".join(s.damaged[:5])
            + (", ..." if len(s.damaged) > 5 else "")
        )
    if s.n_errors:
        print(f"{s.n_errors:,} rows could not be embedded (see the 'error' column):")
        for row, source, error in s.errors[:5]:
            print(f"  row {row} {source!r}: {error}")
    print(
        f"rows: {s.n_rows:,}  errors: {s.n_errors:,}  seconds: {s.seconds:.1f}  "
        f"rows/s: {s.rows_per_s:,.1f}"
    )
    return EXIT_OK
