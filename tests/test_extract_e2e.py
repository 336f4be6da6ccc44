"""From a fresh copy of the project: `data extract` a release, `data add` the reviewed rows,
`xjtrade build`, and the published figures table lists the new figure linked to its source."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from conftest import copy_project, run_cli
from xjtrade.data.extract.candidates import CANDIDATE_COLUMNS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "releases"
URL = "http://en.people.cn/n3/2023/0609/c90000-20029716.html"


@pytest.mark.slow
def test_a_release_extracted_and_added_is_published_with_its_source(tmp_path, warm_cache):
    root = copy_project(tmp_path / "project", warm=warm_cache)
    out = tmp_path / "candidates.csv"
    r = run_cli(root, "data", "extract", str(FIXTURES / "people-2023-06-09.txt"), "--url", URL,
                "--published", "2023-06-09", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    keep = [c for c in rows if "(same source)" not in c["remark"]]       # the review: duplicates deleted
    assert [(c["value"], c["unit"]) for c in keep] == [("13.3", "billion USD")]
    reviewed = tmp_path / "reviewed.csv"
    with open(reviewed, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CANDIDATE_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(keep)
    from test_extract_cli import next_id
    new_id = next_id(root)
    r = run_cli(root, "data", "add", str(reviewed))
    assert r.returncode == 0, r.stderr
    assert f"added 1 row(s) ({new_id}-{new_id})" in r.stdout
    r = run_cli(root, "build")
    assert r.returncode == 0, r.stderr
    page = (root / "reports" / "default" / "site" / "figures.html").read_text(encoding="utf-8")
    row = re.search(rf'<tbody[^>]*\bid="{new_id}"[^>]*>.*?</tbody>', page, re.S)   # a figure: its row and details
    assert row, "the new figure is not in the published figures table"
    text = row.group(0)
    assert "13.3 billion USD" in text and "Jan-Apr 2023" in text
    assert 'href="sources.html#src-people-2023-06-09"' in text
    sources = (root / "reports" / "default" / "site" / "sources.html").read_text(encoding="utf-8")
    assert 'id="src-people-2023-06-09"' in sources and URL in sources
