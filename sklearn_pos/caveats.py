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
:data:`SYNTHETIC_EMBEDDINGS`. :func:`caveat_of` finds the caveat of any
estimator from the :class:`~sklearn_pos.CLIPEmbedder` objects it holds (a
pipeline step, a ``text_embedder``): the displays of
:mod:`sklearn_pos.plotting` and :func:`~sklearn_pos.evaluate_classifiers`
stamp their figures and tables with it.

:func:`choose_clip_weights` picks the weights of a run that must work
anywhere (the examples): the requested weights when they can be had, else
the bundled tiny model with random weights, said on stderr and marked with
:data:`RANDOM_WEIGHTS`.
"""

import os
import sys

from sklearn.utils import Bunch

from .embedding import CLIPEmbedder, WeightsUnavailableError, uses_pretrained_weights

__all__ = [
    "RANDOM_WEIGHTS",
    "SYNTHETIC_EMBEDDINGS",
    "TINY_MODEL",
    "caption",
    "caveat_for",
    "caveat_of",
    "choose_clip_weights",
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

#: The bundled tiny open_clip architecture run with random weights when no
#: weights can be had (smoke runs, tests, offline examples).
TINY_MODEL = "sklearn-pos-tiny"

# Environment flag of the examples: "1" asks for the tiny model.
_TINY_FLAG = "SKLEARN_POS_EXAMPLE_TINY"


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


def _clip_embedders(estimator):
    """The CLIPEmbedder objects ``estimator`` is or holds, as parameters
    (nested, e.g. pipeline steps) or as fitted attributes (``*_``)."""
    found, seen, todo = [], set(), [estimator]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, CLIPEmbedder):
            found.append(obj)
            continue
        values = []
        if hasattr(obj, "get_params") and not isinstance(obj, type):
            try:
                values.extend(obj.get_params(deep=True).values())
            except Exception:  # noqa: BLE001 - an object with an odd get_params
                pass
            # fitted attributes (e.g. an embedder chosen at fit time)
            values.extend(
                v
                for k, v in getattr(obj, "__dict__", {}).items()
                if k.endswith("_") and not k.startswith("_")
            )
        elif isinstance(obj, (list, tuple)):
            values.extend(obj)
            values.extend(v for item in obj if isinstance(item, tuple) for v in item)
        todo.extend(v for v in values if hasattr(v, "get_params") or isinstance(
            v, (list, tuple)
        ))
    return found


def caveat_of(estimator):
    """The caveat of results computed by ``estimator``, or ``None``.

    Looks for the :class:`~sklearn_pos.CLIPEmbedder` objects the estimator
    is or holds: the estimator itself, its parameters at any depth (the
    steps of a :class:`~sklearn.pipeline.Pipeline`, a ``text_embedder``)
    and its fitted attributes. When any of them draws random weights the
    results are not results, whatever the others load. Nothing is loaded or
    fetched to answer.

    Parameters
    ----------
    estimator : object
        An estimator (fitted or not), a CLIPEmbedder, or anything else.

    Returns
    -------
    caveat : str or None
        :data:`RANDOM_WEIGHTS` when one of the embedders found draws random
        weights; ``None`` when they all load weights or none is found (the
        caveat of embeddings computed elsewhere cannot be told from the
        numbers: pass it yourself).

    See Also
    --------
    caveat_for : The caveat of one CLIPEmbedder.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_pos import CLIPEmbedder, ZeroShotClassifier
    >>> from sklearn_pos.caveats import caveat_of
    >>> tiny = CLIPEmbedder("sklearn-pos-tiny", pretrained=None)
    >>> caveat_of(ZeroShotClassifier(["cat", "dog"], text_embedder=tiny))
    'random weights — not a result'
    >>> caveat_of(make_pipeline(CLIPEmbedder("ViT-B-32", pretrained="openai"))) is None
    True
    >>> caveat_of(ZeroShotClassifier(prototypes=[[1, 0], [0, 1]])) is None
    True
    """
    embedders = _clip_embedders(estimator)
    if any(not uses_pretrained_weights(e) for e in embedders):
        return RANDOM_WEIGHTS
    return None


def choose_clip_weights(
    tiny=None,
    model_name=None,
    pretrained=None,
    *,
    default_model="ViT-B-32",
    default_pretrained="openai",
    device="auto",
):
    """The CLIP weights a run will use: those asked for, or the tiny model.

    A run that must work anywhere (the examples) asks for real weights; when
    they cannot be had (not in the local cache and no network: open_clip's
    fetch raises :class:`~sklearn_pos.WeightsUnavailableError`) it says so
    on stderr and runs with the bundled tiny model ``"sklearn-pos-tiny"``
    and random weights (``pretrained=None``) instead, so that it still
    shows that the code works. Whatever the weights, the returned
    ``caveat`` is the one to mark every printed table and figure with
    (:data:`RANDOM_WEIGHTS` for random weights, ``None`` for loaded ones).
    Checking the weights resolves (and, online, downloads) them without
    building the model; other errors (an unknown tag, a missing checkpoint
    file) are raised as they are.

    Parameters
    ----------
    tiny : bool, default=None
        ``True`` runs the tiny random model without trying any weights;
        ``None`` reads the environment variable ``SKLEARN_POS_EXAMPLE_TINY``
        (``"1"`` means ``True``) when called.

    model_name : str, default=None
        open_clip architecture; ``None`` means ``default_model``.

    pretrained : str, path or None, default=None
        Weights: an open_clip tag, a checkpoint file, ``"local-dir:..."`` or
        ``"hf-hub:..."``; the string ``"none"`` (any case) asks for random
        weights of ``model_name``; ``None`` means ``default_pretrained``.

    default_model : str, default="ViT-B-32"
        Architecture used when ``model_name`` is ``None``.

    default_pretrained : str or None, default="openai"
        Weights used when ``pretrained`` is ``None`` (``None``: random).

    device : str, default="auto"
        Device for the requested weights; the tiny model always runs on
        ``"cpu"``.

    Returns
    -------
    weights : Bunch
        ``model_name``, ``pretrained`` and ``device`` (arguments of
        :class:`~sklearn_pos.CLIPEmbedder`, also together as the dict
        ``embedder_params``, for ``CLIPEmbedder(**weights.embedder_params,
        modality=...)``), ``tiny`` (whether the tiny
        random model is used: asked for or fallen back to), ``fell_back``
        (whether the requested weights could not be had), ``caveat`` and
        ``label`` (e.g. ``"ViT-B-32 (openai)"``, for titles).

    Examples
    --------
    >>> from sklearn_pos.caveats import choose_clip_weights
    >>> weights = choose_clip_weights(tiny=True)
    >>> weights.model_name, weights.pretrained, weights.caveat
    ('sklearn-pos-tiny', None, 'random weights — not a result')
    >>> choose_clip_weights(tiny=False, model_name="RN50", pretrained="none").label
    'RN50 (random weights)'
    """
    if tiny is None:
        tiny = os.environ.get(_TINY_FLAG, "").strip() == "1"
    if tiny:
        return _weights(TINY_MODEL, None, "cpu", tiny=True, fell_back=False)
    model_name = default_model if model_name is None else model_name
    if pretrained is None:
        pretrained = default_pretrained
    elif isinstance(pretrained, str) and pretrained.strip().lower() == "none":
        pretrained = None  # random weights of a real architecture
    if pretrained is None:
        return _weights(model_name, None, device, tiny=False, fell_back=False)
    try:
        # resolves the weights (cache, then a fetch) without building the model
        CLIPEmbedder(model_name, pretrained, device=device).identity()
    except WeightsUnavailableError as exc:
        print(
            f"The weights {model_name} pretrained={pretrained!r} cannot be had "
            f"({exc.reason or 'not cached, no network'}): running with the tiny "
            f"model {TINY_MODEL!r} and random weights instead, so every table and "
            f"figure says {RANDOM_WEIGHTS!r}. For real results, fetch the weights "
            f"or point pretrained at a local checkpoint.\n{exc}",
            file=sys.stderr,
        )
        return _weights(TINY_MODEL, None, "cpu", tiny=True, fell_back=True)
    return _weights(model_name, pretrained, device, tiny=False, fell_back=False)


def _weights(model_name, pretrained, device, *, tiny, fell_back):
    caveat = RANDOM_WEIGHTS if pretrained is None else None
    source = "random weights" if pretrained is None else str(pretrained)
    return Bunch(
        model_name=model_name,
        pretrained=pretrained,
        device=device,
        embedder_params={
            "model_name": model_name,
            "pretrained": pretrained,
            "device": device,
        },
        tiny=tiny,
        fell_back=fell_back,
        caveat=caveat,
        label=f"{model_name} ({source})",
    )


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
