"""`xjtrade data add`: reviewed candidates -> new rows of data/raw, all or nothing.

The candidate file is read as text with its line numbers.  Each row is checked (its columns,
its confidence, its source), given the next free row id (`R` and four digits, after the largest
id the record or its curators' report has ever used, so a deleted id is never reused) and
appended to the would-be tables; the would-be tables then pass the project's own raw validation
(`xjtrade.data.raw.load_raw`, on a copy in a temporary folder).  Problems name the candidate
file's line and column.  Only when no row is refused are sources.csv and reports.csv replaced
(each written to a temporary file and renamed; sources first, so that a stop between the two
leaves an unused source row, never a row citing a missing source).

The review rule: a candidate whose confidence is `low` and whose remark still holds the
extractor's doubt has not been reviewed and is refused.  Review it (correct the row against the
page), then clear the remark or raise the confidence to `medium` or `high`; or pass
`--accept-low` to take such rows as they are.  A candidate that duplicates a row of the record
from the same source is always refused (the remark names the row).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from xjtrade.data.extract.candidates import (CANDIDATE_COLUMNS, CONFIDENCES, SOURCE_FIELDS, unneutralise)
from xjtrade.data.raw import OPTIONAL_REPORT_COLUMNS, REPORT_COLUMNS, load_raw
from xjtrade.errors import DataValidationError, Problem
from xjtrade.project import write_text_atomic
from xjtrade.textsafe import csv_records, shorten


@dataclass
class Plan:
    reports_text: str
    sources_text: str
    old_reports: str
    old_sources: str
    row_ids: list[str] = field(default_factory=list)
    new_sources: list[str] = field(default_factory=list)

    def diff(self, raw_dir: Path) -> str:
        out: list[str] = []
        for name, old, new in (("sources.csv", self.old_sources, self.sources_text),
                               ("reports.csv", self.old_reports, self.reports_text)):
            out += difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"{raw_dir.name}/{name}", tofile=f"{raw_dir.name}/{name}", n=0)
        return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def read_candidates(path: Path) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """Rows of a candidate file with their line numbers (as an editor counts them)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return [], [Problem(name, None, None, f"cannot be read ({exc.strerror or exc})")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(name, raw[: exc.start].count(b"\n") + 1, None, "not UTF-8 text")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        return [], [Problem(name, None, None, "is empty (expected the header of a candidate file)")]
    # a candidate file written before a column was optional-added (yoy_qualifier) still reads: empty = exact
    missing = [c for c in REPORT_COLUMNS + ["confidence", "remark"] if c not in header
               and c not in OPTIONAL_REPORT_COLUMNS]
    if missing:
        return [], [Problem(name, 1, None, f"not a candidate file: missing column(s) {', '.join(missing)} "
                                           f"(expected: {', '.join(CANDIDATE_COLUMNS)})")]
    out, problems = [], []
    line = reader.line_num
    for rec in reader:
        start = line + 1
        line = reader.line_num
        if not rec or rec == [""]:
            continue
        if len(rec) != len(header):
            problems.append(Problem(name, start, None, f"has {len(rec)} fields, expected {len(header)}"))
            continue
        out.append((start, dict(zip(header, rec))))
    if not out and not problems:
        problems.append(Problem(name, None, None, "has a header but no candidate rows"))
    return out, problems


def _next_id(reports, raw_dir: Path) -> int:
    used = [int(x[1:]) for x in reports["row_id"] if re.fullmatch(r"R[0-9]{4,}", x)] if not reports.empty else []
    checks = raw_dir / "CHECKS.md"
    if checks.is_file():
        used += [int(m) for m in re.findall(r"\bR([0-9]{4,})\b", checks.read_text(encoding="utf-8", errors="replace"))]
    return max(used, default=0) + 1


def _line_ending(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _append(text: str, records: list[list[str]]) -> str:
    if not records:
        return text
    nl = _line_ending(text)
    if text and not text.endswith(("\n", "\r")):
        text += nl
    return text + csv_records(records, nl)


def plan_add(raw_dir: Path, cand_path: Path, accept_low: bool = False) -> Plan:
    """The would-be data/raw after appending the candidates; DataValidationError listing every
    refused row (nothing is written here)."""
    raw_dir = Path(raw_dir)
    name = str(cand_path)
    rows, problems = read_candidates(cand_path)
    current = load_raw(raw_dir)   # the record must be valid before anything is added to it
    # bytes decoded as they are: a byte-order mark and CRLF line ends survive the rewrite
    old_reports = (raw_dir / "reports.csv").read_bytes().decode("utf-8")
    old_sources = (raw_dir / "sources.csv").read_bytes().decode("utf-8")
    known_sources = {r.source_id: r for r in current.sources.itertuples(index=False)}
    # the columns of reports.csv as it is: a table from before `yoy_qualifier` gets rows without it
    file_columns = next(csv.reader(io.StringIO(old_reports.lstrip("\ufeff"))), REPORT_COLUMNS)
    lacking = [c for c in OPTIONAL_REPORT_COLUMNS if c not in file_columns]
    next_id = _next_id(current.reports, raw_dir)
    new_reports: list[list[str]] = []
    new_sources: dict[str, list[str]] = {}
    line_of_row: dict[int, int] = {}
    ids: list[str] = []
    for line, row in rows:
        row = {k: unneutralise(v) if k not in ("value", "yoy_pct") else v for k, v in row.items()}
        if row.get("row_id", "").strip():
            problems.append(Problem(name, line, "row_id", f"already has an id ({shorten(row['row_id'])}); "
                                                          "candidates get theirs from `data add`"))
            continue
        conf = row.get("confidence", "").strip()
        if conf not in CONFIDENCES:
            problems.append(Problem(name, line, "confidence", f"must be one of {', '.join(CONFIDENCES)}"))
            continue
        remark = row.get("remark", "").strip()
        if re.search(r"\bduplicate of R[0-9]{4,} \(same source\)", remark) and \
                (first_id := re.search(r"R[0-9]{4,}", remark)):     # (always found when the first search is)
            rid = first_id.group(0)
            problems.append(Problem(name, line, "remark", f"duplicates {rid} of the record (same source); "
                                                          "delete the row from the candidate file"))
            continue
        if conf == "low" and remark and not accept_low:
            problems.append(Problem(name, line, "confidence",
                                    f"low confidence, not reviewed ({shorten(remark, 160)}): check the row against "
                                    "the page, then clear the remark or raise the confidence, or pass --accept-low"))
            continue
        sid = row.get("source_id", "").strip()
        if sid not in known_sources and sid not in new_sources:
            src = {f: row.get(f, "").strip() for f in SOURCE_FIELDS}
            missing = [f for f in ("source_title", "source_publisher", "source_url", "source_language")
                       if not src[f]]
            if missing:
                problems.append(Problem(name, line, missing[0],
                                        f"source {sid!r} is not in sources.csv and the row does not describe it "
                                        f"(empty {', '.join(missing)})"))
                continue
            new_sources[sid] = [sid, src["source_title"], src["source_publisher"], src["source_published"],
                                src["source_url"], src["source_language"], "no"]
            line_of_row[-len(new_sources)] = line
        elif sid in new_sources:
            described = [row.get(f, "").strip() for f in SOURCE_FIELDS]
            if described != new_sources[sid][1:6]:
                problems.append(Problem(name, line, "source_title",
                                        f"describes source {sid!r} differently from an earlier row of the file"))
                continue
        held = [c for c in lacking if row.get(c, "").strip() not in ("", OPTIONAL_REPORT_COLUMNS[c])]
        if held:
            problems.append(Problem(name, line, held[0],
                                    f"{shorten(repr(row[held[0]]))} cannot be recorded: {raw_dir / 'reports.csv'} has "
                                    f"no {held[0]} column (add it to its header after yoy_pct, with empty cells)"))
            continue
        rid = f"R{next_id:04d}"
        next_id += 1
        record = [rid] + [row.get(c, "") for c in REPORT_COLUMNS[1:] if c not in lacking]
        line_of_row[len(new_reports)] = line
        new_reports.append(record)
        ids.append(rid)
    plan = Plan(_append(old_reports, new_reports), _append(old_sources, list(new_sources.values())),
                old_reports, old_sources, ids, list(new_sources))
    if not problems:
        problems += _validate(raw_dir, plan, current, name, line_of_row, len(new_sources))
    if problems:
        raise DataValidationError(problems)
    return plan


def _validate(raw_dir: Path, plan: Plan, current, name: str, line_of_row: dict, n_sources: int) -> list[Problem]:
    """The project's raw validation on the would-be tables; problems in appended lines are told
    by the candidate file's line."""
    with tempfile.TemporaryDirectory(prefix="xjtrade-add-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "reports.csv").write_text(plan.reports_text, encoding="utf-8")
        (tmp / "sources.csv").write_text(plan.sources_text, encoding="utf-8")
        (tmp / "exchange_rates.csv").write_bytes((raw_dir / "exchange_rates.csv").read_bytes())
        try:
            load_raw(tmp)
        except DataValidationError as exc:
            old_lines = _data_lines(raw_dir / "reports.csv")
            old_src_lines = _data_lines(raw_dir / "sources.csv")
            out = []
            for p in exc.problems:
                fname = Path(p.file).name
                if fname == "reports.csv" and p.line is not None and p.line > old_lines:
                    out.append(Problem(name, line_of_row.get(p.line - old_lines - 1), p.column, p.message))
                elif fname == "sources.csv" and p.line is not None and p.line > old_src_lines:
                    k = p.line - old_src_lines
                    col = {"title": "source_title", "publisher": "source_publisher", "published": "source_published",
                           "url": "source_url", "language": "source_language"}.get(p.column or "", p.column)
                    out.append(Problem(name, line_of_row.get(-k), col, p.message))
                else:
                    out.append(Problem(str(raw_dir / fname), p.line, p.column,
                                       p.message + " (with the candidates added)"))
            return out
    return []


def _data_lines(path: Path) -> int:
    """Physical lines of a CSV file as an editor numbers them (the last line number used)."""
    text = path.read_bytes().decode("utf-8-sig")
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def apply(raw_dir: Path, plan: Plan) -> None:
    """Write the planned tables (sources first)."""
    raw_dir = Path(raw_dir)
    if plan.sources_text != plan.old_sources:
        write_text_atomic(raw_dir / "sources.csv", plan.sources_text)
    write_text_atomic(raw_dir / "reports.csv", plan.reports_text)
