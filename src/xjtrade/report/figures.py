"""House style for every figure in the report (seaborn on matplotlib).

One look for all charts: colour-blind-safe palette, integer years on time axes,
units and currency in axis labels, thousands separators, a title and a source note
under every figure, one size.  Saved as SVG and PNG with no timestamps inside, so
the same data always give the same bytes.  In the SVG, text stays text (`svg.fonttype: none`): a
reader can select, search and zoom it, a screen reader can read it; browsers and typst draw it in
DejaVu Sans (the PDF's fonts include matplotlib's DejaVu files).

Text is text: titles, source notes (publishers), legend entries, labels and annotations are drawn
as typed (`finish` escapes every `$` of every text of the figure but the tick labels, whose formatters
write mathtext on purpose, e.g. 10^3 on a log axis); a category from the data used as a tick label
goes through `no_math` first.  A publisher named `People's Daily $\\undefinedcmd{x}$` or a
note `US$5 bn and US$6 bn` shows as typed instead of failing or turning into math.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from xjtrade.data.currency import CURRENCIES  # noqa: E402

WIDTH, HEIGHT = 7.0, 3.9

# Series colours (one registry, also used by the interactive chart): each has at least 3:1 contrast on
# white (WCAG 2.1, non-text contrast), and so has each pair in NEIGHBOURS, the series drawn touching
# each other (checked by tests/test_charts.py with WCAG relative luminance).  Series of similar
# lightness that are not neighbours are told apart by marker shape and line style as well.
HISTORY = "#06265a"     # navy: reported and derived annual values, the series' line, reported bars
OUTLOOK = "#c75f00"     # dark orange: the outlook's line and markers; its bands are tints of it
ESTIMATED = "#00876a"   # green: years estimated from part-year figures; the fitted trend
DERIVED = "#8e44ad"     # purple: derived values where they have a colour of their own
GREY = "#6b6b6b"        # a fifth series, connecting lines
SERIES = {"history": HISTORY, "outlook": OUTLOOK, "estimated": ESTIMATED, "derived": DERIVED, "grey": GREY}
PALETTE = [HISTORY, OUTLOOK, DERIVED, ESTIMATED, GREY]
# opacity of the outlook's interval bands over white; the 80% band is drawn over the 95% one
BAND_ALPHA = {95: 0.10, 80: 0.12}
# the pairs drawn touching: history meets the outlook at the last year (and reported bars lie beside
# derived ones in the coverage chart: the same two colours), estimated years sit on the history line
# (and the trend, in the same green, runs over the bars), the outlook line runs inside both bands (the
# 80% band over the 95% one)
NEIGHBOURS = [("history", "outlook"), ("history", "estimated"), ("outlook", "band 95"), ("outlook", "band 80")]


def band_colour(level: int) -> str:
    """What an interval band looks like where the outlook line runs: the outlook colour at the band's
    opacity over white (the 80% band over the 95% one)."""
    alpha = BAND_ALPHA[95] if level == 95 else 1 - (1 - BAND_ALPHA[95]) * (1 - BAND_ALPHA[80])
    rgb = [int(OUTLOOK[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(alpha * c + (1 - alpha) * 255):02x}" for c in rgb)


def rgba(colour: str, alpha: float) -> str:
    """A CSS rgba() colour (for the interactive chart)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def setup_style() -> None:
    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE, font_scale=0.9)
    matplotlib.rcParams.update({
        "figure.figsize": (WIDTH, HEIGHT),
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "svg.hashsalt": "xjtrade",       # fixed ids inside SVG files
        "svg.fonttype": "none",          # text as text (selectable, searchable, read by screen readers); the site and typst both have DejaVu Sans
        "axes.titleweight": "bold",
        "axes.titlesize": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.family": ["DejaVu Sans", "sans-serif"],   # SVG text: a browser without DejaVu Sans falls back
        "text.usetex": False,            # never hand text to LaTeX
    })


setup_style()


def thousands(ax, axis: str = "y", decimals: int = 0) -> None:
    fmt = mticker.FuncFormatter(lambda v, _: f"{v:,.{decimals}f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def integer_years(ax) -> None:
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{int(v)}"))


_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def no_math(text: object) -> str:
    """Text for matplotlib shown as typed: every `$` not yet escaped gets a backslash, so that no pair of
    them opens mathtext (a string without an unescaped `$` is never parsed as math, even where
    matplotlib ignores a Text's parse_math setting, as when it measures wrapped text)."""
    return _UNESCAPED_DOLLAR.sub(lambda m: "\\$", str(text))


def literal_text(fig) -> None:
    """Every text of `fig` shown as typed (`no_math`), except the tick labels and axis offsets, which the
    axis formatters write when the figure is drawn (with mathtext on purpose: 10^3 on a log axis)."""
    from matplotlib.text import Text
    formatted = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatted.add(id(axis.offsetText))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                formatted.update((id(tick.label1), id(tick.label2)))
    for text in fig.findobj(Text):
        if id(text) not in formatted:
            text.set_usetex(False)
            if "$" in text.get_text():
                text.set_text(no_math(text.get_text()))


def finish(fig, ax, title: str, source: str, ylabel: str | None = None, xlabel: str | None = None):
    import textwrap
    ax.set_title("\n".join(textwrap.fill(line, 64) for line in str(title).split("\n")), loc="left")
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    fig.text(0.01, 0.01, source, ha="left", va="bottom", fontsize=7, color="#555555", wrap=True)
    literal_text(fig)   # titles, source notes, legends, labels and annotations: text from the data is text
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def chart_title(fig) -> str:
    """The title drawn on a figure (its first axes' title, on one line, as typed)."""
    for ax in fig.axes:
        for loc in ("left", "center"):
            title = ax.get_title(loc=loc)
            if title:
                return " ".join(title.replace("\\$", "$").split())
    return ""


_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def describe(svg: str, title: str | None = None, desc: str | None = None) -> str:
    """An SVG with its accessible name and description: ``<title>`` and ``<desc>`` as the first children
    of the root element (XML-escaped text; a screen reader reading the file gets the chart's message)."""
    parts = [f"<{tag}>{escape(' '.join(str(text).split()))}</{tag}>" for tag, text in (("title", title), ("desc", desc))
             if text]
    if not parts:
        return svg
    m = _SVG_OPEN.search(svg)
    if m is None:
        raise ValueError("not an SVG document: no <svg> element")
    return svg[:m.end()] + "\n " + "\n ".join(parts) + svg[m.end():]


def save(fig, folder: Path | str | None, name: str, desc: str | None = None) -> dict[str, Path]:
    """Write `name`.svg (with the chart's title and `desc` as its <title> and <desc>) and `name`.png
    into folder (no-op when folder is None)."""
    if folder is None:
        return {}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"svg": folder / f"{name}.svg", "png": folder / f"{name}.png"}
    paths["svg"].write_text(svg_bytes(fig, desc), encoding="utf-8")
    fig.savefig(paths["png"], format="png", metadata={"Software": None})
    return paths


def svg_bytes(fig, desc: str | None = None) -> str:
    """The figure as SVG text, titled with the chart's title and described by `desc` (its alt text)."""
    import io
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return describe(buf.getvalue(), chart_title(fig), desc)


# --- charts ---------------------------------------------------------------------------------

KIND_ORDER = ["year", "half", "quarter", "ytd", "month", "other"]


def coverage_timeline(figs: pd.DataFrame, title: str, source: str):
    """Each figure as a bar over the months it covers, by kind of period; derived ones hatched."""
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT + 0.4))
    f = figs[figs["start"] >= 0].copy()
    kinds = [k for k in KIND_ORDER if k in set(f["period_kind"])]
    for i, kind in enumerate(kinds):
        sub = f[f["period_kind"] == kind]
        for origin, offset, colour in (("reported", -0.17, PALETTE[0]), ("derived", 0.17, PALETTE[1])):
            part = sub[sub["origin"] == origin]
            if part.empty:
                continue
            x0 = part["start"] / 12.0
            width = (part["end"] - part["start"] + 1) / 12.0
            ax.barh(np.full(len(part), i + offset), width, left=x0, height=0.3, color=colour, alpha=0.35,
                    edgecolor=colour, linewidth=0.6, label=origin if i == 0 or origin not in
                    [t.get_label() for t in ax.patches[:1]] else None)
    ax.set_yticks(range(len(kinds)), kinds)
    handles = [matplotlib.patches.Patch(color=PALETTE[0], alpha=0.5, label="reported"),
               matplotlib.patches.Patch(color=PALETTE[1], alpha=0.5, label="derived")]
    ax.legend(handles=handles, loc="upper left", frameon=False)
    integer_years(ax)
    ax.invert_yaxis()
    return finish(fig, ax, title, source, ylabel="period kind", xlabel="year (months covered)")


def annual_levels(df: pd.DataFrame, currency: str, title: str, source: str, trend: pd.Series | None = None,
                  log_scale: bool = False):
    """Annual values as bars (derived ones hatched), optional fitted trend line."""
    fig, ax = plt.subplots()
    reported = df["origin"] == "reported"
    ax.bar(df.loc[reported, "year"], df.loc[reported, "value"], color=PALETTE[0], label="reported")
    if (~reported).any():
        ax.bar(df.loc[~reported, "year"], df.loc[~reported, "value"], color="white", edgecolor=PALETTE[0],
               hatch="///", label="derived")
    if trend is not None and len(trend):
        ax.plot(trend.index, trend.values, color=ESTIMATED, linewidth=1.8, label="log-linear trend")
    if log_scale:
        ax.set_yscale("log")
    integer_years(ax)
    thousands(ax)
    ax.legend(frameon=False, loc="upper left")
    return finish(fig, ax, title, source, ylabel=CURRENCIES[currency].unit, xlabel="year")


def shares_chart(shares: pd.DataFrame, title: str, source: str):
    """Partner shares of the world total over time; x = end of the period covered."""
    fig, ax = plt.subplots()
    sns.lineplot(data=shares, x="x", y="share", hue="partner", marker="o", ax=ax)
    ax.set_ylim(0, 100)
    ax.legend(frameon=False, title=None)
    integer_years(ax)
    return finish(fig, ax, title, source, ylabel="percent of world total", xlabel="year")


# Dated events marked on the long-run charts (shown only when the year is on the chart)
EVENTS = {2020: "2020: border crossings closed (COVID-19)"}


HEADROOM = 1.12   # the axis top over the highest point or 80 % bound drawn


def note_cut_bands(ax, cut: list[tuple[int, object, float]], top: float) -> None:
    """Write the top of each interval band `(year, level, upper bound)` that the axis (up to `top`)
    cuts, inside the plot at its edge, left of the band."""
    for year, lvl, hi in cut:
        ax.annotate(f"{lvl}% interval of {year} up to {hi:,.0f} \u2191", (year, top), xytext=(-4, -3),
                    textcoords="offset points", fontsize=7, color="#444444", ha="right", va="top")


def headline(history: pd.DataFrame, currency: str, title: str, source: str, outlook: dict | None = None,
             events: dict[int, str] | None = None, surge: tuple[int, float] | None = None,
             estimated: pd.DataFrame | None = None):
    """The front-page chart: the whole annual history, reported values solid, derived values open,
    years estimated from part-year figures as diamonds with their 80 % interval, the outlook dashed
    with its intervals as a fan; a few dated annotations.  The vertical axis is scaled to the data
    and the 80 % intervals: a 95 % band reaching beyond it is cut, and its top is written on the chart."""
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT + 0.3))
    h = history.sort_values("year")
    est = estimated if estimated is not None and len(estimated) else None
    points = pd.concat([h[["year", "value"]], est[["year", "value"]]]) if est is not None else h[["year", "value"]]
    years = points["year"].astype(int)
    line = (points.set_index(years)["value"].sort_index().reindex(range(int(years.min()), int(years.max()) + 1))
            if len(points) else points)
    ax.plot(line.index, line.values, color=HISTORY, linewidth=1.0)  # gaps stay gaps
    rep = h["origin"] == "reported"
    ax.plot(h.loc[rep, "year"], h.loc[rep, "value"], "o", color=HISTORY, label="reported")
    if (~rep).any():
        ax.plot(h.loc[~rep, "year"], h.loc[~rep, "value"], "o", markerfacecolor="white", color=HISTORY,
                label="derived from reported figures")
    top = float(h["value"].max()) if len(h) else 1.0
    if est is not None:
        ax.errorbar(est["year"], est["value"], yerr=[est["value"] - est["lo80"], est["hi80"] - est["value"]],
                    fmt="D", color=ESTIMATED, markerfacecolor="white", elinewidth=2, capsize=3,
                    label="estimated from part-year figures (80% interval)")
        top = max(top, float(est["hi80"].max()))
    cut = []
    if outlook:
        years, mean = outlook["years"], outlook["point"]
        last = h.iloc[-1]
        iv80 = outlook["intervals"].get(80) or outlook["intervals"].get("80")
        if iv80:
            top = max(top, max(hi for _, hi in iv80))
        top *= HEADROOM
        for lvl in sorted(outlook["intervals"], key=int, reverse=True):
            iv = outlook["intervals"][lvl]
            ax.fill_between([last["year"]] + years, [last["value"]] + [lo for lo, _ in iv],
                            [last["value"]] + [hi for _, hi in iv], color=OUTLOOK,
                            alpha=BAND_ALPHA.get(int(lvl), BAND_ALPHA[80]), linewidth=0, label=f"{lvl}% interval")
            cut += [(y, lvl, hi) for y, (_, hi) in zip(years, iv) if hi > top]
        ax.plot([last["year"]] + years, [last["value"]] + mean, "--", color=OUTLOOK, linewidth=1.8)
        ax.plot(years, mean, "D", color=OUTLOOK, label="outlook (estimate)")
    note_cut_bands(ax, cut, top)
    lo, hi = (int(h["year"].min()), int(h["year"].max())) if len(h) else (0, 0)
    for year, text in (events or {}).items():
        if lo < year < hi + 1:
            ax.axvline(year, color="#888888", linewidth=0.8, linestyle=":")
            # at the foot of the line, running left: clear of the legend (top left) and of the fan (right)
            ax.annotate(text, (year, top * 0.015), xytext=(-4, 0), textcoords="offset points", fontsize=7.5,
                        color="#444444", va="bottom", ha="right")
    if surge is not None:
        year, growth_pct = surge
        val = h.loc[h["year"] == year, "value"]
        if len(val):   # up and left of the point; below and right of it in the left part (the legend's)
            left = (year - lo) < 0.4 * max(hi - lo, 1)
            ax.annotate(f"{year}: {growth_pct:+.0f}% on the year before", (year, float(val.iloc[0])),
                        xytext=(12, -24) if left else (-110, 12), textcoords="offset points", fontsize=7.5,
                        color="#444444", arrowprops={"arrowstyle": "-", "color": "#888888", "linewidth": 0.8})
    ax.set_ylim(0, top if outlook else top * 1.05)
    integer_years(ax)
    thousands(ax)
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    return finish(fig, ax, title, source, ylabel=CURRENCIES[currency].unit, xlabel="year")
