"""The model backends behind :class:`sklearn_pos.CLIPEmbedder`, one job per module.

- :mod:`.weights`: resolving ``pretrained`` (tags, files, ``local-dir:``,
  ``hf-hub:``) through open_clip's public API, failing fast when offline;
- :mod:`.configs`: the bundled architecture configs and their registration;
- :mod:`.models`: building models and sharing them across the process;
- :mod:`.text`: the exact truncated causal text tower and text encoding;
- :mod:`.images`: decoding inputs to RGB and image encoding;
- :mod:`.batching`: the one batch loop (out-of-memory back-off, progress bar);
- :mod:`.hf`: Hugging Face transformers models (CLIP, SigLIP, SigLIP 2):
  resolving a folder or hub id, loading, tokenizing and encoding behind the same
  :class:`~.models.LoadedModel` as open_clip's.

Above this package nothing knows which backend runs: a model is a
:class:`~.weights.WeightsSpec` (resolved once, its identity keying the model cache
and the store) and a :class:`~.models.LoadedModel` (tokenizer, image
preprocessing, encode functions).

Content identities of weights and of input items (cache keys) live in
:mod:`sklearn_pos._identity`, the process caches in :mod:`sklearn_pos._caches`.

Nothing here imports torch, open_clip or Pillow at module level: they are imported
inside the functions that need them, so ``import sklearn_pos`` stays light.
"""

from .configs import TINY_MODEL_NAME, register_bundled_configs
from .hf import resolve_hf_weights
from .images import ImageReadError, encode_images, load_rgb
from .models import LoadedModel, load_model, resolve_device
from .text import encode_texts
from .weights import WeightsSpec, WeightsUnavailableError, resolve_weights

__all__ = [
    "ImageReadError",
    "LoadedModel",
    "TINY_MODEL_NAME",
    "WeightsSpec",
    "WeightsUnavailableError",
    "encode_images",
    "encode_texts",
    "load_model",
    "load_rgb",
    "register_bundled_configs",
    "resolve_hf_weights",
    "resolve_device",
    "resolve_weights",
]
