"""`xjtrade sweep`: grid expansion and validation, the ARIMA order reused in backtests, a local
cluster with a failing scenario, and an external scheduler + worker reached by --scheduler."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import EPOCH, run_cli
from xjtrade.sweep.grid import GridError, load_grid

FAIL_ENTITY = "Torugart port"
PLOTTING = ("matplotlib", "seaborn")


def _grid(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- grids --------------------------------------------------------------------------------

def test_grid_expands_the_product_in_order(tmp_path):
    g = load_grid(_grid(tmp_path / "g.yaml", """
name: two-by-two
base: {currency: USD, horizon: 3}
vary:
  entity: [Xinjiang, Horgos port]
  flow: [total, exports]
  models: [[naive, drift], [naive, arima]]
"""))
    assert g.name == "two-by-two" and g.varying == ["entity", "flow", "models"]
    assert len(g.scenarios) == 8
    first, last = g.scenarios[0].params, g.scenarios[-1].params
    assert (first.entity, first.flow, first.models, first.currency, first.horizon) == \
        ("Xinjiang", "total", ("naive", "drift"), "USD", 3)
    assert (last.entity, last.flow, last.models) == ("Horgos port", "exports", ("naive", "arima"))
    assert first.name == "0001-xinjiang-total" and last.name == "0008-horgos-port-exports"
    assert g.scenarios[1].label == "entity=Xinjiang, flow=total, models=naive,arima"


def test_bad_cell_names_scenario_and_parameter(tmp_path):
    path = _grid(tmp_path / "bad.yaml", """
vary:
  entity: [Xinjiang]
  horizon: [2, 99]
""")
    with pytest.raises(GridError) as err:
        load_grid(path)
    msg = str(err.value)
    assert "scenario 0002-xinjiang-99" in msg and "horizon=99" in msg and "horizon:" in msg and "99" in msg
    with pytest.raises(GridError, match=r"'colour' is not a run parameter"):
        load_grid(_grid(tmp_path / "bad2.yaml", "vary: {colour: [red]}\n"))
    with pytest.raises(GridError, match=r"vary.flow: expected a non-empty list"):
        load_grid(_grid(tmp_path / "bad3.yaml", "vary: {flow: total}\n"))
    with pytest.raises(GridError, match=r"repeats scenario 0001"):
        load_grid(_grid(tmp_path / "bad4.yaml", "vary: {flow: [total, total]}\n"))


def test_releases_of_grid_uses_the_evaluations_release_dates(tmp_path, root):
    """A grid varying as_of over the releases of a series gets exactly the release dates the forecast
    chapter's evaluation uses for that series (one function, one rule), from its `since`."""
    from xjtrade.data.processed import prepare
    from xjtrade.data.vintages import release_dates
    from xjtrade.report import outlook as xo
    from xjtrade.report.context import Context
    from xjtrade.report.params import RunParams
    latest = prepare(root / "data" / "raw")
    g = load_grid(_grid(tmp_path / "v.yaml", "vary:\n  as_of:\n    releases_of: {entity: Xinjiang, flow: total, "
                                            "partner: World}\n    since: 2019-01-01\n"), latest)
    dates = [sc.params.as_of.isoformat() for sc in g.scenarios]
    ctx = Context(params=RunParams(), figures=latest.figures, issues=latest.issues, sources=latest.raw.sources)
    plan = xo.evaluation_plan(ctx, latest.raw, None)
    assert dates == plan["dates"] == release_dates(latest.figures)
    assert len(dates) > 20 and dates[0] >= "2019-01-01"
    later = load_grid(_grid(tmp_path / "w.yaml", "vary:\n  as_of:\n    releases_of: {entity: Xinjiang}\n"
                                                 "    since: 2022-01-01\n"), latest)
    assert [sc.params.as_of.isoformat() for sc in later.scenarios] == [d for d in dates if d >= "2022-01-01"]


# --- the ARIMA order chosen once ------------------------------------------------------------

def test_scenario_rows_match_the_chapters(processed, tmp_path):
    """Growth figures and the outlook of a scenario equal what the notebooks compute (same vintages,
    the book's number of paths), and nothing imports plotting libraries."""
    code = f"""
import sys, json
from pathlib import Path
from xjtrade.data.processed import load_processed
from xjtrade.data.raw import load_raw
from xjtrade.report import scenario, chapters as ch, outlook as xo
from xjtrade.report.params import load_params
f, q, s = load_processed({str(processed)!r})
raw = load_raw(Path({str(Path(__file__).parents[1] / 'data' / 'raw')!r}))
p = load_params({str(Path(__file__).parents[1] / 'params' / 'default.yaml')!r}, {{"models": ["naive", "mean_growth"]}})
rows = scenario.run(p, f, q, s, raw, {str(tmp_path / 'vintages')!r})
plotting = sorted(m for m in sys.modules if m.split(".")[0] in ("matplotlib", "seaborn"))
ctx = ch.load_context({str(processed)!r}, p)
g = ch.growth_analysis(ctx)["results"]
o = xo.outlook(ctx, raw=raw, cache_dir=Path({str(tmp_path / 'vintages')!r}))["results"]
print(json.dumps({{"rows": rows, "plotting": plotting, "g": g, "o": o.model_dump()}}, default=str))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    import json
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["plotting"] == []
    rows, g, o = res["rows"], res["g"], res["o"]
    assert [r["period"] for r in rows] == [str(a["year"]) for a in o["annual"]] == ["2026", "2027"]
    chosen = {c["use"]: c["model"] for c in o["choices"]}
    for r, a in zip(rows, o["annual"]):
        assert r["model"] == chosen["years ahead"] and r["model"] in ("naive", "mean_growth", "combination")
        assert (r["forecast"], r["lower_80"], r["upper_95"]) == pytest.approx((a["point"], a["lo80"], a["hi95"]))
        assert r["lower_95"] < r["lower_80"] < r["forecast"] < r["upper_80"] < r["upper_95"]
        assert r["latest_year"] == g["latest_year"] == 2025
        assert r["latest_value"] == pytest.approx(520.37)
        assert r["cagr_pct"] == pytest.approx(g["cagr"][0]["cagr_pct"], abs=1e-4)


# --- on a cluster ---------------------------------------------------------------------------

def failing_task(params_json, vintage, cache_dir=None):
    """The sweep's task, failing on purpose for one entity; also refuses to return if the
    computation imported a plotting library."""
    import json
    from xjtrade.sweep.runner import compute_scenario
    if json.loads(params_json)["entity"] == FAIL_ENTITY:
        raise RuntimeError("deliberate failure for the test")
    out = compute_scenario(params_json, vintage, cache_dir)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in PLOTTING)
    if loaded:
        raise AssertionError(f"the compute task imported plotting libraries: {loaded}")
    return out


GRID4 = """
name: four
base: {start_year: 2015, models: [naive, drift]}
vary:
  entity: [Horgos port, Alashankou port, Torugart port, Xinjiang land ports]
"""


def test_local_cluster_runs_the_rest_when_one_scenario_fails(project_copy, monkeypatch):
    import cloudpickle
    from click.testing import CliRunner
    from xjtrade import cli
    from xjtrade.sweep import runner
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    monkeypatch.setattr(runner, "SCENARIO_TASK", failing_task)
    grid = _grid(project_copy.root / "four.yaml", GRID4)
    monkeypatch.chdir(project_copy.root)
    result = CliRunner().invoke(cli.main, ["sweep", str(grid), "--workers", "2"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "4 scenarios (3 computed, 0 from the cache, 1 failed)" in result.output
    assert "1 scenario(s) failed: 0003-torugart-port" in result.output
    out = project_copy.reports / "sweeps" / "four"
    res = pd.read_parquet(out / "results.parquet")
    assert sorted(res["scenario"].unique()) == ["0001-horgos-port", "0002-alashankou-port", "0004-xinjiang-land-ports"]
    assert pd.read_csv(out / "results.csv")["scenario"].nunique() == 3
    fails = pd.read_csv(out / "failures.csv")
    assert fails["scenario"].tolist() == ["0003-torugart-port"]
    assert fails["error"].iloc[0] == "RuntimeError: deliberate failure for the test"
    assert "failing_task" in fails["traceback"].iloc[0] and '"entity":"Torugart port"' in fails["parameters"].iloc[0]
    # known values: Horgos port's latest calendar year in the data
    horgos = res[res["scenario"] == "0001-horgos-port"].iloc[0]
    assert horgos["latest_yoy_pct"] == pytest.approx(22.2, abs=0.05)
    assert "Torugart port" in (out / "index.html").read_text() and "deliberate failure" in (out / "index.html").read_text()
    assert len(list((project_copy.cache / "sweep").glob("*.xjc"))) == 3
    import csvscan   # every CSV of the sweep: no formula, no split row (issue 22)
    files, found = csvscan.scan(out)
    assert len(files) >= 5 and found == [], found
    # a re-run computes only the scenario without a cached result (the failed one)
    again = CliRunner().invoke(cli.main, ["sweep", str(grid), "--workers", "2"], catch_exceptions=False)
    assert again.exit_code == 1 and "(0 computed, 3 from the cache, 1 failed)" in again.output


def _worker_settings() -> dict:
    """What a worker process runs with (run on each worker by `client.run`)."""
    import os
    import dask
    return {"MALLOC_TRIM_THRESHOLD_": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "profile": dask.config.get("distributed.worker.profile.enabled"),
            "tick": dask.config.get("distributed.admin.tick.interval")}


WANTED = {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1", "profile": False, "tick": "1s"}


def test_local_cluster_workers_get_the_settings_for_numerical_tasks():
    """No MALLOC_TRIM_THRESHOLD_ (it turns off glibc's adaptive mmap threshold: 7x the page faults),
    one BLAS thread, no stack profiler, a slow event-loop tick; and this process's environment is
    left as it was (the nanny writes its environment into the process that starts it)."""
    import cloudpickle
    from xjtrade.sweep.cluster import connect
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    before = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    with connect(n_workers=1) as client:
        got = list(client.run(_worker_settings).values())
    assert got == [WANTED]
    assert os.environ.get("MALLOC_TRIM_THRESHOLD_") == before


def test_readme_gives_hand_started_workers_the_same_settings():
    import re
    import shlex
    from xjtrade.sweep.cluster import worker_environment
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(".venv/bin/dask scheduler"):readme.index(".venv/bin/dask worker")]
    exported = dict(w.split("=", 1) for w in shlex.split(re.sub(r"\\\n", " ", block), comments=True)
                    if w.startswith("DASK_"))
    assert exported == worker_environment()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_external_scheduler_and_worker(project_copy, tmp_path):
    dask_cli = Path(sys.executable).parent / "dask"
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "XJTRADE_ROOT": str(project_copy.root), "SOURCE_DATE_EPOCH": EPOCH}
    logs = [open(tmp_path / "scheduler.log", "w"), open(tmp_path / "worker.log", "w")]
    procs = [subprocess.Popen([str(dask_cli), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=logs[0], stderr=subprocess.STDOUT, env=env)]
    try:
        from xjtrade.sweep.cluster import worker_environment
        procs.append(subprocess.Popen([str(dask_cli), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                       "--no-dashboard", "--host", "127.0.0.1"],
                                      stdout=logs[1], stderr=subprocess.STDOUT, env={**env, **worker_environment()}))
        from dask.distributed import Client
        deadline = time.monotonic() + 120
        client = None
        while client is None:
            try:
                client = Client(address, timeout="5s")
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        try:
            client.wait_for_workers(1, timeout=120)
            import cloudpickle
            cloudpickle.register_pickle_by_value(sys.modules[__name__])
            # the README's environment gives a hand-started worker the local cluster's settings
            assert list(client.run(_worker_settings).values()) == [WANTED]
            from xjtrade.sweep import run_tasks
            import math
            got = dict(run_tasks(math.sqrt, [4.0, 9.0, -1.0, 16.0], client=client))
        finally:
            client.close()
        assert {i: o.value for i, o in got.items() if o.ok} == {4.0: 2.0, 9.0: 3.0, 16.0: 4.0}, \
            {i: o.error for i, o in got.items()}
        assert got[-1.0].error == "ValueError: math domain error" and got[-1.0].traceback

        grid = _grid(project_copy.root / "two.yaml", GRID4.replace("name: four", "name: two")
                     .replace("[Horgos port, Alashankou port, Torugart port, Xinjiang land ports]",
                              "[Horgos port, Torugart port]"))
        run = run_cli(project_copy.root, "sweep", str(grid), "--scheduler", address, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"connected to {address} (1 workers)" in run.stderr
        assert "2 scenarios (2 computed, 0 from the cache, 0 failed)" in run.stdout
        res = pd.read_csv(project_copy.reports / "sweeps" / "two" / "results.csv")
        assert sorted(res["scenario"].unique()) == ["0001-horgos-port", "0002-torugart-port"]
    finally:
        for p in reversed(procs):
            _stop(p)
        for fh in logs:
            fh.close()
