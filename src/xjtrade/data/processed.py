"""The data step: data/raw -> data/processed.

One entry point, `build_dataset`: validate the raw tables, clean them (normalise,
derive with lineage, reconcile), check the results against their declared schema
(`data/schema.py`) and write the processed tables atomically: `figures`, `quality`,
`sources` and `exchange_rates` (CSV and Parquet), `summary.json`, and under `raw/` the
raw tables that were validated, byte for byte (the run's evaluation cleans them again
as known at each release date, so a run needs nothing outside its data folder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xjtrade.data import clean as cleaning
from xjtrade.data import schema
from xjtrade.project import staged_dir
from xjtrade.data.raw import RawData, load_raw
from xjtrade.textsafe import write_csv



@dataclass
class Dataset:
    raw: RawData
    figures: pd.DataFrame
    issues: pd.DataFrame
    as_of: str | None

    def summary(self) -> dict:
        f = self.figures
        rep = f[f["origin"] == "reported"]
        years = rep.loc[rep["year"] > 0, "year"]
        return {
            "as_of": self.as_of,
            "reported_rows": int(len(rep)),
            "raw_rows": int(len(self.raw.reports)),
            "sources": int(rep["source_ids"].nunique()),
            "sources_listed": int(len(self.raw.sources)),
            "first_year": int(years.min()) if len(years) else None,
            "last_year": int(years.max()) if len(years) else None,
            "years_covered": int(years.nunique()),
            "derived_rows": int((f["origin"] == "derived").sum()),
            "derived_by_method": {k: int(v) for k, v in
                                  f.loc[f["origin"] == "derived", "method"].value_counts().sort_index().items()},
            "selected_figures": int(f["selected"].sum()),
            "quality_issues": int(len(self.issues)),
            "conflicts": int((self.issues["severity"] == "conflict").sum()),
            "warnings": int((self.issues["severity"] == "warning").sum()),
            "notes": int((self.issues["severity"] == "note").sum()),
            "entities": int(rep["entity"].nunique()),
        }


def prepare(raw_dir: Path, as_of: str | None = None, log=None) -> Dataset:
    """Validate and clean, in memory (nothing written)."""
    say = log or (lambda msg: None)
    say("validating raw tables")
    raw = load_raw(Path(raw_dir))
    cleaned = cleaning.clean(raw, as_of=as_of, log=say)
    return Dataset(raw=raw, figures=cleaned.figures, issues=cleaned.issues, as_of=as_of)




def _write_table(df: pd.DataFrame, folder: Path, name: str) -> None:
    """CSV (the project's writer: neutralised against formula injection, headers included) and
    Parquet (the values as they are)."""
    write_csv(df, folder / f"{name}.csv", float_format="%.10g")
    df.to_parquet(folder / f"{name}.parquet", index=False)


def tables(ds: Dataset) -> dict[str, pd.DataFrame]:
    """The processed tables of a dataset, as declared in `data/schema.py`."""
    src = ds.raw.sources.drop(columns="line_no").copy()
    used = ds.figures.loc[ds.figures["origin"] == "reported", "source_ids"].value_counts()
    src["figures"] = src["source_id"].map(used).fillna(0).astype(int)
    rates = ds.raw.rates.drop(columns="line_no")
    rates = rates.assign(year=rates["year"].astype(int), cny_per_usd=rates["cny_per_usd"].astype(float))
    return {"figures": ds.figures.drop(columns=["start", "end"]), "quality": ds.issues, "sources": src,
            "exchange_rates": rates}


RAW_COPY = "raw"   # data/processed/raw/: the raw tables the figures were cleaned from


def write_dataset(ds: Dataset, folder: Path) -> None:
    """Check the processed tables against their declaration (`data/schema.py`), then write them into
    `folder` (which should be a staging folder)."""
    out = tables(ds)
    for name, df in out.items():
        schema.check(schema.TABLES[name], df)
    for name, df in out.items():
        _write_table(df, folder, name)
    (folder / "summary.json").write_text(json.dumps(ds.summary(), indent=2, sort_keys=True) + "\n")
    if ds.raw.files:
        (folder / RAW_COPY).mkdir()
        for path in ds.raw.files.values():
            (folder / RAW_COPY / Path(path).name).write_bytes(Path(path).read_bytes())


def load_raw_tables(folder: Path) -> RawData:
    """The raw tables a processed folder was cleaned from (validated again, as `xjtrade data check` does)."""
    path = Path(folder) / RAW_COPY
    if not path.is_dir():
        raise FileNotFoundError(f"{folder} holds no copy of the raw tables ({RAW_COPY}/): "
                                "run `xjtrade data build` again")
    return load_raw(path)


def build_dataset(raw_dir: Path, out_dir: Path, as_of: str | None = None, log=None) -> Dataset:
    """Validate, clean and write; the previous `out_dir` survives any failure untouched."""
    ds = prepare(raw_dir, as_of=as_of, log=log)
    return write_processed(ds, out_dir, log=log)


def write_processed(ds: Dataset, out_dir: Path, log=None) -> Dataset:
    """Write a prepared dataset into `out_dir` atomically (a staging folder swapped in)."""
    (log or (lambda msg: None))(f"writing {out_dir}")
    with staged_dir(Path(out_dir), "processed") as staging:
        write_dataset(ds, staging)
    return ds


def load_processed(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(figures, quality issues, sources) from a processed folder, with periods re-parsed."""
    folder = Path(folder)
    if not (folder / "figures.parquet").exists():
        raise FileNotFoundError(f"{folder} holds no processed data: run `xjtrade data build` first")
    figs = pd.read_parquet(folder / "figures.parquet")
    from xjtrade.data.periods import parse_month
    dated = figs["period_kind"] != "undated"
    figs["start"] = [parse_month(s) if d else -1 for s, d in zip(figs["period_start"], dated)]
    figs["end"] = [parse_month(s) if d else -1 for s, d in zip(figs["period_end"], dated)]
    return figs, pd.read_parquet(folder / "quality.parquet"), pd.read_parquet(folder / "sources.parquet")
