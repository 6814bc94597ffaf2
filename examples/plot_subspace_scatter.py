"""
Words of each part of speech on the learned subspaces
=====================================================

Each part-of-speech subspace of Oldfield et al. (2023) is an ordered basis:
its first direction is the one along which its own category varies most
while the others vary least (for ``lam=0.5``). Drawing the words of all
four categories on the first two directions of one subspace shows the
effect: the category that owns the subspace spreads out, the other three
stay gathered near the origin.
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
from sklearn_pos.plotting import PART_OF_SPEECH_ORDER

# The parts of speech in the order of every figure of the library.
ORDER = list(PART_OF_SPEECH_ORDER)


# %%
# Sizes
# -----
vocabulary_size = None  # None: a small subset on the tiny model, all words otherwise
n_components = None  # None: chosen from the width of the embeddings
max_points_per_class = 1000

# %%
# Embed the WordNet vocabulary and fit the subspaces
# --------------------------------------------------
# The requested weights, or (offline, not cached) the tiny random model,
# said on stderr; its outputs are then marked with the caveat.
weights = choose_clip_weights()
tiny, label = weights.tiny, weights.label
if vocabulary_size is None and tiny:
    vocabulary_size = 400
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
estimator = PartOfSpeechComponentAnalysis(
    n_components=n_components, lam=0.5
).fit(E, pos)


# %%
# Every category on every subspace
# --------------------------------
import matplotlib.pyplot as plt

from sklearn_pos.plotting import SubspaceScatterDisplay

fig, axes = plt.subplots(2, 2, figsize=(10, 8.5))
spread = {}
for ax, subspace in zip(axes.ravel(), ORDER):
    display = SubspaceScatterDisplay.from_estimator(
        estimator,
        E,
        pos,
        subspace=subspace,
        max_points_per_class=max_points_per_class,
        order=ORDER,
        ax=ax,
        legend=subspace == ORDER[0],
        caveat=caveat,
    )
    # Spread of every category on the two directions drawn.
    spread[subspace] = {
        category: float(np.mean(points.get_offsets() ** 2))
        for category, points in display.scatters_.items()
    }
spread = pd.DataFrame(spread).T.rename_axis(index="subspace", columns="data")
spread = spread[ORDER]

print(
    "\n"
    + caption(
        "Mean squared coordinate on the first two directions of each subspace "
        f"({label}, k={n_components}, lam=0.5)",
        caveat,
    )
)
print(spread.to_string(float_format=lambda v: f"{v:.2e}"))
own = np.diag(spread.to_numpy())
others = (spread.to_numpy().sum(axis=1) - own) / (len(ORDER) - 1)
contrast = pd.DataFrame(
    {"own": own, "others": others, "ratio": own / others},
    index=spread.index,
)
print(
    "\n"
    + caption(
        "Own category / mean of the others: "
        + ", ".join(f"{s} {r:.1f}x" for s, r in contrast["ratio"].items()),
        caveat,
    )
)
if caveat is not None:
    print(f"\n{caveat}: the numbers only show that the example runs.")

fig.suptitle(f"WordNet words on the part-of-speech subspaces ({label}, λ = 0.5)")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
