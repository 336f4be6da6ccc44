"""The site's tables, after rendering: each in a box that scrolls sideways when it must, with its key
column (the first: an id, a year, a model) sticky so that it stays in view while the rest scrolls, its
prose columns marked, so that ids and numbers never wrap while notes and titles do, and long prose
(notes, reasons, lists of inputs) moved out of the columns into a details line under each row.

Works on the HTML that pandoc (the portable renderer) or Quarto writes for pipe tables: rows of
``<th>``/``<td>`` cells without nested tables or spans.  A column is prose by the rule the chapters
use for the tables' widths (:func:`xjtrade.report.wording.is_prose`); its cells get ``class="prose"``
(``reader.css`` lets them wrap between 12rem and 30rem).  A prose column whose longest cell runs
beyond :data:`DETAIL_CHARS` characters, in a table with at least :data:`MIN_COLUMNS_LEFT` other
columns, leaves the row: its text follows the row in a line of its own (``tr.details-line``, one cell
spanning the columns left, each text after its column's heading), where it wraps at the box's width
instead of widening the table.  No script is needed: every text stays in the page.
"""

from __future__ import annotations

import html
import re

from xjtrade.report.wording import is_prose

DETAIL_CHARS = 60        # a prose column with a cell longer than this goes to the details line
MIN_COLUMNS_LEFT = 3     # ... when the table keeps at least this many columns

_TABLE = re.compile(r"<table\b(?![^>]*id=\"figures-table\")[^>]*>.*?</table>", re.S)
_ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", re.S)
_ANY_CELL = re.compile(r"<(t[dh])\b([^>]*)>(.*?)</\1>", re.S)
_COLGROUP = re.compile(r"<colgroup\b[^>]*>.*?</colgroup>", re.S)
_COL = re.compile(r"<col\b[^>]*/?>(?:</col>)?", re.S)
_TAG = re.compile(r"<[^>]+>")


def cell_text(fragment: str) -> str:
    """The visible text of a cell's HTML."""
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def _body_columns(table: str) -> dict[int, list[str]]:
    """The texts of the body rows (rows with a ``<td>``), by position (a row's ``<th>``, such as
    pandas' index, counts as a column)."""
    columns: dict[int, list[str]] = {}
    for row in _ROW.findall(table):
        cells = list(_ANY_CELL.finditer(row))
        if any(c.group(1) == "td" for c in cells):
            for j, cell in enumerate(cells):
                columns.setdefault(j, []).append(cell_text(cell.group(3)))
    return columns


def prose_columns(table: str) -> set[int]:
    """Positions of the prose columns of one table's HTML."""
    return {j for j, texts in _body_columns(table).items() if is_prose(texts)}


def detail_columns(table: str) -> set[int]:
    """Positions of the prose columns too long for a column: their text goes to a details line."""
    columns = _body_columns(table)
    long = {j for j, texts in columns.items() if is_prose(texts) and max(map(len, texts)) > DETAIL_CHARS}
    long.discard(0)                                   # the key column stays
    return long if len(columns) - len(long) >= MIN_COLUMNS_LEFT else set()


def _with_class(attrs: str, name: str) -> str:
    if re.search(r'\bclass="', attrs):
        return re.sub(r'\bclass="', f'class="{name} ', attrs, count=1)
    return f' class="{name}"{attrs}'


def _headings(table: str) -> dict[int, str]:
    for row in _ROW.findall(table):
        cells = list(_ANY_CELL.finditer(row))
        if cells and all(c.group(1) == "th" for c in cells):
            return {j: c.group(3).strip() for j, c in enumerate(cells)}
    return {}


def _drop_cols(table: str, drop: set[int]) -> str:
    def colgroup(m: re.Match) -> str:
        cols = list(_COL.finditer(m.group(0)))
        if len(cols) <= max(drop):
            return m.group(0)
        out, last = [], 0
        for j, c in enumerate(cols):
            out.append(m.group(0)[last:c.start()])
            if j not in drop:
                out.append(c.group(0))
            last = c.end()
        out.append(m.group(0)[last:])
        return "".join(out)
    return _COLGROUP.sub(colgroup, table)


def mark_table(table: str) -> str:
    """One table's HTML with its key column and prose cells marked, and its long prose in details lines."""
    prose = prose_columns(table)
    detail = detail_columns(table)
    headings = _headings(table)
    n_left = max((len(_ANY_CELL.findall(r)) for r in _ROW.findall(table)), default=0) - len(detail)

    def row(m: re.Match) -> str:
        text = m.group(0)
        cells = list(_ANY_CELL.finditer(text))
        if not cells:
            return text
        out, notes, last = [], [], 0
        for j, c in enumerate(cells):
            out.append(text[last:c.start()])
            last = c.end()
            tag, attrs, inner = c.group(1), c.group(2), c.group(3)
            if j in detail:
                if tag == "td" and cell_text(inner):
                    label = headings.get(j, "")
                    label = f'<span class="details-label">{label}:</span> ' if label else ""
                    notes.append(f'<span class="details-item">{label}{inner.strip()}</span>')
                continue
            if j == 0:
                attrs = _with_class(attrs, "key")
            if tag == "td" and j in prose:
                attrs = _with_class(attrs, "prose")
            out.append(f"<{tag}{attrs}>{inner}</{tag}>")
        out.append(text[last:])
        line = "".join(out)
        if notes:
            line = _with_row_class(line, "has-details")
            line += (f'\n<tr class="details-line"><td colspan="{n_left}"><div class="details-text">'
                     f'{" ".join(notes)}</div></td></tr>')
        return line
    return _ROW.sub(row, _drop_cols(table, detail) if detail else table)


def _with_row_class(row: str, name: str) -> str:
    head = re.match(r"<tr\b([^>]*)>", row)
    assert head is not None
    return f"<tr{_with_class(head.group(1), name)}>" + row[head.end():]


def style_tables(page: str) -> str:
    """A page's HTML with every table (but the searchable figures table) marked and boxed."""
    return _TABLE.sub(lambda m: f'<div class="table-scroll">{mark_table(m.group(0))}</div>', page)
