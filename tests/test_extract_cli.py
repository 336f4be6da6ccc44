"""`xjtrade data extract` and `xjtrade data add` on throwaway copies of the project: the candidate
file, the record check, all-or-nothing appends, refusals and their messages.  No network: the
--fetch test points at a closed local port."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project, tree
from xjtrade.cli import main
from xjtrade.data.extract.candidates import CANDIDATE_COLUMNS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "releases"
JAN_APR_2023 = FIXTURES / "people-2023-06-09.txt"
URL = "http://en.people.cn/n3/2023/0609/c90000-20029716.html"


def invoke(root: Path, *args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), env={"XJTRADE_ROOT": str(root)}, input=stdin)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("extract") / "project")


@pytest.fixture
def project(base, tmp_path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(base, dest)
    return dest


def next_id(root: Path, k: int = 0) -> str:
    """The id `data add` gives its first row (plus k): after the largest id of reports.csv and CHECKS.md
    (computed here independently, so the tests follow the record as it grows)."""
    import re
    used = [int(m) for f in ("reports.csv", "CHECKS.md") if (root / "data" / "raw" / f).is_file()
            for m in re.findall(r"\bR([0-9]{4,})\b", (root / "data" / "raw" / f).read_text(encoding="utf-8"))]
    return f"R{max(used) + 1 + k:04d}"


def candidates(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CANDIDATE_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def test_extract_writes_the_candidate_file_with_record_checks(project):
    r = invoke(project, "data", "extract", str(JAN_APR_2023), "--url", URL, "--published", "2023-06-09")
    assert r.exit_code == 0, r.output
    rows = candidates(r.stdout)
    assert list(rows[0]) == CANDIDATE_COLUMNS
    got = {(c["entity"], c["value"], c["unit"], c["yoy_pct"]) for c in rows}
    assert got == {("Xinjiang", "94.95", "billion yuan", ""), ("Xinjiang", "13.3", "billion USD", ""),
                   ("Alashankou port", "2125", "count", "12.91"), ("Horgos railway port", "2485", "count", "14.8")}
    assert all(c["row_id"] == "" and c["source_id"] == "people-2023-06-09" for c in rows)
    remarks = {c["value"]: c["remark"] for c in rows}
    assert "duplicate of R0285 (same source)" in remarks["94.95"]
    assert "duplicate of R0283 (same source)" in remarks["2125"]
    assert "duplicate of R0284 (same source)" in remarks["2485"]
    assert "duplicate" not in remarks["13.3"]
    assert all(c["evidence"] and c["confidence"] in ("high", "medium", "low") for c in rows)
    assert "already in sources.csv" in r.stderr


def test_extract_to_a_file_and_from_standard_input(project, tmp_path):
    out = tmp_path / "c.csv"
    r = invoke(project, "data", "extract", "-", "--published", "2023-06-09", "--url", URL, "--out", str(out),
               stdin=JAN_APR_2023.read_text(encoding="utf-8"))
    assert r.exit_code == 0, r.output
    assert r.stdout == "" and len(candidates(out.read_text(encoding="utf-8"))) == 4


def test_add_refuses_duplicates_of_the_same_source_and_writes_nothing(project, tmp_path):
    before = tree(project / "data" / "raw")
    r = invoke(project, "data", "extract", str(JAN_APR_2023), "--url", URL, "--published", "2023-06-09")
    path = write(tmp_path / "c.csv", candidates(r.stdout))
    r = invoke(project, "data", "add", str(path))
    assert r.exit_code != 0
    assert "duplicates R0285 of the record (same source)" in r.output and f"{path}, line 2, column remark" in r.output
    assert "Nothing was written" in r.output
    assert tree(project / "data" / "raw") == before


def test_extract_add_check_round_trip_with_dry_run_first(project, tmp_path):
    raw = project / "data" / "raw"
    before = tree(raw)
    r = invoke(project, "data", "extract", str(JAN_APR_2023), "--url", URL, "--published", "2023-06-09")
    rows = [c for c in candidates(r.stdout) if "same source" not in c["remark"]]
    assert [c["value"] for c in rows] == ["13.3"]
    path = write(tmp_path / "c.csv", rows)
    first = next_id(project)
    dry = invoke(project, "data", "add", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"+{first},Xinjiang,total,World,all,all,trade value,2023-01,2023-04,ytd,13.3,billion USD,about" in dry.stdout
    assert f"dry run: would add 1 row(s) ({first}-{first}) and 0 source(s); nothing was written" in dry.stdout
    assert tree(raw) == before
    done = invoke(project, "data", "add", str(path))
    assert done.exit_code == 0, done.output
    assert f"added 1 row(s) ({first}-{first})" in done.stdout
    text = (raw / "reports.csv").read_text(encoding="utf-8")
    last = text.splitlines()[-1]
    assert last.startswith(f"{first},Xinjiang,total,World,all,all,trade value,2023-01,2023-04,ytd,13.3,billion USD,about,,,"
                           "people-2023-06-09,Jan-Apr 2023 total trade; extracted from the release (")
    assert "conversion printed beside the figure" in last and last.endswith(",verified") and text.endswith("\n")
    assert (raw / "sources.csv").read_bytes() == (Path(__file__).resolve().parents[1] / "data/raw/sources.csv").read_bytes()
    check = invoke(project, "data", "check")
    assert check.exit_code == 0, check.output
    # ids are never reused: a second add continues after the first
    again = invoke(project, "data", "extract", str(JAN_APR_2023), "--url", "https://example.org/xj-2023-06",
                   "--published", "2023-06-09")
    rows2 = candidates(again.stdout)
    assert {c["source_id"] for c in rows2} == {"example-2023-06-09"}
    assert all("same figure as R" in c["remark"] for c in rows2 if c["value"] != "13.3")
    path2 = write(tmp_path / "c2.csv", rows2)
    r2 = invoke(project, "data", "add", str(path2))
    assert r2.exit_code == 0, r2.output
    n = int(first[1:])
    assert f"added 4 row(s) (R{n + 1:04d}-R{n + 4:04d}) and 1 source(s)" in r2.stdout
    assert (raw / "sources.csv").read_text(encoding="utf-8").splitlines()[-1] == \
        "example-2023-06-09,China's Xinjiang sees foreign trade volume over 13 bln USD in Jan-April,example.org," \
        "2023-06-09,https://example.org/xj-2023-06,en,no"
    assert invoke(project, "data", "check").exit_code == 0


def test_add_with_one_bad_row_writes_nothing_and_names_line_and_column(project, tmp_path):
    raw = project / "data" / "raw"
    before = tree(raw)
    r = invoke(project, "data", "extract", str(JAN_APR_2023), "--url", "https://example.org/a", "--published",
               "2023-06-09")
    rows = candidates(r.stdout)
    rows[2]["unit"] = "bogus"
    path = write(tmp_path / "c.csv", rows)
    bad = invoke(project, "data", "add", str(path))
    assert bad.exit_code != 0
    assert f"{path}, line 4, column unit: 'bogus' is not a known unit" in bad.output
    assert tree(raw) == before


def test_low_confidence_rows_need_review_or_accept_low(project, tmp_path):
    raw = project / "data" / "raw"
    before = tree(raw)
    page = tmp_path / "release.txt"
    page.write_text("Xinjiang's foreign trade with Kazakhstan reached 12.5 billion yuan so far this year.\n",
                    encoding="utf-8")
    r = invoke(project, "data", "extract", str(page), "--url", "https://example.org/b", "--published", "2023-06-09")
    (row,) = candidates(r.stdout)
    assert row["confidence"] == "low" and "does not say up to which month" in row["remark"]
    row.update(period_start="2023-01", period_end="2023-05", period_kind="ytd")
    path = write(tmp_path / "c.csv", [row])
    refused = invoke(project, "data", "add", str(path))
    assert refused.exit_code != 0 and "low confidence, not reviewed" in refused.output
    assert f"{path}, line 2, column confidence" in refused.output
    assert tree(raw) == before
    assert invoke(project, "data", "add", str(path), "--accept-low").exit_code == 0
    row["remark"] = ""          # reviewed: the doubt cleared
    row["source_url"] = "https://example.org/c"
    row["source_id"] = "example-2023-06-09-c"
    assert invoke(project, "data", "add", str(write(tmp_path / "d.csv", [row]))).exit_code == 0


def test_a_page_without_figures_gives_a_clear_error_and_no_rows(project, tmp_path):
    out = tmp_path / "none.csv"
    r = invoke(project, "data", "extract", str(FIXTURES / "kt-kz-2025-09-27.txt"), "--published", "2025-09-27",
               "--out", str(out))
    assert r.exit_code != 0
    assert "no trade figures found" in r.output and "nothing written" in r.output
    assert not out.exists() and r.stdout.count("\n") <= 1 and "row_id" not in r.stdout


def test_the_publication_date_is_required_when_the_page_has_none(project):
    r = invoke(project, "data", "extract", str(JAN_APR_2023))
    assert r.exit_code != 0
    assert "no publication date" in r.output and "--published YYYY-MM-DD" in r.output
    bad = invoke(project, "data", "extract", str(JAN_APR_2023), "--published", "2023-02-30")
    assert bad.exit_code != 0 and "not a calendar date" in bad.output


def test_a_saved_html_page_gives_its_own_date_and_address(project):
    r = invoke(project, "data", "extract", str(FIXTURES / "people-2023-12-18.html"))
    assert r.exit_code == 0, r.output
    rows = candidates(r.stdout)
    assert {c["source_id"] for c in rows} == {"people-2023-12-18"}     # found by its canonical address
    assert {c["source_published"] for c in rows} == {"2023-12-18"}
    total = next(c for c in rows if c["value"] == "320.53")
    assert "duplicate of R0336 (same source)" in total["remark"]


def test_fetch_offline_gives_a_clear_error(project):
    r = invoke(project, "data", "extract", "--fetch", "http://127.0.0.1:9/release.html")
    assert r.exit_code != 0
    assert "could not fetch http://127.0.0.1:9/release.html" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    ftp = invoke(project, "data", "extract", "--fetch", "ftp://example.org/x")
    assert ftp.exit_code != 0 and "only http and https" in ftp.output
    both = invoke(project, "data", "extract", str(JAN_APR_2023), "--fetch", "https://example.org/x")
    assert both.exit_code != 0 and "either SOURCE" in both.output


@pytest.fixture
def local_server():
    """A page served on the loopback interface (no network): the fixture HTML, a page too large,
    and a 404."""
    import http.server
    import threading
    page = (FIXTURES / "people-2023-12-18.html").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  (the stdlib's name)
            if self.path == "/release.html":
                body, status = page, 200
            elif self.path == "/huge.html":
                body, status = b"<html>" + b"x" * (6 * 1024 * 1024), 200
            else:
                body, status = b"not here", 404
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_reads_the_page_and_keeps_a_copy(project, local_server):
    url = f"{local_server}/release.html"
    r = invoke(project, "data", "extract", "--fetch", url)
    assert r.exit_code == 0, r.output
    rows = candidates(r.stdout)
    # the address read is the address cited (not the canonical link the page claims), unless --url says
    assert {c["source_url"] for c in rows} == {url} and {c["source_published"] for c in rows} == {"2023-12-18"}
    (sid,) = {c["source_id"] for c in rows}
    assert len(rows) == 8
    kept = project / "data" / "pages" / f"{sid}.html"
    assert kept.read_bytes() == (FIXTURES / "people-2023-12-18.html").read_bytes()
    assert f"page kept in {kept}" in r.stderr


def test_fetch_refuses_large_pages_and_errors(project, local_server, tmp_path):
    big = invoke(project, "data", "extract", "--fetch", f"{local_server}/huge.html")
    assert big.exit_code != 0 and "over the limit" in big.output
    missing = invoke(project, "data", "extract", "--fetch", f"{local_server}/nothing.html")
    assert missing.exit_code != 0 and "HTTP 404" in missing.output
    assert not (project / "data" / "pages").exists()
