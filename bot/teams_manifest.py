"""The Teams app package: the templates in ``manifest/``, rendered from the settings.

``manifest/manifest.json`` (schema v1.30, English) and ``manifest/zh-TW.json`` (its Traditional
Chinese localization) hold ``{{NAME}}`` placeholders for what differs per deployment: the bot's
app id, the public host, the version and the publisher. The bot's commands are not in the
templates: they come from the main menu (``dialogs.intents.MENU_LABELS``, translated through
the zh-TW catalog), so what Teams offers is what the bot understands. ``build_package`` writes
the zip Teams accepts: ``manifest.json``, ``zh-TW.json``, ``color.png`` and ``outline.png`` at
its root.

The templates are read from the repository (``manifest/`` beside ``bot/``): the package is
built by an operator from a checkout, and the folder is where the issue and the README send
people to look at it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from dialogs.intents import MENU, MENU_LABELS, Intent
from services.i18n import Locale, translator
from services.settings import Settings, is_loopback

__all__ = [
    "COMMAND_DESCRIPTION_LIMIT",
    "COMMAND_TITLE_LIMIT",
    "DEFAULT_OUTPUT",
    "MANIFEST_VERSION",
    "PACKAGE_FILES",
    "TEMPLATES_DIR",
    "Command",
    "PackageSettingsError",
    "build_package",
    "commands",
    "default_developer_settings",
    "package_problems",
    "public_host",
    "render_localization",
    "render_manifest",
    "teams_app_id",
]

MANIFEST_VERSION: Final = "1.30"
TEMPLATES_DIR: Final = Path(__file__).resolve().parents[1] / "manifest"
MANIFEST_FILE: Final = "manifest.json"
LOCALIZATION_FILE: Final = "zh-TW.json"
ICON_FILES: Final = ("color.png", "outline.png")
PACKAGE_FILES: Final = (MANIFEST_FILE, LOCALIZATION_FILE, *ICON_FILES)
DEFAULT_OUTPUT: Final = Path("var/teams-app.zip")

# Teams' documented limits for bot commands (the v1.30 schema itself allows longer titles,
# but the command menu cuts them).
COMMAND_TITLE_LIMIT: Final = 32
COMMAND_DESCRIPTION_LIMIT: Final = 128

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_MPN_ID = re.compile(r"^[0-9]{1,10}$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_DEVELOPER_NAME_LIMIT = 32  # the schema's developer.name maxLength
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same settings give the same bytes

# A menu label longer than Teams shows, shortened; the short title must still pick its menu
# item (a command sends its title as the message text). Plain strings, not catalog entries:
# they live in the app package, not in what the bot says.
_SHORT_TITLES: Final[dict[Locale, dict[Intent, str]]] = {
    Locale.EN_US: {Intent.CREATE_ACCOUNT: "Create Partner Center account"},
    Locale.ZH_TW: {},
}

_DESCRIPTIONS: Final[dict[Locale, dict[Intent, str]]] = {
    Locale.EN_US: {
        Intent.CREATE_ACCOUNT: "Sign in as a global administrator, give the legal business "
        "profile, register, accept the agreement.",
        Intent.RENEW_OR_UPGRADE: "Renew the membership (open from 90 days before it expires) or "
        "upgrade it.",
        Intent.VERIFY_CONTACT: "See where the primary contact's verification email stands, "
        "send it again, or change the contact.",
        Intent.ACCEPT_AGREEMENT: "Review and accept the Microsoft partner agreement for your "
        "organization.",
        Intent.ADMIN_AGENT: "Check that you hold the admin agent role, with the steps to get it.",
        Intent.BENEFITS: "Buy and activate the benefits of your membership.",
        Intent.STATUS: "Where your membership stands: when it expires and what is still pending.",
        Intent.HUMAN: "Ask for a person from the help desk.",
        Intent.HELP: "What this assistant can do, and how to talk to it.",
    },
    Locale.ZH_TW: {
        Intent.CREATE_ACCOUNT: "以全域管理員身分登入、提供法律商務設定檔、註冊並接受合約。",
        Intent.RENEW_OR_UPGRADE: "續約會員資格（到期前 90 天開放），或升級會員資格。",
        Intent.VERIFY_CONTACT: "查看主要連絡人驗證郵件的狀態、重新寄送，或變更連絡人。",
        Intent.ACCEPT_AGREEMENT: "為貴組織檢閱並接受 Microsoft 合作夥伴合約。",
        Intent.ADMIN_AGENT: "檢查您是否具有系統管理代理人角色，以及取得此角色的步驟。",
        Intent.BENEFITS: "購買及啟用會員資格的權益。",
        Intent.STATUS: "會員資格的狀態：何時到期，以及還有哪些步驟待處理。",
        Intent.HUMAN: "請服務台的真人客服協助您。",
        Intent.HELP: "這個小幫手能做什麼，以及如何與它對話。",
    },
}


class PackageSettingsError(ValueError):
    """The settings cannot make a package Teams accepts; ``problems`` names each reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Command:
    """One entry of the bot's command menu in Teams."""

    intent: Intent
    title: str
    description: str


def commands(locale: Locale) -> list[Command]:
    """The bot's main menu as Teams commands in ``locale``, in menu order."""
    t = translator(locale)
    found = [
        Command(
            intent,
            _SHORT_TITLES[locale].get(intent) or t.gettext(MENU_LABELS[intent]),
            _DESCRIPTIONS[locale][intent],
        )
        for intent in MENU
    ]
    for command in found:
        if len(command.title) > COMMAND_TITLE_LIMIT:
            raise ValueError(f"the {locale} command title {command.title!r} is too long")
        if len(command.description) > COMMAND_DESCRIPTION_LIMIT:
            raise ValueError(f"the {locale} description of {command.title!r} is too long")
    return found


def public_host(settings: Settings) -> str:
    """The host (and port, if not 443) people and Teams reach the bot at."""
    parts = urlsplit(settings.public_base_url)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port not in (None, 443) else host


def teams_app_id(settings: Settings) -> str:
    """The manifest's ``id``: ``TEAMS_APP_ID``, else the bot's app id."""
    return settings.teams_app_id or settings.microsoft_app_id


def package_problems(settings: Settings) -> list[str]:
    """Every reason the settings cannot make a package Teams accepts (none: it can)."""
    problems: list[str] = []
    if not settings.microsoft_app_id:
        problems.append("MicrosoftAppId is not set (the bot's Microsoft app id, a GUID)")
    elif not _GUID.match(settings.microsoft_app_id):
        problems.append(f"MicrosoftAppId={settings.microsoft_app_id} is not a GUID")
    if settings.teams_app_id and not _GUID.match(settings.teams_app_id):
        problems.append(f"TEAMS_APP_ID={settings.teams_app_id} is not a GUID")
    problems.extend(_public_url_problems(settings.public_base_url))
    if not _SEMVER.match(settings.app_version):
        problems.append(f"APP_VERSION={settings.app_version} is not a version like 1.0.0")
    if settings.mpn_id and not _MPN_ID.match(settings.mpn_id):
        problems.append(f"MPN_ID={settings.mpn_id} is not a Partner Network id (digits)")
    if not 0 < len(settings.developer_name) <= _DEVELOPER_NAME_LIMIT:
        problems.append(f"DEVELOPER_NAME must be 1 to {_DEVELOPER_NAME_LIMIT} characters long")
    for name, url in (
        ("DEVELOPER_WEBSITE_URL", settings.developer_website_url),
        ("DEVELOPER_PRIVACY_URL", settings.developer_privacy_url),
        ("DEVELOPER_TERMS_URL", settings.developer_terms_url),
    ):
        if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
            problems.append(f"{name}={url} is not an https:// URL")
    return problems


def _public_url_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or not host:
        return [
            f"PUBLIC_BASE_URL={url} is not an https:// URL: Teams reaches bots over HTTPS only "
            "(for a bot on this machine, use a tunnel such as Dev Tunnels and its https URL)"
        ]
    if is_loopback(host) or host.endswith(".localhost"):
        return [f"PUBLIC_BASE_URL={url} names this machine, which Teams cannot reach"]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return []
    return [f"PUBLIC_BASE_URL={url} is an IP address: Teams needs a domain name"]


def default_developer_settings(settings: Settings) -> list[str]:
    """The publisher settings still at their defaults (fine to try, not to publish)."""
    names = {
        "developer_name": "DEVELOPER_NAME",
        "developer_website_url": "DEVELOPER_WEBSITE_URL",
        "developer_privacy_url": "DEVELOPER_PRIVACY_URL",
        "developer_terms_url": "DEVELOPER_TERMS_URL",
    }
    fields = Settings.model_fields
    return [env for name, env in names.items() if getattr(settings, name) == fields[name].default]


def _placeholders(settings: Settings) -> dict[str, str]:
    return {
        "APP_VERSION": settings.app_version,
        "TEAMS_APP_ID": teams_app_id(settings),
        "BOT_ID": settings.microsoft_app_id,
        "PUBLIC_HOST": public_host(settings),
        "MPN_ID": settings.mpn_id,
        "DEVELOPER_NAME": settings.developer_name,
        "DEVELOPER_WEBSITE_URL": settings.developer_website_url,
        "DEVELOPER_PRIVACY_URL": settings.developer_privacy_url,
        "DEVELOPER_TERMS_URL": settings.developer_terms_url,
    }


def _fill(value: Any, values: dict[str, str]) -> Any:
    """``value`` with every ``{{NAME}}`` in its strings replaced; an unknown name fails."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise KeyError(f"the manifest templates use an unknown placeholder {{{{{name}}}}}")
            return values[name]

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value


def _template(name: str, templates: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((templates / name).read_text(encoding="utf-8"))
    return loaded


def render_manifest(settings: Settings, templates: Path = TEMPLATES_DIR) -> dict[str, Any]:
    """``manifest.json`` for ``settings``: placeholders filled, English commands in."""
    manifest: dict[str, Any] = _fill(_template(MANIFEST_FILE, templates), _placeholders(settings))
    if not manifest["developer"].get("mpnId"):
        del manifest["developer"]["mpnId"]  # optional: only for Partner Network members
    listed = [{"title": c.title, "description": c.description} for c in commands(Locale.EN_US)]
    for command_list in manifest["bots"][0]["commandLists"]:
        command_list["commands"] = [dict(command) for command in listed]
    return manifest


def render_localization(settings: Settings, templates: Path = TEMPLATES_DIR) -> dict[str, Any]:
    """``zh-TW.json`` for ``settings``: the template's texts and the zh-TW commands."""
    localization: dict[str, Any] = _fill(
        _template(LOCALIZATION_FILE, templates), _placeholders(settings)
    )
    manifest = _template(MANIFEST_FILE, templates)
    translated = commands(Locale.ZH_TW)
    # Teams matches localized strings by their path in manifest.json.
    for list_index, _command_list in enumerate(manifest["bots"][0]["commandLists"]):
        for index, command in enumerate(translated):
            key = f"bots[0].commandLists[{list_index}].commands[{index}]"
            localization[f"{key}.title"] = command.title
            localization[f"{key}.description"] = command.description
    return localization


def build_package(
    settings: Settings, output: Path = DEFAULT_OUTPUT, templates: Path = TEMPLATES_DIR
) -> Path:
    """Write the Teams app package for ``settings`` to ``output``; return its path.

    Raises ``PackageSettingsError`` when the settings cannot make a package Teams accepts.
    """
    problems = package_problems(settings)
    if problems:
        raise PackageSettingsError(problems)
    files = {
        MANIFEST_FILE: _json_bytes(render_manifest(settings, templates)),
        LOCALIZATION_FILE: _json_bytes(render_localization(settings, templates)),
        **{name: (templates / name).read_bytes() for name in ICON_FILES},
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name in PACKAGE_FILES:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            package.writestr(entry, files[name])
    partial.replace(output)  # never leave a half-written package where the last one was
    return output


def _json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
