"""Team channels and group chats: the journeys run in the user's one-to-one chat instead.

The journeys show an organization's membership (its MPN ID, its expiry, what is pending) and
ask for its decisions: that is one person's business, not a whole channel's. In a team channel
(other than the help desk's, ``bot/help_desk.py``) or a group chat, what someone writes to the
bot is carried to their one-to-one chat with it: ``carry`` asks Teams for that chat (the
connector's ``create conversation`` for the sender, in the tenant: Teams gives back the chat
they already have, or starts one) and runs the turn there, as if they had written it there, so
nothing is lost. Where they wrote, they get a short note with no organization data and a
button that opens the chat (``chat_link``, a Teams deep link to a chat with the bot). Teams
refuses to start the chat when the app is not installed for the user: then the note asks them
to open it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botframework.connector import Channels

from bot.proactive import CHANNEL, GROUP_CHAT, PERSONAL
from dialogs.people import tenant_of

__all__ = ["carry", "chat_link", "shared_by_several"]

logger = logging.getLogger(__name__)

_CHAT_WITH = "https://teams.microsoft.com/l/chat/0/0?users="
_BOT_PREFIX = "28:"  # Teams' ids for bots: "28:<the app id>"


def shared_by_several(activity: Activity) -> bool:
    """Whether the activity comes from a team channel or a group chat."""
    conversation = activity.conversation
    return conversation is not None and conversation.conversation_type in (CHANNEL, GROUP_CHAT)


def chat_link(activity: Activity) -> str:
    """A link that opens the reader's one-to-one chat with the bot, in Teams."""
    bot = str(activity.recipient.id if activity.recipient else "")
    if not bot.startswith(_BOT_PREFIX):
        bot = _BOT_PREFIX + bot
    return _CHAT_WITH + quote(bot, safe=":")


async def carry(
    turn_context: TurnContext, app_id: str, run: Callable[[TurnContext], Awaitable[None]]
) -> bool:
    """Run ``run`` on this message in the sender's one-to-one chat with the bot, as if they had
    written it there; False when Teams would not give the chat (nothing was said there)."""
    activity = turn_context.activity
    adapter = turn_context.adapter
    sender = activity.from_property
    if (
        not isinstance(adapter, CloudAdapterBase)
        or activity.channel_id != Channels.ms_teams
        or sender is None
        or not sender.id
    ):
        return False
    tenant = tenant_of(activity)
    parameters = ConversationParameters(
        is_group=False,
        bot=activity.recipient,
        members=[ChannelAccount(id=sender.id)],
        tenant_id=tenant,
        channel_data={"tenant": {"id": tenant}} if tenant else None,
    )

    async def in_personal_chat(context: TurnContext) -> None:
        # The context's activity says only that the chat exists: make it the user's message.
        context.activity = _carried(activity, context.activity.conversation.id, tenant)
        await run(context)

    try:
        await adapter.create_conversation(
            app_id, in_personal_chat, parameters, activity.channel_id, activity.service_url, None
        )
    except Exception as error:  # refused (the app is not installed for them), or unreachable
        status = getattr(getattr(error, "response", None), "status_code", None)
        logger.warning("could not open a one-to-one chat: %s (HTTP %s)",
                       type(error).__name__, status)  # fmt: skip
        return False
    return True


def _carried(activity: Activity, conversation_id: str, tenant: str | None) -> Activity:
    """``activity`` (a message, or a card's click), as if sent in the one-to-one chat."""
    return Activity(
        type=ActivityTypes.message,
        channel_id=activity.channel_id,
        service_url=activity.service_url,
        from_property=activity.from_property,
        recipient=activity.recipient,
        conversation=ConversationAccount(
            id=conversation_id, conversation_type=PERSONAL, tenant_id=tenant
        ),
        channel_data={"tenant": {"id": tenant}} if tenant else None,
        text=activity.text,
        value=activity.value,
        locale=activity.locale,
        local_timezone=activity.local_timezone,
        timestamp=activity.timestamp,
    )
