"""The interactive headline chart of the site: hover values, yuan or dollars, total, exports or imports.

Drawn with plotly; the page loads `plotly.min.js` shipped inside the plotly Python package and written
next to the page, so the chart works with no network.  The static headline figure stays for the PDF.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from xjtrade.data import selector
from xjtrade.data.currency import CURRENCIES
from xjtrade.report.results import annual_outlook

FLOWS = ("total", "exports", "imports")
ORIGIN_STYLE = {"reported": ("circle", "#0173b2"), "derived": ("circle-open", "#0173b2")}


def _history(figures: pd.DataFrame, entity: str, partner: str, flow: str, currency: str) -> pd.DataFrame:
    s = selector.series(figures, entity=entity, flow=flow, partner=partner, kind="year", currency=currency)
    return s[s["value"].notna()].sort_values("year")


def headline_traces(figures: pd.DataFrame, results: dict) -> list[dict]:
    """Plotly traces (as dicts) for every currency and flow; `meta` = [currency, flow] for switching."""
    p = results["parameters"]
    traces: list[dict] = []
    for cur in CURRENCIES:
        unit = CURRENCIES[cur].unit
        for flow in FLOWS:
            h = _history(figures, p["entity"], p["partner"], flow, cur)
            if h.empty:
                continue
            for origin, (symbol, colour) in ORIGIN_STYLE.items():
                part = h[h["origin"] == origin]
                if part.empty:
                    continue
                traces.append({
                    "type": "scatter", "mode": "markers", "name": f"{origin} value",
                    "x": [int(y) for y in part["year"]], "y": [round(float(v), 3) for v in part["value"]],
                    "text": list(part["figure_id"]), "marker": {"symbol": symbol, "size": 9, "color": colour},
                    "hovertemplate": f"%{{x}}: %{{y:,.1f}} {unit}<br>{origin} figure %{{text}}<extra></extra>",
                    "meta": [cur, flow], "visible": cur == p["currency"] and flow == p["flow"]})
            full = h.set_index(h["year"].astype(int))["value"].reindex(
                range(int(h["year"].min()), int(h["year"].max()) + 1))
            traces.append({
                "type": "scatter", "mode": "lines", "name": "annual values", "showlegend": False,
                "x": [int(y) for y in full.index],
                "y": [None if pd.isna(v) else round(float(v), 3) for v in full.values],
                "connectgaps": False, "line": {"color": "#0173b2", "width": 1.5}, "hoverinfo": "skip",
                "meta": [cur, flow], "visible": cur == p["currency"] and flow == p["flow"]})
    outlook = annual_outlook(results)
    if outlook:
        years, cur, flow = outlook["years"], p["currency"], p["flow"]
        unit = CURRENCIES[cur].unit
        for lvl in sorted(outlook["intervals"], reverse=True):
            iv = outlook["intervals"][lvl]
            traces.append({"type": "scatter", "mode": "lines", "x": years + years[::-1],
                           "y": [hi for _, hi in iv] + [lo for lo, _ in iv[::-1]],
                           "fill": "toself", "fillcolor": "rgba(222,143,5,0.18)" if lvl == 95 else
                           "rgba(222,143,5,0.32)", "line": {"width": 0}, "name": f"{lvl}% interval",
                           "hoverinfo": "skip", "meta": [cur, flow], "visible": True})
        traces.append({"type": "scatter", "mode": "lines+markers", "name": "outlook (estimate)",
                       "x": years, "y": outlook["point"],
                       "line": {"color": "#de8f05", "dash": "dash"}, "marker": {"symbol": "diamond"},
                       "hovertemplate": f"%{{x}}: %{{y:,.1f}} {unit} (estimate)<extra></extra>",
                       "meta": [cur, flow], "visible": True})
    return traces


def headline_script(figures: pd.DataFrame, results: dict, div_id: str = "headline-chart") -> str:
    """headline.js: the chart's data and the switching logic (no network, no other library)."""
    p = results["parameters"]
    traces = headline_traces(figures, results)
    units = {c: CURRENCIES[c].unit for c in CURRENCIES}
    layout = {"margin": {"l": 60, "r": 10, "t": 10, "b": 40}, "hovermode": "closest", "height": 360,
              "xaxis": {"title": {"text": "year"}, "dtick": 2}, "yaxis": {"title": {"text": units[p["currency"]]},
                                                                            "rangemode": "tozero"},
              "legend": {"orientation": "h", "y": -0.2}, "paper_bgcolor": "white", "plot_bgcolor": "white"}
    data = {"traces": traces, "layout": layout, "units": units, "state": [p["currency"], p["flow"]]}
    return ("(function () {\n'use strict';\n"
            f"var D = {json.dumps(data, separators=(',', ':'))};\n"
            f"var el = document.getElementById({json.dumps(div_id)});\n"
            "if (!el || !window.Plotly) { return; }\n"
            "Plotly.newPlot(el, D.traces, D.layout, {displaylogo: false, responsive: true});\n"
            "function show() {\n"
            "  var vis = D.traces.map(function (t) { return t.meta[0] === D.state[0] && t.meta[1] === D.state[1]; });\n"
            "  Plotly.update(el, {visible: vis}, {'yaxis.title.text': D.units[D.state[0]]});\n"
            "  var any = vis.some(function (v) { return v; });\n"
            "  var note = document.getElementById('headline-empty');\n"
            "  if (note) { note.hidden = any; }\n"
            "}\n"
            "document.querySelectorAll('[data-headline]').forEach(function (b) {\n"
            "  b.addEventListener('click', function () {\n"
            "    var k = b.getAttribute('data-headline'), v = b.getAttribute('data-value');\n"
            "    D.state[k === 'currency' ? 0 : 1] = v;\n"
            "    document.querySelectorAll('[data-headline=\"' + k + '\"]').forEach(function (o) {\n"
            "      o.setAttribute('aria-pressed', String(o === b)); });\n"
            "    show();\n  });\n});\n})();\n")


def headline_html(results: dict, div_id: str = "headline-chart") -> str:
    """The raw HTML block placed on the front page (site only)."""
    p = results["parameters"]

    def buttons(kind: str, options: dict) -> str:
        return "".join(f'<button type="button" data-headline="{kind}" data-value="{v}" '
                       f'aria-pressed="{str(v == p[kind]).lower()}">{label}</button>'
                       for v, label in options.items())
    return ('<div class="headline-interactive">\n'
            f'<div class="headline-controls" role="group" aria-label="currency">'
            f'{buttons("currency", {"CNY": "yuan", "USD": "US dollars"})}</div>\n'
            f'<div class="headline-controls" role="group" aria-label="flow">'
            f'{buttons("flow", {"total": "total", "exports": "exports", "imports": "imports"})}</div>\n'
            f'<div id="{div_id}" class="headline-chart"></div>\n'
            '<p id="headline-empty" class="headline-note" hidden>No calendar-year figures for this choice.</p>\n'
            '<p class="headline-note">Hover a point for its value and figure id. The outlook is drawn for the '
            'currency and flow of this edition only.</p>\n'
            '<script src="plotly.min.js"></script>\n<script src="headline.js"></script>\n</div>')


def write_assets(site: Path, figures: pd.DataFrame, results: dict) -> list[Path]:
    """plotly.min.js (from the installed plotly package) and headline.js, next to index.html."""
    from plotly.offline import get_plotlyjs
    site = Path(site)
    js = site / "plotly.min.js"
    js.write_text(get_plotlyjs(), encoding="utf-8")
    head = site / "headline.js"
    head.write_text(headline_script(figures, results), encoding="utf-8")
    return [js, head]
