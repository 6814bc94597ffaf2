"""
Embed a folder once, then cross-validate a Pipeline on the stored embeddings
============================================================================

:func:`~sklearn_pos.embed_collection` embeds a whole collection to Parquet
files once (resumably, here or on a Dask cluster), and
:func:`~sklearn_pos.read_embeddings` reads them back, checked, as a NumPy
array and a table of where each row came from. The array is then ordinary
input for scikit-learn: here a Pipeline that maps the image embeddings onto
the noun subspace learned from WordNet
(:class:`~sklearn_pos.VocabularyPartOfSpeechAnalysis`) before a logistic
regression, cross-validated against the same classifier on the raw
embeddings. Nothing is embedded twice: the cross-validation only fits the
subspace and the classifier.
"""

# %%
# The weights, and an image folder
# --------------------------------
# :func:`~sklearn_pos.caveats.choose_clip_weights` asks for CLIP ViT-B-32
# with OpenAI's weights and, where they cannot be had, runs the bundled tiny
# model with random weights; its ``caveat`` then marks every table and
# figure. The images are generated: a circle, a square or a triangle in one
# of four colours; the label to predict is the shape.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_pos import (
    CLIPEmbedder,
    VocabularyPartOfSpeechAnalysis,
    embed_collection,
    read_embeddings,
)
from sklearn_pos.caveats import caption, choose_clip_weights, stamp_figure
from sklearn_pos.datasets import make_image_folder

weights = choose_clip_weights()
clip = weights.embedder_params
caveat = weights.caveat
# Everything written goes to a temporary folder, removed when the run ends.
workdir = tempfile.TemporaryDirectory(prefix="sklearn_pos_example_")
folder = make_image_folder(
    Path(workdir.name) / "images",
    classes=("red", "green", "blue", "yellow"),
    n_per_class=9,
    random_state=0,
)
print(f"{len(folder.paths)} images of", ", ".join(sorted(set(folder.shape))))

# %%
# Embed the folder to Parquet
# ---------------------------
# One call writes ``part-*.parquet`` files and a manifest with a checksum of
# each; a rerun skips what is already there. ``scheduler="local:4"`` (or a
# Dask scheduler's address) spreads the same job over processes.
output = Path(workdir.name) / "embeddings"
summary = embed_collection(
    folder.root,
    output,
    embedder=CLIPEmbedder(modality="image", num_workers=0, **clip),
    partition_size=16,
    progress=False,
)
print({key: summary[key] for key in ("n_rows", "n_errors", "n_partitions")})
print(sorted(p.name for p in output.iterdir()))

# %%
# Read the embeddings back
# ------------------------
# :func:`~sklearn_pos.read_embeddings` verifies every partition against its
# recorded checksum and returns the rows in the order of the source, with
# the path of each; the labels are joined on the path.
X, meta = read_embeddings(output)
shape_of = dict(zip(map(str, folder.paths), folder.shape))
y = meta["source"].map(lambda p: shape_of[str(p)]).to_numpy()
print(caption(f"X: {X.shape[0]} x {X.shape[1]} {X.dtype}; meta:", caveat))
shown = meta.assign(
    source=meta["source"].map(
        lambda p: Path(p).relative_to(folder.root).as_posix()
    ),
    label=y,
)
print(shown.head().to_string(index=False))

# %%
# Cross-validate a Pipeline on the stored embeddings
# --------------------------------------------------
# The noun step fits on the WordNet vocabulary (embedded once by the text
# encoder and cached), never on the image labels, so it cannot leak the
# held-out folds.
width = X.shape[1]
text = CLIPEmbedder(modality="text", **clip)
noun = VocabularyPartOfSpeechAnalysis(
    "wordnet",
    text_embedder=text,
    n_components=width // 2,
    target="noun",
    output="projection",
    vocabulary_size=400 if weights.tiny else None,
)
pipelines = {
    "raw embeddings": make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000)
    ),
    "noun subspace": make_pipeline(
        noun, StandardScaler(), LogisticRegression(max_iter=1000)
    ),
}
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
scores = pd.DataFrame(
    {name: cross_val_score(pipe, X, y, cv=cv) for name, pipe in pipelines.items()}
).rename_axis("fold")
print(caption("Accuracy of each fold (shape of the drawn object)", caveat))
print(scores.round(3).to_string())

# %%
# The scores, fold by fold
# ------------------------
fig, ax = plt.subplots(figsize=(6, 3.5))
positions = np.arange(len(scores.columns))
ax.bar(
    positions, scores.mean(), yerr=scores.std(), color=["tab:gray", "tab:blue"]
)
for i, name in enumerate(scores.columns):
    ax.plot(np.full(len(scores), i), scores[name], "k.", zorder=3)
ax.axhline(1 / len(set(y)), color="tab:red", linestyle="--", label="chance")
ax.set_xticks(positions, scores.columns)
ax.set_ylabel("cross-validated accuracy")
ax.set_ylim(0, 1)
ax.legend(loc="upper right")
fig.suptitle(f"Embedded once to Parquet, {weights.label}")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
