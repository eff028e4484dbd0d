"""What a reader sees: no text about how the book was made, no TeX left as text, pages that fit
a phone, links that lead somewhere. The checks live in ``.ci/check_html.py`` (run on the built
book in CI); here they are tested, and the text check is also run on the book's sources."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_html", ROOT / ".ci" / "check_html.py")
check_html = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_html)


@pytest.mark.parametrize("text", [
    "The issue asks us to measure it.",
    "An earlier version of this chapter used a smaller graph.",
    "The grid size is not found in our sources.",
    "| batch size | not found |",
    "before: commit e66494d (before the sampler change)",
    "measured with this module copied into a git worktree",
    "Authors not confirmed from the arXiv listing",
    "what the earlier runs missed",
    "The reviewer found a leak.",
])
def test_making_of_phrases_are_caught(text):
    assert check_html.making_of(text)


@pytest.mark.parametrize("text", [
    "The student commits to one temperature chosen on validation.",
    "Earlier layers see a smaller neighbourhood.",
    "The explanation was found by tree search in 12 s.",
    "Found 3 communities; the version of scikit-learn is recorded in the file.",
])
def test_method_text_is_not_flagged(text):
    assert check_html.making_of(text) == []


def book_texts() -> list[tuple[Path, str]]:
    """Every source a reader sees rendered: chapters, claims (the report page prints them),
    the bibliography, the README, the results files (chapters print their notes)."""
    files = [*ROOT.glob("book/**/*.md"), *ROOT.glob("book/**/*.yml"), *ROOT.glob("*.bib"),
             ROOT / "README.md", ROOT / "_config.yml"]
    texts = [(f, f.read_text()) for f in files]
    texts += [(f, json.dumps(json.loads(f.read_text()))) for f in ROOT.glob("book/*/results/*.json")]
    return texts


def test_book_sources_speak_of_the_method_only():
    texts = book_texts()
    assert len(texts) > 40  # the glob found the book
    found = [f"{f.relative_to(ROOT)}: {hit!r}" for f, text in texts for hit in check_html.making_of(text)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text", [
    r"the hinge $\max(0, |\delta|_2",          # a formula Markdown broke apart
    r"with c)$ where c = 3",
    r"a raw \delta in the sentence",
])
def test_tex_shown_as_text_is_caught(text):
    assert check_html.tex_in_text(text)


@pytest.mark.parametrize("text", [
    "It costs $5 and $10 on the cloud.",
    "A lone $ sign, and a price of $ 3.",
    "C:/data is a path; 4/2 = 2.",
])
def test_prose_with_dollars_is_not_tex(text):
    assert check_html.tex_in_text(text) == []


def test_layout_report_names_a_wide_page_and_scrolling_code():
    ok = {"width": 375, "page_width": 360, "wide": [], "scrolling_blocks": []}
    assert check_html.layout_report_problems(ok) == []
    wide = dict(ok, page_width=402, wide=["code (402 px): torch.distributed"])
    assert "402 px wide" in check_html.layout_report_problems(wide)[0]
    assert "torch.distributed" in check_html.layout_report_problems(wide)[0]
    scrolling = dict(ok, scrolling_blocks=["python -m companion.distgnn --sweep"])
    assert "1 code or output blocks scroll sideways" in check_html.layout_report_problems(scrolling)[0]


def test_links_to_missing_files_and_ids_are_broken(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text('<h1 id="top">t</h1>')
    (tmp_path / "b.html").write_text('<section id="x"><a name="y">y</a></section>')
    (tmp_path / "a.html").write_text(
        '<a href="b.html#x">ok</a> <a href="b.html#y">ok, a name</a> <a href="sub/#top">ok, a folder</a>'
        '<a href="#here">ok, this page</a><span id="here"></span>'
        '<a href="https://example.org/none.html">external</a> <a href="mailto:a@b.c">mail</a>'
        '<img src="data:image/png;base64,AAAA">'
        '<a href="b.html#nowhere">bad id</a> <a href="c.html">bad file</a> <img src="_images/p.png">')
    n, problems = check_html.link_problems(tmp_path)
    assert n == 7  # external, mail and data links are not internal
    assert len(problems) == 3, problems
    assert any("'b.html#nowhere'" in p and "no id" in p for p in problems)
    assert any("'c.html'" in p and "no such file" in p for p in problems)
    assert any("_images/p.png" in p for p in problems)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (CI installs it for the browser check)")
def test_layout_check_sees_a_page_wider_than_a_phone(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<html><head><meta name="viewport" content="width=device-width"></head><body>'
                    '<p>short text</p><div style="width:600px">a wide box</div>'
                    '<pre style="white-space:pre;overflow:auto">' + "x" * 400 + "</pre></body></html>")
    problems = check_html.layout_problems(page, widths=(375, 1400))
    assert any("at 375 px the page is" in p for p in problems), problems
    assert not any("at 1400 px the page is" in p for p in problems), problems
    assert sum("scroll sideways" in p for p in problems) == 2, problems
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]  # helper files removed
    page.write_text('<html><head><meta name="viewport" content="width=device-width"></head><body>'
                    '<p>short text</p><pre style="white-space:pre-wrap">' + "x " * 400 + "</pre></body></html>")
    assert check_html.layout_problems(page, widths=(375, 1400)) == []
