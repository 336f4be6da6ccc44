"""The comparison page of a sweep, for readers: years as years, labelled columns, the settings every
scenario shares said once, and a grid where nothing could be estimated says so and is not listed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from xjtrade.project import Project
from xjtrade.report.editions import changes_words, editions
from xjtrade.sweep import edition

REASON = ("no outlook can be given for Horgos port total trade: its latest figure covers January-November 2022, "
          "too long before 2026 to say anything about the coming year")


def _grid(tmp_path: Path, n: int = 2):
    return SimpleNamespace(title="Ports compared", path=tmp_path / "ports.yaml", scenarios=[None] * n,
                           varying=["entity"], kind="scenarios")


def _rows(status: str = "not estimable") -> pd.DataFrame:
    base = {"partner": "World", "flow": "total", "currency": "CNY", "as_of": "", "models": "naive,mean_growth",
            "target": "outlook", "period": "", "status": status, "reason": REASON if status != "ok" else ""}
    return pd.DataFrame([
        # Horgos: 110.64 (2017, implied by R0068's +22.2 %) and 135.2 (2018, R0068) bn yuan
        {**base, "scenario": "0001-horgos", "label": "entity=Horgos port", "entity": "Horgos port", "n_years": 2,
         "latest_year": 2018.0, "latest_value": 135.2, "latest_yoy_pct": 22.2, "cagr_start": 2017.0,
         "cagr_end": 2018.0, "cagr_pct": 22.2},
        {**base, "scenario": "0002-irkeshtam", "label": "entity=Irkeshtam port", "entity": "Irkeshtam port",
         "n_years": 0, "latest_year": float("nan"), "latest_value": float("nan"), "latest_yoy_pct": float("nan")},
    ])


def test_an_all_not_estimable_sweep_says_why_once_and_is_not_listed(tmp_path):
    out = tmp_path / "reports" / "sweeps" / "ports"
    out.mkdir(parents=True)
    df = _rows()
    page = edition.write_edition(out, _grid(tmp_path), df, pd.DataFrame(columns=["scenario", "label", "error"]))
    edition.write_meta(out, _grid(tmp_path), tmp_path, df)
    html = page.read_text(encoding="utf-8")
    assert "Nothing to compare." in html and "None of the 2 scenarios could be estimated" in html
    assert "<h2>Outlook</h2>" not in html                        # no empty outlook table
    # each reason once, without the series' name the row already gives
    assert html.count("its latest figure covers January-November 2022") == 2
    assert "no outlook can be given for Horgos" not in html
    # years as years, labelled columns, no machine names
    assert "2,017.00" not in html and "2018.00" not in html
    assert re.search(r"<td class=\"num\">2017</td><td class=\"num\">2018</td>", html)
    assert "latest full year" in html and "latest_yoy_pct" not in html and "cagr_start" not in html
    assert "currency yuan" in html and "models naive and mean growth" in html
    assert json.loads((out / "edition.json").read_text())["estimable"] == 0
    assert editions(Project(tmp_path), "default") == []


def test_an_estimable_sweep_is_listed_and_shows_its_outlook(tmp_path):
    out = tmp_path / "reports" / "sweeps" / "ports"
    out.mkdir(parents=True)
    df = _rows()
    df.loc[0, ["status", "reason", "target", "period", "forecast"]] = ["ok", "", "annual", "2024", 150.0]
    html = edition.write_edition(out, _grid(tmp_path), df, pd.DataFrame(columns=["scenario", "label", "error"])
                                 ).read_text(encoding="utf-8")
    edition.write_meta(out, _grid(tmp_path), tmp_path, df)
    assert "Nothing to compare" not in html and "<h2>Outlook</h2>" in html and "150.0" in html
    assert [e["name"] for e in editions(Project(tmp_path), "default")] == ["sweeps/ports"]


def test_edition_changes_in_words_against_the_default_parameters():
    assert changes_words({"entity": "Horgos port", "start_year": 2017, "end_year": None, "horizon": 1,
                          "currency": "CNY", "as_of": None}) == "entity Horgos port; from 2017"
    assert changes_words({"entity": "Xinjiang", "start_year": 2011, "end_year": None, "horizon": 1}) == ""
    assert changes_words({"currency": "USD", "end_year": 2018, "as_of": "2022-12-31"}) == \
        "currency US dollars; to 2018; data as of 2022-12-31"


def test_the_outlook_reason_names_the_latest_figure_as_the_level_does():
    from xjtrade.report.outlook import _latest_words
    assert _latest_words(2022, 11) == "covers January-November 2022"     # Horgos: R0235, Jan-Nov 2022
    assert _latest_words(2019, 0) == "is for 2018"                       # Alashankou: the year 2018, nothing after
    assert _latest_words(2017, 1) == "covers January 2017"
