"""Shared fixtures: a tiny CLIP model that needs no download, and generated images.

``tiny_clip_kwargs``      keyword arguments making a :class:`CLIPEmbedder` use the
                          bundled ``sklearn-pos-tiny`` model (random seeded weights,
                          CPU).
``tiny_text_embedder``    a fresh text ``CLIPEmbedder`` on that model (64-d output).
``tiny_image_embedder``   a fresh image ``CLIPEmbedder`` on that model (32x32 input).
``tiny_clip_model``       the shared open_clip model behind them, as a Bunch with
                          ``model``, ``tokenizer``, ``preprocess``, ``device``,
                          ``embed_dim``.
``image_folder``          a folder of small generated images in three class
                          subfolders, as a Bunch with ``root``, ``paths``, ``target``
                          and ``target_names``.
"""

import numpy as np
import pytest
from sklearn.utils import Bunch

TINY_MODEL_NAME = "sklearn-pos-tiny"

# Dominant colour of each class of the generated images.
_IMAGE_CLASSES = {
    "red": (200, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 50, 200),
}


@pytest.fixture
def tiny_clip_kwargs():
    """CLIPEmbedder arguments for the bundled tiny model (no download, CPU)."""
    pytest.importorskip("open_clip")
    return {"model_name": TINY_MODEL_NAME, "pretrained": None, "device": "cpu"}


@pytest.fixture
def tiny_text_embedder(tiny_clip_kwargs):
    """An unfitted text CLIPEmbedder on the tiny model."""
    from sklearn_pos.embedding import CLIPEmbedder

    return CLIPEmbedder(modality="text", **tiny_clip_kwargs)


@pytest.fixture
def tiny_image_embedder(tiny_clip_kwargs):
    """An unfitted image CLIPEmbedder on the tiny model (decoding in-process)."""
    from sklearn_pos.embedding import CLIPEmbedder

    return CLIPEmbedder(modality="image", num_workers=0, **tiny_clip_kwargs)


@pytest.fixture(scope="session")
def tiny_clip_model():
    """The open_clip model, tokenizer and preprocessing behind the tiny embedders."""
    pytest.importorskip("open_clip")
    from sklearn_pos.embedding import CLIPEmbedder

    return CLIPEmbedder(TINY_MODEL_NAME, None, device="cpu").get_model()


def write_generated_images(root, n_per_class=4, seed=0):
    """Write noisy images of a dominant colour per class under ``root/<class>/``.

    Sizes vary and formats alternate between PNG and JPEG. Returns a Bunch with
    ``root``, ``paths`` (list of str), ``target`` (class name per path) and
    ``target_names``.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths, target = [], []
    for name, colour in _IMAGE_CLASSES.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            h, w = int(rng.integers(24, 72)), int(rng.integers(24, 72))
            noise = rng.normal(0, 25, size=(h, w, 3))
            pixels = np.clip(np.asarray(colour) + noise, 0, 255).astype(np.uint8)
            suffix = ".png" if i % 2 == 0 else ".jpg"
            path = folder / f"{name}_{i}{suffix}"
            Image.fromarray(pixels).save(path)
            paths.append(str(path))
            target.append(name)
    return Bunch(
        root=root,
        paths=paths,
        target=np.asarray(target),
        target_names=list(_IMAGE_CLASSES),
    )


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """Twelve small generated images in ``red/``, ``green/`` and ``blue/`` subfolders.

    Treat it as read-only: it is shared by the whole test session.
    """
    pytest.importorskip("PIL")
    return write_generated_images(tmp_path_factory.mktemp("images"))
