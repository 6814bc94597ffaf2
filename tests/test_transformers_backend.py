"""The Hugging Face transformers backend: CLIP and SigLIP, exact and offline.

Tiny random models are built from small configs while the tests run, and saved
with ``save_pretrained`` (nothing is downloaded): a ``CLIPModel`` whose
``CLIPTokenizer`` vocabulary is open_clip's bundled BPE file, and a
``SiglipModel`` with a sentencepiece tokenizer trained here on a few words.
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("open_clip")
pytest.importorskip("sentencepiece")
pytest.importorskip("google.protobuf")

import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402

from sklearn_pos import CLIPEmbedder, WeightsUnavailableError  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]

TEXTS = [
    "dog",
    "a photo of a red car parked by the green house",
    "A Happy bird",
    "the big tree is flying over the blue water quickly",
    "cat",
]

WORDS = (
    "dog cat car red blue green photo of a the running quickly happy tree house "
    "big small bird flying water is over by parked"
).split()


def _clip_vocab(folder):
    """vocab.json and merges.txt as open_clip's SimpleTokenizer builds its BPE."""
    from open_clip.tokenizer import bytes_to_unicode, default_bpe

    lines = gzip.open(default_bpe()).read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in lines[1 : 49152 - 256 - 2 + 1]]
    vocab = list(bytes_to_unicode().values())
    vocab += [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(
        json.dumps({t: i for i, t in enumerate(vocab)}), encoding="utf-8"
    )
    (folder / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n",
        encoding="utf-8",
    )
    return folder / "vocab.json", folder / "merges.txt"


def save_tiny_clip(folder, tok_folder, seed=0, eos_token_id=49407):
    """A small random CLIPModel with its processor, saved in ``folder``.

    ``eos_token_id=2`` is the value in the configs of the first hub checkpoints
    (``openai/clip-vit-base-patch32``), for which transformers pools at the
    largest token id instead of the first end-of-text token.
    """
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizer,
    )

    tok_folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = _clip_vocab(tok_folder)
    tokenizer = CLIPTokenizer(
        str(vocab), str(merges), pad_token="<|endoftext|>", model_max_length=77
    )
    config = CLIPConfig(
        text_config=dict(
            vocab_size=49408,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=77,
            bos_token_id=49406,
            eos_token_id=eos_token_id,
            pad_token_id=49407,
        ),
        vision_config=dict(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=32,
            patch_size=8,
        ),
        projection_dim=16,
    )
    torch.manual_seed(seed)
    model = CLIPModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(
        folder
    )
    return model


def save_tiny_siglip(folder, tok_folder, seed=0):
    """A small random SiglipModel with a sentencepiece tokenizer trained here."""
    import sentencepiece as spm
    from transformers import (
        SiglipConfig,
        SiglipImageProcessor,
        SiglipModel,
        SiglipProcessor,
        SiglipTokenizer,
    )

    tok_folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sentences = [" ".join(rng.choice(WORDS, 7)) for _ in range(300)]
    prefix = str(tok_folder / "spm")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=prefix,
        vocab_size=64,
        hard_vocab_limit=False,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
        minloglevel=2,
    )
    tokenizer = SiglipTokenizer(vocab_file=prefix + ".model", model_max_length=64)
    config = SiglipConfig(
        text_config=dict(
            vocab_size=64,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
            pad_token_id=0,
            eos_token_id=1,
            bos_token_id=1,
        ),
        vision_config=dict(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=32,
            patch_size=8,
        ),
    )
    torch.manual_seed(seed)
    model = SiglipModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    image_processor = SiglipImageProcessor(size={"height": 32, "width": 32})
    SiglipProcessor(
        image_processor=image_processor, tokenizer=tokenizer
    ).save_pretrained(folder)
    return model


def save_tiny_siglip2(folder, tok_folder, seed=0):
    """A small random Siglip2Model; its tokenizer spells words letter by letter.

    Patches of 16 pixels, at most 256 per image: the defaults its processor
    applies whatever the image processor's own settings.
    """
    import string

    from transformers import (
        Siglip2Config,
        Siglip2ImageProcessor,
        Siglip2Model,
        Siglip2Processor,
        Siglip2Tokenizer,
    )

    vocab = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4}
    for ch in "\u2581" + string.ascii_lowercase + ".,":
        vocab[ch] = len(vocab)
    tokenizer = Siglip2Tokenizer(vocab=vocab, merges=[])
    config = Siglip2Config(
        text_config=dict(
            vocab_size=64,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
            pad_token_id=0,
            eos_token_id=1,
            bos_token_id=2,
        ),
        vision_config=dict(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            patch_size=16,
            num_patches=256,
        ),
    )
    torch.manual_seed(seed)
    model = Siglip2Model(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    image_processor = Siglip2ImageProcessor(patch_size=16, max_num_patches=256)
    Siglip2Processor(
        image_processor=image_processor, tokenizer=tokenizer
    ).save_pretrained(folder)
    return model


HAS_SIGLIP2 = hasattr(__import__("transformers"), "Siglip2Model")
KINDS = ["clip", "siglip"] + (["siglip2"] if HAS_SIGLIP2 else [])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf_models")
    out = {
        "clip": _saved(save_tiny_clip, root / "clip", root / "clip_tok"),
        "siglip": _saved(save_tiny_siglip, root / "siglip", root / "siglip_tok"),
    }
    if HAS_SIGLIP2:
        out["siglip2"] = _saved(save_tiny_siglip2, root / "siglip2", root / "s2_tok")
    return out


def _saved(build, folder, tok_folder):
    build(folder, tok_folder)
    return folder


def _reference(folder):
    """The saved model and processor, loaded by transformers itself."""
    from transformers import AutoModel, AutoProcessor

    model = AutoModel.from_pretrained(folder, use_safetensors=True).eval()
    return model, AutoProcessor.from_pretrained(folder)


def _features(out):
    return out if isinstance(out, torch.Tensor) else out.pooler_output


def _unit(x):
    x = x.detach().numpy()
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _images():
    rng = np.random.default_rng(0)
    from PIL import Image

    sizes = [(32, 32), (57, 40), (23, 71), (100, 64), (48, 48)]
    return [
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        for w, h in sizes
    ]


def _embedder(folder, **kw):
    kw.setdefault("device", "cpu")
    return CLIPEmbedder(str(folder), backend="transformers", **kw)


def test_clip_tokenizer_reproduces_open_clip_token_ids(models):
    import open_clip

    _, processor = _reference(models["clip"])
    ours = processor.tokenizer(TEXTS)["input_ids"]
    theirs = open_clip.get_tokenizer("ViT-B-32")(TEXTS)
    for row, ids in enumerate(ours):
        assert theirs[row, : len(ids)].tolist() == ids
        assert not theirs[row, len(ids) :].any()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_size", [2, 128])
def test_texts_equal_get_text_features(models, kind, batch_size):
    model, processor = _reference(models[kind])
    # SigLIP is fed as its processor pads (to 64); CLIP padded to the longest text
    padding = True if kind == "clip" else "max_length"
    inputs = processor(text=TEXTS, padding=padding, return_tensors="pt")
    with torch.inference_mode():
        want = _unit(_features(model.get_text_features(**inputs)))
    got = _embedder(models[kind], batch_size=batch_size).transform(TEXTS)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    assert np.abs(got - want).max() <= 1e-5


def test_clip_with_the_old_end_of_text_id_pools_as_transformers_does(tmp_path):
    folder = tmp_path / "old"
    save_tiny_clip(folder, tmp_path / "tok", eos_token_id=2)
    model, processor = _reference(folder)
    assert model.config.text_config.eos_token_id == 2
    inputs = processor(text=TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        want = _unit(_features(model.get_text_features(**inputs)))
    got = _embedder(folder, batch_size=2).transform(TEXTS)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_clip_cut_batches_equal_the_full_context(models):
    # the CLIP text tower runs each batch cut to its longest real text: the
    # same features as on the whole 77-token context
    model, processor = _reference(models["clip"])
    inputs = processor(text=TEXTS, padding="max_length", return_tensors="pt")
    assert inputs["input_ids"].shape[1] == 77
    with torch.inference_mode():
        want = _unit(_features(model.get_text_features(**inputs)))
    got = _embedder(models["clip"], batch_size=1).transform(TEXTS)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_images_equal_get_image_features(models, kind, tmp_path):
    model, processor = _reference(models[kind])
    images = _images()
    inputs = processor(images=images, return_tensors="pt")
    with torch.inference_mode():
        want = _unit(_features(model.get_image_features(**inputs)))
    emb = _embedder(models[kind], modality="image", batch_size=2, num_workers=0)
    np.testing.assert_allclose(emb.transform(images), want, atol=1e-5, rtol=0)
    # files decoded in DataLoader worker processes give the same values
    paths = []
    for i, image in enumerate(images):
        paths.append(tmp_path / f"{i}.png")
        image.save(paths[-1])
    files = emb.set_params(num_workers=2).transform(paths)
    np.testing.assert_allclose(files, want, atol=1e-5, rtol=0)


def test_half_precision_autocast_is_close(models):
    full = _embedder(models["clip"]).transform(TEXTS)
    half = _embedder(models["clip"], precision="bf16").transform(TEXTS)
    assert half.dtype == np.float32
    assert not np.array_equal(half, full)
    np.testing.assert_allclose(half, full, atol=0.05)


def test_long_text_is_cut_with_a_warning(models):
    long = " ".join(["dog"] * 100)
    with pytest.warns(UserWarning, match="longer than the model's context of 77"):
        _embedder(models["clip"]).transform([long, "cat"])


def test_clones_share_one_model_and_pickles_hold_no_weights(models):
    import pickle

    emb = _embedder(models["clip"])
    assert clone(emb).get_model().model is emb.get_model().model
    image = clone(emb).set_params(modality="image")
    assert image.get_model().model is emb.get_model().model
    assert emb.get_model().processor is not None
    emb.fit(["dog"])
    blob = pickle.dumps(emb)
    assert len(blob) < 10_000
    back = pickle.loads(blob)
    np.testing.assert_array_equal(back.transform(TEXTS), emb.transform(TEXTS))


def test_identity_says_backend_and_follows_the_files(models, tmp_path):
    ident = _embedder(models["clip"]).identity()
    assert ident["backend"] == "transformers"
    assert len(ident["weights_content"]) >= 3  # weights, config, processor files
    copy = tmp_path / "copy"
    shutil.copytree(models["clip"], copy)
    same = _embedder(copy).identity()
    assert same["weights_content"] == ident["weights_content"]
    # open_clip identities keep their form
    assert "backend" not in CLIPEmbedder("sklearn-pos-tiny", None).identity()


def test_a_checkpoint_saved_again_in_the_same_folder_is_never_served_stale(tmp_path):
    folder = tmp_path / "model"
    store = tmp_path / "store"
    save_tiny_clip(folder, tmp_path / "tok", seed=0)
    a = _embedder(folder, memory=store).transform(TEXTS)
    np.testing.assert_array_equal(_embedder(folder, memory=store).transform(TEXTS), a)
    save_tiny_clip(folder, tmp_path / "tok", seed=1)  # model B over model A
    b = _embedder(folder, memory=store).transform(TEXTS)
    model, processor = _reference(folder)
    inputs = processor(text=TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        want = _unit(_features(model.get_text_features(**inputs)))
    np.testing.assert_allclose(b, want, atol=1e-5, rtol=0)
    assert np.abs(b - a).max() > 0.1


def test_parameters_that_mean_nothing_for_a_backend_are_refused(models):
    with pytest.raises(ValueError, match="pretrained='laion2b_s34b_b79k' means"):
        _embedder(models["clip"], pretrained="laion2b_s34b_b79k").transform(["a"])
    with pytest.raises(ValueError, match="pretrained=None means nothing"):
        _embedder(models["clip"], pretrained=None).transform(["a"])
    with pytest.raises(ValueError, match="is a local folder: leave revision=None"):
        _embedder(models["clip"], revision="main").transform(["a"])
    with pytest.raises(ValueError, match="revision='main' is for backend="):
        CLIPEmbedder("sklearn-pos-tiny", None, revision="main").transform(["a"])
    with pytest.raises(ValueError, match="backend"):
        CLIPEmbedder("sklearn-pos-tiny", None, backend="onnx").transform(["a"])


def test_pickled_weights_are_refused(models, tmp_path):
    folder = tmp_path / "bin_only"
    shutil.copytree(models["clip"], folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ValueError, match=r"(?s)pytorch_model.bin.*run arbitrary code.*"
                       r"safe_serialization=True"):
        _embedder(folder).transform(["a"])


def test_unsupported_folders_are_refused(models, tmp_path):
    folder = tmp_path / "blip"
    shutil.copytree(models["siglip"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "blip"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="holds a 'blip' model"):
        _embedder(folder).transform(["a"])
    with pytest.raises(FileNotFoundError, match="no config.json"):
        _embedder(tmp_path).transform(["a"])
    with pytest.raises(FileNotFoundError, match="no such folder"):
        _embedder(tmp_path / "missing" / "model").transform(["a"])


def test_missing_hub_model_fails_fast_when_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = CLIPEmbedder(
        "sklearn-pos-tests/no-such-clip", backend="transformers", device="cpu"
    )
    start = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as info:
        emb.transform(["a"])
    assert time.perf_counter() - start < 5
    err = info.value
    assert err.source == "hf-hub:sklearn-pos-tests/no-such-clip"
    assert "HF_HUB_OFFLINE" in err.reason
    assert "save_pretrained" in str(err) and "model_name=folder" in str(err)


def test_embed_job_local_and_on_a_dask_cluster(models, tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    pytest.importorskip("distributed")
    from sklearn_pos import embed_collection, read_embeddings

    # a folder named relative to the working folder reaches the workers whole
    monkeypatch.chdir(models["siglip"].parent)
    emb = _embedder(models["siglip"].name, num_workers=0)
    want = emb.transform(TEXTS)
    for scheduler in ["local", "local:1"]:
        out = tmp_path / scheduler.replace(":", "_")
        embed_collection(
            TEXTS,
            out,
            embedder=emb,
            partition_size=2,
            scheduler=scheduler,
            progress=False,
        )
        X, meta = read_embeddings(out)
        assert meta["source"].tolist() == TEXTS
        np.testing.assert_allclose(X, want, atol=1e-6, rtol=0)


def test_cli_embed_with_the_transformers_backend(models, tmp_path):
    pytest.importorskip("pyarrow")
    from sklearn_pos import read_embeddings

    source = tmp_path / "texts.txt"
    source.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "-m", "sklearn_pos", "embed", str(source), "--output"]
    args += [str(out), "--modality", "text", "--backend", "transformers"]
    args += ["--model", str(models["clip"]), "--device", "cpu", "--no-progress"]
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=180)
    assert res.returncode == 0, res.stderr
    X, _ = read_embeddings(out)
    np.testing.assert_allclose(X, _embedder(models["clip"]).transform(TEXTS), atol=1e-6)
    # an unknown hub model: the weights exit status, with what to do
    args[args.index(str(models["clip"]))] = "sklearn-pos-tests/no-such-clip"
    args[args.index(str(out))] = str(tmp_path / "out2")
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=180)
    assert res.returncode == 3, res.stderr
    assert "HF_HUB_OFFLINE" in res.stderr
    assert "--model /path/to/folder, a folder written by save_pretrained" in res.stderr
    assert "--pretrained /path" not in res.stderr  # open_clip's advice, not here
    # weights named twice: refused before anything loads
    res = subprocess.run(
        args + ["--pretrained", "laion2b_s34b_b79k"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert res.returncode == 2
    assert "--pretrained laion2b_s34b_b79k means nothing with --backend" in res.stderr


def test_cli_fit_then_zero_shot_with_the_transformers_backend(
    models, tmp_path, image_folder
):
    out = tmp_path / "fit"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "-m", "sklearn_pos", "fit", "--backend", "transformers"]
    args += ["--model", str(models["clip"]), "--device", "cpu", "--no-progress"]
    args += ["--vocabulary-size", "300", "--n-components", "4"]
    args += ["--output-dir", str(out)]
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    from sklearn_pos import load_subspaces

    pos = load_subspaces(out / "pos_subspaces.npz")
    assert pos.n_features_in_ == 16  # the tiny CLIP's projection width
    meta = json.loads((out / "fit_parameters.json").read_text())
    assert meta["parameters"]["backend"] == "transformers"
    # zero-shot reads the backend with the model from the saved subspaces
    args = [sys.executable, "-m", "sklearn_pos", "zero-shot", "--subspaces"]
    args += [str(out / "pos_subspaces.npz"), "--images", str(image_folder.root)]
    args += ["--device", "cpu", "--no-progress", "--num-workers", "0"]
    args += ["--output", str(tmp_path / "zero_shot.csv")]
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "zero_shot.csv").is_file()
