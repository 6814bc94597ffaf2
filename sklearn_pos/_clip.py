"""open_clip model resolution, loading, sharing and batched encoding.

Private helpers behind :class:`sklearn_pos.CLIPEmbedder`. Nothing here imports torch,
open_clip or Pillow at module level: they are imported inside the functions that need
them, so ``import sklearn_pos`` stays light.
"""

import difflib
import hashlib
import json
import logging
import os
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TINY_MODEL_NAME = "sklearn-pos-tiny"
"""Name of the small open_clip architecture that ships with sklearn_pos."""

_CONFIG_DIR = Path(__file__).with_name("_model_configs")

# Seconds to wait for a weights server before declaring it unreachable.
FETCH_TIMEOUT = 5.0

_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".npz", ".ckpt")

# Texts tokenized at a time (bounds the memory of full-context token arrays).
_TOKENIZE_CHUNK = 4096

_LOCK = threading.RLock()
_MODEL_CACHE = {}
_TAG_FILES = {}
_CONFIGS_REGISTERED = False


class WeightsUnavailableError(OSError):
    """The weights named by a ``pretrained`` tag or hub id could not be obtained.

    Raised when the weights are not in the local cache and fetching them failed
    (no network, hub unreachable, offline mode). The message says how to point
    ``pretrained`` at a local checkpoint instead.
    """


class ImageReadError(OSError):
    """An input image could not be read or decoded.

    Attributes
    ----------
    row : int
        Position of the offending item in the input (0-based).
    source : str
        The file path, or a short description of the in-memory object.
    """

    def __init__(self, message, *, row, source):
        super().__init__(message)
        self.row = row
        self.source = source


# --------------------------------------------------------------------------------------
# configs, devices
# --------------------------------------------------------------------------------------


def register_bundled_configs():
    """Make the architectures in ``sklearn_pos/_model_configs`` known to open_clip."""
    global _CONFIGS_REGISTERED
    if _CONFIGS_REGISTERED:
        return
    import open_clip

    with _LOCK:
        if not _CONFIGS_REGISTERED:
            if TINY_MODEL_NAME not in open_clip.list_models():
                open_clip.add_model_config(_CONFIG_DIR)
            _CONFIGS_REGISTERED = True


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


# --------------------------------------------------------------------------------------
# resolving `pretrained`
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightsSpec:
    """Everything needed to build (and to identify) one set of CLIP weights."""

    kind: str  # "random", "file", "tag", "hf-hub" or "local-dir"
    model_name: str  # name handed to open_clip.create_model
    checkpoint: str | None  # weights file handed to open_clip as `pretrained`
    quick_gelu: bool
    preprocess: tuple  # (key, value) pairs forced onto the image preprocessing
    seed: int | None
    identity: tuple  # hashable; equal identities mean equal weights


def _file_identity(path):
    st = os.stat(path)
    return (os.path.abspath(path), st.st_size, st.st_mtime_ns)


def _config_identity(name):
    import open_clip

    cfg = open_clip.get_model_config(name)
    return json.dumps(cfg, sort_keys=True, default=str)


def _check_model_name(model_name):
    import open_clip

    register_bundled_configs()
    if not isinstance(model_name, str) or not model_name:
        raise ValueError(f"model_name must be a non-empty string, got {model_name!r}.")
    if model_name.startswith(("hf-hub:", "local-dir:")):
        raise ValueError(
            f"model_name={model_name!r} names a weights source: pass it as "
            f"pretrained={model_name!r} instead (model_name is then ignored)."
        )
    arch = model_name.replace("/", "-")
    known = open_clip.list_models()
    if arch not in known:
        lower = {m.lower(): m for m in known}
        close = difflib.get_close_matches(arch.lower(), list(lower), n=5, cutoff=0.6)
        hint = (
            f" Did you mean one of {[lower[c] for c in close]}?"
            if close
            else " See open_clip.list_models() for the known names."
        )
        raise ValueError(f"Unknown open_clip model_name={model_name!r}.{hint}")
    return arch


def resolve_weights(model_name, pretrained, random_state=0):
    """Map ``(model_name, pretrained)`` to a :class:`WeightsSpec`.

    Tags are resolved to a local file (fetched when missing, with short timeouts),
    together with the activation and image preprocessing the tag was trained with.
    """
    from open_clip import pretrained as oc_pretrained

    if isinstance(pretrained, str) and pretrained.startswith("hf-hub:"):
        return _resolve_hf_hub(pretrained[len("hf-hub:") :])
    if isinstance(pretrained, str) and pretrained.startswith("local-dir:"):
        return _resolve_local_dir(pretrained[len("local-dir:") :])

    arch = _check_model_name(model_name)
    if pretrained is None:
        seed = int(random_state)
        return WeightsSpec(
            kind="random",
            model_name=arch,
            checkpoint=None,
            quick_gelu=False,
            preprocess=(),
            seed=seed,
            identity=("random", arch, _config_identity(arch), seed),
        )

    if isinstance(pretrained, os.PathLike):
        pretrained = os.fspath(pretrained)
    if not isinstance(pretrained, str) or not pretrained:
        raise ValueError(
            "pretrained must be an open_clip tag, a checkpoint path, an 'hf-hub:' or "
            f"'local-dir:' id, or None for random weights; got {pretrained!r}."
        )

    if os.path.isfile(pretrained):
        return WeightsSpec(
            kind="file",
            model_name=arch,
            checkpoint=os.path.abspath(pretrained),
            quick_gelu=False,
            preprocess=(),
            seed=None,
            identity=("file", arch, _config_identity(arch))
            + _file_identity(pretrained),
        )

    if oc_pretrained.is_pretrained_cfg(arch, pretrained):
        cfg = oc_pretrained.get_pretrained_cfg(arch, pretrained)
        tag = oc_pretrained._clean_tag(pretrained)
        path = _tag_checkpoint(arch, tag, cfg)
        return WeightsSpec(
            kind="tag",
            model_name=arch,
            checkpoint=path,
            quick_gelu=bool(cfg.get("quick_gelu", False)),
            preprocess=_preprocess_items(cfg),
            seed=None,
            identity=("tag", arch, tag, path),
        )

    looks_like_path = (
        os.sep in pretrained
        or "/" in pretrained
        or pretrained.lower().endswith(_CHECKPOINT_SUFFIXES)
    )
    if looks_like_path:
        raise FileNotFoundError(
            f"pretrained={pretrained!r}: no such checkpoint file. Pass the path of an "
            "existing open_clip checkpoint (.pt/.pth/.bin/.safetensors), an open_clip "
            "tag, or None for random weights."
        )
    tags = oc_pretrained.list_pretrained_tags_by_model(arch)
    close = difflib.get_close_matches(pretrained.lower(), tags, n=3, cutoff=0.5)
    hint = f" Did you mean {close}?" if close else ""
    raise ValueError(
        f"pretrained={pretrained!r} is neither an existing file nor a known tag for "
        f"model {arch!r}.{hint} Known tags: {tags or 'none'}. A local checkpoint path, "
        "'local-dir:<folder>', 'hf-hub:<org/repo>' or None (random weights) also work."
    )


def _preprocess_items(cfg):
    keys = ("mean", "std", "interpolation", "resize_mode", "fill_color")
    out = []
    for k in keys:
        if k in cfg:
            v = cfg[k]
            out.append((k, tuple(v) if isinstance(v, (list, tuple)) else v))
    return tuple(out)


def _offline_help(what, arch_hint, source, reason):
    if source.startswith("hf-hub:"):
        fetch = f"`huggingface-cli download {source[len('hf-hub:') :]}`"
    else:
        fetch = f"download {source}"
    return (
        f"Could not fetch the weights for {what} from {source}: {reason}. "
        "This machine appears to be offline (or the server is unreachable), and the "
        "weights are not in the local cache. To run offline, give a local checkpoint: "
        f"pretrained='/path/to/checkpoint.bin' with the same model_name{arch_hint}, or "
        "pretrained='local-dir:/path/to/folder' where the folder holds "
        "open_clip_config.json and the weights file. To obtain one, on a machine with "
        "internet access run `open_clip.create_model(<model_name>, pretrained=<tag>)` "
        "once (the file lands in the Hugging Face cache, ~/.cache/huggingface/hub) or "
        f"{fetch}, then copy the file over or point HF_HOME at a copy of that "
        "cache. Use pretrained=None for random weights."
    )


def _hub_reachable(timeout):
    """Quick check that the Hugging Face endpoint answers at all (no retries)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False, "offline mode is enabled (HF_HUB_OFFLINE=1)"
    url = constants.ENDPOINT.rstrip("/") + "/api/models"
    try:
        req = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(req, timeout=timeout):
            pass
    except urllib.error.HTTPError:
        return True, ""  # the server answered, whatever the status
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{constants.ENDPOINT} is unreachable ({reason})"
    return True, ""


def _hub_file(repo_id, filenames, what, arch_hint=""):
    """Local path of the first of ``filenames`` in ``repo_id``; cache, then fetch."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub is an open_clip dep
        raise WeightsUnavailableError(
            _offline_help(
                what, arch_hint, f"hf-hub:{repo_id}", "huggingface_hub is missing"
            )
        ) from exc
    for name in filenames:
        try:
            return hf_hub_download(repo_id, name, local_files_only=True)
        except Exception:  # noqa: BLE001 - any miss means "not cached"
            continue
    ok, reason = _hub_reachable(FETCH_TIMEOUT)
    if not ok:
        raise WeightsUnavailableError(
            _offline_help(what, arch_hint, f"hf-hub:{repo_id}", reason)
        )
    try:
        from huggingface_hub.errors import RemoteEntryNotFoundError as _Missing
    except ImportError:  # older huggingface_hub
        from huggingface_hub.utils import EntryNotFoundError as _Missing
    last = None
    for name in filenames:
        try:
            return hf_hub_download(repo_id, name, etag_timeout=FETCH_TIMEOUT)
        except _Missing as exc:
            last = exc
            continue
        except Exception as exc:  # noqa: BLE001
            raise WeightsUnavailableError(
                _offline_help(what, arch_hint, f"hf-hub:{repo_id}", exc)
            ) from exc
    raise WeightsUnavailableError(
        _offline_help(
            what, arch_hint, f"hf-hub:{repo_id}", f"no file among {filenames}"
        )
    ) from last


def _url_file(url, what, arch_hint):
    from open_clip.pretrained import download_pretrained_from_url

    target = os.path.join(os.path.expanduser("~/.cache/clip"), os.path.basename(url))
    if not os.path.isfile(target):
        try:
            req = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT):
                pass
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise WeightsUnavailableError(
                _offline_help(what, arch_hint, url, getattr(exc, "reason", exc))
            ) from exc
    try:
        return download_pretrained_from_url(url)
    except Exception as exc:  # noqa: BLE001
        raise WeightsUnavailableError(_offline_help(what, arch_hint, url, exc)) from exc


def _tag_checkpoint(arch, tag, cfg):
    """Local file holding the weights of an open_clip tag, fetched if needed."""
    from open_clip import pretrained as oc_pretrained
    from open_clip.constants import HF_WEIGHTS_NAME

    key = (arch, tag)
    path = _TAG_FILES.get(key)
    if path is not None and os.path.isfile(path):
        return path
    what = f"model {arch!r} with pretrained={tag!r}"
    arch_hint = (
        f" (these weights use QuickGELU: set model_name='{arch}-quickgelu' with a "
        "checkpoint file)"
        if cfg.get("quick_gelu") and not arch.endswith("-quickgelu")
        else ""
    )
    if "file" in cfg:
        path = cfg["file"]
        if not os.path.isfile(path):
            raise WeightsUnavailableError(
                _offline_help(what, arch_hint, path, "the file does not exist")
            )
    elif cfg.get("hf_hub") and oc_pretrained.has_hf_hub():
        # "org/repo/" means the default file name, "org/repo/file.bin" a given one
        repo_id, filename = os.path.split(cfg["hf_hub"])
        filename = filename or HF_WEIGHTS_NAME
        names = []
        if getattr(oc_pretrained, "_has_safetensors", False):
            names.extend(oc_pretrained._get_safe_alternatives(filename))
        names.append(filename)
        path = _hub_file(repo_id, names, what, arch_hint)
    elif cfg.get("url"):
        path = _url_file(cfg["url"], what, arch_hint)
    else:
        raise WeightsUnavailableError(
            _offline_help(what, arch_hint, "open_clip's registry", "no download source")
        )
    _TAG_FILES[key] = path
    return path


def _resolve_hf_hub(repo_id):
    from open_clip.constants import (
        HF_CONFIG_NAME,
        HF_SAFE_WEIGHTS_NAME,
        HF_WEIGHTS_NAME,
    )

    if not repo_id:
        raise ValueError("Empty repository id after 'hf-hub:'.")
    what = f"pretrained='hf-hub:{repo_id}'"
    config = _hub_file(repo_id, [HF_CONFIG_NAME], what)
    weights = _hub_file(repo_id, [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME], what)
    # Both files are now local. When they sit in one snapshot folder and the model
    # needs no Hugging Face tokenizer, load that folder directly: open_clip would
    # otherwise ask the hub again (and retry for a while when it is unreachable).
    name = f"hf-hub:{repo_id}"
    folder = os.path.dirname(config)
    if os.path.dirname(weights) == folder:
        with open(config, encoding="utf-8") as f:
            cfg = json.load(f)
        text_cfg = cfg.get("model_cfg", {}).get("text_cfg", {})
        if "model_cfg" in cfg and not text_cfg.get("hf_tokenizer_name"):
            name = f"local-dir:{folder}"
    return WeightsSpec(
        kind="hf-hub",
        model_name=name,
        checkpoint=None,
        quick_gelu=False,
        preprocess=(),
        seed=None,
        identity=(
            "hf-hub",
            repo_id,
            os.path.realpath(config),
            os.path.realpath(weights),
        ),
    )


def _resolve_local_dir(folder):
    from open_clip.factory import _find_checkpoint_in_dir

    if not folder:
        raise ValueError("Empty folder after 'local-dir:'.")
    path = Path(folder).expanduser()
    config = path / "open_clip_config.json"
    if not path.is_dir():
        raise FileNotFoundError(f"pretrained='local-dir:{folder}': no such folder.")
    if not config.is_file():
        raise FileNotFoundError(
            f"pretrained='local-dir:{folder}': the folder has no open_clip_config.json "
            "(a JSON file with 'model_cfg' and optionally 'preprocess_cfg')."
        )
    checkpoint = _find_checkpoint_in_dir(path)
    if checkpoint is None:
        raise FileNotFoundError(
            f"pretrained='local-dir:{folder}': no weights file (*.safetensors, *.bin, "
            "*.pth) next to open_clip_config.json."
        )
    return WeightsSpec(
        kind="local-dir",
        model_name=f"local-dir:{path.resolve()}",
        checkpoint=None,
        quick_gelu=False,
        preprocess=(),
        seed=None,
        identity=("local-dir",) + _file_identity(config) + _file_identity(checkpoint),
    )


# --------------------------------------------------------------------------------------
# loading and sharing models
# --------------------------------------------------------------------------------------


@dataclass
class LoadedModel:
    """An open_clip model in eval mode with its tokenizer and image preprocessing."""

    model: object
    tokenizer: object
    preprocess: object
    device: str
    embed_dim: int
    text_tower: object  # _CausalTextTower, or None when truncation would not be exact


class _DropRandomInitWarning(logging.Filter):
    def filter(self, record):
        return "initialized randomly" not in record.getMessage()


@contextmanager
def _quiet_random_init():
    root = logging.getLogger()
    filt = _DropRandomInitWarning()
    root.addFilter(filt)
    try:
        yield
    finally:
        root.removeFilter(filt)


def load_model(spec, device):
    """Build (or fetch from the in-process cache) the model described by ``spec``."""
    key = (spec.identity, device)
    with _LOCK:
        loaded = _MODEL_CACHE.get(key)
        if loaded is None:
            loaded = _build(spec, device)
            _MODEL_CACHE[key] = loaded
    return loaded


def clear_model_cache():
    """Forget every model loaded by :class:`~sklearn_pos.CLIPEmbedder` in this process.

    Returns
    -------
    n_models : int
        How many models were dropped.
    """
    with _LOCK:
        n = len(_MODEL_CACHE)
        _MODEL_CACHE.clear()
        _TAG_FILES.clear()
    return n


def _build(spec, device):
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
    elif spec.kind in ("file", "tag"):
        model = open_clip.create_model(
            spec.model_name,
            pretrained=spec.checkpoint,
            force_quick_gelu=spec.quick_gelu,
            force_preprocess_cfg=dict(spec.preprocess) or None,
            **kwargs,
        )
    else:
        model = open_clip.create_model(spec.model_name, **kwargs)
    model.eval()
    model.requires_grad_(False)
    model.to(device)
    preprocess = image_transform_v2(
        PreprocessCfg(**model.visual.preprocess_cfg), is_train=False
    )
    tokenizer = open_clip.get_tokenizer(spec.model_name)
    text_tower = _CausalTextTower.from_model(model)
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
    )


# --------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------


class _CausalTextTower:
    """Runs an open_clip text transformer on tokens cut to the batch's needed length.

    With a causal attention mask, position ``i`` only sees positions ``<= i``; the
    pooled feature is read at one position (the end-of-text token for ``argmax``/``eos``
    pooling, position 0 for ``first``). Everything after the last pooled position of a
    batch can therefore be dropped without changing the result.
    """

    _POOLS = ("argmax", "eos", "first")

    def __init__(self, tower, attn_mask, pool_type, eos_id):
        self.tower = tower
        self.attn_mask = attn_mask
        self.pool_type = pool_type
        self.eos_id = eos_id

    @classmethod
    def from_model(cls, model):
        import torch

        if hasattr(model, "text"):  # CustomTextCLIP / CoCa: tower is `model.text`
            tower = model.text
            pool_type = getattr(tower, "pool_type", None)
            eos_id = getattr(tower, "eos_id", None)
            if getattr(tower, "cls_emb", None) is not None:
                return None
        else:  # CLIP: the text tower's parts live on the model itself
            tower = model
            pool_type = getattr(model, "text_pool_type", None)
            eos_id = getattr(model, "text_eos_id", None)
        needed = ("token_embedding", "positional_embedding", "transformer", "ln_final")
        if not all(hasattr(tower, a) for a in needed) or not hasattr(
            tower, "text_projection"
        ):
            return None
        mask = getattr(tower, "attn_mask", None)
        if not isinstance(mask, torch.Tensor) or mask.ndim != 2:
            return None  # bidirectional text tower: padding changes every position
        if pool_type not in cls._POOLS or (pool_type == "eos" and eos_id is None):
            return None
        if not hasattr(tower.transformer, "get_cast_dtype"):
            return None
        if getattr(tower, "final_ln_after_pool", False):
            return None
        return cls(tower, mask, pool_type, eos_id)

    def pool_index(self, tokens):
        """Position whose feature is pooled, per row (same rule as open_clip)."""
        if self.pool_type == "argmax":
            return tokens.argmax(dim=-1)
        if self.pool_type == "eos":
            return (tokens == self.eos_id).int().argmax(dim=-1)
        return tokens.new_zeros(tokens.shape[0])

    def __call__(self, tokens):
        import torch
        from open_clip.transformer import text_global_pool

        length = int(self.pool_index(tokens).max()) + 1
        tokens = tokens[:, :length]
        t = self.tower
        cast_dtype = t.transformer.get_cast_dtype()
        x = t.token_embedding(tokens).to(cast_dtype)
        x = x + t.positional_embedding[:length].to(cast_dtype)
        x = t.transformer(x, attn_mask=self.attn_mask[:length, :length])
        x = t.ln_final(x)
        x = text_global_pool(x, tokens, self.pool_type, eos_token_id=self.eos_id)
        proj = t.text_projection
        if isinstance(proj, torch.nn.Linear):
            x = proj(x)
        elif proj is not None:
            x = x @ proj
        return x


def _autocast(device, precision):
    import torch

    if precision == "fp32":
        return nullcontext()
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    return torch.autocast(device_type=device.split(":")[0], dtype=dtype)


def _is_oom(exc):
    import torch

    oom_types = tuple(
        t
        for t in (
            getattr(torch.cuda, "OutOfMemoryError", None),
            getattr(torch, "OutOfMemoryError", None),
        )
        if t is not None
    )
    if oom_types and isinstance(exc, oom_types):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _release_memory(device):
    import torch

    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    elif device.startswith("mps") and hasattr(torch, "mps"):
        torch.mps.empty_cache()


class _BatchLimit:
    """Largest batch known to fit; shrinks when the device runs out of memory."""

    def __init__(self, size):
        self.size = max(1, int(size))


def run_batch(forward, batch, limit, device):
    """Apply ``forward`` to ``batch`` in row chunks, halving them on out-of-memory.

    Rows come back in their input order; an error other than out-of-memory, or an
    out-of-memory error on a single row, is raised.
    """
    import torch

    n = batch.shape[0]
    outs = []
    start = 0
    while start < n:
        step = min(limit.size, n - start)
        try:
            out = forward(batch[start : start + step])
        except Exception as exc:  # noqa: BLE001
            if not _is_oom(exc) or step == 1:
                raise
            _release_memory(device)
            limit.size = max(1, step // 2)
            continue
        outs.append(out.float())
        start += step
    return torch.cat(outs) if len(outs) > 1 else outs[0]


def _progress(total, verbose, unit):
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc="CLIPEmbedder", leave=False)


def encode_texts(loaded, texts, *, batch_size, precision, normalize, verbose=False):
    """Embed distinct ``texts``; returns float32 array ``(len(texts), embed_dim)``.

    Texts are tokenized, sorted by the length the text tower needs, grouped into
    batches and run on tokens cut to each batch's longest needed length.
    """
    import torch
    import torch.nn.functional as F

    model, device = loaded.model, loaded.device
    tower = loaded.text_tower
    texts = list(texts)
    n = len(texts)
    if tower is not None:
        # tokenize in chunks, keeping only the columns some row needs
        parts, needs = [], []
        for start in range(0, n, _TOKENIZE_CHUNK):
            part = loaded.tokenizer(texts[start : start + _TOKENIZE_CHUNK])
            need = tower.pool_index(part) + 1
            parts.append(part[:, : int(need.max())])
            needs.append(need)
        width = max(p.shape[1] for p in parts)
        tokens = torch.cat([F.pad(p, (0, width - p.shape[1])) for p in parts])
        order = torch.argsort(torch.cat(needs), stable=True)
        forward = tower

        def batches():
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                yield idx, tokens[idx]
    else:  # full context, in input order
        forward = model.encode_text

        def batches():
            for start in range(0, n, batch_size):
                idx = torch.arange(start, min(n, start + batch_size))
                yield idx, loaded.tokenizer(texts[start : start + batch_size])

    out = torch.empty((n, loaded.embed_dim), dtype=torch.float32)
    limit = _BatchLimit(batch_size)
    bar = _progress(n, verbose, "text")
    try:
        with torch.inference_mode(), _autocast(device, precision):
            for idx, batch in batches():
                emb = run_batch(
                    forward, batch.to(device, non_blocking=True), limit, device
                )
                if normalize:
                    emb = F.normalize(emb, dim=-1)
                out[idx] = emb.cpu()
                if bar is not None:
                    bar.update(len(idx))
    finally:
        if bar is not None:
            bar.close()
    return out.numpy()


# --------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------


def describe_image(item):
    """Short text naming an image input, for error messages."""
    if isinstance(item, (str, os.PathLike)):
        return repr(os.fspath(item))
    if isinstance(item, np.ndarray):
        return f"array of shape {item.shape} and dtype {item.dtype}"
    if hasattr(item, "mode") and hasattr(item, "size"):
        return f"PIL image, mode {item.mode!r}, size {item.size}"
    return type(item).__name__


def _sixteen_to_uint8(arr):
    """Map 16-bit intensities (0..65535) to 0..255."""
    scaled = np.rint(np.asarray(arr, dtype=np.float64) / 257.0)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _pil_to_rgb(img):
    """RGB copy of a PIL image; alpha is composited on white, 16-bit scaled to 8-bit."""
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(img)
        peak = float(arr.max()) if arr.size else 0.0
        if mode == "F" and peak <= 1.0:  # floats in [0, 1]
            arr8 = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
        elif mode.startswith("I;16") or peak > 255:  # 16-bit range
            arr8 = _sixteen_to_uint8(arr)
        else:  # 32-bit container holding 8-bit values
            arr8 = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8).convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in img.info
    )
    if has_alpha:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _array_to_pil(arr):
    from PIL import Image

    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ValueError(
            f"expected an HxW or HxWxC array with C in (1, 3, 4), got shape {arr.shape}"
        )
    if arr.dtype == np.uint16:
        arr = _sixteen_to_uint8(arr)
    elif arr.dtype != np.uint8:
        raise ValueError(
            f"image arrays must have dtype uint8 (or uint16), got {arr.dtype}; convert "
            "with e.g. (arr * 255).round().astype(np.uint8) for floats in [0, 1]"
        )
    # uint8 arrays map to mode L, RGB or RGBA by their shape
    return _pil_to_rgb(Image.fromarray(np.ascontiguousarray(arr)))


def load_rgb(item):
    """Read one image input (path, PIL image or array) as an RGB PIL image."""
    from PIL import Image, ImageOps

    if isinstance(item, (str, os.PathLike)):
        with Image.open(item) as img:
            img = ImageOps.exif_transpose(img)
            img.load()
            return _pil_to_rgb(img)
    if isinstance(item, Image.Image):
        return _pil_to_rgb(item)
    if isinstance(item, np.ndarray):
        return _array_to_pil(item)
    raise TypeError(f"unsupported image input of type {type(item).__name__}")


class ImageDataset:
    """Map-style dataset for torch's DataLoader: decodes and preprocesses images.

    Failures are returned, not raised, so the caller can report the row cleanly.
    """

    def __init__(self, items, preprocess):
        self.items = items
        self.preprocess = preprocess

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        try:
            return i, self.preprocess(load_rgb(self.items[i])), None
        except Exception as exc:  # noqa: BLE001
            return i, None, f"{type(exc).__name__}: {exc}"


def collate_images(samples):
    import torch

    idx = [s[0] for s in samples]
    errors = [(s[0], s[2]) for s in samples if s[2] is not None]
    if errors:
        return idx, None, errors
    return idx, torch.stack([s[1] for s in samples]), []


def _lower_worker_priority(worker_id):
    """DataLoader worker init: decode with CPU time the model leaves unused."""
    try:
        os.nice(5)
    except (AttributeError, OSError):  # not available on this platform
        pass


def encode_images(
    loaded, items, rows, *, batch_size, precision, normalize, num_workers, verbose=False
):
    """Embed distinct images ``items`` (``rows[i]`` = input row of ``items[i]``).

    Images are decoded and preprocessed by ``num_workers`` DataLoader workers while the
    model runs on the previous batch. When the model runs on the CPU, the workers get a
    lower scheduling priority, so that they fill the gaps of the model's threads
    instead of competing with them.
    """
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader

    model, device = loaded.model, loaded.device
    dataset = ImageDataset(items, loaded.preprocess)
    workers = num_workers if len(items) > batch_size else 0
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        collate_fn=collate_images,
        pin_memory=device.startswith("cuda"),
        prefetch_factor=2 if workers else None,
        worker_init_fn=_lower_worker_priority if device == "cpu" and workers else None,
    )
    out = torch.empty((len(items), loaded.embed_dim), dtype=torch.float32)
    limit = _BatchLimit(batch_size)
    bar = _progress(len(items), verbose, "img")
    try:
        with torch.inference_mode(), _autocast(device, precision):
            for idx, pixels, errors in loader:
                if errors:
                    i, message = errors[0]
                    source = describe_image(items[i])
                    raise ImageReadError(
                        f"Could not read the image at row {rows[i]} ({source}): "
                        f"{message}",
                        row=rows[i],
                        source=source,
                    )
                emb = run_batch(
                    model.encode_image,
                    pixels.to(device, non_blocking=True),
                    limit,
                    device,
                )
                if normalize:
                    emb = F.normalize(emb, dim=-1)
                out[idx] = emb.cpu()
                if bar is not None:
                    bar.update(len(idx))
    finally:
        if bar is not None:
            bar.close()
    return out.numpy()


# --------------------------------------------------------------------------------------
# on-disk cache keys
# --------------------------------------------------------------------------------------


def image_fingerprint(item):
    """Hashable description of an image input's content for the on-disk cache."""
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        try:
            st = os.stat(path)
        except OSError:
            return ("path", os.path.abspath(path), None, None)
        return ("path", os.path.abspath(path), st.st_size, st.st_mtime_ns)
    if isinstance(item, np.ndarray):
        arr = np.ascontiguousarray(item)
        digest = hashlib.blake2b(arr.tobytes(), digest_size=16).hexdigest()
        return ("array", arr.shape, str(arr.dtype), digest)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        Image = None
    if Image is not None and isinstance(item, Image.Image):
        digest = hashlib.blake2b(item.tobytes(), digest_size=16).hexdigest()
        return ("pil", item.mode, item.size, digest)
    return ("object", type(item).__name__, id(item))


def cached_compute(weights_key, settings, content, compute):
    """Target of ``joblib.Memory.cache``: only the first three arguments are hashed."""
    return compute()
