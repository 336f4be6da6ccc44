"""The front page's first screen, formatted from the run's results (nothing is computed here).

- :func:`answer` -- the one-sentence answer under the title: the level and its change on the year
  before, the growth over the window, the outlook with its 80 % interval in words, the date of the data
  and of the next release (markdown; each part in a span the first-screen test measures);
- :func:`alt_text` -- the headline chart's text alternative: what it shows and its numbers (not its
  caption), for the static chart's ``fig-alt`` and the interactive chart's fallback image;
- :func:`chart_rows` -- the rows of the text table beside the interactive chart (what the chart
  draws, year by year, from the same series and outlook).
"""

from __future__ import annotations

import re

from xjtrade.report import forecast_words, wording
from xjtrade.report.results import Results
from xjtrade.textsafe import md_escape

ORIGIN_WORDS = {"reported": "reported", "derived": "derived from reported figures",
                "estimated": "estimated from part-year figures"}


def _date(d) -> str:
    """A date that does not break at its hyphens (the reader.css class)."""
    return f"[{d}]{{.date}}"


def _num(v) -> str:
    return wording.num(v)


def _headline(results: Results):
    """(outlook, headline target) or (outlook, None)."""
    o = results.forecast.outlook if results.forecast else None
    return o, (o.headline if o is not None and o.ok else None)


def outlook_words(results: Results, unit: str) -> str:
    """'the outlook for 2026 is 564.7 billion yuan, with an 80% chance of lying between
    405.8 and 793.7 (-22.0% to +52.5% on 2025)'; '' without an outlook."""
    o, h = _headline(results)
    if h is None:
        return ""
    nowcast = bool(o.months_known) and h.year == o.current_year
    what = (f"the nowcast for {h.year}, from {wording.count(o.months_known, 'published month')}, is"
            if nowcast else f"the outlook for {h.year} is")
    text = (f"{what} **{_num(h.point)} {unit}**, with an 80% chance of lying between "
            f"{_num(h.lo80)} and {_num(h.hi80)}")
    g = o.headline_growth80
    if g and o.base_year is not None:
        text += f" ({wording.pct(g[0])} to {wording.pct(g[1])} on {o.base_year})"
    return text


def latest_point(results: Results):
    """The series point of the latest year with a figure (its id, sources, qualifier), or None."""
    g = results.growth
    if g is None or g.series is None or not g.latest_year:
        return None
    return next((pt for pt in g.series.points if pt.year == g.latest_year and pt.figure_id), None)


def answer(results: Results, unit: str, subject: str, latest_source: str | None, stale: bool) -> str:
    """The one-sentence answer (markdown): level, growth, outlook, the date of the data and of the next
    release; '' when the series has no calendar-year figure."""
    g, p = results.growth, results.parameters
    if g is None or not g.latest_year:
        return ""
    latest = latest_point(results)
    word = wording.qualifier_word(latest.qualifier) if latest else ""   # "about 20.0": as the release printed it
    level = (f"{md_escape(wording.capitalised(subject))} came to **{word + ' ' if word else ''}{_num(g.latest_value)} "
             f"{unit}** in {g.latest_year}"
             + ("" if g.latest_yoy_pct is None else
                f", {wording.qualified_pct(g.latest_yoy_pct, g.latest_yoy_qualifier)} on the year before"))
    parts = [f"[{level}]{{.answer-level}}"]
    cagr = next((w for w in g.cagr if w.cagr_pct is not None), None)
    if cagr and cagr.cagr_pct is not None and cagr.end - cagr.start > 1:   # over one year: the change already given
        verb = "grew" if cagr.cagr_pct >= 0 else "shrank"
        parts.append(f"[from {cagr.start} to {cagr.end} it {verb} by **{wording.pct(abs(cagr.cagr_pct), sign=False)} "
                     f"a year** on average]{{.answer-growth}}")
    out = outlook_words(results, unit)
    o, _ = _headline(results)
    if out:
        parts.append(f"[{out}]{{.answer-outlook}}")
    elif o is not None and o.reason:
        parts.append(f"[{md_escape(o.reason)}]{{.answer-outlook}}")
    data = (f"data as known on {_date(str(p.as_of))}" if p.as_of else
            f"figures published up to {_date(latest_source)}" if latest_source else "")
    cal = results.forecast.calendar if results.forecast else None
    if cal is not None:
        nxt = (f"the next ({md_escape(cal.period)}), expected around {_date(cal.expected)}, are not in the record yet"
               if stale else f"the next ({md_escape(cal.period)}) are expected around {_date(cal.expected)}")
        data = f"{data}, {nxt}" if data else nxt
    elif results.forecast is not None and results.forecast.no_release_date is not None:
        nxt = forecast_words.no_date_words(results.forecast.no_release_date)   # the series' own releases
        data = f"{data}; {nxt}" if data else wording.capitalised(nxt)
    if data:
        parts.append(f"[{data}]{{.answer-dates}}")
    return "; ".join(parts) + "."


def alt_text(results: Results) -> str:
    """The headline chart in words: series, unit, first and last calendar-year values, the lowest and
    highest, the estimated years and the outlook with its intervals (plain text, no markup)."""
    g = results.growth
    s = g.series if g else None
    pts = [pt for pt in (s.points if s else []) if pt.origin != "estimated"]
    if s is None or not pts:
        return ""
    u = s.unit
    first, last = pts[0], pts[-1]
    low, high = min(pts, key=lambda pt: pt.value), max(pts, key=lambda pt: pt.value)
    text = (f"Chart of {s.subject}, {u}, by year. It went from {_num(first.value)} in {first.year} to "
            f"{_num(last.value)} in {last.year}")
    if s.level and s.level.ratio and last.year > first.year:
        text += f" ({s.level.ratio:.1f} times)"
    text += f"; lowest {_num(low.value)} in {low.year}, highest {_num(high.value)} in {high.year}."
    o, h = _headline(results)
    first_outlook = min((a.year for a in o.annual), default=None) if h is not None else None
    est = [pt for pt in s.points if pt.origin == "estimated" and (first_outlook is None or pt.year < first_outlook)]
    if est:
        text += " Estimated from part-year figures: " + "; ".join(
            f"{pt.year} {_num(pt.value)} (80% interval {_num(pt.lo80)} to {_num(pt.hi80)})" for pt in est) + "."
    if h is not None:
        text += " Outlook, dashed: " + "; ".join(
            f"{a.year} {_num(a.point)} (80% interval {_num(a.lo80)} to {_num(a.hi80)}, 95% interval "
            f"{_num(a.lo95)} to {_num(a.hi95)})" for a in o.annual) + "."
    return text


def attribute(text: str) -> str:
    """Text for a pandoc attribute value in double quotes: no double quote, backslash or braces."""
    return re.sub(r'["\\{}]', "'", text)


def chart_rows(results: Results) -> list[dict]:
    """The text table of the chart: one row per year it draws (the edition's series, then the outlook):
    year, value, what it is, 80 % and 95 % intervals, figure id; strings formatted for reading."""
    g = results.growth
    s = g.series if g else None
    if s is None:
        return []
    o, h = _headline(results)
    first_outlook = min((a.year for a in o.annual), default=None) if h is not None else None
    rows = []
    for pt in s.points:
        if pt.origin == "estimated" and first_outlook is not None and pt.year >= first_outlook:
            continue
        rows.append({"year": pt.year, "value": _num(pt.value), "what": ORIGIN_WORDS.get(pt.origin, pt.origin),
                     "i80": "" if pt.lo80 is None else f"{_num(pt.lo80)} to {_num(pt.hi80)}",
                     "i95": "" if pt.lo95 is None else f"{_num(pt.lo95)} to {_num(pt.hi95)}",
                     "figure_id": pt.figure_id or ""})
    if h is not None:
        for a in o.annual:
            rows.append({"year": a.year, "value": _num(a.point), "what": "outlook (estimate, median)",
                         "i80": f"{_num(a.lo80)} to {_num(a.hi80)}", "i95": f"{_num(a.lo95)} to {_num(a.hi95)}",
                         "figure_id": ""})
    return rows
