"""Smoke runs of the class-invariance, scatter and artist-theme examples.

Each example runs as a script with ``SKLEARN_POS_EXAMPLE_TINY=1`` (the
bundled tiny model, random weights, part of the vocabulary) and
``SKLEARN_POS_EXAMPLE_OUTPUT`` pointing at a temporary folder, shared by the
three so that the embedding cache is reused. The figures and the printed
tables are checked.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("open_clip")
pytest.importorskip("matplotlib")

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
ORDER = ["noun", "adj", "verb", "adv"]


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("examples")


def run_example(name, output_dir):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.update(
        SKLEARN_POS_EXAMPLE_TINY="1",
        SKLEARN_POS_EXAMPLE_OUTPUT=str(output_dir),
        MPLBACKEND="Agg",
        HF_ENDPOINT="http://127.0.0.1:9",
        HF_HUB_OFFLINE="1",
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
    return result.stdout


def _rows(stdout, title, n_rows, start=0):
    """The ``n_rows`` rows of the table printed after the line ``title``."""
    lines = stdout.splitlines()
    at = next(
        i for i, line in enumerate(lines) if i >= start and line.startswith(title)
    )
    header = at + 1
    body = lines[header + 2 : header + 2 + n_rows]
    return lines[header].split(), [line.split() for line in body]


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_class_invariance(output_dir):
    stdout = run_example("plot_class_invariance.py", output_dir)
    assert _is_png(output_dir / "plot_class_invariance.png")
    for lam in ("0.5", "0"):
        title = f"Class invariance, sklearn-pos-tiny (random weights), k=16, lam={lam}"
        header, rows = _rows(stdout, title, 4)
        assert header == ["data", *ORDER]
        assert [row[0] for row in rows] == ORDER
        for row in rows:  # row-normalised
            assert sum(float(v) for v in row[1:]) == pytest.approx(1.0, abs=0.03)
    header, rows = _rows(stdout, "Diagonal", 4)
    assert header == ["lam=0.5", "lam=0", "published", "lam=0.5", "published", "lam=0"]
    published = {row[0]: float(row[3]) for row in rows}
    assert published == {"noun": 0.74, "adj": 0.52, "verb": 0.56, "adv": 0.56}
    # Even with random weights, lam=0.5 keeps each subspace to its own words
    # better than the PCA of each category (lam=0).
    half = [float(row[1]) for row in rows]
    zero = [float(row[2]) for row in rows]
    assert sum(half) > sum(zero)
    assert "Tiny random model" in stdout


def test_plot_subspace_scatter(output_dir):
    stdout = run_example("plot_subspace_scatter.py", output_dir)
    assert _is_png(output_dir / "plot_subspace_scatter.png")
    header, rows = _rows(stdout, "Mean squared coordinate", 4)
    assert header == ["data", *ORDER]
    assert [row[0] for row in rows] == ORDER
    spread = {row[0]: [float(v) for v in row[1:]] for row in rows}
    ratios = dict(re.findall(r"(noun|adj|verb|adv) ([0-9.]+)x", stdout))
    assert set(ratios) == set(ORDER)
    for i, name in enumerate(ORDER):
        own = spread[name][i]
        others = (sum(spread[name]) - own) / 3
        assert float(ratios[name]) == pytest.approx(own / others, abs=0.06)
        # With lam=0.5 the first direction of a subspace carries more of its
        # own category than of all the others together.
        assert own > others


def test_plot_remove_artist_theme(output_dir):
    stdout = run_example("plot_remove_artist_theme.py", output_dir)
    assert _is_png(output_dir / "plot_remove_artist_theme.png")
    assert "916 artists" in stdout
    lines = stdout.splitlines()
    header_at = next(i for i, line in enumerate(lines) if "artist before" in line)
    columns = [
        "artist before",
        "artist after",
        "content before",
        "content after",
        "artist change",
        "content change",
    ]
    for column in columns:
        assert column in lines[header_at]
    body = lines[header_at + 2 : header_at + 13]
    assert body[0].startswith("a painting of a lighthouse by Claude Monet")
    assert body[-1].startswith("mean")
    values = [[float(v) for v in line.split()[-6:]] for line in body]
    for before_a, after_a, before_c, after_c, change_a, change_c in values:
        assert all(-1 <= v <= 1 for v in (before_a, after_a, before_c, after_c))
        assert change_a == pytest.approx(after_a - before_a, abs=0.002)
        assert change_c == pytest.approx(after_c - before_c, abs=0.002)
    # The projection changed the prompts.
    assert any(abs(row[4]) > 1e-3 for row in values)
    assert "k=32" in stdout  # half of the tiny model's 64 dimensions
