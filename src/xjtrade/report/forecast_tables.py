"""The forecast chapter's tables and charts, from the outlook's results and the evaluation frame.

Readers' names for models and columns; every number comes from the typed results
(:mod:`xjtrade.report.results`) or the tidy evaluation frame (:mod:`xjtrade.stats.pseudo_real_time`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xjtrade.report import ledger
from xjtrade.report.results import BenchmarkRow, CoverageRow, LedgerRow, OutlookResults, ScoreRow
from xjtrade.stats import pseudo_real_time as prt
from xjtrade.stats import registry as reg
from xjtrade.stats import scoring
from xjtrade.stats.nowcast import KNOWN_BUCKETS, known_bucket

__all__ = ["coverage_rows", "score_rows", "comparison_table", "year_table", "coverage_table", "benchmark_table",
           "benchmark_rows", "ledger_table", "weights_table", "outlook_table", "track_table", "estimates_chart",
           "outlook_chart", "track_chart", "label"]

COLUMN_WORDS = {"use": "used for", "bucket": "horizon", "n": "forecasts", "years": "outcome years",
                "MAPE": "MAPE, %", "coverage80": "coverage 80%", "coverage95": "coverage 95%",
                "winkler80": "Winkler 80%", "winkler95": "Winkler 95%"}


def label(model: str, use: str) -> str:
    """A model's reader name in a table of `use` ('naive, annual figures only' within the year)."""
    if model == prt.OUTLOOK:
        return "the outlook (the rule's choice at each date)"
    m = reg.MODELS.get(model)
    if m is None:
        return model
    if use == reg.WITHIN_YEAR and not m.serves(reg.WITHIN_YEAR):
        return f"{m.label}, annual figures only"
    return f"{m.label} (benchmark)" if m.benchmark else m.label


def coverage_rows(track: pd.DataFrame) -> list[CoverageRow]:
    """The track record's coverage of the annual totals by use and horizon class."""
    t = track[track["target"].isin(["current year", "next year"])] if len(track) else track
    if t.empty:
        return []
    t = t.assign(hclass=[known_bucket(int(m)) if u == reg.WITHIN_YEAR else scoring.bucket(int(h))
                         for u, m, h in zip(t["use"], t["months_known"], t["horizon"])])
    order = {b[2]: i for i, b in enumerate(KNOWN_BUCKETS)} | {b[2]: 10 + i for i, b in enumerate(scoring.HORIZON_BUCKETS)}
    out = []
    for (use, hc), g in sorted(t.groupby(["use", "hclass"]), key=lambda kv: (kv[0][0] != reg.WITHIN_YEAR,
                                                                              order.get(kv[0][1], 99))):
        out.append(CoverageRow(use=use, horizon=hc, n=int(len(g)), years=int(g["year"].nunique()),
                               empirical80=float(g["in80"].mean()), empirical95=float(g["in95"].mean()),
                               mape=float(np.mean(np.abs(g["error"] / g["actual"])) * 100)))
    return out


def score_rows(frame: pd.DataFrame, models: tuple[str, ...] = (prt.OUTLOOK, "empirical_growth")) -> list[ScoreRow]:
    """The evaluation's scores of the annual totals (stats.scoring.score_table) of `models` for the results:
    the outlook (the rule's choice at each date) and the interval benchmark."""
    t = scoring.score_table(frame[frame["model"].isin(models)], pooled=(scoring.MID_YEAR,))
    out = []
    for r in t.to_dict("records"):
        out.append(ScoreRow(use=r["use"], model=r["model"], label=label(r["model"], r["use"]), horizon=r["bucket"],
                            years=str(r["year"]), n=int(r["n"]), outcome_years=int(r["years"]),
                            **{k.lower() if k == "MAPE" else k: finite(r[k]) for k in
                               ("MAPE", "coverage80", "coverage95", "winkler80", "winkler95")}))
    return out


def finite(v):
    return float(v) if v is not None and np.isfinite(v) else None


def comparison_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Scores of the annual totals by use, horizon (months known within the year) and model, every year
    pooled, with readers' names."""
    s = scoring.score_table(frame, eras=False)
    s = s[s["year"] == "all"].drop(columns="year")
    s["model"] = [label(m, u) for m, u in zip(s["model"], s["use"])]
    s = s.drop(columns=["RMSSE"]).astype({"years": int})
    for c in ("coverage80", "coverage95"):
        s[c] = 100 * s[c]
    return s.rename(columns=COLUMN_WORDS).reset_index(drop=True)


def year_table(frame: pd.DataFrame, use: str = reg.WITHIN_YEAR, value: str = "MAPE",
               models: tuple[str, ...] | None = None) -> pd.DataFrame:
    """`value` (MAPE or coverage80) of each model by horizon and target year, with the years pooled and the
    eras (2019-2023, 2024-latest) beside: whether a method's error is stable from year to year."""
    s = scoring.score_table(frame)
    s = s[s["use"] == use]
    if models is None:
        models = tuple([prt.OUTLOOK] + [m.name for m in reg.candidates(use)]
                       + ([m.name for m in reg.REGISTRY if m.benchmark] if use == reg.YEARS_AHEAD else []))
    s = s[s["model"].isin(models)]
    if s.empty:
        return pd.DataFrame()
    years = sorted(y for y in s["year"].unique() if y.isdigit())
    eras = sorted(y for y in s["year"].unique() if "-" in y)
    order = {b[2]: i for i, b in enumerate(scoring.KNOWN_BUCKETS)} | {b[2]: 10 + i for i, b in
                                                                      enumerate(scoring.HORIZON_BUCKETS)}
    t = s.pivot_table(index=["bucket", "model"], columns="year", values=value, aggfunc="first")
    t = t[[c for c in [*years, *eras, "all"] if c in t.columns]]
    if value.startswith("coverage"):
        t = 100 * t
    t = t.reset_index()
    t["_o"] = t["bucket"].map(order)
    t["_m"] = t["model"].map({m: i for i, m in enumerate(models)})
    t = t.sort_values(["_o", "_m"]).drop(columns=["_o", "_m"])
    t["model"] = [label(m, use) for m in t["model"]]
    t.columns.name = None
    return t.rename(columns={"bucket": "months known" if use == reg.WITHIN_YEAR else "horizon"}).reset_index(drop=True)


def coverage_table(track: pd.DataFrame) -> pd.DataFrame:
    """The track record's empirical coverage beside the nominal, by use and horizon, then pooled."""
    t = track[track["target"].isin(["current year", "next year"])] if len(track) else track
    rows = []
    for c in coverage_rows(t):
        if c.empirical80 is None or c.empirical95 is None:    # (coverage_rows always measures both)
            raise ValueError(f"coverage of {c.use} at {c.horizon}: no empirical coverage")
        g = t[(t["use"] == c.use)]
        g = g[[(scoring.known_bucket(int(m)) if c.use == reg.WITHIN_YEAR else scoring.bucket(int(h))) == c.horizon
               for m, h in zip(g["months_known"], g["horizon"])]]
        rows.append({"forecasts": c.use, "horizon": c.horizon, "n": c.n, "outcome years": c.years,
                     "nominal 80%": 80.0, "empirical 80%": 100 * c.empirical80, "nominal 95%": 95.0,
                     "empirical 95%": 100 * c.empirical95,
                     "uncalibrated 80%": 100 * g["in80_raw"].mean(), "uncalibrated 95%": 100 * g["in95_raw"].mean()})
    for use, g in [("all", t), *t.groupby("use")] if len(t) else []:
        rows.append({"forecasts": use, "horizon": "all", "n": len(g), "outcome years": int(g["year"].nunique()),
                     "nominal 80%": 80.0, "empirical 80%": 100 * g["in80"].mean(), "nominal 95%": 95.0,
                     "empirical 95%": 100 * g["in95"].mean(), "uncalibrated 80%": 100 * g["in80_raw"].mean(),
                     "uncalibrated 95%": 100 * g["in95_raw"].mean()})
    return pd.DataFrame(rows)


def benchmark_rows(frame: pd.DataFrame) -> list[BenchmarkRow]:
    """The years-ahead outlook's interval scores beside the naive-with-empirical-growth benchmark's, by
    horizon, era and target year and pooled, for the results."""
    b = scoring.benchmark_comparison(frame, prt.OUTLOOK)
    return [BenchmarkRow(by=r["by"], group=str(r["bucket"]), n=int(r["n"]), years=int(r["years"]),
                         **{k: finite(r[k]) for k in scoring.BENCHMARK_COLUMNS[4:]})
            for r in b.to_dict("records")]


BENCHMARK_BY = {"horizon": "horizon", "era": "era", "target year": "target year", "pooled": "all"}


def benchmark_table(rows: list[BenchmarkRow]) -> pd.DataFrame:
    """The benchmark comparison (the results' rows) with readers' names; coverage in %."""
    out = [{"scored by": BENCHMARK_BY[r.by], "group": r.group, "forecasts": r.n, "outcome years": r.years,
            "outlook Winkler 80%": r.winkler80, "benchmark Winkler 80%": r.winkler80_benchmark,
            "ratio 80%": r.ratio80, "outlook Winkler 95%": r.winkler95,
            "benchmark Winkler 95%": r.winkler95_benchmark, "ratio 95%": r.ratio95,
            "outlook coverage 80%": None if r.coverage80 is None else 100 * r.coverage80,
            "benchmark coverage 80%": None if r.coverage80_benchmark is None else 100 * r.coverage80_benchmark}
           for r in rows]
    return pd.DataFrame(out, columns=["scored by", "group", "forecasts", "outcome years", "outlook Winkler 80%",
                                      "benchmark Winkler 80%", "ratio 80%", "outlook Winkler 95%",
                                      "benchmark Winkler 95%", "ratio 95%", "outlook coverage 80%",
                                      "benchmark coverage 80%"])


def ledger_table(rows: list[LedgerRow]) -> pd.DataFrame:
    """The ledger's real forecasts with their outcome where published."""
    out = [{"vintage": r.vintage, "kind": r.kind, "code version": r.code_version[:10], "year": r.target_year,
            "central": f"{r.central}", "forecast": r.point, "lower 80%": r.lo80, "upper 80%": r.hi80,
            "lower 95%": r.lo95, "upper 95%": r.hi95, "actual": r.actual, "error %": r.error_pct,
            "in 80%": None if r.in80 is None else ("yes" if r.in80 else "no"),
            "in 95%": None if r.in95 is None else ("yes" if r.in95 else "no"),
            "method": ledger.method_label(r.method)} for r in rows]     # the ledger's CSV keeps the ids
    return pd.DataFrame(out, columns=["vintage", "kind", "code version", "year", "central", "forecast", "lower 80%",
                                      "upper 80%", "lower 95%", "upper 95%", "actual", "error %", "in 80%", "in 95%",
                                      "method"])


def weights_table(res: OutlookResults) -> pd.DataFrame:
    return pd.DataFrame([{"model": label(m, reg.WITHIN_YEAR), "weight %": 100 * w}
                         for m, w in res.within_weights.items()])


def track_table(track: pd.DataFrame) -> pd.DataFrame:
    t = track[["vintage", "target", "period", "horizon", "within_model", "ahead_model", "point", "lo80", "hi80",
               "lo95", "hi95", "actual", "error", "use"]].copy()
    t["model"] = [reg.model_label(w if u == reg.WITHIN_YEAR else a) for w, a, u in
                  zip(t["within_model"], t["ahead_model"], t["use"])]
    t["error %"] = 100 * t["error"] / t["actual"]
    t = t[["vintage", "target", "period", "horizon", "model", "point", "lo80", "hi80", "lo95", "hi95", "actual",
           "error %"]]
    return t.rename(columns={"horizon": "months ahead", "point": "median", "lo80": "lower 80%", "hi80": "upper 80%",
                             "lo95": "lower 95%", "hi95": "upper 95%"})


def outlook_table(res: OutlookResults) -> pd.DataFrame:
    rows = [{"target": f"total {a.period}", "median": a.point, "mean": a.mean, "lower 80%": a.lo80,
             "upper 80%": a.hi80, "lower 95%": a.lo95, "upper 95%": a.hi95} for a in res.annual]
    rows += [{"target": f"year to date {t.period}", "median": t.point, "mean": t.mean, "lower 80%": t.lo80,
              "upper 80%": t.hi80, "lower 95%": t.lo95, "upper 95%": t.hi95} for t in res.ytd if t.month < 12]
    return pd.DataFrame(rows)


# --- figures ---------------------------------------------------------------------------------------

def estimates_chart(est: pd.DataFrame, currency: str, title: str, source: str):
    import matplotlib.pyplot as plt

    from xjtrade.report import figures as xf

    fig, ax = plt.subplots()
    ax.plot(est["year"], est["value"], color=xf.GREY, lw=1, zorder=1)
    styles = {"reported": ("o", xf.PALETTE[0]), "derived": ("s", xf.PALETTE[2]), "estimated": ("D", xf.PALETTE[3])}
    for origin, (marker, colour) in styles.items():
        g = est[est["origin"] == origin]
        if g.empty:
            continue
        if origin == "estimated":
            ax.errorbar(g["year"], g["value"], yerr=[g["value"] - g["lo95"], g["hi95"] - g["value"]], fmt="none",
                        ecolor=colour, elinewidth=1, capsize=3, alpha=0.6)
            ax.errorbar(g["year"], g["value"], yerr=[g["value"] - g["lo80"], g["hi80"] - g["value"]], fmt="none",
                        ecolor=colour, elinewidth=3, alpha=0.8)
        ax.scatter(g["year"], g["value"], marker=marker, color=colour, zorder=3, label=origin)
    ax.legend(frameon=False, fontsize=8)
    xf.integer_years(ax)
    xf.thousands(ax)
    from xjtrade.data.currency import CURRENCIES

    return xf.finish(fig, ax, title, source, ylabel=CURRENCIES[currency].unit)


def outlook_chart(est: pd.DataFrame, annual: pd.DataFrame, currency: str, title: str, source: str):
    import matplotlib.pyplot as plt

    from xjtrade.data.currency import CURRENCIES
    from xjtrade.report import figures as xf

    fig, ax = plt.subplots()
    ax.plot(est["year"], est["value"], "o-", color=xf.HISTORY, label="reported, derived or estimated")
    ax.fill_between(annual["year"], annual["lo95"], annual["hi95"], color=xf.OUTLOOK, alpha=xf.BAND_ALPHA[95],
                    label="95%")
    ax.fill_between(annual["year"], annual["lo80"], annual["hi80"], color=xf.OUTLOOK, alpha=xf.BAND_ALPHA[80],
                    label="80%")
    ax.plot(annual["year"], annual["point"], "o--", color=xf.OUTLOOK, label="outlook (median)")
    # the axis is scaled to the data and the 80 % bands; a 95 % band beyond it is cut, its top written
    top = xf.HEADROOM * max([float(v) for v in est["value"]] + [float(v) for v in annual["hi80"]] + [0.0])
    if top > 0:
        xf.note_cut_bands(ax, [(int(y), 95, float(hi)) for y, hi in zip(annual["year"], annual["hi95"])
                               if hi > top], top)
        ax.set_ylim(0, top)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    xf.integer_years(ax)
    xf.thousands(ax)
    return xf.finish(fig, ax, title, source, ylabel=CURRENCIES[currency].unit)


def track_chart(track: pd.DataFrame, currency: str, title: str, source: str):
    import matplotlib.pyplot as plt

    from xjtrade.data.currency import CURRENCIES
    from xjtrade.report import figures as xf

    t = track[track["target"] != "next release"].copy()
    t["date"] = pd.to_datetime(t["vintage"])
    fig, ax = plt.subplots()
    for i, (period, g) in enumerate(t.groupby("period")):
        c = xf.PALETTE[i % len(xf.PALETTE)]
        ax.vlines(g["date"], g["lo95"], g["hi95"], color=c, alpha=0.35, lw=1)
        ax.vlines(g["date"], g["lo80"], g["hi80"], color=c, alpha=0.7, lw=3)
        ax.scatter(g["date"], g["point"], color=c, s=12, zorder=3, label=f"total {period}")
        ax.axhline(g["actual"].iloc[0], color=c, ls=":", lw=1)
    ax.legend(frameon=False, fontsize=7, ncol=2, loc="upper left")
    import matplotlib.dates as mdates
    ax.xaxis.set_major_locator(mdates.YearLocator())         # one label a year: dates never collide
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    xf.thousands(ax)
    return xf.finish(fig, ax, title, source, ylabel=CURRENCIES[currency].unit, xlabel="date of the forecast")
