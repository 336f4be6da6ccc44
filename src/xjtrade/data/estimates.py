"""Annual estimates with lineage: a value for every year with evidence.

A year with a calendar-year figure keeps it (``reported`` or ``derived``).  A year with only
year-to-date figures gets an ``estimated`` total: its latest year-to-date value divided by the
share of the year those months usually make up (:class:`xjtrade.stats.benchmarks.ShareModel`,
estimated from the years where both are known), with 80 % and 95 % intervals that never fall
below what is already known.  ``inputs`` lists the figure ids whose windows fall in that year.
Nothing is spread evenly over months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from scipy import stats as sps

from xjtrade.data.selector import series
from xjtrade.stats.benchmarks import ShareModel

COLUMNS = ["entity", "flow", "partner", "currency", "year", "value", "lo80", "hi80", "lo95", "hi95",
           "origin", "method", "inputs"]


@dataclass
class Evidence:
    """Aggregate figures of one series: annual totals and year-to-date totals (months 1..m)."""

    annual: dict = field(default_factory=dict)        # year -> value
    annual_ids: dict = field(default_factory=dict)    # year -> figure id
    annual_origin: dict = field(default_factory=dict)  # year -> reported / derived
    ytd: dict = field(default_factory=dict)           # (year, month) -> value
    ytd_ids: dict = field(default_factory=dict)       # (year, month) -> figure id
    year_ids: dict = field(default_factory=dict)      # year -> ids of every figure within the year
    published: dict = field(default_factory=dict)     # figure id -> publication date ('' unknown)

    @property
    def last_month(self) -> int | None:
        """Absolute month index (year * 12 + month - 1) of the latest month with data."""
        ends = [y * 12 + 11 for y in self.annual] + [y * 12 + m - 1 for (y, m) in self.ytd]
        return max(ends) if ends else None

    def key(self) -> tuple:
        return (tuple(sorted(self.annual.items())), tuple(sorted(self.ytd.items())))


def evidence(figures: pd.DataFrame, entity: str = "Xinjiang", flow: str = "total", partner: str = "World",
             currency: str = "CNY") -> Evidence:
    """The selected calendar-year and year-to-date figures of one series (values only)."""
    ev = Evidence()
    for kind in ("year", "ytd"):
        s = series(figures, entity=entity, flow=flow, partner=partner, kind=kind, currency=currency)
        s = s[s["value"].notna() & (s["value"] > 0)]
        for r in s.itertuples(index=False):
            year, m = int(r.end) // 12, int(r.end) % 12 + 1
            ev.published[r.figure_id] = str(r.published or "")
            ev.year_ids.setdefault(year, [])
            if r.figure_id not in ev.year_ids[year]:
                ev.year_ids[year].append(r.figure_id)
            if m == 12:
                ev.annual[year] = float(r.value)
                ev.annual_ids[year] = r.figure_id
                ev.annual_origin[year] = "reported" if r.origin == "reported" else "derived"
            else:
                ev.ytd[(year, m)] = float(r.value)
                ev.ytd_ids[(year, m)] = r.figure_id
    # the windows inside a year that are not year-to-date (single months, quarters) are evidence on
    # that year too: listed as inputs, not used by the share model
    f = figures[(figures["entity"] == entity) & (figures["flow"] == flow) & (figures["partner"] == partner)
                & (figures["product"] == "all") & (figures["segment"] == "all")
                & (figures["indicator"] == "trade value") & figures["selected"].astype(bool)
                & (figures["start"] >= 0)]
    f = f[(f["start"] // 12 == f["end"] // 12)]
    for r in f.itertuples(index=False):
        lst = ev.year_ids.setdefault(int(r.end) // 12, [])
        if r.figure_id not in lst:
            lst.append(r.figure_id)
    return ev


def _t_interval(mu: float, sd: float, df: float, level: float, floor: float) -> tuple[float, float]:
    q = float(sps.t.ppf(0.5 + level / 200.0, df))
    return max(math.exp(mu - q * sd), floor), math.exp(mu + q * sd)


def estimate_year(ev: Evidence, year: int, share: ShareModel | None = None) -> dict | None:
    """Estimate of one year's total from its latest year-to-date figure; None without evidence."""
    months = [m for (y, m) in ev.ytd if y == year]
    if not months:
        return None
    m = max(months)
    share = share or ShareModel.fit(ev.ytd, ev.annual)
    if not share.n_years:
        return None  # no year shows how a year-to-date total relates to its year
    v = ev.ytd[(year, m)]
    mu, sd = share.log_total(v, m)
    lo80, hi80 = _t_interval(mu, sd, share.df, 80, v)
    lo95, hi95 = _t_interval(mu, sd, share.df, 95, v)
    return {"year": year, "value": math.exp(mu), "lo80": lo80, "hi80": hi80, "lo95": lo95, "hi95": hi95,
            "origin": "estimated", "months_known": m,
            "method": f"Jan-{pd.Timestamp(2000, m, 1).strftime('%b')} total / usual share of the year "
                      f"({sum(share.n_years.values())} year-to-date figures of years with a known total)",
            "inputs": ";".join(ev.year_ids.get(year, []))}


def annual_estimates(figures: pd.DataFrame, entity: str = "Xinjiang", flow: str = "total",
                     partner: str = "World", currency: str = "CNY") -> pd.DataFrame:
    """One row per year with evidence: reported/derived totals exact, partial years estimated."""
    ev = evidence(figures, entity, flow, partner, currency)
    share = ShareModel.fit(ev.ytd, ev.annual)
    rows = []
    for year in sorted(set(ev.annual) | {y for (y, _) in ev.ytd}):
        if year in ev.annual:
            v = ev.annual[year]
            rows.append({"year": year, "value": v, "lo80": v, "hi80": v, "lo95": v, "hi95": v,
                         "origin": ev.annual_origin[year], "method": "calendar-year figure",
                         "inputs": ev.annual_ids[year]})
            continue
        est = estimate_year(ev, year, share)
        if est is not None:
            est.pop("months_known")
            rows.append(est)
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("entity", "flow", "partner", "currency")])
    out.insert(0, "currency", currency)
    out.insert(0, "partner", partner)
    out.insert(0, "flow", flow)
    out.insert(0, "entity", entity)
    return out[COLUMNS]


def estimates_table(figures: pd.DataFrame, currency: str = "CNY") -> pd.DataFrame:
    """Annual estimates of the regional total and its flows (the series the report analyses by default)."""
    frames = [annual_estimates(figures, "Xinjiang", flow, "World", currency)
              for flow in ("total", "exports", "imports")]
    return pd.concat(frames, ignore_index=True)
