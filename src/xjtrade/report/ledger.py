"""The forecast ledger: every outlook the default edition publishes, appended to a committed CSV.

``ledger/forecasts.csv`` (with ``ledger/README.md``) keeps one row per published forecast of an
annual total: the vintage (the data cut-off: the latest publication date the outlook used), the
date the row was written, the code version (git commit), the series, the target year, the
central number published and what it was (median or mean), the median, the 80 % and 95 %
intervals, the method, and the kind: ``published`` (written by a build) or ``recovered`` (an
earlier edition's outlook recovered from the project's history; the note names the commit).

The file is **append-only**: rows are never rewritten or removed, only added at the end, and the
bytes already there stay as they are (:func:`append` checks it).  A row's key is (series, vintage,
target, code version).  A build appends a forecast only when the ledger has no row for the same
series, vintage and target with the same published numbers (rounded to one decimal, as the pages
show them): a rebuild, or a new code version that publishes the same outlook, appends nothing.

Only the default edition writes (:func:`after_build`, called by the pipeline after a successful
build), and only from a git checkout without local changes outside the ledger: an outlook made by
uncommitted code has no code version to record.  Kept free of heavy imports (the pipeline imports
it); the scoring against published actuals is in :func:`scored`.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

from xjtrade.textsafe import csv_records

__all__ = ["COLUMNS", "LEDGER", "read", "entries_from_results", "append", "after_build", "scored", "code_version",
           "LedgerError", "method_label"]

LEDGER = Path("ledger") / "forecasts.csv"
COLUMNS = ["vintage", "written", "code_version", "kind", "series", "target_year", "target", "point", "central",
           "median", "lo80", "hi80", "lo95", "hi95", "method", "note"]
NUMBERS = ("point", "median", "lo80", "hi80", "lo95", "hi95")
DEFAULT_EDITION = "default"


class LedgerError(ValueError):
    """The ledger file is not what this module wrote (the message names the file and line)."""


def read(path: Path) -> list[dict]:
    """The ledger's rows (an empty list when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.splitlines()[0].split(",") if text else []
    if header != COLUMNS:
        raise LedgerError(f"{path}, line 1: the header is {header}, expected {COLUMNS}")
    return rows


def _fmt(v) -> str:
    if v is None or v == "":
        return ""
    return f"{float(v):.4f}".rstrip("0").rstrip(".")


def _series(p: dict) -> str:
    return f"{p.get('entity')}/{p.get('flow')}/{p.get('partner')}/{p.get('currency')}"


def entries_from_results(results: dict, written: str, code: str, kind: str = "published") -> list[dict]:
    """The ledger rows of a run's results (results.json as JSON data): one per annual target of its
    outlook (none when there is no outlook)."""
    p = results.get("parameters", {})
    o = ((results.get("forecast") or {}).get("outlook") or {})
    if not o.get("ok"):
        return []
    how = {c["use"]: c["model"] for c in o.get("choices", [])}
    rows = []
    for a in o.get("annual", []):
        within = bool(o.get("months_known")) and a["year"] == o.get("current_year")
        method = (f"within year: {how.get('within year', '')}" if within else
                  f"years ahead: {how.get('years ahead', '')}")
        rows.append({"vintage": o.get("as_of") or "", "written": written, "code_version": code, "kind": kind,
                     "series": _series(p), "target_year": str(a["year"]), "target": "calendar year",
                     "point": _fmt(a["point"]), "central": o.get("central", "median"),
                     "median": _fmt(a.get("median", a["point"])), "lo80": _fmt(a["lo80"]), "hi80": _fmt(a["hi80"]),
                     "lo95": _fmt(a["lo95"]), "hi95": _fmt(a["hi95"]), "method": method,
                     "note": (f"nowcast with {o.get('months_known')} months known" if within else "")})
    return rows


def method_label(method: str) -> str:
    """The ledger's method (``"years ahead: mean_growth"``: the use and the registry's id, as the CSV
    keeps it) for readers: the model's label from the registry (``"years ahead: mean growth"``).  A
    method that is not a registry id (a recovered entry's description) stays as it is."""
    from xjtrade.stats.registry import MODELS   # the registry's module: names and labels only
    use, sep, name = str(method or "").partition(": ")
    if not sep:
        use, name = "", use
    m = MODELS.get(name.strip())
    if m is None:
        return str(method or "")
    return f"{use}: {m.label}" if sep else m.label


def _same_numbers(a: dict, b: dict) -> bool:
    def r(v):
        return round(float(v), 1) if v not in (None, "") else None
    return all(r(a[k]) == r(b[k]) for k in ("point", "lo80", "hi80", "lo95", "hi95"))


def _line(row: dict) -> str:
    return csv_records([[row.get(k, "") for k in COLUMNS]])   # the ledger's texts are generated, not data


def _news(existing: list[dict], rows: list[dict]) -> list[dict]:
    """The rows not yet in the ledger: no row for the same series, vintage and target with the same code
    version or the same published numbers."""
    new: list[dict] = []
    for row in rows:
        key = (row["series"], row["vintage"], row["target_year"], row["target"])
        same = [e for e in existing + new if (e["series"], e["vintage"], e["target_year"], e["target"]) == key]
        if any(e["code_version"] == row["code_version"] for e in same) or any(_same_numbers(e, row) for e in same):
            continue
        new.append(row)
    return new


def append(path: Path, rows: list[dict]) -> list[dict]:
    """Append the rows that are new (see the module) to the ledger at `path` and return them.  The file
    is opened for appending only; its existing bytes are checked to be unchanged afterwards."""
    path = Path(path)
    new = _news(read(path), rows)
    if not new:
        return []
    before = path.read_bytes() if path.exists() else b""
    if before and not before.endswith(b"\n"):
        raise LedgerError(f"{path}: the last line has no line end; the ledger was edited by hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", newline="") as fh:
        if not before:
            fh.write(",".join(COLUMNS) + "\n")
        for row in new:
            fh.write(_line(row))
    if not path.read_bytes().startswith(before):
        raise LedgerError(f"{path}: existing rows changed while appending")
    return new


def code_version(root: Path) -> str | None:
    """The checkout's commit, or None when it is not a git checkout or has local changes outside the
    ledger (an outlook from uncommitted code has no version to record)."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                ".", f":(exclude){LEDGER.parent.as_posix()}"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return None if dirty or not head else head


def after_build(project, params, log=print, ledger: bool = True) -> list[dict]:
    """After a successful build: warn in the log when the record looks stale (every edition without
    ``as_of``), and (with `ledger`: a build that ran a step) append the default edition's outlook to
    the ledger (see the module)."""
    from xjtrade.data.calendar import stale_text

    values = params.notebook_parameters()   # a RunParams or the build's plain Params
    if values.get("as_of"):
        return []
    results_path = project.runs / params.name / "results.json"
    if not results_path.exists():
        return []
    results = json.loads(results_path.read_text(encoding="utf-8"))
    cal = (results.get("forecast") or {}).get("calendar")
    warning = stale_text(cal) if cal else ""
    if warning:
        log(f"warning: {warning}")
    if not ledger or params.name != DEFAULT_EDITION or not _is_default(values):
        return []
    path = project.root / LEDGER
    if not _news(read(path), entries_from_results(results, "", "")):
        return []        # the ledger already holds this outlook (a rebuild): nothing to ask git
    code = code_version(project.root)
    if code is None:
        log("ledger: not appended (not a git checkout, or local changes outside ledger/: commit first)")
        return []
    from xjtrade.manifest import today
    written = str(today())
    new = append(path, entries_from_results(results, written, code))
    if new:
        log(f"ledger: {len(new)} forecast(s) appended to {LEDGER} (commit it)")
    return new


def _is_default(values: dict) -> bool:
    """The parameters (as `notebook_parameters()` gives them) are the defaults."""
    from xjtrade.report.params import RunParams
    return values == RunParams().notebook_parameters()


def scored(rows: list[dict], actuals: dict[int, float], series: str | None = None) -> list[dict]:
    """The ledger's rows (of `series`, if given) with the published outcome of their target year
    (`actuals`: {year: total}) where there is one: actual, error in % of the actual, and whether
    the 80 % and 95 % intervals held it."""
    out = []
    for r in rows:
        if series is not None and r["series"] != series:
            continue
        row = dict(r)
        a = actuals.get(int(r["target_year"]))
        if a is not None:
            pt = float(r["point"])
            row.update(actual=a, error_pct=100 * (pt - a) / a,
                       in80=float(r["lo80"]) <= a <= float(r["hi80"]) if r["lo80"] else None,
                       in95=float(r["lo95"]) <= a <= float(r["hi95"]) if r["lo95"] else None)
        else:
            row.update(actual=None, error_pct=None, in80=None, in95=None)
        out.append(row)
    return out
