"""The one CSV writer of the project (issue 22, item 1): `textsafe.write_csv` / `csv_text`.

Every text cell and every header starting with = + - @ tab or CR gets a leading quote; numbers stay
numbers; a line feed or a carriage return inside a cell stays inside its quoted field, so a reader
gets back the frame's number of rows.  Every `to_csv` of the package goes through it (checked on the
source).  The scan of every CSV written by a build and a sweep is in test_hostile_build.py.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xjtrade.textsafe import FORMULA_START, csv_cell, csv_text, write_csv

SRC = Path(__file__).resolve().parents[1] / "src" / "xjtrade"


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def test_carriage_return_inside_a_cell_does_not_split_the_row():
    """The trial's case: a CR inside a description split the row and put a formula in column A
    (pandas then read 1014 rows for 1013)."""
    df = pd.DataFrame({"description": ["before\r=HYPERLINK(\"http://evil/\")", "plain", "line\nbreak", "\r\n"],
                       "value": [1.0, -2.5, 3.0, 4.0]})
    text = csv_text(df)
    back = _read(text)
    assert len(back) == len(df) == 4
    assert back["description"].tolist() == ["before\r=HYPERLINK(\"http://evil/\")", "plain", "line\nbreak", "'\r\n"]
    assert back["value"].tolist() == ["1.0", "-2.5", "3.0", "4.0"]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 5 and all(len(r) == 2 for r in rows)
    assert text.count("\n") - sum(c.count("\n") for c in df["description"]) == 5  # LF rows


def test_headers_are_neutralised():
    """annual_cny.csv's headers are built from entity names: `=cmd | total | World` was a live formula."""
    df = pd.DataFrame({"year": [2020], "=HYPERLINK(\"x\") | total | World": [1.0], "@SUM(A1)": [2.0],
                       "-x": [3.0], "+y": [4.0], "\tz": [5.0]})
    header = next(csv.reader(io.StringIO(csv_text(df), newline="")))
    assert header == ["year", "'=HYPERLINK(\"x\") | total | World", "'@SUM(A1)", "'-x", "'+y", "'\tz"]


def test_numbers_untouched_text_neutralised():
    df = pd.DataFrame({"note": ["=cmd", "ok", "-x", "@a", "+1", "\tt", None],
                       "value": [-1.5, 2.0, -3.0, None, 0.0, 1e-7, 5.0],
                       "n": [-1, 2, 3, 4, 5, 6, 7], "flag": [True, False, True, True, False, True, False]})
    assert csv_text(df, "%.6g").splitlines() == [
        "note,value,n,flag", "'=cmd,-1.5,-1,True", "ok,2,2,False", "'-x,-3,3,True", "'@a,,4,True",
        "'+1,0,5,False", "'\tt,1e-07,6,True", ",5,7,False"]


def test_same_bytes_as_pandas_for_plain_tables():
    """Ordinary tables are written exactly as pandas writes them (LF rows, minimal quoting)."""
    df = pd.DataFrame({"a": ["x", "y, z", 'q"uote', ""], "b": [1.25, None, 3.0, -4.0], "c": [1, 2, 3, 4]})
    assert csv_text(df, "%.10g") == df.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    assert csv_text(pd.DataFrame(columns=["a", "b"])) == "a,b\n"


def test_write_csv_refuses_a_symlink(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    link = tmp_path / "out" / "t.csv"
    link.parent.mkdir()
    link.symlink_to(outside)
    with pytest.raises(OSError):
        write_csv(pd.DataFrame({"a": [1]}), link)
    assert outside.read_text() == "precious"


TEXT = st.text(alphabet=st.sampled_from(list("ab =+-@,\"'\t\r\n;|") + ["\u00e9", "\u4e2d"]), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(TEXT, st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False,
                                                                 width=32)), TEXT), min_size=0, max_size=8),
       TEXT)
def test_property_rows_and_cells_round_trip(rows, header):
    """Any text (quotes, commas, CR, LF, formula starts) and any number: the reader gets the frame's
    rows and columns back, every text cell equals `csv_cell` of the original, no cell starts a
    formula, numbers read back as the same numbers."""
    cols = [header or "h", "value", "note"]
    if len(set(cols)) < 3:
        cols = ["h", "value", "note"]
    df = pd.DataFrame(rows, columns=cols)
    text = csv_text(df)
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert len(records) == len(df) + 1 and all(len(r) == 3 for r in records)
    assert records[0] == [csv_cell(c) for c in cols]
    for rec, (h, value, note) in zip(records[1:], rows):
        assert rec[0] == csv_cell(h) and rec[2] == csv_cell(note)
        assert not rec[0].startswith(FORMULA_START) and not rec[2].startswith(FORMULA_START)
        assert (rec[1] == "") if value is None else float(rec[1]) == pytest.approx(value)
    if rows:
        assert len(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)) == len(df)


def test_every_csv_in_the_package_goes_through_the_writer():
    """No `to_csv`, `csv.writer` or `DictWriter` anywhere in src/ except in the writer itself."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "textsafe.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\.to_csv\(|csv\.writer\(|DictWriter\(", line):
                offenders.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert offenders == []
