"""The load driver: a separate process that sends expectReplies turns and times them.

Each worker takes a conversation from a shared pool, sends that conversation's next message,
and puts it back, so no two turns of one conversation are ever in flight together (as with a
real user). Prints one JSON object with the figures on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid

import aiohttp

TEXTS = ("6", "help", "2", "hello")


def _activity(conversation: str, text: str) -> dict[str, object]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "from": {"id": f"29:{conversation}", "name": "Bench user"},
        "recipient": {"id": "28:bot", "name": "bot"},
        "conversation": {"id": conversation},
        "locale": "en-US",
        "text": text,
        "deliveryMode": "expectReplies",
    }


async def run(
    url: str, conversations: int, turns: int, concurrency: int, prefix: str
) -> dict[str, object]:
    """Send ``turns`` turns over ``conversations`` conversations, ``concurrency`` at a time."""
    pool: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for n in range(conversations):
        pool.put_nowait((f"a:{prefix}-{n}", 0))
    latencies: list[float] = []
    errors = 0
    remaining = turns
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                conversation, count = await pool.get()
                body = _activity(conversation, TEXTS[count % len(TEXTS)])
                started = time.perf_counter()
                try:
                    async with session.post(f"{url}/api/messages", json=body) as response:
                        payload = await response.json(content_type=None)
                        ok = response.status == 200 and bool(payload.get("activities"))
                except (TimeoutError, aiohttp.ClientError, ValueError):
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += 0 if ok else 1
                pool.put_nowait((conversation, count + 1))

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began

    latencies.sort()
    return {
        "turns": len(latencies),
        "seconds": round(elapsed, 3),
        "turns_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "errors": errors,
    }


def main() -> None:
    """Parse the options, drive the server, print the figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--prefix", default="bench")
    options = parser.parse_args()
    figures = asyncio.run(
        run(options.url, options.conversations, options.turns, options.concurrency, options.prefix)
    )
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
