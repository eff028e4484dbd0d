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

Text: no sentence about how the book was made (``MAKING_OF``: "the issue asks", "an earlier
version", "not found in our sources", a commit hash...) anywhere on a page, outputs included, and
no TeX left as text: ``$`` against a non-space, or a TeX command such as ``\\max``, outside code
and typeset math (a formula Markdown broke apart, as a line starting ``- c)$`` inside ``$...$``).

Layout: each page is opened in frames 375 px (a phone) and 1,400 px wide; the page must not be
wider than its frame, and no code or output block may scroll sideways (long lines wrap).

Links: every internal link (``href``/``src`` to a file of the build) must name a file that exists,
and its ``#fragment`` an id on that page.

``python .ci/check_html.py --figures [DIR]`` runs only the figure check, on every page under DIR
(default ``_build/html``), from the HTML files alone: no browser, no network. Add ``--unnumbered``
for a build that does not number figures (a single-page ``jupyter-book build page.md``);
``--links [DIR]`` only the link check, ``--layout PAGE...`` only the layout check of those pages.
"""

from __future__ import annotations

import argparse
import json
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
# TeX that Markdown left as text: a dollar against a non-space ($\max, c)$) or a TeX command
# (\delta); prose money ("$5") and a lone "$" are fine
TEX_IN_TEXT = re.compile(r"\$(?=[^\s$\d])|(?<=[^\s$])\$(?!\d)|\\[A-Za-z]{2,}")
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
    problems += tex_in_text(visible)
    return problems


def tex_in_text(visible: str) -> list[str]:
    """TeX a reader sees as text (``visible``: the page's text without code and typeset math)."""
    hits = [visible[max(m.start() - 30, 0):m.end() + 30].strip() for m in TEX_IN_TEXT.finditer(visible)]
    return [f"{len(hits)} pieces of TeX shown as text, e.g. {hits[0]!r}"] if hits else []


# Sentences about how the book was made, not about the method: a reader must not meet them
MAKING_OF = re.compile("|".join([
    r"\bthe issue (asks|says|wants)", r"\bthis issue\b", r"\ban? earlier version\b",
    r"\bearlier runs\b", r"\bnot found in (our|the) (sources|text)", r"\bthe text we read\b",
    r"\bnot confirmed from\b", r"\bgit worktree\b", r"\bcommit [0-9a-f]{7,40}\b",
    r"\bnot found\b", r"\bthe review(er)? (found|asked|showed)\b", r"\bclosing note\b",
    r"\bREVIEW\.md\b", r"\bwe could not (read|find|reach)\b",
]), re.I)


def making_of(text: str) -> list[str]:
    """Each phrase of ``text`` that speaks of how the book was made, with its context."""
    return [text[max(m.start() - 40, 0):m.end() + 40].strip() for m in MAKING_OF.finditer(text)]


# Run inside a page in a frame of the wanted width, after it has laid out; posts to the parent
# frame the page's width and what sticks out: elements past the right edge that no scrolling
# box clips, and <pre> blocks (code, outputs) that scroll sideways
LAYOUT_PROBE = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var vw = window.innerWidth;
  function clipped(el) {
    for (var a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (/^(auto|scroll|hidden|clip)$/.test(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  }
  var wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1 && !clipped(el) && getComputedStyle(el).position !== "fixed")
      wide.push(el.tagName.toLowerCase() + " (" + Math.round(r.right) + " px): "
                + (el.textContent || "").trim().slice(0, 50));
  });
  var pres = [];
  document.querySelectorAll("pre").forEach(function (p) {
    if (p.scrollWidth > p.clientWidth + 1 && p.offsetParent !== null)
      pres.push(p.textContent.trim().slice(0, 60));
  });
  parent.postMessage(JSON.stringify({width: vw, page_width: document.documentElement.scrollWidth,
                                     wide: wide.slice(-3), scrolling_blocks: pres}), "*");
}, 300); });
</script>"""

LAYOUT_FRAMES = """<html><body>{reports}{frames}
<script>window.addEventListener("message", function (e) {{
  document.getElementById("layout-" + JSON.parse(e.data).width).textContent = e.data; }});</script>
</body></html>"""

LAYOUT_WIDTHS = (375, 1400)


def layout_report_problems(report: dict) -> list[str]:
    """What is wrong in one frame's layout report (see ``LAYOUT_PROBE``)."""
    width, problems = report["width"], []
    if report["page_width"] > width:
        problems.append(f"at {width} px the page is {report['page_width']} px wide; sticking out: "
                        + "; ".join(report["wide"]))
    blocks = report["scrolling_blocks"]
    if blocks:
        problems.append(f"at {width} px {len(blocks)} code or output blocks scroll sideways, e.g. {blocks[0]!r}")
    return problems


def layout_problems(page: Path, widths: tuple[int, ...] = LAYOUT_WIDTHS) -> list[str]:
    """Open ``page`` in frames of each width (two helper files beside it, removed after) and
    report a page wider than its frame or code and outputs that scroll sideways."""
    page = page.resolve()
    probe = page.with_name(f".layout-{page.name}")
    frames = page.with_name(f".layout-frames-{page.name}")
    html = page.read_text()
    at = html.rfind("</body>")
    probe.write_text(html[:at] + LAYOUT_PROBE + html[at:] if at >= 0 else html + LAYOUT_PROBE)
    frames.write_text(LAYOUT_FRAMES.format(
        reports="".join(f'<pre id="layout-{w}"></pre>' for w in widths),
        frames="".join(f'<iframe src="{probe.name}" style="width:{w}px;height:900px;border:0"></iframe>'
                       for w in widths)))
    try:
        dom = chromium("--dump-dom", f"--window-size={max(widths) + 100},1000", frames.as_uri())
    finally:
        probe.unlink(missing_ok=True)
        frames.unlink(missing_ok=True)
    problems = []
    for w in widths:
        found = re.search(rf'<pre id="layout-{w}">([^<]*)</pre>', dom)
        if not found or not found.group(1).strip():
            problems.append(f"at {w} px the page did not report its layout (did it load?)")
            continue
        problems += layout_report_problems(json.loads(unescape(found.group(1))))
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


class _Links(HTMLParser):
    """The ids of a page and the internal links it makes (``href`` of a/link, ``src`` of img/script)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        ref = a.get("href") if tag in ("a", "link") else a.get("src") if tag in ("img", "script", "iframe") else None
        if ref and not re.match(r"[a-z][a-z0-9+.-]*:|//", ref, re.I):  # http:, mailto:, data:, //cdn
            self.links.append(ref)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def link_problems(html_dir: Path) -> tuple[int, list[str]]:
    """The number of internal links on the pages under ``html_dir``, and each broken one: a file
    that does not exist, or a ``#fragment`` that is no id of its page."""
    pages = {p.resolve(): p for p in html_dir.rglob("*.html")
             if not {"_static", "_sources", "_images"} & set(p.relative_to(html_dir).parts)}
    parsed: dict[Path, _Links] = {}

    def parse(page: Path) -> _Links:
        if page not in parsed:
            parsed[page] = _Links()
            parsed[page].feed(page.read_text(errors="replace"))
        return parsed[page]

    n, problems = 0, []
    for page in sorted(pages):
        for ref in parse(page).links:
            n += 1
            path, _, fragment = ref.partition("#")
            path = path.split("?", 1)[0]
            target = (page.parent / unescape(path)).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            where = f"{pages[page].relative_to(html_dir)}: link {ref!r}"
            if not target.is_file():
                problems.append(f"{where}: no such file")
            elif fragment and target.suffix == ".html" and unescape(fragment) not in parse(target).ids:
                problems.append(f"{where}: no id {fragment!r} on that page")
    return n, problems


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
        # outputs count: a printed note is read like prose
        phrases = making_of(unescape(re.sub(r"<[^>]+>", " ", re.sub(
            r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I))))
        problems += [f"{page.relative_to(ROOT)}: text about the book's making: {m!r}" for m in phrases]
        layout = layout_problems(page)
        problems += [f"{page.relative_to(ROOT)}: layout: {m}" for m in layout]
        if not layout:
            print(f"ok: {page.relative_to(ROOT)}: fits {' and '.join(map(str, LAYOUT_WIDTHS))} px, "
                  "no code or output scrolls sideways")
    n_links, links = link_problems(HTML)
    problems += [f"_build/html/{m}" for m in links]
    if not links:
        print(f"ok: {n_links} internal links, none broken")
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
    args.add_argument("--links", nargs="?", const=HTML, type=Path, metavar="DIR",
                      help="only the link check, on the pages under DIR (default _build/html)")
    args.add_argument("--layout", nargs="+", type=Path, metavar="PAGE",
                      help="only the layout check (375 and 1,400 px), on these pages")
    opts = args.parse_args()
    if opts.figures is not None:
        sys.exit(check_figures(opts.figures, numbered=numfig_on() and not opts.unnumbered))
    if opts.links is not None:
        n_links, links = link_problems(opts.links)
        print("\n".join(links) if links else f"ok: {n_links} internal links, none broken")
        sys.exit(1 if links else 0)
    if opts.layout:
        found = [f"{page}: {m}" for page in opts.layout for m in layout_problems(page)]
        print("\n".join(found) if found else "ok: every page fits, no code or output scrolls sideways")
        sys.exit(1 if found else 0)
    sys.exit(main())
