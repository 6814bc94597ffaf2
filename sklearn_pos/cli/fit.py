"""``sklearn-pos fit``: encode the vocabulary, fit, save, print the table.

The work is the library's: :func:`~sklearn_pos.datasets.load_pos_vocabulary`,
:class:`~sklearn_pos.CLIPEmbedder`,
:func:`~sklearn_pos.evaluation.default_n_components`,
:class:`~sklearn_pos.PartOfSpeechComponentAnalysis`,
:func:`~sklearn_pos.metrics.class_invariance`,
:func:`~sklearn_pos.save_subspaces` and
:func:`~sklearn_pos.plotting.save_subspace_figures`. This module checks the
options, keeps the output folder to one set of parameters, and prints.
"""

import json
import os
import re
import time
from pathlib import Path

from ._common import (
    EXIT_OK,
    SUBSPACES_FILE,
    CommandError,
    cache_dir,
    check_model_name,
    describe_weights,
    embedder,
    format_table,
    info,
    model_errors,
    pretrained_value,
    writing,
)

#: What ``fit`` wrote before its subspaces were saved as arrays + JSON.
LEGACY_SUBSPACES_FILE = "pos_subspaces.joblib"
#: The parameters of the results in ``--output-dir``, written before them.
PARAMETERS_FILE = "fit_parameters.json"
TABLE_CSV = "class_invariance.csv"

_OPTION_OF = {
    "model": "--model",
    "pretrained": "--pretrained",
    "precision": "--precision",
    "seed": "--seed",
    "vocabulary_size": "--vocabulary-size",
    "theme": "--theme",
    "n_components": "--n-components",
    "lam": "--lam",
    "geometry": "--geometry",
    "target": "--target",
    "max_points_per_class": "--max-points-per-class",
}


def _output_dir(path):
    """``--output-dir`` created and writable."""
    out_dir = Path(path)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".sklearn-pos-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CommandError(
            f"--output-dir {out_dir} cannot be used: {exc.strerror or exc}. Give a "
            "folder you can write to (it is created if missing)."
        ) from None
    return out_dir


def _vocabulary(args):
    """The checked vocabulary, its errors spelled as the options."""
    from ..datasets import load_pos_vocabulary

    try:
        return load_pos_vocabulary(
            args.vocabulary_size, theme=args.theme, random_state=args.seed
        )
    except ValueError as exc:
        text = re.sub(r"\bn_words=", "--vocabulary-size ", str(exc))
        raise CommandError(
            text.replace("Leave it out", "Leave the option out")
        ) from None


def _parameters(args, pretrained):
    """What the results of ``fit`` depend on, as recorded in the output folder.

    Hardware settings (device, batch size) and where things go are left out:
    they do not change the results.
    """
    return {
        "model": args.model,
        "pretrained": pretrained,
        **({"backend": args.backend} if args.backend != "open_clip" else {}),
        "precision": args.precision,
        "seed": args.seed,
        "vocabulary_size": args.vocabulary_size,
        "theme": args.theme,
        "n_components": args.n_components,
        "lam": args.lam,
        "geometry": args.geometry,
        "target": args.target,
        "max_points_per_class": args.max_points_per_class,
    }


def _typed(name, value):
    """An option as it would be typed (``--pretrained none``, no ``-k None``)."""
    option = _OPTION_OF.get(name, name)
    if value is None:
        return f"{option} none" if name == "pretrained" else f"no {option}"
    return f"{option} {value:g}" if isinstance(value, float) else f"{option} {value}"


def _outputs(out_dir):
    """The files of an earlier ``fit`` in ``out_dir`` (those it writes by name)."""
    from ..plotting import CLASS_INVARIANCE_PNG, SUBSPACE_SCATTER_PNG

    names = [SUBSPACES_FILE, LEGACY_SUBSPACES_FILE, TABLE_CSV, CLASS_INVARIANCE_PNG]
    found = [out_dir / n for n in names if (out_dir / n).is_file()]
    found += sorted(
        p for p in out_dir.glob(SUBSPACE_SCATTER_PNG.format("*")) if p.is_file()
    )
    return found


def _claim_output_dir(out_dir, params, overwrite):
    """Record ``params`` in ``out_dir``, refusing to mix results of other parameters.

    The record is written before any result, so every result in the folder is
    covered by it, even after an interrupted run; a record without results
    (a run that stopped before writing any) is simply replaced.
    """
    from .._io import atomic_write

    record = out_dir / PARAMETERS_FILE
    existing = _outputs(out_dir)
    recorded = None
    if record.exists():
        try:
            recorded = json.loads(record.read_text(encoding="utf-8"))["parameters"]
            if not isinstance(recorded, dict):
                raise TypeError
        except (OSError, ValueError, KeyError, TypeError):
            recorded = "unreadable"
    if recorded == params:
        return
    if existing and not overwrite:
        redo = (
            "Give another --output-dir to keep both (the embeddings are shared "
            "through the cache folder: nothing is encoded again), or add "
            "--overwrite to replace them."
        )
        if isinstance(recorded, dict):
            differences = "; ".join(
                f"{_typed(k, recorded.get(k))} there, {_typed(k, v)} here"
                for k, v in params.items()
                if recorded.get(k) != v
            )
            raise CommandError(
                f"--output-dir {out_dir} holds the results of a fit with other "
                f"parameters ({differences}). {redo}"
            )
        what = (
            f"its {PARAMETERS_FILE} is damaged"
            if recorded == "unreadable"
            else f"{existing[0].name} there has no record of its parameters, "
            "as written by older versions"
        )
        raise CommandError(
            f"--output-dir {out_dir} holds results of a fit whose parameters are "
            f"unknown ({what}). {redo}"
        )
    for path in existing:
        with writing(path, "--output-dir"):
            path.unlink()
    text = json.dumps({"command": "sklearn-pos fit", "parameters": params}, indent=1)
    with writing(record, "--output-dir"):
        atomic_write(record, lambda f: f.write(text.encode("utf-8")))


def _figures(out_dir, pos, E, y, table, order, args):
    """Draw the figures, or say why none are drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        info(
            "matplotlib is not installed, so no figures were drawn "
            '(pip install "sklearn_pos[plot]").'
        )
        return []
    from ..plotting import save_subspace_figures

    if pos.n_components_ < 2:
        info("Scatter plots need --n-components >= 2; skipped.")
    return save_subspace_figures(
        pos,
        E,
        y,
        out_dir,
        table=table,
        labels=order,
        max_points_per_class=args.max_points_per_class,
        random_state=args.seed,
    )


def run(args):
    """Run ``fit`` with the parsed ``args``; the exit status."""
    import numpy as np

    from .._version import __version__
    from ..caveats import caption, caveat_for, stamp_table
    from ..decomposition import PartOfSpeechComponentAnalysis
    from ..evaluation import default_n_components
    from ..metrics import class_invariance
    from ..persistence import save_subspaces
    from ..plotting import category_order

    # Everything the user gave is checked before a model is loaded (or torch
    # imported), so that a mistake fails in a second, not after the encoding.
    pretrained = pretrained_value(args.pretrained)
    check_model_name(args.model, args.backend)
    out_dir = _output_dir(args.output_dir)
    cache = cache_dir(args.cache_dir)
    vocab = _vocabulary(args)
    words, y, vocab_meta = vocab.data, vocab.target, vocab.description
    if args.target not in vocab.counts:
        raise CommandError(
            f"--target {args.target!r} is not a category of the vocabulary; choose "
            f"one of {category_order(list(vocab.counts))}."
        )
    parameters = _parameters(args, pretrained)
    _claim_output_dir(out_dir, parameters, args.overwrite)
    text = embedder(args, args.model, pretrained, "text", memory=cache)
    weights = describe_weights(args.model, pretrained, args.backend)
    info(f"Embedding words with {weights} ...")
    errors = model_errors(args.model, pretrained, args.backend)
    with writing(cache, "--cache-dir"), errors:
        # One word gives the width; served from the store when it holds the
        # word, in which case neither torch nor the model is loaded.
        d = text.transform(list(words[:1])).shape[1]
    k = args.n_components if args.n_components is not None else default_n_components(d)
    if k >= d:
        raise CommandError(
            f"--n-components {k} must be smaller than the embedding width of "
            f"{args.model} ({d}): with all directions kept every subspace is the "
            "whole space."
        )
    counts = ", ".join(
        f"{vocab.counts[c]:,} {c}" for c in category_order(list(vocab.counts))
    )
    info(
        f"Embedding {len(words):,} words ({counts}); stored embeddings are reused "
        f"from {cache} ..."
    )
    start = time.perf_counter()
    errors = model_errors(args.model, pretrained, args.backend)
    with writing(cache, "--cache-dir"), errors:
        E = text.transform(list(words))
    encode_s = time.perf_counter() - start
    pos = PartOfSpeechComponentAnalysis(
        n_components=k, lam=args.lam, geometry=args.geometry, target=args.target
    )
    start = time.perf_counter()
    pos.fit(E, y)
    fit_s = time.perf_counter() - start
    info(
        f"Embeddings ready in {encode_s:.1f} s; fitted {len(pos.classes_)} "
        f"subspaces of {k} directions (lambda={args.lam:g}, {args.geometry}) "
        f"in {fit_s:.1f} s."
    )

    order = category_order(pos.classes_)
    caveat = caveat_for(text)
    table = stamp_table(class_invariance(pos, E, y, labels=order), caveat)

    # How the subspaces were made, kept with them (JSON, as the file's own
    # metadata): zero-shot reads the model and weights from here.
    metadata = {
        "model_name": args.model,
        "pretrained": pretrained,
        "random_state": args.seed,
        "precision": args.precision,
        "embedding_dim": int(d),
        **({"backend": args.backend} if args.backend != "open_clip" else {}),
        "vocabulary": vocab_meta,
        "parameters": parameters,
        "class_invariance": {
            "index": [str(i) for i in table.index],
            "columns": [str(c) for c in table.columns],
            # JSON has no NaN: an undefined share is written as null
            "data": [
                [float(v) if np.isfinite(v) else None for v in row]
                for row in table.to_numpy()
            ],
            "caveat": table.attrs.get("caveat"),
        },
        "sklearn_pos_version": __version__,
    }
    subspaces_path = out_dir / SUBSPACES_FILE
    with writing(subspaces_path, "--output-dir"):
        save_subspaces(pos, subspaces_path, metadata=metadata)
    with writing(out_dir / TABLE_CSV, "--output-dir"):
        table.to_csv(out_dir / TABLE_CSV, float_format="%.6f")
    with writing(out_dir, "--output-dir"):
        figures = (
            [] if args.no_plots else _figures(out_dir, pos, E, y, table, order, args)
        )

    print(
        caption(
            "Class invariance: share of each subspace's energy (rows) taken by each "
            "category of words (columns)",
            caveat,
        )
    )
    print(
        f"{weights}, {len(words):,} words, "
        f"k={k}, lambda={args.lam:g}, {args.geometry}"
    )
    print()
    print(format_table(table, 2))
    print()
    diag = float(np.mean(np.diag(table.to_numpy())))
    print(
        f"mean diagonal: {diag:.2f} (1/{len(order)} = {1 / len(order):.2f} is chance)"
    )
    if caveat is not None:
        print(f"{caveat}: these numbers only show that the pipeline runs.")
    print(f"saved: {subspaces_path}")
    print(f"table: {out_dir / TABLE_CSV}")
    for path in figures:
        print(f"figure: {path}")
    return EXIT_OK
