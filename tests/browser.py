"""Browser test helpers for any built static site (Playwright + the system Chromium).

    from browser import chromium_available, serve_directory, check_site   # pytest fixture + helpers

    def test_site(chromium_available, tmp_path):
        with serve_directory(site_dir) as root_url:
            report = check_site(root_url, ["index.html", "notebooks/01-data.html"],
                                screenshot_dir=tmp_path / "shots")
        assert report["ok"], report["problems"]

``check_site`` opens every page in a fresh headless Chromium and collects console errors, failed
requests (network failures and HTTP >= 400), images that did not load (``naturalWidth == 0``),
every same-origin link and whether it resolves (HTTP 200 and, for ``#fragment`` links into HTML
pages, an element with that id on the target page), and the visible text of each page.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_available() -> Path:
    """The Chromium binary; skip when absent -- except in CI (env var ``CI`` set), where it fails."""
    problem = None
    if not CHROMIUM.is_file():
        problem = f"chromium not found at {CHROMIUM}"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (browser tests must run in CI)")
        pytest.skip(problem)
    return CHROMIUM


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        pass


@contextmanager
def serve_directory(directory: str | os.PathLike) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (free port) in a thread; yields the root URL
    (ending with ``/``).  The server stops when the ``with`` block ends."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="serve-directory", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        for key, value in attrs:
            if key == "id" and value:
                self.ids.add(value)
            elif key == "name" and tag == "a" and value:
                self.ids.add(value)


def html_ids(html: str) -> set[str]:
    parser = _IdCollector()
    parser.feed(html)
    return parser.ids


def _screenshot_name(page: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", page.strip("/") or "index") + ".png"


def check_site(
    root_url: str,
    pages: list[str],
    screenshot_dir: str | os.PathLike | None = None,
    executable_path: str | os.PathLike = CHROMIUM,
    viewport: dict | None = None,
    timeout_ms: int = 20000,
    ignore_favicon: bool = True,
) -> dict:
    """Open every page of a served site and report problems.

    Returns a dict with ``pages`` (per page: url, status, title, text, console_errors,
    broken_images, links), the flat lists ``console_errors``, ``failed_requests``,
    ``broken_images``, ``internal_links`` and ``broken_links``, ``text`` (page -> visible text),
    ``screenshots`` (page -> png path), ``problems`` (human-readable lines) and ``ok``.
    ``ignore_favicon``: the browser's automatic ``/favicon.ico`` request is not a page problem.
    """
    from playwright.sync_api import sync_playwright

    origin = urlparse(root_url)
    report: dict = {
        "pages": {},
        "console_errors": [],
        "failed_requests": [],
        "broken_images": [],
        "internal_links": [],
        "broken_links": [],
        "text": {},
        "screenshots": {},
    }
    shots = Path(screenshot_dir) if screenshot_dir else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable_path), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
            context.set_default_timeout(timeout_ms)
            hrefs: dict[str, list[str]] = {}
            for name in pages:
                url = urljoin(root_url, name)
                page = context.new_page()
                console: list[str] = []
                failed: list[str] = []
                def on_console(msg, sink=console) -> None:
                    if msg.type != "error":
                        return
                    source = (msg.location or {}).get("url", "")
                    if ignore_favicon and source.endswith("/favicon.ico"):
                        return
                    sink.append(f"{msg.text} [{source}]" if source else msg.text)

                page.on("console", on_console)
                page.on("pageerror", lambda exc, sink=console: sink.append(f"page error: {exc}"))
                page.on("requestfailed", lambda req, sink=failed: sink.append(f"{req.url} ({req.failure})"))
                page.on(
                    "response",
                    lambda resp, sink=failed: sink.append(f"{resp.url} (HTTP {resp.status})")
                    if resp.status >= 400 and not (ignore_favicon and resp.url.endswith("/favicon.ico")) else None,
                )
                response = page.goto(url, wait_until="load")
                status = response.status if response else None
                broken = page.evaluate(
                    "() => Array.from(document.images)"
                    ".filter(img => !img.complete || img.naturalWidth === 0)"
                    ".map(img => img.currentSrc || img.src)"
                )
                links = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
                text = page.inner_text("body")
                title = page.title()
                if shots:
                    path = shots / _screenshot_name(name)
                    page.screenshot(path=str(path), full_page=True)
                    report["screenshots"][name] = path
                page.close()
                internal = [h for h in links if urlparse(h).netloc == origin.netloc and urlparse(h).scheme == origin.scheme]
                hrefs[name] = internal
                report["pages"][name] = {
                    "url": url,
                    "status": status,
                    "title": title,
                    "text": text,
                    "console_errors": console,
                    "failed_requests": failed,
                    "broken_images": broken,
                    "links": internal,
                }
                report["text"][name] = text
                report["console_errors"] += [(name, m) for m in console]
                report["failed_requests"] += [(name, f) for f in failed]
                report["broken_images"] += [(name, b) for b in broken]
                if status != 200:
                    report["failed_requests"].append((name, f"{url} (HTTP {status})"))

            # Resolve every internal link once (HTTP status, and fragment ids on HTML targets).
            targets: dict[str, tuple[int, set[str] | None]] = {}
            for name, links in hrefs.items():
                for href in links:
                    base, fragment = urldefrag(href)
                    if base not in targets:
                        resp = context.request.get(base)
                        ids = None
                        if "html" in (resp.headers.get("content-type") or ""):
                            ids = html_ids(resp.text())
                        targets[base] = (resp.status, ids)
                    status, ids = targets[base]
                    fragment_ok = None
                    if fragment:
                        fragment_ok = ids is not None and unquote(fragment) in ids
                    ok = status == 200 and fragment_ok is not False
                    entry = {"page": name, "href": href, "status": status, "fragment": fragment or None,
                             "fragment_ok": fragment_ok, "ok": ok}
                    report["internal_links"].append(entry)
                    if not ok:
                        report["broken_links"].append(entry)
            context.close()
        finally:
            browser.close()

    problems = (
        [f"console error on {p}: {m}" for p, m in report["console_errors"]]
        + [f"failed request on {p}: {r}" for p, r in report["failed_requests"]]
        + [f"image not loaded on {p}: {src}" for p, src in report["broken_images"]]
        + [f"broken link on {e['page']}: {e['href']} (HTTP {e['status']}, fragment ok: {e['fragment_ok']})"
           for e in report["broken_links"]]
    )
    report["problems"] = problems
    report["ok"] = not problems
    return report
