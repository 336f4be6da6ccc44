"""Tests for xjtrade.report.render: pure helpers, the portable engine end to end (HTML site + PDF),
determinism, errors, Quarto discovery/command line, and one browser check of the built site."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from xjtrade.report import render
from xjtrade.report.render import RenderError, find_quarto, quarto_command, render_project

try:
    from browser import check_site, chromium_available, serve_directory  # noqa: F401
except ImportError:  # pragma: no cover - tests collected as a package
    from tests.browser import check_site, chromium_available, serve_directory  # noqa: F401


BOOK_TITLE = "Synthetic Trade Monitor"
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="240" viewBox="0 0 480 240">'
    '<rect width="480" height="240" fill="#dbe9f6"/><rect x="40" y="60" width="80" height="140" fill="#0b5cad"/>'
    '<text x="200" y="130" font-size="24">demo chart</text></svg>'
)
LOCAL_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="120" viewBox="0 0 300 120">'
    '<circle cx="60" cy="60" r="40" fill="#1e8a4c"/></svg>'
)

INDEX_QMD = """# Overview {.unnumbered}

This report tracks reported figures. See @fig-demo for coverage by year and
@tbl-demo for the conflicting figures; the local map is @fig-local.
A broken reference: @fig-missing.

![Local map of ports](figures/local.svg){#fig-local}

| Port | Value |
|------|------:|
| Horgos | 12.5 |
| Alashankou | 9.1 |

: Ports in the index {#tbl-index}

Read the [methods](methods.qmd) and [the table](notebooks/01-data.ipynb#tbl-demo).

::: {.content-visible when-format="html"}
```{=html}
<figure class="raw-chart"><img src="figures/raw-only.svg" alt="a chart drawn by raw HTML"></figure>
```
:::
"""

METHODS_QMD = """---
title: "Methods"
---

## Growth model

We fit the model described next to @tbl-demo (see also [-@fig-demo]).

## Sources

Every figure is cited.
"""


def make_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        new_code_cell("PARAM_MARKER = 2023", metadata={"tags": ["parameters"]}, execution_count=1),
        new_code_cell("INJECTED_MARKER = 2024", metadata={"tags": ["injected-parameters"]}, execution_count=2),
        new_markdown_cell("# Data and coverage\n\nThe dataset lists **reported figures**."),
        new_code_cell(
            "#| label: fig-demo\n#| fig-cap: \"Reported figures by year and source\"\nSECRET_CODE_MARKER = plot()",
            execution_count=3,
            outputs=[
                new_output("stream", name="stdout", text="STREAM_MARKER printed\n"),
                new_output("display_data", data={"image/svg+xml": SVG, "text/plain": "<Figure size 640x480>"}),
            ],
        ),
        new_code_cell(
            "#| label: tbl-demo\n#| tbl-cap: \"Conflicting figures\"\nshow_table()",
            execution_count=4,
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "text/markdown": "| Year | Source | Value |\n|---:|:---|---:|\n| 2021 | Customs | 197.0 |\n| 2022 | Bureau | 246.3 |\n",
                        "text/plain": "<IPython.core.display.Markdown object>",
                    },
                )
            ],
        ),
        new_code_cell(
            "#| label: tbl-frame\n#| tbl-cap: \"A data frame\"\ndf",
            execution_count=5,
            outputs=[
                new_output(
                    "execute_result",
                    execution_count=5,
                    data={
                        "text/html": (
                            "<div><style scoped>.dataframe td { color: red; }</style>"
                            '<table border="1" class="dataframe"><thead><tr><th></th><th>port</th><th>share</th></tr></thead>'
                            "<tbody><tr><th>0</th><td>Khorgos</td><td>0.41</td></tr>"
                            "<tr><th>1</th><td>Alashankou</td><td>0.33</td></tr></tbody></table></div>"
                        ),
                        "text/plain": "         port  share\n0     Khorgos   0.41\n1  Alashankou   0.33",
                    },
                )
            ],
        ),
        new_code_cell(
            "#| output: false\nhidden()",
            execution_count=5,
            outputs=[new_output("execute_result", data={"text/plain": "HIDDEN_OUTPUT_MARKER"}, execution_count=5)],
        ),
        new_code_cell(
            "narrative()",
            execution_count=6,
            outputs=[new_output("display_data", data={"text/markdown": "Exports grew by **24.6%** in 2023."})],
        ),
    ]
    return nb


def make_project(root: Path, chapters: list[str] | None = None) -> Path:
    stage = root / "stage"
    (stage / "notebooks").mkdir(parents=True)
    (stage / "figures").mkdir()
    config = {
        "project": {"type": "book"},
        "book": {
            "title": BOOK_TITLE,
            "subtitle": "A synthetic book for tests",
            "author": ["A. Analyst", "B. Checker"],
            "date": "2024-05-01",
            "chapters": chapters or ["index.qmd", "notebooks/01-data.ipynb", "methods.qmd"],
        },
        "format": {"html": {"theme": "cosmo"}, "typst": {"toc": True}},
        "execute": {"enabled": False},
    }
    (stage / "_quarto.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (stage / "index.qmd").write_text(INDEX_QMD, encoding="utf-8")
    (stage / "methods.qmd").write_text(METHODS_QMD, encoding="utf-8")
    (stage / "figures" / "local.svg").write_text(LOCAL_SVG, encoding="utf-8")
    (stage / "figures" / "raw-only.svg").write_text(LOCAL_SVG, encoding="utf-8")
    nbformat.write(make_notebook(), stage / "notebooks" / "01-data.ipynb")
    return stage


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


# --------------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------------


def test_raw_html_sources_names_local_files_only():
    from xjtrade.report.render.links import raw_html_sources
    blocks = [{"t": "RawBlock", "c": ["html", '<img src="figures/a.svg"><img src="../b.png">'
                                              '<script src="https://cdn.example/x.js"></script>'
                                              '<img src="data:image/png;base64,AAAA">']},
              {"t": "Para", "c": [{"t": "RawInline", "c": ["html", '<img src="c.svg">']}]},
              {"t": "RawBlock", "c": ["typst", '#image("figures/t.svg")']}]
    assert raw_html_sources(blocks, "index.qmd") == ["figures/a.svg", "c.svg"]   # ../b.png is outside
    assert raw_html_sources(blocks, "notebooks/01.ipynb") == ["notebooks/figures/a.svg", "b.png",
                                                                "notebooks/c.svg"]


def test_slugify_and_page_names():
    assert render.slugify("Xinjiang Trade Monitor") == "xinjiang-trade-monitor"
    assert render.slugify("新疆") == "book"
    assert render.page_name("notebooks/01-data.ipynb") == "notebooks/01-data.html"
    assert render.relurl("notebooks/01-data.html", "methods.html") == "../methods.html"
    assert render.relurl("index.html", "figures/a.svg") == "figures/a.svg"


def test_parse_config_book_and_format_options():
    cfg = render.parse_config({
        "project": {"type": "book"},
        "book": {"title": "T", "author": {"name": "Solo"}, "chapters": ["index.qmd", "nb/a.ipynb", "c.qmd"]},
        "format": {"html": {"toc": True, "theme": "cosmo", "code-fold": True},
                   "typst": {"toc": True, "toc-depth": 2, "papersize": "a4", "mainfont": "Noto Serif",
                             "fig-width": 5}},
    })
    assert cfg.chapters == ["index.qmd", "nb/a.ipynb", "c.qmd"] and cfg.authors == ["Solo"]
    assert cfg.format("html") == render.config.FormatOptions(toc=True, toc_depth=3)
    assert cfg.format("typst") == render.config.FormatOptions(toc=True, toc_depth=2, mainfont="Noto Serif",
                                                              papersize="a4")
    # An option neither engine-specific nor applied by the portable renderer is reported, not ignored silently.
    assert cfg.warnings == ["_quarto.yml: option 'format.typst.fig-width' is not applied by the portable renderer"]
    assert render.parse_config({"book": {"title": "T", "chapters": ["a.qmd"]}}).format("typst").toc is False


@pytest.mark.parametrize(
    "data, key",
    [
        ({"book": ["x"]}, "'book'"),
        ({"book": {"title": "T"}}, "'book.chapters'"),
        ({"book": {"title": "T", "chapters": "index.qmd"}}, "'book.chapters'"),
        ({"book": {"title": "T", "chapters": ["index.qmd", 3]}}, "'book.chapters[1]'"),
        ({"book": {"title": "T", "chapters": ["data.csv"]}}, "'book.chapters[0]'"),
        (["not", "a", "mapping"], "top level"),
        # Quarto features the book does not use are refused with the key, not half-rendered.
        ({"book": {"title": "T", "chapters": [{"part": "P", "chapters": ["a.qmd"]}]}}, "'book.chapters[0]': book parts"),
        ({"book": {"title": "T", "chapters": ["a.qmd"], "appendices": ["b.qmd"]}}, "'book.appendices'"),
        ({"project": {"type": "website"}, "website": {}}, "'project.type'"),
        ({"book": {"title": "T", "chapters": ["a.qmd"]}, "format": {"typst": {"toc-depth": "deep"}}},
         "'format.typst.toc-depth'"),
        ({"book": {"title": "T", "chapters": ["a.qmd"]}, "format": {"html": {"toc": "yes"}}}, "'format.html.toc'"),
    ],
)
def test_parse_config_errors_name_the_key(data, key):
    with pytest.raises(RenderError, match=re.escape(key)):
        render.parse_config(data)


def test_parse_cell_options():
    options, code, error = render.parse_cell_options('#| label: fig-x\n#| fig-cap: "A: b"\nplot()\n')
    assert options == {"label": "fig-x", "fig-cap": "A: b"} and code.strip() == "plot()" and error is None
    assert render.parse_cell_options("x = 1")[0] == {}
    assert render.parse_cell_options("#| label: [oops\nx")[2]


def test_notebook_to_markdown_hides_code_params_and_streams():
    converted = render.notebook_to_markdown(make_notebook(), "01-data")
    md = converted.markdown
    for marker in ("PARAM_MARKER", "INJECTED_MARKER", "SECRET_CODE_MARKER", "STREAM_MARKER", "HIDDEN_OUTPUT_MARKER"):
        assert marker not in md
    assert "# Data and coverage" in md
    assert "{#fig-demo .cell-output-display}" in md and "![](/figures/01-data-1.svg)" in md
    assert "Reported figures by year and source" in md
    assert "{#tbl-demo .cell-output-display}" in md and "| 2022 | Bureau | 246.3 |" in md
    assert [a.path for a in converted.assets] == ["figures/01-data-1.svg"]
    # A caption that looks like a list item stays a caption.
    nb = make_notebook()
    nb.cells[3].source = nb.cells[3].source.replace('"Reported figures by year and source"', '"1. Ranked ports"')
    assert "\n\n1\\. Ranked ports\n" in render.notebook_to_markdown(nb, "01-data").markdown
    assert converted.assets[0].data.decode() == SVG


def _chapter(source: str, blocks: list, number: str | None) -> render.Chapter:
    ch = render.Chapter(source=source, page=render.page_name(source), kind="qmd", title=[], title_text=source,
                        title_id="", unnumbered=number is None, blocks=blocks)
    ch.number = number
    return ch


def test_numbering_and_cross_references_are_pure():
    fig = {"t": "Figure", "c": [["fig-a", [], []], [None, [{"t": "Plain", "c": [{"t": "Str", "c": "Cap"}]}]], []]}
    tbl = {"t": "Div", "c": [["tbl-b", ["table-float"], []], [{"t": "Para", "c": [{"t": "Str", "c": "T"}]}]]}
    cite = {"t": "Para", "c": [{"t": "Cite", "c": [[{"citationId": "fig-a", "citationPrefix": [], "citationSuffix": [],
                                                    "citationMode": {"t": "AuthorInText"}, "citationNoteNum": 1,
                                                    "citationHash": 0}], [{"t": "Str", "c": "@fig-a"}]]}]}
    chapters = [_chapter("index.qmd", [cite], None), _chapter("nb/x.ipynb", [fig, tbl], "2")]
    xrefs, warnings = render.collect_xrefs(chapters)
    assert warnings == []
    assert xrefs["fig-a"].text == "Figure 2.1" and xrefs["tbl-b"].text == "Table 2.1"
    html, _ = render.resolve_xrefs(chapters[0].blocks, xrefs, "index.html", "html")
    link = html[0]["c"][0]
    assert link["t"] == "Link" and link["c"][2][0] == "nb/x.html#fig-a"
    assert render.stringify(link) == "Figure 2.1"
    pdf, _ = render.resolve_xrefs(chapters[0].blocks, xrefs, "index.html", "pdf")
    assert render.stringify(pdf) == "Figure 2.1" and "Link" not in str(pdf)
    numbered = render.number_floats(chapters[1].blocks, xrefs)
    assert render.stringify(numbered[0]["c"][1]) == "Figure 2.1: Cap"
    assert render.stringify(numbered[1]).startswith("Table 2.1: T")
    _, missing = render.resolve_xrefs(chapters[0].blocks, {}, "index.html", "html", "index.qmd")
    assert missing == ["index.qmd: unresolved cross-reference @fig-a"]


def test_creation_timestamp():
    assert render.creation_timestamp("2024-05-01", {}) == 1714521600
    assert render.creation_timestamp("May 2024", {}) is None
    assert render.creation_timestamp(None, {"SOURCE_DATE_EPOCH": "42"}) == 42
    # Quarto's clock-dependent dates are not reproducible: SOURCE_DATE_EPOCH or nothing.
    assert render.resolve_date("last-modified", {"SOURCE_DATE_EPOCH": "1714521600"}) == ("2024-05-01", None)
    date, warning = render.resolve_date("last-modified", {})
    assert date is None and "SOURCE_DATE_EPOCH" in warning
    assert render.resolve_date("2024-05-01", {}) == ("2024-05-01", None)


# --------------------------------------------------------------------------------------------------
# Quarto discovery and command
# --------------------------------------------------------------------------------------------------


def test_find_quarto_from_env_and_absent(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "quarto"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 1.5.0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert find_quarto({"QUARTO_PATH": str(fake)}) == fake
    assert find_quarto({"PATH": str(fake.parent)}) == fake
    monkeypatch.setattr(render.quarto, "_quarto_cli_binary", lambda: None)
    assert find_quarto({}) is None
    assert find_quarto({"QUARTO_PATH": str(tmp_path / "missing")}) is None


def test_quarto_command():
    cmd = quarto_command("/opt/quarto/bin/quarto", "/p/stage", "/p/out/site", "html",
                         {"version": "1.2", "draft": False, "date": "2024-05-01"})
    assert cmd == [
        "/opt/quarto/bin/quarto", "render", "/p/stage", "--to", "html", "--output-dir", "/p/out/site",
        "-M", "date:2024-05-01", "-M", "draft:false", "-M", "version:1.2",
    ]
    assert quarto_command("quarto", "p", "o", "typst", None) == ["quarto", "render", "p", "--to", "typst", "--output-dir", "o"]


@pytest.mark.slow
def test_quarto_end_to_end(tmp_path):
    if find_quarto() is None:
        pytest.skip("quarto not found")
    stage = make_project(tmp_path)
    result = render_project(stage, tmp_path / "out", engine="quarto", log=lambda m: None)
    assert result.engine == "quarto"
    assert result.index_html.is_file() and result.pdf and result.pdf.is_file()


# --------------------------------------------------------------------------------------------------
# Portable engine, end to end
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    stage = make_project(root)
    logs: list[str] = []
    result = render_project(stage, root / "out", engine="portable", metadata={"version": "test"}, log=logs.append)
    return stage, root, result, logs


@pytest.mark.slow
def test_portable_pages_in_chapter_order(built):
    _, root, result, logs = built
    assert result.engine == "portable"
    assert len(logs) == 2 and logs[0].startswith("render engine: portable (pandoc ") and "typst" in logs[0]
    # the render's warnings, counted and listed in the log
    assert logs[1] == "render: 1 warning:\n  - index.qmd: unresolved cross-reference @fig-missing"
    assert result.pages == ["index.html", "notebooks/01-data.html", "methods.html"]
    site = root / "out" / "site"
    assert result.html_dir == site and result.index_html == site / "index.html"
    for page in result.pages:
        assert (site / page).is_file()
    assert (site / "site.css").is_file()
    assert result.figures == 2 and result.tables == 3  # fig-local, fig-demo; tbl-index, tbl-demo, tbl-frame
    # Sidebar lists all chapters in order and highlights the current one.
    nb = (site / "notebooks/01-data.html").read_text()
    nav = re.search(r'<nav class="sidebar".*?</nav>', nb, re.S).group(0)
    assert [m for m in re.findall(r'href="([^"]+)"', nav)] == ["../index.html", "01-data.html", "../methods.html"]
    assert re.search(r'class="chapter current"><a href="01-data.html" aria-current="page"><span class="chapter-number">1</span> <span class="chapter-title">Data and coverage', nb)
    assert 'rel="prev" href="../index.html"' in nb and 'rel="next" href="../methods.html"' in nb


@pytest.mark.slow
def test_portable_figures_tables_and_cross_references(built):
    _, root, result, _ = built
    site = root / "out" / "site"
    index = (site / "index.html").read_text()
    nb = (site / "notebooks/01-data.html").read_text()
    methods = (site / "methods.html").read_text()
    # Captions numbered per chapter (index unnumbered, the notebook is chapter 1).
    assert "Figure 1.1: Reported figures by year and source" in visible(nb)
    assert "Table 1.1: Conflicting figures" in visible(nb)
    assert "Figure 1: Local map of ports" in visible(index)
    assert "Table 1: Ports in the index" in visible(index)
    assert '<figure id="fig-demo"' in nb and '<table id="tbl-demo"' in nb
    # Cross-references: text and href, within and across pages.
    assert re.search(r'<a href="notebooks/01-data.html#fig-demo" class="quarto-xref">Figure 1.1</a>', index)
    assert re.search(r'<a href="notebooks/01-data.html#tbl-demo" class="quarto-xref">Table 1.1</a>', index)
    assert re.search(r'<a href="#fig-local" class="quarto-xref">Figure 1</a>', index)
    assert re.search(r'<a href="notebooks/01-data.html#tbl-demo" class="quarto-xref">Table 1.1</a>', methods)
    assert re.search(r'<a href="notebooks/01-data.html#fig-demo" class="quarto-xref">1.1</a>', methods)
    # Unresolved reference: shown like Quarto and reported, not a crash.
    assert "?@fig-missing" in index
    assert "index.qmd: unresolved cross-reference @fig-missing" in result.warnings
    # Links to chapter sources point at pages.
    assert 'href="methods.html"' in index and 'href="notebooks/01-data.html#tbl-demo"' in index
    # Section numbers (methods is chapter 2: the index is unnumbered).
    assert '<span class="header-section-number">2.1</span> Growth model' in methods


@pytest.mark.slow
def test_portable_hides_code_and_parameters_and_keeps_outputs(built):
    _, root, _, _ = built
    nb = (root / "out" / "site" / "notebooks/01-data.html").read_text()
    for marker in ("PARAM_MARKER", "INJECTED_MARKER", "SECRET_CODE_MARKER", "STREAM_MARKER", "HIDDEN_OUTPUT_MARKER",
                   "plot()", "show_table"):
        assert marker not in nb
    assert "<strong>24.6%</strong>" in nb
    assert "Customs" in nb and "246.3" in nb
    # HTML outputs stay raw HTML in the site, with the numbered caption above them.
    assert '<div id="tbl-frame" class="cell-output-display table-float">' in nb
    assert 'class="dataframe"' in nb and "Table 1.2: A data frame" in visible(nb)


@pytest.mark.slow
def test_portable_assets_notebook_link_and_offline(built):
    stage, root, _, _ = built
    site = root / "out" / "site"
    svg = site / "figures" / "01-data-1.svg"
    assert svg.read_text() == SVG
    nb = (site / "notebooks/01-data.html").read_text()
    assert 'src="../figures/01-data-1.svg"' in nb
    assert (site / "figures" / "local.svg").is_file()
    assert 'src="figures/local.svg"' in (site / "index.html").read_text()
    # an image only raw HTML names on the site (the front page's chart fallback) is copied too
    assert 'src="figures/raw-only.svg"' in (site / "index.html").read_text()
    assert (site / "figures" / "raw-only.svg").read_text() == LOCAL_SVG
    assert '<a href="01-data.ipynb" download>Download notebook (.ipynb)</a>' in nb
    assert (site / "notebooks" / "01-data.ipynb").read_bytes() == (stage / "notebooks" / "01-data.ipynb").read_bytes()
    pdf_name = "synthetic-trade-monitor.pdf"
    for page in ("index.html", "notebooks/01-data.html", "methods.html"):
        html = (site / page).read_text()
        assert f'{"../" if "/" in page else ""}{pdf_name}' in html
        assert not re.search(r'(src|href)="(https?:)?//', html), page  # nothing external
        assert "<script" not in html
    assert (site / pdf_name).read_bytes() == (root / "out" / pdf_name).read_bytes()


@pytest.mark.slow
def test_portable_pdf_content(built):
    _, root, result, _ = built
    assert result.pdf == root / "out" / "synthetic-trade-monitor.pdf"
    text = pdf_text(result.pdf)
    flat = re.sub(r"\s+", " ", text)
    for needle in (BOOK_TITLE, "A synthetic book for tests", "A. Analyst", "Contents", "Overview",
                   "Data and coverage", "Methods", "Figure 1.1: Reported figures by year and source",
                   "Table 1.1: Conflicting figures", "Customs", "246.3", "Horgos", "Figure 1: Local map of ports",
                   "Chapter 1", "2.1 Growth model", "Table 1.2: A data frame", "Khorgos", "0.41"):
        assert needle in flat, needle
    # Cross-references are plain text in the PDF, code never appears.
    assert "see also 1.1" in flat and "Table 1.1 for the conflicting figures" in flat
    assert "SECRET_CODE_MARKER" not in flat and "PARAM_MARKER" not in flat
    # The SVG figures are embedded (as vector content: their text is extractable).
    assert "demo chart" in flat


@pytest.mark.slow
def test_portable_render_is_deterministic(built, tmp_path):
    stage, root, first, _ = built
    second = render_project(stage, tmp_path / "again", engine="portable", metadata={"version": "test"}, log=lambda m: None)
    site1, site2 = first.html_dir, second.html_dir
    files1 = sorted(p.relative_to(site1).as_posix() for p in site1.rglob("*") if p.is_file())
    files2 = sorted(p.relative_to(site2).as_posix() for p in site2.rglob("*") if p.is_file())
    assert files1 == files2
    for rel in files1:
        if rel.endswith(".pdf"):
            continue
        assert (site1 / rel).read_bytes() == (site2 / rel).read_bytes(), rel
    assert pdf_text(first.pdf) == pdf_text(second.pdf)
    assert first.pdf.read_bytes() == second.pdf.read_bytes()  # fixed creation date, no timestamps
    assert str(root) not in (site1 / "index.html").read_text()


@pytest.mark.slow
def test_missing_chapter_names_the_file(tmp_path):
    stage = make_project(tmp_path, chapters=["index.qmd", "notebooks/01-data.ipynb", "missing.qmd"])
    with pytest.raises(RenderError, match=r"missing\.qmd"):
        render_project(stage, tmp_path / "out", engine="portable", log=lambda m: None)


def test_malformed_quarto_yml(tmp_path):
    stage = make_project(tmp_path)
    (stage / "_quarto.yml").write_text("project: {type: book\nbook: [\n", encoding="utf-8")
    with pytest.raises(RenderError, match="_quarto.yml: invalid YAML"):
        render_project(stage, tmp_path / "out", engine="portable", log=lambda m: None)
    (stage / "_quarto.yml").write_text("project: {type: book}\nbook:\n  title: T\n  chapters: index.qmd\n")
    with pytest.raises(RenderError, match=r"key 'book.chapters' must be a list"):
        render_project(stage, tmp_path / "out", engine="portable", log=lambda m: None)


@pytest.mark.slow
def test_missing_image_and_bad_notebook_name_the_chapter(tmp_path):
    stage = make_project(tmp_path)
    (stage / "figures" / "local.svg").unlink()
    with pytest.raises(RenderError, match=r"index\.qmd: image 'figures/local.svg' not found"):
        render_project(stage, tmp_path / "out", engine="portable", log=lambda m: None)
    stage2 = make_project(tmp_path / "b")
    (stage2 / "notebooks" / "01-data.ipynb").write_text("{not json")
    with pytest.raises(RenderError, match=r"notebooks/01-data\.ipynb: cannot read notebook"):
        render_project(stage2, tmp_path / "out2", engine="portable", log=lambda m: None)


def test_unknown_engine_and_missing_quarto(tmp_path, monkeypatch):
    stage = make_project(tmp_path)
    with pytest.raises(RenderError, match="unknown render engine"):
        render_project(stage, tmp_path / "out", engine="latex")
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("QUARTO_PATH", raising=False)
    monkeypatch.setattr(render.quarto, "_quarto_cli_binary", lambda: None)
    with pytest.raises(RenderError, match="quarto was not found"):
        render_project(stage, tmp_path / "out", engine="quarto")


# --------------------------------------------------------------------------------------------------
# Browser
# --------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_site_in_browser(built, chromium_available, tmp_path):
    _, _, result, _ = built
    with serve_directory(result.html_dir) as root_url:
        report = check_site(root_url, result.pages, screenshot_dir=tmp_path / "shots")
    assert report["ok"], report["problems"]
    assert report["console_errors"] == [] and report["broken_images"] == []
    links = report["internal_links"]
    assert any(link["fragment"] == "fig-demo" and link["fragment_ok"] for link in links)
    assert any(link["href"].endswith(".pdf") and link["status"] == 200 for link in links)
    assert any(link["href"].endswith(".ipynb") and link["status"] == 200 for link in links)
    assert "Figure 1.1: Reported figures by year and source" in report["text"]["notebooks/01-data.html"]
    assert all(path.is_file() for path in report["screenshots"].values())


@pytest.mark.browser
def test_check_site_reports_problems(chromium_available, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,"><title>x</title></head><body>'
        '<h1 id="top">Home</h1><img src="missing.png" alt="gone">'
        '<a href="other.html#there">ok</a> <a href="other.html#nowhere">bad fragment</a> '
        '<a href="absent.html">absent</a> <a href="https://example.invalid/">external</a>'
        "<script>console.error('boom')</script></body></html>"
    )
    (site / "other.html").write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head>'
                                     '<body><p id="there">There</p></body></html>')
    with serve_directory(site) as root_url:
        report = check_site(root_url, ["index.html", "other.html"])
    assert not report["ok"]
    assert any("boom" in message for _, message in report["console_errors"])
    assert [src.rsplit("/", 1)[-1] for _, src in report["broken_images"]] == ["missing.png"]
    broken = {link["href"].rsplit("/", 1)[-1]: link for link in report["broken_links"]}
    assert set(broken) == {"other.html#nowhere", "absent.html"}
    assert broken["absent.html"]["status"] == 404 and broken["other.html#nowhere"]["fragment_ok"] is False
    assert all("example.invalid" not in link["href"] for link in report["internal_links"])
    assert report["text"]["other.html"].strip() == "There"


# --------------------------------------------------------------------------------------------------
# The renderer's imports, Quarto's version and the PDF engine decision (fake `quarto` executables)
# --------------------------------------------------------------------------------------------------


def test_renderer_imports_neither_pandas_nor_data_nor_stats():
    import subprocess
    import sys

    code = ("import xjtrade.report.render, sys; bad = [m for m in ('pandas', 'xjtrade.data', 'xjtrade.stats') "
            "if m in sys.modules]; assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("text, version, supported", [
    ("1.7.34\n", (1, 7, 34), False),
    ("1.9.17", (1, 9, 17), False),
    ("1.9.18\n", (1, 9, 18), True),
    ("1.10.2", (1, 10, 2), True),
    ("99.9.9\n", (99, 9, 9), True),  # a development build
    ("v1.6", (1, 6, 0), False),
    ("quarto 2.0.0-dev", (2, 0, 0), True),
    ("", None, False),
    ("command not found", None, False),
])
def test_quarto_version_decides_the_pdf_engine(text, version, supported):
    assert render.parse_version(text) == version
    assert render.quarto.book_typst_supported(version) is supported


def fake_quarto(bin_dir: Path, version: str, writes_pdf: bool) -> Path:
    """A `quarto` that prints `version`, writes three HTML pages for --to html and, if `writes_pdf`,
    a one-page PDF for --to typst, recording the environment and profile it got and the book's text
    where the profile says (otherwise Quarto < 1.9.18's warning, exit 0)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "quarto"
    if writes_pdf:
        import typst

        typst.compile(b"Fake quarto PDF", output=str(bin_dir / "fake.pdf"))
    pdf = (f'cp "{bin_dir}/fake.pdf" "$out/book.pdf"; '
           'printf "%s|%s|%s" "$QUARTO_PROFILE" "$TYPST_IGNORE_SYSTEM_FONTS" "$SOURCE_DATE_EPOCH" > "$out/../fake-env.txt"; '
           'cp "$project/_quarto-$QUARTO_PROFILE.yml" "$out/../fake-profile.yml"; '
           'printf "" > "$(sed -n "s/^xj-text-file: //p" "$project/_quarto-$QUARTO_PROFILE.yml")"'
           if writes_pdf else 'echo "WARN: The typst format is not supported by book projects" >&2')
    script.write_text(f"""#!/bin/sh
if [ "$1" = "--version" ]; then echo "{version}"; exit 0; fi
to=""; out=""; project="$2"
while [ $# -gt 0 ]; do case "$1" in --to) to="$2"; shift;; --output-dir) out="$2"; shift;; esac; shift; done
mkdir -p "$out/notebooks"
if [ "$to" = "html" ]; then
  for p in index notebooks/01-data methods; do echo "<html><body>QUARTO_HTML $p</body></html>" > "$out/$p.html"; done
else
  {pdf}
fi
exit 0
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_old_quarto_makes_the_html_and_the_portable_engine_the_pdf(tmp_path, monkeypatch):
    stage = make_project(tmp_path)
    monkeypatch.setenv("QUARTO_PATH", str(fake_quarto(tmp_path / "bin", "1.7.34", writes_pdf=False)))
    logs: list[str] = []
    result = render_project(stage, tmp_path / "out", engine="auto", log=logs.append)
    assert result.engine == "quarto" and result.pdf_engine == "portable"
    assert "QUARTO_HTML index" in result.index_html.read_text()
    assert logs[0].startswith("render engine: quarto 1.7.34")
    assert any("quarto 1.7.34 cannot render a book to typst (needs >= 1.9.18)" in m and "portable typst" in m
               for m in logs), logs
    text = pdf_text(result.pdf)
    assert "Figure 1.1: Reported figures by year and source" in text
    assert (result.html_dir / result.pdf.name).read_bytes() == result.pdf.read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["site", "synthetic-trade-monitor.pdf"]


@pytest.mark.parametrize("version", ["1.9.18", "99.9.9"])
def test_new_quarto_makes_the_pdf(tmp_path, monkeypatch, version):
    stage = make_project(tmp_path)
    monkeypatch.setenv("QUARTO_PATH", str(fake_quarto(tmp_path / "bin", version, writes_pdf=True)))
    result = render_project(stage, tmp_path / "out", engine="quarto", log=lambda m: None)
    assert result.engine == "quarto" and result.pdf_engine == "quarto"
    assert result.pdf.read_bytes() == (tmp_path / "bin" / "fake.pdf").read_bytes()
    assert result.pdf == tmp_path / "out" / "synthetic-trade-monitor.pdf"
    assert result.engines == {"site": {"engine": "quarto", "version": version},
                              "pdf": {"engine": "quarto", "version": version}}
    # Quarto got the project's profile (filters, fonts, typst rules); typst ignores system fonts and
    # dates the PDF by the book's date (2024-05-01), not the clock
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    render_project(stage, tmp_path / "out", engine="quarto", log=lambda m: None)
    assert (tmp_path / "out" / "fake-env.txt").read_text() == "xjtrade-typst|true|1714521600"
    profile = yaml.safe_load((tmp_path / "out" / "fake-profile.yml").read_text())
    typst_format = profile["format"]["typst"]
    assert [Path(f["path"]).name for f in typst_format["filters"]] == ["pdf.lua", "pdf-text.lua"]
    assert typst_format["font-paths"] == ["_xjtrade/fonts"]
    assert "Noto Sans CJK SC" in typst_format["include-in-header"][0]["text"]
    assert "breakable: true" in typst_format["include-before-body"][0]["text"]
    assert profile["xj-book-pages"] == ["index.qmd", "index.html", "notebooks/01-data.ipynb",
                                        "notebooks/01-data.html", "methods.qmd", "methods.html"]
    # nothing of it is left in the project
    assert not list(stage.glob("_quarto-*.yml")) and not (stage / "_xjtrade").exists()


def test_a_new_quarto_is_a_reason_to_render_again(tmp_path, monkeypatch):
    """The render key holds the engines and their versions, not only the engine asked for."""
    from conftest import copy_project
    from xjtrade import pipeline
    from xjtrade.project import Project
    from xjtrade.report.params import load_params
    from xjtrade.report.run import notebooks_in

    project = Project(copy_project(tmp_path / "project"))
    params = load_params(project.params / "default.yaml")

    def render_key(version: str | None) -> str:
        if version is None:
            monkeypatch.delenv("QUARTO_PATH", raising=False)
            monkeypatch.setenv("PATH", "/usr/bin:/bin")
            monkeypatch.setattr(render.quarto, "_quarto_cli_binary", lambda: None)
        else:
            monkeypatch.setenv("QUARTO_PATH", str(fake_quarto(tmp_path / "bin", version, writes_pdf=False)))
        return pipeline.compute_keys(project, params, "auto", notebooks_in(project.notebooks)).render_base

    assert render_key("1.10.18") == render_key("1.10.18")
    assert len({render_key("1.10.18"), render_key("1.10.19"), render_key("1.9.17"), render_key(None)}) == 4


def test_new_quarto_without_a_pdf_is_an_error(tmp_path, monkeypatch):
    stage = make_project(tmp_path)
    monkeypatch.setenv("QUARTO_PATH", str(fake_quarto(tmp_path / "bin", "1.9.18", writes_pdf=False)))
    with pytest.raises(RenderError, match=r"quarto wrote no PDF(.|\n)*typst format is not supported"):
        render_project(stage, tmp_path / "out", engine="quarto", log=lambda m: None)
    assert not (tmp_path / "out" / "synthetic-trade-monitor.pdf").exists()


# --------------------------------------------------------------------------------------------------
# PDF: Chinese text, long tables, format options
# --------------------------------------------------------------------------------------------------

CHINESE_TITLE = "新疆对外贸易统计"
LONG_ROWS = 60


def long_table_project(root: Path, typst_options: dict | None = None) -> Path:
    """A one-chapter book with a Chinese source title and a 60-row table with long cells."""
    stage = root / "stage"
    stage.mkdir(parents=True)
    config = {"project": {"type": "book"},  # (an author: Quarto 1.10's typst book fails without one)
              "book": {"title": "Long", "author": "A. Analyst", "date": "2024-05-01", "chapters": ["index.qmd"]},
              "format": {"typst": typst_options if typst_options is not None else {"toc": True, "papersize": "a4"}}}
    (stage / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    rows = "\n".join(f"| K{i:03d} | {2000 + i} | derived vs reported | DPY-{i:08x} differs by +{i / 7:.2f}% from the "
                     f"reported figure in the year-to-date release | {i * 1.5:.1f} |" for i in range(LONG_ROWS))
    (stage / "index.qmd").write_text(
        f"# Summary {{.unnumbered}}\n\nSource: **{CHINESE_TITLE}**.\n\n## Table\n\n"
        "| issue | year | kind of issue | note | severity-weighted difference |\n|:--|--:|:--|:--|--:|\n"
        f"{rows}\n\n: A long table {{#tbl-long}}\n", encoding="utf-8")
    return stage


def row_baselines(pdf: Path) -> list[dict[str, float]]:
    """Per page: {row marker "Knnn": y of its baseline (points from the bottom)}."""
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(str(pdf)).pages:
        found: dict[str, float] = {}

        def visit(text, cm, tm, _font, _size):
            for marker in re.findall(r"K\d{3}", text or ""):
                found.setdefault(marker, tm[4] * cm[1] + tm[5] * cm[3] + cm[5])

        page.extract_text(visitor_text=visit)
        pages.append(found)
    return pages


@pytest.mark.slow
def test_pdf_chinese_text_and_long_table_break_cleanly(tmp_path):
    stage = long_table_project(tmp_path)
    result = render_project(stage, tmp_path / "out", engine="portable", log=lambda m: None)
    text = pdf_text(result.pdf)
    assert CHINESE_TITLE in text  # embedded CJK font, not empty boxes
    from pypdf import PdfReader

    fonts = {str(f.get_object()["/BaseFont"]) for p in PdfReader(str(result.pdf)).pages
             for f in (p["/Resources"].get("/Font") or {}).values()}
    assert any("NotoSansCJK" in f for f in fonts), fonts
    pages = [p for p in row_baselines(result.pdf) if p]
    assert len(pages) >= 2, "60 rows fit on one page: the table did not break"
    seen = [m for p in pages for m in sorted(p, key=lambda m: -p[m])]
    assert seen == [f"K{i:03d}" for i in range(LONG_ROWS)]  # every row once, in order, across pages
    for page in pages:
        ys = [page[f"K{i:03d}"] for i in range(LONG_ROWS) if f"K{i:03d}" in page]
        gaps = [a - b for a, b in zip(ys, ys[1:])]
        assert all(g >= 8 for g in gaps), gaps  # strictly down the page, never two rows on one baseline
    # The header row is repeated on every page the table spans; headers are never hyphenated.
    page_texts = [PdfReader(str(result.pdf)).pages[i].extract_text() for i in range(len(PdfReader(str(result.pdf)).pages))]
    assert sum("severity-weighted" in t for t in page_texts) >= len(pages)
    assert "sever-" not in text and "weight-\ned" not in text


@pytest.mark.slow
def test_pdf_format_options_are_honoured(tmp_path):
    from pypdf import PdfReader

    a4 = render_project(long_table_project(tmp_path / "a"), tmp_path / "a" / "out", engine="portable",
                        log=lambda m: None)
    letter = render_project(long_table_project(tmp_path / "b", {"toc": False}), tmp_path / "b" / "out",
                            engine="portable", log=lambda m: None)
    box = PdfReader(str(a4.pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # papersize: a4
    box = PdfReader(str(letter.pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # Quarto's default, us-letter
    assert "Contents" in pdf_text(a4.pdf) and "Contents" not in pdf_text(letter.pdf)  # toc: false
    # The site's "On this page" follows format.html.toc (not set here: none).
    assert "page-toc" not in (letter.html_dir / "index.html").read_text()


# --------------------------------------------------------------------------------------------------
# Staging (xjtrade.report.staging): the same project for both engines
# --------------------------------------------------------------------------------------------------


def papermill_notebook() -> dict:
    nb = new_notebook()
    nb.metadata["papermill"] = {"start_time": "2024-01-01T00:00:00", "duration": 3.2}
    nb.cells = [
        new_markdown_cell("# Growth\n\nIntro."),
        new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        new_markdown_cell("## Trend"),
        new_code_cell("show()", metadata={"tags": []},
                      outputs=[new_output("display_data", data={"text/markdown": "Trend **up**."})]),
        new_markdown_cell("## Key results"),
        new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(xa.save_results(ctx, 'growth', {}))",
                      outputs=[new_output("stream", name="stdout", text='{"cagr": 7.7}\n')]),
        new_markdown_cell("## Tagged"),
        new_code_cell("summary()", metadata={"tags": ["key-results"]},
                      outputs=[new_output("execute_result", data={"text/plain": "'KEY'"}, execution_count=3)]),
    ]
    for cell in nb.cells:
        cell.metadata["papermill"] = {"status": "completed", "duration": 0.5}
        if cell.cell_type == "code":
            cell.metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:01.5Z"}
    return json.loads(nbformat.writes(nb))


def test_stage_notebook_hides_key_results_and_strips_papermill():
    from xjtrade.report.staging import stage_notebook

    original = papermill_notebook()
    staged = stage_notebook(original)
    assert "papermill" in original["metadata"]  # the input is not modified
    assert "papermill" not in staged["metadata"]
    assert not any({"papermill", "execution"} & set(c["metadata"]) for c in staged["cells"])
    # an empty tag list is dropped (Quarto writes data-tags and data-execution_count in either order); tags stay
    assert any(c["metadata"].get("tags") == [] for c in original["cells"])
    assert not any(c["metadata"].get("tags") == [] for c in staged["cells"])
    assert any(c["metadata"].get("tags") for c in staged["cells"])
    sources = ["".join(c["source"]) for c in staged["cells"]]
    # Empty sections are dropped; the Trend section (visible output) and the chapter title stay.
    assert sources[0].startswith("# Growth") and "## Trend" in sources
    assert "## Key results" not in sources and "## Tagged" not in sources
    keys = [c for c in staged["cells"] if c["cell_type"] == "code" and c["source"] and
            ("save_results" in "".join(c["source"]) or "key-results" in c["metadata"].get("tags", []))]
    assert len(keys) == 2
    for cell in keys:
        assert "".join(cell["source"]).startswith("#| output: false\n") and cell["outputs"] == []
    # The portable engine shows nothing of them either.
    md = render.notebook_to_markdown(staged, "02-growth").markdown
    assert "cagr" not in md and "KEY" not in md and "Key results" not in md and "Trend **up**." in md
    # Deterministic: the same inputs with other timestamps stage to the same bytes.
    other = json.loads(json.dumps(original))
    other["metadata"]["papermill"]["duration"] = 9.9
    other["cells"][3]["metadata"]["papermill"]["duration"] = 7.0
    assert json.dumps(stage_notebook(other), sort_keys=True) == json.dumps(staged, sort_keys=True)


def test_front_page_title_is_an_unnumbered_heading():
    from xjtrade.report.staging import NOTEBOOK_DOWNLOADS, front_page

    page = front_page('---\ntitle: "Xinjiang: trade"\n---\n\nBody text.\n\n## Key figures\n')
    assert page == "# Xinjiang: trade {.unnumbered}\n\nBody text.\n\n## Key figures\n"
    assert NOTEBOOK_DOWNLOADS not in page
    assert front_page("# T {.unnumbered}\n\nBody.\n", downloads=True).endswith(f"Body.\n\n{NOTEBOOK_DOWNLOADS}\n")


def test_conditional_content_follows_quarto_when_format():
    """`.content-visible when-format="html"` shows on the site only; `.content-hidden` the reverse."""
    from xjtrade.report.render.book import select_format

    def div(cls, when, text):
        return {"t": "Div", "c": [["", [cls], [["when-format", when]]], [{"t": "Para", "c": [{"t": "Str", "c": text}]}]]}

    blocks = [div("content-visible", "html", "site-only"), div("content-hidden", "html", "pdf-only"),
              div("content-visible", "pdf", "pdf-too")]
    words = lambda bs: [b["c"][0]["c"] for b in bs]
    assert words(select_format(blocks, "html")) == ["site-only"]
    assert words(select_format(blocks, "pdf")) == ["pdf-only", "pdf-too"]
