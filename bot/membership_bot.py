"""The activity handler: resolve the turn's language, run the main dialog, save state.

The dialog runs through a ``DialogSet`` built once, continue-else-begin, rather than through
``DialogExtensions.run_dialog``: that helper builds a dialog set and a memory-scope manager on
every turn and sends a "BotState" trace activity with a snapshot of dialog memory, which
``expectReplies`` would hand to the caller. Waterfalls and prompts need neither.

Teams events. Installing the app sends both an ``installationUpdate`` (action ``add``) and a
``conversationUpdate`` that adds the bot, in no set order; Web Chat sends only the latter. The
first of them greets (the main dialog's first step welcomes) and sets a flag in conversation
state, so the second finds the flag and says nothing: one welcome per install. In a team
channel or a group chat the greeting is a short note about what the bot does there, in English
and in Chinese (Teams says nothing of a team's language, and the installer's is one member's),
with a button to the one-to-one chat; a team channel is recorded for the help desk.
Uninstalling (``installationUpdate`` ``remove``, or the bot among the members removed) clears
the conversation's state, so a reinstall greets again, and marks the conversation, and the
team's channels, inactive.

Team channels (but the help desk's) and group chats show no organization's data: what someone
writes to the bot there is answered in their one-to-one chat with it (``bot/personal_chat.py``),
and they are told so where they wrote.

``adaptiveCard/action`` invokes (Adaptive Card ``Action.Execute``) run the dialogs as if the
action's ``data`` had come as a message's ``value``, and answer the invoke with a short text.

The help desk (``bot/help_desk.py``) sees each message first: in its Teams channel it takes
Claim, Resolve and the agents' replies; in a user's chat, while an agent has the user's
request, it relays what they write, and the dialogs wait (their state untouched) until the
request is resolved and ``resume`` asks the journey's question again (then the help desk asks
for a rating; a score typed just after it is taken as the rating). Each chat's last lines are
recorded (``bot/transcript.py``) for the requests' tickets.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from botbuilder.core import (
    ConversationState,
    InvokeResponse,
    Storage,
    TurnContext,
    UserState,
)
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogContext, DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from botframework.connector import Channels

from bot.help_desk import HANDOFF_STATUS, RATING, TeamsHelpDesk, Then
from bot.personal_chat import carry, chat_link, shared_by_several
from bot.proactive import CHANNEL, GROUP_CHAT, ReferenceKeeper
from bot.state import TurnStates, peek
from bot.transcript import TranscriptRecorder
from dialogs.cards import message, open_chat_card
from dialogs.contexts import LeanDialogSet
from dialogs.handoff_dialog import stack_ids
from dialogs.main_dialog import MainDialog
from dialogs.shape import dialog_shape
from dialogs.texts import resolve_locale, texts, turn_locale
from services.i18n import N_, Locale, translator

__all__ = ["MembershipBot"]

logger = logging.getLogger(__name__)

CHANNEL_WELCOME = N_(
    "Hello, team! I'm the Microsoft Partner Network membership assistant, now installed in "
    "this channel. Each of you can chat with me one-to-one about your organization's "
    "membership; the help desk can use this channel to receive and answer requests."
)
GROUP_WELCOME = N_(
    "Hello, everyone! I'm the Microsoft Partner Network membership assistant. I talk about "
    "your organization's membership one-to-one, so that its details stay private: mention me "
    "here and I'll answer you in our one-to-one chat, or open it with the button below."
)
OPEN_CHAT = N_("Chat with me one-to-one")
ANSWERED_ONE_TO_ONE = N_(
    "{name}, I've answered you in our one-to-one chat: I talk about your organization's "
    "membership only there, where its details stay between us."
)
ASK_ONE_TO_ONE = N_(
    "{name}, I talk about your organization's membership only in a one-to-one chat, where its "
    "details stay between us. Open our chat and ask me there."
)
# In the one-to-one chat, before the answer to what was written elsewhere.
CARRIED = {
    (CHANNEL, True): N_(
        "You wrote to me in a team channel: “{text}”. I answer you here, where only you can see it."
    ),
    (GROUP_CHAT, True): N_(
        "You wrote to me in a group chat: “{text}”. I answer you here, where only you can see it."
    ),
    (CHANNEL, False): N_(
        "You called me in a team channel. I answer you here, where only you can see it."
    ),
    (GROUP_CHAT, False): N_(
        "You called me in a group chat. I answer you here, where only you can see it."
    ),
}
CARD_ACTION_DONE = N_("Got it: my answer is in the chat.")
_SHAPE = "DialogShape"
UPDATED = N_("I was updated since your last message; here is where things stand.")

_INSTALL = "add"
_UNINSTALL = "remove"
_CARD_ACTION = "adaptiveCard/action"
_MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
_ERROR_RESPONSE = "application/vnd.microsoft.error"
_CARRIED_FROM = "membership_bot.carried_from"  # in a turn's state: where the message was written


class MembershipBot(TeamsActivityHandler):
    """Route every conversational turn into the main dialog."""

    def __init__(
        self,
        storage: Storage,
        conversation_state: ConversationState,
        user_state: UserState,
        dialog: MainDialog,
        *,
        references: ReferenceKeeper | None = None,
        help_desk: TeamsHelpDesk | None = None,
        transcript: TranscriptRecorder | None = None,
        app_id: str = "",
    ) -> None:
        self._states = TurnStates(storage, conversation_state, user_state)
        self._app_id = app_id  # to start one-to-one chats
        self._references = references
        self._help_desk = help_desk
        self._transcript = transcript
        self._dialog = dialog
        self._dialog_state = conversation_state.create_property("DialogState")
        self._dialogs = LeanDialogSet(self._dialog_state)
        self._dialogs.add(dialog)
        self._greeted = conversation_state.create_property("Greeted")
        self._conversation_state = conversation_state
        self._shape = conversation_state.create_property(_SHAPE)
        self._dialog_shape = dialog_shape(dialog)
        self.user_profile = user_state.create_property("UserProfile")

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Handle the turn, then save what it changed (nothing is saved if it failed)."""
        await self._states.load(turn_context)
        await resolve_locale(self.user_profile, turn_context)
        if self._transcript is not None:
            await self._transcript.record(turn_context)
        await super().on_turn(turn_context)
        await self._states.save(turn_context)
        if self._references is not None and not _uninstalls(turn_context):
            await _keep_reference(self._references, turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Continue the conversation's dialog, or begin the main one."""
        activity = turn_context.activity
        if activity.text and activity.recipient is not None:
            # In a channel the message starts with "<at>Membership bot</at>": not the user's words.
            TurnContext.remove_recipient_mention(activity)
            activity.text = activity.text.strip()
        if not await self._help_desk_took(turn_context):
            await self._answer(turn_context)

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        """A Direct Line hub's ``handoff.status`` goes to the help desk; the rest as usual."""
        if turn_context.activity.name == HANDOFF_STATUS and self._help_desk is not None:
            await self._help_desk.on_handoff_status(turn_context)
            return
        await super().on_event_activity(turn_context)

    async def resume(self, turn_context: TurnContext, then: Then | None = None) -> None:
        """Ask the paused journey's question again, then ``then`` (a proactive turn, after the
        help desk; ``then`` may note things in the conversation's state)."""
        await self._states.load(turn_context)
        await resolve_locale(self.user_profile, turn_context)
        dialog_context, restart = await self._dialog_context(turn_context)
        if restart is not None:
            await dialog_context.begin_dialog(self._dialog.id, restart)
        elif dialog_context.active_dialog is not None:
            await dialog_context.reprompt_dialog()
        if then is not None:
            await then(turn_context)
        await self._states.save(turn_context)

    async def _help_desk_took(self, turn_context: TurnContext) -> bool:
        """The help desk's channel, or a user talking with an agent: not for the dialogs."""
        if self._help_desk is None:
            return False
        if await self._help_desk.on_help_desk_turn(turn_context):
            return True
        if await self._help_desk.relay_from_user(turn_context):
            return True
        if peek(self._conversation_state, turn_context, RATING) is not None:
            await self._help_desk.rating_from_text(turn_context)  # the dialogs answer it as a click
        return False

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        """Greet on install, stop posting on uninstall; upgrades change neither."""
        if turn_context.activity.action == _INSTALL:
            await self._install(turn_context)
        elif turn_context.activity.action == _UNINSTALL:
            await self._uninstall(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Members added or removed, without looking each one up in Teams first."""
        activity = turn_context.activity
        # The Teams handler fetches every added member's profile from the connector: the bot
        # needs none of it, and the call fails where there is no real connector.
        if activity.members_added:
            await self.on_members_added_activity(activity.members_added, turn_context)
        elif activity.members_removed:
            await self.on_members_removed_activity(activity.members_removed, turn_context)
        else:
            await super().on_conversation_update_activity(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Greet once when the bot and the user meet (not when people join a team later)."""
        if not members_added:
            return
        if turn_context.activity.channel_id == Channels.ms_teams and not _has_bot(
            members_added, turn_context
        ):
            return
        await self._install(turn_context)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """The bot was removed: stop posting to this conversation."""
        if _has_bot(members_removed, turn_context):
            await self._uninstall(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Answer Adaptive Card actions; leave every other invoke to the SDK (501s)."""
        if turn_context.activity.name == _CARD_ACTION:
            return await self._card_action(turn_context)
        response: InvokeResponse | None = await super().on_invoke_activity(turn_context)
        return response

    async def on_teams_signin_verify_state(self, turn_context: TurnContext) -> None:
        """A sign-in finished (``signin/verifyState``): the sign-in prompt takes it."""
        await self._run_dialog(turn_context)

    async def on_teams_signin_token_exchange(self, turn_context: TurnContext) -> None:
        """Teams single sign-on (``signin/tokenExchange``): the sign-in prompt takes the token.

        ``TeamsSSOTokenExchangeMiddleware`` has already exchanged it and let only one of the
        duplicates through; the prompt answers the invoke itself.
        """
        await self._run_dialog(turn_context)

    async def _install(self, turn_context: TurnContext) -> None:
        if await self._greeted.get(turn_context, False):
            return
        if not shared_by_several(turn_context.activity):
            await self._run_dialog(turn_context)
            return
        await self._greeted.set(turn_context, True)
        team = _team_channel(turn_context)
        await turn_context.send_activity(
            _in_each_language(turn_context, CHANNEL_WELCOME if team else GROUP_WELCOME)
        )
        if team is not None and self._references is not None:
            try:
                await self._references.record_channel(turn_context, *team)
            except Exception:
                logger.exception("could not record the team channel")

    async def _uninstall(self, turn_context: TurnContext) -> None:
        # Forget the greeting and any dialog in progress (the stored document stays, with its
        # ETag): a reinstall starts afresh.
        for accessor in (self._greeted, self._dialog_state):
            if await accessor.get(turn_context) is not None:
                await accessor.delete(turn_context)
        if self._references is None:
            return
        activity = turn_context.activity
        team = _team_channel(turn_context)
        try:
            await self._references.forget_conversation(
                str(activity.conversation.id), team[0] if team else None
            )
        except Exception:
            logger.exception("could not mark the conversation inactive")

    async def _card_action(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action")
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            return _invoke_error(HTTPStatus.BAD_REQUEST, "BadRequest", "not an Action.Execute")
        data: dict[str, Any] = dict(action["data"]) if isinstance(action.get("data"), dict) else {}
        if action.get("verb") and "action" not in data:
            data["action"] = action["verb"]
        # The dialogs take a card's submission as a message's value; the adapter needs the
        # activity to be an invoke again afterwards, to hand back the invoke response.
        activity.type, activity.value = ActivityTypes.message, data
        try:
            if not await self._help_desk_took(turn_context):
                await self._answer(turn_context)
        finally:
            activity.type, activity.value = ActivityTypes.invoke, value
        body = {
            "statusCode": int(HTTPStatus.OK),
            "type": _MESSAGE_RESPONSE,
            "value": texts(turn_context).gettext(CARD_ACTION_DONE),
        }
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)

    async def _answer(self, turn_context: TurnContext) -> None:
        """Run the dialogs on a message (in a channel or group chat: in the one-to-one chat)."""
        activity = turn_context.activity
        if shared_by_several(activity):
            await self._to_personal_chat(turn_context)
            return
        where = turn_context.turn_state.get(_CARRIED_FROM)
        if where is None:
            await self._run_dialog(turn_context)
            return
        said = bool(activity.text)
        t = texts(turn_context)
        await turn_context.send_activity(t.gettext(CARRIED[where, said], text=activity.text))
        if said or activity.value is not None:
            await self._run_dialog(turn_context)
        else:  # only a mention: the question waiting here, or the menu
            await self._ask_again(turn_context)

    async def _to_personal_chat(self, turn_context: TurnContext) -> None:
        """Answer in the sender's one-to-one chat; say so here, with a button to that chat."""
        activity = turn_context.activity
        where = activity.conversation.conversation_type

        async def there(context: TurnContext) -> None:
            context.turn_state[_CARRIED_FROM] = where
            await self.on_turn(context)

        # The turn there reads and writes this user's state too: this turn's is saved first.
        # It runs before the note here, which says whether it was answered.
        await self._states.save(turn_context)
        answered = await carry(turn_context, self._app_id, there)
        t = texts(turn_context)
        name = (activity.from_property.name if activity.from_property else None) or ""
        note = t.gettext(ANSWERED_ONE_TO_ONE if answered else ASK_ONE_TO_ONE, name=name)
        card = open_chat_card([note], t.gettext(OPEN_CHAT), chat_link(activity))
        await turn_context.send_activity(message(card))

    async def _ask_again(self, turn_context: TurnContext) -> None:
        dialog_context, restart = await self._dialog_context(turn_context)
        if restart is not None:
            await dialog_context.begin_dialog(self._dialog.id, restart)
        elif dialog_context.active_dialog is not None:
            await dialog_context.reprompt_dialog()
        else:
            await self._greeted.set(turn_context, True)
            await dialog_context.begin_dialog(self._dialog.id)

    async def _dialog_context(
        self, turn_context: TurnContext
    ) -> tuple[DialogContext, dict[str, Any] | None]:
        """The turn's dialog context; and, for a conversation saved by a release whose dialogs
        had another shape (``dialogs/shape.py``), the options that restart it at its journey
        (its saved stack is dropped: the journey resumes where the organization stands)."""
        dialog_context = await self._dialogs.create_context(turn_context)
        if peek(self._conversation_state, turn_context, _SHAPE) == self._dialog_shape:
            return dialog_context, None
        await self._shape.set(turn_context, self._dialog_shape)
        if dialog_context.active_dialog is None:
            return dialog_context, None
        restart = self._dialog.restart_at(stack_ids(dialog_context))
        await dialog_context.cancel_all_dialogs()
        if "choice" in restart:  # a journey was under way: say why it asks anew
            await turn_context.send_activity(texts(turn_context).gettext(UPDATED))
        return dialog_context, restart

    async def _run_dialog(self, turn_context: TurnContext) -> None:
        dialog_context, restart = await self._dialog_context(turn_context)
        if restart is not None:
            await dialog_context.begin_dialog(self._dialog.id, restart)
            return
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await self._greeted.set(turn_context, True)  # the main dialog's first step welcomes
            await dialog_context.begin_dialog(self._dialog.id)


def _in_each_language(turn_context: TurnContext, source: str) -> Activity:
    """``source`` in every language, this turn's first, with a button to the one-to-one chat."""
    first = turn_locale(turn_context)
    locales = [first, *(locale for locale in Locale if locale is not first)]
    paragraphs = [translator(locale).gettext(source) for locale in locales]
    label = " / ".join(translator(locale).gettext(OPEN_CHAT) for locale in locales)
    return message(open_chat_card(paragraphs, label, chat_link(turn_context.activity)))


def _invoke_error(status: HTTPStatus, code: str, message: str) -> InvokeResponse:
    body = {"statusCode": int(status), "type": _ERROR_RESPONSE,
            "value": {"code": code, "message": message}}  # fmt: skip
    return InvokeResponse(status=int(status), body=body)


def _has_bot(members: list[ChannelAccount], turn_context: TurnContext) -> bool:
    recipient = turn_context.activity.recipient
    return recipient is not None and any(member.id == recipient.id for member in members)


def _uninstalls(turn_context: TurnContext) -> bool:
    activity = turn_context.activity
    if activity.type == ActivityTypes.installation_update:
        return bool(activity.action == _UNINSTALL)
    return activity.type == ActivityTypes.conversation_update and _has_bot(
        activity.members_removed or [], turn_context
    )


def _team_channel(turn_context: TurnContext) -> tuple[str, str] | None:
    """The team's id and the channel's name, when the turn is in a team channel."""
    activity = turn_context.activity
    if activity.conversation is None or activity.conversation.conversation_type != CHANNEL:
        return None
    data: Any = activity.channel_data
    if not isinstance(data, dict):
        data = data.serialize() if hasattr(data, "serialize") else {}
    team, channel = data.get("team"), data.get("channel")
    if not isinstance(team, dict) or not team.get("id"):
        return None
    channel_name = channel.get("name") if isinstance(channel, dict) else None
    return str(team["id"]), str(channel_name or team.get("name") or "")


async def _keep_reference(references: ReferenceKeeper, turn_context: TurnContext) -> None:
    # Remember where to reach this user later. A failure here costs a later proactive message,
    # not this turn: the user already has their answer and their progress is saved.
    try:
        await references.keep(turn_context)
    except Exception:
        logger.exception("could not store the conversation reference")
