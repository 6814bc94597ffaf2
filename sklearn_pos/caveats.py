"""Marking figures and tables that are not results.

Numbers computed from random weights (``CLIPEmbedder(pretrained=None)``, the
bundled ``"sklearn-pos-tiny"`` model of the smoke runs) or from generated
embeddings look like results: a class-invariance table with a diagonal, a
scatter plot, an accuracy. They only show that the code runs. The examples,
the benchmarks and the ``sklearn-pos`` command mark every such figure and
table with a caveat, the same way everywhere:

- a figure gets the caveat as the last line of its title (the figure's
  ``suptitle``), by :func:`stamp_figure`;
- a table (a :class:`pandas.DataFrame`) carries it in
  ``table.attrs["caveat"]``, by :func:`stamp_table` (or :func:`stamp_tables`
  for the dict of tables an example returns); pandas keeps ``attrs``
  through most operations and in pickles (not in CSV files), so code that
  receives the table can check it;
- a printed table has it in its heading line, by :func:`caption`.

:func:`caveat_for` chooses the caveat of a :class:`~sklearn_pos.CLIPEmbedder`
(via :func:`~sklearn_pos.uses_pretrained_weights`): :data:`RANDOM_WEIGHTS`
for random weights, ``None`` (no caveat) for loaded weights. Generated
embeddings (e.g. :class:`~sklearn_pos.datasets.PlantedTextEmbedder`) take
:data:`SYNTHETIC_EMBEDDINGS`.
"""

from .embedding import uses_pretrained_weights

__all__ = [
    "RANDOM_WEIGHTS",
    "SYNTHETIC_EMBEDDINGS",
    "caption",
    "caveat_for",
    "stamp_figure",
    "stamp_table",
    "stamp_tables",
]

#: Caveat of figures and tables computed with random CLIP weights.
RANDOM_WEIGHTS = "random weights — not a result"

#: Caveat of figures and tables computed from generated embeddings.
SYNTHETIC_EMBEDDINGS = "synthetic embeddings — not a result"

#: Key of the caveat in ``DataFrame.attrs``.
ATTRS_KEY = "caveat"


def caveat_for(embedder):
    """The caveat of results computed with ``embedder``, or ``None``.

    Parameters
    ----------
    embedder : CLIPEmbedder
        The embedder the results come from.

    Returns
    -------
    caveat : str or None
        :data:`RANDOM_WEIGHTS` when the embedder draws random weights
        (``pretrained=None``), ``None`` when it loads weights.

    Examples
    --------
    >>> from sklearn_pos import CLIPEmbedder
    >>> from sklearn_pos.caveats import caveat_for
    >>> caveat_for(CLIPEmbedder("sklearn-pos-tiny", pretrained=None))
    'random weights — not a result'
    >>> caveat_for(CLIPEmbedder("ViT-B-32", pretrained="openai")) is None
    True
    """
    return None if uses_pretrained_weights(embedder) else RANDOM_WEIGHTS


def _check_caveat(caveat):
    if caveat is not None and (not isinstance(caveat, str) or not caveat.strip()):
        raise TypeError(
            f"caveat must be a non-empty string or None (no caveat), got {caveat!r}."
        )


def caption(title, caveat):
    """A heading line for a printed table, with the caveat in brackets.

    Parameters
    ----------
    title : str
        What the table shows.

    caveat : str or None
        The caveat; ``None`` returns ``title`` unchanged.

    Returns
    -------
    heading : str

    Examples
    --------
    >>> from sklearn_pos.caveats import RANDOM_WEIGHTS, caption
    >>> caption("Zero-shot accuracy", RANDOM_WEIGHTS)
    'Zero-shot accuracy [random weights — not a result]'
    >>> caption("Zero-shot accuracy", None)
    'Zero-shot accuracy'
    """
    _check_caveat(caveat)
    return title if caveat is None else f"{title} [{caveat}]"


def stamp_table(table, caveat):
    """Record the caveat in ``table.attrs["caveat"]``; return the table.

    Parameters
    ----------
    table : pandas.DataFrame or pandas.Series
        The table, changed in place.

    caveat : str or None
        The caveat; ``None`` leaves the table as it is.

    Returns
    -------
    table : pandas.DataFrame or pandas.Series
        The same object.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pos.caveats import RANDOM_WEIGHTS, stamp_table
    >>> table = stamp_table(pd.DataFrame({"accuracy": [0.4]}), RANDOM_WEIGHTS)
    >>> table.attrs
    {'caveat': 'random weights — not a result'}
    >>> table.round(1).attrs["caveat"] == RANDOM_WEIGHTS  # pandas keeps attrs
    True
    """
    _check_caveat(caveat)
    if not hasattr(table, "attrs"):
        raise TypeError(
            f"table must be a pandas DataFrame or Series, got {type(table).__name__}."
        )
    if caveat is not None:
        table.attrs[ATTRS_KEY] = caveat
    return table


def stamp_tables(results, caveat):
    """Stamp every table among the values of a dict; return the dict.

    The dict of results an example returns (tables and the path of its
    figure): every pandas DataFrame or Series value gets the caveat, by
    :func:`stamp_table`; other values are left as they are.

    Parameters
    ----------
    results : dict
        Name → table (or anything else, e.g. a file path).

    caveat : str or None
        The caveat; ``None`` leaves every table as it is.

    Returns
    -------
    results : dict
        The same dict.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pos.caveats import RANDOM_WEIGHTS, stamp_tables
    >>> results = stamp_tables(
    ...     {"scores": pd.DataFrame({"accuracy": [0.4]}), "figure": "out.png"},
    ...     RANDOM_WEIGHTS,
    ... )
    >>> results["scores"].attrs["caveat"], results["figure"]
    ('random weights — not a result', 'out.png')
    """
    _check_caveat(caveat)
    for value in results.values():
        if hasattr(value, "attrs") and hasattr(value, "to_numpy"):
            stamp_table(value, caveat)
    return results


def _suptitle_text(figure):
    if hasattr(figure, "get_suptitle"):  # matplotlib >= 3.8
        return figure.get_suptitle()
    text = getattr(figure, "_suptitle", None)  # matplotlib 3.7
    return "" if text is None else text.get_text()


def stamp_figure(figure, caveat):
    """Add the caveat as the last line of the figure's title; return the figure.

    The figure title (``suptitle``) is kept and the caveat goes on a line of
    its own below it; a figure without one gets the caveat as its title.
    Call it after setting the title and before saving.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure, changed in place.

    caveat : str or None
        The caveat; ``None`` leaves the figure as it is.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The same figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_pos.caveats import RANDOM_WEIGHTS, stamp_figure
    >>> fig, ax = plt.subplots()
    >>> _ = fig.suptitle("Class invariance")
    >>> [t.get_text() for t in stamp_figure(fig, RANDOM_WEIGHTS).texts]
    ['Class invariance\\nrandom weights — not a result']
    >>> plt.close(fig)
    """
    _check_caveat(caveat)
    if caveat is None:
        return figure
    title = _suptitle_text(figure)
    if caveat in title.splitlines():
        return figure  # stamped already
    figure.suptitle(f"{title}\n{caveat}" if title else caveat)
    return figure
