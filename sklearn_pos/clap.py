r"""Content/style disentanglement of CLIP embeddings from augmented prompts.

CLAP (Cai et al., 2023) trains a small residual network on CLIP *text*
embeddings only and applies it to image and text embeddings alike before
computing cosine similarities. The training prompts describe each class in
many styles, sizes and colours; contrasting prompts against their augmented
versions and against the plain class names teaches the network to keep the
content and suppress the style.

This module provides the transformer :class:`CLAPDisentangler`; the prompt
grammar (:func:`make_clap_prompts` and its word lists) is defined in
:mod:`sklearn_pos.templates`, beside the other prompt templates, and can be
imported from either module. ``torch`` is imported only inside
:meth:`CLAPDisentangler.fit`; the fitted network is stored as NumPy arrays, so
:meth:`CLAPDisentangler.transform` and pickling need no ``torch``.

The model
---------
The map of the CLIP embedding space is

.. math::

    f(x) = x + \alpha \, W_2 \left( W_1 \, \mathrm{SiLU}(x) + b_1 \right),

with :math:`W_1 \in \mathbb{R}^{h \times d}`, :math:`b_1 \in \mathbb{R}^h` and
:math:`W_2 \in \mathbb{R}^{d \times h}` (no bias, initialised to zero, so
training starts from the identity). With :math:`a_i`, :math:`o_i` the
embeddings of an augmented prompt and of its original, :math:`c_{y_i}` that of
the plain prompt of its class and
:math:`\mathrm{sim}(u, v) = \langle f(u), f(v) \rangle / \|f(u)\| \|f(v)\|`,
the loss on a batch of :math:`B` prompts is

.. math::

    L = \mathrm{NTXent}_\tau(\{a_i\}, \{o_i\})
        + \lambda \, \frac{1}{B} \sum_i -\log
          \frac{\exp \mathrm{sim}(a_i, c_{y_i})}
               {\sum_{k=1}^{C} \exp \mathrm{sim}(a_i, c_k)},

where the SimCLR term, over the :math:`2B` embeddings
:math:`\{a_i\} \cup \{o_i\}` of the batch, is

.. math::

    \mathrm{NTXent}_\tau = \frac{1}{2B} \sum_{i=1}^{B}
        \left[ \ell(a_i, o_i) + \ell(o_i, a_i) \right], \qquad
    \ell(u, v) = -\log \frac{\exp(\mathrm{sim}(u, v) / \tau)}
        {\sum_{w \ne u} \exp(\mathrm{sim}(u, w) / \tau)},

so each augmented prompt and its original are each other's positive and the
other :math:`2B - 2` prompts are negatives (:math:`\tau` is ``temperature``);
the second term, an InfoNCE of temperature 1, contrasts the augmented prompt
with the plain prompts of all :math:`C` classes. The network is trained with
:math:`\alpha = 1`; ``transform`` applies it with ``alpha``. The paper
re-tunes ``alpha`` to about 0.05-0.2 for CLIP ViT-B/16; tune it on held-out
data.

Defaults and cost
-----------------
The defaults follow the paper (``temperature=0.5``, ``lam=1``, Adam at
``1e-4``, at most 8000 steps, early stopping after 5 checks without
improvement), except for the batch size: 128 prompts give more negatives per
step than the paper's 8, and for the checks, every 100 steps with a relative
``tol``, so that training stops once the validation loss levels off instead of
running all 8000 steps.

A fit encodes ``2 * n_prompts + n_classes`` texts with ``text_embedder`` (all
480 prompts per class by default, so 9,610 texts for 10 classes;
``n_prompts_per_class`` samples fewer), then runs the training steps, each a
forward and backward pass of ``batch_size`` prompts through a
``d x hidden_dim`` network. With the defaults and ``d = 512``, a step takes a
few milliseconds on a GPU and tens of milliseconds on a CPU core. How soon
early stopping ends training depends on how fast the validation loss levels
off: with 10 classes, after 800 steps on planted 512-d embeddings (about a
minute on one CPU core) and after 4,600 on the bundled tiny random CLIP model
(64-d, 25 seconds), instead of 8000. ``n_iter_`` and ``fit_time_`` report what
a fit took; a larger ``tol`` or a smaller ``max_steps`` bounds it.
"""

import time
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._clip import resolve_device
from ._compat import HasMethods, Interval, _fit_context
from ._text import embed_texts, validate_embeddings
from ._validation import check_class_names, unit_rows
from .templates import check_class_template, make_clap_prompts

# The prompt grammar and its word lists (CLAP_STYLES, ...) live in templates;
# make_clap_prompts is exported here too, beside the estimator that uses it.
__all__ = [
    "CLAPDisentangler",
    "make_clap_prompts",
]


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _silu(X):
    return X * expit(X)


def _train_residual_mlp(
    Z_orig,
    Z_aug,
    Z_class,
    labels,
    train_idx,
    val_idx,
    *,
    hidden_dim,
    temperature,
    lam,
    max_steps,
    batch_size,
    learning_rate,
    n_iter_no_change,
    validation_interval,
    tol,
    device,
    rng,
    verbose,
):
    """Adam on ``InfoNCE(f(aug), f(orig)) + lam * InfoNCE(f(aug), f(class))``.

    An evaluation of the validation loss improves on the best one when it is
    lower by more than the fraction ``tol`` of it; training stops after
    ``n_iter_no_change`` evaluations in a row without improvement.

    All randomness (initialisation, batches) comes from the NumPy ``rng``, so
    results depend on the seed only (up to floating point differences
    between devices). Returns the weights with the best validation loss
    (the last ones without validation) and the curves.
    """
    import torch
    import torch.nn.functional as F

    d = Z_orig.shape[1]
    bound = 1.0 / np.sqrt(d)
    W1_init = rng.uniform(-bound, bound, size=(hidden_dim, d)).astype(np.float32)
    b1_init = rng.uniform(-bound, bound, size=hidden_dim).astype(np.float32)

    def tensor(a, dtype=torch.float32):
        return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=device)

    W1 = tensor(W1_init).requires_grad_(True)
    b1 = tensor(b1_init).requires_grad_(True)
    W2 = torch.zeros((d, hidden_dim), device=device, requires_grad=True)
    params = [W1, b1, W2]
    optimizer = torch.optim.Adam(params, lr=learning_rate)

    orig, aug, cls = tensor(Z_orig), tensor(Z_aug), tensor(Z_class)
    y_all = tensor(labels, dtype=torch.long)

    def f(x):
        return x + (F.silu(x) @ W1.T + b1) @ W2.T

    def loss_on(idx):
        za = F.normalize(f(aug[idx]), dim=1)
        zo = F.normalize(f(orig[idx]), dim=1)
        zc = F.normalize(f(cls), dim=1)
        n = za.shape[0]
        z = torch.cat([za, zo])
        sim = (z @ z.T) / temperature
        eye = torch.eye(2 * n, dtype=torch.bool, device=device)
        sim = sim.masked_fill(eye, float("-inf"))
        pair = torch.arange(n, device=device)
        contrast = F.cross_entropy(sim, torch.cat([pair + n, pair]))
        content = F.cross_entropy(za @ zc.T, y_all[idx])
        return contrast + lam * content

    def validation_loss():
        total = 0.0
        with torch.no_grad():
            for start in range(0, val_idx.size, batch_size):
                chunk = val_idx[start : start + batch_size]
                total += float(loss_on(tensor(chunk, torch.long))) * chunk.size
        return total / val_idx.size

    def snapshot():
        return [p.detach().cpu().numpy().copy() for p in params]

    from tqdm.auto import tqdm

    batch = min(batch_size, train_idx.size)
    order, cursor = rng.permutation(train_idx), 0
    loss_curve, val_curve = [], []
    best_loss, best_weights, best_step, stale = np.inf, None, 0, 0
    step = 0
    with tqdm(total=max_steps, disable=not verbose, desc="CLAP", leave=False) as bar:
        while step < max_steps:
            if cursor + batch > order.size:
                order, cursor = rng.permutation(train_idx), 0
            idx = order[cursor : cursor + batch]
            cursor += batch
            optimizer.zero_grad(set_to_none=True)
            loss = loss_on(tensor(idx, torch.long))
            loss.backward()
            optimizer.step()
            step += 1
            loss_curve.append(float(loss.detach()))
            if val_idx is not None and (
                step % validation_interval == 0 or step == max_steps
            ):
                val = validation_loss()
                val_curve.append(val)
                # Relative, as the loss's scale depends on the batch size and
                # the number of classes; the first evaluation always counts.
                if best_weights is None or val < best_loss * (1.0 - tol):
                    best_loss, best_weights, best_step, stale = val, snapshot(), step, 0
                else:
                    stale += 1
                bar.set_postfix(loss=f"{loss_curve[-1]:.4f}", val=f"{val:.4f}")
                if stale >= n_iter_no_change:
                    bar.update(1)
                    break
            elif step % 10 == 0:
                bar.set_postfix(loss=f"{loss_curve[-1]:.4f}")
            bar.update(1)
    if best_weights is None:
        best_weights, best_step = snapshot(), step
    return best_weights, step, best_step, loss_curve, val_curve, best_loss


# --------------------------------------------------------------------------- #
# Estimator
# --------------------------------------------------------------------------- #
class CLAPDisentangler(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    r"""Residual network that keeps content and suppresses style (CLAP).

    Learns :math:`f(x) = x + \alpha W_2 (W_1 \mathrm{SiLU}(x) + b_1)` from
    *text* embeddings only, of prompts built from the class names by
    :func:`make_clap_prompts` ("a realistic sketch of a small red dog", ...):
    an NT-Xent term pairs each augmented prompt with its original and an
    InfoNCE term pulls it towards the plain prompt of its class (the loss is
    written out in the module documentation, :mod:`sklearn_pos.clap`).
    :meth:`transform` applies the network with ``alpha`` to image and text
    embeddings alike, before cosine similarities are computed.

    :meth:`fit` and :meth:`transform` both take embeddings (``(n, d)``
    arrays). The embeddings given to :meth:`fit` are not used for training
    (only their width is checked against the text encoder's), so the
    estimator can follow an image embedder in a
    :class:`~sklearn.pipeline.Pipeline`. Training uses ``torch``; the fitted
    weights are NumPy arrays, so :meth:`transform`, pickling and changes of
    ``alpha`` need neither ``torch`` nor a device. Read more in the
    :doc:`user guide </user_guide/related>`.

    Parameters
    ----------
    class_names : sequence of str, default=None
        The classes whose prompts train the network: a list, array, pandas
        Series or one-column DataFrame of distinct names (a name given twice
        is an error); at least two are needed. Required.

    text_embedder : object, default=None
        Encodes the training prompts: any object whose
        ``transform(list of str)`` returns an ``(n, d)`` array, such as
        ``CLIPEmbedder(modality="text")`` of the model that embeds the
        images. Required. To train from embeddings computed elsewhere, pass
        an object that looks the prompts of :func:`make_clap_prompts` up in
        your table.

    hidden_dim : int, default=512
        Width :math:`h` of the hidden layer.

    alpha : float, default=0.1
        Scale :math:`\alpha` of the residual at :meth:`transform` time.
        ``alpha=0`` is the identity (up to normalisation). It is not used by
        :meth:`fit`, so ``set_params(alpha=...)`` on a fitted estimator
        changes the transform without refitting.

    temperature : float, default=0.5
        Temperature :math:`\tau` of the NT-Xent term.

    lam : float, default=1.0
        Weight :math:`\lambda` of the class-name InfoNCE term.

    n_prompts_per_class : int, default=None
        Training prompts per class (see :func:`make_clap_prompts`); ``None``
        uses all 480 combinations.

    class_template : str, default="{}"
        Format string of the plain class prompt used in the second term; match
        the prompts of your zero-shot classifier.

    max_steps : int, default=8000
        Maximum number of optimisation steps (mini-batches). With the default
        early stopping, training usually ends well before.

    batch_size : int, default=128
        Prompts per mini-batch.

    learning_rate : float, default=1e-4
        Step size of Adam.

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the prompts, evaluate the loss on
        them every ``validation_interval`` steps, stop when it has not
        improved by the fraction ``tol`` for ``n_iter_no_change`` evaluations
        in a row, and keep the weights with the lowest validation loss.
        ``False`` trains for ``max_steps`` steps and keeps the last weights.

    validation_fraction : float, default=0.1
        Fraction of the prompts held out when ``early_stopping=True``.

    n_iter_no_change : int, default=5
        Number of evaluations without improvement before stopping.

    validation_interval : int, default=100
        Steps between two evaluations of the validation loss.

    tol : float, default=1e-3
        Minimum relative decrease of the validation loss counted as an
        improvement: an evaluation improves on the best loss ``L`` when it is
        below ``(1 - tol) * L``. ``tol=0`` counts any decrease.

    device : str, default="auto"
        Torch device used by :meth:`fit`: ``"auto"`` (CUDA, else MPS when available,
        else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...

    random_state : int, RandomState instance or None, default=None
        Seeds the prompts, the validation split, the initialisation and the
        batches. An integer makes :meth:`fit` reproducible (on one device).

    verbose : bool, default=False
        Show a progress bar with the current losses during training.

    Attributes
    ----------
    class_names_ : ndarray of shape (n_classes,)
        The names of ``class_names``, in the given order.

    hidden_weights_ : ndarray of shape (hidden_dim, n_features)
        :math:`W_1`.

    hidden_bias_ : ndarray of shape (hidden_dim,)
        :math:`b_1`.

    output_weights_ : ndarray of shape (n_features, hidden_dim)
        :math:`W_2`.

    n_prompts_ : int
        Number of training prompts (before the validation split).

    n_iter_ : int
        Optimisation steps run.

    best_step_ : int
        Step whose weights were kept (the best validation loss with early
        stopping, the last step otherwise).

    loss_curve_ : list of float
        Training loss at every step.

    validation_loss_curve_ : list of float
        Validation loss at every evaluation (empty without early stopping).

    best_validation_loss_ : float
        Lowest validation loss (``nan`` without early stopping).

    fit_time_ : float
        Seconds spent in training (prompt encoding excluded).

    n_features_in_ : int
        Width :math:`d` of the embeddings.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the columns of ``X`` in :meth:`fit`, when it is a DataFrame
        with string column names.

    See Also
    --------
    make_clap_prompts : The training prompts.
    ProjectionAugmentationEmbedding : Another edit of CLIP embeddings through a
        prompt subspace.

    Notes
    -----
    Inputs of :meth:`transform` are scaled to unit norm first, like the text
    embeddings used for training, and outputs are scaled to unit norm.
    ``fit`` needs at least one sample (scikit-learn's "Found array with 0
    sample(s)" error); ``transform`` of 0 rows returns 0 rows of the output
    width, as an empty partition of a Dask collection needs. The defaults
    follow the paper except for the batch size and the early-stopping checks;
    what a fit costs is detailed in the module documentation.

    References
    ----------
    Y. Cai, X. Liu, Y. Zhang and Z. Cai. "CLAP: Isolating Content from Style
    through Contrastive Learning with Augmented Prompts". ECCV 2024.
    https://arxiv.org/abs/2311.16445

    Examples
    --------
    A planted text embedder, in which styles mislead the class names,
    stands in for ``CLIPEmbedder(modality="text")`` here:

    >>> import numpy as np
    >>> from sklearn_pos.clap import CLAPDisentangler
    >>> from sklearn_pos.datasets import PlantedTextEmbedder
    >>> classes = ["dog", "cat", "owl"]
    >>> text = PlantedTextEmbedder(classes, n_features=32)
    >>> images, y, _ = text.images(n_per_class=16, balanced=True)
    >>> clap = CLAPDisentangler(classes, text, hidden_dim=32,
    ...                         n_prompts_per_class=48, max_steps=60,
    ...                         learning_rate=1e-3, early_stopping=False,
    ...                         random_state=0)
    >>> clap.fit_transform(images).shape
    (48, 32)
    >>> clap.n_iter_
    60

    ``alpha`` applies at transform time; ``alpha=0`` is the identity (up to
    normalisation):

    >>> np.allclose(clap.set_params(alpha=0.0).transform(images), images,
    ...             atol=1e-6)
    True
    """

    _parameter_constraints: dict = {
        # str is let through so that fit can say "wrap it in a list".
        "class_names": ["array-like", str, None],
        "text_embedder": [HasMethods(["transform"]), None],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "lam": [Interval(Real, 0, None, closed="left")],
        "n_prompts_per_class": [Interval(Integral, 1, None, closed="left"), None],
        "class_template": [str],
        "max_steps": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "validation_interval": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        class_names=None,
        text_embedder=None,
        *,
        hidden_dim=512,
        alpha=0.1,
        temperature=0.5,
        lam=1.0,
        n_prompts_per_class=None,
        class_template="{}",
        max_steps=8000,
        batch_size=128,
        learning_rate=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        validation_interval=100,
        tol=1e-3,
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.class_names = class_names
        self.text_embedder = text_embedder
        self.hidden_dim = hidden_dim
        self.alpha = alpha
        self.temperature = temperature
        self.lam = lam
        self.n_prompts_per_class = n_prompts_per_class
        self.class_template = class_template
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.validation_interval = validation_interval
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the residual network on prompts built from ``class_names``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings (e.g. of the images to transform later). They are not
            used for training, only checked (2-D, numeric, finite) and their
            width compared with the text embeddings', so that a mismatch of
            models shows at fit time.

        y : None
            Ignored.

        Returns
        -------
        self : CLAPDisentangler
            The fitted estimator.
        """
        if self.class_names is None:
            raise ValueError(
                "class_names is required: the classes whose styled prompts train "
                "the network, e.g. CLAPDisentangler(class_names=['dog', 'cat'], "
                "text_embedder=CLIPEmbedder(modality='text'))."
            )
        _, classes = check_class_names(self.class_names, mapping=False)
        if len(classes) < 2:
            raise ValueError(
                f"CLAPDisentangler needs at least 2 class names to contrast; got "
                f"{len(classes)}."
            )
        check_class_template(self.class_template)
        if self.text_embedder is None:
            raise ValueError(
                "CLAPDisentangler.fit encodes prompts built from the class names "
                "and needs a text_embedder, e.g. "
                "CLAPDisentangler(class_names, text_embedder=CLIPEmbedder("
                "modality='text')). Any object with transform(list of str) -> "
                "(n, d) array works."
            )
        # Checked before the (costly) prompt encoding, so bad input fails fast.
        validate_embeddings(self, X, dtype=[np.float64, np.float32])
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        prompts = make_clap_prompts(
            classes,
            n_prompts_per_class=self.n_prompts_per_class,
            class_template=self.class_template,
            random_state=rng,
        )
        n = len(prompts)
        class_prompts = [self.class_template.format(c) for c in classes]
        texts = list(prompts["prompt"]) + list(prompts["augmented_prompt"])
        E = embed_texts(self.text_embedder, texts + class_prompts, dtype=np.float32)
        E = unit_rows(E, "The text embeddings").astype(np.float32)
        if E.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {self.n_features_in_} features but the text_embedder's "
                f"embeddings have {E.shape[1]}: X must be embedded by the same "
                "model as the prompts (the same model_name and pretrained "
                "weights)."
            )
        Z_orig, Z_aug, Z_class = E[:n], E[n : 2 * n], E[2 * n :]
        labels = np.array(
            pd.Categorical(prompts["class_name"], categories=classes).codes,
            dtype=np.int64,
        )

        if self.early_stopping:
            perm = rng.permutation(n)
            n_val = int(round(self.validation_fraction * n))
            if n_val < 1 or n - n_val < 2:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} leaves "
                    f"{n_val} validation and {n - n_val} training prompts out of "
                    f"{n}; both need enough prompts (>= 1 and >= 2). Change "
                    "validation_fraction or n_prompts_per_class, or set "
                    "early_stopping=False."
                )
            val_idx, train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        else:
            val_idx, train_idx = None, np.arange(n)

        start = time.perf_counter()
        weights, n_iter, best_step, loss_curve, val_curve, best = _train_residual_mlp(
            Z_orig,
            Z_aug,
            Z_class,
            labels,
            train_idx,
            val_idx,
            hidden_dim=self.hidden_dim,
            temperature=float(self.temperature),
            lam=float(self.lam),
            max_steps=self.max_steps,
            batch_size=self.batch_size,
            learning_rate=float(self.learning_rate),
            n_iter_no_change=self.n_iter_no_change,
            validation_interval=self.validation_interval,
            tol=float(self.tol),
            device=device,
            rng=rng,
            verbose=bool(self.verbose),
        )
        self.fit_time_ = time.perf_counter() - start
        self.hidden_weights_, self.hidden_bias_, self.output_weights_ = weights
        self.class_names_ = np.asarray(classes, dtype=object)
        self.n_prompts_ = n
        self.n_iter_ = n_iter
        self.best_step_ = best_step
        self.loss_curve_ = loss_curve
        self.validation_loss_curve_ = val_curve
        self.best_validation_loss_ = float(best) if val_idx is not None else np.nan
        return self

    def transform(self, X):
        """Apply the residual network to image or text embeddings.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            CLIP embeddings (image or text) of the width seen in :meth:`fit`;
            rows are scaled to unit norm first.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            :math:`f(x) / \\|f(x)\\|` with the current ``alpha``; float32 input
            stays float32.
        """
        check_is_fitted(self, "output_weights_")
        # 0 rows give 0 rows (an empty partition of a Dask collection).
        X = validate_embeddings(
            self,
            X,
            reset=False,
            dtype=[np.float64, np.float32],
            ensure_min_samples=0,
        )
        X = unit_rows(X)
        W1 = self.hidden_weights_.astype(X.dtype, copy=False)
        b1 = self.hidden_bias_.astype(X.dtype, copy=False)
        W2 = self.output_weights_.astype(X.dtype, copy=False)
        out = X + X.dtype.type(self.alpha) * ((_silu(X) @ W1.T + b1) @ W2.T)
        return unit_rows(out, "f(X)")

    @property
    def _n_features_out(self):
        return self.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
