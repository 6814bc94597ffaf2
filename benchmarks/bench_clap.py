"""Training time of CLAPDisentangler and the zero-shot accuracy it changes.

Planted benchmark (default, offline, no model): text embeddings are sums of
word vectors in which every style word ("sketch", "cartoon", ...) carries a
strong vector that also leans towards the content of some class, and "images"
are class content plus a dominant style vector plus noise. Zero-shot
classification by cosine similarity to the class-name embeddings then fails,
because the style dominates; CLAP trained on the styled prompts removes it.

With ``--model/--pretrained`` the same measurement uses a real CLIP text
encoder, on styled text queries whose style words are *not* in CLAP's
training grammar ("an origami of a dog", ...), and optionally on the images of
a folder with one sub-folder per class (``--image-folder``, e.g. a PACS
domain). Weights must already be available locally.

Columns: ``fit s`` is the whole fit (prompt encoding included), ``train s``
the optimisation alone (``fit_time_``), ``raw`` the zero-shot accuracy of the
raw embeddings and ``alpha=...`` the accuracy after the fitted network with
that ``alpha`` (one fit, ``alpha`` changed with ``set_params``).

Run::

    python benchmarks/bench_clap.py
    python benchmarks/bench_clap.py --n-classes 50 --max-steps 3000 --threads 0
    python benchmarks/bench_clap.py --model ViT-B-32 --pretrained openai \\
        --image-folder ~/data/PACS/sketch
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_pos.caveats import SYNTHETIC_EMBEDDINGS, caption, caveat_for, stamp_table
from sklearn_pos.clap import CLAPDisentangler
from sklearn_pos.datasets import PlantedTextEmbedder, load_image_folder

ALPHAS = (0.05, 0.1, 0.2, 0.5, 1.0)
PACS_CLASSES = ["dog", "elephant", "giraffe", "guitar", "horse", "house", "person"]
#: Style words absent from the training grammar, for the text queries.
UNSEEN_STYLES = [
    "origami",
    "graffiti",
    "embroidery",
    "tattoo",
    "pixel art",
    "stained glass window",
    "charcoal drawing",
    "watercolor",
    "plush toy",
    "video game render",
]


def accuracy(clap, X, class_embeddings, y, alpha=None):
    if alpha is not None:
        clap.set_params(alpha=alpha)
        X, class_embeddings = clap.transform(X), clap.transform(class_embeddings)
    return float(np.mean(np.argmax(X @ class_embeddings.T, axis=1) == y))


def evaluate(name, clap, sets):
    """Fit ``clap`` and score every (label, X, y) of ``sets``."""
    start = time.perf_counter()
    clap.fit(sets[0][1])  # only the width of the embeddings is used
    total = time.perf_counter() - start
    C = clap.text_embedder.transform(list(clap.class_names_))
    rows = []
    for label, X, y in sets:
        row = {
            "setting": name,
            "queries": label,
            "fit s": round(total, 2),
            "train s": round(clap.fit_time_, 2),
            "steps": clap.n_iter_,
            "raw": accuracy(clap, X, C, y),
        }
        for a in ALPHAS:
            row[f"alpha={a}"] = accuracy(clap, X, C, y, alpha=a)
        rows.append(row)
    return rows


def image_folder_for(root, class_names):
    """Paths and class indices of ``root/<class>/`` images, for these classes."""
    folder = load_image_folder(root)
    missing = sorted(set(class_names) - set(folder.target_names))
    if missing:
        raise SystemExit(f"No image folder under {root} for the classes {missing}.")
    keep = np.isin(folder.target, class_names)
    index = {c: k for k, c in enumerate(class_names)}
    paths = [p for p, k in zip(folder.paths, keep) if k]
    return paths, np.asarray([index[t] for t in folder.target[keep]])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-classes", type=int, default=10)
    parser.add_argument("--dim", type=int, default=128, help="planted width")
    parser.add_argument("--prompts-per-class", type=int, default=None)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", help="open_clip model name, e.g. ViT-B-32")
    parser.add_argument("--pretrained", help="open_clip weights tag or path")
    parser.add_argument("--classes", nargs="+", help="class names (real model)")
    parser.add_argument("--image-folder", help="folder with one sub-folder per class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads, 0: torch's default (small matrices: 1 is fastest)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    params = dict(
        hidden_dim=args.hidden_dim,
        n_prompts_per_class=args.prompts_per_class,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        device=args.device,
        random_state=args.seed,
    )
    rows = []
    if args.model is None:
        names = [f"class{i}" for i in range(args.n_classes)]
        embedder = PlantedTextEmbedder(
            names, n_features=args.dim, random_state=args.seed
        )
        X, y, _ = embedder.images(n_per_class=50, random_state=1)
        clap = CLAPDisentangler(names, embedder, **params)
        setting = f"planted d={args.dim} C={args.n_classes}"
        caveat = SYNTHETIC_EMBEDDINGS
        rows += evaluate(setting, clap, [("styled images", X, y)])
    else:
        from sklearn_pos.embedding import CLIPEmbedder

        names = args.classes or PACS_CLASSES
        if str(args.pretrained).lower() in {"none", ""}:
            args.pretrained = None  # e.g. the bundled random "sklearn-pos-tiny"
        text = CLIPEmbedder(args.model, args.pretrained, modality="text")
        caveat = caveat_for(text)
        queries = [f"a {s} of a {c}" for c in names for s in UNSEEN_STYLES]
        y_text = np.repeat(np.arange(len(names)), len(UNSEEN_STYLES))
        sets = [("unseen-style texts", text.transform(queries), y_text)]
        if args.image_folder:
            paths, y_img = image_folder_for(args.image_folder, names)
            images = CLIPEmbedder(args.model, args.pretrained, modality="image")
            sets.append((Path(args.image_folder).name, images.transform(paths), y_img))
        clap = CLAPDisentangler(names, text, **params)
        rows += evaluate(f"{args.model}/{args.pretrained}", clap, sets)

    table = stamp_table(pd.DataFrame(rows), caveat)
    print(caption("CLAP: training time and zero-shot accuracy", caveat))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return table


if __name__ == "__main__":
    main()
