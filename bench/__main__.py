"""``make bench``: run every configuration in one go and write the figures and their ratios.

    python -m bench [--turns N] [--warmup N] [--conversations N] [--concurrency N]
                    [--warmup-seconds S] [--max-seconds S] [--only NAME,...]
                    [--messages TEXT,...] [--users ID,...] [--memory SMALL,LARGE]
                    [--output PATH] [--require-targets]

Each server runs as its own process on a free 127.0.0.1 port, one after another, and is
stopped afterwards (terminate, then kill); the load comes from ``bench.driver`` in another
process. Only ratios measured in the same run mean anything on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import itertools
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.reminders import FULL_MEMBERSHIPS, SENDS, measure_reminders, write_reminders_table
from bench.report import flags, judge_targets, ratios, write_table
from bench.token_validation import format_table, measure_token_validation
from tests.support.postgres import throwaway_cluster
from tests.support.process import wait_ready

logger = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
COMMAND = str(Path(PYTHON).parent / "membership-bot")
STOP_TIMEOUT = 10.0
# Lines in a server's log that mean a turn failed even if the driver saw a 200.
LOG_ERROR_MARKS = ('"level": "ERROR"', '"level": "CRITICAL"', "Traceback", "[on_turn_error]")

NOTES = [
    "Each server is its own process on 127.0.0.1; the load comes from bench.driver, another "
    "process on the same machine, so the two share its CPUs.",
    "b_stock is the samples' wiring with one deviation: its handler calls "
    "adapter.process_activity and returns the InvokeResponse body as JSON, because "
    "CloudAdapter.process answers 500 to expectReplies in SDK 4.17.1 (the body is serialized "
    "twice). Its DialogExtensions.run_dialog also returns a 'BotState' trace activity per "
    "message turn; that is stock behaviour and is kept.",
    "server_cpu_ms_per_turn is the server process's user+system time (all threads, "
    "/proc/<pid>/stat) over the measured turns. SQLite works inside our process; PostgreSQL "
    "works in its own processes, counted apart as db_cpu_ms_per_turn when the bench started "
    "the cluster.",
    "Turns: per conversation a conversationUpdate (membersAdded), then the messages "
    "'help', 'status', 'menu', '7' in a loop; the warm-up covers every conversationUpdate "
    "when warmup >= conversations. The c/d servers get the demo data (membership-bot demo "
    "load) so that 'status' reads an organization.",
    "Only ratios measured in the same run are comparable; the machine is shared and noisy.",
]


@dataclass(frozen=True)
class Server:
    """How to start one configuration's server, and what to count besides it."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = ROOT
    db_pid: int | None = None


@dataclass(frozen=True)
class Config:
    """One configuration: its name, what it is, and how to stand its server up."""

    name: str
    about: str
    setup: Callable[[int, Path], contextlib.AbstractContextManager[Server]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _module(module: str, port: int, _scratch: Path) -> Iterator[Server]:
    """Serve one of bench's own servers."""
    yield Server([PYTHON, "-m", module, "--port", str(port)])


def _ours_env(port: int, database_url: str, scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update(
        MicrosoftAppId="",  # anonymous, as the stock reference
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        WEBCHAT_JS=str(scratch / "no-webchat.js"),  # the dev chat page is not measured
    )
    return env


def _prepare(env: dict[str, str], cwd: Path) -> None:
    """Migrate the database and load the demo organizations, as an operator would."""
    for argv in ([COMMAND, "db", "upgrade"], [COMMAND, "demo", "load"]):
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[1:])} failed:\n{done.stderr[-2000:]}")


@contextlib.contextmanager
def _ours_sqlite(port: int, scratch: Path) -> Iterator[Server]:
    """Serve ``membership-bot`` on a fresh SQLite file."""
    env = _ours_env(port, f"sqlite:///{scratch / 'bench.db'}", scratch)
    _prepare(env, scratch)
    # Run from the scratch folder, where no developer's .env can change the settings.
    yield Server([COMMAND, "serve"], env, cwd=scratch)


def _postmaster_pid(port: int) -> int | None:
    """Find the PostgreSQL server listening on ``port`` that this machine runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if Path(argv[0].decode(errors="replace")).name == "postgres" and any(
            pair == (b"-p", str(port).encode()) for pair in itertools.pairwise(argv)
        ):
            return int(entry.name)
    return None


@contextlib.contextmanager
def _ours_postgres(port: int, scratch: Path) -> Iterator[Server]:
    """Serve ``membership-bot`` on ``TEST_DATABASE_URL`` or a throwaway PostgreSQL cluster."""
    with contextlib.ExitStack() as stack:
        url = os.environ.get("TEST_DATABASE_URL")
        db_pid = None
        if not url:
            url = stack.enter_context(throwaway_cluster(scratch))
            db_pid = _postmaster_pid(make_url(url).port or 5432)
        env = _ours_env(port, url, scratch)
        _prepare(env, scratch)
        yield Server([COMMAND, "serve"], env, cwd=scratch, db_pid=db_pid)


CONFIGS = (
    Config(
        "a_bare",
        "bare aiohttp handler: parse the activity, answer one reply (the floor)",
        lambda port, scratch: _module("bench.bare_server", port, scratch),
    ),
    Config(
        "b_stock",
        "Bot Framework samples' wiring: CloudAdapter, MemoryStorage, run_dialog",
        lambda port, scratch: _module("bench.stock_bot", port, scratch),
    ),
    Config("c_ours_sqlite", "membership-bot serve on SQLite", _ours_sqlite),
    Config("d_ours_postgres", "membership-bot serve on PostgreSQL", _ours_postgres),
)


@contextlib.contextmanager
def _running(server: Server, port: int, log: Path) -> Iterator[int]:
    """Start the server, wait until it is ready, yield its pid; always stop it."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            server.argv, env=server.env, cwd=server.cwd, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}", process, log)
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _driver_argv(options: argparse.Namespace) -> list[str]:
    """The load of the four configurations (``--conversations``, ``--turns``, ...)."""
    argv = [
        "--conversations", str(options.conversations), "--concurrency", str(options.concurrency),
        "--warmup", str(options.warmup), "--turns", str(options.turns),
        "--warmup-seconds", str(options.warmup_seconds), "--max-seconds", str(options.max_seconds),
    ]  # fmt: skip
    if options.messages:
        argv += ["--messages", options.messages]
    if options.users:
        argv += ["--users", options.users]
    return argv


def _drive(
    port: int, pid: int, db_pid: int | None, load: list[str], prefix: str, limit: float
) -> dict[str, Any]:
    """Run the load driver in its own process and return its figures."""
    argv = [
        PYTHON, "-m", "bench.driver", "--url", f"http://127.0.0.1:{port}",
        "--server-pid", str(pid), "--prefix", prefix, *load,
    ]  # fmt: skip
    if db_pid is not None:
        argv += ["--db-pid", str(db_pid)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=limit)
    if done.returncode != 0:
        raise RuntimeError(f"the driver failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout))


def _log_errors(log: Path) -> int:
    """Count the lines of a server log that show a failed turn."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if any(m in line for m in LOG_ERROR_MARKS))


def measure(
    config: Config, options: argparse.Namespace, scratch: Path, logs: Path
) -> dict[str, Any]:
    """Stand the configuration up, drive it, and return its figures (or why it failed)."""
    port = _free_port()
    log = logs / f"{config.name}.log"
    began = time.monotonic()
    try:
        with config.setup(port, scratch) as server, _running(server, port, log) as pid:
            prefix = f"{config.name}-{uuid.uuid4().hex[:8]}"
            limit = options.warmup_seconds + options.max_seconds + 60  # in-flight turns, start-up
            figures = _drive(port, pid, server.db_pid, _driver_argv(options), prefix, limit)
    except Exception as error:
        logger.error("%s failed: %s", config.name, error)
        return {"about": config.about, "failed": f"{type(error).__name__}: {error}"[:3000]}
    figures["server_log_errors"] = _log_errors(log)
    figures["flags"] = flags(figures)
    figures["wall_seconds"] = round(time.monotonic() - began, 1)
    return {"about": config.about, **figures}


def measure_memory(
    small: int, large: int, options: argparse.Namespace, scratch: Path, logs: Path
) -> dict[str, Any]:
    """Our SQLite server's resident size after ``small`` and after ``large`` conversations.

    The first ``small`` conversations each join (a conversationUpdate) and send one message,
    which also warms the process up; then ``large - small`` new conversations send one
    message each ("status": the user, the organization, the card). What a process keeps per
    conversation (locks, the references it stored, caches) shows as growth between the two.
    """
    port = _free_port()
    log = logs / "memory.log"
    folder = scratch / "memory"
    folder.mkdir(exist_ok=True)
    load = ["--concurrency", str(options.concurrency), "--max-seconds", "3600",
            "--warmup-seconds", "3600", "--messages", "status"]  # fmt: skip
    try:
        with _ours_sqlite(port, folder) as server, _running(server, port, log) as pid:
            first = _drive(
                port, pid, None,
                [*load, "--conversations", str(small), "--warmup", str(small),
                 "--turns", str(small)],
                "memory-a", 3700,
            )  # fmt: skip
            second = _drive(
                port, pid, None,
                [*load, "--no-join", "--conversations", str(large - small), "--warmup", "0",
                 "--turns", str(large - small)],
                "memory-b", 3700,
            )  # fmt: skip
    except Exception as error:
        logger.error("memory failed: %s", error)
        return {"failed": f"{type(error).__name__}: {error}"[:3000]}
    before, after = first["server_rss_kb"], second["server_rss_kb"]
    return {
        "conversations": [small, large],
        "rss_kb": [before, after],
        "growth": round(after / before - 1, 4) if before and after else None,
        "errors": first["errors"] + first["warmup"]["errors"] + second["errors"],
        "server_log_errors": _log_errors(log),
        "turns_per_s_large": second["turns_per_s"],
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _machine() -> dict[str, Any]:
    """Describe where and on what the run happened."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )  # read-only
    return {
        "cpus": os.cpu_count(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            None,
        ),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "botbuilder_core": importlib.metadata.version("botbuilder-core"),
        "aiohttp": importlib.metadata.version("aiohttp"),
        "commit": commit.stdout.strip() or None,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--turns", type=int, default=4000, help="measured turns per config (4 per conversation)"
    )
    parser.add_argument(
        "--warmup", type=int, default=1000, help="turns before measuring (>= conversations)"
    )
    parser.add_argument("--conversations", type=int, default=1000, help="distinct conversations")
    parser.add_argument("--concurrency", type=int, default=16, help="turns in flight")
    parser.add_argument(
        "--warmup-seconds", type=float, default=30, help="warm-up time limit per config"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60, help="measured-phase time limit per config"
    )
    parser.add_argument(
        "--only", default=",".join(c.name for c in CONFIGS), help="comma-separated configs"
    )
    parser.add_argument("--messages", help="comma-separated message texts (the driver's default)")
    parser.add_argument("--users", help="comma-separated aadObjectIds (the driver's default)")
    parser.add_argument(
        "--reminders",
        type=int,
        default=FULL_MEMBERSHIPS,
        help="memberships in the renewal reminders' scan (0: skip that section)",
    )
    parser.add_argument(
        "--reminder-sends", type=int, default=SENDS, help="chat reminders sent to the stand-in"
    )
    parser.add_argument(
        "--token-requests",
        type=int,
        default=5000,
        help="requests in the token-validation section (0: skip it)",
    )
    parser.add_argument(
        "--memory",
        default="1000,100000",
        help="SMALL,LARGE: conversations between which resident size is compared (0: skip)",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "var" / "bench" / "results.json")
    parser.add_argument(
        "--require-targets", action="store_true", help="exit 1 unless issue 9's targets are met"
    )
    return parser


def main() -> int:
    """Measure (a) bare, (b) stock, (c) ours on SQLite, (d) ours on PostgreSQL; report."""
    logging.basicConfig(level=logging.WARNING, format="bench: %(message)s")
    logger.setLevel(logging.INFO)
    options = _parser().parse_args()
    wanted = set(options.only.split(","))
    if unknown := wanted - {c.name for c in CONFIGS}:
        sys.stderr.write(f"unknown configs: {', '.join(sorted(unknown))}\n")
        return 2
    logs = options.output.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    machine = _machine()

    configs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="membership-bot-bench-") as scratch:
        for config in CONFIGS:
            if config.name in wanted:
                logger.info("%s: %s", config.name, config.about)
                configs[config.name] = measure(config, options, Path(scratch), logs)
        tokens = None
        if options.token_requests > 0:
            logger.info("token validation: %s requests over 10 tokens", options.token_requests)
            tokens = measure_token_validation(requests=options.token_requests, tokens=10, rounds=3)
        memory = None
        if options.memory != "0":
            small, large = (int(n) for n in options.memory.split(","))
            logger.info("memory: %s, then %s conversations", f"{small:,}", f"{large:,}")
            memory = measure_memory(small, large, options, Path(scratch), logs)
        reminders = None
        if options.reminders > 0:
            logger.info("reminders: a scan over %s memberships", f"{options.reminders:,}")
            reminders = measure_reminders(options.reminders, options.reminder_sends, Path(scratch))

    everything = {c.name: configs.get(c.name, {"failed": "not run (--only)"}) for c in CONFIGS}
    compared = ratios(configs)
    targets = judge_targets(everything, compared, tokens, memory)
    results: dict[str, Any] = {
        "when_utc": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "machine": machine,
        "parameters": {k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()},
        "configs": configs,
        "ratios": compared,
        "targets": targets,
        "token_validation": tokens,
        "memory": memory,
        "reminders": reminders,
        "server_logs": str(logs),
        "notes": NOTES,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_table(results, options.output)
    if tokens is not None:
        sys.stdout.write(format_table(tokens) + "\n")
    if memory is not None and "failed" not in memory:
        (small, large), (before, after) = memory["conversations"], memory["rss_kb"]
        sys.stdout.write(
            f"memory: resident {before / 1024:.1f} MiB after {small:,} conversations, "
            f"{after / 1024:.1f} MiB after {large:,} ({_percent(memory['growth'])})\n"
        )
    if reminders is not None:
        write_reminders_table(reminders)

    broken = [n for n, f in configs.items() if "failed" in f or f["errors"]]
    if reminders is not None:
        broken += [
            f"reminders {p}" for p, f in reminders.items() if isinstance(f, dict) and "failed" in f
        ]
    if memory is not None and ("failed" in memory or memory["errors"]):
        broken.append("memory")
    if broken:
        logger.error("no valid figures for: %s", ", ".join(broken))
        return 1
    return 1 if options.require_targets and not all(t["met"] for t in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
