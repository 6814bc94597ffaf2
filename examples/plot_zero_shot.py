"""
==============================================
Zero-shot image classification from class names
==============================================

:class:`~sklearn_pos.ZeroShotClassifier` classifies image embeddings by
their cosine similarity to text prototypes: each class name is filled into
prompt templates, embedded by CLIP's text encoder, and the embeddings are
averaged per class. No labelled image is needed; the labels below are only
used to measure accuracy.

The example compares the shipped template sets ("bare", "simple",
"openai_imagenet"), cross-validates a ``Pipeline([CLIPEmbedder, ZeroShotClassifier])``
on image files with ``cross_val_score`` (nothing is learned from the
training folds), and saves the confusion matrix.

The images are generated (coloured shapes, one class per colour), so the
example runs anywhere; ``--root FOLDER`` uses your own images in the
``root/<class name>/<image>`` layout instead (read by
:func:`~sklearn_pos.datasets.load_image_folder`). It uses CLIP ViT-B-32 with
OpenAI weights (``--model`` / ``--pretrained`` to change them);
``SKLEARN_POS_EXAMPLE_TINY=1`` (or ``--tiny``) switches to a tiny random
model for a quick offline run (accuracies are then near chance, and the
tables and figure say "random weights — not a result"). The figure
goes to ``SKLEARN_POS_EXAMPLE_OUTPUT`` (or ``--output-dir``; default:
``sklearn_pos_output``).

Where the weights asked for cannot be had (offline, not in the local
cache), the example says so on stderr and runs as with ``--tiny``, every
table and figure marked "random weights — not a result", so that
``python examples/plot_zero_shot.py`` works anywhere without a flag; the
choice is made by :func:`sklearn_pos.caveats.choose_clip_weights`.
"""

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
    stamp_tables,
)
from sklearn_pos.datasets import load_image_folder, make_image_folder
from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.evaluation import evaluate_classifiers
from sklearn_pos.templates import TEMPLATES
from sklearn_pos.zero_shot import ZeroShotClassifier

CLASSES = ("red", "green", "blue", "yellow", "purple", "orange")


def load_images(root, workdir):
    """Image paths, labels and class names: a folder given, or generated."""
    if root is None:
        folder = make_image_folder(workdir, classes=CLASSES, n_per_class=8)
    else:
        folder = load_image_folder(root)
    return folder.paths, folder.target, folder.target_names


def main(tiny=None, model=None, pretrained=None, output_dir=None, root=None):
    """Compare template sets, cross-validate the pipeline, save the confusion matrix.

    Returns a dict of tables: ``"scores"`` (tidy, one row per template set
    and metric), ``"accuracy"`` (template sets by metric), ``"cross_val"``
    (one row per fold), ``"proba"`` (three images' class probabilities), and
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
        paths, y, class_names = load_images(root, workdir)
        X = image.transform(paths)  # embed the images once

        # 1. Template sets: prototypes from the class names alone, fit(None).
        classifiers = {
            f"{name} ({len(TEMPLATES[name])})": ZeroShotClassifier(
                class_names, templates=name, text_embedder=text
            ).fit(None)
            for name in TEMPLATES
        }
        scores = evaluate_classifiers(
            classifiers,
            X,
            y,
            scoring=["accuracy", "balanced_accuracy"],
            dataset="images",
        )
        table = scores.pivot_table(
            index="method", columns="metric", values="score", sort=False
        )
        table.columns.name = None
        print(
            caption(
                f"Zero-shot accuracy on {len(y)} images, {len(class_names)} classes",
                caveat,
            )
        )
        print(table.round(3).to_string())

        # 2. The classifier as the last step of a pipeline on image files.
        pipe = make_pipeline(
            image,
            ZeroShotClassifier(class_names, templates="simple", text_embedder=text),
        )
        cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
        folds = cross_val_score(pipe, paths, y, cv=cv)
        print(
            "\n"
            + caption(
                "cross_val_score of Pipeline(CLIPEmbedder, ZeroShotClassifier): "
                f"{folds.mean():.3f} +/- {folds.std():.3f} "
                f"(folds {np.round(folds, 3).tolist()})",
                caveat,
            )
        )
        cross_val = pd.DataFrame(
            {"accuracy": folds}, index=pd.RangeIndex(len(folds), name="fold")
        )

        # 3. Probabilities of a few images, and the confusion matrix.
        best = table["accuracy"].idxmax()
        clf = classifiers[best]
        proba = pd.DataFrame(clf.predict_proba(X[:3]), columns=clf.classes_).round(3)
        proba.insert(0, "true", y[:3])
        print(
            "\n"
            + caption(
                f"predict_proba (softmax of {clf.logit_scale:g} x cosine), "
                f"templates {best}:",
                caveat,
            )
        )
        print(proba.to_string(index=False))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(6, 5))
    ConfusionMatrixDisplay.from_predictions(
        y, clf.predict(X), labels=clf.classes_, ax=ax, colorbar=False
    )
    ax.set_title(
        f"Zero-shot, templates {best}: accuracy {table.loc[best, 'accuracy']:.2f}"
    )
    stamp_figure(fig, caveat)
    fig.tight_layout()
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "plot_zero_shot.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"\nSaved {path}")
    results = {
        "scores": scores,
        "accuracy": table,
        "cross_val": cross_val,
        "proba": proba,
        "figure": path,
    }
    return stamp_tables(results, caveat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Zero-shot classification from class names."
    )
    parser.add_argument("--tiny", action="store_true", help="tiny random model")
    parser.add_argument("--model", help="open_clip architecture (default ViT-B-32)")
    parser.add_argument("--pretrained", help="tag or checkpoint (default openai)")
    parser.add_argument("--output-dir", help="folder of the figure")
    parser.add_argument("--root", help="image folder, one subfolder per class")
    args = parser.parse_args()
    main(
        tiny=args.tiny or None,
        model=args.model,
        pretrained=args.pretrained,
        output_dir=args.output_dir,
        root=args.root,
    )
