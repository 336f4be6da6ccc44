"""The forecast ledger: append-only (existing bytes never change), a rebuild appends nothing, only the
default edition of a committed checkout writes, entries are scored when outcomes arrive; the committed
ledger holds the recovered outlooks of the earlier editions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from xjtrade.report import ledger

ROOT = Path(__file__).resolve().parents[1]


def _results(point=368.07, as_of="2024-01-30", months=0, hi80=588.0):
    annual = [{"year": 2024, "month": 12, "period": "2024", "point": point, "mean": 396.0, "lo80": 230.0,
               "hi80": hi80, "lo95": 168.2, "hi95": 789.9},
              {"year": 2025, "month": 12, "period": "2025", "point": 370.6, "mean": 442.7, "lo80": 180.8,
               "hi80": 768.2, "lo95": 121.2, "hi95": 1180.1}]
    return {"parameters": {"entity": "Xinjiang", "flow": "total", "partner": "World", "currency": "CNY"},
            "forecast": {"outlook": {"ok": True, "as_of": as_of, "current_year": 2024, "months_known": months,
                                     "annual": annual, "central": "median",
                                     "choices": [{"use": "within year", "model": "skill_weighted"},
                                                 {"use": "years ahead", "model": "mean_growth"}]}}}


def test_entries_from_results():
    rows = ledger.entries_from_results(_results(), "2026-12-03", "abc123")
    assert [r["target_year"] for r in rows] == ["2024", "2025"]
    r = rows[0]
    assert (r["vintage"], r["code_version"], r["kind"], r["series"]) == ("2024-01-30", "abc123", "published",
                                                                         "Xinjiang/total/World/CNY")
    assert (r["point"], r["central"], r["median"], r["hi95"]) == ("368.07", "median", "368.07", "789.9")
    assert r["method"] == "years ahead: mean_growth"
    nowcast = ledger.entries_from_results(_results(months=6), "2026-12-03", "abc123")[0]
    assert nowcast["method"] == "within year: skill_weighted" and "6 months known" in nowcast["note"]
    assert ledger.entries_from_results({"forecast": {"outlook": {"ok": False}}}, "d", "c") == []


def test_append_only_a_rebuild_never_rewrites_a_past_entry(tmp_path):
    path = tmp_path / "ledger" / "forecasts.csv"
    first = ledger.append(path, ledger.entries_from_results(_results(), "2026-12-03", "c1"))
    assert len(first) == 2
    before = path.read_bytes()
    # a rebuild (same key), and a new code version publishing the same numbers: nothing appended
    assert ledger.append(path, ledger.entries_from_results(_results(), "2026-12-04", "c1")) == []
    assert ledger.append(path, ledger.entries_from_results(_results(point=368.0701), "2026-12-04", "c2")) == []
    assert path.read_bytes() == before
    # a new code version with other numbers for 2024: one row appended, every earlier byte kept
    new = ledger.append(path, ledger.entries_from_results(_results(hi80=600.0), "2026-12-05", "c3"))
    assert [r["target_year"] for r in new] == ["2024"]
    after = path.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
    # a new vintage: both targets appended
    assert len(ledger.append(path, ledger.entries_from_results(_results(as_of="2024-03-20"), "2026-12-06", "c3"))) == 2
    assert path.read_bytes().startswith(after)
    rows = ledger.read(path)
    assert len(rows) == 5 and rows[0]["code_version"] == "c1" and rows[2]["hi80"] == "600"


def test_a_ledger_edited_by_hand_is_refused(tmp_path):
    path = tmp_path / "forecasts.csv"
    path.write_text("vintage,point\n2024-01-30,1\n", encoding="utf-8")
    with pytest.raises(ledger.LedgerError, match="forecasts.csv, line 1"):
        ledger.append(path, ledger.entries_from_results(_results(), "d", "c"))
    assert path.read_text(encoding="utf-8") == "vintage,point\n2024-01-30,1\n"


def test_scored_against_published_actuals_by_hand():
    rows = ledger.read(ROOT / ledger.LEDGER)
    s = ledger.scored(rows, {2024: 400.0}, "Xinjiang/total/World/CNY")
    first = next(r for r in s if r["code_version"].startswith("76963ad") and r["target_year"] == "2024")
    assert first["actual"] == 400.0 and first["error_pct"] == pytest.approx(100 * (357.33 - 400) / 400)
    assert first["in80"] is True and first["in95"] is True
    later = [r for r in s if r["target_year"] == "2025"]
    assert later and all(r["actual"] is None and r["in80"] is None for r in later)
    assert ledger.scored(rows, {2024: 400.0}, "Horgos/total/World/CNY") == []


def test_the_committed_ledger_holds_the_recovered_earlier_outlooks():
    rows = ledger.read(ROOT / ledger.LEDGER)
    rec = [r for r in rows if r["kind"] == "recovered"]
    assert len(rec) == 8 and {r["vintage"] for r in rec} == {"2024-01-30"}
    by = {(r["code_version"][:7], r["target_year"]): float(r["point"]) for r in rec}
    assert by[("76963ad", "2024")] == pytest.approx(357.33)         # the first edition
    assert by[("df0ca5b", "2024")] == pytest.approx(396.0016)       # the second edition
    for r in rec:     # each commit named exists in the history (when the history is there)
        got = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-t", r["code_version"]], capture_output=True,
                             text=True)
        if got.returncode == 0:
            assert got.stdout.strip() == "commit"


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture
def checkout(tmp_path):
    """A committed checkout with a default run's results.json (and the stale warning's calendar)."""
    root = tmp_path / "proj"
    run = root / "reports" / "runs" / "default"
    run.mkdir(parents=True)
    res = _results()
    res["forecast"]["calendar"] = {"latest_period": "the year 2023", "latest_end": "2023-12",
                                   "latest_published": "2024-01-23", "period": "January-February 2024",
                                   "end": "2024-02", "expected": "2024-03-20", "earliest": "2024-03-16",
                                   "latest": "2024-03-25", "lag_median": 20, "lag_low": 16, "lag_high": 25,
                                   "releases": 24}
    (run / "results.json").write_text(json.dumps(res), encoding="utf-8")
    (root / "code.py").write_text("x = 1\n", encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "code.py")
    _git(root, "commit", "-qm", "code")
    return SimpleNamespace(root=root, runs=root / "reports" / "runs")


def test_after_build_appends_the_default_edition_only(checkout, monkeypatch):
    from xjtrade.report.params import RunParams
    monkeypatch.setenv("XJTRADE_TODAY", "2024-03-01")
    log = []
    from xjtrade.pipeline import Params
    # what `xjtrade build` passes: the plain validated values (no pydantic); a no-op build asks nothing
    assert ledger.after_build(checkout, Params(RunParams().notebook_parameters()), log=log.append,
                              ledger=False) == []
    new = ledger.after_build(checkout, Params(RunParams().notebook_parameters()), log=log.append)
    assert len(new) == 2 and new[0]["written"] == "2024-03-01" and len(new[0]["code_version"]) == 40
    assert any("appended" in line for line in log)
    before = (checkout.root / ledger.LEDGER).read_bytes()
    # a rebuild appends nothing (and the ledger's own change does not count as a local change)
    assert ledger.after_build(checkout, RunParams(), log=log.append) == []
    # other editions never write
    assert ledger.after_build(checkout, RunParams(name="default", horizon=2), log=log.append) == []
    assert ledger.after_build(checkout, RunParams(name="horgos"), log=log.append) == []
    assert (checkout.root / ledger.LEDGER).read_bytes() == before


def test_after_build_refuses_uncommitted_code(checkout):
    from xjtrade.report.params import RunParams
    (checkout.root / "code.py").write_text("x = 2\n", encoding="utf-8")
    log = []
    assert ledger.after_build(checkout, RunParams(), log=log.append) == []
    assert not (checkout.root / ledger.LEDGER).exists()
    assert any("not appended" in line for line in log)


def test_after_build_warns_when_the_record_is_stale(checkout, monkeypatch):
    """With "today" fixed after the expected date of the next release, the build log warns."""
    from xjtrade.report.params import RunParams
    log = []
    monkeypatch.setenv("XJTRADE_TODAY", "2024-04-15")
    ledger.after_build(checkout, RunParams(horizon=2), log=log.append)
    assert any(line.startswith("warning: The record may be out of date") and "January-February 2024" in line
               for line in log)
    log.clear()
    monkeypatch.setenv("XJTRADE_TODAY", "2024-03-21")
    ledger.after_build(checkout, RunParams(horizon=2), log=log.append)
    assert not any("out of date" in line for line in log)
