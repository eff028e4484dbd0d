"""Write a Jupyter notebook (.ipynb) copy of every chapter into lab/, to open in JupyterLab.

    python tools/lab.py            # lab/NN_topic/<chapter>.ipynb for each chapter of _toc.yml
    python tools/lab.py --force    # also rewrite copies that exist (your edits in them are lost)

The chapters' sources stay the MyST-markdown files under book/: lab/ is a scratch copy for running
and changing cells (git ignores it, the book build excludes it). Each copy is paired by jupytext
with a MyST twin: saving it in JupyterLab also writes lab/NN_topic/<chapter>.md, which you can
diff against book/NN_topic/<chapter>.md. An existing copy is kept, so `make lab` never overwrites
your work; it says when the chapter changed since the copy was made.

Chapters find their data and results files from the repository root (companion.utils.repo_path),
so they run the same from lab/ as from book/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_files(toc: Path) -> list[str]:
    """Every document of the table of contents, in order (root first), without suffix."""
    data = yaml.safe_load(toc.read_text())
    files = [data["root"]]

    def walk(node):
        for key in ("parts", "chapters", "sections"):
            for item in node.get(key, []):
                if "file" in item:
                    files.append(item["file"])
                walk(item)

    walk(data)
    return files


def is_notebook(md: Path) -> bool:
    """A chapter notebook is a MyST-markdown file with a jupytext kernelspec in its header."""
    text = md.read_text()
    return text.startswith("---") and "\nkernelspec:" in text.split("\n---", 1)[0]


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks of _toc.yml, as paths of their .md sources."""
    out = []
    for name in toc_files(root / "_toc.yml"):
        md = root / f"{name}.md"
        if md.is_file() and is_notebook(md):
            out.append(md)
    return out


def lab_path(md: Path, root: Path = ROOT, lab: Path | None = None) -> Path:
    """book/NN_topic/x.md -> lab/NN_topic/x.ipynb."""
    lab = lab or root / "lab"
    rel = md.relative_to(root / "book")
    return (lab / rel).with_suffix(".ipynb")


def write_copy(md: Path, out: Path) -> None:
    notebook = jupytext.read(md)
    notebook.metadata.setdefault("jupytext", {})["formats"] = "ipynb,md:myst"
    notebook.metadata["jupytext"].pop("text_representation", None)
    out.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, out, fmt="ipynb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rewrite copies that already exist")
    parser.add_argument("--out", type=Path, default=ROOT / "lab", help="folder of the copies (default: lab/)")
    args = parser.parse_args(argv)
    sources = chapters()
    if not sources:
        raise SystemExit("no chapter notebooks found in _toc.yml")
    written = kept = 0
    for md in sources:
        out = lab_path(md, lab=args.out)
        shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
        if out.exists() and not args.force:
            kept += 1
            if md.stat().st_mtime > out.stat().st_mtime:
                print(f"kept {shown}: {md.relative_to(ROOT)} changed since; --force rewrites it "
                      "(your edits in the copy are lost)")
            continue
        write_copy(md, out)
        written += 1
        print(f"wrote {shown}")
    print(f"{written} notebooks written, {kept} kept, in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
