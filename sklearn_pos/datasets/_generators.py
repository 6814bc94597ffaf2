"""Generated data for examples, tests and benchmarks.

Planted CLAP text embeddings
    :class:`PlantedTextEmbedder` embeds the prompts of
    :func:`~sklearn_pos.clap.make_clap_prompts` with planted content and
    style directions, and draws styled "image" embeddings, so that
    :class:`~sklearn_pos.clap.CLAPDisentangler` can be trained and judged
    without a model.
"""

import zlib

import numpy as np

from ..clap import CLAP_COLOURS, CLAP_SIZES, CLAP_STYLE_MODIFIERS, CLAP_STYLES

__all__ = ["PlantedTextEmbedder"]


# --------------------------------------------------------------------------- #
# Planted CLAP text embeddings
# --------------------------------------------------------------------------- #
def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class PlantedTextEmbedder:
    """Bag-of-words text embedder with planted content and style directions.

    A stand-in for a CLIP text encoder on the prompts of
    :func:`~sklearn_pos.clap.make_clap_prompts`, in which content and style
    are known. A text's embedding is the sum of the vectors of the words (or
    phrases, such as "mosaic art") it contains, plus a little noise seeded by
    the text itself, scaled to unit norm: the same text always gets the same
    embedding. The vectors are:

    - every class name: a unit "content" vector;
    - every style of :data:`~sklearn_pos.clap.CLAP_STYLES`: a strong vector
      (norm ``style_strength``) that also leans towards the content of one
      class (a "sketch" looks a bit like some object), so that styled
      inputs mislead cosine similarity with the class names;
    - modifiers, sizes and colours of the prompt grammar: small vectors
      (norm ``minor_strength``); the word "style" a smaller one.

    Other words contribute nothing. :meth:`images` draws "image" embeddings
    made of a class's content and a dominant style, the setting in which
    :class:`~sklearn_pos.clap.CLAPDisentangler` helps zero-shot
    classification.

    Parameters
    ----------
    class_names : sequence of str
        The classes, in order; style ``i`` leans towards class
        ``i % n_classes``.

    n_features : int, default=64
        Width of the embeddings.

    style_strength : float, default=2.0
        Norm of the style vectors.

    leak : float, default=0.8
        How much each style vector leans towards its class's content.

    minor_strength : float, default=0.5
        Norm of the modifier, size and colour vectors.

    random_state : int, default=0
        Seed of the word vectors.

    Attributes
    ----------
    vectors : dict of str to ndarray of shape (n_features,)
        The vector of every known word or phrase.

    See Also
    --------
    sklearn_pos.clap.CLAPDisentangler : Trained on the prompts this embeds.

    Examples
    --------
    >>> from sklearn_pos.datasets import PlantedTextEmbedder
    >>> embedder = PlantedTextEmbedder(["dog", "cat"], n_features=16)
    >>> E = embedder.transform(["a dog", "a sketch of a cat"])
    >>> E.shape, E.dtype
    ((2, 16), dtype('float32'))
    >>> X, y, styles = embedder.images(n_per_class=8, balanced=True)
    >>> X.shape, y[:3].tolist(), styles[:2].tolist()
    ((16, 16), [0, 0, 0], ['painting', 'sketch'])
    """

    def __init__(
        self,
        class_names,
        n_features=64,
        *,
        style_strength=2.0,
        leak=0.8,
        minor_strength=0.5,
        random_state=0,
    ):
        classes = [str(c) for c in class_names]
        if not classes:
            raise ValueError("class_names is empty; give at least one class name.")
        if int(n_features) < 2:
            raise ValueError(f"n_features must be >= 2, got {n_features!r}.")
        rng = np.random.RandomState(random_state)
        self.class_names = classes
        self.n_features = d = int(n_features)
        self.vectors = {c: _unit(rng.normal(size=d)) for c in classes}
        for i, s in enumerate(CLAP_STYLES):
            lean = self.vectors[classes[i % len(classes)]]
            self.vectors[s] = style_strength * _unit(
                _unit(rng.normal(size=d)) + leak * lean
            )
        for w in CLAP_STYLE_MODIFIERS + CLAP_SIZES + CLAP_COLOURS:
            self.vectors[w] = minor_strength * _unit(rng.normal(size=d))
        self.vectors["style"] = 0.3 * _unit(rng.normal(size=d))
        # Longest phrases first, so "mosaic art" wins over a shorter match.
        self._phrases = sorted(self.vectors, key=len, reverse=True)
        self._styles = CLAP_STYLES

    def transform(self, texts):
        """Embeddings of texts, one unit row per text.

        Parameters
        ----------
        texts : sequence of str
            The texts.

        Returns
        -------
        embeddings : ndarray of shape (n_texts, n_features), float32
            Unit rows.
        """
        if isinstance(texts, str):
            raise ValueError(
                f"texts must be a sequence of str, got the single string {texts!r}; "
                "wrap it in a list."
            )
        out = np.empty((len(texts), self.n_features))
        for i, text in enumerate(texts):
            rest, v = f" {text} ", np.zeros(self.n_features)
            for phrase in self._phrases:
                if f" {phrase} " in rest:
                    v += self.vectors[phrase]
                    rest = rest.replace(f" {phrase} ", " ")
            noise = np.random.RandomState(zlib.crc32(str(text).encode()))
            out[i] = _unit(v + 0.05 * noise.normal(size=self.n_features))
        return out.astype(np.float32)

    def images(
        self, n_per_class=30, *, balanced=False, random_state=1, dtype=np.float32
    ):
        """Styled "image" embeddings: a class's content plus a dominant style.

        Each row is ``content(c) + 2 * unit(style(s)) + 0.1 * noise``, scaled to
        unit norm.

        Parameters
        ----------
        n_per_class : int, default=30
            Rows per class.

        balanced : bool, default=False
            ``False``: each row's style is drawn at random. ``True``: the
            styles take turns in blocks (``n_per_class`` a multiple of the 8
            styles gives each style the same number of rows).

        random_state : int, default=1
            Seed of the styles and of the noise.

        dtype : numpy dtype, default=numpy.float32
            Type of the returned embeddings (computed in float64).

        Returns
        -------
        X : ndarray of shape (n_classes * n_per_class, n_features)
            Unit rows, class by class.

        y : ndarray of shape (n_classes * n_per_class,)
            Index of each row's class in ``class_names``.

        styles : ndarray of shape (n_classes * n_per_class,)
            Style of each row.
        """
        if int(n_per_class) < 1:
            raise ValueError(f"n_per_class must be >= 1, got {n_per_class!r}.")
        rng = np.random.RandomState(random_state)
        n_styles = len(self._styles)
        X, y, styles = [], [], []
        for k, c in enumerate(self.class_names):
            for j in range(n_per_class):
                if balanced:
                    s = self._styles[j * n_styles // n_per_class]
                else:
                    s = self._styles[rng.randint(n_styles)]
                x = self.vectors[c] + 2.0 * _unit(self.vectors[s])
                X.append(_unit(x + 0.1 * rng.normal(size=self.n_features)))
                y.append(k)
                styles.append(s)
        return np.asarray(X).astype(dtype), np.asarray(y), np.asarray(styles)

    def __repr__(self):
        return (
            f"{type(self).__name__}(<{len(self.class_names)} classes>, "
            f"n_features={self.n_features})"
        )
