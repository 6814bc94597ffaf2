"""The text tower: exact truncated forward passes and text encoding."""

from .batching import encode_batches

# Texts tokenized at a time (bounds the memory of full-context token arrays).
TOKENIZE_CHUNK = 4096


class CausalTextTower:
    """Runs an open_clip text transformer on tokens cut to the batch's needed length.

    With a causal attention mask, position ``i`` only sees positions ``<= i``; the
    pooled feature is read at one position (the end-of-text token for ``argmax``/``eos``
    pooling, position 0 for ``first``). Everything after the last pooled position of a
    batch can therefore be dropped without changing the result.
    """

    _POOLS = ("argmax", "eos", "first")

    def __init__(self, tower, attn_mask, pool_type, eos_id):
        self.tower = tower
        self.attn_mask = attn_mask
        self.pool_type = pool_type
        self.eos_id = eos_id

    @classmethod
    def from_model(cls, model):
        """The truncated tower of ``model``; None when cutting would change results."""
        import torch

        if hasattr(model, "text"):  # CustomTextCLIP / CoCa: tower is `model.text`
            tower = model.text
            pool_type = getattr(tower, "pool_type", None)
            eos_id = getattr(tower, "eos_id", None)
            if getattr(tower, "cls_emb", None) is not None:
                return None
        else:  # CLIP: the text tower's parts live on the model itself
            tower = model
            pool_type = getattr(model, "text_pool_type", None)
            eos_id = getattr(model, "text_eos_id", None)
        needed = ("token_embedding", "positional_embedding", "transformer", "ln_final")
        if not all(hasattr(tower, a) for a in needed) or not hasattr(
            tower, "text_projection"
        ):
            return None
        mask = getattr(tower, "attn_mask", None)
        if not isinstance(mask, torch.Tensor) or mask.ndim != 2:
            return None  # bidirectional text tower: padding changes every position
        if pool_type not in cls._POOLS or (pool_type == "eos" and eos_id is None):
            return None
        if not hasattr(tower.transformer, "get_cast_dtype"):
            return None
        if getattr(tower, "final_ln_after_pool", False):
            return None
        return cls(tower, mask, pool_type, eos_id)

    def pool_index(self, tokens):
        """Position whose feature is pooled, per row (same rule as open_clip)."""
        if self.pool_type == "argmax":
            return tokens.argmax(dim=-1)
        if self.pool_type == "eos":
            return (tokens == self.eos_id).int().argmax(dim=-1)
        return tokens.new_zeros(tokens.shape[0])

    def __call__(self, tokens):
        import torch
        from open_clip.transformer import text_global_pool

        length = int(self.pool_index(tokens).max()) + 1
        tokens = tokens[:, :length]
        t = self.tower
        cast_dtype = t.transformer.get_cast_dtype()
        x = t.token_embedding(tokens).to(cast_dtype)
        x = x + t.positional_embedding[:length].to(cast_dtype)
        x = t.transformer(x, attn_mask=self.attn_mask[:length, :length])
        x = t.ln_final(x)
        x = text_global_pool(x, tokens, self.pool_type, eos_token_id=self.eos_id)
        proj = t.text_projection
        if isinstance(proj, torch.nn.Linear):
            x = proj(x)
        elif proj is not None:
            x = x @ proj
        return x


def _truncated(tokenizer, texts, tokens):
    """Positions in ``texts`` of the texts cut to fit the context of ``tokens``.

    A text fills the last token position only if it reached the context length;
    for open_clip's own tokenizer, its exact length tells whether it was cut or
    just fitted.
    """
    if hasattr(tokenizer, "truncated"):  # a backend's tokenizer that knows
        return tokenizer.truncated(texts, tokens)
    from open_clip.tokenizer import SimpleTokenizer

    pad = getattr(getattr(tokenizer, "tokenizer", None), "pad_token_id", None) or 0
    context = tokens.shape[1]
    full = (tokens[:, -1] != pad).nonzero().flatten().tolist()
    if isinstance(tokenizer, SimpleTokenizer) and tokenizer.reduction_fn is None:
        return [i for i in full if len(tokenizer.encode(texts[i])) + 2 > context]
    return full


def _warn_truncated(texts, cut, context):
    if cut:
        import warnings

        example = texts[cut[0]]
        shown = example if len(example) <= 60 else example[:57] + "..."
        warnings.warn(
            f"{len(cut)} of {len(texts)} text(s) are longer than the model's context "
            f"of {context} tokens and were cut to fit, e.g. {shown!r}: only their "
            "beginning is embedded. Shorten them, or split them and average the "
            "embeddings, to embed all of them.",
            UserWarning,
            stacklevel=2,
        )


def encode_texts(
    loaded,
    texts,
    *,
    batch_size,
    precision,
    normalize,
    verbose=False,
    counts=None,
    done=0,
):
    """Embed distinct ``texts``; returns float32 array ``(len(texts), embed_dim)``.

    ``counts`` and ``done`` are those of :func:`.batching.encode_batches`: the
    progress bar counts the caller's rows, not the distinct texts.

    Texts are tokenized, sorted by the length the text tower needs, grouped into
    batches and run on tokens cut to each batch's longest needed length.
    """
    import torch
    import torch.nn.functional as F

    tower = loaded.text_tower
    texts = list(texts)
    n = len(texts)
    if tower is not None:
        # tokenize in chunks, keeping only the columns some row needs
        parts, needs, cut, context = [], [], [], 0
        for start in range(0, n, TOKENIZE_CHUNK):
            chunk = texts[start : start + TOKENIZE_CHUNK]
            part = loaded.tokenizer(chunk)
            context = part.shape[1]
            cut += [start + i for i in _truncated(loaded.tokenizer, chunk, part)]
            need = tower.pool_index(part) + 1
            parts.append(part[:, : int(need.max())])
            needs.append(need)
        width = max(p.shape[1] for p in parts)
        tokens = torch.cat([F.pad(p, (0, width - p.shape[1])) for p in parts])
        order = torch.argsort(torch.cat(needs), stable=True)
        forward = tower

        def batches():
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                yield idx, tokens[idx]
    else:  # full context, in input order
        forward = loaded.encode_text
        cut, context = [], 0

        def batches():
            nonlocal context
            for start in range(0, n, batch_size):
                idx = torch.arange(start, min(n, start + batch_size))
                chunk = texts[start : start + batch_size]
                part = loaded.tokenizer(chunk)
                context = part.shape[1]
                cut.extend(start + i for i in _truncated(loaded.tokenizer, chunk, part))
                yield idx, part

    embeddings = encode_batches(
        forward,
        batches(),
        n=n,
        embed_dim=loaded.embed_dim,
        device=loaded.device,
        batch_size=batch_size,
        precision=precision,
        normalize=normalize,
        verbose=verbose,
        unit="text",
        counts=counts,
        done=done,
    )
    _warn_truncated(texts, cut, context)
    return embeddings
