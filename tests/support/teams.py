"""A user's personal chat with the app, posted as Teams posts it, over real HTTP.

Each message goes to ``/api/messages`` with ``deliveryMode: expectReplies`` (the replies come
back in the response); the conversation's ``serviceUrl`` is a connector stand-in's, so that
what the app posts later on its own (reminders, notices) arrives there. In the catalog-only
language mode the replies are checked to be all in the client's language
(``tests/support/language.py``); ``written`` collects what the user wrote and ``heard`` that
and what they were told, which a help desk reading their conversation may see in any language.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from services import i18n
from tests.support.chat import card_parts
from tests.support.connector import ConnectorStandIn
from tests.support.language import check_json, known_words, strip

BOT = {"id": "28:bot", "name": "Membership bot"}
_QUOTED = 300  # characters of a message a ticket's transcript keeps (bot/transcript.py)
USERS = {
    "ana.silva": ("7f3c2a10-0000-4000-8000-000000c0de02", "Ana Silva"),
    "mei.lin": ("7f3c2a10-0000-4000-8000-000000c0de01", "Mei Lin"),
}


class Teams:
    """One user's personal chat with the app, as Teams posts it (replies in the response)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        user: str,
        service_url: str,
        *,
        locale: str = "en-US",
        heard: set[str] | None = None,
        written: set[str] | None = None,
    ):
        tenant, name = USERS[user]
        self.http, self.base_url, self.tenant = http, base_url, tenant
        self.service_url = service_url
        self.locale = locale  # the Teams client's language, sent with every message
        self.known: set[str] = {name}  # what the user wrote or submitted: theirs, any language
        self.heard = heard if heard is not None else set()
        self.written = written if written is not None else set()
        self.user = {"id": f"29:{user}", "name": name, "aadObjectId": user}
        self.conversation = {
            "id": f"a:{uuid.uuid4().hex}",
            "conversationType": "personal",
            "tenantId": tenant,
        }

    async def send(self, text: str, value: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {
            "type": "message", "id": uuid.uuid4().hex, "channelId": "msteams",
            "serviceUrl": self.service_url, "from": self.user, "recipient": BOT,
            "conversation": self.conversation, "channelData": {"tenant": {"id": self.tenant}},
            "locale": self.locale, "localTimezone": "UTC", "deliveryMode": "expectReplies",
            "text": text,
        }  # fmt: skip
        if value is not None:
            body["value"] = value
        typed = known_words([text, value])
        self.known |= typed
        self.written |= typed
        self.heard |= typed
        async with self.http.post(f"{self.base_url}/api/messages", json=body) as response:
            assert response.status == 200, await response.text()
            replies = list((await response.json())["activities"])
        for reply in replies:
            if reply.get("type") == "message" and i18n.marking():
                check_json(reply, self.locale, self.known)
            else:
                check_json(reply, self.locale, checked=False)
        for reply in replies:  # as a help-desk ticket quotes them, in full and cut short
            said = strip(texts([reply]))
            self.heard |= {said, said[:_QUOTED], *said.splitlines()}
        return replies

    async def click(self, card: dict[str, Any], title: str) -> list[dict[str, Any]]:
        """What Teams sends for a ``messageBack`` button: its text, and its value."""
        button = next(b for b in card_parts(card)[1] if b["title"] == title)
        data = dict(button["data"])
        teams = data.pop("msteams")
        return await self.send(teams["text"], {**data, **teams["value"]})

    async def click_in(self, replies: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
        """Click the button called ``title`` on the newest card of ``replies`` that has one."""
        for reply in reversed(replies):
            for attachment in reply.get("attachments") or []:
                card = attachment.get("content") or {}
                if any(b["title"] == title for b in card_parts(card)[1]):
                    return await self.click(card, title)
        raise AssertionError(f"no button {title!r} in the replies")


def texts(replies: list[dict[str, Any]]) -> str:
    """Everything the replies say (a card's text blocks included), one line each."""
    lines = []
    for reply in replies:
        if reply.get("text"):
            lines.append(reply["text"])
        for attachment in reply.get("attachments") or []:
            lines += card_parts(attachment.get("content") or {})[0]
    return "\n".join(lines)


def teams_user(
    http: aiohttp.ClientSession,
    base_url: str,
    connector: ConnectorStandIn,
    user: str = "ana.silva",
    locale: str = "en-US",
) -> Teams:
    """``user``'s Teams chat, its posts at ``connector`` checked to be in their language too."""
    chat = Teams(http, base_url, user, connector.url, locale=locale, heard=connector.heard,
                 written=connector.written)  # fmt: skip
    connector.reads(chat.conversation["id"], locale, connector.written)
    return chat
