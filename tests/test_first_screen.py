"""The front page's first screen (issue 21, items 1, 6 and 9).

- the one-sentence answer (level, growth, outlook with its interval in words, the date of the data and of
  the next release) is formatted from the results;
- the static and the interactive headline charts draw the same series and intervals: both come from
  `report/headline.chart_data`, and what matplotlib drew is compared with the plotly traces;
- the chart's text alternative states its numbers, and its text table lists what it draws;
- in Chromium, on the default edition the suite builds (`default_edition`, conftest.py): the level,
  growth and outlook and the chart's top are inside the first screen at 1366x768, and the title, the
  answer and the whole chart within two screens at 390x844, where the chart has its phone layout (larger
  text, fewer labels) and says "tap", not "hover".  The measurements are printed (pytest -s) and the
  screenshots saved in the test's folder.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from browser import CHROMIUM_ARGS, chromium_available, serve_directory  # noqa: F401
from test_reader import CALENDAR, OUTLOOK, SERIES, _results

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
GROWTH = {"latest_year": 2023, "latest_value": 357.33, "latest_yoy_pct": 45.9, "series": SERIES,
          "figures": {"2023": "R0339"}, "cagr": [{"start": 2011, "end": 2023, "cagr_pct": 7.66}]}


# --- the answer, the alt text and the table, from the results ---------------------------------------

def test_answer_is_one_sentence_with_level_growth_outlook_and_dates():
    from xjtrade.report.first_screen import answer
    res = _results(OUTLOOK, growth=GROWTH, calendar=CALENDAR)
    text = answer(res, "billion yuan", "Xinjiang total trade", "2024-01-30", stale=False)
    assert text == ("[Xinjiang total trade came to **357.3 billion yuan** in 2023, +45.9% on the year before]"
                    "{.answer-level}; [from 2011 to 2023 it grew by **7.7% a year** on average]{.answer-growth}; "
                    "[the outlook for 2024 is **396.2 billion yuan**, with an 80% chance of lying "
                    "between 282.7 and 521.8 (-20.9% to +46.0% on 2023)]{.answer-outlook}; "
                    "[figures published up to [2024-01-30]{.date}, the next (January\\-February 2024) are expected "
                    "around [2024-03-20]{.date}]{.answer-dates}.")
    assert text.count(". ") == 0 and text.endswith(".")            # one sentence
    stale = answer(res, "billion yuan", "Xinjiang total trade", "2024-01-30", stale=True)
    assert "expected around [2024-03-20]{.date}, are not in the record yet" in stale


def test_answer_says_no_date_can_be_given_for_a_series_without_regular_releases():
    """A port's few releases give no date (issue 21, item 6): the answer says so, not the region's date."""
    from xjtrade.report.first_screen import answer
    from xjtrade.report.results import NoReleaseDate
    res = _results(OUTLOOK, growth=GROWTH)
    gap = NoReleaseDate(reasons=["few", "stopped"], releases=5, timely=5, recent=1,
                        latest_period="January-November 2022", latest_published="2022-12-23", as_of="2026-01-30",
                        min_releases=3, max_lag_days=90)
    res = res.model_copy(update={"forecast": res.forecast.model_copy(update={"no_release_date": gap})})
    text = answer(res, "billion yuan", "Horgos port total trade", "2026-01-30", stale=False)
    assert text.endswith("[figures published up to [2026-01-30]{.date}; the record has too few recent releases of "
                         "this series and its latest is more than a year old, so no date can be given for its next "
                         "figures]{.answer-dates}.")
    assert "expected" not in text and text.count(". ") == 0


def test_answer_carries_the_qualifier_the_release_printed():
    """A figure printed as "about 20 bn" is "about 20.0" in the answer too (issue 21, item 4)."""
    from xjtrade.report.first_screen import answer
    points = [dict(pt) for pt in SERIES["points"]]
    points[-1]["qualifier"] = "about"
    res = _results(OUTLOOK, growth={**GROWTH, "series": {**SERIES, "points": points}})
    assert "came to **about 357.3 billion yuan** in 2023" in answer(res, "billion yuan", "Xinjiang total trade",
                                                                     None, stale=False)
    exact = answer(_results(OUTLOOK, growth=GROWTH), "billion yuan", "Xinjiang total trade", None, stale=False)
    assert "came to **357.3 billion yuan** in 2023" in exact


def test_answer_names_a_nowcast_a_shrinking_series_and_a_missing_outlook():
    from xjtrade.report.first_screen import answer
    now = {**OUTLOOK, "months_known": 11, "current_year": 2024}
    shrink = {**GROWTH, "cagr": [{"start": 2011, "end": 2023, "cagr_pct": -2.25}]}
    res = _results(now, growth=shrink)
    text = answer(res, "billion yuan", "Xinjiang total trade", None, stale=False)
    assert "the nowcast for 2024, from 11 published months, is **396.2 billion yuan**" in text
    assert "it shrank by **2.2% a year** on average" in text or "it shrank by **2.3% a year** on average" in text
    assert ".answer-dates" not in text                              # no date, no calendar: nothing invented
    # growth over a single year is the change on the year before, already stated: not repeated
    one = _results(OUTLOOK, growth={**GROWTH, "cagr": [{"start": 2022, "end": 2023, "cagr_pct": 45.9}]})
    assert ".answer-growth" not in answer(one, "billion yuan", "X", None, stale=False)
    none = _results({"ok": False, "reason": "no outlook can be given for X: its latest figure is for 2022"},
                    growth=GROWTH)
    assert "[no outlook can be given for X: its latest figure is for 2022]{.answer-outlook}" in answer(
        none, "billion yuan", "X", "2026-01-21", stale=False).replace("\\:", ":")
    assert answer(_results(OUTLOOK, growth={}), "billion yuan", "X", None, stale=False) == ""


def test_alt_text_states_the_message_and_numbers_not_the_caption():
    from xjtrade.report.first_screen import alt_text, attribute, chart_rows
    res = _results(OUTLOOK, growth=GROWTH)
    alt = alt_text(res)
    assert alt.startswith("Chart of Xinjiang total trade, billion yuan, by year. It went from 147.5 in 2011 to "
                          "357.3 in 2023 (2.4 times); lowest 147.5 in 2011, highest 357.3 in 2023.")
    assert "Estimated from part-year figures: 2019 237.0 (80% interval 220.0 to 250.0)." in alt
    assert ("Outlook, dashed: 2024 396.2 (80% interval 282.7 to 521.8, 95% interval 230.6 to 632.6); "
            "2025 443.3 (80% interval 261.1 to 655.7, 95% interval 202.4 to 861.7).") in alt
    assert "Reported values are filled" not in alt                   # not the caption
    assert attribute('a "b" {c} \\d') == "a 'b' 'c' 'd"
    rows = chart_rows(res)
    assert [r["year"] for r in rows] == [2011, 2019, 2023, 2024, 2025]
    assert rows[1] == {"year": 2019, "value": "237.0", "what": "estimated from part-year figures",
                       "i80": "220.0 to 250.0", "i95": "", "figure_id": ""}
    assert rows[3]["i95"] == "230.6 to 632.6" and rows[3]["what"].startswith("outlook")


def test_front_page_puts_the_answer_and_chart_first_with_generated_alt_text():
    from xjtrade.report.pages import summary_page
    res = _results(OUTLOOK, growth=GROWTH, calendar=CALENDAR)
    res = res.model_copy(update={"forecast": res.forecast.model_copy(
        update={"headline_figure": "figures/headline.svg", "interactive": "figures/headline.json"})})
    page = summary_page(res, [], {"build_date": "2024-02-01"})
    body = page.split("---", 2)[2]
    # the answer, then the chart (interactive on the site, static in the PDF), then the main points
    assert body.index("::: {.answer}") < body.index('id="headline-chart"') < body.index("![") < body.index(
        "## Main points")
    assert '::: {.content-hidden when-format="html"}' in body
    alt = re.search(r'fig-alt="([^"]*)"', body).group(1)
    assert alt.startswith("Chart of Xinjiang total trade, billion yuan") and "396.2" in alt
    html = body.split("```{=html}")[1].split("```")[0]
    assert 'aria-label="Chart of Xinjiang total trade' in html and '<img class="headline-fallback"' in html
    assert "<details" in html and "<td class=\"num\">396.2</td>" in html and ">R0339</a>" in html
    assert '<span class="if-hover">Hover over</span><span class="if-touch">Tap</span>' in html


# --- the static and the interactive chart draw the same thing ---------------------------------------

def _nan_none(values):
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 3) for v in values]


def _static_parts(fig):
    """What matplotlib drew: the series' line, markers by label, the estimated years' bars, the bands."""
    from matplotlib.collections import LineCollection, PolyCollection
    ax = fig.axes[0]
    lines = ax.get_lines()
    out = {"line": None, "markers": {}, "dashed": None, "bands": [], "errorbars": []}
    for ln in lines:
        x, y = list(map(float, ln.get_xdata())), _nan_none(ln.get_ydata())
        if ln.get_linestyle() == "--":
            out["dashed"] = (x, y)
        elif ln.get_marker() in ("", "None", None) and ln.get_linestyle() == "-" and out["line"] is None:
            out["line"] = (x, y)
        elif ln.get_label() and not ln.get_label().startswith("_"):
            out["markers"][ln.get_label()] = sorted(zip(x, y))
    for c in ax.collections:
        if isinstance(c, PolyCollection):
            verts = c.get_paths()[0].vertices
            out["bands"].append(sorted({(round(float(a), 3), round(float(b), 3)) for a, b in verts}))
        elif isinstance(c, LineCollection):
            out["errorbars"] += [(round(float(s[0][0]), 3), round(float(s[0][1]), 3), round(float(s[1][1]), 3))
                                 for s in c.get_segments()]
    # errorbar's marker line carries its label on the container, not the line
    for cont in ax.containers:
        ln = cont.lines[0]
        out["markers"][cont.get_label()] = sorted(zip(map(float, ln.get_xdata()), _nan_none(ln.get_ydata())))
    return out


@pytest.fixture(scope="module")
def drawn(processed):
    """The default series with an outlook of two years after its last year: the static figure and the
    interactive spec, both from the series the run computes."""
    import matplotlib.pyplot as plt
    from xjtrade.report.context import load_context
    from xjtrade.report.params import RunParams
    from xjtrade.report.results import OutlookResults
    from xjtrade.report.series import annual_series, headline_chart, interactive_spec
    ctx = load_context(processed, RunParams())
    series = annual_series(ctx)
    last = max(pt.year for pt in series.points if pt.origin != "estimated")
    targets = [{"period": str(y), "year": y, "month": 12, "point": 600.0 + 10 * i, "lo80": 500.0 - 20 * i,
                "hi80": 700.0 + 20 * i, "lo95": 450.0 - 30 * i, "hi95": 800.0 + 30 * i}
               for i, y in enumerate((last + 1, last + 2))]
    outlook = OutlookResults(ok=True, annual=targets)
    fig = headline_chart(ctx, series, outlook)
    spec = interactive_spec(ctx, outlook, series)
    parts = _static_parts(fig)
    plt.close(fig)
    return series, outlook, spec, parts, last


def _shown(spec):
    return {t["name"]: t for t in spec["traces"] if t["meta"] == spec["state"]}


def test_static_and_interactive_charts_draw_the_same_series_and_intervals(drawn):
    series, outlook, spec, static, last = drawn
    shown = _shown(spec)
    # the series' line, gaps included
    line = shown["annual values"]
    assert static["line"] == ([float(x) for x in line["x"]], line["y"])
    # reported and derived points
    rep = shown["reported value"]
    assert static["markers"]["reported"] == sorted(zip(map(float, rep["x"]), rep["y"]))
    der = shown["derived from reported figures"]
    assert static["markers"]["derived from reported figures"] == sorted(zip(map(float, der["x"]), der["y"]))
    # the estimated years (2019 in the default series) with their 80% intervals, in both
    est = shown["estimated from part-year figures (80% interval)"]
    assert 2019 in est["x"]
    assert static["markers"]["estimated from part-year figures (80% interval)"] == sorted(
        zip(map(float, est["x"]), est["y"]))
    bars = sorted((float(x), round(y - m, 3), round(y + p, 3)) for x, y, m, p in
                  zip(est["x"], est["y"], est["error_y"]["arrayminus"], est["error_y"]["array"]))
    assert [(x, pytest.approx(lo, abs=2e-3), pytest.approx(hi, abs=2e-3)) for x, lo, hi in sorted(
        static["errorbars"])] == bars
    # the outlook and its bands start at the last calendar-year figure, in both
    dashed = shown["outlook (estimate)"]
    assert dashed["x"][0] == last and static["dashed"] == ([float(x) for x in dashed["x"]], dashed["y"])
    for lvl in (95, 80):
        band = shown[f"{lvl}% interval"]
        assert min(band["x"]) == last
        assert sorted({(float(x), y) for x, y in zip(band["x"], band["y"])}) in static["bands"], lvl
    # the outlook's own numbers, as the results hold them
    for a in outlook.annual:
        assert a.point in dashed["y"] and a.year in dashed["x"]
        assert {a.lo80, a.hi80} <= set(shown["80% interval"]["y"]) and {a.lo95, a.hi95} <= set(shown["95% interval"]["y"])


def test_interactive_chart_notes_a_series_that_ends_early(drawn):
    series, _, spec, _, last = drawn
    ends = {}
    for t in spec["traces"]:
        if t["name"] == "annual values":
            ends[tuple(t["meta"])] = max(x for x, y in zip(t["x"], t["y"]) if y is not None)
    for (cur, flow), end in ends.items():
        note = spec["notes"].get(f"{cur}|{flow}", "")
        if end < last:
            assert f"after {end}; the chart ends there" in note, (cur, flow)
        else:
            assert "the chart ends there" not in note, (cur, flow)
    assert ("CNY", "total") in ends and ends[("CNY", "total")] == last


# --- in the browser, on the built default edition -----------------------------------------------

MEASURE = """() => {
  const box = s => { const e = document.querySelector(s); if (!e) return null;
    const b = e.getBoundingClientRect();
    return {top: Math.round(b.top + scrollY), bottom: Math.round(b.bottom + scrollY), width: Math.round(b.width)}; };
  const shown = e => e && getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().width > 0;
  const ticks = Array.from(document.querySelectorAll('#headline-chart .xtick text'));
  return {title: box('h1'), answer: box('.answer'), level: box('.answer-level'), growth: box('.answer-growth'),
          outlook: box('.answer-outlook'), dates: box('.answer-dates'), chart: box('#headline-chart'),
          drawn: !!document.querySelector('#headline-chart .main-svg'),
          xticks: ticks.length, tick_font: ticks.length ? parseFloat(getComputedStyle(ticks[0]).fontSize) : null,
          hover_shown: shown(document.querySelector('.if-hover')),
          tap_shown: shown(document.querySelector('.if-touch')),
          page_width: document.documentElement.scrollWidth};
}"""


def measure(url: str, viewport: dict, shot=None, full=None) -> dict:
    """Open the front page at `viewport` (a phone viewport as a touch screen) and measure the first screen
    (page coordinates, px); save a screenshot of the first screen (`shot`) and of the whole page (`full`)."""
    from playwright.sync_api import sync_playwright
    phone = viewport["width"] < 600
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport=viewport, has_touch=phone, is_mobile=phone, device_scale_factor=1)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "index.html", wait_until="load")
        page.wait_for_selector("#headline-chart .main-svg", timeout=15000)
        page.wait_for_timeout(200)
        got = page.evaluate(MEASURE)
        got["errors"] = errors
        if shot:
            page.screenshot(path=str(shot))
        if full:
            page.screenshot(path=str(full), full_page=True)
        browser.close()
    return got


@pytest.fixture(scope="module")
def screens(default_edition, chromium_available, tmp_path_factory):
    _, out, results = default_edition
    shots = tmp_path_factory.mktemp("first-screen")
    with serve_directory(out / "site") as url:
        got = {name: measure(url, vp, shots / f"{name}.png", shots / f"{name}-full.png")
               for name, vp in (("desktop", DESKTOP), ("phone", PHONE))}
    print("\nfirst screen (px):", json.dumps(got, indent=1))
    return got, results


@pytest.mark.slow
def test_answer_and_chart_top_are_on_the_first_screen_at_1366x768(screens):
    got, results = screens
    d = got["desktop"]
    assert d["errors"] == [] and d["drawn"]
    for part in ("title", "level", "growth", "outlook"):
        assert d[part] is not None and d[part]["bottom"] <= DESKTOP["height"], (part, d)
    assert d["chart"]["top"] < DESKTOP["height"] - 100, d          # the chart's top, with some of the chart
    assert d["level"]["top"] < d["outlook"]["top"] < d["chart"]["top"]
    assert d["page_width"] <= DESKTOP["width"]
    assert d["hover_shown"] and not d["tap_shown"]


@pytest.mark.slow
def test_title_answer_and_chart_fit_two_phone_screens_with_a_phone_layout(screens):
    got, _ = screens
    p = got["phone"]
    assert p["errors"] == [] and p["drawn"]
    for part in ("title", "level", "growth", "outlook", "dates", "chart"):
        assert p[part] is not None and p[part]["bottom"] <= 2 * PHONE["height"], (part, p)
    assert p["page_width"] <= PHONE["width"]
    # a touch screen is told to tap; the chart's year labels are fewer and larger than on the desktop
    assert p["tap_shown"] and not p["hover_shown"]
    d = got["desktop"]
    assert p["tick_font"] >= 13 and p["tick_font"] > d["tick_font"], (p["tick_font"], d["tick_font"])
    assert 2 <= p["xticks"] <= 6 and p["xticks"] < d["xticks"], (p["xticks"], d["xticks"])


@pytest.mark.slow
def test_built_front_page_states_the_results_in_its_answer_and_table(default_edition, chromium_available):
    from playwright.sync_api import sync_playwright
    _, out, results = default_edition
    g, o = results["growth"], results["forecast"]["outlook"]
    with serve_directory(out / "site") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url + "index.html", wait_until="load")
        answer = page.inner_text(".answer")
        page.click(".headline-table summary")
        table = page.inner_text(".headline-table table")
        alt = page.get_attribute("#headline-chart", "aria-label")
        browser.close()
    assert f"came to {g['latest_value']:,.1f} billion yuan in {g['latest_year']}" in answer
    h = o["headline"]
    assert f"{h['point']:,.1f} billion yuan, with an 80% chance" in answer
    assert f"between {h['lo80']:,.1f} and {h['hi80']:,.1f}" in answer
    assert f"expected around {results['forecast']['calendar']['expected']}" in answer
    rows = {line.split("\t")[0]: line for line in table.splitlines()[1:]}
    shown = [p for p in g["series"]["points"] if p["origin"] != "estimated" or p["year"] < h["year"]]
    assert len(rows) == len(shown) + len(o["annual"])
    for p in shown:
        assert f"{p['value']:,.1f}" in rows[str(p["year"])], p
    assert f"{g['latest_value']:,.1f} in {g['latest_year']}" in alt


def test_a_series_ending_before_the_editions_gets_a_note_and_no_outlook():
    """Exports reported to 2017 only, beside a total to 2023 with an outlook: the chart says where exports
    end (from the data) and that the outlook is the total's."""
    from xjtrade.report.headline import interactive_spec
    from xjtrade.report.results import AnnualSeries, OutlookResults

    def series(flow, currency, years):
        return AnnualSeries(entity="X", flow=flow, partner="World", currency=currency, unit="u", subject=f"X {flow}",
                            start_year=2011, end_year=2023,
                            points=[{"year": y, "value": 10.0 + y - 2011, "origin": "reported", "figure_id": f"R{y}"}
                                    for y in years])
    total = series("total", "CNY", range(2011, 2024))
    t = {"period": "2024", "year": 2024, "month": 12, "point": 30.0, "lo80": 25.0, "hi80": 35.0, "lo95": 20.0,
         "hi95": 40.0}
    others = {("exports", "CNY"): series("exports", "CNY", range(2011, 2018)),
              ("imports", "CNY"): series("imports", "CNY", range(2011, 2024)),
              ("total", "USD"): series("total", "USD", []), ("exports", "USD"): series("exports", "USD", [2011]),
              ("imports", "USD"): series("imports", "USD", range(2011, 2024))}
    spec = interactive_spec(lambda f, c: others[(f, c)], total, OutlookResults(ok=True, annual=[t]))
    assert spec["notes"]["CNY|exports"] == ("The record holds no full-year or estimated figure of X exports after "
                                            "2017; the chart ends there. No outlook is made for this series.")
    assert spec["notes"]["CNY|imports"] == "No outlook is made for this series."
    assert spec["notes"]["USD|total"] == "No calendar-year figures of X total in billion US dollars."
    assert "after 2011" in spec["notes"]["USD|exports"]
    assert "CNY|total" not in spec["notes"]
    outlook = [tr for tr in spec["traces"] if tr["name"] == "outlook (estimate)"]
    assert len(outlook) == 1 and outlook[0]["meta"] == ["CNY", "total"] and outlook[0]["x"] == [2023, 2024]


@pytest.mark.slow
def test_a_tap_on_a_phone_shows_a_points_value(default_edition, chromium_available):
    """On a touch screen a tap on a point shows its value (plotly's hover label), and the chart does not
    take the page's scrolling (no drag mode)."""
    from playwright.sync_api import sync_playwright
    _, out, results = default_edition
    est = next(p for p in results["growth"]["series"]["points"] if p["origin"] == "estimated")
    with serve_directory(out / "site") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
        page = ctx.new_page()
        page.goto(url + "index.html", wait_until="load")
        page.wait_for_selector("#headline-chart .main-svg")
        dragmode = page.evaluate("document.getElementById('headline-chart')._fullLayout.dragmode")
        # the estimated year's marker: the trace of that name, its only point
        names = page.evaluate("document.getElementById('headline-chart')._fullData.filter(t => t.visible === true)"
                              ".map(t => t.name)")
        marker = page.locator("#headline-chart .scatterlayer .trace").nth(
            names.index("estimated from part-year figures (80% interval)")).locator(".point").first
        marker.scroll_into_view_if_needed()
        box = marker.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(300)
        label = " ".join(page.evaluate(
            "Array.from(document.querySelectorAll('#headline-chart .hoverlayer text')).map(t => t.textContent)"))
        browser.close()
    assert dragmode is False
    assert f"{est['year']}: {est['value']:,.1f} billion yuan (estimated from part-year figures)" in label, label
    assert f"80% interval {est['lo80']:,.1f} to {est['hi80']:,.1f}" in label
