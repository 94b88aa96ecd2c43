"""Logs are JSON lines with personal data redacted, whoever logs it."""

from __future__ import annotations

import io
import json
import logging

from services.logs import JsonFormatter, redact


def _log_line(message: str, *args: object, **extra: object) -> dict[str, object]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args, extra=extra)
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


def test_email_addresses_and_phone_numbers_never_reach_the_log():
    line = _log_line(
        "contact %s changed phone to %s",
        "mei.lin@contoso.com.tw",
        "+886 2 2345-6789",
        contact="ops@fabrikam.com",
    )

    assert line["message"] == "contact [email] changed phone to [phone]"
    assert line["contact"] == "[email]"
    assert "contoso" not in json.dumps(line)


def test_dates_times_and_ids_are_not_mistaken_for_phone_numbers():
    assert (
        redact("expires 2026-11-24 09:14, MPN id 1234567")
        == "expires 2026-11-24 09:14, MPN id 1234567"
    )


def test_exceptions_are_logged_with_their_traceback_redacted():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.redaction.exc")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError("bad address a.b@example.org")
    except ValueError:
        logger.exception("turn failed")
    finally:
        logger.removeHandler(handler)

    line = json.loads(stream.getvalue())
    assert line["level"] == "ERROR"
    assert "ValueError: bad address [email]" in line["exception"]
