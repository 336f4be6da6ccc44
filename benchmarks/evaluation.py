"""Time the pseudo-real-time evaluation of the default series (must stay within 2 minutes on 2 cores).

    .venv/bin/python benchmarks/evaluation.py [--no-cache]

Prints the seconds for each stage: cleaning the vintages (cold: no cache), reading them back
(warm), and the forecasts of every model at every vintage; then the number of vintages, rows
the scores by horizon
and the track record's coverage before and after calibration.  Exits 1 when the cold total exceeds the budget.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 120.0


def main() -> int:
    from xjtrade.data.clean import clean
    from xjtrade.data.estimates import evidence
    from xjtrade.data.raw import load_raw
    from xjtrade.data import vintages
    from xjtrade.stats import pseudo_real_time as prt

    t0 = time.perf_counter()
    raw = load_raw(ROOT / "data" / "raw")
    final_figs = clean(vintages._main_subset(raw, "Xinjiang", "World")).figures
    final = evidence(final_figs)
    dates = vintages.release_dates(final_figs)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        vint = vintages.vintage_evidence(raw, dates, cache_dir=Path(tmp))
        t2 = time.perf_counter()
        vintages.vintage_evidence(raw, dates, cache_dir=Path(tmp))
        t3 = time.perf_counter()
    from xjtrade.stats.latent_adapter import latent_paths

    frame = prt.evaluate(vint, final, latent=latent_paths)
    frame.to_csv(ROOT / "benchmarks" / "evaluation-frame.csv", index=False, float_format="%.6g")
    t4 = time.perf_counter()
    cold = (t2 - t0) + (t4 - t3)
    print(f"load and final data  {t1 - t0:6.1f} s")
    print(f"vintages, cold       {t2 - t1:6.1f} s  ({len(dates)} release dates)")
    print(f"vintages, cached     {t3 - t2:6.1f} s")
    print(f"forecasts and scores {t4 - t3:6.1f} s  ({len(frame)} rows, {frame['vintage'].nunique()} vintages)")
    print(f"cold total           {cold:6.1f} s  (budget {BUDGET:.0f} s)")
    import pandas as pd
    pd.set_option("display.width", 200)
    print(prt.scores(frame).round(3).to_string(index=False))
    track = prt.track_record(frame)
    print("track record coverage (models' own intervals -> calibrated), 80 % / 95 %:")
    for use, g in [("all", track), *track.groupby("use")]:
        print(f"  {use:12s} n={len(g):3d}  {g.in80_raw.mean():.0%} / {g.in95_raw.mean():.0%}"
              f"  ->  {g.in80.mean():.0%} / {g.in95.mean():.0%}")
    return 0 if cold <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
