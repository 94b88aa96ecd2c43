"""The ``membership-bot`` command as an operator runs it: migrate, serve, crash, restart."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port
from tests.support.chat import card_parts
from tests.support.process import wait_ready

COMMAND = str(Path(sys.executable).parent / "membership-bot")


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env["REMINDERS_ENABLED"] = "false"  # nothing due at the hour of the run posts into a test
    env.update(values)
    return env


class Server:
    """One ``membership-bot serve`` process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.url = f"http://127.0.0.1:{env['PORT']}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [COMMAND, "serve"], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        wait_ready(self.url, self.process, log)

    def kill(self) -> None:
        """Kill it the hard way: no shutdown hooks run."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def server_env(tmp_path) -> Iterator[dict[str, str]]:
    env = _env(
        HOST="127.0.0.1",
        PORT=str(free_port()),
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        WEBCHAT_JS=str(tmp_path / "absent.js"),
    )
    migrated = subprocess.run([COMMAND, "db", "upgrade"], env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    yield env


async def _say(url: str, conversation: str, text: str, locale: str = "en-US") -> list[str]:
    body = {
        "type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "text": text,
        "serviceUrl": "https://smba.trafficmanager.net/emea/", "locale": locale,
        "from": {"id": "29:user-1"}, "recipient": {"id": "28:bot"},
        "conversation": {"id": conversation}, "deliveryMode": "expectReplies",
    }  # fmt: skip
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/api/messages", json=body) as response:
            assert response.status == 200
            activities = (await response.json())["activities"]
    return [
        a.get("text") or "\n\n".join(card_parts(a["attachments"][0]["content"])[0])
        for a in activities
    ]


async def test_a_conversation_continues_where_it_was_after_the_process_is_killed(
    server_env, tmp_path
):
    conversation = f"a:{uuid.uuid4().hex}"
    server = Server(server_env, tmp_path / "server.log")
    try:
        await _say(server.url, conversation, "hello")
        await _say(server.url, conversation, "繁體中文")
    finally:
        server.kill()

    restarted = Server(server_env, tmp_path / "server.log")
    try:
        replies = await _say(restarted.url, conversation, "9")
    finally:
        restarted.stop()

    # The menu prompt was still waiting, in the language chosen before the crash.
    assert replies[0].startswith("我協助 Microsoft 合作夥伴網路的會員")


async def test_the_service_logs_json_lines(server_env, tmp_path):
    log = tmp_path / "server.log"
    server = Server(server_env, log)
    server.stop()

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(line["message"].startswith("serving on http://127.0.0.1:") for line in lines)


def test_serving_a_public_address_without_an_app_id_is_refused_with_the_reason(tmp_path):
    refused = subprocess.run(
        [COMMAND, "serve"],
        env=_env(HOST="0.0.0.0", PORT=str(free_port()), DATABASE_URL=f"sqlite:///{tmp_path}/x.db"),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert refused.returncode == 2
    assert "not a loopback address and no MicrosoftAppId" in refused.stderr


async def _send(url: str, conversation: str, user: str, **fields: object) -> list[dict]:
    body = {
        "type": "message", "id": uuid.uuid4().hex, "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/", "locale": "en-US",
        "from": {"id": user}, "recipient": {"id": "28:bot"},
        "conversation": {"id": conversation}, "deliveryMode": "expectReplies", **fields,
    }  # fmt: skip
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/api/messages", json=body) as response:
            assert response.status == 200
            return list((await response.json())["activities"])


def _text(activity: dict) -> str:
    if activity.get("text"):
        return str(activity["text"])
    return "\n\n".join(card_parts(activity["attachments"][0]["content"])[0])


@pytest.fixture
def demo_env(server_env: dict[str, str]) -> dict[str, str]:
    """A migrated database with the demo data, loaded by the operator's command."""
    loaded = subprocess.run([COMMAND, "demo", "load"], env=server_env, capture_output=True)
    assert loaded.returncode == 0, loaded.stderr
    return server_env


async def test_a_whole_journey_over_http_survives_a_crash_in_the_middle(demo_env, tmp_path):
    server_env = demo_env
    conversation, user = f"a:{uuid.uuid4().hex}", "mei.lin"
    server = Server(server_env, tmp_path / "server.log")
    try:
        await _send(server.url, conversation, user, text="Create the Partner Center account")
        form = await _send(server.url, conversation, user, text="Next")
        assert _text(form[1]).startswith("Legal business profile and primary contact\n\n")
        registered = await _send(server.url, conversation, user, value={
            "action": "submit_profile", "legal_name": "Contoso Taiwan Ltd.",
            "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5", "city": "Taipei", "country": "TW",
            "contact_first_name": "Mei", "contact_last_name": "Lin",
            "contact_email": "mei.lin@contoso.example", "contact_phone": "+886 2 2345 6789",
        })  # fmt: skip
        assert _text(registered[0]).startswith("Registered.")
    finally:
        server.kill()  # mid-journey: the agreement question is waiting

    restarted = Server(server_env, tmp_path / "server.log")
    try:
        decision = await _send(restarted.url, conversation, user, text="Yes, I can sign for it")
        accepted = await _send(restarted.url, conversation, user, text="Accept")
        status = await _send(restarted.url, conversation, user, text="cancel")
        status = await _send(restarted.url, conversation, user, text="Membership status")
    finally:
        restarted.stop()

    assert _text(decision[0]).startswith("Do you accept the agreement on behalf of Contoso Taiwan")
    assert _text(accepted[0]).startswith("Recorded: for Contoso Taiwan Ltd.")
    card = _text(status[0])
    assert "✅ Sign in as a global administrator" in card
    assert "✅ Legal business profile and primary contact" in card
    assert "⏳ Primary contact's email confirmed" in card
    assert "✅ Partner agreement accepted" in card
    # And the database says the same, read directly.
    database = server_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        source = connection.execute(
            "select source from memberships where organization_id = 'contoso'"
        ).fetchone()
        decisions = connection.execute(
            "select user_id, accepted, claimed_authority from agreement_decisions"
        ).fetchall()
        phone = connection.execute(
            "select phone from primary_contacts where organization_id = 'contoso'"
        ).fetchone()
        domains = connection.execute(
            "select verified_domains from organizations where id = 'contoso'"
        ).fetchone()
    assert source == ("partner_center",)
    assert decisions == [("mei.lin", 1, 1)]
    assert phone == ("+886223456789",)
    assert json.loads(domains[0]) == ["contoso.example", "contoso.com.tw"]


async def test_a_renewal_typed_in_chinese_runs_the_account_setup_inside_it_and_goes_on(
    demo_env, tmp_path
):
    # Mei Lin's Contoso: a legacy record that expired. She types, as people do; "說明" and
    # "English" come in the middle of the account journey that the renewal runs first.
    conversation, user = f"a:{uuid.uuid4().hex}", "mei.lin"
    server = Server(demo_env, tmp_path / "server.log")

    async def say(text: str = "", **fields: object) -> list[str]:
        found = await _send(server.url, conversation, user, text=text, locale="zh-TW", **fields)
        return [_text(activity) for activity in found]

    try:
        setup = await say("我要續約")
        welcome = await say("好")
        helped = await say("說明")
        form = await say("下一步")
        switched = await say("English")
        registered = await say(value={"action": "submit_profile", **_CONTOSO_PROFILE})
        await say("yes")
        renewal = await say("accept")
        renewed = await say("yes")
        status = await say("Membership status")
    finally:
        server.stop()

    assert setup[-1].startswith("若要續約，Contoso Taiwan Ltd. 須先完成合作夥伴中心帳戶的設定。")
    assert (
        "尚待完成：以全域管理員身分登入、法律商務設定檔及主要連絡人、已接受合作夥伴合約"
        in setup[-1]
    )
    assert welcome[-1].startswith("建立合作夥伴中心帳戶需要幾分鐘")
    assert helped[0].startswith("我協助 Microsoft 合作夥伴網路的會員")
    assert helped[-1] == welcome[-1]  # the nested journey's question, asked again
    assert form[-1].startswith("法律商務設定檔及主要連絡人")
    assert switched[0] == "OK, I'll speak English from now on."
    assert switched[-1].startswith("Legal business profile and primary contact")
    assert registered[0].startswith("Registered.")  # the choice of English stayed
    assert renewal[-1].startswith("Renew the Silver competency of Contoso Taiwan Ltd.")
    assert "Renewed. Your Silver competency (MPN ID 4100001) now runs until" in renewed[0]
    assert "✅ Partner agreement accepted" in status[0]
    assert "days left" in status[0]


async def test_upgrade_typed_reaches_the_upgrade_and_names_the_missing_step_with_a_button(
    demo_env, tmp_path
):
    server = Server(demo_env, tmp_path / "server.log")
    try:
        asked = await _send(server.url, f"a:{uuid.uuid4().hex}", "mei.lin", text="upgrade to gold")
        menu = await _send(server.url, f"a:{uuid.uuid4().hex}", "ana.silva", text="2")
        which = await _send(
            server.url, menu[0]["conversation"]["id"], "ana.silva", text="Upgrade the membership"
        )
    finally:
        server.stop()

    question = asked[-1]
    assert _text(question).startswith(
        "To upgrade, Contoso Taiwan Ltd. first sets up its Partner Center account. Still to do: "
        "Sign in as a global administrator;"
    )
    buttons = [b["title"] for b in card_parts(question["attachments"][0]["content"])[1]]
    assert buttons == ["Continue: Create the Partner Center account", "Not now"]
    assert _text(menu[-1]) == "Renew the membership, or upgrade it?"
    assert "Gold competency" in "\n".join(_text(activity) for activity in which)


_CONTOSO_PROFILE = {
    "legal_name": "Contoso Taiwan Ltd.", "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5",
    "city": "Taipei", "country": "TW", "contact_first_name": "Mei", "contact_last_name": "Lin",
    "contact_email": "mei.lin@contoso.example", "contact_phone": "+886 2 2345 6789",
}  # fmt: skip
