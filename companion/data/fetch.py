"""Opt-in download of the papers' datasets into the folders the local loaders read.

Nothing in the book downloads on its own: a download happens only through
``python -m companion.data fetch NAME`` or ``companion.data.load(NAME, download=True)``.
:data:`CATALOGUE` is the one list of what can be fetched: for each entry the official URL(s),
the size, a checksum, the loader that reads it and the folder layout it produces.

Checksums: the upstream-published one where there is one (the MD5 values torchvision and
torchaudio carry, GroupLens' MD5 of ml-20m.zip); for files served from a pinned commit of a git
repository, the SHA-256 of the file at that commit; otherwise the SHA-256 is recorded on the
first download (in ``fetched.json`` beside the data, and printed), and every later download of
that file must match it.

Files go to ``root`` (default ``$COMPANION_DATA/<folder>``, the loader's default root). A
partial download stays as ``<file>.part`` and the next try resumes it with an HTTP ``Range``
request (and starts again cleanly when the server ignores ``Range``). Errors say what to do: a
checksum mismatch moves the bad file aside and names it; a network or HTTP error names the URL
and the folder and file name under which to place a hand-downloaded copy; too little disk space
is caught before the download starts (and ``ENOSPC`` while writing).
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import posixpath
import shutil
import stat
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

CHUNK = 1 << 20
RETRIES = 3  # resumed tries after a dropped connection, per file
RETRY_WAIT = 1.0  # seconds before the first retry (doubled each time)
TIMEOUT = 60.0  # seconds without data before a read fails
RECORD = "fetched.json"  # per root: what was fetched, with the SHA-256 of every file
USER_AGENT = "companion-data-fetch (urllib)"


class FetchError(RuntimeError):
    """A download that cannot be completed (network, HTTP, incomplete transfer, manual-only entry)."""


class ChecksumError(FetchError):
    """The downloaded file's digest differs from the published (or recorded) one."""


class DiskFullError(FetchError):
    """Not enough free space for a download or its extraction."""


@dataclass(frozen=True)
class Extract:
    """How an archive becomes the loader's layout: members whose path starts with ``strip`` are
    written to ``<root>/<into>/<rest of path>``; ``only`` keeps just the listed rests."""

    strip: str = ""
    into: str = ""
    only: tuple[str, ...] = ()


@dataclass(frozen=True)
class Remote:
    """One file to download: its URL(s) (mirrors tried in order), size in bytes (``None``: not
    published; the server's ``Content-Length`` is used), a published checksum or none."""

    filename: str
    urls: tuple[str, ...]
    size: int | None = None
    md5: str | None = None
    sha256: str | None = None
    checksum_source: str = "none published: SHA-256 recorded on first download"
    into: str = ""  # folder under the root for a plain file
    extract: Extract | None = None  # set for an archive


@dataclass(frozen=True)
class Entry:
    """One fetchable dataset: where it goes (``folder`` under ``$COMPANION_DATA``), what the loader
    needs afterwards (``outputs``, relative to the root), and the files to download."""

    name: str
    description: str
    folder: str
    loader: str | None
    layout: str
    files: tuple[Remote, ...]
    outputs: tuple[str, ...]
    homepage: str
    post: str | None = None  # a step after the downloads ("kgnn_ls:movie")
    manual: str | None = None  # set when the files cannot be fetched automatically

    @property
    def size(self) -> int | None:
        """Total download size in bytes, ``None`` when some file's size is not published."""
        sizes = [f.size for f in self.files]
        return None if not sizes or None in sizes else sum(sizes)  # type: ignore[arg-type]


def _gh(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


# ------------------------------------------------------------------------------------------------
# The catalogue
# ------------------------------------------------------------------------------------------------

PLANETOID_REPO, PLANETOID_COMMIT = "kimiyoung/planetoid", "af6abf468a772cc055bec88c52e4d6f51b7c37e3"
# (suffix, size, sha256) of Kipf's files at that commit (computed from the commit's blobs)
_PLANETOID = {
    "cora": [("x", 22119, "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab"),
             ("tx", 148025, "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a"),
             ("allx", 257305, "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543"),
             ("y", 4054, "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1"),
             ("ty", 28135, "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad"),
             ("ally", 47959, "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71"),
             ("graph", 59847, "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d"),
             ("test.index", 5000, "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875")],
    "citeseer": [("x", 31087, "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6"),
                 ("tx", 260321, "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21"),
                 ("allx", 595021, "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668"),
                 ("y", 3014, "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924"),
                 ("ty", 24135, "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce"),
                 ("ally", 55623, "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95"),
                 ("graph", 61987, "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7"),
                 ("test.index", 5000, "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4")],
}
PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer"}

# DBP15K in the JAPE layout, as GCN-Align (Wang et al. 2018) republished JAPE's files
DBP15K_REPO, DBP15K_COMMIT = "1049451037/GCN-Align", "4fc90c438e5a609b96df03daff170fbcf03fde94"
_DBP15K = {
    "zh_en": [("ent_ids_1", 1065081, "6d230db7922b58f6fe31fb75b478d5edcbb3cc7d3f76763b5af8232ff1940082"),
              ("ent_ids_2", 1015460, "68d7cccc5334881d386094df3e4f9af479eedf3161ed00ec4d06e0685d510f69"),
              ("ref_ent_ids", 168890, "f6fc5f4b4c162eb21119697561b38686c48935222c11d07f08edc6efc5414507"),
              ("triples_1", 1036776, "5bd1df6af7b51a0bc1111809c980364455e42f2cc27946cd664861f0d95aafcb"),
              ("triples_2", 1617414, "bbab07e5d97247221d742a7ab4e14c20ffdb3125667b2bac2b317a714a07bc48")],
    "ja_en": [("ent_ids_1", 1289100, "c0163c3e4d1a1173fde4941c6c3752e659ff54c50149fbe8776e10c78077f1ad"),
              ("ent_ids_2", 1039183, "b6e8aa468861daa932f5bbb50c4743273418331839543de8889b13cc267a84a2"),
              ("ref_ent_ids", 168890, "60edbd1d05d65e80cc81957eb6efa06fa53901a2a3042cfb0a115abccb2dff91"),
              ("triples_1", 1130201, "5c9396f4bc18f62f395bdea897228285be85f3590d89c336739877d7fc0eeae5"),
              ("triples_2", 1589228, "aeb66ed5e3dd1588f4d7e2cae50bc930794dbc29063f71365242c924ae27c2d6")],
    "fr_en": [("ent_ids_1", 1090813, "8c5c96ba6ef3b3a7791f2ee33e0a779049e4fee36aac77c813814964a23b4401"),
              ("ent_ids_2", 1054317, "9e14e2ae75c45d18fc1fd310657dfd2b84925e625ceb89f96b7775f6218e042c"),
              ("ref_ent_ids", 168890, "ba1c4b07e67ab2581d6ca11038e9f527b08666fe5bedad3a95cb7f61579a3c64"),
              ("triples_1", 1523662, "318c50b356055ccfdbb98d6733ecb8213b3f0ee8f2222cd9733e2d6ef04f5718"),
              ("triples_2", 1953614, "38508926b2e93dae9bb9b066e308cbb11545e62fa93239b574b53f496aeb2f1c")],
}

KGNN_REPO, KGNN_COMMIT = "hwwang55/KGNN-LS", "3afd76361b623e9e38b822861c79bcd61dae41aa"
_KGNN = {  # path in the repository -> (size, sha256), None where the file was not available to hash
    "data/movie/item_index2entity_id.txt": (207390, "204def418fad445b28b8c6ff61590d03e960c2854b66ac893242c2b7e0577834"),
    "data/movie/kg.txt": None,
    "data/music/item_index2entity_id.txt": (42414, "f9693bdde538f755d09b9931b0be662a98965e538658a00c2050912c0adf487b"),
    "data/music/kg.txt": (597942, "f62bbc8f717c9f68e66dff6faeaa71025092acc11a0f1b4878b953eb05f946a9"),
    "data/music/user_artists.dat": (1203620, "254272fa721c3935e8be286d28c051b206844307128698ab4eaa41d483379416"),
}

TU_URL = "https://www.chrsmrrs.com/graphkerneldatasets"  # PyG's TUDataset.url
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
# (file, size in bytes as the MNIST page lists it, md5 as torchvision.datasets.MNIST.resources carries it)
_MNIST = [("train-images-idx3-ubyte.gz", 9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
          ("train-labels-idx1-ubyte.gz", 28881, "d53e105ee54ea40749a09fcbcd1e9432"),
          ("t10k-images-idx3-ubyte.gz", 1648877, "9fb629c4189551a2d022fa330f9573f3"),
          ("t10k-labels-idx1-ubyte.gz", 4542, "ec29112dd5afa0611ce80d1b7f02629c")]
OTB_URL = "http://cvlab.hanyang.ac.kr/tracker_benchmark/seq/{}.zip"  # the benchmark's own page
# the 98 folders of OTB-100 (Jogging and Skating2 hold two annotated targets each: 100 sequences)
OTB100 = ("Basketball", "Biker", "Bird1", "Bird2", "BlurBody", "BlurCar1", "BlurCar2", "BlurCar3", "BlurCar4",
          "BlurFace", "BlurOwl", "Board", "Bolt", "Bolt2", "Box", "Boy", "Car1", "Car2", "Car24", "Car4",
          "CarDark", "CarScale", "ClifBar", "Coke", "Couple", "Coupon", "Crossing", "Crowds", "Dancer",
          "Dancer2", "David", "David2", "David3", "Deer", "Diving", "Dog", "Dog1", "Doll", "DragonBaby", "Dudek",
          "FaceOcc1", "FaceOcc2", "Fish", "FleetFace", "Football", "Football1", "Freeman1", "Freeman3",
          "Freeman4", "Girl", "Girl2", "Gym", "Human2", "Human3", "Human4", "Human5", "Human6", "Human7",
          "Human8", "Human9", "Ironman", "Jogging", "Jump", "Jumping", "KiteSurf", "Lemming", "Liquor", "Man",
          "Matrix", "Mhyang", "MotorRolling", "MountainBike", "Panda", "RedTeam", "Rubik", "Shaking", "Singer1",
          "Singer2", "Skater", "Skater2", "Skating1", "Skating2", "Skiing", "Soccer", "Subway", "Surfer", "Suv",
          "Sylvester", "Tiger1", "Tiger2", "Toy", "Trans", "Trellis", "Twinnings", "Vase", "Walking",
          "Walking2", "Woman")


def _git_checksum(repo: str, commit: str) -> str:
    return f"SHA-256 of the file at commit {commit[:10]} of github.com/{repo} (no checksum is published)"


def _build() -> dict[str, Entry]:
    cat: list[Entry] = []
    for key, files in _PLANETOID.items():
        name = PLANETOID_NAMES[key]
        cat.append(Entry(
            name=key, description=f"{name} citation graph, Kipf's Planetoid raw files (ind.{key}.*)",
            folder="planetoid", loader=f'planetoid (dataset="{name}")',
            layout=f"<root>/{name}/raw/ind.{key}.{{x,tx,allx,y,ty,ally,graph,test.index}}",
            files=tuple(Remote(f"ind.{key}.{s}", (_gh(PLANETOID_REPO, PLANETOID_COMMIT, f"data/ind.{key}.{s}"),),
                               size, sha256=sha, checksum_source=_git_checksum(PLANETOID_REPO, PLANETOID_COMMIT),
                               into=f"{name}/raw") for s, size, sha in files),
            outputs=tuple(f"{name}/raw/ind.{key}.{s}" for s, _, _ in files),
            homepage="https://github.com/kimiyoung/planetoid"))
    for tu in ("ENZYMES", "PROTEINS", "DD"):
        cat.append(Entry(
            name=tu.lower(), description=f"TU graph-classification benchmark {tu} (one zip of TU text files)",
            folder="tu", loader=f'tu_local (dataset="{tu}")', layout=f"<root>/{tu}/raw/{tu}_A.txt, ...",
            files=(Remote(f"{tu}.zip", (f"{TU_URL}/{tu}.zip",), extract=Extract(strip=f"{tu}/", into=f"{tu}/raw")),),
            outputs=tuple(f"{tu}/raw/{tu}_{p}.txt" for p in ("A", "graph_indicator", "graph_labels")),
            homepage="https://chrsmrrs.github.io/datasets/"))
    for pair, files in _DBP15K.items():
        cat.append(Entry(
            name=f"dbp15k_{pair}", description=f"DBP15K {pair.upper().replace('_', '-')} entity alignment, JAPE layout",
            folder="dbp15k", loader=f'dbp15k (pair="{pair}")',
            layout=f"<root>/{pair}/{{ent_ids_1,ent_ids_2,triples_1,triples_2,ref_ent_ids}}",
            files=tuple(Remote(f, (_gh(DBP15K_REPO, DBP15K_COMMIT, f"data/{pair}/{f}"),), size, sha256=sha,
                               checksum_source=_git_checksum(DBP15K_REPO, DBP15K_COMMIT), into=pair)
                        for f, size, sha in files),
            outputs=tuple(f"{pair}/{f}" for f, _, _ in files),
            homepage="https://github.com/nju-websoft/JAPE"))
    cat.append(Entry(
        name="mnist", description="the full MNIST (60,000 + 10,000 digits), the four gzipped IDX files",
        folder="mnist", loader="mnist", layout="<root>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz",
        files=tuple(Remote(f, tuple(m + f for m in MNIST_MIRRORS), size, md5=md5,
                           checksum_source="MD5 published with torchvision.datasets.MNIST")
                    for f, size, md5 in _MNIST),
        outputs=tuple(f for f, _, _ in _MNIST), homepage="http://yann.lecun.com/exdb/mnist/"))
    cat.append(Entry(
        name="cifar10", description="CIFAR-10, python version (cifar-10-python.tar.gz)",
        folder="cifar10", loader="cifar10", layout="<root>/{data_batch_1..5,test_batch,batches.meta}",
        files=(Remote("cifar-10-python.tar.gz", ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                      170498071, md5="c58f30108f718f92721af3b95e74349a",
                      checksum_source="MD5 published with torchvision.datasets.CIFAR10",
                      extract=Extract(strip="cifar-10-batches-py/")),),
        outputs=tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",),
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html"))
    cat.append(Entry(
        name="speech_commands", description="Google Speech Commands v0.02 (one-second WAV clips, 35 words)",
        folder="speech_commands", loader=None,
        layout="<root>/<word>/<speaker>_nohash_<n>.wav, <root>/{validation_list,testing_list}.txt",
        files=(Remote("speech_commands_v0.02.tar.gz",
                      ("https://storage.googleapis.com/download.tensorflow.org/data/speech_commands_v0.02.tar.gz",),
                      md5="6b74f3901214cb2c2934e98196829835",
                      checksum_source="MD5 published with torchaudio.datasets.SPEECHCOMMANDS",
                      extract=Extract()),),
        outputs=("validation_list.txt", "testing_list.txt"),
        homepage="https://arxiv.org/abs/1804.03209"))
    for ds, label, ratings in (("movie", "MovieLens-20M", None), ("music", "Last.FM", "data/music/user_artists.dat")):
        files = []
        for path in (f"data/{ds}/item_index2entity_id.txt", f"data/{ds}/kg.txt") + ((ratings,) if ratings else ()):
            known = _KGNN[path]
            files.append(Remote(Path(path).name, (_gh(KGNN_REPO, KGNN_COMMIT, path),),
                                None if known is None else known[0], sha256=None if known is None else known[1],
                                checksum_source=(_git_checksum(KGNN_REPO, KGNN_COMMIT) if known else
                                                 "none published: SHA-256 recorded on first download"),
                                into="raw"))
        if ds == "movie":
            files.append(Remote("ml-20m.zip", ("https://files.grouplens.org/datasets/movielens/ml-20m.zip",),
                                md5="cd245b17a1ae2cc31bb14903e1204af3",
                                checksum_source="MD5 published by GroupLens (ml-20m.zip.md5)",
                                extract=Extract(strip="ml-20m/", into="raw", only=("ratings.csv",))))
        cat.append(Entry(
            name=f"kgcn_{ds}", description=f"KGNN-LS {label}: raw files + the official preprocessing",
            folder=f"kgcn_{ds}", loader=f'kgcn_files (dataset="{ds}")',
            layout="<root>/{ratings_final,kg_final}.txt (raw inputs kept in <root>/raw/)",
            files=tuple(files), outputs=("ratings_final.txt", "kg_final.txt"), post=f"kgnn_ls:{ds}",
            homepage="https://github.com/hwwang55/KGNN-LS"))
    cat.append(Entry(
        name="otb100", description="OTB-100 tracking sequences (one zip per sequence; --only picks some)",
        folder="otb", loader="otb (sequence=...)", layout="<root>/<Sequence>/{img/0001.jpg..., groundtruth_rect.txt}",
        files=tuple(Remote(f"{s}.zip", (OTB_URL.format(s),), extract=Extract(strip=f"{s}/", into=s)) for s in OTB100),
        outputs=tuple(f"{s}/img" for s in OTB100),
        homepage="http://cvlab.hanyang.ac.kr/tracker_benchmark/datasets.html"))
    cat.append(Entry(
        name="pets2006", description="PETS 2006 left-luggage sequences (not fetched automatically)",
        folder="pets2006", loader=None, layout="as distributed by the PETS 2006 organisers", files=(), outputs=(),
        homepage="http://www.cvg.rdg.ac.uk/PETS2006/data.html",
        manual=("this catalogue has no checked direct address for the PETS 2006 files, so they are not "
                "fetched: get them through the official page http://www.cvg.rdg.ac.uk/PETS2006/data.html "
                "(which names datasets@pets2006.net for help in obtaining them) and put them under the root "
                "(default $COMPANION_DATA/pets2006). No loader of this book reads them.")))
    return {e.name: e for e in cat}


CATALOGUE: dict[str, Entry] = _build()


# ------------------------------------------------------------------------------------------------
# Paths and the record
# ------------------------------------------------------------------------------------------------

def default_root(entry: Entry) -> Path:
    """``$COMPANION_DATA/<folder>``; ``FetchError`` when the variable is not set."""
    base = os.environ.get("COMPANION_DATA")
    if not base:
        raise FetchError(f"{entry.name}: set COMPANION_DATA (the folder for all data sets) or pass a root "
                         f"(--root DIR); the files go to $COMPANION_DATA/{entry.folder}")
    return Path(base).expanduser() / entry.folder


def entry(name: str) -> Entry:
    """The catalogue entry ``name``; ``ValueError`` listing the names for an unknown one."""
    key = name.lower()
    if key not in CATALOGUE:
        raise ValueError(f"no dataset {name!r} to fetch; the catalogue has: {', '.join(sorted(CATALOGUE))}")
    return CATALOGUE[key]


def read_record(root: Path) -> dict[str, Any]:
    """The ``fetched.json`` of ``root`` (empty when there is none)."""
    path = Path(root) / RECORD
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise FetchError(f"{path} is not valid JSON ({err}); move it aside and fetch again") from None


def _write_record(root: Path, record: dict[str, Any]) -> None:
    tmp = root / (RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    tmp.replace(root / RECORD)


def _selected(e: Entry, only: Iterable[str] | None) -> tuple[tuple[Remote, ...], tuple[str, ...]]:
    """The files and outputs of ``e``, narrowed to the stems in ``only`` (OTB sequences)."""
    if not only:
        return e.files, e.outputs
    only = list(only)
    stems = {Path(f.filename).name.split(".")[0]: f for f in e.files}
    unknown = [o for o in only if o not in stems]
    if unknown:
        raise ValueError(f"{e.name}: unknown part(s) {', '.join(unknown)}; choose from {', '.join(stems)}")
    files = tuple(stems[o] for o in only)
    outputs = tuple(out for out in e.outputs if out.split("/")[0] in only) if e.name == "otb100" else e.outputs
    return files, outputs


def is_fetched(name: str, root: str | Path | None = None, only: Iterable[str] | None = None) -> bool:
    """Whether every file the loader needs from entry ``name`` is in ``root`` (fetched or placed by hand)."""
    e = entry(name)
    base = Path(root) if root is not None else default_root(e)
    _, outputs = _selected(e, only)
    return bool(outputs) and all((base / o).exists() for o in outputs)


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


# ------------------------------------------------------------------------------------------------
# Download
# ------------------------------------------------------------------------------------------------

def _digests(path: Path) -> dict[str, str]:
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            md5.update(block)
            sha.update(block)
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def _check_space(folder: Path, needed: int | None, what: str) -> None:
    if needed is None or needed <= 0:
        return
    free = _free_bytes(folder)
    if free < needed:
        raise DiskFullError(f"{what} needs {_human(needed)} but {folder} has {_human(free)} free; "
                            "free some space or pass another root (--root DIR / root=)")


def _write(f, chunk: bytes) -> None:
    f.write(chunk)


def _hand_hint(url: str, dest: Path) -> str:
    return (f"To place the file by hand: download {url} with a browser or another tool and save it as "
            f"{dest} (folder {dest.parent}, file {dest.name}); then run the same fetch again, which checks "
            "and unpacks it without downloading.")


def download(remote: Remote, dest: Path, *, progress: bool = True, extra_space: int = 0) -> Path:
    """Download ``remote`` to ``dest`` (via ``dest.part``, resumed with ``Range`` when it exists).

    Tries each mirror in turn; a dropped or cut-off transfer is resumed up to :data:`RETRIES` times.
    Does not verify the checksum (see :func:`verify`). Raises ``FetchError`` naming the URL(s),
    ``DiskFullError`` when free space is short (``extra_space``: bytes needed beyond the file, e.g.
    for unpacking).
    """
    from companion.utils import progress as bar_of

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    failures: list[str] = []
    for url in remote.urls:
        tries = 0
        while True:
            have = part.stat().st_size if part.exists() else 0
            if remote.size is not None:
                _check_space(dest.parent, remote.size - have + extra_space, f"{remote.filename}")
            headers = {"User-Agent": USER_AGENT}
            if have:
                headers["Range"] = f"bytes={have}-"
            try:
                resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT)
            except urllib.error.HTTPError as err:
                if err.code == 416 and have:  # "Range Not Satisfiable": complete if the sizes agree
                    total = (err.headers.get("Content-Range") or "").rpartition("/")[2]
                    if total.isdigit() and int(total) == have:
                        part.replace(dest)
                        return dest
                    part.unlink()  # longer than the file on the server: start again
                    tries += 1
                    if tries <= RETRIES:
                        continue
                failures.append(f"{url}: HTTP {err.code} {err.reason}")
                break
            except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
                reason = getattr(err, "reason", err)
                failures.append(f"{url}: {reason}")
                break
            with resp:
                length = resp.headers.get("Content-Length")
                length = int(length) if length is not None and length.isdigit() else None
                if have and resp.status == 206:
                    if _range_start(resp.headers.get("Content-Range")) != have:  # not the range we asked for
                        part.unlink()
                        continue
                elif have:  # 200 to a Range request: the server ignores Range, so start over cleanly
                    have = 0
                total = None if length is None else have + length
                if remote.size is None and total is not None:
                    _check_space(dest.parent, total - have + extra_space, f"{remote.filename}")
                got = have
                bar = bar_of(total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                             desc=remote.filename, disable=not progress)
                try:
                    with open(part, "ab" if have else "wb") as f:
                        while True:
                            try:
                                chunk = resp.read(CHUNK)
                            except (http.client.HTTPException, OSError) as err:  # reset, timeout, TLS error
                                raise _Dropped(str(err) or type(err).__name__) from None
                            if not chunk:
                                break
                            try:
                                _write(f, chunk)
                            except OSError as err:
                                if err.errno == errno.ENOSPC:
                                    raise DiskFullError(
                                        f"{remote.filename}: the disk holding {dest.parent} is full after "
                                        f"{_human(got)}; the partial file {part} is kept: free some space and "
                                        "fetch again to resume") from None
                                raise
                            got += len(chunk)
                            bar.update(len(chunk))
                    if total is not None and got < total:
                        raise _Dropped(f"the server sent {got} of {total} bytes")
                except _Dropped as cut:
                    tries += 1
                    if tries > RETRIES:
                        raise FetchError(
                            f"{remote.filename}: the download from {url} broke off {tries} times "
                            f"(last: {cut}); the partial file {part} ({_human(got)}) is kept and the next fetch "
                            f"resumes it. {_hand_hint(url, dest)}") from None
                    time.sleep(RETRY_WAIT * 2 ** (tries - 1))
                    continue
                finally:
                    bar.close()
            part.replace(dest)
            return dest
    tried = "; ".join(failures)
    raise FetchError(f"{remote.filename}: could not download ({tried}). Check the network connection. "
                     f"{_hand_hint(remote.urls[0], dest)}")


class _Dropped(Exception):
    """A transfer that ended before its ``Content-Length`` (retried with ``Range``)."""


def _range_start(content_range: str | None) -> int | None:
    # "bytes 100-199/200"
    try:
        return int(content_range.split()[1].split("-")[0])  # type: ignore[union-attr]
    except (AttributeError, IndexError, ValueError):
        return None


def verify(remote: Remote, path: Path, recorded: dict[str, Any] | None) -> dict[str, str]:
    """Check ``path`` against the published checksum, or the SHA-256 recorded on an earlier download.

    Returns its digests. On a mismatch the file is renamed to ``<name>.bad`` (kept for inspection)
    and ``ChecksumError`` names it with the expected and the actual digest.
    """
    got = _digests(path)
    if remote.md5 is not None:
        algo, expected, source = "md5", remote.md5, remote.checksum_source
    elif remote.sha256 is not None:
        algo, expected, source = "sha256", remote.sha256, remote.checksum_source
    elif recorded and recorded.get("sha256"):
        algo, expected, source = "sha256", recorded["sha256"], f"SHA-256 recorded on the first download ({recorded.get('fetched', '?')})"
    else:
        return got
    if got[algo] != expected:
        bad = path.with_name(path.name + ".bad")
        path.replace(bad)
        raise ChecksumError(f"{remote.filename}: checksum mismatch ({source}): expected {algo} {expected}, "
                            f"got {got[algo]}. The file is kept aside as {bad}; delete it and fetch again "
                            "(a mirror may serve a different file, or the transfer was damaged).")
    return got


# ------------------------------------------------------------------------------------------------
# Safe extraction
# ------------------------------------------------------------------------------------------------

def _member_target(name: str, ex: Extract, root: Path, archive: Path) -> Path | None:
    """Where archive member ``name`` goes under ``root``, ``None`` to skip it; refuses unsafe names."""
    norm = posixpath.normpath(name.replace("\\", "/"))
    if norm.startswith("/") or norm == ".." or norm.startswith("../") or ":" in norm.split("/")[0]:
        raise FetchError(f"{archive}: refusing the member {name!r}, whose path leaves the target folder")
    if norm in (".", "") or norm.startswith("__MACOSX"):
        return None
    if ex.strip:
        prefix = ex.strip.rstrip("/")
        if norm == prefix:
            return None
        if not norm.startswith(prefix + "/"):
            raise FetchError(f"{archive}: unexpected member {name!r}: expected every path to start with "
                             f"{ex.strip!r} (the layout the loader reads)")
        norm = norm[len(prefix) + 1:]
    if ex.only and norm not in ex.only:
        return None
    target = (root / ex.into / norm).resolve()
    base = (root / ex.into).resolve()
    if base != target and base not in target.parents:
        raise FetchError(f"{archive}: refusing the member {name!r}, whose path leaves {base}")
    return target


def extract(archive: Path, ex: Extract, root: Path) -> list[Path]:
    """Unpack ``archive`` (zip or tar) into ``root`` as ``ex`` says; only regular files and folders,
    never a path outside the target folder (links and devices are refused)."""
    written: list[Path] = []
    root.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            infos = z.infolist()
            plan = []
            for info in infos:
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise FetchError(f"{archive}: refusing the symbolic link {info.filename!r}")
                target = _member_target(info.filename, ex, root, archive)
                if target is not None and not info.is_dir():
                    plan.append((info, target))
            _check_space(root, sum(i.file_size for i, _ in plan), f"unpacking {archive.name}")
            for info, target in plan:
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
                written.append(target)
        return written
    try:
        tar = tarfile.open(archive)
    except tarfile.TarError as err:
        raise FetchError(f"{archive}: neither a zip nor a tar archive ({err})") from None
    with tar:
        plan = []
        for member in tar:
            target = _member_target(member.name, ex, root, archive)
            if target is None or member.isdir():
                continue
            if not member.isfile():
                raise FetchError(f"{archive}: refusing the member {member.name!r} (a link or device, not a file)")
            plan.append((member, target))
        _check_space(root, sum(m.size for m, _ in plan), f"unpacking {archive.name}")
        for member, target in plan:
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None  # a regular file
            with src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            written.append(target)
    return written


# ------------------------------------------------------------------------------------------------
# Fetch
# ------------------------------------------------------------------------------------------------

def fetch(name: str, root: str | Path | None = None, *, only: Iterable[str] | None = None,
          keep_archives: bool = False, progress: bool = True, log: Callable[[str], None] = print) -> Path:
    """Download entry ``name`` into ``root`` (default ``$COMPANION_DATA/<folder>``) in the loader's layout.

    Files already there and verified are not downloaded again. Returns the root. ``only`` picks
    some parts (OTB sequences by name); ``keep_archives`` keeps the zip/tar files in
    ``<root>/.download/``. Raises ``FetchError`` (and its ``ChecksumError``/``DiskFullError``).
    """
    e = entry(name)
    if e.manual:
        raise FetchError(f"{e.name}: {e.manual}")
    base = Path(root).expanduser() if root is not None else default_root(e)
    base.mkdir(parents=True, exist_ok=True)
    files, outputs = _selected(e, only)
    record = read_record(base)
    done = record.setdefault("entries", {}).setdefault(e.name, {"files": {}})
    known_size = sum(f.size for f in files if f.size is not None)
    log(f"{e.name}: {len(files)} file(s), {_human(known_size) if known_size else 'size not published'}"
        f"{'' if all(f.size is not None for f in files) or not known_size else ' + files of unpublished size'} "
        f"-> {base}")
    for remote in files:
        if remote.extract is None:
            dest = base / remote.into / remote.filename
            if dest.is_file() and remote.filename in done["files"]:
                continue  # fetched and verified before
        else:
            dest = base / ".download" / remote.filename
            markers = [o for o in outputs if e.name != "otb100" or o.split("/")[0] == remote.filename[:-4]]
            if remote.filename in done["files"] and markers and all((base / m).exists() for m in markers):
                continue
        if not dest.is_file():
            # room for the file, and as much again to unpack an archive (compressed data grows when unpacked)
            download(remote, dest, progress=progress, extra_space=(remote.size or 0) if remote.extract else 0)
        digests = verify(remote, dest, done["files"].get(remote.filename))
        published = remote.md5 is not None or remote.sha256 is not None
        if not published and remote.filename not in done["files"]:
            log(f"{remote.filename}: no checksum is published; SHA-256 recorded on this first download: "
                f"{digests['sha256']} (in {base / RECORD}; later downloads must match it)")
        size = dest.stat().st_size
        if remote.extract is not None:
            extract(dest, remote.extract, base)
            if not keep_archives:
                dest.unlink()
        done["files"][remote.filename] = {
            "url": remote.urls[0], "bytes": size, **digests,
            "checksum": remote.checksum_source, "fetched": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        _write_record(base, record)
    if e.post:
        kind, arg = e.post.split(":")
        if kind == "kgnn_ls" and not all((base / o).is_file() for o in outputs):
            from companion.data import _kgnn_ls

            log(f"{e.name}: running the KGNN-LS preprocessing ({arg}) ...")
            counts = _kgnn_ls.preprocess(base / "raw", arg, base)
            log(f"{e.name}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    missing = [o for o in outputs if not (base / o).exists()]
    if missing:
        raise FetchError(f"{e.name}: after the download {', '.join(missing[:5])} are still missing under {base}; "
                         f"the archive does not have the layout {e.layout}")
    if (base / ".download").is_dir() and not any((base / ".download").iterdir()):
        (base / ".download").rmdir()
    log(f"{e.name}: ready in {base}" + (f" (read it with data.load(\"{e.loader.split()[0]}\", ...))" if e.loader else ""))
    return base


# ------------------------------------------------------------------------------------------------
# download=True in companion.data.load
# ------------------------------------------------------------------------------------------------

def _for_loader(loader: str, kwargs: dict[str, Any]) -> tuple[str, list[str] | None]:
    """The catalogue entry (and parts) behind ``load(loader, **kwargs)``."""
    if loader == "planetoid":
        return str(kwargs.get("dataset", "Cora")).lower(), None
    if loader == "tu_local":
        return str(kwargs.get("dataset", "ENZYMES")).lower(), None
    if loader == "dbp15k":
        return f"dbp15k_{kwargs.get('pair', 'zh_en')}", None
    if loader in ("mnist", "cifar10"):
        return loader, None
    if loader == "kgcn_files":
        return f"kgcn_{kwargs.get('dataset', 'movie')}", None
    if loader == "otb":
        seq = kwargs.get("sequence")
        return "otb100", [seq] if isinstance(seq, str) else None
    raise ValueError(f"load({loader!r}, download=True): there is nothing to download for {loader!r}; "
                     f"the datasets that can be fetched: {', '.join(sorted(CATALOGUE))}")


def ensure(loader: str, kwargs: dict[str, Any], *, progress: bool = True) -> None:
    """Fetch what ``load(loader, **kwargs)`` reads unless it is already in place (no network then)."""
    name, only = _for_loader(loader, kwargs)
    e = entry(name)
    root = kwargs.get("root")
    if root is None:
        root = default_root(e)
    if not is_fetched(name, root, only):
        fetch(name, root, only=only, progress=progress)


def listing(root: str | Path | None = None) -> list[dict[str, str]]:
    """One row per catalogue entry: name, size, where it goes, whether it is there, the loader."""
    rows = []
    for e in CATALOGUE.values():
        try:
            base = Path(root) / e.folder if root is not None else default_root(e)
            where = str(base)
            there = "manual" if e.manual else ("yes" if is_fetched(e.name, base) else "no")
            rec = read_record(base).get("entries", {}).get(e.name, {}).get("files", {}) if base.is_dir() else {}
        except FetchError:
            where, there, rec = f"$COMPANION_DATA/{e.folder}", "?", {}
        size = e.size
        if size is None and rec and len(rec) == len(e.files) and all(r.get("bytes") for r in rec.values()):
            size = sum(r["bytes"] for r in rec.values())  # recorded on the first download
        shown = _human(size) if size is not None else (
            "?" if e.manual else f">= {_human(sum(f.size for f in e.files if f.size))}" if any(f.size for f in e.files)
            else "? (recorded on download)")
        rows.append({"name": e.name, "size": shown, "where": where, "fetched": there,
                     "loader": e.loader or "-", "description": e.description})
    return rows


def markdown_table() -> str:
    """The catalogue as the Markdown table of the README and the "Run it yourself" page (a test
    keeps those copies equal to this)."""
    lines = ["| name | what | download size | folder under `$COMPANION_DATA` | read by |", "|---|---|---|---|---|"]
    for e in CATALOGUE.values():
        size = e.size
        shown = (_human(size) if size is not None else
                 "not fetched" if e.manual else
                 f"{_human(sum(f.size for f in e.files if f.size))} + unpublished" if any(f.size for f in e.files)
                 else "not published")
        loader = f"`{e.loader}`" if e.loader else "no loader"
        lines.append(f"| `{e.name}` | {e.description} | {shown} | `{e.folder}/` | {loader} |")
    return "\n".join(lines)
