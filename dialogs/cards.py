"""Every card the bot sends, built in one place: Adaptive Cards 1.5 (what Teams renders).

Each builder returns the card as a JSON dict; ``message(card)`` wraps it in an activity. The
tests validate every builder, and every card a journey sends, against the 1.5 schema.

Buttons and the ``action`` they send
------------------------------------
Every button is an ``Action.Submit`` whose ``data`` carries ``{"action": <id>}``. Dialogs read
it with ``card_action(activity)`` before they look at typed text, so a click means the same in
every language and whatever the label says. Buttons that answer a question also carry
``msteams: {"type": "messageBack", "displayText": label, "text": label, "value": {"action":
<id>}}``: Teams then shows the user's pick in the chat as the label they clicked and still
gives the bot the id (in ``value``; ``text`` is only a fallback). Web Chat 4.18 sends an object
``data`` as a ``postBack`` (``value`` = ``data``, no text) and shows nothing in the transcript.

Action ids are stable: never translated, and unchanged when a label's wording changes.

* A menu item, or a button that opens a journey (the status card's "Continue", the notice's
  and the renewal card's buttons): the ``Intent`` value, e.g. ``"status"``, ``"verify_contact"``.
* The language buttons: the ``Intent`` value, ``"english"`` and ``"chinese"``.
* A question's option: ``"<flow>.<option>"``, declared beside its prompt as an ``Option``, e.g.
  ``Option("agreement.accept", N_("Accept"))``.
* The profile form: ``"submit_profile"`` and ``"cancel_profile"`` (these buttons submit the
  form's inputs, so they are plain ``Action.Submit`` without ``msteams``).
* The renewal reminder's and the status card's reminder buttons: ``ReminderAction``
  (``"reminders.snooze"``, ``"reminders.stop"``, ``"reminders.resume"``), with the
  ``organization_id`` they are about beside the ``action``; they work whatever is under way
  (``InterruptibleDialog``). The reminder's "Renew now" sends ``"renew"``, the menu's id.

An id that is not an option of the question being asked (a button on an older card) is an
unrecognized answer: the question is asked again.

One button is not an answer: "Chat with me one-to-one" (``open_chat_card``, in team channels
and group chats) is an ``Action.OpenUrl`` that opens the reader's chat with the bot in Teams.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity, ActivityTypes

from dialogs.intents import JOURNEY_LABELS, MENU_LABELS, Intent
from dialogs.journey_dialog import STEP_NAMES, TIER_NAMES
from services.benefits import Benefit, BenefitState
from services.contact_verification import Confirmation, VettingStatus, VettingSubStatus
from services.i18n import N_, Locale, Translator, in_language, translator
from services.membership import Goal, MembershipView, OrganizationStatus, Step, StepState
from services.profile import FIELDS, FieldError, countries, form_fields

__all__ = [
    "CANCEL_PROFILE",
    "CONTINUES",
    "FIELD_LABELS",
    "GOAL_JOURNEYS",
    "SUBMIT_PROFILE",
    "VERSION",
    "Option",
    "ReminderAction",
    "Words",
    "benefit_line",
    "benefits_card",
    "card_action",
    "choice_card",
    "contact_confirmed_card",
    "continue_card",
    "every_language",
    "in_words",
    "localized",
    "message",
    "offers_card",
    "open_chat_card",
    "order_paid_card",
    "profile_form",
    "renewal_card",
    "renewal_reminder_card",
    "status_card",
    "upgrade_card",
]

VERSION = "1.5"
SUBMIT_PROFILE = "submit_profile"
MANAGE_BENEFITS = "benefits.manage"  # the benefits' list, from the hub or the payment notice
CANCEL_PROFILE = "cancel_profile"
# Teams shows at most six buttons in one set of actions; longer lists are split into sets.
_MOST_BUTTONS_PER_SET = 6


# Words a person reads: an English source string (translated when shown), or a text already
# given in each language the bot speaks, by locale (a catalog's name: ``LocalizedText``).
Words = str | Mapping[str, str]


def in_words(t: Translator, words: Words) -> str:
    """``words`` in ``t``'s language."""
    if isinstance(words, str):
        return t.gettext(words)
    if text := words.get(t.locale.value):
        return in_language(text, t.locale)
    return next(iter(words.values()), "")


def localized(source: str, **values: Words) -> dict[str, str]:
    """``source`` with its placeholders filled, in each language the bot speaks (a label
    built from words of its own, put in the language of the moment when it is shown)."""
    return {
        locale.value: translator(locale).gettext(
            source, **{key: in_words(translator(locale), words) for key, words in values.items()}
        )
        for locale in Locale
    }


def every_language(words: Words) -> set[str]:
    """``words`` in each language the bot speaks (a typed answer may be in any of them)."""
    return {in_words(translator(locale), words) for locale in Locale}


@dataclass(frozen=True)
class Option:
    """One answer to a question: the stable id its button sends, and its label (``Words``)."""

    action: str
    label: Words = dataclasses.field(hash=False)  # hashed by its action: a label may be a dict


class ReminderAction(StrEnum):
    """What the renewal reminders' buttons ask for (with the ``organization_id``)."""

    SNOOZE = "reminders.snooze"
    STOP = "reminders.stop"
    RESUME = "reminders.resume"


# Which menu journey continues a pending step (the status card's and the notice's button).
CONTINUES = {
    Step.SIGN_IN: Intent.CREATE_ACCOUNT,
    Step.LEGAL_PROFILE: Intent.CREATE_ACCOUNT,
    Step.CONTACT_VERIFICATION: Intent.VERIFY_CONTACT,
    Step.AGREEMENT: Intent.ACCEPT_AGREEMENT,
    Step.ADMIN_AGENT: Intent.ADMIN_AGENT,
}

# Which journey does what a user set out to do.
GOAL_JOURNEYS = {Goal.RENEW: Intent.RENEW, Goal.UPGRADE: Intent.UPGRADE, Goal.BUY: Intent.BENEFITS}

FIELD_LABELS = {
    "legal_name": N_("Legal company name"),
    "address_line1": N_("Address line 1"),
    "address_line2": N_("Address line 2"),
    "city": N_("City"),
    "region": N_("State or region"),
    "postal_code": N_("Postal code"),
    "country": N_("Country or region"),
    "contact_first_name": N_("Primary contact's first name"),
    "contact_last_name": N_("Primary contact's last name"),
    "contact_email": N_("Primary contact's email"),
    "contact_phone": N_("Primary contact's phone"),
}
ERRORS = {
    FieldError.REQUIRED: N_("This field is required."),
    FieldError.TOO_LONG: N_("This is too long."),
    FieldError.EMAIL: N_("This is not a valid email address."),
    FieldError.PHONE: N_("This is not a valid phone number for the chosen country or region."),
    FieldError.COUNTRY: N_("Choose a country or region from the list."),
}
_STYLES = {"contact_email": "Email", "contact_phone": "Tel"}
_MARKS = {StepState.DONE: "✅", StepState.WAITING: "⏳", StepState.PENDING: "⬜"}


def message(card: dict[str, Any], *, input_hint: str | None = None) -> Activity:
    """A message activity that carries ``card``."""
    return MessageFactory.attachment(CardFactory.adaptive_card(card), input_hint=input_hint)


def card_action(activity: Activity) -> str | None:
    """The ``action`` id a card's button sent with this message, if it came from one."""
    if activity.type != ActivityTypes.message or not isinstance(activity.value, dict):
        return None
    action = activity.value.get("action")
    return action if isinstance(action, str) and action else None


def choice_card(
    t: Translator, text: str, options: Sequence[Option], *, person_reason: str | None = None
) -> dict[str, Any]:
    """A question (``text``, already in the reader's language) with a button per option.

    ``person_reason`` adds a "Talk to a person" button that says why it was offered
    (``validation``: the answer was not understood twice; ``error``: the turn failed).
    """
    buttons = [
        _button(t.gettext(label) if isinstance(label := option.label, str) else in_words(t, label),
                option.action)
        for option in options
    ]  # fmt: skip
    if person_reason is not None:
        label = t.gettext(MENU_LABELS[Intent.HUMAN])
        person = _button(label, Intent.HUMAN, reason=person_reason)
        # One such button: a question that offers a person already (the menu) gets the reason.
        at = next((i for i, o in enumerate(options) if o.action == Intent.HUMAN), len(buttons))
        buttons[at : at + 1] = [person]
    return _card([_text(text), *_action_sets(buttons)])


def open_chat_card(paragraphs: Sequence[str], label: str, url: str) -> dict[str, Any]:
    """Text (already in the readers' language, or in each) and a button that opens ``url``:
    in Teams, the reader's one-to-one chat with the bot."""
    button = {"type": "Action.OpenUrl", "title": label, "url": url}
    return _card([*(_text(paragraph) for paragraph in paragraphs), *_action_sets([button])])


def status_card(
    t: Translator,
    status: OrganizationStatus,
    *,
    last_email: str | None = None,
    reminders_stopped: bool = False,
    benefits: Sequence[str] = (),
    only_admins: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Where the membership and the account setup stand, with a button to the next step.

    ``last_email`` is a line on the latest verification email, shown under the checklist while
    the contact has not confirmed; ``benefits`` are lines on the active benefits and the orders
    waiting for payment (with a button to the benefits); ``reminders_stopped`` (the reader
    stopped the renewal reminders) adds a line saying so and a button to turn them back on.
    ``only_admins``: the next step is a global administrator's and the reader is not one; it
    names who can, instead of a button into a journey the reader could not finish.
    """
    body = [_text(status.legal_name, weight="Bolder", size="Medium")]
    membership = status.membership
    if membership is None:
        body.append(_text(t.gettext("No membership record.")))
    else:
        facts = {
            "tier": t.gettext(TIER_NAMES[membership.tier]),
            "mpn_id": membership.mpn_id,
            "expiry": membership.expiry_date.isoformat(),
        }
        if membership.days_left >= 0:
            expiry = t.gettext("{tier}, MPN ID {mpn_id}: expires on {expiry}.", **facts)
        else:
            expiry = t.gettext("{tier}, MPN ID {mpn_id}: expired on {expiry}.", **facts)
        body.append(_text(expiry))
        if membership.days_left >= 0:
            days = t.gettext("{days} days left.", days=membership.days_left)
        else:
            days = t.gettext("Expired {days} days ago.", days=-membership.days_left)
        body.append(_text(days, spacing="None"))
        if membership.view_only:
            body.append(
                _text(
                    t.gettext(
                        "This record is in the legacy Partner Membership Center and is "
                        "view-only: create the Partner Center account to renew or change it."
                    ),
                    color="Warning",
                )
            )
    body.append(_text(t.gettext("Account setup:"), weight="Bolder", spacing="Medium"))
    for item in status.checklist:
        body.append(
            _text(f"{_MARKS[item.state]} {t.gettext(STEP_NAMES[item.step])}", spacing="Small")
        )
    if last_email:
        body.append(_text(last_email, isSubtle=True, spacing="Medium"))
    buttons = []
    if (pending := status.first_pending) is not None and only_admins is not None:
        body.append(
            _text(
                t.gettext(
                    "Only a global administrator of your tenant can go on with “{journey}”: "
                    "{names}. Ask one of them to open this chat.",
                    journey=t.gettext(MENU_LABELS[CONTINUES[pending]]),
                    names=", ".join(only_admins) or t.gettext("(none found)"),
                ),
                spacing="Medium",
            )
        )
    elif pending is not None:
        buttons.append(_continue_button(t, CONTINUES[pending]))
    if benefits:
        body.append(_text(t.gettext("Benefits and orders:"), weight="Bolder", spacing="Medium"))
        body += [_text(line, spacing="Small") for line in benefits]
        buttons.append(_button(t.gettext(MENU_LABELS[Intent.BENEFITS]), Intent.BENEFITS))
    if reminders_stopped:
        body.append(
            _text(t.gettext("You turned off the renewal reminders."), isSubtle=True,
                  spacing="Medium")
        )  # fmt: skip
        resume = t.gettext("Turn reminders back on")
        buttons.append(
            _button(resume, ReminderAction.RESUME, organization_id=status.organization_id)
        )
    return _card([*body, *_action_sets(buttons)])


def renewal_card(t: Translator, renewed: MembershipView) -> dict[str, Any]:
    """The renewal done: until when the membership now runs, and a button to the status."""
    summary = t.gettext(
        "Renewed. Your {tier} (MPN ID {mpn_id}) now runs until {expiry}.",
        tier=t.gettext(TIER_NAMES[renewed.tier]),
        mpn_id=renewed.mpn_id,
        expiry=renewed.expiry_date.isoformat(),
    )
    status = t.gettext(MENU_LABELS[Intent.STATUS])
    return _card(
        [
            _text(t.gettext("Membership renewed"), weight="Bolder", size="Medium"),
            _text(summary),
            *_action_sets([_button(status, Intent.STATUS)]),
        ]
    )


def renewal_reminder_card(
    t: Translator,
    *,
    organization_id: str,
    legal_name: str,
    expiry_date: date,
    days_left: int,
    pending_steps: Sequence[Step],
    legacy: bool,
    view_only: bool,
) -> dict[str, Any]:
    """A renewal reminder: when the membership expires, what is pending, and what to do.

    "Renew now" sends the menu's ``renew``, so the renewal starts where it must (for a legacy
    record, with creating the Partner Center account); the other two buttons are about this
    organization's reminders only.
    """
    expiry = expiry_date.isoformat()
    if days_left >= 0:
        when = t.gettext("The membership expires on {expiry}.", expiry=expiry)
        days = t.gettext("{days} days left.", days=days_left)
    else:
        when = t.gettext("The membership expired on {expiry}.", expiry=expiry)
        days = t.gettext("Expired {days} days ago.", days=-days_left)
    body = [
        _text(t.gettext("Renewal reminder: {organization}", organization=legal_name),
              weight="Bolder", size="Medium"),
        _text(when),
        _text(days, spacing="None", weight="Bolder",
              color="Attention" if days_left < 0 else "Warning" if days_left <= 7 else "Default"),
    ]  # fmt: skip
    if view_only:
        body.append(
            _text(
                t.gettext(
                    "This record is in the legacy Partner Membership Center and is "
                    "view-only: create the Partner Center account to renew or change it."
                ),
                color="Warning",
            )
        )
    elif legacy:
        body.append(
            _text(
                t.gettext(
                    "This record is in the legacy Partner Membership Center: renewing starts "
                    "with creating the Partner Center account."
                )
            )
        )
    if pending_steps:
        body.append(
            _text(t.gettext("Still to do to set up the Partner Center account:"),
                  weight="Bolder", spacing="Medium")
        )  # fmt: skip
        for step in pending_steps:
            body.append(
                _text(f"{_MARKS[StepState.PENDING]} {t.gettext(STEP_NAMES[step])}", spacing="Small")
            )
    buttons = [
        {**_button(t.gettext("Renew now"), Intent.RENEW), "style": "positive"},
        _button(t.gettext("Remind me later"), ReminderAction.SNOOZE,
                organization_id=organization_id),
        _button(t.gettext("Stop these reminders"), ReminderAction.STOP,
                organization_id=organization_id),
    ]  # fmt: skip
    return _card([*body, *_action_sets(buttons)])


def contact_confirmed_card(
    t: Translator,
    confirmation: Confirmation,
    status: OrganizationStatus,
    goal: Goal | None = None,
) -> dict[str, Any]:
    """The primary contact confirmed: what happens next, and a button to the next step (what
    the requester set out to do, ``goal``, when nothing it needs is missing any more)."""
    body = [
        _text(
            t.gettext(
                "✅ The primary contact of {organization}, {contact}, confirmed their email "
                "address.",
                contact=confirmation.contact_name or t.gettext("The primary contact"),
                organization=status.legal_name,
            )
        )
    ]
    review = confirmation.review
    if review is not None and review.status is VettingStatus.AUTHORIZED:
        body.append(_text(t.gettext("The review of your legal business profile is complete.")))
    elif review is not None and review.sub_status is VettingSubStatus.EMPLOYMENT_VERIFICATION:
        body.append(
            _text(
                t.gettext(
                    "Next, a person checks that the contact works for your organization, "
                    "because the address's domain is not one your tenant has verified. This can "
                    "take a few business days; there is nothing you need to do."
                )
            )
        )
    if goal is not None and status.ready_for(goal):
        button = _continue_button(t, GOAL_JOURNEYS[goal])
    elif (pending := status.first_to_do) is not None:
        button = _continue_button(t, CONTINUES[pending])
    else:
        button = _button(t.gettext(MENU_LABELS[Intent.STATUS]), Intent.STATUS)
    return _card([*body, *_action_sets([button])])


def profile_form(t: Translator, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The legal business profile form, with the user's values kept and errors by their fields."""
    body: list[dict[str, Any]] = [
        _text(t.gettext("Legal business profile and primary contact"), weight="Bolder",
              size="Medium"),
        _text(t.gettext(
            "The primary contact is the person the program can reach about this application: "
            "you or someone else in your organization. An email will ask them to confirm.")),
    ]  # fmt: skip
    if errors:
        notice = t.gettext("Some fields need a change: see the notes below them.")
        body.append(_text(notice, color="Attention"))
    names = countries("zh_Hant_TW" if t.locale is Locale.ZH_TW else "en")
    for field in form_fields(t.locale):
        required, longest = FIELDS[field]
        label = t.gettext(FIELD_LABELS[field])
        value = values.get(field, "")
        if field == "country":
            element: dict[str, Any] = {
                "type": "Input.ChoiceSet", "id": field, "label": label, "style": "compact",
                "isRequired": required, "value": value,
                "choices": [{"title": in_language(f"{name} ({code})", t.locale), "value": code}
                            for code, name in names.items()],  # the language's order
            }  # fmt: skip
        else:
            element = {"type": "Input.Text", "id": field, "label": label, "value": value,
                       "isRequired": required, "maxLength": longest}  # fmt: skip
            if field in _STYLES:
                element["style"] = _STYLES[field]
        if required:
            element["errorMessage"] = t.gettext(ERRORS[FieldError.REQUIRED])
        body.append(element)
        if field in errors:
            error = t.gettext(ERRORS[FieldError(errors[field])])
            body.append(_text(error, color="Attention", spacing="None"))
    # These buttons submit the inputs; Teams would not show a messageBack's text for them.
    actions = [
        {"type": "Action.Submit", "title": t.gettext("Register now"), "style": "positive",
         "data": {"action": SUBMIT_PROFILE}},
        {"type": "Action.Submit", "title": t.gettext("Cancel"),
         "data": {"action": CANCEL_PROFILE}, "associatedInputs": "none"},
    ]  # fmt: skip
    return {**_card(body), "actions": actions}


def upgrade_card(
    t: Translator,
    *,
    current: str,
    options: Sequence[tuple[str, str, Sequence[str], str | None]],
) -> dict[str, Any]:
    """The current tier, then each higher one: (name, description, what it adds, why not)."""
    body = [
        _text(t.gettext("Upgrade the membership"), weight="Bolder", size="Medium"),
        _text(t.gettext("You have the {tier}.", tier=current)),
    ]
    for name, description, adds, blocked in options:
        body.append(_text(name, weight="Bolder", spacing="Medium"))
        body.append(_text(description, spacing="None"))
        if adds:
            body.append(_text(t.gettext("Adds: {benefits}", benefits="; ".join(adds)),
                              spacing="None", isSubtle=True))  # fmt: skip
        if blocked:
            body.append(
                _text(t.gettext("Not yet: {reason}.", reason=blocked), color="Warning",
                      spacing="None")
            )  # fmt: skip
    return _card(body)


def offers_card(
    t: Translator, offers: Sequence[tuple[str, str, str, Sequence[str]]]
) -> dict[str, Any]:
    """The offers for sale: (name, description, price, what it brings)."""
    body = [_text(t.gettext("Offers you can buy"), weight="Bolder", size="Medium")]
    for name, description, price, brings in offers:
        body.append(_text(f"{name}: {price}", weight="Bolder", spacing="Medium"))
        body.append(_text(description, spacing="None"))
        if brings:
            body.append(_text(t.gettext("Includes: {benefits}", benefits="; ".join(brings)),
                              spacing="None", isSubtle=True))  # fmt: skip
    return _card(body)


_BENEFIT_SECTIONS = (
    ("ready", N_("Ready to activate")),
    (BenefitState.ACTIVE, N_("Active")),
    (BenefitState.EXPIRING, N_("Expiring within 30 days")),
    (BenefitState.USED, N_("Used up")),
    (BenefitState.EXPIRED, N_("Expired")),
)


def benefits_card(t: Translator, locale: Locale, benefits: Sequence[Benefit]) -> dict[str, Any]:
    """The organization's benefits by state, each with its use, its term and who activated it."""
    body = [_text(t.gettext("Your benefits"), weight="Bolder", size="Medium")]
    for section, title in _BENEFIT_SECTIONS:
        found = [b for b in benefits if _section(b) == section]
        if not found:
            continue
        body.append(_text(t.gettext(title), weight="Bolder", spacing="Medium"))
        for benefit in found:
            line = benefit_line(t, locale, benefit)
            if benefit.activated_at is not None:
                line += " " + t.gettext(
                    "Activated by {who} on {date}.",
                    who=benefit.activated_by or "", date=benefit.activated_at.date().isoformat(),
                )  # fmt: skip
            if benefit.detail:
                line += f" ({benefit.detail})"
            body.append(_text(line, spacing="Small"))
    return _card(body)


def benefit_line(t: Translator, locale: Locale, benefit: Benefit) -> str:
    """A benefit's use and term, as the benefits card and the status card say it."""
    return t.gettext(
        "{benefit}: {used} of {quantity} {unit} used, until {end}.",
        benefit=benefit.spec.name.text(locale), used=benefit.used, quantity=benefit.quantity,
        unit=benefit.spec.unit.text(locale), end=benefit.term_end.isoformat(),
    )  # fmt: skip


def _section(benefit: Benefit) -> str:
    if benefit.activated_at is None and benefit.state in (
        BenefitState.AVAILABLE,
        BenefitState.EXPIRING,
    ):
        return "ready"
    return str(benefit.state)


def order_paid_card(
    t: Translator,
    *,
    order_id: str,
    price: str,
    brought: Sequence[str],
    renewed_until: date | None = None,
) -> dict[str, Any]:
    """An order's payment confirmed: the membership renewed (a renewal order, ``renewed_until``),
    what it brought, and a button to activate the benefits."""
    renewed = (
        [
            _text(
                t.gettext(
                    "Your membership is renewed until {date}.", date=renewed_until.isoformat()
                )
            )
        ]
        if renewed_until is not None
        else []
    )
    body = [
        _text(t.gettext("Payment received"), weight="Bolder", size="Medium"),
        *renewed,
        _text(
            t.gettext(
                "Order {id} ({price}) is paid. Your benefits are ready:", id=order_id, price=price
            )
        ),
        *(_text(f"• {line}", spacing="None") for line in brought),
    ]
    manage = t.gettext("Activate and manage benefits")
    return _card([*body, *_action_sets([_button(manage, MANAGE_BENEFITS)])])


def _card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": VERSION,
        "body": body,
    }


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _button(title: str, action: str, *, text: str | None = None, **data: str) -> dict[str, Any]:
    """A button that sends ``action`` (and ``data``); in Teams the chat shows ``title`` as the
    user's pick."""
    value = {"action": str(action), **data}
    return {
        "type": "Action.Submit",
        "title": title,
        "data": {
            **value,
            "msteams": {
                "type": "messageBack",
                "displayText": title,
                "text": text or title,
                "value": value,
            },
        },
    }


def continue_card(t: Translator, text: str, journey: Intent) -> dict[str, Any]:
    """``text`` (in the reader's language), with a button that goes on with ``journey``."""
    return _card([_text(text), *_action_sets([_continue_button(t, journey)])])


def _continue_button(t: Translator, journey: Intent) -> dict[str, Any]:
    label = t.gettext(JOURNEY_LABELS[journey])
    return _button(t.gettext("Continue: {step}", step=label), journey, text=label)


def _action_sets(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The buttons in as few sets as Teams shows whole, of even sizes (nine: five and four)."""
    if not buttons:
        return []
    sets = -(-len(buttons) // _MOST_BUTTONS_PER_SET)
    size = -(-len(buttons) // sets)
    return [
        {"type": "ActionSet", "actions": buttons[start : start + size]}
        for start in range(0, len(buttons), size)
    ]
