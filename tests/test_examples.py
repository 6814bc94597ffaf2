"""Runs of the example scripts and of the zero-shot benchmark (tiny model).

Every example follows one convention: a module docstring in sphinx-gallery
style, nothing heavy at import, and ``main(tiny=None, model=None,
pretrained=None, output_dir=None, ...)`` reading ``SKLEARN_POS_EXAMPLE_TINY``
and ``SKLEARN_POS_EXAMPLE_OUTPUT`` when called, returning its tables
(DataFrames) and ``"figure"``, the saved PNG. The tests call ``main`` on the
tiny model and check the returned tables, and that every table and figure
made without pretrained weights says so; every script also runs as
``python examples/<name>.py`` with no flag on a machine without network nor
cached weights, where it falls back to the tiny model by itself.
"""

import ast
import inspect
import os
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
CONVENTION = ["tiny", "model", "pretrained", "output_dir"]

pytestmark = pytest.mark.slow


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


def load_example(name):
    """The example's module namespace, without running it as a script."""
    return runpy.run_path(str(EXAMPLES / name), run_name=name.removesuffix(".py"))


def run_main(name, output_dir, tiny=True, **params):
    result = load_example(name)["main"](tiny=tiny, output_dir=output_dir, **params)
    check_result(result, output_dir, name)
    return result


def check_result(result, output_dir, name):
    assert "figure" in result and len(result) > 1
    for key, table in result.items():
        if key != "figure":
            assert isinstance(table, pd.DataFrame), key
            assert len(table) > 0, key
    figure = Path(result["figure"])
    assert figure == Path(output_dir) / name.replace(".py", ".png")
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def check_caveat(result, saved_figures, stdout, caveat):
    """Every table, the figure's title and the printout carry ``caveat``."""
    for key, table in result.items():
        if key != "figure":
            assert table.attrs.get("caveat") == caveat, key
    figures = [fig for path, fig in saved_figures if path == Path(result["figure"])]
    assert len(figures) == 1
    title = "\n".join(text.get_text() for text in figures[0].texts)
    if caveat is None:
        assert "not a result" not in title and "not a result" not in stdout
    else:
        assert title.splitlines()[-1] == caveat, title
        assert f"[{caveat}]" in stdout


@pytest.fixture
def run_example(_one_torch_thread, saved_figures, capsys):
    """Run an example's ``main`` and check its tables, figure and caveat."""

    def run(name, output_dir, caveat=RANDOM_WEIGHTS, **params):
        capsys.readouterr()
        result = run_main(name, output_dir, **params)
        check_caveat(result, saved_figures, capsys.readouterr().out, caveat)
        return result

    return run


def _probabilities(values):
    values = np.asarray(values, dtype=float)
    return bool(np.all((values >= 0) & (values <= 1)))


# --------------------------------------------------------------------------- #
# the convention, checked on every example without running any
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", SCRIPTS)
def test_example_follows_the_convention(name, tmp_path, monkeypatch):
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    tree = ast.parse(source)
    doc = ast.get_docstring(tree, clean=False)
    lines = doc.strip("\n").splitlines()
    # sphinx-gallery: a title between two rules of "=", then prose
    assert set(lines[0]) == {"="} and set(lines[2]) == {"="}, name
    assert lines[1].strip() and len(lines) > 4
    assert "SKLEARN_POS_EXAMPLE_TINY" in doc
    assert 'if __name__ == "__main__":' in source
    # module-level statements: imports, constants, functions and classes only
    for node in tree.body[1:]:
        if isinstance(node, ast.If):
            assert ast.unparse(node.test) == "__name__ == '__main__'", name
        else:
            assert isinstance(
                node,
                (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)
                + (ast.Assign, ast.AnnAssign),
            ), (name, ast.unparse(node)[:80])
        if isinstance(node, ast.Assign):  # constants, not environment reads
            assert "environ" not in ast.unparse(node), name
    # importing runs nothing and writes nothing
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKLEARN_POS_EXAMPLE_OUTPUT", str(tmp_path / "out"))
    namespace = load_example(name)
    assert not any(tmp_path.iterdir())
    parameters = list(inspect.signature(namespace["main"]).parameters)
    assert parameters[:4] == CONVENTION, name
    assert all(
        p.default is None
        for p in list(inspect.signature(namespace["main"]).parameters.values())[:4]
    )


def test_environment_is_read_when_main_is_called(
    _one_torch_thread, tmp_path, monkeypatch
):
    namespace = load_example("plot_pae_editing_target.py")
    # set after the import: main must still see them
    monkeypatch.setenv("SKLEARN_POS_EXAMPLE_TINY", "1")
    monkeypatch.setenv("SKLEARN_POS_EXAMPLE_OUTPUT", str(tmp_path))
    result = namespace["main"]()
    check_result(result, tmp_path, "plot_pae_editing_target.py")


# --------------------------------------------------------------------------- #
# every example as a script, offline, with no flag
# --------------------------------------------------------------------------- #
#: Small sizes, where an example has a flag for them (the default run falls
#: back to the tiny model, whose defaults are small already).
SMALL = {
    "counterfactual_loss.py": ["--steps", "20"],
    "plot_grid_search_pos.py": ["--vocabulary-size", "400"],
    "plot_nearest_prototype.py": ["--n-draws", "1"],
    "plot_pos_zero_shot.py": ["--vocabulary-size", "400"],
    "plot_remove_artist_theme.py": ["--vocabulary-size", "400"],
    "plot_subspace_scatter.py": ["--vocabulary-size", "400"],
}
#: Examples whose default embeddings are generated, not CLIP's.
SYNTHETIC = {
    "counterfactual_loss.py",
    "plot_clap_style_shift.py",
    "plot_pae_editing_target.py",
}
#: Run as a script in tests/test_examples_main.py (it fills a cache there).
RUN_ELSEWHERE = {"plot_class_invariance.py"}


def offline_env(tmp_path):
    """The environment of a machine with no network and no cached weights.

    No ``SKLEARN_POS_EXAMPLE_TINY``: the examples must fall back by
    themselves. ``HF_HOME`` is an empty folder, so that weights cached on the
    test machine are not found, and ``HF_HUB_OFFLINE`` makes the miss quick.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SKLEARN_POS_EXAMPLE_TINY", "SKLEARN_POS_EXAMPLE_OUTPUT")
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.update(
        MPLBACKEND="Agg",
        HF_HOME=str(tmp_path / "hf_home"),
        HF_HUB_OFFLINE="1",
        HF_ENDPOINT="http://127.0.0.1:9",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
    )
    return env


def run_script(name, tmp_path, *args):
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--output-dir", str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=offline_env(tmp_path),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    figure = out / name.replace(".py", ".png")
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return completed


@pytest.mark.parametrize("name", sorted(set(SCRIPTS) - RUN_ELSEWHERE))
def test_example_runs_offline_without_a_flag(name, tmp_path):
    completed = run_script(name, tmp_path, *SMALL.get(name, []))
    if name in SYNTHETIC:
        # generated embeddings by default: no weights asked for, none missed
        assert f"[{SYNTHETIC_EMBEDDINGS}]" in completed.stdout
        assert "cannot be had" not in completed.stderr
        assert RANDOM_WEIGHTS not in completed.stdout
    else:
        # the default weights cannot be had here: said on stderr, and every
        # printed table of the tiny model's run carries the caveat
        assert "ViT-B-32 pretrained='openai' cannot be had" in completed.stderr
        assert "'sklearn-pos-tiny'" in completed.stderr
        assert f"[{RANDOM_WEIGHTS}]" in completed.stdout
        assert SYNTHETIC_EMBEDDINGS not in completed.stdout
    if name == "counterfactual_loss.py":
        assert f"Optimising CLIP-NCE [{SYNTHETIC_EMBEDDINGS}]" in completed.stdout


def test_asked_for_weights_missing_fall_back_to_the_tiny_model(tmp_path):
    # An example whose default is generated embeddings, asked for CLIP weights
    # that cannot be had: the tiny random model runs instead, and says so.
    completed = run_script(
        "plot_pae_editing_target.py",
        tmp_path,
        "--model",
        "ViT-B-32",
        "--pretrained",
        "openai",
    )
    assert "cannot be had" in completed.stderr
    assert f"[{RANDOM_WEIGHTS}]" in completed.stdout
    assert SYNTHETIC_EMBEDDINGS not in completed.stdout


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


def test_generated_embeddings_are_stamped_synthetic(run_example, tmp_path):
    # The default of the PAE example: a bag-of-words embedder, no CLIP at all.
    run_example(
        "plot_pae_editing_target.py", tmp_path, SYNTHETIC_EMBEDDINGS, tiny=False
    )


def test_loaded_weights_are_not_stamped(run_example, tmp_path):
    torch = pytest.importorskip("torch")
    from sklearn_pos.embedding import CLIPEmbedder

    # A checkpoint file counts as loaded weights, whatever it holds.
    checkpoint = tmp_path / "tiny.pt"
    model = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu").get_model().model
    torch.save(model.state_dict(), checkpoint)
    run_example(
        "plot_nearest_prototype.py",
        tmp_path,
        caveat=None,
        tiny=False,
        model="sklearn-pos-tiny",
        pretrained=str(checkpoint),
        n_draws=1,
    )


# --------------------------------------------------------------------------- #
# the tables each example returns
# --------------------------------------------------------------------------- #
def test_plot_zero_shot(run_example, tmp_path):
    result = run_example("plot_zero_shot.py", tmp_path)
    namespace = load_example("plot_zero_shot.py")
    from sklearn_pos.templates import TEMPLATES

    n_images = 8 * len(namespace["CLASSES"])
    scores = result["scores"]
    assert set(scores["metric"]) == {"accuracy", "balanced_accuracy"}
    assert set(scores["n_samples"]) == {n_images}
    assert _probabilities(scores["score"])
    accuracy = result["accuracy"]
    assert accuracy.index.tolist() == [f"{n} ({len(TEMPLATES[n])})" for n in TEMPLATES]
    assert "openai_imagenet (80)" in accuracy.index
    assert accuracy.columns.tolist() == ["accuracy", "balanced_accuracy"]
    folds = result["cross_val"]
    assert folds.shape == (4, 1) and folds.index.name == "fold"
    assert _probabilities(folds["accuracy"])
    proba = result["proba"]
    assert proba.shape == (3, 1 + len(namespace["CLASSES"]))
    np.testing.assert_allclose(proba.iloc[:, 1:].sum(axis=1), 1, atol=0.01)


def test_plot_zero_shot_on_an_image_folder(run_example, tmp_path):
    from sklearn_pos.datasets import make_image_folder

    make_image_folder(tmp_path / "images", classes=("red", "blue"), n_per_class=4)
    result = run_example("plot_zero_shot.py", tmp_path, root=tmp_path / "images")
    assert set(result["scores"]["n_samples"]) == {8}
    assert result["proba"].columns.tolist() == ["true", "blue", "red"]


def test_plot_pos_zero_shot(run_example, tmp_path):
    result = run_example("plot_pos_zero_shot.py", tmp_path)
    methods = [
        "CLIP",
        "noun-tangent",
        "noun-Euclidean",
        "noun-tangent, prototypes projected too",
    ]
    assert result["results"]["method"].tolist() == methods
    assert result["accuracy"].index.tolist() == methods
    assert set(result["results"]["n_vocabulary"]) == {1000}
    assert set(result["results"]["n_components"]) == {32}  # half the width
    np.testing.assert_allclose(
        result["accuracy"]["top-1 %"], 100 * result["results"]["score"]
    )
    curve = result["curve"]
    assert curve.columns.tolist() == ["geometry", "k", "accuracy"]
    assert set(curve["geometry"]) == {"tangent", "euclidean"}
    assert curve["k"].between(1, 63).all() and _probabilities(curve["accuracy"])
    # every k for both geometries
    assert curve.groupby("geometry")["k"].apply(tuple).nunique() == 1


def test_plot_nearest_prototype(run_example, tmp_path):
    result = run_example("plot_nearest_prototype.py", tmp_path, n_draws=2)
    shots = load_example("plot_nearest_prototype.py")["SHOTS"]
    results = result["results"]
    assert results.columns.tolist() == ["shots", "draw", "method", "accuracy"]
    assert len(results) == len(shots) * 2 * 4 and _probabilities(results["accuracy"])
    table = result["accuracy"]
    assert table.columns.tolist() == list(shots)
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


def test_plot_grid_search_pos(run_example, tmp_path, saved_figures):
    result = run_example("plot_grid_search_pos.py", tmp_path)
    results = result["results"]
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
    best = result["best"].iloc[0]
    assert best["n_fits"] == 46 and best["n_vocabulary"] == 1000
    # the colour bar says what its colours mean
    (fig,) = [f for path, f in saved_figures if path == result["figure"]]
    heatmap, colorbar = fig.axes
    assert colorbar.get_ylabel() == "mean accuracy (3-fold CV)"
    assert heatmap.get_xlabel() == "lambda"
    top = results.loc[results["rank_test_score"] == 1].iloc[0]
    assert best["mean_test_score"] == pytest.approx(top["mean_test_score"])
    assert (best["lam"], best["n_components"]) == (top["lam"], top["n_components"])


def test_plot_tabular_column_transformer(run_example, tmp_path):
    result = run_example("plot_tabular_column_transformer.py", tmp_path)
    assert result["data"].columns.tolist() == ["image_path", "caption", "shape"]
    assert set(result["data"]["shape"]) <= {"circle", "square", "triangle"}
    results = result["results"]
    assert set(results["method"]) == {"image", "caption", "image + caption"}
    assert set(results["metric"]) == {"accuracy", "balanced_accuracy"}
    assert (
        set(results["fold"]) == {0, 1, 2, 3}
        and results["n_samples"].sum() == 2 * 3 * 48
    )
    assert _probabilities(results["score"])
    summary = result["summary"]
    assert summary.columns.tolist() == ["mean", "std"] and len(summary) == 6
    np.testing.assert_allclose(
        summary.loc[("image + caption", "accuracy"), "mean"],
        results.query("method == 'image + caption' and metric == 'accuracy'")[
            "score"
        ].mean(),
    )


def test_plot_clap_style_shift(run_example, tmp_path):
    result = run_example("plot_clap_style_shift.py", tmp_path)
    per_style = result["per_style"]
    assert per_style.index[-1] == "all" and len(per_style) > 2
    assert per_style.columns[0] == "raw embeddings"
    assert per_style.columns[1].startswith("CLAP (alpha=")
    assert _probabilities(per_style.to_numpy())
    np.testing.assert_allclose(per_style.loc["all"], per_style.iloc[:-1].mean())
    by_alpha = result["by_alpha"]
    assert by_alpha.columns.tolist() == ["alpha", "accuracy"]
    assert by_alpha["alpha"].is_monotonic_increasing
    assert _probabilities(by_alpha["accuracy"])


def test_plot_pae_editing_target(run_example, tmp_path):
    result = run_example("plot_pae_editing_target.py", tmp_path)
    alphas = load_example("plot_pae_editing_target.py")["ALPHAS"]
    table = result["table"]
    assert table.index.tolist() == ["image", "text 'an angry face'"] + [
        f"PAE alpha={a:g}" for a in alphas
    ]
    cosines = table.drop(columns="nearest emotion").to_numpy(dtype=float)
    assert np.all(np.abs(cosines) <= 1 + 1e-5)
    # the text target is the target itself
    target = table["cos to 'an angry face'"]
    assert target["text 'an angry face'"] == pytest.approx(1.0, abs=1e-5)
    # augmenting with the target's projection moves the image towards it
    assert target["PAE alpha=0.5"] > target["image"]


def test_counterfactual_loss(run_example, tmp_path):
    result = run_example("counterfactual_loss.py", tmp_path, steps=20)
    history, final = result["history"], result["final"]
    assert history.columns[0] == "objective"
    assert "directional similarity" in history.columns
    objectives = ["CLIP-NCE", "1 - cos(edit, target text)"]
    assert history["objective"].unique().tolist() == objectives
    assert history.groupby("objective")["step"].max().tolist() == [20, 20]
    assert final.index.tolist() == objectives
    last = history[history["step"] == 20].set_index("objective")
    np.testing.assert_allclose(
        final["CLIP-NCE"].to_numpy(float), last.loc[objectives, "CLIP-NCE"]
    )


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
