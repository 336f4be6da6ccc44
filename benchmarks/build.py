"""Benchmark of `xjtrade build`: cold build, no-op rebuild, one-parameter change, and the floor.

Run from the project root (or `make benchmark`):

    .venv/bin/python benchmarks/build.py [--runs 3] [--jobs 2] [--keep]

Everything happens in temporary copies of the project's inputs (data/raw, notebooks, params,
_quarto.yml, methods.qmd); nothing of the project itself (its processed data, its cache, its reports)
is read after the copy, or written.  Measured, as medians over --runs runs:

  cold      `xjtrade build --force` in a fresh copy (no processed data, no cache, no report)
  no-op     `xjtrade build` again with nothing changed (wall time of the whole CLI process, with
            bytecode caching on as on a user's machine, whatever PYTHONDONTWRITEBYTECODE says)
  param     `xjtrade build -p horizon=3`, then 2, then 3, ... (03-forecast.ipynb and render re-run)
  floor     the same computations from the same inputs in one plain Python process: the data step
            (dataset.prepare + write), the notebooks' analysis calls, the pseudo-real-time evaluation
            with its vintages (cold, cached in the floor's own folder only, as the cold build caches
            them in its copy) and the figures saved with figures.py; no kernels, no papermill, no
            rendering (wall time of a fresh interpreter, imports included)

and, to see where a cold build spends the time beyond the floor: the phases of the cold build
(from its log), the notebooks' own times, and the cost of one notebook that does nothing (a
spawned worker, papermill, a kernel start and stop) and of one that only imports xjtrade.

Targets (issue "Publish from the results alone", item 8 and its benchmark criterion): no-op < 0.3 s
wall on an idle machine; cold within 1.3x the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from xjtrade.project import copy_project  # noqa: E402
EPOCH = "1700000000"
NOTEBOOKS = ("01-data.ipynb", "02-growth.ipynb", "03-forecast.ipynb")




def env_for(root: Path) -> dict:
    env = {**os.environ, "XJTRADE_ROOT": str(root), "SOURCE_DATE_EPOCH": EPOCH}
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # time what a user runs: with bytecode caches
    return env


def timed_cli(root: Path, *args: str) -> dict:
    """Run the CLI; return wall time, output, and the time at which each log line arrived."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "xjtrade.cli", *args], cwd=root, env=env_for(root),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stamped = []
    for line in proc.stderr:
        stamped.append((time.perf_counter() - t0, line.rstrip("\n")))
    out = proc.stdout.read()
    proc.wait()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"xjtrade {' '.join(args)} failed in {root}:\n{out}\n" + "\n".join(l for _, l in stamped))
    return {"wall": wall, "stdout": out, "log": stamped}


def phases(run: dict) -> dict:
    """Seconds spent in data / run / render, from when their log lines arrived."""
    log, wall = run["log"], run["wall"]

    def first(pattern: str) -> float | None:
        return next((t for t, line in log if re.search(pattern, line)), None)

    marks = {"start": 0.0, "data": first(r"data: building"), "run": first(r"run: executing"),
             "render": first(r"render engine:"), "end": wall}
    order = [k for k in ("start", "data", "run", "render", "end") if marks[k] is not None]
    out = {}
    for a, b in zip(order, order[1:]):
        out[a] = marks[b] - marks[a]
    out["startup"] = out.pop("start", 0.0)
    out["notebooks"] = {m.group(1): float(m.group(2)) for _, line in log
                        if (m := re.search(r"(\d\d-[\w-]+\.ipynb) done in ([\d.]+) s", line))}
    return out


# --- the floor: the notebooks' computations in one process ------------------------------------

def floor(workdir: Path) -> dict:
    """Imports, data step, analysis calls, the evaluation and figures, timed; returns seconds per part.
    Reads `workdir/raw` (a copy of data/raw) and writes under `workdir` only: the evaluation's vintages
    and frame are cached in `workdir/cache`, never looked up in the project (tests/test_benchmarks.py)."""
    t = {}
    t0 = time.perf_counter()
    import matplotlib.pyplot as plt

    from xjtrade.report import chapters as xa

    from xjtrade.data import processed as dataset

    from xjtrade.report import figures as xf
    from xjtrade.report.params import RunParams
    t["imports"] = time.perf_counter() - t0

    def lap(name, fn, *a, **kw):
        s = time.perf_counter()
        out = fn(*a, **kw)
        t[name] = t.get(name, 0.0) + time.perf_counter() - s
        return out

    processed, out = workdir / "processed", workdir / "run"
    ds = lap("data: prepare", dataset.prepare, workdir / "raw")
    processed.mkdir(parents=True)
    lap("data: write", dataset.write_dataset, ds, processed)
    ctx = lap("context", xa.load_context, processed, RunParams(), out)

    def figure(name, make, *a, **kw):
        fig = lap("figures", make, *a, **kw)
        lap("figures", xf.save, fig, out / "figures", name)
        plt.close(fig)

    # 01-data
    cov = lap("coverage", xa.coverage, ctx)
    figure("coverage", xf.coverage_timeline, cov["figures"], "coverage", "source")
    quality = lap("quality_table", xa.quality_table, ctx)
    lap("quality_table", xa.quality_summary, ctx, quality)
    lineage = lap("lineage_table", xa.lineage_table, ctx)
    for name, df in (("coverage", cov["by_kind"]), ("quality", quality), ("lineage", lineage)):
        xa.save_table(ctx, df, name)
    # 02-growth
    g = lap("growth_analysis", xa.growth_analysis, ctx)
    trend = g["trend"].fitted if g["trend"] is not None else None
    figure("annual", xf.annual_levels, g["annual"], ctx.params.currency, "annual", "source", trend=trend)
    contrib = lap("contributions_by_period", xa.contributions_by_period, ctx)
    shares = lap("partner_shares", xa.partner_shares, ctx)
    main = shares[shares["partner"].isin(["Belt and Road", "Central Asia", "Kazakhstan", "Kyrgyzstan"])]
    if len(main):
        figure("shares", xf.shares_chart, main, "shares", "source")
    national = lap("national_comparison", xa.national_comparison, ctx)
    for name, df in (("contributions", contrib), ("partner_shares", shares), ("national", national)):
        xa.save_table(ctx, df, name)
    # 03-forecast: the evaluation from the floor's own copy of the raw data, cached in its own folder
    from xjtrade.data.raw import load_raw
    from xjtrade.report import outlook as xo
    raw = lap("outlook", load_raw, workdir / "raw")
    o = lap("outlook", xo.outlook, ctx, raw=raw, cache_dir=workdir / "cache" / "vintages")
    est = lap("annual_with_estimates", xo.annual_with_estimates, ctx)
    if o["ok"]:
        figure("outlook", xo.outlook_chart, est, o["annual"], ctx.params.currency, "outlook", "source")
        xa.save_table(ctx, xo.outlook_table(o["results"]), "outlook")
    xa.save_table(ctx, xo.comparison_table(o["frame"]), "model_comparison")
    if len(o["track"]):
        figure("track_record", xo.track_chart, o["track"], ctx.params.currency, "track", "source")
    t["total (in process)"] = time.perf_counter() - t0
    return t


def timed_floor(base: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix="floor-", dir=base))
    shutil.copytree(ROOT / "data" / "raw", work / "raw")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--floor-only", str(work)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"floor failed:\n{proc.stdout}\n{proc.stderr}")
    parts = json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(work, ignore_errors=True)
    return {"wall": wall, "parts": parts}


# --- notebook overhead: a worker, papermill and a kernel for a notebook that does (almost) nothing ---

def notebook_overhead(base: Path, code: str) -> float:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from xjtrade.report.run import execute_one
    work = Path(tempfile.mkdtemp(prefix="nb-", dir=base))
    nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]}), new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, work / "trivial.ipynb")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        r = pool.submit(execute_one, str(work / "trivial.ipynb"), str(work / "out.ipynb"), {"x": 2},
                        str(work)).result()
    wall = time.perf_counter() - t0
    if not r["ok"]:
        sys.exit(f"trivial notebook failed: {r}")
    shutil.rmtree(work, ignore_errors=True)
    return wall


def med(values) -> float:
    return statistics.median(values)


def fmt(values, unit="s") -> str:
    return f"{med(values):7.2f} {unit}   (" + ", ".join(f"{v:.2f}" for v in values) + ")"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per measure (median reported)")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks side by side (xjtrade build --jobs)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--floor-only", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor_only:
        print(json.dumps(floor(Path(args.floor_only))))
        return

    base = Path(tempfile.mkdtemp(prefix="xjtrade-bench-"))
    say = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    say(f"benchmark in {base} ({args.runs} runs, --jobs {args.jobs}, {os.cpu_count()} CPUs)")
    try:
        cold, cold_runs = [], []
        for i in range(args.runs):
            root = copy_project(ROOT, base / f"cold-{i}")
            r = timed_cli(root, "build", "--force", "--jobs", str(args.jobs))
            cold.append(r["wall"])
            cold_runs.append(phases(r))
            say(f"  cold build {i + 1}: {r['wall']:.1f} s")
        root = base / f"cold-{args.runs - 1}"
        noop, noop_inside = [], []
        for i in range(max(10, args.runs)):   # cheap: more runs, a steadier median
            r = timed_cli(root, "build")
            assert r["stdout"].startswith("nothing to do"), r["stdout"]
            noop.append(r["wall"])
            noop_inside.append(float(re.search(r"\(([\d.]+) s\)", r["stdout"]).group(1)))
        say(f"  no-op rebuilds: {', '.join(f'{v:.2f}' for v in noop)} s")
        param, param_runs = [], []
        for i in range(args.runs):
            r = timed_cli(root, "build", "-p", f"horizon={3 if i % 2 == 0 else 2}", "--jobs", str(args.jobs))
            assert "ran notebook 03-forecast.ipynb, render;" in r["stdout"], r["stdout"]
            param.append(r["wall"])
            param_runs.append(phases(r))
            say(f"  one-parameter change {i + 1}: {r['wall']:.1f} s")
        floors = []
        for i in range(args.runs):
            floors.append(timed_floor(base))
            say(f"  floor {i + 1}: {floors[-1]['wall']:.1f} s")
        empty_nb = [notebook_overhead(base, "y = x + 1") for _ in range(args.runs)]
        import_nb = [notebook_overhead(base, "from xjtrade.report import chapters, figures") for _ in range(args.runs)]
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    floor_wall = [f["wall"] for f in floors]
    c, n, p, fl = med(cold), med(noop), med(param), med(floor_wall)
    print()
    print(f"xjtrade build benchmark: medians of {args.runs} runs, --jobs {args.jobs}, {os.cpu_count()} CPUs")
    print()
    print(f"  {'measure':44} {'median':>9}   (runs)")
    print(f"  {'cold build (build --force, fresh copy)':44} {fmt(cold)}")
    print(f"  {'no-op rebuild (whole CLI process)':44} {med(noop):7.3f} s   (min {min(noop):.3f}, max "
          f"{max(noop):.3f}, {len(noop)} runs)")
    print(f"  {'  of which inside build()':44} {fmt(noop_inside)}")
    print(f"  {'one-parameter change (-p horizon=3/2)':44} {fmt(param)}")
    print(f"  {'floor (one process, no kernels/render)':44} {fmt(floor_wall)}")
    print()
    print(f"  cold / floor = {c / fl:.2f}     no-op / cold = {n / c:.3f}     param / cold = {p / c:.2f}")
    print(f"  target no-op < 0.3 s (idle)   : {'yes' if n < 0.3 else 'NO'} ({n:.3f} s; load average "
          f"{os.getloadavg()[0]:.1f} at the end)")
    print(f"  target cold within 1.3x floor : {'yes' if c <= 1.3 * fl else 'NO'} ({c:.1f} s vs 1.3 x {fl:.1f} s)")
    print()
    print("Where the cold build spends its time (medians):")
    for key in ("startup", "data", "run", "render"):
        vals = [r.get(key, 0.0) for r in cold_runs]
        print(f"  {key:44} {fmt(vals)}")
    for nb in NOTEBOOKS:
        vals = [r["notebooks"].get(nb, float("nan")) for r in cold_runs]
        print(f"  {'  notebook ' + nb + ' (its worker)':44} {fmt(vals)}")
    print(f"  {'one-parameter change: run step':44} {fmt([r.get('run', 0.0) for r in param_runs])}")
    print(f"  {'one-parameter change: render step':44} {fmt([r.get('render', 0.0) for r in param_runs])}")
    print(f"  {'notebook doing nothing (worker+kernel)':44} {fmt(empty_nb)}")
    print(f"  {'notebook importing xjtrade only':44} {fmt(import_nb)}")
    print()
    print("The floor, part by part (medians, in-process seconds):")
    keys = list(floors[0]["parts"])
    for key in keys:
        print(f"  {key:44} {fmt([f['parts'][key] for f in floors])}")


if __name__ == "__main__":
    main()
