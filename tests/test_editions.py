"""The editions a report lists beside itself, and the part of its render key that depends on them."""

from __future__ import annotations

import json

from xjtrade.project import Project
from xjtrade.report.editions import editions, editions_key


def _manifest(root, name, **extra):
    folder = root / "reports" / name
    folder.mkdir(parents=True, exist_ok=True)
    m = {"parameters": {"name": name, "title": f"Title of {name}", "entity": "Horgos port", "as_of": None},
         "build_date": "2023-11-14", "build_time": "2023-11-14T22:13:20Z", "inputs": {"data/raw": "a" * 64}}
    m.update(extra)
    (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def _sweep(root, grid, **extra):
    folder = root / "reports" / "sweeps" / grid
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"title": "Ports", "kind": "scenarios", "scenarios": 4, "varying": ["entity", "flow"],
            "build_date": "2023-11-14"}
    meta.update(extra)
    (folder / "edition.json").write_text(json.dumps(meta), encoding="utf-8")


def test_editions_list_scenarios_and_sweeps_but_not_itself(tmp_path):
    project = Project(tmp_path)
    _manifest(tmp_path, "default", parameters={"name": "default", "entity": "Xinjiang"})
    _manifest(tmp_path, "horgos")
    _sweep(tmp_path, "ports")
    got = editions(project, "default")
    assert [e["name"] for e in got] == ["horgos", "sweeps/ports"]
    assert got[0]["changes"] == "entity Horgos port" and got[0]["link"] == "../../horgos/site/index.html"
    assert got[1]["changes"] == "scenarios compared: 4 varying entity and flow"
    assert got[1]["link"] == "../../sweeps/ports/index.html"
    assert [e["name"] for e in editions(project, "horgos")] == ["default", "sweeps/ports"]


def test_editions_key_follows_what_the_list_shows_only(tmp_path):
    project = Project(tmp_path)
    _manifest(tmp_path, "default")
    empty = editions_key(project, "default")
    _manifest(tmp_path, "horgos")
    one = editions_key(project, "default")
    assert one != empty                                   # a new scenario edition
    _sweep(tmp_path, "ports")
    two = editions_key(project, "default")
    assert two != one                                     # a new sweep comparison
    # what the list does not show leaves the key alone: another build time or other inputs of a
    # neighbour (so two editions that list each other do not make each other stale in turn)
    _manifest(tmp_path, "horgos", build_time="2023-11-14T23:00:00Z", inputs={"data/raw": "b" * 64})
    assert editions_key(project, "default") == two
    # a changed title, build date or number of scenarios is shown, so it changes the key
    _sweep(tmp_path, "ports", scenarios=5)
    assert editions_key(project, "default") != two
    _sweep(tmp_path, "ports")
    assert editions_key(project, "default") == two
    _manifest(tmp_path, "horgos", build_date="2023-11-15")
    assert editions_key(project, "default") != two
    # an unreadable manifest is skipped, as the list skips it
    _manifest(tmp_path, "horgos")
    (tmp_path / "reports" / "broken").mkdir()
    (tmp_path / "reports" / "broken" / "manifest.json").write_text("{not json", encoding="utf-8")
    assert editions_key(project, "default") == two
