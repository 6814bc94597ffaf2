"""
Zero-shot classification on the noun submanifold
================================================

Oldfield et al. (2023, Table 1) project each *image* embedding onto the
noun submanifold learned from the WordNet vocabulary and compare it with
the raw class-name embeddings; in the tangent space at the intrinsic mean
this improves CLIP's zero-shot accuracy, while the Euclidean projection
hurts it.
"""

# %%
import tempfile

import pandas as pd
from sklearn.pipeline import make_pipeline

from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
)
from sklearn_pos.datasets import load_wordnet_vocabulary, make_image_folder
from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.evaluation import evaluate_classifiers
from sklearn_pos.vocabulary import VocabularyPartOfSpeechAnalysis
from sklearn_pos.zero_shot import ZeroShotClassifier, make_text_prototypes

CLASSES = ("red", "green", "blue", "yellow", "purple", "orange")


# %%
# Sizes
# -----
vocabulary_size = None  # None: a small subset on the tiny model, all words otherwise
n_components = None  # None: chosen from the width of the embeddings

# %%
# Zero-shot accuracy with and without the noun projection
# -------------------------------------------------------
# The noun step fits on the WordNet vocabulary, never on the image labels.
weights = choose_clip_weights()
tiny = weights.tiny
clip = weights.embedder_params
if vocabulary_size is None and tiny:
    vocabulary_size = 400
# The WordNet words (all of them, or a subset drawn once here), shared by
# every noun step below.
vocabulary = load_wordnet_vocabulary(
    n_words=vocabulary_size, random_state=0, return_X_y=True
)
text = CLIPEmbedder(modality="text", **clip)
image = CLIPEmbedder(modality="image", num_workers=0, **clip)
caveat = caveat_for(image)
with tempfile.TemporaryDirectory() as workdir:
    folder = make_image_folder(workdir, classes=CLASSES, n_per_class=8)
    X, y = image.transform(folder.paths), folder.target
names = folder.target_names
prototypes = make_text_prototypes(names, text)  # bare class names, as in the paper
width = X.shape[1]
if n_components is None:
    n_components = 500 if width > 500 else width // 2


def noun_step(geometry, k=n_components):
    return VocabularyPartOfSpeechAnalysis(
        vocabulary,
        text_embedder=text,  # the WordNet words are embedded once, then cached
        n_components=k,
        lam=0.5,
        geometry=geometry,
        target="noun",
        output="projection",
    )


def zero_shot(**params):
    return ZeroShotClassifier(names, prototypes=prototypes, **params)


methods = {
    "CLIP": zero_shot(),
    "noun-tangent": make_pipeline(noun_step("tangent"), zero_shot()),
    "noun-Euclidean": make_pipeline(noun_step("euclidean"), zero_shot()),
    "noun-tangent, prototypes projected too": zero_shot(
        image_transform=noun_step("tangent"), project_prototypes=True
    ),
}
for method in methods.values():
    method.fit(X)  # no labels: the step fits on the vocabulary
results = evaluate_classifiers(methods, X, y, dataset="coloured shapes")
n_words = methods["noun-tangent"][0].n_vocabulary_
results = results.assign(n_vocabulary=n_words, n_components=n_components)
print(
    caption(
        f"Zero-shot top-1 accuracy (%), k={n_components}, lambda=0.5, "
        f"{n_words:,} WordNet words, {len(y)} images",
        caveat,
    )
)
accuracy = (100 * results.set_index("method")["score"]).to_frame("top-1 %")
print(accuracy.round(1).to_string())


# %%
# Accuracy against k
# ------------------
# Accuracy against k: each k refits the closed form on the cached embeddings.
ks = sorted(
    {
        max(1, int(round(f * (width - 1))))
        for f in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    }
)
rows = []
for geometry in ("tangent", "euclidean"):
    for k in ks:
        pipe = make_pipeline(noun_step(geometry, k), zero_shot()).fit(X)
        rows.append({"geometry": geometry, "k": k, "accuracy": pipe.score(X, y)})
curve = pd.DataFrame(rows)
baseline = results.set_index("method").loc["CLIP", "score"]
print("\n" + caption("Accuracy against k", caveat))
print(
    curve.pivot(index="k", columns="geometry", values="accuracy")
    .round(3)
    .to_string()
)


# %%
# The curves
# ----------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
for geometry, group in curve.groupby("geometry"):
    ax.plot(group["k"], group["accuracy"], marker="o", label=f"noun-{geometry}")
ax.axhline(baseline, color="grey", linestyle="--", label="CLIP (no projection)")
ax.set_xlabel("k (dimension of the noun subspace)")
ax.set_ylabel("zero-shot accuracy")
ax.set_ylim(0, 1.02)
ax.set_title("Images projected onto the noun submanifold")
ax.legend()
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
