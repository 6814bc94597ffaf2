"""Generated data for examples, tests and benchmarks.

Image folders
    :func:`make_image_folder` writes small images of a dominant colour per
    class in the ``root/<class>/<image>`` layout read by
    :func:`~sklearn_pos.datasets.load_image_folder`. A real CLIP model
    recognises the colours from their names; random weights do not.
"""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

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
        ``root``, ``paths`` (class by class), ``target`` (colour name per
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
    folder = Bunch(
        root=root,
        paths=paths,
        target=labels,
        target_names=names,
        folders=list(names),
    )
    if pattern == "shapes":
        folder.shape = np.asarray(shapes)
    return folder
