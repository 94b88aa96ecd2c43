"""What the help desk shows: the ticket card in its Teams channel, and the user's notices.

The ticket card (``ticket_card``) is posted to the help-desk channel as a new thread and
updated in place as the ticket moves (open, claimed, resolved, cancelled); it is all in the
help desk's language (``HELP_DESK_LOCALE``) but for the conversation it quotes. Its buttons
send ``{"action": "handoff.claim" | "handoff.resolve", "ticket": <id>}``. The user's side is
in the user's language: an agent joined, an agent's message, the request is resolved, still
waiting; and the rating card, whose buttons send ``{"action": "handoff.rate", "ticket": <id>,
"score": <1..5>}`` (``dialogs/handoff_dialog.py`` answers them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# The module, not its names: an imported ``Option`` would count as this module's own.
from dialogs import handoff_dialog
from dialogs.cards import _action_sets, _button, _card, _text, choice_card
from dialogs.intents import JOURNEY_LABELS, Intent
from services.handoff import Ticket, TicketReason, TicketStatus
from services.i18n import N_, Locale, Translator
from services.membership import OrganizationStatus

__all__ = [
    "CLAIM",
    "CLAIM_LABEL",
    "JOURNEYS",
    "RESOLVE",
    "RESOLVE_LABEL",
    "agent_joined",
    "agent_message",
    "rating_card",
    "reached_help_desk_card",
    "resolved_notice",
    "still_waiting_card",
    "ticket_card",
]

CLAIM = "handoff.claim"
RESOLVE = "handoff.resolve"
CLAIM_LABEL, RESOLVE_LABEL = N_("Claim"), N_("Resolve")  # the ticket card's buttons

_REASONS = {
    TicketReason.ASKED: N_("The user asked for a person"),
    TicketReason.VALIDATION: N_("An answer was not understood twice in a row"),
    TicketReason.ERROR: N_("Something went wrong on the bot's side"),
}
_STATUSES = {
    TicketStatus.OPEN: N_("Waiting for someone to claim it"),
    TicketStatus.CLAIMED: N_("Claimed by {agent}"),
    TicketStatus.RESOLVED: N_("Resolved by {agent}"),
    TicketStatus.ABANDONED: N_("Cancelled by the user"),
}
_SENDERS = {"user": N_("User"), "bot": N_("Bot"), "agent": N_("Agent")}
_LANGUAGES = {Locale.EN_US: N_("English"), Locale.ZH_TW: N_("Traditional Chinese")}
# The journeys a request may come from, by the dialog id the ticket keeps: named as the menu
# names them.
JOURNEYS = {
    "CreateAccountDialog": Intent.CREATE_ACCOUNT,
    "RenewDialog": Intent.RENEW,
    "VerifyContactDialog": Intent.VERIFY_CONTACT,
    "AgreementDialog": Intent.ACCEPT_AGREEMENT,
    "AdminAgentDialog": Intent.ADMIN_AGENT,
    "BenefitsDialog": Intent.BENEFITS,
    "StatusDialog": Intent.STATUS,
}
_SCORES = ("1", "2", "3", "4", "5")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def _ticket_button(title: str, action: str, ticket_id: int, **numbers: int) -> dict[str, Any]:
    """A ``_button`` whose ticket (and score) are numbers, as the action ids say."""
    button = _button(title, action)
    extra: dict[str, Any] = {"ticket": ticket_id, **numbers}
    button["data"].update(extra)
    button["data"]["msteams"]["value"].update(extra)
    return button


def ticket_card(
    t: Translator, ticket: Ticket, organization: OrganizationStatus | None
) -> dict[str, Any]:
    """The help-desk channel's card for ``ticket``: who asked, for which organization (its
    record as it is now, if found), where, why, what was said."""
    agent = ticket.agent_name or ticket.agent_id or ""
    status = t.gettext(_STATUSES[ticket.status], agent=agent)
    facts = [
        (t.gettext("Requester"), ticket.requester_name),
        (t.gettext("Organization"), _organization(t, ticket, organization)),
        (t.gettext("Journey"), _journey(t, ticket.journey)),
        (t.gettext("Reason"), t.gettext(_REASONS[ticket.reason])),
        (t.gettext("Language"), t.gettext(_LANGUAGES[ticket.locale])),
        (t.gettext("Status"), status),
        (t.gettext("Opened"), _when(ticket.created_at)),
    ]
    if organization is not None and organization.membership is not None:
        # What the agent looks the partner up by in Partner Center.
        facts.insert(2, (t.gettext("MPN ID"), organization.membership.mpn_id))
    if ticket.claimed_at is not None:
        facts.append((t.gettext("Claimed"), _when(ticket.claimed_at)))
    if ticket.resolved_at is not None:
        facts.append((t.gettext("Ended"), _when(ticket.resolved_at)))
    if ticket.raise_count:
        facts.append((t.gettext("Raised again"), str(ticket.raise_count)))
    body: list[dict[str, Any]] = [
        _text(
            t.gettext("Request {number}: {name}", number=ticket.number, name=ticket.requester_name),
            weight="Bolder",
            size="Medium",
        ),
        {"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in facts]},
    ]
    if ticket.transcript:
        body.append(_text(t.gettext("The conversation so far"), weight="Bolder"))
        body += [
            _text(f"{t.gettext(_SENDERS[line.sender])}: {line.text}", spacing="None")
            for line in ticket.transcript
        ]
    buttons = []
    if ticket.status is TicketStatus.OPEN:
        buttons.append(_ticket_button(t.gettext(CLAIM_LABEL), CLAIM, ticket.id))
    if ticket.active:
        buttons.append(_ticket_button(t.gettext(RESOLVE_LABEL), RESOLVE, ticket.id))
    return _card([*body, *_action_sets(buttons)])


def _organization(t: Translator, ticket: Ticket, organization: OrganizationStatus | None) -> str:
    """The organization's legal name; its id only when its record is gone."""
    if organization is not None:
        return organization.legal_name
    return ticket.organization_id or t.gettext("not known")


def _journey(t: Translator, journey: str | None) -> str:
    """The journey a request came from, as the menu calls it (the menu itself: none)."""
    if journey is None:
        return t.gettext("none")
    intent = JOURNEYS.get(journey)
    return t.gettext(JOURNEY_LABELS[intent]) if intent is not None else journey


def rating_card(t: Translator, ticket: Ticket) -> dict[str, Any]:
    """Ask the user to rate the help they had, 1 to 5."""
    question = t.gettext(
        "How would you rate the help you had with request {number}? (1: poor, 5: excellent)",
        number=ticket.number,
    )
    buttons = [
        _ticket_button(score, handoff_dialog.RATE, ticket.id, score=int(score)) for score in _SCORES
    ]
    return _card([_text(question), *_action_sets(buttons)])


def agent_joined(t: Translator, ticket: Ticket) -> str:
    """The user's notice that an agent took their request."""
    return t.gettext(
        "{agent} from the help desk has joined (request {number}). Write here: they read "
        "what you write, and I'll pass on their answers.",
        agent=ticket.agent_name or "",
        number=ticket.number,
    )


def agent_message(t: Translator, agent: str, text: str) -> str:
    """An agent's reply, as the user reads it."""
    return t.gettext("{agent} (help desk): {text}", agent=agent, text=text)


def resolved_notice(t: Translator, ticket: Ticket) -> str:
    """The user's notice that the help is over, before their journey resumes."""
    return t.gettext(
        "{agent} has marked your request {number} as resolved. Let's carry on where we were.",
        agent=ticket.agent_name or "",
        number=ticket.number,
    )


def reached_help_desk_card(t: Translator, ticket: Ticket, position: int) -> dict[str, Any]:
    """The user's notice that a request made before the help desk was set up now reached it."""
    text = t.gettext(
        "Your request {number} has reached the help desk: you are number {position} in the "
        "queue. I'll tell you here as soon as someone joins.",
        number=ticket.number,
        position=position,
    )
    return choice_card(t, text, [handoff_dialog.CANCEL_REQUEST])


def still_waiting_card(t: Translator, ticket: Ticket, position: int) -> dict[str, Any]:
    """The user's notice that their request is still waiting, with a way to withdraw it."""
    text = t.gettext(
        "Nobody has taken your request {number} yet: I've reminded the help desk. You are "
        "number {position} in the queue.",
        number=ticket.number,
        position=position,
    )
    return choice_card(t, text, [handoff_dialog.CANCEL_REQUEST])
