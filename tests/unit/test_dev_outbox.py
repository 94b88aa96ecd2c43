"""The outbox folder's pages on the local chat: the newest email, readable, its link clickable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.dev_outbox import setup_dev_outbox
from services.clock import FixedClock
from services.emails import EmailComposer, VerificationRequest
from services.i18n import Locale
from services.mailer import OutboxFolderMailer

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LINK = "http://127.0.0.1:3978/verify/contact?token=" + "A" * 43


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
async def outbox(tmp_path, clock):
    app = web.Application()
    setup_dev_outbox(app, tmp_path)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client, OutboxFolderMailer(tmp_path, clock=clock), tmp_path


def _email(name: str, locale: Locale = Locale.EN_US):
    request = VerificationRequest(
        contact_name=name,
        contact_email="david.chen@contoso.example",
        organization="Contoso Taiwan Ltd.",
        requested_by="Mei Lin",
        link=LINK,
        expires_at=NOW + timedelta(hours=72),
    )
    return EmailComposer("assistant@contoso.example", "Membership assistant").contact_verification(
        request, locale, now=NOW
    )


async def test_an_empty_outbox_says_how_to_get_an_email(outbox):
    client, _mailer, _folder = outbox

    page = await client.get("/dev/outbox")

    assert page.status == 200
    assert "No email yet" in await page.text()


async def test_the_list_links_each_email_and_the_email_shows_its_clickable_link(outbox, clock):
    client, mailer, folder = outbox
    await mailer.send(_email("David Chen"))
    clock.at += timedelta(minutes=1)
    await mailer.send(_email("陳大衛", Locale.ZH_TW))

    listing = await (await client.get("/dev/outbox")).text()
    names = sorted(p.name for p in folder.glob("*.eml"))
    assert listing.index(names[1]) < listing.index(names[0])  # newest first
    assert "david.chen@contoso.example" in listing

    shown = await client.get(f"/dev/outbox/{names[0]}")
    body = await shown.text()
    assert shown.status == 200
    assert f'href="{LINK}"' in body
    assert "David Chen" in body

    raw = await client.get(f"/dev/outbox/{names[0]}/raw")
    assert raw.headers["Content-Type"] == "message/rfc822"
    assert (folder / names[0]).read_bytes() == await raw.read()


@pytest.mark.parametrize("name", ["nothing-here.eml", "..%2Fsecrets.eml", "notes.txt"])
async def test_only_emails_in_the_folder_are_served(outbox, name):
    client, mailer, folder = outbox
    (folder.parent / "secrets.eml").write_text("not for you")
    await mailer.send(_email("David Chen"))

    assert (await client.get(f"/dev/outbox/{name}")).status == 404
