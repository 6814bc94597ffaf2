"""The one batch loop of the encoders, with out-of-memory back-off and progress bar.

Texts and images differ only in how their batches are made (:mod:`.text`,
:mod:`.images`); running the model on them, halving a batch that runs out of
device memory, normalising and writing each row back to its input position happen
here, once.
"""

from contextlib import nullcontext

import numpy as np


def _autocast(device, precision):
    import torch

    if precision == "fp32":
        return nullcontext()
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    return torch.autocast(device_type=device.split(":")[0], dtype=dtype)


def is_out_of_memory(exc):
    """Whether ``exc`` is a device out-of-memory error (CUDA, MPS or CPU)."""
    import torch

    oom_types = tuple(
        t
        for t in (
            getattr(torch.cuda, "OutOfMemoryError", None),
            getattr(torch, "OutOfMemoryError", None),
        )
        if t is not None
    )
    if oom_types and isinstance(exc, oom_types):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _release_memory(device):
    import torch

    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    elif device.startswith("mps") and hasattr(torch, "mps"):
        torch.mps.empty_cache()


class BatchLimit:
    """Largest batch known to fit; shrinks when the device runs out of memory."""

    def __init__(self, size):
        self.size = max(1, int(size))


def run_batch(forward, batch, limit, device):
    """Apply ``forward`` to ``batch`` in row chunks, halving them on out-of-memory.

    Rows come back in their input order; an error other than out-of-memory, or an
    out-of-memory error on a single row, is raised. ``limit`` keeps the size that
    worked, so the following batches start from it instead of failing again.
    """
    import torch

    n = batch.shape[0]
    outs = []
    start = 0
    while start < n:
        step = min(limit.size, n - start)
        try:
            out = forward(batch[start : start + step])
        except Exception as exc:  # noqa: BLE001
            if not is_out_of_memory(exc) or step == 1:
                raise
            _release_memory(device)
            limit.size = max(1, step // 2)
            continue
        outs.append(out.float())
        start += step
    return torch.cat(outs) if len(outs) > 1 else outs[0]


def _progress(total, verbose, unit, initial=0):
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=initial, unit=unit, desc="CLIPEmbedder", leave=False
    )


def encode_batches(
    forward,
    batches,
    *,
    n,
    embed_dim,
    device,
    batch_size,
    precision,
    normalize,
    verbose=False,
    unit="it",
    counts=None,
    done=0,
):
    """Run ``forward`` on every batch; float32 array ``(n, embed_dim)``.

    Parameters
    ----------
    forward : callable
        Maps a batch tensor (on ``device``) to its ``(rows, embed_dim)`` features.
    batches : iterable of (indices, tensor)
        Each batch with the output rows it fills, in any order; it is iterated
        under ``torch.inference_mode`` and autocast, so it may prepare tensors
        lazily (tokenize, decode) and raise for bad inputs.
    n, embed_dim : int
        Shape of the result.
    device : str
        Torch device the model runs on; batches are moved there.
    batch_size : int
        Largest rows per forward pass, halved on out-of-memory.
    precision : {"fp32", "fp16", "bf16"}
        Autocast type; outputs are float32 in every case.
    normalize : bool
        Scale each row to unit L2 norm.
    verbose : bool, default=False
        Show a tqdm progress bar counting ``unit``.
    unit : str, default="it"
        What the progress bar counts.
    counts : ndarray of shape (n,), default=None
        How many input rows each of the ``n`` items stands for (an item given
        several times is encoded once); ``None`` counts each item once. The
        progress bar counts input rows, so that it ends at the number of
        rows the caller passed.
    done : int, default=0
        Input rows already embedded before this call (found in a store); the
        progress bar starts there.

    Returns
    -------
    out : ndarray of shape (n, embed_dim), dtype float32
    """
    import torch
    import torch.nn.functional as F

    out = torch.empty((n, embed_dim), dtype=torch.float32)
    limit = BatchLimit(batch_size)
    if counts is None:
        counts = np.ones(n, dtype=np.int64)
    bar = _progress(int(done) + int(np.sum(counts)), verbose, unit, initial=done)
    try:
        with torch.inference_mode(), _autocast(device, precision):
            for idx, batch in batches:
                emb = run_batch(
                    forward, batch.to(device, non_blocking=True), limit, device
                )
                if normalize:
                    emb = F.normalize(emb, dim=-1)
                out[idx] = emb.cpu()
                if bar is not None:
                    bar.update(int(np.sum(counts[np.asarray(idx)])))
    finally:
        if bar is not None:
            bar.close()
    return out.numpy()
