"""
An editing target that changes the emotion and keeps the rest (CLIP-PAE)
========================================================================

Text-guided face editing optimises an image so that its CLIP embedding gets
close to a target. Using the target text embedding itself ("an angry face")
as that target pulls every attribute of the image towards the text, which
says nothing about the person. The projection-augmentation embedding of
:class:`~sklearn_pos.pae.ProjectionAugmentationEmbedding` is a better
target: inside the subspace spanned by emotion prompts ("a happy face",
"a sad face", ...) it moves the image's mass onto the target emotion, and
outside it keeps the image as it is.
"""

# %%
import zlib

import numpy as np
import pandas as pd

from sklearn_pos.caveats import (
    SYNTHETIC_EMBEDDINGS,
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
)
from sklearn_pos.pae import ProjectionAugmentationEmbedding

EMOTIONS = ["happy", "sad", "angry", "surprised", "disgusted", "fearful"]
PEOPLE = [
    "an old man with a beard",
    "a young woman with glasses",
    "a blond boy",
    "a woman with red hair",
    "a bald man with a moustache",
]
ALPHAS = [0.5, 1, 2, 4, 8, 16]
STOP_WORDS = {"a", "an", "of", "with", "the", "and"}


def _article(phrase):
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class WordEmbedder:
    """Normalised sum of fixed random word vectors (emotions share a direction)."""

    def __init__(self, d=64):
        self.d = d
        self.emotion = _unit(self._random("<emotion>"))

    def _random(self, word):
        return np.random.RandomState(zlib.crc32(word.encode())).normal(size=self.d)

    def word(self, word):
        if word in STOP_WORDS:
            return np.zeros(self.d)
        v = _unit(self._random(word))
        if word in EMOTIONS:
            v = _unit(v + 0.8 * self.emotion)
        return 0.3 * v if word == "photo" else v

    def transform(self, texts):
        return np.asarray(
            [_unit(sum(self.word(w) for w in t.split())) for t in texts],
            dtype=np.float32,
        )


# %%
# Settings
# --------
# The embeddings are generated unless ``model`` names an open_clip
# architecture (e.g. ``"ViT-B-32"``), whose text encoder is then used.
model = None
pretrained = None

# %%
# Embed the texts
# ---------------
if model is not None:
    from sklearn_pos.embedding import CLIPEmbedder

    # The weights asked for (random ones without pretrained), or the tiny
    # random model when asked for or when they cannot be had (said on stderr).
    weights = choose_clip_weights(
        None, model, pretrained, default_pretrained=None
    )
    if weights.tiny:
        print("Tiny random CLIP model: a smoke run, numbers are not meaningful.")
    embedder = CLIPEmbedder(modality="text", **weights.embedder_params)
    source, caveat = weights.model_name, caveat_for(embedder)
else:
    embedder = WordEmbedder()
    source, caveat = "bag-of-words embedder", SYNTHETIC_EMBEDDINGS

corpus = [f"{_article(e)} face" for e in EMOTIONS]
target, source_emotion = "an angry face", "a happy face"
# Stand-ins for image embeddings: descriptions of smiling people.
images = embedder.transform(
    [f"a photo of a happy {p[p.index(' ') + 1 :]}" for p in PEOPLE]
)
people = embedder.transform(PEOPLE)
e_target, e_source = embedder.transform([target, source_emotion])
emotions = embedder.transform(corpus)


# %%
# Editing targets: the text, and its projection augmentation
# ----------------------------------------------------------
pae = ProjectionAugmentationEmbedding(corpus, target, text_embedder=embedder).fit()
print(
    f"Emotion subspace: {pae.n_components_} Gram-Schmidt directions of "
    f"{len(corpus)} prompts ({source})."
)


def scores(name, X):
    X = _unit(np.asarray(X, dtype=np.float64))
    top = np.asarray(EMOTIONS)[np.argmax(X @ emotions.T, axis=1)]
    return {
        "target": name,
        "cos to 'an angry face'": float(np.mean(X @ e_target)),
        "cos to 'a happy face'": float(np.mean(X @ e_source)),
        "cos to the person": float(np.mean(np.sum(X * people, axis=1))),
        "nearest emotion": pd.Series(top).mode()[0],
    }


rows = [
    scores("image", images),
    scores("text 'an angry face'", np.tile(e_target, (len(images), 1))),
]
for alpha in ALPHAS:
    pae.set_params(alpha=alpha)
    rows.append(scores(f"PAE alpha={alpha:g}", pae.transform(images)))
table = pd.DataFrame(rows).set_index("target")
print("\n" + caption("Editing targets, means over the people", caveat))
with pd.option_context("display.width", 120):
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))


# %%
# Emotion scores and the effect of alpha
# --------------------------------------
import matplotlib.pyplot as plt

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
pae.set_params(alpha=8)
edited = pae.transform(images)
positions = np.arange(len(EMOTIONS))
left.bar(
    positions - 0.2,
    (_unit(images.astype(float)) @ emotions.T).mean(0),
    0.4,
    label="image",
)
left.bar(positions + 0.2, (edited @ emotions.T).mean(0), 0.4, label="PAE, alpha=8")
left.set_xticks(positions, EMOTIONS, rotation=30, ha="right")
left.set_ylabel("cosine to 'a <emotion> face'")
left.set_title("Emotion scores before and after")
left.legend()
curve = table.loc[[f"PAE alpha={a:g}" for a in ALPHAS]]
for column in [
    "cos to 'an angry face'",
    "cos to 'a happy face'",
    "cos to the person",
]:
    line = right.plot(ALPHAS, curve[column], marker="o", label=column)[0]
    right.axhline(
        table.loc["text 'an angry face'", column], ls=":", color=line.get_color()
    )
right.set_xscale("log", base=2)
right.set_xlabel("alpha (dotted: the plain text target)")
right.set_title("PAE against alpha")
right.legend(fontsize=8)
fig.suptitle(f"CLIP-PAE editing target for 'an angry face' ({source})")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
