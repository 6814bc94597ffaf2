"""The content-addressed embedding store: reads, writes, concurrency, damage."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import joblib
import numpy as np
import pytest

from sklearn_pos.store import (
    MAX_SHARDS,
    CorruptStoreWarning,
    EmbeddingStore,
    clear_store,
    item_key,
    store_info,
)

IDENTITY = {"model_name": "demo", "modality": "text", "weights": "abc"}


def _data(n, width=8, seed=0, prefix="w"):
    keys = [item_key(f"{prefix}{i}".encode()) for i in range(n)]
    values = np.random.default_rng(seed).normal(size=(n, width)).astype(np.float32)
    return keys, values


def _shards(location):
    shards = Path(location).glob("sklearn_pos_embeddings/v1/*/*.npy")
    return sorted(p for p in shards if not p.name.startswith("."))


def test_round_trip_in_any_order_and_across_instances(tmp_path):
    keys, values = _data(50)
    EmbeddingStore(tmp_path).put(IDENTITY, keys, values)
    store = EmbeddingStore(tmp_path)  # a new instance reads the folder anew
    order = np.random.default_rng(1).permutation(50)
    got, found = store.get(IDENTITY, [keys[i] for i in order])
    assert found.all()
    np.testing.assert_array_equal(got, values[order])
    assert got.dtype == np.float32


def test_misses_are_reported_and_hits_keep_their_order(tmp_path):
    keys, values = _data(10)
    store = EmbeddingStore(tmp_path)
    store.put(IDENTITY, keys[:5], values[:5])
    query = [keys[7], keys[1], keys[9], keys[3]]
    got, found = store.get(IDENTITY, query)
    np.testing.assert_array_equal(found, [False, True, False, True])
    np.testing.assert_array_equal(got, values[[1, 3]])


def test_namespaces_are_separate(tmp_path):
    keys, values = _data(4)
    store = EmbeddingStore(tmp_path)
    store.put(IDENTITY, keys, values)
    other = dict(IDENTITY, precision="fp16")
    got, found = store.get(other, keys)
    assert not found.any() and got.shape[0] == 0


def test_writes_seen_by_an_open_instance(tmp_path):
    reader = EmbeddingStore(tmp_path)
    keys, values = _data(6)
    assert not reader.get(IDENTITY, keys)[1].any()
    EmbeddingStore(tmp_path).put(IDENTITY, keys, values)
    got, found = reader.get(IDENTITY, keys)
    assert found.all()
    np.testing.assert_array_equal(got, values)


def test_many_shards_are_merged_without_losing_entries(tmp_path):
    store = EmbeddingStore(tmp_path)
    keys, values = _data(MAX_SHARDS + 10)
    for i in range(len(keys)):
        store.put(IDENTITY, [keys[i]], values[i : i + 1])
        store.put(IDENTITY, [keys[0]], values[:1])  # duplicates are harmless
    assert len(_shards(tmp_path)) <= MAX_SHARDS + 1
    got, found = EmbeddingStore(tmp_path).get(IDENTITY, keys)
    assert found.all()
    np.testing.assert_array_equal(got, values)
    assert store.info()["n_entries"].tolist() == [len(keys)]


def test_info_and_clear(tmp_path):
    keys, values = _data(12)
    store = EmbeddingStore(tmp_path)
    store.put(IDENTITY, keys, values)
    store.put(dict(IDENTITY, modality="image"), keys[:3], values[:3])
    info = store_info(tmp_path)
    assert sorted(info["n_entries"]) == [3, 12]
    assert set(info["modality"]) == {"text", "image"}
    assert (info["size_bytes"] > 12 * 8 * 4).any()
    (tmp_path / "unrelated.txt").write_text("kept")
    assert clear_store(tmp_path) == 15
    assert store_info(tmp_path).empty
    assert not store.get(IDENTITY, keys)[1].any()
    assert (tmp_path / "unrelated.txt").read_text() == "kept"


def test_joblib_memory_gives_its_location(tmp_path):
    keys, values = _data(3)
    EmbeddingStore(joblib.Memory(tmp_path, verbose=0)).put(IDENTITY, keys, values)
    assert EmbeddingStore(tmp_path).get(IDENTITY, keys)[1].all()


def test_a_file_or_unwritable_location_fails_at_once_naming_it(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match=r"memory='.*file' exists and is not a folder"):
        EmbeddingStore(a_file)
    with pytest.raises(ValueError, match=r"memory='/proc/x' cannot be used"):
        EmbeddingStore("/proc/x")
    with pytest.raises(TypeError, match="memory must be None, a folder path"):
        EmbeddingStore(3)


def test_put_checks_its_arguments(tmp_path):
    keys, values = _data(3)
    with pytest.raises(ValueError, match="one row of values per key"):
        EmbeddingStore(tmp_path).put(IDENTITY, keys[:2], values)


def test_a_damaged_entry_is_reported_set_aside_and_never_returned(tmp_path):
    keys, values = _data(20)
    EmbeddingStore(tmp_path).put(IDENTITY, keys, values)
    (shard,) = _shards(tmp_path)
    records = np.load(shard, mmap_mode="r+")
    records["value"][4, 0] += 1.0  # a flipped value, as from a bad disk
    records.flush()
    del records
    store = EmbeddingStore(tmp_path)
    with pytest.warns(CorruptStoreWarning, match="1 embedding-store entry failed"):
        got, found = store.get(IDENTITY, keys)
    assert not found[4] and found.sum() == 19
    np.testing.assert_array_equal(got, np.delete(values, 4, axis=0))
    assert _shards(tmp_path) == []  # the damaged shard no longer serves anything
    assert list(shard.parent.glob(".corrupt-*"))
    store.put(IDENTITY, [keys[4]], values[4:5])  # recomputed and written anew
    got, found = EmbeddingStore(tmp_path).get(IDENTITY, [keys[4]])
    assert found.all()
    np.testing.assert_array_equal(got, values[4:5])


def test_an_unreadable_shard_is_reported_and_ignored(tmp_path):
    keys, values = _data(5)
    store = EmbeddingStore(tmp_path)
    store.put(IDENTITY, keys, values)
    (shard,) = _shards(tmp_path)
    shard.write_bytes(shard.read_bytes()[:100])  # truncated
    with pytest.warns(CorruptStoreWarning, match="unreadable embedding-store shard"):
        assert not EmbeddingStore(tmp_path).get(IDENTITY, keys)[1].any()


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn_pos.store import EmbeddingStore, item_key

    location, prefix, n, width = sys.argv[1], sys.argv[2], int(sys.argv[3]), 64
    store = EmbeddingStore(location)
    identity = {"model_name": "demo", "modality": "text", "weights": "abc"}
    print("ready", flush=True)
    for i in range(n):
        keys = [item_key(f"{prefix}{i}-{j}".encode()) for j in range(50)]
        values = np.full((50, width), i, dtype=np.float32)
        store.put(identity, keys, values)
    """
)


def _writer(tmp_path, location, prefix, n):
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    return subprocess.Popen(
        [sys.executable, str(script), str(location), prefix, str(n)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )


def _check_consistent(location, prefix, n):
    """Every stored entry of writer ``prefix`` holds exactly what was written."""
    store = EmbeddingStore(location)
    found_batches = 0
    for i in range(n):
        keys = [item_key(f"{prefix}{i}-{j}".encode()) for j in range(50)]
        got, found = store.get(IDENTITY, keys)
        assert found.all() or not found.any()  # a shard is all or nothing
        if found.any():
            found_batches += 1
            assert (got == i).all()
    return found_batches


def test_two_processes_writing_at_once(tmp_path):
    location = tmp_path / "store"
    n = 2 * MAX_SHARDS  # enough writes for both to merge shards concurrently
    procs = [_writer(tmp_path, location, p, n) for p in ("a", "b")]
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    assert _check_consistent(location, "a", n) == n
    assert _check_consistent(location, "b", n) == n
    assert EmbeddingStore(location).info()["n_entries"].sum() == 2 * n * 50


def test_a_process_killed_mid_write_leaves_a_readable_store(tmp_path):
    location = tmp_path / "store"
    proc = _writer(tmp_path, location, "k", 100_000)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # well into its writes
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    written = _check_consistent(location, "k", 400)
    assert written > 0
    keys, values = _data(5)
    store = EmbeddingStore(location)  # still writable
    store.put(IDENTITY, keys, values)
    assert store.get(IDENTITY, keys)[1].all()


def test_requests_are_remembered_across_instances(tmp_path):
    request = {"model_name": "demo", "pretrained": "/w.pt", "stat": [1, 2, 3]}
    assert EmbeddingStore(tmp_path).recall(request) is None
    EmbeddingStore(tmp_path).remember(request, IDENTITY)
    assert EmbeddingStore(tmp_path).recall(request) == IDENTITY
    assert EmbeddingStore(tmp_path).recall(dict(request, stat=[1, 2, 4])) is None
    assert EmbeddingStore(tmp_path).info().empty  # records are not namespaces


def test_open_store_opens_each_folder_once(tmp_path):
    from sklearn_pos.store import open_store

    store = open_store(tmp_path)
    assert open_store(str(tmp_path)) is store
    keys, values = _data(4)
    store.put(IDENTITY, keys, values)
    clear_store(tmp_path)
    EmbeddingStore(tmp_path).put(IDENTITY, keys[:2], values[:2])
    got, found = open_store(tmp_path).get(IDENTITY, keys)  # sees the change
    np.testing.assert_array_equal(found, [True, True, False, False])
    with pytest.raises(ValueError, match="memory='/proc/x' cannot be used"):
        open_store("/proc/x")
