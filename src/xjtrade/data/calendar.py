"""The release calendar: when the next figures of a series are expected, from the lags of past releases.

Urumqi Customs publishes the region's year-to-date totals some weeks after the end of the period
(January and February together, so nothing is released for January alone).  The lag of a period
is the number of days from the end of its last month to the first publication, in the record, of a
reported cumulative figure ending there (year-to-date, first quarter, half year or calendar year).
Lags over ``MAX_LAG_DAYS`` are left out: they are figures the record found in later sources, not
the release; only the latest ``RECENT`` lags count (practice changes).  The next period's expected date is its end plus the median lag; the window runs from
the lower to the upper decile of the lags.  The record is **stale** when a date ("today") is more
than ``GRACE_DAYS`` after that expected date and the period is still missing.

A date is expected only for a series the record follows release by release: with fewer than
``MIN_RELEASES`` timely releases in the twelve months up to its latest (a port printed now and then),
or a latest release more than ``STOPPED_DAYS`` before the edition's date (``as_of``), no date is
given and :func:`no_date` says why (its facts, for a sentence the report generates).

"Today" is injectable: :func:`xjtrade.manifest.today` reads ``XJTRADE_TODAY`` (YYYY-MM-DD) before
the clock; pages compare with the edition's build date instead (reproducible), the build log with the
clock.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from xjtrade.manifest import TODAY_VARIABLE, today  # noqa: F401  (re-exported: "today" is injectable)
from xjtrade.manifest import today as today_date

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["next_release", "no_date", "today", "lags", "MAX_LAG_DAYS", "GRACE_DAYS", "RECENT", "TODAY_VARIABLE",
           "is_stale", "STOPPED_DAYS"]

MAX_LAG_DAYS = 90
GRACE_DAYS = 7
MIN_RELEASES = 3          # fewer timely releases than this in the year up to the latest: no expected date
RECENT = 24               # the lags of the latest releases only (about two years): practice changes
STOPPED_DAYS = 365        # a latest release more than this before the edition's date: no longer followed


def _month_end(period) -> dt.date:
    return period.to_timestamp(how="end").date()


def _period_words(end) -> str:
    if end.month == 12:
        return f"the year {end.year}"
    if end.month == 1:
        return f"January {end.year}"
    return f"January-{end.strftime('%B')} {end.year}"


def lags(figures: pd.DataFrame, entity: str = "Xinjiang", flow: str = "total", partner: str = "World") -> pd.DataFrame:
    """One row per period end of the series' cumulative reported figures: period end (monthly Period),
    first publication date, lag in days (over `MAX_LAG_DAYS` kept but flagged ``used`` False)."""
    import pandas as pd

    f = figures
    keep = ((f["entity"] == entity) & (f["flow"] == flow) & (f["partner"] == partner) & (f["origin"] == "reported")
            & (f["product"] == "all") & (f["segment"] == "all") & (f["indicator"] == "trade value")
            & f["period_start"].astype(str).str.endswith("-01") & (f["published"].astype(str) != ""))
    s = f.loc[keep, ["period_end", "published"]].copy()
    if s.empty:
        return pd.DataFrame(columns=["end", "published", "lag", "used"])
    s["end"] = [pd.Period(str(e), freq="M") for e in s["period_end"]]
    s["published"] = pd.to_datetime(s["published"].astype(str))
    first = s.groupby("end", as_index=False)["published"].min().sort_values("end")
    first["lag"] = [(p.date() - _month_end(e)).days for e, p in zip(first["end"], first["published"])]
    first["used"] = (first["lag"] >= 0) & (first["lag"] <= MAX_LAG_DAYS)
    first["published"] = first["published"].dt.date.astype(str)
    return first.reset_index(drop=True)


def no_date(figures: pd.DataFrame, as_of: dt.date | str | None = None, entity: str = "Xinjiang",
            flow: str = "total", partner: str = "World") -> dict | None:
    """Why no release date can be expected for the series (None when one can): ``releases`` (periods
    whose first release is in the record), ``timely`` (of those, published within ``MAX_LAG_DAYS``),
    ``recent`` (timely releases of periods ending in the twelve months up to the latest),
    ``latest_period`` / ``latest_published`` (None without a release), ``as_of`` and the reasons that
    apply: ``few`` (fewer than ``MIN_RELEASES`` recent releases: the record does not follow the series
    release by release), ``stopped`` (the latest published more than ``STOPPED_DAYS`` before `as_of`)."""
    lg = lags(figures, entity, flow, partner)
    last = lg["end"].max() if len(lg) else None
    recent = int((lg["used"] & (lg["end"] > last - 12)).sum()) if last is not None else 0
    published = str(lg.loc[lg["end"] == last, "published"].iloc[0]) if last is not None else None
    day = None if as_of is None else as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of)[:10])
    reasons = []
    if recent < MIN_RELEASES:
        reasons.append("few")
    if published is not None and day is not None and (day - dt.date.fromisoformat(published)).days > STOPPED_DAYS:
        reasons.append("stopped")
    if not reasons:
        return None
    return {"reasons": reasons, "releases": int(len(lg)), "timely": int(lg["used"].sum()) if len(lg) else 0,
            "recent": recent, "latest_period": _period_words(last) if last is not None else None,
            "latest_published": published, "as_of": str(day) if day is not None else None,
            "min_releases": MIN_RELEASES, "max_lag_days": MAX_LAG_DAYS}


def next_release(figures: pd.DataFrame, today: dt.date | str | None = None, entity: str = "Xinjiang",
                 flow: str = "total", partner: str = "World", as_of: dt.date | str | None = None) -> dict | None:
    """The expected window of the series' next release (None when :func:`no_date` gives a reason: fewer
    than ``MIN_RELEASES`` timely releases in the year up to the latest, or, with `as_of`, a latest
    release more than a year before it): latest_period / latest_end / latest_published (the latest period in the record), period /
    end (the next one: the month after, or January-February after a December), expected, earliest,
    latest (dates), lag_median / lag_low / lag_high (days) and releases (lags used); with `today`, also
    ``today``, ``stale`` and ``days_late`` (days past the expected date)."""
    import numpy as np
    if no_date(figures, as_of, entity, flow, partner) is not None:
        return None
    lg = lags(figures, entity, flow, partner)
    used = lg[lg["used"]].tail(RECENT)
    last = lg["end"].max()
    nxt = last + 1
    if nxt.month == 1:          # January is published with February
        nxt = nxt + 1
    d = used["lag"].to_numpy(float)
    med, lo, hi = (int(round(v)) for v in (np.median(d), np.quantile(d, 0.1), np.quantile(d, 0.9)))
    end = _month_end(nxt)
    out = {"latest_period": _period_words(last), "latest_end": str(last),
           "latest_published": str(lg.loc[lg["end"] == last, "published"].iloc[0]),
           "period": _period_words(nxt), "end": str(nxt),
           "expected": str(end + dt.timedelta(days=med)), "earliest": str(end + dt.timedelta(days=lo)),
           "latest": str(end + dt.timedelta(days=hi)), "lag_median": med, "lag_low": lo, "lag_high": hi,
           "releases": int(len(used))}
    if today is not None:
        out.update(is_stale(out, today))
    return out


def is_stale(window: dict, today: dt.date | str) -> dict:
    """{"today", "stale", "days_late"} of an expected window at `today`: stale when today is more than
    ``GRACE_DAYS`` after the expected date."""
    t = today if isinstance(today, dt.date) else dt.date.fromisoformat(str(today)[:10])
    late = (t - dt.date.fromisoformat(window["expected"])).days
    return {"today": str(t), "stale": late > GRACE_DAYS, "days_late": max(late, 0)}


def stale_text(cal: dict, today=None) -> str:
    """The stale-record warning for a release window (a dict of :class:`ReleaseWindow`'s fields), or ""
    when `today` (default: :func:`xjtrade.manifest.today`) is not more than GRACE_DAYS past its expected
    date.  Light (no pandas, no pydantic): the build log calls it after every build.  The dates only;
    the build date is the manifest's, so no count of days is computed for the page."""
    t = today_date(str(today) if today is not None else None)
    st = is_stale({"expected": cal["expected"]}, t)
    if not st["stale"]:
        return ""
    return (f"The record may be out of date: the figures for {cal['period']} were expected around "
            f"{cal['expected']}, more than {GRACE_DAYS} days before {st['today']}; the latest period in the "
            f"record is {cal['latest_period']}, published {cal['latest_published']}.")
