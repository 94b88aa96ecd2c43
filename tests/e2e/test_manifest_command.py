"""``membership-bot manifest build`` as a deployer runs it: a zip for Teams, or the reasons not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

COMMAND = str(Path(sys.executable).parent / "membership-bot")
APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
_OURS = ("Microsoft", "PUBLIC_BASE_URL", "TEAMS_APP_ID", "APP_VERSION", "MPN_ID", "DEVELOPER_")


def _run(cwd: Path, *arguments: str, **values: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(values)
    # The working directory is a fresh folder: no .env of the developer's is read.
    return subprocess.run(
        [COMMAND, "manifest", "build", *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_writes_the_package_to_var_by_default(tmp_path):
    built = _run(
        tmp_path,
        MicrosoftAppId=APP_ID,
        PUBLIC_BASE_URL="https://membership.contoso.example",
        MPN_ID="1234567",
        APP_VERSION="1.2.0",
    )

    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(tmp_path / "var" / "teams-app.zip") as package:
        assert package.namelist() == ["manifest.json", "zh-TW.json", "color.png", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        localization = json.loads(package.read("zh-TW.json"))
    assert manifest["bots"][0]["botId"] == manifest["id"] == APP_ID
    assert manifest["version"] == "1.2.0" and manifest["developer"]["mpnId"] == "1234567"
    assert manifest["validDomains"] == ["membership.contoso.example", "token.botframework.com"]
    assert localization["name.short"] == "合作夥伴會員小幫手"
    assert "DEVELOPER_PRIVACY_URL" in built.stderr  # still Microsoft's page: a warning


def test_the_command_writes_where_it_is_told(tmp_path):
    output = tmp_path / "release" / "membership.zip"

    built = _run(
        tmp_path,
        "--output",
        str(output),
        MicrosoftAppId=APP_ID,
        PUBLIC_BASE_URL="https://membership.contoso.example",
    )

    assert built.returncode == 0, built.stderr
    assert zipfile.is_zipfile(output)
    assert not (tmp_path / "var").exists()


def test_the_command_refuses_settings_teams_cannot_use_and_says_what_is_missing(tmp_path):
    refused = _run(tmp_path, PUBLIC_BASE_URL="http://127.0.0.1:3978")

    assert refused.returncode == 2
    assert "MicrosoftAppId is not set" in refused.stderr
    assert "PUBLIC_BASE_URL=http://127.0.0.1:3978 is not an https:// URL" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "var").exists()
