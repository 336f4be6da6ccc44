"""The run step starts the slowest notebook first (with 2 workers and 3 notebooks, the forecast notebook
starting last would add the other notebooks' time to the build's critical path)."""

from __future__ import annotations

import nbformat

from xjtrade.report.run import expected_seconds


def _notebook(path, **xjtrade_meta):
    nb = nbformat.v4.new_notebook()
    if xjtrade_meta:
        nb.metadata["xjtrade"] = xjtrade_meta
    nbformat.write(nb, path)
    return path


def test_recorded_time_first_then_declared_cost_then_zero(tmp_path):
    declared = _notebook(tmp_path / "a.ipynb", expected_seconds=60, parameters=["entity"])
    plain = _notebook(tmp_path / "b.ipynb")
    assert expected_seconds(declared) == 60.0
    assert expected_seconds(plain) == 0.0
    # the last run's times win over the declaration (they are this machine's and these parameters')
    assert expected_seconds(declared, {"a.ipynb": 12.5, "b.ipynb": 70.0}) == 12.5
    assert expected_seconds(plain, {"a.ipynb": 12.5, "b.ipynb": 70.0}) == 70.0
    assert expected_seconds(plain, {"other.ipynb": 3.0}) == 0.0
    assert expected_seconds(tmp_path / "missing.ipynb") == 0.0
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    assert expected_seconds(tmp_path / "broken.ipynb") == 0.0


def test_a_fresh_clone_starts_the_forecast_notebook_first():
    """The committed notebooks keep no durations (their bytes depend on their inputs only), so without
    a record the order comes from the declared costs: the forecast notebook (the evaluation) first."""
    from conftest import ROOT
    from xjtrade.project import notebooks_in
    notebooks = notebooks_in(ROOT / "notebooks")
    order = [nb.name for nb in sorted(notebooks, key=lambda nb: -expected_seconds(nb))]
    assert order[0] == "03-forecast.ipynb", order
    assert len(order) == 3
