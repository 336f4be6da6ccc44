"""The pseudo-real-time evaluation as a sweep: vintages drawn on a LocalCluster (2 worker
processes) give the same frame as the serial evaluation; `xjtrade sweep` of an evaluation grid
publishes its tables and stores the frame where the build's forecast notebook finds it."""

from __future__ import annotations


import pandas as pd
import pytest

from conftest import EPOCH, ROOT

pytestmark = pytest.mark.slow

AS_OF = "2020-12-31"    # vintages of 2019 and 2020 only: a small grid


def _inputs(processed, as_of=AS_OF):
    from xjtrade.data.processed import prepare
    from xjtrade.report.params import load_params
    from xjtrade.sweep.evaluation import series_inputs
    latest = prepare(ROOT / "data" / "raw")
    params = load_params(ROOT / "params" / "default.yaml", {"as_of": as_of})
    return latest, params, series_inputs(params, latest)


def test_cluster_frame_equals_the_serial_frame(processed):
    from xjtrade.data import vintages
    from xjtrade.stats import pseudo_real_time as prt
    from xjtrade.stats.latent_adapter import latent_paths
    from xjtrade.sweep.cluster import connect, run_tasks
    from xjtrade.sweep.evaluation import draw_task
    latest, params, inp = _inputs(processed)
    dates = inp["dates"]
    assert len(dates) >= 6 and dates[0] >= "2019-01-01" and dates[-1] <= AS_OF
    vint = vintages.vintage_evidence(latest.raw, dates, *inp["series"])
    serial = prt.evaluate(vint, inp["final"], models=params.models, latent=latent_paths)
    with connect(n_workers=2) as client:
        raw = client.scatter(latest.raw, broadcast=True)
        got = dict(run_tasks(draw_task, dates, client=client, raw=raw, final=inp["final"], series=inp["series"],
                             models=tuple(params.models), n=prt.N_DRAWS, cache_dir=None))
        pids = client.run(lambda: __import__("os").getpid())
    assert all(o.ok for o in got.values()), {d: o.error for d, o in got.items() if not o.ok}
    assert len(set(pids.values())) == 2
    evs = {d: o.value[0] for d, o in got.items()}
    drawn = {d: o.value[1] for d, o in got.items()}
    assert evs == vint           # each worker cleaned its vintage as the serial path did
    frame = prt.calibrate_all(drawn, evs)
    assert len(frame) == len(serial) > 20
    pd.testing.assert_frame_equal(frame, serial, rtol=1e-9)
    # the calibration is sequential: a vintage's conformal factors use earlier vintages' errors only
    assert set(frame["k_conformal"]) != {1.0} or frame["vintage"].nunique() < 8


def test_sweep_of_an_evaluation_grid_feeds_the_build(project_copy, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    from click.testing import CliRunner
    from xjtrade import cli
    from xjtrade.report import chapters as ch, outlook as xo
    from xjtrade.report.params import load_params
    from xjtrade.data.raw import load_raw
    grid = project_copy.root / "ev.yaml"
    grid.write_text(f"name: ev\nkind: evaluation\nbase: {{as_of: {AS_OF}}}\nvary:\n  flow: [total, exports]\n",
                    encoding="utf-8")
    monkeypatch.chdir(project_copy.root)
    res = CliRunner().invoke(cli.main, ["sweep", str(grid), "--workers", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "evaluation 'ev': 2 series (2 computed from" in res.output and "0 from the cache" in res.output
    out = project_copy.reports / "sweeps" / "ev"
    ev = pd.read_parquet(out / "evaluation.parquet")
    assert sorted(ev["label"].unique()) == ["flow=exports", "flow=total"]
    assert (ev["vintage"] <= AS_OF).all() and (ev["actual_published"] > ev["vintage"]).all()
    scores = pd.read_csv(out / "scores.csv")
    assert {"coverage80", "coverage95", "MASE"} <= set(scores.columns) and len(scores) > 4
    track = pd.read_csv(out / "track_record.csv")
    assert set(track["label"]) == {"flow=exports", "flow=total"}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Track record" in page and "scores.csv" in page
    # the main site's list of editions links the comparison
    from xjtrade.report.editions import editions
    eds = {e["name"]: e for e in editions(project_copy, "default")}
    assert eds["sweeps/ev"]["link"] == "../../sweeps/ev/index.html"
    assert eds["sweeps/ev"]["changes"] == "models evaluated: 2 varying flow"
    assert eds["sweeps/ev"]["build_date"] == "2023-11-14"   # SOURCE_DATE_EPOCH of the tests
    stored = sorted((project_copy.cache / "evaluation").glob("*.xjc"))
    assert len(stored) == 2
    # the build's forecast notebook computes the same key and reads the stored frame
    params = load_params(project_copy.params / "default.yaml", {"as_of": AS_OF})
    from xjtrade.data.processed import build_dataset
    build_dataset(project_copy.raw, project_copy.processed, as_of=AS_OF)
    ctx = ch.load_context(project_copy.processed, params)
    got = xo.evaluation(ctx, raw=load_raw(project_copy.raw), cache_dir=project_copy.cache / "vintages")
    assert got["cached"] is True
    total = ev[ev["label"] == "flow=total"].drop(columns=["scenario", "label"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got["frame"], total, rtol=1e-12)
    # a second sweep computes nothing
    again = CliRunner().invoke(cli.main, ["sweep", str(grid), "--workers", "2"], catch_exceptions=False)
    assert again.exit_code == 0 and "(0 computed from 0 vintage tasks, 2 from the cache" in again.output


FAIL_DATE = "2020-03-24"


def failing_draw(date, **kwargs):
    """The evaluation's task, failing on purpose for one vintage."""
    from xjtrade.sweep.evaluation import draw_task
    if date == FAIL_DATE:
        raise RuntimeError("deliberate failure for the test")
    return draw_task(date, **kwargs)


def test_a_failing_vintage_is_reported_and_nothing_is_stored(project_copy, monkeypatch):
    import sys
    import cloudpickle
    from click.testing import CliRunner
    from xjtrade import cli
    from xjtrade.sweep import evaluation
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    monkeypatch.setattr(evaluation, "draw_task", failing_draw)
    grid = project_copy.root / "ev1.yaml"
    grid.write_text(f"name: ev1\nkind: evaluation\nbase: {{as_of: {AS_OF}}}\n", encoding="utf-8")
    monkeypatch.chdir(project_copy.root)
    res = CliRunner().invoke(cli.main, ["sweep", str(grid), "--workers", "2"], catch_exceptions=False)
    assert res.exit_code == 1, res.output
    assert f"1 vintage(s) failed: 0001 {FAIL_DATE}" in res.output
    fails = pd.read_csv(project_copy.reports / "sweeps" / "ev1" / "failures.csv")
    assert fails["vintage"].tolist() == [FAIL_DATE]
    assert fails["error"].iloc[0] == "RuntimeError: deliberate failure for the test"
    assert "failing_draw" in fails["traceback"].iloc[0]
    # an incomplete evaluation is not stored: its calibration would use a hole
    assert not list((project_copy.cache / "evaluation").glob("*.xjc"))


def test_one_cleaning_stores_every_flow_and_currency(processed, tmp_path):
    """Vintages computed for one series store the others of the same entity and partner; read back,
    they equal vintages computed without a cache; a second process finds them all."""
    from xjtrade.data import vintages
    latest, params, inp = _inputs(processed)
    dates = inp["dates"][:3]
    fresh = {(fl, cur): vintages.vintage_evidence(latest.raw, dates, "Xinjiang", fl, "World", cur)
             for fl in ("total", "imports") for cur in ("CNY", "USD")}
    first = vintages.vintage_evidence(latest.raw, dates, "Xinjiang", "total", "World", "CNY", cache_dir=tmp_path)
    assert first == fresh[("total", "CNY")]
    assert len(list(tmp_path.glob("*.xjc"))) == 3 * 3 * 2      # dates x flows x currencies
    import xjtrade.data.vintages as mod
    calls = []
    real = mod.clean
    mod.clean = lambda *a, **k: calls.append(a) or real(*a, **k)
    try:
        for key, ev in fresh.items():
            assert vintages.vintage_evidence(latest.raw, dates, "Xinjiang", *key[:1], "World", key[1],
                                             cache_dir=tmp_path) == ev
    finally:
        mod.clean = real
    assert calls == []      # everything came from the cache
