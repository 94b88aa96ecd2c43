"""Mail transports: hand a composed message to whatever delivers it.

``Mailer`` is the port; ``send`` returns a delivery id (or the file written) and raises
``MailDeliveryError`` when the transport did not take the message, ``permanent`` when sending
it again cannot help. The implementations:

- ``OutboxFolderMailer``, the embedded default: one ``.eml`` file a message in a folder.
- ``SmtpMailer``: an SMTP server (aiosmtplib), plain, STARTTLS or TLS, optionally logged in.
- ``GraphMailer``: Microsoft Graph ``sendMail`` as an app, with a token from an
  ``AppTokenProvider`` (``MsalAppTokenProvider``: MSAL's client-credential flow).
- ``FakeMailer``: records what it was given; can be told to fail, for tests.

``create_mailer`` picks one from the settings. Failure reasons never carry an address: they
are stored in the outbox and logged.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import uuid
from datetime import UTC
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp
import aiosmtplib
import msal
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from pydantic import SecretStr

from services.clock import Clock, SystemClock
from services.errors import MailDeliveryError
from services.logs import redact
from services.retry import retry_after_seconds
from services.settings import MailTransport, Settings, SmtpSecurity

__all__ = [
    "GRAPH_SCOPE",
    "AppTokenProvider",
    "FakeMailer",
    "GraphMailer",
    "Mailer",
    "MsalAppTokenProvider",
    "OutboxFolderMailer",
    "SmtpMailer",
    "create_mailer",
]

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
_REASON_LENGTH = 300


def _reason(text: str) -> str:
    """A failure reason fit to store: no addresses or phone numbers, one short line."""
    return redact(" ".join(text.split()))[:_REASON_LENGTH]


class Mailer(Protocol):
    """Delivers composed email messages."""

    async def send(self, message: EmailMessage) -> str:
        """Hand ``message`` over; return its delivery id, or raise ``MailDeliveryError``."""
        ...


class SmtpMailer:
    """Send through an SMTP server."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: SmtpSecurity = SmtpSecurity.STARTTLS,
        username: str | None = None,
        password: SecretStr | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self._username = username or None
        self._password = password if self._username else None
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> str:
        """Send ``message`` to its recipients; return its Message-ID."""
        try:
            _errors, response = await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                use_tls=self.security is SmtpSecurity.TLS,
                # None would upgrade whenever the server offers it; "none" means none.
                start_tls=self.security is SmtpSecurity.STARTTLS,
                username=self._username,
                password=self._password.get_secret_value() if self._password else None,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = sorted({recipient.code for recipient in refused.recipients})
            texts = "; ".join(recipient.message for recipient in refused.recipients)
            raise MailDeliveryError(
                _reason(f"SMTP {'/'.join(map(str, codes))} on RCPT: {texts}"),
                permanent=all(500 <= code < 600 for code in codes),
            ) from refused
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as refused:
            stage = "DATA" if isinstance(refused, aiosmtplib.SMTPDataError) else "RCPT"
            raise MailDeliveryError(
                _reason(f"SMTP {refused.code} on {stage}: {refused.message}"),
                permanent=500 <= refused.code < 600,
            ) from refused
        except aiosmtplib.SMTPResponseException as error:
            # Refused sender, login or greeting: the configuration or the server, not this
            # message; it may work later.
            raise MailDeliveryError(
                _reason(f"SMTP {error.code}: {error.message}"), permanent=False
            ) from error
        except (aiosmtplib.SMTPException, OSError) as error:  # refused, timed out, TLS
            raise MailDeliveryError(
                _reason(f"SMTP {type(error).__name__}: {error}"), permanent=False
            ) from error
        logger.info("email sent over SMTP", extra={"smtp_response": _reason(response)})
        return str(message["Message-ID"] or response)


class AppTokenProvider(Protocol):
    """Gives an app-only access token for Microsoft Graph."""

    async def token(self) -> str:
        """A valid access token; raises ``MailDeliveryError`` (temporary) when none is had."""
        ...


_MSAL_TIMEOUT = (5, 30)  # seconds to connect, to read: MSAL's default waits forever


class MsalAppTokenProvider:
    """Tokens from MSAL's client-credential flow, cached by MSAL itself.

    MSAL is blocking (``requests``): it runs in a worker thread. Its client is built on first
    use, because building it already asks the authority for its configuration. ``http_client``
    is the ``requests.Session`` MSAL talks through (its own, with one retry, when not given).
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        authority_host: str = "https://login.microsoftonline.com",
        scopes: tuple[str, ...] = (GRAPH_SCOPE,),
        http_client: requests.Session | None = None,
    ) -> None:
        self._authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self._client_id = client_id
        self._secret = client_secret
        self._scopes = list(scopes)
        self._http_client = http_client
        # MSAL vets an authority host it does not know by asking Microsoft's instance
        # discovery on login.microsoftonline.com. A host outside Microsoft's clouds is the
        # operator's own (a stand-in, a test server): MSAL must talk to it alone. Microsoft's
        # hosts keep MSAL's default (None), discovery included.
        known = urlsplit(authority_host).hostname in WELL_KNOWN_AUTHORITY_HOSTS
        self._instance_discovery: bool | None = None if known else False
        self._client: msal.ConfidentialClientApplication | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """An access token for the configured scopes."""
        async with self._lock:
            try:
                result = await asyncio.to_thread(self._acquire)
            except Exception as error:  # MSAL and requests raise many types on network trouble
                raise MailDeliveryError(
                    _reason(f"token request failed: {type(error).__name__}"), permanent=False
                ) from error
        if "access_token" not in result:
            raise MailDeliveryError(
                _reason(f"token refused: {result.get('error', 'unknown error')}"),
                permanent=False,
            )
        return str(result["access_token"])

    def _acquire(self) -> dict[str, Any]:
        if self._client is None:
            self._client = msal.ConfidentialClientApplication(
                self._client_id,
                client_credential=self._secret.get_secret_value(),
                authority=self._authority,
                http_client=self._http_client,
                instance_discovery=self._instance_discovery,
                timeout=_MSAL_TIMEOUT,  # for MSAL's own session: a hung authority is an error
            )
        result: dict[str, Any] = self._client.acquire_token_for_client(scopes=self._scopes)
        return result


def _html_part(message: EmailMessage) -> tuple[str, str]:
    """The body Graph is given: the HTML alternative, else the plain text."""
    part = message.get_body(preferencelist=("html", "plain"))
    if part is None:
        return "Text", ""
    content = part.get_content()
    return ("HTML" if part.get_content_subtype() == "html" else "Text"), str(content)


class GraphMailer:
    """Send as a mailbox through Microsoft Graph ``POST /users/{sender}/sendMail``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: AppTokenProvider,
        sender: str,
        *,
        graph_url: str = "https://graph.microsoft.com",
        timeout: float = 30.0,
    ) -> None:
        self._session = session
        self._tokens = tokens
        self._url = f"{graph_url.rstrip('/')}/v1.0/users/{quote(sender, safe='@')}/sendMail"
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: EmailMessage) -> str:
        """Send ``message`` (its HTML body); return its Message-ID or Graph's request id."""
        content_type, content = _html_part(message)
        recipients = [
            {"emailAddress": {"address": address}}
            for _name, address in email.utils.getaddresses(message.get_all("To", []))
        ]
        body = {
            "message": {
                "subject": str(message["Subject"] or ""),
                "body": {"contentType": content_type, "content": content},
                "toRecipients": recipients,
            },
            "saveToSentItems": False,
        }
        headers = {"Authorization": f"Bearer {await self._tokens.token()}"}
        try:
            async with self._session.post(
                self._url, json=body, headers=headers, timeout=self._timeout
            ) as response:
                if 200 <= response.status < 300:  # 202 Accepted: queued for delivery
                    request_id = response.headers.get("request-id", "")
                    return str(message["Message-ID"] or f"graph:{request_id}")
                detail = await self._error_detail(response)
                status = response.status
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as error:
            raise MailDeliveryError(
                _reason(f"Graph unreachable: {type(error).__name__}"), permanent=False
            ) from error
        # 401: the token was refused (expired, revoked), and a new one may work; 408 and 429
        # and server errors pass. Any other 4xx is about this message.
        temporary = status in (401, 408, 429) or status >= 500
        raise MailDeliveryError(
            _reason(f"Graph {status}: {detail}"),
            permanent=not temporary,
            retry_after=retry_after if temporary else None,
        )

    @staticmethod
    async def _error_detail(response: aiohttp.ClientResponse) -> str:
        try:
            payload = await response.json(content_type=None)
        except (ValueError, aiohttp.ClientError):
            return response.reason or ""
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            return f"{error.get('code', '')} {error.get('message', '')}".strip()
        return response.reason or ""


class OutboxFolderMailer:
    """Write each message as an ``.eml`` file into a folder (the embedded default).

    Nothing leaves the machine: an operator (or a test) reads the files. The names sort by
    the time they were written.
    """

    def __init__(self, folder: Path, *, clock: Clock | None = None) -> None:
        self.folder = folder
        self._clock = clock or SystemClock()

    async def send(self, message: EmailMessage) -> str:
        """Write ``message``; return the file's path."""
        stamp = self._clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        try:
            await asyncio.to_thread(self._write, path, bytes(message))
        except OSError as error:
            raise MailDeliveryError(
                _reason(f"cannot write the outbox folder: {error.strerror}"), permanent=False
            ) from error
        logger.info("email written to the outbox folder", extra={"path": str(path)})
        return str(path)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")  # readers never see half a message
        partial.write_bytes(data)
        partial.replace(path)


class FakeMailer:
    """Record sent messages; fail the next ``times`` sends when told to."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.attempts = 0
        self._failures: list[MailDeliveryError] = []

    def fail(
        self,
        times: int = 1,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        reason: str = "fake failure",
    ) -> None:
        """Make the next ``times`` sends raise ``MailDeliveryError``."""
        self._failures.extend(
            MailDeliveryError(reason, permanent=permanent, retry_after=retry_after)
            for _ in range(times)
        )

    async def send(self, message: EmailMessage) -> str:
        """Record ``message``, or raise the next failure asked for."""
        self.attempts += 1
        await asyncio.sleep(0)  # a real transport yields: let racing senders interleave
        if self._failures:
            raise self._failures.pop(0)
        self.sent.append(message)
        return str(message["Message-ID"] or f"fake-{len(self.sent)}")


def create_mailer(settings: Settings, http_session: aiohttp.ClientSession | None) -> Mailer:
    """The transport ``settings.mail_transport`` names (Graph needs the HTTP session)."""
    match settings.mail_transport:
        case MailTransport.SMTP:
            return SmtpMailer(
                settings.smtp_host,
                settings.smtp_port,
                security=settings.smtp_security,
                username=settings.smtp_username or None,
                password=settings.smtp_password,
            )
        case MailTransport.GRAPH:
            if http_session is None:
                raise ValueError("MAIL_TRANSPORT=graph needs an HTTP client session")
            tokens = MsalAppTokenProvider(
                settings.graph_tenant_id, settings.graph_client_id, settings.graph_client_secret
            )
            return GraphMailer(http_session, tokens, settings.graph_sender)
        case MailTransport.OUTBOX:
            return OutboxFolderMailer(settings.outbox_dir)
