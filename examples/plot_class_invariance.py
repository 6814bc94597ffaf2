"""
Class invariance of the part-of-speech subspaces (λ = 0.5 vs λ = 0)
===================================================================

Oldfield et al. (2023) learn one subspace per part of speech from the CLIP
embeddings of WordNet words. How well does each subspace keep to its own
part of speech? For the subspace ``W_i`` of category ``i`` and the words of
category ``j``, :func:`sklearn_pos.metrics.class_invariance` measures the
mean squared norm of their coordinates in the subspace,
``(1/n_j) ||W_i^T (Log_mu(x) - m)||^2``, and normalises every row to sum to
one. A diagonal table means each subspace holds its own part of speech and
little of the others.
"""

# %%

import numpy as np
import pandas as pd

from sklearn_pos import PartOfSpeechComponentAnalysis, get_cache_dir
from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
)
from sklearn_pos.datasets import load_wordnet_vocabulary
from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.metrics import class_invariance
from sklearn_pos.plotting import PART_OF_SPEECH_ORDER

# The parts of speech in the order of every figure of the library.
ORDER = list(PART_OF_SPEECH_ORDER)

#: Oldfield et al. (2023), Fig. 6: ViT-B/32, k = 64, λ = 0.5.
PUBLISHED = pd.DataFrame(
    [
        [0.74, 0.13, 0.10, 0.036],
        [0.24, 0.52, 0.15, 0.091],
        [0.20, 0.16, 0.56, 0.081],
        [0.14, 0.18, 0.12, 0.56],
    ],
    index=pd.Index(ORDER, name="subspace"),
    columns=pd.Index(ORDER, name="data"),
)
#: The diagonal published for λ = 0 (the full table is not given).
PUBLISHED_DIAGONAL_LAM0 = [0.41, 0.28, 0.28, 0.21]


# %%
# Sizes
# -----
vocabulary_size = None  # None: a small subset on the tiny model, all words otherwise
n_components = None  # None: chosen from the width of the embeddings

# %%
# Embed the WordNet vocabulary
# ----------------------------
# The weights come from :func:`~sklearn_pos.caveats.choose_clip_weights`:
# real ones where they can be had, else the tiny model with random weights
# (said on stderr; its outputs are then marked with the caveat).
weights = choose_clip_weights()
tiny, label = weights.tiny, weights.label
if vocabulary_size is None and tiny:
    vocabulary_size = 800
if n_components is None:
    n_components = 16 if tiny else 64

words, pos = load_wordnet_vocabulary(
    n_words=vocabulary_size, random_state=0, return_X_y=True
)
embedder = CLIPEmbedder(
    **weights.embedder_params,
    memory=get_cache_dir(),  # the embedding store shared with the CLI
    verbose=not tiny,
)
print(f"Encoding {len(words):,} WordNet words with {label} ...")
E = embedder.fit_transform(list(words))
caveat = caveat_for(embedder)


# %%
# Class invariance with and without the supervision
# -------------------------------------------------
# ``lam=0.5`` fits each subspace to its own part of speech; ``lam=0`` is
# the PCA of each category.
tables = {}
for lam in (0.5, 0.0):
    estimator = PartOfSpeechComponentAnalysis(
        n_components=n_components, lam=lam
    ).fit(E, pos)
    tables[f"lam={lam:g}"] = class_invariance(estimator, E, pos, labels=ORDER)

fmt = {"float_format": lambda v: f"{v:.2f}"}
for name, table in tables.items():
    print(
        "\n"
        + caption(
            f"Class invariance, {label}, k={n_components}, {name}", caveat
        )
    )
    print(table.to_string(**fmt))
print("\nPublished (Oldfield et al. 2023, Fig. 6): ViT-B/32, k=64, lam=0.5")
print(PUBLISHED.to_string(**fmt))
summary = pd.DataFrame(
    {name: np.diag(t.to_numpy()) for name, t in tables.items()}
    | {
        "published lam=0.5": np.diag(PUBLISHED.to_numpy()),
        "published lam=0": PUBLISHED_DIAGONAL_LAM0,
    },
    index=pd.Index(ORDER, name="diagonal"),
)
print(
    "\n"
    + caption(
        "Diagonal (share of each subspace taken by its own part of speech)",
        caveat,
    )
)
print(summary.to_string(**fmt))
if caveat is not None:
    print(
        f"\n{caveat}: the numbers only show that the example runs. A "
        "diagonal is what lam=0.5 is fitted to produce on these words, "
        "whatever the weights; it says nothing about CLIP."
    )


# %%
# The tables as heatmaps, next to the published one
# -------------------------------------------------
import matplotlib.pyplot as plt

from sklearn_pos.plotting import ClassInvarianceDisplay

fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
mark = "" if caveat is None else f"\n{caveat}"
panels = [
    (tables["lam=0"], f"λ = 0 (PCA), {weights.model_name}{mark}"),
    (tables["lam=0.5"], f"λ = 0.5, {weights.model_name}{mark}"),
    (PUBLISHED, "λ = 0.5, published (ViT-B/32)"),
]
for ax, (table, title) in zip(axes, panels):
    ClassInvarianceDisplay(table).plot(ax=ax, vmax=1.0, title=title)
fig.suptitle(
    f"Class invariance of the part-of-speech subspaces (k = {n_components}"
    + (", random weights)" if weights.pretrained is None else ")")
)
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
