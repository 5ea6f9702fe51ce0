"""``python -m bench [NAME ...]``: run every ``bench/bench_*.py`` (or those whose name contains a NAME), print
the table and write ``bench/results.json``. Exit status 1 when a row misses its target."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from bench import RESULTS_PATH, Row, format_table, write_results


def discover(filters: list[str]) -> list[str]:
    """Names of the benchmark modules to run, in name order."""
    here = str(Path(__file__).resolve().parent)
    names = sorted(info.name for info in pkgutil.iter_modules([here]) if info.name.startswith("bench_"))
    return [name for name in names if not filters or any(f in name for f in filters)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="run only modules whose name contains one of these")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for name in discover(args.names):
        print(f"running bench.{name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        rows.extend(module.rows())
    if not rows:
        print("no benchmark rows", file=sys.stderr)
        return 2
    print(format_table(rows))
    write_results(rows)
    print(f"\nwritten to {RESULTS_PATH}", file=sys.stderr)
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
