"""Inbound token validation's CPU cost a request: the SDK's own path, ours, and PyJWT's floor.

    python -m bench.token_validation [--requests N] [--tokens N] [--rounds N]

All in this process, with ``time.process_time``: (a) ``stock``, the SDK's
``ConfigurationBotFrameworkAuthentication.authenticate_request`` alone, as the bot wires it
(public cloud, a multi-tenant app id); (b) ``ours``, ``CachingBotFrameworkAuthentication``
around it, starting with an empty cache, so its figure includes one full validation per token;
(c) ``pyjwt_floor``, one bare PyJWT RS256 verify of the same token with the key already loaded.
Requests cycle through ``--tokens`` channel tokens (a channel reuses a token for many
requests). The signing keys come from the local stand-in of
``tests/support/botframework_tokens.py``, fetched once before measuring. Each figure is the
best of ``--rounds`` runs, in milliseconds of CPU a request.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from bot.authentication import CachingBotFrameworkAuthentication
from tests.support.botframework_tokens import (
    APP_ID,
    SERVICE_URL,
    MetadataStandIn,
    SigningKey,
    channel_token,
    channel_validation_at,
    serving_openid_metadata,
)

__all__ = ["main", "measure_token_validation"]

BAR_MS = 0.3  # issue 9: validation on costs at most this much CPU a request, on average


class _CountingAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """The SDK's authentication, counting how often it validated in full."""

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self.calls = 0

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        self.calls += 1
        return await super().authenticate_request(activity, auth_header)


def _configuration() -> SimpleNamespace:
    return SimpleNamespace(
        APP_ID=APP_ID, APP_PASSWORD="not-a-real-secret", APP_TYPE="MultiTenant", APP_TENANTID=""
    )


async def _cpu_ms_per_request(
    authenticate: Callable[[Activity, str], Awaitable[Any]],
    activity: Activity,
    headers: list[str],
    requests: int,
) -> float:
    start = time.process_time()
    for n in range(requests):
        await authenticate(activity, headers[n % len(headers)])
    return (time.process_time() - start) * 1000 / requests


async def _measure(requests: int, tokens: int, rounds: int) -> dict[str, float | int]:
    key = SigningKey.generate("bench-key", ["msteams"])
    headers = [channel_token(key, jti=f"token-{n}") for n in range(tokens)]
    activity = Activity(type="message", channel_id="msteams", service_url=SERVICE_URL)
    stand_in = MetadataStandIn([key])
    with serving_openid_metadata(stand_in) as url, channel_validation_at(url):
        stock = _CountingAuthentication(_configuration())
        await stock.authenticate_request(activity, headers[0])  # fetches the signing keys
        stock_ms, ours_ms, hit_ms, full_validations = [], [], [], 0
        for _ in range(rounds):
            stock_ms.append(
                await _cpu_ms_per_request(stock.authenticate_request, activity, headers, requests)
            )
            inner = _CountingAuthentication(_configuration())
            ours = CachingBotFrameworkAuthentication(inner)
            ours_ms.append(
                await _cpu_ms_per_request(ours.authenticate_request, activity, headers, requests)
            )
            full_validations = inner.calls
            hit_ms.append(  # every token cached by now: the steady state
                await _cpu_ms_per_request(ours.authenticate_request, activity, headers, requests)
            )

    public_key = key.private_key.public_key()
    tokens_only = [header.removeprefix("Bearer ") for header in headers]
    floor_ms = []
    for _ in range(rounds):
        start = time.process_time()
        for n in range(requests):
            jwt.decode(
                tokens_only[n % tokens],
                public_key,
                algorithms=["RS256"],
                audience=APP_ID,
                leeway=300,
            )
        floor_ms.append((time.process_time() - start) * 1000 / requests)

    return {
        "requests": requests,
        "tokens": tokens,
        "stock_ms_per_request": round(min(stock_ms), 4),
        "ours_ms_per_request": round(min(ours_ms), 4),
        "ours_cached_ms_per_request": round(min(hit_ms), 4),
        "pyjwt_floor_ms_per_request": round(min(floor_ms), 4),
        "ours_full_validations": full_validations,
        "stock_over_ours": round(min(stock_ms) / min(ours_ms), 1),
        "bar_ms": BAR_MS,
        "bar_met": min(ours_ms) <= BAR_MS,
    }


def measure_token_validation(
    requests: int = 1000, tokens: int = 10, rounds: int = 3
) -> dict[str, float | int]:
    """Measure the three paths; return the figures (milliseconds of CPU a request)."""
    return asyncio.run(_measure(requests, tokens, rounds))


def format_table(figures: dict[str, float | int]) -> str:
    """The figures as a small Markdown table."""
    rows = [
        ("(a) SDK stock validation", figures["stock_ms_per_request"]),
        ("(b) ours, cold cache included", figures["ours_ms_per_request"]),
        ("    ours, every token cached", figures["ours_cached_ms_per_request"]),
        ("(c) one bare PyJWT RS256 verify", figures["pyjwt_floor_ms_per_request"]),
    ]
    lines = [
        f"{figures['requests']} requests over {figures['tokens']} tokens; "
        f"ours validated in full {figures['ours_full_validations']} times",
        "",
        "| path | CPU ms a request |",
        "|---|---|",
        *(f"| {name} | {value:.4f} |" for name, value in rows),
        "",
        f"stock / ours: {figures['stock_over_ours']}x; bar {figures['bar_ms']} ms: "
        f"{'met' if figures['bar_met'] else 'NOT met'}",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark from the command line and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    figures = measure_token_validation(arguments.requests, arguments.tokens, arguments.rounds)
    sys.stdout.write(format_table(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
