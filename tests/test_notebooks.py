"""The notebooks run with papermill under non-default parameters, and the results change as they should."""

from __future__ import annotations

import json

import nbformat
import pytest

from xjtrade.report.params import load_params
from xjtrade.report.run import RunError, run_notebooks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory, warm_cache):
    from conftest import copy_project
    from xjtrade.data.processed import build_dataset
    from xjtrade.project import Project
    p = Project(copy_project(tmp_path_factory.mktemp("nbproject") / "project", warm=warm_cache))
    build_dataset(p.raw, p.processed)
    return p


def _run(project, **overrides):
    params = load_params(project.params / "default.yaml", overrides)
    result = run_notebooks(project, params, log=lambda m: None)
    return result, json.loads((result.folder / "results.json").read_text())


@pytest.fixture(scope="module")
def horizon3(project):
    return _run(project, name="h3", horizon=3)


@pytest.fixture(scope="module")
def vintage(project):
    return _run(project, name="v2022", as_of="2022-12-31", end_year=2022, break_year=2021)


def test_run_folder_layout(horizon3):
    result, res = horizon3
    folder = result.folder
    for name in ("01-data.ipynb", "02-growth.ipynb", "03-forecast.ipynb"):
        nb = nbformat.read(folder / "notebooks" / name, 4)
        assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        tags = [c.metadata.get("tags", []) for c in nb.cells]
        assert ["injected-parameters"] in tags, name
    for fig in ("coverage", "annual", "annual_estimates", "outlook", "track_record", "shares"):
        assert (folder / "figures" / f"{fig}.svg").stat().st_size > 1000
        assert (folder / "figures" / f"{fig}.png").stat().st_size > 1000
    assert (folder / "tables" / "evaluation.csv").exists()
    assert set(res) >= {"parameters", "data", "growth", "forecast", "dataset"}


def test_outlook_reaches_horizon_years_after_the_current_one(horizon3):
    """The data run to January 2026 (the 2025 full year), so 2026 is the current year and horizon 3 reaches 2029."""
    _, res = horizon3
    assert res["parameters"]["horizon"] == 3
    assert [a["year"] for a in res["forecast"]["outlook"]["annual"]] == [2026, 2027, 2028, 2029]
    assert res["growth"]["latest_value"] == pytest.approx(520.37)


def test_as_of_uses_only_the_data_known_then(vintage, horizon3):
    _, res = vintage
    _, full = horizon3
    assert res["data"]["last_published"] <= "2022-12-31"
    assert res["data"]["reported_figures"] < full["data"]["reported_figures"]
    # 2022 is nowcast from its January-November release, and 2023 is forecast from there
    out = res["forecast"]["outlook"]
    assert out["current_year"] == 2022 and out["months_known"] == 11
    assert out["nowcast"]["point"] > 219.4
    assert [a["year"] for a in out["annual"]] == [2022, 2023]


def test_port_entity(project):
    result, res = _run(project, name="port", entity="Horgos port", start_year=2017,
                       models=["naive", "drift", "mean_growth"])
    assert res["parameters"]["entity"] == "Horgos port"
    out = res["forecast"]["outlook"]    # a sparse series: a plain statement, never a forecast of an invented series
    assert out["ok"] is False and "no outlook" in out["reason"] and out["annual"] == []
    assert res["data"]["reported_figures"] < 40
    assert res["growth"]["trend"]["error"].startswith("trend_growth needs at least 3")
    text = (result.folder / "notebooks" / "02-growth.ipynb").read_text()
    assert "Horgos port" in text


def test_failing_cell_stops_the_run_and_keeps_the_notebook(project, tmp_path):
    bad = nbformat.v4.new_notebook()
    bad.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    bad.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('boom')")]
    path = tmp_path / "99-raise.ipynb"
    nbformat.write(bad, path)
    params = load_params(project.params / "default.yaml", {"name": "broken"})
    with pytest.raises(RunError) as exc:
        run_notebooks(project, params, log=lambda m: None, notebooks=[path])
    msg = str(exc.value)
    # papermill injects the parameters cell first: the raising cell is index 2 of the executed notebook
    assert "99-raise.ipynb" in msg and "(index 2)" in msg and "ValueError: boom" in msg
    kept = project.runs / "broken.failed" / "99-raise.ipynb"
    assert kept.exists()
    assert not (project.runs / "broken").exists()


def _stored_check_output(name: str) -> dict:
    """The key results printed by the `# NBVAL_CHECK_OUTPUT` cell of a committed notebook."""
    nb = nbformat.read(project_root() / "notebooks" / name, 4)
    cell = next(c for c in nb.cells if "NBVAL_CHECK_OUTPUT" in c.source)
    return json.loads("".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream"))


def project_root():
    from conftest import ROOT
    return ROOT


def assert_close(actual, expected, where="results"):
    """Same structure, same strings and integers, floats within 1e-3 (they are printed to 4 decimals
    and differ in the last digit across BLAS builds: nbval's sanitizer hides them, this compares them)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(actual) == sorted(expected), where
        for k in expected:
            assert_close(actual[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) or isinstance(actual, float):
        assert actual == pytest.approx(expected, rel=1e-4, abs=1e-3), where
    else:
        assert actual == expected, where


@pytest.mark.parametrize("section, notebook", [("data", "01-data.ipynb"), ("growth", "02-growth.ipynb")])
def test_key_results_match_the_committed_notebooks_within_tolerance(horizon3, section, notebook):
    """The data and growth notebooks do not read `horizon`: their key results under horizon=3 are the
    committed (default) ones, floats compared with a tolerance instead of nbval's exact text."""
    _, res = horizon3
    assert_close(res[section], _stored_check_output(notebook), section)
