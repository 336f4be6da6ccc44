"""The run-parameter schema: every bad value is refused with the parameter named."""

from __future__ import annotations

import papermill as pm
import pytest
import yaml

from xjtrade.report.params import ParameterError, RunParams, check_against_data, load_params, parse_overrides


def test_default_file_loads(root):
    p = load_params(root / "params" / "default.yaml")
    assert (p.entity, p.flow, p.partner, p.currency, p.horizon) == ("Xinjiang", "total", "World", "CNY", 2)
    assert p.levels == (80, 95) and p.as_of is None


@pytest.mark.parametrize("name", ["asof-2022", "horgos-port", "usd-2012-2018"])
def test_scenarios_load(root, name):
    p = load_params(root / "params" / f"{name}.yaml")
    assert p.name == name


@pytest.mark.parametrize("overrides, needle", [
    ({"horizn": 3}, "horizn: unknown parameter"),
    ({"horizon": "abc"}, "horizon:"),
    ({"horizon": 0}, "horizon: Input should be greater than or equal to 1"),
    ({"levels": [80, 120]}, "levels: interval levels must be whole percentages"),
    ({"models": ["naive", "prophet"]}, "unknown model(s) prophet"),
    ({"start_year": 2020, "end_year": 2019}, "end_year (2019) must be after start_year (2020)"),
    ({"break_year": 2030}, "break_year (2030) must fall inside the window"),
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


def test_notebook_defaults_match_default_file(root):
    """The parameters cell of every notebook has the same defaults as params/default.yaml."""
    defaults = yaml.safe_load((root / "params" / "default.yaml").read_text())
    for nb in sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        declared = pm.inspect_notebook(str(nb))
        for key, value in defaults.items():
            if key in ("name", "title"):
                continue
            assert key in declared, f"{nb.name} lacks parameter {key}"
            assert yaml.safe_load(str(declared[key]["default"]).replace("None", "null")) == value, (nb.name, key)
            assert declared[key]["help"], f"{nb.name}: parameter {key} has no comment"
