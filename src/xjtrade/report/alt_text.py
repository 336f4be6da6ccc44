"""The chapter charts in words: each function states one chart's message and its key numbers, from
the same frame the chart draws (plain text, no markup; escaped where it is written: the staged
notebook's ``fig-alt`` option, the SVG's ``<desc>``).

The notebooks pass the text to :func:`xjtrade.report.display.show_figure` (``alt=``), which keeps it
in the chapter's results (``charts``: :class:`xjtrade.report.results.ChartText`); staging writes it as
the figure cell's ``fig-alt`` for both render engines.  Nothing here is typed by hand: every number
comes from the frame, printed as the table beside the chart prints it (the growth chapter's and the
outlook's tables with two decimals, the track record's with one), so a reader can find it there.
Years are listed rather than counted where no table shows the count.  A sparse edition gets a
sentence that says what the chart holds (never "nan").

- :func:`coverage` -- the data chapter's timeline of figures by the months they cover;
- :func:`annual` -- the growth chapter's bars of calendar-year values with the trend;
- :func:`estimates` -- every year with evidence, estimated years with their intervals;
- :func:`shares` -- partner shares of the total;
- :func:`outlook` -- the annual totals and the outlook with its intervals;
- :func:`track` -- what the outlook said at each release date against the published totals.
"""

from __future__ import annotations

import math

import pandas as pd

from xjtrade.report import wording

# the number of decimals of the table beside each chart (display.markdown_table's floatfmt there)
TABLE_DECIMALS = 2
TRACK_DECIMALS = 1

KIND_WORDS = {"year": "calendar years", "half": "half years", "quarter": "quarters", "ytd": "year to date",
              "month": "single months", "other": "other spans"}


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or bool(pd.isna(v))


def _num(v, digits: int = TABLE_DECIMALS) -> str:
    return wording.num(float(v), digits)


def _value(row, digits: int = TABLE_DECIMALS) -> str:
    """A value with the word the release printed before it ("about 20.00")."""
    word = wording.qualifier_word(row.get("qualifier")) if "qualifier" in row else ""
    return f"{word + ' ' if word else ''}{_num(row['value'], digits)}"


def _interval(row, digits: int = TABLE_DECIMALS) -> str:
    """'80% interval a to b, 95% interval c to d' (the bounds the row has)."""
    parts = [f"{lvl}% interval {_num(row[f'lo{lvl}'], digits)} to {_num(row[f'hi{lvl}'], digits)}"
             for lvl in (80, 95) if not _missing(row.get(f"lo{lvl}")) and not _missing(row.get(f"hi{lvl}"))]
    return ", ".join(parts)


def _rows(df: pd.DataFrame, value: str = "value") -> list[dict]:
    """The rows with a value, by year."""
    if df is None or not len(df) or value not in df.columns:
        return []
    ok = df[df[value].notna()]
    return ok.sort_values("year").to_dict("records") if "year" in ok.columns else ok.to_dict("records")


def _span(rows: list[dict], digits: int = TABLE_DECIMALS) -> str:
    """'from 147.45 in 2011 to 520.37 in 2025 (the highest); lowest 117.56 in 2016': the ends, and the
    highest and lowest where they are not an end."""
    first, last = rows[0], rows[-1]
    if len(rows) == 1:
        return f"{_value(first, digits)} in {int(first['year'])}"
    high = max(rows, key=lambda r: r["value"])
    low = min(rows, key=lambda r: r["value"])

    def end(r) -> str:
        mark = " (the highest)" if r is high else " (the lowest)" if r is low else ""
        return f"{_value(r, digits)} in {int(r['year'])}{mark}"

    extremes = [f"{what} {_value(r, digits)} in {int(r['year'])}" for what, r in (("highest", high), ("lowest", low))
                if r is not first and r is not last]
    return f"from {end(first)} to {end(last)}" + ("; " + ", ".join(extremes) if extremes else "")


def coverage(figs: pd.DataFrame, entity: str) -> str:
    """The coverage timeline: the years the figures span, how many of each kind of period (as the
    coverage table counts them), and the years no figure covers."""
    f = figs[figs["start"] >= 0] if len(figs) else figs
    if not len(f):
        return f"Timeline of the figures on {entity} by the months they cover: no figure has a period, so it is empty."
    first, last = int(f["start"].min()) // 12, int(f["end"].max()) // 12
    parts = []
    for kind in KIND_WORDS:
        sub = f[f["period_kind"] == kind]
        if len(sub):
            n_rep, n_der = int((sub["origin"] == "reported").sum()), int((sub["origin"] == "derived").sum())
            parts.append(f"{KIND_WORDS[kind]} {n_rep} reported and {n_der} derived")
    covered = {y for s, e in zip(f["start"], f["end"]) for y in range(int(s) // 12, int(e) // 12 + 1)}
    gaps = sorted(set(range(first, last + 1)) - covered)
    years = f"{first} to {last}" if last > first else str(first)
    text = (f"Timeline of the figures on {entity}, one bar a figure over the months it covers, {years}, "
            f"by kind of period: " + "; ".join(parts) + ".")
    text += (f" No figure covers {wording.years_text(gaps)}." if gaps else
             " Every year in between is covered by at least one figure.")
    return text


def annual(df: pd.DataFrame, unit: str, subject: str, trend=None) -> str:
    """The bars of calendar-year values: first and last year and value (as the growth table prints
    them), the highest and lowest, the years derived from other figures (hatched), the trend's
    growth a year (`trend`: the fitted trend, anything with ``growth_pct``; None: no trend line)."""
    rows = _rows(df)
    if not rows:
        return f"Bar chart of {subject}, {unit}: no calendar-year figure falls in the window, so it is empty."
    n = len(rows)
    text = (f"Bar chart of {subject}, {unit}, one bar a calendar year, {wording.years_text([r['year'] for r in rows])}"
            f": {_span(rows)}.")
    derived = [int(r["year"]) for r in rows if r.get("origin") != "reported"]
    if derived and len(derived) < n:
        text += f" Hatched bars are derived from other reported figures: {wording.years_text(derived)}."
    elif derived:
        text += " Every bar is derived from other reported figures (hatched)."
    growth = getattr(trend, "growth_pct", None)
    if trend is not None and not _missing(growth):
        text += f" The log-linear trend line grows {wording.pct(growth)} a year."
    return text


def estimates(est: pd.DataFrame, unit: str, subject: str) -> str:
    """Every year with evidence: the span, which years are derived and which estimated from part-year
    figures, each estimated year with its 80 % and 95 % intervals."""
    rows = _rows(est)
    if not rows:
        return f"Chart of {subject}, {unit}: no year has a figure or an estimate in the window, so it is empty."
    text = f"Chart of {subject}, {unit}, every year with evidence, {_span(rows)}."
    derived = [int(r["year"]) for r in rows if r.get("origin") == "derived"]
    if derived:
        text += f" Derived from other reported figures (squares): {wording.years_text(derived)}."
    est_rows = [r for r in rows if r.get("origin") == "estimated"]
    if est_rows:
        text += " Estimated from part-year figures (diamonds): " + "; ".join(
            f"{int(r['year'])} {_num(r['value'])}" + (f" ({iv})" if (iv := _interval(r)) else "")
            for r in est_rows) + "."
    else:
        text += " No year needed an estimate from part-year figures."
    return text


def shares(main: pd.DataFrame, subject: str) -> str:
    """Partner shares: for each partner (largest latest share first) the first and latest share with
    their periods, and the highest where it is neither."""
    if main is None or not len(main):
        return f"No partner shares of {subject} are reported."
    m = main[main["share"].notna()].sort_values("x")
    if not len(m):
        return f"No partner shares of {subject} are reported."
    order = m.groupby("partner")["share"].last().sort_values(ascending=False).index

    def pct(v) -> str:
        return wording.pct(float(v), sign=False)

    parts = []
    for partner in order:
        g = m[m["partner"] == partner].to_dict("records")
        first, last = g[0], g[-1]
        if len(g) == 1:
            parts.append(f"{partner} {pct(last['share'])} in {last['period_label']}")
            continue
        text = (f"{partner} from {pct(first['share'])} in {first['period_label']} to {pct(last['share'])} in "
                f"{last['period_label']}")
        high = max(g, key=lambda r: r["share"])
        if high is not first and high is not last:
            text += f" (highest {pct(high['share'])} in {high['period_label']})"
        parts.append(text)
    return f"Line chart of partner shares of {subject}, percent of the world total: " + "; ".join(parts) + "."


def outlook(est: pd.DataFrame, annual_outlook: pd.DataFrame, unit: str, subject: str) -> str:
    """The annual totals and the outlook: the history's span, then each outlook year's median with its
    80 % and 95 % intervals (as the outlook table prints them)."""
    rows = _rows(est)
    ahead = _rows(annual_outlook, "point")
    text = f"Chart of {subject}, {unit}"
    text += f": annual totals {_span(rows)}" if rows else ": no annual total in the window"
    if ahead:
        text += "; then the outlook, dashed, with its median and intervals: " + "; ".join(
            f"{int(a['year'])} {_num(a['point'])}" + (f" ({iv})" if (iv := _interval(a)) else "") for a in ahead)
    else:
        text += "; no outlook"
    return text + "."


def track(track_frame: pd.DataFrame, unit: str, subject: str) -> str:
    """What the outlook said at each release date about the annual totals: for each total, the
    published value and the range of the forecasts' medians, then how often the published total fell
    inside the intervals (as the coverage table gives it for all forecasts)."""
    t = track_frame[track_frame["target"] != "next release"] if len(track_frame) else track_frame
    t = t[t["actual"].notna() & t["point"].notna()] if len(t) else t
    if not len(t):
        return f"Chart of the track record of {subject}: no annual total was published after a release date."
    d = TRACK_DECIMALS
    dates = sorted(str(v)[:10] for v in t["vintage"])
    parts = []
    for period, g in t.groupby("period", sort=True):
        lo, hi = float(g["point"].min()), float(g["point"].max())
        said = (f"forecast at {_num(lo, d)}" if _num(lo, d) == _num(hi, d) else
                f"forecasts from {_num(lo, d)} to {_num(hi, d)}")
        parts.append(f"total {period}, published {_num(g['actual'].iloc[0], d)}: {said}")
    text = (f"Chart of what the outlook said about the annual totals of {subject}, {unit}, at each release date "
            f"from {dates[0]} to {dates[-1]}, against the totals published later (dotted lines): "
            + "; ".join(parts) + ".")
    in80, in95 = t["in80"].dropna(), t["in95"].dropna() if "in95" in t.columns else pd.Series(dtype=float)
    if len(in80):
        text += (f" The published total fell inside the 80% interval in {wording.pct(100 * float(in80.mean()), sign=False)}"
                 f" of the {len(t)} forecasts")
        if len(in95):
            text += f", inside the 95% interval in {wording.pct(100 * float(in95.mean()), sign=False)}"
        text += "."
    return text
