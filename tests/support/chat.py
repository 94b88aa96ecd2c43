"""Talk to the bot turn by turn through botbuilder's ``TestAdapter``, as a user would.

In the catalog-only language mode (``tests/support/language.py``, on for the dialog tests)
every message the bot sends is checked to be all in the user's language before a test sees it:
the language the user chose in the chat, else the one their client sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from botbuilder.core import Storage
from botbuilder.core.adapters import TestAdapter
from botbuilder.core.teams import TeamsSSOTokenExchangeMiddleware
from botbuilder.dialogs import ComponentDialog, Dialog
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.adapter import on_turn_error
from bot.membership_bot import MembershipBot
from bot.proactive import ReferenceKeeper
from bot.state import FastConversationState, FastUserState
from dialogs.cards import card_action
from dialogs.intents import Intent, recognize_interruption
from dialogs.main_dialog import MainDialog
from dialogs.people import JourneyServices
from services import i18n
from services.conversations import ConversationReferences
from services.i18n import Locale, normalize_locale
from tests.support.language import check_json, known_words

__all__ = ["Chat", "Reply", "build_bot", "dialog_tree"]


def build_bot(
    storage: Storage,
    services: JourneyServices,
    *,
    sign_in_connection: str | None = None,
    references: ConversationReferences | None = None,
) -> MembershipBot:
    """Wire the bot exactly as ``app.create_app`` does, on ``storage`` and ``services``
    (keeping each user's conversation reference in ``references``, when given)."""
    conversation_state = FastConversationState(storage)
    user_state = FastUserState(storage)
    dialog = MainDialog(
        user_state.create_property("UserProfile"), services, sign_in_connection=sign_in_connection
    )
    keeper = ReferenceKeeper(references) if references is not None else None
    return MembershipBot(storage, conversation_state, user_state, dialog, references=keeper)


def dialog_tree(dialog: Dialog) -> list[Dialog]:
    """``dialog`` and every dialog inside it, through the component dialogs' sets (the SDK
    has no walker)."""
    found = [dialog]
    if isinstance(dialog, ComponentDialog):
        for inner in dialog._dialogs._dialogs.values():
            found += dialog_tree(inner)
    return found


ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class Reply:
    """What the user sees of one bot message: its text and its buttons' titles."""

    text: str
    buttons: list[str] = field(default_factory=list)
    card: dict[str, Any] | None = None  # an Adaptive Card, as sent
    actions: list[dict[str, Any]] = field(default_factory=list)  # its buttons, as sent

    def __str__(self) -> str:
        return "\n".join([self.text, *self.buttons])


def card_parts(card: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """An Adaptive Card's texts and its buttons (``Action.*``), in reading order."""
    texts: list[str] = []
    actions: list[dict[str, Any]] = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for element in item:
                walk(element)
            return
        if not isinstance(item, dict):
            return
        kind = item.get("type", "")
        if kind == "TextBlock":
            texts.append(item.get("text", ""))
        elif kind == "RichTextBlock":
            texts.append("".join(run.get("text", "") for run in item.get("inlines", [])))
        elif kind == "FactSet":
            texts.extend(f"{fact['title']}: {fact['value']}" for fact in item.get("facts", []))
        elif kind.startswith("Action."):
            actions.append(item)
            return
        for key in ("body", "items", "columns", "actions"):
            walk(item.get(key))

    walk(card)
    return texts, actions


def _reply(activity: Activity) -> Reply:
    text = activity.text or ""
    buttons: list[str] = []
    for attachment in activity.attachments or []:
        content = attachment.content
        if attachment.content_type == ADAPTIVE_CARD:
            blocks, actions = card_parts(content)
            text = "\n\n".join(part for part in (text, *blocks) if part)
            titles = [action["title"] for action in actions]
            return Reply(text, titles, content, actions)
        # Other cards (the sign-in card): an SDK model or a dict.
        fields = content if isinstance(content, dict) else vars(content) if content else {}
        text = "\n".join(part for part in (text, fields.get("text") or "") if part)
        for button in fields.get("buttons") or []:
            buttons.append(button.get("title", "") if isinstance(button, dict) else button.title)
    return Reply(text, buttons)


# The language each user chose, by storage (their choice is kept across their conversations).
_CHOSEN: WeakKeyDictionary[Storage, dict[str, Locale]] = WeakKeyDictionary()
_CHOICES = {Intent.ENGLISH.value: Locale.EN_US, Intent.CHINESE.value: Locale.ZH_TW}


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
        tenant_id: str | None = None,
        channel_id: str | None = None,
        sign_in_connection: str | None = None,
        references: ConversationReferences | None = None,
    ) -> None:
        self.bot = build_bot(
            storage, services, sign_in_connection=sign_in_connection, references=references
        )
        self.adapter = TestAdapter(self.bot.on_turn)
        self.adapter.on_turn_error = on_turn_error
        if sign_in_connection and services.identity.requires_sign_in:  # as app.create_app does
            self.adapter.use(TeamsSSOTokenExchangeMiddleware(storage, sign_in_connection))
        self.locale = locale
        self.timezone = timezone  # an IANA name, as a client sends in localTimezone
        self.user = ChannelAccount(id=user_id, name=user_id)
        self.conversation = ConversationAccount(id=conversation_id, tenant_id=tenant_id)
        self.tenant_id = tenant_id  # as Teams sends it, in channelData and the conversation
        self.channel_id = channel_id
        self.sent: list[Activity] = []  # every message the bot sent, as sent
        self._buttons: list[dict[str, Any]] = []  # every card button seen, newest last
        self._chosen = _CHOSEN.setdefault(storage, {})
        # Data the user may read in any language: what they wrote or submitted, and what a test
        # set up (a mail server's diagnostic, say).
        self.known: set[str] = {user_id}

    def language(self, activity: Activity | None = None) -> Locale:
        """The language the user reads: the one they chose, else their client's."""
        chosen = self._chosen.get(self.user.id)
        client = activity.locale if activity is not None else self.locale
        return chosen or normalize_locale(client) or Locale.EN_US

    async def _send(self, activity: Activity) -> list[Reply]:
        activity.from_property = self.user
        activity.conversation = self.conversation
        activity.locale = activity.locale or self.locale
        activity.local_timezone = activity.local_timezone or self.timezone
        activity.channel_id = activity.channel_id or self.channel_id
        if self.tenant_id is not None:
            activity.channel_data = {"tenant": {"id": self.tenant_id}}
        self._note_choice(activity)
        await self.adapter.receive_activity(activity)
        return self.arrived(activity)

    def arrived(self, activity: Activity | None = None) -> list[Reply]:
        """The messages the bot sent since the last look (a proactive turn's, say).

        In the test mode each is checked to be in the user's language, as of ``activity`` (the
        message they answer, if any).
        """
        replies = []
        while (reply := self.adapter.get_next_activity()) is not None:
            if reply.type == ActivityTypes.message:
                if i18n.marking():
                    check_json(reply, self.language(activity), self.known)
                self.sent.append(reply)
                replies.append(_reply(reply))
                self._buttons += replies[-1].actions
        return replies

    def _note_choice(self, activity: Activity) -> None:
        """Keep the language the user picks (typed, or its button), and what they wrote."""
        if activity.type != ActivityTypes.message:
            return
        self.known |= known_words([activity.text, activity.value])
        action = card_action(activity)
        picked = action if action is not None else recognize_interruption(activity.text)
        if picked in _CHOICES:
            self._chosen[self.user.id] = _CHOICES[picked]

    async def join(self) -> list[Reply]:
        """Open the conversation the way a channel does (members added)."""
        return await self._send(
            Activity(
                type=ActivityTypes.conversation_update,
                members_added=[self.user, ChannelAccount(id="bot", name="bot")],
                recipient=ChannelAccount(id="bot", name="bot"),
            )
        )

    async def submit(self, value: dict[str, Any], *, text: str | None = None) -> list[Reply]:
        """Send ``value`` as a card's button does (Teams adds a messageBack's ``text``)."""
        return await self._send(Activity(type=ActivityTypes.message, value=value, text=text))

    async def click(self, title: str, inputs: dict[str, Any] | None = None) -> list[Reply]:
        """Click the newest card button titled ``title``, as Teams sends an ``Action.Submit``.

        The button's ``data`` arrives as the message's ``value`` (with the card's ``inputs``
        merged in, unless the button takes none); a messageBack button also sends its
        ``text``, and Teams puts its ``msteams.value`` into ``value``.
        """
        button = next((b for b in reversed(self._buttons) if b.get("title") == title), None)
        if button is None:
            seen = sorted({b.get("title", "") for b in self._buttons})
            raise AssertionError(f"no button {title!r} was shown; buttons seen: {seen}")
        return await self.press(button, inputs)

    async def press(
        self, button: dict[str, Any], inputs: dict[str, Any] | None = None
    ) -> list[Reply]:
        """Click ``button`` (one of a card's ``Action.*`` as sent), as ``click`` does."""
        data = dict(button.get("data") or {})
        teams = data.pop("msteams", None) or {}
        value: dict[str, Any] = {}
        if str(button.get("associatedInputs", "auto")).lower() != "none":
            value.update(inputs or {})
        value.update(data)
        if isinstance(teams.get("value"), dict):
            value.update(teams["value"])
        return await self._send(
            Activity(type=ActivityTypes.message, value=value, text=teams.get("text"))
        )

    async def invoke(self, name: str, value: dict[str, Any]) -> list[Reply]:
        """Send an invoke activity (Teams' ``signin/tokenExchange``, say); return the messages."""
        return await self._send(Activity(type=ActivityTypes.invoke, name=name, value=value))

    async def say(self, text: str, *, locale: str | None = None) -> list[Reply]:
        """Send ``text`` and return the bot's replies."""
        return await self._send(Activity(type=ActivityTypes.message, text=text, locale=locale))
