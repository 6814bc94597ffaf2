"""Images: decoding any input to RGB, the DataLoader dataset, and image encoding."""

import functools
import os

import numpy as np

from .batching import encode_batches


class ImageReadError(OSError):
    """An input image could not be read or decoded.

    Attributes
    ----------
    row : int
        Position of the offending item in the input (0-based).
    source : str
        The file path, or a short description of the in-memory object.
    """

    def __init__(self, message, *, row, source):
        super().__init__(message)
        self.row = row
        self.source = source

    def __reduce__(self):
        # keyword-only arguments are not in ``args``: without this, unpickling (as
        # joblib does for errors raised in worker processes) would fail
        return (
            functools.partial(type(self), row=self.row, source=self.source),
            (str(self),),
        )


def describe_image(item):
    """Short text naming an image input, for error messages."""
    if isinstance(item, (str, os.PathLike)):
        return repr(os.fspath(item))
    if isinstance(item, np.ndarray):
        return f"array of shape {item.shape} and dtype {item.dtype}"
    if hasattr(item, "mode") and hasattr(item, "size"):
        return f"PIL image, mode {item.mode!r}, size {item.size}"
    return type(item).__name__


def _sixteen_to_uint8(arr):
    """Map 16-bit intensities (0..65535) to 0..255."""
    scaled = np.rint(np.asarray(arr, dtype=np.float64) / 257.0)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _pil_to_rgb(img):
    """RGB copy of a PIL image; alpha is composited on white, 16-bit scaled to 8-bit."""
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(img)
        peak = float(arr.max()) if arr.size else 0.0
        if mode == "F" and peak <= 1.0:  # floats in [0, 1]
            arr8 = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
        elif mode.startswith("I;16") or peak > 255:  # 16-bit range
            arr8 = _sixteen_to_uint8(arr)
        else:  # 32-bit container holding 8-bit values
            arr8 = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8).convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in img.info
    )
    if has_alpha:
        # Pillow converts premultiplied "La" only to "LA" (un-premultiplying).
        rgba = (img.convert("LA") if mode == "La" else img).convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _array_to_pil(arr):
    from PIL import Image

    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ValueError(
            f"expected an HxW or HxWxC array with C in (1, 3, 4), got shape {arr.shape}"
        )
    if arr.dtype == np.uint16:
        arr = _sixteen_to_uint8(arr)
    elif arr.dtype != np.uint8:
        raise ValueError(
            f"image arrays must have dtype uint8 (or uint16), got {arr.dtype}; convert "
            "with e.g. (arr * 255).round().astype(np.uint8) for floats in [0, 1]"
        )
    # uint8 arrays map to mode L, RGB or RGBA by their shape
    return _pil_to_rgb(Image.fromarray(np.ascontiguousarray(arr)))


def _exif_orientation(img):
    """The EXIF orientation tag of a PIL image (1, upright, when it has none)."""
    try:
        return img.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - unreadable EXIF: decode as stored
        return 1


def _check_not_empty(img):
    if img.width == 0 or img.height == 0:
        raise ValueError(
            f"the image is empty ({img.width}x{img.height} pixels); every image "
            "needs at least one pixel"
        )
    return img


def load_rgb(item):
    """Read one image input (path, PIL image or array) as an RGB PIL image.

    The EXIF orientation is applied to files and to PIL images alike (the same
    picture gives the same embedding whether passed by path or opened first);
    it is part of an in-memory image's store key
    (:func:`sklearn_pos._identity.store_item_key`).
    """
    from PIL import Image, ImageOps

    if isinstance(item, (str, os.PathLike)):
        with Image.open(item) as img:
            img = ImageOps.exif_transpose(img)
            img.load()
            return _check_not_empty(_pil_to_rgb(img))
    if isinstance(item, Image.Image):
        if _exif_orientation(item) not in (1, None):
            item = ImageOps.exif_transpose(item)  # a transposed copy
        return _check_not_empty(_pil_to_rgb(item))
    if isinstance(item, np.ndarray):
        return _check_not_empty(_array_to_pil(item))
    raise TypeError(f"unsupported image input of type {type(item).__name__}")


class ImageDataset:
    """Map-style dataset for torch's DataLoader: decodes and preprocesses images.

    Failures are returned, not raised, so the caller can report the row cleanly.
    """

    def __init__(self, items, preprocess):
        self.items = items
        self.preprocess = preprocess

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        try:
            return i, self.preprocess(load_rgb(self.items[i])), None
        except Exception as exc:  # noqa: BLE001
            return i, None, f"{type(exc).__name__}: {exc}"


def collate_images(samples):
    import torch

    idx = [s[0] for s in samples]
    errors = [(s[0], s[2]) for s in samples if s[2] is not None]
    if errors:
        return idx, None, errors
    return idx, torch.stack([s[1] for s in samples]), []


def _lower_worker_priority(worker_id):
    """DataLoader worker init: decode with CPU time the model leaves unused."""
    try:
        os.nice(5)
    except (AttributeError, OSError):  # not available on this platform
        pass


def encode_images(
    loaded,
    items,
    rows,
    *,
    batch_size,
    precision,
    normalize,
    num_workers,
    verbose=False,
    counts=None,
    done=0,
):
    """Embed distinct images ``items`` (``rows[i]`` = input row of ``items[i]``).

    ``counts`` and ``done`` are those of :func:`.batching.encode_batches`: the
    progress bar counts the caller's rows, not the distinct images.

    Images are decoded and preprocessed by ``num_workers`` DataLoader workers while the
    model runs on the previous batch. When the model runs on the CPU, the workers get a
    lower scheduling priority, so that they fill the gaps of the model's threads
    instead of competing with them.
    """
    from torch.utils.data import DataLoader

    device = loaded.device
    workers = num_workers if len(items) > batch_size else 0
    loader = DataLoader(
        ImageDataset(items, loaded.preprocess),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        collate_fn=collate_images,
        pin_memory=device.startswith("cuda"),
        prefetch_factor=2 if workers else None,
        worker_init_fn=_lower_worker_priority if device == "cpu" and workers else None,
    )

    def batches():
        for idx, pixels, errors in loader:
            if errors:
                i, message = errors[0]
                source = describe_image(items[i])
                raise ImageReadError(
                    f"Could not read the image at row {rows[i]} ({source}): {message}",
                    row=rows[i],
                    source=source,
                )
            yield idx, pixels

    return encode_batches(
        loaded.encode_image,
        batches(),
        n=len(items),
        embed_dim=loaded.embed_dim,
        device=device,
        batch_size=batch_size,
        precision=precision,
        normalize=normalize,
        verbose=verbose,
        unit="img",
        counts=counts,
        done=done,
    )
