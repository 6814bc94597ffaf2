"""The one rule for embedding rows and the one rule for class names."""

import numpy as np
import pandas as pd
import pytest

from sklearn_pos import CLAPDisentangler, ZeroShotClassifier, make_text_prototypes
from sklearn_pos._validation import (
    check_class_names,
    check_embedding_values,
    check_rows,
    inverse_row_norms,
    unit_rows,
)
from sklearn_pos.templates import format_prompts, make_clap_prompts


def test_unit_rows_scales_rows_and_names_the_ones_it_cannot():
    X = np.array([[3.0, 4.0], [0.0, -2.0]])
    np.testing.assert_allclose(unit_rows(X), [[0.6, 0.8], [0.0, -1.0]])
    with pytest.raises(
        ValueError, match=r"^X: 1 row\(s\) of zero norm \(first at index 1\)"
    ):
        unit_rows(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(
        ValueError, match=r"^E: 1 row\(s\) with NaN or infinity \(first at row 'b'\)"
    ):
        unit_rows(np.array([[1.0, 0.0], [np.inf, 0.0]]), "E", ["a", "b"])


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e200, 1.0])
def test_unit_rows_at_any_scale(scale):
    X = np.random.RandomState(0).normal(size=(5, 8))
    np.testing.assert_allclose(unit_rows(X * scale), unit_rows(X))


def test_unit_rows_keep_float32():
    X = np.random.RandomState(0).normal(size=(4, 3)).astype(np.float32)
    tiny = unit_rows(X * np.float32(1e-30))
    assert tiny.dtype == np.float32
    np.testing.assert_allclose(tiny, unit_rows(X), rtol=1e-6)


def test_rows_whose_norm_overflows_are_told_apart_from_infinite_values():
    X = np.full((2, 4), 1e308)
    X[0] = 1.0
    with pytest.raises(ValueError, match=r"1 row\(s\) whose norm overflows float64"):
        check_rows(X)
    X[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"1 row\(s\) with NaN or infinity"):
        check_rows(X)


def test_inverse_row_norms_with_the_mean_from_the_same_pass():
    X = np.array([[3.0, 4.0], [0.0, -2.0], [5.0, 0.0]])
    inv, mean = inverse_row_norms(X, return_mean=True)
    np.testing.assert_allclose(inv, [0.2, 0.5, 0.2])
    np.testing.assert_allclose(mean, (X * inv[:, None]).mean(axis=0))
    np.testing.assert_array_equal(inverse_row_norms(X), inv)


def test_inverse_row_norms_refuse_rows_too_small_for_the_dtype():
    X = np.ones((3, 2), dtype=np.float32)
    X[2] = np.float32(1e-39)  # subnormal: its reciprocal overflows float32
    with pytest.raises(
        ValueError, match=r"1 row\(s\) of norm below .*first at index 2.*float64"
    ):
        inverse_row_norms(X)
    X64 = X.astype(np.float64)
    inv = inverse_row_norms(X64)
    np.testing.assert_allclose(inv[2], 1 / np.linalg.norm(X64[2]), rtol=1e-12)


@pytest.mark.parametrize(
    "given, labels, names",
    [
        (["cat", "dog"], ["cat", "dog"], ["cat", "dog"]),
        (("cat", "dog"), ["cat", "dog"], ["cat", "dog"]),
        (np.array(["cat", "dog"]), ["cat", "dog"], ["cat", "dog"]),
        (pd.Series(["cat", "dog"]), ["cat", "dog"], ["cat", "dog"]),
        (pd.DataFrame({"name": ["cat", "dog"]}), ["cat", "dog"], ["cat", "dog"]),
        (np.array([["cat"], ["dog"]]), ["cat", "dog"], ["cat", "dog"]),
        ({0: "cat", 1: "dog"}, [0, 1], ["cat", "dog"]),
    ],
)
def test_class_names_in_every_container(given, labels, names):
    assert check_class_names(given) == (labels, names)


@pytest.mark.parametrize(
    "given, error, match",
    [
        ("cat", TypeError, r"single string 'cat'.*\['cat'\]"),
        ([], ValueError, "class_names is empty"),
        (["cat", 3], TypeError, r"non-empty strings.*got 3 \(int\).*mapping"),
        (["cat", "  "], ValueError, "non-empty strings"),
        (np.zeros((3, 4)), ValueError, "1-D sequence"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), ValueError, "2 columns"),
        (["cat", "dog", "cat", "dog"], ValueError, r"duplicate classes \['cat', 'dog"),
        ({0: "cat", 1: "cat"}, None, None),  # one name for two labels is fine
    ],
)
def test_class_name_errors(given, error, match):
    if error is None:
        assert check_class_names(given) == ([0, 1], ["cat", "cat"])
        return
    with pytest.raises(error, match=match):
        check_class_names(given)


def test_a_mapping_is_refused_where_none_is_taken():
    with pytest.raises(TypeError, match=r"list\(mapping.values\(\)\)"):
        check_class_names({0: "cat"}, mapping=False)


def test_every_consumer_refuses_duplicate_class_names_alike(tiny_text_embedder):
    """Zero-shot, text prototypes, prompt templates and CLAP share one rule."""
    names = ["cat", "dog", "cat"]
    calls = [
        lambda: ZeroShotClassifier(names, text_embedder=tiny_text_embedder).fit(None),
        lambda: make_text_prototypes(names, tiny_text_embedder),
        lambda: format_prompts(names, ["a {}"]),
        lambda: make_clap_prompts(names),
        lambda: CLAPDisentangler(names, tiny_text_embedder).fit(np.ones((2, 64))),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"duplicate classes \['cat'\]"):
            call()


@pytest.mark.parametrize(
    "values, error, match",
    [
        ("a dog", TypeError, r"E must hold embeddings .*the string 'a dog'"),
        (["a", "b"], TypeError, r"E must hold embeddings .*dtype <U1"),
        (np.array([True, False]), TypeError, "dtype bool"),
        (np.zeros((0, 3)), ValueError, r"E is empty \(shape \(0, 3\)\)"),
        (np.array([1.0, np.nan]), ValueError, "E contains NaN or infinite"),
        (np.array([1.0, -np.inf]), ValueError, "E contains NaN or infinite"),
    ],
)
def test_embedding_values_refused_with_their_name(values, error, match):
    with pytest.raises(error, match=match):
        check_embedding_values(values, "E")


def test_embedding_values_keep_tensors_and_dtypes():
    torch = pytest.importorskip("torch")
    t = torch.ones(2, 3)
    assert check_embedding_values(t, "E") is t
    with pytest.raises(ValueError, match="E contains NaN"):
        check_embedding_values(torch.tensor([1.0, float("nan")]), "E")
    nan = torch.tensor([float("nan")])
    assert check_embedding_values(nan, "E", check_finite=False) is nan
    with pytest.raises(TypeError, match="tensor of real numbers"):
        check_embedding_values(torch.ones(2, dtype=torch.bool), "E")
    assert check_embedding_values([1, 2], "E").dtype.kind == "i"
