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


# ---------------------------------------------------------------- a series with no regular release (issue 21, item 6)

def test_three_irregular_releases_give_no_date_and_say_why():
    """A port printed now and then: 3 timely releases (2019-03, 2019-11, 2021-12), of which only the
    latest falls in the twelve months up to it: the record does not follow it release by release."""
    figs = _figures([("2019-03", "2019-04-20"), ("2019-11", "2019-12-20"), ("2021-12", "2022-01-20")])
    assert list(calendar.lags(figs)["used"]) == [True, True, True]     # all timely: not the reason
    assert calendar.next_release(figs) is None
    gap = calendar.no_date(figs)
    assert gap["reasons"] == ["few"] and (gap["releases"], gap["timely"], gap["recent"]) == (3, 3, 1)
    assert (gap["latest_period"], gap["latest_published"]) == ("the year 2021", "2022-01-20")
    assert fw.no_date_sentence(gap).replace("\\", "") == (
        "No date can be given for this series' next figures: the record holds 3 releases of it; only 1 of them came "
        "out in the twelve months up to the latest and within 90 days of its period's end, fewer than the 3 a "
        "release calendar is learned from.")
    assert fw.no_date_words(gap) == ("the record has too few recent releases of this series, so no date can be "
                                     "given for its next figures")
    # the same three releases within a year are a calendar (2021-02 to 2021-12: 10 months apart at most)
    year = _figures([("2021-02", "2021-03-20"), ("2021-07", "2021-08-20"), ("2021-12", "2022-01-20")])
    assert calendar.no_date(year) is None and calendar.next_release(year)["period"] == "January-February 2022"
    # one more release a year before the first does not help: it is outside the twelve months
    assert calendar.no_date(_figures([("2020-12", "2021-01-20"), ("2021-07", "2021-08-20"),
                                      ("2021-12", "2022-01-20")]))["recent"] == 2


def test_a_monthly_series_whose_releases_stopped_years_ago_gets_no_date():
    figs = _figures([("2022-09", "2022-10-20"), ("2022-10", "2022-11-20"), ("2022-11", "2022-12-20")])
    assert calendar.next_release(figs)["expected"] == "2023-01-20"            # no edition date: a date
    assert calendar.next_release(figs, as_of="2023-06-30")["expected"] == "2023-01-20"   # late, not stopped
    assert calendar.next_release(figs, as_of="2026-01-30") is None
    gap = calendar.no_date(figs, "2026-01-30")
    assert gap["reasons"] == ["stopped"] and gap["as_of"] == "2026-01-30" and gap["recent"] == 3
    assert fw.no_date_sentence(gap).replace("\\", "") == (
        "No date can be given for this series' next figures: the record holds 3 releases of it; the latest, for "
        "January-November 2022, was published on 2022-12-20, more than a year before the latest release in the "
        "record.")
    assert fw.no_date_words(gap) == ("the latest release of this series is more than a year old, so no date can "
                                     "be given for its next figures")


def test_too_few_timely_releases_and_none_at_all():
    few = _figures([("2023-02", "2023-03-20"), ("2023-03", "2023-09-30")])       # the second found 6 months later
    gap = calendar.no_date(few)
    assert gap["reasons"] == ["few"] and (gap["releases"], gap["timely"], gap["recent"]) == (2, 1, 1)
    one = calendar.no_date(_figures([("2023-02", "2023-09-30")]), "2026-01-30")
    assert one["reasons"] == ["few", "stopped"] and one["recent"] == 0
    assert fw.no_date_sentence(one).replace("\\", "") == (
        "No date can be given for this series' next figures: the record holds only 1 release of it, fewer than the "
        "3 a release calendar is learned from; the latest, for January-February 2023, was published on 2023-09-30, "
        "more than a year before the latest release in the record.")
    columns = list(_figures([("2023-02", "2023-03-20")]).columns)
    none = calendar.no_date(pd.DataFrame(columns=columns))
    assert none["reasons"] == ["few"] and none["releases"] == 0 and none["latest_period"] is None
    assert fw.no_date_sentence(none) == ("No date can be given for this series' next figures: the record holds no "
                                         "year-to-date or annual release of it.")
    assert fw.no_date_sentence(None) == "" and fw.no_date_words(None) == ""


def test_the_horgos_record_gives_no_date_and_the_region_one():
    """Horgos port's few releases (none since January-November 2022) do not borrow the region's calendar."""
    from xjtrade.data.clean import clean
    from xjtrade.data.raw import load_raw
    figs = clean(load_raw(ROOT / "data" / "raw")).figures
    gap = calendar.no_date(figs, "2026-01-30", entity="Horgos port")
    assert calendar.next_release(figs, entity="Horgos port", as_of="2026-01-30") is None
    assert gap["reasons"] == ["few", "stopped"] and gap["latest_period"] == "January-November 2022"
    assert gap["recent"] < calendar.MIN_RELEASES <= gap["releases"]
    assert calendar.next_release(figs, as_of="2026-01-30")["period"] == "January-February 2026"
    # the end-2022 edition's date: the region's releases of 2022, a date for the year 2022
    old = figs[figs["published"].astype(str) <= "2022-12-31"]
    assert calendar.next_release(old, as_of="2022-12-31")["period"] == "the year 2022"


def test_front_page_and_chapter_say_why_there_is_no_date():
    gap = calendar.no_date(_figures([("2019-03", "2019-04-20"), ("2019-11", "2019-12-20"),
                                     ("2021-12", "2022-01-20")]), "2026-01-30")
    assert gap["reasons"] == ["few", "stopped"]
    f = ForecastResults(outlook=_outlook(), calendar=None, no_release_date=gap)
    words = fw.front_page(f, "billion yuan", "2026-12-07")
    assert words["warning"] == ""                                      # no stale warning without a calendar
    assert words["calendar"] == fw.next_release_sentence(f) == fw.no_date_sentence(gap)
    assert "fewer than the 3 a release calendar is learned from; the latest, for the year 2021" in words["calendar"]
    assert words["calendar"].endswith("2022\\-01\\-20, more than a year before the latest release in the record.")
    assert fw.next_release_sentence(ForecastResults(outlook=_outlook(), calendar=WINDOW)).startswith(
        "The next figures (January-February 2024) are expected around 2024-03-20")
