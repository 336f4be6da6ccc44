"""The site's tables, after rendering: each in a box that scrolls sideways when it must, and its prose
columns marked, so that ids and numbers never wrap while notes and titles do.

Works on the HTML that pandoc (the portable renderer) or Quarto writes for pipe tables: rows of
``<td>`` cells without nested tables.  A column is prose by the rule the chapters use for the
tables' widths (:func:`xjtrade.report.wording.is_prose`); its cells get ``class="prose"``
(``reader.css`` lets them wrap between 12rem and 30rem).
"""

from __future__ import annotations

import html
import itertools
import re

from xjtrade.report.wording import is_prose

_TABLE = re.compile(r"<table\b(?![^>]*id=\"figures-table\")[^>]*>.*?</table>", re.S)
_ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", re.S)
_CELL = re.compile(r"<td\b([^>]*)>(.*?)</td>", re.S)
_TAG = re.compile(r"<[^>]+>")


def cell_text(fragment: str) -> str:
    """The visible text of a cell's HTML."""
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def prose_columns(table: str) -> set[int]:
    """Positions of the prose columns of one table's HTML."""
    columns: dict[int, list[str]] = {}
    for row in _ROW.findall(table):
        for j, cell in enumerate(_CELL.finditer(row)):
            columns.setdefault(j, []).append(cell_text(cell.group(2)))
    return {j for j, texts in columns.items() if is_prose(texts)}


def _with_class(attrs: str, name: str) -> str:
    if re.search(r'\bclass="', attrs):
        return re.sub(r'\bclass="', f'class="{name} ', attrs, count=1)
    return f' class="{name}"{attrs}'


def mark_table(table: str) -> str:
    """One table's HTML with its prose cells marked."""
    prose = prose_columns(table)
    if not prose:
        return table

    def row(m: re.Match) -> str:
        position = itertools.count()
        return _CELL.sub(lambda c: f"<td{_with_class(c.group(1), 'prose') if next(position) in prose else c.group(1)}>"
                         f"{c.group(2)}</td>", m.group(0))
    return _ROW.sub(row, table)


def style_tables(page: str) -> str:
    """A page's HTML with every table (but the searchable figures table) marked and boxed."""
    return _TABLE.sub(lambda m: f'<div class="table-scroll">{mark_table(m.group(0))}</div>', page)
