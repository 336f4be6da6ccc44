"""No number typed by hand in any page: every number in the prose of every page of four editions
(default, data as of end-2022, Horgos port, US dollars) traces to the run's results or to the
tables the page shows (tests/tracing.py holds the check and its allow-list); the check fails when a
number is typed into a page by hand; the front page, the growth chapter and the PDF state the same
window, multiple and counts.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from pypdf import PdfReader

from browser import chromium_available  # noqa: F401
from tracing import Pool, check_site, numbers, prose, results_pool, untraced  # tests/tracing.py

pytestmark = pytest.mark.slow

EDITIONS = ["default", "asof-2022", "horgos-port", "usd-2012-2018"]


@pytest.fixture(scope="module")
def editions(tmp_path_factory, warm_cache):
    from conftest import copy_project
    from xjtrade.pipeline import build
    from xjtrade.project import Project
    from xjtrade.report.params import load_params
    project = Project(copy_project(tmp_path_factory.mktemp("numbers") / "project", warm=warm_cache))
    for name in EDITIONS:
        build(project, load_params(project.params / f"{name}.yaml"), engine="portable", log=lambda m: None)
    return project


def _site(project, name):
    return project.reports / name / "site"


def _results(project, name):
    return project.runs / name / "results.json"


@pytest.mark.parametrize("name", EDITIONS)
def test_every_number_in_every_page_traces_to_the_results(editions, name):
    site = _site(editions, name)
    found = check_site(site, _results(editions, name))
    assert set(found) >= {"index.html", "methods.html", "sources.html", "about.html", "figures.html",
                          "notebooks/01-data.html", "notebooks/02-growth.html", "notebooks/03-forecast.html"}
    # the check reads real prose: the front page and the methods chapter state numbers, and all trace
    for page in ("index.html", "methods.html", "notebooks/02-growth.html"):
        assert len(numbers(prose((site / page).read_text(encoding="utf-8")))) >= 5, page
    bad = {page: [(n.text, n.context) for n in ns] for page, ns in found.items() if ns}
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("name", EDITIONS)
def test_every_page_of_every_edition_fits_the_window(editions, name, chromium_available):
    """Issue 21: every page of the four editions at 1366 and 390 px: no page wider than the window, no
    wide table whose key column scrolls out of view (the rule and its check: test_page_widths.py)."""
    from test_page_widths import assert_pages_fit
    assert_pages_fit(_site(editions, name), min_pages=8)


@pytest.mark.parametrize("name", EDITIONS)
def test_every_figure_of_every_edition_has_a_generated_alt(editions, name):
    """Issue 21, item 9: every chart of every page of the four editions (a port, a past vintage, dollars)
    has an alt text that states numbers and is not its caption (the check: test_alt_text.py)."""
    from test_alt_text import assert_figures_described
    assert_figures_described(_site(editions, name), min_figures=3)


OLD_PARAGRAPH = ("For the years ahead the evidence is thin: the 14 years-ahead forecasts since 2019 concern only two "
                 "outcomes, 2022 and 2023, which grew by about 57% and 45%.")


def test_a_number_typed_into_a_staged_page_is_caught(editions, tmp_path):
    """Stage the default edition, type a number into its methods chapter, render it: the check names it."""
    from xjtrade.report.render import render_project
    from xjtrade.report.staging import stage_project
    project = editions
    manifest = json.loads((project.reports / "default" / "manifest.json").read_text())
    stage = stage_project(project, project.runs / "default", tmp_path / "stage", manifest)
    methods = stage / "methods.qmd"
    text = methods.read_text(encoding="utf-8")
    typed = "The outlook was checked against 4,321 hand-picked outcomes."
    methods.write_text(text.replace("## Reproducibility", f"{typed} {OLD_PARAGRAPH}\n\n## Reproducibility"),
                       encoding="utf-8")
    render_project(stage, tmp_path / "out", engine="portable", log=lambda m: None)
    site = tmp_path / "out" / "site"
    shutil.copytree(_site(project, "default") / "tables", site / "tables", dirs_exist_ok=True)
    results = json.loads(_results(project, "default").read_text())
    flagged = untraced(site, site / "methods.html", results)
    assert "4,321" in [n.text for n in flagged], flagged
    typed_by_hand = {n.text for n in numbers(OLD_PARAGRAPH)}
    assert typed_by_hand == {"14", "57", "45"}
    assert typed_by_hand & {n.text for n in flagged}, flagged   # the old hand-typed paragraph is caught
    # and the untouched page passes
    assert untraced(_site(project, "default"), _site(project, "default") / "methods.html", results) == []


def test_the_check_reads_numbers_as_printed():
    """Unit checks of the tracer: rounding, percentages of shares, thousands, allow-list, ids."""
    pool = results_pool({"a": 0.6493, "b": 1180.0664, "n": 77, "r": 2.4234, "nested": [{"x": -1.87}]})
    got = {n.text: pool.traces(n) for n in numbers(
        "Over the 77 past forecasts, 64.9% held; up to 1,180.1 or 2.4 times; -1.9% low; 78 others; "
        "figure R0339 in Q1 2022 (2011-2023, 2024-01-30); the 80% and 95% intervals; Figure 2.1; 2.42")}
    assert got == {"77": True, "64.9": True, "1,180.1": True, "2.4": True, "-1.9": True, "78": False,
                   "2.42": True}
    assert not Pool().traces(numbers("3.14")[0])
    assert prose("<main><p>A 12 b</p><table><tr><td>13</td></tr></table><code>14</code>"
                 "<span class=\"header-section-number\">15</span></main>") == "A 12 b"


def _index_facts(site):
    """The window, multiple and series counts the front page states."""
    text = prose((site / "index.html").read_text(encoding="utf-8"))
    m = re.search(r"reached ([\d,.]+) [a-zA-Z. ]+ in (\d{4}), ((?:[\d.]+ times its|[-+][\d.]+% on) (\d{4})(?: level)?)",
                  text)
    c = re.search(r"The annual series charted above \((\d{4})-(\d{4}), (\d+) calendar years? with a published or "
                  r"derived total\) rests on (\d+) reported figures? from (\d+) sources?; (\d+) of its values", text)
    return m, c


@pytest.mark.parametrize("name", ["default", "asof-2022"])
def test_front_page_growth_chapter_and_pdf_agree(editions, name):
    site = _site(editions, name)
    results = json.loads(_results(editions, name).read_text())
    series = results["growth"]["series"]
    m, c = _index_facts(site)
    assert m and c, prose((site / "index.html").read_text(encoding="utf-8"))[:3000]
    start, end, years, reported, sources, derived = (int(x) for x in c.groups())
    # the window: the parameters, or (end_year null) the latest year of the series
    assert (start, end) == (results["parameters"]["start_year"], results["parameters"]["end_year"] or series["end_year"])
    assert int(m.group(4)) == series["level"]["first_year"] >= start   # the multiple is over the window
    growth = prose((site / "notebooks" / "02-growth.html").read_text(encoding="utf-8"))
    assert f"has {years} calendar years in the window" in growth
    note = f"{reported} reported figure{'s' if reported != 1 else ''} from {sources} report"
    assert note in growth and f"Includes {derived} derived value" in growth
    pdf = " ".join((p.extract_text() or "") for p in PdfReader(next((editions.reports / name).glob("*.pdf"))).pages)
    flat = " ".join(pdf.split())
    assert m.group(3) in flat and f"has {years} calendar years in the window" in flat
    assert f"rests on {reported} reported figure" in flat and note in flat


# --- a sweep computes what the book computes ---------------------------------------------------

@pytest.mark.parametrize("name", ["default", "asof-2022"])
def test_a_one_scenario_sweep_gives_the_books_numbers(editions, name, tmp_path):
    """The same parameters swept (`xjtrade sweep`, serial) and run as a book give the same outlook
    (the same release dates, vintages and number of simulated paths), the same chosen models and
    the same growth figures, up to floating-point noise."""
    import yaml

    from xjtrade.report.params import load_params
    from xjtrade.sweep import runner
    from xjtrade.sweep.grid import load_grid
    project = editions
    params = load_params(project.params / f"{name}.yaml")
    base = {k: v for k, v in params.notebook_parameters().items() if k not in ("name", "title")}
    grid_path = tmp_path / f"one-{name}.yaml"
    grid_path.write_text(yaml.safe_dump({"name": f"one-{name}", "base": base}), encoding="utf-8")
    report = runner.run_sweep(project, grid_path, serial=True, publish=False, log=lambda m: None)
    assert report.failed == [] and report.scenarios == 1
    grid = load_grid(grid_path)
    from xjtrade.cache import Store
    from xjtrade.keys import Keyer
    keyer = Keyer(store=Store(project.cache))
    keys = {sc.params.name: runner.scenario_key(sc.params, keyer.tree(project.raw), keyer) for sc in grid.scenarios}
    rows = runner.results_table(grid, keys, Store(project.cache)).to_dict("records")
    book = json.loads(_results(project, name).read_text())
    outlook, growth = book["forecast"]["outlook"], book["growth"]
    assert [r["period"] for r in rows] == [str(a["year"]) for a in outlook["annual"]]
    chosen = {c["use"]: c["model"] for c in outlook["choices"]}
    for r, a in zip(rows, outlook["annual"]):
        assert r["model"] == chosen["within year" if r["target"] == "nowcast" else "years ahead"]
        for col, key in (("forecast", "point"), ("lower_80", "lo80"), ("upper_80", "hi80"), ("lower_95", "lo95"),
                         ("upper_95", "hi95")):
            assert r[col] == pytest.approx(a[key], rel=1e-6), (r["period"], col)
        assert r["track_coverage_80"] == pytest.approx(outlook["coverage80"], rel=1e-9)
        assert r["latest_value"] == pytest.approx(growth["latest_value"], rel=1e-6)
        assert r["cagr_pct"] == pytest.approx(growth["cagr"][0]["cagr_pct"], abs=1e-4)
        assert r["trend_growth_pct"] == pytest.approx(growth["trend"]["growth_pct"], abs=1e-4)
    print(name, [(r["period"], round(r["forecast"], 2), round(a["point"], 2)) for r, a in zip(rows, outlook["annual"])])


# --- sparse editions say once what cannot be estimated (issue 21, item 6) -----------------------

def _captions(html: str) -> list[str]:
    """The numbers of a page's table captions, in order (the captions sit in the tables, out of the prose)."""
    return re.findall(r"<caption>Table (\d+\.\d+):", html)


@pytest.mark.parametrize("name", EDITIONS)
def test_forecast_chapter_shows_no_empty_table_and_no_dangling_reference(editions, name):
    """No "No rows." table, no unresolved @tbl-/@fig- reference, tables numbered 3.1, 3.2, ... without a gap
    on the site and in the PDF; an edition with nothing to compare says why once, and its release calendar
    is its own series' (Horgos port: no date, never the region's)."""
    site = _site(editions, name)
    html = (site / "notebooks" / "03-forecast.html").read_text(encoding="utf-8")
    text = prose(html).replace("\u2019", "'")          # pandoc curls apostrophes
    results = json.loads(_results(editions, name).read_text())
    assert "No rows." not in html and "?@tbl-" not in html and "?@fig-" not in html
    tables = _captions(html)
    assert tables == [f"3.{i}" for i in range(1, len(tables) + 1)], tables
    pdf = " ".join(" ".join((p.extract_text() or "") for p in
                            PdfReader(next((editions.reports / name).glob("*.pdf"))).pages).split())
    assert "No rows." not in pdf and "?@tbl" not in pdf
    forecast = results["forecast"]
    compared = 'id="tbl-comparison"' in html
    assert text.count("so the models cannot be compared") == (0 if compared else 1)
    if not compared:
        assert f"The evaluation scored {forecast['evaluation']['forecasts']} forecasts" in text
        for gone in ("Year by year", "Intervals against a naive benchmark"):
            assert gone not in text, gone
    if name == "horgos-port":
        assert not compared and len(tables) == 1          # the track record's forecasts of the next release
        assert "Nowcast of the current year" not in text  # no outlook: said once at the top
        assert forecast["calendar"] is None and forecast["no_release_date"]["reasons"] == ["few", "stopped"]
        assert "No date can be given for this series' next figures" in text and "expected around" not in text
        index = prose((site / "index.html").read_text(encoding="utf-8")).replace("\u2019", "'")
        assert "so no date can be given for its next figures" in index and "expected around" not in index
    else:
        assert forecast["no_release_date"] is None
        assert f"are expected around {forecast['calendar']['expected']}" in text
    if name == "default":
        assert compared and len(tables) >= 6
