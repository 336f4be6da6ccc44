"""Benchmark of `xjtrade sweep`, side by side in one run:

  serial    16 scenarios computed one after another in this process (no dask)
  cluster   the same 16 on a LocalCluster of 2 worker processes (1 thread each), cluster start included
  build     one cold `xjtrade build` of the first scenario's parameters (data, 3 kernels, render)
  memory    peak client memory (RSS and tracemalloc peak) of sweeps of 16 and of 160 cheap scenarios,
            each in a fresh process, on the local cluster, results and comparison page written

Run from the project root:  .venv/bin/python benchmarks/sweep.py [--skip-build] [--only PART ...]
Everything happens in a temporary copy of the project; the result cache is emptied before each run.
BLAS libraries are limited to one thread here, as dask does in its worker processes.
Targets (issue 12): cluster >= 1.7x faster than serial on 2 cores; client memory for 160 scenarios
less than 2x that for 16.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

HEAVY = """name: bench16
base: {entity: Xinjiang, partner: World}
vary:
  flow: [total, exports]
  currency: [CNY, USD]
  as_of: [null, 2023-12-31, 2023-06-30, 2022-12-31]
"""

def cheap(n: int) -> str:
    """A grid of n cheap scenarios (16 or 160): ports x flows x currencies, times horizons x vintages."""
    more = {16: "", 160: "  horizon: [1, 2, 3, 4, 5]\n  as_of: [null, 2023-12-31]\n"}[n]
    return f"""name: mem{n}
base: {{start_year: 2015, models: [naive, drift, mean_growth]}}
vary:
  entity: [Horgos port, Alashankou port, Torugart port, Xinjiang land ports]
  flow: [total, exports]
  currency: [CNY, USD]
{more}"""


def _quiet(msg: str) -> None:
    pass


def clear(project) -> None:
    """Empty every cache a sweep fills (results, evaluation frames, cleaned vintages)."""
    for name in ("sweep", "evaluation", "vintages"):
        shutil.rmtree(project.cache / name, ignore_errors=True)


def evaluation_bench(project) -> tuple[float, float, int]:
    """(serial seconds, cluster seconds, vintages) of the default series' evaluation, caches emptied."""
    from threadpoolctl import threadpool_limits
    from xjtrade.data import vintages
    from xjtrade.data.processed import prepare
    from xjtrade.report.params import RunParams
    from xjtrade.stats import pseudo_real_time as prt
    from xjtrade.stats.latent_adapter import latent_paths
    from xjtrade.sweep.evaluation import run_evaluation, series_inputs
    from xjtrade.sweep.grid import load_grid
    latest = prepare(project.raw)
    params = RunParams()
    clear(project)
    t0 = time.perf_counter()
    inp = series_inputs(params, latest)
    with threadpool_limits(1):
        vint = vintages.vintage_evidence(latest.raw, inp["dates"], *inp["series"])
        serial = prt.evaluate(vint, inp["final"], models=params.models, latent=latent_paths)
    t_serial = time.perf_counter() - t0
    grid_path = project.root / "bench-eval.yaml"
    grid_path.write_text("name: bench-eval\nkind: evaluation\n")
    grid = load_grid(grid_path, latest)
    clear(project)
    t0 = time.perf_counter()
    rep = run_evaluation(project, grid, latest, n_workers=2, publish=False, log=_quiet)
    t_par = time.perf_counter() - t0
    assert rep.computed == 1 and not rep.failed, rep
    return t_serial, t_par, int(serial["vintage"].nunique())


def memory_child(root: Path, n: int) -> None:
    """In a fresh process: run a cheap grid on the local cluster, print peak client memory."""
    import resource
    import tracemalloc
    from xjtrade.project import Project
    from xjtrade.sweep.runner import run_sweep
    project = Project(root)
    grid = root / f"mem{n}.yaml"
    grid.write_text(cheap(n))
    shutil.rmtree(project.cache / "sweep", ignore_errors=True)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    rep = run_sweep(project, grid, n_workers=2, log=_quiet)
    _, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"scenarios": rep.scenarios, "failed": len(rep.failed), "seconds": time.perf_counter() - t0,
                      "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rss_before_mb": base / 1024, "tracemalloc_peak_mb": peak / 2**20}))


PARTS = ("speed", "evaluation", "build", "memory")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-build", action="store_true", help="Do not time a cold `xjtrade build`.")
    ap.add_argument("--only", action="append", choices=PARTS, help="Run only this part (repeatable; "
                    "build needs speed, which is then run too).")
    ap.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        return memory_child(args.root, args.memory_child)
    parts = set(args.only or PARTS) - ({"build"} if args.skip_build else set())
    if "build" in parts:
        parts.add("speed")

    from xjtrade.project import Project, copy_project
    from xjtrade.sweep import runner
    tmp = Path(tempfile.mkdtemp(prefix="xjtrade-sweep-bench-"))
    try:
        root = copy_project(ROOT, tmp / "project")
        project = Project(root)
        grid = root / "bench16.yaml"
        grid.write_text(HEAVY)
        print(f"benchmark of xjtrade sweep, {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} (the machine is shared)")

        if "speed" in parts:
            clear(project)
            t0 = time.perf_counter()
            serial = runner.run_sweep(project, grid, serial=True, publish=False, log=_quiet)
            t_serial = time.perf_counter() - t0
            clear(project)
            t0 = time.perf_counter()
            par = runner.run_sweep(project, grid, n_workers=2, publish=False, log=_quiet)
            t_par = time.perf_counter() - t0
            assert not serial.failed and not par.failed, (serial.failed, par.failed)
            n = serial.scenarios
            print(f"\n{n} scenarios (Xinjiang x 2 flows x 2 currencies x 4 vintages; ARIMA order chosen once)")
            print(f"  {'serial, one process':32s} {t_serial:8.1f} s   {t_serial / n:6.2f} s/scenario")
            print(f"  {'LocalCluster, 2 workers':32s} {t_par:8.1f} s   {t_par / n:6.2f} s/scenario   "
                  f"speed-up {t_serial / t_par:.2f}x (target >= 1.7x)")
            print(f"  load average after: {os.getloadavg()[0]:.1f}")

        if "evaluation" in parts:
            # the pseudo-real-time evaluation of the default series: every release date since 2019 x every
            # model x every horizon, serial in this process vs one task per vintage on the cluster
            t_ev_serial, t_ev_par, n_vint = evaluation_bench(project)
            print(f"\nthe forecast evaluation of the default series ({n_vint} vintages x models x horizons)")
            print(f"  {'serial, one process':32s} {t_ev_serial:8.1f} s")
            print(f"  {'LocalCluster, 2 workers':32s} {t_ev_par:8.1f} s   speed-up {t_ev_serial / t_ev_par:.2f}x")

        if "build" in parts:
            from xjtrade.sweep.grid import load_grid
            first = load_grid(grid).scenarios[0].params
            pfile = root / "params" / "bench-one.yaml"
            pfile.write_text(json.dumps(first.model_dump(mode="json") | {"name": "bench-one"}))
            env = {**os.environ, "XJTRADE_ROOT": str(root), "SOURCE_DATE_EPOCH": "1700000000"}
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "xjtrade.cli", "build", "--force", "--params", str(pfile)],
                                  cwd=root, env=env, capture_output=True, text=True)
            t_build = time.perf_counter() - t0
            status = "ok" if proc.returncode == 0 else f"FAILED ({proc.stderr.strip().splitlines()[-1:]})"
            print(f"\none cold `xjtrade build` of the first scenario: {t_build:.1f} s ({status}); "
                  f"a scenario in the sweep costs {t_serial / n:.2f} s serial, {t_par / n:.2f} s on 2 workers "
                  f"({t_build / (t_par / n):.0f}x less than a build)")

        if "memory" not in parts:
            return
        print("\npeak client memory (fresh process each; local cluster of 2; results and page written)")
        mem = {}
        for nh in (16, 160):
            out = subprocess.run([sys.executable, __file__, "--memory-child", str(nh), "--root", str(root)],
                                 capture_output=True, text=True, timeout=3600)
            if out.returncode != 0:
                sys.exit(f"memory run failed:\n{out.stderr[-3000:]}")
            mem[nh] = json.loads(out.stdout.strip().splitlines()[-1])
            m = mem[nh]
            print(f"  {m['scenarios']:4d} scenarios: RSS peak {m['rss_peak_mb']:7.1f} MB, tracemalloc peak "
                  f"{m['tracemalloc_peak_mb']:6.1f} MB, {m['seconds']:.1f} s, {m['failed']} failed")
        print(f"  160 vs 16: RSS x{mem[160]['rss_peak_mb'] / mem[16]['rss_peak_mb']:.2f}, tracemalloc "
              f"x{mem[160]['tracemalloc_peak_mb'] / mem[16]['tracemalloc_peak_mb']:.2f} (target < 2x)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
