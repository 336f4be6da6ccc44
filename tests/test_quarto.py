"""The Quarto path with a real Quarto (issue 18): site and PDF from Quarto numbered like the portable
engine, long tables that break, the PDF rules both engines share (links, anchors, fonts, glyphs),
and the fallback of an older Quarto (``QUARTO_FORCE_VERSION=1.9.17``, honoured by the launcher of
the assembled Quarto: ../shared/tools/quarto/README.md).

Quarto is found as the renderer finds it (``QUARTO_PATH``, ``PATH``, the ``quarto_cli`` package);
without one every test here skips with the reason (CI has none: they skip there too, never fail).
"""

from __future__ import annotations

import html
import os
import re
import subprocess
from pathlib import Path

import pytest

from xjtrade.report.render import PAGE_FOOTER, RenderError, find_quarto, plan_engines, render_project
from xjtrade.report.render.quarto import page_footer_typst

from test_pdf_rules import SITE, book
from test_render import BOOK_TITLE, LONG_ROWS, long_table_project, make_project, row_baselines

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quarto_bin() -> Path:
    found = find_quarto()
    if found is None:
        where = " (CI has no Quarto)" if os.environ.get("CI") else ""
        pytest.skip(f"quarto not found (QUARTO_PATH, PATH, quarto_cli){where}: the Quarto path is not tested here")
    return found


@pytest.fixture(scope="module")
def quarto_pdf(quarto_bin) -> Path:
    """A Quarto that makes the PDF itself (>= 1.9.18), else skip."""
    plan = plan_engines("quarto")
    if plan.pdf["engine"] != "quarto":
        pytest.skip(f"this quarto does not make the PDF: {plan.pdf.get('reason')}")
    return quarto_bin


# --------------------------------------------------------------------------------------------------
# Numbering, compared between the engines (also used by test_site on the real book)
# --------------------------------------------------------------------------------------------------

CAPTION = re.compile(r"\b(Figure|Table) (\d+(?:\.\d+)?): (\S+ \S+)")


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text).replace("\xa0", " "))


def pdf_captions(pdf: Path) -> list[tuple[str, str, str]]:
    """(kind, number, first two words of the caption) of every numbered caption, in order."""
    from pypdf import PdfReader

    return CAPTION.findall(_words(" ".join(p.extract_text() or "" for p in PdfReader(str(pdf)).pages)))


def html_captions(site: Path, pages: list[str]) -> list[tuple[str, str, str]]:
    out = []
    for page in pages:
        text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", (site / page).read_text(encoding="utf-8"), flags=re.S)
        out += CAPTION.findall(_words(re.sub(r"<[^>]+>", " ", text)))
    return list(dict.fromkeys(out))  # a caption repeated (alt text, lightbox) once


def pdf_chapters(pdf: Path) -> list[str]:
    """The PDF's top-level bookmarks with the chapter number's dot dropped: "1 Data ..."."""
    from pypdf import PdfReader

    return [re.sub(r"^(\d+)\.? ", r"\1 ", o.title) for o in PdfReader(str(pdf)).outline if not isinstance(o, list)]


def assert_same_numbering(portable, quarto) -> None:
    """Chapters, figures and tables numbered alike by both engines, site and PDF."""
    assert pdf_chapters(quarto.pdf) == pdf_chapters(portable.pdf)
    assert pdf_captions(quarto.pdf) == pdf_captions(portable.pdf)
    assert html_captions(quarto.html_dir, quarto.pages) == html_captions(portable.html_dir, portable.pages)
    # and the PDF like the site
    assert sorted(pdf_captions(portable.pdf)) == sorted(html_captions(portable.html_dir, portable.pages))


@pytest.fixture(scope="module")
def both(tmp_path_factory, quarto_pdf):
    root = tmp_path_factory.mktemp("quarto-book")
    portable = render_project(make_project(root / "p"), root / "p" / "out", engine="portable", log=lambda m: None)
    logs: list[str] = []
    quarto = render_project(make_project(root / "q"), root / "q" / "out", engine="quarto", log=logs.append)
    return portable, quarto, logs


def test_quarto_makes_site_and_pdf_numbered_like_the_portable_engine(both):
    portable, quarto, logs = both
    assert quarto.engines["site"]["engine"] == quarto.engines["pdf"]["engine"] == "quarto"
    assert logs[0].startswith("render engine: quarto ") and logs[-1].startswith("render: ")
    # the front page is unnumbered: its figure and table are "Figure 1" / "Table 1", not "0.1"
    captions = pdf_captions(quarto.pdf)
    assert ("Figure", "1", "Local map") in captions and ("Table", "1", "Ports in") in captions
    assert ("Figure", "1.1", "Reported figures") in captions and ("Table", "1.1", "Conflicting figures") in captions
    assert_same_numbering(portable, quarto)


def test_quarto_site_links_the_pdf_and_styles_extra_pages(both):
    _, quarto, _ = both
    index = quarto.index_html.read_text(encoding="utf-8")
    assert re.search(rf'<a href="\./{re.escape(quarto.pdf.name)}"[^>]*>', index)  # the sidebar's PDF tool
    assert (quarto.html_dir / quarto.pdf.name).read_bytes() == quarto.pdf.read_bytes()
    assert (quarto.html_dir / "site.css").is_file()  # the stylesheet the site's extra pages link
    assert "overflow-wrap: anywhere" in index  # long addresses wrap (Quarto's theme let them widen the page)


def test_quarto_long_table_breaks_across_pages_with_its_header(quarto_pdf, tmp_path):
    from pypdf import PdfReader

    result = render_project(long_table_project(tmp_path), tmp_path / "out", engine="quarto", log=lambda m: None)
    pages = [p for p in row_baselines(result.pdf) if p]
    assert len(pages) >= 2, "the table did not break"
    seen = [m for p in pages for m in sorted(p, key=lambda m: -p[m])]
    assert seen == [f"K{i:03d}" for i in range(LONG_ROWS)]  # every row once, in order
    # no row in the bottom margin, where the page number is (a row used to overprint it)
    assert all(min(p.values()) > 60 for p in pages), [min(p.values()) for p in pages]
    reader = PdfReader(str(result.pdf))
    texts = [p.extract_text() for p in reader.pages]
    # the header on every page the table spans ("severity-weighted" may wrap after its hyphen)
    assert sum(re.sub(r"\s+", "", t).count("severity-weighteddifference") for t in texts) >= len(pages)


def test_quarto_pdf_links_anchors_fonts(quarto_pdf, tmp_path):
    from pypdf import PdfReader

    logs: list[str] = []
    result = render_project(book(tmp_path, "新疆外贸进出口总值首次突破3500亿元", site_url=SITE), tmp_path / "out",
                            engine="quarto", log=logs.append)
    assert logs[-1] == "render: 0 warnings", logs
    reader = PdfReader(str(result.pdf))
    uris = {str(a.get_object()["/A"]["/URI"]) for p in reader.pages for a in (p.get("/Annots") or [])
            if "/URI" in (a.get_object().get("/A") or {})}
    assert {f"{SITE}/figures.html#R0339", f"{SITE}/data/datapackage.json",
            "https://monitor.example.org/reports/horgos-port/site/index.html"} <= uris
    fonts_used = {str(f.get_object()["/BaseFont"]).split("+", 1)[-1] for p in reader.pages
                  for f in (p["/Resources"].get("/Font") or {}).values()}
    assert any(f.startswith("NotoSansCJKsc-Regular") for f in fonts_used), fonts_used  # Chinese, not Japanese
    assert "新疆外贸进出口总值首次突破3500亿元" in "".join(p.extract_text() for p in reader.pages).replace(" ", "")


def test_quarto_pdf_is_reproducible(quarto_pdf, tmp_path, monkeypatch):
    """The same book gives the same PDF: dated by the book's date, not the clock."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = render_project(book(tmp_path / "a", "Title"), tmp_path / "a" / "out", engine="quarto", log=lambda m: None)
    second = render_project(book(tmp_path / "b", "Title"), tmp_path / "b" / "out", engine="quarto", log=lambda m: None)
    assert first.pdf.read_bytes() == second.pdf.read_bytes()
    assert b"/CreationDate(D:20240501000000Z)" in first.pdf.read_bytes().replace(b" ", b"")


def test_quarto_pdf_refuses_a_character_without_a_glyph(quarto_pdf, tmp_path):
    with pytest.raises(RenderError, match=r"quarto: no font has a glyph for 1 character.*U\+1FABF"):
        render_project(book(tmp_path, "Title \U0001FABF here"), tmp_path / "out", engine="quarto", log=lambda m: None)


def test_older_quarto_falls_back_to_the_portable_pdf(quarto_bin, tmp_path, monkeypatch):
    monkeypatch.setenv("QUARTO_FORCE_VERSION", "1.9.17")
    reported = subprocess.run([str(quarto_bin), "--version"], capture_output=True, text=True).stdout.strip()
    if reported != "1.9.17":
        pytest.skip(f"this quarto does not honour QUARTO_FORCE_VERSION (reports {reported})")
    logs: list[str] = []
    result = render_project(make_project(tmp_path), tmp_path / "out", engine="auto", metadata={PAGE_FOOTER: FOOTER},
                            log=logs.append)
    assert result.engines["site"] == {"engine": "quarto", "version": "1.9.17"}
    assert result.engines["pdf"]["engine"] == "portable"
    assert result.engines["pdf"]["reason"] == "quarto 1.9.17 cannot render a book to typst (needs >= 1.9.18)"
    assert any("the PDF from the portable typst renderer" in m for m in logs), logs
    assert ("Figure", "1.1", "Reported figures") in pdf_captions(result.pdf)
    assert (result.html_dir / "site_libs").is_dir()  # the site is Quarto's
    texts = _page_texts(result.pdf)  # the portable PDF keeps its page footer under Quarto's site
    assert [i for i, t in enumerate(texts) if _squeezed(FOOTER) in t] == list(range(2, len(texts)))


# --------------------------------------------------------------------------------------------------
# The PDF's page footer (how to cite, licence: issue 21 item 8) and the front page's title, once
# --------------------------------------------------------------------------------------------------

# plain text with typst's markup characters, quotes and a non-Latin name: printed as written
FOOTER = ('Cite as: A. Analyst (2024). Synthetic Trade Monitor, edition “default”, data as of 2024-05-01 '
          '(新疆) $5 *not bold* _nor_ #emph <tag> @ref [x] // y \\ z "q" https://monitor.example.org/site/ . '
          'Licence: CC-BY-4.0.')


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def _page_texts(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    return [_squeezed(p.extract_text()) for p in PdfReader(str(pdf)).pages]


def test_page_footer_rule_prints_the_text_as_text_on_body_pages_only(tmp_path):
    """The typst rule Quarto's PDF gets (no Quarto needed): the footer from the first chapter on, not on
    the cover or the contents, its markup characters printed as written."""
    import typst

    assert page_footer_typst("") == "" and page_footer_typst("  ") == ""
    source = (page_footer_typst(FOOTER)
              + "#show heading.where(level: 1): it => { pagebreak(to: \"odd\"); it }\n"
              "#page[Cover]\n#outline()\n#heading(level: 1, numbering: none)[Front]\nFirst.\n"
              "#heading(level: 1)[Second]\nSecond.\n")
    (tmp_path / "t.typ").write_text(source, encoding="utf-8")
    from xjtrade.report.render import fonts
    typst.compile(str(tmp_path / "t.typ"), output=str(tmp_path / "t.pdf"),
                  font_paths=[str(fonts.font_folder(tmp_path / "fonts"))], ignore_system_fonts=True)
    texts = _page_texts(tmp_path / "t.pdf")
    footed = [i for i, t in enumerate(texts) if _squeezed(FOOTER) in t]
    front = next(i for i, t in enumerate(texts) if t.startswith("FrontFirst"))
    assert front >= 2 and footed == list(range(front, len(texts))), (front, footed, texts)
    # no running header here (Quarto's has none on a chapter's first page): the footer numbers the page
    assert texts[front].endswith(_squeezed(FOOTER) + str(front + 1)), texts[front]


@pytest.fixture(scope="module")
def front_titled(tmp_path_factory, quarto_bin):
    """The synthetic book whose front page is headed by the book's title (as the real front page is:
    staging.front_page), rendered by Quarto with the page footer the publish step passes."""
    root = tmp_path_factory.mktemp("quarto-front")
    stage = make_project(root)
    index = stage / "index.qmd"
    text = index.read_text(encoding="utf-8").replace("# Overview {.unnumbered}", f"# {BOOK_TITLE} {{.unnumbered}}")
    index.write_text(text.replace("A broken reference: @fig-missing.", ""), encoding="utf-8")  # no warning
    logs: list[str] = []
    result = render_project(stage, root / "out", engine="quarto", metadata={PAGE_FOOTER: FOOTER}, log=logs.append)
    return result, logs


def test_quarto_pdf_has_the_page_footer_on_every_body_page(front_titled, quarto_pdf):
    result, logs = front_titled
    assert result.engines["pdf"]["engine"] == "quarto"
    assert logs[-1] == "render: 0 warnings", logs
    texts = _page_texts(result.pdf)
    front = next(i for i, t in enumerate(texts) if "Thisreporttracksreportedfigures" in t)
    footed = [i for i, t in enumerate(texts) if _squeezed(FOOTER) in t]
    assert front >= 1 and footed == list(range(front, len(texts))), (front, footed)   # not the cover, nor contents
    # the front page's first page is numbered (Quarto's running header has no number there)
    assert re.search(re.escape(_squeezed(FOOTER)) + str(front + 1) + r"$", texts[front]), texts[front][-300:]
    # the footer is the PDF's: Quarto's site is not given the key
    assert "xj-page-footer" not in result.index_html.read_text(encoding="utf-8")


def test_quarto_front_page_shows_the_title_once(front_titled):
    result, _ = front_titled
    html = result.index_html.read_text(encoding="utf-8")
    headings = re.findall(r"<h1\b[^>]*>(.*?)</h1>", html, re.S)
    assert len(headings) == 1, headings
    assert _words(re.sub(r"<[^>]+>", "", headings[0])).strip() == BOOK_TITLE
    assert "This report tracks reported figures" in _words(re.sub(r"<[^>]+>", " ", html))
    # the PDF keeps the front page as its unnumbered first chapter
    assert pdf_chapters(result.pdf)[0] == BOOK_TITLE


def test_quarto_front_page_headed_otherwise_keeps_its_heading(both):
    _, quarto, _ = both
    html = quarto.index_html.read_text(encoding="utf-8")
    headings = [_words(re.sub(r"<[^>]+>", "", h)).strip() for h in re.findall(r"<h1\b[^>]*>(.*?)</h1>", html, re.S)]
    assert headings == [BOOK_TITLE, "Overview"], headings


@pytest.mark.parametrize("template", ["quarto-pdf.typ", "report.typ"])
def test_a_table_caption_stays_with_its_table(template, tmp_path):
    """Both engines' rule: a caption above a table that breaks across pages is not left alone at the
    foot of a page (it went to the next page with the table's first rows)."""
    import typst
    from pypdf import PdfReader
    from xjtrade.report.render.typst import TEMPLATES

    rules = [line for line in (TEMPLATES / template).read_text(encoding="utf-8").splitlines()
             if line.startswith("#show figure.caption.where(position: top)")]
    assert len(rules) == 1, template
    setup = ("#set page(height: 12cm, width: 10cm)\n#show figure.where(kind: table): set block(breakable: true)\n"
             "#show figure.where(kind: table): set figure.caption(position: top)\n")
    table = "#figure(kind: table, caption: [The caption], table(columns: 2, table.header[a][b], ..range(30).map(str)))\n"

    def pages(words: int, rule: str) -> list[str]:
        (tmp_path / "t.typ").write_text(setup + rule + f"#lorem({words})\n" + table, encoding="utf-8")
        typst.compile(str(tmp_path / "t.typ"), output=str(tmp_path / "t.pdf"))
        return [p.extract_text() for p in PdfReader(str(tmp_path / "t.pdf")).pages]

    # a text just long enough that, without the rule, the caption ends page 1 and the rows start page 2
    words = next(n for n in range(80, 140, 2) if pages(n, "")[0].rstrip().endswith("The caption"))
    kept = pages(words, rules[0] + "\n")
    assert "The caption" not in kept[0]
    assert "The caption" in kept[1] and re.search(r"\b0 1\b", kept[1])
