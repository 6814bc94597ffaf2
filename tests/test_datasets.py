"""Tests of the bundled vocabularies and of the script that rebuilds them."""

import gzip
import importlib.util
import json
import unicodedata
import zipfile
from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from sklearn_pos.datasets import load_artists, load_wordnet_vocabulary

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_wordnet_vocabulary.py"
WORDNET_DIR = Path("/usr/share/wordnet")
DATA = resources.files("sklearn_pos.datasets") / "data"

POS = ["noun", "adj", "verb", "adv"]
# Oldfield et al. (2023), Sec. 4: WordNet 3.0 lemmas with a single part of speech.
PAPER_COUNTS = {"noun": 112_219, "adj": 18_021, "verb": 7_295, "adv": 3_910}
# Artist names that WordNet 3.0 also lists (always as nouns).
N_ARTISTS_IN_WORDNET = 123


def _sort_key(word):
    return (word.casefold(), word)


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_wordnet_vocabulary", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# load_wordnet_vocabulary
# --------------------------------------------------------------------------


def test_wordnet_bunch_fields_and_types():
    vocab = load_wordnet_vocabulary()
    assert isinstance(vocab, Bunch)
    assert set(vocab) == {"data", "target", "target_names", "frame", "DESCR"}
    assert vocab.frame is None
    assert vocab.target_names == POS
    assert isinstance(vocab.data, np.ndarray) and vocab.data.dtype == object
    assert isinstance(vocab.target, np.ndarray) and vocab.target.dtype == object
    assert vocab.data.shape == vocab.target.shape == (sum(PAPER_COUNTS.values()),)
    assert all(type(w) is str for w in vocab.data)
    assert set(vocab.target) == set(POS)
    assert "WordNet 3.0" in vocab.DESCR and "WORDNET_LICENSE" in vocab.DESCR


def test_wordnet_counts_match_the_paper():
    # Stated tolerance: none. The case-preserving rule reproduces the
    # published counts exactly.
    counts = Counter(load_wordnet_vocabulary().target)
    assert dict(counts) == PAPER_COUNTS


def test_wordnet_words_are_clean_and_single_category():
    words, pos = load_wordnet_vocabulary(return_X_y=True)
    assert len(set(words)) == len(words)  # so no word has two labels
    assert not any("_" in w for w in words)
    assert all(w and w == w.strip() and "  " not in w for w in words)
    # multi-word lemmas and WordNet's capitalisation are kept
    lookup = dict(zip(words, pos))
    assert lookup["ice cream"] == "noun"
    assert lookup["Claude Monet"] == "noun"
    assert lookup["quickly"] == "adv"
    assert "walk" not in lookup  # noun and verb
    assert "Mark" in lookup and "mark" not in lookup


def test_wordnet_order_is_by_pos_then_alphabetical():
    words, pos = load_wordnet_vocabulary(return_X_y=True)
    blocks = [p for i, p in enumerate(pos) if i == 0 or pos[i - 1] != p]
    assert blocks == POS
    for p in POS:
        block = list(words[pos == p])
        assert block == sorted(block, key=_sort_key)


def test_wordnet_pos_selection():
    full_words, full_pos = load_wordnet_vocabulary(return_X_y=True)
    adv = load_wordnet_vocabulary(pos="adv")
    assert adv.target_names == ["adv"]
    assert list(adv.data) == list(full_words[full_pos == "adv"])

    # order of the request does not matter; target_names follow noun/adj/verb/adv
    some = load_wordnet_vocabulary(pos=["adv", "adj"])
    assert some.target_names == ["adj", "adv"]
    assert Counter(some.target) == {p: PAPER_COUNTS[p] for p in ("adj", "adv")}
    assert list(some.data) == list(full_words[np.isin(full_pos, ["adj", "adv"])])


@pytest.mark.parametrize("pos", ["nouns", ["noun", "pronoun"], [], 3])
def test_wordnet_rejects_unknown_pos(pos):
    with pytest.raises(ValueError, match="pos"):
        load_wordnet_vocabulary(pos=pos)


def test_wordnet_rejects_positional_and_bad_flags():
    with pytest.raises(TypeError):
        load_wordnet_vocabulary("noun")
    with pytest.raises(ValueError, match="as_frame"):
        load_wordnet_vocabulary(as_frame="yes")


def test_wordnet_return_X_y_matches_bunch():
    vocab = load_wordnet_vocabulary()
    X, y = load_wordnet_vocabulary(return_X_y=True)
    np.testing.assert_array_equal(X, vocab.data)
    np.testing.assert_array_equal(y, vocab.target)


def test_wordnet_as_frame():
    vocab = load_wordnet_vocabulary(as_frame=True)
    assert isinstance(vocab.frame, pd.DataFrame)
    assert list(vocab.frame.columns) == ["word", "category"]
    assert isinstance(vocab.data, pd.Series) and vocab.data.name == "word"
    assert isinstance(vocab.target, pd.Series) and vocab.target.name == "category"
    assert isinstance(vocab.target.dtype, pd.CategoricalDtype)
    assert list(vocab.target.cat.categories) == POS
    assert vocab.frame["category"].value_counts().to_dict() == PAPER_COUNTS

    X, y = load_wordnet_vocabulary(return_X_y=True)
    assert list(vocab.data) == list(X)
    assert list(vocab.target.astype(str)) == list(y)
    pd.testing.assert_series_equal(vocab.frame["word"], vocab.data)

    X_frame, y_frame = load_wordnet_vocabulary(
        pos="verb", as_frame=True, return_X_y=True
    )
    assert isinstance(X_frame, pd.Series) and isinstance(y_frame, pd.Series)
    assert len(X_frame) == PAPER_COUNTS["verb"]
    assert list(y_frame.cat.categories) == ["verb"]


def test_wordnet_returns_independent_copies():
    first = load_wordnet_vocabulary()
    original = first.data[0]
    first.data[0] = "changed"
    first.target[:] = "noun"
    second = load_wordnet_vocabulary()
    assert second.data[0] == original
    assert Counter(second.target) == PAPER_COUNTS


def test_wordnet_licence_is_shipped():
    text = (DATA / "WORDNET_LICENSE").read_text(encoding="utf-8")
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in text
    assert 'PROVIDED "AS IS"' in text
    assert "Permission to use, copy, modify and distribute" in text


# --------------------------------------------------------------------------
# load_artists
# --------------------------------------------------------------------------


def test_artists_bunch():
    artists = load_artists()
    assert set(artists) == {"data", "target", "target_names", "frame", "DESCR"}
    assert artists.target_names == ["artist"]
    assert artists.frame is None
    assert artists.data.dtype == object and artists.target.dtype == object
    assert artists.data.shape == artists.target.shape
    assert len(artists.data) >= 400
    assert set(artists.target) == {"artist"}
    assert "artist" in artists.DESCR.lower()
    for name in ("Claude Monet", "Frida Kahlo", "Katsushika Hokusai", "Rembrandt"):
        assert name in set(artists.data)


def test_artists_names_are_clean_and_unique():
    names = list(load_artists().data)
    assert len(set(names)) == len(names)
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert name == name.strip() and "  " not in name and "_" not in name
        assert unicodedata.normalize("NFC", name) == name
        assert any(ch.isalpha() for ch in name)


def test_artists_as_frame_and_return_X_y():
    artists = load_artists(as_frame=True)
    assert list(artists.frame.columns) == ["word", "category"]
    assert list(artists.target.cat.categories) == ["artist"]
    X, y = load_artists(return_X_y=True)
    assert list(X) == list(artists.data)
    assert set(y) == {"artist"}


def test_artists_overlap_with_wordnet_and_stacking_recipe():
    words, pos = load_wordnet_vocabulary(return_X_y=True)
    artists = load_artists()
    in_wordnet = np.isin(words, artists.data)
    # the stated overlap: some full names are WordNet lemmas, always nouns
    assert in_wordnet.sum() == N_ARTISTS_IN_WORDNET
    assert set(pos[in_wordnet]) == {"noun"}

    # documented recipe: drop them from the WordNet part, then stack
    X = np.concatenate([words[~in_wordnet], artists.data])
    y = np.concatenate([pos[~in_wordnet], artists.target])
    assert len(set(X)) == len(X)
    assert Counter(y)["artist"] == len(artists.data)
    assert len(X) == len(words) - N_ARTISTS_IN_WORDNET + len(artists.data)

    # frames stack the same way
    frame = pd.concat(
        [
            load_wordnet_vocabulary(as_frame=True).frame[~in_wordnet],
            load_artists(as_frame=True).frame,
        ],
        ignore_index=True,
    )
    assert list(frame["word"]) == list(X)
    assert list(frame["category"].astype(str)) == list(y)


# --------------------------------------------------------------------------
# scripts/make_wordnet_vocabulary.py
# --------------------------------------------------------------------------


def _write_fake_wordnet(folder):
    header = "  1 WordNet 3.0 Copyright 2006 by Princeton University.  \n"
    files = {
        "data.noun": [
            "00000001 03 n 02 ice_cream 0 Walk 0 000 | a frozen dessert  \n",
            "00000002 04 n 01 walk 0 000 | the act of walking  \n",
            "00000003 04 n 01 fast 0 000 | an abstinence  \n",
        ],
        "data.verb": [
            "00000004 38 v 01 walk 0 000 00 | use one's feet  \n",
            "00000005 38 v 02 stroll 0 amble 0 000 00 | walk leisurely  \n",
        ],
        "data.adj": [
            "00000006 00 a 02 big(a) 0 fast 0 000 | large  \n",
            "00000007 00 s 01 ready(p) 0 000 | prepared  \n",
        ],
        "data.adv": [
            "00000008 02 r 02 quickly 0 fast 0 000 | rapidly  \n",
        ],
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).write_text(header + "".join(lines), encoding="utf-8")
    return files


FAKE_ROWS = [
    ("ice cream", "noun"),
    ("Walk", "noun"),
    ("big", "adj"),
    ("ready", "adj"),
    ("amble", "verb"),
    ("stroll", "verb"),
    ("quickly", "adv"),
]


def _read_rows(path):
    text = gzip.decompress(Path(path).read_bytes()).decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "word,category"
    return [tuple(line.rsplit(",", 1)) for line in lines[1:]]


def test_script_rule_on_a_small_wordnet(script, tmp_path, capsys):
    _write_fake_wordnet(tmp_path / "wn")
    out = tmp_path / "out.csv.gz"
    args = ["--wordnet-dir", str(tmp_path / "wn"), "--output", str(out)]
    assert script.main(args) == 0
    assert _read_rows(out) == FAKE_ROWS
    printed = capsys.readouterr().out
    assert "WordNet 3.0" in printed
    assert "noun:       2" in printed and "adv:       1" in printed

    # deterministic bytes, and the gzip header carries no name and no time
    first = out.read_bytes()
    script.main(args)
    assert out.read_bytes() == first
    assert first[4:8] == b"\x00\x00\x00\x00"  # MTIME
    assert first[3] & 0x08 == 0  # no FNAME


def test_script_reads_nltk_layouts(script, tmp_path):
    # nltk_data/corpora holding a wordnet/ folder, and nltk's wordnet.zip
    corpora = tmp_path / "corpora"
    files = _write_fake_wordnet(corpora / "wordnet")
    zipped = corpora / "wordnet.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for name in files:
            archive.write(corpora / "wordnet" / name, f"wordnet/{name}")
    for source in (corpora, corpora / "wordnet", zipped):
        out = tmp_path / "out.csv.gz"
        script.main(["--wordnet-dir", str(source), "--output", str(out)])
        assert _read_rows(out) == FAKE_ROWS


def test_script_spacy_source(script, tmp_path, capsys):
    index = {
        "noun": ["walk", "dog", "fast"],
        "verb": ["walk", "run"],
        "adj": ["fast", "red"],
        "adv": ["quickly"],
    }
    source = tmp_path / "en_lemma_index.json.gz"
    source.write_bytes(gzip.compress(json.dumps(index).encode("utf-8")))
    out = tmp_path / "out.csv.gz"
    for given in (source, tmp_path):  # the file itself or its folder
        script.main(
            ["--source", "spacy", "--spacy-file", str(given), "--output", str(out)]
        )
        assert _read_rows(out) == [
            ("dog", "noun"),
            ("red", "adj"),
            ("run", "verb"),
            ("quickly", "adv"),
        ]
    assert "spacy-lookups-data" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--wordnet-dir", "{tmp}/missing"], "not found"),
        (["--wordnet-dir", "{tmp}"], "no WordNet data files"),
        (["--wordnet-dir", "{tmp}/plain.txt"], "neither a directory nor a zip"),
        (["--source", "spacy", "--spacy-file", "{tmp}/missing.gz"], "not found"),
        (["--source", "spacy", "--spacy-file", "{tmp}/plain.txt"], "is not spacy"),
    ],
)
def test_script_rejects_bad_sources(script, tmp_path, capsys, args, message):
    (tmp_path / "plain.txt").write_text("not a lexicon\n")
    out = tmp_path / "out.csv.gz"
    args = [a.format(tmp=tmp_path) for a in args] + ["--output", str(out)]
    with pytest.raises(SystemExit) as exc:
        script.main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.skipif(
    not (WORDNET_DIR / "data.noun").is_file(),
    reason=f"WordNet 3.0 dict directory {WORDNET_DIR} not installed",
)
def test_script_reproduces_bundled_file(script, tmp_path, capsys):
    out = tmp_path / "wordnet_pos.csv.gz"
    script.main(["--wordnet-dir", str(WORDNET_DIR), "--output", str(out)])
    assert out.read_bytes() == (DATA / "wordnet_pos.csv.gz").read_bytes()
    printed = capsys.readouterr().out
    for pos, count in PAPER_COUNTS.items():
        assert f"{pos:>6}: {count:7d}" in printed


# --------------------------------------------------------------------------- #
# seeded stratified subsets
# --------------------------------------------------------------------------- #
def test_wordnet_subset_is_stratified_seeded_and_ordered():
    full = load_wordnet_vocabulary()
    words, pos = load_wordnet_vocabulary(n_words=2000, random_state=0, return_X_y=True)
    assert len(words) == 2000 and set(words) <= set(full.data)
    counts = Counter(pos)
    for name, n in Counter(full.target).items():
        assert counts[name] == pytest.approx(2000 * n / len(full.target), abs=1)
    # rows keep the order of the full vocabulary
    position = {w: i for i, w in enumerate(full.data)}
    assert np.all(np.diff([position[w] for w in words]) > 0)
    again, _ = load_wordnet_vocabulary(n_words=2000, random_state=0, return_X_y=True)
    other, _ = load_wordnet_vocabulary(n_words=2000, random_state=1, return_X_y=True)
    np.testing.assert_array_equal(words, again)
    assert set(words) != set(other)


def test_wordnet_subset_is_the_stratified_train_test_split():
    from sklearn.model_selection import train_test_split

    full_words, full_pos = load_wordnet_vocabulary(return_X_y=True)
    expected, _ = train_test_split(
        full_words, train_size=500, stratify=full_pos, random_state=3
    )
    words, _ = load_wordnet_vocabulary(n_words=500, random_state=3, return_X_y=True)
    assert sorted(words) == sorted(expected)


def test_wordnet_subset_sizes():
    n = len(load_wordnet_vocabulary().data)
    for size in (n, n + 5):
        assert len(load_wordnet_vocabulary(n_words=size).data) == n
    subset = load_wordnet_vocabulary(pos=["adj", "adv"], n_words=10, random_state=0)
    assert len(subset.data) == 10 and set(subset.target) == {"adj", "adv"}
    frame = load_wordnet_vocabulary(n_words=40, random_state=0, as_frame=True).frame
    assert frame.shape == (40, 2)
    with pytest.raises(ValueError, match="n_words=3: .*cannot hold all 4 labels"):
        load_wordnet_vocabulary(n_words=3)
    with pytest.raises(ValueError, match="n_words"):
        load_wordnet_vocabulary(n_words=0)


def test_stratified_subset_on_embeddings_and_its_errors():
    from sklearn_pos.datasets import stratified_subset

    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 3))
    y = np.repeat(["a", "b", "c"], [60, 20, 10])
    Xs, ys = stratified_subset(X, y, 18, random_state=0)
    assert Xs.shape == (18, 3) and Counter(ys) == {"a": 12, "b": 4, "c": 2}
    rows = [int(np.flatnonzero((X == row).all(1))[0]) for row in Xs]
    assert rows == sorted(rows)
    np.testing.assert_array_equal(y[rows], ys)
    same = stratified_subset(X, y, None)
    assert same[0] is X
    with pytest.raises(ValueError, match="at least 3 rows"):
        stratified_subset(X, y, 2)
    with pytest.raises(ValueError, match="at most 87 rows"):
        stratified_subset(X, y, 89)
    with pytest.raises(ValueError, match=r"\['c'\] have a single row"):
        stratified_subset(X[:81], y[:81], 40)
    with pytest.raises(ValueError, match="one label per row"):
        stratified_subset(X, y[:5], 10)


def test_themed_vocabulary_drops_wordnet_duplicates_and_keeps_every_artist():
    from sklearn_pos.datasets import load_themed_vocabulary

    artists = load_artists()
    vocab = load_themed_vocabulary("artists", n_words=1000, random_state=0)
    assert vocab.target_names == ["noun", "adj", "verb", "adv", "artist"]
    assert len(vocab.data) == 1000 + len(artists.data)
    np.testing.assert_array_equal(vocab.data[1000:], artists.data)
    assert len(set(vocab.data)) == len(vocab.data)
    assert not set(vocab.data[:1000]) & set(artists.data)
    assert Counter(vocab.target)["artist"] == len(artists.data)
    full = load_themed_vocabulary()
    assert len(full.data) == 142238
    X, y = load_themed_vocabulary(n_words=1000, random_state=0, return_X_y=True)
    np.testing.assert_array_equal(X, vocab.data)
    frame = load_themed_vocabulary(n_words=50, random_state=0, as_frame=True).frame
    assert list(frame["category"].cat.categories) == vocab.target_names
    with pytest.raises(ValueError, match="theme"):
        load_themed_vocabulary("poets")


# --------------------------------------------------------------------------- #
# image folders
# --------------------------------------------------------------------------- #
def _write_image(path, colour=(200, 30, 30), size=(12, 10)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}.get(
        path.suffix.lower(), path.suffix.lower().lstrip(".").upper()
    )
    Image.new("RGB", size, colour).save(path, format=fmt)


def test_load_image_folder_layout_and_suffixes(tmp_path):
    pytest.importorskip("PIL")
    from sklearn_pos.datasets import IMAGE_SUFFIXES, load_image_folder

    assert {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif"} <= set(
        IMAGE_SUFFIXES
    )
    names = [f"img{i}{s}" for i, s in enumerate(IMAGE_SUFFIXES)]
    names += ["UPPER.JPG", "Mixed.Png"]
    for name in names:
        _write_image(tmp_path / "golden_retriever" / name)
    _write_image(tmp_path / "golden_retriever" / "nested" / "deep.png")
    _write_image(tmp_path / "cat" / "a.png")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "cat" / "model.ckpt").write_bytes(b"\0")
    (tmp_path / "README.md").write_text("a file at the top is no class")
    _write_image(tmp_path / ".cache" / "thumb.png")  # hidden folder: no class

    folder = load_image_folder(tmp_path)
    assert folder.root == tmp_path
    assert folder.target_names == ["cat", "golden retriever"]
    assert folder.folders == ["cat", "golden_retriever"]
    retriever = [p for p, t in zip(folder.paths, folder.target) if t != "cat"]
    assert folder.paths[0] == str(tmp_path / "cat" / "a.png")
    assert len(retriever) == len(names) + 1
    assert str(tmp_path / "golden_retriever" / "UPPER.JPG") in retriever
    assert str(tmp_path / "golden_retriever" / "nested" / "deep.png") in retriever
    assert retriever == sorted(retriever)
    assert folder.target.tolist() == ["cat"] + ["golden retriever"] * len(retriever)
    from PIL import Image

    for path in folder.paths:  # every listed file is an image Pillow opens
        with Image.open(path) as image:
            assert image.size == (12, 10)


def test_load_image_folder_data_is_the_paths_as_for_the_other_loaders(tmp_path):
    pytest.importorskip("PIL")
    from sklearn.model_selection import train_test_split

    from sklearn_pos.datasets import load_image_folder

    for colour in ("red", "blue"):
        for i in range(3):
            _write_image(tmp_path / colour / f"{i}.png")
    folder = load_image_folder(tmp_path)
    artists = load_artists()
    assert isinstance(folder.data, np.ndarray)
    assert (folder.data.dtype, folder.data.ndim) == (artists.data.dtype, 1)
    assert folder.data.tolist() == folder.paths
    assert len(folder.data) == len(folder.target) == 6
    # the usual split of (data, target) keeps each path with its class
    X_train, X_test, y_train, y_test = train_test_split(
        folder.data, folder.target, test_size=2, stratify=folder.target, random_state=0
    )
    for X, y in ((X_train, y_train), (X_test, y_test)):
        assert [Path(p).parent.name for p in X] == list(y)


def test_load_image_folder_duplicate_class_names(tmp_path):
    pytest.importorskip("PIL")
    from sklearn_pos.datasets import load_image_folder

    _write_image(tmp_path / "golden_retriever" / "a.png")
    _write_image(tmp_path / "golden retriever" / "b.png")
    with pytest.raises(
        ValueError, match="'golden retriever' and 'golden_retriever'.*merge or rename"
    ):
        load_image_folder(tmp_path)


def test_load_image_folder_errors(tmp_path):
    pytest.importorskip("PIL")
    from sklearn_pos.datasets import load_image_folder

    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_image_folder(tmp_path / "file.png")
    with pytest.raises(ValueError, match="no class subfolders"):
        load_image_folder(tmp_path)
    _write_image(tmp_path / "red" / "a.png")
    (tmp_path / "blue").mkdir()
    (tmp_path / "blue" / "notes.txt").write_text("no image here")
    with pytest.raises(ValueError, match=r"\['blue'\] .* hold no image"):
        load_image_folder(tmp_path)


def test_make_image_folder_is_read_back_by_load_image_folder(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    from sklearn_pos.datasets import load_image_folder, make_image_folder

    made = make_image_folder(
        tmp_path / "noise",
        classes=("red", "blue", "green"),
        n_per_class=11,
        image_size=40,
        pattern="noise",
        vary_size=True,
        formats=("png", "jpeg"),
        random_state=0,
    )
    read = load_image_folder(tmp_path / "noise")
    assert read.keys() == made.keys()
    assert read.paths == made.paths  # sorted names keep the drawing order
    np.testing.assert_array_equal(read.target, made.target)
    assert read.target_names == made.target_names == ["blue", "green", "red"]
    assert [p[-4:] for p in made.paths[:4]] == [".png", ".jpg", ".png", ".jpg"]
    sizes = set()
    for path, name in zip(made.paths, made.target):
        with Image.open(path) as image:
            sizes.add(image.size)
            assert all(20 <= side < 60 for side in image.size)
            mean = np.asarray(image.convert("RGB"), dtype=float).mean((0, 1))
        assert int(np.argmax(mean)) == {"red": 0, "green": 1, "blue": 2}[name]
    assert len(sizes) > 10
    again = make_image_folder(
        tmp_path / "again",
        classes=("red", "blue", "green"),
        n_per_class=11,
        image_size=40,
        pattern="noise",
        vary_size=True,
        formats=("png", "jpeg"),
        random_state=0,
    )
    for a, b in zip(made.paths, again.paths):
        np.testing.assert_array_equal(np.asarray(Image.open(a)), Image.open(b))


@pytest.mark.parametrize("pattern", ["shapes", "fields"])
def test_make_image_folder_patterns(tmp_path, pattern):
    pytest.importorskip("PIL")
    from PIL import Image

    from sklearn_pos.datasets import load_image_folder, make_image_folder

    made = make_image_folder(
        tmp_path,
        classes=("yellow",),
        n_per_class=3,
        image_size=(40, 24),
        pattern=pattern,
        formats="jpeg",
    )
    assert load_image_folder(tmp_path).paths == made.paths
    assert ("shape" in made) == (pattern == "shapes")
    with Image.open(made.paths[0]) as image:
        assert image.format == "JPEG" and image.size == (40, 24)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"classes": ("teal",)}, "colour names"),
        ({"classes": ()}, "colour names"),
        ({"n_per_class": 0}, "n_per_class"),
        ({"image_size": 4}, "image_size"),
        ({"image_size": (20, 20, 3)}, "image_size"),
        ({"pattern": "stripes"}, "pattern"),
        ({"formats": ("gif",)}, "formats"),
    ],
)
def test_make_image_folder_errors(tmp_path, params, match):
    pytest.importorskip("PIL")
    from sklearn_pos.datasets import make_image_folder

    with pytest.raises(ValueError, match=match):
        make_image_folder(tmp_path, **params)


def test_stratified_subset_never_drops_a_rare_label():
    from sklearn_pos.datasets import stratified_subset

    labels = np.repeat(["noun", "adj", "verb", "adv"], [1122, 180, 73, 39])
    rows = np.arange(len(labels))
    with pytest.raises(
        ValueError, match=r"keeps no row of labels \['adv'\].*at least 37"
    ):
        stratified_subset(rows, labels, 8, random_state=0)
    _, kept = stratified_subset(rows, labels, 37, random_state=0)
    assert set(kept) == {"noun", "adj", "verb", "adv"}


def test_image_folders_differing_in_runs_of_underscores_collide(tmp_path):
    pytest.importorskip("PIL")
    from sklearn_pos.datasets import load_image_folder

    _write_image(tmp_path / "golden__retriever" / "a.png")
    _write_image(tmp_path / "golden retriever" / "b.png")
    with pytest.raises(ValueError, match="'golden retriever' and 'golden__retriever'"):
        load_image_folder(tmp_path)


def test_stratified_subset_names_unsortable_labels():
    from sklearn_pos.datasets import stratified_subset

    words = np.array(["a", "b", "c", "d", "e", "f"])
    labels = np.array([1, "noun", 1, "noun", 1, "noun"], dtype=object)
    with pytest.raises(ValueError, match="labels mixes labels of different types"):
        stratified_subset(words, labels, 4, random_state=0)


def test_list_images_is_the_one_rule_of_the_folder_reader_and_the_job(tmp_path):
    pytest.importorskip("PIL")
    from sklearn_pos.datasets import list_images, load_image_folder

    for rel in ["cat/b.png", "cat/A.JPG", "cat/sub/c.png", "dog/d.webp"]:
        _write_image(tmp_path / rel)
    # Hidden files and folders are skipped, whatever their suffix.
    _write_image(tmp_path / "cat" / "._b.png")
    _write_image(tmp_path / "cat" / ".thumbs" / "e.png")
    (tmp_path / "cat" / "notes.txt").write_text("no image")

    listed = list_images(tmp_path / "cat")
    assert listed == [
        str(tmp_path / "cat" / name) for name in ["A.JPG", "b.png", "sub/c.png"]
    ]
    assert list_images(tmp_path) == [
        str(tmp_path / rel)
        for rel in ["cat/A.JPG", "cat/b.png", "cat/sub/c.png", "dog/d.webp"]
    ]
    assert load_image_folder(tmp_path).paths == list_images(tmp_path)


@pytest.mark.parametrize("theme", [None, "artists"])
def test_load_pos_vocabulary_is_the_checked_stratified_subset(theme):
    from sklearn_pos.datasets import (
        load_pos_vocabulary,
        load_themed_vocabulary,
        load_wordnet_vocabulary,
    )

    vocab = load_pos_vocabulary(400, theme=theme, random_state=3)
    if theme is None:
        words, labels = load_wordnet_vocabulary(
            n_words=400, random_state=3, return_X_y=True
        )
    else:
        words, labels = load_themed_vocabulary(
            theme, n_words=400, random_state=3, return_X_y=True
        )
    np.testing.assert_array_equal(vocab.data, words)
    np.testing.assert_array_equal(vocab.target, labels.astype(str))
    assert vocab.counts == dict(Counter(labels.tolist()))
    assert vocab.description["n_words"] == len(words)
    assert vocab.description["theme"] == (theme or "none")
    assert vocab.description["source"] == "wordnet" + ("+artists" if theme else "")
    json.dumps(vocab.description)  # recorded with the saved subspaces


@pytest.mark.parametrize(
    "n_words, match",
    [
        (5, "n_words=5 is too small: use at least 8"),
        (10**6, r"n_words=1000000 is larger than the vocabulary \(141,445"),
    ],
)
def test_load_pos_vocabulary_refuses_sizes_that_cannot_be_fitted(n_words, match):
    from sklearn_pos.datasets import load_pos_vocabulary

    with pytest.raises(ValueError, match=match):
        load_pos_vocabulary(n_words)
    with pytest.raises(ValueError, match="theme='cats' is not a known theme"):
        load_pos_vocabulary(theme="cats")
