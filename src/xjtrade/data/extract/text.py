"""A saved page -> its main text, title, publication date, address and language.

HTML pages go through `trafilatura` (main text without menus, links lists and comments, which
carry figures of other articles); the date comes from the page's markup only (`<meta>` tags,
`<time>`, JSON-LD), never from dates in the article's text.  Plain text is taken as it is.  Traditional characters are recognised so that the
rules can read the text in simplified characters (OpenCC); the text itself is never changed, so
the evidence column quotes the page as printed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from xjtrade.data.extract import lexicon as lx


@dataclass(frozen=True)
class Page:
    text: str                  # the main text, paragraphs separated by newlines
    title: str = ""
    published: str = ""        # YYYY-MM-DD from the page's metadata, "" if none
    url: str = ""              # the canonical address the page names, "" if none
    language: str = ""         # ISO 639-1 code
    script: str = ""           # for Chinese: "simplified" or "traditional"
    html: bool = False


def decode(data: bytes) -> str:
    """Bytes of a page -> text: a byte-order mark, then UTF-8, then the charset the page declares,
    then GB18030 (Chinese pages saved without a declaration), then a best guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = re.search(rb"charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", data[:4096])
    for enc in ([m.group(1).decode("ascii")] if m else []) + ["gb18030"]:
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    from charset_normalizer import from_bytes
    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def looks_like_html(text: str, name: str = "") -> bool:
    if name.lower().endswith((".html", ".htm", ".xhtml", ".shtml")):
        return True
    head = text.lstrip()[:1000].lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or bool(re.search(r"<(?:head|body|meta)\b", head))


def read_page(data: bytes, name: str = "") -> Page:
    """A saved page (HTML or plain text) -> Page."""
    text = decode(data)
    if looks_like_html(text, name):
        return _from_html(text)
    body = normalise_text(text)
    return Page(text=body, title=_first_line(body), language=detect_language(body),
                script=chinese_script(body))


def normalise_text(text: str) -> str:
    """Line breaks unified, control characters dropped, runs of blanks within a line squeezed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip() + "\n"


def _first_line(text: str) -> str:
    """The first line when it reads as a headline (short, no sentence end), else ""."""
    for line in text.split("\n"):
        if line.strip():
            line = line.strip()
            return line if len(line) <= 120 and not re.search(r"[。.!?！？]$", line) else ""
    return ""


def _from_html(html: str) -> Page:
    import lxml.html
    import trafilatura
    try:
        tree = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001  (lxml raises several types on broken markup)
        tree = None
    main = trafilatura.extract(html, include_comments=False, include_tables=True, include_links=False,
                               favor_recall=True, deduplicate=False, output_format="txt") or ""
    if len(main.strip()) < 40 and tree is not None:
        main = _body_text(tree)
    title = _meta(tree, ["og:title", "twitter:title"]) or (tree.findtext(".//title") if tree is not None else "") or ""
    title = re.sub(r"\s+", " ", title).strip()
    url = _canonical(tree)
    body = normalise_text(main)
    lang = _html_lang(tree) or detect_language(body)
    return Page(text=body, title=title, published=meta_date(html, tree), url=url, language=lang,
                script=chinese_script(body), html=True)


def _body_text(tree) -> str:
    for bad in tree.xpath("//script|//style|//nav|//header|//footer|//noscript"):
        bad.drop_tree()
    body = tree.find(".//body")
    return (body if body is not None else tree).text_content()


def _meta(tree, names: list[str]) -> str:
    if tree is None:
        return ""
    for name in names:
        for el in tree.xpath(f"//meta[@property='{name}' or @name='{name}' or @itemprop='{name}']"):
            content = (el.get("content") or "").strip()
            if content:
                return content
    return ""


_DATE_META = ["article:published_time", "og:published_time", "og:article:published_time", "publishdate",
              "PubDate", "pubdate", "publish_date", "publication_date", "datePublished", "date", "dc.date",
              "DC.date", "dc.date.issued", "DC.date.issued", "sailthru.date", "parsely-pub-date"]


def meta_date(html: str, tree=None) -> str:
    """The publication date in the page's markup (YYYY-MM-DD), or "": the listed `<meta>` tags in
    order, then `<time datetime>`, then JSON-LD `datePublished`; never a date in the visible text
    (htmldate was tried: even without its extensive search it reads dates from the text)."""
    for name in _DATE_META:
        value = _meta(tree, [name])
        day = _iso_day(value)
        if day:
            return day
    if tree is not None:
        for el in tree.xpath("//time[@datetime]"):
            day = _iso_day(el.get("datetime", ""))
            if day:
                return day
        for script in tree.xpath("//script[@type='application/ld+json']"):
            m = re.search(r'"datePublished"\s*:\s*"([^"]+)"', script.text or "")
            day = _iso_day(m.group(1)) if m else ""
            if day:
                return day
    return ""


def _iso_day(value: str) -> str:
    m = re.match(r"\s*((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})", value or "")
    if not m:
        return ""
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return ""


def _canonical(tree) -> str:
    if tree is None:
        return ""
    for el in tree.xpath("//link[@rel='canonical'][@href]"):
        return el.get("href", "").strip()
    return _meta(tree, ["og:url"])


def _html_lang(tree) -> str:
    if tree is None:
        return ""
    lang = (tree.get("lang") or tree.get("xml:lang") or "").strip().lower()
    code = lang.split("-")[0]
    return code if code in lx.LANGUAGES else ""


_STOPWORDS = {
    "en": {"the", "and", "of", "in", "to", "with", "percent", "year", "trade", "was", "its"},
    "de": {"der", "die", "das", "und", "mit", "im", "von", "prozent", "den", "des", "ist"},
    "fr": {"le", "la", "les", "des", "et", "du", "une", "pour", "dans", "est", "commerce"},
    "es": {"el", "la", "los", "las", "del", "y", "con", "por", "una", "que", "comercio"},
    "pt": {"o", "os", "as", "do", "da", "dos", "e", "com", "em", "uma", "que", "comércio"},
    "it": {"il", "lo", "gli", "della", "del", "e", "con", "nel", "una", "che", "commercio"},
}


def detect_language(text: str) -> str:
    """zh for text mostly in Chinese characters, ru for Cyrillic, else the Latin-script language
    whose common words occur most (en when none does)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    cjk = sum(1 for ch in letters if "\u4e00" <= ch <= "\u9fff")
    if cjk / len(letters) > 0.2:
        return "zh"
    cyr = sum(1 for ch in letters if "\u0400" <= ch <= "\u04ff")
    if cyr / len(letters) > 0.3:
        return "ru"
    words = re.findall(r"[a-zà-ÿß]+", text.lower())
    scores = {lang: sum(1 for w in words if w in sw) for lang, sw in _STOPWORDS.items()}
    best = max(scores, key=lambda k: (scores[k], k == "en"))
    return best if scores[best] > 0 else "en"


def chinese_script(text: str) -> str:
    """'traditional' when converting to simplified characters changes a noticeable share of the
    Chinese characters, 'simplified' otherwise, '' for text without Chinese."""
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if len(han) < 10:
        return ""
    changed = sum(1 for a, b in zip(text, to_simplified(text)) if a != b)
    return "traditional" if changed / len(han) > 0.05 else "simplified"


_OPENCC = None


def to_simplified(text: str) -> str:
    """Traditional -> simplified characters (OpenCC t2s), character for character."""
    global _OPENCC
    if _OPENCC is None:
        from opencc import OpenCC
        _OPENCC = OpenCC("t2s")
    out = _OPENCC.convert(text)
    if len(out) != len(text):  # a phrase conversion changed the length: convert character by character
        out = "".join(_OPENCC.convert(ch) for ch in text)
    return out
