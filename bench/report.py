"""Turn the configurations' figures into ratios, a verdict on the issue's bar, and a table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench.stats import ratio

__all__ = ["BAR", "flags", "judge_bar", "ratios", "write_table"]

BAR = 3.0  # the bar: our SQLite turn at least 3x the stock reference's throughput


def flags(figures: dict[str, Any]) -> list[str]:
    """Say what makes a configuration's figures suspect."""
    found = []
    if figures.get("errors"):
        found.append(f"{figures['errors']} errors")
    if figures.get("truncated"):
        found.append(f"time limit: {figures['turns']} of {figures['requested_turns']} turns")
    if figures.get("warmup", {}).get("errors"):
        found.append(f"{figures['warmup']['errors']} warm-up errors")
    if figures.get("server_log_errors"):
        found.append(f"{figures['server_log_errors']} error lines in the server log")
    return found


def ratios(configs: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Compare throughput and CPU per turn across the configurations."""

    def get(name: str, key: str) -> float | None:
        value = configs.get(name, {}).get(key)
        return float(value) if isinstance(value, int | float) else None

    def total_cpu(name: str) -> float | None:
        server, db = get(name, "server_cpu_ms_per_turn"), get(name, "db_cpu_ms_per_turn")
        return server + db if server is not None and db is not None else None

    pairs = (
        ("c_ours_sqlite", "a_bare"),
        ("c_ours_sqlite", "b_stock"),
        ("d_ours_postgres", "a_bare"),
    )
    found: dict[str, float | None] = {}
    for num, den in pairs:
        key = f"{num[0]}/{den[0]}"
        found[f"throughput {key}"] = ratio(get(num, "turns_per_s"), get(den, "turns_per_s"))
    for num, den in pairs:
        key = f"{num[0]}/{den[0]}"
        cpu = ratio(get(num, "server_cpu_ms_per_turn"), get(den, "server_cpu_ms_per_turn"))
        found[f"cpu per turn {key}"] = cpu
    found["cpu per turn d/a, with PostgreSQL's own"] = ratio(
        total_cpu("d_ours_postgres"), get("a_bare", "server_cpu_ms_per_turn")
    )
    return found


def judge_bar(
    configs: dict[str, dict[str, Any]], compared: dict[str, float | None]
) -> dict[str, Any]:
    """Judge the issue's bar: c's throughput at least 3x b's, with neither flagged."""
    value = compared["throughput c/b"]
    suspect = [
        name
        for name in ("b_stock", "c_ours_sqlite")
        if "failed" in configs[name] or configs[name]["flags"]
    ]
    met = value is not None and value >= BAR and not suspect
    return {
        "rule": f"c_ours_sqlite turns/s >= {BAR:g} x b_stock turns/s",
        "ratio": value,
        "met": met,
        "suspect_configs": suspect,
    }


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def write_table(results: dict[str, Any], output: Path) -> None:
    """Write the results as a readable table on standard output."""
    head = ("config", "turns/s", "p50 ms", "p99 ms", "cpu ms/turn", "db cpu ms", "errors")
    widths = (16, 9, 9, 9, 12, 10, 7)
    header = head[0].ljust(widths[0]) + "".join(
        h.rjust(w) for h, w in zip(head[1:], widths[1:], strict=True)
    )
    lines = [header]
    for name, figures in results["configs"].items():
        if "failed" in figures:
            lines.append(f"{name:<16} FAILED: {figures['failed'].splitlines()[0]}")
            continue
        cells = (
            figures["turns_per_s"],
            figures["p50_ms"],
            figures["p99_ms"],
            figures["server_cpu_ms_per_turn"],
            figures["db_cpu_ms_per_turn"],
            figures["errors"],
        )
        row = name.ljust(16) + "".join(
            _cell(c).rjust(w) for c, w in zip(cells, widths[1:], strict=True)
        )
        lines.append(row + ("  ! " + "; ".join(figures["flags"]) if figures["flags"] else ""))
    lines.append("")
    lines += [f"{key:<42}{_cell(value)}" for key, value in results["ratios"].items()]
    bar = results["bar"]
    verdict = "met" if bar["met"] else "NOT met"
    lines.append(f"\nbar ({bar['rule']}): {verdict} (ratio {_cell(bar['ratio'])})")
    lines.append(f"written to {output}")
    sys.stdout.write("\n".join(lines) + "\n")
