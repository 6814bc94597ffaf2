"""What a job embeds: the items of its SOURCE, in order.

A SOURCE is a folder of images (searched recursively), a text file of one
item per line, a Parquet or CSV file with a named column, or, from Python, a
sequence of strings. Whatever its kind, it becomes one list of strings (texts,
or image paths as written), whose positions are the ``row`` numbers of the
output.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..datasets import IMAGE_SUFFIXES, list_images

_TABLE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_TABLE_SUFFIXES[".tsv"] = "tsv"


class SourceError(ValueError):
    """A SOURCE that cannot be read as a list of items; the message says why."""


@dataclass
class Source:
    """The items of a SOURCE and how they were found."""

    items: list  # str, or None for a missing value (reported as a row error)
    kind: str  # "folder", "lines", "parquet", "csv", "tsv" or "sequence"
    location: str | None  # absolute path of the SOURCE, None for a sequence
    column: str | None
    modality: str

    def fingerprint(self):
        """Digest of the items, in order: equal fingerprints, equal rows."""
        h = hashlib.blake2b(digest_size=16)
        for item in self.items:
            # surrogatepass: names of non-UTF-8 bytes stay distinct
            raw = None if item is None else item.encode("utf-8", "surrogatepass")
            h.update(b"\1" if raw is None else b"\0" + raw)
        return h.hexdigest()


def _read_table(path, kind, column):
    import pandas as pd

    sep = "\t" if kind == "tsv" else ","
    if kind == "parquet":
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    else:
        names = list(pd.read_csv(path, nrows=0, sep=sep).columns)
    if column is None or column not in names:
        said = "" if column is None else f" has no column {column!r}; it"
        raise SourceError(
            f"{path}{said} is a table with the columns {names}: name the one "
            "holding the texts or image paths with --column (column=)."
        )
    if kind == "parquet":
        values = pd.read_parquet(path, columns=[column])[column]
    else:
        # Only empty cells are missing: a caption "NA" is a text.
        values = pd.read_csv(
            path,
            usecols=[column],
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            sep=sep,
        )[column]
    return [_as_item(v) for v in values.tolist()]


def _as_item(value):
    """A table cell as an item: a string, or None for a missing value."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    import pandas as pd

    try:
        if pd.isna(value):  # NaN, pd.NA, NaT
            return None
    except (TypeError, ValueError):  # an array-like cell
        pass
    return str(value)


def _lines(text):
    """The lines of ``text`` as ``wc -l`` counts them: split on ``\\n`` only.

    A ``\\r`` before the ``\\n`` (Windows line ends) is not part of the line; a
    final line without a newline is a line. ``str.splitlines`` is not used: it
    also splits on form feeds, vertical tabs, U+0085, U+2028 and others, which
    a text may hold, and row ``i`` must be line ``i + 1`` of the file.
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline ending the last line starts no new one
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_source(source, *, modality=None, column=None):
    """The items of ``source``, with their kind and location.

    Parameters
    ----------
    source : str, path-like or sequence of str
        A folder of images, a text file (one item per line), a Parquet or CSV
        (TSV) file with ``column``, or the items themselves.
    modality : {"text", "image"} or None
        ``None`` means ``"image"`` for a folder; other sources must say.
    column : str or None
        The column of a Parquet or CSV file holding the items.

    Returns
    -------
    source : Source
    """
    if modality not in (None, "text", "image"):
        raise SourceError(f"modality must be 'text' or 'image', got {modality!r}.")
    if not isinstance(source, (str, os.PathLike)):
        if not hasattr(source, "__len__") or isinstance(source, (bytes, dict)):
            raise SourceError(
                "source must be a folder, a file, or a sequence of texts or image "
                f"paths, got {type(source).__name__}."
            )
        if modality is None:
            raise SourceError(
                "Say what the items are: modality='text' or modality='image'."
            )
        if column is not None:
            raise SourceError("column= is for Parquet and CSV files only.")
        items = [_as_item(v) for v in list(source)]
        if not items:
            raise SourceError("source holds no items.")
        return Source(items, "sequence", None, None, modality)

    path = Path(os.path.expanduser(os.fspath(source)))
    if path.is_dir():
        if modality == "text":
            raise SourceError(
                f"{source} is a folder, which is read as images: embed it with an "
                "embedder of modality='image' (--modality image); for texts give "
                "a text file (one per line) or a Parquet/CSV file with --column."
            )
        if column is not None:
            raise SourceError(
                f"{source} is a folder of images: --column is for Parquet and CSV "
                "files only."
            )
        items = list_images(os.path.expanduser(os.fspath(source)))
        if not items:
            raise SourceError(
                f"{source} holds no image file (searched recursively for names "
                f"ending in {', '.join(IMAGE_SUFFIXES)}, in any case)."
            )
        return Source(items, "folder", str(path.resolve()), None, "image")
    if not path.is_file():
        raise SourceError(
            f"{source}: no such file or folder. Give a folder of images, a text "
            "file with one item per line, or a Parquet/CSV file with --column."
        )
    if modality is None:
        raise SourceError(
            f"Say what the items of {source} are: --modality text or --modality "
            "image (modality=)."
        )
    kind = _TABLE_SUFFIXES.get(path.suffix.lower(), "lines")
    if kind == "lines":
        if column is not None:
            raise SourceError(
                f"{source} is read as a text file, one item per line: --column is "
                "for Parquet (.parquet) and CSV (.csv, .tsv) files only."
            )
        try:
            items = _lines(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{source} is not UTF-8 text ({exc}); a text file must hold one "
                "item per line. Parquet and CSV files need the suffix .parquet "
                "or .csv."
            ) from None
    else:
        items = _read_table(path, kind, column)
    if not items:
        raise SourceError(f"{source} holds no items.")
    return Source(items, kind, str(path.resolve()), column, modality)
