"""The argument parser of the ``sklearn-pos`` command: options, help, types.

Parsing only: :mod:`.fit`, :mod:`.zero_shot`, :mod:`.embed` and :mod:`.cache`
run the commands.
"""

import argparse
import textwrap

from ._common import SUBSPACES_FILE

__all__ = ["build_parser"]

_THEMES = ("none", "artists")

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
    "very small model bundled for smoke tests (64 dimensions); with --backend "
    "transformers, a folder saved with save_pretrained or a hub id"
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
    from ..templates import TEMPLATES

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


def _add_backend_option(group, default="open_clip"):
    """``--backend``: the library that runs the model."""
    group.add_argument(
        "--backend",
        choices=["open_clip", "transformers"],
        default=default,
        help="library running the model: open_clip, or Hugging Face transformers "
        "(a CLIP, SigLIP or SigLIP 2 folder or hub id as --model, whose weights "
        "it names; --pretrained is then left out)"
        + ("" if default else " (default: the backend the subspaces were fitted with)"),
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
    _add_backend_option(group, "open_clip" if model_default else None)
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
    from .._version import __version__

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

            On a 2-core CPU, encoding the full vocabulary takes about 30 s
            with the tiny model and about 20 minutes with ViT-B-32
            (measured: see the command-line page of the documentation): use a GPU
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
    _add_backend_option(group)
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
