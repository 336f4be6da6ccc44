-- pdf-text.lua: records the characters of the text the PDF prints, for the check that every one of
-- them has a glyph (xjtrade.report.render.fonts.check_pdf).  Run last (Quarto: at pre-render, after
-- its own filters chose the PDF's content; portable renderer: after pdf.lua).
-- Metadata `xj-text-file`: where to write the characters (each once, UTF-8).

local seen = {}

local function add(text)
  for _, code in utf8.codes(text) do
    if code > 127 then
      seen[code] = true
    end
  end
end

local collect = {
  Str = function(el) add(el.text) end,
  Code = function(el) add(el.text) end,
  CodeBlock = function(el) add(el.text) end,
}

local function text_of_meta(value)
  return value ~= nil and pandoc.utils.stringify(value) or ""
end

-- two passes: the text (Quarto's traversal reaches into its figure and table nodes), then the file
return {
  collect,
  {
    Pandoc = function(doc)
      local path = text_of_meta(doc.meta["xj-text-file"])
      if path == "" then
        return nil
      end
      for _, key in ipairs({ "title", "subtitle", "author", "date" }) do
        add(text_of_meta(doc.meta[key]))
      end
      local codes = {}
      for code in pairs(seen) do
        table.insert(codes, code)
      end
      table.sort(codes)
      local out = {}
      for _, code in ipairs(codes) do
        table.insert(out, utf8.char(code))
      end
      local file = io.open(path, "w")
      if file == nil then
        error("pdf-text.lua: cannot write " .. path)
      end
      file:write(table.concat(out))
      file:close()
      return nil
    end,
  },
}
