"""Hugging Face transformers models (CLIP, SigLIP, SigLIP 2) as a backend.

The same small interface as open_clip's (:mod:`.weights`, :mod:`.models`):
:func:`resolve_hf_weights` maps ``model_name`` (a folder saved with
``save_pretrained``, or a hub id with an optional ``revision``) to a
:class:`~.weights.WeightsSpec` whose identity lists every weight, config,
processor and tokenizer file by path, size and modification time;
:func:`build_hf_model` loads the model and its processor into a
:class:`~.models.LoadedModel`, whose tokenizer, image preprocessing and encode
functions the shared text, image and batch code runs without knowing the backend.

Results equal the model's own ``get_text_features`` / ``get_image_features`` on its
processor's output. CLIP's text tower is causal and pools at the first end-of-text
token, so it runs on each batch's tokens cut to the longest real length (exact);
SigLIP's text tower attends in both directions and pools at the last position, so
it is fed exactly as its processor pads (``padding="max_length"``); so is SigLIP 2's,
whose images are cut into a variable number of patches (see :class:`HFImagePreprocess`).

Weights are read from ``*.safetensors`` files only (``use_safetensors=True``):
a pickled ``pytorch_model.bin`` can run code when loaded, and is refused. No code
from a model repository runs (``trust_remote_code`` is never set).
"""

import functools
import json
import os
import re
from pathlib import Path

from .. import _identity
from .weights import (
    FETCH_TIMEOUT,
    WeightsSpec,
    WeightsUnavailableError,
    hub_reachable,
)

#: ``model_type`` of the configs this backend loads, with the model class
#: (``Siglip2Model`` needs transformers 4.49 or later).
SUPPORTED_MODEL_TYPES = {
    "clip": "CLIPModel",
    "siglip": "SiglipModel",
    "siglip2": "Siglip2Model",
}

# Files of a save_pretrained folder that determine the model's outputs:
# weights, configs, processor and tokenizer (README, pickles and the like are not).
_CONTENT_SUFFIXES = (".json", ".safetensors", ".txt", ".model")

# What to fetch from the hub: nothing pickled.
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model"]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _offline_message(repo_id, revision, reason):
    at = f" at revision {revision!r}" if revision else ""
    return WeightsUnavailableError(
        f"Could not load the transformers model {repo_id!r}{at} from the Hugging Face "
        f"hub: {reason}, and it is not in the local Hugging Face cache "
        "(~/.cache/huggingface/hub, or HF_HOME). To run offline, save the model "
        "once on a machine with internet access, `AutoModel.from_pretrained(...)"
        ".save_pretrained(folder, safe_serialization=True)` and the same for "
        "`AutoProcessor`, and pass model_name=folder; or fill the cache there with "
        f"`huggingface-cli download {repo_id}` and copy it over. Set HF_HUB_OFFLINE=1 "
        "so that a missing model fails at once instead of waiting for the network.",
        source=f"hf-hub:{repo_id}",
        reason=str(reason),
    )


def _hub_folder(repo_id, revision):
    """Local snapshot folder of ``repo_id`` at ``revision``: cache, else a fetch."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(
            repo_id,
            revision=revision,
            allow_patterns=_HUB_PATTERNS,
            local_files_only=True,
        )
    except Exception:  # noqa: BLE001 - any miss means "not cached"
        pass
    ok, reason = hub_reachable(FETCH_TIMEOUT)
    if not ok:
        raise _offline_message(repo_id, revision, reason)
    try:
        return snapshot_download(
            repo_id, revision=revision, allow_patterns=_HUB_PATTERNS
        )
    except Exception as exc:  # noqa: BLE001 - network, auth, missing repository
        raise _offline_message(repo_id, revision, f"{type(exc).__name__}: {exc}")


def content_files(folder):
    """The files of ``folder`` that determine a transformers model's outputs."""
    return sorted(
        str(p)
        for p in Path(folder).iterdir()
        if p.is_file() and p.suffix in _CONTENT_SUFFIXES
    )


def check_folder(folder, shown):
    """The ``model_type`` of a ``save_pretrained`` folder; errors say what is wrong."""
    path = Path(folder)
    config = path / "config.json"
    if not config.is_file():
        raise FileNotFoundError(
            f"model_name={shown!r}: the folder has no config.json; give a folder "
            "written by a transformers model's save_pretrained (config.json, "
            "model.safetensors and the processor's files)."
        )
    try:
        with open(config, encoding="utf-8") as f:
            model_type = json.load(f).get("model_type")
    except (OSError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"model_name={shown!r}: config.json is not a readable JSON object "
            f"({type(exc).__name__}: {exc}); save the model again with save_pretrained."
        ) from None
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"model_name={shown!r} holds a {model_type!r} model; backend="
            f"'transformers' loads {sorted(SUPPORTED_MODEL_TYPES)} models "
            f"({', '.join(SUPPORTED_MODEL_TYPES.values())})."
        )
    if not any(path.glob("*.safetensors")):
        pickled = sorted(p.name for p in path.glob("*.bin")) + sorted(
            p.name for p in path.glob("*.pth")
        )
        held = f" It holds only {pickled}." if pickled else ""
        raise ValueError(
            f"model_name={shown!r}: no *.safetensors weights file.{held} Weights are "
            "read from safetensors only: a pickled checkpoint (pytorch_model.bin) can "
            "run arbitrary code when loaded. If you trust the file, convert it once: "
            "`CLIPModel.from_pretrained(folder).save_pretrained(folder, "
            "safe_serialization=True)` (SiglipModel for SigLIP)."
        )
    return model_type


def resolve_hf_weights(model_name, revision=None):
    """Map a folder or hub id (and ``revision``) to a :class:`WeightsSpec`.

    The identity lists each content file of the folder by absolute path, size and
    modification time, so that a checkpoint saved again into the same folder is a
    new model (the embedding store keys by the digests of these files).
    """
    if isinstance(model_name, os.PathLike):
        model_name = os.fspath(model_name)
    if not isinstance(model_name, str) or not model_name:
        raise ValueError(
            "model_name must name a transformers model: a folder saved with "
            f"save_pretrained or a hub id such as 'openai/clip-vit-base-patch32'; got "
            f"{model_name!r}."
        )
    if revision is not None and (not isinstance(revision, str) or not revision):
        raise ValueError(
            f"revision must be a branch, tag or commit of the hub repository, or None; "
            f"got {revision!r}."
        )
    expanded = os.path.expanduser(model_name)
    if os.path.isdir(expanded):
        if revision is not None:
            raise ValueError(
                f"revision={revision!r} pins a hub repository's version, but "
                f"model_name={model_name!r} is a local folder: leave revision=None."
            )
        folder = os.path.abspath(expanded)
        name = folder
    elif _HUB_ID.match(model_name) and not model_name.startswith((".", "~")):
        folder = _hub_folder(model_name, revision)
        name = model_name
    else:
        raise FileNotFoundError(
            f"model_name={model_name!r}: no such folder, and not a hub id "
            "('org/name'). Give a folder saved with save_pretrained or a hub id."
        )
    check_folder(folder, model_name)
    return WeightsSpec(
        kind="transformers",
        model_name=name,
        checkpoint=None,
        quick_gelu=False,
        preprocess=(),
        seed=None,
        identity=_identity.transformers_identity(
            name, revision, folder, content_files(folder)
        ),
        folder=folder,
    )


def _features(out):
    """The projected features, from a tensor (transformers 4) or an output (5)."""
    import torch

    if isinstance(out, torch.Tensor):
        return out
    return out.pooler_output


def _encode_text(model, tokens):
    """Text features of ``input_ids``, or of ``[input_ids, attention_mask]``
    stacked on the last axis (one tensor, as the shared batch loop passes)."""
    if tokens.ndim == 3:
        return _features(
            model.get_text_features(
                input_ids=tokens[..., 0], attention_mask=tokens[..., 1]
            )
        )
    return _features(model.get_text_features(input_ids=tokens))


def _encode_image(model, pixel_values):
    return _features(model.get_image_features(pixel_values=pixel_values))


def _encode_patches(model, packed):
    """SigLIP 2 image features from :class:`HFImagePreprocess`'s packed rows."""
    width = packed.shape[-1] - 3
    return _features(
        model.get_image_features(
            pixel_values=packed[..., :width],
            pixel_attention_mask=packed[..., width].long(),
            spatial_shapes=packed[:, 0, width + 1 :].long(),
        )
    )


class HFTokenizer:
    """Texts to padded tokens, as the model's processor makes them.

    Padded to ``max_length``: SigLIP is fed so, and CLIP's batches are cut to their
    longest real length afterwards (:class:`HFCausalTextTower`). With
    ``keep_mask``, the attention mask the tokenizer gives (transformers 5 gives
    SigLIP's, 4 does not) is kept, stacked with the ids on a last axis of 2, so
    that the model sees exactly what its processor would give it; a causal
    tower pooling at the end-of-text token needs none (no real token sees the
    padding).
    """

    def __init__(self, tokenizer, max_length, keep_mask):
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.keep_mask = bool(keep_mask)

    def __call__(self, texts):
        import torch

        out = self.tokenizer(
            list(texts),
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        ids = out["input_ids"]
        if self.keep_mask and "attention_mask" in out:
            return torch.stack([ids, out["attention_mask"].to(ids.dtype)], dim=-1)
        return ids

    def truncated(self, texts, tokens):
        """Positions in ``texts`` of the texts longer than the context."""
        lengths = self.tokenizer(list(texts), truncation=False)["input_ids"]
        return [i for i, ids in enumerate(lengths) if len(ids) > self.max_length]


class HFCausalTextTower:
    """A transformers CLIP text tower run on tokens cut to the batch's real length.

    The attention is causal and the pooled feature is read at the first
    end-of-text token (or the largest id, for configs with the old
    ``eos_token_id=2``, as transformers does), so the positions after it never
    change the result.
    """

    def __init__(self, model):
        self.model = model
        self.eos_token_id = model.text_model.eos_token_id

    def pool_index(self, tokens):
        """Position whose feature is pooled, per row (transformers' rule)."""
        if self.eos_token_id == 2:
            return tokens.int().argmax(dim=-1)
        return (tokens == self.eos_token_id).int().argmax(dim=-1)

    def __call__(self, tokens):
        length = int(self.pool_index(tokens).max()) + 1
        return _encode_text(self.model, tokens[:, :length])


class HFImagePreprocess:
    """An RGB PIL image to what the model's processor makes of it, as one tensor.

    CLIP and SigLIP: the ``pixel_values``. SigLIP 2 cuts each image into a
    variable number of patches, padded to a fixed count: its patches, their
    attention mask and the image's patch grid (height, width) are packed on the
    last axis (``[patches | mask | height | width]``, small integers that
    float32 holds exactly), so that batches go through the shared loop as one
    tensor; :func:`_encode_patches` unpacks them. A batch of such rows equals
    the processor's output for the batch (each image is processed alone).
    """

    def __init__(self, processor, packed):
        self.processor = processor
        self.packed = bool(packed)

    def __call__(self, image):
        import torch

        out = self.processor(images=image, return_tensors="pt")
        pixels = out["pixel_values"][0]
        if not self.packed:
            return pixels
        mask = out["pixel_attention_mask"][0].to(pixels.dtype)[:, None]
        grid = out["spatial_shapes"][0].to(pixels.dtype).expand(pixels.shape[0], 2)
        return torch.cat([pixels, mask, grid], dim=-1)


def build_hf_model(spec, device):
    """Load the model and processor of ``spec`` into a :class:`LoadedModel`."""
    import torch
    import transformers
    from transformers import AutoModel, AutoProcessor

    from .loaded import LoadedModel

    folder = spec.folder
    model_type = check_folder(folder, folder)
    if model_type == "siglip2" and not hasattr(transformers, "Siglip2Model"):
        raise ValueError(
            f"{folder!r} holds a SigLIP 2 model, which needs transformers 4.49 or "
            f"later (installed: {transformers.__version__}); upgrade transformers."
        )
    try:
        model = AutoModel.from_pretrained(
            folder,
            use_safetensors=True,
            local_files_only=True,
            trust_remote_code=False,
        )
        processor = AutoProcessor.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ValueError(
            f"Could not load the transformers model in {folder!r} "
            f"({type(exc).__name__}: {exc}). The folder must hold what "
            "save_pretrained writes for the model and for its processor "
            "(AutoProcessor), with the weights as *.safetensors."
        ) from None
    expected = SUPPORTED_MODEL_TYPES.get(model.config.model_type)
    if type(model).__name__ != expected:
        raise ValueError(
            f"{folder!r} loads as {type(model).__name__}, expected {expected}."
        )
    # Checkpoints saved in half precision are upcast: the embeddings are fp32,
    # half precision is the autocast of precision="fp16"/"bf16".
    model = model.float().eval()
    model.requires_grad_(False)
    model.to(device)
    tok = processor.tokenizer
    context = model.config.text_config.max_position_embeddings
    limit = getattr(tok, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < context:
        context = limit
    causal = expected == "CLIPModel"
    tokenizer = HFTokenizer(tok, context, keep_mask=not causal)
    text_tower = HFCausalTextTower(model) if causal else None
    encode_text = functools.partial(_encode_text, model)
    with torch.inference_mode():
        probe = tokenizer(["a"]).to(device)
        out = text_tower(probe) if text_tower is not None else encode_text(probe)
    packed = expected == "Siglip2Model"
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        preprocess=HFImagePreprocess(processor, packed),
        device=device,
        embed_dim=int(out.shape[-1]),
        text_tower=text_tower,
        encode_text=encode_text,
        encode_image=functools.partial(
            _encode_patches if packed else _encode_image, model
        ),
        processor=processor,
    )
