"""The choice rule: which model the outlook uses for each use, from the scores known at its date.

The rule is fixed in ``docs/forecast-rule.md`` (written and committed before the releases of 2024
on were evaluated); this module implements it, and the evaluation applies it at every release
date with what was known then (:func:`xjtrade.stats.pseudo_real_time.calibrate_all`), so the
track record is the rule's own.

* **Within the year** the nowcast is always the skill-weighted combination
  (:class:`xjtrade.stats.registry.SkillWeighted`: the year-to-date shares of the mean and of recent
  years, the shrunk growth and the latent model).  Its weights at a number of months known are
  equal until every member has at least ``MIN_SKILL_FORECASTS`` scored forecasts of the year's
  total at that many months known, about at least ``MIN_SKILL_YEARS`` distinct years; then they
  are halfway between equal weights and weights inverse to each member's mean squared log error
  (:func:`xjtrade.stats.nowcast.skill_weights`).  Members that cannot be fitted at a date are left
  out; if none can, the year-to-date share of the mean year is used.
* **Years ahead** the model with the lowest mean interval (Winkler) score of its 80 % intervals
  over the annual totals that every candidate forecast and whose outcome was published by the
  date, when there are at least ``min_origins`` such forecasts about at least ``MIN_YEARS``
  distinct years; otherwise the robust default, the equal-weight combination.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from xjtrade.stats import registry as reg
from xjtrade.stats.nowcast import MIN_SKILL_YEARS, known_bucket, skill_weights
from xjtrade.stats.scoring import scores

__all__ = ["Choice", "choose", "choose_all", "MIN_ORIGINS", "MIN_YEARS", "CRITERION", "within_weights"]

MIN_ORIGINS = 8            # scored forecasts of every candidate needed to choose a years-ahead model
MIN_YEARS = MIN_SKILL_YEARS   # ... about at least this many distinct outcome years
CRITERION = "winkler80"    # the years-ahead criterion: the mean interval score of the 80 % intervals


@dataclass
class Choice:
    use: str
    model: str
    reason: str
    n: int
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    weights: dict = field(default_factory=dict)     # the combination's members and weights (within the year)


def _known(frame: pd.DataFrame, use: str, as_of: str | None) -> pd.DataFrame:
    f = frame[frame["use"] == use]
    if as_of is not None:
        f = f[(f["actual_published"] != "") & (f["actual_published"] <= as_of) & (f["vintage"] <= as_of)]
    return f


def _within_fallback() -> reg.SkillWeighted:
    model = reg.FALLBACK[reg.WITHIN_YEAR]
    if not isinstance(model, reg.SkillWeighted):
        raise TypeError(f"the within-year fallback {model.name} is not a skill-weighted combination")
    return model


def within_weights(frame: pd.DataFrame, months_known: int, as_of: str | None = None,
                   model: reg.SkillWeighted | None = None) -> tuple[dict, str]:
    """The skill-weighted combination's weights at `months_known`, from the forecasts scored by `as_of`."""
    model = model if model is not None else _within_fallback()
    f = _known(frame, reg.WITHIN_YEAR, as_of)
    f = f[f["model"].isin(model.members)]
    rows = f[["model", "target", "known_bucket", "year", "log_error"]].to_dict("records") if len(f) else []
    return skill_weights(rows, model.members, known_bucket(months_known))


def _within(frame: pd.DataFrame, as_of: str | None, months_known: int | None) -> Choice:
    model = _within_fallback()
    if months_known is None or months_known == 0:
        return Choice(reg.WITHIN_YEAR, model.name, "the rule at every date; no month of the year is known yet", 0)
    weights, why = within_weights(frame, months_known, as_of, model)
    n = int(len(_known(frame, reg.WITHIN_YEAR, as_of).query("target == 'current year'")))
    return Choice(reg.WITHIN_YEAR, model.name, f"the rule at every date; {why}", n, weights=weights)


def _ahead(frame: pd.DataFrame, as_of: str | None, min_origins: int) -> Choice:
    use = reg.YEARS_AHEAD
    names = {m.name for m in reg.candidates(use)}
    f = _known(frame, use, as_of)
    f = f[f["model"].isin(names) & f["target"].isin(["current year", "next year"])]
    default = reg.DEFAULTS[use]
    if f.empty:
        return Choice(use, default, "the robust default: no years-ahead forecast could be scored yet", 0)
    key = ["vintage", "target"]
    counts = f.groupby("model").size()
    common = f.groupby(key)["model"].nunique()
    full = common[common == counts.index.size].index
    g = f.set_index(key).loc[full].reset_index() if len(full) else f.iloc[0:0]
    n, years = int(len(full)), int(g["year"].nunique()) if len(g) else 0
    if n < min_origins or years < MIN_YEARS:
        return Choice(use, default, f"the robust default: only {n} forecasts about {years} outcome years could "
                                    f"be scored for every model, and a choice needs at least {min_origins} about "
                                    f"{MIN_YEARS} years", n, scores(f, by=("model",)))
    tab = scores(g, by=("model",)).sort_values([CRITERION, "MASE"]).reset_index(drop=True)
    best = tab.iloc[0]
    return Choice(use, str(best["model"]), f"lowest interval score of its 80% intervals "
                                           f"({best[CRITERION]:.2f}) over {n} forecasts about {years} years scored "
                                           f"for every model", n, tab)


def choose(frame: pd.DataFrame, use: str, as_of: str | None = None, min_origins: int | None = None,
           months_known: int | None = None) -> Choice:
    """The model for `use` at `as_of` by the rule (see the module); `months_known` (the current
    year's months known at the date) sets the within-year combination's weights."""
    min_origins = MIN_ORIGINS if min_origins is None else min_origins
    if use == reg.WITHIN_YEAR:
        return _within(frame, as_of, months_known)
    return _ahead(frame, as_of, min_origins)


def choose_all(frame: pd.DataFrame, as_of: str | None = None, min_origins: int | None = None,
               months_known: int | None = None) -> dict:
    """{use: Choice} for both uses."""
    return {use: choose(frame, use, as_of, min_origins, months_known) for use in (reg.WITHIN_YEAR, reg.YEARS_AHEAD)}

