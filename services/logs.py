"""Structured logs: one JSON object a line, with personal data redacted.

Email addresses and phone numbers are replaced before a record is written, whatever logger
produced it (ours, the SDK's, aiohttp's), so personal data never reaches the log sink.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "redact"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# International or local phone numbers: 8+ digits with optional +, spaces, dots, dashes, parens.
_PHONE = re.compile(r"(?<![\w/])\+?\(?\d[\d\s().\-]{6,}\d(?![\w/])")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(text: str) -> str:
    """Replace email addresses and phone numbers in ``text``."""
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub(_phone_or_keep, text)


def _phone_or_keep(match: re.Match[str]) -> str:
    candidate = match.group(0)
    # An ISO date (2026-11-24, perhaps followed by an hour) has 8+ digits too; phone numbers
    # never start with one.
    if _ISO_DATE.match(candidate.lstrip("(")):
        return candidate
    return "[phone]" if sum(ch.isdigit() for ch in candidate) >= 8 else candidate


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line, redacting its message and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records to stderr as redacted JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp's access log is one line a request; keep it at WARNING unless asked for.
    logging.getLogger("aiohttp.access").setLevel(max(root.level, logging.WARNING))
