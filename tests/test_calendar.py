"""The release calendar and the sentences about the outlook's uncertainty: lags by hand, an injectable
"today", the stale warning, and the words generated from the results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from xjtrade.data import calendar
from xjtrade.report import forecast_words as fw
from xjtrade.report.results import CoverageRow, ForecastResults, OutlookResults, ReleaseWindow, Target

ROOT = Path(__file__).resolve().parents[1]


def _figures(rows):
    base = {"entity": "Xinjiang", "flow": "total", "partner": "World", "origin": "reported", "product": "all",
            "segment": "all", "indicator": "trade value"}
    return pd.DataFrame([{**base, "period_start": f"{e[:4]}-01", "period_end": e, "published": p} for e, p in rows])


def test_next_release_from_the_lags_by_hand():
    # lags: 2023-02 -> 03-20 (20 days), 03 -> 04-18 (18), 04 -> 05-22 (22), 05 -> 06-30 (30); a late find ignored
    figs = _figures([("2023-02", "2023-03-20"), ("2023-03", "2023-04-18"), ("2023-04", "2023-05-22"),
                     ("2023-05", "2023-06-30"), ("2023-05", "2023-07-30"), ("2013-12", "2023-10-18")])
    lg = calendar.lags(figs)
    assert list(lg.loc[lg["used"], "lag"]) == [20, 18, 22, 30]
    assert not lg.loc[lg["end"] == pd.Period("2013-12", freq="M"), "used"].iloc[0]
    w = calendar.next_release(figs)
    assert (w["period"], w["end"], w["lag_median"]) == ("January-June 2023", "2023-06", 21)
    assert w["expected"] == "2023-07-21" and w["releases"] == 4
    assert w["earliest"] <= w["expected"] <= w["latest"]
    # after a December, the next release is January-February together
    dec = _figures([("2022-10", "2022-11-20"), ("2022-11", "2022-12-20"), ("2022-12", "2023-01-20")])
    w = calendar.next_release(dec)
    assert w["period"] == "January-February 2023" and w["expected"] == "2023-03-20"
    assert calendar.next_release(dec.iloc[:2]) is None        # too few releases


def test_stale_with_a_fixed_today():
    figs = _figures([("2023-02", "2023-03-20"), ("2023-03", "2023-04-18"), ("2023-04", "2023-05-22"),
                     ("2023-05", "2023-06-30")])
    assert calendar.next_release(figs, "2023-07-25")["stale"] is False         # 4 days past: a few days' grace
    late = calendar.next_release(figs, dt.date(2023, 8, 10))
    assert late["stale"] is True and late["days_late"] == 20


def test_today_is_injectable(monkeypatch):
    monkeypatch.setenv("XJTRADE_TODAY", "2030-01-02")
    assert calendar.today() == dt.date(2030, 1, 2)
    monkeypatch.delenv("XJTRADE_TODAY")
    assert calendar.today("2024-05-06T10:00:00Z") == dt.date(2024, 5, 6)
    monkeypatch.setenv("XJTRADE_TODAY", "not a date")
    with pytest.raises(ValueError, match="XJTRADE_TODAY"):
        calendar.today()


def test_the_project_record_expects_the_next_release_in_march_2026():
    """The record ends with the 2025 full year (published 2026-01-23): January-February 2026 comes next."""
    from xjtrade.data.clean import clean
    from xjtrade.data.raw import load_raw
    figs = clean(load_raw(ROOT / "data" / "raw")).figures
    w = calendar.next_release(figs)
    assert w["latest_period"] == "the year 2025" and w["period"] == "January-February 2026"
    assert "2026-03-10" <= w["earliest"] <= w["expected"] <= w["latest"] <= "2026-03-31"


WINDOW = ReleaseWindow(latest_period="the year 2023", latest_end="2023-12", latest_published="2024-01-23",
                       period="January-February 2024", end="2024-02", expected="2024-03-20", earliest="2024-03-16",
                       latest="2024-03-25", lag_median=20, lag_low=16, lag_high=25, releases=24)


def _outlook(**kw):
    h = Target(period="2024", year=2024, month=12, point=368.1, mean=396.0, lo80=230.0, hi80=588.0, lo95=168.2,
               hi95=789.9)
    base = dict(ok=True, as_of="2024-01-30", current_year=2024, months_known=0, annual=[h], headline=h,
                base_year=2023, base_value=357.33,
                headline_growth80=[100 * (230.0 / 357.33 - 1), 100 * (588.0 / 357.33 - 1)],
                headline_coverage=CoverageRow(use="years ahead", horizon="12-17 months", n=12, years=4,
                                              empirical80=4 / 12, empirical95=11 / 12))
    return OutlookResults(**{**base, **kw})


def test_sentences_from_the_results():
    o = _outlook()
    w = fw.width_sentence(o, "billion yuan")
    assert w == ("The 2024 outlook's 80% interval, 230.0 to 588.0 billion yuan, is wide: anything from -35.6% to "
                 "+64.6% growth on 2023 would not surprise the model.")
    c = fw.coverage_sentence(o)
    assert "made 12-17 months before the end of the target year" in c and "in 4 of 12 forecasts (33.3%" in c
    assert "91.7% (95% nominal)" in c and "4 outcome years" in c
    assert "median" in fw.central_sentence(o)
    none = _outlook(headline_coverage=CoverageRow(use="within year", horizon="1-3 months known", n=0, years=0))
    assert "not known" in fw.coverage_sentence(none)
    assert fw.width_sentence(OutlookResults(ok=False), "x") == ""
    assert fw.release_sentence(WINDOW) == ("The next figures (January-February 2024) are expected around 2024-03-20 "
                                           "(between 2024-03-16 and 2024-03-25, from the publication lags of the "
                                           "latest 24 releases).")


def test_front_page_warns_when_the_build_is_past_the_expected_release(monkeypatch):
    """The front page compares the expected date with the edition's build date (or XJTRADE_TODAY)."""
    monkeypatch.delenv("XJTRADE_TODAY", raising=False)
    f = ForecastResults(outlook=_outlook(), calendar=WINDOW)
    on_time = fw.front_page(f, "billion yuan", "2024-03-22")
    assert on_time["warning"] == "" and on_time["calendar"].startswith("The next figures")
    assert "wide: anything from -35.6% to +64.6%" in on_time["outlook"]
    late = fw.front_page(f, "billion yuan", "2024-04-15")
    assert late["warning"].startswith("The record may be out of date") and "more than 7 days before 2024-04-15" in late["warning"]
    monkeypatch.setenv("XJTRADE_TODAY", "2024-03-01")
    assert fw.front_page(f, "billion yuan", "2024-04-15")["warning"] == ""
