"""Building models (open_clip or transformers), and sharing them across the process.

A model is built once per (weights identity, device) and kept in a process-wide
cache: clones, grid-search candidates and the text and image embedders of one set
of weights all use one copy, and estimators never hold the weights themselves.
"""

import logging
import re
from contextlib import contextmanager
from pathlib import Path

from .._caches import register_cache
from .configs import register_bundled_configs
from .loaded import LoadedModel
from .text import CausalTextTower

# Models by (weights identity, device). A model can take gigabytes: a process
# that goes through many sets of weights (a search over architectures) keeps
# the most recently used ones; the others are built again when asked for.
_MODEL_CACHE = register_cache("models", maxsize=8)


def resolve_device(device):
    """Resolve ``"auto"`` to ``"cuda"``, ``"mps"`` or ``"cpu"``; check availability."""
    import torch

    if not isinstance(device, str) or not device:
        raise ValueError(f"device must be a non-empty string, got {device!r}.")
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu', "
            "'cuda', 'cuda:<index>' or 'mps'."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='auto' or device='cpu'."
        )
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"device={device!r} was requested but MPS is not available; use "
                "device='auto' or device='cpu'."
            )
    return str(dev)


class _DropRandomInitWarning(logging.Filter):
    def filter(self, record):
        return "initialized randomly" not in record.getMessage()


@contextmanager
def _quiet_random_init():
    # open_clip logs a warning for random weights, which is what pretrained=None asks
    root = logging.getLogger()
    filt = _DropRandomInitWarning()
    root.addFilter(filt)
    try:
        yield
    finally:
        root.removeFilter(filt)


def load_model(spec, device):
    """Build (or fetch from the in-process cache) the model described by ``spec``.

    Built once per (weights identity, device), under the cache's lock, so that
    threads asking for one model at once share a single copy.
    """
    return _MODEL_CACHE.get_or_create(
        (spec.identity, device), lambda: _build(spec, device)
    )


def _weights_file(spec):
    """The weights file behind ``spec``, for messages."""
    if spec.checkpoint is not None:
        return spec.checkpoint
    files = [
        p
        for p in spec.identity
        if isinstance(p, str) and Path(p).suffix in (".safetensors", ".bin", ".pth")
    ]
    return files[0] if files else spec.model_name


def checkpoint_error(spec, exc):
    """A ``ValueError`` naming the weights file that could not be loaded, and why.

    Only a summary of ``exc`` is kept: the file is read with
    ``weights_only=True``, and torch's message for a file that this refuses
    suggests ``weights_only=False``, which runs whatever code the file holds.
    """
    path = _weights_file(spec)
    arch = spec.model_name
    text = str(exc)
    if isinstance(exc, RuntimeError) and "loading state_dict" in text:
        missing = re.findall(r'"([^"]+)"', text.partition("Missing key(s)")[2])
        unexpected_part = text.partition("Unexpected key(s)")[2]
        unexpected = re.findall(r'"([^"]+)"', unexpected_part.partition("\n")[0])
        missing = [k for k in missing if k not in unexpected]
        sizes = re.findall(r"size mismatch for ([^:]+):", text)
        details = []
        if missing:
            details.append(f"{len(missing)} missing (e.g. {missing[0]!r})")
        if unexpected:
            details.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]!r})")
        if sizes:
            details.append(f"{len(sizes)} of another shape (e.g. {sizes[0]!r})")
        return ValueError(
            f"The weights in {path!r} do not fit the architecture {arch!r}: of their "
            f"parameters, {', '.join(details) or 'some do not match'}. Pass the "
            "model_name these weights were trained for (the '-quickgelu' variant for "
            "OpenAI-style weights), or pretrained=None for random weights."
        )
    size = Path(path).stat().st_size if Path(path).is_file() else None
    if size == 0:
        reason = "the file is empty (0 bytes)"
    else:
        reason = f"{type(exc).__name__}: not a checkpoint that open_clip can read"
    return ValueError(
        f"Could not load the weights file {path!r} for {arch!r} ({reason}). Give an "
        "open_clip checkpoint (.pt, .pth, .bin or .safetensors) that is complete "
        "(not a truncated download) and holds only weights; sklearn_pos reads "
        "checkpoints with torch.load(weights_only=True), which refuses pickled "
        "code."
    )


def _build(spec, device):
    if spec.kind == "transformers":
        from .hf import build_hf_model

        return build_hf_model(spec, device)
    import open_clip
    import torch
    from open_clip.transform import PreprocessCfg, image_transform_v2

    register_bundled_configs()
    kwargs = dict(
        precision="fp32",
        device="cpu",
        pretrained_image=False,
        pretrained_text=False,
    )
    if spec.kind == "random":
        with torch.random.fork_rng(devices=[]), _quiet_random_init():
            torch.manual_seed(spec.seed)
            model = open_clip.create_model(spec.model_name, pretrained=None, **kwargs)
    else:
        try:
            if spec.kind in ("file", "tag"):
                model = open_clip.create_model(
                    spec.model_name,
                    pretrained=spec.checkpoint,
                    force_quick_gelu=spec.quick_gelu,
                    force_preprocess_cfg=dict(spec.preprocess) or None,
                    **kwargs,
                )
            else:
                model = open_clip.create_model(spec.model_name, **kwargs)
        except Exception as exc:  # noqa: BLE001 - torch and safetensors raise many
            # ``from None``: torch's own text may advise weights_only=False, which
            # would run the code a crafted file holds.
            raise checkpoint_error(spec, exc) from None
    model.eval()
    model.requires_grad_(False)
    model.to(device)
    preprocess = image_transform_v2(
        PreprocessCfg(**model.visual.preprocess_cfg), is_train=False
    )
    tokenizer = open_clip.get_tokenizer(spec.model_name)
    text_tower = CausalTextTower.from_model(model)
    with torch.inference_mode():
        probe = tokenizer(["a"]).to(device)
        out = text_tower(probe) if text_tower is not None else model.encode_text(probe)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        preprocess=preprocess,
        device=device,
        embed_dim=int(out.shape[-1]),
        text_tower=text_tower,
        # looked up at each call, so that a method replaced on the shared
        # model (a wrapper, a test) is the one that runs
        encode_text=lambda tokens: model.encode_text(tokens),
        encode_image=lambda pixels: model.encode_image(pixels),
    )
