"""Emails the service sends, composed from templates in the reader's language.

The words come from the gettext catalog (``t.gettext`` below, extracted by ``make messages``
like every other string); the Jinja2 templates in ``templates/`` only lay them out, once as
plain text and once as HTML (escaped), and each message carries both as
``multipart/alternative``. The only secret a verification email carries is its link.

The sender's name (``From`` and the signature) is in the reader's language too: the one the
operator gave for that language (``MAIL_FROM_NAME_ZH_TW``), else the catalog's translation of
the default name, else ``MAIL_FROM_NAME`` as given (a name of the operator's own, a brand).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc5322_date
from email.utils import make_msgid
from pathlib import Path

from babel.dates import format_date, format_time, get_datetime_format
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.i18n import N_, Locale, in_language, translator
from services.membership import Step
from services.settings import Settings

__all__ = [
    "DEFAULT_SENDER_NAME",
    "TEMPLATES_DIR",
    "EmailComposer",
    "RenewalReminderEmail",
    "VerificationRequest",
]

TEMPLATES_DIR = Path(__file__).parent / "templates"
# ``MAIL_FROM_NAME``'s default: the catalog says it in each language.
DEFAULT_SENDER_NAME = N_("Partner membership assistant")


@dataclass(frozen=True)
class VerificationRequest:
    """What a contact verification email tells its reader."""

    contact_name: str
    contact_email: str
    organization: str  # the legal name
    requested_by: str  # the requester's display name
    link: str
    expires_at: datetime


@dataclass(frozen=True)
class RenewalReminderEmail:
    """What a renewal reminder email tells its reader."""

    recipient_name: str
    recipient_email: str
    organization: str  # the legal name
    expiry_date: date
    days_left: int  # negative once expired
    legacy: bool  # kept in the legacy Partner Membership Center: cannot be renewed there
    view_only: bool  # legacy and expired
    pending_steps: Sequence[Step] = ()  # the account-creation steps not done yet


# The chat's names of the journey's steps (dialogs/journey_dialog.py), for the email.
_STEP_NAMES = {
    Step.SIGN_IN: N_("Sign in as a global administrator"),
    Step.LEGAL_PROFILE: N_("Legal business profile and primary contact"),
    Step.CONTACT_VERIFICATION: N_("Primary contact's email confirmed"),
    Step.AGREEMENT: N_("Partner agreement accepted"),
    Step.ADMIN_AGENT: N_("Admin agent role"),
}


class EmailComposer:
    """Render emails from the templates, from one sender (named in each reader's language)."""

    def __init__(
        self,
        sender: str,
        sender_name: str,
        *,
        sender_names: Mapping[Locale, str] | None = None,
        templates: Path = TEMPLATES_DIR,
    ) -> None:
        self.sender = Address(display_name=sender_name, addr_spec=sender)
        self._sender_names = {locale: name for locale, name in (sender_names or {}).items() if name}
        self._environment = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailComposer:
        """The service's composer: ``MAIL_FROM``, named ``MAIL_FROM_NAME`` (and its zh-TW name)."""
        return cls(
            settings.mail_from,
            settings.mail_from_name,
            sender_names={Locale.ZH_TW: settings.mail_from_name_zh_tw},
        )

    def sender_in(self, locale: Locale) -> Address:
        """The sender, named in ``locale``."""
        name = self.sender.display_name
        if locale in self._sender_names:
            name = self._sender_names[locale]
        elif name == DEFAULT_SENDER_NAME:
            name = translator(locale).gettext(DEFAULT_SENDER_NAME)
        return Address(display_name=name, addr_spec=self.sender.addr_spec)

    def contact_verification(
        self, request: VerificationRequest, locale: Locale, *, now: datetime
    ) -> EmailMessage:
        """The email asking a primary contact to confirm, in ``locale``."""
        t = translator(locale)
        organization = request.organization
        expires = _moment(request.expires_at, locale)
        words = {
            "greeting": t.gettext("Hello {name},", name=request.contact_name),
            "intro": t.gettext(
                "{requester} asked us to confirm that you are the primary contact of "
                "{organization} for its Microsoft Partner Network membership.",
                requester=request.requested_by,
                organization=organization,
            ),
            "points_intro": t.gettext("By confirming, you state that:"),
            "points": [
                # No closing stops: legal names often end with one ("Ltd.").
                t.gettext(
                    "you registered a Partner Center account for {organization}",
                    organization=organization,
                ),
                t.gettext(
                    "this email address belongs to {organization}", organization=organization
                ),
            ],
            "link_intro": t.gettext("To confirm, open this link:"),
            "button": t.gettext("Confirm"),
            "expiry": t.gettext("The link works once and expires on {expires}.", expires=expires),
            "next": t.gettext(
                "Once you confirm, the review of {organization}'s profile goes on.",
                organization=organization,
            ),
            "ignore": t.gettext(
                "If you did not expect this email, ignore it: nothing changes unless you confirm."
            ),
            "forward": t.gettext(
                "Do not forward this email: anyone with the link can confirm in your name."
            ),
            "footer": t.gettext("This email was sent automatically; replies are not read."),
        }
        return self._message(
            "contact_verification",
            locale,
            subject=t.gettext(
                "Confirm that you are the primary contact of {organization}",
                organization=organization,
            ),
            to=Address(display_name=request.contact_name, addr_spec=request.contact_email),
            now=now,
            values={"words": words, "link": request.link},
        )

    def renewal_reminder(
        self, reminder: RenewalReminderEmail, locale: Locale, *, now: datetime
    ) -> EmailMessage:
        """The email reminding a recipient that the membership expires, in ``locale``."""
        t = translator(locale)
        organization = reminder.organization
        expiry = in_language(
            format_date(reminder.expiry_date, "long", locale=locale.gettext_name), locale
        )
        days = reminder.days_left
        if days > 0:
            subject = t.gettext(
                "The membership of {organization} expires on {expiry}",
                organization=organization,
                expiry=expiry,
            )
        elif days == 0:
            subject = t.gettext(
                "The membership of {organization} expires today", organization=organization
            )
        else:
            subject = t.gettext(
                "The membership of {organization} expired on {expiry}",
                organization=organization,
                expiry=expiry,
            )
        if days > 1:
            lead = t.gettext(
                "The Microsoft Partner Network membership of {organization} expires in {days} "
                "days, on {expiry}.",
                organization=organization,
                days=days,
                expiry=expiry,
            )
        elif days == 1:
            lead = t.gettext(
                "The Microsoft Partner Network membership of {organization} expires tomorrow, "
                "{expiry}.",
                organization=organization,
                expiry=expiry,
            )
        elif days == 0:
            lead = t.gettext(
                "The Microsoft Partner Network membership of {organization} expires today, "
                "{expiry}.",
                organization=organization,
                expiry=expiry,
            )
        else:
            lead = t.gettext(
                "The Microsoft Partner Network membership of {organization} expired on {expiry}.",
                organization=organization,
                expiry=expiry,
            )
        if reminder.legacy:
            action = t.gettext(
                "The membership is kept in the legacy Partner Membership Center, where it cannot "
                "be renewed: create {organization}'s Partner Center account first, then renew it "
                "there.",
                organization=organization,
            )
            if reminder.view_only:
                view_only = t.gettext("Its record is view-only until then.")
                action = f"{action} {view_only}"
        else:
            action = t.gettext(
                "To renew it, choose “Renew now” in the chat with me in Microsoft Teams, or go to "
                "Partner Center (https://partner.microsoft.com/dashboard)."
            )
        words = {
            "greeting": t.gettext("Hello {name},", name=reminder.recipient_name),
            "lead": lead,
            "action": action,
            "steps_intro": t.gettext("Still to do to set up the Partner Center account:"),
            "steps": [t.gettext(_STEP_NAMES[step]) for step in reminder.pending_steps],
            "why": t.gettext(
                # Not ending on the name: legal names often end with a stop ("Ltd.").
                "You receive this reminder because {organization} lists you as a global "
                "administrator or as its primary contact.",
                organization=organization,
            ),
            "footer": t.gettext("This email was sent automatically; replies are not read."),
        }
        return self._message(
            "renewal_reminder",
            locale,
            subject=subject,
            to=Address(display_name=reminder.recipient_name, addr_spec=reminder.recipient_email),
            now=now,
            values={"words": words},
        )

    def _message(
        self,
        template: str,
        locale: Locale,
        *,
        subject: str,
        to: Address,
        now: datetime,
        values: dict[str, object],
    ) -> EmailMessage:
        sender = self.sender_in(locale)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = sender
        message["To"] = to
        message["Date"] = rfc5322_date(now.astimezone(UTC))
        message["Message-ID"] = make_msgid(domain=sender.domain or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        values = {**values, "sender": sender.display_name}  # the signature
        text = self._environment.get_template(f"{template}.txt").render(values)
        html = self._environment.get_template(f"{template}.html").render(values, lang=locale.value)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        message["Content-Language"] = locale.value  # after: set_content drops Content-* headers
        return message


def _moment(moment: datetime, locale: Locale) -> str:
    """``November 27, 2026 at 9:00 AM (UTC)``, the way ``locale`` writes it."""
    # A contact's time zone is unknown: say UTC rather than guess.
    name = locale.gettext_name
    pattern = get_datetime_format("long", locale=name).replace("'", "")
    date = format_date(moment.astimezone(UTC), "long", locale=name)
    time = format_time(moment, "short", tzinfo=UTC, locale=name)
    return in_language(f"{pattern.replace('{1}', date).replace('{0}', time)} (UTC)", locale)
