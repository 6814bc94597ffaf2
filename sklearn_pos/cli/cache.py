"""``sklearn-pos cache``: the size of an embedding store, or clear it."""

from pathlib import Path

from ._common import EXIT_OK, CommandError, cache_dir


def run(args):
    """Run ``cache`` with the parsed ``args``; the exit status."""
    from ..store import STORE_DIRNAME, clear_store, store_info

    if args.location is None:
        location = cache_dir(None)
    else:
        location = Path(args.location).expanduser()
    if not location.is_dir():
        raise CommandError(
            f"{location} is not a folder. Give the folder of an embedding store: "
            "the shared cache folder (the default), a --cache-dir, or a "
            "CLIPEmbedder memory= folder."
        )
    if not (location / STORE_DIRNAME).is_dir():
        print(f"{location}: no stored embeddings.")
        return EXIT_OK
    try:
        if args.clear:
            n = clear_store(location)
            print(f"{location}: removed {n:,} stored embeddings.")
            return EXIT_OK
        info = store_info(location)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    total = int(info["size_bytes"].sum())
    print(
        f"{location}: {int(info['n_entries'].sum()):,} stored embeddings, "
        f"{total / 2**20:.1f} MiB, {len(info)} model(s)"
    )
    if len(info):
        shown = info.assign(size_MiB=info["size_bytes"] / 2**20).drop(
            columns="size_bytes"
        )
        shown["namespace"] = shown["namespace"].str[:12]
        print()
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    return EXIT_OK
