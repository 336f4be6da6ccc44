"""The pseudo-real-time evaluation: vintages see only what was published by then, targets are
reported windows only, scores and the choice follow their definitions."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xjtrade.data.clean import clean
from xjtrade.data.estimates import evidence
from xjtrade.data.raw import load_raw
from xjtrade.data import vintages
from xjtrade.stats import pseudo_real_time as prt

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def raw():
    return load_raw(ROOT / "data" / "raw")


@pytest.fixture(scope="module")
def evaluated(raw, tmp_path_factory):
    figs = clean(vintages._main_subset(raw, "Xinjiang", "World")).figures
    final = evidence(figs)
    dates = vintages.release_dates(figs)
    vint = vintages.vintage_evidence(raw, dates, cache_dir=tmp_path_factory.mktemp("vintages"))
    return figs, final, vint, prt.evaluate(vint, final, n=400)


def _planted(raw, start, end, value, published):
    """raw with one more reported Xinjiang total figure, from a new source published on `published`."""
    rep, src = raw.reports, raw.sources
    base = rep[(rep["entity"] == "Xinjiang") & (rep["flow"] == "total") & (rep["partner"] == "World")
               & (rep["product"] == "all") & (rep["segment"] == "all") & (rep["indicator"] == "trade value")
               & (rep["unit"] == "billion yuan")].iloc[0].copy()
    base.update({"row_id": "R9999", "period_start": start, "period_end": end, "period_kind": "ytd",
                 "value": value, "yoy_pct": "", "qualifier": "exact", "source_id": "planted-source"})
    s = src.iloc[0].copy()
    s.update({"source_id": "planted-source", "published": published})
    return replace(raw, reports=pd.concat([rep, base.to_frame().T], ignore_index=True),
                   sources=pd.concat([src, s.to_frame().T], ignore_index=True))


def test_a_figure_published_later_is_not_used(raw, tmp_path):
    planted = _planted(raw, "2021-01", "2021-09", "999", "2023-05-01")
    before = vintages.vintage_evidence(planted, ["2022-06-30"])["2022-06-30"]
    clean_before = vintages.vintage_evidence(raw, ["2022-06-30"])["2022-06-30"]
    after = vintages.vintage_evidence(planted, ["2023-05-02"])["2023-05-02"]
    assert (2021, 9) not in before.ytd
    assert before.key() == clean_before.key()
    assert after.ytd[(2021, 9)] == pytest.approx(999.0)   # the plant works once published
    # the forecasts made at the earlier vintage are exactly those made without the plant
    final = evidence(clean(vintages._main_subset(raw, "Xinjiang", "World")).figures)
    a = pd.DataFrame(prt.forecast_vintage("2022-06-30", before, final, n=300))
    b = pd.DataFrame(prt.forecast_vintage("2022-06-30", clean_before, final, n=300))
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)


def test_targets_are_reported_windows_published_later(evaluated):
    figs, final, vint, frame = evaluated
    assert frame["vintage"].nunique() >= 20
    by_id = figs.set_index("figure_id")
    for r in frame.drop_duplicates(["vintage", "figure"]).itertuples():
        f = by_id.loc[r.figure]
        # a whole year-to-date or calendar-year window: never a month inside a spread block
        assert f["start"] % 12 == 0 and f["end"] % 12 == r.month - 1 and f["end"] // 12 == r.year
        assert f["months"] == r.month
        assert r.actual_published > r.vintage
        v = vint[r.vintage]
        assert (r.year, r.month) not in v.ytd and not (r.month == 12 and r.year in v.annual)


def test_frame_columns_and_values(evaluated):
    *_, frame = evaluated
    for col in ("vintage", "model", "target", "horizon", "point", "lo80", "hi80", "lo95", "hi95", "actual", "error"):
        assert col in frame.columns
    assert (frame["lo95"] <= frame["lo80"]).all() and (frame["lo80"] <= frame["point"] * 1.5).all()
    assert (frame["hi80"] <= frame["hi95"]).all() and (frame["lo95"] > 0).all()
    np.testing.assert_allclose(frame["error"], frame["actual"] - frame["point"])
    assert set(frame["target"]) == {"next release", "current year", "next year"}
    assert {"naive", "combination", "share_mean", "share_last", "theta", "ets", "arima", "share_recent",
            "shrunk_growth", "skill_weighted", "empirical_growth", "outlook"} <= set(frame["model"])
    # the central number is the median of the draws, inside both intervals
    assert ((frame["lo80"] <= frame["point"]) & (frame["point"] <= frame["hi80"])).all()


def test_scores_by_hand():
    frame = pd.DataFrame({"use": "within year", "bucket": "1-3 months", "model": "m",
                          "scaled_error": [0.5, -1.5], "error": [1.0, -3.0], "actual": [10.0, 20.0],
                          "in80": [True, False], "in95": [True, True], "winkler80": [1.0, 3.0],
                          "winkler95": [2.0, 2.0]})
    s = prt.scores(frame).iloc[0]
    assert s["MASE"] == pytest.approx(1.0)
    assert s["RMSSE"] == pytest.approx(math.sqrt((0.25 + 2.25) / 2))
    assert s["MAPE"] == pytest.approx((10 + 15) / 2)
    assert s["coverage80"] == 0.5 and s["coverage95"] == 1.0


def test_evaluation_reproduces_the_2023_nowcast(evaluated):
    *_, frame = evaluated
    row = frame[(frame["vintage"] == "2023-12-18") & (frame["model"] == "share_mean")
                & (frame["target"] == "current year")]
    assert len(row) == 1
    r = row.iloc[0]
    assert r["actual"] == pytest.approx(357.33) and r["horizon"] == 1
    assert 320.53 < r["lo95"] < r["point"] < r["hi95"]


def test_the_track_record_is_the_rule_applied_with_what_was_known(evaluated):
    """The rows of model 'outlook' are what the choice rule would have published at each date: within the
    year the skill-weighted combination, for the years ahead the rule's choice from the rows whose outcome
    was published by then (here always the robust default: fewer than five outcome years are scored)."""
    from xjtrade.stats import choice
    *_, frame = evaluated
    track = prt.track_record(frame)
    assert len(track) and (track["model"] == "outlook").all()
    assert set(track["within_model"]) == {"skill_weighted"}
    for v, g in track.groupby("vintage"):
        ahead = choice.choose(frame[frame["model"] != "outlook"], "years ahead", as_of=v)
        assert set(g["ahead_model"]) == {ahead.model} == {"mean_growth"}
    # within the year the outlook's rows are the combination's (same draws, same calibration)
    comb = frame[frame["model"] == "skill_weighted"].set_index(["vintage", "target"])
    w = track[track["use"] == "within year"].set_index(["vintage", "target"])
    pd.testing.assert_series_equal(w["point"], comb.loc[w.index, "point"], check_names=False)
