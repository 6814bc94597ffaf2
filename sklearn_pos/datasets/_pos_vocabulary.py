"""The vocabulary that part-of-speech subspaces are fitted on, checked."""

import numpy as np
from sklearn.utils import Bunch

#: Themes that :func:`load_pos_vocabulary` can add as a category.
THEMES = ("artists",)


def load_pos_vocabulary(n_words=None, *, theme=None, random_state=0):
    """Load the labelled words to fit part-of-speech subspaces on, checked.

    The WordNet vocabulary of :func:`load_wordnet_vocabulary` (or, with a
    ``theme``, of :func:`load_themed_vocabulary`), optionally a stratified
    random subset of it, refused when it leaves a category too few words
    to describe a subspace. This is what ``sklearn-pos fit`` encodes.

    Parameters
    ----------
    n_words : int, default=None
        Keep a stratified random subset of this many WordNet words (every
        part of speech keeps its share); the theme's words are always all
        kept. ``None`` keeps all of them.

    theme : {"artists"} or None, default=None
        Add a theme as one more category (``"artist"``).

    random_state : int, RandomState instance or None, default=0
        Seed of the ``n_words`` subset.

    Returns
    -------
    vocabulary : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : ndarray of shape (n_words,), dtype=object
            The words.
        target : ndarray of shape (n_words,), dtype=str
            The category of each word (fixed-width strings, which sort fast).
        target_names : list of str
            The categories, in the loader's order.
        counts : dict
            Words per category.
        description : dict
            How the vocabulary was made (JSON-serialisable): ``source``,
            ``wordnet_size``, ``vocabulary_size`` (``n_words``), ``theme``
            (``"none"`` when there is none), ``seed``, ``n_words`` (the
            words kept) and ``counts``.

    Raises
    ------
    ValueError
        If ``n_words`` exceeds the WordNet vocabulary, is smaller than twice
        the number of parts of speech, or keeps a single word of some
        category; if ``theme`` is unknown.

    See Also
    --------
    load_wordnet_vocabulary : The parts of speech alone, unchecked.
    load_themed_vocabulary : With a theme as a fifth category.

    Examples
    --------
    >>> from sklearn_pos.datasets import load_pos_vocabulary
    >>> vocab = load_pos_vocabulary(400, random_state=0)
    >>> vocab.data.shape, vocab.target_names
    ((400,), ['noun', 'adj', 'verb', 'adv'])
    >>> sum(vocab.counts.values())
    400
    >>> load_pos_vocabulary(5)
    Traceback (most recent call last):
    ...
    ValueError: n_words=5 is too small: use at least 8 so that every part of speech keeps some words.
    """
    from ._artists import load_themed_vocabulary
    from ._wordnet import load_wordnet_vocabulary

    if theme not in (None, "none", *THEMES):
        raise ValueError(
            f"theme={theme!r} is not a known theme; choose one of {list(THEMES)} "
            "or None."
        )
    theme = None if theme == "none" else theme
    wordnet = load_wordnet_vocabulary()
    n_wordnet, n_classes = len(wordnet.data), len(wordnet.target_names)
    if n_words is not None and n_words > n_wordnet:
        # A subset larger than the vocabulary would quietly be all of it.
        raise ValueError(
            f"n_words={n_words} is larger than the vocabulary ({n_wordnet:,} "
            f"WordNet words). Leave it out to use all of them, or give at most "
            f"{n_wordnet}."
        )
    if n_words is not None and n_words < n_wordnet and n_words < 2 * n_classes:
        # Stricter than the loaders' one word per category: a category with a
        # single word has no spread for its subspace to describe.
        raise ValueError(
            f"n_words={n_words} is too small: use at least {2 * n_classes} so "
            "that every part of speech keeps some words."
        )
    try:
        if theme is not None:
            vocab = load_themed_vocabulary(
                theme, n_words=n_words, random_state=random_state
            )
        else:
            vocab = load_wordnet_vocabulary(
                n_words=n_words, random_state=random_state
            )
    except ValueError as exc:
        message = str(exc)
        prefix = f"n_words={n_words}: "
        raise ValueError(
            message if message.startswith(prefix) else prefix + message
        ) from None
    words = vocab.data
    labels = np.asarray(vocab.target, dtype=str)
    categories, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        thin = categories[counts < 2].tolist()
        raise ValueError(
            f"n_words={n_words} is too small: it keeps a single word of {thin}, "
            f"too few for a subspace to describe. Use a larger size, e.g. "
            f"{2 * n_words}, or leave it out to use all {n_wordnet:,} words."
        )
    counts = {str(c): int(n) for c, n in zip(categories, counts)}
    description = {
        "source": "wordnet" + (f"+{theme}" if theme is not None else ""),
        "wordnet_size": n_wordnet,
        "vocabulary_size": n_words,
        "theme": theme if theme is not None else "none",
        "seed": random_state,
        "n_words": int(len(words)),
        "counts": counts,
    }
    return Bunch(
        data=words,
        target=labels,
        target_names=list(vocab.target_names),
        counts=counts,
        description=description,
    )
