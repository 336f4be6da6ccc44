"""What `xjtrade sweep` returns: one record per kind of grid (scenarios, or an evaluation).

A module of its own, importing nothing of the package: the runner names both types in its
signature without importing the evaluation, whose code is not part of a scenario's cache key
(:data:`xjtrade.sweep.runner.SCENARIO`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SweepReport:
    """A grid of scenarios (:func:`xjtrade.sweep.runner.run_sweep`)."""

    grid: str
    scenarios: int
    computed: int = 0
    cached: int = 0
    failed: list[dict] = field(default_factory=list)
    out_dir: Path | None = None     # reports/sweeps/<grid>/ once published
    seconds: float = 0.0


@dataclass
class EvaluationReport:
    """A grid of kind `evaluation` (:func:`xjtrade.sweep.evaluation.run_evaluation`)."""

    grid: str
    series: int
    computed: int = 0
    cached: int = 0
    tasks: int = 0
    failed: list[dict] = field(default_factory=list)
    out_dir: Path | None = None     # reports/sweeps/<grid>/ once published
    seconds: float = 0.0
