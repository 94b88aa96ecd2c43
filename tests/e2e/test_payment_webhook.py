"""The payment provider's webhook over HTTP: the real app, a signed body, the order paid once.

The app is ``create_app`` on a migrated SQLite file with the demo data; the order is placed
through the real ``BenefitsService`` on the same file, as the chat would place it.
"""

from __future__ import annotations

import json

import aiohttp

from bot.payments import PAYMENTS_PATH, signature
from services import db
from services.benefits import BenefitsService, Order
from services.catalog import CatalogStore
from services.clock import SystemClock
from services.demo_data import load_demo
from services.membership import Actor
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings

SECRET = "whsec-test-5f1c"
ANA = Actor(id="aad-ana", name="Ana Ruiz")


async def _order(url: str) -> Order:
    engine = db.create_engine(url)
    try:
        units, clock = UnitOfWorkFactory(engine), SystemClock()
        await load_demo(units, clock)
        service = BenefitsService(units, clock, CatalogStore(units, clock))
        return await service.create_order(
            "northwind", ANA, global_admin=True, offer_id="advisory_hours_pack"
        )
    finally:
        await engine.dispose()


async def _benefits(url: str) -> int:
    engine = db.create_engine(url)
    try:
        units, clock = UnitOfWorkFactory(engine), SystemClock()
        return len(await BenefitsService(units, clock, CatalogStore(units, clock)).benefits(
            "northwind"
        ))  # fmt: skip
    finally:
        await engine.dispose()


def _body(**fields: str) -> bytes:
    return json.dumps(fields).encode("utf-8")


async def _post(
    http: aiohttp.ClientSession, base: str, body: bytes, sign_with: str | None = SECRET
) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if sign_with is not None:
        headers["X-Signature"] = signature(sign_with, body)
    async with http.post(base + PAYMENTS_PATH, data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_a_signed_notification_pays_the_order_once(sqlite_url, serve_app):
    order = await _order(sqlite_url)
    base = await serve_app(
        make_settings(sqlite_url, payment_webhook_secret=SECRET, reminders_enabled=False)
    )
    body = _body(order_id=order.id, reference="pi_3Q9", status="paid")

    async with aiohttp.ClientSession() as http:
        first = await _post(http, base, body)
        retried = await _post(http, base, body)  # providers deliver at least once

    assert first == (200, {"order_id": order.id, "status": "paid", "newly_paid": True})
    assert retried == (200, {"order_id": order.id, "status": "paid", "newly_paid": False})
    assert await _benefits(sqlite_url) == 1


async def test_a_bad_or_missing_signature_is_refused_and_pays_nothing(sqlite_url, serve_app):
    order = await _order(sqlite_url)
    base = await serve_app(
        make_settings(sqlite_url, payment_webhook_secret=SECRET, reminders_enabled=False)
    )
    body = _body(order_id=order.id, reference="pi_forged", status="paid")

    async with aiohttp.ClientSession() as http:
        forged = await _post(http, base, body, sign_with="not-the-secret")
        unsigned = await _post(http, base, body, sign_with=None)
        tampered_status, _ = await _post(
            http, base, body.replace(b"pi_forged", b"pi_other"), sign_with=None
        )

    assert forged[0] == unsigned[0] == tampered_status == 401
    assert await _benefits(sqlite_url) == 0


async def test_an_unknown_order_or_a_malformed_body_is_answered_as_such(sqlite_url, serve_app):
    await _order(sqlite_url)
    base = await serve_app(
        make_settings(sqlite_url, payment_webhook_secret=SECRET, reminders_enabled=False)
    )

    async with aiohttp.ClientSession() as http:
        unknown = await _post(http, base, _body(order_id="ORD-NOPE22", reference="r",
                                                status="paid"))  # fmt: skip
        malformed = await _post(http, base, b"{not json")
        no_reference = await _post(http, base, _body(order_id="ORD-NOPE22", status="paid"))

    assert unknown[0] == 404
    assert (malformed[0], no_reference[0]) == (400, 400)
    assert await _benefits(sqlite_url) == 0


async def test_without_a_secret_the_webhook_is_off(sqlite_url, serve_app):
    order = await _order(sqlite_url)
    base = await serve_app(make_settings(sqlite_url, reminders_enabled=False))
    body = _body(order_id=order.id, reference="pi_3Q9", status="paid")

    async with aiohttp.ClientSession() as http:
        status, _ = await _post(http, base, body, sign_with="")

    assert status == 404
    assert await _benefits(sqlite_url) == 0
