"""What the front page's headline chart draws: one definition for the static chart and the interactive one.

:func:`chart_data` turns an annual series (:class:`~xjtrade.report.results.AnnualSeries`) and the
outlook into the parts every version of the chart draws: the calendar-year figures (reported, derived),
the years estimated from part-year figures with their 80 % interval (those before the outlook's first
year: the outlook shows the others), the line through all of them (gaps stay gaps) and the outlook with
its 80 % and 95 % bands, which start at the last calendar-year figure.  The static chart
(`figures.headline`, for the PDF and as the site's fallback) and the interactive chart's traces
(:func:`interactive_spec`, for the site) are both drawn from it, so they cannot disagree about a
series, a year or an interval (tests/test_first_screen.py compares what both draw).

The interactive chart holds every currency and flow of the edition's entity and partner; a flow whose
series ends before the edition's gets a note saying so (`notes`), written from the data.
"""

from __future__ import annotations

from typing import Any

from xjtrade.data.currency import CURRENCIES
from xjtrade.report.results import AnnualSeries, OutlookResults

FLOWS = ("total", "exports", "imports")
ORIGINS = {"reported": "reported value", "derived": "derived from reported figures"}
ESTIMATED_LABEL = "estimated from part-year figures (80% interval)"
OUTLOOK_LABEL = "outlook (estimate)"
DIGITS = 3   # values in the interactive chart's data (the chart shows one decimal)


def outlook_series(outlook: OutlookResults | None) -> dict | None:
    """The outlook's annual targets as chart series: {"years", "point", "intervals": {80, 95}}."""
    if outlook is None or not outlook.ok or not outlook.annual:
        return None
    return {"years": [a.year for a in outlook.annual], "point": [a.point for a in outlook.annual],
            "intervals": {lvl: [(getattr(a, f"lo{lvl}"), getattr(a, f"hi{lvl}")) for a in outlook.annual]
                          for lvl in (80, 95)}}


def chart_data(series: AnnualSeries, outlook: OutlookResults | None) -> dict | None:
    """The parts of the headline chart (None without a calendar-year figure):

    - ``history``: calendar-year figures, each {"year", "value", "origin", "figure_id"};
    - ``estimated``: years estimated from part-year figures before the outlook's first year, each
      {"year", "value", "lo80", "hi80", "lo95", "hi95", "inputs"};
    - ``line``: (year, value or None) for every year from the first to the last of those two, the series'
      line (None: a gap);
    - ``outlook``: None, or {"years", "point", "intervals": {80: [(lo, hi)], 95: [...]}} starting at the
      last calendar-year figure (``anchor``) and continuing over the outlook's years.
    """
    history: list[dict[str, Any]] = [{"year": pt.year, "value": pt.value, "origin": pt.origin, "figure_id": pt.figure_id}
               for pt in series.points if pt.origin != "estimated"]
    if not history:
        return None
    out = outlook_series(outlook)
    first = min(out["years"]) if out else None
    estimated: list[dict[str, Any]] = [{"year": pt.year, "value": pt.value, "lo80": pt.lo80, "hi80": pt.hi80, "lo95": pt.lo95,
                  "hi95": pt.hi95, "inputs": ";".join(pt.inputs)}
                 for pt in series.points if pt.origin == "estimated" and (first is None or pt.year < first)]
    values = {p["year"]: p["value"] for p in history + estimated}
    line = [(y, values.get(y)) for y in range(min(values), max(values) + 1)]
    anchored = None
    if out:
        last = max(history, key=lambda p: p["year"])
        anchored = {"years": [last["year"], *out["years"]], "point": [last["value"], *out["point"]],
                    "intervals": {lvl: [(last["value"], last["value"]), *iv] for lvl, iv in out["intervals"].items()},
                    "first": first}
    return {"history": sorted(history, key=lambda p: p["year"]), "estimated": estimated, "line": line,
            "outlook": anchored, "unit": series.unit, "currency": series.currency, "flow": series.flow,
            "last_year": max(values)}


def _r(v):
    return None if v is None else round(float(v), DIGITS)


def traces(data: dict, unit: str, meta: list[str], visible: bool, palette) -> list[dict]:
    """The plotly traces of one series' chart data (`palette`: report.figures, the one palette)."""
    out: list[dict] = []
    line = data["line"]
    out.append({"type": "scatter", "mode": "lines", "name": "annual values", "showlegend": False,
                "x": [y for y, _ in line], "y": [_r(v) for _, v in line], "connectgaps": False,
                "line": {"color": palette.HISTORY, "width": 1.5}, "hoverinfo": "skip", "meta": meta,
                "visible": visible})
    for origin, label in ORIGINS.items():
        part = [p for p in data["history"] if p["origin"] == origin]
        if not part:
            continue
        out.append({"type": "scatter", "mode": "markers", "name": label,
                    "x": [p["year"] for p in part], "y": [_r(p["value"]) for p in part],
                    "text": [p["figure_id"] or "" for p in part],
                    "marker": {"symbol": "circle" if origin == "reported" else "circle-open", "size": 9,
                               "color": palette.HISTORY, "line": {"color": palette.HISTORY, "width": 2}},
                    "hovertemplate": f"%{{x}}: %{{y:,.1f}} {unit}<br>{origin} figure %{{text}}<extra></extra>",
                    "meta": meta, "visible": visible})
    est = data["estimated"]
    if est:
        out.append({"type": "scatter", "mode": "markers", "name": ESTIMATED_LABEL,
                    "x": [p["year"] for p in est], "y": [_r(p["value"]) for p in est],
                    "error_y": {"type": "data", "symmetric": False,
                                "array": [_r(p["hi80"] - p["value"]) for p in est],
                                "arrayminus": [_r(p["value"] - p["lo80"]) for p in est],
                                "color": palette.ESTIMATED, "thickness": 2, "width": 4},
                    "customdata": [[_r(p["lo80"]), _r(p["hi80"])] for p in est],
                    "marker": {"symbol": "diamond-open", "size": 9, "color": palette.ESTIMATED,
                               "line": {"color": palette.ESTIMATED, "width": 2}},
                    "hovertemplate": (f"%{{x}}: %{{y:,.1f}} {unit} (estimated from part-year figures)<br>"
                                      "80% interval %{customdata[0]:,.1f} to %{customdata[1]:,.1f}<extra></extra>"),
                    "meta": meta, "visible": visible})
    o = data["outlook"]
    if o:
        years = o["years"]
        for lvl in sorted(o["intervals"], key=int, reverse=True):
            iv = o["intervals"][lvl]
            out.append({"type": "scatter", "mode": "lines", "x": years + years[::-1],
                        "y": [_r(hi) for _, hi in iv] + [_r(lo) for lo, _ in iv[::-1]],
                        "fill": "toself", "line": {"width": 0}, "name": f"{lvl}% interval",
                        "fillcolor": palette.rgba(palette.OUTLOOK, palette.BAND_ALPHA.get(int(lvl), palette.BAND_ALPHA[80])),
                        "hoverinfo": "skip", "meta": meta, "visible": visible})
        cd = [[_r(lo80), _r(hi80), _r(lo95), _r(hi95)] for (lo80, hi80), (lo95, hi95)
              in zip(o["intervals"][80], o["intervals"][95])]
        out.append({"type": "scatter", "mode": "lines+markers", "name": OUTLOOK_LABEL, "x": years,
                    "y": [_r(v) for v in o["point"]], "customdata": cd,
                    "line": {"color": palette.OUTLOOK, "dash": "dash"},
                    # the first point is the last calendar-year figure the outlook starts from: no marker
                    "marker": {"symbol": "diamond", "color": palette.OUTLOOK, "size": [0] + [9] * (len(years) - 1)},
                    "hovertemplate": (f"%{{x}}: %{{y:,.1f}} {unit} (outlook)<br>80% interval %{{customdata[0]:,.1f}} "
                                      "to %{customdata[1]:,.1f}<br>95% interval %{customdata[2]:,.1f} to "
                                      "%{customdata[3]:,.1f}<extra></extra>"),
                    "meta": meta, "visible": visible})
    return out


def interactive_spec(series_of, edition: AnnualSeries, outlook: OutlookResults | None) -> dict:
    """The data of the interactive headline chart: plotly traces for every currency and flow (`meta` =
    [currency, flow] for switching), drawn from :func:`chart_data` of each series (`series_of(flow,
    currency)` gives it; the edition's own series is `edition`, with the outlook), the layout, the units,
    the edition's choice (`state`) and a note for each series that ends before the edition's."""
    from xjtrade.report import figures as palette   # the one palette (static and interactive charts alike)
    own = chart_data(edition, outlook)
    end = own["last_year"] if own else None
    all_traces: list[dict] = []
    notes: dict[str, str] = {}
    for cur in CURRENCIES:
        unit = CURRENCIES[cur].unit
        for flow in FLOWS:
            mine = cur == edition.currency and flow == edition.flow
            s = edition if mine else series_of(flow, cur)
            data = own if mine else chart_data(s, None)
            key = f"{cur}|{flow}"
            if data is None:
                notes[key] = f"No calendar-year figures of {s.subject} in {unit}."
                continue
            all_traces += traces(data, unit, [cur, flow], mine, palette)
            if end is not None and data["last_year"] < end:
                notes[key] = (f"The record holds no full-year or estimated figure of {s.subject} after "
                              f"{data['last_year']}; the chart ends there.")
            if not mine and own and own["outlook"]:
                notes[key] = " ".join(filter(None, [notes.get(key), "No outlook is made for this series."]))
    units = {c: CURRENCIES[c].unit for c in CURRENCIES}
    layout = {"margin": {"l": 60, "r": 10, "t": 10, "b": 40}, "hovermode": "closest", "height": 380,
              "xaxis": {"title": {"text": "year"}, "dtick": 2},
              "yaxis": {"title": {"text": units[edition.currency]}, "rangemode": "tozero"},
              "legend": {"orientation": "h", "y": -0.2}, "paper_bgcolor": "white", "plot_bgcolor": "white"}
    return {"traces": all_traces, "layout": layout, "units": units, "notes": notes,
            "state": [edition.currency, edition.flow]}
