"""
Tuning the part-of-speech step (lambda, k) with GridSearchCV on images
======================================================================

A supervised pipeline ``CLIPEmbedder(image) -> part-of-speech step ->
LogisticRegression`` classifies images from the coordinates of their
embeddings in the noun subspace. The subspace must come from the
part-of-speech labelled vocabulary, not from the image labels:
:class:`~sklearn_pos.VocabularyPartOfSpeechAnalysis` holds the vocabulary
as a parameter and ignores the labels that the pipeline passes to ``fit``.
Its ``lam`` and ``n_components`` are then ordinary hyper-parameters:
:class:`~sklearn.model_selection.GridSearchCV` refits the closed form on
the vocabulary embeddings, which are computed once and cached, and each
distinct subspace is fitted once for all folds.
"""

# %%
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Memory
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
)
from sklearn_pos.datasets import load_wordnet_vocabulary, make_image_folder
from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.vocabulary import VocabularyPartOfSpeechAnalysis

COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")


def draw_search_heatmap(results, ax):
    """Mean CV accuracy over the (lambda, k) grid, annotated, with its colour bar.

    ``results`` is the table ``main`` returns as ``"results"``; returns the
    colour bar.
    """
    heat = results.pivot(index="n_components", columns="lam", values="mean_test_score")
    image = ax.imshow(heat.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(np.arange(heat.shape[1]), [f"{v:g}" for v in heat.columns])
    ax.set_yticks(np.arange(heat.shape[0]), [str(v) for v in heat.index])
    for (i, j), value in np.ndenumerate(heat.to_numpy()):
        # dark text on the light (high) end of viridis, light text elsewhere
        colour = "black" if value > 0.6 else "white"
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", color=colour)
    ax.set_xlabel("lambda")
    ax.set_ylabel("k (noun subspace)")
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label("mean accuracy (3-fold CV)")
    return colorbar


# %%
# Sizes
# -----
vocabulary_size = None  # None: a small subset on the tiny model, all words otherwise

# %%
# Search lam and n_components with GridSearchCV
# ---------------------------------------------
# Images are embedded once (cached on disk); each candidate refits the
# closed-form subspace.
weights = choose_clip_weights()
tiny = weights.tiny
clip = weights.embedder_params
caveat = caveat_for(CLIPEmbedder(**clip))
if vocabulary_size is None:
    vocabulary_size = 400 if tiny else 20000
# The WordNet subset is drawn once here, so that the fits of the search do
# not draw it again.
vocabulary = load_wordnet_vocabulary(
    n_words=vocabulary_size, random_state=0, return_X_y=True
)
with tempfile.TemporaryDirectory() as workdir:
    folder = make_image_folder(
        Path(workdir) / "images", classes=COLOURS, n_per_class=8, random_state=1
    )
    paths, y = folder.paths, folder.shape  # the label is the shape drawn

    # The image embeddings are cached on disk, so the 3 x 5 x 3 fits of the
    # search do not embed the images again; the vocabulary is cached in memory.
    memory = Memory(Path(workdir) / "cache", verbose=0)
    pipe = Pipeline(
        [
            (
                "embed",
                CLIPEmbedder(
                    modality="image", num_workers=0, memory=memory, **clip
                ),
            ),
            (
                "pos",
                VocabularyPartOfSpeechAnalysis(
                    vocabulary,
                    text_embedder=CLIPEmbedder(modality="text", **clip),
                    target="noun",
                    output="coordinates",
                ),
            ),
            ("classify", LogisticRegression(max_iter=2000)),
        ]
    )
    width = pipe[0].get_model().embed_dim
    grid = {
        "pos__lam": [0.0, 0.25, 0.5, 0.75, 1.0],
        "pos__n_components": [max(2, width // 16), width // 4, (3 * width) // 4],
    }
    search = GridSearchCV(
        pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0)
    )
    start = time.perf_counter()
    search.fit(paths, y)
    seconds = time.perf_counter() - start

n_fits = 3 * len(grid["pos__lam"]) * len(grid["pos__n_components"]) + 1
print(
    caption(
        f"GridSearchCV: {n_fits} fits in {seconds:.1f} s on {len(y)} images "
        f"({', '.join(sorted(set(map(str, y))))}); vocabulary of "
        f"{search.best_estimator_['pos'].n_vocabulary_:,} WordNet words "
        "(embedded once, then cached).",
        caveat,
    )
)
results = pd.DataFrame(search.cv_results_)[
    [
        "param_pos__lam",
        "param_pos__n_components",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
    ]
].rename(columns=lambda c: c.replace("param_pos__", ""))
results = results.astype({"lam": float, "n_components": int})
print(results.sort_values("rank_test_score").round(3).to_string(index=False))
print(
    "\n"
    + caption(
        f"best: {search.best_params_}, accuracy {search.best_score_:.3f}",
        caveat,
    )
)
best = pd.DataFrame(
    [
        {
            "lam": float(search.best_params_["pos__lam"]),
            "n_components": int(search.best_params_["pos__n_components"]),
            "mean_test_score": float(search.best_score_),
            "n_fits": n_fits,
            "n_vocabulary": int(search.best_estimator_["pos"].n_vocabulary_),
        }
    ]
)


# %%
# The search as a heatmap
# -----------------------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6.5, 3.8))
draw_search_heatmap(results, ax)
ax.set_title("Mean CV accuracy: shape from noun-subspace coordinates")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
