"""The published report: the site in headless Chromium, the PDF's text, the Quarto path."""

from __future__ import annotations

import json
import re

from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from browser import check_site, chromium_available, html_ids, serve_directory  # noqa: F401

pytestmark = pytest.mark.slow

CHAPTERS = ["Data: coverage, quality and lineage", "Growth", "Forecasts", "Methods", "Sources",
            "About this build"]


@pytest.fixture(scope="module")
def built(default_edition):
    """The default edition the suite builds once (conftest.default_edition)."""
    return default_edition


def test_layout(built):
    _, out, _ = built
    site = out / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert pages == ["about.html", "figures.html", "index.html", "methods.html", "notebooks/01-data.html",
                     "notebooks/02-growth.html", "notebooks/03-forecast.html", "sources.html"]
    assert (out / "xinjiang-trade-monitor.pdf").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["render_engine"] == "portable"
    assert manifest["parameters"]["entity"] == "Xinjiang"


def test_site_in_browser(built, chromium_available, tmp_path):
    _, out, results = built
    site = out / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    with serve_directory(site) as url:
        report = check_site(url, pages, screenshot_dir=tmp_path / "shots")
    assert report["ok"], report["problems"]
    assert len(report["internal_links"]) > 20
    index = report["text"]["index.html"]
    latest = results["growth"]["latest_value"]
    assert f"{latest:,.1f}" in index
    assert "520.4" in index                                  # the 2025 total, billion yuan
    growth = report["text"]["notebooks/02-growth.html"]
    assert "Figure 2.1" in growth and "Source: Xinjiang Trade Monitor" in growth
    sources = report["text"]["sources.html"]
    assert "seed-002" in sources and "2024-01-23" in sources
    about = report["text"]["about.html"]
    assert "site made by portable renderer (pandoc " in re.sub(r"\s+", " ", about)
    assert "PDF made by portable renderer (pandoc " in re.sub(r"\s+", " ", about)


def test_every_figure_and_table_carries_a_source(built):
    _, out, _ = built
    for page in ("01-data", "02-growth", "03-forecast"):
        html = (out / "site" / "notebooks" / f"{page}.html").read_text()
        n_captions = html.count("Figure ") + html.count("Table ")
        assert n_captions > 0
        assert html.count("Source:") >= 1, page


def test_pdf_text(built):
    _, out, results = built
    reader = PdfReader(out / "xinjiang-trade-monitor.pdf")
    assert 15 <= len(reader.pages) <= 120
    text = "\n".join(page.extract_text() for page in reader.pages)
    for chapter in CHAPTERS:
        assert chapter in text, chapter
    assert "Contents" in text
    assert "520.4" in text
    assert f"{results['growth']['trend']['growth_pct']:+.1f}%" in text


def test_quarto_engine_when_installed(built, tmp_path, chromium_available):
    """The real book with Quarto (when one is found), rendered as the publish step renders it: site and
    PDF numbered as by the portable engine, no warnings, the Sources page no wider than the window at
    1366 px, the front page's title once with the answer and the chart's top on the first screen, and
    the page footer (how to cite, licence) on every body page of the PDF."""
    from xjtrade.report.render import PAGE_FOOTER, find_quarto, render_project
    if find_quarto() is None:
        pytest.skip("quarto not found (PATH, QUARTO_PATH, quarto-cli): the portable engine is tested instead")
    import yaml
    from test_first_screen import DESKTOP, measure
    from test_quarto import assert_same_numbering
    from xjtrade.report.bulletin import pdf_footer
    from xjtrade.report.editions import editions
    from xjtrade.report.site import finish_site
    from xjtrade.report.staging import run_results, stage_project
    project, out, _ = built
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))   # what the about page states
    run = project.runs / "default"
    stage = stage_project(project, run, tmp_path / "stage", manifest)
    results = run_results(run, manifest)
    config = yaml.safe_load((stage / "_quarto.yml").read_text(encoding="utf-8"))
    footer = pdf_footer(results, manifest, config)
    logs: list[str] = []
    result = render_project(stage, tmp_path / "out", engine="quarto", metadata={"run": "default", PAGE_FOOTER: footer},
                            log=logs.append)
    assert result.index_html.exists() and result.pdf and result.pdf.exists()
    assert logs[-1] == "render: 0 warnings", logs
    portable = render_project(stage, tmp_path / "portable", engine="portable", log=lambda m: None)
    assert_same_numbering(portable, result)
    # every body page (from the front page, after the cover and the contents) carries the footer
    reader = PdfReader(str(result.pdf))
    texts = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    assert "Citeas:" in re.sub(r"\s+", "", footer) and "Licence:CC-BY-4.0" in re.sub(r"\s+", "", footer)
    front = reader.get_destination_page_number(reader.outline[0])          # the front page's first page
    assert reader.outline[0].title == results.parameters.title and 1 <= front <= 4
    assert [i for i, t in enumerate(texts) if re.sub(r"\s+", "", footer) in t] == list(range(front, len(texts)))
    assert texts[front].endswith(re.sub(r"\s+", "", footer) + str(front + 1))       # numbered by the footer
    # the front page: the title once (Quarto's title block; the page's own heading is the PDF's)
    index = result.index_html.read_text(encoding="utf-8")
    assert [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h1\b[^>]*>(.*?)</h1>", index, re.S)] == \
        [results.parameters.title]
    finish_site(result.html_dir, run, results, manifest, editions(project, "default"), config)
    with serve_directory(result.html_dir) as url:
        widths = _open(url, ["sources.html", "index.html"],
                       lambda page, _: page.evaluate("document.documentElement.scrollWidth"))
        first = measure(url, DESKTOP, tmp_path / "quarto-1366.png")
    assert widths == {"sources.html": 1366, "index.html": 1366}
    assert first["errors"] == [] and first["drawn"], first
    for part in ("title", "level", "growth", "outlook"):
        assert first[part] is not None and first[part]["bottom"] <= DESKTOP["height"], (part, first)
    assert first["chart"]["top"] < DESKTOP["height"] - 100, first


# --- what a reader sees (issue 10) --------------------------------------------------------------

IDENTIFIERS = re.compile(r"\b(mean_growth|ets_damped|cagr_pct|n_origins|n_obs|growth_pct|coverage_80|"
                         r"coverage_95|n_forecasts|evaluable)\b")
LITERAL = re.compile(r"\[['\"0-9]")
READER_PAGES = ["index.html", "notebooks/01-data.html", "notebooks/02-growth.html", "sources.html"]


def _open(url, pages, fn, width=1366, offline=False):
    from playwright.sync_api import sync_playwright
    from browser import CHROMIUM_ARGS
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": width, "height": 900})
        if offline:  # only the local server answers: the chart must not need the network
            ctx.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())
        for name in pages:
            page = ctx.new_page()
            errors = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
            page.on("requestfailed", lambda r, e=errors: e.append(f"failed {r.url}"))
            page.goto(url + name, wait_until="load")
            out[name] = fn(page, errors)
            page.close()
        browser.close()
    return out


def test_reader_pages_have_no_code_or_empty_headings(built, chromium_available):
    _, out, _ = built
    with serve_directory(out / "site") as url:
        texts = _open(url, READER_PAGES + ["notebooks/03-forecast.html"],
                      lambda page, _: {"text": page.inner_text("body"), "empty": page.evaluate(
                          "() => Array.from(document.querySelectorAll('h2, h3')).filter(h => {"
                          " let n = h.nextElementSibling; return !n || /^H[1-3]$/.test(n.tagName); })"
                          ".map(h => h.textContent)")})
    for name in READER_PAGES:
        text = texts[name]["text"]
        assert not LITERAL.search(text), (name, LITERAL.search(text).group(0), text[LITERAL.search(text).start() - 80:][:160])
        assert not IDENTIFIERS.search(text), (name, IDENTIFIERS.search(text).group(0))
        assert "?@" not in text, name
        assert texts[name]["empty"] == [], (name, texts[name]["empty"])
        assert "Key results" not in text


def test_every_table_has_a_working_csv_link(built, chromium_available):
    _, out, _ = built
    site = out / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))

    def tables(page, _):
        return page.evaluate("""() => {
            const els = Array.from(document.querySelectorAll('table, a.csv-link'));
            const res = []; let open = null;
            for (const el of els) {
                if (el.tagName === 'TABLE') { if (open) res.push([open, null]); open = el.id || el.textContent.slice(0, 40); }
                else if (open) { res.push([open, el.href]); open = null; }
            }
            if (open) res.push([open, null]);
            return res; }""")
    with serve_directory(site) as url:
        found = _open(url, pages, tables)
        import urllib.request
        n = 0
        for name, pairs in found.items():
            for table, href in pairs:
                assert href, f"{name}: table {table!r} has no CSV link after it"
                with urllib.request.urlopen(href) as resp:
                    body = resp.read().decode("utf-8")
                assert resp.status == 200 and "," in body.splitlines()[0], (name, href)
                n += 1
    assert n >= 10


class _TablesAndLinks(HTMLParser):
    """A page's tables (their header cells) and CSV links (href, text), in document order."""

    def __init__(self):
        super().__init__()
        self.items, self._cell, self._link = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.items.append(("table", a.get("id") or "", []))
        elif tag == "th" and self.items and self.items[-1][0] == "table":
            self._cell = []
        elif tag == "a" and "csv-link" in (a.get("class") or "").split():
            self._link = [a.get("href"), []]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._link is not None:
            self._link[1].append(data)

    def handle_endtag(self, tag):
        if tag == "th" and self._cell is not None:
            self.items[-1][2].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "a" and self._link is not None:
            self.items.append(("link", self._link[0], " ".join("".join(self._link[1]).split())))
            self._link = None


def _heading(name: str) -> str:
    """A CSV column as a table shows it (words for identifiers; a unit in brackets may be left off)."""
    from xjtrade.report.wording import column_words
    return column_words(name)


def test_every_full_table_link_downloads_the_table_shown_above_it(built):
    """Issue 21: Table 1.1's "Full table as CSV" once downloaded the forecast chapter's coverage table
    (both saved as coverage.csv).  Every such link must resolve to a file in the site whose header holds
    every column the table above it shows, and the run's table files are the ones the links name."""
    import csv
    from urllib.parse import urljoin, urlparse
    _, out, _ = built
    site = out / "site"
    checked, linked = [], set()
    for page in sorted(site.rglob("*.html")):
        parser = _TablesAndLinks()
        parser.feed(page.read_text(encoding="utf-8"))
        items = parser.items
        for before, item in zip(items, items[1:]):
            if item[0] != "link" or before[0] != "table" or item[2] != "Full table as CSV":
                continue
            rel = page.relative_to(site).as_posix()
            target = site / urlparse(urljoin(f"http://x/{rel}", item[1])).path.lstrip("/")
            assert target.is_file(), (rel, before[1], item[1])
            with target.open(encoding="utf-8", newline="") as fh:
                header = next(csv.reader(fh))
            names = {_heading(c) for c in header} | set(header)
            names |= {re.sub(r"\s*\([^)]*\)$", "", n) for n in names}
            shown = [h for h in before[2] if h]
            missing = [h for h in shown if h not in names]
            assert shown and not missing, (f"{rel}: table {before[1]!r} links {item[1]}, whose header {header} "
                                           f"lacks the shown columns {missing}")
            checked.append((rel, before[1], target.name))
            linked.add(target.name)
    pages = {rel for rel, _, _ in checked}
    assert {"notebooks/01-data.html", "notebooks/02-growth.html", "notebooks/03-forecast.html"} <= pages
    found = {(rel, tid): name for rel, tid, name in checked}
    assert found[("notebooks/01-data.html", "tbl-coverage")] == "data_coverage.csv"
    assert found[("notebooks/03-forecast.html", "tbl-interval-coverage")] == "interval_coverage.csv"
    assert found[("figures.html", "figures-table")] == "figures_table.csv"
    assert found[("methods.html", "tbl-rule-scores")] == "rule_scores.csv"
    assert len(checked) >= 15, checked
    # the tables saved but not shown are linked by their own words
    forecast = (site / "notebooks" / "03-forecast.html").read_text(encoding="utf-8")
    growth = (site / "notebooks" / "02-growth.html").read_text(encoding="utf-8")
    assert re.search(r'href="\.\./tables/outlook_monthly\.csv"[^>]*>Monthly outlook as CSV', forecast)
    assert re.search(r'href="\.\./tables/evaluation\.csv"[^>]*>Every scored forecast as CSV', forecast)
    assert re.search(r'href="\.\./tables/partner_shares\.csv"[^>]*>Chart data as CSV', growth)
    for name in ("outlook_monthly", "evaluation", "partner_shares", "coverage_figures"):
        assert (site / "tables" / f"{name}.csv").stat().st_size > 100, name


def test_figure_ids_resolve_to_rows_with_sources(built, chromium_available):
    _, out, _ = built
    site = out / "site"

    def ids(page, _):
        return page.evaluate("() => Array.from(document.querySelectorAll('a[href*=\"figures.html#\"]'))"
                             ".map(a => a.href.split('#')[1])")
    with serve_directory(site) as url:
        linked = _open(url, ["index.html", "notebooks/02-growth.html"], ids)
        rows = _open(url, ["figures.html"], lambda page, _: page.evaluate(
            "() => Object.fromEntries(Array.from(document.querySelectorAll('#figures-table > tbody'))"
            ".map(f => [f.id, Array.from(f.querySelectorAll('a[href*=\"sources.html#src-\"]'))"
            ".map(a => a.getAttribute('href'))]))"))["figures.html"]
        search = _open(url, ["figures.html"], lambda page, _: (page.fill("#figure-search", "R0339"), page.evaluate(
            "() => Array.from(document.querySelectorAll('#figures-table > tbody')).filter(f => !f.hidden).length"))[1])
    assert linked["index.html"], "no figure id on the front page"
    sources_ids = html_ids((site / "sources.html").read_text(encoding="utf-8"))
    for page, fids in linked.items():
        for fid in fids:
            assert fid in rows, (page, fid)
            assert rows[fid], f"{fid} has no source"
            assert all(h.split("#")[1] in sources_ids for h in rows[fid]), fid
    assert 1 <= search["figures.html"] <= 5


def test_front_page_one_outlook_per_target_and_offline_chart(built, chromium_available):
    _, out, results = built

    def check(page, errors):
        page.wait_for_selector("#headline-chart .main-svg", timeout=10000)
        before = page.evaluate("() => document.querySelectorAll('#headline-chart .scatterlayer .trace').length")
        page.click("button[data-value=USD]")
        page.click("button[data-value=exports]")
        return {"errors": list(errors), "traces": before, "text": page.inner_text("body")}
    with serve_directory(out / "site") as url:
        got = _open(url, ["index.html"], check, offline=True)["index.html"]
    assert got["errors"] == []
    assert got["traces"] >= 2
    outlook = got["text"].split("Outlook.")[1].split("\n")[0]
    years = re.findall(r"\b(20\d\d): ", outlook)
    assert years and len(years) == len(set(years)), outlook


def test_data_package_published(built):
    frictionless = pytest.importorskip("frictionless")
    _, out, _ = built
    report = frictionless.validate(str(out / "site" / "data" / "datapackage.json"))
    assert report.valid


TABLE_BOXES = """() => Array.from(document.querySelectorAll('.table-scroll')).map(d => {
  const t = d.querySelector('table');
  const prose = Array.from(t.querySelectorAll('td.prose')).map(c => c.getBoundingClientRect().width);
  return {id: t.id, columns: t.rows[0].cells.length, scrolls: d.scrollWidth > d.clientWidth + 1,
          narrowest_prose: prose.length ? Math.min(...prose) : null,
          nowrap_numbers: Array.from(t.querySelectorAll('td[style*="right"]')).every(c =>
            getComputedStyle(c).whiteSpace === 'nowrap'),
          caption_in_view: (() => {   // the caption inside the box, before and after scrolling to its end
            const c = t.querySelector(':scope > caption');
            if (!c) return true;
            const inside = () => { const r = c.getBoundingClientRect(), b = d.getBoundingClientRect();
                                   return r.left >= b.left - 1 && r.right <= b.right + 1; };
            const first = inside(); d.scrollLeft = d.scrollWidth; const last = inside(); d.scrollLeft = 0;
            return first && last; })()};
})"""


def test_every_page_fits_the_window(built, chromium_available):
    """Issue 21: every page of the default edition at 1366 and 390 px: no page wider than the window, no
    wide table whose key column scrolls out of view (the rule and its check: test_page_widths.py)."""
    from test_page_widths import assert_pages_fit
    _, out, _ = built
    measures = assert_pages_fit(out / "site", min_pages=8)
    # the figures table (7,094 px in a 752 px box before issue 21) fits a desktop window
    figures = measures[(1366, "figures.html")]
    assert not [t for t in figures["tables"] if t["table"] == "figures-table"], figures
    # the data-quality table scrolls at 1366 px, its issue ids in view
    quality = [t for t in measures[(1366, "notebooks/01-data.html")]["tables"] if t["table"] == "tbl-quality"]
    assert quality and quality[0]["seen"] and quality[0]["key"].startswith("Q"), quality


def test_tables_fit_their_box_where_they_can_and_prose_wraps_readably(built, chromium_available):
    """On a desktop screen the outlook table shows all seven columns without scrolling (a last column of
    numbers was once kept 14rem wide and pushed out of view); numbers never wrap; a prose column is
    never squeezed below 10rem, even on a phone; a wide table's caption wraps inside its box and stays in
    view as the table scrolls (it was cut at the box's edge: on a phone after a few words)."""
    _, out, _ = built
    pages = ["index.html", "notebooks/01-data.html", "notebooks/02-growth.html", "notebooks/03-forecast.html"]
    with serve_directory(out / "site") as url:
        desk = _open(url, pages, lambda page, _: page.evaluate(TABLE_BOXES))
        phone = _open(url, pages, lambda page, _: page.evaluate(TABLE_BOXES), width=390)
    boxes = {b["id"]: b for b in desk["notebooks/03-forecast.html"]}
    assert boxes["tbl-outlook"]["columns"] == 7 and not boxes["tbl-outlook"]["scrolls"]   # median and mean
    growth = {b["id"]: b for b in desk["notebooks/02-growth.html"]}
    # Tables 2.2 and 2.3 gained the currency each figure was printed in and the growth in it (issue 21,
    # item 4): they may scroll inside their box at 1366, their key column in view (test_every_page_fits_the_window)
    assert growth["tbl-estimates"]["columns"] >= 7 and "tbl-growth" in growth
    for shown in (desk, phone):
        for name, tables in shown.items():
            for b in tables:
                assert b["nowrap_numbers"], (name, b)
                assert b["caption_in_view"], (name, b)     # a long caption is not cut at the box's edge
                assert b["narrowest_prose"] is None or b["narrowest_prose"] >= 160 - 1, (name, b)
    # the data chapter's issues table has prose (its notes), so it is marked
    assert any(b["narrowest_prose"] for b in desk["notebooks/01-data.html"] if b["id"] == "tbl-quality")


# ---------------------------------------------------------------- reader notes of a bulletin (issue 21 items 7, 8)

def _pdf_pages(out) -> list[str]:
    return [p.extract_text() for p in PdfReader(str(out / "xinjiang-trade-monitor.pdf")).pages]


def test_every_page_cites_the_edition_with_its_licence_and_contact(built):
    """The footer of every site page and of every PDF body page: how to cite the edition (its name and
    data date), the licence, the contact of _quarto.yml."""
    project, out, results = built
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    cite = f"Xinjiang Trade Monitor, edition “default”, data as of {manifest['data_latest_source']}"
    site = out / "site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 8
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert html.count('id="reader-notes"') == 1, page
        notes = html[html.index('id="reader-notes"'):]
        assert cite in notes and 'href="https://creativecommons.org/licenses/by/4.0/" rel="license"' in notes, page
        assert "<strong>Contact:</strong> Xinjiang Trade Monitor contributors" in notes, page
    texts = _pdf_pages(out)
    footed = [i for i, t in enumerate(texts) if "Cite as:" in t and "Licence: CC-BY-4.0" in t]
    assert footed == list(range(2, len(texts)))          # every page but the title page and the contents
    whole = " ".join(" ".join(texts).split())
    assert cite in whole


def test_things_to_know_box_on_the_front_page_and_in_the_pdf(built):
    _, out, results = built
    rev, cal = results["data"]["revisions"], results["forecast"]["calendar"]
    index = (out / "site" / "index.html").read_text(encoding="utf-8")
    box = index[index.index('class="things-to-know"'):]
    box = box[:box.index("</div>")]
    assert "Things you need to know" in box and "Ports and zones are not parts of the region" in box
    assert f"{rev['n']} earlier figures of this series differ by more than 0.1%" in box and rev["n"] >= 1
    assert f"were published on {cal['latest_published']}" in box and f"expected around {cal['expected']}" in box
    assert f"{results['data']['sources_cited']} sources supply this edition" in box
    # below the headline chart, before the data section
    assert index.index("headline-interactive") < index.index('class="things-to-know"') < index.index('id="the-data"')
    pdf = " ".join(" ".join(_pdf_pages(out)).split())
    assert "Things you need to know" in pdf and f"{rev['n']} earlier figures of this series" in pdf
    about = (out / "site" / "about.html").read_text(encoding="utf-8")
    largest = rev["largest"]
    assert f"{largest['first_id']}" in about and f"{largest['change_pct']:+.2f}%" in about


def test_sources_chapter_counts_the_sources_it_lists(built):
    """Site and PDF state the count of the entries they list (the review found "159 sources are listed"
    over 107 entries)."""
    _, out, results = built
    n, total = results["data"]["sources_cited"], results["data"]["counts"]["dataset"]["sources_listed"]
    html = (out / "site" / "sources.html").read_text(encoding="utf-8")
    assert f"The {n} sources of this edition’s figures are listed first" in html
    assert html.count('id="src-') == total and f"({total} sources in all;" in html
    texts = _pdf_pages(out)
    start = next(i for i, t in enumerate(texts) if "sources of this edition’s figures are listed first" in t)
    end = next(i for i, t in enumerate(texts) if i > start and "About this build" in t)
    chapter = " ".join(texts[start:end])
    assert f"The {n} sources of this edition’s figures" in chapter
    assert len(re.findall(r"\(id\s", chapter)) == n

