"""The load driver: a separate process that sends expectReplies turns and times them.

    python -m bench.driver --url http://127.0.0.1:PORT --server-pid PID [options]

Each conversation plays a script: a ``conversationUpdate`` that adds the user (the Teams
install), then the messages in ``MESSAGES`` over and over. Workers take a conversation from a
shared pool, send its next turn and put it back, so no two turns of one conversation are in
flight together, as with a real user. A warm-up phase runs first, then the measured phase;
the server's CPU time (and the database server's, with ``--db-pid``) is read from ``/proc``
right before and after the measured phase. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.stats import cpu_seconds, per_turn_ms, percentile, rss_kb, tree_cpu_seconds

__all__ = ["MESSAGES", "Phase", "activity", "main", "run"]

# Our main dialog's words: the help interruption, the status journey (a database read) by
# name, an unrecognized menu answer (the retry prompt), and the status journey by number.
MESSAGES = ("help", "status", "menu", "7")
# Users of the demo directory (services/demo/directory.json), as Teams' aadObjectId, so that
# "status" finds an organization; other servers ignore them.
# Each with their own tenant, as Teams sends it (the bot refuses a user from another tenant);
# Olivia Wang's organization has no tenant yet.
TENANTS: dict[str, str | None] = {
    "mei.lin": "7f3c2a10-0000-4000-8000-000000c0de01",
    "david.chen": "7f3c2a10-0000-4000-8000-000000c0de01",
    "ana.silva": "7f3c2a10-0000-4000-8000-000000c0de02",
    "kenji.sato": "7f3c2a10-0000-4000-8000-000000c0de02",
    "olivia.wang": None,
}
USERS = tuple(TENANTS)
# A loopback address where nothing listens: nothing may leave the machine, even by mistake.
SERVICE_URL = "http://127.0.0.1:9/"


@dataclass
class Conversation:
    """One simulated Teams chat and how far its script has got."""

    id: str
    user: str
    turns: int = 0


def activity(conversation: Conversation, messages: Sequence[str] = MESSAGES) -> dict[str, Any]:
    """Return the conversation's next activity, Teams-shaped, asking for expectReplies."""
    user = {"id": f"29:{conversation.id}", "name": "Bench User", "aadObjectId": conversation.user}
    body: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": user,
        "recipient": {"id": "28:membership-bot", "name": "membership-bot"},
        "conversation": {"id": conversation.id, "conversationType": "personal"},
        "locale": "en-US",
        "deliveryMode": "expectReplies",
    }
    if tenant := TENANTS.get(conversation.user):
        body["conversation"]["tenantId"] = tenant
        body["channelData"] = {"tenant": {"id": tenant}}
    if conversation.turns == 0:
        body.update(type="conversationUpdate", membersAdded=[user, body["recipient"]])
    else:
        body.update(type="message", text=messages[(conversation.turns - 1) % len(messages)])
    return body


def _describe(reply: dict[str, Any]) -> str:
    """Summarize one reply activity in a few words, for the results' sample."""
    kind = str(reply.get("type"))
    if kind == "trace":
        return f"trace {reply.get('name') or reply.get('label') or ''}".strip()
    if text := reply.get("text"):
        return f"{kind}: {str(text)[:60]}"
    attachments = reply.get("attachments") or [{}]
    return f"{kind}: [{attachments[0].get('contentType', 'no text')}]"


@dataclass
class Phase:
    """What one phase of the run observed."""

    requested: int
    latencies: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    replies: int = 0
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        """Return the phase's figures: throughput, latency percentiles, errors."""
        done = len(self.latencies)
        ordered = sorted(self.latencies)
        return {
            "requested_turns": self.requested,
            "turns": done,
            "seconds": round(self.seconds, 3),
            "turns_per_s": round(done / self.seconds, 1) if self.seconds else None,
            "p50_ms": round(percentile(ordered, 50) * 1000, 2) if done else None,
            "p99_ms": round(percentile(ordered, 99) * 1000, 2) if done else None,
            "max_ms": round(ordered[-1] * 1000, 2) if done else None,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors.most_common(5)),
            "replies_per_turn": round(self.replies / done, 2) if done else None,
            "truncated": done < self.requested,
            "by_step": {
                step: {
                    "turns": len(values),
                    "p50_ms": round(percentile(sorted(values), 50) * 1000, 2),
                    "p99_ms": round(percentile(sorted(values), 99) * 1000, 2),
                }
                for step, values in sorted(self.by_step.items())
            },
        }


async def _phase(
    session: aiohttp.ClientSession,
    url: str,
    pool: asyncio.Queue[Conversation],
    turns: int,
    concurrency: int,
    max_seconds: float,
    messages: Sequence[str],
    sample: dict[str, list[str]],
) -> Phase:
    """Send ``turns`` turns, ``concurrency`` at a time; stop taking new ones at the deadline."""
    phase = Phase(requested=turns)
    remaining = turns
    began = time.perf_counter()
    deadline = began + max_seconds

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            conversation = await pool.get()
            body = activity(conversation, messages)
            step = str(body.get("text") or body["type"])
            started = time.perf_counter()
            try:
                async with session.post(url, json=body) as response:
                    payload = await response.json(content_type=None)
                    status = response.status
            except (TimeoutError, aiohttp.ClientError, ValueError) as error:
                status, payload = 0, type(error).__name__
            phase.latencies.append(elapsed := time.perf_counter() - started)
            phase.by_step.setdefault(step, []).append(elapsed)
            replies = payload.get("activities") if isinstance(payload, dict) else None
            if status != 200:
                phase.errors[f"HTTP {status}" if status else str(payload)] += 1
            elif not isinstance(replies, list) or not replies:
                phase.errors["no activities in the body"] += 1
            else:
                phase.replies += len(replies)
                sample.setdefault(step, [_describe(reply) for reply in replies])
            conversation.turns += 1
            pool.put_nowait(conversation)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.seconds = time.perf_counter() - began
    return phase


def _driver_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(options: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then measure; return the measured figures with the CPU spent per turn."""
    pool: asyncio.Queue[Conversation] = asyncio.Queue()
    users = options.users.split(",")
    for n in range(options.conversations):
        conversation = Conversation(f"a:{options.prefix}-{n}", users[n % len(users)])
        if options.no_join:
            conversation.turns = 1  # begin with a message, not the conversationUpdate
        pool.put_nowait(conversation)
    messages = options.messages.split(",")
    sample: dict[str, list[str]] = {}
    url = f"{options.url}/api/messages"
    connector = aiohttp.TCPConnector(limit=options.concurrency)
    timeout = aiohttp.ClientTimeout(total=options.request_timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        warmup = await _phase(
            session, url, pool, options.warmup, options.concurrency, options.warmup_seconds,
            messages, sample,
        )  # fmt: skip
        server_before = cpu_seconds(options.server_pid)
        db_before = tree_cpu_seconds(options.db_pid) if options.db_pid else 0.0
        driver_before = _driver_cpu_seconds()
        measured = await _phase(
            session, url, pool, options.turns, options.concurrency, options.max_seconds,
            messages, sample,
        )  # fmt: skip
        server_spent = cpu_seconds(options.server_pid) - server_before
        db_spent = tree_cpu_seconds(options.db_pid) - db_before if options.db_pid else None
        driver_spent = _driver_cpu_seconds() - driver_before

    figures = measured.figures()
    done = figures["turns"]
    figures["server_cpu_ms_per_turn"] = per_turn_ms(server_spent, done)
    figures["db_cpu_ms_per_turn"] = per_turn_ms(db_spent, done) if db_spent is not None else None
    figures["driver_cpu_ms_per_turn"] = per_turn_ms(driver_spent, done)
    figures["warmup"] = {
        k: v for k, v in warmup.figures().items() if k in ("turns", "seconds", "errors")
    }
    figures["sample_replies"] = sample
    figures["server_rss_kb"] = rss_kb(options.server_pid)
    return figures


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.driver", description=__doc__)
    parser.add_argument("--url", required=True, help="the server's base URL (loopback)")
    parser.add_argument("--server-pid", type=int, required=True, help="whose CPU time to count")
    parser.add_argument("--db-pid", type=int, help="a database server's main process, if any")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=400, help="turns before measuring")
    parser.add_argument("--turns", type=int, default=2000, help="measured turns")
    parser.add_argument("--concurrency", type=int, default=16, help="turns in flight")
    parser.add_argument("--warmup-seconds", type=float, default=30, help="warm-up time limit")
    parser.add_argument("--max-seconds", type=float, default=60, help="measured time limit")
    parser.add_argument("--request-timeout", type=float, default=30)
    parser.add_argument("--prefix", default="bench", help="conversation ids start with this")
    parser.add_argument(
        "--no-join", action="store_true", help="start each conversation with a message"
    )
    parser.add_argument(
        "--messages", default=",".join(MESSAGES), help="comma-separated texts, sent in a loop"
    )
    parser.add_argument(
        "--users",
        default=",".join(USERS),
        help="comma-separated aadObjectIds, one per conversation",
    )
    return parser


def main() -> None:
    """Drive the server and print the figures as one JSON object."""
    figures = asyncio.run(run(_parser().parse_args()))
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
