"""Opt-in fetching (``companion.data.fetch``), end to end against a local HTTP server.

The server runs on 127.0.0.1 (port 0) in a thread and serves fixture files the tests write; the
catalogue's URLs are pointed at it, and every other connection fails the test. Its handlers: a good
file (``Range`` honoured), a corrupted one, a truncated one (``Content-Length`` larger than what is
sent), one that drops the connection halfway and serves the rest on a ``Range`` retry, one that
ignores ``Range``, and a 404.
"""

from __future__ import annotations

import dataclasses
import errno
import gzip
import hashlib
import io
import socket
import struct
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from companion import data
from companion.data import fetch
from companion.data.__main__ import main as cli_main
from tests.conftest import write_tu


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    log: list[tuple[str, str | None]] = []
    dropped: set[str] = set()

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        kind, _, name = self.path.lstrip("/").partition("/")
        rng = self.headers.get("Range")
        self.log.append((self.path, rng))
        if name not in self.files:
            self.send_error(404, "no such fixture")
            return
        body = self.files[name]
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        if kind == "corrupt":
            body = bytes(b ^ 0xFF for b in body)
        if kind in ("norange", "truncated") or not rng:
            start = 0
        if start >= len(body) and rng:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.end_headers()
            return
        rest = body[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        if kind == "truncated":  # promises the whole file, sends half, every time (and ignores Range)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        if kind == "drop" and self.path not in self.dropped:  # first time: half, then hang up
            self.dropped.add(self.path)
            self.wfile.write(rest[: len(rest) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(rest)


@pytest.fixture
def server(monkeypatch):
    """``(base_url, handler)``; only 127.0.0.1 may be reached while it runs, and retries do not wait."""
    _Handler.files, _Handler.log, _Handler.dropped = {}, [], set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    real = socket.create_connection

    def local_only(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"tried to reach {address}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", local_only)
    monkeypatch.setattr(fetch, "RETRY_WAIT", 0.0)
    monkeypatch.setattr(fetch, "TIMEOUT", 10.0)
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()
    httpd.server_close()


def _payload(n: int = 200_000) -> bytes:
    return np.random.default_rng(0).integers(0, 256, n, dtype=np.uint8).tobytes()


def _remote(url: str, body: bytes, **kw) -> fetch.Remote:
    return fetch.Remote(Path(url).name, (url,), len(body), md5=hashlib.md5(body).hexdigest(),
                        checksum_source="test md5", **kw)


# ----------------------------------------------------------------------------------------------
# download(): good, corrupted, truncated, dropped, Range ignored, no network, HTTP error, disk full
# ----------------------------------------------------------------------------------------------

def test_good_file_downloads_and_verifies(server, tmp_path):
    base, handler = server
    body = handler.files["f.bin"] = _payload()
    remote = _remote(f"{base}/good/f.bin", body)
    dest = fetch.download(remote, tmp_path / "f.bin", progress=False)
    assert dest.read_bytes() == body and not (tmp_path / "f.bin.part").exists()
    assert fetch.verify(remote, dest, None)["sha256"] == hashlib.sha256(body).hexdigest()


def test_corrupted_file_is_kept_aside_and_named(server, tmp_path):
    base, handler = server
    body = handler.files["f.bin"] = _payload()
    remote = _remote(f"{base}/corrupt/f.bin", body)
    dest = fetch.download(remote, tmp_path / "f.bin", progress=False)
    with pytest.raises(fetch.ChecksumError) as err:
        fetch.verify(remote, dest, None)
    msg = str(err.value)
    bad = tmp_path / "f.bin.bad"
    assert bad.is_file() and not dest.exists()
    assert str(bad) in msg and hashlib.md5(body).hexdigest() in msg
    assert hashlib.md5(bad.read_bytes()).hexdigest() in msg  # expected and got


def test_part_longer_than_the_file_starts_again(server, tmp_path):
    base, handler = server
    body = handler.files["f.bin"] = _payload(1000)
    (tmp_path / "f.bin.part").write_bytes(_payload(5000))
    dest = fetch.download(_remote(f"{base}/good/f.bin", body), tmp_path / "f.bin", progress=False)
    assert dest.read_bytes() == body and [r for _, r in handler.log] == ["bytes=5000-", None]


def test_truncated_transfer_retries_then_fails_keeping_the_part(server, tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "RETRIES", 2)
    base, handler = server
    body = handler.files["f.bin"] = _payload()
    url = f"{base}/truncated/f.bin"
    with pytest.raises(fetch.FetchError) as err:
        fetch.download(fetch.Remote("f.bin", (url,), None), tmp_path / "f.bin", progress=False)
    msg = str(err.value)
    assert url in msg and "broke off 3 times" in msg and "f.bin.part" in msg
    assert not (tmp_path / "f.bin").exists()
    assert (tmp_path / "f.bin.part").read_bytes() == body[: len(body) // 2]  # a later fetch resumes it
    assert [r for _, r in handler.log][1:] == [f"bytes={len(body) // 2}-"] * 2  # each retry asked for the rest


def test_dropped_connection_resumes_with_range(server, tmp_path):
    base, handler = server
    body = handler.files["f.bin"] = _payload()
    remote = _remote(f"{base}/drop/f.bin", body)
    dest = fetch.download(remote, tmp_path / "f.bin", progress=False)
    fetch.verify(remote, dest, None)
    assert dest.read_bytes() == body
    assert handler.log[0][1] is None and handler.log[1][1] == f"bytes={len(body) // 2}-"


def test_partial_file_resumes_from_where_it_stopped(server, tmp_path):
    base, handler = server
    body = handler.files["f.bin"] = _payload()
    (tmp_path / "f.bin.part").write_bytes(body[:12345])
    dest = fetch.download(_remote(f"{base}/good/f.bin", body), tmp_path / "f.bin", progress=False)
    assert dest.read_bytes() == body and handler.log == [("/good/f.bin", "bytes=12345-")]


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    base, handler = server
    body = handler.files["f.bin"] = _payload()
    (tmp_path / "f.bin.part").write_bytes(b"stale bytes that must not stay in front")
    remote = _remote(f"{base}/norange/f.bin", body)
    dest = fetch.download(remote, tmp_path / "f.bin", progress=False)
    fetch.verify(remote, dest, None)
    assert dest.read_bytes() == body and handler.log[0][1] is not None


def test_no_network_names_the_url_and_where_to_put_the_file(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x/f.bin"
    with pytest.raises(fetch.FetchError) as err:
        fetch.download(fetch.Remote("f.bin", (url,), 10), tmp_path / "sub" / "f.bin", progress=False)
    msg = str(err.value)
    assert url in msg and f"folder {tmp_path / 'sub'}" in msg and "file f.bin" in msg


def test_http_error_tries_the_mirror_then_names_both(server, tmp_path):
    base, handler = server
    body = handler.files["f.bin"] = _payload(1000)
    ok = _remote(f"{base}/good/f.bin", body)
    mirrored = dataclasses.replace(ok, urls=(f"{base}/good/missing.bin", f"{base}/good/f.bin"))
    assert fetch.download(mirrored, tmp_path / "f.bin", progress=False).read_bytes() == body
    with pytest.raises(fetch.FetchError, match=r"/good/missing.bin: HTTP 404.*place the file by hand"):
        fetch.download(dataclasses.replace(ok, urls=(f"{base}/good/missing.bin",)), tmp_path / "g.bin",
                       progress=False)


def test_disk_full_is_caught_before_the_download(server, tmp_path, monkeypatch):
    base, handler = server
    body = handler.files["f.bin"] = _payload()
    monkeypatch.setattr(fetch, "_free_bytes", lambda folder: 999)
    with pytest.raises(fetch.DiskFullError, match=r"needs 200.0 kB but .* has 999 B free"):
        fetch.download(_remote(f"{base}/good/f.bin", body), tmp_path / "f.bin", progress=False)
    assert handler.log == []  # nothing was requested


def test_disk_full_while_writing_keeps_the_part(server, tmp_path, monkeypatch):
    base, handler = server
    body = handler.files["f.bin"] = _payload()

    def full(f, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "_write", full)
    with pytest.raises(fetch.DiskFullError, match=r"is full .* partial file .*f.bin.part is kept"):
        fetch.download(fetch.Remote("f.bin", (f"{base}/good/f.bin",), None), tmp_path / "f.bin", progress=False)


# ----------------------------------------------------------------------------------------------
# Safe extraction
# ----------------------------------------------------------------------------------------------

def test_zip_member_leaving_the_folder_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("A/ok.txt", "fine")
        z.writestr("A/../../evil.txt", "bad")
    (tmp_path / "root").mkdir()
    with pytest.raises(fetch.FetchError, match="leaves"):
        fetch.extract(archive, fetch.Extract(strip="A/"), tmp_path / "root")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "root" / "ok.txt").exists()


def test_tar_links_are_refused_and_layout_is_checked(tmp_path):
    archive = tmp_path / "t.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        link = tarfile.TarInfo("top/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(link)
    with pytest.raises(fetch.FetchError, match="link or device"):
        fetch.extract(archive, fetch.Extract(strip="top/"), tmp_path)
    with tarfile.open(archive, "w:gz") as t:
        info = tarfile.TarInfo("other/file.txt")
        info.size = 2
        t.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(fetch.FetchError, match="expected every path to start with 'top/'"):
        fetch.extract(archive, fetch.Extract(strip="top/"), tmp_path)


# ----------------------------------------------------------------------------------------------
# End to end: catalogue entry -> files in the loader's layout -> the loader reads them
# ----------------------------------------------------------------------------------------------

def _idx_gz(arr) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return gzip.compress(bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "i" * arr.ndim, *arr.shape) + arr.tobytes())


def _tiny_mnist(server) -> fetch.Entry:
    base, handler = server
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28)),
              "train-labels-idx1-ubyte.gz": np.arange(6) % 10,
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 28, 28)),
              "t10k-labels-idx1-ubyte.gz": np.arange(4)}
    remotes = []
    for name, arr in arrays.items():
        body = handler.files[name] = _idx_gz(arr)
        # the published checksums would not match the fixtures: same entry, test URLs and digests
        remotes.append(_remote(f"{base}/good/{name}", body))
    return dataclasses.replace(fetch.CATALOGUE["mnist"], files=tuple(remotes))


def test_load_with_download_fetches_mnist_and_the_loader_reads_it(server, tmp_path, monkeypatch):
    monkeypatch.setitem(fetch.CATALOGUE, "mnist", _tiny_mnist(server))
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    monkeypatch.setenv("COMPANION_NO_PROGRESS", "1")
    mnist = data.load("mnist", download=True)
    assert mnist["x_train"].shape == (6, 1, 28, 28) and mnist["y_test"].tolist() == [0, 1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(
        [f.filename for f in fetch.CATALOGUE["mnist"].files] + ["fetched.json"])
    record = fetch.read_record(tmp_path / "mnist")["entries"]["mnist"]["files"]
    assert record["t10k-labels-idx1-ubyte.gz"]["checksum"] == "test md5"
    n = len(server[1].log)
    data.load("mnist", download=True)  # already there: no request
    assert len(server[1].log) == n


def _tu_zip(tmp_path: Path, name: str, label: str = "1\n2\n") -> bytes:
    raw = write_tu(tmp_path / f"src-{label.strip()[-1]}" / name, name=name)
    (raw / f"{name}_graph_labels.txt").write_text(label)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(raw.iterdir()):
            z.write(f, f"{name}/{f.name}")  # the TU zips hold one top folder NAME/
    return buf.getvalue()


def test_tu_zip_is_unpacked_into_name_raw_and_its_sha256_recorded(server, tmp_path, monkeypatch, capsys):
    base, handler = server
    handler.files["ENZYMES.zip"] = _tu_zip(tmp_path, "ENZYMES")
    entry = fetch.CATALOGUE["enzymes"]
    remote = dataclasses.replace(entry.files[0], urls=(f"{base}/good/ENZYMES.zip",))
    monkeypatch.setitem(fetch.CATALOGUE, "enzymes", dataclasses.replace(entry, files=(remote,)))
    root = tmp_path / "data" / "tu"
    graphs = data.load("tu_local", dataset="ENZYMES", root=root, download=True)
    assert [int(g.y) for g in graphs] == [0, 1] and graphs[0].num_nodes == 3
    assert (root / "ENZYMES" / "raw" / "ENZYMES_A.txt").is_file() and not (root / ".download").exists()
    sha = hashlib.sha256(handler.files["ENZYMES.zip"]).hexdigest()
    assert f"SHA-256 recorded on this first download: {sha}" in capsys.readouterr().out
    assert fetch.read_record(root)["entries"]["enzymes"]["files"]["ENZYMES.zip"]["sha256"] == sha

    # the data is lost and the server now sends another file: the recorded digest catches it
    import shutil
    shutil.rmtree(root / "ENZYMES")
    handler.files["ENZYMES.zip"] = _tu_zip(tmp_path, "ENZYMES", label="2\n1\n")
    with pytest.raises(fetch.ChecksumError, match=f"recorded on the first download.*expected sha256 {sha}"):
        fetch.fetch("enzymes", root, progress=False)
    assert (root / ".download" / "ENZYMES.zip.bad").is_file()


def test_cifar_tar_is_unpacked_without_its_top_folder(server, tmp_path, monkeypatch):
    import pickle
    base, handler = server
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
            body = pickle.dumps({b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [3, 7]})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(body)
            t.addfile(info, io.BytesIO(body))
    body = handler.files["cifar-10-python.tar.gz"] = buf.getvalue()
    entry = fetch.CATALOGUE["cifar10"]
    remote = dataclasses.replace(entry.files[0], urls=(f"{base}/drop/cifar-10-python.tar.gz",), size=len(body),
                                 md5=hashlib.md5(body).hexdigest())
    monkeypatch.setitem(fetch.CATALOGUE, "cifar10", dataclasses.replace(entry, files=(remote,)))
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    out = data.load("cifar10", download=True)
    assert out["x_train"].shape == (10, 3, 32, 32) and out["y_test"].tolist() == [3, 7]
    assert (tmp_path / "cifar10" / "test_batch").is_file()


def test_cli_fetch_and_list(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(fetch.CATALOGUE, "mnist", _tiny_mnist(server))
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    assert cli_main(["fetch", "mnist", "--no-progress"]) == 0
    capsys.readouterr()
    assert cli_main(["list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert " yes " in rows["mnist"] and str(tmp_path / "mnist") in rows["mnist"]
    assert " no " in rows["cifar10"] and " manual " in rows["pets2006"]
    assert cli_main(["fetch", "pets2006"]) == 1
    assert "datasets@pets2006.net" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["fetch", "cifar10", "--only", "Basketball"])


def test_otb_only_fetches_the_named_sequences(server, tmp_path, monkeypatch):
    base, handler = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Basketball/groundtruth_rect.txt", "1,2,3,4\n")
        z.writestr("Basketball/img/0001.jpg", b"\xff\xd8 not decoded here \xff\xd9")
    handler.files["Basketball.zip"] = buf.getvalue()
    entry = fetch.CATALOGUE["otb100"]
    files = tuple(dataclasses.replace(f, urls=(f"{base}/good/{f.filename}",)) for f in entry.files)
    monkeypatch.setitem(fetch.CATALOGUE, "otb100", dataclasses.replace(entry, files=files))
    fetch.fetch("otb100", tmp_path, only=["Basketball"], progress=False)
    assert (tmp_path / "Basketball" / "img" / "0001.jpg").is_file()
    assert [p for p, _ in handler.log] == ["/good/Basketball.zip"]
    assert fetch.is_fetched("otb100", tmp_path, only=["Basketball"]) and not fetch.is_fetched("otb100", tmp_path)
    with pytest.raises(ValueError, match="unknown part"):
        fetch.fetch("otb100", tmp_path, only=["NoSuchSequence"], progress=False)


def test_kgnn_ls_preprocessing_writes_what_the_loader_reads(tmp_path):
    from companion.data import _kgnn_ls

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "item_index2entity_id.txt").write_text("10\t100\n20\t200\n30\t300\n40\t400\n50\t500\n")
    (raw / "kg.txt").write_text("100\tfilm.genre\t900\n200\tfilm.genre\t900\n300\tfilm.director\t901\n")
    # user 1 likes 10 and 20 (>= 4), dislikes 30; user 2 likes 40; item 99 is not in the KG
    (raw / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,5.0,0\n1,20,4.0,0\n"
                                     "1,30,2.0,0\n2,40,4.5,0\n2,99,5.0,0\n")
    counts = _kgnn_ls.preprocess(raw, "movie", tmp_path)
    assert counts == {"users": 2, "items": 5, "entities": 7, "relations": 2}
    kg = data.load("kgcn_files", root=tmp_path)
    r = kg.ratings
    for user, liked, disliked in ((0, {0, 1}, {2}), (1, {3}, set())):
        mine = r[r[:, 0] == user]
        assert set(mine[mine[:, 2] == 1, 1]) == liked
        negatives = set(mine[mine[:, 2] == 0, 1])
        assert len(negatives) == len(liked) and not negatives & (liked | disliked)  # unwatched only
    assert kg.kg.tolist() == [[0, 0, 5], [1, 0, 5], [2, 1, 6]]
    again = tmp_path / "again"
    again.mkdir()
    _kgnn_ls.preprocess(raw, "movie", again)  # the official seed: the same file every time
    assert (again / "ratings_final.txt").read_bytes() == (tmp_path / "ratings_final.txt").read_bytes()


def _serve_entry(server, monkeypatch, name: str, bodies: dict[str, bytes]) -> fetch.Entry:
    """Point catalogue entry ``name`` at the test server, serving ``bodies`` with their own SHA-256."""
    base, handler = server
    entry = fetch.CATALOGUE[name]
    files = []
    for f in entry.files:
        body = handler.files[f.filename] = bodies[f.filename]
        files.append(dataclasses.replace(f, urls=(f"{base}/good/{f.filename}",), size=len(body), md5=None,
                                         sha256=hashlib.sha256(body).hexdigest()))
    patched = dataclasses.replace(entry, files=tuple(files))
    monkeypatch.setitem(fetch.CATALOGUE, name, patched)
    return patched


def test_planetoid_files_go_to_name_raw_and_pyg_reads_them(server, tmp_path, monkeypatch, tiny_planetoid):
    raw = tiny_planetoid(tmp_path / "src")
    _serve_entry(server, monkeypatch, "cora", {p.name: p.read_bytes() for p in raw.iterdir()})
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path / "data"))
    graph = data.load("planetoid", dataset="Cora", download=True)
    assert graph.num_nodes == 530 and int(graph.train_mask.sum()) == 4
    assert sorted(p.name for p in (tmp_path / "data" / "planetoid" / "Cora" / "raw").iterdir()) == sorted(
        p.name for p in raw.iterdir())


def test_dbp15k_jape_files_go_to_the_pair_folder(server, tmp_path, monkeypatch):
    bodies = {"ent_ids_1": b"0\thttp://zh.dbpedia.org/A\n1\thttp://zh.dbpedia.org/B\n",
              "ent_ids_2": b"10\thttp://dbpedia.org/A\n11\thttp://dbpedia.org/B\n",
              "triples_1": b"0\t100\t1\n", "triples_2": b"10\t200\t11\n", "ref_ent_ids": b"0\t10\n1\t11\n"}
    _serve_entry(server, monkeypatch, "dbp15k_zh_en", bodies)
    pair = data.load("dbp15k", pair="zh_en", root=tmp_path, download=True)
    assert pair.num_entities1 == 2 and pair.num_entities2 == 2 and len(pair.seed_pairs) + len(pair.test_pairs) == 2
    assert (tmp_path / "zh_en" / "triples_1").read_bytes() == bodies["triples_1"]


def test_kgcn_music_downloads_raw_files_then_preprocesses(server, tmp_path, monkeypatch):
    bodies = {"item_index2entity_id.txt": b"7\t100\n8\t200\n9\t300\n",
              "kg.txt": b"100\tartist.genre\t900\n300\tartist.genre\t900\n",
              "user_artists.dat": b"userID\tartistID\tweight\n2\t7\t13\n5\t8\t40\n"}
    _serve_entry(server, monkeypatch, "kgcn_music", bodies)
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    kg = data.load("kgcn_files", dataset="music", download=True)
    assert (kg.n_users, kg.n_items, kg.n_entities, kg.n_relations) == (2, 3, 4, 1)
    assert (tmp_path / "kgcn_music" / "raw" / "user_artists.dat").read_bytes() == bodies["user_artists.dat"]
    n = len(server[1].log)
    data.load("kgcn_files", dataset="music", download=True)  # in place: neither downloaded nor redone
    assert len(server[1].log) == n


def test_a_copy_placed_by_hand_is_checked_and_unpacked_without_a_download(server, tmp_path, monkeypatch):
    import pickle
    base, handler = server
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name in ("data_batch_1", "test_batch"):
            body = pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [1]})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(body)
            t.addfile(info, io.BytesIO(body))
    body = buf.getvalue()
    entry = fetch.CATALOGUE["cifar10"]
    remote = dataclasses.replace(entry.files[0], urls=(f"{base}/good/cifar-10-python.tar.gz",), size=len(body),
                                 md5=hashlib.md5(body).hexdigest())
    monkeypatch.setitem(fetch.CATALOGUE, "cifar10", dataclasses.replace(
        entry, files=(remote,), outputs=("data_batch_1", "test_batch")))
    with pytest.raises(fetch.FetchError) as err:  # the server does not have it
        fetch.fetch("cifar10", tmp_path, progress=False)
    where = tmp_path / ".download" / "cifar-10-python.tar.gz"
    assert f"save it as {where}" in str(err.value)
    where.write_bytes(body)  # the reader saves a copy there
    n = len(handler.log)
    fetch.fetch("cifar10", tmp_path, progress=False)
    assert len(handler.log) == n and (tmp_path / "test_batch").is_file() and not where.exists()
    assert data.load("cifar10", root=tmp_path)["y_train"].tolist() == [1]


def test_tar_members_with_a_leading_dot_slash_are_unpacked(tmp_path):
    archive = tmp_path / "sc.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        for name, body in (("./", None), ("./yes/a_nohash_0.wav", b"RIFF"), ("./testing_list.txt", b"yes/a\n")):
            info = tarfile.TarInfo(name)
            if body is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(body)
                t.addfile(info, io.BytesIO(body))
    written = fetch.extract(archive, fetch.Extract(), tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "testing_list.txt", "yes/a_nohash_0.wav"]


# ----------------------------------------------------------------------------------------------
# Nothing downloads without download=True
# ----------------------------------------------------------------------------------------------

LOCAL_CALLS = [("planetoid", {}), ("tu_local", {}), ("dbp15k", {}), ("mnist", {}), ("cifar10", {}),
               ("kgcn_files", {}), ("otb", {"sequence": "Basketball"})]


@pytest.mark.parametrize("name, kwargs", LOCAL_CALLS, ids=[n for n, _ in LOCAL_CALLS])
def test_load_without_download_never_touches_the_network(name, kwargs, tmp_path, monkeypatch, no_network):
    def refuse(*args, **kw):
        raise AssertionError("fetch was called without download=True")

    monkeypatch.setattr(fetch, "fetch", refuse)
    monkeypatch.setattr(fetch, "download", refuse)
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    try:
        data.load(name, **kwargs)
    except (FileNotFoundError, ImportError):  # the files are missing (or cv2 for otb): as it should be
        pass


def test_download_true_for_a_dataset_without_a_download_says_so(tmp_path, no_network):
    with pytest.raises(ValueError, match="nothing to download for 'karate'"):
        data.load("karate", download=True)


def test_catalogue_entries_are_complete():
    for e in fetch.CATALOGUE.values():
        assert e.homepage.startswith("http") and e.layout and e.folder
        if e.manual:
            continue
        assert e.files and e.outputs
        for f in e.files:
            assert all(u.startswith(("http://", "https://")) for u in f.urls)
            assert f.md5 is None or len(f.md5) == 32
            assert f.sha256 is None or len(f.sha256) == 64
            assert (f.md5 or f.sha256) or "recorded on first download" in f.checksum_source
    assert len(fetch.OTB100) == 98 and len(set(fetch.OTB100)) == 98


@pytest.mark.parametrize("doc", ["README.md", "book/run_it_yourself.md"])
def test_the_documented_table_is_the_catalogue(doc):
    text = (Path(__file__).resolve().parents[2] / doc).read_text()
    assert fetch.markdown_table() in text, f"{doc}: paste fetch.markdown_table() over its dataset table"


def test_no_notebook_or_cli_asks_for_a_download():
    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("book/[0-9][0-9]_*/*.md"), *root.glob("companion/*/__main__.py"),
               *root.glob("companion/*/*.py")]
    hits = [str(p.relative_to(root)) for p in sources
            if "download=True" in p.read_text() and p.parent.name != "data"]
    assert not hits, hits
