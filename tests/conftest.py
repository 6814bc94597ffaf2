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
                          subfolders, the Bunch of
                          :func:`sklearn_pos.datasets.make_image_folder` (``root``,
                          ``paths``, ``target``, ``target_names``, ...).
``saved_figures``         the matplotlib figures saved while the test runs, as
                          ``(path, figure)`` pairs, to check what was drawn.

Every test runs with ``SKLEARN_POS_CACHE`` pointing at a temporary folder, so
that the commands' default embedding store never writes to the real home.
"""

import pytest

TINY_MODEL_NAME = "sklearn-pos-tiny"


@pytest.fixture(autouse=True, scope="session")
def _cache_in_a_temporary_folder(tmp_path_factory):
    """The default embedding store (``get_cache_dir``) in a temporary folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKLEARN_POS_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


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


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """Twelve small generated images in ``red/``, ``green/`` and ``blue/`` subfolders.

    Treat it as read-only: it is shared by the whole test session.
    """
    pytest.importorskip("PIL")
    from sklearn_pos.datasets import make_image_folder

    # Noisy colours of varying sizes, PNG and JPEG in turn: the decoding paths
    # real folders exercise.
    return make_image_folder(
        tmp_path_factory.mktemp("images"),
        n_per_class=4,
        image_size=48,
        pattern="noise",
        vary_size=True,
        formats=("png", "jpeg"),
    )


@pytest.fixture
def saved_figures(monkeypatch):
    """``(path, figure)`` of every matplotlib figure saved during the test.

    ``Figure.savefig`` still saves (the file is written as usual); the figure is
    also kept, so that a test can read its titles, labels and artists after the
    code under test has saved and closed it.
    """
    pytest.importorskip("matplotlib")
    from pathlib import Path

    from matplotlib.figure import Figure

    saved = []
    save = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        saved.append((Path(fname), self))
        return save(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved
