"""
Zero-shot image classification from class names
===============================================

:class:`~sklearn_pos.ZeroShotClassifier` classifies image embeddings by
their cosine similarity to text prototypes: each class name is filled into
prompt templates, embedded by CLIP's text encoder, and the embeddings are
averaged per class. No labelled image is needed; the labels below are only
used to measure accuracy.
"""

# %%
import tempfile

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
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


# %%
# Sizes
# -----
root = None

# %%
# Template sets, a cross-validated pipeline and probabilities
# -----------------------------------------------------------
# The images are embedded once; the labels only measure accuracy.
weights = choose_clip_weights()
tiny = weights.tiny
clip = weights.embedder_params
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


# %%
# The confusion matrix of the best template set
# ---------------------------------------------
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
plt.show()
