#!/usr/bin/env python
"""Build the WordNet part-of-speech vocabulary bundled with ``sklearn_pos``.

The output is a gzip-compressed CSV file with the header ``word,category`` and
one row per WordNet lemma that belongs to exactly one part of speech
(``noun``, ``adj``, ``verb`` or ``adv``). Underscores are replaced by spaces
before uniqueness is decided, rows are ordered by category (noun, adj, verb,
adv) and then alphabetically (case-insensitive, ties broken by the exact
string), and the gzip header carries no file name and a zero time stamp, so
running the script twice on the same source gives byte-identical files.

Examples
--------
Regenerate the bundled file from Debian's ``wordnet-base`` package::

    python scripts/make_wordnet_vocabulary.py --wordnet-dir /usr/share/wordnet

The same from nltk's copy of WordNet 3.0 (folder or zip archive)::

    python scripts/make_wordnet_vocabulary.py \\
        --wordnet-dir ~/nltk_data/corpora/wordnet.zip --output /tmp/wn.csv.gz

From the ``spacy-lookups-data`` package (single-word, lower-case lemmas only)::

    python scripts/make_wordnet_vocabulary.py --source spacy --output /tmp/wn.csv.gz
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

CATEGORIES = ("noun", "adj", "verb", "adv")

DEFAULT_WORDNET_DIR = "/usr/share/wordnet"
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "sklearn_pos"
    / "datasets"
    / "data"
    / "wordnet_pos.csv.gz"
)

_WORDNET_DATA_FILES = {cat: f"data.{cat}" for cat in CATEGORIES}
_SPACY_MEMBER = "spacy_lookups_data/data/en_lemma_index.json.gz"
_SPACY_FILENAME = "en_lemma_index.json.gz"
# Adjective lemmas in data.adj may carry a syntactic marker: (a), (p) or (ip).
_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")
_VERSION = re.compile(r"WordNet (\d+\.\d+) Copyright")


class SourceError(Exception):
    """The requested source cannot be read."""


# --------------------------------------------------------------------------
# Readers: each returns ({category: set of raw lemma strings}, description)
# --------------------------------------------------------------------------


def _parse_wordnet_data_file(lines):
    """Lemma names and the WordNet version from the lines of one data.* file."""
    lemmas = set()
    version = None
    for line in lines:
        if line.startswith("  "):  # licence header
            if version is None:
                match = _VERSION.search(line)
                if match:
                    version = match.group(1)
            continue
        fields = line.split(" ")
        n_words = int(fields[3], 16)
        for i in range(n_words):
            lemmas.add(_ADJ_MARKER.sub("", fields[4 + 2 * i]))
    return lemmas, version


def _wordnet_members_from_zip(archive):
    """Map category -> member name of the data.* files inside a zip archive."""
    names = {}
    for name in archive.namelist():
        base = name.rsplit("/", 1)[-1]
        for cat, filename in _WORDNET_DATA_FILES.items():
            if base == filename:
                names.setdefault(cat, name)
    return names


def read_wordnet(path):
    """Read the lemma names of a WordNet dict directory or zip archive.

    ``path`` is a directory holding ``data.noun``, ``data.adj``, ``data.verb``
    and ``data.adv`` (Debian's ``/usr/share/wordnet``, a WordNet ``dict/``
    folder, or nltk's ``corpora/wordnet`` folder), a parent directory with a
    ``wordnet/`` or ``dict/`` sub-folder holding them, or a zip archive that
    contains them (nltk's ``corpora/wordnet.zip``).

    Lemma names keep WordNet's case (``"Monet"``, ``"mark"``) and lose the
    adjective markers ``(a)``, ``(p)`` and ``(ip)``.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise SourceError(f"WordNet source not found: {path}")

    texts = {}
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise SourceError(
                f"{path} is neither a directory nor a zip archive holding "
                "WordNet's data.noun, data.adj, data.verb and data.adv files"
            )
        with zipfile.ZipFile(path) as archive:
            members = _wordnet_members_from_zip(archive)
            missing = [_WORDNET_DATA_FILES[c] for c in CATEGORIES if c not in members]
            if missing:
                raise SourceError(
                    f"zip archive {path} lacks WordNet file(s): {', '.join(missing)}"
                )
            for cat in CATEGORIES:
                texts[cat] = archive.read(members[cat]).decode("utf-8")
    else:
        candidates = [path, path / "wordnet", path / "dict"]
        folder = next(
            (
                c
                for c in candidates
                if all((c / f).is_file() for f in _WORDNET_DATA_FILES.values())
            ),
            None,
        )
        if folder is None:
            raise SourceError(
                f"no WordNet data files in {path}: expected "
                + ", ".join(_WORDNET_DATA_FILES.values())
                + " (a WordNet dict directory such as /usr/share/wordnet "
                "or nltk_data/corpora/wordnet)"
            )
        for cat in CATEGORIES:
            texts[cat] = (folder / _WORDNET_DATA_FILES[cat]).read_text("utf-8")

    lemmas = {}
    versions = set()
    for cat in CATEGORIES:
        try:
            lemmas[cat], version = _parse_wordnet_data_file(texts[cat].splitlines())
        except (IndexError, ValueError) as exc:
            raise SourceError(
                f"{_WORDNET_DATA_FILES[cat]} in {path} is not a WordNet data file"
            ) from exc
        if version:
            versions.add(version)
    version = ", ".join(sorted(versions)) or "unknown"
    return lemmas, f"WordNet {version} data files in {path}"


def _default_spacy_path():
    try:
        from importlib.resources import files

        import spacy_lookups_data  # noqa: F401
    except ImportError as exc:
        raise SourceError(
            "the spacy-lookups-data package is not installed; install it "
            "(pip install spacy-lookups-data) or pass --spacy-file"
        ) from exc
    return Path(str(files("spacy_lookups_data").joinpath("data", _SPACY_FILENAME)))


def read_spacy(path=None):
    """Read WordNet 3.0's lemma index as shipped by ``spacy-lookups-data``.

    ``path`` is the ``en_lemma_index.json.gz`` file, a folder holding it, or
    the package's wheel; ``None`` uses the installed package.
    """
    path = _default_spacy_path() if path is None else Path(path).expanduser()
    if not path.exists():
        raise SourceError(f"spacy-lookups-data source not found: {path}")
    if path.is_dir():
        for candidate in (path / _SPACY_FILENAME, path / "data" / _SPACY_FILENAME):
            if candidate.is_file():
                path = candidate
                break
        else:
            raise SourceError(f"no {_SPACY_FILENAME} in {path}")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                raw = archive.read(_SPACY_MEMBER)
        else:
            raw = path.read_bytes()
        index = json.loads(gzip.decompress(raw).decode("utf-8"))
        lemmas = {cat: set(index[cat]) for cat in CATEGORIES}
    except (KeyError, OSError, ValueError, TypeError) as exc:
        raise SourceError(
            f"{path} is not spacy-lookups-data's {_SPACY_FILENAME} "
            f"(a JSON object with keys {', '.join(CATEGORIES)})"
        ) from exc
    return lemmas, f"spacy-lookups-data lemma index {path}"


# --------------------------------------------------------------------------
# Vocabulary construction and output
# --------------------------------------------------------------------------


def single_category_words(lemmas):
    """Rows ``(word, category)`` for words found under exactly one category.

    Underscores become spaces first; uniqueness is decided on the resulting
    strings, case-sensitively.
    """
    words = {cat: {w.replace("_", " ") for w in lemmas[cat]} for cat in CATEGORIES}
    seen = Counter(w for cat in CATEGORIES for w in words[cat])
    rows = []
    for cat in CATEGORIES:
        unique = (w for w in words[cat] if seen[w] == 1)
        rows.extend((w, cat) for w in sorted(unique, key=lambda w: (w.casefold(), w)))
    return rows


def to_csv_gz(rows):
    """Serialise rows as deterministic gzip-compressed CSV bytes."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("word", "category"))
    writer.writerows(rows)
    buffer = io.BytesIO()
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0
    ) as fh:
        fh.write(text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def build_parser():
    parser = argparse.ArgumentParser(
        description=(
            "Regenerate sklearn_pos/datasets/data/wordnet_pos.csv.gz: the WordNet "
            "lemmas that belong to exactly one part of speech, labelled "
            "noun/adj/verb/adv. Output is byte-identical for the same source."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "sources:\n"
            "  wordnet  WordNet's data.noun/adj/verb/adv files (case preserved,\n"
            "           multi-word lemmas included). With WordNet 3.0 this gives\n"
            "           the published counts 112219/18021/7295/3910.\n"
            "  spacy    en_lemma_index.json.gz from spacy-lookups-data. It holds\n"
            "           WordNet 3.0's lemmas lower-cased and single-word only\n"
            "           (no 'ice cream', no 'New York'), so every count is lower\n"
            "           (about 50656/17438/4486/3244)."
        ),
    )
    parser.add_argument(
        "--source",
        choices=("wordnet", "spacy"),
        default="wordnet",
        help="where the lemmas come from (default: wordnet)",
    )
    parser.add_argument(
        "--wordnet-dir",
        default=DEFAULT_WORDNET_DIR,
        help=(
            "WordNet dict directory or nltk's corpora/wordnet folder or "
            "wordnet.zip, for --source wordnet (default: %(default)s)"
        ),
    )
    parser.add_argument(
        "--spacy-file",
        default=None,
        help=(
            "en_lemma_index.json.gz, a folder holding it, or the "
            "spacy_lookups_data wheel, for --source spacy (default: the "
            "installed spacy-lookups-data package)"
        ),
    )
    parser.add_argument(
        "--output",
        default=str(DEFAULT_OUTPUT),
        help="file to write (default: the file bundled with the package)",
    )
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.source == "wordnet":
            lemmas, description = read_wordnet(args.wordnet_dir)
        else:
            lemmas, description = read_spacy(args.spacy_file)
    except SourceError as exc:
        parser.error(str(exc))

    rows = single_category_words(lemmas)
    payload = to_csv_gz(rows)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(payload)

    counts = Counter(cat for _, cat in rows)
    print(f"source: {description}")
    for cat in CATEGORIES:
        print(f"{cat:>6}: {counts[cat]:7d}")
    print(f" total: {len(rows):7d}")
    print(f"wrote {output} ({len(payload)} bytes, sha256 "
          f"{hashlib.sha256(payload).hexdigest()[:16]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
