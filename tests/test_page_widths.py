"""Pages that fit the window and tables whose key column stays in view (issue 21, "Tables that fit").

The rule, for every page of every edition the suite builds, at 1366 and 390 px wide:
- no horizontal page scroll: the document is no wider than the viewport (``scrollWidth`` of the
  root and the body <= the viewport's width);
- no table with hidden key columns: a table may scroll sideways inside its own box, but with the box
  scrolled to its right end the first cell of the table's first row is still in the box and on top
  (``elementFromPoint`` at the cell's middle finds the cell: a sticky column).

:func:`page_problems` is the check.  The editions are the suite's own builds, checked where they are
built (pytest-xdist keeps each test file on one worker, so a build is not shared across files):
the four editions of ``test_numbers.py`` (default, asof-2022, horgos-port, usd-2012-2018) by
``test_numbers.py::test_every_page_of_every_edition_fits_the_window``, the default edition by
``test_site.py::test_every_page_fits_the_window`` and the asof-2022 edition of the build sequence by
``test_build.py::test_every_page_of_the_scenario_edition_fits_the_window``.  (Sweep pages, written by
``xjtrade sweep``, are not checked here: their layout is issue 21 item 6's.)  This file
tests the check itself (it fails on a page too wide and on a table whose key column scrolls away), the
figures table (its pages, its search and its anchors) and the PDF's table columns (``pdf.lua``: long
prose in a details row, a prose column at least a quarter of the line, ids never squeezed under their
width).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser import CHROMIUM, CHROMIUM_ARGS, chromium_available, serve_directory  # noqa: F401

WIDTHS = (1366, 390)

PAGE_CHECK = """() => {
  // tables in a <details> (the front page's chart table) are checked as a reader who opens it sees them
  for (const d of document.querySelectorAll('details')) d.open = true;
  const doc = document.documentElement, vw = doc.clientWidth;
  const wide = Math.max(doc.scrollWidth, document.body.scrollWidth);
  const scrolls = el => { const s = getComputedStyle(el);
    return el.scrollWidth > el.clientWidth + 1 && (s.overflowX === 'auto' || s.overflowX === 'scroll'); };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const over = [];
  if (wide > vw) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right > vw + 1) {
        let a = el.parentElement, clipped = false;
        while (a && a !== document.body) { if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; } a = a.parentElement; }
        if (!clipped) over.push(name(el) + ' ' + Math.round(r.right) + 'px');
      }
      if (over.length >= 5) break;
    }
  }
  const tables = [];
  for (const t of document.querySelectorAll('table')) {
    let box = t.parentElement;
    while (box && box !== document.body && !scrolls(box)) box = box.parentElement;
    if (!box || box === document.body) continue;
    const row = Array.from(t.querySelectorAll('tbody > tr')).find(r => r.getClientRects().length);
    if (!row || !row.cells.length) continue;
    const cell = row.cells[0];
    box.scrollLeft = box.scrollWidth;
    window.scrollTo(0, window.scrollY + cell.getBoundingClientRect().top - window.innerHeight / 2);
    const r = cell.getBoundingClientRect(), b = box.getBoundingClientRect();
    const x = Math.max(r.left, b.left) + Math.min(r.width, b.width) / 2, y = r.top + Math.min(r.height, 20) / 2;
    const hit = document.elementFromPoint(x, y);
    const seen = r.left >= b.left - 1 && r.right <= b.right + 1 && hit !== null && cell.contains(hit);
    const labelled = t.id ? t : (t.parentElement.closest('[id]') || t);
    tables.push({table: labelled.id || name(t), box: Math.round(b.width), width: Math.round(t.scrollWidth),
                 key: cell.textContent.trim().slice(0, 30), seen});
    box.scrollLeft = 0;
  }
  window.scrollTo(0, 0);
  return {vw, wide, over, tables};
}"""


def measure(site: Path, pages: list[str] | None = None, widths=WIDTHS) -> dict[tuple[int, str], dict]:
    """(width, page) -> the measures of :data:`PAGE_CHECK` for every HTML page of a built site."""
    from playwright.sync_api import sync_playwright
    site = Path(site)
    pages = pages or sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    out: dict[tuple[int, str], dict] = {}
    with serve_directory(site) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for width in widths:
                context = browser.new_context(viewport={"width": width, "height": 800})
                for name in pages:
                    page = context.new_page()
                    page.goto(url + name, wait_until="load")
                    out[(width, name)] = page.evaluate(PAGE_CHECK)
                    page.close()
                context.close()
        finally:
            browser.close()
    return out


def page_problems(measures: dict[tuple[int, str], dict]) -> list[str]:
    """What breaks the rule, one line each (empty when every page fits)."""
    problems = []
    for (width, name), m in measures.items():
        if m["wide"] > m["vw"]:
            problems.append(f"{name} at {width} px: the page is {m['wide']} px wide in a {m['vw']} px window "
                            f"(beyond it: {m['over']})")
        for t in m["tables"]:
            if not t["seen"]:
                problems.append(f"{name} at {width} px: table {t['table']} ({t['width']} px in a {t['box']} px box) "
                                f"hides its key column ({t['key']!r}) when scrolled")
    return problems


def assert_pages_fit(site: Path, min_pages: int = 1) -> dict:
    """The rule for every page of a built site at both widths; returns the measures (for the caller's
    own checks)."""
    measures = measure(site)
    assert len({name for _, name in measures}) >= min_pages, sorted(measures)
    problems = page_problems(measures)
    assert not problems, "\n".join(problems)
    return measures


# --- the check itself ----------------------------------------------------------------------------

def _table(n_cols: int, sticky: bool) -> str:
    """A table far wider than a phone or a laptop, its first column sticky or not."""
    style = ' style="position: sticky; left: 0; background: #fff"' if sticky else ""
    head = "".join(f"<th>column {j}</th>" for j in range(n_cols))
    body = "".join(f"<tr><td{style}>R{i:04d}</td>" + "".join(
        f"<td style='white-space: nowrap'>a long cell {i}-{j} that does not wrap</td>" for j in range(1, n_cols))
        + "</tr>" for i in range(3))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _site(tmp_path: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        (tmp_path / name).write_text(
            '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>body {{ margin: 8px; }}</style></head><body>{body}</body></html>", encoding="utf-8")
    return tmp_path


def test_the_check_finds_a_wide_page_and_a_hidden_key_column(chromium_available, tmp_path):
    box = '<div style="overflow-x: auto; max-width: 100%">{}</div>'
    site = _site(tmp_path, {
        "fits.html": "<p>short text</p>" + box.format(_table(8, sticky=True)),
        "wide.html": '<div style="width: 1500px">too wide</div>',
        "unboxed.html": _table(8, sticky=True),                           # a wide table with no box of its own
        "scrolled-away.html": box.format(_table(8, sticky=False)),        # boxed, but the ids scroll away
    })
    measures = measure(site)
    problems = page_problems(measures)
    assert not [p for p in problems if p.startswith("fits.html")], problems
    fits = measures[(1366, "fits.html")]
    assert fits["wide"] == 1366 and fits["tables"][0]["seen"] and fits["tables"][0]["width"] > 1366
    assert any(p.startswith("wide.html at 1366 px: the page is 15") for p in problems), problems
    assert any(p.startswith("wide.html at 390 px") for p in problems), problems
    assert any(p.startswith("unboxed.html at 1366 px: the page is") for p in problems), problems
    hidden = [p for p in problems if p.startswith("scrolled-away.html")]
    assert len(hidden) == 2 and all("hides its key column ('R0000')" in p for p in hidden), problems


# --- the figures table ---------------------------------------------------------------------------

def _figures_index(n: int):
    import pandas as pd

    from xjtrade.report.catalogue import COLUMNS
    rows = []
    for i in range(n):
        rows.append(dict(zip(COLUMNS, [f"R{i:04d}", "Xinjiang", "total", "World", "trade value", f"{2000 + i % 25}",
                                       "about" if i == 93 else None, 100.0 + i, "CNY bn", None, 5.0, "reported", "", "",
                                       "yes", "s1;s2", f"note {i}: " + "a curator's long explanation " * 4])))
    rows.append(dict(zip(COLUMNS, ["DPY-47a474d", "Xinjiang", "total", "World", "trade value", "2024 December", None,
                                   1.5, "CNY bn", None, None, "derived", "difference", "R0001;R0002", "yes", "s1",
                                   None])))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def figures_site(tmp_path_factory):
    import pandas as pd

    from xjtrade.report.render.typst import TEMPLATES
    from xjtrade.report.site import READER_CSS, figures_page_html
    site = tmp_path_factory.mktemp("figures")
    sources = pd.DataFrame([{"source_id": "s1", "publisher": "Xinhua <b>", "published": "2024-01-23"},
                            {"source_id": "s2", "publisher": "Urumqi Customs", "published": None}])
    (site / "figures.html").write_text(figures_page_html(_figures_index(120), sources, "Test monitor"), encoding="utf-8")
    (site / "reader.css").write_text(READER_CSS.read_text(encoding="utf-8"), encoding="utf-8")
    (site / "site.css").write_text((TEMPLATES / "site.css").read_text(encoding="utf-8"), encoding="utf-8")
    return site


def test_figures_page_without_script_holds_every_figure(figures_site):
    page = (figures_site / "figures.html").read_text(encoding="utf-8")
    assert page.count('<tbody id="') == 121 and '<tbody id="R0093" class="figure">' in page
    assert "Xinhua &lt;b&gt;, 2024-01-23" in page and "Urumqi Customs, undated" in page
    # the controls are hidden until the script shows them; no address outside the page
    assert 'id="figure-controls" hidden' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    # the key columns first: figure, period, value, growth
    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head)[:4] == ["figure", "period", "value", "growth"]


FIGURE_VIEW = """id => {
  const t = document.getElementById(id), vw = window.innerWidth, vh = window.innerHeight;
  const inView = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.left >= -1 && r.right <= vw + 1 && r.top >= -1 && r.bottom <= vh + 1; };
  const main = t.rows[0].cells, details = t.rows[1];
  return {shown: Array.from(document.querySelectorAll('#figures-table > tbody')).filter(b => !b.hidden).length,
          target: t.classList.contains('target-row'), page: document.getElementById('figure-page').textContent,
          figure: inView(main[0]), period: inView(main[1]), value: inView(main[2]),
          sources: inView(details.querySelector('.sources')), note: details.querySelector('.note') ?
            inView(details.querySelector('.note')) : null,
          value_text: main[2].textContent, page_width: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_figures_page_opens_a_linked_figure_whole_on_screen(figures_site, chromium_available, width):
    """#R0093 (on the second page of 50) opens that page with the whole figure in view: its id, period,
    value with unit and qualifier, sources and note; the search filters, the pages turn."""
    from playwright.sync_api import sync_playwright
    with serve_directory(figures_site) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())
            page.goto(url + "figures.html#R0093", wait_until="load")
            got = page.evaluate(FIGURE_VIEW, "R0093")
            assert got["shown"] == 50 and got["page"] == "page 2 of 3" and got["target"], got
            assert got["value_text"] == "about 193 CNY bn"
            assert all(got[k] for k in ("figure", "period", "value", "sources", "note")), got
            assert got["page_width"] <= width, got
            # a link within the page to a figure on another page turns to it
            page.goto(url + "figures.html#DPY-47a474d", wait_until="load")
            got = page.evaluate(FIGURE_VIEW, "DPY-47a474d")
            assert got["page"] == "page 3 of 3" and got["shown"] == 21 and got["note"] is None, got
            assert all(got[k] for k in ("figure", "period", "value", "sources")), got
            page.click('#DPY-47a474d a[href="#R0001"]')
            got = page.evaluate(FIGURE_VIEW, "R0001")
            assert got["page"] == "page 1 of 3" and got["target"] and got["figure"] and got["value"], got
            # search: R0093 only; clearing it shows the first page again; the pager turns
            page.fill("#figure-search", "R0093")
            assert page.evaluate(FIGURE_VIEW, "R0093")["shown"] == 1
            assert page.inner_text("#figure-count") == "1 of 121 figures"
            page.fill("#figure-search", "")
            page.click("#figure-next")
            assert page.inner_text("#figure-page") == "page 2 of 3"
            assert page.evaluate("() => document.getElementById('R0050').hidden") is False
            assert page.evaluate("() => document.getElementById('R0049').hidden") is True
        finally:
            browser.close()


# --- the PDF's table columns (pdf.lua, both engines) ------------------------------------------------

QUALITY = """| issue | severity | what | flow | partner | segment | period | figure used | figure compared | difference % | note |
|---|---|---|---|---|---|---|---|---|---|---|
| I-001 | conflict | figure set aside as implausible | exports | Kazakhstan | border trade | January-February 2024 | DPY-47a474d | DPY-9c0ffee1 | 12.5 | two releases give different totals for the same months; the newer one is used, as customs revise earlier figures |
| I-002 | warning | trade value | total | World | all | 2023 | R0001 | R0002 | 1.5 | rounded |
| I-003 | note | share | imports | Russia | all | 2019 | R0003 | | | |
"""


def _columns(typst_source: str) -> list[float]:
    inner = re.search(r"columns: \(([^)]*)\)", typst_source).group(1)
    return [float(w.strip().rstrip("%")) / 100 for w in inner.split(",") if w.strip()]


def _scale(typst_source: str) -> float:
    m = re.search(r"#set text\(size: ([0-9.]+)em\)", typst_source)
    return float(m.group(1)) if m else 1.0


def test_pdf_long_notes_go_to_a_details_row_and_ids_keep_their_width():
    """Table 1.2 of the PDF (the data-quality table): its note column, once squeezed to a word a line over
    three pages, is a row under each issue spanning the table; its ids overprinted the next column.  Now
    the text is set smaller (80 %), and as the columns' least widths (with their margins and a quarter of
    the line for the prose column "what") still do not fit, "what" joins the note in the details row;
    every column left is at least as wide as its longest unbreakable piece (at the smaller size)."""
    from test_pdf_rules import to_typst
    for line_chars in (100, 90):                             # the portable and Quarto's text blocks
        out = to_typst(QUALITY, {"xj-table-line-chars": str(line_chars)})
        widths = _columns(out)
        assert len(widths) == 9                              # neither "what" nor "note" is a column
        assert out.count("table.cell(align: left, colspan: 9)[") == 3   # a details row under each issue
        assert "#emph[what:] figure set aside as implausible · #emph[note:] two releases give different" in out
        assert "#emph[what:] trade value · #emph[note:] rounded" in out and "#emph[what:] share]" in out
        scale = _scale(out)
        assert scale == 0.8 and out.count("#set text(size: 0.80em)") == 9 * 4 + 3   # every cell
        room = (line_chars - 2.5 * 9) / scale
        # I-001, conflict, exports, Kazakhstan, segment, January- / February, DPY-47a474d, DPY-9c0ffee1, difference
        longest = [5, 8, 7, 10, 7, 8, 11, 12, 10]
        for w, n in zip(widths, longest):
            assert w * room >= n, (line_chars, widths, longest)
        assert sum(widths) == pytest.approx(1, abs=0.001)
    # a table that fits keeps its short prose as a column: here without flow, partner, segment and period
    fewer = "\n".join("|".join(c for k, c in enumerate(line.split("|")) if k not in (4, 5, 6, 7))
                      for line in QUALITY.splitlines())
    out = to_typst(fewer)
    assert "#emph[what:]" not in out and out.count("#emph[note:]") == 2 and "colspan: 6" in out, out[:400]


def test_pdf_prose_column_gets_a_quarter_of_the_line():
    """A prose column that stays a column (here: a table of three columns, so no details row) is never
    under 25 % of the text width, unless its longest cell is shorter than that."""
    from test_pdf_rules import to_typst
    sentence = "a reason that runs over several lines of the table: " * 3
    table = ("| model | score (RMSE, per cent) | reason |\n|---|---|---|\n"
             f"| ARIMA-with-a-long-name-{'x' * 40} | 12.5 | {sentence} |\n| ETS | 3.1 | short |\n")
    out = to_typst(table)
    widths = _columns(out)
    assert "colspan" not in out and len(widths) == 3
    assert widths[2] >= 0.25 - 1e-6, widths
    # beside four columns of ids (each at least its width with a margin: 12 * 1.15 + 1 = 14.8) a column of
    # 31-character notes still gets its quarter, and more of what is left (the ids want no more)
    table = ("| a | b | c | d | note |\n|---|---|---|---|---|\n"
             + "".join(f"| DPY-{i:08x} | DPY-{i + 1:08x} | DPY-{i + 2:08x} | DPY-{i + 3:08x} | "
                       f"a short note of 31 characters {i} |\n" for i in range(3)))
    out = to_typst(table)
    widths, room = _columns(out), 100 - 2.5 * 5
    assert "colspan" not in out and _scale(out) == 1                # 4 * 14.8 + 87.5 / 4 <= 87.5
    share = (room - 4 * 14.8 - room / 4) / (4 * 14.8 + 31 - 4 * 14.8 - room / 4)
    assert widths[4] == pytest.approx((room / 4 + (31 - room / 4) * share) / room, abs=1e-4) and widths[4] > 0.25
    assert all(w * room >= 14.8 - 0.01 for w in widths[:4]), widths      # (widths printed to 0.01 %)
