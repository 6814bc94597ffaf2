"""Tests of sklearn_pos.metrics.class_invariance."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from sklearn_pos import PartOfSpeechComponentAnalysis
from sklearn_pos import metrics as metrics_module
from sklearn_pos.metrics import class_invariance

CATEGORIES = ["adj", "adv", "noun", "verb"]


def planted(n_per_class=150, own_scale=1.0, shared_scale=0.0, seed=0):
    """Points around a base direction; category c varies along its own axis c.

    With ``shared_scale`` > 0 every category also varies along one common
    axis (the last one before the base), more strongly than along its own.
    """
    rng = np.random.RandomState(seed)
    d = len(CATEGORIES) + 3
    base = np.zeros(d)
    base[-1] = 6.0
    X, y = [], []
    for c, name in enumerate(CATEGORIES):
        block = np.tile(base, (n_per_class, 1))
        block[:, c] += own_scale * rng.normal(size=n_per_class)
        block[:, -2] += shared_scale * rng.normal(size=n_per_class)
        block += 0.02 * rng.normal(size=block.shape)
        X.append(block)
        y += [name] * n_per_class
    return np.vstack(X), np.asarray(y)


def test_planted_directions_give_a_diagonal_table():
    X, y = planted()
    pos = PartOfSpeechComponentAnalysis(n_components=1).fit(X, y)
    table = class_invariance(pos, X, y)

    assert isinstance(table, pd.DataFrame)
    assert table.index.name == "subspace" and table.columns.name == "data"
    assert table.index.tolist() == CATEGORIES
    assert table.columns.tolist() == CATEGORIES
    np.testing.assert_allclose(table.sum(axis=1), 1.0)
    assert np.all(np.diag(table) > 0.95)
    off_diagonal = table.to_numpy()[~np.eye(4, dtype=bool)]
    assert off_diagonal.max() < 0.02


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
def test_lam_half_is_more_diagonal_than_lam_zero_with_a_shared_direction(geometry):
    # Every category varies most along one shared axis: the PCA of each
    # category (lam=0) picks that axis for every subspace, so all rows look
    # alike; lam=0.5 penalises it and finds each category's own axis.
    X, y = planted(own_scale=0.6, shared_scale=1.5)
    diagonals = {}
    for lam in (0.0, 0.5):
        pos = PartOfSpeechComponentAnalysis(n_components=1, lam=lam, geometry=geometry)
        table = class_invariance(pos.fit(X, y), X, y)
        diagonals[lam] = np.diag(table.to_numpy())
    np.testing.assert_allclose(diagonals[0.0], 0.25, atol=0.05)
    assert np.all(diagonals[0.5] > 0.9)


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
def test_raw_scores_match_the_coordinates_of_transform(geometry):
    # s(i, j) = mean over category j of ||W_i^T (Log(x) - m)||^2, computed here
    # from the public transform (output="coordinates", target=i).
    X, y = planted(n_per_class=60, own_scale=0.5, shared_scale=0.3, seed=3)
    pos = PartOfSpeechComponentAnalysis(n_components=2, geometry=geometry).fit(X, y)
    table = class_invariance(pos, X, y, normalize=False)
    for subspace in CATEGORIES:
        coords = pos.set_params(target=subspace).fit(X, y).transform(X)
        for category in CATEGORIES:
            expected = np.mean(np.sum(coords[y == category] ** 2, axis=1))
            assert table.loc[subspace, category] == pytest.approx(expected, rel=1e-9)
    normalized = class_invariance(pos, X, y)
    np.testing.assert_allclose(
        normalized.to_numpy(), table.to_numpy() / table.to_numpy().sum(1, keepdims=True)
    )


def test_labels_choose_and_order_columns_and_rows():
    X, y = planted(n_per_class=40)
    pos = PartOfSpeechComponentAnalysis(n_components=1).fit(X, y)
    order = ["noun", "adj", "verb", "adv"]
    table = class_invariance(pos, X, y, labels=order)
    assert table.columns.tolist() == order
    assert table.index.tolist() == order  # the diagonal pairs a subspace with its data
    full = class_invariance(pos, X, y)
    pd.testing.assert_frame_equal(table, full.loc[order, order])

    subset = class_invariance(pos, X, y, labels=["verb", "noun"], normalize=False)
    assert subset.columns.tolist() == ["verb", "noun"]
    assert subset.index.tolist() == ["verb", "noun", "adj", "adv"]
    raw = class_invariance(pos, X, y, normalize=False)
    pd.testing.assert_frame_equal(subset, raw.loc[subset.index, ["verb", "noun"]])


def test_data_categories_need_not_be_the_fitted_ones():
    X, y = planted(n_per_class=50)
    pos = PartOfSpeechComponentAnalysis(n_components=1).fit(X, y)
    groups = np.where(np.isin(y, ["noun", "verb"]), "N+V", "A+R")
    table = class_invariance(pos, X, groups)
    assert table.columns.tolist() == ["A+R", "N+V"]
    assert table.index.tolist() == CATEGORIES
    assert table.loc["noun", "N+V"] > 0.95 and table.loc["adj", "A+R"] > 0.95


def test_blocks_give_the_same_result(monkeypatch):
    X, y = planted(n_per_class=30, shared_scale=0.5)
    pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    whole = class_invariance(pos, X, y, normalize=False)
    monkeypatch.setattr(metrics_module, "_CHUNK_ROWS", 7)
    blocked = class_invariance(pos, X, y, normalize=False)
    np.testing.assert_allclose(blocked.to_numpy(), whole.to_numpy(), rtol=1e-12)


def test_input_errors():
    X, y = planted(n_per_class=20)
    with pytest.raises(NotFittedError):
        class_invariance(PartOfSpeechComponentAnalysis(), X, y)
    pos = PartOfSpeechComponentAnalysis(n_components=1).fit(X, y)
    with pytest.raises(ValueError, match="do not occur in y"):
        class_invariance(pos, X, y, labels=["noun", "pronoun"])
    with pytest.raises(ValueError, match="distinct"):
        class_invariance(pos, X, y, labels=["noun", "noun"])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        class_invariance(pos, X, y[:-1])
    with pytest.raises(ValueError, match="features"):
        class_invariance(pos, X[:, :-1], y)


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
def test_accepts_a_fitted_vocabulary_step(geometry):
    from sklearn_pos import VocabularyPartOfSpeechAnalysis

    X, y = planted(n_per_class=60)
    step = VocabularyPartOfSpeechAnalysis(
        (X, y), n_components=1, geometry=geometry, target="noun"
    )
    with pytest.raises(NotFittedError, match="VocabularyPartOfSpeechAnalysis"):
        class_invariance(step, X, y)
    step.fit(X)
    table = class_invariance(step, X, y, normalize=False)
    direct = PartOfSpeechComponentAnalysis(n_components=1, geometry=geometry).fit(X, y)
    expected = class_invariance(direct, X, y, normalize=False)
    pd.testing.assert_frame_equal(table, expected)
    assert table.index.tolist() == CATEGORIES
    normalized = class_invariance(step, X, y)
    assert np.all(np.diag(normalized.to_numpy()) > 0.95)
    # X with column names goes through the step's own checks: no warning
    # about names, since the step was fitted on the same columns.
    frame = pd.DataFrame(X, columns=[f"e{i}" for i in range(X.shape[1])])
    named = VocabularyPartOfSpeechAnalysis((X, y), n_components=1, geometry=geometry)
    named.fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(
            class_invariance(named, frame, y, normalize=False), expected
        )


def test_rejects_estimators_without_the_seam():
    from sklearn.decomposition import PCA

    X, y = planted(n_per_class=20)
    pca = PCA(n_components=2).fit(X)
    pca.classes_ = np.unique(y)
    pca.class_components_ = pca.components_[None]
    with pytest.raises(TypeError, match=r"tangent_vectors method\); got PCA"):
        class_invariance(pca, X, y)


# --------------------------------------------------------------- bad labels


def _two_category_fit():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 6)) + 3.0
    y = np.repeat(["adj", "noun"], 20)
    return X, PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)


def test_a_nan_label_is_an_error_not_a_table_of_zeros():
    X, pos = _two_category_fit()
    y = np.repeat([0.0, 1.0], 20)
    y[3] = np.nan
    with pytest.raises(ValueError, match=r"1 missing label\(s\).*first at row 3"):
        class_invariance(pos, X, y)


def test_continuous_y_is_not_taken_as_categories():
    X, pos = _two_category_fit()
    y = np.random.RandomState(1).uniform(size=40)
    with pytest.raises(ValueError, match="continuous values.*not category labels"):
        class_invariance(pos, X, y)


@pytest.mark.parametrize(
    "y",
    [np.array([1, "noun"] * 20, dtype=object), np.array([None, "noun"] * 20)],
    ids=["int and str", "None"],
)
def test_mixed_or_missing_labels_get_a_clear_error(y):
    X, pos = _two_category_fit()
    with pytest.raises(ValueError, match="mixes labels of different types|missing"):
        class_invariance(pos, X, y)


def test_subspaces_spanning_the_space_warn():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4)) + 3.0
    y = np.repeat(["adj", "noun"], 20)
    pos = PartOfSpeechComponentAnalysis().fit(X, y)  # all components
    with pytest.warns(UserWarning, match="every row of the table is the same"):
        table = class_invariance(pos, X, y)
    np.testing.assert_allclose(table.iloc[0], table.iloc[1])
    narrow = PartOfSpeechComponentAnalysis(n_components=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        class_invariance(narrow, X, y)


def test_a_pipeline_is_told_to_pass_its_subspace_step():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, _ = _two_category_fit()
    y = np.repeat(["adj", "noun"], 20)
    pipe = make_pipeline(FunctionTransformer(), PartOfSpeechComponentAnalysis(2))
    pipe.fit(X, y)
    with pytest.raises(TypeError, match=r"pipeline\[-1\]"):
        class_invariance(pipe, X, y)


def test_no_rows_or_no_labels_is_an_error_not_an_empty_table():
    X, y = planted(n_per_class=20)
    pos = PartOfSpeechComponentAnalysis(n_components=1).fit(X, y)
    with pytest.raises(ValueError, match=r"0 sample\(s\).*class_invariance"):
        class_invariance(pos, X[:0], y[:0])
    with pytest.raises(ValueError, match="labels is empty"):
        class_invariance(pos, X, y, labels=[])


@pytest.mark.parametrize(
    "y, match",
    [
        ([1, "noun"] * 40, "mixes labels of different types"),
        (["noun", float("nan")] * 40, r"40 missing label\(s\)"),
    ],
    ids=["int and str", "NaN"],
)
def test_labels_in_a_list_are_checked_as_given(y, match):
    # numpy would make ['1', 'noun'] and ['noun', 'nan'] of these lists.
    X, labels = planted(n_per_class=20)
    pos = PartOfSpeechComponentAnalysis(n_components=1).fit(X, labels)
    with pytest.raises(ValueError, match=match):
        class_invariance(pos, X, y)
