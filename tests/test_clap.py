"""Tests of the CLAP prompts and of CLAPDisentangler."""

import copy
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted

from sklearn_pos.clap import CLAPDisentangler
from sklearn_pos.templates import (
    CLAP_COLOURS,
    CLAP_STYLE_MODIFIERS,
    CLAP_STYLES,
    make_clap_prompts,
)
from sklearn_pos.datasets import PlantedTextEmbedder

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


def zero_shot_accuracy(images, class_embeddings, y):
    return np.mean(np.argmax(images @ class_embeddings.T, axis=1) == y)


@pytest.fixture(scope="module")
def planted():
    embedder = PlantedTextEmbedder(CLASSES)
    X, y, _ = embedder.images(n_per_class=30, random_state=1, dtype=np.float64)
    return embedder, X, y


def _small(embedder, class_names=CLASSES, **params):
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
    return CLAPDisentangler(class_names, embedder, **defaults)


def _fit(embedder, class_names=CLASSES, **params):
    """A small CLAPDisentangler fitted on ``class_names``' prompts."""
    X = embedder.transform(list(class_names)[:2])
    return _small(embedder, class_names, **params).fit(X)


@pytest.fixture(scope="module")
def fitted(planted):
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit(planted[0])
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
    "kwargs, error, match",
    [
        (dict(class_names="dog"), TypeError, "single string"),
        (dict(class_names=[1, 2]), TypeError, "non-empty strings"),
        (dict(class_names=["a", "b", "a"]), ValueError, "duplicate classes"),
        (dict(class_names=np.zeros((3, 4))), ValueError, "1-D sequence"),
        (dict(class_names=["a"], p_reorder=2), ValueError, "p_reorder"),
        (
            dict(class_names=["a"], n_prompts_per_class=0),
            ValueError,
            "n_prompts_per_class",
        ),
        (dict(class_names=["a"], class_template="photo"), ValueError, "class_template"),
    ],
)
def test_prompt_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_clap_prompts(**kwargs)


# --------------------------------------------------------------------------- #
# Planted content/style structure
# --------------------------------------------------------------------------- #
def test_planted_text_embedder():
    embedder = PlantedTextEmbedder(CLASSES[:3], n_features=16, random_state=2)
    texts = ["a dog", "a realistic mosaic art of a small red cat", "unknown"]
    E = embedder.transform(texts)
    assert E.shape == (3, 16) and E.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, rtol=1e-6)
    # Deterministic per text, and seeded by random_state.
    np.testing.assert_array_equal(embedder.transform(texts[::-1]), E[::-1])
    other = PlantedTextEmbedder(CLASSES[:3], n_features=16, random_state=3)
    assert not np.allclose(other.transform(texts[:1]), E[:1])
    # "mosaic art" is one phrase; the class content dominates a bare name.
    dog = embedder.vectors["dog"]
    assert E[0] @ dog > 0.95
    assert {"mosaic art", "style", "cat"} <= set(embedder.vectors)
    with pytest.raises(ValueError, match="single string"):
        embedder.transform("a dog")

    X, y, styles = embedder.images(n_per_class=16, balanced=True)
    assert X.shape == (48, 16) and X.dtype == np.float32
    np.testing.assert_array_equal(y, np.repeat([0, 1, 2], 16))
    counts = pd.Series(styles[:16]).value_counts()
    assert set(counts.index) == set(CLAP_STYLES) and (counts == 2).all()
    random_styles = embedder.images(n_per_class=16, random_state=0)[2]
    assert not np.array_equal(random_styles, styles)
    assert embedder.images(dtype=np.float64)[0].dtype == np.float64


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
    # The kept weights are those of the last evaluation that improved by tol:
    # no later evaluation is below (1 - tol) times its loss.
    check = fitted.best_step_ // fitted.validation_interval - 1
    assert fitted.best_validation_loss_ == fitted.validation_loss_curve_[check]
    later = fitted.validation_loss_curve_[check:]
    assert min(later) >= (1 - fitted.tol) * fitted.best_validation_loss_
    assert fitted.best_validation_loss_ <= min(fitted.validation_loss_curve_) / (
        1 - fitted.tol
    )
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
        CLAPDisentangler(CLASSES, planted[0]).transform(X)


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
    a = _fit(embedder, CLASSES[:4], max_steps=30, early_stopping=False)
    b = _fit(embedder, CLASSES[:4], max_steps=30, early_stopping=False)
    c = _fit(embedder, CLASSES[:4], max_steps=30, early_stopping=False, random_state=1)
    np.testing.assert_array_equal(a.output_weights_, b.output_weights_)
    np.testing.assert_array_equal(a.hidden_weights_, b.hidden_weights_)
    assert not np.allclose(a.output_weights_, c.output_weights_)


def test_early_stopping(planted):
    embedder = planted[0]
    stopped = _fit(
        embedder,
        CLASSES[:3],
        max_steps=100_000,
        validation_interval=5,
        n_iter_no_change=2,
        tol=1.0,  # demands an impossible improvement: stops after 3 checks
    )
    assert stopped.n_iter_ == 15
    assert len(stopped.validation_loss_curve_) == 3
    assert stopped.best_step_ == 5
    full = _fit(embedder, CLASSES[:3], max_steps=25, early_stopping=False)
    assert full.n_iter_ == full.best_step_ == 25
    assert full.validation_loss_curve_ == []
    assert np.isnan(full.best_validation_loss_)
    assert len(full.loss_curve_) == 25


def test_verbose_shows_a_progress_bar(planted, capsys):
    _fit(planted[0], CLASSES[:2], max_steps=5, early_stopping=False, verbose=True)
    assert "CLAP" in capsys.readouterr().err
    _fit(planted[0], CLASSES[:2], max_steps=5, early_stopping=False)
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- #
# Inputs and embedders
# --------------------------------------------------------------------------- #
def test_fit_needs_class_names_and_a_text_embedder(planted):
    X = planted[1]
    with pytest.raises(ValueError, match="class_names is required"):
        CLAPDisentangler(text_embedder=planted[0]).fit(X)
    with pytest.raises(ValueError, match="needs a text_embedder"):
        CLAPDisentangler(["cat", "dog"]).fit(X)


@pytest.mark.parametrize(
    "class_names, error, match",
    [
        (["cat"], ValueError, "at least 2"),
        (["cat", "cat"], ValueError, r"duplicate classes \['cat'\]"),
        ("cat", TypeError, "single string"),
        (np.ones((5, 64)), ValueError, "1-D sequence"),
        (["cat", 3], TypeError, "non-empty strings"),
    ],
)
def test_class_name_errors(planted, class_names, error, match):
    with pytest.raises(error, match=match):
        _small(planted[0], class_names).fit(planted[1])


@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones(64), "2D array"),
        (np.full((3, 64), np.nan), "NaN"),
        (np.array([["a"] * 64] * 2), "could not convert"),
        (np.ones((3, 10)), "X has 10 features but the text_embedder's embeddings"),
    ],
)
def test_fit_checks_the_embeddings(planted, X, match):
    with pytest.raises(ValueError, match=match):
        _small(planted[0], max_steps=2, early_stopping=False).fit(X)


def test_fit_uses_only_the_width_of_X(planted):
    embedder, X, _ = planted
    params = dict(class_names=CLASSES[:3], max_steps=20, early_stopping=False)
    a = _small(embedder, **params).fit(X)
    b = _small(embedder, **params).fit(np.ones((2, 64), dtype=np.float32))
    np.testing.assert_array_equal(a.output_weights_, b.output_weights_)
    assert a.n_features_in_ == b.n_features_in_ == 64
    frame = pd.DataFrame(X, columns=[f"e{i}" for i in range(64)])
    c = _small(embedder, **params).fit(frame)
    assert list(c.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(c.transform(frame), a.transform(X), rtol=1e-12)


def test_fit_transform_and_pipeline(planted):
    embedder, X, _ = planted
    params = dict(class_names=CLASSES[:3], max_steps=20, early_stopping=False)
    fitted = _small(embedder, **params).fit(X)
    np.testing.assert_allclose(
        _small(embedder, **params).fit_transform(X), fitted.transform(X)
    )
    pipe = make_pipeline(_small(embedder, **params))
    np.testing.assert_allclose(pipe.fit_transform(X), fitted.transform(X))


def test_class_names_as_series_or_frame(planted):
    params = dict(max_steps=3, early_stopping=False, n_prompts_per_class=4)
    names = pd.Series(["cat", "dog"], name="label")
    a = _fit(planted[0], names, **params)
    assert list(a.class_names_) == ["cat", "dog"]
    b = _fit(planted[0], names.to_frame(), **params)
    np.testing.assert_array_equal(a.output_weights_, b.output_weights_)
    # A repeated name is refused, as by ZeroShotClassifier, not dropped.
    with pytest.raises(ValueError, match=r"duplicate classes \['cat'\]"):
        _fit(planted[0], pd.Series(["cat", "dog", "cat"]), **params)


def test_invalid_parameters(planted):
    with pytest.raises(ValueError, match="alpha"):
        _fit(planted[0], alpha=-1)
    with pytest.raises(ValueError, match="device"):
        _fit(planted[0], CLASSES[:2], device="not-a-device")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            _fit(planted[0], CLASSES[:2], device="cuda")
    with pytest.raises(ValueError, match="validation_fraction"):
        _fit(planted[0], CLASSES[:2], n_prompts_per_class=1, validation_fraction=0.01)


class NeedsFitEmbedder(BaseEstimator):
    """A scikit-learn style embedder that raises NotFittedError until fitted."""

    def __init__(self, d=16):
        self.d = d

    def fit(self, X, y=None):
        self.planted_ = PlantedTextEmbedder(CLASSES, n_features=self.d)
        return self

    def transform(self, texts):
        check_is_fitted(self)
        return self.planted_.transform(texts)


def test_embedders_that_need_fit_or_return_sparse():
    params = dict(max_steps=3, early_stopping=False, n_prompts_per_class=4)
    needs_fit = NeedsFitEmbedder()
    clap = _small(needs_fit, ["cat", "dog"], **params).fit(np.ones((2, 16)))
    assert clap.n_features_in_ == 16
    assert not hasattr(needs_fit, "planted_")  # the parameter is left untouched
    hashing = HashingVectorizer(n_features=32)
    clap = _small(hashing, ["cat", "dog"], **params).fit(np.ones((2, 32)))
    assert clap.n_features_in_ == 32


def test_prompts_are_encoded_once(planted):
    calls = []

    class Counting(PlantedTextEmbedder):
        def transform(self, texts):
            calls.append(list(texts))
            return super().transform(texts)

    params = dict(max_steps=1, early_stopping=False, random_state=7)
    _small(Counting(CLASSES), ["cat", "dog"], **params).fit(planted[1])
    assert len(calls) == 1
    assert len(calls[0]) == len(set(calls[0]))
    # The same seed shows the prompts that fit used.
    prompts = make_clap_prompts(["cat", "dog"], n_prompts_per_class=96, random_state=7)
    columns = ["prompt", "augmented_prompt", "class_prompt"]
    assert set(calls[0]) == set(prompts[columns].to_numpy().ravel())


def test_default_early_stopping_ends_training(planted):
    # With the default validation_interval, n_iter_no_change and tol, training
    # stops long before max_steps once the validation loss levels off.
    embedder, X, _ = planted
    clap = CLAPDisentangler(
        CLASSES[:4],
        embedder,
        hidden_dim=32,
        n_prompts_per_class=48,
        learning_rate=1e-2,
        random_state=0,
    ).fit(X)
    assert clap.max_steps == 8000
    assert clap.n_iter_ < 4000
    assert clap.n_iter_ % clap.validation_interval == 0
    evaluations = clap.validation_loss_curve_
    assert len(evaluations) == clap.n_iter_ // clap.validation_interval
    # The last n_iter_no_change evaluations did not improve on the best one.
    best = clap.best_validation_loss_
    assert best == min(evaluations[: -clap.n_iter_no_change])
    assert min(evaluations[-clap.n_iter_no_change :]) >= (1 - clap.tol) * best


# --------------------------------------------------------------------------- #
# The bundled tiny CLIP model
# --------------------------------------------------------------------------- #
@pytest.mark.slow
def test_smoke_with_tiny_clip(tiny_text_embedder):
    pytest.importorskip("sklearn_pos.embedding")
    embedder = tiny_text_embedder
    E = embedder.transform(["a dog", "a cat"])
    clap = CLAPDisentangler(
        ["dog", "cat"],
        embedder,
        hidden_dim=16,
        n_prompts_per_class=8,
        max_steps=5,
        early_stopping=False,
        random_state=0,
        device="cpu",
    ).fit(E)
    out = clap.set_params(alpha=1.0).transform(E)
    assert out.shape == E.shape and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(out, E)
    assert b"torch" not in pickle.dumps(clap.set_params(text_embedder=None))


# --------------------------------------------------------------------------- #
# Bad templates and parameters
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "template, match",
    [
        ("{} {}", r"exactly one '\{\}' placeholder.*fields \['', ''\]"),
        ("{x}", r"exactly one '\{\}' placeholder.*fields \['x'\]"),
        ("{}{", "not a valid format string"),
    ],
)
def test_class_template_is_checked_like_a_prompt_template(template, match):
    with pytest.raises(ValueError, match=f"class_template='.*{match}"):
        make_clap_prompts(["dog"], class_template=template)
    clap = CLAPDisentangler(
        ["dog", "cat"],
        PlantedTextEmbedder(["dog", "cat"], n_features=8),
        class_template=template,
    )
    with pytest.raises(ValueError, match=match):
        clap.fit(np.ones((2, 8)))


@pytest.mark.parametrize(
    "kwargs",
    [{"p_drop_size": "x"}, {"p_drop_colour": np.nan}, {"n_prompts_per_class": 2.0}],
)
def test_prompt_parameters_are_validated(kwargs):
    from sklearn_pos._compat import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=next(iter(kwargs))):
        make_clap_prompts(["dog"], **kwargs)


@pytest.mark.parametrize("class_names", [[], np.array([], dtype=object), ()])
def test_prompts_of_no_class_are_refused(class_names):
    with pytest.raises(ValueError, match="class_names is empty"):
        make_clap_prompts(class_names)
