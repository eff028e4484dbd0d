"""Open the built book in headless Chromium, check the DOM it renders, and save screenshots.

Checks the index page's title and every chapter page's title and headings as Chromium sees them
(after scripts ran), and fails loudly if one is missing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--user-data-dir=/tmp/chromium-ci",
         # index.html is a meta-refresh to book/index.html: give the page time to follow it
         "--virtual-time-budget=5000"]


def chromium(*args: str) -> str:
    out = subprocess.run(["chromium", *FLAGS, *args], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"chromium failed: {out.stderr[-2000:]}")
    return out.stdout


def source_headings(md: Path) -> tuple[str, list[str]]:
    """The chapter title (first '# ') and its '## ' headings, from the MyST source."""
    lines = md.read_text().splitlines()
    title = next(line[2:].strip() for line in lines if line.startswith("# "))
    return plain(title), [plain(line[3:].strip()) for line in lines if line.startswith("## ")]


def plain(heading: str) -> str:
    """A MyST heading as the browser shows its text: inline code and emphasis without their marks."""
    heading = re.sub(r"`([^`]*)`", r"\1", heading)
    return re.sub(r"(\*\*|__|\*)(.+?)\1", r"\2", heading)


# Sphinx's smartquotes turns ' " -- into typographic marks: compare both sides without them
SMART = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def text_of(html: str) -> str:
    text = unescape(re.sub(r"<[^>]+>", " ", html)).translate(SMART)
    return re.sub(r"\s+", " ", re.sub(r"-{2,}", "-", text))


def main() -> int:
    index = HTML / "index.html"
    if not index.is_file():
        raise SystemExit(f"no {index}: did make book run?")
    dom = chromium("--dump-dom", index.as_uri())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    if config["title"] not in unescape(dom):
        raise SystemExit(f"index page: book title {config['title']!r} not in the rendered DOM")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    problems = []
    for f in files:
        page = HTML / f"{f}.html"
        title, heads = source_headings(ROOT / f"{f}.md")
        dom_text = text_of(chromium("--dump-dom", page.as_uri()))
        missing = [h for h in [title, *heads] if text_of(h) not in dom_text]
        if missing:
            problems.append(f"{page.relative_to(ROOT)}: headings missing from the DOM: {missing}")
        else:
            print(f"ok: {page.relative_to(ROOT)}: title and {len(heads)} headings rendered")
    shots = [(index, "screenshot-index.png"), (HTML / f"{files[-1]}.html", "screenshot-chapter.png")]
    for page, name in shots:
        chromium(f"--screenshot={ROOT / '_build' / name}", "--window-size=1280,1600", page.as_uri())
        print(f"screenshot: _build/{name}")
    if problems:
        print("\n".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
