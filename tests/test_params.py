"""The run-parameter schema: every bad value is refused with the parameter named."""

from __future__ import annotations

import json

import papermill as pm
import pytest

import yaml

from xjtrade.report.context import check_against_data
from xjtrade.report.params import ParameterError, RunParams, load_params, parse_overrides


def test_default_file_loads(root):
    p = load_params(root / "params" / "default.yaml")
    assert (p.entity, p.flow, p.partner, p.currency, p.horizon) == ("Xinjiang", "total", "World", "CNY", 1)
    assert p.min_origins == 8 and p.as_of is None


@pytest.mark.parametrize("name", ["asof-2022", "horgos-port", "usd-2012-2018"])
def test_scenarios_load(root, name):
    p = load_params(root / "params" / f"{name}.yaml")
    assert p.name == name


@pytest.mark.parametrize("overrides, needle", [
    ({"horizn": 3}, "horizn: unknown parameter"),
    ({"horizon": "abc"}, "horizon:"),
    ({"horizon": 0}, "horizon: Input should be greater than or equal to 1"),
    ({"models": ["loglinear"]}, "models: unknown model(s) loglinear; choose from naive"),
    ({"min_origins": 0}, "min_origins: Input should be greater than or equal to 1"),
    ({"models": ["naive", "prophet"]}, "unknown model(s) prophet"),
    ({"start_year": 2020, "end_year": 2019}, "end_year (2019) must be after start_year (2020)"),
    ({"break_year": 2005}, "break_year (2005) must fall inside the window"),
    ({"end_year": 2020, "break_year": 2022}, "break_year (2022) must fall inside the window 2012-2020"),
    ({"currency": "EUR"}, "currency:"),
    ({"name": "../../etc"}, "name:"),
    ({"entity": "__import__('os').system('x')"}, "entity"),
    ({"as_of": "2022-13-45"}, "as_of:"),
])
def test_bad_parameters_name_the_parameter(root, overrides, needle):
    with pytest.raises(ParameterError) as exc:
        load_params(root / "params" / "default.yaml", overrides)
    assert needle in str(exc.value)
    assert "default.yaml" in str(exc.value)


def test_bad_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("horizon: [unclosed\n")
    with pytest.raises(ParameterError, match="bad.yaml: not valid YAML"):
        load_params(bad)
    with pytest.raises(ParameterError, match="parameter file not found"):
        load_params(tmp_path / "missing.yaml")
    bad.write_text("- a list\n")
    with pytest.raises(ParameterError, match="expected a mapping"):
        load_params(bad)


def test_overrides_are_yaml_literals_not_code():
    assert parse_overrides(["horizon=3", "levels=[80, 90]", "as_of=null", "entity=Horgos port"]) == {
        "horizon": 3, "levels": [80, 90], "as_of": None, "entity": "Horgos port"}
    with pytest.raises(ParameterError, match="expected key=value"):
        parse_overrides(["horizon"])


def test_impossible_for_the_data(processed):
    from xjtrade.data.processed import load_processed
    figs, _, _ = load_processed(processed)
    with pytest.raises(ParameterError, match="entity: no trade figures for 'Atlantis'"):
        check_against_data(RunParams(entity="Atlantis"), figs)
    with pytest.raises(ParameterError, match="partner: Xinjiang has no figures with partner 'Mars'"):
        check_against_data(RunParams(partner="Mars"), figs)
    check_against_data(RunParams(entity="Horgos port"), figs)


def test_default_file_equals_schema_defaults(root):
    """params/default.yaml states the schema's defaults: one source, checked."""
    defaults = yaml.safe_load((root / "params" / "default.yaml").read_text())
    schema = RunParams().notebook_parameters()
    assert set(schema) - set(defaults) == {"models"}        # the registry's list, not a copy
    assert defaults == {k: v for k, v in schema.items() if k != "models"}


def test_notebook_parameters_cells_are_generated_from_the_schema(root):
    """Every notebook's parameters cell is exactly the one generated from RunParams: a new or renamed
    parameter, or a changed default, fails here until `python tools/make_notebooks.py --parameters`."""
    from xjtrade.report.params import parameters_cell
    expected = parameters_cell()
    for nb in sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        cells = [c for c in json.loads(nb.read_text())["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(cells) == 1, nb.name
        assert "".join(cells[0]["source"]) == expected, f"{nb.name}: parameters cell drifted from the schema"
        declared = pm.inspect_notebook(str(nb))
        defaults = RunParams().notebook_parameters()
        for key, value in defaults.items():
            value = None if key == "models" else value            # None: every annual model in the registry
            assert yaml.safe_load(str(declared[key]["default"]).replace("None", "null")) == value, (nb.name, key)
            assert declared[key]["help"], f"{nb.name}: parameter {key} has no comment"


def test_generated_cell_follows_a_schema_change():
    """The generator reads the schema: a changed default shows up in the cell (so the test above can fail)."""
    from pydantic import Field

    from xjtrade.report.params import parameters_cell

    class Changed(RunParams):
        horizon: int = Field(3, ge=1, le=5, description="Outlook: calendar years after the current one")

    assert "horizon: int = 1 " in parameters_cell() and "horizon: int = 3 " in parameters_cell(Changed)
