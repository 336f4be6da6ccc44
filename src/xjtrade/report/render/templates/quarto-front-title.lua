-- The site's front page under Quarto (xjtrade.report.render.quarto.html_profile): Quarto's book gives
-- its index page the book's title block (title, subtitle, author, date) and keeps the page's own first
-- heading, the front page's "# Title {.unnumbered}" (staging.front_page: the PDF's unnumbered first
-- chapter), so the title showed twice.  A first block that is a level-1 heading repeating the page's
-- title is dropped from the HTML; the PDF keeps it.  Other chapters lose that heading to Quarto itself.
function Pandoc(doc)
  local first = doc.blocks[1]
  local title = doc.meta.title
  if first and first.t == "Header" and first.level == 1 and title ~= nil
      and pandoc.utils.stringify(first.content) == pandoc.utils.stringify(title) then
    doc.blocks:remove(1)
  end
  return doc
end
