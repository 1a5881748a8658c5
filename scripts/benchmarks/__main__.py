"""The benchmark suite (run it with ./scripts/bench). Prints a table, writes bench/results.json.

Every figure is measured side by side with its reference in the same run and reported as
a ratio: hooks against `python -c "import sqlite3"`, the store against a plain single-row
upsert in WAL mode (and against raw sqlite3 running the store's own statements). Every
timed command's exit code is checked: a failed or refused sample fails the benchmark, it
is never a fast one. Each target prints `ok` or `FAIL`; any FAIL makes the exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from . import RESULTS, ROOT, TARGETS, machine, print_section, print_targets
from .contention import bench_contention
from .hooks import bench_hooks
from .postgres import bench_postgres
from .scale import bench_scale
from .store import bench_store
from .unblock import bench_unblock


def main() -> None:
    """Run the suite (or the parts named), write bench/results.json; exit 1 on any FAIL."""
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller stores")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["hooks", "unblock", "store", "contention", "scale", "postgres"],
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        help="task counts of the scale section (default 100,1000,10000; --quick 100,1000)",
    )
    args = parser.parse_args()
    quick = args.quick
    parts = set(args.only or ["hooks", "unblock", "store", "contention", "scale", "postgres"])
    results: dict[str, Any] = {"machine": machine()}
    sections: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
        ("hooks", "hook latency (whole process)", lambda: bench_hooks(10 if quick else 30)),
        (
            "unblock",
            "unblock latency (no dashboard, small store)",
            lambda: bench_unblock(10 if quick else 50),
        ),
        (
            "store",
            "store throughput (in-process)",
            lambda: bench_store(2000 if quick else 10000),
        ),
        (
            "contention",
            "contention",
            lambda: bench_contention(8 if quick else 32, 10 if quick else 50),
        ),
        (
            "scale",
            "scale",
            lambda: bench_scale(
                args.sizes or ([100, 1000] if quick else [100, 1000, 10_000]), 5 if quick else 20
            ),
        ),
    ]
    if "postgres" in parts:
        sections.append(
            (
                "postgres",
                "postgresql",
                lambda: bench_postgres(10, 10, 8, 10) if quick else bench_postgres(30, 50, 32, 50),
            )
        )
    for part, title, measure in sections:
        if part in parts:
            results[title] = measure()
            print_section(title, results[title])
    results["targets"] = [
        {"section": s, "what": w, "figure": f, "target": t, "met": m} for s, w, f, t, m in TARGETS
    ]
    print_targets()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    failed = [t for t in TARGETS if not t[4]]
    if failed:
        print(f"FAIL: {len(failed)} of {len(TARGETS)} targets not met")
        sys.exit(1)


if __name__ == "__main__":
    main()
