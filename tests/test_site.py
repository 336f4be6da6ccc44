"""The published report: the site in headless Chromium, the PDF's text, the Quarto path."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from browser import check_site, chromium_available, serve_directory  # noqa: F401

pytestmark = pytest.mark.slow

CHAPTERS = ["Data: coverage, quality and lineage", "Growth", "Forecasts", "Methods", "Sources",
            "About this build"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import copy_project
    from xjtrade.report.params import load_params
    from xjtrade.project import Project
    from xjtrade.pipeline import build
    project = Project(copy_project(tmp_path_factory.mktemp("site") / "project"))
    params = load_params(project.params / "default.yaml")
    report = build(project, params, engine="portable", log=lambda m: None)
    results = json.loads((project.runs / "default" / "results.json").read_text())
    return project, report.report_dir, results


def test_layout(built):
    _, out, _ = built
    site = out / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert pages == ["about.html", "index.html", "methods.html", "notebooks/01-data.html",
                     "notebooks/02-growth.html", "notebooks/03-forecast.html", "sources.html"]
    assert (out / "xinjiang-trade-monitor.pdf").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["render_engine"] == "portable"
    assert manifest["parameters"]["entity"] == "Xinjiang"


def test_site_in_browser(built, chromium_available, tmp_path):
    _, out, results = built
    site = out / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    with serve_directory(site) as url:
        report = check_site(url, pages, screenshot_dir=tmp_path / "shots")
    assert report["ok"], report["problems"]
    assert len(report["internal_links"]) > 20
    index = report["text"]["index.html"]
    latest = results["growth"]["latest_value"]
    assert f"{latest:,.1f}" in index
    assert "357.3" in index
    growth = report["text"]["notebooks/02-growth.html"]
    assert "Figure 2.1" in growth and "Source: Xinjiang Trade Monitor" in growth
    sources = report["text"]["sources.html"]
    assert "seed-002" in sources and "2024-01-23" in sources
    about = report["text"]["about.html"]
    assert "render engine" in about and "portable" in about


def test_every_figure_and_table_carries_a_source(built):
    _, out, _ = built
    for page in ("01-data", "02-growth", "03-forecast"):
        html = (out / "site" / "notebooks" / f"{page}.html").read_text()
        n_captions = html.count("Figure ") + html.count("Table ")
        assert n_captions > 0
        assert html.count("Source:") >= 1, page


def test_pdf_text(built):
    _, out, results = built
    reader = PdfReader(out / "xinjiang-trade-monitor.pdf")
    assert 15 <= len(reader.pages) <= 120
    text = "\n".join(page.extract_text() for page in reader.pages)
    for chapter in CHAPTERS:
        assert chapter in text, chapter
    assert "Contents" in text
    assert "357.3" in text
    assert f"{results['growth']['trend']['growth_pct']:+.1f}%" in text


def test_quarto_engine_when_installed(built, tmp_path):
    from xjtrade.report.render import find_quarto, render_project
    if find_quarto() is None:
        pytest.skip("quarto not found (PATH, QUARTO_PATH, quarto-cli): the portable engine is tested instead")
    project, _, _ = built
    from xjtrade.report.publish import stage_project
    stage = stage_project(project, project.runs / "default", tmp_path / "stage", {"parameters": {}})
    result = render_project(stage, tmp_path / "out", engine="quarto")
    assert result.index_html.exists() and result.pdf and result.pdf.exists()
