"""Turn the configurations' figures into ratios, a verdict on the issue's bar, and a table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench.stats import ratio

__all__ = ["flags", "judge_targets", "ratios", "write_table"]

# Issue 9's targets, each judged on figures of the same run.
C_OVER_B = 10.0  # our SQLite turn's throughput over the stock sample-style dialog's
C_OVER_A = 0.08  # ... over the bare aiohttp handler's
D_OVER_A = 0.06  # our PostgreSQL turn's throughput over the bare handler's
P99_MS = 50.0  # at 16 connections, on both databases
TOKEN_MS = 0.3  # CPU per request of token validation, with tokens reused
RSS_GROWTH = 0.10  # resident size from 1,000 to 100,000 distinct conversations


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


def judge_targets(
    configs: dict[str, dict[str, Any]],
    compared: dict[str, float | None],
    tokens: dict[str, Any] | None = None,
    memory: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Judge each of issue 9's targets; one whose configs failed or were flagged is not met."""

    def suspect(*names: str) -> list[str]:
        return [
            n for n in names if "failed" in configs.get(n, {"failed": ""}) or configs[n]["flags"]
        ]

    def p99(name: str) -> float | None:
        value = configs.get(name, {}).get("p99_ms")
        return float(value) if isinstance(value, int | float) else None

    def judged(rule: str, value: float | None, met: bool, suspects: list[str]) -> dict[str, Any]:
        return {"rule": rule, "value": value, "met": met and not suspects, "suspect": suspects}

    found = []
    for key, bound, names in (
        ("throughput c/b", C_OVER_B, ("b_stock", "c_ours_sqlite")),
        ("throughput c/a", C_OVER_A, ("a_bare", "c_ours_sqlite")),
        ("throughput d/a", D_OVER_A, ("a_bare", "d_ours_postgres")),
    ):
        value = compared.get(key)
        found.append(
            judged(f"{key} >= {bound:g}", value, value is not None and value >= bound,
                   suspect(*names))
        )  # fmt: skip
    for name in ("c_ours_sqlite", "d_ours_postgres"):
        value = p99(name)
        found.append(
            judged(f"{name} p99 < {P99_MS:g} ms", value, value is not None and value < P99_MS,
                   suspect(name))
        )  # fmt: skip
    token_ms = None if tokens is None else tokens.get("ours_ms_per_request")
    found.append(
        judged(f"token validation <= {TOKEN_MS:g} ms CPU a request", token_ms,
               token_ms is not None and token_ms <= TOKEN_MS, [])
    )  # fmt: skip
    growth = None if memory is None else memory.get("growth")
    failed = [] if memory is None or "failed" not in memory else ["memory"]
    found.append(
        judged(f"RSS growth from the small to the large conversation count <= {RSS_GROWTH:.0%}",
               growth, growth is not None and growth <= RSS_GROWTH, failed)
    )  # fmt: skip
    return found


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
    lines.append("\nissue 9's targets:")
    for target in results["targets"]:
        verdict = "met" if target["met"] else "NOT met"
        note = f" (suspect: {', '.join(target['suspect'])})" if target["suspect"] else ""
        lines.append(f"  {target['rule']:<66}{_cell(target['value']):>10}  {verdict}{note}")
    lines.append(f"written to {output}")
    sys.stdout.write("\n".join(lines) + "\n")
