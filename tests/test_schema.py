"""One schema of the processed tables (src/xjtrade/data/schema.py) drives the pandera checks of the data
step, the published data package's schema and data/README.md."""

from __future__ import annotations

import pandas as pd
import pytest

from xjtrade.data import schema


@pytest.fixture(scope="module")
def built(tmp_path_factory, root):
    from xjtrade.data.processed import build_dataset
    out = tmp_path_factory.mktemp("schema") / "processed"
    ds = build_dataset(root / "data" / "raw", out)
    return ds, out


def test_readme_section_is_generated_from_the_schema(root):
    text = (root / "data" / "README.md").read_text(encoding="utf-8")
    assert schema.readme_with_section(text) == text, "run `python tools/make_readme.py`"
    for table in schema.TABLES.values():
        assert f"### processed/{table.name}.csv" in text
        for col in table.columns:
            assert f"| `{col.name}` | {col.type} |" in text, (table.name, col.name)


def test_data_step_writes_the_declared_tables(built):
    _, out = built
    for name, table in schema.TABLES.items():
        df = pd.read_parquet(out / f"{name}.parquet")
        assert list(df.columns) == table.names
        schema.check(table, df)
    assert sorted(p.name for p in (out / "raw").iterdir()) == ["exchange_rates.csv", "reports.csv", "sources.csv"]
    # no table besides the declared ones (the wide tables no stage read are gone)
    assert sorted(p.stem for p in out.glob("*.parquet")) == sorted(schema.TABLES)


def test_the_run_reads_the_raw_tables_from_its_data_folder(built, root):
    """The forecast chapter's vintages come from the copy of the raw tables in the data folder, and
    they are the raw tables of the checkout (the same rows: the same vintages and cache keys)."""
    from xjtrade.data.raw import load_raw
    from xjtrade.data.vintages import vintages_key
    from xjtrade.report.context import load_context
    from xjtrade.report.params import RunParams
    _, out = built
    ctx = load_context(out, RunParams(), cache_dir=out / "cache")
    copy, original = ctx.raw(), load_raw(root / "data" / "raw")
    for part in ("reports", "sources", "rates"):
        pd.testing.assert_frame_equal(getattr(copy, part), getattr(original, part))
    dates = ["2020-01-31", "2023-12-31"]
    assert vintages_key(copy, dates) == vintages_key(original, dates)
    assert ctx.vintage_cache == out / "cache" / "vintages"


@pytest.mark.parametrize("table, column, value, message", [
    ("figures", "origin", "guessed", "isin"),
    ("figures", "figure_id", None, "field_uniqueness"),   # a repeated id
    ("sources", "publisher", "", "str_length"),           # required text may not be empty
    ("quality", "severity", "fatal", "isin"),
])
def test_a_table_that_breaks_its_declaration_is_refused(built, table, column, value, message):
    _, out = built
    df = pd.read_parquet(out / f"{table}.parquet")
    df.loc[1, column] = df.loc[0, column] if value is None else value
    with pytest.raises(schema.SchemaError, match=f"(?s)'{table}'.*column {column}: {message}"):
        schema.check(schema.TABLES[table], df)


def test_an_undeclared_column_is_refused(built):
    _, out = built
    df = pd.read_parquet(out / "sources.parquet").assign(extra=1)
    with pytest.raises(schema.SchemaError, match="extra"):
        schema.check(schema.SOURCES, df)


def test_the_data_step_writes_nothing_when_a_table_breaks_its_declaration(built, root, tmp_path, monkeypatch):
    """A table that does not match the schema stops the data step before anything is written."""
    from xjtrade.data import processed
    out = tmp_path / "processed"
    ds, _ = built
    real = processed.tables

    def broken(d):
        t = real(d)
        t["quality"] = t["quality"].assign(severity="fatal")
        return t
    monkeypatch.setattr(processed, "tables", broken)
    with pytest.raises(schema.SchemaError, match="quality"):
        processed.write_processed(ds, out)
    assert not out.exists()


def test_data_package_schema_is_the_declared_one():
    fs = schema.frictionless_schema(schema.FIGURES)
    assert [f["name"] for f in fs["fields"]] == schema.FIGURES.names
    assert fs["primaryKey"] == ["figure_id"]
    by = {f["name"]: f for f in fs["fields"]}
    assert by["value_cny_bn"]["unit"] == "billion CNY" and "constraints" not in by["value_cny_bn"]
    assert by["source_rank"]["constraints"]["enum"] == [0, 1, 2]
