"""Sentences and clauses.

A sentence ends at 。！？ (Chinese), or at . ! ? followed by a space and a capital letter, digit or
quote (other scripts), and always at a line break.  A full stop after an abbreviation ("U.S.",
"Jan.", "Mr.") or inside a number ("403.1") ends nothing.  Clauses split a sentence at commas,
semicolons and dashes outside numbers; figures take their period and subject from their clause
first, then from their sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ABBREVIATIONS = {
    "u.s", "u.k", "u.n", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mr", "mrs", "ms", "dr", "no", "st", "co", "ltd", "inc", "corp", "vs", "approx", "etc", "e.g", "i.e",
    "mln", "bln", "mio", "mrd", "ca", "bzw", "z.b", "usw", "долл", "млн", "млрд", "трлн", "тыс", "п.п", "г",
}


@dataclass(frozen=True)
class Sentence:
    start: int      # span in the page's text
    end: int
    text: str       # as printed (the evidence)


def split_sentences(text: str) -> list[Sentence]:
    out: list[Sentence] = []
    for para in re.finditer(r"[^\n]+", text):
        out += _split_paragraph(para.group(0), para.start())
    return [s for s in out if s.text.strip()]


def _split_paragraph(par: str, offset: int) -> list[Sentence]:
    cuts = [0]
    for m in re.finditer(r"[。！？!?]+[”’\"」』)）]*|\.(?=[\"”’)]?\s+[\"“‘(]?[A-ZÀ-ÞА-Я0-9\u4e00-\u9fff])|\.[\"”’)]?$", par):
        end = m.end()
        if m.group(0).startswith("."):
            before = re.search(r"([\w.]+)\.$", par[: m.start() + 1])
            word = before.group(1).lower().rstrip(".") if before else ""
            if word in ABBREVIATIONS or re.fullmatch(r"[a-zа-я]", word) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
                continue
            end = m.end()
        cuts.append(end)
    cuts.append(len(par))
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = par[a:b]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece:
            out.append(Sentence(offset + a + lead, offset + a + lead + len(piece), piece))
    return out


def clause_bounds(text: str) -> list[tuple[int, int]]:
    """Clauses of a (normalised) sentence as spans: cut at ，,；;：: and dashes, never inside a
    number (4,031 or 63,69) and never inside brackets."""
    cuts = [0]
    depth = 0
    for i, ch in enumerate(text):
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in "，,；;：:—–":
            if ch in ",." and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
                continue
            cuts.append(i + 1)
    cuts.append(len(text))
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def semicolon_bounds(text: str) -> list[tuple[int, int]]:
    """Parts of a sentence between semicolons (；;) and before 'while' / 'whereas' / 而: a subject
    (partner, segment) named in one part does not reach into the next."""
    cuts = [0]
    for m in re.finditer(r"[；;]|,?\s+(?:while|whereas)\s+|，而|，同时", text, re.IGNORECASE):
        cuts.append(m.end())
    cuts.append(len(text))
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
