"""What the commands share: the error they report, option values, output checks."""

import errno
import os
import sys
from contextlib import contextmanager
from pathlib import Path

#: Exit statuses (also listed in ``--help``).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_WEIGHTS = 3

#: The file written by ``fit`` inside ``--output-dir`` and read by ``zero-shot``.
SUBSPACES_FILE = "pos_subspaces.npz"

_RANDOM_WEIGHTS = ("none", "random")


class CommandError(Exception):
    """An error reported to the user as one message, without a traceback."""

    def __init__(self, message, status=EXIT_USAGE):
        super().__init__(message)
        self.status = status


def info(message):
    """Progress and status go to stderr; the results to stdout."""
    print(message, file=sys.stderr, flush=True)


def pretrained_value(text):
    """``--pretrained`` text → ``CLIPEmbedder(pretrained=...)``.

    ``none``/``random`` mean random weights; an existing file becomes an
    absolute path (so that the saved subspaces record where it is); a text
    that looks like a path but names no file is refused here, before torch is
    imported.
    """
    from .._clip.weights import _CHECKPOINT_SUFFIXES, absolute_weights

    if text is None or text.lower() in _RANDOM_WEIGHTS:
        return None
    if text.startswith(("hf-hub:", "local-dir:")) or os.path.isfile(
        os.path.expanduser(text)
    ):
        return absolute_weights(text)
    if "/" in text or os.sep in text or text.lower().endswith(_CHECKPOINT_SUFFIXES):
        raise CommandError(
            f"--pretrained {text}: no such checkpoint file. Give the path of an "
            "existing open_clip checkpoint (.pt/.pth/.bin/.safetensors), an "
            "open_clip tag such as 'openai', or 'none' for random weights."
        )
    return text


def describe_weights(model, pretrained, backend="open_clip"):
    if backend == "transformers":
        return f"{model} (transformers)"
    if pretrained is None:
        return f"{model} with random weights"
    return f"{model} ({pretrained})"


def embedder(args, model, pretrained, modality, memory=None, num_workers=None):
    """The CLIPEmbedder the options describe; nothing is loaded yet."""
    from ..embedding import CLIPEmbedder

    backend = getattr(args, "backend", None) or "open_clip"
    if backend == "transformers" and pretrained != "openai":
        shown = "none" if pretrained is None else pretrained
        raise CommandError(
            f"--pretrained {shown} means nothing with --backend transformers: "
            "--model names both the model and its weights (a folder saved with "
            "save_pretrained, or a hub id); leave --pretrained out."
        )
    return CLIPEmbedder(
        model,
        pretrained,
        backend=backend,
        modality=modality,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        memory=memory,
        num_workers=num_workers,
        random_state=args.seed,
        verbose=not args.no_progress,
    )


def check_model_name(model, backend="open_clip"):
    """Reject an unknown ``--model`` at once, without importing torch.

    A transformers ``--model`` (a folder or hub id) is checked when loaded.
    """
    from .._clip.weights import architectures_on_disk, model_name_problem

    if backend == "transformers":
        return
    problem = model_name_problem(model, architectures_on_disk())
    if problem is not None:
        raise CommandError(
            "--model: "
            + problem.replace("model_name=", "model ").replace(
                "pretrained=", "--pretrained "
            )
        )


@contextmanager
def model_errors(model, pretrained, backend="open_clip"):
    """Turn the errors of loading a model into one message for the user."""
    from .._clip import WeightsUnavailableError
    from .messages import as_typed, weights_message

    try:
        yield
    except WeightsUnavailableError as exc:
        shown = "none" if pretrained is None else pretrained
        raise CommandError(
            weights_message(model, shown, exc, backend), EXIT_WEIGHTS
        ) from None
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        raise CommandError(f"cannot load the model: {as_typed(str(exc))}") from None


def cache_dir(option_value):
    """The embedding store's folder (``--cache-dir`` or the shared default)."""
    from ..store import CACHE_ENV, get_cache_dir

    try:
        return get_cache_dir(option_value)
    except OSError as exc:
        given = (
            f"--cache-dir {option_value}"
            if option_value is not None
            else f"the cache folder ({CACHE_ENV}={os.environ[CACHE_ENV]})"
            if os.environ.get(CACHE_ENV)
            else "the cache folder"
        )
        raise CommandError(
            f"{given} cannot be created: {exc.strerror or exc} "
            f"({exc.filename or option_value}). Give a folder you can write to "
            f"with --cache-dir, or set {CACHE_ENV}."
        ) from None


_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space, or write elsewhere",
    errno.EDQUOT: "the disk quota is exceeded: free some space, or write elsewhere",
    errno.EFBIG: "the file exceeds the largest file allowed here (see 'ulimit -f' "
    "and the file system's limit): raise the limit, or write elsewhere",
    errno.EACCES: "choose a location you can write to",
    errno.EPERM: "choose a location you can write to",
    errno.EROFS: "the file system is read-only: choose another location",
    errno.ENOTDIR: "a part of that path is a file, not a folder: choose another "
    "location",
    errno.ENOENT: "its folder does not exist: create it, or choose another location",
}


def os_error_message(exc, path, option=None):
    """One line for an OS error on ``path``: what happened and what to do."""
    from .._io import TMP_PREFIX

    named = exc.filename
    if named and not os.path.basename(os.fspath(named)).startswith(TMP_PREFIX):
        path = named  # the file itself, unless it is a temporary name
    if exc.errno == errno.EISDIR:
        return (
            f"cannot write {path}: it is a folder. Move it away, or "
            f"{'choose another ' + option if option else 'write elsewhere'}."
        )
    advice = _ADVICE.get(exc.errno, "check the path, or write elsewhere")
    if option:
        advice += f" (another {option})"
    return f"cannot write {path}: {exc.strerror or exc}; {advice}."


@contextmanager
def writing(path, option=None):
    """Report an OS error while writing ``path`` as one line (a CommandError)."""
    try:
        yield
    except OSError as exc:
        status = (
            EXIT_FAILURE
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            else EXIT_USAGE
        )
        raise CommandError(os_error_message(exc, path, option), status) from None


def check_output_file(option, path):
    """Fail before any work if ``path`` cannot be written as a file."""
    if path is None:
        return
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise CommandError(f"{option} {path} is a folder; give a file name.")
    if parent.exists() and not parent.is_dir():
        raise CommandError(
            f"{option} {path}: {parent} is a file, not a folder; give a path in a "
            "folder."
        )
    if not parent.is_dir():
        raise CommandError(
            f"{option} {path}: the folder {parent} does not exist; create it first."
        )
    if not os.access(parent, os.W_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise CommandError(f"{option} {path} cannot be written (permission denied).")


def format_table(table, digits):
    return table.to_string(float_format=lambda v: f"{v:.{digits}f}")
