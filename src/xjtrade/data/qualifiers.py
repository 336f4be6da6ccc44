"""The words a release prints before a figure ("about 20 bn", "more than 42 percent", "doubled"), and
how they carry over to figures computed from qualified ones.

One vocabulary for values (`qualifier`) and growth rates (`yoy_qualifier`):

* ``exact``: the figure as printed (the default; an empty `yoy_qualifier` in data/raw means exact);
* ``about``: rounded or approximate ("about", "around"; a growth rate printed as "doubled" or
  "翻番" is about 100 %);
* ``nearly``: a little below the figure ("nearly", "almost", "近");
* ``over`` / ``under``: a bound ("more than", "exceeded" / "less than").

A figure computed from qualified ones is qualified too: the worst of its inputs' qualifiers (exact,
then about, then nearly, then the bounds), each first turned the way the computation turns it.  A
rate divides the value it applies to, so a value implied a year earlier by "more than 42 %" growth
is *under* the one computed; a rate "nearly" as printed gives an earlier value a little above the
one computed, "about" it.  Two bounds pulling opposite ways (a value "more than" X over a rate "more
than" Y) bound the result neither way; as each bound is close to its printed figure, the result is
close to the one computed: "about".
Pure functions; no imports beyond the standard library.
"""

from __future__ import annotations

QUALIFIERS = ("exact", "about", "nearly", "over", "under")
RANK = {"exact": 0, "about": 1, "nearly": 2, "under": 3, "over": 3}

# the qualifier of a quantity that moves the other way from its input (a divisor, a subtrahend)
_TURNED = {"exact": "exact", "about": "about", "nearly": "about", "over": "under", "under": "over"}


def of(q) -> str:
    """The qualifier of a cell: an empty or missing one is ``exact``."""
    return q if isinstance(q, str) and q in RANK else "exact"


def turned(q) -> str:
    """The qualifier of a value that falls when its input rises (value / (1 + rate), a - gap)."""
    return _TURNED[of(q)]


def combined(*qs) -> str:
    """The qualifier of a figure computed from figures with these qualifiers (already turned where
    the computation turns them): the worst; ``about`` when an ``over`` meets an ``under`` (the result
    is bounded neither way, but near the one computed)."""
    words = [of(q) for q in qs]
    if "over" in words and "under" in words:
        return "about"
    return max(words, key=lambda q: RANK[q], default="exact")
