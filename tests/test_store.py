"""The content-addressed embedding store: reads, writes, concurrency, damage."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings
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
    shards = Path(location).glob("sklearn_pos_embeddings/v2/*/*.npy")
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


class _Healthy:
    """``with _Healthy():`` fails on any CorruptStoreWarning inside."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error", CorruptStoreWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def _named(path):
    """A ``match`` pattern for a warning naming the file ``path``."""
    return re.escape(str(path))


def _header_size(shard):
    with open(shard, "rb") as f:
        np.lib.format.read_magic(f)
        np.lib.format.read_array_header_1_0(f)
        return f.tell()


def _record_size(shard):
    return np.load(shard, mmap_mode="r").dtype.itemsize


def _flip_byte(path, position):
    with open(path, "r+b") as f:
        f.seek(position)
        byte = f.read(1)
        f.seek(position)
        f.write(bytes([byte[0] ^ 0x5A]))


def test_a_damaged_entry_is_reported_healed_and_never_returned(tmp_path):
    keys, values = _data(20)
    EmbeddingStore(tmp_path).put(IDENTITY, keys, values)
    (shard,) = _shards(tmp_path)
    records = np.load(shard, mmap_mode="r+")
    records["value"][4, 0] += 1.0  # a flipped value, as from a bad disk
    records.flush()
    del records
    store = EmbeddingStore(tmp_path)
    with pytest.warns(CorruptStoreWarning, match=_named(shard)) as caught:
        got, found = store.get(IDENTITY, keys)
    assert "19 of its entries passed their checksum" in str(caught[0].message)
    assert not found[4] and found.sum() == 19
    np.testing.assert_array_equal(got, np.delete(values, 4, axis=0))
    # The 19 good entries live on in a new shard; the damaged one is set aside.
    assert shard not in _shards(tmp_path) and len(_shards(tmp_path)) == 1
    assert (shard.parent / f".corrupt-{shard.name}").is_file()
    with _Healthy():
        got, found = EmbeddingStore(tmp_path).get(IDENTITY, keys)
        np.testing.assert_array_equal(found, np.arange(20) != 4)
        store.put(IDENTITY, [keys[4]], values[4:5])  # recomputed and written anew
        got, found = EmbeddingStore(tmp_path).get(IDENTITY, keys)
    assert found.all()
    np.testing.assert_array_equal(got, values)


@pytest.mark.parametrize("cut", ["0", "7", "60", "header", "3 records", "-1"])
def test_a_truncated_shard_keeps_its_whole_records(tmp_path, cut):
    keys, values = _data(10)
    EmbeddingStore(tmp_path).put(IDENTITY, keys, values)
    (shard,) = _shards(tmp_path)
    header, record = _header_size(shard), _record_size(shard)
    size = shard.stat().st_size
    length = {
        "header": header,
        "3 records": header + 3 * record + 5,
        "-1": size - 1,
    }.get(cut, None)
    length = int(cut) if length is None else length
    os.truncate(shard, length)
    whole = max(0, (length - header) // record)
    with pytest.warns(CorruptStoreWarning, match=_named(shard)):
        got, found = EmbeddingStore(tmp_path).get(IDENTITY, keys)
    # What is returned is right; what was lost is a miss.
    np.testing.assert_array_equal(found, np.arange(10) < whole)
    np.testing.assert_array_equal(got.reshape(-1, 8), values[:whole])
    with _Healthy():
        store = EmbeddingStore(tmp_path)
        np.testing.assert_array_equal(store.get(IDENTITY, keys)[1], found)
        store.put(IDENTITY, [k for k, f in zip(keys, found) if not f], values[~found])
        got, found = EmbeddingStore(tmp_path).get(IDENTITY, keys)
    assert found.all()
    np.testing.assert_array_equal(got, values)


def _random_header(shard):
    with open(shard, "r+b") as f:
        f.write(np.random.default_rng(3).bytes(64))


def _not_npy(shard):
    shard.write_text("embedding,values\n1,2\n")


def _plain_float_array(shard):
    np.save(shard, np.ones((10, 8)))


def _another_width(shard):
    # Records of the right kind, but 4 wide, with checksums that are no use.
    records = np.zeros(3, [("crc", "<u4"), ("key", "V16"), ("value", "<f4", (4,))])
    np.save(shard, records)


def _object_array(shard):
    np.save(shard, np.array([{"a": 1}], dtype=object), allow_pickle=True)


@pytest.mark.parametrize(
    "damage",
    [_random_header, _not_npy, _plain_float_array, _another_width, _object_array],
)
def test_a_shard_that_cannot_be_read_is_set_aside(tmp_path, damage):
    keys, values = _data(5)
    store = EmbeddingStore(tmp_path)
    store.put(IDENTITY, keys, values)
    (shard,) = _shards(tmp_path)
    damage(shard)
    with pytest.warns(CorruptStoreWarning, match=_named(shard)):
        got, found = store.get(IDENTITY, keys)  # the same instance notices
    assert not found.any() and got.size == 0
    assert _shards(tmp_path) == []
    with _Healthy():
        store.put(IDENTITY, keys, values)
        got, found = EmbeddingStore(tmp_path).get(IDENTITY, keys)
    assert found.all()
    np.testing.assert_array_equal(got, values)


def test_a_shard_moved_to_another_model_is_not_served_there(tmp_path):
    other = dict(IDENTITY, weights="def")
    keys, values = _data(6)
    store = EmbeddingStore(tmp_path)
    store.put(IDENTITY, keys, values)
    store.put(other, keys, values + 1)
    (a,) = store._folder(IDENTITY).glob("*.npy")
    (b,) = store._folder(other).glob("*.npy")
    a_moved, b_moved = b.parent / a.name, a.parent / b.name
    os.replace(a, a_moved)
    os.replace(b, b_moved)
    with pytest.warns(CorruptStoreWarning, match=_named(b_moved)):
        assert not store.get(IDENTITY, keys)[1].any()
    with pytest.warns(CorruptStoreWarning, match=_named(a_moved)):
        assert not EmbeddingStore(tmp_path).get(other, keys)[1].any()
    with _Healthy():
        assert not EmbeddingStore(tmp_path).get(IDENTITY, keys)[1].any()
        assert _shards(tmp_path) == []


def test_a_damaged_record_is_not_merged(tmp_path):
    store = EmbeddingStore(tmp_path)
    keys, values = _data(MAX_SHARDS + 2)
    store.put(IDENTITY, keys[:2], values[:2])
    (first,) = _shards(tmp_path)
    records = np.load(first, mmap_mode="r+")
    records["value"][1, 3] = 7.0
    records.flush()
    del records
    with pytest.warns(CorruptStoreWarning, match=_named(first)):
        for i in range(2, len(keys)):  # the last put merges
            store.put(IDENTITY, [keys[i]], values[i : i + 1])
    assert len(_shards(tmp_path)) == 1
    with _Healthy():
        got, found = EmbeddingStore(tmp_path).get(IDENTITY, keys)
    np.testing.assert_array_equal(found, np.arange(len(keys)) != 1)
    np.testing.assert_array_equal(got, np.delete(values, 1, axis=0))


def test_an_edited_identity_file_is_reported_and_written_anew(tmp_path):
    keys, values = _data(3)
    store = EmbeddingStore(tmp_path)
    store.put(IDENTITY, keys, values)
    described = store._folder(IDENTITY) / "identity.json"
    described.write_text(json.dumps(dict(IDENTITY, modality="image")))
    with pytest.warns(CorruptStoreWarning, match=_named(described)):
        assert store_info(tmp_path)["modality"].tolist() == [None]
    with pytest.warns(CorruptStoreWarning, match=_named(described)):
        assert store.get(IDENTITY, keys)[1].all()  # the entries are bound to it
    with _Healthy():
        assert json.loads(described.read_text()) == IDENTITY
        assert store_info(tmp_path)["modality"].tolist() == ["text"]
    described.write_bytes(b"\xff\xfe not json")
    with pytest.warns(CorruptStoreWarning, match=_named(described)):
        store.put(IDENTITY, keys, values)
    with _Healthy():
        assert json.loads(described.read_text()) == IDENTITY


def test_mixed_widths_under_one_identity_fail_clearly(tmp_path):
    keys, values = _data(3)
    store = EmbeddingStore(tmp_path)
    store.put(IDENTITY, keys[:2], values[:2])
    store.put(IDENTITY, keys[2:], values[2:, :4])
    assert store.get(IDENTITY, keys[2:])[0].shape == (1, 4)
    with pytest.raises(ValueError, match=r"different types or widths \[4, 8\]"):
        store.get(IDENTITY, keys)
    with pytest.raises(ValueError, match="stores numbers"):
        store.put(IDENTITY, keys, values.astype(object))


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


# --------------------------------------------------------------------------------
# The store under a real embedder: damaged or foreign files are healed, and what
# is returned equals a fresh computation with the tiny model.

TEXTS = ["a photo of a dog", "a red car", "two birds", "the sea at night", "a cat"]


@pytest.fixture
def fresh(tiny_clip_kwargs):
    """Embeddings of TEXTS by the tiny model with seeds 0 and 1, without a store."""
    from sklearn_pos import CLIPEmbedder

    return {
        seed: CLIPEmbedder(random_state=seed, **tiny_clip_kwargs).transform(TEXTS)
        for seed in (0, 1)
    }


def _embedder(tiny_clip_kwargs, location, seed=0):
    from sklearn_pos import CLIPEmbedder

    return CLIPEmbedder(random_state=seed, memory=location, **tiny_clip_kwargs)


def _assert_healed(embedder, location, expected):
    """A second read warns of nothing, encodes nothing, and is right."""
    before = _shards(location)
    with _Healthy():
        np.testing.assert_allclose(embedder.transform(TEXTS), expected, atol=1e-6)
    assert _shards(location) == before  # all served: nothing written


def _truncate_to(length):
    def damage(shard):
        os.truncate(shard, length if length >= 0 else shard.stat().st_size + length)

    damage.__name__ = f"truncated_to_{length}"
    return damage


def _flip_data_byte(shard):
    _flip_byte(shard, shard.stat().st_size - 3)


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage",
    [
        _truncate_to(0),
        _truncate_to(9),
        _truncate_to(130),
        _truncate_to(-1),
        _random_header,
        _flip_data_byte,
        _not_npy,
        _plain_float_array,
    ],
    ids=lambda d: d.__name__.strip("_"),
)
def test_an_embedder_heals_a_damaged_shard(tiny_clip_kwargs, fresh, tmp_path, damage):
    embedder = _embedder(tiny_clip_kwargs, tmp_path)
    np.testing.assert_allclose(embedder.transform(TEXTS), fresh[0], atol=1e-6)
    (shard,) = _shards(tmp_path)
    damage(shard)
    # The same embedder (and its process's open store) reads the damaged file.
    with pytest.warns(CorruptStoreWarning, match=_named(shard)):
        got = embedder.transform(TEXTS)
    np.testing.assert_allclose(got, fresh[0], atol=1e-6)
    _assert_healed(embedder, tmp_path, fresh[0])
    _assert_healed(_embedder(tiny_clip_kwargs, tmp_path), tmp_path, fresh[0])


def _two_models(tiny_clip_kwargs, fresh, location):
    embedders = [_embedder(tiny_clip_kwargs, location, seed) for seed in (0, 1)]
    for seed, embedder in enumerate(embedders):
        np.testing.assert_allclose(embedder.transform(TEXTS), fresh[seed], atol=1e-6)
    folders = [EmbeddingStore(location)._folder(e.identity()) for e in embedders]
    return embedders, folders


@pytest.mark.slow
def test_shards_swapped_between_two_models_are_not_served(
    tiny_clip_kwargs, fresh, tmp_path
):
    embedders, folders = _two_models(tiny_clip_kwargs, fresh, tmp_path)
    (a,), (b,) = (list(f.glob("*.npy")) for f in folders)
    a_moved, b_moved = folders[1] / a.name, folders[0] / b.name
    os.replace(a, a_moved)
    os.replace(b, b_moved)
    for embedder, moved, expected in zip(embedders, (b_moved, a_moved), fresh.values()):
        with pytest.warns(CorruptStoreWarning, match=_named(moved)):
            got = embedder.transform(TEXTS)
        np.testing.assert_allclose(got, expected, atol=1e-6)
    for embedder, expected in zip(embedders, fresh.values()):
        _assert_healed(embedder, tmp_path, expected)


@pytest.mark.slow
def test_request_records_swapped_between_two_models_are_not_used(
    tiny_clip_kwargs, fresh, tmp_path
):
    embedders, _ = _two_models(tiny_clip_kwargs, fresh, tmp_path)
    store = EmbeddingStore(tmp_path)
    a, b = (store._request_path(e._request()) for e in embedders)
    text_a, text_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(text_b)
    b.write_bytes(text_a)
    for embedder, record, expected in zip(embedders, (a, b), fresh.values()):
        with pytest.warns(CorruptStoreWarning, match=_named(record)):
            got = embedder.transform(TEXTS)
        # Without the check, seed 0 would be served seed 1's embeddings.
        np.testing.assert_allclose(got, expected, atol=1e-6)
    for embedder, expected in zip(embedders, fresh.values()):
        _assert_healed(embedder, tmp_path, expected)
    # An edited record is caught the same way.
    record = json.loads(a.read_text())
    record["identity"]["identity"]["normalize"] = False
    a.write_text(json.dumps(record))
    with pytest.warns(CorruptStoreWarning, match=_named(a) + ".*fails its digest"):
        np.testing.assert_allclose(embedders[0].transform(TEXTS), fresh[0], atol=1e-6)
    _assert_healed(embedders[0], tmp_path, fresh[0])


@pytest.mark.slow
def test_identity_files_swapped_between_two_models_are_written_anew(
    tiny_clip_kwargs, fresh, tmp_path
):
    embedders, folders = _two_models(tiny_clip_kwargs, fresh, tmp_path)
    a, b = (f / "identity.json" for f in folders)
    text_a, text_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(text_b)
    b.write_bytes(text_a)
    for embedder, described, expected in zip(embedders, (a, b), fresh.values()):
        with pytest.warns(CorruptStoreWarning, match=_named(described)):
            got = embedder.transform(TEXTS)
        np.testing.assert_allclose(got, expected, atol=1e-6)
    assert (a.read_bytes(), b.read_bytes()) == (text_a, text_b)
    for embedder, expected in zip(embedders, fresh.values()):
        _assert_healed(embedder, tmp_path, expected)


def test_damage_anywhere_never_serves_a_wrong_value(tmp_path):
    # Random truncations, overwritten runs and flipped bits anywhere in a shard:
    # no exception, only right values returned, and the store whole afterwards.
    rng = np.random.default_rng(0)
    keys, values = _data(12)
    for trial in range(60):
        location = tmp_path / str(trial)
        store = EmbeddingStore(location)
        store.put(IDENTITY, keys[:6], values[:6])
        store.put(IDENTITY, keys[6:], values[6:])
        shards = _shards(location)
        shard = shards[rng.integers(len(shards))]
        header, size = _header_size(shard), shard.stat().st_size
        position = int(rng.integers(size))
        kind = trial % 3
        if kind == 0:
            os.truncate(shard, position)
        else:
            with open(shard, "r+b") as f:
                f.seek(position)
                old = f.read(1)[0]
                f.seek(position)
                if kind == 1:
                    f.write(rng.bytes(int(rng.integers(1, 40))))
                else:
                    f.write(bytes([old ^ (1 << int(rng.integers(8)))]))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CorruptStoreWarning)
            got, found = store.get(IDENTITY, keys)
        np.testing.assert_array_equal(got.reshape(-1, 8), values[found])
        if kind == 0 or position >= header:
            # Every cut shows, and every byte of every record is under checksums.
            assert [str(w.message) for w in caught if str(shard) in str(w.message)]
        store.put(IDENTITY, [k for k, f in zip(keys, found) if not f], values[~found])
        with _Healthy():
            got, found = EmbeddingStore(location).get(IDENTITY, keys)
        assert found.all()
        np.testing.assert_array_equal(got, values)
