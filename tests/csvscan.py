"""The scan of published CSV files (issue 22, item 1): no cell, header included, starts a spreadsheet
formula (= + - @ tab CR) unless it is a number, and no row is split (every record has the header's
number of fields; pandas reads as many rows as the records, and as many as the Parquet twin holds)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|nan)", re.ASCII)
SKIP = ("data/raw/", ".git/", ".venv/")


def _raw_copy(parts: tuple[str, ...]) -> bool:
    """A byte-for-byte copy of the raw input kept with processed data (data/processed/raw/, a run's
    data/raw/): the curators' tables as they are, not a table the project writes."""
    return any(a in ("data", "processed") and b == "raw" for a, b in zip(parts, parts[1:]))


def published_csvs(root: Path) -> list[Path]:
    """Every CSV file under `root` the project wrote (its raw input and copies of it excluded)."""
    return sorted(p for p in Path(root).rglob("*.csv")
                  if not any(p.relative_to(root).as_posix().startswith(s) for s in SKIP)
                  and not _raw_copy(p.relative_to(root).parts))


def problems(path: Path) -> list[str]:
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        records = list(csv.reader(fh))
    if not records:
        return [f"{path}: empty"]
    width = len(records[0])
    for n, rec in enumerate(records, start=1):
        if len(rec) != width:
            out.append(f"{path}: record {n} has {len(rec)} fields, the header {width} (a split row?)")
        for cell in rec:
            if cell.startswith(FORMULA_START) and not NUMBER.fullmatch(cell):
                out.append(f"{path}: record {n}: cell {cell[:40]!r} starts a formula")
    if width and len(records) > 1:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if len(frame) != len(records) - 1:
            out.append(f"{path}: pandas reads {len(frame)} rows, the file holds {len(records) - 1}")
    twin = path.with_suffix(".parquet")
    if twin.is_file() and len(pd.read_parquet(twin)) != len(records) - 1:
        out.append(f"{path}: {len(records) - 1} rows, its Parquet twin {len(pd.read_parquet(twin))}")
    return out


def scan(root: Path) -> tuple[list[Path], list[str]]:
    """(the CSV files scanned, every problem found)."""
    files = published_csvs(root)
    return files, [p for f in files for p in problems(f)]
