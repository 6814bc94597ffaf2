"""
CLIP-NCE as an editing objective, on embeddings alone (CF-CLIP)
===============================================================

CF-CLIP trains a generator so that an edited image moves, in CLIP space,
along the direction from a source text ("a man with a black beard") to a
counterfactual target text ("a man with a green beard"). Its loss,
:func:`~sklearn_pos.counterfactual.clip_nce_loss`, needs only embeddings, so
its behaviour can be studied without a generator: here the edited image
embedding itself is the free variable, started next to the source image and
optimised with Adam.
"""

# %%
# A bag-of-words text embedder
# ----------------------------
# Each word is a fixed random vector and a text the normalised sum of its
# words, so "black" and "green" alone tell the source and target texts
# apart; ``model`` below switches to CLIP's text encoder.
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
from sklearn_pos.counterfactual import clip_nce_loss, directional_similarity

TEMPLATES = [
    "a photo of {}",
    "a picture of {}",
    "{}",
    "a close-up photo of {}",
    "a portrait of {}",
    "an image of {}",
]
SOURCE, TARGET = "a man with a black beard", "a man with a green beard"
STOP_WORDS = {"a", "an", "of", "with", "the"}


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class WordEmbedder:
    """Normalised sum of fixed random word vectors (seeded by each word)."""

    def __init__(self, d=64):
        self.d = d

    def transform(self, texts):
        out = []
        for text in texts:
            v = np.zeros(self.d)
            for word in text.split():
                if word not in STOP_WORDS:
                    seed = zlib.crc32(word.encode())
                    v += _unit(np.random.RandomState(seed).normal(size=self.d))
            out.append(_unit(v))
        return np.asarray(out, dtype=np.float32)


def _optimise(objective, image, source_text, target_text, steps, seed):
    """Adam on the edited embedding, from a small random step off the image."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    start = image + 0.05 * torch.randn(
        image.shape, generator=generator, dtype=image.dtype
    )
    edit = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([edit], lr=0.02)
    history = []
    for step in range(steps + 1):
        with torch.no_grad():
            unit_edit = edit / edit.norm()
            history.append(
                {
                    "step": step,
                    "CLIP-NCE": float(
                        clip_nce_loss(image, edit, source_text, target_text)
                    ),
                    "directional similarity": float(
                        directional_similarity(image, edit, source_text, target_text)
                    ),
                    "cos to source image": float(unit_edit @ image),
                    "cos to target text": float(unit_edit @ target_text.mean(0)),
                }
            )
        if step == steps:
            break
        optimizer.zero_grad()
        objective(edit).backward()
        optimizer.step()
    return pd.DataFrame(history)


# %%
# Settings
# --------
# The embeddings are generated unless ``model`` names an open_clip
# architecture (e.g. ``"ViT-B-32"``), whose text encoder is then used.
model = None
pretrained = None
steps = 100
seed = 0

# %%
# Embed the texts and the image
# -----------------------------
import torch

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


def encode(texts):
    return torch.as_tensor(
        np.asarray(embedder.transform(texts)), dtype=torch.float64
    )


source_text = encode([t.format(SOURCE) for t in TEMPLATES])  # (K, d)
target_text = encode([t.format(TARGET) for t in TEMPLATES])
image = encode([f"a photo of {SOURCE} in a park"])[0]
target_mean = target_text.mean(0)

objectives = {
    "CLIP-NCE": lambda e: clip_nce_loss(image, e, source_text, target_text),
    "1 - cos(edit, target text)": lambda e: (
        1 - torch.nn.functional.cosine_similarity(e, target_mean, dim=0)
    ),
}

# %%
# Optimise the edited embedding under each objective
# --------------------------------------------------
# CLIP-NCE rewards the edit for moving along the text direction while
# staying near the source image; the plain cosine to the target text only
# pulls the edit towards the text and forgets the image.
histories = {
    name: _optimise(f, image, source_text, target_text, steps, seed)
    for name, f in objectives.items()
}

print(f"Edit '{SOURCE}' -> '{TARGET}', {len(TEMPLATES)} templates ({source}).")
print("\n" + caption("Optimising CLIP-NCE", caveat))
nce = histories["CLIP-NCE"]
print(
    nce[nce["step"] % 20 == 0].to_string(
        index=False, float_format=lambda v: f"{v:.3f}"
    )
)
final = pd.DataFrame({name: h.iloc[-1] for name, h in histories.items()}).T
final = final.drop(columns="step").rename_axis(f"after {steps} steps of")
print("\n" + caption("Last step", caveat))
with pd.option_context("display.width", 140):
    print(final.to_string(float_format=lambda v: f"{v:.3f}"))

# %%
# The two objectives, step by step
# --------------------------------
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for name, history in histories.items():
    for ax, column in zip(
        axes,
        ["directional similarity", "cos to source image", "cos to target text"],
    ):
        ax.plot(history["step"], history[column], label=f"optimising {name}")
        ax.set_title(column)
        ax.set_xlabel("Adam step on the edited embedding")
axes[0].legend(fontsize=8)
fig.suptitle(f"'{SOURCE}' -> '{TARGET}' ({source})")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
