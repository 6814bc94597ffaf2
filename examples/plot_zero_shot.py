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
``root/<class name>/<image>`` layout instead. It uses CLIP ViT-B-32 with
OpenAI weights; ``SKLEARN_POS_EXAMPLE_TINY=1`` switches to a tiny random
model for a quick offline run (accuracies are then near chance). Figures go
to ``SKLEARN_POS_EXAMPLE_OUTPUT`` (default: ``sklearn_pos_output``).
"""

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.evaluation import evaluate_classifiers, make_image_folder
from sklearn_pos.templates import TEMPLATES
from sklearn_pos.zero_shot import ZeroShotClassifier

TINY = os.environ.get("SKLEARN_POS_EXAMPLE_TINY") == "1"
OUTPUT = Path(
    os.environ.get("SKLEARN_POS_EXAMPLE_OUTPUT")
    or os.environ.get("SKLEARN_POS_OUTPUT", "sklearn_pos_output")
)
MODEL = (
    dict(model_name="sklearn-pos-tiny", pretrained=None, device="cpu")
    if TINY
    else dict(model_name="ViT-B-32", pretrained="openai")
)
CLASSES = ("red", "green", "blue", "yellow", "purple", "orange")


def load_images(root, workdir):
    """Image paths, labels and class names: a folder given, or generated."""
    if root is None:
        folder = make_image_folder(workdir, classes=CLASSES, n_per_class=8)
        return folder.paths, folder.target, folder.target_names
    folders = sorted(p for p in Path(root).iterdir() if p.is_dir())
    paths, target = [], []
    for folder in folders:
        files = sorted(p for p in folder.iterdir() if p.is_file())
        paths += [str(p) for p in files]
        target += [folder.name] * len(files)
    return paths, np.asarray(target), [f.name for f in folders]


def main(root=None):
    text = CLIPEmbedder(modality="text", **MODEL)
    image = CLIPEmbedder(modality="image", num_workers=0, **MODEL)
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
        print(f"Zero-shot accuracy on {len(y)} images, {len(class_names)} classes")
        print(table.round(3).to_string())

        # 2. The classifier as the last step of a pipeline on image files.
        pipe = make_pipeline(
            image,
            ZeroShotClassifier(class_names, templates="simple", text_embedder=text),
        )
        cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
        folds = cross_val_score(pipe, paths, y, cv=cv)
        print(
            f"\ncross_val_score of Pipeline(CLIPEmbedder, ZeroShotClassifier): "
            f"{folds.mean():.3f} +/- {folds.std():.3f} "
            f"(folds {np.round(folds, 3).tolist()})"
        )

        # 3. Probabilities of a few images, and the confusion matrix.
        best = table["accuracy"].idxmax()
        clf = classifiers[best]
        proba = pd.DataFrame(clf.predict_proba(X[:3]), columns=clf.classes_).round(3)
        proba.insert(0, "true", y[:3])
        print(
            f"\npredict_proba (softmax of {clf.logit_scale:g} x cosine), "
            f"templates {best}:"
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
    fig.tight_layout()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "plot_zero_shot.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"\nSaved {path}")
    return {"scores": scores, "cross_val": folds, "figure": path}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Zero-shot classification from class names."
    )
    parser.add_argument("--root", help="image folder, one subfolder per class")
    main(parser.parse_args().root)
