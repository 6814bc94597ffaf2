"""
=========================================================
Few-shot classification: class means with a text prior
=========================================================

With a handful of labelled images per class,
:class:`~sklearn_pos.NearestPrototypeClassifier` represents each class by
the intrinsic mean of its image embeddings on the unit sphere and assigns a
new image to the most similar mean. The zero-shot text prototypes of the
class names can act as a prior: each prototype moves from the image mean
towards the text prototype along the geodesic, by the fraction
``w / (n_c + w)`` where ``n_c`` is the number of labelled images of the
class and ``w = prior_weight`` (the text counts as ``w`` images).

The example draws 1, 2, 4 and 8 labelled images per class (several random
draws each), evaluates on the remaining images and plots accuracy against
the number of shots, for the image means alone, with the text prior, and
for the zero-shot classifier (no labelled image at all).

The images are generated coloured shapes (one class per colour). It uses
CLIP ViT-B-32 with OpenAI weights (``--model`` / ``--pretrained`` to change
them); ``SKLEARN_POS_EXAMPLE_TINY=1`` (or ``--tiny``) switches to a tiny
random model for a quick offline run, whose tables and figure say "random
weights — not a result". The figure goes to
``SKLEARN_POS_EXAMPLE_OUTPUT`` (or ``--output-dir``; default:
``sklearn_pos_output``).

Where the weights asked for cannot be had (offline, not in the local
cache), the example says so on stderr and runs as with ``--tiny``, every
table and figure marked "random weights — not a result", so that
``python examples/plot_nearest_prototype.py`` works anywhere without a flag; the
choice is made by :func:`sklearn_pos.caveats.choose_clip_weights`.
"""

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_pos import NearestPrototypeClassifier, ZeroShotClassifier
from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
    stamp_tables,
)
from sklearn_pos.datasets import make_image_folder
from sklearn_pos.embedding import CLIPEmbedder

CLASSES = ("red", "green", "blue", "yellow", "purple", "orange")
SHOTS = (1, 2, 4, 8)
N_DRAWS = 5


def few_shot_split(y, shots, rng):
    """Indices of ``shots`` training images per class, and of the rest."""
    train = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)]
    )
    test = np.setdiff1d(np.arange(len(y)), train)
    return train, test


def main(tiny=None, model=None, pretrained=None, output_dir=None, n_draws=N_DRAWS):
    """Score few-shot and zero-shot classifiers; save accuracy against shots.

    Returns a dict of tables: ``"results"`` (tidy, one row per shots, draw
    and method), ``"accuracy"`` (mean accuracy, methods by shots), and
    ``"figure"``, the path of the saved PNG. Without pretrained weights every
    table carries the caveat in ``attrs["caveat"]`` and the figure's title
    ends with it.
    """
    # The requested weights, or (offline, not cached) the tiny random model,
    # said on stderr; its outputs are then marked with the caveat.
    weights = choose_clip_weights(tiny, model, pretrained)
    tiny = weights.tiny
    clip = dict(
        model_name=weights.model_name,
        pretrained=weights.pretrained,
        device=weights.device,
    )
    output_dir = Path(
        output_dir
        or os.environ.get("SKLEARN_POS_EXAMPLE_OUTPUT")
        or os.environ.get("SKLEARN_POS_OUTPUT", "sklearn_pos_output")
    )
    text = CLIPEmbedder(modality="text", **clip)
    image = CLIPEmbedder(modality="image", num_workers=0, **clip)
    caveat = caveat_for(image)
    with tempfile.TemporaryDirectory() as workdir:
        folder = make_image_folder(workdir, classes=CLASSES, n_per_class=16)
        X, y = image.transform(folder.paths), folder.target

    zero_shot = ZeroShotClassifier(
        folder.target_names, templates="simple", text_embedder=text
    )
    methods = {
        "image means": NearestPrototypeClassifier(),
        "image means + text prior (w=1)": NearestPrototypeClassifier(
            prior=zero_shot, prior_weight=1.0
        ),
        "image means + text prior (w=4)": NearestPrototypeClassifier(
            prior=zero_shot, prior_weight=4.0
        ),
        "zero-shot (no images)": zero_shot,
    }
    rng = np.random.default_rng(0)
    rows = []
    for shots in SHOTS:
        for draw in range(n_draws):
            train, test = few_shot_split(y, shots, rng)
            for name, clf in methods.items():
                clf.fit(X[train], y[train])  # the zero-shot classifier only checks y
                rows.append(
                    {
                        "shots": shots,
                        "draw": draw,
                        "method": name,
                        "accuracy": clf.score(X[test], y[test]),
                    }
                )
    results = pd.DataFrame(rows)
    summary = results.groupby(["method", "shots"], sort=False)["accuracy"].agg(
        ["mean", "std"]
    )
    table = summary["mean"].unstack("shots")
    print(
        caption(
            f"Accuracy on held-out images (mean of {n_draws} draws), "
            "by labelled images per class",
            caveat,
        )
    )
    print(table.round(3).to_string())

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name in methods:
        mean = summary.loc[name, "mean"]
        std = summary.loc[name, "std"]
        ax.errorbar(mean.index, mean, yerr=std, marker="o", capsize=3, label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(SHOTS, [str(s) for s in SHOTS])
    ax.set_xlabel("labelled images per class")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("Nearest prototype on the sphere, with a text prior")
    ax.legend(fontsize="small")
    stamp_figure(fig, caveat)
    fig.tight_layout()
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "plot_nearest_prototype.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"\nSaved {path}")
    return stamp_tables({"results": results, "accuracy": table, "figure": path}, caveat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Few-shot class means, text prior.")
    parser.add_argument("--tiny", action="store_true", help="tiny random model")
    parser.add_argument("--model", help="open_clip architecture (default ViT-B-32)")
    parser.add_argument("--pretrained", help="tag or checkpoint (default openai)")
    parser.add_argument("--output-dir", help="folder of the figure")
    parser.add_argument("--n-draws", type=int, default=N_DRAWS, help="draws per shot")
    args = parser.parse_args()
    main(
        tiny=args.tiny or None,
        model=args.model,
        pretrained=args.pretrained,
        output_dir=args.output_dir,
        n_draws=args.n_draws,
    )
