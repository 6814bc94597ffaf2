"""Tests of CLIPEmbedder on tiny open_clip models (no downloads)."""

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_pos._compat import InvalidParameterError

torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")
Image = pytest.importorskip("PIL.Image")

from sklearn_pos import _clip, clear_caches  # noqa: E402
from sklearn_pos._caches import BoundedCache  # noqa: E402
from sklearn_pos.embedding import (  # noqa: E402
    CLIPEmbedder,
    ImageReadError,
    WeightsUnavailableError,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY = "sklearn-pos-tiny"

TEXTS = [
    "dog",
    "a red car parked next to a very old stone bridge over the river",
    "",
    "dog",
    "ice cream",
    "the quick brown fox jumps over the lazy dog " * 12,  # longer than the context
    "Monet",
    "to run",
]


def cosine_rows(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def tiny(**params):
    params = {"model_name": TINY, "pretrained": None, "device": "cpu", **params}
    return CLIPEmbedder(**params)


# ------------------------------------------------------------------ extra test configs

_TINY_CFG = json.loads(
    (REPO_ROOT / "sklearn_pos/_model_configs/sklearn-pos-tiny.json").read_text()
)


def _variant(**changes):
    cfg = json.loads(json.dumps(_TINY_CFG))
    for key, value in changes.items():
        if key.startswith("text_"):
            cfg["text_cfg"][key[len("text_") :]] = value
        else:
            cfg[key] = value
    return cfg


# name -> (config, whether the cut-token path applies)
_VARIANTS = {
    "tiny-test-quickgelu": (_variant(quick_gelu=True), True),
    "tiny-test-eos": (_variant(text_pool_type="eos", text_eos_id=49407), True),
    "tiny-test-first": (_variant(text_pool_type="first"), True),
    "tiny-test-projbias": (_variant(text_proj_bias=True), True),
    "tiny-test-custom": (_variant(custom_text=True), True),
    "tiny-test-last": (_variant(text_pool_type="last"), False),
    "tiny-test-bidir": (_variant(text_no_causal_mask=True), False),
    "tiny-test-clstoken": (_variant(custom_text=True, text_embed_cls=True), False),
}


@pytest.fixture(scope="module")
def test_configs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("configs")
    for name, (cfg, _) in _VARIANTS.items():
        (folder / f"{name}.json").write_text(json.dumps(cfg))
    _clip.register_bundled_configs()
    open_clip.add_model_config(folder)
    return folder


def reference_text(bundle, texts, normalize=True):
    with torch.no_grad():
        out = bundle.model.encode_text(
            bundle.tokenizer(list(texts)), normalize=normalize
        )
    return out.numpy()


def reference_images(bundle, pil_images):
    batch = torch.stack([bundle.preprocess(img) for img in pil_images])
    with torch.no_grad():
        return bundle.model.encode_image(batch, normalize=True).numpy()


# ---------------------------------------------------------------------------- text


@pytest.mark.parametrize("model_name", [TINY] + list(_VARIANTS))
def test_text_matches_open_clip(model_name, test_configs):
    emb = tiny(model_name=model_name, batch_size=3)
    E = emb.fit_transform(TEXTS)
    assert E.shape == (len(TEXTS), 64) and E.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-5)
    ref = reference_text(emb.get_model(), TEXTS)
    assert cosine_rows(E, ref).min() >= 1 - 1e-5
    expected_cut = model_name == TINY or _VARIANTS[model_name][1]
    assert (emb._load().text_tower is not None) == expected_cut


def test_text_runs_on_cut_tokens_grouped_by_length(tiny_clip_kwargs):
    emb = CLIPEmbedder(batch_size=2, **tiny_clip_kwargs)
    bundle = emb.get_model()
    lengths = []
    hook = bundle.model.transformer.register_forward_pre_hook(
        lambda module, args, kwargs: lengths.append(args[0].shape[:2]), with_kwargs=True
    )
    texts = ["a photo of a big red car", "cat", "dog", "a big dog", "x y"]
    try:
        E = emb.transform(texts)
    finally:
        hook.remove()
    needed = (bundle.tokenizer(texts).argmax(-1) + 1).tolist()  # SOT ... EOT
    # sorted by needed length, batches of two, each cut to its own longest row
    by_len = sorted(needed)
    assert [tuple(s) for s in lengths] == [
        (len(by_len[i : i + 2]), max(by_len[i : i + 2])) for i in range(0, 5, 2)
    ]
    assert max(s[1] for s in lengths) < 77
    assert cosine_rows(E, reference_text(bundle, texts)).min() >= 1 - 1e-5


def test_tokenization_in_chunks_gives_same_result(tiny_clip_kwargs, monkeypatch):
    emb = CLIPEmbedder(batch_size=4, **tiny_clip_kwargs)
    want = emb.transform(TEXTS)
    monkeypatch.setattr(_clip.text, "TOKENIZE_CHUNK", 3)
    np.testing.assert_allclose(emb.transform(TEXTS), want, atol=1e-6)


def test_duplicates_encoded_once(tiny_clip_kwargs, monkeypatch):
    seen = []
    real = _clip.encode_texts

    def spy(loaded, texts, **kw):
        seen.append(list(texts))
        return real(loaded, texts, **kw)

    monkeypatch.setattr(_clip, "encode_texts", spy)
    X = ["b", "a", "b", "c", "a", "b"]
    E = CLIPEmbedder(**tiny_clip_kwargs).transform(X)
    assert seen == [["b", "a", "c"]]
    np.testing.assert_array_equal(E[0], E[2])
    np.testing.assert_array_equal(E[1], E[4])
    assert not np.allclose(E[0], E[1])


def test_normalize_false_returns_raw_features(tiny_clip_kwargs):
    emb = CLIPEmbedder(normalize=False, **tiny_clip_kwargs)
    E = emb.transform(TEXTS[:3])
    ref = reference_text(emb.get_model(), TEXTS[:3], normalize=False)
    np.testing.assert_allclose(E, ref, rtol=1e-4, atol=1e-5)
    assert not np.allclose(np.linalg.norm(E, axis=1), 1.0)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_mixed_precision_close_to_fp32(tiny_clip_kwargs, precision):
    full = CLIPEmbedder(**tiny_clip_kwargs).transform(TEXTS)
    emb = CLIPEmbedder(precision=precision, **tiny_clip_kwargs)
    half = emb.transform(TEXTS)
    assert half.dtype == np.float32
    assert cosine_rows(full, half).min() > 0.99
    assert emb.__sklearn_tags__().non_deterministic


# --------------------------------------------------------------------------- images


def test_images_match_open_clip(tiny_clip_kwargs, image_folder):
    emb = CLIPEmbedder(
        modality="image", batch_size=5, num_workers=1, **tiny_clip_kwargs
    )
    paths = image_folder.paths
    E = emb.fit_transform(paths)
    assert E.shape == (len(paths), 64) and E.dtype == np.float32
    ref = reference_images(emb.get_model(), [Image.open(p) for p in paths])
    assert cosine_rows(E, ref).min() >= 1 - 1e-5

    # the same images as Path objects, PIL images and uint8 arrays, mixed
    pils = [Image.open(p).convert("RGB") for p in paths[:3]]
    mixed = [Path(paths[0]), pils[1], np.asarray(pils[2])]
    np.testing.assert_allclose(emb.transform(mixed), E[:3], atol=1e-6)
    # a 4-d array of same-sized images
    stack = np.stack([np.asarray(pils[0].resize((40, 30)))] * 2)
    F = emb.transform(stack)
    np.testing.assert_allclose(F[0], F[1])


def test_image_modes_are_converted(tmp_path):
    # grayscale: R = G = B
    gray = _clip.load_rgb(Image.fromarray(np.full((8, 8), 77, np.uint8)))
    assert gray.mode == "RGB" and np.all(np.asarray(gray) == 77)
    # 16-bit file: 65535 -> 255, 257 * 100 -> 100
    sixteen = np.array([[65535, 25700], [0, 257]], dtype=np.uint16)
    path16 = tmp_path / "deep.png"
    Image.fromarray(sixteen).save(path16)
    assert Image.open(path16).mode.startswith("I")
    got = np.asarray(_clip.load_rgb(path16))
    np.testing.assert_array_equal(got[..., 0], [[255, 100], [0, 1]])
    # a uint16 array is scaled the same way
    np.testing.assert_array_equal(
        np.asarray(_clip.load_rgb(sixteen))[..., 1], got[..., 1]
    )
    # transparency goes over white, opaque pixels keep their colour
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)
    got = np.asarray(_clip.load_rgb(rgba))
    assert tuple(got[0, 0]) == (10, 20, 30) and tuple(got[1, 1]) == (255, 255, 255)
    # palette with a transparent index
    pal = Image.new("P", (2, 1))
    pal.putdata([0, 1])
    pal.putpalette([0, 0, 0, 200, 0, 0] + [0] * 762)
    pal.info["transparency"] = 0
    got = np.asarray(_clip.load_rgb(pal))
    assert tuple(got[0, 0]) == (255, 255, 255) and tuple(got[0, 1]) == (200, 0, 0)
    # and a mixed list goes through the estimator
    E = tiny(modality="image").transform(
        [path16, rgba, pal, np.full((5, 6), 9, np.uint8)]
    )
    assert E.shape == (4, 64) and np.isfinite(E).all()


@pytest.mark.parametrize("num_workers", [0, 1])
def test_missing_and_corrupt_files_name_file_and_row(
    tmp_path, image_folder, num_workers
):
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8 not really a jpeg")
    emb = tiny(modality="image", batch_size=1, num_workers=num_workers)
    missing = str(tmp_path / "nowhere.png")
    with pytest.raises(ImageReadError, match=r"row 1 .*nowhere\.png") as info:
        emb.transform([image_folder.paths[0], missing, image_folder.paths[1]])
    assert info.value.row == 1 and "nowhere.png" in info.value.source
    with pytest.raises(ImageReadError, match=r"row 2 .*broken\.jpg"):
        emb.transform(image_folder.paths[:2] + [str(corrupt)])


def test_oom_batches_are_split_and_no_row_is_lost(
    tiny_clip_kwargs, image_folder, monkeypatch
):
    texts = [f"word number {i}" for i in range(11)]
    text_emb = CLIPEmbedder(batch_size=8, **tiny_clip_kwargs)
    img_emb = CLIPEmbedder(
        modality="image", batch_size=8, num_workers=0, **tiny_clip_kwargs
    )
    want_t = text_emb.transform(texts)
    want_i = img_emb.transform(image_folder.paths)

    sizes = []
    real_text = _clip.text.CausalTextTower.__call__

    def flaky_text(self, tokens):
        sizes.append(tokens.shape[0])
        if tokens.shape[0] > 3:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_text(self, tokens)

    monkeypatch.setattr(_clip.text.CausalTextTower, "__call__", flaky_text)
    got_t = text_emb.transform(texts)
    np.testing.assert_allclose(got_t, want_t, atol=1e-6)
    # 8 fails, 4 fails, then pieces of 2, also for the next batch
    assert sizes[:3] == [8, 4, 2] and max(sizes[3:]) == 2

    model = img_emb.get_model().model
    real_image = model.encode_image

    def flaky_image(x, normalize=False):
        if x.shape[0] > 2:
            raise RuntimeError("MPS backend out of memory (simulated)")
        return real_image(x, normalize=normalize)

    monkeypatch.setattr(model, "encode_image", flaky_image)
    np.testing.assert_allclose(img_emb.transform(image_folder.paths), want_i, atol=1e-6)

    # an OOM on a single row, or any other error, is raised
    monkeypatch.setattr(
        model,
        "encode_image",
        lambda x, normalize=False: (_ for _ in ()).throw(
            torch.cuda.OutOfMemoryError("out of memory")
        ),
    )
    with pytest.raises(torch.cuda.OutOfMemoryError):
        img_emb.transform(image_folder.paths[:3])
    monkeypatch.setattr(
        model,
        "encode_image",
        lambda x, normalize=False: (_ for _ in ()).throw(
            RuntimeError("shape mismatch")
        ),
    )
    with pytest.raises(RuntimeError, match="shape mismatch"):
        img_emb.transform(image_folder.paths[:3])


def test_progress_bar_only_when_verbose(tiny_clip_kwargs, capsys):
    texts = [f"t{i}" for i in range(7)]
    CLIPEmbedder(batch_size=2, **tiny_clip_kwargs).transform(texts)
    assert "CLIPEmbedder" not in capsys.readouterr().err
    CLIPEmbedder(batch_size=2, verbose=True, **tiny_clip_kwargs).transform(texts)
    assert "CLIPEmbedder" in capsys.readouterr().err


# --------------------------------------------------------------------- inputs, errors


def test_input_containers_agree(tiny_clip_kwargs):
    words = ["dog", "cat", "a red car"]
    emb = CLIPEmbedder(**tiny_clip_kwargs)
    ref = emb.transform(words)
    for X in (
        tuple(words),
        np.array(words),
        np.array(words, dtype=object).reshape(-1, 1),
        pd.Series(words, index=[10, 11, 12]),
        pd.DataFrame({"word": words}),
        pd.Series(words, dtype="string"),
    ):
        np.testing.assert_array_equal(emb.transform(X), ref)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (["dog", 3, "cat"], TypeError, "Row 1 holds a int"),
        (["dog", None], ValueError, "Missing value .* row 1"),
        (["dog", np.nan], ValueError, "Missing value .* row 1"),
        ("dog", TypeError, "wrap it in a list"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), ValueError, "one column"),
        (np.array([["a", "b"]]), ValueError, "1-d array"),
        (42, TypeError, "expects a list"),
    ],
)
def test_bad_text_inputs(tiny_clip_kwargs, X, error, match):
    with pytest.raises(error, match=match):
        CLIPEmbedder(**tiny_clip_kwargs).transform(X)


def test_empty_input_fit_raises_transform_gives_no_rows(tiny_clip_kwargs):
    # fit needs data to check; transform of nothing is nothing (an empty
    # partition of a Dask collection), of the embedding width.
    with pytest.raises(ValueError, match="empty input"):
        CLIPEmbedder(**tiny_clip_kwargs).fit([])
    for modality in ("text", "image"):
        E = CLIPEmbedder(modality=modality, **tiny_clip_kwargs).transform([])
        assert E.shape == (0, 64) and E.dtype == np.float32


@pytest.mark.parametrize(
    "X, error, match",
    [
        ([np.zeros((4, 4, 3), np.float32)], TypeError, "dtype uint8"),
        ([3.5], TypeError, "Row 0 holds a float"),
        (np.zeros((8, 8, 3), np.uint8), ValueError, "list of images"),
        ([None], ValueError, "Missing value"),
    ],
)
def test_bad_image_inputs(tiny_clip_kwargs, X, error, match):
    with pytest.raises(error, match=match):
        CLIPEmbedder(modality="image", **tiny_clip_kwargs).transform(X)


def test_bad_parameters_are_explained(tmp_path):
    with pytest.raises(InvalidParameterError, match="modality"):
        tiny(modality="audio").fit(["dog"])
    with pytest.raises(
        ValueError, match=r"Unknown open_clip model_name.*sklearn-pos-tiny"
    ):
        tiny(model_name="sklearn-pos-tiy").fit(["dog"])
    with pytest.raises(ValueError, match=r"nor a known tag.*openai"):
        tiny(model_name="ViT-B-32", pretrained="opena").fit(["dog"])
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        tiny(pretrained=str(tmp_path / "weights.pt")).fit(["dog"])
    with pytest.raises(ValueError, match="pass it as pretrained"):
        tiny(model_name="hf-hub:org/repo").fit(["dog"])
    with pytest.raises(FileNotFoundError, match="open_clip_config.json"):
        tiny(pretrained=f"local-dir:{tmp_path}").fit(["dog"])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            tiny(device="cuda").fit(["dog"])


# ------------------------------------------------------------- scikit-learn citizen


def test_init_does_nothing_and_clone_keeps_params():
    before = len(_clip.models._MODEL_CACHE)
    emb = CLIPEmbedder("no-such-model", "no-such-tag", modality="image", batch_size=7)
    assert len(_clip.models._MODEL_CACHE) == before
    assert clone(emb).get_params() == emb.get_params()
    assert not [k for k in vars(emb) if k.endswith("_")]


def test_fit_records_metadata_only(tiny_clip_kwargs):
    emb = CLIPEmbedder(**tiny_clip_kwargs)
    names_unfitted = emb.get_feature_names_out()
    emb.fit(pd.DataFrame({"word": ["x", "y"]}))
    assert emb.embedding_dim_ == 64 and emb.device_ == "cpu" and emb.n_features_in_ == 1
    assert list(emb.feature_names_in_) == ["word"]
    names = emb.get_feature_names_out()
    assert list(names[:2]) == ["clipembedder0", "clipembedder1"] and len(names) == 64
    np.testing.assert_array_equal(names, names_unfitted)
    # fitting on other data changes nothing in the output
    other = CLIPEmbedder(**tiny_clip_kwargs).fit(["something else entirely"])
    np.testing.assert_array_equal(other.transform(["dog"]), emb.transform(["dog"]))
    emb.fit(["no name"])
    assert not hasattr(emb, "feature_names_in_")


def test_set_output_pandas_keeps_index(tiny_clip_kwargs):
    emb = CLIPEmbedder(**tiny_clip_kwargs).set_output(transform="pandas")
    X = pd.Series(["dog", "cat"], index=["a", "b"], name="word")
    out = emb.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == ["a", "b"] and out.columns[0] == "clipembedder0"
    assert out.shape == (2, 64)


def test_tags_are_honest():
    tags = CLIPEmbedder().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert not tags.requires_fit and tags.transformer_tags.preserves_dtype == []
    assert not CLIPEmbedder(device="cpu").__sklearn_tags__().non_deterministic
    assert CLIPEmbedder(device="cuda").__sklearn_tags__().non_deterministic


def test_model_shared_across_clones_and_grid_search(tiny_clip_kwargs, monkeypatch):
    clear_caches()
    builds = []
    real_build = _clip.models._build
    monkeypatch.setattr(
        _clip.models, "_build", lambda *a: builds.append(a) or real_build(*a)
    )
    words = ["dog", "cat", "horse", "cow", "red", "blue", "green", "tall"] * 2
    y = [0, 0, 0, 0, 1, 1, 1, 1] * 2
    pipe = make_pipeline(CLIPEmbedder(**tiny_clip_kwargs), LogisticRegression())
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=2)
    search.fit(words, y)
    # the image tower of the same weights is the same model too
    CLIPEmbedder(modality="image", **tiny_clip_kwargs).transform(
        [np.zeros((9, 9, 3), np.uint8)]
    )
    assert len(builds) == 1
    other_seed = CLIPEmbedder(random_state=1, **tiny_clip_kwargs)
    assert not np.allclose(other_seed.transform(["dog"]), pipe[0].transform(["dog"]))
    assert len(builds) == 2
    assert clear_caches()["models"] == 2 and not len(_clip.models._MODEL_CACHE)


def test_pickle_is_small_and_reloads(tiny_clip_kwargs):
    emb = CLIPEmbedder(**tiny_clip_kwargs).fit(["dog"])
    want = emb.transform(TEXTS)
    blob = pickle.dumps(emb)
    assert len(blob) < 10_000  # the tiny model's weights alone are ~14 MB
    clear_caches()
    back = pickle.loads(blob)
    assert back.embedding_dim_ == 64
    np.testing.assert_array_equal(back.transform(TEXTS), want)


def test_import_is_light_and_random_weights_reproducible_across_processes():
    code = textwrap.dedent(
        """
        import json, sys
        import sklearn_pos, sklearn_pos.embedding
        heavy = sorted(
            m for m in ("torch", "open_clip", "PIL", "transformers")
            if m in sys.modules
        )
        from sklearn_pos.embedding import CLIPEmbedder
        emb = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu")
        E = emb.transform(["dog", "a cat"])
        print(json.dumps({"heavy": heavy, "E": E.tolist()}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    np.testing.assert_array_equal(
        np.asarray(out["E"], np.float32), tiny().transform(["dog", "a cat"])
    )


# ---------------------------------------------------------------- weights, checkpoints


@pytest.fixture
def tiny_checkpoint(tmp_path):
    model = tiny().get_model().model
    path = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), path)
    return path


def test_reload_from_checkpoint_and_local_dir(tiny_checkpoint, tmp_path):
    want_t = tiny().transform(TEXTS)
    img = [np.arange(300, dtype=np.uint8).reshape(10, 10, 3)]
    want_i = tiny(modality="image").transform(img)
    for pretrained in (str(tiny_checkpoint), tiny_checkpoint):
        np.testing.assert_array_equal(
            tiny(pretrained=pretrained).transform(TEXTS), want_t
        )
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": _TINY_CFG}))
    (folder / "open_clip_pytorch_model.bin").write_bytes(tiny_checkpoint.read_bytes())
    local = tiny(model_name="ignored", pretrained=f"local-dir:{folder}")
    np.testing.assert_array_equal(local.transform(TEXTS), want_t)
    np.testing.assert_allclose(
        local.set_params(modality="image").transform(img), want_i, atol=1e-6
    )


def test_tag_applies_quick_gelu_and_preprocessing(tiny_checkpoint, monkeypatch):
    from open_clip.transformer import QuickGELU

    tag_cfg = {
        "file": str(tiny_checkpoint),
        "mean": (0.5, 0.5, 0.5),
        "std": (0.25, 0.25, 0.25),
        "interpolation": "bilinear",
        "resize_mode": "squash",
        "quick_gelu": True,
    }
    monkeypatch.setitem(open_clip.pretrained._PRETRAINED, TINY, {"testtag": tag_cfg})
    emb = tiny(pretrained="testtag")
    bundle = emb.get_model()
    assert any(isinstance(m, QuickGELU) for m in bundle.model.modules())
    assert tuple(bundle.model.visual.preprocess_cfg["mean"]) == (0.5, 0.5, 0.5)
    assert bundle.model.visual.preprocess_cfg["resize_mode"] == "squash"
    # equals open_clip's own model with QuickGELU forced, differs from plain GELU
    ref = open_clip.create_model(
        TINY, pretrained=str(tiny_checkpoint), force_quick_gelu=True
    )
    with torch.no_grad():
        want = ref.eval().encode_text(bundle.tokenizer(TEXTS), normalize=True).numpy()
    got = emb.transform(TEXTS)
    assert cosine_rows(got, want).min() >= 1 - 1e-5
    assert (
        cosine_rows(got, tiny(pretrained=str(tiny_checkpoint)).transform(TEXTS)).min()
        < 0.99999
    )


def test_openai_tag_resolves_to_quick_gelu_and_openai_preprocessing(monkeypatch):
    from open_clip.constants import OPENAI_DATASET_MEAN

    asked = []
    monkeypatch.setattr(
        _clip.weights,
        "_hub_cached",
        lambda repo, names: asked.append((repo, names)) or "/w.bin",
    )
    monkeypatch.setattr(_clip.weights, "_TAG_FILES", BoundedCache("tag_files", 8))
    spec = _clip.resolve_weights("ViT-B-32", "openai")
    assert spec.quick_gelu and spec.checkpoint == "/w.bin"
    assert dict(spec.preprocess)["mean"] == tuple(OPENAI_DATASET_MEAN)
    assert dict(spec.preprocess)["interpolation"] == "bicubic"
    assert asked[0][0] == "timm/vit_base_patch32_clip_224.openai"


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(_clip.weights, "_TAG_FILES", BoundedCache("tag_files", 8))
    return tmp_path / "hub"


def test_offline_tag_fails_fast_with_instructions(offline_hub):
    start = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as info:
        CLIPEmbedder("ViT-B-32", "laion2b_s34b_b79k", device="cpu").fit(["dog"])
    assert time.perf_counter() - start < 5
    msg = str(info.value)
    assert "ViT-B-32" in msg and "laion2b_s34b_b79k" in msg
    assert "pretrained='/path/to/checkpoint" in msg and "local-dir:" in msg


def test_offline_tag_uses_cached_weights(offline_hub):
    snap = _fake_hub_repo(
        offline_hub,
        "timm/vit_base_patch32_clip_224.openai",
        {"open_clip_model.safetensors": b"not read here"},
    )
    spec = _clip.resolve_weights("ViT-B-32", "openai")
    assert Path(spec.checkpoint) == snap / "open_clip_model.safetensors"


def _fake_hub_repo(cache, repo_id, files):
    """Lay out files as the Hugging Face cache stores a downloaded repository."""
    commit = "89abcdef0123456789abcdef0123456789abcdef"
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    for name, data in files.items():
        (snap / name).write_bytes(data)
    return snap


def test_hf_hub_id_loads_from_local_cache(offline_hub, tiny_checkpoint):
    config = {
        "model_cfg": _TINY_CFG,
        "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3},
    }
    _fake_hub_repo(
        offline_hub,
        "someone/tiny-clip",
        {
            "open_clip_config.json": json.dumps(config).encode(),
            "open_clip_pytorch_model.bin": tiny_checkpoint.read_bytes(),
        },
    )
    emb = tiny(pretrained="hf-hub:someone/tiny-clip")
    # cached files are loaded from their snapshot folder, without asking the hub
    assert emb._spec().model_name.startswith("local-dir:")
    np.testing.assert_array_equal(emb.transform(TEXTS), tiny().transform(TEXTS))
    assert tuple(emb.get_model().model.visual.preprocess_cfg["mean"]) == (0.5, 0.5, 0.5)
    with pytest.raises(WeightsUnavailableError, match="hf-hub:someone/other"):
        tiny(pretrained="hf-hub:someone/other").fit(["dog"])


@pytest.mark.parametrize("switch", ["constant", "environment"])
def test_offline_error_carries_source_and_reason(offline_hub, monkeypatch, switch):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if switch == "environment":  # set after huggingface_hub was imported
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(WeightsUnavailableError) as info:
        CLIPEmbedder("ViT-B-32", "laion2b-s34b-b79k", device="cpu").fit(["dog"])
    exc = info.value
    assert exc.source == "hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
    assert exc.reason == "offline mode is enabled (HF_HUB_OFFLINE=1)"
    assert f"from {exc.source}: {exc.reason}." in str(exc)
    # attributes survive pickling (errors travel back from joblib workers)
    back = pickle.loads(pickle.dumps(exc))
    assert (type(back), str(back)) == (type(exc), str(exc))
    assert (back.source, back.reason) == (exc.source, exc.reason)


def test_unavailable_url_and_file_tags_name_their_source(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty ~/.cache/clip
    url = "http://127.0.0.1:9/weights.pt"
    missing = str(tmp_path / "gone.pt")
    monkeypatch.setitem(
        open_clip.pretrained._PRETRAINED,
        TINY,
        {"urltag": {"url": url}, "filetag": {"file": missing}},
    )
    monkeypatch.setattr(_clip.weights, "_TAG_FILES", BoundedCache("tag_files", 8))
    start = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as info:
        _clip.resolve_weights(TINY, "urltag")
    assert time.perf_counter() - start < 5
    assert info.value.source == url and info.value.reason
    assert f"from {url}: {info.value.reason}." in str(info.value)
    with pytest.raises(WeightsUnavailableError) as info:
        _clip.resolve_weights(TINY, "filetag")
    assert (info.value.source, info.value.reason) == (
        missing,
        "the file does not exist",
    )


def test_hf_hub_error_names_the_repository(offline_hub):
    with pytest.raises(WeightsUnavailableError) as info:
        tiny(pretrained="hf-hub:someone/other").fit(["dog"])
    assert info.value.source == "hf-hub:someone/other"
    assert "offline mode" in info.value.reason


def test_local_dir_checkpoint_choice(tmp_path):
    from sklearn_pos._clip.weights import find_checkpoint

    def choice(*names):
        folder = tmp_path / "-".join(names)
        folder.mkdir()
        for name in names:
            (folder / name).write_bytes(b"")
        return Path(find_checkpoint(folder)).name

    assert choice("b.bin", "a.pth") == "a.pth"
    assert choice("z.safetensors", "a.bin") == "z.safetensors"
    assert choice("x.safetensors", "pytorch_model.bin") == "pytorch_model.bin"
    assert (
        choice("open_clip_pytorch_model.bin", "open_clip_model.safetensors")
        == "open_clip_model.safetensors"
    )
    (tmp_path / "empty").mkdir()
    assert find_checkpoint(tmp_path / "empty") is None
    # the same file open_clip picks itself, where its helper is still available
    theirs = getattr(open_clip.factory, "_find_checkpoint_in_dir", None)
    if theirs is not None:
        for folder in tmp_path.iterdir():
            assert find_checkpoint(folder) == theirs(folder)


def test_image_read_error_pickles_with_its_attributes():
    exc = ImageReadError("Could not read row 3", row=3, source="'x.png'")
    back = pickle.loads(pickle.dumps(exc))
    assert (str(back), back.row, back.source) == (str(exc), 3, "'x.png'")


def _open_clip_privates(source):
    """``(line, name)`` of every open_clip private name that ``source`` uses."""
    import ast

    tree = ast.parse(source)
    bound = set()  # local names of open_clip modules and objects
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "open_clip":
                    bound.add(alias.asname or parts[0])
                    found += [(node.lineno, p) for p in parts if p.startswith("_")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            parts = (node.module or "").split(".")
            if parts[0] == "open_clip":
                names = [a.name for a in node.names]
                bound.update(a.asname or a.name for a in node.names)
                found += [(node.lineno, p) for p in parts + names if p.startswith("_")]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                found.append((node.lineno, node.attr))
    return sorted(found)


def test_no_open_clip_private_names_in_the_package():
    bad = textwrap.dedent(
        """
        import open_clip
        from open_clip import pretrained as oc
        from open_clip.factory import _find_checkpoint_in_dir
        from .models import _build
        oc._clean_tag("x"), open_clip.pretrained._PRETRAINED, _build.__name__
        """
    )
    assert _open_clip_privates(bad) == [
        (4, "_find_checkpoint_in_dir"),
        (6, "_PRETRAINED"),
        (6, "_clean_tag"),
    ]
    found = {
        str(path.relative_to(REPO_ROOT)): _open_clip_privates(path.read_text("utf-8"))
        for path in sorted((REPO_ROOT / "sklearn_pos").rglob("*.py"))
    }
    assert {name: hits for name, hits in found.items() if hits} == {}
    assert "sklearn_pos/_clip/weights.py" in found


def test_unreachable_hub_fails_within_seconds(tmp_path):
    code = textwrap.dedent(
        """
        import time
        import open_clip  # importing torch is not what is timed
        from sklearn_pos.embedding import CLIPEmbedder, WeightsUnavailableError
        start = time.perf_counter()
        try:
            CLIPEmbedder("ViT-B-32", "laion2b_s34b_b79k", device="cpu").fit(["dog"])
        except WeightsUnavailableError as exc:
            print("ERROR", round(time.perf_counter() - start, 2), str(exc))
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "HOME": str(tmp_path),
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_CACHE": str(tmp_path / "hf" / "hub"),
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "HF_HUB_OFFLINE": "0",
    }
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip().splitlines()[-1]
    assert line.startswith("ERROR"), res.stdout + res.stderr
    assert float(line.split()[1]) < 10
    assert "unreachable" in line and "local-dir:" in line


# ------------------------------------------------------------------- on-disk cache


def test_memory_cache_skips_the_model(
    tiny_clip_kwargs, tmp_path, monkeypatch, image_folder
):
    import joblib

    calls = []
    real_t, real_i = _clip.encode_texts, _clip.encode_images
    monkeypatch.setattr(
        _clip, "encode_texts", lambda *a, **k: calls.append("t") or real_t(*a, **k)
    )
    monkeypatch.setattr(
        _clip, "encode_images", lambda *a, **k: calls.append("i") or real_i(*a, **k)
    )

    emb = CLIPEmbedder(memory=str(tmp_path / "cache"), **tiny_clip_kwargs)
    first = emb.transform(TEXTS)
    again = clone(emb).transform(TEXTS)
    np.testing.assert_array_equal(first, again)
    assert calls == ["t"]
    clone(emb).set_params(normalize=False).transform(TEXTS)
    assert calls == ["t", "t"]
    # per item: a reordered subset is served from the store, a superset
    # encodes only its new items
    np.testing.assert_array_equal(
        clone(emb).transform(TEXTS[:3][::-1]), first[:3][::-1]
    )
    assert calls == ["t", "t"]
    encoded = []
    monkeypatch.setattr(
        _clip,
        "encode_texts",
        lambda loaded, texts, **k: (
            encoded.append(list(texts)) or real_t(loaded, texts, **k)
        ),
    )
    more = clone(emb).transform(list(TEXTS) + ["an unseen text"])
    assert encoded == [["an unseen text"]]
    np.testing.assert_array_equal(more[: len(TEXTS)], first)
    calls.append("t")
    # a joblib.Memory works the same and shares the folder
    mem = joblib.Memory(str(tmp_path / "cache"), verbose=0)
    np.testing.assert_array_equal(
        CLIPEmbedder(memory=mem, **tiny_clip_kwargs).transform(TEXTS), first
    )
    assert calls == ["t", "t", "t"]

    # images: keyed by path, size and modification time
    img_path = tmp_path / "one.png"
    Image.open(image_folder.paths[0]).save(img_path)
    img = CLIPEmbedder(modality="image", memory=mem, **tiny_clip_kwargs)
    img.transform([str(img_path)])
    img.transform([str(img_path)])
    assert calls.count("i") == 1
    Image.open(image_folder.paths[3]).save(img_path)
    os.utime(img_path, ns=(time.time_ns(), time.time_ns() + 10**9))
    img.transform([str(img_path)])
    assert calls.count("i") == 2


def test_store_follows_content_not_names_or_mtimes(
    tiny_clip_kwargs, tmp_path, monkeypatch, image_folder
):
    encoded = []
    real = _clip.encode_images
    monkeypatch.setattr(
        _clip,
        "encode_images",
        lambda loaded, items, *a, **k: (
            encoded.append(len(items)) or real(loaded, items, *a, **k)
        ),
    )
    img = CLIPEmbedder(
        modality="image", memory=tmp_path / "store", num_workers=0, **tiny_clip_kwargs
    )
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.open(image_folder.paths[0]).save(a)
    first = img.transform([str(a)])
    shutil.copy(a, b)  # the same bytes under another name: served from the store
    np.testing.assert_array_equal(img.transform([str(b)]), first)
    assert encoded == [1]
    # a rewrite with the same size and modification time, as `cp -p` leaves
    # it: uncompressed BMPs of one size have one file size
    c = tmp_path / "c.bmp"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(c)
    before = img.transform([str(c)])
    st = os.stat(c)
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(c)
    os.utime(c, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(c).st_size == st.st_size
    after = img.transform([str(c)])
    assert encoded == [1, 1, 1]
    assert not np.array_equal(before, after)
    # an in-memory image is keyed by its pixels and mode
    pil = Image.open(image_folder.paths[0]).convert("RGB")
    img.transform([pil])
    img.transform([pil.copy()])
    assert encoded == [1, 1, 1, 1]


def test_grid_search_encodes_each_item_once(tiny_clip_kwargs, tmp_path, monkeypatch):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    encoded = []
    real = _clip.encode_texts
    monkeypatch.setattr(
        _clip,
        "encode_texts",
        lambda loaded, texts, **k: (
            encoded.append(len(texts)) or real(loaded, texts, **k)
        ),
    )
    words = [f"word number {i}" for i in range(60)]
    y = np.arange(60) % 2
    emb = CLIPEmbedder(memory=tmp_path / "store", **tiny_clip_kwargs)
    search = GridSearchCV(
        make_pipeline(emb, LogisticRegression()),
        {"logisticregression__C": [0.1, 1.0, 10.0]},
        cv=3,
    )
    search.fit(words, y)
    assert sum(encoded) == len(words)


def test_an_unusable_memory_folder_fails_naming_it(tiny_clip_kwargs, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for bad in (str(a_file), "/proc/x"):
        with pytest.raises(ValueError, match=f"memory='{bad}'"):
            CLIPEmbedder(memory=bad, **tiny_clip_kwargs).transform(["dog"])


_WARM_RUN = textwrap.dedent(
    """
    import json, sys
    from sklearn_pos import CLIPEmbedder
    store, pretrained = sys.argv[1], sys.argv[2]
    emb = CLIPEmbedder("sklearn-pos-tiny", None if pretrained == "none" else pretrained,
                       device="cpu", memory=store)
    E = emb.transform(["dog", "cat", "a red car"])
    print(json.dumps({"torch": "torch" in sys.modules, "E": E.tolist()}))
    """
)


def _warm_run(store, pretrained="none"):
    res = subprocess.run(
        [sys.executable, "-c", _WARM_RUN, str(store), str(pretrained)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    return out["torch"], np.asarray(out["E"], dtype=np.float32)


def test_a_warm_store_serves_a_new_process_without_torch(tmp_path):
    cold_torch, cold = _warm_run(tmp_path / "store")
    warm_torch, warm = _warm_run(tmp_path / "store")
    assert cold_torch and not warm_torch
    np.testing.assert_array_equal(warm, cold)
    np.testing.assert_array_equal(warm, tiny().transform(["dog", "cat", "a red car"]))


def test_a_checkpoint_rewritten_in_place_is_never_served_stale(tmp_path):
    # Two checkpoints of one architecture: equal sizes, different weights.
    # (torch.save records the file's name in the archive: keep one name)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "weights.pt", tmp_path / "b" / "weights.pt"
    torch.save(tiny().get_model().model.state_dict(), first)
    torch.save(tiny(random_state=1).get_model().model.state_dict(), second)
    assert first.stat().st_size == second.stat().st_size
    ckpt = tmp_path / "weights.pt"
    shutil.copy(first, ckpt)
    store = tmp_path / "store"
    _, before = _warm_run(store, ckpt)
    warm_torch, again = _warm_run(store, ckpt)
    assert not warm_torch
    np.testing.assert_array_equal(again, before)
    # overwrite in place, restoring size and modification time (as cp -p does)
    st = ckpt.stat()
    ckpt.write_bytes(second.read_bytes())
    os.utime(ckpt, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (ckpt.stat().st_size, ckpt.stat().st_mtime_ns) == (
        st.st_size,
        st.st_mtime_ns,
    )
    reloaded_torch, after = _warm_run(store, ckpt)
    assert reloaded_torch
    clear_caches()
    want = tiny(pretrained=str(second)).transform(["dog", "cat", "a red car"])
    np.testing.assert_array_equal(after, want)
    assert not np.allclose(after, before)


# --------------------------------------------------------------------------- #
# Rough edges: images, memory, long texts, unreadable weights
# --------------------------------------------------------------------------- #
def _asymmetric_image(width=24, height=12):
    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 256, size=(height, width, 3), dtype=np.uint8)
    pixels[:, : width // 3] = (250, 10, 10)  # a red left edge
    return Image.fromarray(pixels)


def test_exif_orientation_of_a_pil_image_is_applied(tiny_image_embedder, tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: displayed turned by 90 degrees
    path = tmp_path / "rotated.png"
    _asymmetric_image().save(path, exif=exif)
    by_path = tiny_image_embedder.transform([str(path)])
    with Image.open(path) as img:
        in_memory = tiny_image_embedder.transform([img])
    np.testing.assert_allclose(in_memory, by_path, atol=1e-6)
    as_stored = tiny_image_embedder.transform([_asymmetric_image()])
    assert cosine_rows(as_stored, by_path)[0] < 0.9999


def test_premultiplied_luminance_alpha_image(tiny_image_embedder):
    la = Image.merge(
        "LA", [_asymmetric_image().convert("L"), Image.new("L", (24, 12), 255)]
    )
    premultiplied = la.convert("La")
    np.testing.assert_allclose(
        tiny_image_embedder.transform([premultiplied]),
        tiny_image_embedder.transform([la]),
        atol=1e-6,
    )


def test_empty_images_are_named(tiny_image_embedder):
    with pytest.raises(
        ValueError, match=r"Row 1 is an empty image array \(shape \(0, 0, 3\)"
    ):
        tiny_image_embedder.transform(
            [np.zeros((4, 4, 3), np.uint8), np.zeros((0, 0, 3), np.uint8)]
        )
    with pytest.raises(
        ImageReadError, match=r"row 0 .*the image is empty \(0x5 pixels\)"
    ):
        tiny_image_embedder.transform([Image.new("RGB", (0, 5))])


def test_an_unusable_memory_folder_fails_before_the_model_loads():
    # The model name is unknown too: the memory folder is the first thing checked.
    emb = CLIPEmbedder("no-such-model", None, device="cpu", memory="/proc/x")
    with pytest.raises(ValueError, match="memory='/proc/x' cannot be used"):
        emb.fit(["dog"])


def test_texts_longer_than_the_context_warn_once_with_the_count(tiny_text_embedder):
    context = tiny_text_embedder.get_model().tokenizer.context_length
    fits = " ".join(["dog"] * (context - 2))  # start and end tokens fill the rest
    too_long = [" ".join(["dog"] * context), "cat " * 200]
    with pytest.warns(UserWarning, match=f"2 of 4 text.*context of {context} tokens"):
        tiny_text_embedder.transform(["dog", fits, *too_long])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny_text_embedder.transform(["dog", fits])


def _tiny_state_dict():
    model = tiny().get_model().model
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", r"empty file \(0 bytes\)"),
        (
            b"\x80\x02not a pickle at all" * 10,
            "Could not load the weights file '.*bad.pt'",
        ),
        (b"hello\n", "Could not load the weights file '.*bad.pt'"),
    ],
    ids=["zero bytes", "garbage", "text"],
)
def test_an_unreadable_checkpoint_names_the_file(tmp_path, content, match):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        tiny(pretrained=str(path)).fit(["dog"])
    assert "weights_only=False" not in str(info.value)
    assert "weights_only` set to `False" not in str(info.value)


def test_a_checkpoint_of_another_architecture_names_the_keys(tmp_path):
    path = tmp_path / "other.pt"
    state = _tiny_state_dict()
    state["extra.weight"] = torch.zeros(2)
    del state["positional_embedding"]
    torch.save(state, path)
    with pytest.raises(
        ValueError,
        match=r"weights in '.*other.pt' do not fit the architecture 'sklearn-pos-tiny'"
        r".*1 missing \(e.g. 'positional_embedding'\), 1 unexpected \(e.g. 'extra.weight'\)",
    ):
        tiny(pretrained=str(path)).fit(["dog"])


def test_a_folder_given_as_pretrained_suggests_local_dir(tmp_path):
    (tmp_path / "open_clip_pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(
        ValueError, match=rf"is a folder.*pretrained='local-dir:{tmp_path}'"
    ):
        tiny(pretrained=str(tmp_path)).fit(["dog"])


def test_progress_bar_ends_at_the_number_of_rows(tmp_path):
    # 40 rows, 30 distinct texts: the bar counts the rows passed, also when
    # some come from the store and when the vocabulary step embeds its words.
    code = textwrap.dedent(
        """
        import re, sys
        from sklearn_pos import CLIPEmbedder, VocabularyPartOfSpeechAnalysis
        words = [f"word {i}" for i in range(30)] + [f"word {i}" for i in range(10)]
        kw = dict(device="cpu", batch_size=8, verbose=True)
        emb = CLIPEmbedder("sklearn-pos-tiny", None, **kw)
        for name, run in [
            ("plain", lambda: emb.transform(words)),
            ("store", lambda: emb.set_params(memory=sys.argv[1]).transform(words[:15])),
            ("partly stored", lambda: emb.transform(words)),
            ("vocabulary", lambda: VocabularyPartOfSpeechAnalysis(
                vocabulary=(words, ["noun", "adj"] * 20),
                text_embedder=emb.set_params(memory=None),
                n_components=2,
            ).fit()),
        ]:
            print(f"@@{name}@@", file=sys.stderr, flush=True)
            run()
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        # tqdm draws every update, so the last count drawn is the final one.
        "TQDM_MININTERVAL": "0",
        "TQDM_MINITERS": "1",
    }
    res = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert res.returncode == 0, res.stderr
    pieces = re.split(r"@@([a-z ]+)@@", res.stderr)
    parts = dict(zip(pieces[1::2], pieces[2::2]))
    assert list(parts) == ["plain", "store", "partly stored", "vocabulary"]
    for name, expected in [("plain", 40), ("partly stored", 40), ("vocabulary", 40)]:
        counts = re.findall(r"(\d+)/(\d+) \[", parts[name])
        assert counts, f"{name}: no progress bar drawn"
        assert {int(total) for _, total in counts} == {expected}, name
        assert int(counts[-1][0]) == expected, name
    # The partly stored run starts at the rows of the 15 stored texts: 25, as
    # "word 0" to "word 9" are given twice.
    first = re.findall(r"(\d+)/40 \[", parts["partly stored"])[0]
    assert int(first) == 25
