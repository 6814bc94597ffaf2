"""Bundled vocabularies: WordNet words by part of speech and theme lists.

The files live in ``sklearn_pos/datasets/data`` and are installed with the
package (no download). WordNet 3.0 is redistributed under Princeton
University's WordNet licence, whose full text is ``data/WORDNET_LICENSE``.
"""

from ._artists import load_artists
from ._generators import PlantedTextEmbedder
from ._wordnet import load_wordnet_vocabulary

__all__ = [
    "PlantedTextEmbedder",
    "load_artists",
    "load_wordnet_vocabulary",
]
