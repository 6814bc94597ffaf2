"""Tests of the projection-augmentation embedding (CLIP-PAE)."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from sklearn_pos.pae import ProjectionAugmentationEmbedding, projection_augmentation

D = 16


def _unit(X):
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture
def prompts(rng):
    # Prompt embeddings share a common direction, like CLIP text embeddings.
    common = rng.normal(size=D)
    return _unit(common + 0.7 * rng.normal(size=(5, D)))


class LookupEmbedder:
    """Maps each text to a fixed random unit vector (seeded by the text)."""

    def __init__(self, d=D):
        self.d = d

    def transform(self, texts):
        out = []
        for text in texts:
            seed = sum(ord(ch) * (i + 1) for i, ch in enumerate(text)) % 2**31
            out.append(_unit(np.random.RandomState(seed).normal(size=self.d) + 2))
        return np.asarray(out)


def direct_pae(e_image, e_target, basis, alpha):
    """The formula written out term by term, for one image."""
    c = [float(np.dot(e_image, b)) for b in basis]
    removed = sum(abs(ck) * b for ck, b in zip(c, basis))
    denominator = sum(float(np.dot(e_target, b)) for b in basis)
    added = alpha * sum(abs(ck) for ck in c) / denominator * e_target
    return e_image - alpha * removed + added


# --------------------------------------------------------------------------- #
# Basis
# --------------------------------------------------------------------------- #
def test_gram_schmidt_basis_is_orthonormal_and_ordered(prompts):
    pae = ProjectionAugmentationEmbedding(prompts, prompts[0]).fit()
    B = pae.components_
    assert pae.n_components_ == 5
    np.testing.assert_allclose(B @ B.T, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(B[0], prompts[0], atol=1e-12)
    # Each prompt lies in the span of the basis vectors up to its own.
    for k, p in enumerate(prompts):
        np.testing.assert_allclose(B[: k + 1].T @ (B[: k + 1] @ p), p, atol=1e-12)
        assert p @ B[k] > 0  # b_k points towards prompt k
    two = ProjectionAugmentationEmbedding(prompts, prompts[0], n_components=2).fit()
    np.testing.assert_allclose(two.components_, B[:2])


def test_gram_schmidt_skips_dependent_prompts(prompts):
    dependent = np.vstack([prompts[:3], _unit(prompts[0] + prompts[1]), prompts[3:]])
    with pytest.warns(UserWarning, match=r"\[3\]\) are linearly dependent"):
        pae = ProjectionAugmentationEmbedding(dependent, prompts[0]).fit()
    assert pae.n_components_ == 5
    np.testing.assert_allclose(
        pae.components_ @ pae.components_.T, np.eye(5), atol=1e-12
    )
    with pytest.raises(ValueError, match="exceeds"):
        ProjectionAugmentationEmbedding(prompts, prompts[0], n_components=6).fit()
    with pytest.raises(ValueError, match="needs basis='pca'"):
        ProjectionAugmentationEmbedding(prompts, prompts[0], n_components=0.5).fit()


def test_pca_basis(rng):
    words = _unit(rng.normal(size=D) + 0.5 * rng.normal(size=(40, D)))
    pae = ProjectionAugmentationEmbedding(
        words, words[0], basis="pca", n_components=4
    ).fit()
    B = pae.components_
    np.testing.assert_allclose(B @ B.T, np.eye(4), atol=1e-10)
    # Same axes as scikit-learn's PCA, oriented towards the corpus mean.
    ref = PCA(n_components=4, svd_solver="full").fit(words)
    np.testing.assert_allclose(np.abs(B @ ref.components_.T), np.eye(4), atol=1e-10)
    assert np.all(B @ words.mean(axis=0) >= 0)
    np.testing.assert_allclose(
        pae.explained_variance_ratio_, ref.explained_variance_ratio_
    )
    frac = ProjectionAugmentationEmbedding(
        words, words[0], basis="pca", n_components=0.5
    ).fit()
    assert frac.explained_variance_ratio_.sum() >= 0.5
    assert 1 <= frac.n_components_ < 40
    with pytest.raises(ValueError, match="at least 2"):
        ProjectionAugmentationEmbedding(words[:1], words[0], basis="pca").fit()


# --------------------------------------------------------------------------- #
# The formula
# --------------------------------------------------------------------------- #
def test_formula_matches_direct_evaluation(prompts, rng):
    B = ProjectionAugmentationEmbedding(prompts, prompts[2]).fit().components_
    E = _unit(rng.normal(size=(7, D)))
    t = _unit(prompts[2] + 0.3 * rng.normal(size=D))
    for alpha in (0.0, 0.5, 8.0):
        got = projection_augmentation(E, t, B, alpha=alpha)
        want = np.array([direct_pae(e, t, B, alpha) for e in E])
        np.testing.assert_allclose(got, want, atol=1e-12)
    # A single row and one target per row.
    np.testing.assert_allclose(
        projection_augmentation(E[3], t, B), direct_pae(E[3], t, B, 8.0), atol=1e-12
    )
    T = _unit(rng.normal(size=(7, D)) + 1)
    got = projection_augmentation(E, T, B, alpha=2.0)
    want = np.array([direct_pae(e, tt, B, 2.0) for e, tt in zip(E, T)])
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_alpha_zero_gives_the_image(prompts, rng):
    E = _unit(rng.normal(size=(4, D)))
    B = ProjectionAugmentationEmbedding(prompts, prompts[1]).fit().components_
    np.testing.assert_array_equal(projection_augmentation(E, prompts[1], B, 0.0), E)
    pae = ProjectionAugmentationEmbedding(prompts, prompts[1], alpha=0.0).fit()
    np.testing.assert_allclose(pae.transform(3 * E), E, atol=1e-12)


def test_formula_invariants(prompts, rng):
    B = ProjectionAugmentationEmbedding(prompts, prompts[4]).fit().components_
    E = _unit(rng.normal(size=(6, D)))
    t = prompts[4]  # in the span of the basis
    pae = projection_augmentation(E, t, B, alpha=8.0)
    # The sum of the coordinates in the basis is kept ...
    np.testing.assert_allclose((pae @ B.T).sum(axis=1), (E @ B.T).sum(axis=1))
    # ... and, with the target in the span, so is the part outside the span.
    outside = np.eye(D) - B.T @ B
    np.testing.assert_allclose(pae @ outside, E @ outside, atol=1e-12)
    # For large alpha the in-span part tends to a fixed combination.
    coef = np.abs(E @ B.T)
    limit = -coef @ B + (coef.sum(axis=1) / (t @ B.sum(axis=0)))[:, None] * t
    far = projection_augmentation(E, t, B, alpha=1e6) / 1e6
    np.testing.assert_allclose(far, limit, atol=1e-6)


def test_target_in_span_with_positive_coordinates_is_a_fixed_point(prompts):
    B = ProjectionAugmentationEmbedding(prompts, prompts[0]).fit().components_
    t = _unit(B.T @ np.array([0.5, 0.2, 0.1, 0.3, 0.4]))
    for alpha in (0.3, 8.0, 100.0):
        np.testing.assert_allclose(
            projection_augmentation(t, t, B, alpha), t, atol=1e-12
        )


def test_pae_moves_the_image_towards_the_target(prompts, rng):
    E = _unit(rng.normal(size=(20, D)) + prompts[0])
    pae = ProjectionAugmentationEmbedding(prompts, prompts[3], alpha=8.0).fit()
    out = pae.transform(E)
    t = pae.target_embedding_
    assert np.all(out @ t > E @ t)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0)
    raw = ProjectionAugmentationEmbedding(prompts, prompts[3], normalize=False).fit()
    np.testing.assert_allclose(
        raw.transform(E), projection_augmentation(E, t, raw.components_, 8.0)
    )


def test_zero_denominator_is_an_error(rng):
    B = np.eye(D)[:2]
    t = _unit(np.r_[1.0, -1.0, np.ones(D - 2)])  # <t, b1> + <t, b2> = 0
    with pytest.raises(ValueError, match="sum to 0"):
        projection_augmentation(rng.normal(size=(3, D)), t, B)
    T = np.vstack([np.eye(D)[0], t])
    with pytest.raises(ValueError, match="target row 1"):
        projection_augmentation(rng.normal(size=(2, D)), T, B)
    with pytest.raises(ValueError, match="undefined"):
        ProjectionAugmentationEmbedding(B, t).fit()
    orthogonal = np.eye(D)[5]  # outside the span
    with pytest.raises(ValueError, match="undefined"):
        ProjectionAugmentationEmbedding(B, orthogonal).fit()


def test_function_shape_errors(rng):
    B = np.eye(D)[:2]
    with pytest.raises(ValueError, match="components"):
        projection_augmentation(rng.normal(size=(3, D)), np.ones(D), np.eye(D + 1))
    with pytest.raises(ValueError, match="target_embedding"):
        projection_augmentation(rng.normal(size=(3, D)), np.ones((2, D)), B)


# --------------------------------------------------------------------------- #
# Estimator
# --------------------------------------------------------------------------- #
def test_text_corpus_and_target_through_an_embedder(rng):
    emotions = ["a happy face", "a sad face", "an angry face", "a surprised face"]
    embedder = LookupEmbedder()
    pae = ProjectionAugmentationEmbedding(
        emotions, "an angry face", text_embedder=embedder
    ).fit()
    np.testing.assert_allclose(
        pae.target_embedding_, embedder.transform(["an angry face"])[0]
    )
    np.testing.assert_allclose(pae.components_[0], embedder.transform(emotions)[:1][0])
    arrays = ProjectionAugmentationEmbedding(
        embedder.transform(emotions), embedder.transform(["an angry face"])[0]
    ).fit()
    np.testing.assert_allclose(arrays.components_, pae.components_, atol=1e-12)
    E = _unit(rng.normal(size=(3, D)))
    np.testing.assert_allclose(arrays.transform(E), pae.transform(E))
    with pytest.raises(ValueError, match="text_embedder is needed"):
        ProjectionAugmentationEmbedding(emotions, np.ones(D)).fit()
    with pytest.raises(ValueError, match="text_embedder is needed"):
        ProjectionAugmentationEmbedding(np.eye(D)[:2], "an angry face").fit()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(), "corpus is required"),
        (dict(corpus=np.eye(D)[:2]), "target is required"),
        (dict(corpus="a happy face", target=np.ones(D)), "array-like"),
        (dict(corpus=np.eye(D)[:2], target=np.ones(D + 1)), "width 16"),
        (dict(corpus=np.eye(D)[:2], target=np.ones(D), basis="svd"), "basis"),
        (dict(corpus=np.eye(D)[:2], target=np.ones(D), alpha=-1), "alpha"),
    ],
)
def test_fit_errors(params, match):
    with pytest.raises(ValueError, match=match):
        ProjectionAugmentationEmbedding(**params).fit()


def test_alpha_is_used_at_transform_time(prompts, rng):
    E = _unit(rng.normal(size=(5, D)))
    pae = ProjectionAugmentationEmbedding(prompts, prompts[1], normalize=False).fit()
    B = pae.components_.copy()
    pae.set_params(alpha=2.0)
    np.testing.assert_allclose(
        pae.transform(E), projection_augmentation(E, prompts[1], B, 2.0)
    )
    np.testing.assert_array_equal(pae.components_, B)


def test_pipeline_after_an_image_embedder(prompts, rng):
    images = rng.normal(size=(6, D))
    pipe = make_pipeline(
        Normalizer(), ProjectionAugmentationEmbedding(prompts, prompts[0])
    )
    out = pipe.fit_transform(images)  # fit's X is not used for the basis
    alone = ProjectionAugmentationEmbedding(prompts, prompts[0]).fit()
    np.testing.assert_allclose(out, alone.transform(images))
    with pytest.raises(ValueError, match="corpus embeddings have 16"):
        ProjectionAugmentationEmbedding(prompts, prompts[0]).fit(images[:, :5])


def test_transform_details(prompts, rng):
    pae = ProjectionAugmentationEmbedding(prompts, prompts[0]).fit()
    E = rng.normal(size=(4, D))
    assert pae.transform(E.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(
        pae.transform(E.astype(np.float32)), pae.transform(E), atol=1e-6
    )
    assert list(pae.get_feature_names_out()[:2]) == [
        "projectionaugmentationembedding0",
        "projectionaugmentationembedding1",
    ]
    with pytest.raises(ValueError, match="features"):
        pae.transform(E[:, :3])
    with pytest.raises(NotFittedError):
        ProjectionAugmentationEmbedding(prompts, prompts[0]).transform(E)
    restored = pickle.loads(pickle.dumps(pae))
    np.testing.assert_array_equal(restored.transform(E), pae.transform(E))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pae.fit_transform(E)


@pytest.mark.slow
def test_smoke_with_tiny_clip(tiny_text_embedder):
    pytest.importorskip("sklearn_pos.embedding")
    emotions = ["a happy face", "a sad face", "an angry face", "a surprised face"]
    pae = ProjectionAugmentationEmbedding(
        emotions, "an angry face", text_embedder=tiny_text_embedder
    ).fit()
    B = pae.components_
    np.testing.assert_allclose(B @ B.T, np.eye(4), atol=1e-6)
    faces = tiny_text_embedder.transform(["a photo of a face", "a portrait"])
    out = pae.transform(faces)
    assert out.shape == faces.shape and out.dtype == np.float32
    t = pae.target_embedding_
    assert np.all(out @ t > faces @ t)


# ------------------------------------------------------------ bad inputs

_BASIS = np.eye(3)[:2]
_TARGET = np.array([0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((np.array([np.nan, 1, 0]), _TARGET, _BASIS), ValueError, "image_embeddings"),
        ((np.array([np.inf, 1, 0]), _TARGET, _BASIS), ValueError, "image_embeddings"),
        ((np.ones(3), np.array([0, np.nan, 0]), _BASIS), ValueError, "target"),
        ((np.zeros((0, 3)), _TARGET, _BASIS), ValueError, "image_embeddings is empty"),
        ((np.ones(3), _TARGET, np.zeros((0, 3))), ValueError, "components is empty"),
        ((["a", "b", "c"], _TARGET, _BASIS), TypeError, "must hold embeddings"),
    ],
    ids=["nan", "inf", "nan target", "no rows", "no basis", "strings"],
)
def test_projection_augmentation_refuses_bad_inputs(args, error, match):
    with pytest.raises(error, match=match):
        projection_augmentation(*args)


@pytest.mark.parametrize("alpha", [np.nan, np.inf])
def test_projection_augmentation_needs_a_finite_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        projection_augmentation(np.ones(3), _TARGET, _BASIS, alpha=alpha)


@pytest.mark.parametrize(
    "corpus, target, match",
    [
        (["a happy face", 3], "an angry face", r"corpus mixes.*element 1 is 3 \(int\)"),
        ([1.5, "a sad face"], "an angry face", r"corpus mixes.*element 0 is 1.5"),
        (["a happy face", None], "an angry face", r"element 1 is None"),
        (["a happy face", "a sad face"], ["an angry face", 2], r"target mixes"),
    ],
)
def test_texts_mixed_with_other_values_are_refused_early(corpus, target, match):
    # Before anything is embedded, naming the parameter, the element and what
    # to pass instead.
    pae = ProjectionAugmentationEmbedding(
        corpus, target, text_embedder=LookupEmbedder()
    )
    with pytest.raises(ValueError, match=match) as info:
        pae.fit()
    assert "Pass only prompts (str)" in str(info.value)


@pytest.mark.parametrize("corpus", [[], np.zeros((0, D))])
def test_empty_corpus_is_refused(corpus):
    with pytest.raises(ValueError, match="corpus is empty"):
        ProjectionAugmentationEmbedding(corpus, np.ones(D)).fit()


def test_transform_of_no_rows_gives_no_rows(prompts):
    pae = ProjectionAugmentationEmbedding(prompts, prompts[1]).fit()
    for dtype in (np.float32, np.float64):
        out = pae.transform(np.zeros((0, D), dtype=dtype))
        assert out.shape == (0, D) and out.dtype == dtype


def test_an_overflowing_result_is_refused(rng):
    B = np.eye(D)[:2]
    E = 10 * _unit(rng.normal(size=(3, D)))  # alpha |c_k| exceeds 1.8e308
    with pytest.raises(ValueError, match=r"3 row\(s\) \(first at row 0\) overflows"):
        projection_augmentation(E, np.eye(D)[0], B, alpha=1e308)
    # Unit rows: the sum of |c_k| over the whole basis exceeds 1.8 here.
    assert np.abs(_unit(E)).sum(axis=1).min() > 1.8
    pae = ProjectionAugmentationEmbedding(np.eye(D), np.eye(D)[0], alpha=1e308).fit()
    with pytest.raises(ValueError, match="Use a smaller alpha"):
        pae.transform(E)
    assert np.all(np.isfinite(projection_augmentation(E, np.eye(D)[0], B, alpha=1e6)))
