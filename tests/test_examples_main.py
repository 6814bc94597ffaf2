"""Runs of the class-invariance, scatter and artist-theme examples.

The three share one output folder, so that the embedding cache is reused.
The class-invariance example first runs as a script in a fresh process, with
no flag on a machine without network nor cached weights (it falls back to
the tiny model by itself), which also fills the cache; then every
example's ``main`` is called on the tiny model and the tables it returns are
checked, with the caveat that every table and figure of random weights
carries.
"""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_pos.caveats import RANDOM_WEIGHTS

pytest.importorskip("open_clip")
pytest.importorskip("matplotlib")

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
ORDER = ["noun", "adj", "verb", "adv"]


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("examples")


@pytest.fixture(autouse=True)
def _one_thread():
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_limits

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(n)


def run_script(name, output_dir):
    env = {k: v for k, v in os.environ.items() if k != "SKLEARN_POS_EXAMPLE_TINY"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.update(
        SKLEARN_POS_EXAMPLE_OUTPUT=str(output_dir),
        MPLBACKEND="Agg",
        HF_HOME=str(output_dir / "hf_home"),  # no weights cached there
        HF_ENDPOINT="http://127.0.0.1:9",
        HF_HUB_OFFLINE="1",
        OMP_NUM_THREADS="1",
    )
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        env=env,
        cwd=output_dir,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # no weights to be had: the example says so and runs the tiny model
    assert "ViT-B-32 pretrained='openai' cannot be had" in result.stderr
    assert "'sklearn-pos-tiny'" in result.stderr
    return result.stdout


@pytest.fixture
def run_main(saved_figures, capsys):
    """Run an example's ``main`` on the tiny model; check its figure and caveat.

    Returns the result, the saved figure and what was printed.
    """

    def run(name, output_dir):
        main = runpy.run_path(str(EXAMPLES / name), run_name=name[:-3])["main"]
        capsys.readouterr()
        result = main(tiny=True, output_dir=output_dir)
        stdout = capsys.readouterr().out
        assert Path(result["figure"]) == output_dir / name.replace(".py", ".png")
        assert _is_png(result["figure"])
        for key, table in result.items():
            if key != "figure":
                assert table.attrs["caveat"] == RANDOM_WEIGHTS, key
        (figure,) = [f for p, f in saved_figures if p == Path(result["figure"])]
        title = "\n".join(text.get_text() for text in figure.texts)
        assert title.splitlines()[-1] == RANDOM_WEIGHTS, title
        assert f"[{RANDOM_WEIGHTS}]" in stdout
        return result, figure, stdout

    return run


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def _check_square(table):
    assert table.index.tolist() == ORDER and table.columns.tolist() == ORDER
    assert table.index.name == "subspace" and table.columns.name == "data"


def test_plot_class_invariance(output_dir, run_main):
    stdout = run_script("plot_class_invariance.py", output_dir)
    assert _is_png(output_dir / "plot_class_invariance.png")
    assert f"[{RANDOM_WEIGHTS}]" in stdout
    assert f"{RANDOM_WEIGHTS}: the numbers only show that the example runs" in stdout
    (output_dir / "plot_class_invariance.png").unlink()

    result, figure, _ = run_main("plot_class_invariance.py", output_dir)
    # The two panels of random weights say so; the published one does not.
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert [RANDOM_WEIGHTS in t for t in titles] == [True, True, False]
    assert set(result) == {"lam=0.5", "lam=0", "diagonal", "figure"}
    for lam in ("lam=0.5", "lam=0"):
        table = result[lam]
        _check_square(table)
        # row-normalised shares
        np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-9)
        assert (table.to_numpy() >= 0).all()
    diagonal = result["diagonal"]
    assert diagonal.index.tolist() == ORDER
    assert diagonal.columns.tolist() == [
        "lam=0.5",
        "lam=0",
        "published lam=0.5",
        "published lam=0",
    ]
    np.testing.assert_allclose(
        diagonal["lam=0.5"], np.diag(result["lam=0.5"].to_numpy())
    )
    published = diagonal["published lam=0.5"].to_dict()
    assert published == {"noun": 0.74, "adj": 0.52, "verb": 0.56, "adv": 0.56}
    # Even with random weights, lam=0.5 keeps each subspace to its own words
    # better than the PCA of each category (lam=0).
    assert diagonal["lam=0.5"].sum() > diagonal["lam=0"].sum()


def test_plot_subspace_scatter(output_dir, run_main):
    result, figure, _ = run_main("plot_subspace_scatter.py", output_dir)
    # Every panel keeps its labels inside the figure.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)  # pyplot closed the figure's own canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in figure.axes:
        for label in (ax.xaxis.label, ax.yaxis.label):
            box = label.get_window_extent(renderer)
            assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1
    # Every panel: the same scale on both axes, its own category drawn on
    # top, the caveat in its title and how many of the points it shows.
    panels = [ax for ax in figure.axes if ax.collections]
    assert len(panels) == 4
    for ax, subspace in zip(panels, ORDER):
        assert ax.get_aspect() == 1.0
        title = ax.get_title().splitlines()
        assert title[0] == f"Categories on the {subspace} subspace"
        assert title[-1] == RANDOM_WEIGHTS
        assert title[1].endswith("points shown")  # nouns are subsampled
        points = [c for c in ax.collections if c.get_label() != "_nolegend_"]
        top = max(points, key=lambda c: c.get_zorder())
        assert top.get_label() == subspace
    spread, contrast = result["spread"], result["contrast"]
    _check_square(spread)
    assert (spread.to_numpy() > 0).all()
    assert contrast.index.tolist() == ORDER
    assert contrast.columns.tolist() == ["own", "others", "ratio"]
    for i, name in enumerate(ORDER):
        own = spread.loc[name].iloc[i]
        others = (spread.loc[name].sum() - own) / 3
        assert contrast.loc[name, "own"] == pytest.approx(own)
        assert contrast.loc[name, "ratio"] == pytest.approx(own / others)
        # With lam=0.5 the first direction of a subspace carries more of its
        # own category than of all the others together.
        assert own > others


def test_plot_remove_artist_theme(output_dir, run_main):
    result, _, stdout = run_main("plot_remove_artist_theme.py", output_dir)
    # With random weights the expected effect is not claimed.
    assert "there is no artist theme to remove" in stdout
    assert "should fall" not in stdout
    vocabulary = result["vocabulary"]["n_words"]
    assert vocabulary["artist"] == 916
    assert set(vocabulary.index) == {*ORDER, "artist"}
    table = result["table"]
    assert table.columns.tolist() == [
        "artist before",
        "artist after",
        "content before",
        "content after",
        "artist change",
        "content change",
    ]
    assert len(table) == 10
    assert table.index[0] == "a painting of a lighthouse by Claude Monet"
    cosines = table.iloc[:, :4].to_numpy()
    assert np.all(np.abs(cosines) <= 1 + 1e-6)
    np.testing.assert_allclose(
        table["artist change"], table["artist after"] - table["artist before"]
    )
    np.testing.assert_allclose(
        table["content change"], table["content after"] - table["content before"]
    )
    # The projection changed the prompts.
    assert (table["artist change"].abs() > 1e-3).any()
    mean = result["mean"]
    pd.testing.assert_series_equal(
        mean.drop(columns="n_components").iloc[0],
        table.mean(),
        check_names=False,
    )
    assert mean["n_components"].iloc[0] == 32  # half of the tiny model's width
