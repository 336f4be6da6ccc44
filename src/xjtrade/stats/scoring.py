"""Scores of the pseudo-real-time evaluation: by use, horizon, model and target year, pooled and by era.

Every score is computed from the tidy evaluation frame (:mod:`xjtrade.stats.pseudo_real_time`):

* ``MAPE``: the mean absolute error of the central forecast (the median), in % of the outcome;
* ``MASE`` / ``RMSSE``: log errors divided by the mean absolute one-year change of the annual totals
  known at the date (the naive annual forecast's typical error), absolute mean / root mean square;
* ``coverage80`` / ``coverage95``: the share of outcomes inside the 80 % and 95 % intervals;
* ``winkler80`` / ``winkler95``: the interval (Winkler) score on the log scale, in the same unit as
  MASE: the width of the interval plus 2/alpha times the distance by which the outcome falls outside
  it; lower is better, and it rewards narrow intervals only when they hold the outcome.

The horizon of a within-year forecast is the number of months known (:data:`KNOWN_BUCKETS`: no month,
1-3, 4-7, 8-11 months known); of a years-ahead forecast the months to the end of the target year
(:data:`HORIZON_BUCKETS`).  :func:`score_table` gives one tidy frame by (use, model, horizon, year)
with the years pooled (``year`` "all") and split into the eras before and from ``split_year``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xjtrade.stats.nowcast import KNOWN_BUCKETS, known_bucket

__all__ = ["HORIZON_BUCKETS", "KNOWN_BUCKETS", "bucket", "known_bucket", "scores", "score_table", "era",
           "SPLIT_YEAR", "SCORE_COLUMNS", "BENCHMARK_COLUMNS", "benchmark_comparison"]

HORIZON_BUCKETS = [(1, 3, "1-3 months"), (4, 6, "4-6 months"), (7, 11, "7-11 months"),
                   (12, 17, "12-17 months"), (18, 23, "18-23 months"), (24, 36, "24 months or more")]
SPLIT_YEAR = 2024       # the eras: target years before it (the design period of the choice rule) and from it
SCORE_COLUMNS = ["n", "years", "MAPE", "MASE", "RMSSE", "coverage80", "coverage95", "winkler80", "winkler95"]


def bucket(h: int) -> str:
    for lo, hi, name in HORIZON_BUCKETS:
        if lo <= h <= hi:
            return name
    return f"{h} months"


def era(year: int, split_year: int = SPLIT_YEAR) -> str:
    return f"2019-{split_year - 1}" if int(year) < split_year else f"{split_year}-latest"


def _summ(g: pd.DataFrame) -> pd.Series:
    q = g["scaled_error"].to_numpy(float)
    return pd.Series({"n": len(g), "years": int(g["year"].nunique()) if "year" in g else np.nan,
                      "MAPE": float(np.mean(np.abs(g["error"] / g["actual"])) * 100),
                      "MASE": float(np.nanmean(np.abs(q))) if np.isfinite(q).any() else np.nan,
                      "RMSSE": float(np.sqrt(np.nanmean(q**2))) if np.isfinite(q).any() else np.nan,
                      "coverage80": float(g["in80"].mean()), "coverage95": float(g["in95"].mean()),
                      "winkler80": float(g["winkler80"].mean()), "winkler95": float(g["winkler95"].mean())})


def _order(out: pd.DataFrame) -> pd.DataFrame:
    order = {b[2]: i for i, b in enumerate(HORIZON_BUCKETS)} | {b[2]: 10 + i for i, b in enumerate(KNOWN_BUCKETS)}
    keys: list[str] = []
    cols: list[str] = []
    if "use" in out:
        cols.append("use")
    if "bucket" in out:
        out = out.assign(_o=out["bucket"].map(order).fillna(99))
        cols.append("_o")
    if "MASE" in out:
        cols.append("MASE")
    out = out.sort_values(cols + keys, kind="stable") if cols else out
    return out.drop(columns=[c for c in ("_o",) if c in out]).reset_index(drop=True)


def scores(frame: pd.DataFrame, by=("use", "bucket", "model")) -> pd.DataFrame:
    """Accuracy by the columns `by` (default: use, horizon bucket and model); see the module."""
    by = list(by)
    if frame.empty:
        return pd.DataFrame(columns=[*by, *SCORE_COLUMNS])
    out = frame.groupby(by, sort=False).apply(_summ, include_groups=False).reset_index()
    out["n"] = out["n"].astype(int)
    return _order(out)


def _horizon(frame: pd.DataFrame) -> pd.Series:
    """The horizon class of each row: months known within the year, horizon bucket beyond."""
    within = frame["use"] == "within year"
    kb = frame["known_bucket"] if "known_bucket" in frame else frame["months_known"].map(known_bucket)
    return kb.where(within, frame["bucket"])


MID_YEAR = ("4-11 months known", ("4-7 months known", "8-11 months known"))   # a pooled class: 4-11 months


def score_table(frame: pd.DataFrame, targets=("current year", "next year"), split_year: int = SPLIT_YEAR,
                eras: bool = True, pooled: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> pd.DataFrame:
    """One tidy frame of scores by (use, model, bucket, year): each target year apart, every year
    pooled (``year`` = "all") and, with `eras`, the eras before and from `split_year` ("2019-2023",
    "2024-latest").  `bucket` is the months known within the year and the horizon beyond; only the
    rows of `targets` (annual totals by default: the next-release forecasts are a diagnostic)."""
    f = frame[frame["target"].isin(targets)] if targets else frame
    if f.empty:
        return pd.DataFrame(columns=["use", "model", "bucket", "year", *SCORE_COLUMNS])
    f = f.assign(bucket=_horizon(f))
    # classes pooled from others (`pooled`: (label, members) pairs), scored over their forecasts together
    f = pd.concat([f, *[f[f["bucket"].isin(members)].assign(bucket=label) for label, members in pooled]],
                  ignore_index=True)
    parts = [scores(f.assign(year_=f["year"].astype(int).astype(str)), by=("use", "model", "bucket", "year_"))]
    parts.append(scores(f.assign(year_="all"), by=("use", "model", "bucket", "year_")))
    if eras:
        parts.append(scores(f.assign(year_=f["year"].map(lambda y: era(y, split_year))),
                            by=("use", "model", "bucket", "year_")))
    out = pd.concat(parts, ignore_index=True).rename(columns={"year_": "year"})
    return _order(out)[["use", "model", "bucket", "year", *SCORE_COLUMNS]]


BENCHMARK_COLUMNS = ["by", "bucket", "n", "years", "winkler80", "winkler80_benchmark", "ratio80", "winkler95",
                     "winkler95_benchmark", "ratio95", "coverage80", "coverage80_benchmark"]


def benchmark_comparison(frame: pd.DataFrame, model: str, benchmark: str = "empirical_growth",
                         use: str = "years ahead", split_year: int = SPLIT_YEAR) -> pd.DataFrame:
    """The interval scores of `model` beside the benchmark's on the annual totals both forecast for `use`:
    one row per horizon bucket (``by`` = "horizon"), per era of target years ("era": before and from
    `split_year`), per target year ("target year") and pooled ("pooled", bucket "all"); n forecasts and
    their distinct target years, Winkler 80 % and 95 % of each, their ratio (below 1: the model's
    intervals score better), and the coverage of each."""
    f = frame[(frame["use"] == use) & frame["model"].isin([model, benchmark])
              & frame["target"].isin(["current year", "next year"])]
    if f.empty:
        return pd.DataFrame(columns=BENCHMARK_COLUMNS)
    key = ["vintage", "target"]
    both = f.groupby(key)["model"].nunique()
    f = f.set_index(key).loc[both[both == 2].index].reset_index()
    order = {b[2]: i for i, b in enumerate(HORIZON_BUCKETS)}
    groups = [("horizon", b, g) for b, g in sorted(f.groupby("bucket"), key=lambda bg: order.get(bg[0], 99))]
    if "year" in f:      # the eras and target years (a frame without years is scored by horizon only)
        years = f["year"].astype(int)
        eras = years.map(lambda y: era(y, split_year))
        groups += [("era", e, f[eras == e]) for e in sorted(eras.unique())]
        groups += [("target year", str(y), f[years == y]) for y in sorted(years.unique())]
    groups.append(("pooled", "all", f))
    rows = []
    for by, b, g in groups:
        a, z = g[g["model"] == model], g[g["model"] == benchmark]
        r = {"by": by, "bucket": b, "n": len(a), "years": int(a["year"].nunique()) if "year" in a else 0}
        for lv in (80, 95):
            r[f"winkler{lv}"] = float(a[f"winkler{lv}"].mean())
            r[f"winkler{lv}_benchmark"] = float(z[f"winkler{lv}"].mean())
            r[f"ratio{lv}"] = r[f"winkler{lv}"] / r[f"winkler{lv}_benchmark"]
        r["coverage80"], r["coverage80_benchmark"] = float(a["in80"].mean()), float(z["in80"].mean())
        rows.append(r)
    return pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)
