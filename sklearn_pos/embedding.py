"""CLIP text and image embeddings as a scikit-learn transformer."""

import os
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import Bunch

from . import _clip, _identity
from ._clip import TINY_MODEL_NAME, ImageReadError, WeightsUnavailableError
from ._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    keep_series_index,
)
from ._labels import is_missing

__all__ = [
    "CLIPEmbedder",
    "ImageReadError",
    "TINY_MODEL_NAME",
    "WeightsUnavailableError",
    "uses_pretrained_weights",
]

# Bump when a change alters the embeddings stored by the on-disk cache.
_CACHE_FORMAT = 1


def _as_column(X, modality, *, allow_empty=False):
    """The inputs as a list, plus the column name when ``X`` is a named column.

    An empty input is an error unless ``allow_empty`` (``transform``: an empty
    partition of a Dask collection gives an empty array).
    """
    noun = "texts" if modality == "text" else "images"
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(
            f"CLIPEmbedder expects a sequence of {noun}, got a single "
            f"{type(X).__name__}; wrap it in a list: [{X!r}]."
        )
    name = None
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # pandas DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"CLIPEmbedder expects one column of {noun}, got a DataFrame with "
                f"{X.shape[1]} columns {list(X.columns)}; select the column first "
                "(e.g. with a ColumnTransformer)."
            )
        name = X.columns[0]
        items = X.iloc[:, 0].tolist()
    elif hasattr(X, "iloc") and hasattr(X, "name"):  # pandas Series
        name = X.name
        items = X.tolist()
    elif isinstance(X, np.ndarray):
        if modality == "image" and X.dtype.kind in "uif" and X.ndim in (2, 3):
            raise ValueError(
                f"Got a single numeric array of shape {X.shape}: pass a list of images "
                "([array]) or a 4-d array of shape (n_images, height, width, channels)."
            )
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1 and not (modality == "image" and X.ndim == 4):
            raise ValueError(
                f"CLIPEmbedder expects a 1-d array of {noun} (or shape (n, 1)), got an "
                f"array of shape {X.shape}."
            )
        items = list(X)
    elif isinstance(X, (list, tuple)):
        items = list(X)
    elif hasattr(X, "__len__") and hasattr(X, "__iter__") and not isinstance(X, dict):
        items = list(X)
    else:
        raise TypeError(
            "CLIPEmbedder expects a list, array, pandas Series or one-column "
            f"DataFrame of {noun}, got {type(X).__name__}."
        )
    if len(items) == 0 and not allow_empty:
        # scikit-learn's words for the same rule, which fit follows.
        raise ValueError(
            f"CLIPEmbedder got an empty input (0 {noun}): found 0 sample(s) while "
            "a minimum of 1 is required by CLIPEmbedder.fit; pass at least one "
            "item."
        )
    return items, name


def _check_texts(items):
    for row, item in enumerate(items):
        if isinstance(item, str):
            continue
        if is_missing(item):
            raise ValueError(
                f"Missing value (None/NaN) at row {row}: CLIPEmbedder(modality='text') "
                "needs a string in every row; drop or fill the missing rows first."
            )
        raise TypeError(
            f"Row {row} holds a {type(item).__name__} ({item!r}), but "
            "CLIPEmbedder(modality='text') expects strings. Convert the column with "
            "astype(str) if these values are meant as text, or use modality='image' "
            "for images."
        )
    return [str(t) for t in items]


def _check_images(items):
    from PIL import Image

    for row, item in enumerate(items):
        if isinstance(item, (str, os.PathLike, Image.Image)):
            continue
        if isinstance(item, np.ndarray):
            if item.size == 0 and item.ndim in (2, 3):
                raise ValueError(
                    f"Row {row} is an empty image array (shape {item.shape}); every "
                    "image needs at least one pixel."
                )
            if item.dtype not in (np.uint8, np.uint16) or item.ndim not in (2, 3):
                raise TypeError(
                    f"Row {row} is an array of shape {item.shape} and dtype "
                    f"{item.dtype}; image arrays must be HxW or HxWxC (C = 1, 3 or 4) "
                    "with dtype uint8 (or uint16). Convert floats in [0, 1] with "
                    "(arr * 255).round().astype(np.uint8)."
                )
            continue
        if is_missing(item):
            raise ValueError(
                f"Missing value (None/NaN) at row {row}: every row needs an image."
            )
        raise TypeError(
            f"Row {row} holds a {type(item).__name__}; CLIPEmbedder(modality='image') "
            "expects file paths (str or pathlib.Path), PIL images or HxWxC uint8 "
            "arrays."
        )
    return items


def _unique(items, modality):
    """Distinct inputs, the row of each one's first occurrence, and the inverse map."""
    if modality == "text":  # one pass in C-level loops: texts are their own key
        index = {}
        inverse = np.fromiter(
            (index.setdefault(t, len(index)) for t in items), np.intp, len(items)
        )
        first = np.empty(len(index), dtype=np.intp)
        first[inverse[::-1]] = np.arange(len(items) - 1, -1, -1)
        return list(index), first.tolist(), inverse
    seen = {}
    uniq, first_rows = [], []
    inverse = np.empty(len(items), dtype=np.intp)
    for row, item in enumerate(items):
        if modality == "text":
            key = item
        elif isinstance(item, (str, os.PathLike)):
            key = ("path", os.path.abspath(os.fspath(item)))
        else:
            key = ("object", id(item))
        pos = seen.get(key)
        if pos is None:
            pos = seen[key] = len(uniq)
            uniq.append(item)
            first_rows.append(row)
        inverse[row] = pos
    return uniq, first_rows, inverse


class CLIPEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Embed texts or images with a CLIP model, inside scikit-learn pipelines.

    Each input row becomes one CLIP embedding, a float32 vector of the model's joint
    text-image space (512 dimensions for ViT-B-32), scaled to unit norm by default.
    Any `open_clip <https://github.com/mlfoundations/open_clip>`_ architecture and
    weights can be used, or a Hugging Face transformers ``CLIPModel``,
    ``SiglipModel`` or ``Siglip2Model`` (``backend="transformers"``). The
    transformer is stateless: :meth:`transform` works without :meth:`fit`, which
    only records metadata.

    The model is loaded on first use, not at construction, and is shared by every
    estimator of the process that asks for the same weights on the same device:
    ``clone``, ``GridSearchCV`` candidates and text/image embedders of one model all
    use a single copy (see :func:`~sklearn_pos.clear_caches`). The estimator itself
    never holds the weights, so pickles stay small and reload the model lazily where
    they are unpickled.

    Texts are encoded exactly as open_clip's ``encode_text`` does, but faster: distinct
    texts only, sorted by token length into batches that run on tokens cut to the
    longest length the batch needs (the text transformer is causal and reads the
    end-of-text token, so the padding never matters). Text towers where this would
    change the result (bidirectional, class-token or Hugging Face towers) run on the
    full context instead. Images are decoded and preprocessed in DataLoader worker
    processes while the model runs. On GPU, a batch that runs out of memory is retried
    in smaller pieces.

    Empty input follows the rule of every estimator of this package: ``fit`` and
    ``fit_transform`` need at least one item; ``transform`` of 0 items returns a
    ``(0, embedding_dim)`` float32 array, as an empty partition of a Dask collection
    needs.

    Parameters
    ----------
    model_name : str or path-like, default="ViT-B-32"
        open_clip architecture, e.g. ``"ViT-B-32"``, ``"ViT-L-14"`` or the bundled
        ``"sklearn-pos-tiny"`` (a very small random model for tests and examples).
        Ignored when ``pretrained`` starts with ``"hf-hub:"`` or ``"local-dir:"``.
        With ``backend="transformers"``: a folder written by ``save_pretrained``
        (the model's and its processor's files) or a hub id such as
        ``"openai/clip-vit-base-patch32"``; it names the architecture and the
        weights.

    pretrained : str, path-like or None, default="openai"
        Where the weights come from:

        - an open_clip tag such as ``"openai"`` or ``"laion2b_s34b_b79k"``
          (``open_clip.list_pretrained_tags_by_model(model_name)``); the activation
          (QuickGELU for OpenAI weights) and image preprocessing the weights were
          trained with are applied. Weights not yet in the local cache are downloaded;
          when that is impossible a :class:`WeightsUnavailableError` is raised within
          seconds, explaining how to use a local checkpoint.
        - the path of a checkpoint file (``.pt``, ``.pth``, ``.bin``,
          ``.safetensors``) for ``model_name``. Weights trained with QuickGELU need
          the ``"-quickgelu"`` variant of the name (e.g. ``"ViT-B-32-quickgelu"``).
        - ``"local-dir:/path/to/folder"`` holding ``open_clip_config.json`` and a
          weights file, or ``"hf-hub:org/repo"``.
        - ``None``: random weights drawn with ``random_state`` (tests, benchmarks).

        With ``backend="transformers"`` the weights are those of ``model_name``:
        leave ``pretrained`` at its default; any other value is refused.

    backend : {"open_clip", "transformers"}, default="open_clip"
        The library that runs the model. ``"transformers"`` loads ``AutoModel``
        and ``AutoProcessor`` (a ``CLIPModel``, ``SiglipModel`` or
        ``Siglip2Model``) from ``model_name``; the embeddings equal the model's
        ``get_text_features`` / ``get_image_features`` on its processor's output
        (L2-normalised with ``normalize``). Weights are read from
        ``*.safetensors`` files only (a pickled ``pytorch_model.bin`` is refused,
        with how to convert it), and no code from the model's repository runs.
        A hub id missing from the local Hugging Face cache is fetched; when that
        is impossible a :class:`WeightsUnavailableError` is raised within
        seconds (at once with ``HF_HUB_OFFLINE=1``). Needs the ``transformers``
        extra.

    revision : str or None, default=None
        Branch, tag or commit of a hub id to load (``backend="transformers"``);
        ``None`` is the default branch. Refused with a local folder and with
        ``backend="open_clip"``.

    modality : {"text", "image"}, default="text"
        What the inputs are. Texts: a list, array or Series of strings, or a
        one-column DataFrame. Images: file paths (str or :class:`pathlib.Path`), PIL
        images or HxWxC ``uint8`` arrays (also ``uint16``, grayscale HxW, or a 4-d
        array of images). Grayscale, palette, 16-bit and transparent images are
        converted to RGB (transparency over a white background) and the EXIF
        orientation of files and PIL images is applied.

    device : str, default="auto"
        Torch device: ``"auto"`` picks ``"cuda"`` if available, else ``"mps"``, else
        ``"cpu"``; or any explicit device such as ``"cuda:1"``.

    precision : {"fp32", "fp16", "bf16"}, default="fp32"
        ``"fp16"`` and ``"bf16"`` run the model under automatic mixed precision
        (weights stay fp32; matrix products use the half type), which is much faster
        on GPU. Outputs are always float32.

    batch_size : int or None, default=None
        Rows per forward pass; on GPU an upper bound, halved when a batch runs out
        of memory. ``None`` picks 128 for texts, and for images 32 on CPU (larger
        image batches are slower there) or 128 on other devices.

    normalize : bool, default=True
        Scale each embedding to unit L2 norm.

    num_workers : int or None, default=None
        Worker processes decoding images (``modality="image"``); ``None`` uses
        ``min(4, n_cpus - 1)``, ``0`` decodes in the main process. Inputs that fit in
        one batch are always decoded in the main process.

    memory : str, path-like, joblib.Memory or None, default=None
        A folder (or a :class:`joblib.Memory`, for its location) holding an
        :class:`~sklearn_pos.store.EmbeddingStore`: one entry per distinct item,
        under the identity of the model (architecture, the digest of the weights
        file's bytes or the seed, preprocessing, ``precision``, ``normalize``,
        modality). Items are keyed by content: texts by their characters, image
        files by their bytes, in-memory images by their pixels, mode, palette and
        EXIF orientation. Only the items not in the store are encoded, so folds,
        grid-search candidates, reordered, subset and superset calls and other
        processes reuse every item encoded before. The device is not part of the
        key. A folder that cannot be written fails at once, naming it.

    random_state : int, default=0
        Seed of the random weights used when ``pretrained=None``; equal seeds give
        equal weights in every process and on every device. Ignored otherwise.

    verbose : bool or int, default=False
        Show a progress bar (tqdm) for inputs longer than one batch.

    Attributes
    ----------
    embedding_dim_ : int
        Width of the embeddings (the number of output columns).

    device_ : str
        Device the model runs on, ``device`` with ``"auto"`` resolved.

    n_features_in_ : int
        Always 1: one text or image per row.

    feature_names_in_ : ndarray of shape (1,)
        Name of the input column, when fitted on a named pandas Series or DataFrame.

    See Also
    --------
    sklearn_pos.PartOfSpeechComponentAnalysis : Part-of-speech subspaces of the
        embeddings.
    sklearn_pos.clear_caches : Release the models shared by the embedders of this
        process (and the other in-process caches).

    Notes
    -----
    With ``device="cpu"`` and ``precision="fp32"`` results are deterministic, but
    they can differ from a row-by-row encoding by float rounding (about 1e-7), since
    matrix products are blocked differently in different batches; GPUs and half
    precision add larger batch effects (the ``non_deterministic`` tag is then set).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos import CLIPEmbedder
    >>> emb = CLIPEmbedder(model_name="sklearn-pos-tiny", pretrained=None, device="cpu")
    >>> E = emb.fit_transform(["dog", "a red car", "dog"])
    >>> E.shape, E.dtype
    ((3, 64), dtype('float32'))
    >>> bool(np.allclose(np.linalg.norm(E, axis=1), 1.0))
    True
    >>> bool(np.array_equal(E[0], E[2]))
    True
    >>> emb.get_feature_names_out()[:3]
    array(['clipembedder0', 'clipembedder1', 'clipembedder2'], dtype=object)
    """

    _parameter_constraints: dict = {
        "model_name": [str, os.PathLike],
        "pretrained": [str, os.PathLike, None],
        "backend": [StrOptions({"open_clip", "transformers"})],
        "revision": [str, None],
        "modality": [StrOptions({"text", "image"})],
        "device": [str],
        "precision": [StrOptions({"fp32", "fp16", "bf16"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "normalize": ["boolean"],
        "num_workers": [Interval(Integral, 0, None, closed="left"), None],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model_name="ViT-B-32",
        pretrained="openai",
        *,
        backend="open_clip",
        revision=None,
        modality="text",
        device="auto",
        precision="fp32",
        batch_size=None,
        normalize=True,
        num_workers=None,
        memory=None,
        random_state=0,
        verbose=False,
    ):
        self.model_name = model_name
        self.pretrained = pretrained
        self.backend = backend
        self.revision = revision
        self.modality = modality
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        self.normalize = normalize
        self.num_workers = num_workers
        self.memory = memory
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ public API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the model and record the output width; no learning happens.

        Parameters
        ----------
        X : list, ndarray, pandas Series or one-column DataFrame
            Texts or images (see ``modality``). Checked, not encoded.

        y : None
            Ignored.

        Returns
        -------
        self : CLIPEmbedder
            The fitted embedder.
        """
        items, name = _as_column(X, self.modality)
        self._check_items(items)
        if self.memory is not None:
            from .store import open_store

            open_store(self.memory)  # an unusable folder fails now, naming it
        loaded = self._load()
        self.embedding_dim_ = loaded.embed_dim
        self.device_ = loaded.device
        self.n_features_in_ = 1
        if isinstance(name, str):
            self.feature_names_in_ = np.asarray([name], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def transform(self, X):
        """Embed each row of ``X``.

        Parameters
        ----------
        X : list, ndarray, pandas Series or one-column DataFrame
            Texts or images (see ``modality``).

        Returns
        -------
        E : ndarray of shape (n_samples, embedding_dim), dtype float32
            One embedding per row, in input order; unit norm if ``normalize``.
            An empty input gives an empty ``(0, embedding_dim)`` array, as an
            empty partition of a Dask collection needs.
        """
        self._validate_params()
        items, _ = _as_column(X, self.modality, allow_empty=True)
        if not items:
            empty = np.empty((0, self._n_features_out), dtype=np.float32)
            return keep_series_index(self, X, empty)
        items = self._check_items(items)
        uniq, first_rows, inverse = _unique(items, self.modality)
        # Rows per distinct item: the progress bar counts the rows passed.
        counts = np.bincount(inverse, minlength=len(uniq))
        E = self._embed(uniq, first_rows, counts)
        return keep_series_index(self, X, E[inverse])

    @property
    def _n_features_out(self):
        # Output width for ClassNamePrefixFeaturesOutMixin. The transformer is
        # stateless, so the names are known before fit: from the model then.
        if hasattr(self, "embedding_dim_"):
            return self.embedding_dim_
        return self._load().embed_dim

    def get_model(self):
        """The shared open_clip model, loading it if needed.

        Returns
        -------
        model : Bunch
            ``model`` (open_clip or transformers model in eval mode),
            ``tokenizer``, ``preprocess`` (image transform), ``device``,
            ``embed_dim`` and ``processor`` (the transformers processor, None for
            open_clip). The model is shared with other embedders of the same
            weights: do not modify it in place.
        """
        self._validate_params()
        loaded = self._load()
        return Bunch(
            model=loaded.model,
            tokenizer=loaded.tokenizer,
            preprocess=loaded.preprocess,
            device=loaded.device,
            embed_dim=loaded.embed_dim,
            processor=loaded.processor,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True  # texts, or image file paths
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = []  # always float32
        tags.requires_fit = False
        tags.non_deterministic = self.device != "cpu" or self.precision != "fp32"
        return tags

    # ---------------------------------------------------------------- internals

    def _check_items(self, items):
        if self.modality == "text":
            return _check_texts(items)
        return _check_images(items)

    def _spec(self):
        if self.backend == "transformers":
            if self.pretrained != "openai":
                raise ValueError(
                    f"pretrained={self.pretrained!r} means nothing for backend="
                    "'transformers': model_name names both the architecture and the "
                    "weights (a folder saved with save_pretrained, or a hub id; pin a "
                    "hub version with revision=). Leave pretrained at its default. "
                    "For random weights, save a randomly initialised model with "
                    "save_pretrained and pass its folder."
                )
            return _clip.resolve_hf_weights(self.model_name, self.revision)
        if self.revision is not None:
            raise ValueError(
                f"revision={self.revision!r} is for backend='transformers' hub ids; "
                "with backend='open_clip', name the weights with pretrained= (a tag, "
                "a checkpoint file, 'hf-hub:org/repo' or 'local-dir:folder') and "
                "leave revision=None."
            )
        return _clip.resolve_weights(
            self.model_name, self.pretrained, self.random_state
        )

    def _load(self, spec=None):
        spec = self._spec() if spec is None else spec
        return _clip.load_model(spec, _clip.resolve_device(self.device))

    def _batch_size(self, device):
        if self.batch_size is not None:
            return self.batch_size
        if self.modality == "image" and device == "cpu":
            return 32
        return 128

    def _n_workers(self):
        if self.num_workers is not None:
            return self.num_workers
        return max(0, min(4, (os.cpu_count() or 1) - 1))

    def _encode(self, spec, uniq, first_rows, counts=None, done=0):
        """Embeddings of the distinct items ``uniq``.

        ``counts`` (rows per item) and ``done`` (rows found in the store) only
        size the progress bar, which counts the rows of the input.
        """
        loaded = self._load(spec)
        batch_size = self._batch_size(loaded.device)
        if counts is None:
            counts = np.ones(len(uniq), dtype=np.int64)
        verbose = bool(self.verbose) and done + int(counts.sum()) > batch_size
        progress = dict(verbose=verbose, counts=counts, done=done)
        if self.modality == "text":
            return _clip.encode_texts(
                loaded,
                uniq,
                batch_size=batch_size,
                precision=self.precision,
                normalize=self.normalize,
                **progress,
            )
        return _clip.encode_images(
            loaded,
            uniq,
            first_rows,
            batch_size=batch_size,
            precision=self.precision,
            normalize=self.normalize,
            num_workers=self._n_workers(),
            **progress,
        )

    def _identity(self, spec):
        """The store namespace of this embedder's outputs, for weights ``spec``."""
        identity = {
            "format": _CACHE_FORMAT,
            "model_name": spec.model_name,
            "weights": list(spec.identity),
            "weights_content": _identity.weights_content(spec),
            "preprocess": list(spec.preprocess),
            "modality": self.modality,
            "precision": self.precision,
            "normalize": bool(self.normalize),
        }
        if self.backend != "open_clip":
            # open_clip identities keep their earlier form (and store entries)
            identity["backend"] = self.backend
        return identity

    def _request(self):
        """What is known of this embedder's outputs before anything is loaded."""
        return {
            "format": _CACHE_FORMAT,
            "weights": _identity.weights_request(
                self.model_name,
                self.pretrained,
                self.random_state,
                backend=self.backend,
                revision=self.revision,
            ),
            "modality": self.modality,
            "precision": self.precision,
            "normalize": bool(self.normalize),
        }

    def _resolved_identity(self, store):
        """``(spec, identity)``, resolving the weights and recording the request."""
        spec = self._spec()
        identity = self._identity(spec)
        record = _identity.request_record(spec)
        record["identity"] = identity
        store.remember(self._request(), record)
        return spec, identity

    def _recalled_identity(self, store):
        """The identity recorded for this embedder's request, if still current."""
        record = store.recall(self._request())
        if not isinstance(record, dict) or "identity" not in record:
            return None
        return record["identity"] if _identity.request_is_current(record) else None

    def identity(self):
        """What determines this embedder's outputs, as a JSON-serialisable dict.

        The architecture, the weights by content (the digest of the checkpoint's
        bytes, or the architecture and seed of random weights), the image
        preprocessing, the modality, the precision and the normalisation. Two
        embedders with equal identities give the same embeddings, wherever their
        weights files are; a checkpoint rewritten in place changes the identity.
        It names the embedder's namespace in the embedding store (``memory=``).
        Resolving it reads the weights file (once per file version and process)
        but does not build the model.

        Returns
        -------
        identity : dict

        Examples
        --------
        >>> from sklearn_pos import CLIPEmbedder
        >>> emb = CLIPEmbedder("sklearn-pos-tiny", pretrained=None, device="cpu")
        >>> ident = emb.identity()
        >>> ident["model_name"], ident["modality"], ident["precision"]
        ('sklearn-pos-tiny', 'text', 'fp32')
        >>> ident == emb.set_params(batch_size=7).identity()  # speed, not content
        True
        >>> ident == emb.set_params(random_state=1).identity()
        False
        """
        self._validate_params()
        return self._identity(self._spec())

    @staticmethod
    def _lookup(store, identity, item_keys, known):
        """Stored values of the ``known`` items, and which items were found."""
        values, found_known = store.get(identity, [item_keys[i] for i in known])
        found = np.zeros(len(item_keys), dtype=bool)
        found[np.asarray(known, dtype=np.intp)[found_known]] = True
        return values, found

    def _embed(self, uniq, first_rows, counts=None):
        if counts is None:
            counts = np.ones(len(uniq), dtype=np.int64)
        if self.memory is None or not uniq:
            return self._encode(self._spec(), uniq, first_rows, counts)
        from .store import open_store

        store = open_store(self.memory)
        item_keys = _identity.store_item_keys(uniq, self.modality)
        known = [i for i, k in enumerate(item_keys) if k is not None]
        # A rerun whose request was recorded, with its weights files unchanged,
        # is served without importing torch or building the model.
        spec, identity = None, self._recalled_identity(store)
        if identity is None:
            spec, identity = self._resolved_identity(store)
        values, found = self._lookup(store, identity, item_keys, known)
        if found.all():
            return values
        if spec is None:  # misses to encode: the model is needed after all
            spec, resolved = self._resolved_identity(store)
            digest = _identity.identity_digest
            if digest(resolved) != digest(identity):
                # A file changed since the request was recorded.
                identity = resolved
                values, found = self._lookup(store, identity, item_keys, known)
        miss = np.flatnonzero(~found)
        encoded = self._encode(
            spec,
            [uniq[i] for i in miss],
            [first_rows[i] for i in miss],
            counts[miss],
            done=int(counts[found].sum()),
        )
        writable = [j for j, i in enumerate(miss) if item_keys[i] is not None]
        store.put(identity, [item_keys[miss[j]] for j in writable], encoded[writable])
        out = np.empty((len(uniq), encoded.shape[1]), dtype=np.float32)
        if found.any():
            out[found] = values
        out[miss] = encoded
        return out


def uses_pretrained_weights(embedder):
    """Whether a :class:`CLIPEmbedder` loads weights rather than drawing them.

    ``pretrained=None`` means weights drawn at random from ``random_state``
    (the bundled ``"sklearn-pos-tiny"`` model is used that way in tests and
    smoke runs): embeddings from them carry no meaning, so nothing computed
    from them is a result. Every other value of ``pretrained`` (a tag, a
    checkpoint file, ``"local-dir:"``, ``"hf-hub:"``) loads weights. Nothing
    is loaded or downloaded to answer; whether a loaded file was ever
    trained cannot be told from its name, so a checkpoint of random weights
    also counts as loaded.

    Parameters
    ----------
    embedder : CLIPEmbedder
        The embedder, fitted or not.

    Returns
    -------
    pretrained : bool
        ``False`` for random weights (``pretrained=None``), ``True``
        otherwise.

    See Also
    --------
    sklearn_pos.caveats.caveat_for : The caveat to print with results of
        an embedder.

    Examples
    --------
    >>> from sklearn_pos import CLIPEmbedder, uses_pretrained_weights
    >>> uses_pretrained_weights(CLIPEmbedder("sklearn-pos-tiny", pretrained=None))
    False
    >>> uses_pretrained_weights(CLIPEmbedder("ViT-B-32", pretrained="openai"))
    True
    """
    if not isinstance(embedder, CLIPEmbedder):
        raise TypeError(
            "uses_pretrained_weights expects a CLIPEmbedder, got "
            f"{type(embedder).__name__}. For embeddings from another source, "
            "pass the caveat yourself (sklearn_pos.caveats.SYNTHETIC_EMBEDDINGS "
            "for generated ones)."
        )
    return embedder.pretrained is not None
