"""End-to-end tests of the ``sklearn-pos`` command, run in subprocesses.

The main runs (fit, zero-shot, the offline failure) run the command as
``python -m sklearn_pos`` in a subprocess with this checkout on the path, on
the bundled tiny model with random weights; error paths call
:func:`sklearn_pos.cli.main` in-process. Every subprocess has the Hugging
Face hub pointed at a closed local port and set offline, so nothing is ever
fetched. The module's runs share one embedding store, a temporary folder named
by ``SKLEARN_POS_CACHE``, as a user's runs share ``~/.cache/sklearn_pos``.
"""

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from sklearn_pos import load_subspaces
from sklearn_pos.caveats import RANDOM_WEIGHTS
from sklearn_pos.cli import main

pytest.importorskip("open_clip")

REPO = Path(__file__).resolve().parents[1]
ORDER = ["noun", "adj", "verb", "adv"]
WORDNET_COUNTS = {"noun": 112219, "adj": 18021, "verb": 7295, "adv": 3910}
TINY = ["--model", "sklearn-pos-tiny", "--pretrained", "none", "--device", "cpu"]

pytestmark = pytest.mark.slow


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.update(
        HF_ENDPOINT="http://127.0.0.1:9",
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
    )
    env.update(extra)
    return env


def run_cli(*args, env=None, timeout=240, command=None):
    command = command or [sys.executable, "-m", "sklearn_pos"]
    return subprocess.run(
        [*command, *map(str, args)],
        capture_output=True,
        text=True,
        env=env or _env(),
        timeout=timeout,
    )


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """The embedding store of every run of this module (in-process and not)."""
    folder = tmp_path_factory.mktemp("shared_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKLEARN_POS_CACHE", str(folder))
        yield folder


def _saved(out):
    """The estimator and metadata that `fit` saved in ``out``."""
    return load_subspaces(out / "pos_subspaces.npz", return_metadata=True)


def _saved_table(bundle):
    saved = bundle["class_invariance"]
    return pd.DataFrame(saved["data"], index=saved["index"], columns=saved["columns"])


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, cache_dir):
    """One `fit` run on 1,500 words of the vocabulary."""
    out = tmp_path_factory.mktemp("fit") / "result"
    result = run_cli(
        "fit",
        *TINY,
        "--vocabulary-size",
        1500,
        "--output-dir",
        out,
        "--no-progress",
        "--max-points-per-class",
        200,
    )
    return out, result


def test_fit_writes_the_estimator_table_and_figures(fitted, cache_dir):
    out, result = fitted
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr

    pos, bundle = _saved(out)
    assert pos.classes_.tolist() == sorted(ORDER)
    assert pos.n_components_ == 16  # a quarter of the tiny model's 64 dimensions
    assert pos.lam == 0.5 and pos.geometry == "tangent" and pos.target_ == "noun"
    assert pos.class_components_.shape == (4, 16, 64)
    assert bundle["model_name"] == "sklearn-pos-tiny"
    assert bundle["pretrained"] is None
    assert bundle["embedding_dim"] == 64
    counts = bundle["vocabulary"]["counts"]
    assert sum(counts.values()) == 1500 == bundle["vocabulary"]["n_words"]
    for name, total in WORDNET_COUNTS.items():  # stratified subsample
        assert abs(counts[name] - 1500 * total / 141445) <= 1
    np.testing.assert_array_equal(pos.class_counts_, [counts[c] for c in pos.classes_])

    table = pd.read_csv(out / "class_invariance.csv", index_col=0)
    assert table.index.tolist() == ORDER and table.columns.tolist() == ORDER
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-5)
    pd.testing.assert_frame_equal(
        table, _saved_table(bundle), check_names=False, atol=1e-6
    )

    # The printed table is the saved one.
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["data"])
    assert lines[header].split() == ["data", *ORDER]
    for row, name in zip(lines[header + 2 : header + 6], ORDER):
        cells = row.split()
        assert cells[0] == name
        np.testing.assert_allclose(
            [float(c) for c in cells[1:]], table.loc[name], atol=0.006
        )
    # Random weights: the table says so in its heading and after it.
    assert f"(columns) [{RANDOM_WEIGHTS}]" in result.stdout
    assert f"{RANDOM_WEIGHTS}: these numbers only show" in result.stdout
    assert bundle["class_invariance"]["caveat"] == RANDOM_WEIGHTS

    figures = ["class_invariance.png"] + [f"subspace_scatter_{c}.png" for c in ORDER]
    for name in figures:
        assert _is_png(out / name), name
        assert f"figure: {out / name}" in result.stdout
    # The embeddings went to the shared store, not into the results folder.
    assert any(cache_dir.rglob("*.npy")), "the embedding cache is empty"
    assert not (out / "cache").exists()
    recorded = json.loads((out / "fit_parameters.json").read_text())["parameters"]
    assert recorded == bundle["parameters"]
    assert recorded["vocabulary_size"] == 1500 and recorded["lam"] == 0.5
    assert recorded["pretrained"] is None and recorded["model"] == "sklearn-pos-tiny"
    # Progress and status go to stderr, the results to stdout.
    assert "Embedding 1,500 words" in result.stderr


def test_fit_table_is_the_class_invariance_of_the_saved_estimator(fitted, cache_dir):
    from sklearn_pos.datasets import load_pos_vocabulary
    from sklearn_pos.embedding import CLIPEmbedder
    from sklearn_pos.metrics import class_invariance

    out, result = fitted
    assert result.returncode == 0, result.stderr
    vocab = load_pos_vocabulary(1500, random_state=0)
    words, y = vocab.data, vocab.target
    embedder = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu", memory=cache_dir)
    E = embedder.transform(list(words))
    pos, _ = _saved(out)
    expected = class_invariance(pos, E, y, labels=ORDER)
    table = pd.read_csv(out / "class_invariance.csv", index_col=0)
    np.testing.assert_allclose(table.to_numpy(), expected.to_numpy(), atol=1e-5)


def test_refit_reuses_the_cache_and_lam_zero_is_less_diagonal(
    fitted, cache_dir, tmp_path, capsys
):
    out, first = fitted
    assert first.returncode == 0, first.stderr
    cached = {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*") if p.is_file()}
    # In-process this time: main() returns the exit status. Another folder:
    # the lambda = 0.5 results stay, and the embeddings come from the store.
    lam0_dir = tmp_path / "lam0"
    status = main(
        [
            "fit",
            *TINY,
            "--vocabulary-size",
            "1500",
            "--output-dir",
            str(lam0_dir),
            "--no-progress",
            "--lam",
            "0",
            "--no-plots",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "figure:" not in captured.out
    # No new cache entry: the embeddings of the first run were loaded.
    after = {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*") if p.is_file()}
    assert set(after) == set(cached)
    pos, bundle = _saved(lam0_dir)
    assert pos.lam == 0.0
    lam0 = np.diag(_saved_table(bundle).to_numpy())
    rewritten = np.diag(
        pd.read_csv(lam0_dir / "class_invariance.csv", index_col=0).to_numpy()
    )
    np.testing.assert_allclose(rewritten, lam0, atol=1e-5)
    first_diagonal = float(first.stdout.split("mean diagonal: ")[1].split()[0])
    assert first_diagonal > lam0.mean() + 0.05
    assert _saved(out)[0].lam == 0.5


def test_fit_with_the_artist_theme(tmp_path, capsys):
    out = tmp_path / "theme"
    status = main(
        [
            "fit", *TINY, "--vocabulary-size", "300", "--theme", "artists",
            "--target", "artist", "--output-dir", str(out), "--no-progress",
            "--no-plots",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0, captured.err
    pos, bundle = _saved(out)
    assert pos.target_ == "artist"
    assert bundle["vocabulary"]["counts"]["artist"] == 916  # every name, whatever N
    assert sum(bundle["vocabulary"]["counts"].values()) == 300 + 916
    table = pd.read_csv(out / "class_invariance.csv", index_col=0)
    assert table.index.tolist() == [*ORDER, "artist"]
    assert table.columns.tolist() == [*ORDER, "artist"]
    assert "1/5 = 0.20 is chance" in captured.out


def test_fit_figures_are_stamped_and_coloured_as_the_api_draws(
    tmp_path, capsys, saved_figures
):
    from matplotlib.colors import to_rgb

    from sklearn_pos.datasets import load_pos_vocabulary
    from sklearn_pos.embedding import CLIPEmbedder
    from sklearn_pos.plotting import SubspaceScatterDisplay

    out = tmp_path / "theme"
    status = main(
        [
            "fit", *TINY, "--vocabulary-size", "300", "--theme", "artists",
            "--target", "artist", "--output-dir", str(out), "--no-progress",
            "--max-points-per-class", "40",
        ]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    categories = [*ORDER, "artist"]
    names = ["class_invariance.png"] + [f"subspace_scatter_{c}.png" for c in categories]
    assert [path.name for path, _ in saved_figures] == names
    for path, figure in saved_figures:
        title = [text.get_text() for text in figure.texts]
        assert title == [RANDOM_WEIGHTS], path.name

    # The API, with its defaults, colours every category as the command does.
    vocab = load_pos_vocabulary(300, theme="artists", random_state=0)
    words, y = vocab.data, vocab.target
    E = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu").transform(list(words))
    pos, _ = _saved(out)
    api = SubspaceScatterDisplay.from_estimator(pos, E, y, subspace="noun")
    api_colours = {
        name: to_rgb(points.get_facecolor()[0])
        for name, points in api.scatters_.items()
    }
    assert api_colours["artist"] == to_rgb("tab:purple")
    for path, figure in saved_figures[1:]:
        (ax,) = [ax for ax in figure.axes if ax.collections]
        drawn = {
            points.get_label(): to_rgb(points.get_facecolor()[0])
            for points in ax.collections
        }
        assert drawn == api_colours, path.name


def test_zero_shot_baseline_and_projected(fitted, image_folder, tmp_path, cache_dir):
    from sklearn_pos.embedding import CLIPEmbedder
    from sklearn_pos.store import store_info

    out, fit_result = fitted
    assert fit_result.returncode == 0, fit_result.stderr
    csv = tmp_path / "zero_shot.csv"
    result = run_cli(
        "zero-shot",
        "--subspaces",
        out / "pos_subspaces.npz",
        "--images",
        image_folder.root,
        "--device",
        "cpu",
        "--no-progress",
        "--num-workers",
        0,
        "--templates",
        "simple",
        "--output",
        csv,
    )
    assert result.returncode == 0, result.stderr
    # The images went to the shared store too.
    info = store_info(cache_dir)
    assert info.loc[info["modality"] == "image", "n_entries"].sum() >= 12
    table = pd.read_csv(csv, index_col=0)
    assert table.index.tolist() == [
        "CLIP",
        "projected onto the noun subspace (tangent)",
    ]
    assert table["images"].tolist() == [12, 12]
    assert f"template(s) 'simple' [{RANDOM_WEIGHTS}]" in result.stdout
    for accuracy in table["top-1 accuracy (%)"]:
        assert f"{accuracy:.1f}" in result.stdout
        # 12 images: every accuracy is a multiple of 1/12.
        assert (accuracy * 12 / 100) == pytest.approx(round(accuracy * 12 / 100))

    # The baseline is CLIP's zero-shot rule, recomputed here.
    from sklearn_pos.templates import get_templates

    text = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu")
    image = CLIPEmbedder(
        "sklearn-pos-tiny", None, modality="image", device="cpu", num_workers=0
    )
    names = sorted(image_folder.target_names)
    templates = get_templates("simple")
    T = text.transform([t.format(n) for n in names for t in templates])
    T = T.reshape(len(names), len(templates), -1).mean(axis=1)
    predicted = np.asarray(names)[
        np.argmax(image.transform(image_folder.paths) @ T.T, 1)
    ]
    expected = 100 * np.mean(predicted == image_folder.target)
    assert table.loc["CLIP", "top-1 accuracy (%)"] == pytest.approx(expected)


def test_zero_shot_onto_another_saved_subspace(
    fitted, image_folder, capsys, tmp_path, cache_dir
):
    from sklearn_pos import PartOfSpeechComponentAnalysis
    from sklearn_pos.datasets import load_pos_vocabulary
    from sklearn_pos.embedding import CLIPEmbedder

    out, fit_result = fitted
    assert fit_result.returncode == 0, fit_result.stderr
    status = main(
        [
            "zero-shot", "--subspaces", str(out / "pos_subspaces.npz"),
            "--images", str(image_folder.root), "--target", "adj",
            "--device", "cpu", "--no-progress", "--num-workers", "0",
            "--predictions", str(tmp_path / "predictions.csv"),
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0, captured.err
    row = next(
        line for line in captured.out.splitlines() if line.startswith("projected")
    )
    assert row.startswith("projected onto the adj subspace (tangent)")
    accuracy = float(row.split()[-2])
    saved = pd.read_csv(tmp_path / "predictions.csv")
    assert saved.columns.tolist() == ["image", "class", "CLIP", "projected"]
    assert sorted(saved["image"]) == sorted(image_folder.paths)
    saved = saved.set_index("image").loc[image_folder.paths]
    np.testing.assert_array_equal(saved["class"], image_folder.target)
    assert 100 * np.mean(saved["projected"] == saved["class"]) == pytest.approx(
        accuracy, abs=0.05
    )

    # Refit the adjective projection from the cached vocabulary embeddings and
    # classify by hand: the saved fit, re-targeted, must give the same result.
    vocab = load_pos_vocabulary(1500, random_state=0)
    words, y = vocab.data, vocab.target
    text = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu", memory=cache_dir)
    pos = PartOfSpeechComponentAnalysis(
        n_components=16, target="adj", output="projection"
    ).fit(text.transform(list(words)), y)
    images = CLIPEmbedder(
        "sklearn-pos-tiny", None, modality="image", device="cpu", num_workers=0
    ).transform(image_folder.paths)
    names = np.asarray(sorted(image_folder.target_names))
    predicted = names[np.argmax(pos.transform(images) @ text.transform(names).T, 1)]
    np.testing.assert_array_equal(saved["projected"], predicted)


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
def test_saved_subspaces_can_be_retargeted_without_refit(geometry, tmp_path):
    from sklearn_pos import (
        PartOfSpeechComponentAnalysis,
        load_subspaces,
        save_subspaces,
    )

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6)) + 3
    y = np.repeat(ORDER[:3], 100)
    X[y == "adj", 1] += 2 * rng.normal(size=100)
    params = dict(n_components=2, geometry=geometry)
    saved = PartOfSpeechComponentAnalysis(target="noun", **params).fit(X, y)
    before = saved.transform(X)
    path = save_subspaces(saved, tmp_path / "saved.npz")
    moved = load_subspaces(path, target="adj", output="projection")
    assert (moved.target, moved.target_, moved.output) == ("adj", "adj", "projection")
    with pytest.raises(ValueError, match="not one of the saved subspaces"):
        load_subspaces(path, target="pronoun")
    fresh = PartOfSpeechComponentAnalysis(
        target="adj", output="projection", **params
    ).fit(X, y)
    np.testing.assert_allclose(moved.transform(X), fresh.transform(X), atol=1e-12)
    assert not np.allclose(
        moved.transform(X), saved.set_params(output="projection").transform(X)
    )
    # The saved estimator itself is left as it was.
    assert saved.target_ == "noun"
    np.testing.assert_array_equal(
        saved.set_params(output="coordinates").transform(X), before
    )


def test_offline_weights_fail_fast_with_advice(tmp_path):
    out = tmp_path / "never"
    result = run_cli(
        "fit",
        "--model",
        "ViT-B-32",
        "--pretrained",
        "openai",
        "--output-dir",
        out,
        "--device",
        "cpu",
        env=_env(HF_HOME=str(tmp_path / "empty_hf_home")),
        timeout=120,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    message = result.stderr
    assert "could not be obtained (offline mode is enabled" in " ".join(message.split())
    assert "--pretrained /path/to/checkpoint.pt" in message
    assert "ViT-B-32-quickgelu" in message
    assert "--pretrained none" in message
    assert not (out / "pos_subspaces.npz").exists()
    assert result.stdout == ""


def test_weights_message_uses_the_error_attributes():
    from sklearn_pos.cli.messages import weights_message
    from sklearn_pos.embedding import WeightsUnavailableError

    # the reason comes from the attribute, whatever the message says
    exc = WeightsUnavailableError(
        "free text", source="hf-hub:org/repo", reason="the hub is unreachable"
    )
    text = weights_message("ViT-B-32", "openai", exc)
    assert "could not be obtained (the hub is unreachable)." in text
    assert "ViT-B-32-quickgelu" in text
    bare = WeightsUnavailableError("Could not fetch from x: y. This machine")
    assert "could not be obtained. They" in weights_message("RN50", "yfcc15m", bare)


def test_help_explains_the_commands(capsys):
    result = run_cli("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m sklearn_pos")
    for text in [
        "fit",
        "zero-shot",
        "class-invariance",
        "--pretrained none",
        "exit status",
    ]:
        assert text in result.stdout
    for command, options in {
        "fit": [
            "--n-components",
            "--lam",
            "--geometry",
            "--vocabulary-size",
            "--theme",
            "--output-dir",
            "--model",
            "--pretrained",
            "--device",
            "--precision",
            "--batch-size",
            "--no-progress",
            "pos_subspaces.npz",
            "fit_parameters.json",
            "--overwrite",
            "--cache-dir",
            "'none' for random weights",
        ],
        "zero-shot": [
            "--subspaces",
            "--images",
            "--templates",
            "openai_imagenet",
            "--cache-dir",
        ],
        "cache": ["SKLEARN_POS_CACHE", "XDG_CACHE_HOME", "~/.cache/sklearn_pos"],
    }.items():
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        for option in options:
            assert option in text, (command, option)


def test_help_does_not_load_torch():
    code = (
        "import sys\n"
        "from sklearn_pos.cli import main\n"
        "try:\n    main(['fit', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules and 'open_clip' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "--lam", "2"], "expected a number in [0, 1]"),
        (["fit", "--geometry", "curved"], "invalid choice"),
        (["fit", "-k", "0"], "expected a positive integer"),
        (["fit", "--seed", "-1"], "expected an integer >= 0, got -1"),
        (["fit", "--seed", str(2**32)], "expected an integer below 2**32"),
        (["zero-shot", "--num-workers", "-2"], "expected an integer >= 0"),
        (["cache", "--info", "--clear"], "not allowed with argument"),
    ],
)
def test_invalid_options_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "usage:"),
        (
            ["fit", *TINY, "--target", "pronoun", "--vocabulary-size", "100"],
            "--target 'pronoun' is not a category",
        ),
        (["fit", *TINY, "--vocabulary-size", "5"], "--vocabulary-size 5 is too small"),
        (
            ["fit", *TINY, "--vocabulary-size", "200000"],
            "--vocabulary-size 200000 is larger than the vocabulary (141,445 WordNet "
            "words). Leave the option out to use all of them, or give at most 141445",
        ),
        (
            ["fit", *TINY, "-k", "64", "--vocabulary-size", "100", "--no-plots"],
            "--n-components 64 must be smaller than the embedding width",
        ),
        (
            ["fit", "--model", "ViT-B-33", "--pretrained", "none"],
            "--model: Unknown open_clip model 'ViT-B-33'",
        ),
        (
            ["fit", "--pretrained", "nowhere/ckpt.pt"],
            "--pretrained nowhere/ckpt.pt: no such checkpoint file",
        ),
        (
            ["zero-shot", "--subspaces", "missing.joblib", "--images", "."],
            "missing.joblib: no such file",
        ),
    ],
)
def test_input_errors_exit_2_with_one_message(args, message, capsys, tmp_path):
    status = main(
        [*args, "--output-dir", str(tmp_path)] if args[:1] == ["fit"] else args
    )
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert "Traceback" not in err


def test_zero_shot_needs_a_folder_per_class(fitted, tmp_path, capsys):
    out, _ = fitted
    (tmp_path / "only").mkdir()
    status = main(
        [
            "zero-shot",
            "--subspaces",
            str(out / "pos_subspaces.npz"),
            "--images",
            str(tmp_path),
            "--device",
            "cpu",
        ]
    )
    assert status == 2
    assert "at least two subfolders" in capsys.readouterr().err


def test_version(capsys):
    from sklearn_pos import __version__

    with pytest.raises(SystemExit):
        main(["--version"])
    assert __version__ in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("sklearn-pos") is None, reason="not installed")
def test_console_script():
    result = run_cli("--help", command=[shutil.which("sklearn-pos")])
    assert result.returncode == 0
    assert result.stdout.startswith("usage: sklearn-pos")


def _timed_subprocess(code, timeout=240):
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=timeout,
    )


def test_warm_rerun_with_other_settings_does_not_import_torch(fitted, tmp_path):
    out, first = fitted
    assert first.returncode == 0, first.stderr
    out = tmp_path / "other"
    args = [
        "fit", *TINY, "--vocabulary-size", "1500", "--output-dir", str(out),
        "--no-progress", "-k", "5", "--lam", "0.2", "--geometry", "euclidean",
    ]  # fmt: skip
    code = (
        "import sys\n"
        "from sklearn_pos.cli import main\n"
        f"status = main({args!r})\n"
        "print('TORCH', 'torch' in sys.modules, 'open_clip' in sys.modules, status)\n"
    )
    result = _timed_subprocess(code)
    assert result.returncode == 0, result.stderr
    assert "TORCH False False 0" in result.stdout, result.stdout + result.stderr
    pos, _ = _saved(out)
    assert (pos.n_components_, pos.lam, pos.geometry) == (5, 0.2, "euclidean")


@pytest.mark.parametrize("where", ["output-dir", "cache"])
def test_unusable_output_fails_before_loading_anything(where, tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    out, extra = tmp_path / "out", []
    if where == "output-dir":
        out = a_file
        message = f"--output-dir {out} cannot be used"
    else:
        extra = ["--cache-dir", str(a_file / "cache")]
        message = f"--cache-dir {a_file / 'cache'} cannot be created: Not a directory"
    code = (
        "import sys\n"
        "from sklearn_pos.cli import main\n"
        f"status = main(['fit', *{TINY!r}, '--output-dir', {str(out)!r}, *{extra!r}])\n"
        "print('STATUS', status, 'torch' in sys.modules)\n"
    )
    result = _timed_subprocess(code)
    assert "STATUS 2 False" in result.stdout, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_model_fails_without_importing_torch(tmp_path):
    code = (
        "import sys\n"
        "from sklearn_pos.cli import main\n"
        "status = main(['fit', '--model', 'ViT-B-33', '--output-dir', "
        f"{str(tmp_path)!r}])\n"
        "print('STATUS', status, 'torch' in sys.modules)\n"
    )
    result = _timed_subprocess(code)
    assert "STATUS 2 False" in result.stdout, result.stdout + result.stderr
    assert "Did you mean one of ['ViT-B-32'" in result.stderr


@pytest.mark.parametrize("option", ["--output", "--predictions"])
def test_zero_shot_checks_its_outputs_before_encoding(
    option, fitted, image_folder, tmp_path, capsys
):
    out, _ = fitted
    status = main(
        [
            "zero-shot",
            "--subspaces",
            str(out / "pos_subspaces.npz"),
            "--images",
            str(image_folder.root),
            "--device",
            "cpu",
            option,
            str(tmp_path / "missing-folder" / "table.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert f"{option} {tmp_path / 'missing-folder' / 'table.csv'}" in err
    assert "does not exist" in err
    status = main(
        [
            "zero-shot",
            "--subspaces",
            str(out / "pos_subspaces.npz"),
            "--images",
            str(image_folder.root),
            option,
            str(tmp_path),
        ]
    )
    assert status == 2
    assert "is a folder; give a file name" in capsys.readouterr().err
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    status = main(
        [
            "zero-shot",
            "--subspaces",
            str(out / "pos_subspaces.npz"),
            "--images",
            str(image_folder.root),
            option,
            str(a_file / "table.csv"),
        ]
    )
    assert status == 2
    assert f"{a_file} is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"not a subspaces file at all", "it is not a NumPy .npz archive"),
        (b"PK\x03\x04 truncated", "it is damaged or truncated"),
    ],
)
def test_unreadable_subspaces_file_says_what_it_is(content, message, tmp_path, capsys):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    status = main(["zero-shot", "--subspaces", str(path), "--images", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and str(path) in err
    assert "Re-create it with sklearn_pos.save_subspaces (or 'sklearn-pos fit')" in err
    assert "Traceback" not in err


class _RunsCode:
    """Unpickling it creates the file ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_joblib_subspaces_file_is_refused_unread(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "pos_subspaces.joblib"
    joblib.dump({"estimator": _RunsCode(marker)}, path)
    result = run_cli("zero-shot", "--subspaces", path, "--images", tmp_path)
    assert result.returncode == 2
    assert not marker.exists()
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert f"{path} is a pickle/joblib file" in message
    assert "unpickling a file can run any code it holds" in message
    assert "Re-create the subspaces with 'sklearn-pos fit'" in message


def test_a_damaged_subspaces_file_is_refused(fitted, tmp_path, capsys):
    out, _ = fitted
    data = bytearray((out / "pos_subspaces.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    status = main(["zero-shot", "--subspaces", str(path), "--images", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2
    assert f"{path} is not a usable subspaces file" in err


def test_vocabulary_size_keeping_one_word_of_a_category_is_refused(tmp_path, capsys):
    # 20 words keep a single adverb (its share is 2.8%): no spread to describe
    status = main(["fit", *TINY, "--vocabulary-size", "20", "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2
    assert "--vocabulary-size 20 is too small" in err
    assert "'adv'" in err


def test_cache_command_shows_and_clears_the_store(fitted, cache_dir, tmp_path, capsys):
    out, first = fitted
    assert first.returncode == 0, first.stderr
    # By default, the shared store of every command.
    assert main(["cache"]) == 0
    assert f"{cache_dir}: " in capsys.readouterr().out
    store = tmp_path / "store"
    shutil.copytree(cache_dir, store)
    from sklearn_pos.store import store_info

    n = int(store_info(store)["n_entries"].sum())
    assert n >= 1500  # the fit's words, and what other tests embedded there
    assert main(["cache", str(store)]) == 0
    shown = capsys.readouterr().out
    assert f"{store}: {n:,} stored embeddings" in shown
    assert "sklearn-pos-tiny" in shown and "text" in shown
    assert main(["cache", str(store), "--info"]) == 0
    assert capsys.readouterr().out == shown
    assert main(["cache", str(store), "--clear"]) == 0
    assert f"removed {n:,} stored embeddings" in capsys.readouterr().out
    assert main(["cache", str(store)]) == 0
    assert "0 stored embeddings" in capsys.readouterr().out
    assert main(["cache", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


# ------------------------------------------------------- results never replaced


def _fit_args(out, *extra):
    return [
        "fit", *TINY, "--vocabulary-size", "1500", "--no-progress", "--no-plots",
        "--output-dir", str(out), *extra,
    ]  # fmt: skip


def test_fit_refuses_a_folder_with_results_of_other_parameters(
    fitted, tmp_path, capsys
):
    out = tmp_path / "out"
    assert main(_fit_args(out)) == 0
    saved = (out / "pos_subspaces.npz").read_bytes()
    capsys.readouterr()
    # The README's lambda = 0 run into the same folder: refused, nothing changed.
    assert main(_fit_args(out, "--lam", "0", "-k", "4")) == 2
    err = capsys.readouterr().err
    assert f"--output-dir {out} holds the results of a fit with other parameters" in err
    assert "no --n-components there, --n-components 4 here" in err
    assert "--lam 0.5 there, --lam 0 here" in err
    assert "Give another --output-dir" in err and "--overwrite" in err
    assert (out / "pos_subspaces.npz").read_bytes() == saved
    # The same parameters again: allowed (e.g. after an interrupted run).
    assert main(_fit_args(out)) == 0
    capsys.readouterr()
    # --overwrite replaces them, and records the new parameters.
    assert main(_fit_args(out, "--lam", "0", "--overwrite")) == 0
    assert load_subspaces(out / "pos_subspaces.npz").lam == 0
    recorded = json.loads((out / "fit_parameters.json").read_text())["parameters"]
    assert recorded["lam"] == 0


def test_a_run_that_wrote_no_results_does_not_hold_the_folder(
    fitted, tmp_path, capsys
):
    out = tmp_path / "out"
    # Stopped after its record, before any result: k too large for the model.
    assert main(_fit_args(out, "-k", "64")) == 2
    assert "--n-components 64 must be smaller" in capsys.readouterr().err
    assert (out / "fit_parameters.json").is_file()
    assert main(_fit_args(out, "--lam", "0.25")) == 0
    recorded = json.loads((out / "fit_parameters.json").read_text())["parameters"]
    assert recorded["lam"] == 0.25


def test_fit_refuses_results_without_a_parameter_record(fitted, tmp_path, capsys):
    out = tmp_path / "old"
    out.mkdir()
    (out / "pos_subspaces.joblib").write_bytes(b"written by an older version")
    (out / "notes.txt").write_text("mine")
    assert main(_fit_args(out)) == 2
    err = capsys.readouterr().err
    assert "holds results of a fit whose parameters are unknown" in err
    assert "pos_subspaces.joblib there has no record of its parameters" in err
    assert not (out / "fit_parameters.json").exists()
    # --overwrite removes the results of the old fit, and nothing else.
    assert main(_fit_args(out, "--overwrite")) == 0
    assert not (out / "pos_subspaces.joblib").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "pos_subspaces.npz").is_file()


# ------------------------------------------------------------ OS errors on output


def _one_line_error(result):
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_an_output_file_that_is_a_folder_is_one_line(fitted, tmp_path):
    out = tmp_path / "out"
    (out / "pos_subspaces.npz").mkdir(parents=True)
    result = run_cli(*_fit_args(out))
    assert result.returncode == 2
    line = _one_line_error(result)
    assert f"cannot write {out / 'pos_subspaces.npz'}: it is a folder" in line
    assert "Move it away, or choose another --output-dir" in line


def test_an_output_dir_under_a_file_is_one_line(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    result = run_cli(*_fit_args(a_file / "results"))
    assert result.returncode == 2
    line = _one_line_error(result)
    assert f"--output-dir {a_file / 'results'} cannot be used: Not a directory" in line


def _file_size_limit(n_bytes):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, n_bytes))

    return limit


def test_a_file_too_large_for_the_disk_is_one_line(fitted, tmp_path):
    out = tmp_path / "out"
    # The embeddings are in the store already: the small parameter record
    # fits under the limit, the subspaces file does not.
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_pos", *_fit_args(out)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=240,
        preexec_fn=_file_size_limit(4096),
    )
    assert result.returncode == 1
    line = _one_line_error(result)
    assert f"cannot write {out / 'pos_subspaces.npz'}: File too large" in line
    assert "raise the limit, or write elsewhere (another --output-dir)" in line
    assert not (out / "pos_subspaces.npz").exists()  # no half-written file
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]


def test_zero_shot_output_file_too_large_is_one_line(fitted, image_folder, tmp_path):
    out, _ = fitted
    table = tmp_path / "table.csv"
    result = subprocess.run(
        [
            sys.executable, "-m", "sklearn_pos", "zero-shot",
            "--subspaces", str(out / "pos_subspaces.npz"),
            "--images", str(image_folder.root), "--device", "cpu",
            "--no-progress", "--num-workers", "0", "--output", str(table),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=240,
        preexec_fn=_file_size_limit(0),
    )  # fmt: skip
    assert result.returncode == 1
    line = _one_line_error(result)
    assert f"cannot write {table}: File too large" in line
    assert "(another --output)" in line


def test_library_messages_are_spelled_as_options():
    from sklearn_pos.cli.messages import as_typed

    text = (
        "Pass the model_name these weights were trained for, or pretrained=None "
        "for random weights; pretrained='/path/ckpt.bin' with model_name='RN50'."
    )
    assert as_typed(text) == (
        "Pass the --model these weights were trained for, or --pretrained none "
        "for random weights; --pretrained /path/ckpt.bin with --model RN50."
    )


def test_a_checkpoint_that_does_not_load_is_reported_as_typed(tmp_path, capsys):
    bad = tmp_path / "weights.pt"
    bad.write_bytes(b"")
    status = main(
        ["fit", "--model", "sklearn-pos-tiny", "--pretrained", str(bad),
         "--device", "cpu", "--vocabulary-size", "100", "-o", str(tmp_path / "o")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2
    assert f"cannot load the model: --pretrained {bad} is an empty file" in err
    assert "or --pretrained none for random weights" in " ".join(err.split())
    assert "pretrained=" not in err and "model_name" not in err


def test_embed_uses_the_shared_store_by_default(cache_dir, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    from sklearn_pos.store import store_info

    texts = tmp_path / "texts.txt"
    words = [f"shared store word {i}" for i in range(7)]
    texts.write_text("\n".join(words) + "\n")
    before = store_info(cache_dir)["n_entries"].sum()
    status = main(
        ["embed", str(texts), "--modality", "text", "--output", str(tmp_path / "emb"),
         *TINY, "--no-progress"]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    assert store_info(cache_dir)["n_entries"].sum() == before + len(words)


def test_compare_zero_shot_is_the_zero_shot_classifier_with_and_without(
    image_folder, cache_dir
):
    from sklearn.preprocessing import FunctionTransformer

    from sklearn_pos import ZeroShotClassifier, compare_zero_shot
    from sklearn_pos.embedding import CLIPEmbedder

    text = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu", memory=cache_dir)
    images = CLIPEmbedder(
        "sklearn-pos-tiny", None, modality="image", device="cpu", num_workers=0
    ).transform(image_folder.paths)
    y = np.asarray(image_folder.target)
    flip = FunctionTransformer(np.negative)
    table, predicted = compare_zero_shot(
        images,
        y,
        text_embedder=text,
        transforms={"flipped": flip},
        templates="simple",
        return_predictions=True,
    )
    names = sorted(set(y))
    expected = {
        "CLIP": ZeroShotClassifier(names, templates="simple", text_embedder=text),
        "flipped": ZeroShotClassifier(
            names, templates="simple", text_embedder=text, image_transform=flip
        ),
    }
    assert table.index.tolist() == ["CLIP", "flipped"]
    assert table.index.name == "method"
    assert predicted.columns.tolist() == ["class", "CLIP", "flipped"]
    for method, classifier in expected.items():
        guess = classifier.fit(images).predict(images)
        np.testing.assert_array_equal(predicted[method], guess)
        assert table.loc[method, "top-1 accuracy (%)"] == pytest.approx(
            100 * np.mean(guess == y)
        )
    assert (table["images"] == len(y)).all()
    assert table.attrs["caveat"]  # random weights are flagged
    with pytest.raises(ValueError, match="none named 'CLIP'"):
        compare_zero_shot(images, y, text_embedder=text, transforms={"CLIP": flip})
    with pytest.raises(ValueError, match="one class name per image"):
        compare_zero_shot(images, y[1:], text_embedder=text, transforms={})


def test_default_n_components_is_the_documented_rule():
    from sklearn_pos.evaluation import default_n_components

    assert [default_n_components(d) for d in (512, 256, 255, 64, 7, 1)] == [
        64, 64, 63, 16, 2, 2,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="positive integer"):
        default_n_components(0)
