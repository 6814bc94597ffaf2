"""Every code snippet of the README and of the documentation runs.

The snippets are written for real CLIP weights and real data (``ViT-B-32``
with OpenAI's weights, a folder of photos, a Dask scheduler). Each one is run
here as written, on the bundled tiny model, after a short, explicit list of
substitutions: the model and its weights become the tiny random model, sizes
become ones its 64-d embeddings allow, and the photos, caches and scheduler
become generated images, temporary folders and a real ``LocalCluster``. Every
substitution must still match a snippet, and every snippet is run by one test
(a snippet shown on several pages, once), so neither the snippets nor this
list can drift from the API unnoticed.

The free names the Python snippets use (``E``, ``y``, ``paths``, ``labels``,
...) are defined in one namespace built from the tiny model (see
``namespace``); the shell commands run as subprocesses in a fresh folder.
"""

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The pages whose snippets are run: the README and the documentation's.
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "doc").glob("*.rst")),
    *sorted((ROOT / "doc").glob("*.md")),
    *sorted((ROOT / "doc" / "user_guide").glob("*.md")),
]

pytestmark = pytest.mark.slow

#: (snippet text, what it becomes here): each must occur in a snippet.
SUBSTITUTIONS = [
    ('"ViT-B-32", "openai"', '"sklearn-pos-tiny", None'),
    ('"ViT-L-14", "openai"', '"sklearn-pos-tiny", None'),
    ('model_name="ViT-B-32", pretrained="openai"',
     'model_name="sklearn-pos-tiny", pretrained=None'),
    ('CLIPEmbedder(modality="text")', 'CLIPEmbedder(**TINY, modality="text")'),
    ('CLIPEmbedder(modality="image")', 'CLIPEmbedder(**TINY, modality="image")'),
    ('CLIPEmbedder(memory="/shared/emb_store")', "CLIPEmbedder(**TINY, memory=STORE)"),
    ('device="cuda"', 'device="cpu"'),
    ('"~/.cache/sklearn_pos"', "STORE"),
    ('["cat", "dog", "car"]', "names"),
    ('"photos/1.jpg"', "paths[0]"),
    ('"photos/"', "PHOTOS"),
    ('"photos_emb/"', "PHOTOS_EMB"),
    ('"captions.parquet"', "CAPTIONS"),
    ('"sklearn_pos_output/pos_subspaces.npz"', "FIT_OUTPUT"),
    ('Client("tcp://scheduler:8786")', "Client(CLUSTER)"),
    # CLAP's 8,000 training steps are a minute on two cores; 200 show it runs.
    ("random_state=0, verbose=True)", "random_state=0, verbose=True, max_steps=200)"),
    ("load_wordnet_vocabulary()", "small(load_wordnet_vocabulary())"),
    ("np.empty((0, 512)", "np.empty((0, 64)"),
    ("n_components=64", "n_components=8"),
    ("n_components=500", "n_components=16"),
    ('"pos__n_components": [64, 256]', '"pos__n_components": [4, 8]'),
    ('VocabularyPartOfSpeechAnalysis("wordnet"', "VocabularyPartOfSpeechAnalysis(SMALL"),
    ("VocabularyPartOfSpeechAnalysis(text_embedder=text",
     "VocabularyPartOfSpeechAnalysis(SMALL, text_embedder=text"),
]

VOCABULARY_SIZE = 600


def _page_blocks(language):
    """``(page:line, source)`` of every ``language`` block of the pages, each
    distinct source once: Markdown fences and reStructuredText code-blocks."""
    found = {}
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(ROOT).as_posix()
        fence = rf"^```(?:{language}|\{{code-block\}} {language})\n(.*?)^```"
        for match in re.finditer(fence, text, re.S | re.M):
            line = text.count("\n", 0, match.start()) + 2
            found.setdefault(match.group(1), f"{name}:{line}")
        directive = rf"^\.\. code-block:: {language}\n\n((?:[ ]{{3,}}.*\n|\n)+)"
        for match in re.finditer(directive, text, re.M):
            line = text.count("\n", 0, match.start()) + 3
            source = textwrap.dedent(match.group(1)).strip("\n") + "\n"
            found.setdefault(source, f"{name}:{line}")
    return [(where, source) for source, where in found.items()]


SNIPPETS = _page_blocks("python")


def _substituted(source):
    for old, new in SUBSTITUTIONS:
        source = source.replace(old, new)
    return source


def test_every_substitution_matches_a_snippet():
    text = "".join(source for _, source in SNIPPETS)
    unused = [old for old, _ in SUBSTITUTIONS if old not in text]
    assert not unused, f"no longer in any snippet: {unused}"
    assert len({where.split(":")[0] for where, _ in SNIPPETS}) > 5, SNIPPETS


@pytest.fixture(scope="module")
def namespace(tmp_path_factory):
    """What the snippets take as given: the imports of earlier snippets and the
    data they describe in words, made with the tiny model."""
    pytest.importorskip("open_clip")
    pytest.importorskip("dask.distributed")
    pd = pytest.importorskip("pandas")
    from PIL import Image
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    import sklearn_pos
    from sklearn_pos import (
        CLIPEmbedder,
        PartOfSpeechComponentAnalysis,
        VocabularyPartOfSpeechAnalysis,
        ZeroShotClassifier,
    )
    from sklearn_pos.cli import main
    from sklearn_pos.datasets import (
        load_wordnet_vocabulary,
        make_image_folder,
        stratified_subset,
    )

    root = tmp_path_factory.mktemp("readme")
    tiny = {"model_name": "sklearn-pos-tiny", "pretrained": None, "device": "cpu"}
    store = str(root / "store")

    def small(vocabulary):
        words, target = stratified_subset(
            vocabulary.data, vocabulary.target, VOCABULARY_SIZE, random_state=0
        )
        return type(vocabulary)(**{**vocabulary, "data": words, "target": target})

    vocab = small(load_wordnet_vocabulary())
    text = CLIPEmbedder(**tiny, modality="text", memory=store)
    image = CLIPEmbedder(**tiny, modality="image", num_workers=0, memory=store)
    E = text.fit_transform(vocab.data)
    # Five images a class: the snippets cross-validate with cv=5.
    photos = make_image_folder(root / "photos", n_per_class=5, image_size=32)
    paths = [str(p) for p in photos.paths]
    labels = list(photos.target)
    captions = root / "captions.parquet"
    pd.DataFrame({"caption": list(vocab.data[:40])}).to_parquet(captions)
    pos = PartOfSpeechComponentAnalysis(n_components=8, target="noun").fit(
        E, vocab.target
    )
    photos_emb = root / "photos_emb"
    sklearn_pos.embed_collection(
        photos.root,
        photos_emb,
        embedder=CLIPEmbedder(**tiny, modality="image", num_workers=0),
    )
    fit_output = root / "sklearn_pos_output"
    assert main(["fit", "--model", "sklearn-pos-tiny", "--pretrained", "none",
                 "--device", "cpu", "--vocabulary-size", str(VOCABULARY_SIZE),
                 "--output-dir", str(fit_output), "--no-plots"]) == 0
    image_embeddings = image.fit_transform(paths)
    return {
        "np": np,
        "sklearn_pos": sklearn_pos,
        "CLIPEmbedder": CLIPEmbedder,
        "VocabularyPartOfSpeechAnalysis": VocabularyPartOfSpeechAnalysis,
        "ZeroShotClassifier": ZeroShotClassifier,
        "GridSearchCV": GridSearchCV,
        "LogisticRegression": LogisticRegression,
        "make_pipeline": make_pipeline,
        "TINY": tiny,
        "STORE": store,
        "PHOTOS": str(photos.root),
        "PHOTOS_EMB": str(photos_emb),
        "CAPTIONS": str(captions),
        "FIT_OUTPUT": str(fit_output / "pos_subspaces.npz"),
        "SMALL": (vocab.data, vocab.target),
        "small": small,
        "vocab": vocab,
        "E": E,
        "y": vocab.target,
        "E_new": E[:5],
        "texts": list(vocab.data),
        "text": text,
        "image": image,
        "pos": pos,
        "paths": paths,
        "labels": labels,
        "names": list(photos.target_names),
        "pil_image": Image.open(paths[1]).convert("RGB"),
        "uint8_array": np.asarray(Image.open(paths[2]).convert("RGB")),
        "df": pd.DataFrame(
            {"image_path": paths, "caption": [f"a {c} picture" for c in labels],
             "label": labels}
        ),
        "src_emb": image_embeddings[:2],
        "edit_emb": image_embeddings[2:4],
        "src_text_emb": text.transform(["a photo", "a photo"]),
        "tgt_text_emb": text.transform(["a painting", "a painting"]),
    }


@pytest.mark.parametrize(
    "where, source", SNIPPETS, ids=[where for where, _ in SNIPPETS]
)
def test_snippet_runs(namespace, where, source, tmp_path, monkeypatch):
    code = compile(_substituted(source), where, "exec")
    scope = dict(namespace)
    monkeypatch.chdir(tmp_path)  # files a snippet names go to a fresh folder
    if "clip_nce_loss" in source:
        torch = pytest.importorskip("torch")
        # The loss is differentiated through its inputs, torch tensors.
        for name in ("src_emb", "edit_emb", "src_text_emb", "tgt_text_emb"):
            scope[name] = torch.asarray(namespace[name]).requires_grad_()
    if "CLUSTER" in source or "scheduler:" in source:
        from dask.distributed import LocalCluster

        with LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            scope["CLUSTER"] = cluster.scheduler_address
            exec(code, scope)
            scope["client"].close()
        return
    exec(code, scope)


#: (command text, what it becomes here): the tiny model, and a vocabulary and
#: subspace that fit it; each must occur in a command.
COMMAND_SUBSTITUTIONS = [
    ("--model ViT-B-32 --pretrained openai",
     "--model sklearn-pos-tiny --pretrained none --device cpu"),
    ("-k 500", "-k 16"),
    ("--vocabulary-size 20000", f"--vocabulary-size {VOCABULARY_SIZE}"),
    ("tcp://scheduler:8786", "local:1"),
]

#: Commands of the pages that are not run here, and why.
NOT_RUN = {
    "pip": "installs the package: what the test run itself was set up with",
    "pytest": "the test command",
    ".ci/lowest": "builds another environment with the oldest dependencies",
    "autofaiss": "a separate tool, not a dependency",
    "make": "builds the documentation site, as .ci/doc does after the tests",
    "SCIPY_ARRAY_API=1": "needs a GPU",
}


def _page_commands():
    """The shell commands of the pages, one list per distinct block."""
    blocks = []
    for where, source in _page_blocks("bash"):
        commands = []
        for command in source.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#.*$", "", command).strip()
            if "&&" in command:  # the quick start: "pip install ... && COMMAND"
                command = command.split("&&")[-1].strip()
            if command and not command.startswith("#"):
                commands.append(command)
        blocks.append((where, commands))
    return blocks


def _runnable(command):
    if command.startswith("sklearn-pos "):
        return True
    # The zero-shot benchmark's demo runs offline; the others download data.
    return command.startswith("python benchmarks/") and "--generate-demo" in command


def test_every_command_is_run_or_said_why_not():
    for _, commands in _page_commands():
        for command in commands:
            if _runnable(command):
                continue
            needs_data = command.startswith("python benchmarks/zero_shot.py") and (
                "--download" in command or "--root" in command
            )  # real image data sets: downloaded, or a local ImageNet copy
            assert command.split()[0] in NOT_RUN or needs_data, (
                f"command neither run by the tests nor listed: {command}"
            )
    text = " ".join(c for _, commands in _page_commands() for c in commands)
    unused = [old for old, _ in COMMAND_SUBSTITUTIONS if old not in text]
    assert not unused, f"no longer in any command: {unused}"


COMMAND_BLOCKS = [
    (where, [c for c in commands if _runnable(c)])
    for where, commands in _page_commands()
    if any(_runnable(c) for c in commands)
]


@pytest.mark.parametrize(
    "where, commands", COMMAND_BLOCKS, ids=[where for where, _ in COMMAND_BLOCKS]
)
def test_commands_run(where, commands, tmp_path):
    """Each block's commands run in turn, in one folder, as subprocesses."""
    import os
    import shlex
    import subprocess
    import sys

    pytest.importorskip("open_clip")
    pd = pytest.importorskip("pandas")
    from sklearn_pos.datasets import make_image_folder

    make_image_folder(tmp_path / "photos", n_per_class=3, image_size=32)
    pd.DataFrame({"caption": ["a dog", "a red car", "two cats"]}).to_parquet(
        tmp_path / "captions.parquet"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"}
    for command in commands:
        for old, new in COMMAND_SUBSTITUTIONS:
            command = command.replace(old, new)
        argv = shlex.split(command)
        if argv[0] == "sklearn-pos":
            argv = [sys.executable, "-m", "sklearn_pos", *argv[1:]]
            if "--model" not in argv:  # the default model, ViT-B-32's weights
                argv += ["--model", "sklearn-pos-tiny", "--pretrained", "none"]
            if argv[3] == "fit":
                argv += ["--vocabulary-size", str(VOCABULARY_SIZE), "--no-plots"]
        else:
            argv = [sys.executable, str(root / argv[1]), *argv[2:]]
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
