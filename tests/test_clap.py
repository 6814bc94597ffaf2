"""Tests of the CLAP prompts and of CLAPDisentangler."""

import copy
import pickle
import re
import zlib

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)
from sklearn.utils.validation import check_is_fitted

from sklearn_pos.clap import (
    CLAP_COLOURS,
    CLAP_SIZES,
    CLAP_STYLE_MODIFIERS,
    CLAP_STYLES,
    CLAPDisentangler,
    make_clap_prompts,
)

CLASSES = [
    "dog",
    "cat",
    "owl",
    "car",
    "boat",
    "tree",
    "house",
    "fish",
    "horse",
    "apple",
]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _unit(v):
    return v / np.linalg.norm(v)


class PlantedTextEmbedder:
    """Bag-of-words text embedder with planted content and style directions.

    A text's embedding is the normalised sum of the vectors of the words it
    contains, plus a little noise seeded by the text (so it is deterministic).
    Class names carry unit "content" vectors; each style word carries a strong
    vector that also leans towards the content of one class (a "sketch" looks
    a bit like some object); modifiers, sizes and colours carry small vectors.
    """

    def __init__(self, classes, d=64, seed=0, style=2.0, leak=0.8, minor=0.5):
        rng = np.random.RandomState(seed)
        self.d = d
        self.vectors = {c: _unit(rng.normal(size=d)) for c in classes}
        for i, s in enumerate(CLAP_STYLES):
            lean = self.vectors[classes[i % len(classes)]]
            self.vectors[s] = style * _unit(_unit(rng.normal(size=d)) + leak * lean)
        for w in CLAP_STYLE_MODIFIERS + CLAP_SIZES + CLAP_COLOURS:
            self.vectors[w] = minor * _unit(rng.normal(size=d))
        self.vectors["style"] = 0.3 * _unit(rng.normal(size=d))
        # Longest phrases first, so "mosaic art" wins over a shorter match.
        self._phrases = sorted(self.vectors, key=len, reverse=True)

    def transform(self, texts):
        out = np.empty((len(texts), self.d))
        for i, text in enumerate(texts):
            rest, v = f" {text} ", np.zeros(self.d)
            for phrase in self._phrases:
                if f" {phrase} " in rest:
                    v += self.vectors[phrase]
                    rest = rest.replace(f" {phrase} ", " ")
            noise = np.random.RandomState(zlib.crc32(text.encode()))
            out[i] = _unit(v + 0.05 * noise.normal(size=self.d))
        return out.astype(np.float32)


def planted_images(embedder, classes, n_per_class=30, seed=1):
    """Embeddings of "images": class content plus a dominant style direction."""
    rng = np.random.RandomState(seed)
    X, y = [], []
    for k, c in enumerate(classes):
        for _ in range(n_per_class):
            style = embedder.vectors[CLAP_STYLES[rng.randint(len(CLAP_STYLES))]]
            x = embedder.vectors[c] + 2.0 * _unit(style)
            X.append(_unit(x + 0.1 * rng.normal(size=embedder.d)))
            y.append(k)
    return np.asarray(X), np.asarray(y)


def zero_shot_accuracy(images, class_embeddings, y):
    return np.mean(np.argmax(images @ class_embeddings.T, axis=1) == y)


@pytest.fixture(scope="module")
def planted():
    embedder = PlantedTextEmbedder(CLASSES)
    X, y = planted_images(embedder, CLASSES)
    return embedder, X, y


def _small(embedder, **params):
    defaults = dict(
        hidden_dim=64,
        n_prompts_per_class=96,
        max_steps=400,
        batch_size=64,
        learning_rate=1e-3,
        validation_interval=50,
        random_state=0,
    )
    defaults.update(params)
    return CLAPDisentangler(embedder, **defaults)


@pytest.fixture(scope="module")
def fitted(planted):
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _small(planted[0]).fit(CLASSES)
    finally:
        torch.set_num_threads(n)


# --------------------------------------------------------------------------- #
# Prompts
# --------------------------------------------------------------------------- #
def test_prompts_enumerate_the_grammar():
    prompts = make_clap_prompts(["dog", "owl"], random_state=0)
    assert list(prompts.columns) == [
        "class_name",
        "modifier",
        "style",
        "size",
        "colour",
        "prompt",
        "augmented_prompt",
        "class_prompt",
    ]
    assert len(prompts) == 2 * 2 * 8 * 3 * 10
    for name, group in prompts.groupby("class_name"):
        assert group["prompt"].nunique() == 480
        assert set(group["style"]) == set(CLAP_STYLES)
        assert set(group["colour"]) == set(CLAP_COLOURS)
    row = prompts.iloc[0]
    assert row["prompt"] == "a realistic painting of a large red dog"
    impressionistic = prompts[prompts["modifier"] == "impressionistic"]
    assert impressionistic["prompt"].str.startswith("an impressionistic ").all()
    orange = prompts[(prompts["colour"] == "orange") & (prompts["size"] == "large")]
    assert orange["prompt"].str.contains(" of a large orange ").all()
    assert (prompts["class_prompt"] == prompts["class_name"]).all()


def test_prompt_augmentations_only_drop_size_colour_or_reorder():
    prompts = make_clap_prompts(["owl", "apple"], random_state=0)
    pattern_plain = re.compile(r"^an? (\w+) ([\w ]+) of an? (.+)$")
    pattern_reordered = re.compile(r"^an? (.+) in (\w+) ([\w ]+) style$")
    dropped_size = dropped_colour = reordered = 0
    for row in prompts.itertuples():
        m = pattern_reordered.match(row.augmented_prompt)
        if m:
            obj, modifier, style = m.groups()
            reordered += 1
        else:
            m = pattern_plain.match(row.augmented_prompt)
            assert m, row.augmented_prompt
            modifier, style, obj = m.groups()
        assert (modifier, style) == (row.modifier, row.style)
        words = obj.split(" ")
        assert words[-1] == row.class_name
        kept = " ".join(words[:-1])
        assert kept in {
            f"{row.size} {row.colour}",
            row.size,
            row.colour,
            "",
        }, (row.prompt, row.augmented_prompt)
        dropped_size += row.size not in kept
        dropped_colour += row.colour not in kept
    n = len(prompts)
    for count in (dropped_size, dropped_colour, reordered):
        assert 0.4 * n < count < 0.6 * n  # each has probability 0.5
    # The article follows the first word of the object phrase.
    assert "an apple in realistic sketch style" in set(prompts["augmented_prompt"])


def test_prompt_probabilities_and_template():
    none = make_clap_prompts(
        ["cat"], p_drop_size=0, p_drop_colour=0, p_reorder=0, random_state=0
    )
    assert (none["augmented_prompt"] == none["prompt"]).all()
    every = make_clap_prompts(
        ["cat"], p_drop_size=1, p_drop_colour=1, p_reorder=1, random_state=0
    )
    assert set(every["augmented_prompt"]) == {
        f"a cat in {m} {s} style" for m in CLAP_STYLE_MODIFIERS for s in CLAP_STYLES
    }
    templated = make_clap_prompts(["cat"], class_template="a photo of a {}")
    assert set(templated["class_prompt"]) == {"a photo of a cat"}


def test_prompts_are_seeded():
    a = make_clap_prompts(CLASSES[:3], n_prompts_per_class=20, random_state=3)
    b = make_clap_prompts(CLASSES[:3], n_prompts_per_class=20, random_state=3)
    c = make_clap_prompts(CLASSES[:3], n_prompts_per_class=20, random_state=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["augmented_prompt"].equals(c["augmented_prompt"])
    assert len(a) == 60 and a.groupby("class_name")["prompt"].nunique().eq(20).all()
    # More than the 480 combinations are drawn with replacement.
    assert len(make_clap_prompts(["cat"], n_prompts_per_class=500)) == 500


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(class_names="dog"), "single string"),
        (dict(class_names=[1, 2]), "non-empty strings"),
        (dict(class_names=np.zeros((3, 4))), "1-D sequence"),
        (dict(class_names=["a"], p_reorder=2), "p_reorder"),
        (dict(class_names=["a"], n_prompts_per_class=0), "n_prompts_per_class"),
        (dict(class_names=["a"], class_template="photo"), "class_template"),
    ],
)
def test_prompt_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_clap_prompts(**kwargs)


# --------------------------------------------------------------------------- #
# Planted content/style structure
# --------------------------------------------------------------------------- #
def test_clap_raises_zero_shot_accuracy_under_style_shift(planted, fitted):
    embedder, X, y = planted
    class_embeddings = embedder.transform(CLASSES)
    raw = zero_shot_accuracy(X, class_embeddings, y)
    assert raw < 0.4  # the style directions mislead raw cosine similarity
    for alpha in (0.5, 1.0):
        clap = copy.deepcopy(fitted).set_params(alpha=alpha)
        after = zero_shot_accuracy(
            clap.transform(X), clap.transform(class_embeddings), y
        )
        assert after > raw + 0.4, (alpha, raw, after)
    # Text queries in the styles of the training grammar behave the same way.
    queries = [f"a realistic {s} of a {c}" for c in CLASSES for s in CLAP_STYLES]
    y_text = np.repeat(np.arange(len(CLASSES)), len(CLAP_STYLES))
    Q = embedder.transform(queries)
    raw_text = zero_shot_accuracy(Q, class_embeddings, y_text)
    f = copy.deepcopy(fitted).set_params(alpha=1.0)
    after_text = zero_shot_accuracy(
        f.transform(Q), f.transform(class_embeddings), y_text
    )
    assert after_text > raw_text + 0.3


def test_training_lowers_the_loss(fitted):
    assert fitted.n_iter_ >= 1
    assert np.mean(fitted.loss_curve_[-20:]) < np.mean(fitted.loss_curve_[:20]) - 0.2
    # The kept weights are those of the last evaluation that improved by tol.
    check = fitted.best_step_ // fitted.validation_interval - 1
    assert fitted.best_validation_loss_ == fitted.validation_loss_curve_[check]
    assert fitted.best_validation_loss_ <= min(fitted.validation_loss_curve_) + 1e-3
    assert fitted.n_prompts_ == 96 * len(CLASSES)
    assert list(fitted.class_names_) == CLASSES
    assert fitted.fit_time_ > 0


# --------------------------------------------------------------------------- #
# alpha, transform, pickling
# --------------------------------------------------------------------------- #
def test_alpha_is_a_transform_time_parameter(planted, fitted):
    _, X, _ = planted
    clap = pickle.loads(pickle.dumps(fitted))
    weights = clap.output_weights_.copy()
    out_default = clap.transform(X)
    clap.set_params(alpha=0.0)
    np.testing.assert_allclose(clap.transform(X), X, atol=1e-12)
    clap.set_params(alpha=1.0)
    out_one = clap.transform(X)
    assert not np.allclose(out_one, out_default)
    np.testing.assert_array_equal(clap.output_weights_, weights)
    # The formula, evaluated by hand.
    silu = X / (1 + np.exp(-X))
    direct = X + (silu @ clap.hidden_weights_.T + clap.hidden_bias_) @ weights.T
    direct /= np.linalg.norm(direct, axis=1, keepdims=True)
    np.testing.assert_allclose(out_one, direct, rtol=1e-5, atol=1e-6)


def test_transform_output_and_validation(planted, fitted):
    _, X, _ = planted
    out = fitted.transform(3.0 * X)  # rows are normalised first
    np.testing.assert_allclose(out, fitted.transform(X), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0)
    assert fitted.transform(X.astype(np.float32)).dtype == np.float32
    assert fitted.transform(X).dtype == np.float64
    names = fitted.get_feature_names_out()
    assert names.shape == (64,) and names[0] == "clapdisentangler0"
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :10])
    Z = X.copy()
    Z[2] = 0
    with pytest.raises(ValueError, match="zero norm"):
        fitted.transform(Z)
    with pytest.raises(NotFittedError):
        CLAPDisentangler().transform(X)


def test_pickle_holds_numpy_only(planted, fitted):
    _, X, _ = planted
    blob = pickle.dumps(fitted)
    assert b"torch" not in blob
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    for name in ("hidden_weights_", "hidden_bias_", "output_weights_"):
        assert type(getattr(restored, name)) is np.ndarray
    assert restored.hidden_weights_.shape == (64, 64)
    assert restored.output_weights_.shape == (64, 64)


def test_fit_is_reproducible(planted):
    embedder = planted[0]
    a = _small(embedder, max_steps=30, early_stopping=False).fit(CLASSES[:4])
    b = _small(embedder, max_steps=30, early_stopping=False).fit(CLASSES[:4])
    c = _small(embedder, max_steps=30, early_stopping=False, random_state=1)
    c.fit(CLASSES[:4])
    np.testing.assert_array_equal(a.output_weights_, b.output_weights_)
    np.testing.assert_array_equal(a.hidden_weights_, b.hidden_weights_)
    assert not np.allclose(a.output_weights_, c.output_weights_)


def test_early_stopping(planted):
    embedder = planted[0]
    stopped = _small(
        embedder,
        max_steps=100_000,
        validation_interval=5,
        n_iter_no_change=2,
        tol=1.0,  # demands an impossible improvement: stops after 3 checks
    ).fit(CLASSES[:3])
    assert stopped.n_iter_ == 15
    assert len(stopped.validation_loss_curve_) == 3
    assert stopped.best_step_ == 5
    full = _small(embedder, max_steps=25, early_stopping=False).fit(CLASSES[:3])
    assert full.n_iter_ == full.best_step_ == 25
    assert full.validation_loss_curve_ == []
    assert np.isnan(full.best_validation_loss_)
    assert len(full.loss_curve_) == 25


def test_verbose_shows_a_progress_bar(planted, capsys):
    _small(planted[0], max_steps=5, early_stopping=False, verbose=True).fit(CLASSES[:2])
    assert "CLAP" in capsys.readouterr().err
    _small(planted[0], max_steps=5, early_stopping=False).fit(CLASSES[:2])
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- #
# Inputs and embedders
# --------------------------------------------------------------------------- #
def test_fit_needs_a_text_embedder():
    with pytest.raises(ValueError, match="needs a text_embedder"):
        CLAPDisentangler().fit(["cat", "dog"])


@pytest.mark.parametrize(
    "X, match",
    [
        (["cat"], "at least 2"),
        (["cat", "cat"], "at least 2"),
        ("cat", "single string"),
        (np.ones((5, 64)), "1-D sequence"),
        (["cat", 3], "non-empty strings"),
    ],
)
def test_fit_input_errors(planted, X, match):
    with pytest.raises(ValueError, match=match):
        _small(planted[0]).fit(X)


def test_class_names_as_series_or_frame(planted):
    params = dict(max_steps=3, early_stopping=False, n_prompts_per_class=4)
    names = pd.Series(["cat", "dog", "cat"], name="label")
    a = _small(planted[0], **params).fit(names)
    assert list(a.class_names_) == ["cat", "dog"]
    b = _small(planted[0], **params).fit(names.to_frame())
    np.testing.assert_array_equal(a.output_weights_, b.output_weights_)


def test_invalid_parameters(planted):
    with pytest.raises(ValueError, match="alpha"):
        _small(planted[0], alpha=-1).fit(CLASSES)
    with pytest.raises(ValueError, match="device"):
        _small(planted[0], device="not-a-device").fit(CLASSES[:2])
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            _small(planted[0], device="cuda").fit(CLASSES[:2])
    with pytest.raises(ValueError, match="validation_fraction"):
        _small(planted[0], n_prompts_per_class=1, validation_fraction=0.01).fit(
            CLASSES[:2]
        )


class NeedsFitEmbedder(BaseEstimator):
    """A scikit-learn style embedder that raises NotFittedError until fitted."""

    def __init__(self, d=16):
        self.d = d

    def fit(self, X, y=None):
        self.planted_ = PlantedTextEmbedder(CLASSES, d=self.d)
        return self

    def transform(self, texts):
        check_is_fitted(self)
        return self.planted_.transform(texts)


def test_embedders_that_need_fit_or_return_sparse():
    params = dict(max_steps=3, early_stopping=False, n_prompts_per_class=4)
    needs_fit = NeedsFitEmbedder()
    clap = _small(needs_fit, **params).fit(["cat", "dog"])
    assert clap.n_features_in_ == 16
    assert not hasattr(needs_fit, "planted_")  # the parameter is left untouched
    hashing = HashingVectorizer(n_features=32)
    clap = _small(hashing, **params).fit(["cat", "dog"])
    assert clap.n_features_in_ == 32


def test_prompts_are_encoded_once(planted):
    calls = []

    class Counting(PlantedTextEmbedder):
        def transform(self, texts):
            calls.append(list(texts))
            return super().transform(texts)

    params = dict(max_steps=1, early_stopping=False, random_state=7)
    _small(Counting(CLASSES), **params).fit(["cat", "dog"])
    assert len(calls) == 1
    assert len(calls[0]) == len(set(calls[0]))
    # The same seed shows the prompts that fit used.
    prompts = make_clap_prompts(["cat", "dog"], n_prompts_per_class=96, random_state=7)
    columns = ["prompt", "augmented_prompt", "class_prompt"]
    assert set(calls[0]) == set(prompts[columns].to_numpy().ravel())


def test_no_data_estimator_checks():
    name = CLAPDisentangler.__name__
    est = CLAPDisentangler()
    check_no_attributes_set_in_init(name, est)
    check_parameters_default_constructible(name, est)
    check_get_params_invariance(name, est)
    check_set_params(name, est)
    assert "CLAPDisentangler" in repr(clone(est))


# --------------------------------------------------------------------------- #
# The bundled tiny CLIP model
# --------------------------------------------------------------------------- #
@pytest.mark.slow
def test_smoke_with_tiny_clip(tiny_text_embedder):
    pytest.importorskip("sklearn_pos.embedding")
    embedder = tiny_text_embedder
    clap = CLAPDisentangler(
        embedder,
        hidden_dim=16,
        n_prompts_per_class=8,
        max_steps=5,
        early_stopping=False,
        random_state=0,
        device="cpu",
    ).fit(["dog", "cat"])
    E = embedder.transform(["a dog", "a cat"])
    out = clap.set_params(alpha=1.0).transform(E)
    assert out.shape == E.shape and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(out, E)
    assert b"torch" not in pickle.dumps(clap.set_params(text_embedder=None))
