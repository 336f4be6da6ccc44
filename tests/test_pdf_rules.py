"""The PDF's rules that both engines share (issue 18): the pandoc filter ``templates/pdf.lua`` (links
to pages only the site has, anchors, table columns), the text filter ``pdf-text.lua``, the
project's fonts and the check that every character has a glyph, ``book: site-url``.  The filters run
through pandoc here, as the portable renderer runs them (Quarto runs them too: tests/test_quarto.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from xjtrade.report import render
from xjtrade.report.render import RenderError, fonts, render_project
from xjtrade.report.render.base import pandoc_binary
from xjtrade.report.render.typst import PDF_FILTER, TEXT_FILTER

SITE = "https://monitor.example.org/reports/default/site"
PAGES = ["index.qmd", "index.html", "notebooks/01-data.ipynb", "notebooks/01-data.html", "sources.qmd",
         "sources.html"]


def to_typst(markdown: str, meta: dict | None = None, *extra_filters: Path) -> str:
    """The body pandoc's typst writer makes of ``markdown`` after pdf.lua (with ``meta``)."""
    import subprocess

    header = "---\n" + yaml.safe_dump({"xj-book-pages": PAGES, **(meta or {})}) + "---\n\n"
    args = [pandoc_binary(), "-f", "markdown", "-t", "typst", "--wrap", "none", "--lua-filter", str(PDF_FILTER)]
    for f in extra_filters:
        args += ["--lua-filter", str(f)]
    proc = subprocess.run(args, input=(header + markdown).encode(), capture_output=True, check=True)
    return proc.stdout.decode()


# --------------------------------------------------------------------------------------------------
# Links to pages only the site has
# --------------------------------------------------------------------------------------------------


LINKS = ("See [R0339](figures.html#R0339), [the data package](/data/datapackage.json), "
         "[Horgos](../../horgos-port/site/index.html), [methods](notebooks/01-data.ipynb#sec-x), "
         "[a source](sources.qmd#src-a), [Xinhua](https://www.news.cn/x.html) and [above](#top).")


def test_site_only_links_become_text_without_a_site_url():
    out = to_typst(LINKS)
    assert "See R0339, the data package, Horgos," in out  # plain text, no link
    assert "figures.html" not in out and "datapackage" not in out and "horgos-port" not in out
    # links into the book and to the web are left to the engine
    assert '#link("notebooks/01-data.ipynb#sec-x")[methods]' in out
    assert '#link("sources.qmd#src-a")[a source]' in out
    assert '#link("https://www.news.cn/x.html")[Xinhua]' in out
    assert "#link(<top>)[above]" in out


@pytest.mark.parametrize("site_url", [SITE, SITE + "/"])
def test_site_only_links_become_absolute_with_a_site_url(site_url):
    out = to_typst(LINKS, {"xj-site-url": site_url})
    assert f'#link("{SITE}/figures.html#R0339")[R0339]' in out
    assert f'#link("{SITE}/data/datapackage.json")[the data package]' in out
    # another edition, published beside this one as in reports/
    assert '#link("https://monitor.example.org/reports/horgos-port/site/index.html")[Horgos]' in out
    assert '#link("sources.qmd#src-a")[a source]' in out and "#link(<top>)[above]" in out


def test_a_download_link_is_dropped_without_a_site_url_and_absolute_with_one():
    """"Full table as CSV" with nothing to click would be a dead promise in a forwarded PDF."""
    text = ("| a | b |\n|---|---|\n| 1 | 2 |\n\n[Full table as CSV](tables/revisions.csv){.csv-link}\n\n"
            "Values in billion yuan. [R1](figures.html#R1)\n")
    out = to_typst(text)
    assert "Full table as CSV" not in out and "revisions.csv" not in out
    assert "Values in billion yuan. R1" in out  # other site-only links still become their text
    out = to_typst(text, {"xj-site-url": SITE})
    assert f'#link("{SITE}/tables/revisions.csv")[Full table as CSV]' in out


def test_site_url_at_the_host_root():
    out = to_typst("[R1](figures.html#R1) and [other](../../x/site/index.html)", {"xj-site-url": "https://h.org"})
    assert '#link("https://h.org/figures.html#R1")[R1]' in out
    assert '#link("https://h.org/x/site/index.html")[other]' in out  # cannot climb above the host


# --------------------------------------------------------------------------------------------------
# Anchors and table columns
# --------------------------------------------------------------------------------------------------


def test_empty_anchor_spans_carry_their_label():
    out = to_typst("- []{#src-a}**Title**. Publisher.\n- [Second]{#src-b} source.\n\nSee [a](#src-a).\n")
    assert '#metadata(none)#label("src-a")#strong[Title]' in out  # not a bare <src-a> attached to nothing
    assert "<src-a>" not in out.replace("#link(<src-a>)", "")
    assert "Second<src-b>" in out  # a span with text keeps pandoc's label


def test_empty_anchors_attach_in_typst(tmp_path):
    import typst

    body = to_typst("= Sources\n\n- []{#src-a}**Title**. Publisher.\n\nSee [a](#src-a).\n")
    _, warnings = typst.compile_with_warnings(body.encode(), output=str(tmp_path / "a.pdf"))
    assert not warnings, [w.message for w in warnings]


PROSE = "a long explanation of the difference between two figures " * 2
LONG = "| id | note | reason | remark |\n|:--|:--|:--|:--|\n" + "\n".join(
    f"| DPY-{i:08x} | {PROSE}{i} | {PROSE} | {PROSE} |" for i in range(3)) + "\n"
SHORT = "| year | value |\n|--:|--:|\n| 2021 | 1.0 |\n| 2022 | 2.0 |\n"


def percents(typst_source: str) -> list[float]:
    inner = re.search(r"columns: \(([^)]*)\)", typst_source).group(1)
    return [float(w.strip().rstrip("%")) for w in inner.split(",") if w.strip()]


def test_table_columns_from_the_content():
    # a table that fits keeps natural widths (pandoc's widths from the dashes dropped)
    assert re.search(r"columns: 2,", to_typst(SHORT))
    # a long one (by hand): the line holds 100 - 4 * 2.5 = 90 characters after the cell padding; each
    # column at least its longest word * 1.15 + 1 (id 12 -> 14.8, "explanation" 11 -> 13.65), each
    # wants its longest cell up to 40 (14.8, 40, 40, 40); the rest (90 - 55.75) is shared in
    # proportion to what each wants beyond its least: share = 34.25 / 79.05
    share = 34.25 / 79.05
    widths = [14.8] + [13.65 + (40 - 13.65) * share] * 3
    assert percents(to_typst(LONG)) == pytest.approx([100 * w / 90 for w in widths], abs=0.006)
    # (each prose column's least, a quarter of the 90 characters, 22.5, is under what it gets: 25.07)
    # the line's capacity is a setting (Quarto's book has a narrower text block): 60 - 10 = 50, less
    # than the columns' least (14.8 + 3 * 13.65); the text is set smaller, in steps of 1 %, until a line
    # of 50 / scale characters holds the id (14.8) and three prose columns of a quarter of it each:
    # at 0.85, 58.82 < 14.8 + 3 * 14.71; at 0.84, 59.52 >= 14.8 + 3 * 14.88 = 59.44; the 0.08 left is
    # shared in proportion to what each wants beyond its least (0, 25.12 each)
    narrow = to_typst(LONG, {"xj-table-line-chars": "60"})
    room = 50 / 0.84
    prose = room / 4 + (40 - room / 4) * (room - 14.8 - 3 * room / 4) / (14.8 + 120 - 14.8 - 3 * room / 4)
    assert percents(narrow) == pytest.approx([100 * w / room for w in (14.8, prose, prose, prose)], abs=0.006)
    assert narrow.count("#set text(size: 0.84em)") == 4 * 4          # every cell of the header and 3 rows


def test_text_filter_records_the_characters_of_the_text(tmp_path):
    text_file = tmp_path / "text.txt"
    to_typst("---\ntitle: 新疆\n---\n\nÉté `código`.\n\n```\nΩ = 1\n```\n", {"xj-text-file": str(text_file)},
             TEXT_FILTER)
    recorded = text_file.read_text(encoding="utf-8")
    assert sorted(recorded) == sorted(set("新疆ÉéóΩ")) and len(recorded) == len(set(recorded))


# --------------------------------------------------------------------------------------------------
# Fonts: only the project's, and a character without a glyph is an error
# --------------------------------------------------------------------------------------------------


def test_the_project_fonts_only(tmp_path):
    folder = fonts.font_folder(tmp_path / "fonts")
    names = sorted(p.name for p in folder.iterdir())
    assert "NotoSansCJK-Regular.ttc" in names and "DejaVuSerif.ttf" in names and "DejaVuSans-Bold.ttf" in names
    assert not any("LastResort" in n for n in names)  # it would draw a box for every missing glyph
    import typst

    families = set(typst.Fonts(include_system_fonts=False, font_paths=[str(folder)]).families())
    assert set(fonts.TEXT_FONTS) | set(fonts.MONO_FONTS) <= families


def test_cmap_chars_reads_typst_tounicode_maps():
    cmap = (b"2 beginbfchar\n<0001> <0048>\n<0003> <D883DEDE>\nendbfchar\n"
            b"1 beginbfrange\n<0010> <0012> <0061>\nendbfrange\n")
    assert fonts.cmap_chars(cmap) == {"H", "\U00030EDE", "a", "b", "c"}


def test_missing_glyphs_are_found(tmp_path):
    import typst

    pdf = tmp_path / "t.pdf"
    folder = fonts.font_folder(tmp_path / "fonts")
    typst.compile('#set text(font: ("Libertinus Serif", "Noto Sans CJK SC"))\n新疆 Ωmega \U0001FABF \U000F0041 é'.encode(),
                  output=str(pdf), font_paths=[str(folder)], ignore_system_fonts=True)
    # an emoji and a private-use character no font has print as boxes; spaces need none
    assert fonts.missing_glyphs("新疆Ω\U0001FABF\U000F0041é \u200b", pdf) == ["\U0001FABF", "\U000F0041"]


def book(root: Path, title: str, mainfont: str | None = None, site_url: str | None = None) -> Path:
    stage = root / "stage"
    stage.mkdir(parents=True)
    config = {"project": {"type": "book"},
              "book": {"title": "Glyphs", "author": "A. Analyst", "date": "2024-05-01",
                       "chapters": ["index.qmd", "sources.qmd"]},
              "format": {"typst": {"toc": False, **({"mainfont": mainfont} if mainfont else {})}}}
    if site_url:
        config["book"]["site-url"] = site_url
    (stage / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (stage / "index.qmd").write_text(
        "# Summary {.unnumbered}\n\nFigure [R0339](figures.html#R0339), [data](data/datapackage.json), "
        "[Horgos](../../horgos-port/site/index.html), source [one](sources.qmd#src-one).\n", encoding="utf-8")
    (stage / "sources.qmd").write_text(
        f"---\ntitle: Sources\n---\n\n- []{{#src-one}}**{title}**. Publisher, 2024-01-24.\n"
        "- []{#src-two}**Second**. Publisher.\n", encoding="utf-8")
    return stage


@pytest.mark.slow
def test_portable_pdf_links_anchors_and_no_warnings(tmp_path):
    from pypdf import PdfReader

    result = render_project(book(tmp_path, "新疆外贸进出口总值首次突破3500亿元", site_url=SITE), tmp_path / "out",
                            engine="portable", log=lambda m: None)
    assert result.warnings == []  # no anchor "not attached to anything", no unknown font
    uris, internal = set(), 0
    for page in PdfReader(str(result.pdf)).pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            if "/URI" in action:
                uris.add(str(action["/URI"]))
            elif annot.get_object().get("/Dest") is not None or action.get("/S") == "/GoTo":
                internal += 1
    assert {f"{SITE}/figures.html#R0339", f"{SITE}/data/datapackage.json",
            "https://monitor.example.org/reports/horgos-port/site/index.html"} <= uris
    assert internal >= 1  # the link to the source's anchor lands
    fonts_used = {str(f.get_object()["/BaseFont"]).split("+", 1)[-1] for p in PdfReader(str(result.pdf)).pages
                  for f in (p["/Resources"].get("/Font") or {}).values()}
    assert any(f.startswith("NotoSansCJKsc-Regular") for f in fonts_used), fonts_used


@pytest.mark.slow
@pytest.mark.parametrize("char", ["\U000F0041", "\U0001FABF"])  # private use; an emoji no font has
def test_portable_pdf_refuses_a_character_without_a_glyph(tmp_path, char):
    with pytest.raises(RenderError, match=rf"no font has a glyph for 1 character.*U\+{ord(char):04X}"):
        render_project(book(tmp_path, f"Title {char} here"), tmp_path / "out", engine="portable", log=lambda m: None)


@pytest.mark.slow
def test_portable_pdf_refuses_an_unknown_font(tmp_path):
    with pytest.raises(RenderError, match="fonts typst does not have: no such serif"):
        render_project(book(tmp_path, "Title", mainfont="No Such Serif"), tmp_path / "out", engine="portable",
                       log=lambda m: None)


# --------------------------------------------------------------------------------------------------
# book: site-url
# --------------------------------------------------------------------------------------------------


def test_site_url_setting():
    base = {"project": {"type": "book"}, "book": {"title": "T", "chapters": ["index.qmd"]}}
    assert render.parse_config(base).site_url is None
    base["book"]["site-url"] = SITE
    assert render.parse_config(base).site_url == SITE
    for bad in ("monitor.example.org", "ftp://x.org/", "https://x.org/a?b=1", "https://x.org/#top", "https://"):
        base["book"]["site-url"] = bad
        with pytest.raises(RenderError, match="book.site-url"):
            render.parse_config(base)


def test_each_edition_has_its_own_site_url():
    assert render.edition_site_url(SITE, "default") == SITE
    assert render.edition_site_url(SITE + "/", "horgos-port") == "https://monitor.example.org/reports/horgos-port/site/"
    assert render.edition_site_url(None, "horgos-port") is None
    with pytest.raises(RenderError, match="book.site-url"):
        render.edition_site_url("https://monitor.example.org/site/", "horgos-port")


def test_warnings_summary():
    assert render.warnings_summary([]) == "render: 0 warnings"
    text = render.warnings_summary([f"w{i}\nmore" for i in range(12)], limit=3)
    assert text == "render: 12 warnings:\n  - w0\n  - w1\n  - w2\n  ... and 9 more"


def test_quarto_messages_are_parsed_and_grouped():
    stderr = ("\x1b[33mWARN: one thing\x1b[39m\n[1/7] index.qmd\nwarning: unknown font family: x\n  ┌─ a.typ:3\n"
              + "".join(f"error: label `<R{i:04d}>` does not exist in the document\n    ┌─ index.typ:{900 + i}:39\n"
                        f"    │\n{900 + i} │   [#link(<R{i:04d}>)]\n    │   ^^^^\n\n" for i in range(752))
              + "ERROR: Typst compilation failed\n")
    warnings, errors = render.quarto.messages(stderr)
    assert warnings == ["one thing", "unknown font family: x (at a.typ:3)"]
    assert len(errors) == 753 and errors[1] == "label `<R0001>` does not exist in the document (at index.typ:901:39)"
    assert render.quarto.shorten(errors).splitlines() == [
        "  - label <…> does not exist in the document (752 times, e.g. label `<R0000>` does not exist in the "
        "document (at index.typ:900:39))",
        "  - Typst compilation failed"]


def test_quarto_validation_failure_names_the_field():
    """Quarto 1.10's stderr for an invalid `_quarto.yml` (captured): the error names the project only;
    the field, line and expected type follow it and must reach the user."""
    stderr = ("\x1b[91mERROR: Project /tmp/stage/_quarto.yml validation failed.\n\nIn file _quarto.yml\n"
              "(line 9, columns 9--15) Field \"\x1b[34mdate\x1b[91m\" has value \x1b[34m[1, 2]\x1b[91m, which must "
              "instead be a string\n 9: \x1b[34m  date: [1, 2]\x1b[91m\n\n\nStack trace:\n    at readAndValidate"
              "YamlFromFile (file:///q/validated-yaml.ts:51:11)\n")
    detail = render.quarto.validation_detail(stderr)
    assert detail.splitlines() == ["    In file _quarto.yml",
                                   '    (line 9, columns 9--15) Field "date" has value [1, 2], which must instead '
                                   "be a string",
                                   "     9:   date: [1, 2]"]
    assert render.quarto.validation_detail("ERROR: Typst compilation failed\n") == ""


def test_describe_engine():
    assert render.describe_engine({"engine": "quarto", "version": "1.10.18"}) == "quarto 1.10.18"
    assert render.describe_engine({"engine": "portable", "version": "pandoc 3.9 + typst 0.15.2",
                                   "reason": "quarto 1.9.17 cannot render a book to typst (needs >= 1.9.18)"}) == (
        "portable renderer (pandoc 3.9 + typst 0.15.2): quarto 1.9.17 cannot render a book to typst (needs >= 1.9.18)")
    assert json.loads(render.engine_key("portable"))["pdf"]["engine"] == "portable"


@pytest.mark.parametrize("manifest, date", [({"build_date": "2026-01-31"}, "2026-01-31"),
                                            ({"build_date": None}, "absent"), ({}, "absent")])
def test_book_config_never_gives_quarto_a_null_date(manifest, date):
    """A build without a known date (no clock, no SOURCE_DATE_EPOCH) stages no `date` at all: Quarto
    1.10 refuses `date: null` ("validation failed"), and `last-modified` would differ run to run."""
    from types import SimpleNamespace
    from xjtrade.project import Project
    from xjtrade.report.params import RunParams
    from xjtrade.report.staging import book_config
    from conftest import ROOT
    config = book_config(Project(ROOT), SimpleNamespace(parameters=RunParams()), manifest)
    assert config["book"].get("date", "absent") == date
    assert config["book"]["title"] == RunParams().title


def test_a_font_the_project_does_not_ship_is_found_in_the_pdf(tmp_path):
    """A typst that reads the machine's fonts (the recipe's typst shim ignored TYPST_IGNORE_SYSTEM_FONTS,
    and installing Debian's fonts-noto-cjk put NotoSansCJKsc-Bold into Quarto's PDF): the check names the
    font.  Here a font from matplotlib's folder that the project does not ship (STIX) stands for it."""
    import typst
    import matplotlib
    stix = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "STIXGeneral.ttf"
    folder = fonts.font_folder(tmp_path / "fonts")
    (folder / stix.name).symlink_to(stix)
    pdfs = {}
    for name, font in (("shipped", "DejaVu Sans"), ("foreign", "STIXGeneral")):
        source = tmp_path / f"{name}.typ"
        source.write_text(f'#set text(font: "{font}", fallback: false)\nXinjiang 新疆\n', encoding="utf-8")
        pdfs[name] = tmp_path / f"{name}.pdf"
        typst.compile(str(source), output=str(pdfs[name]), font_paths=[str(folder)], ignore_system_fonts=True)
    assert "DejaVuSans" in fonts.pdf_font_names(pdfs["shipped"])
    assert fonts.foreign_fonts(pdfs["shipped"]) == []
    assert fonts.foreign_fonts(pdfs["foreign"]) == ["STIXGeneral-Regular"]
    text = tmp_path / "text.txt"
    text.write_text("Xinjiang", encoding="utf-8")
    with pytest.raises(RenderError, match="fonts the project does not ship: STIXGeneral-Regular"):
        fonts.check_pdf(pdfs["foreign"], text, [], "quarto")
    fonts.check_pdf(pdfs["shipped"], text, [], "quarto")
