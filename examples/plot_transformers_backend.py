"""
One CLIP, two libraries: open_clip and Hugging Face transformers
================================================================

:class:`~sklearn_pos.CLIPEmbedder` runs open_clip models by default and Hugging
Face transformers models (``CLIPModel``, ``SiglipModel``) with
``backend="transformers"``, where ``model_name`` is a folder written by
``save_pretrained`` or a hub id (``revision=`` pins a hub version); everything
above the embedder (the subspaces, the store, the embed job, the CLI's
``--backend``) works the same with either. This example takes one set of CLIP
weights, runs it through both libraries and shows that the vocabulary
embeddings, and so the part-of-speech subspaces learned from them, are the
same. To have the same weights in both formats without a download, the
open_clip model is written out as a transformers ``CLIPModel`` (its state dict
renamed, the attention's packed projections split) with a ``CLIPTokenizer``
built from open_clip's own BPE vocabulary, so that both tokenize every word to
the same ids. It needs the ``transformers`` extra.
"""

# %%
import gzip
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_pos import PartOfSpeechComponentAnalysis
from sklearn_pos.caveats import caption, caveat_for, choose_clip_weights, stamp_figure
from sklearn_pos.datasets import load_wordnet_vocabulary
from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.plotting import PART_OF_SPEECH_ORDER

# %%
# Writing an open_clip model in transformers' format
# --------------------------------------------------
# The conversion: open_clip's packed attention weights split into query, key
# and value projections, the other weights renamed, and the tokenizer built
# from open_clip's BPE tables (its token ids, therefore). Hub checkpoints
# such as ``openai/clip-vit-base-patch32`` hold the same OpenAI weights as
# open_clip's ``ViT-B-32-quickgelu`` with the ``openai`` tag.


def write_clip_tokenizer_files(folder):
    """``vocab.json`` and ``merges.txt`` of open_clip's bundled BPE vocabulary.

    Built as open_clip's ``SimpleTokenizer`` builds its tables (byte symbols,
    the same with ``</w>``, the merges, then the two special tokens), so a
    transformers ``CLIPTokenizer`` reading them gives open_clip's token ids.
    """
    from open_clip.tokenizer import bytes_to_unicode, default_bpe

    lines = gzip.open(default_bpe()).read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in lines[1 : 49152 - 256 - 2 + 1]]
    vocab = list(bytes_to_unicode().values())
    vocab += [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(
        json.dumps({t: i for i, t in enumerate(vocab)}), encoding="utf-8"
    )
    (folder / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n",
        encoding="utf-8",
    )
    return folder / "vocab.json", folder / "merges.txt"


def _blocks(prefix_in, prefix_out, n_layers, sd):
    """Residual blocks: open_clip's packed attention split into q, k, v."""
    out = {}
    for i in range(n_layers):
        a, b = f"{prefix_in}.resblocks.{i}", f"{prefix_out}.layers.{i}"
        q, k, v = sd[f"{a}.attn.in_proj_weight"].chunk(3)
        qb, kb, vb = sd[f"{a}.attn.in_proj_bias"].chunk(3)
        for name, w, bias in (("q", q, qb), ("k", k, kb), ("v", v, vb)):
            out[f"{b}.self_attn.{name}_proj.weight"] = w
            out[f"{b}.self_attn.{name}_proj.bias"] = bias
        pairs = {
            "attn.out_proj": "self_attn.out_proj",
            "ln_1": "layer_norm1",
            "ln_2": "layer_norm2",
            "mlp.c_fc": "mlp.fc1",
            "mlp.c_proj": "mlp.fc2",
        }
        for src, dst in pairs.items():
            for p in ("weight", "bias"):
                out[f"{b}.{dst}.{p}"] = sd[f"{a}.{src}.{p}"]
    return out


def save_as_transformers(model, folder):
    """Write an open_clip ViT CLIP as a transformers ``CLIPModel`` folder."""
    import torch
    from open_clip.transformer import QuickGELU
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizer,
    )

    sd = model.state_dict()
    width = sd["token_embedding.weight"].shape[1]
    v_width = sd["visual.class_embedding"].shape[0]
    patch = sd["visual.conv1.weight"].shape[-1]
    n_layers = len(model.transformer.resblocks)
    v_layers = len(model.visual.transformer.resblocks)
    act = model.transformer.resblocks[0].mlp.gelu
    common = dict(
        hidden_act="quick_gelu" if isinstance(act, QuickGELU) else "gelu",
        layer_norm_eps=1e-5,
    )
    config = CLIPConfig(
        text_config=dict(
            vocab_size=sd["token_embedding.weight"].shape[0],
            hidden_size=width,
            intermediate_size=sd["transformer.resblocks.0.mlp.c_fc.weight"].shape[0],
            num_hidden_layers=n_layers,
            num_attention_heads=model.transformer.resblocks[0].attn.num_heads,
            max_position_embeddings=sd["positional_embedding"].shape[0],
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=49407,
            **common,
        ),
        vision_config=dict(
            hidden_size=v_width,
            intermediate_size=sd[
                "visual.transformer.resblocks.0.mlp.c_fc.weight"
            ].shape[0],
            num_hidden_layers=v_layers,
            num_attention_heads=model.visual.transformer.resblocks[0].attn.num_heads,
            image_size=model.visual.image_size[0],
            patch_size=patch,
            **common,
        ),
        projection_dim=sd["text_projection"].shape[1],
    )
    weights = {
        "text_model.embeddings.token_embedding.weight": sd["token_embedding.weight"],
        "text_model.embeddings.position_embedding.weight": sd["positional_embedding"],
        "text_model.final_layer_norm.weight": sd["ln_final.weight"],
        "text_model.final_layer_norm.bias": sd["ln_final.bias"],
        "text_projection.weight": sd["text_projection"].T,
        "vision_model.embeddings.class_embedding": sd["visual.class_embedding"],
        "vision_model.embeddings.patch_embedding.weight": sd["visual.conv1.weight"],
        "vision_model.embeddings.position_embedding.weight": sd[
            "visual.positional_embedding"
        ],
        "vision_model.pre_layrnorm.weight": sd["visual.ln_pre.weight"],
        "vision_model.pre_layrnorm.bias": sd["visual.ln_pre.bias"],
        "vision_model.post_layernorm.weight": sd["visual.ln_post.weight"],
        "vision_model.post_layernorm.bias": sd["visual.ln_post.bias"],
        "visual_projection.weight": sd["visual.proj"].T,
        "logit_scale": sd["logit_scale"],
    }
    weights.update(_blocks("transformer", "text_model.encoder", n_layers, sd))
    weights.update(
        _blocks("visual.transformer", "vision_model.encoder", v_layers, sd)
    )
    hf = CLIPModel(config).eval()
    missing, unexpected = hf.load_state_dict(
        {k: v.detach().clone().contiguous() for k, v in weights.items()},
        strict=False,
    )
    # position_ids are buffers that transformers fills itself
    assert not [k for k in missing if "position_ids" not in k], missing
    assert not unexpected, unexpected
    with torch.no_grad():
        hf.save_pretrained(folder, safe_serialization=True)
    vocab, merges = write_clip_tokenizer_files(Path(folder) / "bpe")
    tokenizer = CLIPTokenizer(
        str(vocab),
        str(merges),
        pad_token="<|endoftext|>",
        model_max_length=config.text_config.max_position_embeddings,
    )
    size = config.vision_config.image_size
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": size}, crop_size={"height": size, "width": size}
    )
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(
        folder
    )
    return folder


def principal_angles(a, b):
    """Largest principal angle, in degrees, between the row spaces of a and b."""
    qa, _ = np.linalg.qr(a.T)
    qb, _ = np.linalg.qr(b.T)
    # the sine of the largest angle: the part of b's space outside a's (the
    # arccos of the cosines loses small angles to rounding)
    sine = np.linalg.norm(qb - qa @ (qa.T @ qb), ord=2)
    return float(np.degrees(np.arcsin(min(sine, 1.0))))


# %%
# The words, embedded by both backends
# ------------------------------------
# ViT-B-32 with OpenAI's weights where they can be had, else the bundled tiny
# model with random weights (then every output says so).
weights = choose_clip_weights()
vocabulary_size = 600 if weights.tiny else 5000
n_components = 8 if weights.tiny else 32
words, pos = load_wordnet_vocabulary(
    n_words=vocabulary_size, random_state=0, return_X_y=True
)
words = list(words)

open_clip_embedder = CLIPEmbedder(**weights.embedder_params)
caveat = caveat_for(open_clip_embedder)
print(f"Encoding {len(words):,} WordNet words with {weights.label} (open_clip) ...")
E_open_clip = open_clip_embedder.fit_transform(words)

with tempfile.TemporaryDirectory() as workdir:
    folder = save_as_transformers(
        open_clip_embedder.get_model().model, Path(workdir) / "clip"
    )
    hf_embedder = CLIPEmbedder(
        str(folder), backend="transformers", device=weights.device
    )
    print("Encoding them again with transformers' CLIPModel")
    E_transformers = hf_embedder.fit_transform(words)

embeddings = pd.DataFrame(
    {
        "words": [len(words)],
        "dimensions": [E_open_clip.shape[1]],
        "max |difference|": [float(np.abs(E_open_clip - E_transformers).max())],
    },
    index=pd.Index(["open_clip vs transformers"], name="embeddings"),
)
print(caption("Word embeddings of the two backends", caveat))
print(embeddings.to_string())

# %%
# The part-of-speech subspaces fitted on each
# -------------------------------------------
# Eigenvectors are defined up to sign: the subspaces are compared by their
# principal angles and by the projections they give.
fits = {
    name: PartOfSpeechComponentAnalysis(n_components=n_components).fit(E, pos)
    for name, E in (("open_clip", E_open_clip), ("transformers", E_transformers))
}
rows = {}
for c, subspace in enumerate(fits["open_clip"].classes_):
    a = fits["open_clip"].class_components_[c]
    b = fits["transformers"].class_components_[c]
    coords_a = (E_open_clip - fits["open_clip"].center_) @ a.T
    coords_b = (E_transformers - fits["transformers"].center_) @ b.T
    rows[subspace] = {
        "largest principal angle (degrees)": principal_angles(a, b),
        "max |projection difference|": float(
            np.abs(coords_a @ a - coords_b @ b).max()
        ),
    }
subspaces = pd.DataFrame.from_dict(rows, orient="index")
subspaces.index.name = "subspace"
subspaces = subspaces.loc[[p for p in PART_OF_SPEECH_ORDER if p in rows]]
print(
    caption(
        f"Part-of-speech subspaces ({n_components} directions) fitted on each "
        "backend's embeddings",
        caveat,
    )
)
print(subspaces.to_string(float_format=lambda v: f"{v:.2e}"))

# %%
# One direction, word by word
# ---------------------------
# Each word's coordinate on the first direction of the noun subspace, from
# either backend's fit: the points lie on the diagonal.
first = list(subspaces.index)[0]
c = list(fits["open_clip"].classes_).index(first)
ours, theirs = fits["open_clip"], fits["transformers"]
x = (E_open_clip - ours.center_) @ ours.class_components_[c][0]
y = (E_transformers - theirs.center_) @ theirs.class_components_[c][0]
y = y * np.sign(x @ y or 1.0)  # the direction's sign is arbitrary
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.scatter(x, y, s=6, alpha=0.6)
lim = [min(x.min(), y.min()), max(x.max(), y.max())]
ax.plot(lim, lim, color="grey", lw=0.8, ls="--")
ax.set_aspect("equal")
ax.set_xlabel(f"open_clip: first direction of the {first!r} subspace")
ax.set_ylabel("transformers: the same direction")
ax.set_title(f"{weights.label}: one model, two backends")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
