"""Names of well-known painters and other visual artists."""

from functools import lru_cache

from .._compat import validate_params
from ._base import as_object_array, make_bunch, read_data_bytes, read_descr

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
