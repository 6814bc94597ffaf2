"""WordNet 3.0 vocabulary labelled by part of speech."""

import io
from functools import lru_cache
from numbers import Integral

import numpy as np

from .._compat import Interval, StrOptions, validate_params
from ._base import as_object_array, make_bunch, read_data_bytes, read_descr
from ._subset import stratified_subset

PARTS_OF_SPEECH = ("noun", "adj", "verb", "adv")
WORDNET_FILE = "wordnet_pos.csv.gz"


@lru_cache(maxsize=1)
def _load_table():
    """Parse the bundled file once; the arrays are read-only, callers copy."""
    import pandas as pd

    # pandas' C parser, with every field kept as text: a word such as "nan"
    # or "null" stays a word.
    table = pd.read_csv(
        io.BytesIO(read_data_bytes(WORDNET_FILE)),
        compression="gzip",
        dtype=str,
        na_filter=False,
        keep_default_na=False,
    )
    if list(table.columns) != ["word", "category"]:  # pragma: no cover
        raise ValueError(f"unexpected header in {WORDNET_FILE}: {list(table.columns)}")
    words = as_object_array(table["word"].to_numpy(dtype=object))
    labels = as_object_array(table["category"].to_numpy(dtype=object))
    words.flags.writeable = False
    labels.flags.writeable = False
    return words, labels


def _check_pos(pos):
    if pos is None:
        return PARTS_OF_SPEECH
    requested = {pos} if isinstance(pos, str) else set(pos)
    unknown = sorted(map(str, requested - set(PARTS_OF_SPEECH)))
    if unknown or not requested:
        raise ValueError(
            f"pos must be None, one of {list(PARTS_OF_SPEECH)} or a non-empty "
            f"list of them; got {pos!r}"
        )
    return tuple(p for p in PARTS_OF_SPEECH if p in requested)


@validate_params(
    {
        "pos": [None, StrOptions(set(PARTS_OF_SPEECH)), "array-like"],
        "n_words": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "return_X_y": ["boolean"],
        "as_frame": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_wordnet_vocabulary(
    *, pos=None, n_words=None, random_state=None, return_X_y=False, as_frame=False
):
    """Load the WordNet 3.0 words that have a single part of speech.

    Every lemma of WordNet 3.0 that appears under exactly one of the four
    parts of speech, labelled ``"noun"``, ``"adj"``, ``"verb"`` or ``"adv"``.
    Underscores of multi-word lemmas are replaced by spaces (``"ice cream"``),
    WordNet's capitalisation is kept (``"Monet"``, ``"Rome"``) and uniqueness
    is decided on the final, case-sensitive strings. This is the vocabulary
    from which :class:`~sklearn_pos.PartOfSpeechComponentAnalysis` learns its
    subspaces.

    =================   ==============================================
    Classes             4 (noun, adj, verb, adv)
    Samples per class   112,219 / 18,021 / 7,295 / 3,910
    Samples total       141,445
    Features            one text string per sample
    =================   ==============================================

    The counts are those published by Oldfield et al. (2023). They come from
    WordNet's lemma names with their case preserved (as in its ``data.*``
    files); the lower-cased ``index.*`` files merge entries such as ``"Mark"``
    and ``"mark"`` and give 110,864 / 17,881 / 7,264 / 3,898 instead.

    The data ship with the package (no download) and are read once per
    process. Rows are ordered by part of speech (noun, adj, verb, adv) and
    then alphabetically. WordNet 3.0 is distributed under Princeton
    University's WordNet licence, whose full text is installed as
    ``sklearn_pos/datasets/data/WORDNET_LICENSE``.

    Parameters
    ----------
    pos : {"noun", "adj", "verb", "adv"} or list of them, default=None
        Parts of speech to load. ``None`` loads all four.

    n_words : int, default=None
        Load a random subset of this many words, stratified by part of speech
        (each keeps its share of the vocabulary), for quick experiments and
        tests. ``None``, or a number at least the vocabulary's size, loads
        every word. The subset keeps the order described above. It must hold
        at least one word per part of speech loaded.

    random_state : int, RandomState instance or None, default=None
        Seed of the ``n_words`` subset; pass an int for the same words on
        every call. See :func:`stratified_subset`.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    as_frame : bool, default=False
        If True, ``data`` is a pandas Series of strings named ``"word"``,
        ``target`` a categorical Series named ``"category"`` and ``frame`` a
        DataFrame with both columns. ``data`` stays one-dimensional, like
        the input of scikit-learn's text vectorizers, because the embedders
        take a sequence of texts.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : ndarray of shape (n_samples,), dtype=object, or Series
            The words, as ``str``.
        target : ndarray of shape (n_samples,), dtype=object, or Series
            The part of speech of each word, as the strings listed in
            ``target_names`` (not integer codes), so that an estimator's
            ``classes_`` are the part-of-speech names.
        target_names : list of str
            The parts of speech loaded, in the order noun, adj, verb, adv.
        frame : DataFrame of shape (n_samples, 2) or None
            Columns ``"word"`` and ``"category"``; only when
            ``as_frame=True``.
        DESCR : str
            Description of the dataset, its source and its licence.

    (data, target) : tuple if ``return_X_y`` is True
        The two arrays (or Series) described above.

    See Also
    --------
    load_artists : Names of painters and other visual artists, stackable
        with this vocabulary as an extra category.
    load_themed_vocabulary : This vocabulary with a theme (artists) as a
        fifth category.
    stratified_subset : The subset drawn by ``n_words``.

    Examples
    --------
    >>> from sklearn_pos.datasets import load_wordnet_vocabulary
    >>> vocab = load_wordnet_vocabulary()
    >>> vocab.data.shape
    (141445,)
    >>> vocab.target_names
    ['noun', 'adj', 'verb', 'adv']
    >>> words, pos = load_wordnet_vocabulary(pos=["adj", "adv"], return_X_y=True)
    >>> sorted(set(pos))
    ['adj', 'adv']
    >>> frame = load_wordnet_vocabulary(as_frame=True).frame
    >>> frame["category"].value_counts().to_dict()
    {'noun': 112219, 'adj': 18021, 'verb': 7295, 'adv': 3910}

    A seeded subset keeps the shares of the four parts of speech:

    >>> small = load_wordnet_vocabulary(n_words=1000, random_state=0, as_frame=True)
    >>> small.frame["category"].value_counts().to_dict()
    {'noun': 793, 'adj': 127, 'verb': 52, 'adv': 28}
    """
    selected = _check_pos(pos)
    words, labels = _load_table()
    if len(selected) == len(PARTS_OF_SPEECH):
        words, labels = words.copy(), labels.copy()
    else:
        mask = np.isin(labels, selected)
        words, labels = words[mask], labels[mask]
    try:
        words, labels = stratified_subset(
            words, labels, n_words, random_state=random_state
        )
    except ValueError as exc:
        raise ValueError(f"n_words={n_words}: {exc}") from None
    return make_bunch(
        words,
        labels,
        selected,
        read_descr("wordnet.rst"),
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
