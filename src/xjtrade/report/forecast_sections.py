"""The forecast chapter's sections: the lead-in of each section that has something to show, and for
an edition with too little to evaluate (a port with a handful of releases), one sentence saying what
is left out and why, said once.

Each function returns markdown ("" when the section shows nothing: the staging step then drops its
heading, :func:`xjtrade.report.staging.stage_notebook`).  A lead-in names only the tables shown
(``@tbl-`` references to a table left out would dangle).  Numbers come from the run's results (the
evaluation's facts, :class:`~xjtrade.report.results.EvaluationFacts`) or the tables shown.
"""

from __future__ import annotations

from xjtrade.report import forecast_words as fw
from xjtrade.report import wording
from xjtrade.report.results import EvaluationFacts, OutlookResults
from xjtrade.textsafe import md_escape

__all__ = ["nowcast", "comparison", "years", "benchmark", "track", "left_out", "ledger"]

NOWCAST = ("While a year is under way, the rest of it is estimated by several methods that fail in different kinds "
           "of year (the usual shares of the months, last year's months grown at a shrunk growth rate, the latent "
           "monthly model), mixed path by path; each new release updates it.")

COMPARISON = ("@tbl-comparison scores every model on the forecasts of annual totals it would have made at each "
              "release date, for the totals published later, by months known within the year and by months ahead "
              "beyond it. MAPE is the mean absolute error of the median in % of the outcome; MASE the log error "
              "divided by the typical one-year change known at the time (so 1 means as large as a typical year's "
              "change); coverage is the share of outcomes inside the intervals; the Winkler score adds to an "
              "interval's width a penalty for outcomes outside it (lower is better).")

YEARS = ("A small average error can hide large errors in the latest years. @tbl-years-within gives each method's "
         "error within the year by months known and target year, with the years up to 2023 (on which the choice "
         "rule was designed) and from 2024 apart")

BENCHMARK = ("Coverage alone rewards wide intervals. @tbl-benchmark compares the interval score of the years-ahead "
             "outlook with that of a benchmark: the last total times a growth drawn from every past one-year growth. "
             "A ratio below 1 means the outlook's intervals are better.")

LEDGER = ("The ledger keeps what this project actually published (`ledger/forecasts.csv`), never rewritten, and "
          "scores it against the totals published since.")


def nowcast(o: OutlookResults, unit: str) -> str:
    """The nowcast section ("" without an outlook: the chapter's first sentence has said why)."""
    if not o.ok:
        return ""
    return NOWCAST + "\n\n" + fw.nowcast_sentence(o, unit)


def left_out(facts: EvaluationFacts, subject: str, track_shown: bool) -> str:
    """The one sentence of an edition whose evaluation scored no forecast of an annual total: what was
    scored (if anything) and why the comparisons cannot be made."""
    if not facts.forecasts:
        return (f"No forecast of {md_escape(subject)} could be scored: no release date of this series was followed "
                "by a later release to check a forecast against, so the models cannot be compared and there is no "
                "track record.")
    dates = (f"{facts.first_vintage} to {facts.last_vintage}" if facts.first_vintage != facts.last_vintage
             else f"{facts.first_vintage}")
    what = (f"The evaluation scored {wording.count(facts.forecasts, 'forecast')} of {md_escape(subject)}, made at "
            f"{wording.count(facts.vintages, 'release date')} ({dates}), "
            f"{'all' if facts.forecasts > 1 else 'one'} of the next year-to-date figure: no total of the year of a "
            "release date, or of the year after, was published later, so the models cannot be compared on annual "
            "totals, by target year or against a naive benchmark")
    return what + ("." if track_shown else ", and the outlook has no track record.")


def comparison(table, facts: EvaluationFacts, subject: str, track_shown: bool) -> str:
    """The lead-in of the model comparison, or the sentence saying why the chapter has none (nor scores
    by year, nor the benchmark comparison: all rest on forecasts of annual totals)."""
    return COMPARISON if len(table) else left_out(facts, subject, track_shown)


def years(within, coverage, comparison_shown: bool) -> str:
    """The lead-in of the scores by target year; "" when there are none and the chapter has said why."""
    if len(within):
        return YEARS + ("; @tbl-years-coverage the coverage of its 80% intervals." if len(coverage) else ".")
    if comparison_shown:
        return "No forecast within the year was scored, so there are no scores by target year."
    return ""


def benchmark(table, comparison_shown: bool, rows=()) -> str:
    """The benchmark section's lead-in, with the comparison by target year and era in words when the
    rows of the comparison (:class:`xjtrade.report.results.BenchmarkRow`) are given."""
    if len(table):
        return " ".join(t for t in (BENCHMARK, fw.benchmark_by_year(list(rows))) if t)
    if comparison_shown:
        return ("No forecast of the years ahead was scored, so the outlook's intervals cannot be compared with a "
                "naive benchmark's.")
    return ""


def track(annual: int, coverage: int, forecasts: int, comparison_shown: bool) -> str:
    """The track record's lead-in from the number of the outlook's scored forecasts of annual totals
    (`annual`), of rows of the coverage table and of the outlook's scored forecasts of any target."""
    cov = ("; @tbl-interval-coverage compares the empirical coverage of its intervals with the nominal one, by "
           "horizon." if coverage else ".")
    if annual:
        return ("@fig-track shows what the outlook would have said at each release date about the annual totals, by "
                "the choice rule applied with what was known then, against the totals published later (dotted "
                "lines)" + cov)
    if forecasts:
        first = ("No annual total was published after a release date of this series, so the track record holds "
                 if comparison_shown else "The track record holds ")
        return first + "only the outlook's forecasts of the next year-to-date release (@tbl-track)" + cov
    return "No forecast of the outlook has been scored yet." if comparison_shown else ""


def ledger(track_shown: bool) -> str:
    """The ledger section's lead-in (the track record, when shown, is what the rule would have said)."""
    return (("The track record above is recomputed: what the rule would have said. " if track_shown else "")
            + LEDGER)
