"""Talk to the bot turn by turn through botbuilder's ``TestAdapter``, as a user would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import Storage
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.adapter import on_turn_error
from bot.membership_bot import MembershipBot
from bot.state import FastConversationState, FastUserState
from dialogs.main_dialog import MainDialog
from dialogs.people import JourneyServices

__all__ = ["Chat", "Reply", "build_bot"]


def build_bot(storage: Storage, services: JourneyServices) -> MembershipBot:
    """Wire the bot exactly as ``app.create_app`` does, on ``storage`` and ``services``."""
    conversation_state = FastConversationState(storage)
    user_state = FastUserState(storage)
    dialog = MainDialog(user_state.create_property("UserProfile"), services)
    return MembershipBot(storage, conversation_state, user_state, dialog)


@dataclass
class Reply:
    """What the user sees of one bot message: its text and its buttons' titles."""

    text: str
    buttons: list[str] = field(default_factory=list)
    card: dict[str, Any] | None = None  # an Adaptive Card, as sent

    def __str__(self) -> str:
        return "\n".join([self.text, *self.buttons])


def _reply(activity: Activity) -> Reply:
    text = activity.text or ""
    buttons: list[str] = []
    for attachment in activity.attachments or []:
        content = attachment.content
        if attachment.content_type == "application/vnd.microsoft.card.adaptive":
            blocks = [b["text"] for b in content["body"] if b.get("type") == "TextBlock"]
            titles = [a["title"] for a in content.get("actions", [])]
            return Reply("\n".join([text, *blocks]).strip(), titles, content)
        card_text = (
            getattr(content, "text", None) or (content or {}).get("text", "") if content else ""
        )
        text = "\n".join(part for part in (text, card_text) if part)
        raw_buttons = getattr(content, "buttons", None) or (
            content.get("buttons", []) if isinstance(content, dict) else []
        )
        buttons += [getattr(b, "title", None) or b.get("title", "") for b in raw_buttons]
    return Reply(text, buttons)


class Chat:
    """One user in one conversation with the bot."""

    def __init__(
        self,
        storage: Storage,
        services: JourneyServices,
        *,
        locale: str | None = "en-US",
        timezone: str | None = None,
        user_id: str = "user-1",
        conversation_id: str = "conversation-1",
    ) -> None:
        self.bot = build_bot(storage, services)
        self.adapter = TestAdapter(self.bot.on_turn)
        self.adapter.on_turn_error = on_turn_error
        self.locale = locale
        self.timezone = timezone  # an IANA name, as a client sends in localTimezone
        self.user = ChannelAccount(id=user_id, name=user_id)
        self.conversation = ConversationAccount(id=conversation_id)

    async def _send(self, activity: Activity) -> list[Reply]:
        activity.from_property = self.user
        activity.conversation = self.conversation
        activity.locale = activity.locale or self.locale
        activity.local_timezone = activity.local_timezone or self.timezone
        await self.adapter.receive_activity(activity)
        replies = []
        while (reply := self.adapter.get_next_activity()) is not None:
            if reply.type == ActivityTypes.message:
                replies.append(_reply(reply))
        return replies

    async def join(self) -> list[Reply]:
        """Open the conversation the way a channel does (members added)."""
        return await self._send(
            Activity(
                type=ActivityTypes.conversation_update,
                members_added=[self.user, ChannelAccount(id="bot", name="bot")],
                recipient=ChannelAccount(id="bot", name="bot"),
            )
        )

    async def submit(self, value: dict[str, Any]) -> list[Reply]:
        """Submit an Adaptive Card's inputs (what a card's submit button sends)."""
        return await self._send(Activity(type=ActivityTypes.message, value=value))

    async def say(self, text: str, *, locale: str | None = None) -> list[Reply]:
        """Send ``text`` and return the bot's replies."""
        return await self._send(Activity(type=ActivityTypes.message, text=text, locale=locale))
