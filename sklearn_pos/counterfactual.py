r"""Editing objectives on CLIP embeddings: CLIP-NCE (CF-CLIP) and direction scores.

CF-CLIP (Yu et al., ACM MM 2022) edits an image towards a counterfactual
text ("a man with a *green* beard") with a generator trained through a
contrastive loss on CLIP embeddings, CLIP-NCE. The loss needs only
embeddings: those of the source image, of the edited image and of the source
and target texts under a set of prompt templates. It is provided here as a
differentiable ``torch`` function, :func:`clip_nce_loss`, together with the
directional similarity :func:`directional_similarity` commonly used to score
text-guided edits.

The generator side (the StyleGAN latent mapper that produces the edited image
and the image encoder it is trained through) is outside this library: plug
:func:`clip_nce_loss` into your own training loop, on the embeddings your
image encoder returns.

``torch`` is imported only inside the functions that need it.
"""

from numbers import Real

import numpy as np

from ._validation import is_torch, check_embedding_values, non_finite_error

__all__ = ["clip_nce_loss", "directional_similarity"]


_NAMES = ("source_image", "edited_image", "source_text", "target_text")


def _check_values(*arrays):
    """Refuse non-numeric, empty and non-finite inputs, naming the argument.

    Returns the inputs, tensors unchanged and everything else as NumPy arrays.
    A NaN or an empty batch would otherwise come out as a NaN loss.
    """
    checked = [
        check_embedding_values(a, name, check_finite=False)
        for name, a in zip(_NAMES, arrays)
    ]
    tensors = [a for a in checked if is_torch(a)]
    finite = all(bool(np.all(np.isfinite(a))) for a in checked if not is_torch(a))
    if tensors:
        import torch

        # One check for all the tensors: a single device synchronisation.
        finite &= bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())
    if not finite:
        for name, a in zip(_NAMES, checked):
            ok = bool(a.isfinite().all()) if is_torch(a) else np.isfinite(a).all()
            if not ok:
                raise non_finite_error(name)
    return checked


def _check_positive(name, value):
    """``value`` as a float if it is a finite number > 0, else a ValueError."""
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def _check_shapes(source_image, edited_image, source_text, target_text):
    """Validate the shapes; returns the batch size ``B`` (``None`` for 1-D)."""
    si, ei = tuple(source_image.shape), tuple(edited_image.shape)
    st, tt = tuple(source_text.shape), tuple(target_text.shape)
    d = ei[-1] if len(ei) else None
    if len(ei) not in (1, 2) or len(si) not in (1, 2):
        raise ValueError(
            f"source_image and edited_image must have shape (d,) or (B, d); got "
            f"{si} and {ei}."
        )
    if si[-1] != d:
        raise ValueError(
            f"source_image and edited_image must have the same width; got {si} "
            f"and {ei}."
        )
    batch = {s[0] for s in (si, ei) if len(s) == 2}
    if len(batch) > 1:
        raise ValueError(
            f"source_image and edited_image have different batch sizes: {si} and {ei}."
        )
    if st != tt:
        raise ValueError(
            f"source_text and target_text must have the same shape (the same "
            f"templates, in the same order); got {st} and {tt}."
        )
    if len(st) not in (1, 2, 3) or st[-1] != d:
        raise ValueError(
            f"source_text and target_text must have shape (d,), (K, d) or "
            f"(B, K, d) with d={d}; got {st}."
        )
    if len(st) == 3:
        if batch and st[0] not in batch:
            raise ValueError(
                f"Per-sample texts of shape {st} do not match the image batch "
                f"size {batch.pop()}."
            )
        batch.add(st[0])
    return batch.pop() if batch else None


def _to_torch(*arrays):
    """Tensors of one floating dtype and device (those of the first tensor)."""
    import torch

    tensors = [a for a in arrays if isinstance(a, torch.Tensor)]
    device = tensors[0].device if tensors else torch.device("cpu")
    dtype = torch.float32
    converted = []
    for a in arrays:
        t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
        converted.append(t)
        if t.is_floating_point():
            dtype = torch.promote_types(dtype, t.dtype)
    return [t.to(device=device, dtype=dtype) for t in converted]


def clip_nce_loss(
    source_image,
    edited_image,
    source_text,
    target_text,
    *,
    temperature=0.1,
    reduction="mean",
    eps=1e-8,
):
    r"""The CLIP-NCE loss of CF-CLIP, differentiable with ``torch``.

    With all embeddings normalised, :math:`E(x)` and :math:`E(x')` the source
    and edited image embeddings and :math:`T_{s,k}`, :math:`T_{t,k}` the
    source and target texts under templates :math:`k = 1 \dots K`, the query,
    positives and negatives are

    .. math::

        q = \overline{E(x') - E(x)}, \quad
        p_1 = \overline{\tfrac{1}{K} \textstyle\sum_k (T_{t,k} - T_{s,k})},
        \quad
        p_2 = \overline{\tfrac{1}{K} \textstyle\sum_k T_{t,k} - E(x)}, \quad
        n_k = \overline{T_{s,k} - E(x)},

    where :math:`\overline{v} = v / \|v\|`, and the loss averages two
    cross-entropies with the positive as the correct class:

    .. math::

        \mathcal{L} = \frac{1}{2} \sum_{p \in \{p_1, p_2\}}
            -\log \frac{\exp(\langle q, p \rangle / \tau)}
            {\exp(\langle q, p \rangle / \tau)
             + \sum_{k=1}^{K} \exp(\langle q, n_k \rangle / \tau)} .

    It is low when the edit moves the image along the text direction, from
    the source text towards the target text, and high when it moves back
    towards the source text.

    Parameters
    ----------
    source_image : array-like or torch.Tensor of shape (B, d) or (d,)
        Embeddings :math:`E(x)` of the source images.

    edited_image : array-like or torch.Tensor of shape (B, d) or (d,)
        Embeddings :math:`E(x')` of the edited images. A 1-D source or
        edit is shared by the whole batch.

    source_text : array-like or torch.Tensor of shape (K, d), (B, K, d) or (d,)
        Source text embeddings :math:`T_{s,k}` under ``K`` templates, shared
        by the batch (``(K, d)``) or one set per sample (``(B, K, d)``);
        ``(d,)`` is one template.

    target_text : array-like or torch.Tensor, same shape as ``source_text``
        Target text embeddings :math:`T_{t,k}`, templates in the same order.

    temperature : float, default=0.1
        Temperature :math:`\tau`.

    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` returns one loss per sample (shape ``(B,)``, or ``()`` when
        no input has a batch dimension).

    eps : float, default=1e-8
        Lower bound on norms when normalising. An edit identical to the
        source gives :math:`q = 0`, a loss of :math:`\log(K + 1)` and no useful
        gradient: start optimisation from a perturbed edit.

    Returns
    -------
    loss : torch.Tensor
        A scalar (or ``(B,)`` with ``reduction="none"``), differentiable with
        respect to every tensor input that requires gradients. Its device is
        that of the first tensor input (CPU for NumPy inputs); its dtype the
        widest floating input dtype (at least float32).

    See Also
    --------
    directional_similarity : The cosine between the image and text edits.

    Notes
    -----
    Only the loss is provided; the generator that produces :math:`x'` (a
    StyleGAN latent mapper in CF-CLIP) and the image encoder are not part of
    this library.

    References
    ----------
    Y. Yu, F. Zhan, R. Wu, J. Zhang, S. Lu, M. Cui, X. Xie, X.-S. Hua and
    C. Miao. "Towards Counterfactual Image Manipulation via CLIP". ACM
    Multimedia 2022. https://arxiv.org/abs/2207.02812

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos.counterfactual import clip_nce_loss
    >>> x = np.array([1.0, 0.0, 0.0])               # source image
    >>> t_s, t_t = np.eye(3)[2], np.eye(3)[1]       # source and target text
    >>> towards = np.array([0.0, 1.0, 0.0])         # edit along the text
    >>> backwards = np.array([0.0, -1.0, 0.5])      # edit against it
    >>> loss = clip_nce_loss(x, towards, t_s, t_t)  # (log 2 + log(1 + e^-5)) / 2
    >>> round(float(loss), 4)
    0.3499
    >>> float(clip_nce_loss(x, backwards, t_s, t_t)) > 5
    True
    """
    import torch
    import torch.nn.functional as F

    temperature = _check_positive("temperature", temperature)
    eps = _check_positive("eps", eps)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}."
        )
    inputs = _check_values(source_image, edited_image, source_text, target_text)
    Xs, Xe, Ts, Tt = _to_torch(*inputs)
    batch = _check_shapes(Xs, Xe, Ts, Tt)
    n = 1 if batch is None else batch
    d = Xe.shape[-1]

    def unit(v):
        return F.normalize(v, dim=-1, eps=eps)

    Xs = unit(Xs).reshape(-1, d).expand(n, d)
    Xe = unit(Xe).reshape(-1, d).expand(n, d)
    if Ts.ndim == 1:
        Ts, Tt = Ts[None, :], Tt[None, :]
    Ts, Tt = unit(Ts), unit(Tt)
    if Ts.ndim == 2:
        Ts, Tt = Ts.expand(n, *Ts.shape), Tt.expand(n, *Tt.shape)

    q = unit(Xe - Xs)  # (n, d)
    p1 = unit((Tt - Ts).mean(dim=1))  # (n, d)
    p2 = unit(Tt.mean(dim=1) - Xs)  # (n, d)
    negatives = unit(Ts - Xs[:, None, :])  # (n, K, d)
    negative_logits = torch.einsum("nd,nkd->nk", q, negatives) / temperature

    losses = []
    for p in (p1, p2):
        positive_logit = (q * p).sum(dim=-1, keepdim=True) / temperature
        logits = torch.cat([positive_logit, negative_logits], dim=1)
        losses.append(torch.logsumexp(logits, dim=1) - logits[:, 0])
    loss = 0.5 * (losses[0] + losses[1])  # (n,)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batch is not None else loss[0]


def directional_similarity(
    source_image, edited_image, source_text, target_text, *, eps=1e-8
):
    r"""Cosine between the change of the image and the change of the text.

    With normalised embeddings and templates averaged,

    .. math::

        \Delta_I = E(x') - E(x), \qquad
        \Delta_T = \tfrac{1}{K} \textstyle\sum_k T_{t,k}
                 - \tfrac{1}{K} \textstyle\sum_k T_{s,k}, \qquad
        s = \frac{\langle \Delta_I, \Delta_T \rangle}
                 {\|\Delta_I\| \, \|\Delta_T\|} ,

    the CLIP directional similarity of a text-guided edit: 1 when the image
    moved exactly along the text direction, -1 when it moved against it.

    Parameters
    ----------
    source_image, edited_image : array-like or torch.Tensor of shape (B, d) or (d,)
        Embeddings of the source and edited images.

    source_text, target_text : array-like of shape (K, d), (B, K, d) or (d,)
        Text embeddings (or tensors) under ``K`` templates, as in
        :func:`clip_nce_loss`.

    eps : float, default=1e-8
        Lower bound on norms; a zero change gives a similarity of 0.

    Returns
    -------
    similarity : ndarray or torch.Tensor of shape (B,), or a scalar
        A NumPy array (or float) for NumPy inputs, computed without ``torch``;
        a differentiable tensor if any input is a tensor. Scalar when no input
        has a batch dimension.

    See Also
    --------
    clip_nce_loss : A contrastive objective built on the same directions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_pos.counterfactual import directional_similarity
    >>> x, t_t, t_s = np.eye(3)
    >>> edited = np.array([0.0, 1.0, 0.0])
    >>> round(directional_similarity(x, edited, t_s, t_t), 6)
    0.5
    """
    eps = _check_positive("eps", eps)
    inputs = _check_values(source_image, edited_image, source_text, target_text)
    if any(is_torch(a) for a in inputs):
        import torch.nn.functional as F

        Xs, Xe, Ts, Tt = _to_torch(*inputs)
        batch = _check_shapes(Xs, Xe, Ts, Tt)

        def unit(v):
            return F.normalize(v, dim=-1, eps=eps)

        def text_mean(T):
            T = unit(T)
            return T if T.ndim == 1 else T.mean(dim=-2)

        delta_i = unit(unit(Xe) - unit(Xs))
        delta_t = unit(text_mean(Tt) - text_mean(Ts))
        sim = (delta_i * delta_t).sum(dim=-1)
        return sim if batch is not None else sim.reshape(())

    Xs, Xe, Ts, Tt = (
        np.asarray(a, dtype=np.result_type(a.dtype, np.float32)) for a in inputs
    )
    batch = _check_shapes(Xs, Xe, Ts, Tt)

    def unit_np(v):
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)

    def text_mean_np(T):
        T = unit_np(T)
        return T if T.ndim == 1 else T.mean(axis=-2)

    delta_i = unit_np(unit_np(Xe) - unit_np(Xs))
    delta_t = unit_np(text_mean_np(Tt) - text_mean_np(Ts))
    sim = (delta_i * delta_t).sum(axis=-1)
    return sim if batch is not None else float(sim)
