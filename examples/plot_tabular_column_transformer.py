"""
Images and captions in a DataFrame: one CLIPEmbedder per column
===============================================================

Tabular data often holds an image path and a caption per row.
:class:`~sklearn.compose.ColumnTransformer` embeds each column with its own
:class:`~sklearn_pos.CLIPEmbedder` (image tower for the paths, text tower
for the captions) and concatenates the embeddings for a classifier. The
column can be named as a string (the embedder receives a pandas Series) or
as a one-element list (a one-column DataFrame); both work.
"""

# %%
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Memory
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline

from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
)
from sklearn_pos.datasets import make_image_folder
from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.evaluation import evaluate_classifiers

COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")
SHAPES = ("circle", "square", "triangle")
PHRASES = (
    "a drawing of a {}",
    "there is a {} here",
    "{} on a plain background",
    "my {}",
)


def make_table(workdir, seed=0):
    """A DataFrame of image paths, noisy captions and the shape label."""
    folder = make_image_folder(
        workdir, classes=COLOURS, n_per_class=8, random_state=seed
    )
    rng = np.random.default_rng(seed)
    named = np.where(
        rng.random(len(folder.paths)) < 0.6,
        folder.shape,
        rng.choice(SHAPES, len(folder.paths)),
    )
    captions = [PHRASES[rng.integers(len(PHRASES))].format(s) for s in named]
    return pd.DataFrame(
        {"image_path": folder.paths, "caption": captions, "shape": folder.shape}
    )


# %%
# Sizes
# -----
seed = 0

# %%
# Cross-validate one classifier per set of columns
# ------------------------------------------------
weights = choose_clip_weights()
tiny = weights.tiny
clip = weights.embedder_params
caveat = caveat_for(CLIPEmbedder(**clip))
with tempfile.TemporaryDirectory() as workdir:
    df = make_table(Path(workdir) / "images", seed=seed)
    head = df.head(4).assign(
        image_path=lambda d: d.image_path.map(lambda p: Path(p).name)
    )
    print(head.to_string())
    memory = Memory(Path(workdir) / "cache", verbose=0)  # embed each file once
    image = CLIPEmbedder(modality="image", num_workers=0, memory=memory, **clip)
    text = CLIPEmbedder(modality="text", memory=memory, **clip)

    def classifier(columns):
        return make_pipeline(
            ColumnTransformer(columns), LogisticRegression(max_iter=2000)
        )

    methods = {
        "image": classifier([("image", image, "image_path")]),
        "caption": classifier([("caption", text, ["caption"])]),
        "image + caption": classifier(
            [("image", image, "image_path"), ("caption", text, ["caption"])]
        ),
    }
    X, y = df[["image_path", "caption"]], df["shape"]
    cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
    results = evaluate_classifiers(
        methods,
        X,
        y,
        cv=cv,
        scoring=["accuracy", "balanced_accuracy"],
        dataset="shapes",
    )

print("\n" + caption("Tidy cross-validation results (first rows):", caveat))
print(results.head(6).round(3).to_string(index=False))
summary = results.groupby(["method", "metric"], sort=False)["score"].agg(
    ["mean", "std"]
)
print("\n" + caption("Mean over folds:", caveat))
print(summary.round(3).to_string())


# %%
# Accuracy of each set of columns
# -------------------------------
import matplotlib.pyplot as plt

accuracy = summary.xs("accuracy", level="metric")
fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.bar(
    accuracy.index,
    accuracy["mean"],
    yerr=accuracy["std"],
    capsize=4,
    color=["tab:blue", "tab:orange", "tab:green"],
)
ax.axhline(1 / len(SHAPES), color="grey", linestyle="--", label="chance")
ax.set_ylim(0, 1.02)
ax.set_ylabel("accuracy (4-fold CV)")
ax.set_title("ColumnTransformer: a CLIPEmbedder per column")
ax.legend()
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
