"""The resumable embed-to-Parquet job: sources, errors, resume, Dask, the CLI.

Everything runs the bundled tiny model (random weights, CPU). The kill test
runs ``python -m sklearn_pos embed`` in a subprocess and kills it with
SIGKILL; the Dask tests share one ``LocalCluster`` of two worker processes
(one thread each) per module, and one test starts its own through
``scheduler="local:2"``, as a user does.
"""

import functools
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("open_clip")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from sklearn_pos import (
    CLIPEmbedder,
    DamagedOutputError,
    EmbedItemError,
    ManifestMismatchError,
    OutputLockedError,
    embed_collection,
    read_embeddings,
)
from sklearn_pos.cli import main
from sklearn_pos.datasets import make_image_folder
from sklearn_pos.store import store_info

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TINY = {"model_name": "sklearn-pos-tiny", "pretrained": None, "device": "cpu"}
TINY_CLI = ["--model", "sklearn-pos-tiny", "--pretrained", "none", "--device", "cpu"]
DIM = 64
_EMBEDDER_PARAMS = set(CLIPEmbedder().get_params())


def _embed(source, output, **kwargs):
    """``embed_collection`` with an embedder of the CLIPEmbedder parameters in kwargs.

    Without ``modality``, a folder source gets an image embedder.
    """
    params = {k: kwargs.pop(k) for k in list(kwargs) if k in _EMBEDDER_PARAMS}
    if "modality" not in params and Path(os.fspath(source)).is_dir():
        params["modality"] = "image"
    return embed_collection(source, output, embedder=CLIPEmbedder(**params), **kwargs)


def _texts(n):
    colours = ["red", "green", "blue", "yellow", "black", "white", "grey"]
    things = ["car", "dog", "house", "tree", "boat", "cup", "chair", "bird"]
    return [f"a {colours[i % 7]} {things[(i // 7) % 8]} number {i}" for i in range(n)]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.update(HF_ENDPOINT="http://127.0.0.1:9", HF_HUB_OFFLINE="1")
    return env


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Images in nested class folders, with bad files in the middle of the order.

    Sorted, the rows are: blue/ (4 good, then blue/broken.jpg: not an image),
    green/ (4 good, green/empty.png: 0 bytes, green/sub/ 1 good), red/ (4 good,
    red/truncated.png: cut short). Hidden folders and non-image files are not
    part of it.
    """
    root = tmp_path_factory.mktemp("photos")
    made = make_image_folder(root, n_per_class=4, image_size=32, formats=("png",))
    (root / "blue" / "broken.jpg").write_bytes(b"\xff\xd8 this is no jpeg")
    (root / "green" / "empty.png").write_bytes(b"")
    good = Path(made.paths[0]).read_bytes()
    (root / "red" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "green" / "sub").mkdir()
    shutil.copy(made.paths[1], root / "green" / "sub" / "nested.png")
    (root / ".ipynb_checkpoints").mkdir()
    shutil.copy(made.paths[0], root / ".ipynb_checkpoints" / "hidden.png")
    (root / "red" / "notes.txt").write_text("not an image")
    return root


BAD = {"broken.jpg": "UnidentifiedImageError", "empty.png": "", "truncated.png": ""}


def _read_table(out):
    return pd.read_parquet(out).sort_values("row").reset_index(drop=True)


# --------------------------------------------------------------------- sources


def test_folder_with_corrupt_files_records_errors_and_goes_on(folder, tmp_path):
    out = tmp_path / "emb"
    summary = _embed(
        folder, out, num_workers=0, partition_size=4, progress=False, **TINY
    )
    X, meta = read_embeddings(out)
    names = [Path(p).name for p in meta["source"]]
    assert len(names) == 16 and "hidden.png" not in names and "notes.txt" not in names
    assert meta["row"].tolist() == list(range(16))
    assert meta["source"].tolist() == sorted(meta["source"])
    bad = meta["error"].notna().to_numpy()
    assert sorted(np.array(names)[bad]) == sorted(BAD)
    assert summary.n_errors == 3 and summary.n_rows == 16
    assert summary.n_written == summary.n_partitions == 4
    assert "UnidentifiedImageError" in meta.loc[names.index("broken.jpg"), "error"]
    assert np.isnan(X[bad]).all() and np.isfinite(X[~bad]).all()
    # the good rows are what CLIPEmbedder gives for them
    ref = CLIPEmbedder(modality="image", num_workers=0, **TINY).transform(
        meta["source"][~bad].tolist()
    )
    np.testing.assert_allclose(X[~bad], ref, atol=1e-6)

    # pandas reads the folder as one table (the manifest is not data)
    table = _read_table(out)
    assert table.columns.tolist() == ["row", "source", "embedding", "error"]
    assert table["row"].tolist() == list(range(16))
    np.testing.assert_array_equal(np.stack(table["embedding"]), X)  # NaN for errors
    # in Arrow, a row without an embedding holds nulls
    embedding = pq.read_table(out).sort_by("row").column("embedding")
    nulls = np.array([v.values.null_count for v in embedding.combine_chunks()])
    np.testing.assert_array_equal(nulls, np.where(bad, DIM, 0))
    schema = pq.read_schema(next(out.glob("part-*.parquet")))
    assert schema.field("embedding").type == pa.list_(pa.float32(), DIM)
    # and the errors are listed with their rows
    assert [Path(s).name for _, s, _ in summary.errors] == list(np.array(names)[bad])


def test_on_error_raise_stops_at_the_first_bad_row(folder, tmp_path):
    out = tmp_path / "emb"
    with pytest.raises(EmbedItemError, match=r"Row 4 .*broken\.jpg") as info:
        _embed(
            folder,
            out,
            on_error="raise",
            num_workers=0,
            partition_size=4,
            progress=False,
            **TINY,
        )
    assert info.value.row == 4 and info.value.source.endswith("broken.jpg")
    # the partition before it was written; a skip run resumes from it
    assert [p.name for p in out.glob("part-*.parquet")] == ["part-00000.parquet"]
    assert (
        _embed(
            folder, out, num_workers=0, partition_size=4, progress=False, **TINY
        ).n_skipped
        == 1
    )

    # the command says the same, and exits with status 2
    status = main(
        [
            "embed",
            str(folder),
            "-o",
            str(tmp_path / "cli"),
            *TINY_CLI,
            "--on-error",
            "raise",
            "--no-progress",
            "--num-workers",
            "0",
        ]
    )
    assert status == 2


def test_on_error_raise_in_the_cli_names_row_and_path(folder, tmp_path, capsys):
    status = main(
        [
            "embed",
            str(folder),
            "-o",
            str(tmp_path / "cli"),
            *TINY_CLI,
            "--on-error",
            "raise",
            "--no-progress",
            "--num-workers",
            "0",
            "--partition-size",
            "100",
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "Row 4" in err and "broken.jpg" in err and "UnidentifiedImageError" in err


def test_text_file_csv_and_parquet_sources(tmp_path):
    texts = _texts(9)
    lines = tmp_path / "captions.txt"
    lines.write_text("\n".join(texts[:4] + [""] + texts[4:]) + "\n")
    ref = CLIPEmbedder(**TINY).transform(texts)

    X, meta = read_embeddings(_run(lines, tmp_path / "a", modality="text"))
    assert meta["error"].tolist() == [None] * 4 + ["empty text"] + [None] * 5
    np.testing.assert_allclose(np.delete(X, 4, axis=0), ref, atol=1e-6)

    frame = pd.DataFrame({"id": range(10), "caption": texts[:4] + [None] + texts[4:]})
    frame.to_parquet(tmp_path / "c.parquet")
    frame.to_csv(tmp_path / "c.csv", index=False)
    for name in ("c.parquet", "c.csv"):
        X2, meta2 = read_embeddings(
            _run(
                tmp_path / name, tmp_path / name[2:], modality="text", column="caption"
            )
        )
        assert meta2["error"][4] == "missing value"
        np.testing.assert_array_equal(X2[~np.isnan(X2[:, 0])], np.delete(X, 4, 0))
    X3, _ = read_embeddings(_run(texts, tmp_path / "seq", modality="text"))
    # other partitions, other batches: equal up to float rounding
    np.testing.assert_allclose(X3, np.delete(X, 4, 0), atol=1e-6)


def _run(source, out, **kwargs):
    _embed(source, out, partition_size=3, progress=False, **TINY, **kwargs)
    return out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"modality": "text", "column": None},
            r"columns \['id', 'caption'\].*--column",
        ),
        ({"modality": "text", "column": "text"}, "no column 'text'"),
    ],
)
def test_bad_sources_say_what_to_do(tmp_path, kwargs, match):
    pd.DataFrame({"id": [1], "caption": ["a"]}).to_parquet(tmp_path / "c.parquet")
    with pytest.raises(ValueError, match=match):
        _embed(tmp_path / "c.parquet", tmp_path / "o", **TINY, **kwargs)


def test_text_modality_on_a_folder_and_missing_source_are_refused(folder, tmp_path):
    with pytest.raises(ValueError, match="read as images"):
        _embed(folder, tmp_path / "o", modality="text", **TINY)
    with pytest.raises(ValueError, match="no such file or folder"):
        _embed(tmp_path / "nowhere", tmp_path / "o", **TINY)


def test_float16_output(tmp_path):
    texts = _texts(5)
    X32, _ = read_embeddings(_run(texts, tmp_path / "a", modality="text"))
    out = _run(texts, tmp_path / "b", modality="text", dtype="float16")
    field = pq.read_schema(out / "part-00000.parquet").field("embedding")
    assert field.type == pa.list_(pa.float16(), DIM)
    X16, _ = read_embeddings(out, dtype=None)
    assert X16.dtype == np.float16
    np.testing.assert_array_equal(X16, X32.astype(np.float16))
    assert read_embeddings(out)[0].dtype == np.float32


def test_items_in_the_store_are_not_encoded_again(tmp_path):
    texts = _texts(12)
    store = tmp_path / "store"
    X1, _ = read_embeddings(_run(texts, tmp_path / "a", modality="text", memory=store))
    info = store_info(store)
    assert info["n_entries"].sum() == 12
    # a second job reads every item from the store: no new shard is written,
    # which every encoding does
    X2, _ = read_embeddings(_run(texts, tmp_path / "b", modality="text", memory=store))
    np.testing.assert_array_equal(X1, X2)
    assert store_info(store)["n_shards"].sum() == info["n_shards"].sum()


# ------------------------------------------------------------- resume, manifest


def test_rerun_recomputes_only_missing_or_damaged_partitions(tmp_path):
    texts = _texts(10)
    out = _run(texts, tmp_path / "o", modality="text")
    X, meta = read_embeddings(out)
    (out / "part-00001.parquet").unlink()
    with pytest.raises(ValueError, match="incomplete: 1 of 4 partitions"):
        read_embeddings(out)
    _, metai = read_embeddings(out, allow_incomplete=True)
    assert metai["row"].tolist() == [0, 1, 2, 6, 7, 8, 9]
    # a damaged file (cut short) and a leftover temporary file
    damaged = out / "part-00002.parquet"
    damaged.write_bytes(damaged.read_bytes()[:100])
    (out / ".tmp-0123-part-00003.parquet").write_bytes(b"partial")
    with pytest.warns(UserWarning, match="part-00002.parquet"):
        summary = _embed(
            texts, out, modality="text", partition_size=3, progress=False, **TINY
        )
    assert (summary.n_written, summary.n_skipped) == (2, 2)
    assert summary.damaged == ["part-00002.parquet"]
    assert not list(out.glob(".tmp-*"))
    X2, meta2 = read_embeddings(out)
    np.testing.assert_array_equal(X2, X)
    pd.testing.assert_frame_equal(meta2, meta)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"precision": "bf16"}, "model.precision"),
        ({"normalize": False}, "model.normalize"),
        ({"random_state": 1}, "model.weights"),
        ({"partition_size": 4}, "partition_size"),
        ({"dtype": "float16"}, "dtype"),
        ({"source": _texts(7)[::-1]}, "source.items"),
    ],
)
def test_manifest_mismatch_refuses_to_mix_outputs(tmp_path, change, field):
    out = _run(_texts(7), tmp_path / "o", modality="text")
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    kwargs = {**TINY, "modality": "text", "partition_size": 3, "progress": False}
    kwargs.update(change)
    source = kwargs.pop("source", _texts(7))
    with pytest.raises(ManifestMismatchError, match=field) as info:
        _embed(source, out, **kwargs)
    assert any(d.startswith(field + ":") for d in info.value.differences)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_settings_that_do_not_change_the_output_may_differ(tmp_path):
    out = _run(_texts(7), tmp_path / "o", modality="text")
    summary = _embed(
        _texts(7),
        out,
        modality="text",
        partition_size=3,
        batch_size=2,
        on_error="raise",
        progress=False,
        **TINY,
    )
    assert summary.n_skipped == 3


def test_parquet_files_without_a_manifest_are_not_mixed_with(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    pd.DataFrame({"a": [1]}).to_parquet(out / "other.parquet")
    with pytest.raises(ManifestMismatchError, match="no _manifest.json"):
        _embed(_texts(3), out, modality="text", **TINY)
    with pytest.raises(FileNotFoundError, match="not the output folder"):
        read_embeddings(out)


def test_killed_run_resumes_with_every_row_exactly_once(tmp_path):
    n, size = 4000, 40
    source = tmp_path / "captions.txt"
    source.write_text("\n".join(_texts(n)) + "\n")
    out = tmp_path / "emb"
    command = [
        sys.executable,
        "-m",
        "sklearn_pos",
        "embed",
        str(source),
        "-o",
        str(out),
        "--modality",
        "text",
        "--partition-size",
        str(size),
        *TINY_CLI,
    ]
    proc = subprocess.Popen(
        command + ["--no-progress"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    try:
        while not list(out.glob("part-*.parquet")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no partition written in time"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    written = len(list(out.glob("part-*.parquet")))
    assert 0 < written < n // size, "the run was not stopped midway"

    rerun = subprocess.run(
        command, env=_env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    resumed = re.search(r"(\d+) written, (\d+) already complete", rerun.stdout)
    assert resumed, rerun.stdout
    assert int(resumed[1]) + int(resumed[2]) == n // size
    assert int(resumed[2]) >= written and "rows/s" in rerun.stdout
    assert "row/s" in rerun.stderr  # the progress bar
    X, meta = read_embeddings(out)
    assert meta["row"].tolist() == list(range(n))
    table = pd.read_parquet(out)
    assert len(table) == n and table["row"].is_unique
    # the same as one uninterrupted run
    ref, _ = read_embeddings(_run_sized(source, tmp_path / "ref", size))
    np.testing.assert_array_equal(X, ref)


def _run_sized(source, out, size):
    _embed(
        source, out, modality="text", partition_size=size, progress=False, **TINY
    )
    return out


# ------------------------------------------------------ damage, limits, edges


def _damage(path, how, donor=None):
    """Damage the partition file ``path`` on purpose (``how``)."""
    data = bytearray(path.read_bytes())
    if how == "flip":
        # a few bytes in the middle of the pages of the embeddings
        chunk = pq.ParquetFile(path).metadata.row_group(0).column(2)
        assert chunk.path_in_schema == "embedding.list.element"
        first = chunk.dictionary_page_offset or chunk.data_page_offset
        middle = first + chunk.total_compressed_size // 2
        for i in range(middle, middle + 4):
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))
    elif how == "truncate":
        path.write_bytes(bytes(data[: len(data) * 2 // 3]))
    else:  # replaced by a copy of another partition (same job, other rows)
        shutil.copyfile(donor, path)


def _forget_digests(out):
    """The manifest as a run stopped before recording its digests leaves it."""
    manifest = json.loads((out / "_manifest.json").read_text())
    for part in manifest["partitions"]:
        part.pop("sha256", None)
        part.pop("bytes", None)
    (out / "_manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("recorded", [True, False], ids=["digest", "no-digest"])
@pytest.mark.parametrize("how", ["flip", "truncate", "copy"])
def test_damaged_partition_is_named_on_read_and_embedded_again(
    tmp_path, how, recorded
):
    texts = _texts(12)
    ref_out = _run(texts, tmp_path / "ref", modality="text")
    X_ref, meta_ref = read_embeddings(ref_out)
    out = _run(texts, tmp_path / "o", modality="text")
    manifest = json.loads((out / "_manifest.json").read_text())
    for part in manifest["partitions"]:  # the digest of each file, as written
        data = (out / part["file"]).read_bytes()
        assert part["sha256"] == hashlib.sha256(data).hexdigest()
        assert part["bytes"] == len(data)
    if not recorded:
        # no digest: the page checksums and the row ranges still tell
        _forget_digests(out)
    target = out / "part-00002.parquet"
    _damage(target, how, donor=out / "part-00001.parquet")

    with pytest.raises(DamagedOutputError, match="part-00002.parquet") as info:
        read_embeddings(out)
    assert list(info.value.damaged) == ["part-00002.parquet"]
    assert "Run the same embed command (embed_collection call) again" in str(
        info.value
    )
    if how == "copy":
        assert "holds rows 3-5 where rows 6-8 belong" in str(info.value) or recorded
    with pytest.raises(DamagedOutputError, match="part-00002.parquet"):
        read_embeddings(out, allow_incomplete=True)  # damage is never skipped

    with pytest.warns(UserWarning, match="(?s)part-00002.parquet.*embeds them again"):
        summary = _embed(
            texts, out, modality="text", partition_size=3, progress=False, **TINY
        )
    assert summary.damaged == ["part-00002.parquet"]
    assert (summary.n_written, summary.n_skipped) == (1, 3)
    X, meta = read_embeddings(out)
    np.testing.assert_array_equal(X, X_ref)
    pd.testing.assert_frame_equal(meta, meta_ref)
    # every digest is recorded again, and a further run has nothing to do
    manifest = json.loads((out / "_manifest.json").read_text())
    assert all(len(p["sha256"]) == 64 for p in manifest["partitions"])
    assert manifest["complete"] is True
    again = _embed(
        texts, out, modality="text", partition_size=3, progress=False, **TINY
    )
    assert (again.n_written, again.damaged) == (0, [])


def test_cli_rerun_reports_the_damaged_partition(tmp_path, capsys):
    texts = tmp_path / "t.txt"
    texts.write_text("\n".join(_texts(6)) + "\n")
    out = tmp_path / "o"
    args = ["embed", str(texts), "-o", str(out), "--modality", "text"]
    args += ["--partition-size", "3", "--no-progress", *TINY_CLI]
    assert main(args) == 0
    _damage(out / "part-00000.parquet", "flip")
    capsys.readouterr()
    with pytest.warns(UserWarning, match="part-00000.parquet"):
        assert main(args) == 0
    printed = capsys.readouterr().out
    assert "1 damaged partition embedded again: part-00000.parquet" in printed
    assert "1 written, 1 already complete" in printed


def test_manifest_with_another_list_of_partitions_is_refused(tmp_path):
    out = _run(_texts(7), tmp_path / "o", modality="text")
    manifest = json.loads((out / "_manifest.json").read_text())
    good = json.dumps(manifest)
    manifest["partitions"][1]["stop"] = 5  # rows 5 would be read twice
    (out / "_manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="do not match the job"):
        read_embeddings(out)
    with pytest.raises(ValueError, match="do not match the job"):
        _run(_texts(7), out, modality="text")
    manifest = json.loads(good)
    manifest["job_id"] = "0" * 32
    (out / "_manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="partitions or job id in .* do not match"):
        read_embeddings(out)
    (out / "_manifest.json").write_text(good)
    assert read_embeddings(out)[1]["row"].tolist() == list(range(7))


def test_text_file_rows_are_its_lines_as_wc_counts_them(tmp_path):
    lines = [
        "a page\x0cbreak",
        "a vertical\x0btab",
        "a file\x1cseparator",
        "a next\u0085line",
        "a line\u2028separator",
        "a windows line",
        "a lone\rreturn",
    ]
    body = "\n".join(lines[:5]) + "\n" + lines[5] + "\r\n" + lines[6]
    ending = tmp_path / "seven.txt"
    ending.write_bytes((body + "\n").encode("utf-8"))
    no_ending = tmp_path / "no_final_newline.txt"
    no_ending.write_bytes(body.encode("utf-8"))
    if shutil.which("wc"):
        wc = subprocess.run(
            ["wc", "-l", str(ending)], capture_output=True, text=True, check=True
        )
        assert int(wc.stdout.split()[0]) == 7
    ref = CLIPEmbedder(**TINY).transform(lines)
    for source in (ending, no_ending):
        X, meta = read_embeddings(_run(source, tmp_path / source.stem, modality="text"))
        assert meta["row"].tolist() == list(range(7))
        assert meta["source"].tolist() == lines
        np.testing.assert_allclose(X, ref, atol=1e-6)


class _Server:
    """A TCP server on 127.0.0.1 that is no Dask scheduler.

    ``"silent"`` accepts connections and never answers; ``"http"`` answers
    what a web server answers to a request it does not understand.
    """

    def __init__(self, mode):
        import socket

        self.mode = mode
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            if self.mode == "http":
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n"
                        b"Content-Length: 11\r\n\r\nBad Request" * 4
                    )
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.mark.parametrize("mode", ["silent", "http"])
def test_scheduler_address_that_is_no_scheduler_fails_in_bounded_time(
    tmp_path, mode, capsys
):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    server = _Server(mode)
    out = tmp_path / "o"
    source = tmp_path / "t.txt"
    source.write_text("a dog\n")
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
            started = time.monotonic()
            with pytest.raises(ValueError, match=re.escape(server.address)) as info:
                _run(_texts(3), out, modality="text", scheduler=server.address)
            assert time.monotonic() - started < 30
            status = main(
                ["embed", str(source), "-o", str(out), "--modality", "text"]
                + ["--scheduler", server.address, "--no-progress", *TINY_CLI]
            )
    finally:
        server.close()
    said = str(info.value)
    if mode == "silent":
        assert "no answer within 2 s" in said
    else:
        assert "not the Dask protocol" in said or "not a Dask scheduler" in said
    assert "distributed.comm.timeouts.connect" in said
    assert not out.exists()  # nothing written
    err = capsys.readouterr().err
    assert status == 2 and server.address in err and "Traceback" not in err


def _image_folder_with_a_latin1_name(root):
    made = make_image_folder(root, classes=("red",), n_per_class=3, image_size=32)
    bad = os.fsencode(str(root / "red")) + b"/caf\xe9.png"
    try:
        with open(bad, "wb") as f:
            f.write(Path(made.paths[0]).read_bytes())
    except OSError as exc:  # a file system that holds UTF-8 names only
        pytest.skip(f"cannot create a non-UTF-8 file name here: {exc}")
    return made


def test_non_utf8_file_name_is_flagged_and_the_others_embedded(tmp_path):
    made = _image_folder_with_a_latin1_name(tmp_path / "photos")
    out = tmp_path / "o"
    summary = _embed(
        tmp_path / "photos",
        out,
        partition_size=2,
        num_workers=0,
        progress=False,
        **TINY,
    )
    X, meta = read_embeddings(out)
    assert summary.n_rows == 4 and summary.n_errors == 1
    names = [Path(p).name for p in meta["source"]]
    bad = names.index("caf\\xe9.png")  # the bytes shown escaped, never lost
    assert "not valid UTF-8" in meta["error"][bad]
    assert meta["error"].isna().sum() == 3 and np.isnan(X[bad]).all()
    good = meta["error"].isna().to_numpy()
    assert sorted(meta["source"][good]) == sorted(made.paths)
    ref = CLIPEmbedder(modality="image", num_workers=0, **TINY).transform(
        meta["source"][good].tolist()
    )
    np.testing.assert_allclose(X[good], ref, atol=1e-6)
    with pytest.raises(EmbedItemError, match="not valid UTF-8"):
        _embed(
            tmp_path / "photos",
            tmp_path / "r",
            on_error="raise",
            num_workers=0,
            progress=False,
            **TINY,
        )


_HOLD_LOCK = """
import sys
from sklearn_pos.jobs._lock import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_second_job_on_a_folder_fails_at_start_and_stale_locks_are_taken(
    tmp_path, capsys
):
    out = tmp_path / "o"
    out.mkdir()
    source = tmp_path / "t.txt"
    source.write_text("a dog\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(out)],
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputLockedError, match="Another job is writing") as info:
            _run(_texts(4), out, modality="text")
        assert f"pid {holder.pid}" in str(info.value)
        assert info.value.holder["pid"] == holder.pid
        assert sorted(p.name for p in out.iterdir()) == ["_job.lock"]
        status = main(
            ["embed", str(source), "-o", str(out), "--modality", "text", *TINY_CLI]
        )
        err = capsys.readouterr().err
        assert status == 2 and "Another job is writing" in err
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0 and not (out / "_job.lock").exists()
    _run(_texts(4), out, modality="text")

    # the lock of a process that was killed is taken over
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = {"pid": int(gone.stdout), "host": socket.gethostname(), "started": "then"}
    (out / "_job.lock").write_text(json.dumps(stale))
    summary = _run_summary(_texts(4), out)
    assert summary.n_skipped == 2 and not (out / "_job.lock").exists()


def _run_summary(source, out):
    return _embed(
        source, out, modality="text", partition_size=3, progress=False, **TINY
    )


_LIMITED = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from sklearn_pos.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_file_too_large_names_the_path_and_what_to_do(tmp_path):
    pytest.importorskip("resource")
    source = tmp_path / "t.txt"
    source.write_text("\n".join(_texts(200)) + "\n")
    out = tmp_path / "o"
    command = [sys.executable, "-c", _LIMITED, "20000", "embed", str(source)]
    command += ["-o", str(out), "--modality", "text", "--partition-size", "100"]
    res = subprocess.run(
        command + ["--no-progress", *TINY_CLI],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert f"could not write {out / 'part-00000.parquet'}: File too large" in (
        res.stderr
    )
    assert "free space" in res.stderr and "--output" in res.stderr
    # nothing half-written is left, and the job resumes once there is room
    assert sorted(p.name for p in out.iterdir()) == ["_manifest.json"]
    X, meta = read_embeddings(_run_sized(source, out, 100))
    assert X.shape == (200, DIM) and meta["row"].tolist() == list(range(200))


def test_output_that_cannot_be_a_folder_names_the_path(tmp_path, capsys):
    (tmp_path / "file").write_text("a file, not a folder")
    out = tmp_path / "file" / "o"
    with pytest.raises(OSError, match=f"could not create the folder {out}: "):
        _run(_texts(3), out, modality="text")
    source = tmp_path / "t.txt"
    source.write_text("a dog\n")
    status = main(["embed", str(source), "-o", str(out), "--modality", "text"])
    err = capsys.readouterr().err
    assert status == 2 and f"could not create the folder {out}" in err
    assert "choose another output folder" in err and "Traceback" not in err


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="permissions do not bind root",
)
def test_read_only_output_names_the_path(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(OSError, match=f"could not create the lock file {out}"):
            _run(_texts(3), out, modality="text")
    finally:
        out.chmod(0o755)


# ------------------------------------------------------------------ the command


def test_cli_embed_prints_the_summary(folder, tmp_path, capsys):
    out = tmp_path / "emb"
    status = main(
        [
            "embed",
            str(folder),
            "-o",
            str(out),
            *TINY_CLI,
            "--no-progress",
            "--num-workers",
            "0",
            "--partition-size",
            "5",
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert "16 rows" in printed and "4 partitions: 4 written" in printed
    assert "3 rows could not be embedded" in printed and "broken.jpg" in printed
    assert "errors: 3" in printed and "rows/s" in printed
    assert read_embeddings(out)[0].shape == (16, DIM)


def test_cli_embed_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["embed", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--output",
        "--modality",
        "--column",
        "--model",
        "--pretrained",
        "--device",
        "--precision",
        "--batch-size",
        "--partition-size",
        "--scheduler",
        "--on-error",
        "--no-progress",
        "--dtype",
        "--memory",
    ):
        assert option in text


# ------------------------------------------------------------ without extras


def test_core_imports_without_pyarrow_and_dask(tmp_path):
    code = textwrap.dedent("""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {"pyarrow", "dask", "distributed"}:
                    raise ImportError(f"blocked: {name}")

        sys.meta_path.insert(0, Block())
        import sklearn_pos
        from sklearn_pos import embed_collection, read_embeddings

        assert not {"pyarrow", "dask", "distributed"} & set(sys.modules)
        text = sklearn_pos.CLIPEmbedder("sklearn-pos-tiny", None, device="cpu")
        for call in (lambda: embed_collection(["a"], "o", embedder=text),
                     lambda: read_embeddings("o")):
            try:
                call()
            except ImportError as exc:
                assert "sklearn_pos[distributed]" in str(exc), exc
            else:
                raise AssertionError("no ImportError")
        print("ok")
    """)
    res = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_local_scheduler_needs_dask_and_says_so(tmp_path):
    code = textwrap.dedent("""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {"dask", "distributed"}:
                    raise ImportError(f"blocked: {name}")

        sys.meta_path.insert(0, Block())
        from sklearn_pos import CLIPEmbedder, embed_collection
        text = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu")
        kw = dict(embedder=text, progress=False)
        assert embed_collection(["a", "b"], "o", **kw).n_rows == 2
        try:
            embed_collection(["a", "b"], "o2", scheduler="local:2", **kw)
        except ImportError as exc:
            assert "sklearn_pos[distributed]" in str(exc), exc
            print("ok")
    """)
    res = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


# ------------------------------------------------------------------------ Dask


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    import dask

    # Not daemonic, as the job's own local:N cluster: the workers may start
    # DataLoader processes.
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
    with distributed.Client(cluster) as client:
        # Warm workers, as a long job has them: each has imported torch and
        # loaded the model once.
        client.run(functools.partial(CLIPEmbedder(**TINY).transform, ["warm"]))
        yield client
    cluster.close()


def test_local_cluster_gives_the_same_table_as_one_process(folder, tmp_path):
    pytest.importorskip("distributed")
    import torch

    out = tmp_path / "dask"
    summary = _embed(
        folder, out, scheduler="local:2", partition_size=3, progress=False, **TINY
    )
    assert summary.executor == "a local cluster of 2 worker processes"
    # The workers run torch on their share of the cores; so does the reference
    # (the thread count changes the last bits of the sums).
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))
    try:
        ref = _run_folder(folder, tmp_path / "one")
    finally:
        torch.set_num_threads(threads)
    pd.testing.assert_frame_equal(_read_table(out), _read_table(ref))
    assert summary.n_errors == 3


def _run_folder(folder, out):
    _embed(
        folder, out, partition_size=3, num_workers=0, progress=False, **TINY
    )
    return out


def test_worker_loss_loses_no_rows(client, tmp_path):
    n, size = 3000, 50
    texts = _texts(n)
    out = tmp_path / "emb"
    pids = client.run(os.getpid)
    victim = min(pids.values())
    killed = {}

    def kill_one_worker_midway():
        deadline = time.monotonic() + 120
        while not list(out.glob("part-*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(victim, signal.SIGKILL)
        killed["files"] = len(list(out.glob("part-*.parquet")))

    killer = threading.Thread(target=kill_one_worker_midway)
    killer.start()
    try:
        summary = _embed(
            texts,
            out,
            modality="text",
            scheduler=client,
            partition_size=size,
            progress=False,
            **TINY,
        )
    finally:
        killer.join()
    assert killed["files"] < n // size, "the worker was killed after the job"
    assert victim not in client.run(os.getpid).values()
    assert summary.n_written == n // size and summary.n_errors == 0
    X, meta = read_embeddings(out)
    assert meta["row"].tolist() == list(range(n))
    table = pd.read_parquet(out)
    assert len(table) == n and table["row"].is_unique
    ref = CLIPEmbedder(**TINY).transform(texts)
    np.testing.assert_allclose(X, ref, atol=1e-6)
    client.wait_for_workers(2, timeout=120)


def test_scheduler_address_of_a_running_cluster(client, tmp_path):
    import dask

    address = client.scheduler.address
    assert address.startswith("tcp://")
    texts = _texts(7)
    ref, _ = read_embeddings(_run(texts, tmp_path / "here", modality="text"))
    # the identity request answers well within the deadline
    with dask.config.set({"distributed.comm.timeouts.connect": "10s"}):
        out = _run(texts, tmp_path / "there", modality="text", scheduler=address)
    X, meta = read_embeddings(out)
    assert meta["row"].tolist() == list(range(7))
    np.testing.assert_allclose(X, ref, atol=1e-6)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["settings"]["scheduler"] == address
    assert all(len(p["sha256"]) == 64 for p in manifest["partitions"])


def test_empty_partitions_of_dask_collections(client):
    dd = pytest.importorskip("dask.dataframe")
    from sklearn.pipeline import make_pipeline

    from sklearn_pos import PartOfSpeechComponentAnalysis

    texts = pd.Series(_texts(12), name="caption")
    ds = dd.from_pandas(texts, npartitions=4)
    ds = ds[ds.index >= 3]  # the first partition is left empty
    assert 0 in ds.map_partitions(len).compute(scheduler=client).tolist()
    emb = CLIPEmbedder(**TINY)
    E = ds.map_partitions(emb.transform, meta=np.empty((0, DIM), np.float32))
    kept = texts[3:].tolist()
    np.testing.assert_allclose(
        E.compute(scheduler=client), emb.transform(kept), atol=1e-6
    )

    words = ["dog", "cat", "car", "tree", "red", "blue", "small", "big"]
    pos = PartOfSpeechComponentAnalysis(n_components=2).fit(
        emb.transform(words), ["noun"] * 4 + ["adj"] * 4
    )
    pipe = make_pipeline(emb, pos)
    Z = ds.map_partitions(pipe.transform, meta=np.empty((0, 2), np.float32))
    np.testing.assert_allclose(
        Z.compute(scheduler=client), pipe.transform(kept), atol=1e-5
    )
    assert pipe.transform(pd.Series([], dtype=object)).shape == (0, 2)


def test_grid_search_on_the_cluster_with_a_shared_store(client, tmp_path):
    import joblib
    from distributed import get_task_stream
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    texts = _texts(30)
    y = np.array(["red" in t or "blue" in t for t in texts])
    store = tmp_path / "store"  # a folder every worker sees

    def search():
        pipe = make_pipeline(CLIPEmbedder(memory=store, **TINY), LogisticRegression())
        return GridSearchCV(
            pipe, {"logisticregression__C": [0.1, 10.0]}, cv=3, n_jobs=2
        )

    with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
        on_cluster = search().fit(texts, y)
    assert len(tasks.data) > 0  # the fits ran as tasks on the workers
    assert store_info(store)["n_entries"].sum() == len(texts)
    here = search().set_params(n_jobs=1).fit(texts, y)
    np.testing.assert_allclose(
        on_cluster.cv_results_["mean_test_score"], here.cv_results_["mean_test_score"]
    )


def test_the_job_takes_an_embedder_and_records_its_identity(tmp_path):
    text = CLIPEmbedder(**TINY, batch_size=2, memory=tmp_path / "store")
    before = text.get_params()
    out = tmp_path / "o"
    summary = embed_collection(_texts(5), out, embedder=text, progress=False)
    assert summary.n_rows == 5
    # The caller's embedder is left as it was (the job works on clones).
    assert text.get_params() == before
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["job"]["model"] == json.loads(json.dumps(text.identity()))
    assert manifest["settings"]["batch_size"] == 2
    assert manifest["settings"]["memory"] == str(tmp_path / "store")
    X, _ = read_embeddings(out)
    np.testing.assert_allclose(X, text.transform(_texts(5)), atol=1e-6)
    # Its store (memory=) was filled by the job.
    assert store_info(tmp_path / "store")["n_entries"].sum() == 5


def test_the_job_refuses_what_is_not_an_embedder(tmp_path):
    with pytest.raises(TypeError, match="embedder must be a CLIPEmbedder"):
        embed_collection(_texts(2), tmp_path / "o", embedder=TINY)
    with pytest.raises(ValueError, match="batch_size"):
        embed_collection(
            _texts(2), tmp_path / "o", embedder=CLIPEmbedder(**TINY, batch_size=0)
        )
    assert not (tmp_path / "o").exists()


def test_cli_embed_asks_what_the_items_of_a_file_are(tmp_path, capsys):
    pd.DataFrame({"caption": ["a", "b"]}).to_parquet(tmp_path / "c.parquet")
    status = main(
        ["embed", str(tmp_path / "c.parquet"), "--column", "caption",
         "--output", str(tmp_path / "o"), *TINY_CLI, "--no-progress"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2
    assert "--modality text or --modality image" in err
    assert not (tmp_path / "o").exists()
