"""The results contract: what notebooks write is checked when saved and read back typed."""

from __future__ import annotations

import json

import pytest

from xjtrade.report.results import ResultsError, load_results, section_json, validate_section


def test_a_renamed_key_fails_with_section_and_key():
    with pytest.raises(ResultsError, match=r"'growth'.*\n  - latest_valu: Extra inputs are not permitted"):
        validate_section("growth", {"latest_valu": 357.33})
    with pytest.raises(ResultsError, match="unknown results section 'forecasts'"):
        validate_section("forecasts", {})


def test_growth_section_round_trip_keeps_the_break_key():
    g = {"latest_year": 2023, "latest_value": 357.33, "break": {"testable": True, "p_value": 0.004},
         "trend": {"error": "only 1 year in the window"}}
    text = section_json("growth", g)
    assert json.loads(text) == g                    # nothing added, "break" kept under its own name
    r = load_results(json.dumps({"parameters": {"name": "x"}, "growth": g}))
    assert r.growth.break_.p_value == 0.004 and r.growth.trend.error.startswith("only 1 year")


def test_annual_outlook_series_from_results():
    from xjtrade.report.results import OutlookResults
    from xjtrade.report.series import outlook_series
    t = {"period": "2024", "year": 2024, "month": 12, "point": 396.2, "lo80": 282.7, "hi80": 521.8,
         "lo95": 230.6, "hi95": 632.6}
    assert outlook_series(OutlookResults(ok=True, annual=[t])) == {
        "years": [2024], "point": [396.2], "intervals": {80: [(282.7, 521.8)], 95: [(230.6, 632.6)]}}
    assert outlook_series(OutlookResults(ok=False, reason="no data")) is None
    assert outlook_series(None) is None
    load_results(json.dumps({"parameters": {}, "forecast": {"outlook": {"ok": True, "annual": [t]}}}))


def test_parameters_are_typed_and_checked():
    """The run's parameters in the results are the parameter schema, not a dict: a wrong one fails."""
    from xjtrade.report.params import RunParams
    r = load_results(json.dumps({"parameters": {"name": "x", "as_of": "2022-12-31", "models": ["naive"]}}))
    assert isinstance(r.parameters, RunParams) and r.parameters.as_of.isoformat() == "2022-12-31"
    assert json.loads(r.to_json())["parameters"]["as_of"] == "2022-12-31"
    assert r.with_parameters({"title": "Retitled"}).parameters.title == "Retitled"
    with pytest.raises(ResultsError, match="parameters.horizon"):
        load_results(json.dumps({"parameters": {"horizon": 99}}))
    with pytest.raises(ResultsError, match="parameters.colour"):
        load_results(json.dumps({"parameters": {"colour": "red"}}))
