"""A real SMTP server on loopback for tests (aiosmtpd), keeping what it receives.

aiosmtpd's ``Controller`` runs the server on its own thread and event loop. It checks that the
server answers before ``start`` returns, which fails with port 0: the caller picks a free port
first (``tests.conftest.free_port``), which also lets a test start the server later on a port
a sender already uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["SmtpSink", "smtp_server"]


class SmtpSink:
    """An aiosmtpd handler that keeps each message, or answers with a refusal when told to."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.rcpt_reply: str | None = None  # for example "550 5.1.1 mailbox unavailable"
        self.data_reply: str | None = None  # for example "451 4.3.0 try again later"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        data = envelope.original_content or envelope.content
        self.messages.append(BytesParser(policy=policy.default).parsebytes(data))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_server(port: int, sink: SmtpSink | None = None) -> Iterator[SmtpSink]:
    """Run an SMTP server on 127.0.0.1:``port`` until the block ends; yield its sink."""
    sink = sink or SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=5.0)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
