"""The service's settings: one frozen model, read once in ``app.main()``.

Names follow the Bot Framework's own configuration keys (``MicrosoftAppId`` and friends) so an
operator can reuse what the Azure Bot resource shows. Values come from the environment and an
optional ``.env`` file; ``os.environ`` is read nowhere else in the code base.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.identity import DEMO_DIRECTORY

__all__ = ["AppType", "Settings", "is_loopback"]


class AppType(StrEnum):
    """How the bot's Microsoft app identity is registered (Azure Bot ``MicrosoftAppType``)."""

    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


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
