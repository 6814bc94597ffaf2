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
