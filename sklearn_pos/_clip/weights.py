"""Resolving ``pretrained``: open_clip tags, files, ``local-dir:`` and ``hf-hub:``.

Downloads go through open_clip's public API (``open_clip.download_pretrained`` and
``open_clip.pretrained.download_pretrained_from_hf``). Those retry for minutes when
the network is down, so every download is preceded by two quick steps: a look into
the local cache (``local_files_only``) and, on a miss, a single short reachability
check of the server, which turns an offline machine into a
:class:`WeightsUnavailableError` within seconds.
"""

import difflib
import functools
import importlib.util
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .. import _identity
from .._caches import register_cache
from .configs import config_folders, register_bundled_configs

# Seconds to wait for a weights server before declaring it unreachable.
FETCH_TIMEOUT = 5.0

_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".npz", ".ckpt")


def absolute_weights(pretrained):
    """``pretrained`` with a local file as an absolute path; anything else as is.

    A path-like, or a string naming an existing file (``~`` expanded), becomes
    the file's absolute path, so that another process or machine (a Dask
    worker, a later ``zero-shot`` run) reads the same file; tags,
    ``hf-hub:``/``local-dir:`` names and ``None`` are left unchanged.
    """
    if pretrained is None:
        return None
    if isinstance(pretrained, os.PathLike):
        return os.path.abspath(os.fspath(pretrained))
    if isinstance(pretrained, str) and not pretrained.startswith(
        ("hf-hub:", "local-dir:")
    ):
        expanded = os.path.expanduser(pretrained)
        if os.path.isfile(expanded):
            return os.path.abspath(expanded)
    return pretrained


def absolute_model_name(model_name, backend):
    """A transformers ``model_name`` naming a local folder as its absolute path.

    The same folder is then read by every process (a Dask worker, a later
    run); hub ids, open_clip architectures and other backends' names are left
    unchanged.
    """
    if backend != "transformers":
        return model_name
    folder = os.path.expanduser(os.fspath(model_name))
    return os.path.abspath(folder) if os.path.isdir(folder) else model_name


# Weights file names open_clip prefers in a model folder, best first (the rule
# documented for ``local-dir:`` in open_clip's factory).
_PREFERRED_CHECKPOINTS = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
)

# Values of an environment flag that mean "on", as huggingface_hub reads them.
_TRUE = {"1", "ON", "YES", "TRUE"}

# (architecture, normalised tag) -> local weights file, so that a tag is looked up
# in the cache once per process.
_TAG_FILES = register_cache("tag_files", maxsize=1024)


class WeightsUnavailableError(OSError):
    """The weights named by a ``pretrained`` tag or hub id could not be obtained.

    Raised when the weights are not in the local cache and fetching them failed
    (no network, hub unreachable, offline mode). The message says how to point
    ``pretrained`` at a local checkpoint instead.

    Attributes
    ----------
    source : str or None
        Where the weights were to come from: ``"hf-hub:<org/repo>"``, a download
        URL or a file path.
    reason : str or None
        Why they could not be obtained, e.g. ``"offline mode is enabled
        (HF_HUB_OFFLINE=1)"``.
    """

    def __init__(self, message, *, source=None, reason=None):
        super().__init__(message)
        self.source = source
        self.reason = reason

    def __reduce__(self):
        # keyword-only arguments are not in ``args``: without this, unpickling (as
        # joblib does for errors raised in worker processes) would fail
        return (
            functools.partial(type(self), source=self.source, reason=self.reason),
            (str(self),),
        )


@dataclass(frozen=True)
class WeightsSpec:
    """Everything needed to build (and to identify) one set of CLIP weights."""

    kind: str  # "random", "file", "tag", "hf-hub", "local-dir" or "transformers"
    model_name: str  # name handed to open_clip.create_model
    checkpoint: str | None  # weights file handed to open_clip as `pretrained`
    quick_gelu: bool
    preprocess: tuple  # (key, value) pairs forced onto the image preprocessing
    seed: int | None
    identity: tuple  # hashable; equal identities mean equal weights (_identity.py)
    folder: str | None = None  # a transformers model's save_pretrained folder


def normalize_tag(tag):
    """A ``pretrained`` tag as open_clip's registry spells it (``laion2b-s34b`` ->
    ``laion2b_s34b``)."""
    return tag.lower().replace("-", "_")


def architectures_on_disk():
    """Architecture names of the config files shipped with sklearn_pos and open_clip.

    Found without importing open_clip (nor torch), so that a command can reject
    an unknown name at once; configs registered at run time are not listed.
    """
    names = set()
    for folder in config_folders():
        try:
            names.update(p.stem for p in Path(folder).glob("*.json"))
        except OSError:
            continue
    return sorted(names)


def model_name_problem(model_name, known):
    """Why ``model_name`` is not one of the architectures ``known``, or None."""
    if not isinstance(model_name, str) or not model_name:
        return f"model_name must be a non-empty string, got {model_name!r}."
    if model_name.startswith(("hf-hub:", "local-dir:")):
        return (
            f"model_name={model_name!r} names a weights source: pass it as "
            f"pretrained={model_name!r} instead (model_name is then ignored)."
        )
    if model_name.replace("/", "-") in known:
        return None
    lower = {m.lower(): m for m in known}
    close = difflib.get_close_matches(
        model_name.replace("/", "-").lower(), list(lower), n=5, cutoff=0.6
    )
    hint = (
        f" Did you mean one of {[lower[c] for c in close]}?"
        if close
        else " See open_clip.list_models() for the known names."
    )
    return f"Unknown open_clip model_name={model_name!r}.{hint}"


def _check_model_name(model_name):
    import open_clip

    register_bundled_configs()
    problem = model_name_problem(model_name, open_clip.list_models())
    if problem is not None:
        raise ValueError(problem)
    return model_name.replace("/", "-")


def resolve_weights(model_name, pretrained, random_state=0):
    """Map ``(model_name, pretrained)`` to a :class:`WeightsSpec`.

    Tags are resolved to a local file (fetched when missing, with short timeouts),
    together with the activation and image preprocessing the tag was trained with.
    """
    import open_clip

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
            identity=_identity.random_weights_identity(arch, seed),
        )

    if isinstance(pretrained, os.PathLike):
        pretrained = os.fspath(pretrained)
    if not isinstance(pretrained, str) or not pretrained:
        raise ValueError(
            "pretrained must be an open_clip tag, a checkpoint path, an 'hf-hub:' or "
            f"'local-dir:' id, or None for random weights; got {pretrained!r}."
        )

    if os.path.isfile(pretrained):
        if os.path.getsize(pretrained) == 0:
            raise ValueError(
                f"pretrained={pretrained!r} is an empty file (0 bytes), not a "
                "checkpoint: an interrupted download or copy? Give a complete open_clip "
                "checkpoint (.pt/.pth/.bin/.safetensors), or None for random weights."
            )
        return WeightsSpec(
            kind="file",
            model_name=arch,
            checkpoint=os.path.abspath(pretrained),
            quick_gelu=False,
            preprocess=(),
            seed=None,
            identity=_identity.checkpoint_identity(arch, pretrained),
        )

    if open_clip.is_pretrained_cfg(arch, pretrained):
        cfg = open_clip.get_pretrained_cfg(arch, pretrained)
        tag = normalize_tag(pretrained)
        path = _tag_checkpoint(arch, tag, cfg)
        return WeightsSpec(
            kind="tag",
            model_name=arch,
            checkpoint=path,
            quick_gelu=bool(cfg.get("quick_gelu", False)),
            preprocess=_preprocess_items(cfg),
            seed=None,
            identity=_identity.tag_identity(arch, tag, path),
        )

    if os.path.isdir(pretrained):
        found = find_checkpoint(pretrained)
        inside = f" It holds {os.path.basename(found)!r}." if found else ""
        raise ValueError(
            f"pretrained={pretrained!r} is a folder, not a checkpoint file.{inside} "
            f"For a folder holding open_clip_config.json and the weights, pass "
            f"pretrained='local-dir:{pretrained}'; else pass the path of the weights "
            "file itself."
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
    tags = open_clip.list_pretrained_tags_by_model(arch)
    close = difflib.get_close_matches(pretrained.lower(), tags, n=3, cutoff=0.5)
    hint = f" Did you mean {close}?" if close else ""
    raise ValueError(
        f"pretrained={pretrained!r} is neither an existing file nor a known tag for "
        f"model {arch!r}.{hint} Known tags: {tags or 'none'}. A local checkpoint path, "
        "'local-dir:<folder>', 'hf-hub:<org/repo>' or None (random weights) also work."
    )


def _preprocess_items(cfg):
    names = ("mean", "std", "interpolation", "resize_mode", "fill_color")
    out = []
    for k in names:
        if k in cfg:
            v = cfg[k]
            out.append((k, tuple(v) if isinstance(v, (list, tuple)) else v))
    return tuple(out)


# --------------------------------------------------------------------------------------
# fetching, with a fast failure when offline
# --------------------------------------------------------------------------------------


def _unavailable(what, arch_hint, source, reason):
    """A :class:`WeightsUnavailableError` whose message says how to work offline."""
    if source.startswith("hf-hub:"):
        fetch = f"`huggingface-cli download {source[len('hf-hub:') :]}`"
    else:
        fetch = f"download {source}"
    reason = str(reason)
    message = (
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
    return WeightsUnavailableError(message, source=source, reason=reason)


def _url_reachable(url, timeout):
    """``(True, "")`` when the server of ``url`` answers at all (one try, no retries),
    else ``(False, reason)``."""
    try:
        req = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(req, timeout=timeout):
            pass
    except urllib.error.HTTPError:
        return True, ""  # the server answered, whatever the status
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, str(getattr(exc, "reason", exc))
    return True, ""


def hub_reachable(timeout):
    """Quick check that the Hugging Face endpoint answers at all (no retries)."""
    from huggingface_hub import constants

    # huggingface_hub reads HF_HUB_OFFLINE once, at import; reading it here too
    # honours a variable set later in the process
    offline = os.environ.get("HF_HUB_OFFLINE", "").upper() in _TRUE
    if constants.HF_HUB_OFFLINE or offline:
        return False, "offline mode is enabled (HF_HUB_OFFLINE=1)"
    ok, reason = _url_reachable(constants.ENDPOINT.rstrip("/") + "/api/models", timeout)
    if not ok:
        return False, f"{constants.ENDPOINT} is unreachable ({reason})"
    return True, ""


def _safetensors_first(filename):
    """``filename`` with the ``.safetensors`` files open_clip tries before it."""
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    names = []
    if importlib.util.find_spec("safetensors") is not None:
        if filename == HF_WEIGHTS_NAME:
            names.append(HF_SAFE_WEIGHTS_NAME)
        elif filename.endswith((".bin", ".pth")):
            names.append(filename[:-4] + ".safetensors")
    return names + [filename]


def _hub_cached(repo_id, filenames):
    """Local path of the first of ``filenames`` in the Hugging Face cache, or None."""
    from huggingface_hub import hf_hub_download

    for name in filenames:
        try:
            return hf_hub_download(repo_id, name, local_files_only=True)
        except Exception:  # noqa: BLE001 - any miss means "not cached"
            continue
    return None


def _hub_file(repo_id, filename, what, arch_hint=""):
    """Local path of ``filename`` (or its safetensors twin) in ``repo_id``; cache,
    then a fetch through open_clip when the hub answers."""
    from open_clip.pretrained import download_pretrained_from_hf, has_hf_hub

    source = f"hf-hub:{repo_id}"
    if not has_hf_hub():  # pragma: no cover - huggingface_hub is an open_clip dep
        raise _unavailable(what, arch_hint, source, "huggingface_hub is missing")
    path = _hub_cached(repo_id, _safetensors_first(filename))
    if path is not None:
        return path
    ok, reason = hub_reachable(FETCH_TIMEOUT)
    if not ok:
        raise _unavailable(what, arch_hint, source, reason)
    try:
        return download_pretrained_from_hf(repo_id, filename=filename)
    except Exception as exc:  # noqa: BLE001
        raise _unavailable(what, arch_hint, source, exc) from exc


def _tag_checkpoint(arch, tag, cfg):
    """Local file holding the weights of an open_clip tag, fetched if needed."""
    import open_clip
    from open_clip.constants import HF_WEIGHTS_NAME
    from open_clip.pretrained import has_hf_hub

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
            raise _unavailable(what, arch_hint, path, "the file does not exist")
    else:
        path = None
        # the same choice of source as open_clip.download_pretrained makes
        if cfg.get("hf_hub") and has_hf_hub():
            # "org/repo/" means the default file name, "org/repo/file.bin" a given one
            repo_id, filename = os.path.split(cfg["hf_hub"])
            source = f"hf-hub:{repo_id}"
            path = _hub_cached(repo_id, _safetensors_first(filename or HF_WEIGHTS_NAME))
            if path is None:
                ok, reason = hub_reachable(FETCH_TIMEOUT)
        elif cfg.get("url"):
            source = cfg["url"]
            # open_clip keeps URL downloads in ~/.cache/clip under the URL's name
            cached = os.path.join(
                os.path.expanduser("~/.cache/clip"), os.path.basename(source)
            )
            ok, reason = (
                (True, "")
                if os.path.isfile(cached)
                else _url_reachable(source, FETCH_TIMEOUT)
            )
        else:
            raise _unavailable(
                what, arch_hint, "open_clip's registry", "no download source"
            )
        if path is None:
            if not ok:
                raise _unavailable(what, arch_hint, source, reason)
            try:
                path = open_clip.download_pretrained(cfg)
            except Exception as exc:  # noqa: BLE001
                raise _unavailable(what, arch_hint, source, exc) from exc
    _TAG_FILES.set(key, path)
    return path


def _resolve_hf_hub(repo_id):
    from open_clip.constants import HF_CONFIG_NAME, HF_WEIGHTS_NAME

    if not repo_id:
        raise ValueError("Empty repository id after 'hf-hub:'.")
    what = f"pretrained='hf-hub:{repo_id}'"
    config = _hub_file(repo_id, HF_CONFIG_NAME, what)
    weights = _hub_file(repo_id, HF_WEIGHTS_NAME, what)
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
        identity=_identity.hub_identity(repo_id, config, weights),
    )


def find_checkpoint(folder):
    """The weights file open_clip loads from ``folder`` (``local-dir:``), or None.

    The best-ranked of the usual open_clip / Hugging Face file names; failing those,
    the first ``*.safetensors`` file by name, else the first ``*.bin`` or ``*.pth``.
    """
    folder = Path(folder)
    for name in _PREFERRED_CHECKPOINTS:
        if (folder / name).is_file():
            return str(folder / name)
    for patterns in (("*.safetensors",), ("*.bin", "*.pth")):
        found = sorted(p for pat in patterns for p in folder.glob(pat) if p.is_file())
        if found:
            return str(found[0])
    return None


def _resolve_local_dir(folder):
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
    checkpoint = find_checkpoint(path)
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
        identity=_identity.local_dir_identity(config, checkpoint),
    )
