"""Part-of-speech grounded subspaces of CLIP embeddings, as scikit-learn estimators.

Importing the package does not import torch: the CLIP parts load it on first use.
"""

from ._caches import clear_caches
from ._version import __version__
from .clap import CLAPDisentangler, make_clap_prompts
from .counterfactual import clip_nce_loss, directional_similarity
from .decomposition import PartOfSpeechComponentAnalysis
from .embedding import (
    CLIPEmbedder,
    ImageReadError,
    WeightsUnavailableError,
    uses_pretrained_weights,
)
from .evaluation import compare_zero_shot, evaluate_classifiers
from .jobs import (
    DamagedOutputError,
    EmbedItemError,
    ManifestMismatchError,
    OutputLockedError,
    embed_collection,
    read_embeddings,
)
from .pae import ProjectionAugmentationEmbedding, projection_augmentation
from .persistence import load_subspaces, save_subspaces
from .prototypes import NearestPrototypeClassifier
from .store import (
    CorruptStoreWarning,
    EmbeddingStore,
    clear_store,
    get_cache_dir,
    store_info,
)
from .templates import TEMPLATES, get_templates
from .vocabulary import VocabularyPartOfSpeechAnalysis
from .zero_shot import ZeroShotClassifier, make_text_prototypes

__all__ = [
    "CLAPDisentangler",
    "CLIPEmbedder",
    "CorruptStoreWarning",
    "DamagedOutputError",
    "EmbedItemError",
    "EmbeddingStore",
    "ImageReadError",
    "ManifestMismatchError",
    "NearestPrototypeClassifier",
    "OutputLockedError",
    "PartOfSpeechComponentAnalysis",
    "ProjectionAugmentationEmbedding",
    "TEMPLATES",
    "VocabularyPartOfSpeechAnalysis",
    "WeightsUnavailableError",
    "ZeroShotClassifier",
    "__version__",
    "clear_caches",
    "clear_store",
    "clip_nce_loss",
    "compare_zero_shot",
    "directional_similarity",
    "embed_collection",
    "evaluate_classifiers",
    "get_cache_dir",
    "get_templates",
    "load_subspaces",
    "make_clap_prompts",
    "make_text_prototypes",
    "projection_augmentation",
    "read_embeddings",
    "save_subspaces",
    "store_info",
    "uses_pretrained_weights",
]
