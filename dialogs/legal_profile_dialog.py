"""The legal business profile and primary contact: the form, what changes, and "Register now".

The form is an Adaptive Card. Each submission is validated; a bad one re-shows the form with
the user's values kept and each error under its field. When a profile exists, the changes are
shown before saving, with a warning when the legal name or address changes (the review starts
again). Saving starts the primary contact's verification, which the journey then waits on
(unless that contact confirmed already, or was sent as many emails as allowed lately).
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    Dialog,
    DialogContext,
    DialogInstance,
    DialogTurnResult,
    WaterfallStepContext,
)
from botbuilder.schema import ActivityTypes

from dialogs.cards import (
    CANCEL_PROFILE,
    FIELD_LABELS,
    SUBMIT_PROFILE,
    Option,
    card_action,
    message,
    profile_form,
)
from dialogs.intents import MENU_LABELS, Intent
from dialogs.journey_dialog import JourneyDialog
from dialogs.people import JourneyServices
from dialogs.prompts import OptionPrompt, ask
from dialogs.texts import texts, turn_locale
from dialogs.waterfall import Waterfall
from services.contact_verification import StartOutcome
from services.i18n import N_
from services.profile import (
    ADDRESS_FIELDS,
    FIELDS,
    LegalProfile,
    form_fields,
    parse_profile,
    person_name,
)

__all__ = ["LegalProfileDialog", "ProfileForm"]

SAVE = Option("legal_profile.save", N_("Save and register"))
EDIT = Option("legal_profile.edit", N_("Edit again"))


class ProfileForm(Dialog):
    """Show the form until a valid profile is submitted (ends with it as a dict) or cancelled."""

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Show the form, filled with the values given."""
        given = options if isinstance(options, dict) else {}
        state = dialog_context.active_dialog.state
        state["values"] = {field: str(given.get(field, "")) for field in FIELDS}
        state["errors"] = {}
        await self._show(dialog_context.context, state)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Validate a submission, or show the form again."""
        context = dialog_context.context
        if context.activity.type != ActivityTypes.message:
            return Dialog.end_of_turn
        state = dialog_context.active_dialog.state
        submitted = context.activity.value
        action = card_action(context.activity)
        if action == CANCEL_PROFILE:
            return await dialog_context.end_dialog(None)
        # Typed text, or a button of another card: the form is still waiting.
        if action != SUBMIT_PROFILE or not isinstance(submitted, dict):
            await context.send_activity(
                texts(context).gettext(
                    "Please fill in the form and select “Register now”, or “Cancel”."
                )
            )
            await self._show(context, state)
            return Dialog.end_of_turn
        raw = {field: str(submitted.get(field) or "") for field in FIELDS}
        result = parse_profile(raw)
        if isinstance(result, LegalProfile):
            return await dialog_context.end_dialog(result.model_dump())
        state["values"] = raw
        state["errors"] = {field: error.value for field, error in result.items()}
        await self._show(context, state)
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Show the form again (in the language of now)."""
        await self._show(context, instance.state)

    async def _show(self, context: TurnContext, state: dict[str, Any]) -> None:
        card = profile_form(texts(context), state["values"], state["errors"])
        await context.send_activity(message(card))


class LegalProfileDialog(JourneyDialog):
    """Collect the profile, confirm what changes, save it and register."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(LegalProfileDialog.__name__, services)
        self.add_dialog(ProfileForm("profile_form"))
        self.add_dialog(OptionPrompt("confirm_changes", yes=SAVE, no=EDIT))
        steps = [self.form_step, self.changes_step, self.save_step]
        self.add_dialog(Waterfall("legal_profile", steps))
        self.initial_dialog_id = "legal_profile"

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the form with what is known (or what the user typed before)."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        stored = await self.services.membership.profile_values(member.organization_id)
        step.values["stored"] = stored
        draft = step.options.get("draft") if isinstance(step.options, dict) else None
        return await step.begin_dialog("profile_form", draft or stored)

    async def changes_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show what changes (and whether the review restarts) before saving."""
        t = texts(step.context)
        if step.result is None:
            await step.context.send_activity(t.gettext("OK, the profile was not changed."))
            return await step.end_dialog(False)
        step.values["profile"] = step.result
        stored: dict[str, str] = step.values["stored"]
        if not stored.get("contact_email"):
            return await step.next(SAVE.action)  # a first profile: nothing to compare
        order = form_fields(turn_locale(step.context))
        changed = [f for f in order if stored.get(f, "") != step.result[f]]
        if not changed:
            return await step.next(SAVE.action)
        lines = [
            f"- {t.gettext(FIELD_LABELS[f])}: {stored.get(f) or '—'} → {step.result[f] or '—'}"
            for f in changed
        ]
        await step.context.send_activity(
            t.gettext("These will change:") + "\n\n" + "\n".join(lines)
        )
        if any(f in ADDRESS_FIELDS for f in changed):
            await step.context.send_activity(
                t.gettext(
                    "Changing the legal name or address starts the review of your profile again."
                )
            )
        return await step.prompt(
            "confirm_changes", ask(N_("Save these changes?"), choices=[SAVE, EDIT])
        )

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Save and register, or go back to the form with the user's values."""
        t = texts(step.context)
        if step.result == EDIT.action:
            return await step.replace_dialog(
                self.initial_dialog_id, {"draft": step.values["profile"]}
            )
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog(False)
        profile = LegalProfile(**step.values["profile"])
        await self.services.membership.register(member.organization_id, profile, member.actor)
        outcome = await self.services.verification.start(
            member.organization_id, profile, member.actor, locale=turn_locale(step.context)
        )
        contact = person_name(profile.contact_first_name, profile.contact_last_name)
        match outcome:
            case StartOutcome.ALREADY_VERIFIED:
                message = t.gettext(
                    "Registered. {contact} ({email}) already confirmed this address, so there is "
                    "nothing more to do for the contact.",
                    contact=contact,
                    email=profile.contact_email,
                )
            case StartOutcome.LIMITED:
                message = t.gettext(
                    "Registered. {contact} ({email}) has been sent as many confirmation emails "
                    "as allowed lately, so none was sent now. You can send it again later from "
                    "“{journey}”.",
                    contact=contact,
                    email=profile.contact_email,
                    journey=t.gettext(MENU_LABELS[Intent.VERIFY_CONTACT]),
                )
            case _:
                message = t.gettext(
                    "Registered. An email will ask {contact} ({email}) to confirm that they "
                    "registered and that the address belongs to your organization; the review "
                    "goes on once they do. Meanwhile you can go on with the agreement.",
                    contact=contact,
                    email=profile.contact_email,
                )
        await step.context.send_activity(message)
        tenant = await self.services.identity.tenant(member.user.tenant_id or "")
        if tenant is not None and profile.email_domain not in tenant.verified_domains:
            await step.context.send_activity(
                t.gettext(
                    "Note: {domain} is not a domain your tenant has verified ({domains}), so "
                    "the employment check will not pass until a person reviews it.",
                    domain=profile.email_domain,
                    domains=", ".join(tenant.verified_domains),
                )
            )
        return await step.end_dialog(True)
