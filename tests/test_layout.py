"""The package layout: imports go one way (report -> data, stats), registries are the one source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "xjtrade"


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file (relative imports resolved against the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = ["xjtrade", *path.relative_to(PKG).with_suffix("").parts[:-1]]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
    return out


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


def test_renderer_and_cli_start_light():
    """Importing the renderer, the results contract or the build pipeline loads no pandas or
    statsmodels (a no-op build costs a few file hashes)."""
    code = ("import sys, xjtrade.report.render, xjtrade.report.results, xjtrade.pipeline, xjtrade.cli; "
            "heavy = [m for m in ('pandas', 'statsmodels', 'seaborn', 'matplotlib', 'scipy') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


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
    # the methods chapter's model table is generated from the registry
    from xjtrade.report.publish import model_table
    assert "{{models}}" in (PKG.parents[1] / "methods.qmd").read_text(encoding="utf-8")
    table = model_table()
    for spec in reg.MODELS.values():
        assert f"| {spec.label} | {spec.description} |" in table


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
