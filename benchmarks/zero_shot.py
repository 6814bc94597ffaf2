"""Zero-shot accuracy of CLIP with and without the noun submanifold (Table 1).

Reproduces the zero-shot experiment of Oldfield et al. (NeurIPS 2023,
Table 1): class names (no template by default) are embedded by CLIP's text
encoder; each image embedding is compared with them by cosine similarity
either as is ("CLIP"), or after projection onto the noun submanifold learned
from the WordNet vocabulary, in the tangent space at the intrinsic mean
("noun-tangent", the paper's method) or in Euclidean space
("noun-Euclidean"). Only the image embeddings are projected. The table
reports top-1 accuracy in %.

Images come from a folder in torchvision's ImageFolder layout
(``root/<class name>/<image>``, class names from the folder names, or from
``--class-names``), from torchvision datasets already on disk (or
downloaded with ``--download``), or from a generated demo folder.

Offline demo with the bundled tiny random model (a smoke run, accuracies
are near chance; with ``--pretrained none`` every table printed, and the
returned one in ``attrs["caveat"]``, says "random weights — not a result")::

    python benchmarks/zero_shot.py --generate-demo /tmp/zs-demo \\
        --model sklearn-pos-tiny --pretrained none --device cpu \\
        --vocabulary-size 2000 --n-components 32

Paper rows (GPU, ViT-B-32 OpenAI weights, full WordNet, k=500, lambda=0.5)::

    python benchmarks/zero_shot.py --torchvision CIFAR10 CIFAR100 STL10 \\
        --data-dir ~/data --download --model ViT-B-32 --pretrained openai \\
        --n-components 500 --lam 0.5 --device cuda

``--output results.csv`` also saves the tidy results (one row per dataset,
method and metric).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_pos.caveats import caption, caveat_for, stamp_table
from sklearn_pos.datasets import load_image_folder, make_image_folder
from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.evaluation import evaluate_classifiers
from sklearn_pos.vocabulary import VocabularyPartOfSpeechAnalysis
from sklearn_pos.zero_shot import ZeroShotClassifier, make_text_prototypes

METHODS = ("CLIP", "noun-tangent", "noun-Euclidean")
DEMO_CLASSES = ("red", "green", "blue", "yellow", "purple", "orange")

#: Oldfield et al. (2023), Table 1: ViT-B/32 OpenAI weights, k = 500,
#: lambda = 0.5, top-1 % of CLIP / noun-tangent / noun-Euclidean.
PAPER_TABLE_1 = {
    "ImageNet": (56.5, 57.8, 39.4),
    "Caltech101": (80.0, 81.9, 75.7),
    "Food101": (75.2, 76.3, 67.4),
    "CIFAR10": (87.5, 87.9, 81.2),
    "CIFAR100": (60.4, 61.4, 42.8),
    "OxfordIIITPet": (73.8, 75.2, 66.2),
    "FER2013": (37.8, 44.7, 37.5),
    "STL10": (96.1, 96.3, 92.3),
}

#: FER2013's labels 0..6, which torchvision does not name.
FER2013_CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

TORCHVISION_DATASETS = (
    "CIFAR10",
    "CIFAR100",
    "STL10",
    "Food101",
    "OxfordIIITPet",
    "FER2013",
    "Caltech101",
    "ImageNet",
    "DTD",
    "Flowers102",
    "GTSRB",
    "EuroSAT",
)


def _readable(name):
    return str(name).replace("_", " ").strip()


def _class_names_from(spec, n_expected):
    if spec == "imagenet":
        from open_clip import IMAGENET_CLASSNAMES

        names = list(IMAGENET_CLASSNAMES)
    else:
        names = [
            line.strip() for line in Path(spec).read_text().splitlines() if line.strip()
        ]
    if len(names) != n_expected:
        sys.exit(
            f"--class-names gives {len(names)} names but the dataset has "
            f"{n_expected} classes."
        )
    return names


def load_torchvision(name, root, split, download):
    """A torchvision test set and its class names (images decoded lazily)."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, name)
    if name in ("CIFAR10", "CIFAR100"):
        ds = cls(root, train=split == "train", download=download)
        names = ds.classes
    elif name == "Caltech101":
        ds = cls(root, target_type="category", download=download)
        names = ds.categories
    elif name == "FER2013":
        ds = cls(root, split=split)
        names = FER2013_CLASSES
    elif name == "ImageNet":
        from open_clip import IMAGENET_CLASSNAMES

        ds = cls(root, split="val" if split == "test" else split)
        names = list(IMAGENET_CLASSNAMES)
    elif name == "EuroSAT":
        ds = cls(root, download=download)
        names = ds.classes
    else:
        ds = cls(root, split=split, download=download)
        names = ds.classes
    return ds, [_readable(n) for n in names]


def _as_lists(batch):
    images, labels = zip(*batch)
    return list(images), list(labels)


def embed_torchvision(ds, embedder, max_images, seed, num_workers):
    """Image embeddings and labels of a torchvision dataset, decoded in workers."""
    from torch.utils.data import DataLoader, Subset

    index = np.arange(len(ds))
    if max_images is not None and max_images < len(ds):
        index = np.sort(
            np.random.default_rng(seed).choice(len(ds), max_images, replace=False)
        )
        ds = Subset(ds, index.tolist())
    loader = DataLoader(
        ds, batch_size=1024, num_workers=num_workers, collate_fn=_as_lists
    )
    X, y = [], []
    for images, labels in loader:
        X.append(embedder.transform(images))
        y.extend(int(label) for label in labels)
    return np.concatenate(X), np.asarray(y)


def load_folder(root, class_names, max_images, seed):
    """Image paths, labels and class names of an ImageFolder-style folder."""
    try:
        folder = load_image_folder(root)
    except (OSError, ValueError) as exc:
        sys.exit(str(exc))
    # Integer labels, as torchvision datasets give them: the names may be
    # replaced by --class-names.
    y = np.asarray(
        [folder.target_names.index(name) for name in folder.target], dtype=int
    )
    paths = folder.paths
    if max_images is not None and max_images < len(paths):
        keep = np.sort(
            np.random.default_rng(seed).choice(len(paths), max_images, replace=False)
        )
        paths, y = [paths[i] for i in keep], y[keep]
    if class_names:
        names = _class_names_from(class_names, len(folder.target_names))
    else:
        names = folder.target_names
    return paths, y, names


def build_arg_parser():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring (and the README) for example commands.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--root",
        nargs="+",
        metavar="FOLDER",
        help="image folder(s) in ImageFolder layout",
    )
    source.add_argument(
        "--torchvision",
        nargs="+",
        metavar="NAME",
        choices=TORCHVISION_DATASETS,
        help="torchvision dataset(s)",
    )
    source.add_argument(
        "--generate-demo",
        metavar="FOLDER",
        help="write a small folder of generated colour images and use it",
    )
    parser.add_argument(
        "--data-dir", default="data", help="root of torchvision datasets"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="let torchvision download missing datasets",
    )
    parser.add_argument("--split", default="test", help="dataset split (default: test)")
    parser.add_argument(
        "--class-names",
        metavar="FILE",
        help="class names for --root, one per line in sorted folder "
        "order, or 'imagenet' for open_clip's ImageNet names",
    )
    parser.add_argument("--model", default="ViT-B-32", help="open_clip architecture")
    parser.add_argument(
        "--pretrained",
        default="openai",
        help="open_clip weights tag or path; 'none' for random weights",
    )
    parser.add_argument(
        "--templates",
        default="bare",
        help="prompt template set: bare (paper), simple or openai_imagenet",
    )
    parser.add_argument(
        "--vocabulary-size",
        type=int,
        default=None,
        help="random stratified subset of WordNet (default: all words)",
    )
    parser.add_argument("--n-components", type=int, default=500, help="k (default 500)")
    parser.add_argument("--lam", type=float, default=0.5, help="lambda (default 0.5)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--num-workers",
        type=int,
        default=None,
        help="image decoding processes (default: up to 4)",
    )
    parser.add_argument(
        "--max-images",
        type=int,
        default=None,
        help="random subset of images per dataset, for quick runs",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="joblib cache of the text and image-file embeddings",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="save the tidy results as CSV")
    return parser


def main(argv=None):
    args = build_arg_parser().parse_args(argv)
    pretrained = None if str(args.pretrained).lower() == "none" else args.pretrained
    common = dict(
        model_name=args.model,
        pretrained=pretrained,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        memory=args.cache_dir,
    )
    text = CLIPEmbedder(modality="text", **common)
    image = CLIPEmbedder(modality="image", num_workers=args.num_workers, **common)
    caveat = caveat_for(image)

    # 1. Noun subspaces from the WordNet vocabulary, embedded once for both.
    start = time.perf_counter()
    steps = {
        geometry: VocabularyPartOfSpeechAnalysis(
            "wordnet",
            text_embedder=text,
            n_components=args.n_components,
            lam=args.lam,
            geometry=geometry,
            target="noun",
            output="projection",
            vocabulary_size=args.vocabulary_size,
            random_state=args.seed,
        )
        for geometry in ("tangent", "euclidean")
    }
    try:
        for step in steps.values():
            step.fit(None)
    except ValueError as exc:
        sys.exit(f"Could not fit the noun subspace: {exc}")
    n_words = steps["tangent"].n_vocabulary_
    print(
        f"Noun subspaces (k={args.n_components}, lambda={args.lam}) from "
        f"{n_words:,} WordNet words: {time.perf_counter() - start:.1f} s "
        f"(embedding included), width {steps['tangent'].n_features_in_}."
    )

    # 2. The datasets.
    if args.generate_demo:
        demo = make_image_folder(
            args.generate_demo,
            classes=DEMO_CLASSES,
            n_per_class=10,
            random_state=args.seed,
        )
        print(
            f"Generated {len(demo.paths)} images of coloured shapes in "
            f"{args.generate_demo} (classes: {', '.join(demo.target_names)})."
        )
        sources = [("demo", args.generate_demo)]
    elif args.root:
        sources = [(Path(r).name or str(r), r) for r in args.root]
        if args.class_names == "imagenet" and len(sources) == 1:
            sources = [("ImageNet", args.root[0])]  # a val/ folder of wnid subfolders
    else:
        sources = [(name, name) for name in args.torchvision]

    results = []
    for dataset, source in sources:
        start = time.perf_counter()
        if args.torchvision:
            ds, names = load_torchvision(
                source, args.data_dir, args.split, args.download
            )
            workers = args.num_workers
            if workers is None:
                workers = max(0, min(4, (os.cpu_count() or 1) - 1))
            X, y = embed_torchvision(ds, image, args.max_images, args.seed, workers)
        else:
            paths, y, names = load_folder(
                source, args.class_names, args.max_images, args.seed
            )
            X = image.transform(paths)
        seconds = time.perf_counter() - start
        prototypes = make_text_prototypes(names, text, args.templates)
        classes = dict(enumerate(names))
        classifiers = {
            "CLIP": ZeroShotClassifier(classes, prototypes=prototypes),
            "noun-tangent": ZeroShotClassifier(
                classes, prototypes=prototypes, image_transform=steps["tangent"]
            ),
            "noun-Euclidean": ZeroShotClassifier(
                classes, prototypes=prototypes, image_transform=steps["euclidean"]
            ),
        }
        for clf in classifiers.values():
            clf.fit(X)  # no labels: the prototypes and the noun subspace only
        table = evaluate_classifiers(classifiers, X, y, dataset=dataset)
        results.append(table)
        print(
            f"{dataset}: {len(y):,} images, {len(names)} classes, embedded in "
            f"{seconds:.2f} s; top-1 "
            + ", ".join(f"{m} {s:.1%}" for m, s in zip(table["method"], table["score"]))
        )

    results = pd.concat(results, ignore_index=True)
    wide = results.pivot_table(
        index="dataset", columns="method", values="score", sort=False
    )
    wide = (100 * wide[list(METHODS)]).round(1)
    wide.columns.name = None
    print(
        "\n"
        + caption(
            f"Zero-shot top-1 accuracy (%), {args.model} / {args.pretrained}, "
            f"templates={args.templates!r}, k={args.n_components}, "
            f"lambda={args.lam}, {n_words:,} WordNet words",
            caveat,
        )
    )
    print(wide.reset_index().to_string(index=False))
    if caveat is not None:
        print(
            f"{caveat}: random weights give accuracies near chance; do not "
            "compare them with the paper's rows."
        )
    reference = {d: PAPER_TABLE_1[d] for d in wide.index if d in PAPER_TABLE_1}
    if reference:
        paper = pd.DataFrame.from_dict(reference, orient="index", columns=list(METHODS))
        paper.index.name = "dataset"
        print("\nOldfield et al. (2023), Table 1 (ViT-B/32 openai, k=500, lambda=0.5):")
        print(paper.reset_index().to_string(index=False))
    if args.output:
        results.to_csv(args.output, index=False)
        print(f"\nSaved {args.output}")
    return stamp_table(results, caveat)


if __name__ == "__main__":
    main()
