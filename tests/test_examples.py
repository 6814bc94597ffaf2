"""Runs of the example gallery's scripts and of the zero-shot benchmark.

Every example is a sphinx-gallery script (its conventions are written down
in ``examples/README.rst``): a docstring, then ``# %%`` cells that run at
module level and end with ``plt.show()``. Each test here runs one as
``python examples/<name>.py`` in a fresh process, offline and with no flag,
on a machine without cached weights, where it falls back to the tiny model
by itself. matplotlib's backend is then a small Agg backend whose ``show()``
saves each open figure and keeps, for the test to check, the figures'
texts and the tables (DataFrames, Series, arrays) the script left in its
namespace. Each script runs once per test session.
"""

import ast
import os
import pickle
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from sklearn_pos.caveats import (
    RANDOM_WEIGHTS,
    SYNTHETIC_EMBEDDINGS,
    choose_clip_weights,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))
ORDER = ["noun", "adj", "verb", "adv"]

pytestmark = pytest.mark.slow

#: Examples whose embeddings are generated, not CLIP's.
SYNTHETIC = {
    "plot_clap_style_shift.py",
    "plot_counterfactual_loss.py",
    "plot_pae_editing_target.py",
}

#: A matplotlib backend (``MPLBACKEND=module://...``): Agg, whose ``show()``
#: saves the open figures and pickles what the test checks.
SHOW_BACKEND = '''
import os, pickle, sys

from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase as FigureManager  # noqa: F401
from matplotlib.backends.backend_agg import (  # noqa: F401
    FigureCanvasAgg as FigureCanvas,
)


def _axes(ax):
    return {
        "title": ax.get_title(),
        "xlabel": ax.get_xlabel(),
        "ylabel": ax.get_ylabel(),
        "n_images": len(ax.images),
        "n_collections": len(ax.collections),
        "aspect": ax.get_aspect(),
    }


def show(*args, **kwargs):
    import numpy as np
    import pandas as pd

    out = os.environ["SKLEARN_POS_TEST_SHOW_DIR"]
    figures = []
    for manager in Gcf.get_all_fig_managers():
        figure = manager.canvas.figure
        png = os.path.join(out, f"figure_{manager.num}.png")
        figure.savefig(png, dpi=50)
        figures.append(
            {
                "png": png,
                "texts": [text.get_text() for text in figure.texts],
                "axes": [_axes(ax) for ax in figure.axes],
            }
        )
    kept = (pd.DataFrame, pd.Series, np.ndarray)
    values = {}
    for name, value in vars(sys.modules["__main__"]).items():
        if name.startswith("_"):
            continue
        if isinstance(value, kept):
            values[name] = value
        elif isinstance(value, dict) and value and all(
            isinstance(v, kept) for v in value.values()
        ):
            values[name] = dict(value)
    path = os.path.join(out, "show.pkl")
    shown = []
    if os.path.exists(path):
        with open(path, "rb") as f:
            shown = pickle.load(f)
    shown.append({"figures": figures, "values": values})
    with open(path, "wb") as f:
        pickle.dump(shown, f)
'''


def offline_env(folder):
    """The environment of a machine with no network and no cached weights.

    No ``SKLEARN_POS_EXAMPLE_TINY``: the examples must fall back by
    themselves. ``HF_HOME`` is an empty folder, so that weights cached on the
    test machine are not found, and ``HF_HUB_OFFLINE`` makes the miss quick.
    """
    env = {k: v for k, v in os.environ.items() if k != "SKLEARN_POS_EXAMPLE_TINY"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(folder)]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.update(
        MPLBACKEND="module://sklearn_pos_test_show",
        SKLEARN_POS_TEST_SHOW_DIR=str(folder),
        HF_HOME=str(folder / "hf_home"),
        HF_HUB_OFFLINE="1",
        HF_ENDPOINT="http://127.0.0.1:9",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
    )
    return env


class Run:
    """What one script run left: its output, figures and namespace."""

    def __init__(self, name, completed, folder):
        self.name = name
        self.stdout, self.stderr = completed.stdout, completed.stderr
        with open(folder / "show.pkl", "rb") as f:
            self.shown = pickle.load(f)
        self.figures = [fig for show in self.shown for fig in show["figures"]]
        self.values = self.shown[-1]["values"]

    def __getitem__(self, name):
        return self.values[name]


@pytest.fixture(scope="session")
def run_script(tmp_path_factory):
    """Run an example as ``python examples/<name>.py``, once per session."""
    runs = {}

    def run(name):
        if name not in runs:
            folder = tmp_path_factory.mktemp(name.removesuffix(".py"))
            (folder / "sklearn_pos_test_show.py").write_text(SHOW_BACKEND)
            completed = subprocess.run(
                [sys.executable, str(EXAMPLES / name)],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=folder,
                env=offline_env(folder),
            )
            assert completed.returncode == 0, completed.stderr[-3000:]
            runs[name] = Run(name, completed, folder)
        return runs[name]

    return run


@pytest.fixture
def _one_torch_thread():
    torch = pytest.importorskip("torch")
    pytest.importorskip("open_clip")
    pytest.importorskip("matplotlib")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):  # BLAS too: the machine may be shared
        yield
    torch.set_num_threads(n)


def _probabilities(values):
    values = np.asarray(values, dtype=float)
    return bool(np.all((values >= 0) & (values <= 1)))


# --------------------------------------------------------------------------- #
# the gallery format, checked on every example without running any
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", SCRIPTS)
def test_example_follows_the_gallery_format(name):
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    assert name.startswith("plot_"), "sphinx-gallery runs plot_*.py only"
    tree = ast.parse(source)
    doc = ast.get_docstring(tree, clean=False)
    assert doc is not None, f"{name} has no module docstring"
    lines = doc.strip("\n").splitlines()
    # a title underlined with "=" exactly as long, a blank line, one paragraph
    assert lines[0].strip() and set(lines[1]) == {"="}, name
    assert len(lines[1]) == len(lines[0]), f"{name}: underline length"
    assert lines[2] == "" and lines[3].strip(), name
    assert "" not in lines[3:], f"{name}: the docstring has one paragraph"
    # then cells that run at module level, text cells in rST
    assert source.count("\n# %%\n") >= 3, name
    assert "def main(" not in source and "argparse" not in source, name
    assert "__doc__" not in source and "if __name__" not in source, name
    assert "savefig" not in source and "plt.close" not in source, name
    assert source.rstrip().endswith("plt.show()"), name
    # the weights come from the one helper, the environment from nowhere else
    uses_clip = "CLIPEmbedder" in source
    assert not uses_clip or "choose_clip_weights(" in source, name
    assert "environ.get" not in source and "getenv" not in source, name
    for cell in source.split("\n# %%\n")[1:]:
        text = cell.split("\n")
        if len(text) > 1 and text[0].startswith("# ") and text[1].startswith("# -"):
            title, rule = text[0][2:], text[1][2:]
            assert set(rule) == {"-"} and len(rule) == len(title), (name, title)


def test_gallery_header_is_there():
    header = (EXAMPLES / "README.rst").read_text(encoding="utf-8")
    assert "\nExamples\n========\n" in header
    assert "random weights — not a result" in header


# --------------------------------------------------------------------------- #
# every example as a script, offline, with no flag
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs_offline_without_a_flag(name, run_script):
    run = run_script(name)
    if name in SYNTHETIC:
        # generated embeddings by default: no weights asked for, none missed
        caveat = SYNTHETIC_EMBEDDINGS
        assert "cannot be had" not in run.stderr
        assert RANDOM_WEIGHTS not in run.stdout
    else:
        # the default weights cannot be had here: said on stderr, and every
        # printed table of the tiny model's run carries the caveat
        caveat = RANDOM_WEIGHTS
        assert "ViT-B-32 pretrained='openai' cannot be had" in run.stderr
        assert "'sklearn-pos-tiny'" in run.stderr
        assert SYNTHETIC_EMBEDDINGS not in run.stdout
    assert f"[{caveat}]" in run.stdout
    # one plt.show() at the end; every figure drawn, its title ends with the
    # caveat
    assert len(run.shown) == 1 and run.figures
    for figure in run.figures:
        assert Path(figure["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        title = "\n".join(figure["texts"])
        assert title.splitlines()[-1] == caveat, title
    # DataFrames that carry a caveat carry this one
    for value in run.values.values():
        if isinstance(value, pd.DataFrame) and "caveat" in value.attrs:
            assert value.attrs["caveat"] == caveat


# --------------------------------------------------------------------------- #
# what each example computes
# --------------------------------------------------------------------------- #
def test_plot_zero_shot(run_script):
    run = run_script("plot_zero_shot.py")
    from sklearn_pos.templates import TEMPLATES

    n_images = 8 * 6
    scores = run["scores"]
    assert set(scores["metric"]) == {"accuracy", "balanced_accuracy"}
    assert set(scores["n_samples"]) == {n_images}
    assert _probabilities(scores["score"])
    accuracy = run["table"]
    assert accuracy.index.tolist() == [f"{n} ({len(TEMPLATES[n])})" for n in TEMPLATES]
    assert accuracy.columns.tolist() == ["accuracy", "balanced_accuracy"]
    folds = run["cross_val"]
    assert folds.shape == (4, 1) and folds.index.name == "fold"
    assert _probabilities(folds["accuracy"])
    proba = run["proba"]
    assert proba.shape == (3, 1 + 6)
    np.testing.assert_allclose(proba.iloc[:, 1:].sum(axis=1), 1, atol=0.01)
    (figure,) = run.figures
    assert figure["axes"][0]["n_images"] == 1  # the confusion matrix


def test_plot_pos_zero_shot(run_script):
    run = run_script("plot_pos_zero_shot.py")
    methods = [
        "CLIP",
        "noun-tangent",
        "noun-Euclidean",
        "noun-tangent, prototypes projected too",
    ]
    results = run["results"]
    assert results["method"].tolist() == methods
    assert run["accuracy"].index.tolist() == methods
    assert set(results["n_vocabulary"]) == {400}
    assert set(results["n_components"]) == {32}  # half the width
    np.testing.assert_allclose(run["accuracy"]["top-1 %"], 100 * results["score"])
    curve = run["curve"]
    assert curve.columns.tolist() == ["geometry", "k", "accuracy"]
    assert set(curve["geometry"]) == {"tangent", "euclidean"}
    assert curve["k"].between(1, 63).all() and _probabilities(curve["accuracy"])
    assert curve.groupby("geometry")["k"].apply(tuple).nunique() == 1


def test_plot_nearest_prototype(run_script):
    run = run_script("plot_nearest_prototype.py")
    results, table = run["results"], run["table"]
    assert results.columns.tolist() == ["shots", "draw", "method", "accuracy"]
    shots = table.columns.tolist()
    # one draw on the tiny model
    assert len(results) == len(shots) * 1 * 4 and _probabilities(results["accuracy"])
    assert table.index.tolist() == [
        "image means",
        "image means + text prior (w=1)",
        "image means + text prior (w=4)",
        "zero-shot (no images)",
    ]
    np.testing.assert_allclose(
        table.to_numpy(),
        results.groupby(["method", "shots"], sort=False)["accuracy"]
        .mean()
        .unstack("shots")
        .to_numpy(),
    )


def test_plot_grid_search_pos(run_script):
    run = run_script("plot_grid_search_pos.py")
    results = run["results"]
    assert results.columns.tolist() == [
        "lam",
        "n_components",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
    ]
    assert sorted(set(results["lam"])) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert sorted(set(results["n_components"])) == [4, 16, 48]  # width 64
    assert len(results) == 15 and _probabilities(results["mean_test_score"])
    best = run["best"].iloc[0]
    assert best["n_fits"] == 46 and best["n_vocabulary"] == 400
    # the colour bar says what its colours mean
    (figure,) = run.figures
    heatmap, colorbar = figure["axes"]
    assert colorbar["ylabel"] == "mean accuracy (3-fold CV)"
    assert heatmap["xlabel"] == "lambda"
    top = results.loc[results["rank_test_score"] == 1].iloc[0]
    assert best["mean_test_score"] == pytest.approx(top["mean_test_score"])
    assert (best["lam"], best["n_components"]) == (top["lam"], top["n_components"])


def test_plot_tabular_column_transformer(run_script):
    run = run_script("plot_tabular_column_transformer.py")
    assert run["df"].columns.tolist() == ["image_path", "caption", "shape"]
    assert set(run["df"]["shape"]) <= {"circle", "square", "triangle"}
    results = run["results"]
    assert set(results["method"]) == {"image", "caption", "image + caption"}
    assert set(results["metric"]) == {"accuracy", "balanced_accuracy"}
    assert set(results["fold"]) == {0, 1, 2, 3}
    assert results["n_samples"].sum() == 2 * 3 * 48
    assert _probabilities(results["score"])
    summary = run["summary"]
    assert summary.columns.tolist() == ["mean", "std"] and len(summary) == 6
    np.testing.assert_allclose(
        summary.loc[("image + caption", "accuracy"), "mean"],
        results.query("method == 'image + caption' and metric == 'accuracy'")[
            "score"
        ].mean(),
    )


def test_plot_clap_style_shift(run_script):
    run = run_script("plot_clap_style_shift.py")
    per_style = run["per_style"]
    assert per_style.index[-1] == "all" and len(per_style) > 2
    assert per_style.columns[0] == "raw embeddings"
    assert per_style.columns[1].startswith("CLAP (alpha=")
    assert _probabilities(per_style.to_numpy())
    np.testing.assert_allclose(per_style.loc["all"], per_style.iloc[:-1].mean())
    by_alpha = run["by_alpha"]
    assert by_alpha.columns.tolist() == ["alpha", "accuracy"]
    assert by_alpha["alpha"].is_monotonic_increasing
    assert _probabilities(by_alpha["accuracy"])


def test_plot_pae_editing_target(run_script):
    run = run_script("plot_pae_editing_target.py")
    table = run["table"]
    alphas = [float(i.split("=")[1]) for i in table.index[2:]]
    assert table.index[:2].tolist() == ["image", "text 'an angry face'"]
    assert alphas == sorted(alphas) and 0.5 in alphas
    cosines = table.drop(columns="nearest emotion").to_numpy(dtype=float)
    assert np.all(np.abs(cosines) <= 1 + 1e-5)
    # the text target is the target itself
    target = table["cos to 'an angry face'"]
    assert target["text 'an angry face'"] == pytest.approx(1.0, abs=1e-5)
    # augmenting with the target's projection moves the image towards it
    assert target["PAE alpha=0.5"] > target["image"]


def test_plot_counterfactual_loss(run_script):
    run = run_script("plot_counterfactual_loss.py")
    histories, final = run["histories"], run["final"]
    objectives = ["CLIP-NCE", "1 - cos(edit, target text)"]
    assert list(histories) == objectives and final.index.tolist() == objectives
    steps = histories["CLIP-NCE"]["step"]
    assert steps.tolist() == list(range(len(steps)))
    for name in objectives:
        last = histories[name].iloc[-1]
        np.testing.assert_allclose(
            final.loc[name].to_numpy(float), last.drop("step").to_numpy(float)
        )
    nce = histories["CLIP-NCE"]
    # optimising CLIP-NCE lowers it and turns the edit along the text direction
    assert nce["CLIP-NCE"].iloc[-1] < nce["CLIP-NCE"].iloc[0]
    assert (
        nce["directional similarity"].iloc[-1] > nce["directional similarity"].iloc[0]
    )
    (figure,) = run.figures
    titles = [ax["title"] for ax in figure["axes"]]
    assert titles == [
        "directional similarity",
        "cos to source image",
        "cos to target text",
    ]


def test_plot_class_invariance(run_script):
    run = run_script("plot_class_invariance.py")
    note = f"{RANDOM_WEIGHTS}: the numbers only show that the example runs"
    assert note in run.stdout
    # The two panels of random weights say so; the published one does not.
    (figure,) = run.figures
    titles = [ax["title"] for ax in figure["axes"] if ax["title"]]
    assert [RANDOM_WEIGHTS in t for t in titles] == [True, True, False]
    tables = run["tables"]
    assert set(tables) == {"lam=0.5", "lam=0"}
    for table in tables.values():
        assert table.index.tolist() == ORDER and table.columns.tolist() == ORDER
        np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-9)
        assert (table.to_numpy() >= 0).all()
    diagonal = run["summary"]
    assert diagonal.columns.tolist() == [
        "lam=0.5",
        "lam=0",
        "published lam=0.5",
        "published lam=0",
    ]
    np.testing.assert_allclose(
        diagonal["lam=0.5"], np.diag(tables["lam=0.5"].to_numpy())
    )
    published = diagonal["published lam=0.5"].to_dict()
    assert published == {"noun": 0.74, "adj": 0.52, "verb": 0.56, "adv": 0.56}
    # Even with random weights, lam=0.5 keeps each subspace to its own words
    # better than the PCA of each category (lam=0).
    assert diagonal["lam=0.5"].sum() > diagonal["lam=0"].sum()


def test_plot_subspace_scatter(run_script):
    run = run_script("plot_subspace_scatter.py")
    (figure,) = run.figures
    panels = [ax for ax in figure["axes"] if ax["n_collections"]]
    assert len(panels) == 4
    for ax, subspace in zip(panels, ORDER):
        assert ax["aspect"] == 1.0
        title = ax["title"].splitlines()
        assert title[0] == f"Categories on the {subspace} subspace"
        assert title[-1] == RANDOM_WEIGHTS
    spread, contrast = run["spread"], run["contrast"]
    assert spread.index.tolist() == ORDER and spread.columns.tolist() == ORDER
    assert (spread.to_numpy() > 0).all()
    assert contrast.columns.tolist() == ["own", "others", "ratio"]
    for i, name in enumerate(ORDER):
        own = spread.loc[name].iloc[i]
        others = (spread.loc[name].sum() - own) / 3
        assert contrast.loc[name, "own"] == pytest.approx(own)
        assert contrast.loc[name, "ratio"] == pytest.approx(own / others)
        # the first direction of a subspace carries more of its own category
        assert own > others


def test_plot_remove_artist_theme(run_script):
    run = run_script("plot_remove_artist_theme.py")
    assert "there is no artist theme to remove" in run.stdout
    assert "should fall" not in run.stdout
    vocabulary = run["vocabulary"]["n_words"]
    assert vocabulary["artist"] == 916
    assert set(vocabulary.index) == {*ORDER, "artist"}
    table = run["table"]
    assert len(table) == 10
    assert table.index[0] == "a painting of a lighthouse by Claude Monet"
    assert np.all(np.abs(table.iloc[:, :4].to_numpy()) <= 1 + 1e-6)
    np.testing.assert_allclose(
        table["artist change"], table["artist after"] - table["artist before"]
    )
    # The projection changed the prompts.
    assert (table["artist change"].abs() > 1e-3).any()


def test_plot_embed_job_pipeline(run_script):
    run = run_script("plot_embed_job_pipeline.py")
    X, meta, y = run["X"], run["meta"], run["y"]
    # 4 colours x 9 images, embedded once, read back in the order of the source
    assert X.shape == (36, 64) and X.dtype == np.float32
    assert meta["row"].tolist() == list(range(36))
    assert meta["error"].isna().all() and np.isfinite(X).all()
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    assert set(y) == {"circle", "square", "triangle"}
    assert "'n_rows': 36, 'n_errors': 0, 'n_partitions': 3" in run.stdout
    scores = run["scores"]
    assert scores.columns.tolist() == ["raw embeddings", "noun subspace"]
    assert scores.shape == (3, 2) and _probabilities(scores.to_numpy())


def test_plot_noun_retrieval(run_script, tmp_path):
    from sklearn_pos.datasets import make_image_folder

    run = run_script("plot_noun_retrieval.py")
    # the same generated folder (seeded), for the labels of the images found
    folder = make_image_folder(
        tmp_path, classes=("red", "green", "blue"), n_per_class=6
    )
    table, images = run["table"], run["X_images"]
    assert images.shape == (18, 64)
    assert table["space"].tolist() == ["CLIP"] * 3 + ["noun subspace"] * 3
    assert table.columns.tolist() == ["space", "query", "same shape", "same colour"]
    counts = table[["same shape", "same colour"]].to_numpy()
    assert ((counts >= 0) & (counts <= 4)).all() and counts.sum() > 0
    # the counts are those of the images retrieved
    retrieved = run["retrieved"]
    found_all = [*retrieved["CLIP"], *retrieved["noun subspace"]]
    for row, found in zip(table.itertuples(), found_all):
        colour, shape = row.query.split()[-2:]
        assert row[3] == sum(folder.shape[i] == shape for i in found)
        assert row[4] == sum(folder.target[i] == colour for i in found)
    # each query found the 4 images nearest by cosine in its space
    queries = run["X_queries"]
    unit = images / np.linalg.norm(images, axis=1, keepdims=True)
    nearest = np.argsort(-(queries @ unit.T), axis=1, kind="stable")[:, :4]
    assert {frozenset(r) for r in retrieved["CLIP"]} == {frozenset(r) for r in nearest}
    assert not np.array_equal(retrieved["CLIP"], retrieved["noun subspace"])
    (figure,) = run.figures
    assert sum(ax["n_images"] for ax in figure["axes"]) == 2 * 3 * 4


def test_plot_array_api_torch(run_script):
    run = run_script("plot_array_api_torch.py")
    assert "transform returned a Tensor on cpu, torch.float32" in run.stdout
    table = run["table"]
    assert table["type"].tolist() == ["ndarray", "Tensor"]
    assert table["shape"].tolist() == [(400, 32), (400, 32)]
    assert 0 < table["max |difference|"].iloc[1] < 1e-3
    np.testing.assert_allclose(run["Z_back"], run["Z_numpy"], atol=1e-3)


# --------------------------------------------------------------------------- #
# choose_clip_weights: the one place where the weights of a run are chosen
# --------------------------------------------------------------------------- #
def test_choose_clip_weights_tiny(monkeypatch):
    monkeypatch.delenv("SKLEARN_POS_EXAMPLE_TINY", raising=False)
    tiny = choose_clip_weights(tiny=True)
    assert (tiny.model_name, tiny.pretrained, tiny.device) == (
        "sklearn-pos-tiny",
        None,
        "cpu",
    )
    assert tiny.tiny and not tiny.fell_back and tiny.caveat == RANDOM_WEIGHTS
    # the environment is read when called, and an argument wins over it
    monkeypatch.setenv("SKLEARN_POS_EXAMPLE_TINY", "1")
    assert choose_clip_weights().tiny
    random = choose_clip_weights(tiny=False, pretrained="None")
    assert (random.model_name, random.pretrained) == ("ViT-B-32", None)
    assert not random.tiny and random.caveat == RANDOM_WEIGHTS
    assert random.label == "ViT-B-32 (random weights)"
    # a default of random weights (the examples of generated embeddings)
    weights = choose_clip_weights(False, "RN50", default_pretrained=None)
    assert weights.pretrained is None and weights.caveat == RANDOM_WEIGHTS


def test_choose_clip_weights_falls_back_when_weights_cannot_be_had(
    monkeypatch, capsys
):
    pytest.importorskip("open_clip")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # a hub id that is in no cache: offline, it cannot be had
    missing = "hf-hub:sklearn-pos/no-such-weights"
    weights = choose_clip_weights(tiny=False, pretrained=missing)
    assert weights.fell_back and weights.tiny
    assert (weights.model_name, weights.pretrained) == ("sklearn-pos-tiny", None)
    assert weights.caveat == RANDOM_WEIGHTS
    err = capsys.readouterr().err
    assert f"pretrained={missing!r} cannot be had" in err
    assert "offline mode is enabled" in err and RANDOM_WEIGHTS in err


def test_choose_clip_weights_keeps_weights_it_can_have(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from sklearn_pos.embedding import CLIPEmbedder

    checkpoint = tmp_path / "tiny.pt"
    model = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu").get_model().model
    torch.save(model.state_dict(), checkpoint)
    weights = choose_clip_weights(False, "sklearn-pos-tiny", str(checkpoint))
    assert weights.pretrained == str(checkpoint) and not weights.fell_back
    assert not weights.tiny and weights.caveat is None
    assert capsys.readouterr().err == ""
    # other mistakes are not hidden behind a fallback
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        choose_clip_weights(False, "sklearn-pos-tiny", str(tmp_path / "no.pt"))
    with pytest.raises(ValueError, match="neither an existing file nor a known tag"):
        choose_clip_weights(False, "ViT-B-32", "no-such-tag")


# --------------------------------------------------------------------------- #
# benchmarks/zero_shot.py
# --------------------------------------------------------------------------- #
@pytest.fixture
def benchmark():
    return runpy.run_path(str(BENCHMARKS / "zero_shot.py"))


def test_zero_shot_benchmark_runs_on_generated_images(
    _one_torch_thread, benchmark, tmp_path, capsys
):
    csv = tmp_path / "results.csv"
    results = benchmark["main"](
        [
            "--generate-demo",
            str(tmp_path / "demo"),
            "--model",
            "sklearn-pos-tiny",
            "--pretrained",
            "none",
            "--device",
            "cpu",
            "--vocabulary-size",
            "500",
            "--n-components",
            "16",
            "--output",
            str(csv),
        ]
    )
    assert results["method"].tolist() == ["CLIP", "noun-tangent", "noun-Euclidean"]
    assert results["n_samples"].tolist() == [60] * 3
    assert results["score"].between(0, 1).all()
    pd.testing.assert_frame_equal(pd.read_csv(csv), results)
    out = capsys.readouterr().out
    assert "Zero-shot top-1 accuracy (%)" in out and "500 WordNet words" in out
    # random weights: the table printed and the one returned say so
    assert f"500 WordNet words [{RANDOM_WEIGHTS}]" in out
    assert f"{RANDOM_WEIGHTS}: random weights give accuracies near chance" in out
    assert results.attrs["caveat"] == RANDOM_WEIGHTS
    assert "Oldfield et al." not in out  # no paper row for the demo dataset


def test_zero_shot_benchmark_on_an_image_folder_with_k_too_large(
    _one_torch_thread, benchmark, image_folder, capsys
):
    with pytest.raises(SystemExit, match="n_components=100 must be at most"):
        benchmark["main"](
            [
                "--root",
                str(image_folder.root),
                "--model",
                "sklearn-pos-tiny",
                "--pretrained",
                "none",
                "--device",
                "cpu",
                "--vocabulary-size",
                "300",
                "--n-components",
                "100",
            ]
        )
    results = benchmark["main"](
        [
            "--root",
            str(image_folder.root),
            "--model",
            "sklearn-pos-tiny",
            "--pretrained",
            "none",
            "--device",
            "cpu",
            "--vocabulary-size",
            "300",
            "--n-components",
            "8",
            "--max-images",
            "9",
        ]
    )
    assert set(results["dataset"]) == {image_folder.root.name}
    assert results["n_samples"].tolist() == [9] * 3


def test_zero_shot_benchmark_folder_errors(benchmark, tmp_path):
    (tmp_path / "cat").mkdir()
    with pytest.raises(SystemExit, match=r"\['cat'\] .* hold no image"):
        benchmark["load_folder"](tmp_path, None, None, 0)


def test_zero_shot_benchmark_torchvision_loader(
    _one_torch_thread, benchmark, tiny_image_embedder
):
    datasets = pytest.importorskip("torchvision.datasets")
    ds = datasets.FakeData(
        size=7, image_size=(3, 20, 20), num_classes=3, random_offset=0
    )
    X, y = benchmark["embed_torchvision"](ds, tiny_image_embedder, None, 0, 0)
    assert X.shape == (7, 64) and y.shape == (7,) and set(y) <= {0, 1, 2}
    np.testing.assert_allclose(
        X, tiny_image_embedder.transform([ds[i][0] for i in range(7)]), atol=1e-6
    )
    X5, y5 = benchmark["embed_torchvision"](ds, tiny_image_embedder, 5, 0, 0)
    assert X5.shape == (5, 64) and y5.shape == (5,)
    assert benchmark["PAPER_TABLE_1"]["CIFAR10"] == (87.5, 87.9, 81.2)


def test_clap_benchmark_says_its_embeddings_are_planted(_one_torch_thread, capsys):
    main = runpy.run_path(str(BENCHMARKS / "bench_clap.py"))["main"]
    argv = ["--n-classes", "3", "--dim", "32", "--hidden-dim", "16"]
    argv += ["--prompts-per-class", "16", "--max-steps", "20", "--batch-size", "16"]
    table = main([*argv, "--device", "cpu"])
    assert table.attrs["caveat"] == SYNTHETIC_EMBEDDINGS
    out = capsys.readouterr().out
    assert f"zero-shot accuracy [{SYNTHETIC_EMBEDDINGS}]" in out


def test_plot_transformers_backend(run_script):
    pytest.importorskip("transformers")
    run = run_script("plot_transformers_backend.py")
    # the open_clip model written out as a transformers CLIPModel embeds alike
    assert run["embeddings"]["max |difference|"].iloc[0] <= 1e-5
    subspaces = run["subspaces"]
    assert list(subspaces.index) == ["noun", "adj", "verb", "adv"]
    assert (subspaces["max |projection difference|"] <= 1e-4).all()
    assert (subspaces["largest principal angle (degrees)"] <= 0.01).all()
    (figure,) = run.figures
    assert figure["texts"][-1].endswith(RANDOM_WEIGHTS)
