"""Text is text in charts (issue 22, item 4).

A publisher named `People's Daily $\\undefinedcmd{x}$ Online` made all three notebooks fail (matplotlib
parsed the source note as mathtext and raised), and `US$5 bn and US$6 bn` printed as "US5*bnand*US6 bn"
in every chart's source note.  Every chart of the package is drawn here with such text in its title,
source note, legend and (where the data gives them) tick labels: it saves, and the SVG (text kept as
text) holds the strings exactly as typed.  The notebooks themselves are built with such a publisher in
test_hostile_build.py.  Tick labels written by the axis formatters keep their mathtext (10^3 on a log
axis).  The fix escapes every `$` (`figures.no_math`): turning `parse_math` off is not enough, as
matplotlib measures wrapped text (the source notes) as mathtext whatever that setting says.
"""

from __future__ import annotations

import io
import re
from html import unescape

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from xjtrade.report import figures as xf  # noqa: E402
from xjtrade.report import outlook as xo  # noqa: E402

BAD_MATH = "People's Daily $\\undefinedcmd{x}$ Online"
DOLLARS = "US$5 bn and US$6 bn"
SOURCE = f"Source: {BAD_MATH}; {DOLLARS}."
TITLE = f"Trade of {DOLLARS} $x^2$"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def svg_texts(fig) -> list[str]:
    """The text elements of the figure's SVG, with text kept as text (svg.fonttype none)."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    return [unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", buf.getvalue(), flags=re.S)]


def assert_literal(fig, *strings):
    texts = svg_texts(fig)
    joined = "\n".join(texts)
    for s in strings:
        assert s in texts or s in joined, (s, texts)
    assert "US5" not in joined.replace("US$5", "")
    # the PNG renders too (the notebooks save both)
    fig.savefig(io.BytesIO(), format="png")


def test_source_note_and_title_are_literal():
    history = pd.DataFrame({"year": [2020, 2021, 2022], "value": [100.0, 110.0, 150.0],
                            "origin": ["reported", "reported", "derived"]})
    fig = xf.headline(history, "CNY", TITLE, SOURCE, events={2021: f"2021: {DOLLARS}"})
    assert_literal(fig, SOURCE, TITLE, f"2021: {DOLLARS}")


def test_legend_entries_from_the_data_are_literal():
    shares = pd.DataFrame({"x": [2020, 2021, 2020, 2021], "share": [10.0, 12.0, 5.0, 6.0],
                           "partner": [DOLLARS, DOLLARS, BAD_MATH, BAD_MATH]})
    fig = xf.shares_chart(shares, TITLE, SOURCE)
    assert_literal(fig, DOLLARS, BAD_MATH, SOURCE)


def test_every_chart_function_draws_hostile_text():
    figs = pd.DataFrame({"start": [24120, 24121], "end": [24131, 24121], "period_kind": ["year", "month"],
                         "origin": ["reported", "derived"]})
    annual = pd.DataFrame({"year": [2021, 2022], "value": [1.0, 1000.0], "origin": ["reported", "derived"]})
    est = pd.DataFrame({"year": [2021, 2022, 2023], "value": [100.0, 150.0, 200.0],
                        "origin": ["reported", "derived", "estimated"], "lo80": [None, None, 190.0],
                        "hi80": [None, None, 210.0], "lo95": [None, None, 180.0], "hi95": [None, None, 220.0]})
    outlook = pd.DataFrame({"year": [2024], "point": [220.0], "lo80": [200.0], "hi80": [240.0], "lo95": [190.0],
                            "hi95": [250.0]})
    track = pd.DataFrame({"target": ["annual", "annual"], "vintage": ["2021-03-01", "2022-03-01"],
                          "period": [2022, 2022], "point": [100.0, 110.0], "lo80": [90.0, 100.0],
                          "hi80": [110.0, 120.0], "lo95": [80.0, 90.0], "hi95": [120.0, 130.0],
                          "actual": [115.0, 115.0]})
    charts = [xf.coverage_timeline(figs, TITLE, SOURCE), xf.annual_levels(annual, "CNY", TITLE, SOURCE, log_scale=True),
              xo.estimates_chart(est, "CNY", TITLE, SOURCE), xo.outlook_chart(est, outlook, "CNY", TITLE, SOURCE),
              xo.track_chart(track, "CNY", TITLE, SOURCE)]
    for fig in charts:
        assert_literal(fig, SOURCE, TITLE)


def test_log_axis_tick_labels_keep_their_mathtext():
    fig, ax = plt.subplots()
    ax.plot([2020, 2021], [1.0, 1000.0])
    ax.set_yscale("log")
    xf.finish(fig, ax, TITLE, SOURCE)
    fig.canvas.draw()
    labels = [t.label1.get_text() for t in ax.yaxis.get_major_ticks() if t.label1.get_text()]
    assert labels and all(re.fullmatch(r"\$\\mathdefault\{10\^\{-?\d+\}\}\$", x) for x in labels), labels


def test_sweep_edition_charts_escape_tick_labels(tmp_path):
    """The comparison page of a sweep: categories from the data are tick labels."""
    from xjtrade.sweep import edition
    rows = []
    for ent in (DOLLARS, BAD_MATH):
        for flow in ("exports", "imports"):
            rows.append({"scenario": f"{ent}-{flow}", "entity": ent, "partner": "World", "flow": flow,
                         "currency": "CNY", "as_of": None, "n_years": 5, "latest_year": 2023, "latest_value": 10.0,
                         "latest_yoy_pct": 5.0 if flow == "exports" else -2.0, "target": "annual", "period": "2024",
                         "status": "ok", "model": "naive", "forecast": 11.0, "reason": ""})
    charts = edition._charts(tmp_path, pd.DataFrame(rows))
    assert charts
    for _, svg, _ in charts:
        assert (tmp_path / svg).stat().st_size > 0


def test_no_math_escapes_dollars():
    assert xf.no_math(DOLLARS) == "US\\$5 bn and US\\$6 bn"
    fig, ax = plt.subplots()
    ax.set_yticks([0, 1], [xf.no_math(DOLLARS), xf.no_math(BAD_MATH)])
    assert_literal(fig, DOLLARS, BAD_MATH)
