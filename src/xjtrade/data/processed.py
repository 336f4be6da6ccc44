"""The data step: data/raw -> data/processed.

One entry point, `build_dataset`: validate the raw tables, clean them (normalise,
derive with lineage, reconcile) and write the processed tables atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xjtrade.data import clean as cleaning
from xjtrade.data.currency import CURRENCIES
from xjtrade.data.selector import main_rows, series
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


def annual_wide(figures: pd.DataFrame, currency: str = "CNY") -> pd.DataFrame:
    """Calendar-year trade values, one column per entity / flow / partner (selected figures)."""
    col = CURRENCIES[currency].column
    f = figures[main_rows(figures) & (figures["period_kind"] == "year") & (figures["measure"] == "money")]
    f = f[f[col].notna()]
    f = f.assign(series=f["entity"] + " | " + f["flow"] + " | " + f["partner"])
    wide = f.pivot_table(index="year", columns="series", values=col, aggfunc="first")
    return wide.sort_index().sort_index(axis=1).rename_axis(columns=None).reset_index()


def monthly_wide(figures: pd.DataFrame, entity: str = "Xinjiang", currency: str = "CNY") -> pd.DataFrame:
    """Single months and year-to-date blocks of one entity, one column per flow / partner."""
    frames = []
    f = figures[main_rows(figures, entity=entity) & (figures["measure"] == "money")]
    for (flow, partner), _ in f.groupby(["flow", "partner"]):
        s = series(figures, entity=entity, flow=flow, partner=partner, kind="block", currency=currency)
        s = s[s["value"].notna()]
        if s.empty:
            continue
        frames.append(s.assign(series=f"{flow} | {partner}")[["period_start", "period_end", "months",
                                                               "period_label", "series", "value"]])
    if not frames:
        return pd.DataFrame(columns=["period_start", "period_end", "months", "period_label"])
    long = pd.concat(frames)
    wide = long.pivot_table(index=["period_start", "period_end", "months", "period_label"],
                            columns="series", values="value", aggfunc="first")
    return wide.sort_index().sort_index(axis=1).rename_axis(columns=None).reset_index()


def _write_table(df: pd.DataFrame, folder: Path, name: str) -> None:
    """CSV (the project's writer: neutralised against formula injection, headers included) and
    Parquet (the values as they are)."""
    write_csv(df, folder / f"{name}.csv", float_format="%.10g")
    df.to_parquet(folder / f"{name}.parquet", index=False)


def write_dataset(ds: Dataset, folder: Path) -> None:
    """Write the processed tables into `folder` (which should be a staging folder)."""
    figs = ds.figures.drop(columns=["start", "end"])
    _write_table(figs, folder, "figures")
    _write_table(ds.issues, folder, "quality")
    _write_table(annual_wide(ds.figures, "CNY"), folder, "annual_cny")
    _write_table(annual_wide(ds.figures, "USD"), folder, "annual_usd")
    _write_table(monthly_wide(ds.figures, "Xinjiang", "CNY"), folder, "monthly_cny")
    from xjtrade.data.estimates import estimates_table  # every year with evidence, estimated years marked
    _write_table(estimates_table(ds.figures, "CNY"), folder, "annual_estimates_cny")
    src = ds.raw.sources.drop(columns="line_no").copy()
    used = ds.figures.loc[ds.figures["origin"] == "reported", "source_ids"].value_counts()
    src["figures"] = src["source_id"].map(used).fillna(0).astype(int)
    _write_table(src, folder, "sources")
    rates = ds.raw.rates.drop(columns="line_no")
    _write_table(rates, folder, "exchange_rates")
    (folder / "summary.json").write_text(json.dumps(ds.summary(), indent=2, sort_keys=True) + "\n")


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
