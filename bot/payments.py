"""The payment provider's webhook: ``POST /api/payments`` confirms an order's payment.

The provider signs the raw body with the shared ``PAYMENT_WEBHOOK_SECRET`` (HMAC-SHA256, header
``X-Signature: sha256=<hex>``); the signature is checked before the body is even parsed, in
constant time. The body is ``{"order_id": ..., "reference": ..., "status": "paid"}``. Answers:
200 ``{"order_id", "status", "newly_paid"}`` (a provider retrying a delivered notification gets
200 again, with ``newly_paid`` false: confirming is idempotent), 400 for a malformed body, 401
for a missing or bad signature, 404 for an unknown order (and for every request while no secret
is configured: the webhook is off), 409 for a cancelled order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web

from services.benefits import BenefitsService, OrderClosed
from services.errors import NotFound

__all__ = ["PAYMENTS_PATH", "add_payment_routes", "signature"]

logger = logging.getLogger(__name__)

PAYMENTS_PATH = "/api/payments"
_PREFIX = "sha256="


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` header value of ``body`` under ``secret``."""
    return _PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _error(status: int, error: str, reason: str = "") -> web.Response:
    body = {"error": error, "reason": reason} if reason else {"error": error}
    return web.json_response(body, status=status)


def add_payment_routes(
    app: web.Application, benefits: Callable[[], BenefitsService | None], secret: str
) -> None:
    """Mount the webhook on ``app``; ``benefits`` is looked up per request (built at start-up)."""

    async def payment(request: web.Request) -> web.Response:
        """Confirm the payment of the order the signed body names."""
        service = benefits()
        if not secret or service is None:
            return _error(404, "not_found")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "too_large")
        given = request.headers.get("X-Signature", "")
        if not hmac.compare_digest(given.encode("utf-8"), signature(secret, body).encode("utf-8")):
            logger.warning("refused a payment notification with a bad or missing signature")
            return _error(401, "unauthorized", "bad or missing X-Signature")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "bad_request", "the body is not valid JSON")
        if not isinstance(data, dict):
            return _error(400, "bad_request", "the body is not a JSON object")
        order_id, reference, status = (
            data.get("order_id"),
            data.get("reference"),
            data.get("status"),
        )
        if not isinstance(order_id, str) or not order_id.strip():
            return _error(400, "bad_request", "order_id is missing")
        if not isinstance(reference, str) or not reference.strip():
            return _error(400, "bad_request", "reference is missing")
        if status != "paid":
            return _error(400, "bad_request", 'status must be "paid"')
        try:
            paid = await service.confirm_payment(order_id, reference.strip())
        except NotFound:
            return _error(404, "unknown_order")
        except OrderClosed as error:
            return _error(409, "order_closed", f"the order is {error.status.value}")
        logger.info(
            "payment confirmed by the webhook",
            extra={"order_id": paid.order.id, "newly_paid": paid.newly_paid},
        )
        return web.json_response(
            {
                "order_id": paid.order.id,
                "status": paid.order.status.value,
                "newly_paid": paid.newly_paid,
            }
        )

    app.router.add_post(PAYMENTS_PATH, payment)
