"""
Zero-shot classification under a style shift, with CLAP
=======================================================

A zero-shot classifier compares an image embedding with the embeddings of
the class names. When the images come in a strong style (sketches,
cartoons, mosaics, ...) the style can dominate the embedding and mislead the
comparison. :class:`~sklearn_pos.clap.CLAPDisentangler` trains a small
residual network on *text* embeddings of styled prompts built from the class
names ("an impressionistic sketch of a small red owl"), so that content is
kept and style suppressed, then applies it to image and text embeddings.
"""

# %%

import numpy as np
import pandas as pd

from sklearn_pos.caveats import (
    SYNTHETIC_EMBEDDINGS,
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
)
from sklearn_pos.clap import CLAPDisentangler
from sklearn_pos.templates import CLAP_STYLES
from sklearn_pos.datasets import PlantedTextEmbedder

CLASSES = [
    "dog",
    "cat",
    "owl",
    "car",
    "boat",
    "tree",
    "house",
    "fish",
    "horse",
    "apple",
]
ALPHAS = [0.0, 0.05, 0.1, 0.2, 0.5, 1.0]
#: Styles outside CLAP's training grammar, for text queries with a real model.
UNSEEN_STYLES = ["origami", "graffiti", "embroidery", "tattoo", "pixel art"]


def _styled_queries(embedder, classes, styles):
    texts = [f"a {s} of a {c}" for c in classes for s in styles]
    y = np.repeat(np.arange(len(classes)), len(styles))
    return embedder.transform(texts), y, np.tile(np.asarray(styles), len(classes))


def _predict(X, C):
    return np.argmax(X @ C.T, axis=1)


# %%
# Settings
# --------
# The embeddings are generated unless ``model`` names an open_clip
# architecture (e.g. ``"ViT-B-32"``), whose text encoder is then used.
model = None
pretrained = None
random_state = 0

# %%
# The texts to classify
# ---------------------
# Generated text embeddings where each style is a direction of its own, or
# CLIP's text encoder when ``model`` is set.
classes = CLASSES
params = dict(
    hidden_dim=64,
    n_prompts_per_class=96,
    max_steps=400,
    batch_size=64,
    learning_rate=1e-3,
    validation_interval=50,
    random_state=random_state,
)
if model is not None:
    from sklearn_pos.embedding import CLIPEmbedder

    # The weights asked for (random ones without pretrained), or the tiny
    # random model when asked for or when they cannot be had (said on stderr).
    weights = choose_clip_weights(
        None, model, pretrained, default_pretrained=None
    )
    if weights.tiny:
        classes = CLASSES[:5]
        params.update(n_prompts_per_class=24, max_steps=60)
        print("Tiny random CLIP model: a smoke run, accuracies are not meaningful.")
    else:
        params.update(hidden_dim=512, n_prompts_per_class=None, max_steps=2000)
    embedder = CLIPEmbedder(modality="text", **weights.embedder_params)
    caveat = caveat_for(embedder)
    X, y, styles = _styled_queries(embedder, classes, UNSEEN_STYLES)
    source = f"{weights.model_name} text queries in unseen styles"
else:
    embedder = PlantedTextEmbedder(classes)
    caveat = SYNTHETIC_EMBEDDINGS
    # Six images of every class in every style.
    X, y, styles = embedder.images(n_per_class=6 * len(CLAP_STYLES), balanced=True)
    source = "planted images"


# %%
# Fit CLAP and compare with the raw embeddings
# --------------------------------------------
# The class names and the text encoder are parameters; fit takes the
# embeddings to transform (it checks their width) and trains on prompts.
clap = CLAPDisentangler(classes, embedder, **params).fit(X)
C = embedder.transform(classes)
print(
    f"CLAP trained on {clap.n_prompts_} prompts for {len(classes)} classes: "
    f"{clap.n_iter_} steps, {clap.fit_time_:.1f} s ({source})."
)

by_alpha = []
for alpha in ALPHAS:
    clap.set_params(alpha=alpha)  # no refit: alpha is used by transform
    pred = _predict(clap.transform(X), clap.transform(C))
    by_alpha.append({"alpha": alpha, "accuracy": float(np.mean(pred == y))})
by_alpha = pd.DataFrame(by_alpha)
best_alpha = float(by_alpha.loc[by_alpha["accuracy"].idxmax(), "alpha"])

raw_pred = _predict(X, C)
clap_pred = _predict(
    clap.set_params(alpha=best_alpha).transform(X), clap.transform(C)
)
per_style = (
    pd.DataFrame(
        {
            "style": styles,
            "raw embeddings": raw_pred == y,
            f"CLAP (alpha={best_alpha})": clap_pred == y,
        }
    )
    .groupby("style", sort=False)
    .mean()
)
per_style.loc["all"] = per_style.mean()

print("\n" + caption("Zero-shot accuracy by style", caveat))
print(per_style.to_string(float_format=lambda v: f"{v:.2f}"))
print("\n" + caption("Accuracy against alpha (one fit)", caveat))
print(by_alpha.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


# %%
# Accuracy by style and against alpha
# -----------------------------------
import matplotlib.pyplot as plt

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=[2, 1])
table = per_style.drop(index="all")
positions = np.arange(len(table))
for offset, column in zip((-0.2, 0.2), table.columns):
    left.bar(positions + offset, table[column], width=0.4, label=column)
left.set_xticks(positions, table.index, rotation=30, ha="right")
left.set_ylim(0, 1.15)
left.set_ylabel("zero-shot accuracy")
left.set_title("Accuracy by style")
left.legend(loc="upper left", ncols=2)
steps = np.arange(len(by_alpha))
right.plot(steps, by_alpha["accuracy"], marker="o")
right.set_xticks(steps, [f"{a:g}" for a in by_alpha["alpha"]])
right.set_ylim(0, 1.15)
right.set_xlabel("alpha (set after fit)")
right.set_title("Accuracy against alpha")
fig.suptitle(f"CLAP under a style shift ({source})")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
