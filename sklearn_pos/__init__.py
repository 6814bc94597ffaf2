"""Part-of-speech grounded subspaces of CLIP embeddings, as scikit-learn estimators."""

__version__ = "0.1.0.dev0"

from .decomposition import PartOfSpeechComponentAnalysis

__all__ = [
    "PartOfSpeechComponentAnalysis",
    "__version__",
]
