"""Smoke runs of the example scripts and of the zero-shot benchmark (tiny model).

Each example runs as ``__main__`` (via runpy) with ``SKLEARN_POS_EXAMPLE_TINY=1``
and its figures written to a temporary folder.
"""

import runpy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BENCHMARKS = ROOT / "benchmarks"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch = pytest.importorskip("torch")
    pytest.importorskip("open_clip")
    pytest.importorskip("matplotlib")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):  # BLAS too: the machine may be shared
        yield
    torch.set_num_threads(n)


def run_script(path, monkeypatch, output_dir, argv=()):
    monkeypatch.setenv("SKLEARN_POS_EXAMPLE_TINY", "1")
    monkeypatch.setenv("SKLEARN_POS_EXAMPLE_OUTPUT", str(output_dir))
    monkeypatch.setattr(sys, "argv", [str(path), *argv])
    return runpy.run_path(str(path), run_name="__main__")


def _png(path):
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_zero_shot(tmp_path, monkeypatch, capsys):
    run_script(EXAMPLES / "plot_zero_shot.py", monkeypatch, tmp_path)
    out = capsys.readouterr().out
    assert "openai_imagenet (80)" in out and "cross_val_score" in out
    _png(tmp_path / "plot_zero_shot.png")


def test_plot_pos_zero_shot(tmp_path, monkeypatch, capsys):
    run_script(EXAMPLES / "plot_pos_zero_shot.py", monkeypatch, tmp_path)
    out = capsys.readouterr().out
    for method in (
        "CLIP",
        "noun-tangent",
        "noun-Euclidean",
        "prototypes projected too",
    ):
        assert method in out
    assert "1,000 WordNet words" in out
    _png(tmp_path / "plot_pos_zero_shot.png")


def test_plot_nearest_prototype(tmp_path, monkeypatch, capsys):
    run_script(EXAMPLES / "plot_nearest_prototype.py", monkeypatch, tmp_path)
    out = capsys.readouterr().out
    assert "image means + text prior (w=1)" in out and "zero-shot (no images)" in out
    _png(tmp_path / "plot_nearest_prototype.png")


def test_plot_grid_search_pos(tmp_path, monkeypatch, capsys):
    run_script(EXAMPLES / "plot_grid_search_pos.py", monkeypatch, tmp_path)
    out = capsys.readouterr().out
    assert "GridSearchCV: 46 fits" in out and "best: {'pos__lam'" in out
    _png(tmp_path / "plot_grid_search_pos.png")


def test_plot_tabular_column_transformer(tmp_path, monkeypatch, capsys):
    run_script(EXAMPLES / "plot_tabular_column_transformer.py", monkeypatch, tmp_path)
    out = capsys.readouterr().out
    assert "image + caption" in out and "balanced_accuracy" in out
    _png(tmp_path / "plot_tabular_column_transformer.png")


# --------------------------------------------------------------------------- #
# benchmarks/zero_shot.py
# --------------------------------------------------------------------------- #
@pytest.fixture
def benchmark():
    return runpy.run_path(str(BENCHMARKS / "zero_shot.py"))


def test_zero_shot_benchmark_runs_on_generated_images(benchmark, tmp_path, capsys):
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
    assert "Oldfield et al." not in out  # no paper row for the demo dataset


def test_zero_shot_benchmark_on_an_image_folder_with_k_too_large(
    benchmark, image_folder, capsys
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


def test_zero_shot_benchmark_torchvision_loader(benchmark, tiny_image_embedder):
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


@pytest.mark.parametrize(
    "script, expected",
    [
        ("plot_clap_style_shift.py", ["Zero-shot accuracy by style", "CLAP (alpha="]),
        ("plot_pae_editing_target.py", ["Emotion subspace", "PAE alpha="]),
        ("counterfactual_loss.py", ["Optimising CLIP-NCE", "directional similarity"]),
    ],
)
def test_related_method_examples(script, expected, tmp_path, monkeypatch, capsys):
    run_script(EXAMPLES / script, monkeypatch, tmp_path)
    out = capsys.readouterr().out
    assert "sklearn-pos-tiny" in out
    for text in expected:
        assert text in out
    _png(tmp_path / script.replace(".py", ".png"))
