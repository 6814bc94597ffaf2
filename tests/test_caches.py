"""The process caches: bounded, safe to share between threads, cleared by one call."""

import threading
import time

import numpy as np
import pytest

import sklearn_pos
from sklearn_pos import VocabularyPartOfSpeechAnalysis, clear_caches
from sklearn_pos._caches import BoundedCache
from sklearn_pos._identity import file_digest
from sklearn_pos.store import open_store

CACHES = {
    "models",
    "tag_files",
    "file_digests",
    "vocabulary_embeddings",
    "vocabulary_subspaces",
    "open_stores",
}


def test_least_recently_used_items_go_first():
    cache = BoundedCache("demo", maxsize=2)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.set("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2
    assert cache.get("b", "missing") == "missing"
    assert cache.clear() == 2 and len(cache) == 0
    with pytest.raises(ValueError, match="maxsize must be at least 1"):
        BoundedCache("demo", maxsize=0)


def test_threads_writing_at_once_keep_the_bound():
    cache = BoundedCache("demo", maxsize=50)
    errors = []

    def write(offset):
        try:
            for i in range(2000):
                cache.set((offset, i), i)
                cache.get((offset, i // 2))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(cache) == 50


def test_a_missing_item_asked_by_many_threads_is_made_once():
    cache = BoundedCache("demo", maxsize=4)
    made = []

    def make():
        made.append(1)
        time.sleep(0.05)  # long enough for the other threads to ask meanwhile
        return object()

    got = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get_or_create("m", make)))
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(made) == 1
    assert len(got) == 6 and all(g is got[0] for g in got)


def test_one_public_function_clears_every_cache(tmp_path):
    assert "clear_caches" in sklearn_pos.__all__
    clear_caches()
    # fill the caches that need no model
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    first = file_digest(path)
    open_store(tmp_path / "store")
    rng = np.random.RandomState(0)
    E = rng.normal(size=(30, 6)) + 3
    labels = np.repeat(["adj", "noun", "verb"], 10)
    VocabularyPartOfSpeechAnalysis((E, labels), n_components=2).fit(None)

    cleared = clear_caches()
    assert set(cleared) == CACHES
    assert cleared["file_digests"] >= 1
    assert cleared["open_stores"] == 1
    assert cleared["vocabulary_subspaces"] == 1
    assert set(clear_caches().values()) == {0}
    assert file_digest(path) == first  # recomputed, the same


def test_clones_share_a_model_until_the_caches_are_cleared():
    pytest.importorskip("open_clip")
    from sklearn.base import clone

    from sklearn_pos import CLIPEmbedder

    emb = CLIPEmbedder("sklearn-pos-tiny", pretrained=None, device="cpu")
    first = emb.get_model().model
    assert clone(emb).get_model().model is first
    assert clear_caches()["models"] >= 1
    assert clone(emb).get_model().model is not first
    np.testing.assert_array_equal(
        np.asarray(emb.transform(["dog"])), np.asarray(clone(emb).transform(["dog"]))
    )


@pytest.mark.parametrize(
    "name", ["clear_model_cache", "clear_vocabulary_cache"]
)
def test_former_names_are_gone(name):
    assert not hasattr(sklearn_pos, name)
    assert name not in sklearn_pos.__all__
