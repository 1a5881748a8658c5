"""The numbers in the completion report: metrics flattened from JSON, baseline against
final, each gate against its target, and the two report sections that show them.

`numeric_metrics`, `compare_metrics` and `gate_targets` are pure rules, tested without a
store; `metric_values` reads a plan's `baseline:` or `final:` key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from coordinator.views.markdown import code, table
from memory.store import Store

# --- baseline against final --------------------------------------------------------------


def numeric_metrics(value: Any, prefix: str = "") -> dict[str, float | int]:
    """The numbers in a JSON object, nested objects flattened with dots (`build.seconds`).

    Booleans, strings and lists are not metrics and are left out.
    """
    found: dict[str, float | int] = {}
    if not isinstance(value, Mapping):
        return found
    for name, item in value.items():
        key = f"{prefix}{name}"
        if isinstance(item, Mapping):
            found.update(numeric_metrics(item, f"{key}."))
        elif isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item):
            found[key] = item
    return found


def _round(value: float | int) -> float | int:
    # Float subtraction leaves noise (0.30000000000000004); ten digits keep what matters.
    return value if isinstance(value, int) else round(value, 10)


def compare_metrics(
    baseline: Mapping[str, float | int], final: Mapping[str, float | int]
) -> list[dict[str, Any]]:
    """One row per metric in either: baseline, final, delta (final - baseline) and percent
    change against the baseline (None when a side is missing or the baseline is zero)."""
    rows = []
    for name in sorted(set(baseline) | set(final)):
        before, after = baseline.get(name), final.get(name)
        delta = None if before is None or after is None else _round(after - before)
        percent = (
            None
            if delta is None or before is None or before == 0
            else round(100 * delta / abs(before), 2)
        )
        rows.append(
            {"metric": name, "baseline": before, "final": after, "delta": delta, "percent": percent}
        )
    return rows


def metric_values(store: Store, key: str) -> dict[str, float | int]:
    """The numbers under a plan's `baseline:` or `final:` key: the key's own JSON object,
    and any number stored under `KEY/...` (`phase7/baseline/tests_passing`)."""
    record = store.get(key)
    found = numeric_metrics(record.value if record is not None else None)
    prefix = f"{key}/"
    for child in store.list_prefix(prefix):
        name = child.key[len(prefix) :].replace("/", ".")
        if isinstance(child.value, Mapping):
            found.update(numeric_metrics(child.value, f"{name}."))
        else:
            found.update(numeric_metrics({name: child.value}))
    return found


# --- gates against their targets ---------------------------------------------------------


_FINISHED = frozenset({"complete", "blocked", "failed"})


def _number_or_none(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def gate_metric_names(gate: str) -> list[str]:
    """The names a gate's metric may have among baseline metrics (nested objects flattened
    with dots), best first: `p/t/clippy_warnings < 20` -> `clippy_warnings`;
    `p/t/tests[passing] >= 626` -> `tests.passing`, then `passing`."""
    from coordinator.plans.conditions import parse_condition

    cond = parse_condition(gate)
    segment = cond.key.rsplit("/", 1)[-1]
    if not cond.path:
        return [segment]
    dotted = ".".join(cond.path)
    return [f"{segment}.{dotted}", dotted, cond.path[-1]]


def gate_targets(
    rows: Iterable[Mapping[str, Any]], baselines: Mapping[str, Mapping[str, float | int]]
) -> list[dict[str, Any]]:
    """Each gate against its target: the target (`>= 800`), the baseline of the metric it
    measures (by name, from the phase's `baseline:` key), the final value, the delta and
    `pass`, `fail` (the task finished and the gate does not hold) or `open`."""
    from coordinator.plans.conditions import parse_condition

    targets = []
    for row in rows:
        for gate in row.get("gates") or []:
            cond = parse_condition(gate["gate"])
            phase_baseline = baselines.get(row["phase"]) or {}
            baseline = next(
                (
                    phase_baseline[name]
                    for name in gate_metric_names(gate["gate"])
                    if name in phase_baseline
                ),
                None,
            )
            final = _number_or_none(gate.get("current"))
            delta = None if baseline is None or final is None else _round(final - baseline)
            if gate.get("passes"):
                result = "pass"
            else:
                result = "fail" if row.get("status") in _FINISHED else "open"
            targets.append(
                {
                    "task": row["task"],
                    "gate": gate["gate"],
                    "metric": cond.target,
                    "target": cond.op if cond.op == "exists" else f"{cond.op} {_lit(cond)}",
                    "baseline": baseline,
                    "final": gate.get("current"),
                    "delta": delta,
                    "result": result,
                    "reason": "" if gate.get("passes") else gate.get("reason"),
                }
            )
    return targets


def _lit(cond: Any) -> str:
    from coordinator.plans.conditions import format_value

    return format_value(cond.literal)


# --- rendering ---------------------------------------------------------------------------


def _number(value: float | int | None) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:g}"


def _signed(value: float | int | None) -> str:
    return "-" if value is None else ("+" if value > 0 else "") + _number(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{'+' if value > 0 else ''}{value:g}%"


def value_text(value: Any) -> str:
    """A gate's or metric's value as the report shows it (`missing` when there is none)."""
    from coordinator.plans.conditions import format_value

    return "missing" if value is None else format_value(value)


def metrics_section(data: Mapping[str, Any]) -> list[str]:
    """The report's section of baseline against final metrics, a table per phase."""
    lines = ["## Baseline and final metrics", ""]
    if not data["metrics"]:
        return [*lines, "No plan names `baseline:` and `final:` keys.", ""]
    for group in data["metrics"]:
        lines += [
            f"### {group['phase']}: {code(str(group['baseline_key']))} → "
            f"{code(str(group['final_key']))}",
            "",
        ]
        rows = [
            (
                code(r["metric"]),
                _number(r["baseline"]),
                _number(r["final"]),
                _signed(r["delta"]),
                _percent(r["percent"]),
            )
            for r in group["rows"]
        ]
        headers = ["metric", "baseline", "final", "delta", "change"]
        lines += [*table(headers, rows), ""] if rows else ["No metrics recorded.", ""]
    return lines


def targets_section(data: Mapping[str, Any]) -> list[str]:
    """The report's section of each gate against its target."""
    rows = [
        (
            code(t["task"]),
            code(t["metric"]),
            t["target"],
            _number(t["baseline"]),
            value_text(t["final"]),
            _signed(t["delta"]),
            {"pass": "✅ pass", "fail": "❌ fail", "open": "⏳ open"}[t["result"]]
            + (f" ({t['reason']})" if t["reason"] else ""),
        )
        for t in data.get("targets") or []
    ]
    headers = ["task", "metric", "target", "baseline", "final", "delta", "result"]
    lines = ["## Metrics against targets", ""]
    lines += table(headers, rows) if rows else ["No gates."]
    return [*lines, ""]
