"""Adaptive Cards the bot sends, built in one place (schema 1.5, what Teams renders)."""

from __future__ import annotations

from typing import Any

from services.i18n import N_, Locale, Translator
from services.profile import FIELDS, FieldError, countries

__all__ = ["CANCEL_PROFILE", "FIELD_LABELS", "SUBMIT_PROFILE", "profile_form"]

SUBMIT_PROFILE = "submit_profile"
CANCEL_PROFILE = "cancel_profile"

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


def profile_form(t: Translator, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The legal business profile form, with the user's values kept and errors by their fields."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": t.gettext("Legal business profile and primary contact"),
         "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "wrap": True, "text": t.gettext(
            "The primary contact is the person the program can reach about this application: "
            "you or someone else in your organization. An email will ask them to confirm.")},
    ]  # fmt: skip
    if errors:
        notice = t.gettext("Some fields need a change: see the notes below them.")
        body.append({"type": "TextBlock", "color": "Attention", "wrap": True, "text": notice})
    names = countries("zh_Hant_TW" if t.locale is Locale.ZH_TW else "en")
    for field, (required, longest) in FIELDS.items():
        label = t.gettext(FIELD_LABELS[field])
        value = values.get(field, "")
        if field == "country":
            element: dict[str, Any] = {
                "type": "Input.ChoiceSet", "id": field, "label": label, "style": "compact",
                "isRequired": required, "value": value,
                "choices": [{"title": f"{name} ({code})", "value": code}
                            for code, name in sorted(names.items(), key=lambda item: item[1])],
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
            body.append({"type": "TextBlock", "text": t.gettext(ERRORS[FieldError(errors[field])]),
                         "color": "Attention", "wrap": True, "spacing": "None"})  # fmt: skip
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "actions": [
            {"type": "Action.Submit", "title": t.gettext("Register now"),
             "data": {"action": SUBMIT_PROFILE}},
            {"type": "Action.Submit", "title": t.gettext("Cancel"),
             "data": {"action": CANCEL_PROFILE}, "associatedInputs": "none"},
        ],
    }  # fmt: skip
