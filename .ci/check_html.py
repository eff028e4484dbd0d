"""Open the built book in headless Chromium, check the DOM it renders, and save screenshots.

Checks the index page's title and every chapter page's title and headings as Chromium sees them
(after scripts ran), and fails loudly if one is missing.

Math: Chromium runs with every host name unresolvable, as a reader offline, so the pages must
typeset their formulas with the MathJax copied into the build. A page fails when it loads MathJax
from the network, when it has fewer typeset formulas (<mjx-container>) than formulas in its HTML,
when its source has math but nothing was typeset, or when raw TeX delimiters (\\( \\[ $$) are
left in the text a reader sees.

Figures: every content image of a page (an ``<img>`` whose file Sphinx copied to ``_images/``, as
it does for each plot a code cell makes) must have alt text that is not a file path (docutils
falls back to the image's path when a cell gives no ``alt``), and must sit in a ``<figure>`` whose
``<figcaption>`` carries a number ("Fig. 7.2") when ``numfig`` is on. A cell gives both with
myst-nb's cell metadata (``mystnb: {figure: {caption, name}, image: {alt}}``).

``python .ci/check_html.py --figures [DIR]`` runs only the figure check, on every page under DIR
(default ``_build/html``), from the HTML files alone: no browser, no network. Add ``--unnumbered``
for a build that does not number figures (a single-page ``jupyter-book build page.md``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--user-data-dir=/tmp/chromium-ci",
         # no network: a page that needs a CDN (MathJax) shows what an offline reader sees
         "--host-resolver-rules=MAP * ~NOTFOUND",
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


# sphinx writes each formula as <span|div class="math notranslate nohighlight">; MathJax replaces
# its TeX with an <mjx-container>
MATH_ELEMENT = re.compile(r'class="math notranslate nohighlight"')
# text a reader never sees as prose: code, scripts, and the typeset formulas themselves
HIDDEN = re.compile(r"<(script|style|pre|code|textarea|mjx-container)\b.*?</\1>", re.S | re.I)
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$")
CODE_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
# MyST dollarmath: $x$ has no space inside its dollars and no digit after the closing one ($5 and $10)
SOURCE_MATH = re.compile(r"\$\$|\\begin\{|\{math\}|(?<![\\$])\$(?=\S)[^$\n]+(?<![\s\\])\$(?![\d$])")


def source_has_math(md: Path) -> bool:
    """Whether the MyST source has a formula outside code: $...$, $$...$$, {math}, \\begin{...}."""
    return bool(SOURCE_MATH.search(CODE_FENCE.sub("", md.read_text())))


def math_problems(page: Path, md: Path, dom: str) -> list[str]:
    """What is wrong with the math of one page as Chromium rendered it offline (empty if nothing)."""
    html = page.read_text()
    problems = []
    remote = [s for s in re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
              if "mathjax" in s.lower() and re.match(r"(https?:)?//", s)]
    if remote:
        problems.append(f"loads MathJax from the network: {remote[0]}")
    formulas = len(MATH_ELEMENT.findall(html))
    typeset = dom.count("<mjx-container")
    if typeset < formulas:
        problems.append(f"{formulas} formulas in the HTML, {typeset} typeset by MathJax")
    if source_has_math(md) and typeset == 0:
        problems.append("the source has math and nothing was typeset")
    visible = unescape(re.sub(r"<[^>]+>", " ", HIDDEN.sub(" ", dom)))
    raw = [visible[max(m.start() - 30, 0):m.end() + 30].strip() for m in RAW_TEX.finditer(visible)]
    if raw:
        problems.append(f"{len(raw)} raw TeX delimiters in the text, e.g. {raw[0]!r}")
    return problems


# alt text that is an image's file name or path (no space, an image extension): what docutils
# writes when a cell gives its image no alt text
PATH_ALT = re.compile(r"^\S*\.(png|jpe?g|gif|svg|webp|pdf)$", re.I)


class _Figures(HTMLParser):
    """The content images of a page (``src`` under ``_images/``) and the ``<figure>`` around each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[str, str | None, int | None]] = []  # (src, alt, figure index)
        self.figures: list[dict] = []  # {"id", "caption": bool, "number": str}
        self._open: list[int] = []     # the <figure> elements open at this point
        self._number = False           # inside <span class="caption-number">

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure":
            self.figures.append({"id": a.get("id") or "", "caption": False, "number": ""})
            self._open.append(len(self.figures) - 1)
        elif tag == "figcaption" and self._open:
            self.figures[self._open[-1]]["caption"] = True
        elif tag == "span" and self._open and "caption-number" in (a.get("class") or "").split():
            self._number = True
        elif tag == "img" and "_images/" in (a.get("src") or ""):
            self.images.append((a["src"], a.get("alt"), self._open[-1] if self._open else None))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure" and self._open:
            self._open.pop()
        elif tag == "span":
            self._number = False

    def handle_data(self, data: str) -> None:
        if self._number and self._open:
            self.figures[self._open[-1]]["number"] += data


def figure_problems(html: str, numbered: bool = True) -> tuple[int, list[str]]:
    """The number of content images of one page, and what is wrong with them (empty if nothing):
    an image without alt text or with a file path as its alt, outside a <figure>, in a figure
    without a <figcaption>, or (``numbered``) in a caption without a number."""
    parser = _Figures()
    parser.feed(html)
    problems = []
    for k, (src, alt, fig) in enumerate(parser.images, start=1):
        figure = parser.figures[fig] if fig is not None else None
        anchor = f", #{figure['id']}" if figure and figure["id"] else ""
        where = f"image {k} ({src.rsplit('/', 1)[-1]}{anchor})"
        if not (alt or "").strip():
            problems.append(f"{where}: no alt text")
        elif PATH_ALT.search(alt.strip()):
            problems.append(f"{where}: alt text is a file path: {alt!r}")
        if figure is None:
            problems.append(f"{where}: no caption (not in a <figure>)")
        elif not figure["caption"]:
            problems.append(f"{where}: its <figure> has no <figcaption>")
        elif numbered and not figure["number"].strip():
            problems.append(f"{where}: its caption has no number (numfig is on)")
    return len(parser.images), problems


def numfig_on() -> bool:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return bool(config.get("sphinx", {}).get("config", {}).get("numfig"))


def check_figures(html_dir: Path, numbered: bool) -> int:
    """The figure check alone, on every page under ``html_dir`` (no browser)."""
    pages = sorted(p for p in html_dir.rglob("*.html")
                   if not {"_static", "_sources", "_images"} & set(p.relative_to(html_dir).parts))
    if not pages:
        raise SystemExit(f"no HTML pages under {html_dir}")
    problems = []
    for page in pages:
        n, found = figure_problems(page.read_text(), numbered)
        problems += [f"{page.relative_to(html_dir)}: figure: {m}" for m in found]
        if n and not found:
            print(f"ok: {page.relative_to(html_dir)}: {n} figures captioned"
                  + (" and numbered" if numbered else "") + ", with alt text")
    if problems:
        print("\n".join(problems))
    return 1 if problems else 0


def main() -> int:
    index = HTML / "index.html"
    if not index.is_file():
        raise SystemExit(f"no {index}: did make book run?")
    dom = chromium("--dump-dom", index.as_uri())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    numbered = numfig_on()
    if config["title"] not in unescape(dom):
        raise SystemExit(f"index page: book title {config['title']!r} not in the rendered DOM")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    problems = []
    for f in files:
        page = HTML / f"{f}.html"
        title, heads = source_headings(ROOT / f"{f}.md")
        dom = chromium("--dump-dom", page.as_uri())
        dom_text = text_of(dom)
        missing = [h for h in [title, *heads] if text_of(h) not in dom_text]
        if missing:
            problems.append(f"{page.relative_to(ROOT)}: headings missing from the DOM: {missing}")
        else:
            print(f"ok: {page.relative_to(ROOT)}: title and {len(heads)} headings rendered")
        math = math_problems(page, ROOT / f"{f}.md", dom)
        problems += [f"{page.relative_to(ROOT)}: math: {m}" for m in math]
        if not math:
            print(f"ok: {page.relative_to(ROOT)}: {dom.count('<mjx-container')} formulas typeset offline")
        n_figs, figs = figure_problems(page.read_text(), numbered)
        problems += [f"{page.relative_to(ROOT)}: figure: {m}" for m in figs]
        if n_figs and not figs:
            print(f"ok: {page.relative_to(ROOT)}: {n_figs} figures captioned"
                  + (" and numbered" if numbered else "") + ", with alt text")
    shots = [(index, "screenshot-index.png"), (HTML / f"{files[-1]}.html", "screenshot-chapter.png")]
    for page, name in shots:
        chromium(f"--screenshot={ROOT / '_build' / name}", "--window-size=1280,1600", page.as_uri())
        print(f"screenshot: _build/{name}")
    if problems:
        print("\n".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--figures", nargs="?", const=HTML, type=Path, metavar="DIR",
                      help="only the figure check, on the pages under DIR (default _build/html)")
    args.add_argument("--unnumbered", action="store_true",
                      help="with --figures: do not require figure numbers")
    opts = args.parse_args()
    if opts.figures is not None:
        sys.exit(check_figures(opts.figures, numbered=numfig_on() and not opts.unnumbered))
    sys.exit(main())
