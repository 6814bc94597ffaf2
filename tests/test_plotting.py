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
from matplotlib.colors import to_rgb  # noqa: E402

from sklearn_pos.plotting import (  # noqa: E402
    PART_OF_SPEECH_COLORS,
    ClassInvarianceDisplay,
    SubspaceScatterDisplay,
    category_colors,
    category_order,
    plot_class_invariance,
    plot_subspace_scatter,
)

CATEGORIES = ["adj", "adv", "noun", "verb"]
ORDER = ["noun", "adj", "verb", "adv"]  # the parts of speech in display order
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
    assert list(disp.scatters_) == ORDER
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
    assert [t.get_text() for t in disp.legend_.get_texts()] == ORDER
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


@pytest.mark.parametrize("value", [-1, 0, 2.5, True, "10"])
def test_subspace_scatter_rejects_a_bad_number_of_points(data, value):
    X, y, pos = data
    with pytest.raises(ValueError, match=r"max_points_per_class must be .* or None"):
        plot_subspace_scatter(pos, X, y, max_points_per_class=value)
    # 1 is the smallest count that makes sense: one point per category.
    disp = plot_subspace_scatter(pos, X, y, max_points_per_class=1)
    assert {
        n: len(s.get_offsets()) for n, s in disp.scatters_.items()
    } == dict.fromkeys(ORDER, 1)


def test_subspace_scatter_rejects_non_finite_coordinates():
    coordinates = np.zeros((4, 2))
    coordinates[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite values \(first: row 2\)"):
        SubspaceScatterDisplay(coordinates, ["a", "a", "b", "b"]).plot()


def _inside(box, outer):
    return (
        outer.x0 <= box.x0
        and box.x1 <= outer.x1
        and outer.y0 <= box.y0
        and box.y1 <= outer.y1
    )


@pytest.mark.parametrize("scale", [1e-5, 2e-4, 1.0, 1e4])
@pytest.mark.parametrize("offset", [0.0, 0.3])
def test_subspace_scatter_is_readable_at_any_scale(scale, offset):
    # Random weights give coordinates of about 1e-5; points of another data
    # set projected on a subspace can sit far from its origin.
    rng = np.random.RandomState(0)
    labels = np.repeat(ORDER, 50)
    coordinates = offset + scale * rng.normal(size=(200, 2))
    coordinates[labels == "noun", 0] = offset + 3 * scale * rng.normal(size=50)
    disp = SubspaceScatterDisplay(coordinates, labels, subspace="noun").plot()
    fig, ax = disp.figure_, disp.ax_
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # One scale on both axes: the same data length per pixel.
    box = ax.get_window_extent(renderer)
    x_per_pixel = np.ptp(ax.get_xlim()) / box.width
    y_per_pixel = np.ptp(ax.get_ylim()) / box.height
    assert x_per_pixel == pytest.approx(y_per_pixel, rel=1e-2)
    for axis, limits, values in (
        (ax.xaxis, ax.get_xlim(), coordinates[:, 0]),
        (ax.yaxis, ax.get_ylim(), coordinates[:, 1]),
    ):
        low, high = limits
        assert low <= values.min() and values.max() <= high
        if axis is ax.xaxis:
            # The widest spread (the nouns', along x) fills its axis rather
            # than a sliver of it; y is widened to the same scale.
            assert values.max() - values.min() > 0.6 * (high - low)
        shown = [
            t.get_text()
            for t, loc in zip(axis.get_ticklabels(), axis.get_majorticklocs())
            if low <= loc <= high
        ]
        assert len(shown) >= 3 and len(set(shown)) == len(shown), shown
        # What the ticks leave out (a power of ten, an offset) is shown once,
        # inside the figure: x10⁻⁵ rather than 0.00001, 0.00002, ...
        offset_text = axis.get_offset_text()
        if offset_text.get_text():
            assert _inside(offset_text.get_window_extent(renderer), fig.bbox)
        if offset == 0 and scale != 1.0:
            power = "10^{−" if scale < 1 else "10^{4}"
            assert power in offset_text.get_text()
    # Every label is inside the figure (the y label used to be cut off).
    for text in (ax.xaxis.label, ax.yaxis.label, ax.title):
        assert _inside(text.get_window_extent(renderer), fig.bbox), text.get_text()


def test_category_colours_are_the_same_in_every_figure(data):
    X, y, pos = data
    default = SubspaceScatterDisplay.from_estimator(pos, X, y)
    # The command line draws in its own order; the colours must not change.
    other_order = SubspaceScatterDisplay.from_estimator(
        pos, X, y, order=["verb", "adv", "noun", "adj"]
    )
    subset = SubspaceScatterDisplay.from_estimator(pos, X[y != "adj"], y[y != "adj"])
    assert list(default.scatters_) == ORDER
    for disp in (default, other_order, subset):
        for name, points in disp.scatters_.items():
            colour = tuple(points.get_facecolor()[0, :3])
            assert colour == pytest.approx(to_rgb(PART_OF_SPEECH_COLORS[name]))
    assert PART_OF_SPEECH_COLORS == {
        "noun": "tab:blue",
        "adj": "tab:orange",
        "verb": "tab:green",
        "adv": "tab:red",
    }


def test_other_categories_take_the_free_colours_in_order():
    assert category_order(["zebra", "artist", "adv", "noun", "noun"]) == [
        "noun",
        "adv",
        "artist",
        "zebra",
    ]
    # with every part of speech: the colours after the four of them
    everything = category_colors([*ORDER, "zebra", "artist"])
    assert everything == {
        **PART_OF_SPEECH_COLORS,
        "artist": "tab:purple",
        "zebra": "tab:brown",
    }
    # with some: the free ones, from the start of tab10
    assert category_colors(["zebra", "artist", "adv", "noun"]) == {
        "noun": "tab:blue",
        "adv": "tab:red",
        "artist": "tab:orange",
        "zebra": "tab:green",
    }
    # with none: matplotlib's own cycle, which starts again after ten
    many = category_colors([f"c{i:02d}" for i in range(11)])
    assert list(many.values())[:4] == ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    assert len(set(many.values())) == 10 and many["c10"] == "tab:blue"
    assert category_colors([2, 0, 1]) == {
        0: "tab:blue",
        1: "tab:orange",
        2: "tab:green",
    }
    # the order and the counts of the labels do not matter
    assert category_colors(["b", "a", "a"]) == category_colors(["a", "b"])

    coordinates = np.zeros((2, 2))
    disp = SubspaceScatterDisplay(coordinates, ["a", "b"]).plot(
        colors={"a": "black", "b": "white"}
    )
    assert tuple(disp.scatters_["b"].get_facecolor()[0, :3]) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"no colour for the categories \['b'\]"):
        SubspaceScatterDisplay(coordinates, ["a", "b"]).plot(colors={"a": "black"})


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
    step = VocabularyPartOfSpeechAnalysis((X, y), n_components=3, target="noun")
    step.fit(X)
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


# --------------------------------------------------------------------------- #
# honest scatter plots: equal scales, the target on top, subsampling shown
# --------------------------------------------------------------------------- #
def test_subspace_scatter_draws_a_thin_line_as_a_line():
    # One category spread along direction 1 (1e-3), hardly along 2 (1e-5):
    # with one scale per axis it would fill the square like a round cloud.
    rng = np.random.RandomState(0)
    coordinates = np.column_stack(
        [1e-3 * rng.normal(size=300), 1e-5 * rng.normal(size=300)]
    )
    labels = np.repeat(["noun", "adj", "verb"], 100)
    disp = SubspaceScatterDisplay(coordinates, labels, subspace="noun").plot()
    ax, fig = disp.ax_, disp.figure_
    assert ax.get_aspect() == 1.0
    fig.canvas.draw()
    box = ax.get_window_extent(fig.canvas.get_renderer())
    x_range, y_range = np.ptp(ax.get_xlim()), np.ptp(ax.get_ylim())
    # the same data length per pixel on both axes
    assert x_range / box.width == pytest.approx(y_range / box.height, rel=1e-2)
    # so the points take a thin band of the plot's height
    assert np.ptp(coordinates[:, 1]) < 0.05 * y_range
    assert np.ptp(coordinates[:, 0]) > 0.6 * x_range


def test_subspace_scatter_in_axes_sharing_both_axes(data):
    X, y, pos = data
    fig, axes = plt.subplots(1, 2, sharex=True, sharey=True)
    for ax, subspace in zip(axes, ["noun", "adj"]):
        SubspaceScatterDisplay.from_estimator(pos, X, y, subspace=subspace, ax=ax)
    fig.canvas.draw()  # matplotlib refuses adjustable="datalim" here
    assert all(ax.get_aspect() == 1.0 for ax in axes)
    assert all(ax.get_adjustable() == "box" for ax in axes)


@pytest.mark.parametrize("subspace", ["noun", "adj", "adv"])
def test_subspace_scatter_draws_its_own_category_last(data, subspace):
    X, y, pos = data
    disp = SubspaceScatterDisplay.from_estimator(pos, X, y, subspace=subspace)
    points = [c for c in disp.ax_.collections if c in disp.scatters_.values()]
    # drawn after the others (artist order) and above them (zorder)
    assert points[-1] is disp.scatters_[subspace]
    others = [c.get_zorder() for n, c in disp.scatters_.items() if n != subspace]
    assert disp.scatters_[subspace].get_zorder() > max(others)
    # the legend keeps the display order of the categories
    assert [t.get_text() for t in disp.legend_.get_texts()] == ORDER
    assert list(disp.scatters_) == ORDER


def test_subspace_scatter_says_when_points_were_subsampled(data):
    X, y, pos = data
    disp = SubspaceScatterDisplay.from_estimator(
        pos, X, y, subspace="adj", max_points_per_class=40, legend=True
    )
    # COUNTS: adj 80, adv 30, noun 200, verb 50 -> 40 + 30 + 40 + 40 shown
    assert disp.ax_.get_title().splitlines() == [
        "Categories on the adj subspace",
        "150 of 360 points shown",
    ]
    legend = [t.get_text() for t in disp.legend_.get_texts()]
    assert legend == ["noun (40 of 200)", "adj (40 of 80)", "verb (40 of 50)", "adv"]
    assert {n: len(c.get_offsets()) for n, c in disp.scatters_.items()} == {
        "noun": 40,
        "adj": 40,
        "verb": 40,
        "adv": 30,
    }
    # a title of one's own keeps the note; every point drawn: no note
    titled = SubspaceScatterDisplay.from_estimator(
        pos, X, y, max_points_per_class=40, title="Nouns"
    )
    assert titled.ax_.get_title() == "Nouns\n150 of 360 points shown"
    every = SubspaceScatterDisplay.from_estimator(pos, X, y, max_points_per_class=None)
    assert "shown" not in every.ax_.get_title()
    assert [t.get_text() for t in every.legend_.get_texts()] == ORDER


def test_subspace_scatter_checks_n_total():
    coordinates, labels = np.zeros((4, 2)), ["a", "a", "b", "b"]
    with pytest.raises(ValueError, match=r"n_total\['b'\] must be a whole number"):
        SubspaceScatterDisplay(coordinates, labels, n_total={"a": 5, "b": 1}).plot()
    with pytest.raises(TypeError, match="n_total must be a dict"):
        SubspaceScatterDisplay(coordinates, labels, n_total=[5, 2]).plot()


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_subspace_scatter_accepts_sparse_X(data, fmt):
    sparse = pytest.importorskip("scipy.sparse")
    X, y, pos = data
    dense = SubspaceScatterDisplay.from_estimator(pos, X, y, max_points_per_class=20)
    X_sparse = sparse.csr_matrix(X).asformat(fmt)
    disp = SubspaceScatterDisplay.from_estimator(
        pos, X_sparse, y, max_points_per_class=20
    )
    # the same points as from the dense rows
    for name, points in dense.scatters_.items():
        np.testing.assert_allclose(
            disp.scatters_[name].get_offsets(), points.get_offsets()
        )


# --------------------------------------------------------------------------- #
# figures and tables of random weights say so, through the API too
# --------------------------------------------------------------------------- #
@pytest.fixture
def tiny_vocabulary_step(tiny_text_embedder):
    """A vocabulary step whose words are embedded by the tiny random model."""
    pytest.importorskip("open_clip")
    from sklearn_pos import VocabularyPartOfSpeechAnalysis

    words = np.array(
        ["dog", "cat", "house", "tree", "car", "river", "stone", "bird"]
        + ["red", "happy", "tall", "quick", "green", "old", "soft", "small"]
        + ["run", "eat", "sing", "jump", "write", "read", "swim", "fly"]
    )
    labels = np.repeat(["noun", "adj", "verb"], 8)
    step = VocabularyPartOfSpeechAnalysis(
        (words, labels),
        text_embedder=tiny_text_embedder,
        n_components=2,
        target="noun",
        output="projection",
    ).fit(None)
    return step, tiny_text_embedder.transform(words), labels


def test_displays_of_random_weights_are_marked(tiny_vocabulary_step):
    from sklearn_pos.caveats import RANDOM_WEIGHTS

    step, E, labels = tiny_vocabulary_step
    scatter = SubspaceScatterDisplay.from_estimator(step, E, labels)
    heatmap = ClassInvarianceDisplay.from_estimator(step, E, labels)
    for disp in (scatter, heatmap):
        assert disp.caveat_ == RANDOM_WEIGHTS
        assert disp.ax_.get_title().splitlines()[-1] == RANDOM_WEIGHTS
        assert disp.figure_.get_suptitle().splitlines()[-1] == RANDOM_WEIGHTS
    assert heatmap.table.attrs["caveat"] == RANDOM_WEIGHTS
    assert class_invariance(step, E, labels).attrs["caveat"] == RANDOM_WEIGHTS
    # the shortcuts go the same way
    assert plot_subspace_scatter(step, E, labels).caveat_ == RANDOM_WEIGHTS
    assert plot_class_invariance(step, E, labels).caveat_ == RANDOM_WEIGHTS
    # the same vocabulary given as embeddings: nothing tells where they came
    # from, so nothing is claimed (the caller passes the caveat)
    from sklearn_pos import VocabularyPartOfSpeechAnalysis

    plain = VocabularyPartOfSpeechAnalysis((E, labels), n_components=2).fit(None)
    unmarked = SubspaceScatterDisplay.from_estimator(plain, E, labels)
    assert unmarked.caveat_ is None and "not a result" not in unmarked.ax_.get_title()
    assert "caveat" not in class_invariance(plain, E, labels).attrs
    given = ClassInvarianceDisplay.from_estimator(
        plain, E, labels, caveat=RANDOM_WEIGHTS
    )
    assert given.table.attrs["caveat"] == RANDOM_WEIGHTS


def test_evaluation_tables_of_random_weights_are_marked(tiny_vocabulary_step):
    from sklearn.pipeline import make_pipeline

    from sklearn_pos import ZeroShotClassifier, evaluate_classifiers
    from sklearn_pos.caveats import RANDOM_WEIGHTS

    step, E, labels = tiny_vocabulary_step
    prototypes = np.vstack([E[labels == c].mean(axis=0) for c in np.unique(labels)])
    plain = ZeroShotClassifier(prototypes=prototypes).fit(E)
    projected = make_pipeline(step, ZeroShotClassifier(prototypes=prototypes)).fit(E)
    y = np.searchsorted(np.unique(labels), labels)
    assert "caveat" not in evaluate_classifiers({"plain": plain}, E, y).attrs
    scores = evaluate_classifiers({"plain": plain, "projected": projected}, E, y)
    assert scores.attrs["caveat"] == RANDOM_WEIGHTS


def _titles(figure):
    suptitle = figure._suptitle.get_text() if figure._suptitle else ""
    return " ".join([suptitle, *(ax.get_title() for ax in figure.axes)])


def test_save_subspace_figures_writes_the_fit_figures(data, tmp_path, monkeypatch):
    from sklearn_pos.plotting import save_subspace_figures

    X, y, pos = data
    table = class_invariance(pos, X, y, labels=ORDER)
    table.attrs["caveat"] = "a caveat"
    drawn = []
    original = plt.Figure.savefig

    def record(figure, path, **kwargs):  # the real savefig, figures kept to read
        drawn.append(figure)
        return original(figure, path, **kwargs)

    monkeypatch.setattr(plt.Figure, "savefig", record)
    paths = save_subspace_figures(pos, X, y, tmp_path, table=table)
    names = ["class_invariance.png"] + [f"subspace_scatter_{c}.png" for c in ORDER]
    assert [p.name for p in paths] == names
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert drawn[0].axes[0].get_title().startswith(
        f"Class invariance (k=3, λ={pos.lam:g}, tangent)"
    )
    assert all("a caveat" in _titles(figure) for figure in drawn)

    one = PartOfSpeechComponentAnalysis(n_components=1).fit(X, y)
    assert [p.name for p in save_subspace_figures(one, X, y, tmp_path)] == [
        "class_invariance.png"
    ]
