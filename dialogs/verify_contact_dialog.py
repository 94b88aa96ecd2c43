"""Verify the primary contact: where the confirmation email stands, send it again, or change
the contact.

The contact confirms through the link in the email, outside the chat; here the user sees
whether the latest email went out (and when, in their time zone), asks for another one within
the hourly and daily allowance, or gives another contact through the legal profile form.
"""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.cards import Option
from dialogs.create_account_dialog import CreateAccountDialog
from dialogs.journey_dialog import JourneyDialog
from dialogs.legal_profile_dialog import LegalProfileDialog
from dialogs.people import JourneyServices
from dialogs.prompts import OptionPrompt, ask
from dialogs.texts import format_time, texts, turn_locale
from dialogs.waterfall import Waterfall
from services.contact_verification import (
    EMAILS_PER_DAY,
    EMAILS_PER_HOUR,
    DeliveryState,
    VerificationStatus,
    mask_email,
)
from services.errors import ResendLimited
from services.i18n import N_
from services.membership import Step, StepState

__all__ = ["VerifyContactDialog", "delivery_text", "last_email_line"]

RESEND = Option("verify_contact.resend", N_("Send the email again"))
SEND = Option("verify_contact.send", N_("Send the email"))  # none has gone to them yet
CHANGE_CONTACT = Option("verify_contact.change_contact", N_("Change the primary contact"))
BACK = Option("verify_contact.back", N_("Back to the menu"))
GIVE_PROFILE = Option("verify_contact.give_profile", N_("Give the profile now"))
NOT_NOW = Option("verify_contact.not_now", N_("Not now"))


def delivery_text(context: TurnContext, status: VerificationStatus) -> str | None:
    """Where the latest email stands, in words (None while no email was queued)."""
    t = texts(context)
    match status.delivery:
        case DeliveryState.SENT:
            sent_at = status.sent_at or status.queued_at  # the outbox records both
            time = format_time(context, sent_at) if sent_at else "—"
            return t.gettext("sent {time}", time=time)
        case DeliveryState.FAILED:
            return t.gettext(
                "could not be delivered: {reason}", reason=status.delivery_error or "—"
            )
        case DeliveryState.PENDING if status.delivery_error:
            return t.gettext(
                "waiting to be sent (the last try failed: {reason})",
                reason=status.delivery_error,
            )
        case DeliveryState.PENDING:
            return t.gettext("waiting to be sent")
    return None


def last_email_line(context: TurnContext, status: VerificationStatus) -> str | None:
    """The status card's line on the latest email, while the contact has not confirmed."""
    delivery = delivery_text(context, status)
    if status.contact_email is None or status.verified or delivery is None:
        return None
    return texts(context).gettext(
        "Last email to {email}: {delivery}",
        email=mask_email(status.contact_email),
        delivery=delivery,
    )


class VerifyContactDialog(JourneyDialog):
    """Show where the contact's confirmation stands; resend, change the contact, or go back."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(VerifyContactDialog.__name__, services)
        self.add_dialog(CreateAccountDialog(services))
        self.add_dialog(LegalProfileDialog(services))
        self.add_dialog(OptionPrompt("verify_action", yes=RESEND, no=BACK))
        self.add_dialog(OptionPrompt("first_email", yes=SEND, no=BACK))
        self.add_dialog(OptionPrompt("give_profile", yes=GIVE_PROFILE, no=NOT_NOW))
        steps = [self.status_step, self.action_step, self.finish_step]
        self.add_dialog(Waterfall("verify_contact", steps))
        self.initial_dialog_id = "verify_contact"

    async def status_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show where the confirmation stands and ask what to do next."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        t = texts(step.context)
        status = await self.services.verification.status(member.organization_id)
        if status.contact_email is None:
            return await step.prompt(
                "give_profile",
                ask(
                    N_(
                        "The legal business profile and its primary contact come first: the "
                        "email goes to the contact given there. Give them now?"
                    ),
                    choices=[GIVE_PROFILE, NOT_NOW],
                ),
            )
        if status.verified:
            await step.context.send_activity(
                t.gettext(
                    "{email} has confirmed that they are your primary contact: there is nothing "
                    "more to do here.",
                    email=mask_email(status.contact_email),
                )
            )
            return await step.end_dialog()
        await step.context.send_activity(self._status_text(step.context, status))
        first = status.queued_at is None
        return await step.prompt(
            "first_email" if first else "verify_action",
            ask(
                N_("What would you like to do?"),
                retry=N_("Sorry, I didn't catch that. Pick one of the options below."),
                choices=[SEND if first else RESEND, CHANGE_CONTACT, BACK],
            ),
        )

    async def action_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Send the email again, change the contact, give the profile, or leave."""
        if step.result in (RESEND.action, SEND.action):
            return await self._resend(step)
        if step.result == CHANGE_CONTACT.action:
            return await step.begin_dialog(LegalProfileDialog.__name__)
        if step.result == GIVE_PROFILE.action:
            if not await self._signed_in(step):
                # The profile is given after signing in as a global administrator: that is
                # the account journey, which resumes where the organization stands.
                return await step.replace_dialog(CreateAccountDialog.__name__)
            return await step.begin_dialog(LegalProfileDialog.__name__)
        if step.result == NOT_NOW.action:
            await step.context.send_activity(
                texts(step.context).gettext("OK, nothing was changed.")
            )
        return await step.end_dialog()

    async def finish_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Back to the menu once the profile form is done."""
        return await step.end_dialog()

    async def _resend(self, step: WaterfallStepContext) -> DialogTurnResult:
        t = texts(step.context)
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        before = await self.services.verification.status(member.organization_id)
        try:
            status = await self.services.verification.resend(
                member.organization_id, member.actor, turn_locale(step.context)
            )
        except ResendLimited as limited:
            await step.context.send_activity(
                t.gettext(
                    "That contact has been sent as many emails as allowed for now: at most "
                    "{per_hour} an hour and {per_day} a day. The next one can go at {time}.",
                    per_hour=EMAILS_PER_HOUR,
                    per_day=EMAILS_PER_DAY,
                    time=format_time(step.context, limited.next_allowed_at),
                )
            )
            return await step.end_dialog()
        email = mask_email(status.contact_email or "")
        if status.verified:  # confirmed meanwhile: nothing was sent
            message = t.gettext(
                "{email} has confirmed that they are your primary contact: there is nothing "
                "more to do here.",
                email=email,
            )
        elif before.queued_at is None:
            message = t.gettext("An email is on its way to {email}.", email=email)
        else:
            message = t.gettext(
                "A new email is on its way to {email}. The links sent to them before still work.",
                email=email,
            )
        await step.context.send_activity(message)
        return await step.end_dialog()

    async def _signed_in(self, step: WaterfallStepContext) -> bool:
        member = await self.member(step.context)
        if member is None:
            return False
        status = await self.services.membership.status(member.organization_id)
        return any(
            item.step is Step.SIGN_IN and item.state is StepState.DONE for item in status.checklist
        )

    @staticmethod
    def _status_text(context: TurnContext, status: VerificationStatus) -> str:
        t = texts(context)
        lines = [
            t.gettext(
                "Primary contact: {email}. They have not confirmed yet.",
                email=mask_email(status.contact_email or ""),
            )
        ]
        delivery = delivery_text(context, status)
        if status.queued_at is None or delivery is None:
            lines.append(t.gettext("No email has gone to them yet."))
        else:
            lines.append(
                t.gettext(
                    "Last email: queued {queued}, {delivery}.",
                    queued=format_time(context, status.queued_at),
                    delivery=delivery,
                )
            )
        if status.expires_at is not None:
            lines.append(
                t.gettext(
                    "Its link works until {time}.", time=format_time(context, status.expires_at)
                )
            )
        lines.append(
            t.gettext(
                "Emails you can still send this hour: {count} (at most {per_hour} an hour and "
                "{per_day} a day).",
                count=status.resends_left,
                per_hour=EMAILS_PER_HOUR,
                per_day=EMAILS_PER_DAY,
            )
        )
        return "\n\n".join(lines)
