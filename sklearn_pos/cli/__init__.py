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

The commands parse and print; the work is done by public functions of the
library, named in each command's module (:mod:`.fit`, :mod:`.zero_shot`,
:mod:`.embed`, :mod:`.cache`); :mod:`.parser` holds the options.
:func:`main` is the entry point; it returns the exit status instead of
exiting, so it can be called from Python too.
"""

import os
import sys

from . import cache, embed, fit, zero_shot
from ._common import EXIT_FAILURE, EXIT_USAGE, CommandError, os_error_message
from .parser import build_parser

__all__ = ["build_parser", "main"]

_COMMANDS = {
    "fit": fit.run,
    "zero-shot": zero_shot.run,
    "cache": cache.run,
    "embed": embed.run,
}


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
    try:
        return _COMMANDS[args.command](args)
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
        message = os_error_message(exc, exc.filename or "a file")
        print(f"{parser.prog} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_FAILURE
