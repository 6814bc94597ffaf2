"""Tests of sklearn_pos.plotting: the figures are checked, not only drawn."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sklearn_pos import PartOfSpeechComponentAnalysis
from sklearn_pos.metrics import class_invariance

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_pos.plotting import (  # noqa: E402
    ClassInvarianceDisplay,
    SubspaceScatterDisplay,
    plot_class_invariance,
    plot_subspace_scatter,
)

CATEGORIES = ["adj", "adv", "noun", "verb"]
COUNTS = {"adj": 80, "adv": 30, "noun": 200, "verb": 50}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    """Unequal categories, each varying along its own axis."""
    rng = np.random.RandomState(0)
    d = 8
    X, y = [], []
    for c, name in enumerate(CATEGORIES):
        block = np.zeros((COUNTS[name], d))
        block[:, -1] = 5.0
        block[:, c] += rng.normal(size=COUNTS[name])
        block[:, c + 4] += 0.5 * rng.normal(size=COUNTS[name])
        block += 0.05 * rng.normal(size=block.shape)
        X.append(block)
        y += [name] * COUNTS[name]
    X, y = np.vstack(X), np.asarray(y)
    pos = PartOfSpeechComponentAnalysis(n_components=3, target="noun").fit(X, y)
    return X, y, pos


def test_class_invariance_heatmap(data):
    X, y, pos = data
    order = ["noun", "adj", "verb", "adv"]
    disp = ClassInvarianceDisplay.from_estimator(pos, X, y, labels=order)
    expected = class_invariance(pos, X, y, labels=order)

    pd.testing.assert_frame_equal(disp.table, expected)
    np.testing.assert_allclose(disp.im_.get_array(), expected.to_numpy())
    ax = disp.ax_
    assert [t.get_text() for t in ax.get_xticklabels()] == order
    assert [t.get_text() for t in ax.get_yticklabels()] == order
    assert ax.get_xlabel() == "data" and ax.get_ylabel() == "subspace"
    assert ax.get_title() == "Class invariance"

    # One annotation per cell, at the cell, with the formatted value.
    assert disp.text_.shape == (4, 4)
    assert len(ax.texts) == 16
    for i in range(4):
        for j in range(4):
            text = disp.text_[i, j]
            assert text.get_text() == f"{expected.iloc[i, j]:.2f}"
            assert text.get_position() == (j, i)

    # The colour bar is its own axes, labelled as shares of the rows.
    assert disp.colorbar_ is not None
    assert len(disp.figure_.axes) == 2
    assert disp.colorbar_.ax.get_ylabel() == "share of the subspace's energy"


def test_heatmap_text_contrast_and_options():
    table = pd.DataFrame([[0.9, 0.1], [0.0, 1.0]], index=["a", "b"], columns=["a", "b"])
    disp = ClassInvarianceDisplay(table).plot(values_format=".1%", vmax=1.0)
    # viridis is light (yellow) at the top and dark (purple) at the bottom.
    assert disp.text_[1, 1].get_color() == "black"
    assert disp.text_[1, 0].get_color() == "white"
    assert disp.text_[0, 0].get_text() == "90.0%"
    # Unnamed axes fall back to the generic labels.
    assert disp.ax_.get_xlabel() == "data" and disp.ax_.get_ylabel() == "subspace"

    fig, ax = plt.subplots()
    raw = table * 7
    disp = ClassInvarianceDisplay(raw).plot(
        ax=ax, values_format=None, colorbar=False, title=None
    )
    assert disp.ax_ is ax
    assert disp.text_ is None and len(ax.texts) == 0
    assert disp.colorbar_ is None and len(fig.axes) == 1
    assert ax.get_title() == ""

    disp = ClassInvarianceDisplay(raw).plot()
    assert disp.colorbar_.ax.get_ylabel() == "mean squared norm in the subspace"

    with pytest.raises(ValueError, match="2-d"):
        ClassInvarianceDisplay(np.ones(3)).plot()


def test_subspace_scatter_counts_labels_and_coordinates(data):
    X, y, pos = data
    disp = SubspaceScatterDisplay.from_estimator(
        pos, X, y, subspace="adj", components=(0, 2), max_points_per_class=None
    )
    assert list(disp.scatters_) == CATEGORIES
    for name in CATEGORIES:
        offsets = disp.scatters_[name].get_offsets()
        assert len(offsets) == COUNTS[name]
        # The points are the coordinates that transform gives for that subspace.
        coords = (
            PartOfSpeechComponentAnalysis(n_components=3, target="adj")
            .fit(X, y)
            .transform(X[y == name])
        )
        np.testing.assert_allclose(offsets, coords[:, [0, 2]], atol=1e-12)
    ax = disp.ax_
    assert ax.get_xlabel() == "adj direction 1"
    assert ax.get_ylabel() == "adj direction 3"
    assert ax.get_title() == "Categories on the adj subspace"
    assert [t.get_text() for t in disp.legend_.get_texts()] == CATEGORIES
    assert disp.legend_.get_title().get_text() == "category"
    # Adjectives vary along the adjective subspace's first direction, the
    # others hardly at all.
    spread = {n: np.var(s.get_offsets()[:, 0]) for n, s in disp.scatters_.items()}
    assert spread["adj"] > 50 * max(spread[n] for n in CATEGORIES if n != "adj")


def test_subspace_scatter_subsamples_each_category(data):
    X, y, pos = data
    fig, ax = plt.subplots()
    disp = plot_subspace_scatter(
        pos,
        X,
        y,
        max_points_per_class=40,
        random_state=0,
        ax=ax,
        order=["noun", "adj", "verb", "adv"],
        legend=False,
    )
    assert disp.ax_ is ax and disp.legend_ is None and ax.get_legend() is None
    counts = {n: len(s.get_offsets()) for n, s in disp.scatters_.items()}
    assert counts == {"noun": 40, "adj": 40, "verb": 40, "adv": 30}
    assert list(disp.scatters_) == ["noun", "adj", "verb", "adv"]
    # Default subspace: the estimator's target.
    assert ax.get_xlabel() == "noun direction 1"
    # The random choice is reproducible.
    again = plot_subspace_scatter(pos, X, y, max_points_per_class=40, random_state=0)
    np.testing.assert_array_equal(
        again.scatters_["noun"].get_offsets(), disp.scatters_["noun"].get_offsets()
    )


def test_subspace_scatter_errors(data):
    X, y, pos = data
    with pytest.raises(ValueError, match="not one of the learned subspaces"):
        plot_subspace_scatter(pos, X, y, subspace="pronoun")
    with pytest.raises(ValueError, match="components"):
        plot_subspace_scatter(pos, X, y, components=(0, 3))
    with pytest.raises(ValueError, match="components"):
        plot_subspace_scatter(pos, X, y, components=(0,))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        SubspaceScatterDisplay(np.zeros((3, 3)), ["a", "b", "c"]).plot()


def test_plot_class_invariance_shortcut(data):
    X, y, pos = data
    disp = plot_class_invariance(pos, X, y, normalize=False, title="raw")
    pd.testing.assert_frame_equal(
        disp.table, class_invariance(pos, X, y, normalize=False)
    )
    assert disp.ax_.get_title() == "raw"


def test_missing_matplotlib_says_how_to_install(data, monkeypatch):
    X, y, pos = data
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn_pos\[plot\]"):
        plot_class_invariance(pos, X, y)


def test_importing_the_module_does_not_import_matplotlib():
    code = (
        "import sys, sklearn_pos.plotting; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_displays_accept_a_fitted_vocabulary_step(data):
    from sklearn_pos import VocabularyPartOfSpeechAnalysis

    X, y, pos = data
    step = VocabularyPartOfSpeechAnalysis((X, y), n_components=3).fit(X)
    disp = SubspaceScatterDisplay.from_estimator(
        step, X, y, subspace="adj", components=(0, 2), max_points_per_class=None
    )
    direct = SubspaceScatterDisplay.from_estimator(
        pos, X, y, subspace="adj", components=(0, 2), max_points_per_class=None
    )
    for name in CATEGORIES:
        np.testing.assert_array_equal(
            disp.scatters_[name].get_offsets(), direct.scatters_[name].get_offsets()
        )
    # Default subspace: the step's target.
    assert plot_subspace_scatter(step, X, y).ax_.get_xlabel() == "noun direction 1"
    heatmap = ClassInvarianceDisplay.from_estimator(step, X, y)
    pd.testing.assert_frame_equal(heatmap.table, class_invariance(pos, X, y))
