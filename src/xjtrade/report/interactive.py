"""The interactive headline chart of the site: values on hover (tap on a touch screen), yuan or dollars,
total, exports or imports.

The run computes the chart's data (`report/headline.py`, saved by `report/series.py` as
`figures/headline.json`: the traces of every currency and flow, drawn from the same chart data as the
static chart); here the site gets its block on the front page and its script: `headline.js` (the data,
the switching logic and the phone layout) and `plotly.min.js` (shipped inside the plotly Python package),
so the chart works with no network.  On a narrow screen the script draws the phone layout: larger text,
a year label every four years, fewer value labels, the legend under the chart, no drag-to-zoom (the page
scrolls under a finger).  The static chart is the block's fallback image (no script) and the PDF's figure.
"""

from __future__ import annotations

import json
from pathlib import Path

from xjtrade.report.templating import html

DIV_ID = "headline-chart"
CURRENCY_BUTTONS = (("CNY", "yuan"), ("USD", "US dollars"))
FLOW_BUTTONS = (("total", "total"), ("exports", "exports"), ("imports", "imports"))
CAPTION = "The outlook is drawn for the currency and flow of this edition only."


def headline_html(params, alt: str = "", rows: list[dict] | None = None, unit: str = "",
                  static: str | None = "figures/headline.svg", div_id: str = DIV_ID, title: str = "") -> str:
    """The raw HTML block placed on the front page (site only); `params` are the run's RunParams, `alt`
    the chart's text alternative, `rows` its numbers for the text table (report/first_screen.py),
    `static` the static chart shown until the script draws the interactive one (and without scripts),
    `title` the chart's message (the static chart's caption: what the chart shows, in words)."""
    return html("headline.html.j2", p=params, div_id=div_id, currencies=CURRENCY_BUTTONS, flows=FLOW_BUTTONS,
                alt=alt, rows=rows or [], unit=unit, static=static, caption=CAPTION, title=title).strip("\n")


def headline_script(spec: dict, div_id: str = DIV_ID) -> str:
    """headline.js: the chart's data and the switching logic (no network, no other library)."""
    return html("headline.js.j2", spec=spec, div_id=div_id)


def write_assets(site: Path, spec_path: Path) -> list[Path]:
    """plotly.min.js (from the installed plotly package) and headline.js (from the run's chart data),
    next to index.html."""
    from plotly.offline import get_plotlyjs
    site = Path(site)
    js = site / "plotly.min.js"
    js.write_text(get_plotlyjs(), encoding="utf-8")
    head = site / "headline.js"
    head.write_text(headline_script(json.loads(Path(spec_path).read_text(encoding="utf-8"))), encoding="utf-8")
    return [js, head]
