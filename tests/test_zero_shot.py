"""Prompt templates, the zero-shot classifier and the evaluation helpers."""

import pickle
import re
import zlib

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import Normalizer

from sklearn_pos.datasets import make_image_folder
from sklearn_pos.decomposition import PartOfSpeechComponentAnalysis
from sklearn_pos.evaluation import evaluate_classifiers
from sklearn_pos.prototypes import NearestPrototypeClassifier
from sklearn_pos.templates import (
    TEMPLATES,
    check_templates,
    format_prompts,
    get_templates,
)
from sklearn_pos.zero_shot import ZeroShotClassifier, make_text_prototypes

D = 16


def _unit(X):
    X = np.asarray(X, dtype=float)
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


class WordVectors(TransformerMixin, BaseEstimator):
    """Deterministic text embedder: the sum of a fixed random vector per word."""

    def __init__(self, d=D, seed=0):
        self.d = d
        self.seed = seed

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        out = np.zeros((len(X), self.d))
        for i, text in enumerate(X):
            for word in re.findall(r"[a-z]+", text.lower()):
                rng = np.random.RandomState(zlib.crc32(f"{self.seed}:{word}".encode()))
                out[i] += rng.normal(size=self.d)
        return out


class NeedsFit(WordVectors):
    """A text embedder that must be fitted before transform."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        if not hasattr(self, "fitted_"):
            raise NotFittedError("fit first")
        return super().transform(X)


NAMES = ["cat", "dog", "car"]


def _images(rng, n_per_class=10, noise=0.3):
    """Unit 'image' embeddings near the bare class-name embeddings."""
    P = _unit(WordVectors().transform(NAMES))
    X = np.repeat(P, n_per_class, axis=0) + noise * rng.normal(
        size=(3 * n_per_class, D)
    )
    return _unit(X), np.repeat(NAMES, n_per_class)


# --------------------------------------------------------------------------- #
# Templates
# --------------------------------------------------------------------------- #
def test_shipped_template_sets():
    assert TEMPLATES["bare"] == ("{}",)
    assert len(TEMPLATES["simple"]) == 7 and len(TEMPLATES["openai_imagenet"]) == 80
    assert len(set(TEMPLATES["openai_imagenet"])) == 80
    assert set(TEMPLATES["simple"]) <= set(TEMPLATES["openai_imagenet"])
    for templates in TEMPLATES.values():
        assert check_templates(list(templates)) == list(templates)
    assert pickle.loads(pickle.dumps(get_templates("simple"))) == list(
        TEMPLATES["simple"]
    )


def test_shipped_templates_match_open_clip():
    open_clip = pytest.importorskip("open_clip")
    assert get_templates("openai_imagenet") == [
        t("{}") for t in open_clip.OPENAI_IMAGENET_TEMPLATES
    ]
    assert get_templates("simple") == [
        t("{}") for t in open_clip.SIMPLE_IMAGENET_TEMPLATES
    ]


@pytest.mark.parametrize(
    "templates, error, match",
    [
        ([], ValueError, "template list is empty"),
        ("nope", ValueError, "Unknown template set 'nope'"),
        (["a photo"], ValueError, "exactly one '{}' placeholder.*no placeholder"),
        (["a {} and a {}"], ValueError, "exactly one"),
        (["a {name}"], ValueError, r"the fields \['name'\]"),
        (["a {"], ValueError, "not a valid format string"),
        ([lambda c: f"a {c}"], TypeError, "picklable"),
    ],
)
def test_bad_templates_are_explained(templates, error, match):
    with pytest.raises(error, match=match):
        check_templates(templates)


def test_format_prompts_class_by_class_and_braces():
    assert format_prompts(["a", "b"], ["x {} y", "{{{}}}"]) == [
        "x a y",
        "{a}",
        "x b y",
        "{b}",
    ]


# --------------------------------------------------------------------------- #
# ZeroShotClassifier
# --------------------------------------------------------------------------- #
def test_prototypes_are_normalised_template_means():
    templates = ["a photo of a {}.", "a drawing of the {}.", "{}"]
    clf = ZeroShotClassifier(
        NAMES, templates=templates, text_embedder=WordVectors()
    ).fit(None)
    E = _unit(WordVectors().transform(format_prompts(NAMES, templates)))
    expected = _unit(E.reshape(3, 3, D).mean(axis=1))
    np.testing.assert_allclose(clf.prototypes_, expected, atol=1e-12)
    np.testing.assert_allclose(
        make_text_prototypes(NAMES, WordVectors(), templates), expected, atol=1e-12
    )
    assert clf.classes_.tolist() == NAMES and clf.class_names_ == NAMES
    assert clf.n_features_in_ == D


def test_zero_shot_without_any_labels_and_probabilities():
    rng = np.random.RandomState(0)
    X, y = _images(rng)
    clf = ZeroShotClassifier(NAMES, text_embedder=WordVectors()).fit(X)  # unlabelled
    cos = _unit(X) @ clf.prototypes_.T
    np.testing.assert_allclose(clf.cosine_similarity(X), cos)
    np.testing.assert_array_equal(clf.predict(X), np.asarray(NAMES)[cos.argmax(1)])
    np.testing.assert_allclose(clf.predict_proba(X), softmax(100 * cos, axis=1))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
    np.testing.assert_allclose(clf.decision_function(X), 100 * cos)
    assert clf.score(X, y) > 0.9
    clf.set_params(logit_scale=10.0)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(10 * cos, axis=1))
    # input scale does not matter: rows are normalised
    np.testing.assert_allclose(clf.predict_proba(3 * X), clf.predict_proba(X))


def test_binary_decision_function_follows_sklearn():
    clf = ZeroShotClassifier(prototypes={"no": [1.0, 0.0], "yes": [0.0, 1.0]}).fit(None)
    X = np.array([[1.0, 0.2], [0.1, 1.0]])
    scores = clf.decision_function(X)
    assert scores.shape == (2,)
    np.testing.assert_array_equal(clf.predict(X), np.where(scores > 0, "yes", "no"))


def test_class_name_mapping_keeps_integer_labels():
    names = {0: "cat", 1: "dog", 2: "car"}
    clf = ZeroShotClassifier(names, templates="simple", text_embedder=WordVectors())
    rng = np.random.RandomState(0)
    X, y = _images(rng)
    y_int = np.repeat([0, 1, 2], 10)
    clf.fit(X, y_int)
    assert clf.classes_.tolist() == [0, 1, 2] and clf.class_names_ == NAMES
    by_name = ZeroShotClassifier(
        NAMES, templates="simple", text_embedder=WordVectors()
    ).fit(X)
    np.testing.assert_allclose(clf.prototypes_, by_name.prototypes_)
    assert clf.score(X, y_int) == by_name.score(X, y)


def test_labels_missing_from_the_classes_are_named():
    X, y = _images(np.random.RandomState(0))
    clf = ZeroShotClassifier(NAMES[:2], text_embedder=WordVectors())
    with pytest.raises(ValueError, match=r"1 label\(s\) missing.*'car'"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match=r"missing from the prototypes: \['car'\]"):
        ZeroShotClassifier(
            NAMES, prototypes={"cat": np.ones(D), "dog": -np.ones(D)}
        ).fit(X)
    with pytest.raises(ValueError, match="prototypes has 2 rows but class_names has 3"):
        ZeroShotClassifier(NAMES, prototypes=np.ones((2, D))).fit(X)


def test_prototype_mapping_selects_the_named_classes():
    bank = {name: v for name, v in zip(NAMES + ["bus"], np.eye(4, D))}
    clf = ZeroShotClassifier(["dog", "cat"], prototypes=bank).fit(None)
    assert clf.classes_.tolist() == ["dog", "cat"]
    np.testing.assert_array_equal(clf.prototypes_, np.eye(4, D)[[1, 0]])
    assert ZeroShotClassifier(prototypes=np.eye(3, D)).fit(None).classes_.tolist() == [
        0,
        1,
        2,
    ]
    mixed = ZeroShotClassifier(prototypes={0: np.eye(D)[0], "cat": np.eye(D)[1]}).fit(
        None
    )
    assert mixed.classes_.dtype == object and mixed.classes_.tolist() == [0, "cat"]


def test_prototype_without_a_direction_is_named():
    bank = {"dog": np.eye(D)[0], "cat": np.zeros(D), "car": np.full(D, np.nan)}
    zero = r"The prototypes: 1 row\(s\) of zero norm \(first at row 'cat'\)"
    with pytest.raises(ValueError, match=zero):
        ZeroShotClassifier(["dog", "cat"], prototypes=bank).fit(None)
    with pytest.raises(ValueError, match=r"NaN or infinity \(first at row 'car'\)"):
        ZeroShotClassifier(["dog", "car"], prototypes=bank).fit(None)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(templates=[]), "template list is empty"),
        (dict(templates=["no placeholder"]), "exactly one"),
        (
            dict(text_embedder=WordVectors(d=D + 1)),
            "16 features but the prototypes have 17.*same CLIP model",
        ),
        (dict(text_embedder=None), "embedded by a text_embedder"),
        (dict(prototypes=np.eye(3, D)), "either prototypes or a text_embedder"),
    ],
)
def test_zero_shot_errors(params, match):
    X, _ = _images(np.random.RandomState(0))
    params = {"text_embedder": WordVectors(), **params}
    with pytest.raises(ValueError, match=match):
        ZeroShotClassifier(NAMES, **params).fit(X)


def test_width_mismatch_is_also_caught_at_predict_time():
    clf = ZeroShotClassifier(NAMES, text_embedder=WordVectors()).fit(None)
    with pytest.raises(ValueError, match=f"X has {D + 2} features.*expecting {D}"):
        clf.predict(np.ones((2, D + 2)))


def test_text_embedder_that_needs_fitting_is_fitted_on_a_clone():
    embedder = NeedsFit()
    clf = ZeroShotClassifier(NAMES, text_embedder=embedder).fit(None)
    assert not hasattr(embedder, "fitted_")
    np.testing.assert_allclose(
        clf.prototypes_,
        ZeroShotClassifier(NAMES, text_embedder=WordVectors()).fit(None).prototypes_,
    )


def test_without_text_it_is_a_cosine_nearest_centroid():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(40, 5)) + 1
    y = rng.randint(0, 3, 40)
    zs = ZeroShotClassifier().fit(X, y)
    npc = NearestPrototypeClassifier(mean="extrinsic").fit(X, y)
    np.testing.assert_allclose(zs.prototypes_, npc.prototypes_)
    np.testing.assert_array_equal(zs.predict(X), npc.predict(X))
    assert zs.__sklearn_tags__().target_tags.required
    assert not ZeroShotClassifier(NAMES).__sklearn_tags__().target_tags.required
    with pytest.raises(ValueError, match="requires y to be passed"):
        ZeroShotClassifier().fit(X)
    with pytest.raises(ValueError, match="class_names is None"):
        ZeroShotClassifier(text_embedder=WordVectors()).fit(
            X, y
        )  # not silently ignored


def test_image_transform_projects_images_only_unless_asked():
    rng = np.random.RandomState(0)
    vocab = _unit(rng.normal(size=(120, D)) + 2)
    labels = np.repeat(["adj", "noun", "verb"], 40)
    pos = PartOfSpeechComponentAnalysis(4, target="noun", output="projection").fit(
        vocab, labels
    )
    X, y = _images(rng)
    raw = ZeroShotClassifier(NAMES, text_embedder=WordVectors()).fit(X)

    images_only = ZeroShotClassifier(
        NAMES, text_embedder=WordVectors(), image_transform=FrozenEstimator(pos)
    ).fit(X, y)
    np.testing.assert_allclose(images_only.prototypes_, raw.prototypes_)
    expected = _unit(pos.transform(X)) @ raw.prototypes_.T
    np.testing.assert_allclose(images_only.cosine_similarity(X), expected)

    both = clone(images_only).set_params(project_prototypes=True).fit(X)
    np.testing.assert_allclose(both.prototypes_, _unit(pos.transform(raw.prototypes_)))
    np.testing.assert_allclose(
        both.cosine_similarity(X), _unit(pos.transform(X)) @ both.prototypes_.T
    )
    assert images_only.image_transform_.estimator is pos  # frozen: not refitted


def test_image_transform_needing_labels_or_returning_coordinates_is_refused():
    rng = np.random.RandomState(0)
    X, y = _images(rng)
    with pytest.raises(ValueError, match="needs labels.*FrozenEstimator"):
        ZeroShotClassifier(
            NAMES,
            text_embedder=WordVectors(),
            image_transform=PartOfSpeechComponentAnalysis(2),
        ).fit(X, y)
    vocab = _unit(rng.normal(size=(60, D)) + 2)
    pos = PartOfSpeechComponentAnalysis(3).fit(vocab, np.repeat(["a", "b"], 30))
    with pytest.raises(ValueError, match="have 3 features.*output='projection'"):
        ZeroShotClassifier(
            NAMES, text_embedder=WordVectors(), image_transform=FrozenEstimator(pos)
        ).fit(X)


def test_unsupervised_image_transform_is_cloned_and_fitted_without_labels():
    X, y = _images(np.random.RandomState(0))
    step = Normalizer()
    clf = ZeroShotClassifier(
        NAMES, text_embedder=WordVectors(), image_transform=step
    ).fit(X, y)
    assert clf.image_transform_ is not step and not hasattr(step, "n_features_in_")
    assert clf.image_transform_.n_features_in_ == D


def test_zero_shot_pickles_and_clones():
    clf = ZeroShotClassifier(
        NAMES, templates="simple", text_embedder=WordVectors()
    ).fit(None)
    X, _ = _images(np.random.RandomState(0))
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert "templates='simple'" in repr(clf)
    assert clone(clf).get_params()["class_names"] == NAMES
    with pytest.raises(NotFittedError):
        clone(clf).predict(X)


@pytest.mark.slow
def test_prototypes_match_open_clip_zero_shot_weights(
    tiny_text_embedder, tiny_clip_model
):
    open_clip = pytest.importorskip("open_clip")
    torch = pytest.importorskip("torch")
    names = ["cat", "red car", "tree"]
    clf = ZeroShotClassifier(
        names, templates="simple", text_embedder=tiny_text_embedder
    )
    clf.fit(None)
    with torch.no_grad():
        W = open_clip.build_zero_shot_classifier(
            tiny_clip_model.model,
            tokenizer=tiny_clip_model.tokenizer,
            classnames=names,
            templates=get_templates("simple"),
            device="cpu",
        )
    np.testing.assert_allclose(clf.prototypes_, W.T.numpy(), atol=1e-5)


# --------------------------------------------------------------------------- #
# Evaluation helpers
# --------------------------------------------------------------------------- #
def test_evaluate_classifiers_returns_tidy_frames():
    rng = np.random.RandomState(0)
    X, y = _images(rng)
    zs = ZeroShotClassifier(NAMES, text_embedder=WordVectors()).fit(None)
    fitted = evaluate_classifiers(
        {"zs": zs, "npc": NearestPrototypeClassifier().fit(X, y)},
        X,
        y,
        scoring=["accuracy", "neg_log_loss"],
        dataset="toy",
    )
    assert list(fitted.columns) == ["dataset", "method", "metric", "score", "n_samples"]
    assert fitted.shape == (4, 5) and set(fitted["dataset"]) == {"toy"}
    row = fitted.query("method == 'zs' and metric == 'accuracy'")
    assert row["score"].item() == pytest.approx(zs.score(X, y))

    cv = evaluate_classifiers([("npc", NearestPrototypeClassifier())], X, y, cv=3)
    assert list(cv.columns) == [
        "dataset",
        "method",
        "fold",
        "metric",
        "score",
        "n_samples",
    ]
    assert cv["fold"].tolist() == [0, 1, 2] and cv["n_samples"].sum() == len(y)
    with pytest.raises(ValueError, match="unique"):
        evaluate_classifiers([("a", zs), ("a", zs)], X, y)


def test_make_image_folder_is_an_image_folder(tmp_path):
    root = tmp_path / "first"
    folder = make_image_folder(
        root, classes=("red", "blue"), n_per_class=3, image_size=20
    )
    assert folder.target_names == ["blue", "red"]
    assert sorted(p.name for p in root.iterdir()) == ["blue", "red"]
    assert len(folder.paths) == 6 and set(folder.shape) <= {
        "circle",
        "square",
        "triangle",
    }
    from PIL import Image

    red = np.asarray(Image.open(folder.paths[-1]))
    assert red.shape == (20, 20, 3)
    assert red.reshape(-1, 3).mean(0)[0] > red.reshape(-1, 3).mean(0)[2]  # reddish
    again = make_image_folder(
        tmp_path / "again", classes=("red", "blue"), n_per_class=3, image_size=20
    )
    np.testing.assert_array_equal(np.asarray(Image.open(again.paths[-1])), red)
    with pytest.raises(ValueError, match="colour names"):
        make_image_folder(tmp_path, classes=("teal",))
    datasets = pytest.importorskip("torchvision.datasets")
    ds = datasets.ImageFolder(root)
    assert ds.classes == folder.target_names
    assert [ds.classes[t] for t in ds.targets] == folder.target.tolist()


# ------------------------------------------------------------ bad inputs


def test_make_text_prototypes_refuses_a_bare_string(tiny_text_embedder):
    with pytest.raises(TypeError, match=r"single string 'cat'.*\['cat'\]"):
        make_text_prototypes("cat", tiny_text_embedder)


def test_zero_row_at_predict_is_an_error():
    clf = ZeroShotClassifier(prototypes={"a": [1, 0, 0], "b": [0, 1, 0]}).fit(None)
    X = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    for method in (clf.predict, clf.predict_proba, clf.decision_function):
        with pytest.raises(ValueError, match=r"1 row\(s\) of zero norm.*index 1"):
            method(X)


def test_tiny_rows_are_scored_like_the_rows_they_scale():
    clf = ZeroShotClassifier(prototypes={"a": [1, 0.2, 0], "b": [0, 1, 0.3]}).fit(None)
    X = np.array([[0.9, 0.1, 0.0], [0.1, 0.8, 0.3]])
    np.testing.assert_allclose(clf.predict_proba(X * 1e-300), clf.predict_proba(X))


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([1, "cat"] * 3, dtype=object), "mixes labels of different types"),
        (np.array([None, "cat"] * 3, dtype=object), "missing label"),
    ],
)
def test_labels_that_cannot_be_sorted(y, match):
    X = np.random.RandomState(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match=match):
        ZeroShotClassifier().fit(X, y)
    text = ZeroShotClassifier(prototypes={"cat": [1, 0, 0], 1: [0, 1, 0]})
    with pytest.raises(ValueError, match=match):
        text.fit(X, y)


def test_labelled_means_need_a_direction_per_class():
    X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match=r"no mean direction: 'dog'"):
        ZeroShotClassifier().fit(X, ["cat", "cat", "dog", "dog"])


def test_evaluate_classifiers_without_cv_needs_fitted_classifiers():
    X = np.array([[1, 0.1], [0.9, -0.2], [0.1, 1], [-0.2, 0.8]])
    y = np.array([0, 0, 1, 1])
    with pytest.raises(NotFittedError, match="'proto'.*not fitted.*cv"):
        evaluate_classifiers({"proto": NearestPrototypeClassifier()}, X, y)


def test_format_prompts_refuses_a_bare_string():
    with pytest.raises(TypeError, match=r"single string 'cat'"):
        format_prompts("cat", ["a {}"])


@pytest.mark.parametrize("templates", [5, {"a {}": 1}, b"{}"])
def test_templates_of_the_wrong_type(templates):
    with pytest.raises(TypeError, match="templates must be the name of a template set"):
        check_templates(templates)


@pytest.mark.parametrize(
    "prototypes, match",
    [
        (np.array([["a", "b"], ["c", "d"]]), "^prototypes must hold embeddings"),
        ({"cat": ["x", "y"], "dog": [1.0, 0.0]}, "^The prototype of 'cat' must hold"),
    ],
)
def test_prototypes_that_are_not_numbers_are_refused_by_name(prototypes, match):
    with pytest.raises(ValueError, match=match) as info:
        ZeroShotClassifier(prototypes=prototypes).fit(np.eye(2))
    assert "could not convert string to float" in str(info.value)
