"""
Part-of-speech subspaces on torch tensors (Array API)
=====================================================

Under ``sklearn.config_context(array_api_dispatch=True)``,
:class:`~sklearn_pos.PartOfSpeechComponentAnalysis` fits and transforms
PyTorch tensors where they are (on the GPU when there is one, else on the
CPU) and returns tensors of the same device and dtype, as scikit-learn's
``PCA`` does. This example embeds WordNet words, fits the noun subspace on
NumPy arrays and on torch tensors, and checks that both give the same
projections. scikit-learn needs SciPy's Array API support, switched on by
the environment variable ``SCIPY_ARRAY_API=1`` before SciPy is imported.
"""

# %%
# Switch on SciPy's Array API support, then import
# ------------------------------------------------
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is imported

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
import torch

from sklearn_pos import CLIPEmbedder, PartOfSpeechComponentAnalysis
from sklearn_pos.caveats import caption, choose_clip_weights, stamp_figure
from sklearn_pos.datasets import load_wordnet_vocabulary

# %%
# Embed a WordNet vocabulary
# --------------------------
weights = choose_clip_weights()
caveat = weights.caveat
n_words = 400 if weights.tiny else 4000
words, pos = load_wordnet_vocabulary(
    n_words=n_words, random_state=0, return_X_y=True
)
text = CLIPEmbedder(modality="text", **weights.embedder_params)
E = text.fit_transform(list(words))  # NumPy, float32
print(caption(f"{E.shape[0]} words embedded by {weights.label}", caveat))

# %%
# Fit on NumPy and on torch tensors
# ---------------------------------
device = "cuda" if torch.cuda.is_available() else "cpu"
k = E.shape[1] // 2
numpy_pca = PartOfSpeechComponentAnalysis(n_components=k, target="noun")
numpy_pca.fit(E, pos)
Z_numpy = numpy_pca.transform(E)

E_torch = torch.asarray(E, device=device)
with sklearn.config_context(array_api_dispatch=True):
    torch_pca = PartOfSpeechComponentAnalysis(n_components=k, target="noun")
    torch_pca.fit(E_torch, pos)  # labels stay on the host
    Z_torch = torch_pca.transform(E_torch)
print(
    f"transform returned a {type(Z_torch).__name__} "
    f"on {Z_torch.device}, {Z_torch.dtype}"
)
print(
    f"fitted mean_ is a {type(torch_pca.mean_).__name__} "
    f"on {torch_pca.mean_.device}"
)

# %%
# The same projections
# --------------------
# The two fits agree up to float32 rounding.
Z_back = Z_torch.cpu().numpy()
difference = np.abs(Z_back - Z_numpy)
table = pd.DataFrame(
    {
        "namespace": ["numpy", f"torch ({device})"],
        "type": [type(Z_numpy).__name__, type(Z_torch).__name__],
        "dtype": [str(Z_numpy.dtype), str(Z_torch.dtype)],
        "shape": [tuple(Z_numpy.shape), tuple(Z_torch.shape)],
        "max |difference|": [0.0, float(difference.max())],
    }
)
print(caption("transform on NumPy and on torch", caveat))
print(table.to_string(index=False))

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(Z_numpy[:, 0], Z_back[:, 0], s=6)
ax.set_xlabel("first coordinate, NumPy fit")
ax.set_ylabel(f"first coordinate, torch fit ({device})")
ax.set_aspect("equal")
fig.suptitle("Noun subspace fitted on NumPy and on torch")
stamp_figure(fig, caveat)
fig.tight_layout()
plt.show()
