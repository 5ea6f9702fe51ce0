"""Side-by-side benchmarks: ga-listener against the tool it replaces, measured in one run.

Every module ``bench/bench_*.py`` exposes ``rows() -> list[Row]``; ``python -m bench`` discovers them, prints one
table (what | ours | reference | ratio | target) and writes ``bench/results.json``. A row states its own target
as a bound on ``ours / reference`` (``>=`` when more is better, ``<=`` when less is better).
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["RESULTS_PATH", "Row", "alternating", "format_table", "median_of", "write_results"]

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Row:
    """One comparison. ``ratio`` is ``ours / reference``; ``target`` bounds it in the direction of ``better``."""

    what: str
    ours: float
    reference: float
    unit: str
    better: str  # "higher" or "lower"
    target: float
    goal: float | None = None
    note: str = ""
    spread: tuple[float, float] | None = None  # the lowest and highest ratio of single runs, when there were some

    @property
    def ratio(self) -> float:
        if not self.reference:  # a count whose floor is 0: meeting the floor is 1x
            return 1.0 if not self.ours else float("inf")
        return self.ours / self.reference

    @property
    def met(self) -> bool:
        return self.ratio >= self.target if self.better == "higher" else self.ratio <= self.target

    @property
    def target_text(self) -> str:
        sign = ">=" if self.better == "higher" else "<="
        goal = f" (goal {self.goal:g}x)" if self.goal is not None else ""
        return f"{sign} {self.target:g}x{goal}"


def alternating(samples: int, ours: Callable[[], float],
                reference: Callable[[], float]) -> tuple[list[float], list[float]]:
    """``samples`` runs of each side, alternating who goes first, so that machine drift hits both alike."""
    mine: list[float] = []
    theirs: list[float] = []
    for sample in range(samples):
        if sample % 2:
            theirs.append(reference())
            mine.append(ours())
        else:
            mine.append(ours())
            theirs.append(reference())
    return mine, theirs


def median_of(samples: int, measure: Callable[[], float]) -> float:
    """Median of ``samples`` calls of ``measure``."""
    return statistics.median(measure() for _ in range(samples))


def _number(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if value >= 100 else f"{value:.3g} {unit}"


def _missed(row: Row) -> str:
    """A miss, with the spread of single runs beside it, so that a miss can be told from noise."""
    return f"MISSED (runs {row.spread[0]:.2f}x..{row.spread[1]:.2f}x)" if row.spread else "MISSED"


def format_table(rows: Iterable[Row]) -> str:
    """A plain-text table with one line per row and a verdict column."""
    header = ("what", "ours", "reference", "ratio", "target", "")
    lines = [header] + [
        (row.what, _number(row.ours, row.unit), _number(row.reference, row.unit), f"{row.ratio:.2f}x",
         row.target_text, "ok" if row.met else _missed(row))
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in lines]
    text.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(text)


def write_results(rows: Iterable[Row], path: Path = RESULTS_PATH) -> None:
    """``results.json``: every row with its ratio and verdict, and where it was measured."""
    data = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "rows": [{**asdict(row), "ratio": row.ratio, "target_text": row.target_text, "met": row.met}
                 for row in rows],
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
