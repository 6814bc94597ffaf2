"""Names of well-known painters and other visual artists, alone or as a theme."""

from functools import lru_cache
from numbers import Integral

import numpy as np

from .._compat import Interval, StrOptions, validate_params
from ._base import as_object_array, make_bunch, read_data_bytes, read_descr
from ._subset import stratified_subset

ARTISTS_FILE = "artists.txt"
ARTIST_LABEL = "artist"


@lru_cache(maxsize=1)
def _load_names():
    text = read_data_bytes(ARTISTS_FILE).decode("utf-8")
    lines = (line.strip() for line in text.splitlines())
    names = as_object_array([line for line in lines if line])
    names.flags.writeable = False
    return names


@validate_params(
    {"return_X_y": ["boolean"], "as_frame": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_artists(*, return_X_y=False, as_frame=False):
    """Load a list of names of well-known painters and visual artists.

    916 painters, sculptors, printmakers, photographers, illustrators and
    comic artists from many periods and regions, written as their names
    usually appear in English (``"Claude Monet"``, ``"Frida Kahlo"``,
    ``"Katsushika Hokusai"``), each labelled ``"artist"``. The set serves as
    a theme category: learned as the target against the four WordNet
    parts of speech, it gives a subspace in which an "artist" concept (and,
    through the complement projection, its removal from a prompt) can be
    represented.

    The bunch uses the same conventions as
    :func:`load_wordnet_vocabulary`, so the two stack directly. 123 of the
    names are also WordNet noun lemmas (``"Claude Monet"``, ``"El Greco"``):
    drop them from the WordNet part first so that no text carries two labels
    (see Examples).

    =================   ==============================================
    Classes             1 (artist)
    Samples total       916
    Features            one text string per sample
    =================   ==============================================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    as_frame : bool, default=False
        If True, ``data`` is a pandas Series of strings named ``"word"``,
        ``target`` a categorical Series named ``"category"`` and ``frame`` a
        DataFrame with both columns.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : ndarray of shape (n_samples,), dtype=object, or Series
            The names, as ``str``, in alphabetical order.
        target : ndarray of shape (n_samples,), dtype=object, or Series
            The label ``"artist"`` for every name.
        target_names : list of str
            ``["artist"]``.
        frame : DataFrame of shape (n_samples, 2) or None
            Columns ``"word"`` and ``"category"``; only when
            ``as_frame=True``.
        DESCR : str
            Description of the list.

    (data, target) : tuple if ``return_X_y`` is True
        The two arrays (or Series) described above.

    See Also
    --------
    load_wordnet_vocabulary : WordNet 3.0 words labelled by part of speech.
    load_themed_vocabulary : The stacking below, with a stratified subset of
        WordNet.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos.datasets import load_artists, load_wordnet_vocabulary
    >>> artists = load_artists()
    >>> artists.data.shape, artists.target_names
    ((916,), ['artist'])

    Stack the artists with the WordNet vocabulary as a fifth category,
    removing the names that WordNet also lists as nouns:

    >>> words, pos = load_wordnet_vocabulary(return_X_y=True)
    >>> keep = ~np.isin(words, artists.data)
    >>> X = np.concatenate([words[keep], artists.data])
    >>> y = np.concatenate([pos[keep], artists.target])
    >>> X.shape
    (142238,)
    >>> len(set(X)) == len(X)
    True
    """
    names = _load_names().copy()
    labels = as_object_array([ARTIST_LABEL] * len(names))
    return make_bunch(
        names,
        labels,
        (ARTIST_LABEL,),
        read_descr("artists.rst"),
        as_frame=as_frame,
        return_X_y=return_X_y,
    )


THEMES = ("artists",)


@validate_params(
    {
        "theme": [StrOptions(set(THEMES))],
        "n_words": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "return_X_y": ["boolean"],
        "as_frame": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_themed_vocabulary(
    theme="artists",
    *,
    n_words=None,
    random_state=None,
    return_X_y=False,
    as_frame=False,
):
    """Load the WordNet vocabulary with a theme as a fifth category.

    The four parts of speech of :func:`load_wordnet_vocabulary`, without the
    words that the theme also lists (``"Claude Monet"`` is a WordNet noun and
    an artist: it is kept once, labelled with the theme), followed by every
    word of the theme. Learned as the target against the parts of speech, the
    theme gives a subspace that represents it, and whose complement removes
    it from a prompt.

    Parameters
    ----------
    theme : {"artists"}, default="artists"
        The theme: ``"artists"`` is :func:`load_artists`, labelled
        ``"artist"``.

    n_words : int, default=None
        Keep a stratified random subset of this many WordNet words (see
        :func:`load_wordnet_vocabulary`); the theme's words are always all
        kept. ``None`` keeps every word.

    random_state : int, RandomState instance or None, default=None
        Seed of the ``n_words`` subset.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    as_frame : bool, default=False
        If True, ``data`` is a pandas Series of strings named ``"word"``,
        ``target`` a categorical Series named ``"category"`` and ``frame`` a
        DataFrame with both columns.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : ndarray of shape (n_samples,), dtype=object, or Series
            The WordNet words (in the order of
            :func:`load_wordnet_vocabulary`), then the theme's words.
        target : ndarray of shape (n_samples,), dtype=object, or Series
            The part of speech, or the theme's label, of each word.
        target_names : list of str
            ``["noun", "adj", "verb", "adv", "artist"]``.
        frame : DataFrame of shape (n_samples, 2) or None
            Columns ``"word"`` and ``"category"``; only when
            ``as_frame=True``.
        DESCR : str
            Descriptions of WordNet and of the theme.

    (data, target) : tuple if ``return_X_y`` is True
        The two arrays (or Series) described above.

    See Also
    --------
    load_wordnet_vocabulary : The four parts of speech alone.
    load_artists : The artists alone.

    Examples
    --------
    >>> from sklearn_pos.datasets import load_themed_vocabulary
    >>> vocab = load_themed_vocabulary("artists", n_words=2000, random_state=0)
    >>> vocab.target_names
    ['noun', 'adj', 'verb', 'adv', 'artist']
    >>> vocab.data.shape  # 2,000 WordNet words and the 916 artists
    (2916,)
    >>> vocab.data[-1], vocab.target[-1]
    ('Zinaida Serebriakova', 'artist')
    """
    from ._wordnet import PARTS_OF_SPEECH, load_wordnet_vocabulary

    wordnet = load_wordnet_vocabulary()
    theme_bunch = load_artists()
    words, labels = wordnet.data, wordnet.target
    keep = ~np.isin(words, theme_bunch.data)
    words, labels = words[keep], labels[keep]
    try:
        words, labels = stratified_subset(
            words, labels, n_words, random_state=random_state
        )
    except ValueError as exc:
        raise ValueError(f"n_words={n_words}: {exc}") from None
    return make_bunch(
        np.concatenate([words, theme_bunch.data]),
        np.concatenate([labels, theme_bunch.target]),
        (*PARTS_OF_SPEECH, *theme_bunch.target_names),
        wordnet.DESCR + "\n\n" + theme_bunch.DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
