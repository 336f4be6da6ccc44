-- pdf.lua: what the PDF needs from the book's text, one rule for both engines (a pandoc Lua filter
-- run by Quarto's typst book render, at pre-quarto, and by the portable renderer's typst conversion).
--
-- 1. Site-only links.  A local link to a page that is not a chapter of the book (the figures table,
--    another edition, a download) exists only on the site: it becomes an absolute link to the
--    published site (metadata `xj-site-url`, the address of this edition's site) or, without one,
--    its plain text.  The link is resolved against the folder of the chapter it is in (Quarto's
--    book file markers; without them the project root), or the site root for a `/path`.
-- 2. Anchors.  An empty span with an id (`[]{#src-x}`) becomes an invisible typst element that
--    carries the label, so links to it land (pandoc writes a bare `<src-x>` that typst attaches to
--    nothing: "label is not attached to anything", and the links are dead).
-- 3. Table columns, sized from the content like a browser's table layout: every column `auto`
--    when the table fits on a line; otherwise widths that give each column at least its longest
--    unbreakable word (lines break at spaces, and after "-" or "/" unless a digit or "." follows)
--    and share the rest in proportion to how much more its longest cell wants.  (Pandoc's widths
--    come from the pipe-table dashes, not the content: ids overprint narrow columns.)
--
-- Metadata: `xj-site-url` (may be absent), `xj-book-pages` (the chapters' source paths and their
-- .html pages: links to those are left to the engine, which makes them internal links),
-- `xj-table-line-chars` (characters of table text a line holds; default 100).

local site_url = nil
local book_pages = {}
local line_chars = 100

local CELL_INSET_CHARS = 2.5 -- the cell padding, in characters
local WANT_MAX_CHARS = 40 -- a long cell is worth wrapping beyond this

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
  return link.content
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

-- Column widths as fractions of the line, or nil when every column can keep its natural width.
local function column_widths(tbl)
  local head, body = rows_of(tbl)
  local mins, wants = {}, {}
  local sum_mins, sum_wants = 0, 0
  for j = 1, #tbl.colspecs do
    local pieces, longest_cell = {}, 0
    for _, cells in ipairs(body) do
      if cells[j] ~= nil then
        local text = text_of(cells[j])
        longest_cell = math.max(longest_cell, length(text))
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
    local low = longest_piece * 1.15 + 1 -- digits and bold headers run wide
    local want = math.max(low, math.min(longest_cell, WANT_MAX_CHARS))
    mins[j], wants[j] = low, want
    sum_mins, sum_wants = sum_mins + low, sum_wants + want
  end
  local room = line_chars - CELL_INSET_CHARS * #mins
  if sum_wants <= room then
    return nil
  end
  local widths, total = {}, 0
  for j = 1, #mins do
    if sum_mins >= room then
      widths[j] = mins[j]
    else
      local share = (room - sum_mins) / (sum_wants - sum_mins)
      widths[j] = mins[j] + (wants[j] - mins[j]) * share
    end
    total = total + widths[j]
  end
  for j = 1, #widths do
    widths[j] = widths[j] / total
  end
  return widths
end

local function size_table(tbl)
  local widths = column_widths(tbl)
  for j, spec in ipairs(tbl.colspecs) do
    tbl.colspecs[j] = { spec[1], widths and widths[j] or nil }
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

local rules = { Link = site_only_link, Span = anchor, Table = size_table }
if quarto ~= nil and quarto.utils ~= nil and quarto.utils.file_metadata_filter ~= nil then
  -- Quarto's book file markers, read in the same traversal, tell the current chapter's folder
  rules = quarto.utils.combineFilters({ quarto.utils.file_metadata_filter(), rules })
end

return {
  { Meta = read_meta },
  rules,
}
