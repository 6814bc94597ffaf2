"""
Removing an "artist" theme from text prompts
============================================

Any labelled word list can be a category of the part-of-speech component
analysis. Oldfield et al. (2023) learn a subspace for a *theme*, a list of
artists' names, as the target against the four WordNet parts of speech: its
directions carry what artists' names have in common and the ordinary
vocabulary does not. Projecting a prompt's embedding onto the orthogonal
complement of that subspace (``output="complement"``) removes the theme
and keeps the rest, so that, for instance, a text-to-image model fed the
result draws the content without the artist's style.
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
from sklearn_pos.datasets import load_themed_vocabulary
from sklearn_pos.embedding import CLIPEmbedder

#: (artist, content word) pairs; every artist is in the bundled list.
PROMPTS = [
    ("Claude Monet", "lighthouse"),
    ("Vincent van Gogh", "sunflower"),
    ("Katsushika Hokusai", "wave"),
    ("Johannes Vermeer", "kitchen"),
    ("Frida Kahlo", "monkey"),
    ("Edvard Munch", "bridge"),
    ("Gustav Klimt", "tree"),
    ("Caspar David Friedrich", "mountain"),
    ("Salvador Dalí", "clock"),
    ("Hieronymus Bosch", "bird"),
]
TEMPLATE = "a painting of a {content} by {artist}"


def _cosine_rows(A, B):
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    B = B / np.linalg.norm(B, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", A, B)


# %%
# Sizes
# -----
vocabulary_size = None  # None: a small subset on the tiny model, all words otherwise
n_components = None  # None: chosen from the width of the embeddings

# %%
# Embed the themed vocabulary and fit the artist subspace
# -------------------------------------------------------
# The requested weights, or (offline, not cached) the tiny random model,
# said on stderr; its outputs are then marked with the caveat.
weights = choose_clip_weights()
tiny, label = weights.tiny, weights.label
if vocabulary_size is None and tiny:
    vocabulary_size = 400

words, categories = load_themed_vocabulary(
    "artists", n_words=vocabulary_size, random_state=0, return_X_y=True
)
embedder = CLIPEmbedder(
    **weights.embedder_params,
    memory=get_cache_dir(),  # the embedding store shared with the CLI
    verbose=not tiny,
)
print(
    f"Encoding {len(words):,} words ({int(np.sum(categories == 'artist'))} "
    f"artists) with {label} ..."
)
E = embedder.fit_transform(list(words))
caveat = caveat_for(embedder)
vocabulary = (
    pd.Series(categories)
    .value_counts(sort=False)
    .rename_axis("category")
    .to_frame("n_words")
)
print(vocabulary.T.to_string())
k = n_components or E.shape[1] // 2  # the paper: 512 of 1024
theme = PartOfSpeechComponentAnalysis(
    n_components=k, lam=0.5, target="artist", output="complement"
).fit(E, categories)


# %%
# Remove the artist from prompts
# ------------------------------
# Cosine of each prompt to its artist and to its content, before and after.
artists = [artist for artist, _ in PROMPTS]
contents = [content for _, content in PROMPTS]
prompts = [TEMPLATE.format(artist=a, content=c) for a, c in PROMPTS]
P = embedder.transform(prompts)
P_removed = theme.transform(P)  # Exp((I - W W^T)(Log(p) - m) + m)
A = embedder.transform(artists)
C = embedder.transform(contents)

table = pd.DataFrame(
    {
        "artist before": _cosine_rows(P, A),
        "artist after": _cosine_rows(P_removed, A),
        "content before": _cosine_rows(P, C),
        "content after": _cosine_rows(P_removed, C),
    },
    index=pd.Index(prompts, name="prompt"),
)
table["artist change"] = table["artist after"] - table["artist before"]
table["content change"] = table["content after"] - table["content before"]
mean = table.mean().rename("mean")

print(
    "\n"
    + caption(
        "Cosine similarity of each prompt to its artist's name and to its "
        "content word, before and after removing the artist subspace\n"
        f"({label}, k={k}, lam=0.5, geometry=tangent)",
        caveat,
    )
    + "\n"
)
with pd.option_context("display.width", 200, "display.max_colwidth", 60):
    print(
        pd.concat([table, mean.to_frame().T])
        .rename_axis("prompt")
        .to_string(float_format=lambda v: f"{v:+.3f}")
    )
print(
    f"\nOn average the similarity to the artist changes by "
    f"{mean['artist change']:+.3f} and to the content word by "
    f"{mean['content change']:+.3f}."
)
if caveat is None:
    print(
        "With pretrained weights the artist similarity should fall and the "
        "content similarity stay: compare the signs above."
    )
else:
    print(
        f"{caveat}: with random weights there is no artist theme to remove, "
        "so these changes mean nothing, whatever their sign."
    )


# %%
# Change of each cosine
# ---------------------
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
positions = np.arange(len(PROMPTS))
for ax, what in zip(axes, ("artist", "content")):
    ax.barh(positions - 0.2, table[f"{what} before"], height=0.4, label="before")
    ax.barh(positions + 0.2, table[f"{what} after"], height=0.4, label="after")
    ax.set_yticks(positions, [f"{c} / {a}" for a, c in PROMPTS])
    ax.set_xlabel(f"cosine similarity to the {what}")
    ax.set_title(
        "to the artist's name" if what == "artist" else "to the content word"
    )
    ax.legend(loc="best")
axes[0].invert_yaxis()  # first prompt on top (the y axis is shared)
fig.suptitle(
    f'Prompts "{TEMPLATE}" before and after removing the artist subspace '
    f"({label}, k={k})"
)
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
