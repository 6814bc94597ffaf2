"""Image datasets stored as one folder per class, and the one rule listing images."""

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

#: File suffixes read as images, compared case-insensitively (``.JPG`` too).
#: Every one of them is a format Pillow decodes.
IMAGE_SUFFIXES = (
    ".bmp",
    ".gif",
    ".jpeg",
    ".jpg",
    ".png",
    ".tif",
    ".tiff",
    ".webp",
)


def class_name(folder_name):
    """Readable class name of a class folder: underscores read as spaces.

    Runs of spaces count as one (``golden__retriever`` is ``"golden
    retriever"``): CLIP's tokenizer reads them so, and two names that embed
    alike must not be two classes.
    """
    return " ".join(str(folder_name).replace("_", " ").split())


def _is_image_name(name):
    # Hidden files are skipped: ``._photo.jpg`` (macOS resource forks) and
    # editors' ``.~lock`` files carry an image suffix but hold no image.
    return not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES


def list_images(root):
    """List the image files under a folder, recursively, sorted.

    The one rule by which the library finds images in a folder, shared by
    :func:`load_image_folder` (within each class folder) and
    :func:`~sklearn_pos.embed_collection` (a folder source): a file is an
    image when its suffix is one of :data:`IMAGE_SUFFIXES`, in any case
    (``.JPG``); hidden files and folders (a name starting with a dot, such
    as ``.ipynb_checkpoints/`` or macOS's ``._photo.jpg``) are skipped. The
    files are not opened.

    Parameters
    ----------
    root : str or path-like
        The folder to search.

    Returns
    -------
    paths : list of str
        The image files, as ``root`` joined with their path below it, sorted
        by that relative path (as text).

    See Also
    --------
    load_image_folder : Images and classes of a ``root/<class>/<image>`` folder.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_pos.datasets import list_images
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ["b.PNG", "a.jpg", ".hidden.png", "notes.txt"]:
    ...     _ = (root / name).write_bytes(b"")
    >>> [Path(p).name for p in list_images(root)]
    ['a.jpg', 'b.PNG']
    """
    root = os.fspath(root)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, root)
        for name in files:
            # Not opened nor stat'ed: a broken link is listed, and reported by
            # name when it is read, rather than silently left out.
            if _is_image_name(name):
                found.append(name if rel == "." else os.path.join(rel, name))
    found.sort()
    return [os.path.join(root, name) for name in found]


def load_image_folder(root):
    """Load the image paths and classes of a ``root/<class>/<image>`` folder.

    The layout is that of torchvision's ``ImageFolder``: each subfolder of
    ``root`` is a class and holds its images, directly or in subfolders of
    its own (they are searched recursively). Files count as images when
    their suffix is one of :data:`IMAGE_SUFFIXES`, in any case (``.JPG``);
    other files are ignored, as are hidden files and folders, whose name
    starts with a dot (``.ipynb_checkpoints``, ``._photo.jpg``): the rule of
    :func:`list_images`, which :func:`~sklearn_pos.embed_collection` follows
    too. The images are not opened here.

    Class names are the folder names with underscores read as spaces
    (``golden_retriever`` is the class ``"golden retriever"``), since the
    names serve as text, e.g. in zero-shot prompts. Classes are sorted by
    folder name, as ``ImageFolder`` sorts them, and the paths are sorted
    within each class.

    Parameters
    ----------
    root : str or path-like
        The dataset folder.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        root : Path
            The folder read.
        data : ndarray of shape (n_images,), dtype=object
            The image files (``str`` paths), class by class: the ``X`` of
            :class:`~sklearn_pos.CLIPEmbedder` (``modality="image"``), as
            ``data`` is for the other loaders of :mod:`sklearn_pos.datasets`.
        paths : list of str
            The same paths, as a list.
        target : ndarray of shape (n_images,), dtype=object
            The class name of each image, as the strings listed in
            ``target_names`` (not integer codes), so that a classifier's
            ``classes_`` are the class names.
        target_names : list of str
            The class names, in the order of their folders.
        folders : list of str
            The folder name of each class, parallel to ``target_names``.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If ``root`` has no class subfolders, if a class folder holds no
        image (a class without images would silently drop out of a
        zero-shot label set), or if two folders give the same class name
        (``golden_retriever`` and ``golden retriever``).

    See Also
    --------
    list_images : The rule that finds the images.
    make_image_folder : Write a small generated folder in this layout.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_pos.datasets import load_image_folder, make_image_folder
    >>> root = tempfile.mkdtemp()
    >>> _ = make_image_folder(root, classes=("red", "blue"), n_per_class=2)
    >>> folder = load_image_folder(root)
    >>> folder.target_names
    ['blue', 'red']
    >>> len(folder.paths), folder.target.tolist()
    (4, ['blue', 'blue', 'red', 'red'])
    >>> folder.data.shape, folder.data.tolist() == folder.paths
    ((4,), True)
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{root} is not a folder: give a folder holding one subfolder of "
            "images per class (root/<class>/<image>)."
        )
    folders = sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    if not folders:
        raise ValueError(
            f"{root} has no class subfolders: put the images of each class in a "
            "subfolder named after it (root/<class>/<image>)."
        )
    seen = {}
    for folder in folders:
        name = class_name(folder.name)
        if name in seen:
            raise ValueError(
                f"The folders {seen[name].name!r} and {folder.name!r} of {root} "
                f"both give the class name {name!r} (underscores read as spaces): "
                "merge or rename one of them."
            )
        seen[name] = folder
    paths, target, empty = [], [], []
    for folder in folders:
        files = list_images(folder)
        if not files:
            empty.append(folder.name)
        paths.extend(files)
        target.extend([class_name(folder.name)] * len(files))
    if empty:
        raise ValueError(
            f"The class folders {empty} of {root} hold no image (files ending in "
            f"{', '.join(IMAGE_SUFFIXES)}, in any case): add images or remove "
            "the folders."
        )
    labels = np.empty(len(target), dtype=object)
    labels[:] = target
    data = np.empty(len(paths), dtype=object)
    data[:] = paths
    return Bunch(
        root=root,
        data=data,
        paths=paths,
        target=labels,
        target_names=[class_name(f.name) for f in folders],
        folders=[f.name for f in folders],
    )
