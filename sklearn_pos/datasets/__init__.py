"""Datasets: bundled vocabularies, image folders and generated data.

The vocabularies live in ``sklearn_pos/datasets/data`` and are installed
with the package (no download). WordNet 3.0 is redistributed under Princeton
University's WordNet licence, whose full text is ``data/WORDNET_LICENSE``.

=============================  ===============================================
:func:`load_wordnet_vocabulary` WordNet words by part of speech (or a seeded,
                               stratified subset of them)
:func:`load_artists`           names of painters and other visual artists
:func:`load_themed_vocabulary` WordNet words plus a theme (artists) as a
                               fifth category
:func:`stratified_subset`      the seeded, stratified subset behind them
:func:`load_image_folder`      the paths and classes of a ``root/<class>/``
                               image folder
:func:`make_image_folder`      write a generated image folder
=============================  ===============================================
"""

from ._artists import load_artists, load_themed_vocabulary
from ._generators import COLOURS, make_image_folder
from ._image_folder import IMAGE_SUFFIXES, load_image_folder
from ._subset import stratified_subset
from ._wordnet import load_wordnet_vocabulary

__all__ = [
    "COLOURS",
    "IMAGE_SUFFIXES",
    "load_artists",
    "load_image_folder",
    "load_themed_vocabulary",
    "load_wordnet_vocabulary",
    "make_image_folder",
    "stratified_subset",
]
