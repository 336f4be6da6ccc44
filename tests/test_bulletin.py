"""The reader notes of a statistical bulletin (issue 21 item 8), the sources chapter's counts (item 7)
and the ledger's method labels (issue 20): the "things you need to know" box, the citation with the
edition's name and data date, the licence and contact in every page's footer, the changes between
editions from the ledger, the revisions found in the data, and counts equal to the rows listed."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from xjtrade.report import bulletin, ledger, pages, revisions
from xjtrade.report.results import load_results

MANIFEST = {"build_date": "2026-12-07", "data_latest_source": "2026-01-30"}
CONFIG = {"book": {"author": "Xinjiang Trade Monitor contributors", "site-url": "https://example.org/r/default/site/"},
          "xjtrade": {"contact": {"name": "Trade Desk <team>", "email": "desk@example.org"}}}
CALENDAR = {"latest_period": "the year 2025", "latest_end": "2025-12", "latest_published": "2026-01-23",
            "period": "January-February 2026", "end": "2026-02", "expected": "2026-03-21", "earliest": "2026-03-17",
            "latest": "2026-03-26", "lag_median": 21, "lag_low": 17, "lag_high": 26, "releases": 24}
REVISION = {"period": "Jan-Apr 2023", "first_id": "R0285", "first_value": 94.95, "first_published": "2023-06-09",
            "later_id": "DPY-4be4fbc3", "later_value": 92.2408, "later_published": "2024-05-21", "change_pct": -2.8533}
SMALL = {"period": "2022", "first_id": "R0393", "first_value": 246.36, "first_published": "2023-10-18",
         "later_id": "DPY-175b6b93", "later_value": 244.9143, "later_published": "2024-01-24", "change_pct": -0.5868}


def _ledger_row(written, vintage, code, kind, year, point, method="years ahead: mean_growth"):
    return {"vintage": vintage, "written": written, "code_version": code, "kind": kind, "target_year": year,
            "point": point, "central": "median", "lo80": point * 0.8, "hi80": point * 1.2, "method": method}


LEDGER = [_ledger_row("2026-11-22", "2024-01-30", "76963ad5" * 5, "recovered", 2024, 357.33,
                      "years ahead: naive (annual totals 2022-2023 only)"),
          _ledger_row("2026-12-02", "2024-01-30", "47ef9026" * 5, "recovered", 2024, 395.8),
          _ledger_row("2026-12-07", "2026-01-30", "26934bc9" * 5, "published", 2026, 564.67),
          _ledger_row("2026-12-07", "2026-01-30", "26934bc9" * 5, "published", 2027, 598.93)]


def _results(name="default", as_of=None, revisions_=None, cited=107, ledger_rows=LEDGER, calendar=CALENDAR,
             currency="CNY"):
    raw = {"parameters": {"name": name, "title": "Xinjiang Trade Monitor", "entity": "Xinjiang", "flow": "total",
                          "partner": "World", "currency": currency, "as_of": as_of, "break_year": 2022},
           "data": {"reported_figures": 436, "sources": 123, "derived_figures": 548, "derived_in_use": 59,
                    "sources_cited": cited,
                    **({"revisions": revisions_} if revisions_ is not None else {})},
           "forecast": {"outlook": {"ok": False, "reason": "r"}, "calendar": calendar, "ledger": ledger_rows}}
    return load_results(json.dumps(raw))


REV_FACTS = {"threshold_pct": 0.1, "n": 2, "downward": 2, "largest": REVISION, "rows": [SMALL, REVISION]}


# ---------------------------------------------------------------- the ledger's method labels (issue 20)

def test_ledger_method_shows_the_registry_label_and_the_csv_keeps_the_id():
    assert ledger.method_label("years ahead: mean_growth") == "years ahead: mean growth"
    assert ledger.method_label("within year: skill_weighted") == "within year: skill-weighted combination"
    assert ledger.method_label("ses") == "simple exponential smoothing"
    # a recovered entry's description is no registry id: kept as written
    text = "years ahead: naive (annual totals 2022-2023 only; normal intervals on levels)"
    assert ledger.method_label(text) == text
    from xjtrade.report.forecast_tables import ledger_table
    from xjtrade.report.results import LedgerRow
    table = ledger_table([LedgerRow(**r) for r in LEDGER])
    assert list(table["method"]) == ["years ahead: naive (annual totals 2022-2023 only)", "years ahead: mean growth",
                                     "years ahead: mean growth", "years ahead: mean growth"]
    # the committed ledger keeps the ids
    rows = ledger.read(ledger.LEDGER) if ledger.LEDGER.exists() else []
    assert not rows or any(r["method"] == "years ahead: mean_growth" for r in rows)


# ---------------------------------------------------------------- the contact setting

def test_contact_setting_is_read_and_checked():
    c = bulletin.contact(CONFIG)
    assert (c.name, c.email, c.url) == ("Trade Desk <team>", "desk@example.org", None)
    assert bulletin.contact({}) is None
    assert bulletin.contact({"xjtrade": {"contact": "A. Name"}}).name == "A. Name"
    with pytest.raises(bulletin.SettingsError, match=r"xjtrade\.contact\.email"):
        bulletin.contact({"xjtrade": {"contact": {"name": "x", "email": "not an address"}}})
    with pytest.raises(bulletin.SettingsError, match=r"xjtrade\.contact\.url"):
        bulletin.contact({"xjtrade": {"contact": {"name": "x", "url": "javascript:alert(1)"}}})
    with pytest.raises(bulletin.SettingsError, match=r"xjtrade\.contact\.phone"):
        bulletin.contact({"xjtrade": {"contact": {"name": "x", "phone": "1"}}})
    from xjtrade.report.render import RenderError          # the CLI reports it as any bad key of _quarto.yml
    assert issubclass(bulletin.SettingsError, RenderError)
    with pytest.raises(bulletin.SettingsError, match="needs a 'name'"):
        bulletin.contact({"xjtrade": {"contact": {"email": "a@b.org"}}})


def test_the_projects_quarto_config_has_a_valid_contact(root):
    import yaml
    config = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8"))
    assert bulletin.contact(config).name == "Xinjiang Trade Monitor contributors"


# ---------------------------------------------------------------- citation and footer

def test_citation_names_the_edition_and_its_data_date():
    cite = bulletin.citation(_results(), MANIFEST, CONFIG)
    assert cite == ("Xinjiang Trade Monitor contributors (2026). Xinjiang Trade Monitor, edition “default”, "
                    "data as of 2026-01-30, built 2026-12-07. https://example.org/r/default/site/")
    # an edition as of a date cites that date, not the latest source's
    cite = bulletin.citation(_results("asof-2022", as_of="2022-12-31"), MANIFEST, {})
    assert "edition “asof-2022”, data as of 2022-12-31" in cite and "https" not in cite


def test_footer_holds_licence_citation_and_contact_escaped():
    notes = bulletin.footer_html(_results(), MANIFEST, CONFIG)
    assert "edition “default”, data as of 2026-01-30" in notes
    assert '<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">' in notes
    assert "Trade Desk &lt;team&gt;" in notes and "<team>" not in notes     # data is text
    assert '<a href="mailto:desk@example.org">' in notes
    portable = '<body><main>x</main><footer class="site-footer">\n<p>T</p>\n</footer>\n</body>'
    page = bulletin.add_footer(portable, notes)
    assert page.index('id="reader-notes"') < page.index("</footer>") and page.count("<footer") == 1
    assert bulletin.add_footer(page, notes) == page                         # once
    quarto = '<body><div id="quarto-content">x</div><script></script></body></html>'
    page = bulletin.add_footer(quarto, notes)
    assert '<footer class="reader-footer">' in page and page.index("reader-notes") < page.index("</body>")


# ---------------------------------------------------------------- the box

def test_things_to_know_states_the_results():
    box = bulletin.things_to_know(_results(revisions_=REV_FACTS))
    text = box.replace("\\", "")
    assert box.startswith("::: {.things-to-know}") and "**Things you need to know**" in box
    for topic in ("Not official statistics", "Ports and zones are not parts of the region", "Converted figures",
                  "Rounded figures", "How sources were chosen", "Revisions", "Release dates"):
        assert f"**{topic}.**" in box, topic
    assert "published only in US dollars are converted to yuan" in text
    assert "107 sources supply this edition's figures" in text
    assert ("2 earlier figures of this series differ by more than 0.1% from what a later release implies, "
            "2 of them downward") in text
    assert ("the largest: Jan-Apr 2023, first printed as 94.95 billion yuan ([R0285](figures.html#R0285)), 92.24 "
            "implied by the release of 2024-05-21 (-2.85%)") in text
    assert ("The latest figures (the year 2025) were published on 2026-01-23; the next (January-February 2026) "
            "are expected around 2026-03-21") in text
    one = bulletin.things_to_know(_results(revisions_={**REV_FACTS, "n": 1, "downward": 1, "rows": [REVISION]}))
    assert ("1 earlier figure of this series differs by more than 0.1% from what a later release implies: "
            "Jan-Apr 2023, first printed") in one.replace("\\", "")
    # in dollars the conversion goes the other way; without revisions or a calendar those lines say so or go
    usd = bulletin.things_to_know(_results(currency="USD", revisions_={"threshold_pct": 0.1}, calendar=None))
    assert "published only in yuan are converted to US dollars" in usd
    assert "No earlier figure of this series differs by more than 0.1%" in usd and "Release dates" not in usd



def test_box_counts_and_lists_the_converted_years_and_says_why_no_release_date():
    """The conversion line gives how many years of the series were converted and which (from the growth
    results); a series with no regular releases says why no date is given (issue 21, items 6 and 8)."""
    raw = json.loads(_results().model_dump_json(by_alias=True))
    raw["growth"] = {"converted_years": [2011, 2012, 2014, 2015, 2016, 2017, 2018]}
    text = bulletin.things_to_know(load_results(json.dumps(raw))).replace("\\", "")
    assert ("In this edition's annual series, 7 years were converted: 2011, 2012 and 2014-2018.") in text
    raw["growth"] = {"converted_years": [2018]}
    assert "1 year was converted: 2018." in bulletin.things_to_know(load_results(json.dumps(raw)))
    raw["growth"] = {"converted_years": []}
    raw["forecast"]["calendar"] = None
    raw["forecast"]["no_release_date"] = {"reasons": ["few"], "releases": 4, "timely": 4, "recent": 1,
                                          "latest_period": "the year 2021", "latest_published": "2022-01-20",
                                          "min_releases": 3, "max_lag_days": 90}
    box = bulletin.things_to_know(load_results(json.dumps(raw))).replace("\\", "")
    assert "No year of this edition's annual series was converted." in box
    assert ("- **Release dates.** The latest figures of this series (the year 2021) were published on 2022-01-20; "
            "no date can be given for the next (the main points say why).") in box
    assert "expected around" not in box


# ---------------------------------------------------------------- the about page

def test_about_page_has_citation_licence_contact_changes_and_revisions():
    manifest = {**MANIFEST, "parameters": {"name": "default", "as_of": None}, "inputs": {}, "versions": {}}
    page = pages.about_page(manifest, _results(revisions_=REV_FACTS), CONFIG).replace("\\", "")
    for heading in ("## How to cite", "## Licence", "## Contact", "## Changes between editions", "## Revisions"):
        assert heading in page, heading
    assert "edition “default”, data as of 2026-01-30" in page
    assert "Trade Desk <team> (<desk@example.org>)" in page
    # the changes between editions: one row a ledger edition, the change of each target from the one before
    rows = [line for line in page.splitlines() if line.startswith("| 2026-")]
    assert len(rows) == 3
    assert "| 2026-12-02 | 2024-01-30 | recovered | 47ef902 | 2024: 395.8 (years ahead: mean growth) |" in rows[1]
    assert "same data, new code, outlook 2024: 357.3 to 395.8" in rows[1]
    assert "data to 2026-01-30 (was 2024-01-30), new target years" in rows[2] and "mean_growth" not in page
    # the revisions table: one row a revision, with the figures' links
    rev = [line for line in page.splitlines() if line.startswith("| Jan-Apr 2023") or line.startswith("| 2022 ")]
    assert rev == ["| 2022 | 246.36 ([R0393](figures.html#R0393)) | 2023-10-18 | 244.91 ([DPY-175b6b93]"
                   "(figures.html#DPY-175b6b93)) | 2024-01-24 | -0.59% |",
                   "| Jan-Apr 2023 | 94.95 ([R0285](figures.html#R0285)) | 2023-06-09 | 92.24 ([DPY-4be4fbc3]"
                   "(figures.html#DPY-4be4fbc3)) | 2024-05-21 | -2.85% |"]
    empty = pages.about_page(manifest, _results(ledger_rows=[]), {}).replace("\\", "")
    assert "The forecast ledger records no earlier edition of this series." in empty
    assert "No contact is set for this report" in empty


# ---------------------------------------------------------------- revisions found in the data

def _fig(fid, period, value, published, origin="reported", method="reported", selected=True, **kw):
    start, end = period
    row = {"figure_id": fid, "entity": "Xinjiang", "flow": "total", "partner": "World", "product": "all",
           "segment": "all", "indicator": "trade value", "period_start": start, "period_end": end,
           "period_label": f"{start}..{end}", "value": value, "value_cny_bn": value, "value_usd_bn": value / 7,
           "published": published, "origin": origin, "method": method, "selected": selected}
    return {**row, **kw}


def test_revisions_pair_first_prints_with_what_later_releases_imply():
    later = {"origin": "derived", "method": revisions.IMPLIED, "selected": False}
    figs = pd.DataFrame([
        _fig("R1", ("2022-01", "2022-12"), 100.0, "2023-01-20"),
        _fig("D1", ("2022-01", "2022-12"), 98.5, "2024-01-20", **later),             # revised down 1.5 %
        _fig("R2", ("2022-01", "2022-06"), 50.0, "2022-07-20"),
        _fig("D2", ("2022-01", "2022-06"), 50.02, "2023-07-20", **later),             # 0.04 %: rounding
        _fig("R3", ("2021-01", "2021-12"), 80.0, "2022-01-20"),
        _fig("D3", ("2021-01", "2021-12"), 90.0, "2021-06-01", **later),              # published before: no
        _fig("R4", ("2021-01", "2021-03"), 20.0, "2021-04-20", selected=False),       # not the figure used
        _fig("D4", ("2021-01", "2021-03"), 25.0, "2022-04-20", **later),
        _fig("R5", ("2022-01", "2022-12"), 100.0, "2023-01-20", partner="Kazakhstan"),  # another series
        _fig("D5", ("2022-01", "2022-12"), 90.0, "2024-01-20", partner="Kazakhstan", **later),
    ])
    out = revisions.revisions(figs, "Xinjiang", "total", "World", "CNY")
    assert [(r["first_id"], r["later_id"], r["change_pct"]) for r in out] == [("R1", "D1", -1.5)]
    facts = revisions.facts(figs, "Xinjiang", "total", "World", "CNY")
    assert (facts["n"], facts["downward"], facts["largest"]["first_id"]) == (1, 1, "R1")
    # as of a date before the later release: nothing revised yet
    assert revisions.revisions(figs, "Xinjiang", "total", "World", "CNY", as_of="2023-12-31") == []
    # in dollars: the same pair, in the dollar values
    assert revisions.revisions(figs, "Xinjiang", "total", "World", "USD")[0]["first_value"] == round(100 / 7, 4)


# ---------------------------------------------------------------- the sources chapter's counts (item 7)

def _entries(text: str) -> int:
    return len(re.findall(r"^- \[\]\{#src-", text, re.M))


def test_sources_chapter_count_is_the_count_of_what_is_listed():
    sources = pd.DataFrame({"source_id": [f"s{i}" for i in range(7)], "title": [f"T{i}" for i in range(7)],
                            "publisher": ["P"] * 7, "published": [f"2024-01-0{i + 1}" for i in range(7)],
                            "url": [f"https://example.org/{i}" for i in range(7)], "language": ["en"] * 7,
                            "date_inferred": ["no"] * 7, "figures": [1] * 7})
    page = pages.sources_page(sources, None, {"s1", "s3", "s5"})
    pdf_part, site_only = page.split('::: {.content-visible when-format="html"}', 1)
    assert "The 3 sources of this edition's figures are listed first" in pdf_part
    assert _entries(pdf_part) == 3                                  # what the PDF lists
    assert "(7 sources in all;" in site_only and _entries(page) == 7  # what the site lists
    whole = pages.sources_page(sources, "2024-12-31", None)
    assert "7 sources are listed, by publication date" in whole and _entries(whole) == 7
