"""What the edition knows of releases: its as-of date, when its next figures are expected (the release
calendar of `data.calendar`, for the edition's series) and the forecasts this project actually published
(the ledger's rows of the series, scored against the totals in the run's data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xjtrade.data import calendar
from xjtrade.report import ledger
from xjtrade.report.results import LedgerRow, NoReleaseDate, ReleaseWindow


def as_of_date(ctx) -> str:
    """The edition's date: its `as_of` parameter, else the latest publication date of a reported figure."""
    if ctx.params.as_of:
        return str(ctx.params.as_of)
    pub = ctx.figures.loc[ctx.figures["origin"] == "reported", "published"].replace("", np.nan).dropna()
    return str(pub.max())


def _calendar_series(ctx, as_of: str) -> tuple[str, str, str]:
    """Whose releases date the edition's next figures: its own series' when the record follows them;
    else its entity's total trade's (customs print a region's flows and partners in the same releases as
    its total, the record keeps only some of them); else its own (whose gap then says why no date)."""
    p = ctx.params
    own = (p.entity, p.flow, p.partner)
    total = (p.entity, "total", "World")
    if own != total and calendar.no_date(ctx.figures, as_of, *own) is not None \
            and calendar.no_date(ctx.figures, as_of, *total) is None:
        return total
    return own


def release_window(ctx, as_of: str | None = None) -> ReleaseWindow | None:
    """When the edition's next figures are expected, from its own releases (the region's monthly ones,
    a port's few; a flow or partner of the region from the region's total: `_calendar_series`): None
    when :func:`release_gap` says why no date can be expected."""
    day = as_of or as_of_date(ctx)
    entity, flow, partner = _calendar_series(ctx, day)
    w = calendar.next_release(ctx.figures, entity=entity, flow=flow, partner=partner, as_of=day)
    return ReleaseWindow(**w) if w else None


def release_gap(ctx, as_of: str | None = None) -> NoReleaseDate | None:
    """Why no date can be expected for the series' next figures (None when one can)."""
    day = as_of or as_of_date(ctx)
    entity, flow, partner = _calendar_series(ctx, day)
    g = calendar.no_date(ctx.figures, day, entity=entity, flow=flow, partner=partner)
    return NoReleaseDate(**g) if g else None


def _ledger_path() -> Path | None:
    from xjtrade.project import find_project
    try:
        return find_project().root / ledger.LEDGER
    except Exception:        # not inside a checkout: no ledger to show
        return None


def ledger_rows(ctx, final, path: Path | None = None) -> list[LedgerRow]:
    """The ledger's forecasts of the run's series, scored against the annual totals in the run's data (an
    edition as of a date: the forecasts and the totals published by then)."""
    p = ctx.params
    path = path or _ledger_path()
    if path is None or not Path(path).exists():
        return []
    series = f"{p.entity}/{p.flow}/{p.partner}/{p.currency}"
    rows = ledger.scored(ledger.read(path), {int(y): float(v) for y, v in final.annual.items()}, series)
    if p.as_of:      # an edition as of a date shows what was published by then
        rows = [r for r in rows if r["vintage"] <= str(p.as_of)]

    def num(v):
        return float(v) if v not in (None, "") else None
    return [LedgerRow(vintage=r["vintage"], written=r["written"], code_version=r["code_version"], kind=r["kind"],
                      target_year=int(r["target_year"]), point=float(r["point"]), central=r["central"],
                      lo80=num(r["lo80"]), hi80=num(r["hi80"]), lo95=num(r["lo95"]), hi95=num(r["hi95"]),
                      method=r["method"], actual=r["actual"], error_pct=r["error_pct"], in80=r["in80"],
                      in95=r["in95"]) for r in rows]
