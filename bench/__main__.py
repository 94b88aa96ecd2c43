"""Run every configuration in one go and write the figures and their ratios.

    python -m bench [--turns N] [--warmup N] [--conversations N] [--concurrency N]

Each server runs as its own process on a free 127.0.0.1 port and is stopped afterwards; the
load comes from ``bench.driver`` in another process. Server CPU per turn is the server
process's user+system time (all its threads) over the measured turns, read from /proc.
Only ratios measured in the same run mean anything on a noisy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test support helpers live beside bench/

from tests.support.postgres import throwaway_cluster  # noqa: E402
from tests.support.process import wait_ready  # noqa: E402

RESULTS = ROOT / "var" / "bench" / "results.json"
PYTHON = sys.executable
COMMAND = str(Path(PYTHON).parent / "membership-bot")
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


@contextlib.contextmanager
def _server(
    argv: list[str], env: dict[str, str], port: int, log: Path
) -> Iterator[tuple[str, int]]:
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait_ready(url, process, log)
            yield url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _drive(url: str, turns: int, options: argparse.Namespace, prefix: str) -> dict[str, float]:
    argv = [
        PYTHON, "-m", "bench.driver", "--url", url, "--turns", str(turns),
        "--conversations", str(options.conversations),
        "--concurrency", str(options.concurrency), "--prefix", prefix,
    ]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True, timeout=900)
    return dict(json.loads(done.stdout))


def _measure(
    name: str,
    argv: list[str],
    env: dict[str, str],
    port: int,
    options: argparse.Namespace,
    logs: Path,
) -> dict[str, float]:
    """Serve with ``argv``, warm it up, then measure ``options.turns`` turns and the CPU spent."""
    with _server(argv, env, port, logs / f"{name}.log") as (url, pid):
        _drive(url, options.warmup, options, prefix=name)  # the same conversations, warmed
        before = _cpu_seconds(pid)
        figures = _drive(url, options.turns, options, prefix=name)
        figures["cpu_ms_per_turn"] = round(
            (_cpu_seconds(pid) - before) * 1000 / figures["turns"], 3
        )
    return figures


def _module(name: str, module: str, options: argparse.Namespace, logs: Path) -> dict[str, float]:
    port = _free_port()
    argv = [PYTHON, "-m", module, "--port", str(port)]
    return _measure(name, argv, dict(os.environ), port, options, logs)


def _ours(
    name: str, database_url: str, options: argparse.Namespace, logs: Path
) -> dict[str, float]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update(
        HOST="127.0.0.1", PORT=str(port), DATABASE_URL=database_url, LOG_LEVEL="WARNING",
        WEBCHAT_JS=str(logs / "no-webchat.js"),
    )  # fmt: skip
    subprocess.run([COMMAND, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    return _measure(name, [COMMAND, "serve"], env, port, options, logs)


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def _report(results: dict[str, object]) -> None:
    configs = results["configs"]
    assert isinstance(configs, dict)
    lines = [
        f"{'config':<16}{'turns/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'cpu ms/turn':>13}{'errors':>8}"
    ]
    for name, f in configs.items():
        lines.append(
            f"{name:<16}{f['turns_per_s']:>10}{f['p50_ms']:>10}{f['p99_ms']:>10}"
            f"{f['cpu_ms_per_turn']:>13}{f['errors']:>8}"
        )
    lines.append("")
    for key, value in dict(results["ratios"]).items():  # type: ignore[call-overload]
        lines.append(f"{key:<40}{value}")
    lines.append(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    sys.stdout.write("\n".join(lines) + "\n")


def main() -> None:
    """Measure (a) bare, (b) stock, (c) ours on SQLite, (d) ours on PostgreSQL."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--turns", type=int, default=2000, help="measured turns per config")
    parser.add_argument("--warmup", type=int, default=400, help="turns before measuring")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()

    configs: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="membership-bot-bench-") as scratch:
        logs = Path(scratch)
        configs["a_bare"] = _module("a_bare", "bench.bare_server", options, logs)
        configs["b_stock"] = _module("b_stock", "bench.stock_bot", options, logs)
        configs["c_ours_sqlite"] = _ours(
            "c_ours_sqlite", f"sqlite+aiosqlite:///{logs / 'bench.db'}", options, logs
        )
        postgres = os.environ.get("TEST_DATABASE_URL")
        with contextlib.ExitStack() as stack:
            if not postgres:
                postgres = stack.enter_context(throwaway_cluster())
            configs["d_ours_postgres"] = _ours("d_ours_postgres", postgres, options, logs)

    a, b, c, d = (configs[k] for k in ("a_bare", "b_stock", "c_ours_sqlite", "d_ours_postgres"))
    ratios = {
        "throughput c/a (ours sqlite / bare)": _ratio(c["turns_per_s"], a["turns_per_s"]),
        "throughput c/b (ours sqlite / stock)": _ratio(c["turns_per_s"], b["turns_per_s"]),
        "throughput d/a (ours postgres / bare)": _ratio(d["turns_per_s"], a["turns_per_s"]),
        "cpu per turn c/a": _ratio(c["cpu_ms_per_turn"], a["cpu_ms_per_turn"]),
        "cpu per turn c/b": _ratio(c["cpu_ms_per_turn"], b["cpu_ms_per_turn"]),
        "cpu per turn d/a": _ratio(d["cpu_ms_per_turn"], a["cpu_ms_per_turn"]),
    }
    results: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "parameters": vars(options),
        "configs": configs,
        "ratios": ratios,
        "bar": {"c/b throughput >= 3": ratios["throughput c/b (ours sqlite / stock)"] >= 3},
        "notes": [
            "Each server is its own process; the load comes from bench.driver in another process.",
            "b_stock is the samples' wiring, except that its handler calls process_activity: "
            "CloudAdapter.process answers 500 to expectReplies in SDK 4.17.1.",
            "Only ratios from the same run are comparable; the machine is shared and noisy.",
        ],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    _report(results)


if __name__ == "__main__":
    main()
