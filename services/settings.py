"""The service's settings: one frozen model, read once in ``app.main()``.

Names follow the Bot Framework's own configuration keys (``MicrosoftAppId`` and friends) so an
operator can reuse what the Azure Bot resource shows. Values come from the environment and an
optional ``.env`` file; ``os.environ`` is read nowhere else in the code base.
"""

from __future__ import annotations

import ipaddress
import socket
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.i18n import normalize_locale
from services.identity import DEMO_DIRECTORY

__all__ = ["AppType", "MailTransport", "Settings", "SmtpSecurity", "is_loopback", "service_url"]

_WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})  # listen everywhere: not an address


class AppType(StrEnum):
    """How the bot's Microsoft app identity is registered (Azure Bot ``MicrosoftAppType``)."""

    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class MailTransport(StrEnum):
    """How email leaves the service."""

    OUTBOX = "outbox"  # one .eml file a message in a folder: the embedded default
    SMTP = "smtp"
    GRAPH = "graph"  # Microsoft Graph sendMail, as an app (client credentials)


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected."""

    NONE = "none"
    STARTTLS = "starttls"  # plain connect, then upgrade (usually port 587)
    TLS = "tls"  # TLS from the first byte (usually port 465)


def service_url(host: str, port: int) -> str:
    """``http://HOST:PORT``, where a server listening on ``host`` and ``port`` is reached.

    A wildcard address (``0.0.0.0``, ``::``) is no place to reach: this machine's name stands
    for it, the best guess from here (``PUBLIC_BASE_URL`` says better, and ``serve`` says so).
    """
    if host in _WILDCARDS:
        host = socket.getfqdn()
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names only this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Everything the service can be told from outside."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("HOST", "host"))
    port: int = Field(default=3978, ge=0, le=65535, validation_alias=AliasChoices("PORT", "port"))
    database_url: str = Field(
        default="sqlite:///var/membership-bot.db",
        validation_alias=AliasChoices("DATABASE_URL", "database_url"),
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        validation_alias=AliasChoices("DATABASE_POOL_SIZE", "database_pool_size"),
        description="PostgreSQL connections the bot keeps open (10 more for a burst, closed "
        "after it); at least the turns it serves at once. SQLite always uses one.",
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))

    microsoft_app_id: str = Field(
        default="", validation_alias=AliasChoices("MicrosoftAppId", "microsoft_app_id")
    )
    microsoft_app_password: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("MicrosoftAppPassword", "microsoft_app_password"),
    )
    microsoft_app_type: AppType = Field(
        default=AppType.MULTI_TENANT,
        validation_alias=AliasChoices("MicrosoftAppType", "microsoft_app_type"),
    )
    microsoft_app_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices("MicrosoftAppTenantId", "microsoft_app_tenant_id"),
    )

    allow_unauthenticated_remote: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "ALLOW_UNAUTHENTICATED_REMOTE", "allow_unauthenticated_remote"
        ),
        description="Bind a non-loopback address with no app id (token validation off). "
        "Only for a trusted network; the service refuses it otherwise.",
    )
    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        validation_alias=AliasChoices("MAX_BODY_BYTES", "max_body_bytes"),
        description="Largest activity accepted on /api/messages; larger ones answer 413.",
    )
    directory_file: Path = Field(
        default=DEMO_DIRECTORY,
        validation_alias=AliasChoices("DIRECTORY_FILE", "directory_file"),
        description="The identity directory (tenants, users, roles) until Microsoft Graph is on.",
    )
    webchat_js: Path = Field(
        default=Path("var/webchat/webchat.js"),
        validation_alias=AliasChoices("WEBCHAT_JS", "webchat_js"),
        description="Bot Framework Web Chat bundle for the local chat page (fetched by make).",
    )

    public_base_url: str = Field(
        default="",
        validate_default=True,
        validation_alias=AliasChoices("PUBLIC_BASE_URL", "public_base_url"),
        description="Where people reach this service from outside: links in emails start here "
        "(default: http://HOST:PORT, with this machine's name for a wildcard HOST).",
    )
    mail_transport: MailTransport = Field(
        default=MailTransport.OUTBOX,
        validation_alias=AliasChoices("MAIL_TRANSPORT", "mail_transport"),
        description="outbox (write .eml files to OUTBOX_DIR), smtp, or graph.",
    )
    mail_from: str = Field(
        default="membership-bot@localhost",
        validation_alias=AliasChoices("MAIL_FROM", "mail_from"),
        description="The address emails come from (with graph, usually GRAPH_SENDER's).",
    )
    mail_from_name: str = Field(
        default="Partner membership assistant",
        validation_alias=AliasChoices("MAIL_FROM_NAME", "mail_from_name"),
        description="The display name emails come from (this default is translated).",
    )
    mail_from_name_zh_tw: str = Field(
        default="",
        validation_alias=AliasChoices("MAIL_FROM_NAME_ZH_TW", "mail_from_name_zh_tw"),
        description="The display name of emails in Traditional Chinese (empty: as above).",
    )
    smtp_host: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("SMTP_HOST", "smtp_host")
    )
    smtp_port: int = Field(
        default=587, ge=1, le=65535, validation_alias=AliasChoices("SMTP_PORT", "smtp_port")
    )
    smtp_security: SmtpSecurity = Field(
        default=SmtpSecurity.STARTTLS,
        validation_alias=AliasChoices("SMTP_SECURITY", "smtp_security"),
        description="none, starttls or tls.",
    )
    smtp_username: str = Field(
        default="",
        validation_alias=AliasChoices("SMTP_USERNAME", "smtp_username"),
        description="Log in with this user when set.",
    )
    smtp_password: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("SMTP_PASSWORD", "smtp_password")
    )
    graph_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices("GRAPH_TENANT_ID", "graph_tenant_id"),
        description="The tenant of the app registration that may send mail (Mail.Send).",
    )
    graph_client_id: str = Field(
        default="", validation_alias=AliasChoices("GRAPH_CLIENT_ID", "graph_client_id")
    )
    graph_client_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("GRAPH_CLIENT_SECRET", "graph_client_secret"),
    )
    graph_sender: str = Field(
        default="",
        validation_alias=AliasChoices("GRAPH_SENDER", "graph_sender"),
        description="The mailbox (user id or address) Graph sends as.",
    )
    outbox_dir: Path = Field(
        default=Path("var/outbox"),
        validation_alias=AliasChoices("OUTBOX_DIR", "outbox_dir"),
        description="Where the outbox transport writes its .eml files.",
    )
    outbox_poll_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("OUTBOX_POLL_SECONDS", "outbox_poll_seconds"),
        description="How often the background sender looks for due emails (it is also woken "
        "at once when this instance queues one).",
    )
    outbox_retry_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("OUTBOX_RETRY_SECONDS", "outbox_retry_seconds"),
        description="The wait before the first retry of an email that could not be sent; "
        "each further retry waits twice as long, up to two hours.",
    )
    verification_token_hours: int = Field(
        default=72,
        ge=1,
        validation_alias=AliasChoices("VERIFICATION_TOKEN_HOURS", "verification_token_hours"),
        description="How long a contact verification link stays valid.",
    )

    # The Teams app package (``membership-bot manifest build``). Checked when the package is
    # built, not here, so a publisher detail never stops the service from starting.
    teams_app_id: str = Field(
        default="",
        validation_alias=AliasChoices("TEAMS_APP_ID", "teams_app_id"),
        description="The Teams app's id in its manifest (a GUID); MicrosoftAppId when empty.",
    )
    app_version: str = Field(
        default="1.0.0",
        validation_alias=AliasChoices("APP_VERSION", "app_version"),
        description="The Teams app package's version (x.y.z); raise it for every new upload.",
    )
    mpn_id: str = Field(
        default="",
        validation_alias=AliasChoices("MPN_ID", "mpn_id"),
        description="The publisher's Microsoft Partner Network id (developer.mpnId); optional.",
    )
    developer_name: str = Field(
        default="membership-bot",
        validation_alias=AliasChoices("DEVELOPER_NAME", "developer_name"),
        description="Who publishes the Teams app (up to 32 characters).",
    )
    developer_website_url: str = Field(
        default="https://partner.microsoft.com/",
        validation_alias=AliasChoices("DEVELOPER_WEBSITE_URL", "developer_website_url"),
        description="The publisher's support page for the app (https).",
    )
    developer_privacy_url: str = Field(
        default="https://privacy.microsoft.com/privacystatement",
        validation_alias=AliasChoices("DEVELOPER_PRIVACY_URL", "developer_privacy_url"),
        description="The publisher's privacy statement (https); set your own before publishing.",
    )
    developer_terms_url: str = Field(
        default="https://www.microsoft.com/legal/terms-of-use",
        validation_alias=AliasChoices("DEVELOPER_TERMS_URL", "developer_terms_url"),
        description="The publisher's terms of use (https); set your own before publishing.",
    )

    # Who users are: the directory file (embedded default), or Microsoft Graph after Teams
    # single sign-on, exchanged on behalf of the user with the bot's own app id and password.
    identity_provider: str = Field(
        default="directory",
        pattern=r"^(directory|graph)$",
        validation_alias=AliasChoices("IDENTITY_PROVIDER", "identity_provider"),
        description="directory (DIRECTORY_FILE) or graph (Teams single sign-on, then Microsoft "
        "Graph with the MicrosoftAppId and MicrosoftAppPassword).",
    )
    oauth_connection_name: str = Field(
        default="",
        validation_alias=AliasChoices("OAUTH_CONNECTION_NAME", "oauth_connection_name"),
        description="The Azure Bot's OAuth connection for Teams single sign-on (graph only).",
    )
    bot_oauth_url: str = Field(
        default="",
        validation_alias=AliasChoices("BOT_OAUTH_URL", "bot_oauth_url"),
        description="The Bot Framework token service the OAuth connection lives in; empty: the "
        "public cloud's (https://api.botframework.com). Set it for a sovereign cloud.",
    )
    identity_authority_host: str = Field(
        default="https://login.microsoftonline.com",
        validation_alias=AliasChoices("IDENTITY_AUTHORITY_HOST", "identity_authority_host"),
        description="Where Microsoft Entra ID answers token requests (another cloud's host).",
    )
    graph_url: str = Field(
        default="https://graph.microsoft.com",
        validation_alias=AliasChoices("GRAPH_URL", "graph_url"),
        description="Microsoft Graph's root (another cloud's, for example).",
    )
    admin_agents_group: str = Field(
        default="AdminAgents",
        validation_alias=AliasChoices("ADMIN_AGENTS_GROUP", "admin_agents_group"),
        description="The partner tenant's group whose members are admin agents.",
    )

    # Benefits (``services/benefits.py``): the catalog, and the payment provider's webhook.
    payment_webhook_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("PAYMENT_WEBHOOK_SECRET", "payment_webhook_secret"),
        description="The shared secret the payment provider signs POST /api/payments with "
        "(HMAC-SHA256 of the body, header X-Signature: sha256=<hex>); empty: the webhook is "
        "off and payments are confirmed with ``membership-bot orders confirm``.",
    )
    catalog_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("CATALOG_FILE", "catalog_file"),
        description="The catalog in force until one is loaded with ``membership-bot catalog "
        "load``; unset: the catalog shipped with the bot.",
    )

    @model_validator(mode="after")
    def _require_sign_in_credentials(self) -> Settings:
        if self.identity_provider == "graph":
            missing = [
                name
                for name, value in (
                    ("MicrosoftAppId", self.microsoft_app_id),
                    ("MicrosoftAppPassword", self.microsoft_app_password.get_secret_value()),
                    ("OAUTH_CONNECTION_NAME", self.oauth_connection_name),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"IDENTITY_PROVIDER=graph needs {', '.join(missing)} (single sign-on, then "
                    "Microsoft Graph on behalf of the user, as the bot's own app)"
                )
            if self.microsoft_app_type is AppType.USER_ASSIGNED_MSI:
                raise ValueError(
                    "IDENTITY_PROVIDER=graph needs the bot's app password: "
                    "MicrosoftAppType=UserAssignedMSI cannot exchange a sign-in token"
                )
        return self

    # Renewal reminders (``services/reminders.py``): the background runner and
    # ``membership-bot reminders run``.
    reminders_enabled: bool = Field(
        default=True,
        validation_alias=AliasChoices("REMINDERS_ENABLED", "reminders_enabled"),
        description="Run the renewal reminders in the background of ``serve``.",
    )
    reminder_thresholds: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(90, 60, 30, 7, 1, 0, -7),
        validation_alias=AliasChoices("REMINDER_THRESHOLDS", "reminder_thresholds"),
        description="Days before expiry a reminder falls due, comma-separated (negative: "
        "after it).",
    )
    reminder_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        validation_alias=AliasChoices("REMINDER_INTERVAL_SECONDS", "reminder_interval_seconds"),
        description="How often the background runner looks for reminders due.",
    )
    reminder_default_timezone: str = Field(
        default="UTC",
        validation_alias=AliasChoices("REMINDER_DEFAULT_TIMEZONE", "reminder_default_timezone"),
        description="The IANA time zone of a recipient whose chat did not tell theirs (quiet "
        "hours are 09:00-17:00 on working days there).",
    )

    # The help desk (``services/handoff.py``, ``bot/help_desk.py``): its Teams channel is named
    # with ``membership-bot helpdesk set``.
    help_desk_reraise_minutes: float = Field(
        default=15.0,
        gt=0,
        validation_alias=AliasChoices("HELP_DESK_RERAISE_MINUTES", "help_desk_reraise_minutes"),
        description="How long a request for a person waits unclaimed before it is raised again "
        "in the help-desk channel (and the user is told).",
    )
    help_desk_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias=AliasChoices("HELP_DESK_INTERVAL_SECONDS", "help_desk_interval_seconds"),
        description="How often the background task looks for requests to raise again.",
    )
    help_desk_locale: str = Field(
        default="en-US",
        validation_alias=AliasChoices("HELP_DESK_LOCALE", "help_desk_locale"),
        description="The help desk's language: its cards, its channel, the local view.",
    )

    @field_validator("public_base_url")
    @classmethod
    def _default_public_base_url(cls, value: str, info: ValidationInfo) -> str:
        if value:
            return value
        return service_url(str(info.data.get("host", "")), int(info.data.get("port", 0)))

    @field_validator("reminder_thresholds", mode="before")
    @classmethod
    def _parse_thresholds(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",") if part.strip()]
        try:
            return tuple(int(part) for part in parts)
        except ValueError:
            raise ValueError(
                f"REMINDER_THRESHOLDS={value!r} is not a comma-separated list of whole days "
                "(for example 90,60,30,7,1,0,-7)"
            ) from None

    @field_validator("reminder_thresholds")
    @classmethod
    def _require_thresholds(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("REMINDER_THRESHOLDS needs at least one number of days")
        return value

    @field_validator("reminder_default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"REMINDER_DEFAULT_TIMEZONE={value!r} is not a known IANA time zone "
                "(for example Europe/Paris or UTC)"
            ) from None
        return value

    @field_validator("help_desk_locale")
    @classmethod
    def _spoken_locale(cls, value: str) -> str:
        locale = normalize_locale(value)
        if locale is None:
            raise ValueError(
                f"HELP_DESK_LOCALE={value!r} is not a language the bot speaks (en-US or zh-TW)"
            )
        return locale.value

    @property
    def auth_enabled(self) -> bool:
        """Bot Framework token validation is on whenever an app id is configured."""
        return bool(self.microsoft_app_id)

    @property
    def dev_chat_enabled(self) -> bool:
        """The local chat page and Direct Line emulation exist only without an app id."""
        return not self.auth_enabled

    @model_validator(mode="after")
    def _refuse_open_unauthenticated_bind(self) -> Settings:
        if (
            not self.auth_enabled
            and not is_loopback(self.host)
            and not self.allow_unauthenticated_remote
        ):
            raise ValueError(
                f"HOST={self.host} is not a loopback address and no MicrosoftAppId is set, so "
                "anyone who can reach it could talk to the bot unauthenticated. Set MicrosoftAppId "
                "(token validation on), bind 127.0.0.1, or set ALLOW_UNAUTHENTICATED_REMOTE=true "
                "if this is really wanted."
            )
        return self

    @model_validator(mode="after")
    def _require_graph_credentials(self) -> Settings:
        if self.mail_transport is MailTransport.GRAPH:
            missing = [
                name
                for name, value in (
                    ("GRAPH_TENANT_ID", self.graph_tenant_id),
                    ("GRAPH_CLIENT_ID", self.graph_client_id),
                    ("GRAPH_CLIENT_SECRET", self.graph_client_secret.get_secret_value()),
                    ("GRAPH_SENDER", self.graph_sender),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"MAIL_TRANSPORT=graph needs {', '.join(missing)}")
        return self
