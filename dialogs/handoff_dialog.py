"""Asking for a person, at any step: the request, the place in the queue, cancel and rating.

A user reaches the help desk three ways, all ending in ``ask_for_person``:

* they ask: the menu's "Talk to a person", or typing it (or 真人客服) as a whole message at
  any step (an interruption: the step is asked again afterwards, nothing is lost);
* a step's answer was not understood twice in a row: the second re-prompt carries a
  "Talk to a person" button (``prompts.LocalizedTextPrompt``), reason ``validation``;
* a turn failed: the apology carries the same button (``bot/adapter.py``), reason ``error``.

The help desk itself (its Teams channel, claiming, relaying) is the bot layer's
``HelpDesk``. This module says what happened in the user's words, and answers the two buttons
the user gets from it: "Cancel the request" and the 1 to 5 rating after the help.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.cards import Option, card_action, choice_card, message
from dialogs.people import JourneyServices
from dialogs.texts import texts
from services.errors import ServiceError
from services.handoff import TicketReason, TicketStatus
from services.i18n import N_

__all__ = [
    "CANCEL_REQUEST",
    "KEEP_REQUEST",
    "RATE",
    "WITHDRAW_QUESTION",
    "WITHDRAW_REQUEST",
    "answer_handoff_action",
    "ask_for_person",
    "handoff_action",
    "reason_of",
    "stack_ids",
    "where_in",
    "withdraw_request",
]

logger = logging.getLogger(__name__)

CANCEL_REQUEST = Option("handoff.cancel", N_("Cancel the request"))
# Typing cancel while a request waits: it stops what was under way, then asks about the request.
WITHDRAW_REQUEST = Option("handoff.withdraw", N_("Yes, withdraw it"))
KEEP_REQUEST = Option("handoff.keep", N_("No, keep it"))
WITHDRAW_QUESTION = N_(
    "You are also waiting for a person (request {number}). Withdraw that request?"
)
RATE = "handoff.rate"  # with "ticket" and "score" (the rating card, built by the bot layer)

NO_HELP_DESK = N_(
    "I can't bring a person in here: no help desk is connected to this assistant yet. Partner "
    "Center support can help: https://partner.microsoft.com/support"
)
NO_CHANNEL = N_(
    "I've recorded your request {number}, but no help-desk channel is set up yet, so nobody "
    "may see it soon. Partner Center support can help meanwhile: "
    "https://partner.microsoft.com/support"
)
QUEUED = N_(
    "I've asked the help desk for a person (request {number}). You are number {position} in "
    "the queue; I'll tell you here as soon as someone joins. Meanwhile we can carry on."
)
ALREADY_QUEUED = N_(
    "You've already asked for a person (request {number}): you are number {position} in the "
    "queue. I'll tell you here as soon as someone joins."
)
ALREADY_WITH_YOU = N_(
    "{agent} from the help desk is already with you (request {number}): write here and they "
    "will read it."
)
_REASONS = {reason.value: reason for reason in TicketReason}


async def ask_for_person(
    context: TurnContext,
    services: JourneyServices | None,
    reason: TicketReason,
    *,
    journey: str | None = None,
    step: str | None = None,
) -> None:
    """Open (or find) the user's request for a person and say where it stands."""
    t = texts(context)
    help_desk = services.help_desk if services is not None else None
    if services is None or help_desk is None:
        await context.send_activity(t.gettext(NO_HELP_DESK))
        return
    organization_id = None
    if (user := await services.user(context)) is not None:
        organization_id = await services.organization_of(user)
    request = await help_desk.request(
        context, reason=reason, organization_id=organization_id, journey=journey, step=step
    )
    ticket = request.ticket
    if not request.help_desk:
        await context.send_activity(t.gettext(NO_CHANNEL, number=ticket.number))
        return
    if ticket.status is TicketStatus.CLAIMED:
        text = t.gettext(ALREADY_WITH_YOU, agent=ticket.agent_name or "", number=ticket.number)
        await context.send_activity(text)
        return
    source = QUEUED if request.created else ALREADY_QUEUED
    text = t.gettext(source, number=ticket.number, position=request.position)
    await context.send_activity(message(choice_card(t, text, [CANCEL_REQUEST])))


def handoff_action(value: object) -> str | None:
    """The user-side handoff button a card sent (cancel, or a rating), if it is one."""
    action = value.get("action") if isinstance(value, dict) else None
    return action if action in (CANCEL_REQUEST.action, RATE) else None


async def answer_handoff_action(
    context: TurnContext, services: JourneyServices | None, action: str
) -> None:
    """Withdraw the user's request, or keep their rating of the help they had."""
    t = texts(context)
    help_desk = services.help_desk if services is not None else None
    if help_desk is None:
        await context.send_activity(t.gettext(NO_HELP_DESK))
        return
    if action == CANCEL_REQUEST.action:
        await withdraw_request(context, services)
        return
    value: dict[str, Any] = context.activity.value
    try:
        ticket_id, score = int(value.get("ticket", "")), int(value.get("score", ""))
        await help_desk.rate(context, ticket_id, score)
    except (ValueError, TypeError, ServiceError) as refused:
        logger.info("rating refused: %s", type(refused).__name__)
        await context.send_activity(t.gettext("I couldn't record that rating, sorry."))
        return
    await context.send_activity(
        t.gettext("Thank you! I've noted {score} out of 5 for the help you had.", score=score)
    )


async def withdraw_request(context: TurnContext, services: JourneyServices | None) -> None:
    """Withdraw the user's request for a person, and say so."""
    t = texts(context)
    help_desk = services.help_desk if services is not None else None
    ticket = await help_desk.cancel(context) if help_desk is not None else None
    if ticket is None:
        await context.send_activity(t.gettext("You have no request for a person waiting."))
    else:
        await context.send_activity(
            t.gettext("OK, I've withdrawn your request {number}.", number=ticket.number)
        )


def reason_of(context: TurnContext) -> TicketReason:
    """Why the user asks: what the button they clicked says, else because they asked."""
    value = context.activity.value
    if card_action(context.activity) is not None and isinstance(value, dict):
        return _REASONS.get(str(value.get("reason")), TicketReason.ASKED)
    return TicketReason.ASKED


def stack_ids(dialog_context: DialogContext) -> list[str]:
    """The ids of the dialogs under way, outermost first, down to the one waiting.

    Component dialogs keep their inner stack in their instance's state (``dialogs``), which
    ``DialogContext.child`` does not follow in this SDK; the stacks are walked here instead.
    """
    ids: list[str] = []
    stack = dialog_context.stack
    while stack:
        instance = stack[0]
        ids.append(instance.id)
        inner = instance.state.get("dialogs") if isinstance(instance.state, dict) else None
        stack = getattr(inner, "dialog_stack", None) or []
    return ids


def where_in(dialog_context: DialogContext) -> tuple[str | None, str | None]:
    """The journey under way (its dialog's id) and the step waiting (the innermost dialog)."""
    ids = stack_ids(dialog_context)
    journey = next((i for i in ids if i.endswith("Dialog")), None)
    return journey, ids[-1] if ids else None
