"""Every number in the prose of a published page, traced to the run's results or the published tables.

`numbers(prose(html))` reads a page of the site as a reader does and returns the numbers in its prose:
the text of the page's main part, without tables, code, scripts, SVG, navigation, headers and the
section and chapter numbers the renderer writes.  `untraced(html, pool)` returns those that are
neither allowed (ALLOWED below) nor found in `pool` (`Pool`: the numeric values of results.json and
the cells of the tables the page shows or links to), within the rounding they are printed with.

The allow-list, and why each entry is there:
  * years (1990-2100), alone or in a range (2011-2023): labels of periods, not results;
  * dates (2024-01-30) and months (2024-01): when the data were published or the edition built;
  * figure, table and chapter numbers (Figure 2.1, Table 3.3): the book's numbering;
  * the nominal levels 80% and 95% of the intervals and the 5% level of the tests: settings of the
    methods, the same in every edition (the empirical coverage they are compared with is a result,
    printed with a decimal, and traced);
  * numbers inside a word (R0339, Q1, H1, p15142): ids and period names, not quantities.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

SKIP_TAGS = {"table", "pre", "code", "script", "style", "svg", "nav", "header", "footer", "button"}
SKIP_CLASSES = {"header-section-number", "chapter-number", "menu-text"}
VOID = {"br", "img", "hr", "meta", "link", "input", "source", "col", "area", "base", "wbr"}

DATE = re.compile(r"(?<![\w.-])\d{4}-\d{2}(?:-\d{2})?(?![\w-])")
NUMBERING = re.compile(r"\b(?:Figure|Table|Chapter|Section|Figures|Tables)\s+\d+(?:\.\d+)*(?:\s+(?:and|to)\s+\d+(?:\.\d+)*)?")
NOMINAL = re.compile(r"(?<![\w.,])(?:80|95)\s?%(?!\d)|(?<![\w.,])5\s?% level")
NUMBER = re.compile(r"(?<![\w.,])[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")


class _Prose(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.skip = 0
        self.main = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":   # an image's text alternative is what a reader without it gets
            alt = dict(attrs).get("alt")
            if alt and self.main and not self.skip:
                self.chunks.append(alt)
        if tag in VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        hidden = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES)
        self.stack.append((tag, hidden))
        self.skip += hidden
        self.main += tag == "main"

    def handle_endtag(self, tag):
        if tag in VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            t, hidden = self.stack.pop()
            self.skip -= hidden
            self.main -= t == "main"
            if t == tag:
                break

    def handle_data(self, data):
        if self.main and not self.skip:
            self.chunks.append(data)


def prose(html: str) -> str:
    """The prose of a page (see the module docstring), as one text."""
    parser = _Prose()
    if "<main" not in html:   # a page without a main element: its body
        html = html.replace("<body", "<main", 1).replace("</body>", "</main>", 1)
    parser.feed(html)
    return " ".join(" ".join(parser.chunks).split())


@dataclass(frozen=True)
class Number:
    text: str          # as printed
    value: float
    decimals: int
    context: str

    @property
    def is_integer(self) -> bool:
        return self.decimals == 0


def numbers(text: str) -> list[Number]:
    """The numbers of a text that the allow-list does not cover."""
    for pattern in (DATE, NUMBERING, NOMINAL):
        text = pattern.sub(" ", text)
    out = []
    for m in NUMBER.finditer(text):
        raw = m.group(0)
        clean = raw.replace(",", "").replace("\u2212", "-").lstrip("+")
        value = float(clean)
        decimals = len(clean.split(".")[1]) if "." in clean else 0
        if decimals == 0 and 1990 <= abs(value) <= 2100:
            continue   # a year
        out.append(Number(raw, value, decimals, text[max(0, m.start() - 60):m.end() + 40]))
    return out


@dataclass
class Pool:
    """The values numbers may be traced to: integers exactly, floats within rounding."""
    ints: set = field(default_factory=set)
    floats: list = field(default_factory=list)

    def add(self, v) -> None:
        if isinstance(v, bool) or v is None:
            return
        if isinstance(v, int):
            self.ints.add(abs(v))
            self.floats.append(abs(float(v)))
        elif isinstance(v, float) and math.isfinite(v):
            self.floats.append(abs(v))
            if abs(v) <= 1:
                self.floats.append(abs(v) * 100)   # a share printed as a percentage
            if v == round(v):
                self.ints.add(abs(int(v)))

    def add_text(self, text: str) -> None:
        """The numbers printed inside a text cell of a published table (a title, a URL, a label)."""
        for n in numbers(str(text)):
            self.add(n.value if n.decimals else int(n.value))

    def traces(self, n: Number) -> bool:
        v = abs(n.value)
        if n.is_integer:
            return int(v) in self.ints
        tol = 0.5 * 10 ** -n.decimals + 1e-9
        return any(abs(f - v) <= tol for f in self.floats)

    def extend(self, other: "Pool") -> "Pool":
        return Pool(self.ints | other.ints, self.floats + other.floats)


def results_pool(results: dict) -> Pool:
    """Every numeric value of results.json (strings are not searched: a number typed into a text the
    run saved is no result)."""
    pool = Pool()

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        else:
            pool.add(v)
    walk(results)
    return pool


def _cell_value(pool: Pool, cell: str) -> None:
    text = cell.strip().replace(",", "")
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        pool.add_text(cell)
        return
    pool.add(value)
    if value == round(value):
        pool.add(int(value))


def csv_pool(paths) -> Pool:
    pool = Pool()
    for path in paths:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    _cell_value(pool, cell)
    return pool


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.cells: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self.depth += 1
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.cells[-1] += data


def table_pool(html: str) -> Pool:
    """The cells of the tables shown on a page."""
    parser = _Cells()
    parser.feed(html)
    pool = Pool()
    for cell in parser.cells:
        _cell_value(pool, cell)
    return pool


def linked_csv(site: Path, page: Path, html: str) -> list[Path]:
    """The CSV files a page links to (its tables' downloads), inside the site."""
    out = []
    for href in re.findall(r'href="([^"#?]+\.csv)"', html):
        path = (page.parent / href).resolve()
        if path.is_file() and Path(site).resolve() in path.parents:
            out.append(path)
    return out


def untraced(site: Path, page: Path, results: dict, base: Pool | None = None) -> list[Number]:
    """The numbers of a page's prose found neither in the allow-list nor in the results (`base`: the
    results' pool when already built) nor in the tables the page shows or links to."""
    html = Path(page).read_text(encoding="utf-8")
    pool = (base or results_pool(results)).extend(table_pool(html)).extend(csv_pool(linked_csv(site, page, html)))
    return [n for n in numbers(prose(html)) if not pool.traces(n)]


def check_site(site: Path, results_path: Path) -> dict[str, list[Number]]:
    """{page: untraced numbers} for every HTML page of a site (empty lists when all trace)."""
    results = json.loads(Path(results_path).read_text(encoding="utf-8"))
    base = results_pool(results)
    return {p.relative_to(site).as_posix(): untraced(site, p, results, base) for p in sorted(Path(site).rglob("*.html"))}
