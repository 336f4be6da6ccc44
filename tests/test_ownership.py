"""Commands delete only what the project created (issue 11, item 2).

Every folder written through `staged_dir` carries a `.xjtrade-output` marker; an existing folder
without it is never replaced (clear error, nothing moved), except an empty one; `--out` may not
point at or contain the project, data/raw or .git; run names that would land on other outputs
are refused.  Each attempt from the issue is repeated here and the folders compared byte for byte.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from xjtrade.cli import main
from xjtrade.project import MARKER, OutputNotOwned, staged_dir, swap_in


def snapshot(folder: Path) -> dict[str, str]:
    """Every file (sha256) and folder under `folder`, .git included."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        rel = p.relative_to(folder).as_posix()
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return out


@pytest.fixture
def clone(project_copy):
    """The project copy as a git clone with a commit, and a fake earlier run under reports/runs."""
    root = project_copy.root
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "c"], check=True)
    run = project_copy.runs / "earlier"
    (run / "notebooks").mkdir(parents=True)
    (run / "params.yaml").write_text("name: earlier\n")
    return project_copy


def cli(*args):
    return CliRunner().invoke(main, list(args))


def refused(result, *needles):
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    for n in needles:
        assert n in result.output, result.output


# --------------------------------------------------------------------------- --out

@pytest.mark.parametrize("where,needle", [
    ("data", "contains data/raw"),                   # deleted data/raw before
    (".", "is the project root"),                      # --out "$PWD" deleted the clone and .git
    ("..", "contains the project root"),
    ("data/raw", "is data/raw"),
    ("data/raw/new", "inside data/raw"),
    (".git", "is .git"),
    (".git/objects/x", "inside .git"),
    ("notebooks", "no .xjtrade-output marker"),
])
def test_out_refused(clone, monkeypatch, where, needle):
    root = clone.root
    before = snapshot(root.parent)
    monkeypatch.chdir(root)
    result = cli("data", "build", "--out", where)
    refused(result, "--out", needle, "Nothing was written")
    assert snapshot(root.parent) == before


def test_out_absolute_project_root(clone):
    before = snapshot(clone.root)
    refused(cli("data", "build", "--out", str(clone.root)), "is the project root")
    assert snapshot(clone.root) == before


def test_out_new_then_marked_folder(clone, tmp_path):
    out = tmp_path / "fresh" / "processed"
    result = cli("data", "build", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "xjtrade data build" in (out / MARKER).read_text()
    assert (out / "figures.parquet").is_file()
    (out / "figures.csv").write_text("stale")
    result = cli("data", "build", "--out", str(out))  # ours: replaced as a whole
    assert result.exit_code == 0, result.output
    assert (out / "figures.csv").read_text() != "stale"
    assert not list(out.parent.glob(".processed.*"))


def test_out_empty_folder_accepted(clone, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert cli("data", "build", "--out", str(out)).exit_code == 0
    assert (out / MARKER).is_file()


# --------------------------------------------------------------------------- run names

@pytest.mark.parametrize("value,needle", [
    ("runs", "'runs' is reserved"),
    ('"evil\\n"', "must be 1-41 characters"),
    ("a/b", "must be 1-41 characters"),
    ("../x", "must be 1-41 characters"),
    ('"x\\ty"', "must be 1-41 characters"),
])
@pytest.mark.parametrize("command", ["run", "render", "build"])
def test_reserved_and_bad_run_names(clone, command, value, needle):
    before = snapshot(clone.root)
    refused(cli(command, "-p", f"name={value}"), "name:", needle)
    assert snapshot(clone.root) == before
    assert not [p for p in clone.root.rglob("*") if "\n" in p.name or "\t" in p.name]


def test_name_runs_in_params_file(clone, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: runs\n")
    before = snapshot(clone.root)
    refused(cli("build", "--params", str(path)), "name (line 1)", "reserved")
    assert snapshot(clone.root) == before


# --------------------------------------------------------------------------- staged_dir / swap_in

def test_swap_in_refuses_unmarked_folder(tmp_path):
    final = tmp_path / "mine"
    (final / "sub").mkdir(parents=True)
    (final / "sub" / "keep.txt").write_text("precious")
    staging = tmp_path / "staging"
    staging.mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(OutputNotOwned, match=r"mine exists and was not created by xjtrade"):
        swap_in(staging, final)
    assert snapshot(tmp_path) == before


def test_staged_dir_refuses_before_work(tmp_path):
    final = tmp_path / "theirs"
    final.mkdir()
    (final / "a.txt").write_text("x")
    ran = []
    with pytest.raises(OutputNotOwned):
        with staged_dir(final):
            ran.append(1)
    assert not ran and sorted(p.name for p in tmp_path.iterdir()) == ["theirs"]


def test_staged_dir_refuses_a_file(tmp_path):
    final = tmp_path / "file"
    final.write_text("x")
    with pytest.raises(OutputNotOwned, match="is a file"):
        with staged_dir(final):
            pass
    assert final.read_text() == "x"


def test_staged_dir_marks_and_replaces_its_own(tmp_path):
    import json
    final = tmp_path / "out"
    with staged_dir(final, "sweep") as st:
        (st / "a").write_text("1")
    marker = json.loads((final / MARKER).read_text())
    assert (marker["made_by"], marker["kind"]) == ("xjtrade sweep", "sweep")
    with staged_dir(final, "sweep") as st:
        (st / "b").write_text("2")
    assert sorted(p.name for p in final.iterdir()) == [MARKER, "b"]


@pytest.mark.parametrize("rel,files,dirs", [
    ("data/processed", ["summary.json", "figures.parquet"], []),
    ("reports/default", ["manifest.json"], ["site"]),
    ("reports/runs/default", ["params.yaml"], ["notebooks"]),
])
def test_legacy_outputs_are_adopted(tmp_path, rel, files, dirs):
    """Outputs from before markers: known place in a project + our content -> replaced, and marked
    from now on."""
    (tmp_path / "_quarto.yml").write_text("project: {}\n")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    final = tmp_path / rel
    final.mkdir(parents=True)
    for f in files:
        (final / f).write_text("old")
    for d in dirs:
        (final / d).mkdir()
    with staged_dir(final) as st:
        (st / "new").write_text("1")
    assert sorted(p.name for p in final.iterdir()) == [MARKER, "new"]


@pytest.mark.parametrize("rel,files", [
    ("data/processed", ["notes.txt"]),               # right place, not our content
    ("elsewhere/processed", ["summary.json", "figures.parquet"]),  # our content, wrong place
    ("reports/default", ["manifest.json"]),          # no site/
])
def test_lookalikes_are_not_adopted(tmp_path, rel, files):
    final = tmp_path / rel
    final.mkdir(parents=True)
    for f in files:
        (final / f).write_text("old")
    before = snapshot(tmp_path)
    with pytest.raises(OutputNotOwned):
        with staged_dir(final):
            pass
    assert snapshot(tmp_path) == before


def test_legacy_processed_via_cli(clone):
    """data/processed written before markers (marker removed) is rebuilt and marked."""
    assert cli("data", "build").exit_code == 0
    (clone.processed / MARKER).unlink()
    result = cli("data", "build")
    assert result.exit_code == 0, result.output
    assert (clone.processed / MARKER).is_file()
