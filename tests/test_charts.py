"""Chart axes: scaled to the data and the 80 % bands; a 95 % band reaching beyond is cut and its top
written on the chart (the front page's headline chart and the forecasts chapter's outlook chart)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from xjtrade.report import figures as xf  # noqa: E402
from xjtrade.report import outlook as xo  # noqa: E402


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_outlook_chart_axis_follows_the_80_bands_and_names_the_cut_95_band():
    est = pd.DataFrame({"year": [2021, 2022, 2023], "value": [100.0, 150.0, 200.0]})
    annual = pd.DataFrame({"year": [2024, 2025], "point": [220.0, 240.0], "lo80": [180.0, 170.0],
                           "hi80": [260.0, 300.0], "lo95": [160.0, 140.0], "hi95": [290.0, 1180.0]})
    fig = xo.outlook_chart(est, annual, "CNY", "t", "s")
    ax = fig.axes[0]
    assert ax.get_ylim() == pytest.approx((0.0, 1.12 * 300.0))
    assert _texts(fig) == ["95% interval of 2025 up to 1,180 \u2191"]


def test_outlook_chart_without_a_cut_band_writes_nothing():
    est = pd.DataFrame({"year": [2022, 2023], "value": [100.0, 120.0]})
    annual = pd.DataFrame({"year": [2024], "point": [130.0], "lo80": [115.0], "hi80": [145.0],
                           "lo95": [105.0], "hi95": [160.0]})
    fig = xo.outlook_chart(est, annual, "CNY", "t", "s")
    assert fig.axes[0].get_ylim()[1] == pytest.approx(1.12 * 145.0)
    assert _texts(fig) == []


def test_headline_axis_and_cut_band():
    history = pd.DataFrame({"year": [2020, 2021, 2022, 2023], "value": [100.0, 110.0, 150.0, 200.0],
                            "origin": ["reported", "reported", "derived", "reported"]})
    outlook = {"years": [2024, 2025], "point": [220.0, 240.0],
               "intervals": {"80": [(180.0, 260.0), (170.0, 300.0)], "95": [(160.0, 290.0), (140.0, 1180.0)]}}
    fig = xf.headline(history, "CNY", "t", "s", outlook=outlook)
    assert fig.axes[0].get_ylim() == pytest.approx((0.0, 1.12 * 300.0))
    assert [t for t in _texts(fig) if "interval" in t] == ["95% interval of 2025 up to 1,180 \u2191"]


# --- colour contrast (issue 21, item 9): WCAG 2.1 relative luminance, computed here -----------------

def _luminance(rgb) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour (components 0-1)."""
    def lin(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _over(rgb, alpha, under=(1.0, 1.0, 1.0)):
    return tuple(alpha * c + (1 - alpha) * u for c, u in zip(rgb[:3], under))


WHITE = (1.0, 1.0, 1.0)


def test_wcag_contrast_by_hand():
    """The formula on known pairs: black on white 21:1, #777777 on white 4.48:1, and the outlook orange
    the issue measured (#de8f05, 2.6:1 on white)."""
    from matplotlib.colors import to_rgb
    assert _contrast((0, 0, 0), WHITE) == pytest.approx(21.0)
    assert _contrast(to_rgb("#777777"), WHITE) == pytest.approx(4.48, abs=0.01)
    assert _contrast(to_rgb("#de8f05"), WHITE) == pytest.approx(2.61, abs=0.01)


def test_every_series_colour_has_3_to_1_on_white_and_against_its_neighbours():
    from matplotlib.colors import to_rgb
    colours = {name: to_rgb(c) for name, c in xf.SERIES.items()}
    for name, rgb in colours.items():
        assert _contrast(rgb, WHITE) >= 3.0, (name, xf.SERIES[name], round(_contrast(rgb, WHITE), 2))
    for c in xf.PALETTE:
        assert _contrast(to_rgb(c), WHITE) >= 3.0, c
    outlook = to_rgb(xf.OUTLOOK)
    band95 = _over(outlook, xf.BAND_ALPHA[95])
    band80 = _over(outlook, xf.BAND_ALPHA[80], band95)          # the 80% band is drawn over the 95% one
    colours |= {"band 95": band95, "band 80": band80}
    assert to_rgb(xf.band_colour(95)) == pytest.approx(band95, abs=1 / 255)
    assert to_rgb(xf.band_colour(80)) == pytest.approx(band80, abs=1 / 255)
    assert {("outlook", "band 80"), ("history", "outlook")} <= set(xf.NEIGHBOURS)
    for a, b in xf.NEIGHBOURS:
        assert _contrast(colours[a], colours[b]) >= 3.0, (a, b, round(_contrast(colours[a], colours[b]), 2))


def test_headline_chart_draws_with_the_checked_colours():
    """The colours actually drawn: every line and marker of the headline chart is a palette colour with
    3:1 on white, the outlook line has 3:1 against the bands it runs in (as drawn, alpha over white)."""
    from matplotlib.colors import to_rgb, to_rgba
    history = pd.DataFrame({"year": [2020, 2021, 2022, 2023], "value": [100.0, 110.0, 150.0, 200.0],
                            "origin": ["reported", "reported", "derived", "reported"]})
    outlook = {"years": [2024, 2025], "point": [220.0, 240.0],
               "intervals": {80: [(180.0, 260.0), (170.0, 300.0)], 95: [(160.0, 290.0), (140.0, 400.0)]}}
    est = pd.DataFrame({"year": [2019], "value": [90.0], "lo80": [80.0], "hi80": [99.0]})
    fig = xf.headline(history, "CNY", "t", "s", outlook=outlook, estimated=est)
    ax = fig.axes[0]
    palette = {to_rgb(c) for c in xf.PALETTE}
    drawn = [ln for ln in ax.get_lines() if ln.get_label() and ln.get_xdata() is not None and len(ln.get_xdata())
             and ln.get_linestyle() != ":"]            # dotted event lines are guides, not series
    assert drawn
    for ln in drawn:
        rgba = to_rgba(ln.get_color(), ln.get_alpha())
        assert rgba[:3] in palette, (ln.get_label(), ln.get_color())
        assert _contrast(_over(rgba, rgba[3]), WHITE) >= 3.0, ln.get_label()
    bands = {c.get_label(): c for c in ax.collections if "interval" in str(c.get_label()) and "%" in c.get_label()}
    b95 = _over(to_rgb(bands["95% interval"].get_facecolor()[0]), bands["95% interval"].get_facecolor()[0][3])
    b80 = _over(to_rgb(bands["80% interval"].get_facecolor()[0]), bands["80% interval"].get_facecolor()[0][3], b95)
    line = next(ln for ln in drawn if ln.get_linestyle() == "--")
    assert _contrast(to_rgb(line.get_color()), b80) >= 3.0 and _contrast(to_rgb(line.get_color()), b95) >= 3.0


def test_interactive_chart_uses_the_same_colours(processed):
    """The interactive chart's history, outlook and bands take the palette's colours (no second orange)."""
    from matplotlib.colors import to_rgb
    from xjtrade.report.context import load_context
    from xjtrade.report.params import RunParams
    from xjtrade.report.results import OutlookResults
    from xjtrade.report.series import interactive_spec
    t = {"period": "2024", "year": 2024, "month": 12, "point": 396.2, "lo80": 282.7, "hi80": 521.8,
         "lo95": 230.6, "hi95": 632.6}
    spec = interactive_spec(load_context(processed, RunParams()), OutlookResults(ok=True, annual=[t]))
    colours = {}
    for tr in spec["traces"]:
        c = tr.get("fillcolor") or (tr.get("marker") or {}).get("color") or (tr.get("line") or {}).get("color")
        colours.setdefault(tr["name"], set()).add(c)
    assert colours["outlook (estimate)"] == {xf.OUTLOOK}
    assert colours["reported value"] == {xf.HISTORY} and colours["annual values"] == {xf.HISTORY}
    assert colours["95% interval"] == {"rgba(199,95,0,0.1)"} and colours["80% interval"] == {"rgba(199,95,0,0.12)"}
    assert _contrast(to_rgb(xf.OUTLOOK), WHITE) >= 3.0
