"""The help desk in Teams: a channel where requests for a person are claimed and answered.

``TeamsHelpDesk`` is the dialogs' ``HelpDesk`` (``dialogs/people.py``) over the ticket service
(``services/handoff.py``):

* **A request** opens a ticket (with the chat's last lines, ``bot/transcript.py``) and posts
  its card to the help-desk channel as a new thread: the thread is ``<channel id>;messageid=
  <the card's activity id>``, which the ticket keeps, with the card's id to update it in place.
  On Direct Line the bot also sends the Bot Framework ``handoff.initiate`` event, with the
  transcript attached (the Python SDK has no ``EventFactory`` for it: built here).
* **In the channel** (``on_help_desk_turn``), Claim and Resolve are taken from members of the
  help-desk team only, checked through Teams (the connector's ``GET /v3/conversations/{team}/
  members/{user}``: 403 or 404 is not a member); ``TeamsInfo.get_team_member`` would ask the
  activity's conversation, a thread, instead of the team. While a ticket is claimed, what the
  agents write in its thread goes to the user, attributed, and what the user writes goes to
  the thread (``relay_from_user``): the user's journey waits, its dialog state untouched, and
  resumes where it was once the ticket is resolved, followed by the rating card.
* **Waiting**: ``run`` posts the cards of requests made before a help-desk channel was set
  (``post_waiting``, also called as soon as the local chat page names one), raises a ticket
  unclaimed for a while again in its thread, and tells the user their place in the queue.

Posting outside the turn goes through ``continue_conversation`` with the bot's app id: to the
user's latest chat (``ReferenceKeeper``), or to the channel (the reference the bot stored when
it was installed there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Literal

from botbuilder.core import BotAdapter, StatePropertyAccessor, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
)
from botframework.connector.models import ErrorResponseException

from bot.proactive import (
    CHANNEL,
    GROUP_CHAT,
    ReferenceKeeper,
    continue_in,
    reference_of,
    user_id_of,
)
from bot.transcript import TranscriptRecorder
from dialogs.cards import message
from dialogs.handoff_cards import (
    CLAIM,
    RESOLVE,
    agent_joined,
    agent_message,
    rating_card,
    reached_help_desk_card,
    resolved_notice,
    still_waiting_card,
    ticket_card,
)
from dialogs.handoff_dialog import CANCEL_REQUEST, RATE
from dialogs.intents import recognize_score
from dialogs.people import HelpRequest
from dialogs.texts import speak_in, texts, turn_locale
from services.clock import Clock
from services.errors import NotFound
from services.handoff import (
    AlreadyClaimed,
    HandoffService,
    HelpDeskChannel,
    Ticket,
    TicketClosed,
    TicketReason,
    TicketStatus,
    TranscriptLine,
)
from services.i18n import N_, Locale, Translator, translator
from services.membership import MembershipService, OrganizationStatus

__all__ = ["HANDOFF_INITIATE", "HANDOFF_STATUS", "TeamsHelpDesk"]

logger = logging.getLogger(__name__)

_THREAD = ";messageid="
_NOT_MEMBER = frozenset({403, 404})
_DIRECT_LINE = "directline"
HANDOFF_INITIATE = "handoff.initiate"
RATING = "HelpDeskRating"  # the conversation state's property: the ticket a rating is asked for
HANDOFF_STATUS = "handoff.status"

ONLY_MEMBERS = N_("Only members of the help-desk team can claim or resolve requests.")
CLAIMED_IN_THREAD = N_(
    "{agent} claimed {number}. What the user writes appears in this thread; reply here to "
    "answer them."
)
ALREADY_CLAIMED = N_("{number} was already claimed by {agent}.")
CLOSED = N_("{number} is closed: nothing to do.")
NO_TICKET = N_("I can't find that request.")
CLAIM_FIRST = N_("Claim {number} first: then what you write here goes to the user.")
STILL_WAITING = N_("Still waiting: {number}, unclaimed for {minutes} min.")
USER_CANCELLED = N_("{name} cancelled the request {number}.")
USER_SAYS = "{name}: {text}"  # the user's own words, in the thread: nothing to translate

Then = Callable[[TurnContext], Awaitable[None]]
# Ask the user's paused question again, then ``Then`` (with the chat's state loaded and saved).
Resume = Callable[[TurnContext, Then], Awaitable[None]]
Say = Callable[[TurnContext, Translator], Awaitable[None]]  # posts into the user's chat
Sender = Literal["user", "bot", "agent"]


def _base_channel(conversation_id: str) -> str:
    return conversation_id.partition(_THREAD)[0]


class TeamsHelpDesk:
    """The ``HelpDesk`` the dialogs call, and the bot's side of the help-desk channel."""

    def __init__(
        self,
        handoff: HandoffService,
        adapter: BotAdapter,
        app_id: str,
        keeper: ReferenceKeeper,
        clock: Clock,
        *,
        membership: MembershipService,
        transcript: TranscriptRecorder | None = None,
        resume: Resume | None = None,
        asked: StatePropertyAccessor | None = None,
        rating: StatePropertyAccessor | None = None,
        locale: Locale = Locale.EN_US,
    ) -> None:
        self.handoff = handoff
        self._adapter = adapter
        self._app_id = app_id
        self._keeper = keeper
        self._clock = clock
        self._membership = membership  # the ticket card names the organization as it is now
        self._transcript = transcript
        self._resume = resume
        # A note in the conversation's state that its user asked for a person: without it, a
        # message needs no ticket lookup (most turns of most chats). None: always look.
        self._asked = asked
        # The ticket whose rating the user was just asked for, in the conversation's state.
        self._rating = rating
        self._desk = translator(locale)  # the help desk's language

    # The user's side (the dialogs call these)

    async def request(
        self,
        context: TurnContext,
        *,
        reason: TicketReason,
        organization_id: str | None,
        journey: str | None,
        step: str | None,
    ) -> HelpRequest:
        """Open (or find) this user's ticket; post its card to the help desk when it is new."""
        activity = context.activity
        requester = user_id_of(activity) or ""
        name = (activity.from_property.name if activity.from_property else None) or requester
        lines = await self._transcript.lines(context) if self._transcript is not None else []
        ticket, created = await self.handoff.open(
            requester,
            name,
            str(activity.conversation.id),
            organization_id,
            journey,
            step,
            reason,
            turn_locale(context).value,
            lines,
        )
        channel = await self.handoff.help_desk()
        if created and channel is not None:
            ticket = await self._post_card(channel, ticket)
        if created and activity.channel_id == _DIRECT_LINE:
            await context.send_activity(_handoff_initiation(ticket))
        if self._asked is not None:
            await self._asked.set(context, ticket.id)
        position = await self.handoff.position(ticket.id)
        return HelpRequest(ticket, position, created, help_desk=channel is not None)

    async def cancel(self, context: TurnContext) -> Ticket | None:
        """Withdraw the user's request: the card says so; a claimed thread is told."""
        claimed = await self.handoff.active_for(user_id_of(context.activity) or "")
        ticket = await self.handoff.cancel(user_id_of(context.activity) or "")
        if ticket is None:
            return None
        channel = await self.handoff.help_desk()
        if channel is not None:
            await self._update_card(channel, ticket)
            if claimed is not None and claimed.status is TicketStatus.CLAIMED and ticket.thread_id:
                text = self._desk.gettext(
                    USER_CANCELLED, name=ticket.requester_name, number=ticket.number
                )
                await self._post_in(channel, ticket.thread_id, text)
        return ticket

    async def rate(self, context: TurnContext, ticket_id: int, score: int) -> Ticket:
        """Keep the user's rating of the help they had."""
        return await self.handoff.rate(ticket_id, user_id_of(context.activity) or "", score)

    async def rating_from_text(self, context: TurnContext) -> None:
        """Just after the rating question, a typed score is the rating: it becomes the click
        of that score's button (the dialogs answer it); the question is asked once."""
        if self._rating is None or context.activity.type != ActivityTypes.message:
            return
        ticket_id = await self._rating.get(context)
        if ticket_id is None:
            return
        await self._rating.delete(context)
        activity = context.activity
        score = recognize_score(activity.text) if activity.value is None else None
        if score is not None:
            activity.value = {"action": RATE, "ticket": ticket_id, "score": score}

    async def waiting(self, context: TurnContext) -> Ticket | None:
        """This user's request still waiting for someone to take it, if any."""
        if self._asked is not None and await self._asked.get(context) is None:
            return None  # this chat never asked for a person (or its request has ended)
        ticket = await self.handoff.active_for(user_id_of(context.activity) or "")
        return ticket if ticket is not None and ticket.status is TicketStatus.OPEN else None

    async def relay_from_user(self, context: TurnContext) -> bool:
        """While an agent has the user's ticket, pass what they write to its thread.

        True: relayed, the dialogs must not run (the journey waits as it was). A waiting
        request, or a click on the help desk's own buttons, is left to the dialogs.
        """
        activity = context.activity
        conversation = activity.conversation
        if activity.type != ActivityTypes.message or conversation is None:
            return False
        if conversation.conversation_type in (CHANNEL, GROUP_CHAT):
            return False  # the request's chat is the one-to-one chat
        value = activity.value if isinstance(activity.value, dict) else {}
        if value.get("action") in (CANCEL_REQUEST.action, RATE):
            return False
        requester = user_id_of(activity)
        if requester is None:
            return False
        if self._asked is not None and await self._asked.get(context) is None:
            return False  # this chat never asked for a person (or its request has ended)
        ticket = await self.handoff.active_for(requester)
        if ticket is None and self._asked is not None:
            await self._asked.delete(context)  # the request ended: stop looking
        if ticket is None or ticket.status is not TicketStatus.CLAIMED:
            return False
        text = (activity.text or "").strip()
        if not text:
            return True
        channel = await self.handoff.help_desk()
        if channel is not None and ticket.thread_id:
            await self._post_in(
                channel, ticket.thread_id, USER_SAYS.format(name=ticket.requester_name, text=text)
            )
        await self._append(ticket, "user", text)
        return True

    # The help desk's side

    async def on_help_desk_turn(self, context: TurnContext) -> bool:
        """Take a turn in the help-desk channel (True: the dialogs must not answer it)."""
        activity = context.activity
        conversation = activity.conversation
        if conversation is None or conversation.conversation_type != CHANNEL:
            return False
        channel = await self.handoff.help_desk()
        if channel is None or _base_channel(str(conversation.id)) != channel.channel_id:
            return False
        speak_in(context, self._desk.locale)  # whatever language the agent's Teams is in
        value = activity.value if isinstance(activity.value, dict) else {}
        if value.get("action") in (CLAIM, RESOLVE):
            await self._agent_action(context, channel, str(value["action"]), value.get("ticket"))
        elif activity.type == ActivityTypes.message and _THREAD in str(conversation.id):
            await self._relay_from_agent(context, channel)
        return True  # other chatter in the help desk's channel is the agents' own

    async def on_handoff_status(self, context: TurnContext) -> None:
        """A Direct Line hub's ``handoff.status`` (accepted, failed, completed): noted."""
        value = context.activity.value if isinstance(context.activity.value, dict) else {}
        logger.info(
            "handoff status from the channel",
            extra={"state": value.get("state"), "user_id": user_id_of(context.activity)},
        )

    async def _agent_action(
        self, context: TurnContext, channel: HelpDeskChannel, action: str, raw_id: object
    ) -> None:
        t = self._desk
        try:
            ticket_id = int(str(raw_id))
            before = await self.handoff.get(ticket_id)
        except (ValueError, NotFound):
            await context.send_activity(t.gettext(NO_TICKET))
            return
        if not await self._is_member(context, channel.team_id):
            await context.send_activity(t.gettext(ONLY_MEMBERS))
            return
        sender = context.activity.from_property
        agent_id = user_id_of(context.activity) or ""
        agent_name = (sender.name if sender else None) or agent_id
        try:
            if action == CLAIM:
                ticket = await self.handoff.claim(ticket_id, agent_id, agent_name, is_agent=True)
            else:
                ticket = await self.handoff.resolve(
                    ticket_id, agent_id, is_agent=True, agent_name=agent_name
                )
        except AlreadyClaimed as taken:
            await context.send_activity(
                t.gettext(ALREADY_CLAIMED, number=before.number, agent=taken.by)
            )
            return
        except TicketClosed:
            await context.send_activity(t.gettext(CLOSED, number=before.number))
            return
        await self._update_card(channel, ticket)
        if action == CLAIM and before.status is TicketStatus.OPEN:
            await context.send_activity(
                t.gettext(CLAIMED_IN_THREAD, agent=agent_name, number=ticket.number)
            )
            await self._in_user_chat(ticket, _send(lambda t: agent_joined(t, ticket)))
        elif action == RESOLVE and before.status is not TicketStatus.RESOLVED:
            await self._in_user_chat(ticket, self._hand_back(ticket))

    async def _relay_from_agent(self, context: TurnContext, channel: HelpDeskChannel) -> None:
        activity = context.activity
        text = (activity.text or "").strip()
        if not text:
            return
        ticket = await self.handoff.by_thread(str(activity.conversation.id))
        if ticket is None or not ticket.active:
            return
        if ticket.status is TicketStatus.OPEN:
            await context.send_activity(self._desk.gettext(CLAIM_FIRST, number=ticket.number))
            return
        agent_id = user_id_of(activity)
        if agent_id != ticket.agent_id and not await self._is_member(context, channel.team_id):
            return  # someone outside the help desk, writing in its channel
        sender = activity.from_property
        agent = (sender.name if sender else None) or ticket.agent_name or ""
        delivered = await self._in_user_chat(ticket, _send(lambda t: agent_message(t, agent, text)))
        if delivered:
            await self._append(ticket, "agent", f"{agent}: {text}")

    def _hand_back(self, ticket: Ticket) -> Say:
        async def ask_rating(context: TurnContext) -> None:
            await context.send_activity(message(rating_card(texts(context), ticket)))
            if self._rating is not None:
                await self._rating.set(context, ticket.id)

        async def hand_back(context: TurnContext, t: Translator) -> None:
            await context.send_activity(resolved_notice(t, ticket))
            if self._resume is not None:
                await self._resume(context, ask_rating)  # the journey's question, then the rating
            else:
                await ask_rating(context)

        return hand_back

    async def _is_member(self, context: TurnContext, team_id: str) -> bool:
        """Whether the turn's sender is a member of the help-desk team, asked of Teams."""
        sender = context.activity.from_property
        connector: Any = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if sender is None or not sender.id or connector is None:
            return False
        try:
            await connector.conversations.get_conversation_member(team_id, sender.id)
        except ErrorResponseException as error:
            status = getattr(error.response, "status_code", None)
            if status not in _NOT_MEMBER:
                logger.warning("could not look up a help-desk team member (HTTP %s)", status)
            return False
        return True

    # Waiting

    async def post_waiting(self) -> int:
        """Post the cards of the requests that wait without one (made while no help-desk
        channel was set, or whose card could not be posted); tell their users. How many."""
        channel = await self.handoff.help_desk()
        if channel is None:
            return 0
        posted = 0
        for waiting in await self.handoff.due_for_posting():
            ticket = await self._post_card(channel, waiting)
            if ticket.channel_message_id is None:
                continue  # not posted: tried again once its lease runs out
            posted += 1
            position = await self.handoff.position(ticket.id)
            await self._in_user_chat(ticket, _send(partial(_reached, ticket, position)))
        return posted

    async def run_once(self) -> int:
        """Post the waiting cards, raise the tickets waiting too long again; tell their users.
        How many were raised again."""
        await self.post_waiting()
        raised = 0
        for ticket in await self.handoff.due_for_reraise():
            channel = await self.handoff.help_desk()
            if channel is not None and ticket.thread_id:
                waited = self._minutes_waiting(ticket)
                text = self._desk.gettext(STILL_WAITING, number=ticket.number, minutes=waited)
                await self._post_in(channel, ticket.thread_id, text)
            again = await self.handoff.reraised(ticket.id)
            if again is None:
                continue  # claimed or closed meanwhile
            raised += 1
            position = await self.handoff.position(ticket.id)
            await self._in_user_chat(again, _send(partial(_still_waiting, again, position)))
            if channel is not None:
                await self._update_card(channel, again)
        return raised

    def _minutes_waiting(self, ticket: Ticket) -> int:
        """Whole minutes since the ticket was opened."""
        return max(0, int((self._clock.now() - ticket.created_at).total_seconds() // 60))

    async def run(self, stop: asyncio.Event, interval: float = 60.0) -> None:
        """Raise waiting tickets every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the database or the connector may be away for a while
                logger.exception("help-desk pass failed; trying again later")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await stop.wait()

    # Posting outside the turn

    async def _post_card(self, channel: HelpDeskChannel, ticket: Ticket) -> Ticket:
        """Post the ticket's card to the channel as a new thread, and keep where it is."""
        ids: list[str] = []
        card = await self._ticket_card(ticket)

        async def post(context: TurnContext) -> None:
            context.activity.id = None  # a new thread, not a reply to anything
            response = await context.send_activity(message(card))
            if response is not None and response.id:
                ids.append(response.id)

        if not await self._in_channel(channel, channel.channel_id, post) or not ids:
            return ticket
        thread = f"{channel.channel_id}{_THREAD}{ids[0]}"
        return await self.handoff.posted(ticket.id, ids[0], thread)

    async def _ticket_card(self, ticket: Ticket) -> dict[str, Any]:
        """The ticket's card, in the help desk's language."""
        organization: OrganizationStatus | None = None
        if ticket.organization_id is not None:
            try:
                organization = await self._membership.status(ticket.organization_id)
            except NotFound:
                logger.warning("a ticket's organization has no record",
                               extra={"ticket": ticket.number})  # fmt: skip
        return ticket_card(self._desk, ticket, organization)

    async def _post_in(self, channel: HelpDeskChannel, conversation_id: str, text: str) -> None:
        async def post(context: TurnContext) -> None:
            context.activity.id = None
            await context.send_activity(text)

        await self._in_channel(channel, conversation_id, post)

    async def _update_card(self, channel: HelpDeskChannel, ticket: Ticket) -> None:
        if ticket.channel_message_id is None:
            return
        card_id = ticket.channel_message_id
        card = await self._ticket_card(ticket)

        async def update(context: TurnContext) -> None:
            activity = message(card)
            activity.id = card_id
            await context.update_activity(activity)

        await self._in_channel(channel, channel.channel_id, update)

    async def _in_channel(
        self,
        channel: HelpDeskChannel,
        conversation_id: str,
        callback: Callable[[TurnContext], Awaitable[None]],
    ) -> bool:
        """Run ``callback`` in the help-desk channel (or one of its threads); False if it failed."""
        reference = _channel_reference(channel, conversation_id)
        reference.locale = self._desk.locale.value  # the help desk's, whoever installed the bot
        return await self._continue(reference, callback, where="the help-desk channel")

    async def _in_user_chat(self, ticket: Ticket, say: Say) -> bool:
        """Post to the ticket's user in their latest chat, in the language they last spoke."""
        stored = await self._keeper.references.latest_for(ticket.requester_id)
        if stored is None:
            logger.info("no conversation to reach a help-desk requester in",
                        extra={"ticket": ticket.number})  # fmt: skip
            return False

        async def post(turn: TurnContext) -> None:
            await say(turn, texts(turn))

        return await self._continue(reference_of(stored), post, where="a requester's chat")

    async def _continue(
        self,
        reference: ConversationReference,
        callback: Callable[[TurnContext], Awaitable[None]],
        *,
        where: str,
    ) -> bool:
        failure = await continue_in(self._adapter, self._app_id, reference, callback)
        if failure is None:
            return True
        status = getattr(getattr(failure, "response", None), "status_code", None)
        logger.warning("could not post to %s: %s (HTTP %s)", where,
                       type(failure).__name__, status, exc_info=failure)  # fmt: skip
        return False

    async def _append(self, ticket: Ticket, sender: Sender, text: str) -> None:
        line = TranscriptLine(at=self._clock.now(), sender=sender, text=text)
        try:
            await self.handoff.append(ticket.id, line)
        except TicketClosed:
            pass  # resolved while the message was on its way: it was still delivered


def _still_waiting(ticket: Ticket, position: int, t: Translator) -> Activity:
    return message(still_waiting_card(t, ticket, position))


def _reached(ticket: Ticket, position: int, t: Translator) -> Activity:
    return message(reached_help_desk_card(t, ticket, position))


def _send(build: Callable[[Translator], Activity | str]) -> Say:
    """Say one message, built in the user's language."""

    async def send(context: TurnContext, t: Translator) -> None:
        await context.send_activity(build(t))

    return send


def _channel_reference(channel: HelpDeskChannel, conversation_id: str) -> ConversationReference:
    """The channel's stored reference (or one made from the setting), aimed at a thread."""
    if channel.document is not None:
        reference = ConversationReference().deserialize(channel.document)
    else:
        reference = ConversationReference(
            channel_id="msteams",
            service_url=channel.service_url,
            bot=ChannelAccount(id=""),
            conversation=ConversationAccount(
                id=channel.channel_id, is_group=True, conversation_type=CHANNEL,
                tenant_id=channel.tenant_id,
            ),
        )  # fmt: skip
    reference.service_url = channel.service_url or reference.service_url
    reference.activity_id = None
    conversation = reference.conversation or ConversationAccount()
    reference.conversation = ConversationAccount(
        id=conversation_id,
        is_group=True,
        conversation_type=CHANNEL,
        tenant_id=conversation.tenant_id or channel.tenant_id,
    )
    return reference


def _handoff_initiation(ticket: Ticket) -> Activity:
    """The Bot Framework ``handoff.initiate`` event, the transcript attached."""
    activities = [
        {
            "type": ActivityTypes.message,
            "text": line.text,
            "timestamp": line.at.isoformat(),
            "from": {"role": "user" if line.sender == "user" else "bot"},
        }
        for line in ticket.transcript
    ]
    return Activity(
        type=ActivityTypes.event,
        name=HANDOFF_INITIATE,
        value={
            "ticket": ticket.number,
            "reason": ticket.reason.value,
            "journey": ticket.journey,
            "step": ticket.step,
            "organizationId": ticket.organization_id,
        },
        attachments=[
            Attachment(
                content_type="application/json",
                name="Transcript",
                content={"activities": activities},
            )
        ],
    )
