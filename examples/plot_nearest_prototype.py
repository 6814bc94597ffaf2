"""
Few-shot classification: class means with a text prior
======================================================

With a handful of labelled images per class,
:class:`~sklearn_pos.NearestPrototypeClassifier` represents each class by
the intrinsic mean of its image embeddings on the unit sphere and assigns a
new image to the most similar mean. The zero-shot text prototypes of the
class names can act as a prior: each prototype moves from the image mean
towards the text prototype along the geodesic, by the fraction
``w / (n_c + w)`` where ``n_c`` is the number of labelled images of the
class and ``w = prior_weight`` (the text counts as ``w`` images).
"""

# %%
import tempfile

import numpy as np
import pandas as pd

from sklearn_pos import NearestPrototypeClassifier, ZeroShotClassifier
from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
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


# %%
# Sizes
# -----
n_draws = None  # None: one draw on the tiny model, N_DRAWS otherwise

# %%
# Few-shot accuracy against the number of shots
# ---------------------------------------------
# Each draw picks a few labelled images per class and tests on the rest.
weights = choose_clip_weights()
tiny = weights.tiny
if n_draws is None:
    n_draws = 1 if tiny else N_DRAWS
clip = weights.embedder_params
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


# %%
# Accuracy against shots
# ----------------------
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
plt.show()
