"""Encoding texts through any text embedder (shared by the text-driven estimators)."""

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import validate_data


def embed_texts(embedder, texts, *, dtype=np.float64, what="text_embedder"):
    """Embeddings of ``texts`` (list of str) as a ``dtype`` array, each distinct text once.

    ``embedder`` is any object with ``transform(list of str)``, such as a text
    :class:`~sklearn_pos.CLIPEmbedder`; scikit-learn transformers that must be
    fitted first are fitted on a clone. Sparse outputs are densified.
    """
    from .embedding import CLIPEmbedder

    if isinstance(embedder, CLIPEmbedder):
        # It encodes each distinct text once by itself, and its progress bar
        # then counts every text passed (e.g. all words of a vocabulary).
        unique, inverse = [str(t) for t in texts], np.arange(len(texts))
    else:
        unique, inverse = np.unique(
            np.asarray(texts, dtype=object), return_inverse=True
        )
        unique = [str(t) for t in unique]
    try:
        E = embedder.transform(unique)
    except NotFittedError:
        E = clone(embedder).fit(unique).transform(unique)
    if sparse.issparse(E):
        E = E.toarray()
    E = np.asarray(E, dtype=dtype)
    if E.ndim != 2 or E.shape[0] != len(unique):
        raise ValueError(
            f"{what}.transform must return an array of shape (n_texts, n_features); "
            f"got shape {E.shape} for {len(unique)} texts."
        )
    return E[inverse.ravel()]


def validate_embeddings(estimator, *args, **kwargs):
    """scikit-learn's ``validate_data``, with a clear error for texts given as X.

    Texts passed straight to an estimator that takes embeddings (the
    embedder left out of a pipeline) fail in numpy's conversion with
    "could not convert string to float", which names neither the estimator
    nor the fix.
    """
    try:
        return validate_data(estimator, *args, **kwargs)
    except ValueError as error:
        if "could not convert string to float" not in str(error):
            raise
        name = type(estimator).__name__
        raise ValueError(
            f"{name} expects embeddings (arrays of numbers) as X, but X holds "
            f"text ({error}). Embed texts or images first, e.g. "
            f"make_pipeline(CLIPEmbedder(...), {name}(...))."
        ) from error
