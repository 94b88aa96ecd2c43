"""The Teams app package: valid against Microsoft's schemas, in sync with the menu, and whole.

The schemas come from the npm package ``@microsoft/app-manifest`` that ``make`` fetches into
``var/app-manifest/``; without them these tests fail (never skip) and say how to get them.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from bot.teams_manifest import (
    COMMAND_DESCRIPTION_LIMIT,
    COMMAND_TITLE_LIMIT,
    MANIFEST_VERSION,
    PACKAGE_FILES,
    TEMPLATES_DIR,
    PackageSettingsError,
    build_package,
    commands,
    default_developer_settings,
    package_problems,
    render_localization,
    render_manifest,
)
from dialogs.intents import MENU, MENU_LABELS, recognize_menu_choice
from services.i18n import Locale, translator
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "var" / "app-manifest" / "teams"
APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
TEAMS_APP_ID = "9b2c1d7e-0a4f-4c8e-b1d2-5e6f7a8b9c0d"
HOST = "membership.contoso.example"


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "microsoft_app_id": APP_ID,
        "public_base_url": f"https://{HOST}",
        "teams_app_id": "",
        "mpn_id": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _schema(name: str, version: str = MANIFEST_VERSION) -> dict[str, Any]:
    path = SCHEMAS / f"v{version}" / name
    if not path.exists():
        pytest.fail(
            f"{path.relative_to(ROOT)} is missing: run `make teams-schemas` (`make test` does) "
            "to fetch the Teams manifest schemas from npm"
        )
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _errors(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    # From v1.23 on, check_schema rejects an Excel-only ``\p{L}`` pattern Python's re cannot
    # compile; validating a bot manifest never reaches it, so validate without checking.
    validator = jsonschema.Draft4Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_the_manifest_uses_the_newest_schema_in_the_package():
    _schema("MicrosoftTeams.schema.json")  # fails with the way to fetch them when missing
    versions = [tuple(map(int, p.name[1:].split("."))) for p in SCHEMAS.glob("v1.*")]

    assert tuple(map(int, MANIFEST_VERSION.split("."))) == max(versions)
    assert render_manifest(_settings())["manifestVersion"] == MANIFEST_VERSION


def test_the_rendered_manifest_is_valid_against_the_official_teams_schema():
    manifest = render_manifest(_settings(mpn_id="1234567", teams_app_id=TEAMS_APP_ID))

    assert _errors(manifest, _schema("MicrosoftTeams.schema.json")) == []


def test_the_zh_tw_localization_is_valid_against_the_official_localization_schema():
    localization = render_localization(_settings())

    assert _errors(localization, _schema("MicrosoftTeams.Localization.schema.json")) == []


def test_the_schema_check_catches_a_broken_manifest():
    manifest = render_manifest(_settings())
    manifest["bots"][0]["botId"] = "not-a-guid"
    del manifest["developer"]["privacyUrl"]

    errors = _errors(manifest, _schema("MicrosoftTeams.schema.json"))

    assert any(e.startswith("bots/0/botId") for e in errors)
    assert any("privacyUrl" in e for e in errors)


def test_the_bot_id_and_public_host_are_where_teams_and_single_sign_on_need_them():
    manifest = render_manifest(_settings())

    assert manifest["id"] == APP_ID  # the Teams app id defaults to the bot's
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["bots"][0]["scopes"] == ["personal", "team"]
    assert manifest["webApplicationInfo"] == {
        "id": APP_ID,
        "resource": f"api://{HOST}/botid-{APP_ID}",
    }
    assert manifest["validDomains"] == [HOST, "token.botframework.com"]
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "en-us",
        "additionalLanguages": [{"languageTag": "zh-tw", "file": "zh-TW.json"}],
    }


def test_the_publisher_details_come_from_the_settings():
    manifest = render_manifest(
        _settings(
            teams_app_id=TEAMS_APP_ID,
            app_version="2.3.4",
            mpn_id="1234567",
            developer_name="Contoso Partner Services",
            developer_website_url="https://contoso.example/help",
            developer_privacy_url="https://contoso.example/privacy",
            developer_terms_url="https://contoso.example/terms",
        )
    )

    assert (manifest["id"], manifest["version"]) == (TEAMS_APP_ID, "2.3.4")
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"] == {
        "name": "Contoso Partner Services",
        "mpnId": "1234567",
        "websiteUrl": "https://contoso.example/help",
        "privacyUrl": "https://contoso.example/privacy",
        "termsOfUseUrl": "https://contoso.example/terms",
    }


def test_the_mpn_id_is_left_out_when_there_is_none():
    assert "mpnId" not in render_manifest(_settings(mpn_id=""))["developer"]


def test_publisher_details_left_at_their_defaults_are_named_for_a_warning():
    assert default_developer_settings(_settings()) == [
        "DEVELOPER_NAME",
        "DEVELOPER_WEBSITE_URL",
        "DEVELOPER_PRIVACY_URL",
        "DEVELOPER_TERMS_URL",
    ]
    assert default_developer_settings(_settings(developer_name="Contoso")) == [
        "DEVELOPER_WEBSITE_URL",
        "DEVELOPER_PRIVACY_URL",
        "DEVELOPER_TERMS_URL",
    ]


def test_no_placeholder_is_left_in_what_is_rendered():
    settings = _settings(mpn_id="1234567")
    rendered = json.dumps(
        [render_manifest(settings), render_localization(settings)], ensure_ascii=False
    )

    assert "{{" not in rendered
    assert re.findall(r"\{\{\w+\}\}", (TEMPLATES_DIR / "manifest.json").read_text()), (
        "the template itself has placeholders"
    )


@pytest.mark.parametrize("locale", list(Locale))
def test_every_menu_item_is_a_command_within_teams_limits(locale):
    listed = commands(locale)

    assert [c.intent for c in listed] == list(MENU)
    for command in listed:
        assert 0 < len(command.title) <= COMMAND_TITLE_LIMIT, command.title
        assert 0 < len(command.description) <= COMMAND_DESCRIPTION_LIMIT, command.description


def test_each_command_title_picks_its_menu_item_when_teams_sends_it():
    # Teams sends a command's title as the message; the main dialog knows labels in every
    # language.
    labels = {
        intent: tuple(translator(locale).gettext(label) for locale in Locale)
        for intent, label in MENU_LABELS.items()
    }

    for locale in Locale:
        for command in commands(locale):
            assert recognize_menu_choice(command.title, labels) is command.intent, command.title


def test_the_commands_are_the_menu_labels_in_each_language():
    english = render_manifest(_settings())["bots"][0]["commandLists"]
    chinese = render_localization(_settings())
    zh = translator(Locale.ZH_TW)

    assert [c["title"] for c in english[0]["commands"]][1:] == [
        MENU_LABELS[intent] for intent in MENU[1:]
    ]
    assert [chinese[f"bots[0].commandLists[0].commands[{i}].title"] for i in range(len(MENU))] == [
        zh.gettext(MENU_LABELS[intent]) for intent in MENU
    ]


def test_every_command_of_every_list_has_its_zh_tw_title_and_description():
    manifest = render_manifest(_settings())
    localization = render_localization(_settings())
    expected = {
        f"bots[0].commandLists[{i}].commands[{j}].{field}"
        for i, command_list in enumerate(manifest["bots"][0]["commandLists"])
        for j, _command in enumerate(command_list["commands"])
        for field in ("title", "description")
    }

    assert {key for key in localization if key.startswith("bots[")} == expected
    assert [c["scopes"] for c in manifest["bots"][0]["commandLists"]] == [["personal"], ["team"]]
    for key in expected:
        assert localization[key] and not localization[key].isascii(), key


def test_the_icons_have_the_sizes_teams_requires():
    with Image.open(TEMPLATES_DIR / "color.png") as color:
        assert (color.format, color.size) == ("PNG", (192, 192))
    with Image.open(TEMPLATES_DIR / "outline.png") as outline:
        assert (outline.format, outline.size) == ("PNG", (32, 32))


def test_the_outline_icon_is_white_on_a_transparent_background():
    with Image.open(TEMPLATES_DIR / "outline.png") as outline:
        assert outline.mode == "RGBA"
        alpha = outline.getchannel("A")
        colors = outline.convert("RGB").getcolors()

    assert colors is not None and {rgb for _count, rgb in colors} == {(255, 255, 255)}
    assert alpha.getextrema() == (0, 255)  # a fully drawn mark on a fully clear ground
    for corner in ((0, 0), (31, 0), (0, 31), (31, 31)):
        assert alpha.getpixel(corner) == 0
    assert 0.1 < sum(alpha.histogram()[128:]) / (32 * 32) < 0.6  # a mark, not a blot


def test_the_package_holds_exactly_its_four_files_at_the_root(tmp_path):
    package = build_package(_settings(), tmp_path / "out" / "teams-app.zip")

    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == list(PACKAGE_FILES)
        manifest = json.loads(archive.read("manifest.json"))
        localization = json.loads(archive.read("zh-TW.json"))
        assert archive.read("color.png") == (TEMPLATES_DIR / "color.png").read_bytes()
        assert archive.read("outline.png") == (TEMPLATES_DIR / "outline.png").read_bytes()

    assert manifest == render_manifest(_settings())
    assert localization == render_localization(_settings())
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert list(tmp_path.joinpath("out").iterdir()) == [package]  # no partial file left


def test_the_same_settings_build_the_same_package(tmp_path):
    first = build_package(_settings(), tmp_path / "a.zip").read_bytes()
    second = build_package(_settings(), tmp_path / "b.zip").read_bytes()

    assert first == second


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"microsoft_app_id": ""}, "MicrosoftAppId is not set"),
        ({"microsoft_app_id": "my-bot"}, "MicrosoftAppId=my-bot is not a GUID"),
        ({"public_base_url": "http://127.0.0.1:3978"}, "is not an https:// URL"),
        ({"public_base_url": f"http://{HOST}"}, "is not an https:// URL"),
        ({"public_base_url": "https://localhost:3978"}, "names this machine"),
        ({"public_base_url": "https://203.0.113.7"}, "Teams needs a domain name"),
        ({"teams_app_id": "teams-app"}, "TEAMS_APP_ID=teams-app is not a GUID"),
        ({"app_version": "1.0"}, "APP_VERSION=1.0 is not a version"),
        ({"mpn_id": "MPN-12"}, "MPN_ID=MPN-12 is not a Partner Network id"),
        ({"developer_name": "x" * 33}, "DEVELOPER_NAME must be 1 to 32 characters"),
        ({"developer_privacy_url": "http://contoso.example/p"}, "DEVELOPER_PRIVACY_URL="),
    ],
)
def test_settings_teams_would_not_accept_are_refused_with_the_reason(tmp_path, overrides, reason):
    settings = _settings(**overrides)
    output = tmp_path / "teams-app.zip"

    with pytest.raises(PackageSettingsError) as refused:
        build_package(settings, output)

    assert any(reason in problem for problem in refused.value.problems), refused.value.problems
    assert not output.exists()


def test_every_problem_is_named_at_once():
    problems = package_problems(_settings(microsoft_app_id="", public_base_url="http://x"))

    assert len(problems) == 2


def test_a_port_other_than_443_stays_with_the_host():
    manifest = render_manifest(_settings(public_base_url="https://bot.contoso.example:8443/"))

    assert manifest["validDomains"][0] == "bot.contoso.example:8443"
