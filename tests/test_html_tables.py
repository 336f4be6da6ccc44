"""Prose columns of the site's tables are marked (they wrap); ids and numbers are not; every table but
the searchable figures table is boxed."""

from __future__ import annotations

from xjtrade.report.html_tables import cell_text, mark_table, prose_columns, style_tables

TABLE = """<table id="tbl-x" class="cell-output-display">
<caption>Table 1.2: Issues</caption>
<thead>
<tr>
<th style="text-align: left;">figure</th>
<th style="text-align: right;">value</th>
<th style="text-align: left;">note</th>
</tr>
</thead>
<tbody>
<tr>
<td style="text-align: left;"><a href="../figures.html#R0012">R0012</a></td>
<td style="text-align: right;">1,180.1</td>
<td style="text-align: left;">short</td>
</tr>
<tr>
<td style="text-align: left;"><a href="../figures.html#DPY-256069dd">DPY-256069dd</a></td>
<td style="text-align: right;">35.05</td>
<td style="text-align: left;">two sources disagree by more than the tolerance &amp; more</td>
</tr>
</tbody>
</table>"""


def test_cell_text_is_what_the_reader_sees():
    assert cell_text('<a href="x.html#R1">R1</a>, <em>a &amp; b</em>\n c') == "R1, a & b c"


def test_the_note_column_is_prose_and_only_its_cells_are_marked():
    assert prose_columns(TABLE) == {2}
    out = mark_table(TABLE)
    assert out.count('class="prose"') == 2
    assert '<td class="prose" style="text-align: left;">short</td>' in out
    assert '<td style="text-align: right;">1,180.1</td>' in out
    assert out.replace(' class="prose"', "") == TABLE          # nothing else changes


def test_a_cell_with_a_class_keeps_it():
    t = TABLE.replace('<td style="text-align: left;">short</td>', '<td class="x" style="text-align: left;">short</td>')
    assert '<td class="prose x" style="text-align: left;">short</td>' in mark_table(t)


def test_short_labels_ids_and_numbers_are_not_prose():
    t = TABLE.replace("two sources disagree by more than the tolerance &amp; more", "year to date Jan-May 2024")
    assert prose_columns(t) == set() and mark_table(t) == t
    # a long run without a space (an id list without spaces, a URL) is not prose either
    assert prose_columns(TABLE.replace("two sources disagree by more than the tolerance &amp; more",
                                       "https://example.org/a/very/long/path/without/spaces")) == set()


def test_every_table_but_the_figures_table_is_boxed():
    page = f"<p>a</p>{TABLE}<p>b</p>{TABLE}<table id=\"figures-table\"><tr><td>x</td></tr></table>"
    out = style_tables(page)
    assert out.count('<div class="table-scroll"><table id="tbl-x"') == 2
    assert out.count("</table></div>") == 2
    assert '<table id="figures-table"><tr><td>x</td></tr></table>' in out and out.endswith("</table>")
