"""Settings: Bot Framework names, secrets kept secret, and safe binding by default."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from services.settings import Settings


def test_defaults_serve_on_loopback_with_an_embedded_sqlite_database(monkeypatch):
    for name in ("HOST", "PORT", "DATABASE_URL", "MicrosoftAppId"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)

    assert (settings.host, settings.port) == ("127.0.0.1", 3978)
    assert settings.database_url.startswith("sqlite:///var/")
    assert not settings.auth_enabled and settings.dev_chat_enabled


def test_the_bot_framework_names_configure_token_validation(monkeypatch):
    monkeypatch.setenv("MicrosoftAppId", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("MicrosoftAppPassword", "s3cret-value")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "contoso.onmicrosoft.com")

    settings = Settings(_env_file=None)

    assert settings.auth_enabled and not settings.dev_chat_enabled
    assert settings.microsoft_app_type == "SingleTenant"
    assert "s3cret-value" not in repr(settings)
    assert settings.microsoft_app_password.get_secret_value() == "s3cret-value"


def test_a_public_address_without_an_app_id_is_refused_with_the_reason(monkeypatch):
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    monkeypatch.setenv("HOST", "0.0.0.0")

    with pytest.raises(ValidationError, match="not a loopback address and no MicrosoftAppId"):
        Settings(_env_file=None)


def test_a_public_address_without_an_app_id_is_allowed_only_when_asked_explicitly(monkeypatch):
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("ALLOW_UNAUTHENTICATED_REMOTE", "true")

    assert Settings(_env_file=None).host == "0.0.0.0"


def test_settings_are_read_from_a_dot_env_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    env = tmp_path / ".env"
    env.write_text("PORT=4000\nDATABASE_URL=sqlite:///elsewhere.db\n")

    settings = Settings(_env_file=env)

    assert settings.port == 4000 and settings.database_url.endswith("elsewhere.db")


def test_settings_are_frozen():
    settings = Settings(_env_file=None)
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_renewal_reminders_are_on_by_default_at_the_issue_s_thresholds(monkeypatch):
    for name in ("REMINDERS_ENABLED", "REMINDER_THRESHOLDS", "REMINDER_INTERVAL_SECONDS",
                 "REMINDER_DEFAULT_TIMEZONE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)

    assert settings.reminders_enabled
    assert settings.reminder_thresholds == (90, 60, 30, 7, 1, 0, -7)
    assert settings.reminder_interval_seconds == 300
    assert settings.reminder_default_timezone == "UTC"


def test_reminder_thresholds_are_read_as_comma_separated_days(monkeypatch):
    monkeypatch.setenv("REMINDER_THRESHOLDS", " 30, 7 ,0,-3 ")
    monkeypatch.setenv("REMINDER_DEFAULT_TIMEZONE", "Asia/Taipei")
    monkeypatch.setenv("REMINDERS_ENABLED", "false")

    settings = Settings(_env_file=None)

    assert settings.reminder_thresholds == (30, 7, 0, -3)
    assert settings.reminder_default_timezone == "Asia/Taipei"
    assert not settings.reminders_enabled


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("REMINDER_THRESHOLDS", "90,sixty", "is not a comma-separated list of whole days"),
        ("REMINDER_THRESHOLDS", " , ", "needs at least one number of days"),
        ("REMINDER_DEFAULT_TIMEZONE", "Mars/Olympus_Mons", "is not a known IANA time zone"),
        ("REMINDER_INTERVAL_SECONDS", "0", "greater than 0"),
    ],
)
def test_bad_reminder_settings_are_refused_with_the_reason(monkeypatch, name, value, reason):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=reason):
        Settings(_env_file=None)


def test_the_postgresql_pool_size_is_read_and_checked(monkeypatch):
    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    assert Settings(_env_file=None).database_pool_size == 20

    monkeypatch.setenv("DATABASE_POOL_SIZE", "40")
    assert Settings(_env_file=None).database_pool_size == 40

    monkeypatch.setenv("DATABASE_POOL_SIZE", "0")
    with pytest.raises(ValidationError, match="DATABASE_POOL_SIZE"):
        Settings(_env_file=None)


def test_without_a_public_url_email_links_follow_the_port_the_service_listens_on(monkeypatch):
    for name in ("HOST", "PORT", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "8080")

    assert Settings(_env_file=None).public_base_url == "http://127.0.0.1:8080"
    assert Settings(_env_file=None, host="::1").public_base_url == "http://[::1]:8080"
    assert Settings(_env_file=None, port=80).public_base_url == "http://127.0.0.1"


def test_a_wildcard_host_gives_email_links_this_machines_name_not_an_unreachable_address(
    monkeypatch,
):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("ALLOW_UNAUTHENTICATED_REMOTE", "true")

    for host in ("0.0.0.0", "::"):
        url = Settings(_env_file=None, host=host, port=8080).public_base_url
        assert url == f"http://{socket.getfqdn()}:8080"


def test_a_public_url_that_is_set_wins_over_host_and_port(monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://membership.contoso.example")
    monkeypatch.setenv("PORT", "8080")

    assert Settings(_env_file=None).public_base_url == "https://membership.contoso.example"


@pytest.mark.parametrize(
    ("value", "locale"), [("zh-tw", "zh-TW"), ("zh_Hant", "zh-TW"), ("en", "en-US")]
)
def test_the_help_desks_language_is_one_the_bot_speaks_however_it_is_written(
    monkeypatch, value, locale
):
    monkeypatch.setenv("HELP_DESK_LOCALE", value)

    assert Settings(_env_file=None).help_desk_locale == locale


def test_a_help_desk_language_the_bot_does_not_speak_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setenv("HELP_DESK_LOCALE", "fr-FR")

    with pytest.raises(ValidationError, match="is not a language the bot speaks"):
        Settings(_env_file=None)
