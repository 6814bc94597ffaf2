"""The one interface between the model backends and the shared encoding code."""

from dataclasses import dataclass


@dataclass
class LoadedModel:
    """A model in eval mode with what the shared text and image code runs.

    The one interface of the backends (open_clip, transformers): ``tokenizer``
    maps texts to a padded token tensor, ``preprocess`` one RGB PIL image to a
    pixel tensor, ``encode_text`` / ``encode_image`` a batch tensor to its
    features, and ``text_tower`` (when not None) runs texts on tokens cut to
    each batch's needed length with ``pool_index`` telling that length.
    """

    model: object
    tokenizer: object
    preprocess: object
    device: str
    embed_dim: int
    text_tower: object  # a cut causal tower, or None when cutting would not be exact
    encode_text: object
    encode_image: object
    processor: object = None  # the transformers processor; None for open_clip
