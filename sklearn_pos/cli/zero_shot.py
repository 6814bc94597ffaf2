"""``sklearn-pos zero-shot``: CLIP's zero-shot accuracy with and without a subspace.

The work is the library's: :func:`~sklearn_pos.load_subspaces` (re-targeted
without refit), :func:`~sklearn_pos.datasets.load_image_folder`,
:class:`~sklearn_pos.CLIPEmbedder` and
:func:`~sklearn_pos.evaluation.compare_zero_shot`. This module checks the
options and prints.
"""

from pathlib import Path

from ._common import (
    EXIT_OK,
    SUBSPACES_FILE,
    CommandError,
    cache_dir,
    check_model_name,
    check_output_file,
    describe_weights,
    embedder,
    info,
    model_errors,
    pretrained_value,
    writing,
)


def _image_folder(root):
    """Image paths and class names from ``root/<class>/...``."""
    from ..datasets import IMAGE_SUFFIXES, load_image_folder

    try:
        folder = load_image_folder(root)
    except (OSError, ValueError) as exc:
        raise CommandError(
            f"--images {root} must hold at least two subfolders of images, one per "
            f"class: {exc}"
        ) from None
    if len(folder.target_names) < 2:
        raise CommandError(
            f"--images {root} must hold at least two subfolders of images, one per "
            f"class (found {len(folder.target_names)} with images; image files end "
            f"in {', '.join(IMAGE_SUFFIXES)})."
        )
    return folder.paths, list(folder.target)


def _load(path, target=None):
    """The estimator of a ``--subspaces`` file (onto ``target``) and its metadata."""
    from ..persistence import load_subspaces

    path = Path(path)
    if not path.is_file():
        raise CommandError(
            f"--subspaces {path}: no such file. Create it with 'sklearn-pos fit' "
            f"(it is {SUBSPACES_FILE} in the --output-dir)."
        )
    try:
        return load_subspaces(
            path, target=target, output="projection", return_metadata=True
        )
    except OSError as exc:
        raise CommandError(
            f"--subspaces {path} cannot be read: {exc.strerror or exc}."
        ) from None
    except ValueError as exc:
        raise CommandError(f"--subspaces: {exc}") from None


def _load_embedder(args, model, pretrained, modality, memory, num_workers=None):
    """A CLIPEmbedder with its model loaded, or a CommandError."""
    loaded = embedder(args, model, pretrained, modality, memory, num_workers)
    with model_errors(model, pretrained, args.backend):
        loaded.get_model()
    return loaded


def run(args):
    """Run ``zero-shot`` with the parsed ``args``; the exit status."""
    import numpy as np
    import pandas as pd

    from ..caveats import caption, caveat_for
    from ..embedding import ImageReadError
    from ..evaluation import compare_zero_shot
    from ..plotting import category_order
    from ..templates import TEMPLATES

    pos, bundle = _load(args.subspaces)
    target = args.target if args.target is not None else pos.target_
    if target not in pos.classes_:
        raise CommandError(
            f"--target {target!r} is not a saved subspace; choose one of "
            f"{category_order(pos.classes_)}."
        )
    if target != pos.target_:
        pos, bundle = _load(args.subspaces, target)
    model = args.model or bundle.get("model_name")
    pretrained = (
        pretrained_value(args.pretrained)
        if args.pretrained is not None
        else bundle.get("pretrained")
    )
    if args.seed is None:
        args.seed = bundle.get("random_state", 0)
    if args.backend is None:
        args.backend = bundle.get("backend", "open_clip")
    if pretrained is None or not str(pretrained).startswith(("hf-hub:", "local-dir:")):
        check_model_name(model, args.backend)
    if model is None:
        raise CommandError(
            f"--subspaces {args.subspaces} does not record the model the subspaces "
            "were fitted with: give it with --model and --pretrained."
        )
    check_output_file("--output", args.output)
    check_output_file("--predictions", args.predictions)
    cache = cache_dir(args.cache_dir)
    paths, names = _image_folder(args.images)
    class_names = sorted(set(names))
    templates = TEMPLATES[args.templates]

    info(f"Loading {describe_weights(model, pretrained, args.backend)} ...")
    text = _load_embedder(args, model, pretrained, "text", cache)
    images = _load_embedder(args, model, pretrained, "image", cache, args.num_workers)
    d = text.get_model().embed_dim
    if d != pos.n_features_in_:
        raise CommandError(
            f"the subspaces were fitted on {pos.n_features_in_}-dimensional "
            f"embeddings, but {model} gives {d} dimensions: use the model they were "
            f"fitted with ({bundle.get('model_name')})."
        )
    info(f"Encoding {len(paths):,} images of {len(class_names)} classes ...")
    method = f"projected onto the {target} subspace ({pos.geometry})"
    with writing(cache, "--cache-dir"):
        try:
            X = images.transform(paths)
        except ImageReadError as exc:
            raise CommandError(f"cannot read an image: {exc}") from None
        table, predicted = compare_zero_shot(
            X,
            names,
            text_embedder=text,
            transforms={method: pos},
            class_names=class_names,
            templates=templates,
            return_predictions=True,
        )
    caveat = caveat_for(images)
    print(
        caption(
            f"Zero-shot classification of {len(names):,} images in "
            f"{len(class_names)} classes ({args.images}), {len(templates)} "
            f"template(s) '{args.templates}'",
            caveat,
        )
    )
    print(
        f"{describe_weights(model, pretrained, args.backend)}; "
        f"subspace: k={pos.n_components_}, "
        f"lambda={pos.lam:g}, {pos.geometry}"
    )
    print()
    print(table.to_string(float_format=lambda v: f"{v:.1f}"))
    if caveat is not None:
        print(f"\n{caveat}: these numbers only show that the pipeline runs.")
    if args.output:
        with writing(args.output, "--output"):
            table.to_csv(args.output)
        print(f"table: {args.output}")
    if args.predictions:
        with writing(args.predictions, "--predictions"):
            pd.DataFrame(
                {
                    "image": paths,
                    "class": np.asarray(names),
                    "CLIP": predicted["CLIP"],
                    "projected": predicted[method],
                }
            ).to_csv(args.predictions, index=False)
        print(f"predictions: {args.predictions}")
    return EXIT_OK
