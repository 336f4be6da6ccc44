"""Benchmark of the latent monthly model (xjtrade.stats.latent): fit time and backtest cost.

Run from the project root:

    .venv/bin/python benchmarks/latent.py [--runs 5] [--refits 30] [--compare SEEDS]

On a simulated series of the size of the real one (15 years = 180 months, about 150
reported windows: opening blocks, year-to-date totals, single months, quarters, halves,
years), it prints, side by side:

  fit       one `fit_latent` (median of --runs)
  paths     2000 joint paths to 12 months past the last report (median of --runs)
  refits    --refits fits at expanding forecast origins, as in a backtest (the reports
            ending by each origin), total and per fit, and the ratio to one full fit

With --compare SEEDS it also runs the comparison of scales behind the choice of the log
model (module docstring): "log" (the model), "level" and "scaled" (rejected), each with
trend "llt" and "smooth", on SEEDS simulated 10-year samples; it prints coverage of the
true monthly values and of the true calendar-year totals that were not reported, in
sample and in the forecast part, the median relative width of the 95 % band, the share
of 95 % lower bounds above zero, and the fit time.

The dense algebra works on many small matrices, where a multi-threaded BLAS only adds
overhead (and slows down badly on a busy machine); OPENBLAS_NUM_THREADS etc. default to 1
here unless already set.  Timings are printed, never asserted.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from xjtrade.stats import latent  # noqa: E402
from xjtrade.stats.latent_sim import report, simulate_monthly  # noqa: E402


def big_case(seed: int = 0):
    truth = simulate_monthly(15, seed=seed)
    years = sorted({p.year for p in truth.index})
    obs = report(truth, seed=seed, total_only_years=(years[3], years[7]), p_ytd=0.75,
                 p_single=0.25, p_december=0.5, p_quarter=0.3, p_h2=0.3, cut=9)
    return truth, obs


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def timed2(fn):
    """(wall seconds, CPU seconds of this process, result)."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def speed(runs: int, refits: int) -> None:
    truth, obs = big_case()
    n_months = (max(obs.end) - min(obs.start)).n + 1
    print(f"simulated series: {n_months} months, {len(obs)} reports "
          f"({', '.join(f'{k} {v}' for k, v in obs.kind.value_counts().items())}); "
          f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    fits, fit_cpu, draws, draw_cpu = [], [], [], []
    for _ in range(runs):
        w, c, fit = timed2(lambda: latent.fit_latent(obs))
        fits.append(w)
        fit_cpu.append(c)
        w, c, _ = timed2(lambda: fit.forecast(fit.last + 12))
        draws.append(w)
        draw_cpu.append(c)
    one, one_cpu = statistics.median(fits), statistics.median(fit_cpu)
    print("            wall    CPU   (medians; wall > CPU when the machine is shared)")
    print(f"  fit      {one:6.2f} s {one_cpu:5.2f} s  one fit_latent, {runs} runs "
          f"(wall min {min(fits):.2f}, max {max(fits):.2f}; {fit.rounds} estimation rounds)")
    print(f"  paths    {statistics.median(draws):6.2f} s {statistics.median(draw_cpu):5.2f} s  "
          "2000 joint paths to 12 months past the last report")
    ends = sorted(set(obs.end))
    origins = ends[-refits:]

    def backtest():
        for origin in origins:
            latent.fit_latent(obs[obs.end <= origin])

    w, c, _ = timed2(backtest)
    print(f"  refits   {w:6.2f} s {c:5.2f} s  {len(origins)} fits at expanding origins "
          f"{origins[0]}..{origins[-1]}: {w / len(origins):.2f} s wall per fit, "
          f"{w / one:.1f} x (CPU {c / one_cpu:.1f} x) one full fit")


def compare(n_seeds: int) -> None:
    rows = []
    configs = [(s, t) for s in ("log", "scaled", "level") for t in ("llt", "smooth")]
    for seed in range(n_seeds):
        truth = simulate_monthly(10, seed=seed)
        years = sorted({p.year for p in truth.index})
        obs = report(truth, seed=seed, total_only_years=(years[2], years[5]))
        reported = set(zip(obs.start, obs.end))
        single = {a for a, b in reported if a == b}
        for scale, trend in configs:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t, fit = timed(lambda: latent._fit(obs, scale=scale, trend=trend, n_paths=1000))
                    paths = fit.paths(truth.index[-1])
            except ValueError as exc:
                rows.append(dict(scale=scale, trend=trend, what="failed", seconds=np.nan, note=str(exc)))
                continue
            rows.append(dict(scale=scale, trend=trend, what="fit", seconds=t))
            P = paths.to_numpy()
            tv = truth.reindex(paths.columns).to_numpy()
            lo95, lo80, hi80, hi95 = np.quantile(P, [0.025, 0.1, 0.9, 0.975], axis=0)
            for i, month in enumerate(paths.columns):
                if month in single:
                    continue
                rows.append(dict(scale=scale, trend=trend, what="month",
                                 part="forecast" if month > fit.last else "in sample",
                                 c80=lo80[i] <= tv[i] <= hi80[i], c95=lo95[i] <= tv[i] <= hi95[i],
                                 width=(hi95[i] - lo95[i]) / tv[i], positive=lo95[i] > 0))
            for year in years:
                a, b = pd.Period(f"{year}-01", "M"), pd.Period(f"{year}-12", "M")
                if (a, b) in reported:
                    continue
                total = P[:, (paths.columns >= a) & (paths.columns <= b)].sum(axis=1)
                q = np.quantile(total, [0.025, 0.1, 0.9, 0.975])
                true_total = truth[a:b].sum()
                rows.append(dict(scale=scale, trend=trend, what="year",
                                 part="forecast" if b > fit.last else "in sample",
                                 c80=q[1] <= true_total <= q[2], c95=q[0] <= true_total <= q[3],
                                 width=(q[3] - q[0]) / true_total, positive=q[0] > 0))
        print(f"  seed {seed} done", file=sys.stderr)
    d = pd.DataFrame(rows)
    cov = d[d.what.isin(["month", "year"])].copy()
    for col, order in (("what", ["month", "year"]), ("part", ["in sample", "forecast"]),
                       ("scale", ["log", "scaled", "level"]), ("trend", ["llt", "smooth"])):
        cov[col] = pd.Categorical(cov[col], categories=order, ordered=True)
    table = cov.groupby(["what", "part", "scale", "trend"], observed=True).agg(
        n=("c80", "size"), cover80=("c80", "mean"), cover95=("c95", "mean"),
        width95=("width", "median"), lo95_positive=("positive", "mean"))
    print(f"coverage on {n_seeds} simulated samples (10 years; months reported singly left out;"
          " years whose total was reported left out)")
    print(table.round(3).to_string())
    fits = d[d.what == "fit"].groupby(["scale", "trend"]).seconds.median()
    failed = d[d.what == "failed"].groupby(["scale", "trend"]).size()
    print("median fit time (s):", ", ".join(f"{s}/{t} {v:.2f}" for (s, t), v in fits.items()))
    if len(failed):
        print("failed fits:", failed.to_dict())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--refits", type=int, default=30)
    parser.add_argument("--compare", type=int, default=0, metavar="SEEDS")
    args = parser.parse_args()
    speed(args.runs, args.refits)
    if args.compare:
        compare(args.compare)


if __name__ == "__main__":
    main()
