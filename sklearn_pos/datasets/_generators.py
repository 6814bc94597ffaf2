"""Generated data for examples, tests and benchmarks.

Planted CLAP text embeddings
    :class:`PlantedTextEmbedder` embeds the prompts of
    :func:`~sklearn_pos.clap.make_clap_prompts` with planted content and
    style directions, and draws styled "image" embeddings, so that
    :class:`~sklearn_pos.clap.CLAPDisentangler` can be trained and judged
    without a model.

Image folders
    :func:`make_image_folder` writes small images of a dominant colour per
    class in the ``root/<class>/<image>`` layout read by
    :func:`~sklearn_pos.datasets.load_image_folder`. A real CLIP model
    recognises the colours from their names; random weights do not.
"""

import zlib
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ..templates import (
    CLAP_COLOURS,
    CLAP_SIZES,
    CLAP_STYLE_MODIFIERS,
    CLAP_STYLES,
)

__all__ = ["COLOURS", "PATTERNS", "PlantedTextEmbedder", "make_image_folder"]


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
    - every style of :data:`~sklearn_pos.templates.CLAP_STYLES`: a strong vector
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


#: RGB values of the colour classes :func:`make_image_folder` can draw.
COLOURS = {
    "red": (205, 30, 35),
    "green": (35, 160, 50),
    "blue": (35, 60, 210),
    "yellow": (240, 215, 40),
    "orange": (245, 140, 25),
    "purple": (130, 45, 170),
    "pink": (245, 130, 190),
    "brown": (120, 75, 35),
    "black": (15, 15, 15),
    "white": (250, 250, 250),
}

#: What :func:`make_image_folder` can draw in each image.
PATTERNS = ("shapes", "noise", "fields")

_SHAPES = ("circle", "square", "triangle")
_FORMATS = {"png": ".png", "jpeg": ".jpg"}


def _shape_image(colour, shape, width, height, rng):
    """A shape of ``colour`` on a random light background, with pixel noise."""
    from PIL import Image, ImageDraw

    background = tuple(int(v) for v in rng.integers(170, 256, size=3))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    side = min(width, height)
    half = int(rng.integers(side // 4, side // 2 - 2))
    cx, cy = (int(v) for v in rng.integers(half, (width - half, height - half)))
    box = [cx - half, cy - half, cx + half, cy + half]
    if shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon(
            [(cx, cy - half), (cx - half, cy + half), (cx + half, cy + half)],
            fill=colour,
        )
    pixels = np.asarray(image, dtype=np.float64)
    pixels += rng.normal(0, 12, size=pixels.shape)
    return pixels


def _noise_image(colour, width, height, rng):
    """``colour`` everywhere, with strong pixel noise."""
    return np.asarray(colour, dtype=np.float64) + rng.normal(
        0, 25, size=(height, width, 3)
    )


def _field_image(colour, width, height, rng):
    """Smooth random colour waves over ``colour``: photo-like to decode and resize.

    JPEG files of these are about as costly to decode as photographs of the
    same size, unlike flat or noisy images.
    """
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    a, b, c = rng.uniform(0.005, 0.03, size=3)
    waves = np.stack(
        [
            np.sin(a * xx + rng.uniform(0, 6)),
            np.sin(b * yy + rng.uniform(0, 6)),
            np.sin(c * (xx + yy) + rng.uniform(0, 6)),
        ],
        axis=-1,
    )
    base = 0.5 * np.asarray(colour, dtype=np.float64) + 64 + 60 * waves
    return base + rng.normal(0, 12, size=base.shape)


def _check_size(image_size):
    if np.ndim(image_size) == 0:
        width = height = image_size
    elif len(image_size) == 2:
        width, height = image_size
    else:
        width = height = None
    if not all(isinstance(v, (int, np.integer)) and v >= 8 for v in (width, height)):
        raise ValueError(
            "image_size must be an int or a pair (width, height) of ints, each at "
            f"least 8 pixels; got {image_size!r}."
        )
    return int(width), int(height)


def make_image_folder(
    root,
    *,
    classes=("red", "green", "blue"),
    n_per_class=8,
    image_size=64,
    pattern="shapes",
    vary_size=False,
    formats=("png",),
    random_state=0,
):
    """Write generated images of a dominant colour, one subfolder per class.

    The images are in the layout of torchvision's ``ImageFolder``
    (``root/<colour>/<colour>_<i>.png``), read by :func:`load_image_folder`,
    so the folder serves wherever an image dataset folder is expected:
    examples, tests and offline smoke runs of benchmarks.

    Parameters
    ----------
    root : str or path-like
        Folder to write into (created if needed).

    classes : sequence of str, default=("red", "green", "blue")
        Colour names, keys of :data:`COLOURS`; each is a class.

    n_per_class : int, default=8
        Images per class.

    image_size : int or (int, int), default=64
        Side of the square images, or their ``(width, height)``, in pixels
        (at least 8).

    pattern : {"shapes", "noise", "fields"}, default="shapes"
        What each image shows: ``"shapes"`` a circle, square or triangle of
        the colour on a random light background, with mild pixel noise;
        ``"noise"`` the colour everywhere under strong pixel noise (the
        smallest files); ``"fields"`` smooth random colour waves over the
        colour, which cost about as much as photographs to decode.

    vary_size : bool, default=False
        If True, each side of each image is drawn at random between half
        and one and a half times ``image_size`` (the sizes of real datasets
        vary too).

    formats : sequence of {"png", "jpeg"}, default=("png",)
        File formats, used in turn: ``("png", "jpeg")`` alternates.

    random_state : int, RandomState instance or None, default=0
        Seed of everything drawn (shapes, positions, backgrounds, sizes,
        noise).

    Returns
    -------
    folder : :class:`~sklearn.utils.Bunch`
        The Bunch of :func:`load_image_folder` for the images written:
        ``root``, ``data`` and ``paths`` (the paths, class by class, as an
        object array and a list), ``target`` (colour name per
        image), ``target_names`` (the colours, sorted) and ``folders``; with
        ``pattern="shapes"`` also ``shape``, the shape drawn in each image.

    See Also
    --------
    load_image_folder : Read a folder in this layout.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_pos.datasets import make_image_folder
    >>> folder = make_image_folder(tempfile.mkdtemp(), n_per_class=2)
    >>> folder.target_names
    ['blue', 'green', 'red']
    >>> len(folder.paths), folder.target[:2].tolist()
    (6, ['blue', 'blue'])

    Noisy images of varying sizes, PNG and JPEG in turn:

    >>> folder = make_image_folder(
    ...     tempfile.mkdtemp(), pattern="noise", vary_size=True,
    ...     formats=("png", "jpeg"), n_per_class=2,
    ... )
    >>> [path[-4:] for path in folder.paths[:2]]
    ['.png', '.jpg']
    """
    classes = list(classes)
    unknown = [c for c in classes if c not in COLOURS]
    if unknown or not classes:
        raise ValueError(
            f"classes must be non-empty colour names among {sorted(COLOURS)}; "
            f"unknown: {unknown}."
        )
    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise ValueError(f"n_per_class must be an int >= 1; got {n_per_class!r}.")
    width, height = _check_size(image_size)
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {PATTERNS}; got {pattern!r}.")
    formats = [formats] if isinstance(formats, str) else list(formats)
    bad = [f for f in formats if f not in _FORMATS]
    if bad or not formats:
        raise ValueError(
            f"formats must be a non-empty list of {sorted(_FORMATS)}; got {formats!r}."
        )
    from PIL import Image

    seed = check_random_state(random_state).randint(2**31)
    rng = np.random.default_rng(seed)
    root = Path(root)
    # Zero-padded numbers, so that sorting the file names (as load_image_folder
    # does) keeps the order in which they were drawn.
    digits = len(str(n_per_class - 1))
    names = sorted(set(classes))
    paths, target, shapes = [], [], []
    for name in names:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        colour = COLOURS[name]
        for i in range(n_per_class):
            w, h = width, height
            if vary_size:
                w = int(rng.integers(width // 2, width * 3 // 2))
                h = int(rng.integers(height // 2, height * 3 // 2))
            if pattern == "shapes":
                shape = _SHAPES[int(rng.integers(len(_SHAPES)))]
                pixels = _shape_image(colour, shape, w, h, rng)
                shapes.append(shape)
            elif pattern == "noise":
                pixels = _noise_image(colour, w, h, rng)
            else:
                pixels = _field_image(colour, w, h, rng)
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            fmt = formats[i % len(formats)]
            path = folder / f"{name}_{i:0{digits}d}{_FORMATS[fmt]}"
            image.save(path, **({"quality": 90} if fmt == "jpeg" else {}))
            paths.append(str(path))
            target.append(name)
    labels = np.empty(len(target), dtype=object)
    labels[:] = target
    data = np.empty(len(paths), dtype=object)
    data[:] = paths
    folder = Bunch(
        root=root,
        data=data,
        paths=paths,
        target=labels,
        target_names=names,
        folders=list(names),
    )
    if pattern == "shapes":
        folder.shape = np.asarray(shapes)
    return folder
