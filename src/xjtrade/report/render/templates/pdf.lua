-- pdf.lua: what the PDF needs from the book's text, one rule for both engines (a pandoc Lua filter
-- run by Quarto's typst book render, at pre-quarto, and by the portable renderer's typst conversion).
--
-- 1. Site-only links.  A local link to a page that is not a chapter of the book (the figures table,
--    another edition, a download) exists only on the site: it becomes an absolute link to the
--    published site (metadata `xj-site-url`, the address of this edition's site) or, without one,
--    its plain text (a download link, class `csv-link`, is dropped: "Full table as CSV" with nothing
--    to click is a dead promise in a forwarded PDF).  The link is resolved against the folder of the
--    chapter it is in (Quarto's book file markers; without them the project root), or the site root
--    for a `/path`.
-- 2. Anchors.  An empty span with an id (`[]{#src-x}`) becomes an invisible typst element that
--    carries the label, so links to it land (pandoc writes a bare `<src-x>` that typst attaches to
--    nothing: "label is not attached to anything", and the links are dead).
-- 3. Table columns, sized from the content like a browser's table layout: every column `auto`
--    when the table fits on a line; otherwise widths that give each column at least its longest
--    unbreakable word (lines break at spaces, and after "-" or "/" unless a digit or "." follows)
--    and share the rest in proportion to how much more its longest cell wants.  (Pandoc's widths
--    come from the pipe-table dashes, not the content: ids overprint narrow columns.)
--    Prose (a column with a cell of more than 30 characters and a space, the site's rule:
--    xjtrade.report.wording.is_prose) is kept readable: a prose column longer than 60 characters
--    in a table of at least 3 other columns leaves the columns for a details row under each row,
--    one cell spanning the table ("note: ...", as the site's details line); a prose column left
--    gets at least a quarter of the line, or its longest cell when that is shorter.  When the
--    columns' least widths (ids, numbers, words unbroken, those quarters) exceed the line, the
--    table's text is set smaller (down to 80 %) so that they fit, rather than overprint each other;
--    when that is not enough, every prose column goes to the details row, and what is still too
--    wide takes from the margins first (a piece is given its own length before any margin).
--
-- Metadata: `xj-site-url` (may be absent), `xj-book-pages` (the chapters' source paths and their
-- .html pages: links to those are left to the engine, which makes them internal links),
-- `xj-table-line-chars` (characters of table text a line holds; default 100).

local site_url = nil
local book_pages = {}
local line_chars = 100

local CELL_INSET_CHARS = 2.5 -- the cell padding, in characters
local WANT_MAX_CHARS = 40 -- a long cell is worth wrapping beyond this
local PROSE_CHARS = 30 -- a cell longer than this, with a space, makes its column prose
local DETAIL_CHARS = 60 -- a prose column with a longer cell goes to a details row ...
local MIN_COLUMNS_LEFT = 3 -- ... when the table keeps at least this many columns
local PROSE_SHARE = 0.25 -- the least share of the line a prose column gets
local MIN_SCALE = 0.8 -- the smallest text size of a wide table, relative to the tables' size

-- ---------------------------------------------------------------------------------------------
-- 1. Site-only links
-- ---------------------------------------------------------------------------------------------

local function is_external(url)
  return url:match("^[%a][%w+.-]*:") ~= nil or url:sub(1, 2) == "//"
end

-- "a/./b/../c" -> {"a", "c"}; leading ".." are kept (a path above the site root).
local function normalise(path)
  local out = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      if #out > 0 and out[#out] ~= ".." then
        table.remove(out)
      else
        table.insert(out, "..")
      end
    elseif part ~= "." then
      table.insert(out, part)
    end
  end
  return out
end

-- The current chapter's folder (relative to the project root) in a Quarto book render, else "".
local function current_dir()
  if quarto ~= nil and quarto.doc ~= nil and quarto.doc.file_metadata ~= nil then
    local state = quarto.doc.file_metadata()
    if state ~= nil and state.file ~= nil and state.file.resourceDir ~= nil then
      local dir = state.file.resourceDir
      return dir == "." and "" or dir
    end
  end
  return ""
end

-- site_url joined with a site path that may climb above the site root ("../../other/site/index.html")
local function absolute(parts, fragment)
  local origin, path = site_url:match("^([%a][%w+.-]*://[^/]*)(.*)$")
  if origin == nil then
    origin, path = "", site_url
  end
  local out = normalise(path)
  for _, part in ipairs(parts) do
    if part == ".." then
      if #out > 0 then
        table.remove(out)
      end
    else
      table.insert(out, part)
    end
  end
  local url = origin .. "/" .. table.concat(out, "/")
  if fragment ~= "" then
    url = url .. "#" .. fragment
  end
  return url
end

local function site_only_link(link)
  local target = link.target
  if target == "" or target:sub(1, 1) == "#" or is_external(target) then
    return nil
  end
  local file, fragment = target:match("^([^#]*)#?(.*)$")
  local path
  if file:sub(1, 1) == "/" then
    path = file:sub(2)
  else
    local dir = current_dir()
    path = dir == "" and file or (dir .. "/" .. file)
  end
  local parts = normalise(path)
  if book_pages[table.concat(parts, "/")] then
    return nil -- a chapter: the engine makes it an internal link
  end
  if site_url ~= nil then
    link.target = absolute(parts, fragment)
    return link
  end
  if link.classes:includes("csv-link") then
    return {} -- a download only the site has ("Full table as CSV"): no dead promise in the PDF
  end
  return link.content
end

-- A paragraph left with nothing to print (its only link was a site-only download) is dropped.
local function empty_para(para)
  for _, el in ipairs(para.content) do
    if el.t ~= "Space" and el.t ~= "SoftBreak" and el.t ~= "LineBreak" then
      return nil
    end
  end
  return {}
end

-- ---------------------------------------------------------------------------------------------
-- 2. Anchors
-- ---------------------------------------------------------------------------------------------

local function anchor(span)
  if span.identifier == "" or #span.content > 0 or not FORMAT:match("typst") then
    return nil
  end
  local label = span.identifier:gsub("\\", "\\\\"):gsub('"', '\\"')
  return pandoc.RawInline("typst", '#metadata(none)#label("' .. label .. '")')
end

-- ---------------------------------------------------------------------------------------------
-- 3. Table columns
-- ---------------------------------------------------------------------------------------------

local function text_of(cell)
  return (pandoc.utils.stringify(cell.contents):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function length(s)
  return utf8.len(s) or #s
end

-- The pieces a line may break between: words, split after "-" or "/" unless a digit or "." follows.
local function tokens(text, out)
  for word in text:gmatch("%S+") do
    local start = 1
    for pos, char in utf8.codes(word) do
      if char == 45 or char == 47 then -- "-" or "/"
        local after = word:sub(pos + 1, pos + 1)
        if after ~= "" and not after:match("[%d.]") then
          table.insert(out, word:sub(start, pos))
          start = pos + 1
        end
      end
    end
    if start <= #word then
      table.insert(out, word:sub(start))
    end
  end
end

local function rows_of(tbl)
  local head, body = {}, {}
  for _, row in ipairs(tbl.head.rows) do
    table.insert(head, row.cells)
  end
  for _, b in ipairs(tbl.bodies) do
    for _, row in ipairs(b.head) do
      table.insert(body, row.cells)
    end
    for _, row in ipairs(b.body) do
      table.insert(body, row.cells)
    end
  end
  for _, row in ipairs(tbl.foot.rows) do
    table.insert(body, row.cells)
  end
  return head, body
end

local function body_texts(tbl, j)
  local _, body = rows_of(tbl)
  local texts = {}
  for _, cells in ipairs(body) do
    if cells[j] ~= nil then
      table.insert(texts, text_of(cells[j]))
    end
  end
  return texts
end

local function is_prose(texts)
  for _, text in ipairs(texts) do
    if length(text) > PROSE_CHARS and text:find(" ") then
      return true
    end
  end
  return false
end

-- The prose columns with a cell longer than `limit` (never the first, the key): a set of positions
-- and its size.
local function detail_columns(tbl, limit)
  local out, n = {}, 0
  for j = 2, #tbl.colspecs do
    local texts = body_texts(tbl, j)
    local longest = 0
    for _, text in ipairs(texts) do
      longest = math.max(longest, length(text))
    end
    if longest > limit and is_prose(texts) then
      out[j], n = true, n + 1
    end
  end
  if #tbl.colspecs - n < MIN_COLUMNS_LEFT then
    return {}, 0
  end
  return out, n
end

local function without(list, drop)
  local out = pandoc.List()
  for j, item in ipairs(list) do
    if not drop[j] then
      out:insert(item)
    end
  end
  return out
end

-- The table with its prose columns longer than `limit` moved to a details row under each body row.
local function details_rows(tbl, limit)
  local drop, n = detail_columns(tbl, limit)
  if n == 0 then
    return tbl
  end
  local labels = {}
  local first_head = tbl.head.rows[1]
  for j in pairs(drop) do
    labels[j] = first_head ~= nil and first_head.cells[j] ~= nil and text_of(first_head.cells[j]) or ""
  end
  local left = #tbl.colspecs - n
  local order = {}
  for j in pairs(drop) do
    table.insert(order, j)
  end
  table.sort(order)
  for _, row in ipairs(tbl.head.rows) do
    row.cells = without(row.cells, drop)
  end
  for _, row in ipairs(tbl.foot.rows) do
    row.cells = without(row.cells, drop)
  end
  for _, b in ipairs(tbl.bodies) do
    for _, row in ipairs(b.head) do
      row.cells = without(row.cells, drop)
    end
    local rows = pandoc.List()
    for _, row in ipairs(b.body) do
      local inlines = pandoc.List()
      for _, j in ipairs(order) do
        local cell = row.cells[j]
        if cell ~= nil and text_of(cell) ~= "" then
          if #inlines > 0 then
            inlines:extend({ pandoc.Space(), pandoc.Str("·"), pandoc.Space() })
          end
          if labels[j] ~= "" then
            inlines:extend({ pandoc.Emph({ pandoc.Str(labels[j] .. ":") }), pandoc.Space() })
          end
          inlines:extend(pandoc.utils.blocks_to_inlines(cell.contents))
        end
      end
      row.cells = without(row.cells, drop)
      rows:insert(row)
      if #inlines > 0 then
        rows:insert(pandoc.Row({ pandoc.Cell({ pandoc.Plain(inlines) }, pandoc.AlignLeft, 1, left) }))
      end
    end
    b.body = rows
  end
  tbl.colspecs = without(tbl.colspecs, drop)
  return tbl
end

-- Column widths as fractions of the line (nil when every column can keep its natural width), the
-- text size (relative, 1 = the tables' size) and whether every column's longest piece fits.
local function column_widths(tbl)
  local head, body = rows_of(tbl)
  local n = #tbl.colspecs
  local pieces_max, longest, prose = {}, {}, {}
  for j = 1, n do
    local pieces, longest_cell, texts = {}, 0, {}
    for _, cells in ipairs(body) do
      -- a details row (one cell spanning the table) is no column's content
      if cells[j] ~= nil and #cells == n then
        local text = text_of(cells[j])
        longest_cell = math.max(longest_cell, length(text))
        table.insert(texts, text)
        tokens(text, pieces)
      end
    end
    for _, cells in ipairs(head) do
      if cells[j] ~= nil then
        tokens(text_of(cells[j]), pieces)
      end
    end
    local longest_piece = #pieces > 0 and 0 or 1
    for _, piece in ipairs(pieces) do
      longest_piece = math.max(longest_piece, length(piece))
    end
    pieces_max[j], longest[j], prose[j] = longest_piece, longest_cell, is_prose(texts)
  end
  -- each column's least width on a line of `line` characters: its longest piece with a margin (digits
  -- and bold headings run wide); a prose column a quarter of the line, or the whole of its longest
  -- cell when that is shorter
  local function least(line)
    local mins, sum = {}, 0
    for j = 1, n do
      mins[j] = pieces_max[j] * 1.15 + 1
      if prose[j] then
        mins[j] = math.max(mins[j], math.min(longest[j] + 1, PROSE_SHARE * line))
      end
      sum = sum + mins[j]
    end
    return mins, sum
  end
  local sum_pieces = 0
  for j = 1, n do
    sum_pieces = sum_pieces + pieces_max[j]
  end
  local room = line_chars - CELL_INSET_CHARS * n
  local mins, sum_mins = least(room)
  local sum_wants = 0
  for j = 1, n do
    sum_wants = sum_wants + math.max(mins[j], math.min(longest[j], WANT_MAX_CHARS))
  end
  if sum_wants <= room then
    return nil, 1, true
  end
  local scale = 1
  while sum_mins > room / scale and scale > MIN_SCALE do -- smaller text: the line holds more characters
    scale = math.max(MIN_SCALE, scale - 0.01)
    mins, sum_mins = least(room / scale)
  end
  room = room / scale
  local wants = {}
  sum_wants = 0
  for j = 1, n do
    wants[j] = math.max(mins[j], math.min(longest[j], WANT_MAX_CHARS))
    sum_wants = sum_wants + wants[j]
  end
  local widths, total = {}, 0
  for j = 1, n do
    if sum_mins > room then
      -- too little room even for the least widths: the margins (and prose quarters) give way first,
      -- the pieces themselves only when there is no margin left
      local keep = math.max(0, (room - sum_pieces) / (sum_mins - sum_pieces))
      widths[j] = pieces_max[j] + (mins[j] - pieces_max[j]) * keep
    elseif sum_wants <= sum_mins then
      widths[j] = mins[j]
    else
      local share = math.min(1, (room - sum_mins) / (sum_wants - sum_mins))
      widths[j] = mins[j] + (wants[j] - mins[j]) * share
    end
    total = total + widths[j]
  end
  for j = 1, n do
    widths[j] = widths[j] / total
  end
  return widths, scale, sum_mins <= room
end

local function scale_text(tbl, scale)
  local size = string.format("#set text(size: %.2fem)", scale)
  local function each(rows)
    for _, row in ipairs(rows) do
      for _, cell in ipairs(row.cells) do
        cell.contents:insert(1, pandoc.RawBlock("typst", size))
      end
    end
  end
  each(tbl.head.rows)
  each(tbl.foot.rows)
  for _, b in ipairs(tbl.bodies) do
    each(b.head)
    each(b.body)
  end
end

local function size_table(tbl)
  local whole = tbl:clone()
  tbl = details_rows(tbl, DETAIL_CHARS)
  local widths, scale, fits = column_widths(tbl)
  if not fits then -- every prose column to the details row, if that makes the columns fit better
    local other = details_rows(whole, PROSE_CHARS)
    if #other.colspecs < #tbl.colspecs then
      tbl = other
      widths, scale = column_widths(tbl)
    end
  end
  for j, spec in ipairs(tbl.colspecs) do
    tbl.colspecs[j] = { spec[1], widths and widths[j] or nil }
  end
  if scale < 1 and FORMAT:match("typst") then
    scale_text(tbl, scale)
  end
  return tbl
end

-- ---------------------------------------------------------------------------------------------

local function read_meta(meta)
  local url = meta["xj-site-url"]
  if url ~= nil then
    url = pandoc.utils.stringify(url)
    if url ~= "" then
      site_url = url:sub(-1) == "/" and url or (url .. "/")
    end
  end
  local pages = meta["xj-book-pages"]
  if pages ~= nil then
    for _, page in ipairs(pages) do
      book_pages[table.concat(normalise(pandoc.utils.stringify(page)), "/")] = true
    end
  end
  local chars = meta["xj-table-line-chars"]
  if chars ~= nil then
    line_chars = tonumber(pandoc.utils.stringify(chars)) or line_chars
  end
end

local rules = { Link = site_only_link, Span = anchor, Table = size_table, Para = empty_para }
if quarto ~= nil and quarto.utils ~= nil and quarto.utils.file_metadata_filter ~= nil then
  -- Quarto's book file markers, read in the same traversal, tell the current chapter's folder
  rules = quarto.utils.combineFilters({ quarto.utils.file_metadata_filter(), rules })
end

return {
  { Meta = read_meta },
  rules,
}
