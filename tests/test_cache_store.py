"""The verified cache store (xjtrade.cache): atomic entries with a content hash checked on read, no
symbolic link followed, rejected entries logged and recomputed; the evaluation frames, vintages and
sweep scenarios that use it.  (The build-level cases, a frame edited by hand before a build and
`build --force` recomputing the frames, are in tests/test_build.py's sequence.)"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from xjtrade import cache as xc
from xjtrade.cache import Store

from conftest import ROOT, copy_project


def lines_of(store_root: Path) -> list[dict]:
    return xc.events_since(store_root, 0)[0]


def tamper(path: Path, edit) -> None:
    """Edit an entry's payload by hand, keeping its header (what someone editing the file would do)."""
    head, _, payload = path.read_bytes().partition(b"\n")
    path.write_bytes(head + b"\n" + edit(payload))


def times_ten(payload: bytes) -> bytes:
    """Every number of a JSON payload multiplied by 10."""
    def walk(x):
        if isinstance(x, bool) or x is None or isinstance(x, str):
            return x
        if isinstance(x, (int, float)):
            return x * 10
        if isinstance(x, list):
            return [walk(v) for v in x]
        return {k: walk(v) for k, v in x.items()}
    return json.dumps(walk(json.loads(payload))).encode()


def frame_times_ten(payload: bytes) -> bytes:
    import io
    df = pd.read_parquet(io.BytesIO(payload))
    for c in df.select_dtypes("number").columns:
        df[c] = df[c] * 10
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


# --- the store -------------------------------------------------------------------------------

def test_put_get_round_trip_and_no_temporary_files(tmp_path):
    s = Store(tmp_path)
    s.put_json("sweep", "k1", {"rows": [1, 2.5, "x"]})
    assert s.get_json("sweep", "k1") == {"rows": [1, 2.5, "x"]}
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    back = s.put_frame("evaluation", "k2", frame)
    pd.testing.assert_frame_equal(back, frame)
    pd.testing.assert_frame_equal(s.get_frame("evaluation", "k2"), frame)
    assert s.get("sweep", "absent") is None
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["events.log", "k1.xjc", "k2.xjc"]
    head = json.loads((tmp_path / "sweep" / "k1.xjc").read_bytes().partition(b"\n")[0])
    assert head["kind"] == "sweep" and head["key"] == "k1" and len(head["sha256"]) == 64


@pytest.mark.parametrize("damage, why", [
    (lambda p: tamper(p, times_ten), "content sha256"),
    (lambda p: p.write_bytes(p.read_bytes()[:-3]), "17 bytes where 20 were"),    # truncated
    (lambda p: p.write_bytes(b'{"rows": [1]}'), "no valid header"),           # replaced without a header
    (lambda p: shutil.copy(p.with_name("other.xjc"), p), "its header is for sweep other"),  # another key's entry
])
def test_a_damaged_entry_is_a_miss_named_in_one_log_line(tmp_path, damage, why):
    logs = []
    s = Store(tmp_path, log=logs.append)
    s.put_json("sweep", "k1", {"rows": [1.5, 2.5]})
    s.put_json("sweep", "other", {"rows": [9.5]})
    damage(tmp_path / "sweep" / "k1.xjc")
    assert s.get_json("sweep", "k1") is None
    assert len(logs) == 1 and logs[0].startswith("cache: sweep entry k1.xjc failed its check (") and why in logs[0]
    assert logs[0].endswith("ignored; it is recomputed and replaced")
    assert [e["event"] for e in lines_of(tmp_path)][-1] == "rejected"
    s.put_json("sweep", "k1", {"rows": [1.5, 2.5]})       # the caller recomputes and replaces it
    assert s.get_json("sweep", "k1") == {"rows": [1.5, 2.5]}


def test_no_symbolic_link_is_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("not the cache's")
    root = tmp_path / "cache"
    logs = []
    s = Store(root, log=logs.append)
    s.put_json("sweep", "k1", {"rows": []})
    # an entry that is a link: not read; a put replaces the link, not its target
    entry = root / "sweep" / "k1.xjc"
    entry.unlink()
    entry.symlink_to(victim)
    assert s.get("sweep", "k1") is None and "symbolic link" in logs[-1]
    s.put_json("sweep", "k1", {"rows": [1]})
    assert victim.read_text() == "not the cache's" and not entry.is_symlink()
    # a kind's folder that is a link out of the cache: nothing read from it or written into it
    (root / "evaluation").symlink_to(outside, target_is_directory=True)
    (outside / "k2.xjc").write_bytes((root / "sweep" / "k1.xjc").read_bytes())
    assert s.get("evaluation", "k2") is None and "outside the cache" in logs[-1]
    assert s.put_json("evaluation", "k3", {"x": 1}) is None and "not stored" in logs[-1]
    assert sorted(p.name for p in outside.iterdir()) == ["k2.xjc", "victim.txt"]
    # the event log itself is never written through a link
    (root / "events.log").unlink()
    (root / "events.log").symlink_to(victim)
    s.put_json("sweep", "k4", {"rows": []})
    assert victim.read_text() == "not the cache's"


def test_keys_and_kinds_cannot_name_paths(tmp_path):
    s = Store(tmp_path)
    for kind, key in (("..", "k"), ("sweep", "../k"), ("sweep", "a/b"), ("sweep", ".hidden")):
        with pytest.raises(ValueError):
            s.path(kind, key)


def test_refresh_reads_nothing_of_the_kinds_named(tmp_path, monkeypatch):
    Store(tmp_path).put_json("vintages", "k", {"v": 1})
    monkeypatch.setenv(xc.REFRESH_ENV, "all")
    s = Store(tmp_path)
    assert s.get_json("vintages", "k") is None and not s.exists("vintages", "k")
    assert lines_of(tmp_path)[-1]["event"] == "refreshed"
    monkeypatch.setenv(xc.REFRESH_ENV, "evaluation")
    assert Store(tmp_path).get_json("vintages", "k") == {"v": 1}


def test_relay_names_rejections_and_counts_what_other_processes_stored(tmp_path):
    s = Store(tmp_path)
    offset = xc.events_offset(tmp_path)
    s.put_json("evaluation", "a", {})
    s.put_json("vintages", "b", {})
    s.put_json("vintages", "c", {})
    tamper(tmp_path / "vintages" / "b.xjc", lambda p: p + b" ")
    s.get("vintages", "b")
    shown = []
    counts, rejected, _ = xc.relay(tmp_path, offset, shown.append)
    assert counts == {"evaluation": 1, "vintages": 2}
    assert rejected == shown and len(shown) == 1 and "vintages entry b.xjc failed its check" in shown[0]
    assert xc.relay(tmp_path, offset, shown.append, skip_pid=os.getpid())[0] == {}


# --- what uses it ----------------------------------------------------------------------------

@pytest.fixture
def warm_copy(tmp_path, warm_cache) -> Path:
    """A cache folder holding the default series' evaluation frame and vintages."""
    cache = tmp_path / "cache"
    for name in ("evaluation", "vintages"):
        shutil.copytree(warm_cache / name, cache / name)
    return cache


@pytest.mark.slow
def test_an_evaluation_frame_edited_by_hand_is_rejected_and_recomputed(warm_copy, processed, monkeypatch):
    """Every number of the stored frame multiplied by 10: the next read logs the entry, recomputes
    the frame (here a stand-in for the 30 s evaluation returns the true frame) and stores it again."""
    from xjtrade.data.raw import load_raw
    from xjtrade.report import outlook as xo
    from xjtrade.report.chapters import load_context
    from xjtrade.report.params import RunParams
    ctx = load_context(processed, RunParams())
    raw = load_raw(ROOT / "data" / "raw")
    true = xo.evaluation(ctx, raw=raw, cache_dir=warm_copy / "vintages")
    assert true["cached"]
    entry = next((warm_copy / "evaluation").glob("*.xjc"))
    tamper(entry, frame_times_ten)
    calls = []
    monkeypatch.setattr(xo.prt, "evaluate", lambda *a, **k: calls.append(1) or true["frame"].copy())
    got = xo.evaluation(ctx, raw=raw, cache_dir=warm_copy / "vintages")
    assert not got["cached"] and calls == [1]
    pd.testing.assert_frame_equal(got["frame"], true["frame"])
    rejected = [e for e in lines_of(warm_copy) if e["event"] == "rejected"]
    assert len(rejected) == 1 and rejected[0]["kind"] == "evaluation"
    assert f"cache: evaluation entry {entry.name} failed its check (content sha256" in rejected[0]["message"]
    again = xo.evaluation(ctx, raw=raw, cache_dir=warm_copy / "vintages")
    assert again["cached"] and calls == [1]
    pd.testing.assert_frame_equal(again["frame"], true["frame"])


@pytest.mark.slow
def test_an_edited_vintage_is_rejected_and_cleaned_again(warm_copy, processed):
    from xjtrade.data import vintages
    from xjtrade.data.raw import load_raw
    raw = load_raw(ROOT / "data" / "raw")
    dates = ["2020-04-20", "2021-01-20"]
    fresh = vintages.vintage_evidence(raw, dates)
    cache_dir = warm_copy / "vintages"
    first = vintages.vintage_evidence(raw, dates, cache_dir=cache_dir)
    assert first == fresh
    keyer = vintages.keyer_for(warm_copy)
    digest = vintages._digest(vintages._main_subset(raw, "Xinjiang", "World"), raw)
    key = keyer.key(vintages.VINTAGE, rows=digest, date=dates[0], series=["Xinjiang", "total", "World", "CNY"])[:40]
    tamper(cache_dir / f"{key}.xjc", times_ten)
    assert vintages.vintage_evidence(raw, dates, cache_dir=cache_dir) == fresh
    assert [e["key"] for e in lines_of(warm_copy) if e["event"] == "rejected"] == [key]


@pytest.mark.slow
def test_an_edited_sweep_entry_is_detected_and_recomputed(tmp_path, warm_cache):
    """A scenario's cached rows edited by hand (every number times 10): the next sweep logs the entry,
    computes the scenario again and publishes the true numbers."""
    from xjtrade.project import Project
    from xjtrade.sweep.runner import run_sweep
    root = copy_project(tmp_path / "project", warm=warm_cache)
    grid = root / "one.yaml"
    grid.write_text("name: one\nvary:\n  horizon: [1]\n", encoding="utf-8")
    logs: list[str] = []
    first = run_sweep(Project(root), grid, serial=True, log=logs.append)
    assert (first.computed, first.cached, first.failed) == (1, 0, [])
    results = root / "reports" / "sweeps" / "one" / "results.csv"
    true = pd.read_csv(results)
    assert true["forecast"].notna().any()
    entry = next((root / ".xjtrade-cache" / "sweep").glob("*.xjc"))
    tamper(entry, times_ten)
    logs.clear()
    again = run_sweep(Project(root), grid, serial=True, log=logs.append)
    assert (again.computed, again.cached) == (1, 0)
    bad = [line for line in logs if line.startswith("cache: sweep entry")]
    assert bad and f"{entry.name} failed its check (content sha256" in bad[0]
    pd.testing.assert_frame_equal(pd.read_csv(results), true)
    third = run_sweep(Project(root), grid, serial=True, log=logs.append)
    assert (third.computed, third.cached) == (0, 1)
