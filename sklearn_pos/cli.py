"""The ``sklearn-pos`` command: learn part-of-speech subspaces and evaluate them.

Run ``sklearn-pos --help`` (or ``python -m sklearn_pos --help``). Four commands:

``fit``
    Encode the bundled WordNet vocabulary with a CLIP model, learn one subspace
    per part of speech (:class:`~sklearn_pos.PartOfSpeechComponentAnalysis`),
    save the fitted estimator, print the class-invariance table and draw the
    figures.
``zero-shot``
    Classify a folder of images (one subfolder per class) with CLIP, with and
    without projecting the image embeddings onto a saved subspace, and print
    both accuracies.
``embed``
    Embed a whole collection (a folder of images, a text file, a Parquet or
    CSV column) to Parquet files, resumably, in this process or on a Dask
    cluster (:func:`~sklearn_pos.embed_collection`).
``cache``
    Show the size of an embedding store (by default the per-user folder that
    every command shares, :func:`~sklearn_pos.store.get_cache_dir`; or any
    ``memory=`` folder of :class:`~sklearn_pos.CLIPEmbedder`), or clear it.

:func:`main` is the entry point; it returns the exit status instead of
exiting, so it can be called from Python too.
"""

import argparse
import errno
import json
import os
import re
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["main", "build_parser"]

#: Exit statuses (also listed in ``--help``).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_WEIGHTS = 3

#: File names written by ``fit`` inside ``--output-dir``.
SUBSPACES_FILE = "pos_subspaces.npz"
#: What ``fit`` wrote before its subspaces were saved as arrays + JSON.
LEGACY_SUBSPACES_FILE = "pos_subspaces.joblib"
#: The parameters of the results in ``--output-dir``, written before them.
PARAMETERS_FILE = "fit_parameters.json"
TABLE_CSV = "class_invariance.csv"
TABLE_PNG = "class_invariance.png"
SCATTER_PNG = "subspace_scatter_{}.png"

_THEMES = ("none", "artists")
_RANDOM_WEIGHTS = ("none", "random")
_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt", ".npz")


class CommandError(Exception):
    """An error reported to the user as one message, without a traceback."""

    def __init__(self, message, status=EXIT_USAGE):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------
# argument parsing
# ---------------------------------------------------------------------------

_DESCRIPTION = """\
Find the directions of a CLIP model's embedding space that carry nouns
(objects), adjectives (appearance), verbs and adverbs, following Oldfield et
al., "Parts of Speech-Grounded Subspaces in Vision-Language Models" (NeurIPS
2023), and use them.

  fit        encode the bundled WordNet vocabulary (141,445 words labelled
             noun/adj/verb/adv) with a CLIP model, learn one subspace per part
             of speech, save them and report how well each one keeps to its own
             part of speech (the class-invariance table) with figures.
  zero-shot  classify a folder of images with CLIP, once as is and once with
             the image embeddings projected onto a saved subspace (the noun
             subspace by default), and print both accuracies.
  embed      embed a whole collection (images, texts) to Parquet files,
             resumably, in this process or on a Dask cluster.
  cache      show how many embeddings the embedding store holds and its size on
             disk, or clear it.

Every command keeps the embeddings it computes in one per-user folder, so that
no text or image is encoded twice: $SKLEARN_POS_CACHE if set, else
$XDG_CACHE_HOME/sklearn_pos, else ~/.cache/sklearn_pos (or --cache-dir).

Options of each command: "%(prog)s COMMAND --help", e.g. "%(prog)s fit --help"."""

_EPILOG = """\
examples:
  # smoke test, anywhere, offline (bundled tiny model with random weights):
  %(prog)s fit --model sklearn-pos-tiny --pretrained none \\
      --vocabulary-size 20000 --output-dir sklearn_pos_output

  # the paper's setting (ViT-B/32 with OpenAI's weights, k = 64, lambda = 0.5):
  %(prog)s fit --model ViT-B-32 --pretrained openai --output-dir vit-b-32
  # its PCA baseline (lambda = 0) beside it; the embeddings are reused:
  %(prog)s fit --model ViT-B-32 --pretrained openai --lam 0 \\
      --output-dir vit-b-32-lam0

  # evaluate the noun subspace on images sorted into one folder per class:
  %(prog)s zero-shot --subspaces vit-b-32/pos_subspaces.npz --images photos/

exit status: 0 success, 1 unexpected error or an output the disk refused (full,
file too large), 2 invalid arguments or input (an output path that cannot be
written included), 3 model weights could not be obtained (no network: see
--pretrained)."""

_MODEL_HELP = (
    "open_clip architecture, e.g. ViT-B-32, ViT-L-14, or sklearn-pos-tiny: a "
    "very small model bundled for smoke tests (64 dimensions)"
)
_PRETRAINED_HELP = (
    "where the weights come from: an open_clip tag such as 'openai' or "
    "'laion2b_s34b_b79k' (downloaded on first use, then cached); the path of "
    "a local checkpoint file (.pt/.pth/.bin/.safetensors) for --model (OpenAI "
    "weights need the QuickGELU architecture, e.g. --model ViT-B-32-quickgelu); "
    "'local-dir:FOLDER' (open_clip_config.json + weights) or 'hf-hub:ORG/REPO'; "
    "or 'none' for random weights (smoke tests only: the results mean nothing)"
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the hand-wrapped description; show defaults after option help."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (
            "default" not in text
            and action.option_strings
            and action.default is not None
            and action.default is not False
            and action.default is not argparse.SUPPRESS
        ):
            text += " (default: %(default)s)"
        return text

    def _split_lines(self, text, width):
        # Never break inside "hf-hub:" or "--vocabulary-size".
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _int_type(low, high=None, *, words):
    """An argparse type: an integer in ``[low, high)``, described as ``words``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {words}, got {value}")
        if high is not None and value >= high:
            raise argparse.ArgumentTypeError(
                f"expected an integer below {high_text}, got {value}"
            )
        return value

    high_text = "2**32" if high == 2**32 else str(high)
    return parse


_positive_int = _int_type(1, words="a positive integer")
_non_negative_int = _int_type(0, words="an integer >= 0")
_seed = _int_type(0, 2**32, words="an integer >= 0")


def _unit_interval(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value}")
    return value


def _template_sets():
    from .templates import TEMPLATES

    return dict(TEMPLATES)


def _add_hardware_options(group, *, batch_size, batch_help, device_note=""):
    """``--device``, ``--precision`` and ``--batch-size``, shared by the commands."""
    group.add_argument(
        "--device",
        default="auto",
        help="torch device: 'auto' (a GPU if there is one, else the CPU), 'cpu', "
        "'cuda', 'cuda:1', 'mps'" + device_note,
    )
    group.add_argument(
        "--precision",
        choices=["fp32", "fp16", "bf16"],
        default="fp32",
        help="arithmetic of the model; fp16/bf16 are much faster on a GPU",
    )
    group.add_argument(
        "--batch-size",
        type=_positive_int,
        default=batch_size,
        metavar="N",
        help=batch_help,
    )


def _add_runtime_options(parser, *, model_default):
    group = parser.add_argument_group("model and hardware")
    if model_default:
        group.add_argument(
            "--model", default="ViT-B-32", metavar="NAME", help=_MODEL_HELP
        )
        group.add_argument(
            "--pretrained", default="openai", metavar="WEIGHTS", help=_PRETRAINED_HELP
        )
    else:
        group.add_argument(
            "--model",
            default=None,
            metavar="NAME",
            help="open_clip architecture (default: the one the subspaces were "
            "fitted with)",
        )
        group.add_argument(
            "--pretrained",
            default=None,
            metavar="WEIGHTS",
            help="weights, in any form that 'fit --help' lists, e.g. a local "
            "checkpoint file of the weights the subspaces were fitted with "
            "(default: the weights recorded in --subspaces)",
        )
    _add_hardware_options(group, batch_size=256, batch_help="inputs per forward pass")
    if model_default:
        group.add_argument(
            "--seed",
            type=_seed,
            default=0,
            help="seed of the random weights (--pretrained none) and of every "
            "random choice (vocabulary subsample, plotted points)",
        )
    else:
        group.add_argument(
            "--seed",
            type=_seed,
            default=None,
            help="seed of the random weights (--pretrained none; default: the seed "
            "the subspaces were fitted with)",
        )
    group.add_argument(
        "--no-progress", action="store_true", help="do not show progress bars"
    )


def build_parser(prog=None):
    """The argument parser of the ``sklearn-pos`` command.

    Parameters
    ----------
    prog : str, default=None
        Program name shown in the help; ``None`` uses ``"sklearn-pos"``.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog=prog or "sklearn-pos",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    from . import __version__

    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    fit = commands.add_parser(
        "fit",
        help="learn part-of-speech subspaces from the bundled vocabulary",
        formatter_class=_Formatter,
        description=textwrap.dedent("""\
            Encode the bundled WordNet vocabulary with a CLIP model (each word
            alone, no prompt), learn one subspace per part of speech (noun, adj,
            verb, adv; plus 'artist' with --theme artists) and write to
            --output-dir:

              pos_subspaces.npz           the fitted PartOfSpeechComponentAnalysis
                                          and how it was made, as arrays + JSON
                                          (for zero-shot, or
                                          sklearn_pos.load_subspaces in Python)
              fit_parameters.json         the parameters of these results
              class_invariance.csv/.png   the table printed at the end
              subspace_scatter_<cat>.png  each category's words on the first two
                                          directions of the <cat> subspace

            The class-invariance table has one row per learned subspace and one
            column per category of words: the share of the subspace's energy
            (mean squared projection) that each category takes. A subspace that
            captures its own part of speech and ignores the others has most of
            its row on the diagonal.

            A folder holds the results of one set of parameters: a run with
            other parameters (--lam, -k, --model, ...) into a folder holding
            results is refused, so give each its own --output-dir (or
            --overwrite to replace them). The word embeddings are kept in the
            shared cache folder (--cache-dir), so a run with other parameters,
            into any folder, encodes nothing again.

            On a 2-core CPU, encoding the full vocabulary takes about a minute
            with the tiny model and about 20 minutes with ViT-B-32: use a GPU
            (--device auto picks it) or --vocabulary-size for a quicker run.
            """),
        epilog=textwrap.dedent("""\
            examples:
              %(prog)s --model sklearn-pos-tiny --pretrained none \\
                  --vocabulary-size 20000
              %(prog)s --model ViT-B-32 --pretrained openai --output-dir vit-b-32
              %(prog)s --model ViT-B-32 --pretrained openai --lam 0 \\
                  --output-dir vit-b-32-lam0
              %(prog)s --model ViT-B-32-quickgelu --pretrained ~/ckpt/vit-b-32.bin"""),
    )
    method = fit.add_argument_group("method")
    method.add_argument(
        "--n-components",
        "-k",
        type=_positive_int,
        default=None,
        metavar="K",
        help="directions kept per part of speech (default: 64, the paper's value "
        "for this table; a quarter of the embedding width for models narrower "
        "than 256 dimensions, e.g. 16 for sklearn-pos-tiny)",
    )
    method.add_argument(
        "--lam",
        type=_unit_interval,
        default=0.5,
        metavar="LAMBDA",
        help="trade-off lambda in [0, 1]: 0 keeps the part of speech's own main "
        "directions (PCA), larger values also push the other parts of speech out",
    )
    method.add_argument(
        "--geometry",
        choices=["tangent", "euclidean"],
        default="tangent",
        help="'tangent': work in the tangent space of the sphere at the mean "
        "(the paper's method); 'euclidean': on the raw embeddings (its baseline)",
    )
    method.add_argument(
        "--target",
        default="noun",
        metavar="CATEGORY",
        help="subspace that the saved estimator projects onto (used by zero-shot)",
    )
    data = fit.add_argument_group("vocabulary")
    data.add_argument(
        "--vocabulary-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="encode a random subset of N WordNet words with the same share of "
        "each part of speech, instead of all 141,445 (faster; at most 141,445)",
    )
    data.add_argument(
        "--theme",
        choices=list(_THEMES),
        default="none",
        help="add a theme category: 'artists' adds 916 names of painters and "
        "other visual artists as category 'artist' (all of them, whatever N)",
    )
    out = fit.add_argument_group("output")
    out.add_argument(
        "--output-dir",
        "-o",
        default="sklearn_pos_output",
        metavar="DIR",
        help="folder for the results (created if needed); it may not hold results "
        "of other parameters (see --overwrite)",
    )
    out.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results of other parameters found in --output-dir (its "
        "files written by fit; nothing else is removed)",
    )
    _add_cache_option(out)
    out.add_argument("--no-plots", action="store_true", help="do not draw the figures")
    out.add_argument(
        "--max-points-per-class",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="words per category drawn in the scatter plots",
    )
    _add_runtime_options(fit, model_default=True)

    template_sets = _template_sets()
    shot = commands.add_parser(
        "zero-shot",
        help="zero-shot image classification with and without a saved subspace",
        formatter_class=_Formatter,
        description=textwrap.dedent("""\
            Zero-shot classification of a folder of images, before and after
            projecting the image embeddings onto a subspace saved by 'fit'.

            The folder holds one subfolder per class, named after the class
            ('golden_retriever/' is read as "golden retriever"). Each image is
            assigned the class whose prompt embedding is the most similar
            (cosine). The 'projected' row maps the image embeddings onto the
            saved target subspace first (the noun subspace by default: the
            object shown); the text embeddings stay as they are, as in the
            paper's Table 1, which used subspaces fitted with -k 500 on
            ViT-B-32. Top-1 accuracies are printed as a table.
            """),
        epilog=textwrap.dedent("""\
            examples:
              %(prog)s --subspaces out/pos_subspaces.npz --images photos/
              %(prog)s --subspaces vit/pos_subspaces.npz --images photos/ \\
                  --templates openai_imagenet --output results.csv"""),
    )
    shot.add_argument(
        "--subspaces",
        required=True,
        metavar="FILE",
        help=f"the {SUBSPACES_FILE} file written by 'fit' (or any file of "
        "sklearn_pos.save_subspaces)",
    )
    shot.add_argument(
        "--images",
        required=True,
        metavar="DIR",
        help="folder with one subfolder of images per class",
    )
    shot.add_argument(
        "--templates",
        choices=sorted(template_sets),
        default="bare",
        help="prompts built from the class names: "
        + ", ".join(
            f"{name} ({len(t)} template{'s' if len(t) > 1 else ''}, e.g. "
            f"'{t[0].format('cat')}')"
            for name, t in sorted(template_sets.items())
        )
        + "; 'bare' (the class name alone) is the paper's setting",
    )
    shot.add_argument(
        "--target",
        default=None,
        metavar="CATEGORY",
        help="subspace to project onto (default: the one saved, usually noun)",
    )
    shot.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="also write the table to this CSV file",
    )
    shot.add_argument(
        "--predictions",
        default=None,
        metavar="FILE",
        help="write one CSV row per image: its path, its class and the class "
        "predicted with and without the projection",
    )
    shot.add_argument(
        "--num-workers",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="processes decoding images (default: up to 4)",
    )
    _add_cache_option(shot)
    _add_runtime_options(shot, model_default=False)
    _add_embed_parser(commands)

    cache = commands.add_parser(
        "cache",
        help="show the size of an embedding store, or clear it",
        formatter_class=_Formatter,
        description=textwrap.dedent("""\
            Show what an embedding store holds: one row per model and modality,
            with its number of stored embeddings and its size on disk. The store
            is by default the per-user folder shared by every command
            ($SKLEARN_POS_CACHE, else $XDG_CACHE_HOME/sklearn_pos, else
            ~/.cache/sklearn_pos), or any folder given as --cache-dir or
            CLIPEmbedder(memory=...). --clear removes the stored embeddings
            (and nothing else in the folder); they are encoded again when next
            needed.
            """),
        epilog=textwrap.dedent("""\
            examples:
              %(prog)s
              %(prog)s ~/.cache/sklearn_pos --clear"""),
    )
    cache.add_argument(
        "location",
        nargs="?",
        default=None,
        metavar="DIR",
        help="the store's folder (default: the shared cache folder)",
    )
    action = cache.add_mutually_exclusive_group()
    action.add_argument(
        "--info",
        action="store_true",
        help="print the entries and sizes (what the command does by default)",
    )
    action.add_argument(
        "--clear", action="store_true", help="remove every stored embedding"
    )
    return parser


def _add_cache_option(group):
    group.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="embedding store: what it holds is not encoded again, and what is "
        "encoded is added to it (default: $SKLEARN_POS_CACHE, else "
        "$XDG_CACHE_HOME/sklearn_pos, else ~/.cache/sklearn_pos; shared by every "
        "command)",
    )


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _info(message):
    print(message, file=sys.stderr, flush=True)


def _pretrained_value(text):
    """``--pretrained`` text → ``CLIPEmbedder(pretrained=...)``.

    ``none``/``random`` mean random weights; an existing file becomes an
    absolute path (so that the saved subspaces record where it is); a text
    that looks like a path but names no file is an error.
    """
    if text is None or text.lower() in _RANDOM_WEIGHTS:
        return None
    if text.startswith(("hf-hub:", "local-dir:")):
        return text
    expanded = os.path.expanduser(text)
    if os.path.isfile(expanded):
        return os.path.abspath(expanded)
    if "/" in text or os.sep in text or text.lower().endswith(_CHECKPOINT_SUFFIXES):
        raise CommandError(
            f"--pretrained {text}: no such checkpoint file. Give the path of an "
            "existing open_clip checkpoint (.pt/.pth/.bin/.safetensors), an "
            "open_clip tag such as 'openai', or 'none' for random weights."
        )
    return text


def _describe_weights(model, pretrained):
    if pretrained is None:
        return f"{model} with random weights"
    return f"{model} ({pretrained})"


def _weights_message(model, pretrained, exc):
    """One paragraph for weights that cannot be fetched, in command-line terms."""
    reason = f" ({exc.reason})" if exc.reason else ""
    base = model[: -len("-quickgelu")] if model.endswith("-quickgelu") else model
    quick_gelu = (
        f"; OpenAI's weights need --model {base}-quickgelu with a file"
        if pretrained == "openai"
        else ""
    )
    return (
        f"the weights for --model {model} --pretrained {pretrained} could not be "
        f"obtained{reason}. They are downloaded on first use and then cached, and "
        "this machine cannot download them. Give a local copy instead: "
        "--pretrained /path/to/checkpoint.pt (an open_clip checkpoint file of the "
        f"--model architecture{quick_gelu}), or --pretrained "
        "local-dir:/path/to/folder (a folder with "
        "open_clip_config.json and the weights). To get the file, run once on a "
        'machine with internet access: python -c "import open_clip; '
        f"open_clip.create_model('{base}', pretrained='{pretrained}')\", then copy "
        "the downloaded file from ~/.cache/huggingface/hub (or point HF_HOME at a "
        "copy of that cache). For a smoke test without any download use --model "
        "sklearn-pos-tiny --pretrained none (random weights)."
    )


def _embedder(args, model, pretrained, modality, memory=None, num_workers=None):
    """The CLIPEmbedder the options describe; nothing is loaded yet."""
    from .embedding import CLIPEmbedder

    return CLIPEmbedder(
        model,
        pretrained,
        modality=modality,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        memory=memory,
        num_workers=num_workers,
        random_state=args.seed,
        verbose=not args.no_progress,
    )


def _load_embedder(args, model, pretrained, modality, memory=None, num_workers=None):
    """A CLIPEmbedder with its model loaded, or a CommandError."""
    embedder = _embedder(args, model, pretrained, modality, memory, num_workers)
    with _model_errors(model, pretrained):
        embedder.get_model()
    return embedder


def _vocabulary(size, theme, seed):
    """Words and labels to fit on, plus a description for the saved metadata."""
    import numpy as np

    from .datasets import load_themed_vocabulary, load_wordnet_vocabulary

    wordnet = load_wordnet_vocabulary()
    n_wordnet, n_classes = len(wordnet.data), len(wordnet.target_names)
    if size is not None and size > n_wordnet:
        # A subset larger than the vocabulary would quietly be all of it.
        raise CommandError(
            f"--vocabulary-size {size} is larger than the vocabulary "
            f"({n_wordnet:,} WordNet words). Leave the option out to use all of "
            f"them, or give at most {n_wordnet}."
        )
    if size is not None and size < n_wordnet and size < 2 * n_classes:
        # Stricter than the loaders' one word per category: a category with a
        # single word has no spread for its subspace to describe.
        raise CommandError(
            f"--vocabulary-size {size} is too small: use at least "
            f"{2 * n_classes} so that every part of speech keeps some words."
        )
    try:
        if theme == "artists":
            words, labels = load_themed_vocabulary(
                "artists", n_words=size, random_state=seed, return_X_y=True
            )
        else:
            words, labels = load_wordnet_vocabulary(
                n_words=size, random_state=seed, return_X_y=True
            )
    except ValueError as exc:
        raise CommandError(f"--vocabulary-size {size}: {exc}") from None
    categories, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        thin = categories[counts < 2].tolist()
        raise CommandError(
            f"--vocabulary-size {size} is too small: it keeps a single word of "
            f"{thin}, too few for a subspace to describe. Use a larger size, e.g. "
            f"{2 * size}, or leave it out to use all {n_wordnet:,} words."
        )
    meta = {
        "source": "wordnet" + ("+artists" if theme == "artists" else ""),
        "wordnet_size": n_wordnet,
        "vocabulary_size": size,
        "theme": theme,
        "seed": seed,
        "n_words": int(len(words)),
        "counts": {str(c): int(n) for c, n in zip(categories, counts)},
    }
    return words, labels, meta


def _format_table(table, digits=2):
    return table.to_string(float_format=lambda v: f"{v:.{digits}f}")


def _safe_name(label):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(label)) or "category"


def _pyplot_or_none():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _info(
            "matplotlib is not installed, so no figures were drawn "
            '(pip install "sklearn_pos[plot]").'
        )
        return None
    return plt


def _write_plots(out_dir, pos, E, y, table, order, args, caveat):
    plt = _pyplot_or_none()
    if plt is None:
        return []
    from .caveats import stamp_figure
    from .plotting import ClassInvarianceDisplay, SubspaceScatterDisplay

    written = []
    fig, ax = plt.subplots(figsize=(1.2 * len(order) + 2.5, 0.9 * len(order) + 1.5))
    ClassInvarianceDisplay(table).plot(
        ax=ax,
        title=f"Class invariance (k={pos.n_components_}, λ={pos.lam:g}, "
        f"{pos.geometry})",
    )
    stamp_figure(fig, caveat)
    fig.tight_layout()
    path = out_dir / TABLE_PNG
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)
    if pos.n_components_ < 2:
        _info("Scatter plots need --n-components >= 2; skipped.")
        return written
    for subspace in order:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
        SubspaceScatterDisplay.from_estimator(
            pos,
            E,
            y,
            subspace=subspace,
            max_points_per_class=args.max_points_per_class,
            random_state=args.seed,
            ax=ax,
            order=order,
        )
        stamp_figure(fig, caveat)
        fig.tight_layout()
        path = out_dir / SCATTER_PNG.format(_safe_name(subspace))
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------


def _as_typed(text):
    """A library message with its arguments spelled as options on the command line.

    ``pretrained=None`` is ``--pretrained none`` here, ``model_name='X'`` is
    ``--model X``: the user should be able to type what a message suggests.
    """
    text = re.sub(r"\bpretrained=None\b", "--pretrained none", text)
    text = re.sub(r"\bor None for random weights", "or --pretrained none for random "
                  "weights", text)  # fmt: skip
    text = re.sub(r"\bpretrained='([^']*)'", r"--pretrained \1", text)
    text = re.sub(r"\bmodel_name='([^']*)'", r"--model \1", text)
    return re.sub(r"\bthe model_name\b", "the --model", text)


def _check_model_name(model):
    """Reject an unknown ``--model`` at once, without importing torch."""
    from ._clip.weights import architectures_on_disk, model_name_problem

    problem = model_name_problem(model, architectures_on_disk())
    if problem is not None:
        raise CommandError(
            "--model: "
            + problem.replace("model_name=", "model ").replace(
                "pretrained=", "--pretrained "
            )
        )


def _output_dir(path):
    """``--output-dir`` created and writable, with a usable ``cache/`` in it."""
    out_dir = Path(path)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".sklearn-pos-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CommandError(
            f"--output-dir {out_dir} cannot be used: {exc.strerror or exc}. Give a "
            "folder you can write to (it is created if missing)."
        ) from None
    return out_dir


def _cache_dir(option_value):
    """The embedding store's folder (``--cache-dir`` or the shared default)."""
    from .store import CACHE_ENV, get_cache_dir

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


def _default_memory(scheduler):
    """``embed``'s store when ``--memory`` is not given: the shared cache folder.

    Only for work done on this machine ('local', 'local:N'): the workers of a
    remote scheduler would resolve this machine's home folder on theirs.
    """
    if scheduler == "local" or scheduler.startswith("local:"):
        return _cache_dir(None)
    return None


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


def _os_error_message(exc, path, option=None):
    """One line for an OS error on ``path``: what happened and what to do."""
    from ._io import TMP_PREFIX

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
def _writing(path, option=None):
    """Report an OS error while writing ``path`` as one line (a CommandError)."""
    try:
        yield
    except OSError as exc:
        status = (
            EXIT_FAILURE
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            else EXIT_USAGE
        )
        raise CommandError(_os_error_message(exc, path, option), status) from None


def _fit_parameters(args, pretrained):
    """What the results of ``fit`` depend on, as recorded in the output folder.

    Hardware settings (device, batch size) and where things go are left out:
    they do not change the results.
    """
    return {
        "model": args.model,
        "pretrained": pretrained,
        "precision": args.precision,
        "seed": args.seed,
        "vocabulary_size": args.vocabulary_size,
        "theme": args.theme,
        "n_components": args.n_components,
        "lam": args.lam,
        "geometry": args.geometry,
        "target": args.target,
        "max_points_per_class": args.max_points_per_class,
    }


_OPTION_OF = {
    "model": "--model",
    "pretrained": "--pretrained",
    "precision": "--precision",
    "seed": "--seed",
    "vocabulary_size": "--vocabulary-size",
    "theme": "--theme",
    "n_components": "--n-components",
    "lam": "--lam",
    "geometry": "--geometry",
    "target": "--target",
    "max_points_per_class": "--max-points-per-class",
}


def _typed(name, value):
    """An option as it would be typed (``--pretrained none``, no ``-k None``)."""
    option = _OPTION_OF.get(name, name)
    if value is None:
        return f"{option} none" if name == "pretrained" else f"no {option}"
    return f"{option} {value:g}" if isinstance(value, float) else f"{option} {value}"


def _fit_outputs(out_dir):
    """The files of an earlier ``fit`` in ``out_dir`` (those it writes by name)."""
    names = [SUBSPACES_FILE, LEGACY_SUBSPACES_FILE, TABLE_CSV, TABLE_PNG]
    found = [out_dir / n for n in names if (out_dir / n).is_file()]
    found += sorted(p for p in out_dir.glob(SCATTER_PNG.format("*")) if p.is_file())
    return found


def _claim_output_dir(out_dir, params, overwrite):
    """Record ``params`` in ``out_dir``, refusing to mix results of other parameters.

    The record is written before any result, so every result in the folder is
    covered by it, even after an interrupted run; a record without results
    (a run that stopped before writing any) is simply replaced.
    """
    record = out_dir / PARAMETERS_FILE
    existing = _fit_outputs(out_dir)
    recorded = None
    if record.exists():
        try:
            recorded = json.loads(record.read_text(encoding="utf-8"))["parameters"]
            if not isinstance(recorded, dict):
                raise TypeError
        except (OSError, ValueError, KeyError, TypeError):
            recorded = "unreadable"
    if recorded == params:
        return
    if existing and not overwrite:
        redo = (
            "Give another --output-dir to keep both (the embeddings are shared "
            "through the cache folder: nothing is encoded again), or add "
            "--overwrite to replace them."
        )
        if isinstance(recorded, dict):
            differences = "; ".join(
                f"{_typed(k, recorded.get(k))} there, {_typed(k, v)} here"
                for k, v in params.items()
                if recorded.get(k) != v
            )
            raise CommandError(
                f"--output-dir {out_dir} holds the results of a fit with other "
                f"parameters ({differences}). {redo}"
            )
        what = (
            f"its {PARAMETERS_FILE} is damaged"
            if recorded == "unreadable"
            else f"{existing[0].name} there has no record of its parameters, "
            "as written by older versions"
        )
        raise CommandError(
            f"--output-dir {out_dir} holds results of a fit whose parameters are "
            f"unknown ({what}). {redo}"
        )
    for path in existing:
        with _writing(path, "--output-dir"):
            path.unlink()
    text = json.dumps(
        {"command": "sklearn-pos fit", "parameters": params}, indent=1
    )
    from ._io import atomic_write

    with _writing(record, "--output-dir"):
        atomic_write(record, lambda f: f.write(text.encode("utf-8")))


def _check_output_file(option, path):
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


@contextmanager
def _model_errors(model, pretrained):
    """Turn the errors of loading a model into one message for the user."""
    from ._clip import WeightsUnavailableError

    try:
        yield
    except WeightsUnavailableError as exc:
        shown = "none" if pretrained is None else pretrained
        raise CommandError(_weights_message(model, shown, exc), EXIT_WEIGHTS) from None
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        raise CommandError(f"cannot load the model: {_as_typed(str(exc))}") from None


def _run_fit(args):
    import numpy as np

    from . import __version__
    from .caveats import caption, caveat_for, stamp_table
    from .decomposition import PartOfSpeechComponentAnalysis
    from .metrics import class_invariance
    from .plotting import category_order

    # Everything the user gave is checked before a model is loaded (or torch
    # imported), so that a mistake fails in a second, not after the encoding.
    pretrained = _pretrained_value(args.pretrained)
    _check_model_name(args.model)
    out_dir = _output_dir(args.output_dir)
    cache_dir = _cache_dir(args.cache_dir)
    words, y, vocab_meta = _vocabulary(args.vocabulary_size, args.theme, args.seed)
    y = np.asarray(y, dtype=str)  # fixed-width text: labels sort fast
    if args.target not in vocab_meta["counts"]:
        raise CommandError(
            f"--target {args.target!r} is not a category of the vocabulary; choose "
            f"one of {category_order(list(vocab_meta['counts']))}."
        )
    parameters = _fit_parameters(args, pretrained)
    _claim_output_dir(out_dir, parameters, args.overwrite)
    embedder = _embedder(args, args.model, pretrained, "text", memory=cache_dir)
    _info(f"Embedding words with {_describe_weights(args.model, pretrained)} ...")
    with _writing(cache_dir, "--cache-dir"), _model_errors(args.model, pretrained):
        # One word gives the width; served from the store when it holds the
        # word, in which case neither torch nor the model is loaded.
        d = embedder.transform(list(words[:1])).shape[1]
    k = args.n_components
    if k is None:
        k = 64 if d >= 256 else max(2, d // 4)
    if k >= d:
        raise CommandError(
            f"--n-components {k} must be smaller than the embedding width of "
            f"{args.model} ({d}): with all directions kept every subspace is the "
            "whole space."
        )
    counts = ", ".join(
        f"{vocab_meta['counts'][c]:,} {c}"
        for c in category_order(list(vocab_meta["counts"]))
    )
    _info(
        f"Embedding {len(words):,} words ({counts}); stored embeddings are reused "
        f"from {cache_dir} ..."
    )
    start = time.perf_counter()
    with _writing(cache_dir, "--cache-dir"), _model_errors(args.model, pretrained):
        E = embedder.transform(list(words))
    encode_s = time.perf_counter() - start
    pos = PartOfSpeechComponentAnalysis(
        n_components=k, lam=args.lam, geometry=args.geometry, target=args.target
    )
    start = time.perf_counter()
    pos.fit(E, y)
    fit_s = time.perf_counter() - start
    _info(
        f"Embeddings ready in {encode_s:.1f} s; fitted {len(pos.classes_)} "
        f"subspaces of {k} directions (lambda={args.lam:g}, {args.geometry}) "
        f"in {fit_s:.1f} s."
    )

    order = category_order(pos.classes_)
    caveat = caveat_for(embedder)
    table = stamp_table(class_invariance(pos, E, y, labels=order), caveat)

    # How the subspaces were made, kept with them (JSON, as the file's own
    # metadata): zero-shot reads the model and weights from here.
    metadata = {
        "model_name": args.model,
        "pretrained": pretrained,
        "random_state": args.seed,
        "precision": args.precision,
        "embedding_dim": int(d),
        "vocabulary": vocab_meta,
        "parameters": parameters,
        "class_invariance": {
            "index": [str(i) for i in table.index],
            "columns": [str(c) for c in table.columns],
            # JSON has no NaN: an undefined share is written as null
            "data": [
                [float(v) if np.isfinite(v) else None for v in row]
                for row in table.to_numpy()
            ],
            "caveat": table.attrs.get("caveat"),
        },
        "sklearn_pos_version": __version__,
    }
    from .persistence import save_subspaces

    subspaces_path = out_dir / SUBSPACES_FILE
    with _writing(subspaces_path, "--output-dir"):
        save_subspaces(pos, subspaces_path, metadata=metadata)
    with _writing(out_dir / TABLE_CSV, "--output-dir"):
        table.to_csv(out_dir / TABLE_CSV, float_format="%.6f")
    with _writing(out_dir, "--output-dir"):
        figures = (
            []
            if args.no_plots
            else _write_plots(out_dir, pos, E, y, table, order, args, caveat)
        )

    print(
        caption(
            "Class invariance: share of each subspace's energy (rows) taken by each "
            "category of words (columns)",
            caveat,
        )
    )
    print(
        f"{_describe_weights(args.model, pretrained)}, {len(words):,} words, "
        f"k={k}, lambda={args.lam:g}, {args.geometry}"
    )
    print()
    print(_format_table(table))
    print()
    diag = float(np.mean(np.diag(table.to_numpy())))
    print(
        f"mean diagonal: {diag:.2f} (1/{len(order)} = {1 / len(order):.2f} is chance)"
    )
    if caveat is not None:
        print(f"{caveat}: these numbers only show that the pipeline runs.")
    print(f"saved: {subspaces_path}")
    print(f"table: {out_dir / TABLE_CSV}")
    for path in figures:
        print(f"figure: {path}")
    return EXIT_OK


def _image_folder(root):
    """Image paths and class names from ``root/<class>/...``."""
    from .datasets import IMAGE_SUFFIXES, load_image_folder

    try:
        folder = load_image_folder(root)
    except (OSError, ValueError) as exc:
        raise CommandError(
            f"--images {root} must hold at least two subfolders of images, one per "
            f"class: {exc}"
        ) from None
    if len(folder.target_names) < 2:
        raise CommandError(
            f"--images {root} must hold at least two subfolders of images, one per "
            f"class (found {len(folder.target_names)} with images; image files end "
            f"in {', '.join(IMAGE_SUFFIXES)})."
        )
    return folder.paths, list(folder.target)


def _load_bundle(path):
    """The fitted estimator and the metadata of a ``--subspaces`` file."""
    from .persistence import load_subspaces

    path = Path(path)
    if not path.is_file():
        raise CommandError(
            f"--subspaces {path}: no such file. Create it with 'sklearn-pos fit' "
            f"(it is {SUBSPACES_FILE} in the --output-dir)."
        )
    try:
        fitted, metadata = load_subspaces(path, return_metadata=True)
    except OSError as exc:
        raise CommandError(
            f"--subspaces {path} cannot be read: {exc.strerror or exc}."
        ) from None
    except ValueError as exc:
        raise CommandError(f"--subspaces: {exc}") from None
    return fitted, metadata


def _projection_onto(fitted, target):
    """A transformer that projects onto ``target``'s subspace of ``fitted``.

    Every category's subspace is stored by the fit, so another target needs
    no refit: ``fitted.project`` reaches it.
    """
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(
        fitted.project, kw_args={"subspace": target, "output": "projection"}
    )


def _zero_shot_predictions(text_embedder, class_names, templates, images, pos):
    """Predictions of CLIP's zero-shot classifier, without and with ``pos``.

    The text prototypes are computed once and shared; ``pos`` (fitted on the
    vocabulary) maps only the image embeddings, as in the paper's Table 1.
    """
    from sklearn.frozen import FrozenEstimator

    from .zero_shot import ZeroShotClassifier, make_text_prototypes

    prototypes = make_text_prototypes(class_names, text_embedder, templates)
    baseline = ZeroShotClassifier(class_names, prototypes=prototypes).fit(images)
    projected = ZeroShotClassifier(
        class_names, prototypes=prototypes, image_transform=FrozenEstimator(pos)
    ).fit(images)
    return baseline.predict(images), projected.predict(images)


def _run_zero_shot(args):
    import numpy as np
    import pandas as pd

    from .caveats import caption, caveat_for, stamp_table
    from .plotting import category_order

    fitted, bundle = _load_bundle(args.subspaces)
    model = args.model or bundle.get("model_name")
    pretrained = (
        _pretrained_value(args.pretrained)
        if args.pretrained is not None
        else bundle.get("pretrained")
    )
    if args.seed is None:
        args.seed = bundle.get("random_state", 0)
    target = args.target if args.target is not None else fitted.target_
    if target not in fitted.classes_:
        raise CommandError(
            f"--target {target!r} is not a saved subspace; choose one of "
            f"{category_order(fitted.classes_)}."
        )
    pos = _projection_onto(fitted, target)
    if pretrained is None or not str(pretrained).startswith(("hf-hub:", "local-dir:")):
        _check_model_name(model)
    if model is None:
        raise CommandError(
            f"--subspaces {args.subspaces} does not record the model the subspaces "
            "were fitted with: give it with --model and --pretrained."
        )
    _check_output_file("--output", args.output)
    _check_output_file("--predictions", args.predictions)
    cache_dir = _cache_dir(args.cache_dir)
    paths, names = _image_folder(args.images)
    class_names = sorted(set(names))
    y = np.asarray(names)
    templates = _template_sets()[args.templates]

    _info(f"Loading {_describe_weights(model, pretrained)} ...")
    text_embedder = _load_embedder(args, model, pretrained, "text", memory=cache_dir)
    image_embedder = _load_embedder(
        args, model, pretrained, "image", memory=cache_dir, num_workers=args.num_workers
    )
    d = text_embedder.get_model().embed_dim
    if d != fitted.n_features_in_:
        raise CommandError(
            f"the subspaces were fitted on {fitted.n_features_in_}-dimensional "
            f"embeddings, but {model} gives {d} dimensions: use the model they were "
            f"fitted with ({bundle.get('model_name')})."
        )
    _info(f"Encoding {len(paths):,} images of {len(class_names)} classes ...")
    from .embedding import ImageReadError

    with _writing(cache_dir, "--cache-dir"):
        try:
            images = image_embedder.transform(paths)
        except ImageReadError as exc:
            raise CommandError(f"cannot read an image: {exc}") from None
        baseline, projected = _zero_shot_predictions(
            text_embedder, class_names, templates, images, pos
        )
    method = f"projected onto the {target} subspace ({fitted.geometry})"
    table = pd.DataFrame(
        {
            "top-1 accuracy (%)": [
                100 * float(np.mean(baseline == y)),
                100 * float(np.mean(projected == y)),
            ],
            "images": [len(y), len(y)],
        },
        index=pd.Index(["CLIP", method], name="method"),
    )
    caveat = caveat_for(image_embedder)
    stamp_table(table, caveat)
    print(
        caption(
            f"Zero-shot classification of {len(y):,} images in {len(class_names)} "
            f"classes ({args.images}), {len(templates)} template(s) "
            f"'{args.templates}'",
            caveat,
        )
    )
    print(
        f"{_describe_weights(model, pretrained)}; subspace: k={fitted.n_components_}, "
        f"lambda={fitted.lam:g}, {fitted.geometry}"
    )
    print()
    print(table.to_string(float_format=lambda v: f"{v:.1f}"))
    if caveat is not None:
        print(f"\n{caveat}: these numbers only show that the pipeline runs.")
    if args.output:
        with _writing(args.output, "--output"):
            table.to_csv(args.output)
        print(f"table: {args.output}")
    if args.predictions:
        with _writing(args.predictions, "--predictions"):
            pd.DataFrame(
                {"image": paths, "class": y, "CLIP": baseline, "projected": projected}
            ).to_csv(args.predictions, index=False)
        print(f"predictions: {args.predictions}")
    return EXIT_OK


def _run_cache(args):
    from .store import STORE_DIRNAME, clear_store, store_info

    if args.location is None:
        location = _cache_dir(None)
    else:
        location = Path(args.location).expanduser()
    if not location.is_dir():
        raise CommandError(
            f"{location} is not a folder. Give the folder of an embedding store: "
            "the shared cache folder (the default), a --cache-dir, or a "
            "CLIPEmbedder memory= folder."
        )
    if not (location / STORE_DIRNAME).is_dir():
        print(f"{location}: no stored embeddings.")
        return EXIT_OK
    try:
        if args.clear:
            n = clear_store(location)
            print(f"{location}: removed {n:,} stored embeddings.")
            return EXIT_OK
        info = store_info(location)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    total = int(info["size_bytes"].sum())
    print(
        f"{location}: {int(info['n_entries'].sum()):,} stored embeddings, "
        f"{total / 2**20:.1f} MiB, {len(info)} model(s)"
    )
    if len(info):
        shown = info.assign(size_MiB=info["size_bytes"] / 2**20).drop(
            columns="size_bytes"
        )
        shown["namespace"] = shown["namespace"].str[:12]
        print()
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    return EXIT_OK


# ---------------------------------------------------------------------------
# embed: a whole collection to Parquet (sklearn_pos.jobs does the work)
# ---------------------------------------------------------------------------


def _add_embed_parser(commands):
    embed = commands.add_parser(
        "embed",
        help="embed a folder of images or a file of texts to Parquet, resumably",
        formatter_class=_Formatter,
        description=textwrap.dedent("""\
            Embed every item of SOURCE and write the embeddings to Parquet files
            under --output, one per partition of --partition-size rows, with the
            columns row (position in SOURCE), source (path or text), embedding
            (fixed-size list of floats) and error (why an item has none).
            pandas.read_parquet(DIR) reads them as one table;
            sklearn_pos.read_embeddings(DIR) gives (X, meta).

            SOURCE is a folder of images (searched recursively), a text file
            with one item per line, or a Parquet/CSV file whose --column holds
            the texts or image paths.

            Rerunning the same command skips the partitions already written, so
            an interrupted run (even killed) resumes where it stopped. The
            folder's _manifest.json records the model, the weights' digest and
            the settings: a rerun with others is refused. It also records the
            SHA-256 of each partition: a partition damaged since is embedded
            again by a rerun, and read_embeddings refuses it. One job writes a
            folder at a time (DIR/_job.lock). Unreadable items get an error and
            no embedding (--on-error raise stops at the first).
            """),
        epilog=textwrap.dedent("""\
            examples:
              %(prog)s photos/ --output photos_emb/ --model ViT-B-32 --pretrained openai
              %(prog)s captions.parquet --column caption --modality text \\
                  --output cap_emb/ --scheduler local:4
              %(prog)s urls.txt --modality image --output emb/ \\
                  --scheduler tcp://scheduler:8786"""),
    )
    embed.add_argument(
        "source",
        metavar="SOURCE",
        help="folder of images, text file (one item per line), or Parquet/CSV file",
    )
    embed.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="DIR",
        help="folder of the Parquet files",
    )
    embed.add_argument(
        "--modality",
        choices=["text", "image"],
        default=None,
        help="what the items are (default: image for a folder; required otherwise)",
    )
    embed.add_argument(
        "--column", default=None, metavar="NAME", help="column of a Parquet/CSV SOURCE"
    )
    group = embed.add_argument_group("model and hardware")
    group.add_argument("--model", default="ViT-B-32", metavar="NAME", help=_MODEL_HELP)
    group.add_argument(
        "--pretrained", default="openai", metavar="WEIGHTS", help=_PRETRAINED_HELP
    )
    group.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seed of the random weights (--pretrained none)",
    )
    _add_hardware_options(
        group,
        batch_size=None,
        batch_help="inputs per forward pass (default: 128; 32 for images on the CPU)",
        device_note="; with --scheduler local:N and several GPUs, 'auto' gives "
        "worker i GPU i",
    )
    group.add_argument(
        "--num-workers",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="processes decoding images per job process or worker (default: up to 4)",
    )
    job = embed.add_argument_group("job")
    job.add_argument(
        "--partition-size",
        type=_positive_int,
        default=10_000,
        metavar="N",
        help="rows per Parquet file and per task",
    )
    job.add_argument(
        "--dtype",
        choices=["float32", "float16"],
        default="float32",
        help="type of the stored embeddings",
    )
    job.add_argument(
        "--scheduler",
        default="local",
        metavar="WHERE",
        help="'local' (this process), 'local:N' (a Dask LocalCluster of N worker "
        "processes) or the address of a Dask scheduler, e.g. tcp://host:8786 "
        "(workers must see --output on a shared disk; one that does not answer "
        "within DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT, default 30s, is an "
        "error)",
    )
    job.add_argument(
        "--on-error",
        choices=["skip", "raise"],
        default="skip",
        help="an unreadable item: record its error and go on, or stop naming it",
    )
    job.add_argument(
        "--memory",
        default=None,
        metavar="DIR",
        help="embedding store: items found there are not encoded again "
        "(default: the shared cache folder, see 'cache', for a local scheduler; "
        "none for a remote one, whose workers cannot reach this machine's folder)",
    )
    job.add_argument("--no-progress", action="store_true", help="no progress bar")
    return embed


def _run_embed(args):
    from .embedding import WeightsUnavailableError
    from .jobs import EmbedItemError, OutputLockedError, embed_collection

    pretrained = _pretrained_value(args.pretrained)
    _info(
        f"Embedding {args.source} with {_describe_weights(args.model, pretrained)} ..."
    )
    try:
        summary = embed_collection(
            args.source,
            args.output,
            modality=args.modality,
            column=args.column,
            model_name=args.model,
            pretrained=pretrained,
            device=args.device,
            precision=args.precision,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            memory=args.memory or _default_memory(args.scheduler),
            random_state=args.seed,
            partition_size=args.partition_size,
            dtype=args.dtype,
            scheduler=args.scheduler,
            on_error=args.on_error,
            progress=not args.no_progress,
        )
    except WeightsUnavailableError as exc:
        shown = "none" if pretrained is None else pretrained
        raise CommandError(
            _weights_message(args.model, shown, exc), EXIT_WEIGHTS
        ) from None
    except (EmbedItemError, OutputLockedError) as exc:
        raise CommandError(str(exc)) from None
    except (ValueError, TypeError, ImportError, OSError) as exc:
        raise CommandError(str(exc)) from None
    s = summary
    print(
        f"{s.n_rows:,} rows in {s.output} ({s.n_partitions} partitions: "
        f"{s.n_written} written, {s.n_skipped} already complete), on {s.executor}"
    )
    if s.damaged:
        print(
            f"{len(s.damaged)} damaged partition{'s' if len(s.damaged) > 1 else ''}"
            " embedded again: "
            + ", ".join(s.damaged[:5])
            + (", ..." if len(s.damaged) > 5 else "")
        )
    if s.n_errors:
        print(f"{s.n_errors:,} rows could not be embedded (see the 'error' column):")
        for row, source, error in s.errors[:5]:
            print(f"  row {row} {source!r}: {error}")
    print(
        f"rows: {s.n_rows:,}  errors: {s.n_errors:,}  seconds: {s.seconds:.1f}  "
        f"rows/s: {s.rows_per_s:,.1f}"
    )
    return EXIT_OK


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------


def _prog_name():
    argv0 = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if argv0 in ("__main__.py", "-m", "-c", ""):
        return "python -m sklearn_pos"
    return "sklearn-pos"


def main(argv=None):
    """Run the ``sklearn-pos`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 on an unexpected error or an output the disk refused,
        2 on invalid arguments or input, 3 when the model weights cannot be
        obtained. Errors are printed as one line on stderr, without a
        traceback.

    Examples
    --------
    >>> from sklearn_pos.cli import main
    >>> main(["fit", "--model", "sklearn-pos-tiny", "--pretrained", "none",
    ...       "--vocabulary-size", "400", "--no-plots", "--no-progress",
    ...       "--output-dir", "out"])
    Class invariance: share of each subspace's energy (rows) taken by each
    category of words (columns) [random weights — not a result]
    sklearn-pos-tiny with random weights, 400 words, k=16, lambda=0.5, tangent
    <BLANKLINE>
    data      noun  adj  verb  adv
    subspace
    noun      ...
    mean diagonal: ... (1/4 = 0.25 is chance)
    random weights — not a result: these numbers only show that the pipeline runs.
    saved: out/pos_subspaces.npz
    table: out/class_invariance.csv
    0
    """
    parser = build_parser(_prog_name())
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    run = {
        "fit": _run_fit,
        "zero-shot": _run_zero_shot,
        "cache": _run_cache,
        "embed": _run_embed,
    }[args.command]
    try:
        return run(args)
    except CommandError as exc:
        # One paragraph, left to the terminal to wrap, so that the commands it
        # quotes stay copyable.
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # An OS error no command foresaw: still one line, naming the path.
        message = _os_error_message(exc, exc.filename or "a file")
        print(f"{parser.prog} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_FAILURE
