"""The chapter charts' text alternatives (issue 21, item 9): generated from the data each chart draws
(`report/alt_text.py`), kept in the run's results (`charts`), given to the figure cell as ``fig-alt``
by staging and written as the image's alt on the site and in the PDF (portable engine: typst's
``image(alt:)``), and as the SVG's ``<title>``/``<desc>``.

Hand-computed expectations on small frames, sparse and hostile inputs, and on the default edition the
suite builds (`default_edition`): the annual chart's alt names the first and last year and values as
the growth table prints them, every figure of every page has an alt that is not its caption and
states numbers, the SVG carries it, the PDF keeps it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace

import pandas as pd
import pytest

from xjtrade.report import alt_text as xt

UNIT, SUBJECT = "billion yuan", "Xinjiang total trade"


def _annual() -> pd.DataFrame:
    return pd.DataFrame({"year": [2011, 2012, 2013, 2014, 2015],
                         "value": [100.0, 150.456, 90.0, 200.0, 180.5],
                         "origin": ["reported", "reported", "derived", "reported", "reported"],
                         "qualifier": ["exact", "exact", "exact", "exact", "about"]})


# --- the texts, from the frames the charts draw -------------------------------------------------

def test_annual_alt_states_first_last_extremes_derived_years_and_trend():
    text = xt.annual(_annual(), UNIT, SUBJECT, SimpleNamespace(growth_pct=12.345))
    assert text == ("Bar chart of Xinjiang total trade, billion yuan, one bar a calendar year, 2011-2015: from "
                    "100.00 in 2011 to about 180.50 in 2015; highest 200.00 in 2014, lowest 90.00 in 2013. "
                    "Hatched bars are derived from other reported figures: 2013. The log-linear trend line grows "
                    "+12.3% a year.")
    # the first year is the lowest: not said twice; no trend fitted: no trend sentence
    rising = _annual().assign(value=[10.0, 20.0, 30.0, 40.0, 35.0], origin="reported")
    text = xt.annual(rising, UNIT, SUBJECT, None)
    assert "from 10.00 in 2011 (the lowest) to about 35.00 in 2015; highest 40.00 in 2014." in text
    assert text.count("lowest") == 1 and "trend" not in text and "Hatched" not in text


def test_sparse_series_get_sentences_without_nan():
    empty = _annual().iloc[0:0]
    one = _annual().iloc[[1]]
    gaps = _annual().assign(value=[float("nan"), 5.0, float("nan"), float("nan"), 7.25])
    texts = [xt.annual(empty, UNIT, SUBJECT), xt.annual(one, UNIT, SUBJECT, SimpleNamespace(growth_pct=float("nan"))),
             xt.annual(gaps, UNIT, SUBJECT), xt.estimates(empty.assign(lo80=[], hi80=[]), UNIT, SUBJECT),
             xt.shares(pd.DataFrame(columns=["partner", "x", "share", "period_label"]), SUBJECT),
             xt.outlook(empty, pd.DataFrame(columns=["year", "point"]), UNIT, SUBJECT),
             xt.track(pd.DataFrame(columns=["target", "period", "vintage", "point", "actual", "in80", "in95"]),
                      UNIT, SUBJECT),
             xt.coverage(pd.DataFrame(columns=["start", "end", "period_kind", "origin"]), "Horgos")]
    for text in texts:
        assert text and "nan" not in text.lower() and "none" not in text.lower(), text
    assert texts[0] == "Bar chart of Xinjiang total trade, billion yuan: no calendar-year figure falls in the window, so it is empty."
    assert texts[1] == "Bar chart of Xinjiang total trade, billion yuan, one bar a calendar year, 2012: 150.46 in 2012."
    assert "2012 and 2015: from 5.00 in 2012 (the lowest) to about 7.25 in 2015 (the highest)." in texts[2]
    assert texts[5] == "Chart of Xinjiang total trade, billion yuan: no annual total in the window; no outlook."


def test_estimates_alt_lists_estimated_years_with_their_intervals():
    est = pd.DataFrame({"year": [2017, 2018, 2019, 2020], "value": [200.0, 210.0, 237.04, 150.0],
                        "origin": ["reported", "derived", "estimated", "reported"], "qualifier": ["", "", "", ""],
                        "lo80": [200.0, 210.0, 220.0, 150.0], "hi80": [200.0, 210.0, 250.5, 150.0],
                        "lo95": [200.0, 210.0, 210.0, 150.0], "hi95": [200.0, 210.0, 260.0, 150.0]})
    assert xt.estimates(est, UNIT, SUBJECT) == (
        "Chart of Xinjiang total trade, billion yuan, every year with evidence, from 200.00 in 2017 to 150.00 in "
        "2020 (the lowest); highest 237.04 in 2019. Derived from other reported figures (squares): 2018. Estimated from "
        "part-year figures (diamonds): 2019 237.04 (80% interval 220.00 to 250.50, 95% interval 210.00 to 260.00).")
    assert xt.estimates(est[est["origin"] != "estimated"], UNIT, SUBJECT).endswith(
        "No year needed an estimate from part-year figures.")


def test_shares_alt_follows_each_partner_largest_latest_share_first():
    main = pd.DataFrame({"partner": ["Central Asia"] * 3 + ["Belt and Road"] * 2,
                         "x": [2020.5, 2021.0, 2022.0, 2020.5, 2022.0], "share": [30.0, 41.26, 35.0, 80.0, 83.21],
                         "period_label": ["H1 2020", "2020", "2021", "H1 2020", "2021"]})
    assert xt.shares(main, SUBJECT) == (
        "Line chart of partner shares of Xinjiang total trade, percent of the world total: Belt and Road from "
        "80.0% in H1 2020 to 83.2% in 2021; Central Asia from 30.0% in H1 2020 to 35.0% in 2021 (highest 41.3% "
        "in 2020).")


def test_outlook_alt_gives_the_history_and_each_outlook_year_with_intervals():
    est = pd.DataFrame({"year": [2023, 2024, 2025], "value": [357.33, 436.69, 454.75], "origin": "reported"})
    ahead = pd.DataFrame({"year": [2026], "point": [480.0], "lo80": [400.126], "hi80": [560.0], "lo95": [350.0],
                          "hi95": [650.0]})
    assert xt.outlook(est, ahead, UNIT, SUBJECT) == (
        "Chart of Xinjiang total trade, billion yuan: annual totals from 357.33 in 2023 (the lowest) to 454.75 in "
        "2025 (the highest); then the "
        "outlook, dashed, with its median and intervals: 2026 480.00 (80% interval 400.13 to 560.00, 95% interval "
        "350.00 to 650.00).")


def test_track_alt_gives_each_total_the_range_said_and_the_hit_rates():
    track = pd.DataFrame({
        "target": ["next release", "current year", "next year", "current year", "current year"],
        "period": ["Jan-Jun 2022", "2022", "2023", "2022", "2023"],
        "vintage": ["2022-07-20", "2022-07-20", "2022-07-20", "2022-10-24", "2023-03-20"],
        "point": [1.0, 240.04, 250.0, 245.0, 260.0], "actual": [1.0, 247.0, 357.3, 247.0, 357.3],
        "in80": [True, True, False, True, False], "in95": [True, True, True, True, False]})
    assert xt.track(track, UNIT, SUBJECT) == (
        "Chart of what the outlook said about the annual totals of Xinjiang total trade, billion yuan, at each "
        "release date from 2022-07-20 to 2023-03-20, against the totals published later (dotted lines): total "
        "2022, published 247.0: forecasts from 240.0 to 245.0; total 2023, published 357.3: forecasts from 250.0 "
        "to 260.0. The published total fell inside the 80% interval in 50.0% of the 4 forecasts, inside the 95% "
        "interval in 75.0%.")


def test_coverage_alt_counts_each_kind_of_period_and_names_the_gaps():
    m = lambda y, mo: y * 12 + mo - 1   # noqa: E731  (the processed table's month index)
    figs = pd.DataFrame({"start": [m(2010, 1), m(2011, 1), m(2011, 1), m(2014, 1), -1],
                         "end": [m(2010, 12), m(2011, 12), m(2011, 6), m(2014, 3), -1],
                         "period_kind": ["year", "year", "ytd", "quarter", "other"],
                         "origin": ["reported", "derived", "reported", "reported", "reported"]})
    assert xt.coverage(figs, "Xinjiang") == (
        "Timeline of the figures on Xinjiang, one bar a figure over the months it covers, 2010 to 2014, by kind of "
        "period: calendar years 1 reported and 1 derived; quarters 1 reported and 0 derived; year to date 1 "
        "reported and 0 derived. No figure covers 2012 and 2013.")


# --- carried to the results, the staged notebook, the page, the SVG and the PDF ------------------

class _Ctx(SimpleNamespace):
    pass


def test_show_figure_keeps_the_alt_in_the_results_and_the_svg(tmp_path):
    import matplotlib.pyplot as plt
    from xjtrade.report import display, figures as xf
    from xjtrade.report.results import load_results
    ctx = _Ctx(out_dir=tmp_path, charts={}, scopes={}, chapter="growth")
    fig, ax = plt.subplots()
    ax.plot([2011, 2012], [1, 2])
    xf.finish(fig, ax, "A <b>title</b> & US$5", "Source: x")
    with pytest.raises(ValueError, match="no alt text"):
        display.show_figure(ctx, fig, "annual", alt="  ")
    fig, ax = plt.subplots()
    ax.plot([2011, 2012], [1, 2])
    xf.finish(fig, ax, "A <b>title</b> & US$5", "Source: x")
    display.show_figure(ctx, fig, "annual_estimates", label="fig-estimates", alt='Went "up" <fast> & far: 1.5')
    assert ctx.charts["fig-estimates"].alt == 'Went "up" <fast> & far: 1.5'
    svg = (tmp_path / "figures" / "annual_estimates.svg").read_text(encoding="utf-8")
    root = ET.fromstring(svg.encode("utf-8"))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "A <b>title</b> & US$5"      # escaped in the file, text again parsed
    assert root.find(f"{ns}desc").text == 'Went "up" <fast> & far: 1.5'
    text = display.save_results(ctx, "growth", {})
    saved = json.loads(text)["charts"]
    assert saved == {"fig-estimates": {"file": "figures/annual_estimates.svg", "alt": 'Went "up" <fast> & far: 1.5'}}
    res = load_results(json.dumps({"parameters": {}, "growth": json.loads(text),
                                   "data": {"reported_figures": 1, "sources": 1, "derived_figures": 0,
                                            "derived_in_use": 0,
                                            "charts": {"fig-coverage": {"file": "figures/coverage.svg",
                                                                        "alt": "Timeline 2"}}}}))
    assert res.chart_alts() == {"fig-coverage": "Timeline 2", "fig-estimates": 'Went "up" <fast> & far: 1.5'}


HOSTILE = 'Evil "port" {x} \\ <img src=x onerror=alert(1)> & 12.5'


def _figure_notebook(typed_alt: str | None = None) -> dict:
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    options = '#| label: fig-annual\n#| fig-cap: "Annual values"\n' + (f"#| fig-alt: {typed_alt}\n" if typed_alt else "")
    cell = new_code_cell(options + "show()")
    cell.outputs = [new_output("display_data", data={"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg"/>'})]
    other = new_code_cell("#| label: fig-other\n#| fig-cap: \"Other\"\nshow()")
    other.outputs = [new_output("display_data", data={"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg"/>'})]
    return json.loads(json.dumps(new_notebook(cells=[new_markdown_cell("# Growth"), cell, other])))


def test_staging_gives_the_figure_cell_its_alt_safely_for_both_engines():
    """A hostile text (quotes, braces, a backslash, markup) becomes a YAML fig-alt option both engines
    read, then the image's alt attribute, escaped, on the site (portable engine through pandoc)."""
    from xjtrade.report.render.base import pandoc_binary, run_pandoc
    from xjtrade.report.render.book import prepare_chapter
    from xjtrade.report.render.notebook import notebook_to_markdown, parse_cell_options
    from xjtrade.report.staging import stage_notebook
    staged = stage_notebook(_figure_notebook(typed_alt='"a caption typed by hand"'), {"fig-annual": HOSTILE})
    source = "".join(staged["cells"][1]["source"])
    assert source.count("fig-alt") == 1 and source.startswith("#| label: fig-annual\n#| fig-alt: ")
    options, code, error = parse_cell_options(source)
    assert error is None and code == "show()"
    assert options["fig-alt"] == "Evil 'port' 'x' ' <img src=x onerror=alert(1)> & 12.5"
    assert "fig-alt" not in "".join(staged["cells"][2]["source"])          # no text for it: left alone
    typed = _figure_notebook(typed_alt='"a caption typed by hand"')        # no text in the results: as typed
    assert stage_notebook(typed, {})["cells"][1]["source"] == typed["cells"][1]["source"]
    md = notebook_to_markdown(staged, "02-growth").markdown
    warnings: list[str] = []
    pandoc = pandoc_binary()
    doc = json.loads(run_pandoc(pandoc, ["-f", "markdown-raw_html-raw_tex", "-t", "json"], md, "t", warnings))
    blocks = prepare_chapter(doc, "notebooks/02-growth.ipynb", "g").blocks
    html = run_pandoc(pandoc, ["-f", "json", "-t", "html"],
                      json.dumps({**doc, "blocks": blocks}), "t", warnings)
    img = re.search(r'<img src="/figures/02-growth-1.svg"\s+alt="([^"]*)"', html)
    assert img and "&lt;img src=x onerror=alert(1)&gt; &amp; 12.5" in img.group(1), html     # escaped
    assert unescape(img.group(1)) == "Evil 'port' 'x' ' <img src=x onerror=alert(1)> & 12.5"
    assert "<img src=x" not in html


def test_a_typed_fig_alt_with_quotes_is_kept_not_dropped():
    from xjtrade.report.render.notebook import notebook_to_markdown
    md = notebook_to_markdown(_figure_notebook(typed_alt='"Rose \\"fast\\" from 1 to 2"'), "x").markdown
    assert '![](/figures/x-1.svg){fig-alt="Rose \\"fast\\" from 1 to 2"}' in md


def test_the_pdf_image_carries_the_alt_as_typst_text():
    from xjtrade.report.render.typst import figure_image_alts
    image = {"t": "Image", "c": [["", [], []], [{"t": "Str", "c": 'Rose "a" \\ b'}], ["/figures/x.svg", ""]]}
    fig = {"t": "Figure", "c": [["fig-x", [], []], [None, []], [{"t": "Plain", "c": [image]}]]}
    out = figure_image_alts([fig])
    assert out[0]["c"][2][0]["c"] == [{"t": "RawInline", "c": ["typst",
                                                               '#image("/figures/x.svg", alt: "Rose \\"a\\" \\\\ b")']}]
    sized = json.loads(json.dumps(fig))
    sized["c"][2][0]["c"][0]["c"][0][2] = [["width", "50%"]]
    assert figure_image_alts([sized]) == [sized]                     # pandoc's writer sizes it
    assert figure_image_alts([image]) == [image]                     # outside a figure: left alone


# --- the default edition --------------------------------------------------------------------------

class _Figures(HTMLParser):
    """Every <figure> of a page: its images' alt texts and its caption's text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.figures: list[dict] = []
        self.depth = 0
        self.caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self.depth += 1
            self.figures.append({"id": a.get("id", ""), "alts": [], "svgs": 0, "caption": ""})
        elif self.depth and tag == "img":
            self.figures[-1]["alts"].append(a.get("alt"))
        elif self.depth and tag == "svg":
            self.figures[-1]["svgs"] += 1
            self.figures[-1]["alts"].append(a.get("aria-label"))
        elif self.depth and tag == "figcaption":
            self.caption = True

    def handle_endtag(self, tag):
        if tag == "figure":
            self.depth -= 1
        elif tag == "figcaption":
            self.caption = False

    def handle_data(self, data):
        if self.caption and self.figures:
            self.figures[-1]["caption"] += data


def page_figures(html: str) -> list[dict]:
    parser = _Figures()
    parser.feed(html)
    return [f for f in parser.figures if f["alts"]]


def assert_figures_described(site, min_figures: int = 1) -> int:
    """Every figure image of every page of a site has an alt that states numbers and is not its caption."""
    n = 0
    for page in sorted(site.rglob("*.html")):
        for fig in page_figures(page.read_text(encoding="utf-8")):
            caption = re.sub(r"^\s*Figure\s+[\d.]+:\s*", "", " ".join(fig["caption"].split()))
            for alt in fig["alts"]:
                where = f"{page.relative_to(site)} #{fig['id']}"
                assert alt and re.search(r"\d", alt), f"{where}: alt without a number: {alt!r}"
                assert " ".join(alt.split()) != caption, f"{where}: the alt is the caption"
                assert "nan" not in alt.lower().split(), f"{where}: {alt!r}"
                n += 1
    assert n >= min_figures, f"only {n} figures found in {site}"
    return n


def _cells(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with `table_id` (as the reader sees its cells)."""
    start = html.index(f'id="{table_id}"')
    body = html[start:html.index("</table>", start)]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        if cells:
            rows.append(cells)
    return rows


@pytest.mark.slow
def test_annual_chart_alt_names_first_and_last_year_and_values_as_the_growth_table(default_edition):
    project, report, results = default_edition
    html = (report / "site" / "notebooks" / "02-growth.html").read_text(encoding="utf-8")
    figs = {f["id"]: f for f in page_figures(html)}
    alt = figs["fig-annual"]["alts"][0]
    rows = _cells(html, "tbl-growth")
    first, last = rows[0], rows[-1]
    # columns: year, qualifier, value, ...: the alt says "<value> in <year>" for both ends, as printed there
    for row in (first, last):
        assert re.fullmatch(r"\d{4}", row[0]) and re.fullmatch(r"[\d,]+\.\d\d", row[2]), row
        assert f"{row[2]} in {row[0]}" in alt, (row, alt)
    assert alt.startswith("Bar chart of ") and first[0] != last[0]
    assert alt == results["growth"]["charts"]["fig-annual"]["alt"].replace('"', "'")
    # every chart of the edition is in the results, with the same text the site shows
    charts = {k: v for s in ("data", "growth", "forecast") for k, v in results[s].get("charts", {}).items()}
    assert set(charts) == {"fig-coverage", "fig-annual", "fig-estimates", "fig-shares", "fig-outlook", "fig-track"}
    shown = {f["id"]: f["alts"][0] for p in (report / "site" / "notebooks").glob("*.html")
             for f in page_figures(p.read_text(encoding="utf-8"))}
    for label, chart in charts.items():
        assert shown[label] == chart["alt"].replace('"', "'"), label
        svg = (project.runs / "default" / chart["file"]).read_text(encoding="utf-8")
        assert "<desc>" in svg and "<title>" in svg


@pytest.mark.slow
def test_every_figure_of_the_default_edition_has_a_generated_alt(default_edition):
    _, report, _ = default_edition
    assert assert_figures_described(report / "site", min_figures=7) >= 7      # six chapter charts + the headline


@pytest.mark.slow
def test_the_pdf_keeps_the_charts_alt_text(default_edition):
    """typst writes an image's alt into the tagged PDF (the figure's /Alt)."""
    from pypdf import PdfReader
    _, report, results = default_edition
    reader = PdfReader(str(report / "xinjiang-trade-monitor.pdf"))
    alts = []
    for num in range(1, reader.trailer["/Size"]):
        try:
            obj = reader.get_object(num)
        except Exception:   # free or unreadable entries
            continue
        if hasattr(obj, "get") and obj.get("/Alt") is not None:
            alts.append(str(obj["/Alt"]))
    wanted = results["growth"]["charts"]["fig-annual"]["alt"].replace('"', "'")
    assert any(" ".join(a.split()) == wanted for a in alts), alts[:10]
