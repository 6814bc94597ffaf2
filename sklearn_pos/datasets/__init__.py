"""Datasets: bundled vocabularies, image folders and generated data.

The vocabularies live in ``sklearn_pos/datasets/data`` and are installed
with the package (no download). WordNet 3.0 is redistributed under Princeton
University's WordNet licence, whose full text is ``data/WORDNET_LICENSE``.

Vocabularies
    :func:`load_wordnet_vocabulary` (WordNet words by part of speech, or a
    seeded stratified subset of them), :func:`load_artists` (painters and
    other visual artists), :func:`load_themed_vocabulary` (WordNet plus a
    theme as a fifth category), :func:`load_pos_vocabulary` (either, checked
    for fitting subspaces, as ``sklearn-pos fit`` loads it) and
    :func:`stratified_subset` (the subset behind them, for any labelled rows).
Image folders
    :func:`load_image_folder` lists the images and classes of a
    ``root/<class>/<image>`` folder; :func:`list_images` is the one rule that
    finds images in a folder (hidden files skipped); :func:`make_image_folder` writes a
    generated one.
Planted embeddings
    :class:`PlantedTextEmbedder` embeds CLAP prompts with planted content and
    style directions, to train and judge the CLAP disentangler without a model.
"""

from ._artists import load_artists, load_themed_vocabulary
from ._generators import COLOURS, PlantedTextEmbedder, make_image_folder
from ._image_folder import IMAGE_SUFFIXES, list_images, load_image_folder
from ._pos_vocabulary import load_pos_vocabulary
from ._subset import stratified_subset
from ._wordnet import load_wordnet_vocabulary

__all__ = [
    "COLOURS",
    "IMAGE_SUFFIXES",
    "PlantedTextEmbedder",
    "list_images",
    "load_artists",
    "load_image_folder",
    "load_pos_vocabulary",
    "load_themed_vocabulary",
    "load_wordnet_vocabulary",
    "make_image_folder",
    "stratified_subset",
]
