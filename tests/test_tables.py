"""The run's tables: one file name per table across the notebooks (issue 21, item 3).

Two chapters once saved a table as coverage.csv, so the data chapter's "Full table as CSV" link
downloaded the forecast chapter's interval coverage.  `save_table` now claims each name for the
notebook that saves it and refuses a name another notebook of the run holds.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from xjtrade.report import display
from xjtrade.report.display import TableNameError, csv_link, save_table

ROOT = Path(__file__).resolve().parents[1]


def _ctx(tmp_path, chapter):
    return SimpleNamespace(out_dir=tmp_path, chapter=chapter)


def test_a_name_another_notebook_saved_is_refused_and_its_file_kept(tmp_path):
    kinds = pd.DataFrame({"kind of period": ["calendar year", "single month"], "reported": [30, 12],
                          "derived": [4, 40]})
    coverage = pd.DataFrame({"horizon": [1, 2], "nominal %": [80.0, 80.0], "empirical %": [75.0, 66.7]})
    save_table(_ctx(tmp_path, "data"), kinds, "coverage")
    with pytest.raises(TableNameError, match=r"'coverage' is already used by the data notebook.*forecast notebook"):
        save_table(_ctx(tmp_path, "forecast"), coverage, "coverage")
    # the first notebook's table is still the one on disk
    on_disk = pd.read_csv(tmp_path / "tables" / "coverage.csv")
    assert list(on_disk.columns) == ["kind of period", "reported", "derived"]
    assert on_disk["derived"].tolist() == [4, 40]
    # the owner may write it again (a re-run of its notebook), and another name is fine
    save_table(_ctx(tmp_path, "data"), kinds.head(1), "coverage")
    assert len(pd.read_csv(tmp_path / "tables" / "coverage.csv")) == 1
    save_table(_ctx(tmp_path, "forecast"), coverage, "interval_coverage")
    assert pd.read_csv(tmp_path / "tables" / "interval_coverage.csv")["empirical %"].tolist() == [75.0, 66.7]
    assert (tmp_path / "results" / "table_owners" / "coverage.txt").read_text().strip() == "data"
    assert not list((tmp_path / "results" / "table_owners").glob(".*.tmp"))


@pytest.mark.parametrize("bad", ["../coverage", "Coverage", "cover age", "", "a/b", "x" * 65])
def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path, bad):
    with pytest.raises(TableNameError, match="lower-case letters"):
        save_table(_ctx(tmp_path, "data"), pd.DataFrame({"a": [1]}), bad)
    assert not (tmp_path / "tables").exists()


def test_two_notebooks_racing_for_a_name_one_wins(tmp_path):
    """Notebooks run side by side: of many writers claiming one name at once, exactly one owns it."""
    start, errors, owners = threading.Barrier(8), [], []

    def claim(i):
        start.wait()
        try:
            display.claim_table(tmp_path, "outlook", f"notebook-{i}")
            owners.append(i)
        except TableNameError as exc:
            errors.append(str(exc))
    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(owners) == 1 and len(errors) == 7
    assert (tmp_path / "table_owners" / "outlook.txt").read_text().strip() == f"notebook-{owners[0]}"


def _saved_names(nb: Path) -> list[str]:
    source = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
                       if c["cell_type"] == "code")
    return re.findall(r"save_table\(ctx,\s*[^\n]+?,\s*\"([a-z0-9_]+)\"\)", source)


def test_the_notebooks_save_each_table_under_a_name_of_its_own():
    by_notebook = {nb.stem: _saved_names(nb) for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))}
    assert "data_coverage" in by_notebook["01-data"] and "interval_coverage" in by_notebook["03-forecast"]
    assert "coverage" not in sum(by_notebook.values(), [])
    every = sum(by_notebook.values(), []) + ["headline"]   # the front page's table (series.save_headline)
    assert len(every) == len(set(every)), sorted(n for n in every if every.count(n) > 1)
    # each notebook names itself in its setup cell: the owner of its tables
    for stem, chapter in (("01-data", "data"), ("02-growth", "growth"), ("03-forecast", "forecast")):
        text = (ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8")
        assert f"context_from_namespace(globals(), chapter=\\\"{chapter}\\\")" in text or \
            f"context_from_namespace(globals(), chapter='{chapter}')" in text, stem


def test_tables_saved_but_not_shown_are_linked_where_their_table_or_chart_is():
    """partner_shares (under Figure 2.3), outlook_monthly (under the outlook table) and evaluation (under
    the model comparison) each have a link; every chart drawn from saved tables links them."""
    cells = {}
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            src = "".join(c["source"])
            m = re.search(r"#\| label: ((?:fig|tbl)-[\w-]+)", src)
            if m:
                cells[m.group(1)] = src
    assert 'data="partner_shares"' in cells["fig-shares"]
    assert '("outlook_monthly", "Monthly outlook as CSV")' in cells["tbl-outlook"]
    assert '("evaluation", "Every scored forecast as CSV")' in cells["tbl-comparison"]
    for fig in ("fig-coverage", "fig-annual", "fig-estimates", "fig-outlook", "fig-track"):
        assert "data=" in cells[fig], fig


def test_links_show_only_what_this_kernel_saved(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(display, "show_markdown", shown.append)
    monkeypatch.setattr(display, "_SAVED_NAMES", set())
    table = pd.DataFrame({"target": ["total 2024"], "median": [480.0]})
    display.show_table(table, name="outlook", also=[("outlook_monthly", "Monthly outlook as CSV")])
    assert "tables/outlook.csv" in shown[-1] and "outlook_monthly" not in shown[-1]
    save_table(_ctx(tmp_path, "forecast"), pd.DataFrame({"month": ["2024-01"], "median": [40.0]}), "outlook_monthly")
    display.show_table(table, name="outlook", also=[("outlook_monthly", "Monthly outlook as CSV")])
    assert shown[-1].index("tables/outlook.csv") < shown[-1].index("[Monthly outlook as CSV](../tables/outlook_monthly.csv)")
    assert csv_link("partner_shares", text="Chart data as CSV") == (
        '::: {.content-visible when-format="html"}\n[Chart data as CSV](../tables/partner_shares.csv){.csv-link}\n:::')


# --- qualifiers carried into reader tables (issue 21, item 4, part) ----------------------------------

def test_qualifier_words_and_the_figures_page_value():
    from xjtrade.report import wording
    from xjtrade.report.site import _value_text
    assert [wording.qualifier_word(q) for q in ("about", "over", "nearly", "under", "exact", None, float("nan"))] == \
        ["about", "over", "nearly", "under", "", "", ""]
    assert _value_text(20.0, "USD bn", "about") == "about 20 USD bn"
    assert _value_text(3573.3, "CNY 100m", "exact") == "3,573 CNY 100m"
    assert _value_text(30504.6, "billion yuan") == "30,505 billion yuan"     # no "3.05e+04"
    assert _value_text(10050.0, "count", "over") == "over 10,050 count"
    assert _value_text(0.4167, "billion USD", "about") == "about 0.4167 billion USD"
    assert _value_text(float("nan"), "USD bn", "over") == ""


def test_growth_and_lineage_tables_carry_the_qualifier(processed):
    """2018's Xinjiang total was reported as "about 20 bn USD" (R0093): the growth table in dollars shows
    'about' beside it, and the yuan value derived from it keeps the word in the lineage table."""
    from xjtrade.report import chapters as xa
    from xjtrade.report.params import RunParams
    usd = xa.load_context(processed, RunParams(currency="USD", start_year=2011, end_year=2023))
    t = xa.growth_analysis(usd)["yoy_table"].set_index("year")
    assert list(t.columns[:2]) == ["qualifier", "value (billion US dollars)"]
    assert t.loc[2018, "qualifier"] == "about" and t.loc[2018, "value (billion US dollars)"] == pytest.approx(20.0)
    assert t.loc[2017, "qualifier"] == ""
    cny = xa.load_context(processed, RunParams())
    assert xa.growth_analysis(cny)["yoy_table"].set_index("year").loc[2018, "qualifier"] == "about"
    lineage = xa.lineage_table(cny).set_index("period")
    # December 2018 = the "about 20 bn USD" year (R0093) less January-November (R0106): about, too
    assert lineage.loc["Dec 2018", "reported figures behind it"] == "R0093, R0106"
    assert lineage.loc["Dec 2018", "qualifier"] == "about" and lineage.loc["Nov 2018", "qualifier"] == ""
    figures = cny.figures.set_index("figure_id")
    assert figures.loc["R0093", "qualifier"] == "about" and figures.loc["R0093", "value"] == pytest.approx(20.0)


def test_figures_page_table_downloads_under_the_page_headings():
    from xjtrade.report.catalogue import COLUMNS
    from xjtrade.report.site import figures_table_frame
    index = pd.DataFrame([dict(zip(COLUMNS, ["R0093", "Xinjiang", "total", "World", "trade value", "2018", "about",
                                             20.0, "USD bn", None, None, "reported", "", "", "yes", "s1;s2",
                                             "note"]))])
    t = figures_table_frame(index)
    assert list(t.columns) == ["figure", "period", "qualifier", "value", "unit", "growth qualifier", "growth (%)",
                               "entity", "flow",
                               "partner", "indicator", "origin", "method", "inputs", "used", "sources (primary first)",
                               "note"]
    assert t.iloc[0][["figure", "qualifier", "value", "sources (primary first)"]].tolist() == ["R0093", "about", 20.0,
                                                                                               "s1;s2"]


def test_a_figure_cells_data_link_is_staged_apart_from_its_chart():
    """Quarto makes a second output of a labelled figure cell a sub-figure ("(a)" chart, "(b)" link):
    staging moves the link into a markdown cell right after the figure, for both engines."""
    from xjtrade.report.staging import stage_notebook
    link = '::: {.content-visible when-format="html"}\n[Chart data as CSV](../tables/x.csv){.csv-link}\n:::'
    nb = {"cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": "#| label: fig-x\nshow()",
                     "outputs": [{"output_type": "display_data", "data": {"image/svg+xml": "<svg/>"}, "metadata": {}},
                                 {"output_type": "display_data", "data": {"text/markdown": link}, "metadata": {}}]},
                    {"cell_type": "code", "id": "c2", "metadata": {}, "source": "#| label: tbl-y\nshow()",
                     "outputs": [{"output_type": "display_data", "data": {"text/markdown": "| a |\n" + link},
                                  "metadata": {}}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    cells = stage_notebook(nb)["cells"]
    assert [c["cell_type"] for c in cells] == ["code", "markdown", "code"]
    assert [list(o["data"]) for o in cells[0]["outputs"]] == [["image/svg+xml"]]
    assert "".join(cells[1]["source"]) == link + "\n" and cells[1]["id"] == "c1-data"
    assert len(cells[2]["outputs"]) == 1          # a table's own link stays with its table
