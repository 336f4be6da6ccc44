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
    assert '<th class="key" style="text-align: left;">figure</th>' in out
    assert out.count('class="key"') == 3                          # the heading and each row's id
    assert out.replace(' class="prose"', "").replace(' class="key"', "") == TABLE   # nothing else changes


def test_a_cell_with_a_class_keeps_it():
    t = TABLE.replace('<td style="text-align: left;">short</td>', '<td class="x" style="text-align: left;">short</td>')
    assert '<td class="prose x" style="text-align: left;">short</td>' in mark_table(t)


def test_short_labels_ids_and_numbers_are_not_prose():
    t = TABLE.replace("two sources disagree by more than the tolerance &amp; more", "year to date Jan-May 2024")
    assert prose_columns(t) == set() and mark_table(t).replace(' class="key"', "") == t
    # a long run without a space (an id list without spaces, a URL) is not prose either
    assert prose_columns(TABLE.replace("two sources disagree by more than the tolerance &amp; more",
                                       "https://example.org/a/very/long/path/without/spaces")) == set()


def test_every_table_but_the_figures_table_is_boxed():
    page = f"<p>a</p>{TABLE}<p>b</p>{TABLE}<table id=\"figures-table\"><tr><td>x</td></tr></table>"
    out = style_tables(page)
    assert out.count('<div class="table-scroll"><table id="tbl-x"') == 2
    assert out.count("</table></div>") == 2
    assert '<table id="figures-table"><tr><td>x</td></tr></table>' in out and out.endswith("</table>")


LONG_NOTE = ("two releases give different totals for the same months; the newer one is used, as customs revise "
             "earlier figures &amp; more")
WIDE = (TABLE.replace('<th style="text-align: right;">value</th>',
                      '<th style="text-align: right;">value</th>\n<th style="text-align: left;">period</th>')
        .replace('<td style="text-align: right;">1,180.1</td>',
                 '<td style="text-align: right;">1,180.1</td>\n<td style="text-align: left;">2024</td>')
        .replace('<td style="text-align: right;">35.05</td>',
                 '<td style="text-align: right;">35.05</td>\n<td style="text-align: left;">2023</td>')
        .replace("two sources disagree by more than the tolerance &amp; more", LONG_NOTE)
        .replace("<thead>", '<colgroup>\n<col style="width: 20%" />\n<col style="width: 20%" />\n'
                            '<col style="width: 20%" />\n<col style="width: 40%" />\n</colgroup>\n<thead>'))


def test_long_prose_leaves_the_columns_for_a_details_line_under_its_row():
    from xjtrade.report.html_tables import detail_columns
    assert detail_columns(WIDE) == {3} and detail_columns(TABLE) == set()     # TABLE's note is short enough
    out = mark_table(WIDE)
    assert ">note</th>" not in out and out.count("<col ") == 3               # the column and its col are gone
    # each row with a note is followed by a line spanning the three columns left, the text after its heading
    assert out.count('<tr class="details-line"><td colspan="3">') == 2
    assert ('<tr class="details-line"><td colspan="3"><div class="details-text"><span class="details-item">'
            '<span class="details-label">note:</span> short</span></div></td></tr>') in out
    assert f'<span class="details-label">note:</span> {LONG_NOTE}</span>' in out
    assert out.count('<tr class="has-details">') == 2
    # the text a reader sees is all still there, in the same order
    assert cell_text(out).replace("note: ", "") == cell_text(WIDE).replace("note ", "", 1)


def test_a_table_of_few_columns_keeps_its_prose_column():
    # two columns besides the note: a details line would leave a table of two columns, so it stays
    t = WIDE.replace('<th style="text-align: left;">period</th>', "").replace(
        '<td style="text-align: left;">2024</td>', "").replace('<td style="text-align: left;">2023</td>', "")
    from xjtrade.report.html_tables import detail_columns
    assert detail_columns(t) == set()
    assert "details-line" not in mark_table(t) and mark_table(t).count('<td class="prose"') == 2


def test_a_pandas_index_counts_as_a_column():
    """pandas writes the index as a <th> in each body row: it is the key column, and the prose column
    after it is found at its own position."""
    t = ('<table border="1" class="dataframe"><thead><tr><th></th><th>port</th><th>note</th></tr></thead><tbody>'
         '<tr><th>0</th><td>Khorgos</td><td>the largest land port on the border with Kazakhstan</td></tr>'
         '<tr><th>1</th><td>Alashankou</td><td>rail</td></tr></tbody></table>')
    assert prose_columns(t) == {2}
    out = mark_table(t)
    assert '<tr><th class="key">0</th><td>Khorgos</td><td class="prose">the largest' in out
    assert '<td class="prose">rail</td>' in out and '<th class="key"></th>' in out
