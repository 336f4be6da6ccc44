"""The facts behind the methods chapter's statements on the models, the evaluation, the choice and
the intervals, computed in the run from this edition's evaluation (the forecast notebook saves
them in the results: :class:`~xjtrade.report.results.EvaluationFacts`, and the model table
:func:`model_rows`).  The methods chapter's generated sections format them and say nothing else,
so an edition with data to the end of 2022 states what its own evaluation found.
"""

from __future__ import annotations

import math

import pandas as pd

from xjtrade.data.estimates import evidence
from xjtrade.report.results import (BucketFacts, ChoiceFacts, CoverageFacts, EvaluationFacts, ModelRow, Outcome,
                                    ScoreFacts)
from xjtrade.stats import calibration as cal
from xjtrade.stats import pseudo_real_time as prt
from xjtrade.stats.registry import MODELS, model_label

SIGNIFICANCE = 0.05   # coverage is called short of nominal when so few hits are this unlikely


def model_rows() -> list[ModelRow]:
    """The forecasting models of the registry (the methods chapter's model table)."""
    return [ModelRow(model=s.name, label=s.label, description=s.description, use=s.use, min_years=s.min_years)
            for s in MODELS.values()]


def _score(row) -> ScoreFacts:
    return ScoreFacts(model=str(row["model"]), label=model_label(str(row["model"])), n=int(row["n"]),
                      mase=float(row["MASE"]), coverage80=float(row["coverage80"]),
                      coverage95=float(row["coverage95"]))


def bucket_facts(frame: pd.DataFrame) -> list[BucketFacts]:
    """The best model of each use and horizon (lowest MASE), and within the year the best of the
    models that ignore the year-to-date figures."""
    out = []
    bounds = {name: (lo, hi) for lo, hi, name in prt.HORIZON_BUCKETS}
    s = prt.scores(frame)
    for (use, bucket), g in s.groupby(["use", "bucket"], sort=False):
        g = g.sort_values("MASE")
        annual_only = g[g["model"].str.endswith("_annual")] if use == "within year" else g.iloc[0:0]
        out.append(BucketFacts(use=use, bucket=bucket, months_from=bounds[bucket][0], months_to=bounds[bucket][1],
                               n=int(g["n"].max()), best=_score(g.iloc[0]),
                               best_annual_only=_score(annual_only.iloc[0]) if len(annual_only) else None))
    return out


def choice_facts(choices: dict, min_origins: int) -> list[ChoiceFacts]:
    out = []
    for use, c in choices.items():
        default = c.n < min_origins or c.table is None or c.table.empty
        out.append(ChoiceFacts(use=use, model=c.model, label=model_label(c.model), scored=int(c.n),
                               required=min_origins, default_used=default,
                               scores=[] if default else [_score(r) for r in c.table.to_dict("records")]))
    return out


def below_nominal(hits: int, n: int, level: float) -> bool:
    """Whether `hits` of `n` outcomes inside a `level` interval is too few to be chance (one-sided
    binomial test at SIGNIFICANCE)."""
    if n == 0:
        return False
    from scipy.stats import binom
    return bool(binom.cdf(hits, n, level) < SIGNIFICANCE)


def coverage_facts(track: pd.DataFrame) -> list[CoverageFacts]:
    rows = []
    for name, g in [("all", track), *track.groupby("use")] if len(track) else []:
        raw = "in80_raw" in g
        rows.append(CoverageFacts(
            forecasts=name, n=len(g), empirical80=100 * float(g["in80"].mean()),
            empirical95=100 * float(g["in95"].mean()),
            uncalibrated80=100 * float(g["in80_raw"].mean()) if raw else None,
            uncalibrated95=100 * float(g["in95_raw"].mean()) if raw else None,
            below_nominal=below_nominal(int(g["in80"].sum()), len(g), 0.8)))
    return rows


def outcomes(ctx, track: pd.DataFrame) -> list[Outcome]:
    """The annual totals the years-ahead track record was scored on, with their growth on the year
    before by the growth chapter's rule: as reported with the year's figure, else from the values."""
    ahead = track[track["use"] == "years ahead"] if len(track) else track
    if not len(ahead):
        return []
    p = ctx.params
    annual = evidence(ctx.figures, p.entity, p.flow, p.partner, p.currency).annual
    reported = ctx.series("year").dropna(subset=["yoy_pct"]).set_index("year")["yoy_pct"]
    out = []
    for year, value in ahead.groupby("year")["actual"].first().items():
        prev = annual.get(int(year) - 1)
        growth = (float(reported.loc[year]) if year in reported.index else
                  (float(value) / prev - 1) * 100 if prev else None)
        out.append(Outcome(year=int(year), value=float(value), growth_pct=growth))
    return out


def evaluation_facts(ctx, o: dict) -> EvaluationFacts:
    """The facts of this edition's evaluation (`o`: the result of :func:`xjtrade.report.outlook.outlook`)."""
    frame, track = o["frame"], o["track"]
    vint = sorted(frame["vintage"].unique()) if len(frame) else []
    ahead = track[track["use"] == "years ahead"] if len(track) else track
    return check_finite(EvaluationFacts(
        vintages=len(vint), first_vintage=vint[0] if vint else None, last_vintage=vint[-1] if vint else None,
        forecasts=int(len(frame)), buckets=bucket_facts(frame) if len(frame) else [],
        choices=choice_facts(o["choices"], ctx.params.min_origins), years_ahead_forecasts=int(len(ahead)),
        outcomes=outcomes(ctx, track), coverage=coverage_facts(track), min_origins=ctx.params.min_origins,
        min_past=cal.MIN_PAST, k_max=cal.K_MAX, z80=cal.Z80))


def check_finite(facts: EvaluationFacts) -> EvaluationFacts:
    """Refuse NaN in the facts (a page would print 'nan')."""
    def walk(v, where):
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"evaluation facts: {where} is not a number")
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{where}.{k}")
        if isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{where}[{i}]")
    walk(facts.model_dump(), "facts")
    return facts
