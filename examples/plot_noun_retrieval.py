"""
Retrieval by object in the noun subspace with NearestNeighbors
==============================================================

A caption names an object, but its CLIP embedding also carries its style
and its adjectives, so the nearest images of a query can share a colour
rather than the object. Projecting images and captions onto the noun
subspace learned from WordNet
(:class:`~sklearn_pos.VocabularyPartOfSpeechAnalysis`, ``target="noun"``)
keeps what the nouns vary in. This example indexes generated images with
scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors` (cosine
distance), queries it with captions, and shows the images retrieved before
and after the projection.
"""

# %%
# Images, captions and the weights
# --------------------------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image
from sklearn.neighbors import NearestNeighbors

from sklearn_pos import CLIPEmbedder, VocabularyPartOfSpeechAnalysis
from sklearn_pos.caveats import caption, choose_clip_weights, stamp_figure
from sklearn_pos.datasets import make_image_folder

weights = choose_clip_weights()
clip = weights.embedder_params
caveat = weights.caveat
workdir = tempfile.TemporaryDirectory(prefix="sklearn_pos_example_")
folder = make_image_folder(
    Path(workdir.name), classes=("red", "green", "blue"), n_per_class=6
)
image = CLIPEmbedder(modality="image", num_workers=0, **clip)
text = CLIPEmbedder(modality="text", **clip)
X_images = image.transform(folder.paths)
queries = [
    "a photo of a red circle",
    "a photo of a blue square",
    "a green triangle",
]
X_queries = text.transform(queries)
print(
    caption(
        f"{len(X_images)} images, {len(queries)} captions, {weights.label}",
        caveat,
    )
)

# %%
# The noun subspace, fitted on the WordNet vocabulary
# ---------------------------------------------------
# The step embeds the WordNet words with the text encoder and learns the
# subspace from them; ``fit`` only reads the width of ``X_images``.
noun = VocabularyPartOfSpeechAnalysis(
    "wordnet",
    text_embedder=text,
    n_components=X_images.shape[1] // 2,
    target="noun",
    output="projection",
    vocabulary_size=400 if weights.tiny else None,
).fit(X_images)
print(
    f"noun subspace: {noun.n_components} directions "
    f"from {noun.n_vocabulary_} words"
)

# %%
# Query the index before and after the projection
# -----------------------------------------------
n_neighbors = 4
retrieved = {}
spaces = {"CLIP": lambda X: X, "noun subspace": noun.transform}
for space, transform in spaces.items():
    index = NearestNeighbors(n_neighbors=n_neighbors, metric="cosine")
    index.fit(transform(X_images))
    distances, neighbours = index.kneighbors(transform(X_queries))
    retrieved[space] = neighbours
# How many of the images found show the object the caption names, and how
# many its colour (the shape and colour of each query are its last words).
rows = []
for space, neighbours in retrieved.items():
    for query, found in zip(queries, neighbours):
        colour, shape = query.split()[-2:]
        rows.append(
            {
                "space": space,
                "query": query,
                "same shape": sum(folder.shape[i] == shape for i in found),
                "same colour": sum(folder.target[i] == colour for i in found),
            }
        )
table = pd.DataFrame(rows)
print(caption(f"Of the {n_neighbors} nearest images of each caption", caveat))
print(table.to_string(index=False))

# %%
# The retrieved images
# --------------------
n_rows = 2 * len(queries)
fig, axes = plt.subplots(
    n_rows, n_neighbors, figsize=(1.6 * n_neighbors, 1.7 * n_rows)
)
for r, (space, neighbours) in enumerate(retrieved.items()):
    for q, (query, found) in enumerate(zip(queries, neighbours)):
        row = axes[q * 2 + r]
        for ax, i in zip(row, found):
            ax.imshow(np.asarray(Image.open(folder.paths[i]).convert("RGB")))
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(
            f"{query}\n({space})", fontsize=7, rotation=0, ha="right", va="center"
        )
fig.suptitle("Nearest images of each caption, before and after the projection")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
