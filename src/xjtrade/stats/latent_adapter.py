"""The latent monthly model as a candidate of the pseudo-real-time evaluation and the outlook.

:func:`latent_paths` turns one series' evidence (annual and year-to-date totals, the reported
windows of at most 12 months) into the observations of :func:`xjtrade.stats.latent.fit_latent`,
fits it and returns paths with the interface of :class:`xjtrade.stats.paths.Paths` that the
evaluation reads (``ytd_draws(year, month)``).  Only the years from ``FIRST_YEAR`` on are used:
the gap-free era of the series (the years before have long gaps and add fitting time, not
evidence about the coming months).  The variances are estimated by maximum likelihood at
every vintage (0.1-0.5 s each on the default series); ``params`` can fix them instead (a warm
start from an earlier fit, about ten times faster), which the evaluation does not need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FIRST_YEAR", "observations", "LatentPaths", "latent_paths", "latent_fit"]

FIRST_YEAR = 2011


def observations(ev, first_year: int = FIRST_YEAR) -> pd.DataFrame:
    """start, end, value, id of every annual and year-to-date total from `first_year` on."""
    rows = [{"start": f"{y}-01", "end": f"{y}-12", "value": v, "id": ev.annual_ids.get(y, f"year {y}")}
            for y, v in sorted(ev.annual.items()) if y >= first_year]
    rows += [{"start": f"{y}-01", "end": f"{y}-{m:02d}", "value": v, "id": ev.ytd_ids.get((y, m), f"ytd {y}-{m}")}
             for (y, m), v in sorted(ev.ytd.items()) if y >= first_year]
    if not rows:
        raise ValueError(f"no annual or year-to-date figure from {first_year} on")
    out = pd.DataFrame(rows)
    # one figure may stand for several windows only by mistake: keep ids unique
    out["id"] = [f"{i}#{k}" if d else i for k, (i, d) in enumerate(zip(out["id"], out["id"].duplicated(keep=False)))]
    return out


@dataclass
class LatentPaths:
    """Simulated months (n, months) from ``first`` on: what the evaluation reads of a Paths."""

    first: pd.Period
    draws: np.ndarray
    params: dict
    model: str = "latent"

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.first, periods=self.draws.shape[1], freq="M")

    def ytd_draws(self, year: int, month: int) -> np.ndarray:
        idx = self.months
        cols = np.flatnonzero((idx.year == year) & (idx.month <= month))
        if len(cols) != month:
            raise KeyError(f"{year}-{month:02d} is outside the simulated months")
        return self.draws[:, cols].sum(axis=1)

    def annual_draws(self, year: int) -> np.ndarray:
        return self.ytd_draws(year, 12)


def latent_paths(ev, until: int, n: int, seed: int, params: dict | None = None,
                 first_year: int = FIRST_YEAR) -> LatentPaths:
    """Fit the latent model to the evidence and draw `n` monthly paths to December of `until`."""
    fit = latent_fit(ev, n, seed, params, first_year)
    X = fit.paths(until=f"{until}-12", n_paths=n, seed=seed % (2**32))
    return LatentPaths(first=fit.first, draws=X.to_numpy(), params=dict(fit.params))


def latent_fit(ev, n: int = 2000, seed: int = 0, params: dict | None = None, first_year: int = FIRST_YEAR):
    """The latent model fitted to the evidence (a :class:`xjtrade.stats.latent.LatentFit`)."""
    from xjtrade.stats.latent import fit_latent

    return fit_latent(observations(ev, first_year), first=f"{first_year}-01", params=params, n_paths=n,
                      seed=seed % (2**32))
