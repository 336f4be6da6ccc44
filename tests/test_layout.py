"""The package layout: imports go one way (report -> data, stats), registries are the one source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xjtrade.keys import imports_of

PKG = Path(__file__).resolve().parents[1] / "src" / "xjtrade"


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file (the walk the cache keys use: xjtrade.keys)."""
    return imports_of(path, PKG)


@pytest.mark.parametrize("stage,forbidden", [
    ("data", ("xjtrade.report", "xjtrade.pipeline", "xjtrade.cli")),   # data may use stats' pure maths
    ("stats", ("xjtrade.report", "xjtrade.data", "xjtrade.pipeline", "xjtrade.cli")),
    ("report/render", ("xjtrade.data", "xjtrade.stats", "pandas", "numpy", "matplotlib", "seaborn",
                       "statsmodels")),
])
def test_imports_go_one_way(stage, forbidden):
    offenders = []
    for path in sorted((PKG / stage).rglob("*.py")):
        for mod in _imports(path):
            if any(mod == f or mod.startswith(f + ".") for f in forbidden):
                offenders.append(f"{path.relative_to(PKG)} imports {mod}")
    assert not offenders, "\n".join(offenders)


def test_layout_check_would_catch_a_wrong_import(tmp_path):
    bad = PKG / "stats" / "_tmp_bad_import.py"
    bad.write_text("from xjtrade.report import chapters\n")
    try:
        with pytest.raises(AssertionError, match="_tmp_bad_import"):
            test_imports_go_one_way("stats", ("xjtrade.report",))
    finally:
        bad.unlink()


# The publish step formats the run's results; it computes nothing: neither it nor the renderer
# imports the analysis, directly or through the modules it uses (issue 19).
PUBLISH = ["report/publish.py", "report/staging.py", "report/pages.py", "report/site.py", "report/downloads.py",
           "report/interactive.py", "report/templating.py", "report/html_tables.py", "report/editions.py",
           "report/bulletin.py"]
ANALYSIS = ("xjtrade.stats", "xjtrade.data.estimates", "xjtrade.data.selector")
# the parameter schema (RunParams, in the results contract) checks model names against the registry, and
# the pages name models by their labels: the registry's module is a list of model objects (names, labels,
# descriptions); their implementations are imported inside the methods that fit them, which the publish
# step never calls, so only the registry's module-level imports are followed (and checked at run time in
# test_publishing_loads_no_model_implementation)
ALLOWED = ("xjtrade.stats.registry",)


def _module_level_imports(path: Path) -> set[str]:
    import ast
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def _publish_files() -> list[Path]:
    return [PKG / f for f in PUBLISH] + sorted((PKG / "report" / "render").rglob("*.py"))


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "xjtrade":
        return None
    for n in (len(parts), len(parts) - 1):   # `from xjtrade.x import name`: a module or a name in one
        base = PKG.joinpath(*parts[1:n]) if n > 1 else PKG
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _forbidden(mod: str) -> bool:
    return any(mod == f or mod.startswith(f + ".") for f in ANALYSIS) and not any(
        mod == a or mod.startswith(a + ".") for a in ALLOWED)


def analysis_imports(files: list[Path]) -> list[str]:
    """Every import of the analysis reachable from `files` through in-package imports, with the chain."""
    offenders, seen = [], set()
    todo = [(f, f.relative_to(PKG).as_posix()) for f in files]
    while todo:
        path, chain = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        allowed = any(path == _module_file(a) for a in ALLOWED)
        for mod in sorted(_module_level_imports(path) if allowed else _imports(path)):
            if _forbidden(mod):
                offenders.append(f"{chain} imports {mod}")
                continue
            target = _module_file(mod)
            if target is not None and target not in seen:
                todo.append((target, f"{chain} -> {target.relative_to(PKG).as_posix()}"))
    return sorted(set(offenders))


def test_publish_and_render_import_no_analysis():
    assert all(f.is_file() for f in _publish_files())
    assert analysis_imports(_publish_files()) == []


def test_publishing_loads_no_model_implementation():
    """Importing the publish step and naming models (as the pages do) loads no model implementation."""
    code = ("import sys\nimport xjtrade.report.publish, xjtrade.report.pages\nfrom xjtrade.report import wording\n"
            "from xjtrade.stats.registry import MODELS\nprint(wording.models_text(list(MODELS)))\n"
            "print(sorted(m for m in sys.modules if m.startswith('xjtrade.stats.') and m != 'xjtrade.stats.registry'"
            " or m in ('statsmodels', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names, loaded = out.strip().splitlines()
    assert "mean growth" in names and loaded == "[]"


def test_publish_layout_check_would_catch_an_analysis_import(tmp_path):
    direct = PKG / "report" / "_tmp_publish_direct.py"
    direct.write_text("from xjtrade.data.selector import series\n")
    indirect = PKG / "report" / "_tmp_publish_indirect.py"
    indirect.write_text("from xjtrade.report import wording\nimport xjtrade.report._tmp_publish_helper\n")
    helper = PKG / "report" / "_tmp_publish_helper.py"
    helper.write_text("from xjtrade.data.estimates import annual_estimates\n")
    try:
        found = analysis_imports([direct, indirect])
        assert "report/_tmp_publish_direct.py imports xjtrade.data.selector" in found
        assert any(f.endswith("_tmp_publish_helper.py imports xjtrade.data.estimates") for f in found), found
        assert not any("stats.registry" in f for f in found)
    finally:
        for f in (direct, indirect, helper):
            f.unlink()


def test_publish_step_loads_no_analysis_at_run_time():
    """Importing every module of the publish step loads no analysis module and no statistics library
    (only the registry of model names, through the parameter schema, and its package's empty __init__)."""
    mods = ", ".join("xjtrade." + f[:-3].replace("/", ".") for f in PUBLISH)
    code = (f"import sys, {mods}; "
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('statsmodels', 'scipy', "
            "'matplotlib', 'seaborn') or (m.startswith(('xjtrade.stats', 'xjtrade.data.estimates', "
            "'xjtrade.data.selector', 'xjtrade.data.clean')) and m not in ('xjtrade.stats', 'xjtrade.stats.registry')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_renderer_and_cli_start_light():
    """Importing the renderer, the results contract or the build pipeline loads no pandas or
    statsmodels (a no-op build costs a few file hashes)."""
    code = ("import sys, xjtrade.report.render, xjtrade.report.results, xjtrade.pipeline, xjtrade.cli; "
            "heavy = [m for m in ('pandas', 'statsmodels', 'seaborn', 'matplotlib', 'scipy') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


HEAVY = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "pyarrow", "pydantic", "pandera",
         "papermill", "plotly", "dask")


def test_the_key_checks_of_a_no_op_build_load_nothing_heavy(tmp_path):
    """What an unchanged build does before it stops (the validated parameters from the cache, every
    step's key) loads none of the heavy packages; the first call validates the parameters (pydantic)
    and caches them.  The whole no-op build is checked in tests/test_build.py."""
    from xjtrade.project import copy_project
    root = copy_project(PKG.parents[1], tmp_path / "project")
    code = ("import sys\nfrom pathlib import Path\nfrom xjtrade.project import Project, notebooks_in\n"
            "from xjtrade.pipeline import compute_keys, load_params\n"
            "p = Project(Path(sys.argv[1]))\nparams = load_params(p, None, ['horizon=2'])\n"
            "keys = compute_keys(p, params, 'auto', notebooks_in(p.notebooks))\nkeys.keyer.save()\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")

    def heavy() -> str:
        return subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert "pydantic" in heavy()      # the first time: validated
    assert heavy() == ""              # then read back


def test_model_registry_is_the_one_list():
    """The registry is one list of model objects (statsforecast style) with explicit fallbacks; models
    are found by their objects, never by a name looked up in a module's globals, and no variant of a
    model lives in a second list."""
    import ast
    from xjtrade.report.params import RunParams
    from xjtrade.stats import benchmarks
    from xjtrade.stats import registry as reg

    assert RunParams().models == reg.YEARS_AHEAD_MODELS == benchmarks.ANNUAL_BENCHMARKS
    assert [m.name for m in reg.REGISTRY] == list(reg.MODELS) and len(set(reg.MODELS)) == len(reg.REGISTRY)
    for m in reg.REGISTRY:
        assert isinstance(m, reg.Model) and callable(m.fit), m.name
        assert "_" not in m.label, f"{m.name}: the label is for readers"
        assert m.use in (reg.YEARS_AHEAD, reg.WITHIN_YEAR, reg.BOTH)
        if m.use == reg.YEARS_AHEAD:
            assert benchmarks.MIN_YEARS[m.name] == m.min_years
    for use, m in reg.FALLBACK.items():
        assert m in reg.REGISTRY and m.serves(use) and not m.benchmark
        assert reg.LAST_RESORT[use] in reg.REGISTRY
    assert set(reg.FALLBACK[reg.WITHIN_YEAR].members) <= set(reg.MODELS)
    # no look-up by string in globals(), no suffix variants of model names
    for path in (PKG / "stats").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        assert "globals" not in calls, f"{path.name} looks models up in globals()"
        assert "}_annual" not in path.read_text(encoding="utf-8"), f"{path.name} builds '_annual' model names"
    # the methods chapter's model table is generated from the registry (by the run, kept in its results)
    from xjtrade.report.evaluation_facts import model_rows
    from xjtrade.report.templating import markdown
    from xjtrade.textsafe import md_escape
    assert "{{ models }}" in (PKG.parents[1] / "methods.qmd").read_text(encoding="utf-8")
    table = markdown("methods_models.md.j2", rows=model_rows())
    for spec in reg.MODELS.values():
        assert f"| {md_escape(spec.label)} | {md_escape(spec.description)} |" in table


def test_model_registry_imports_nothing_heavy():
    """The command line validates parameters against the registry without loading numpy or pandas: the
    implementations are imported when a model is fitted."""
    code = ("import sys, xjtrade.stats.registry as r; r.model('arima'); r.candidates('within year'); "
            "print(','.join(m for m in ('numpy', 'pandas', 'statsmodels', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_figure_and_table_labels_are_unique_across_the_book():
    """A label used in two chapters makes a reference in one point at the other's table (the
    forecasts chapter's interval coverage was numbered and linked as Table 1.1)."""
    import json
    import re
    labels = []
    for nb in sorted((PKG.parents[1] / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            labels += re.findall(r"^#\|\s*label:\s*(\S+)", "".join(cell["source"]), re.M)
    assert len(labels) > 10
    assert sorted(set(labels)) == sorted(labels), sorted(l for l in labels if labels.count(l) > 1)


def test_report_modules_stay_small():
    """A module of report/ over 400 lines holds more than one job (split it by what it holds); the publish
    step's entry stays a short sequence of calls (issue "Publish from the results alone")."""
    sizes = {p.relative_to(PKG).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in sorted((PKG / "report").rglob("*.py"))}
    assert sizes["report/publish.py"] <= 250
    assert {name: n for name, n in sizes.items() if n > 400} == {}
