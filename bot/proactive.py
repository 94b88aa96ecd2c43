"""Reaching users outside a turn: keeping their conversation references, and posting to them.

``ReferenceKeeper`` stores the conversation reference of every user who talks to the bot in a
one-to-one chat (``services/conversations.py``), and refreshes it when the service URL, the
language or the time zone changes; it records the team channels the bot is installed in, and
marks a conversation inactive when the bot is uninstalled from it. It remembers what it last
stored, per process and bounded, so an ordinary turn costs no write. ``Proactive.tell`` posts
into a user's latest conversation through the adapter's ``continue_conversation``, with the
bot's app id (platform notes).

Every proactive turn (``continue_in``: a notice, a reminder, the help desk's messages and the
journey it hands back) speaks the language of the conversation it continues: the one its user
last spoke there, as ``ReferenceKeeper`` stored it (their explicit choice included). The SDK's
continuation activity carries no locale; without one a turn would fall back to English for
anyone who never chose a language with "language" / "語言".
``ContactConfirmedNotifier`` is what the verification page calls once a primary contact has
confirmed: it tells the person who asked, in their chat, and offers the next step.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ConversationReference

from dialogs.notices import contact_confirmed
from dialogs.people import tenant_of
from dialogs.texts import texts, turn_locale
from services.contact_verification import Confirmation
from services.conversations import ConversationReferences, StoredReference, TeamChannel
from services.i18n import Translator
from services.membership import MembershipService

__all__ = [
    "ContactConfirmedNotifier",
    "Proactive",
    "ReferenceKeeper",
    "continue_in",
    "reference_of",
]

logger = logging.getLogger(__name__)

# What the connector answers for a conversation the bot can no longer post to: the bot was
# removed (403), or the conversation does not exist any more (404).
_GONE = frozenset({403, 404})
_REMEMBERED = 10_000  # (user, conversation) pairs whose stored reference this process knows


# Teams' conversation types; a channel without one (Web Chat, the emulator) is one-to-one.
PERSONAL = "personal"
CHANNEL = "channel"
GROUP_CHAT = "groupChat"


def user_id_of(activity: Activity) -> str | None:
    """The directory id of the activity's sender: Entra object id in Teams, else the id."""
    sender = activity.from_property
    if sender is None:
        return None
    return str(sender.aad_object_id or sender.id or "") or None


def _fingerprint(user_id: str, service_url: str, locale: str, timezone: str | None) -> int:
    return hash((user_id, service_url, locale, timezone))


class ReferenceKeeper:
    """Keep each user's conversation reference stored and fresh.

    A turn writes only when this process has not stored the conversation as it is now (service
    URL, language, time zone) within the last ``refresh``: so the stored ``updated_at`` says
    roughly when the user last talked there, and a reference another instance marked gone is
    stored again once the user is back, without a write on every turn.
    """

    def __init__(
        self,
        references: ConversationReferences,
        *,
        refresh: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.references = references
        self._refresh = refresh
        self._clock = clock
        # By the hash of the conversation id, with a hash of what was stored (the user, the
        # service URL, the language, the time zone): an entry is a few dozen bytes, so the
        # process's size stays flat however many conversations it meets (issue 9). A collision
        # (64 bits) could only skip one refresh of a stored reference.
        self._stored: OrderedDict[int, tuple[int, float]] = OrderedDict()

    async def keep(self, context: TurnContext) -> None:
        """Store this turn's reference unless this process stored it as it is, lately.

        A one-to-one chat's reference is the user's; a team channel's is refreshed in the
        channel's record (installing the bot there made it); a group chat's is not kept:
        a message meant for one user does not belong there.
        """
        activity = context.activity
        user_id = user_id_of(activity)
        if user_id is None or activity.conversation is None or not activity.service_url:
            return
        kind = activity.conversation.conversation_type or PERSONAL
        if kind not in (PERSONAL, CHANNEL):
            return
        conversation_id = str(activity.conversation.id)
        locale = turn_locale(context)
        timezone = activity.local_timezone or None
        fingerprint = _fingerprint(
            user_id if kind == PERSONAL else "", str(activity.service_url), locale.value, timezone
        )
        now = self._clock()
        key = hash(conversation_id)
        known = self._stored.get(key)
        if known is not None and known[0] == fingerprint and now - known[1] < self._refresh:
            self._stored.move_to_end(key)
            return
        document = TurnContext.get_conversation_reference(activity).serialize()
        if kind == CHANNEL:
            await self.references.channels.refresh(
                conversation_id, str(activity.service_url), document
            )
        else:
            await self.references.remember(
                StoredReference(
                    user_id=user_id,
                    conversation_id=conversation_id,
                    service_url=str(activity.service_url),
                    locale=locale.value,
                    timezone=timezone,
                    document=document,
                )
            )
        self._remember(conversation_id, fingerprint, now)

    async def record_channel(self, context: TurnContext, team_id: str, name: str) -> None:
        """The bot was installed in a team: record the channel it was installed in."""
        activity = context.activity
        conversation_id = str(activity.conversation.id)
        await self.references.channels.record(
            TeamChannel(
                channel_id=conversation_id,
                team_id=team_id,
                name=name,
                tenant_id=tenant_of(activity),
                service_url=str(activity.service_url or ""),
                document=TurnContext.get_conversation_reference(activity).serialize(),
                installed_by=user_id_of(activity),
            )
        )
        fingerprint = _fingerprint(
            "",
            str(activity.service_url),
            turn_locale(context).value,
            activity.local_timezone or None,
        )
        self._remember(conversation_id, fingerprint, self._clock())

    async def forget(self, user_id: str, conversation_id: str) -> None:
        """The conversation is gone: stop posting there until the user talks in it again."""
        self._stored.pop(hash(conversation_id), None)
        await self.references.forget(user_id, conversation_id)

    async def forget_conversation(self, conversation_id: str, team_id: str | None = None) -> None:
        """The bot was uninstalled from a conversation (and from its team): stop posting there."""
        self._stored.pop(hash(conversation_id), None)
        await self.references.forget_conversation(conversation_id)
        if team_id is not None:
            await self.references.channels.forget_team(team_id)

    def _remember(self, conversation_id: str, fingerprint: int, now: float) -> None:
        key = hash(conversation_id)
        self._stored[key] = (fingerprint, now)
        self._stored.move_to_end(key)
        if len(self._stored) > _REMEMBERED:
            self._stored.popitem(last=False)


def reference_of(stored: StoredReference) -> ConversationReference:
    """A stored conversation's reference, with the language its user last spoke there."""
    reference = ConversationReference().deserialize(stored.document)
    reference.locale = stored.locale or reference.locale
    return reference


async def continue_in(
    adapter: BotAdapter,
    app_id: str,
    reference: ConversationReference,
    callback: Callable[[TurnContext], Awaitable[None]],
) -> Exception | None:
    """Run ``callback`` in a proactive turn of the conversation, in its language.

    The turn's activity carries the reference's locale, so the turn's language is resolved as
    any turn's is (``dialogs.texts``). Returns what failed, if anything: caught here, because
    the adapter would otherwise hand the error to on_turn_error, which apologises into the very
    conversation that just failed.
    """
    failures: list[Exception] = []

    async def run(context: TurnContext) -> None:
        context.activity.locale = reference.locale or context.activity.locale
        try:
            await callback(context)
        except Exception as error:
            failures.append(error)

    try:
        await adapter.continue_conversation(reference, run, app_id)
    except Exception as error:  # the credentials or the connector could not be had
        failures.append(error)
    return failures[0] if failures else None


class Proactive:
    """Post a message into a user's latest conversation with the bot."""

    def __init__(self, adapter: BotAdapter, app_id: str, keeper: ReferenceKeeper) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._keeper = keeper

    async def tell(self, user_id: str, message: Callable[[Translator], Activity | str]) -> bool:
        """Send ``message(t)`` in the user's language; False when the bot cannot reach them."""
        stored = await self._keeper.references.latest_for(user_id)
        if stored is None:
            logger.info("no conversation to reach a user in", extra={"user_id": user_id})
            return False

        async def send(context: TurnContext) -> None:
            await context.send_activity(message(texts(context)))

        failure = await continue_in(self._adapter, self._app_id, reference_of(stored), send)
        if failure is None:
            return True
        status = getattr(getattr(failure, "response", None), "status_code", None)
        logger.warning(
            "could not post to a user's conversation: %s (HTTP %s)",
            type(failure).__name__,
            status,
            extra={"user_id": user_id},
        )
        if status in _GONE:  # the channel may also be away for a while: then keep it
            await self._keeper.forget(user_id, stored.conversation_id)
        return False


class ContactConfirmedNotifier:
    """Tell whoever asked for a contact verification that the contact confirmed."""

    def __init__(self, proactive: Proactive, membership: MembershipService) -> None:
        self._proactive = proactive
        self._membership = membership

    async def __call__(self, confirmation: Confirmation) -> None:
        """Post the news, with a button to the journey's next step, to the requester's chat."""
        requester, organization_id = confirmation.requested_by, confirmation.organization_id
        if not confirmation.confirmed or requester is None or organization_id is None:
            return
        status = await self._membership.status(organization_id)
        goal = await self._membership.goal(organization_id, requester.id)
        await self._proactive.tell(
            requester.id, lambda t: contact_confirmed(t, confirmation, status, goal)
        )
