"""The errors the services layer raises, and what each means to a caller.

    ServiceError                 anything a service wants its caller to handle
    ├── StorageConflict          a write lost an optimistic-concurrency race (stale ETag)
    ├── NotFound                 no such organization, membership or agreement
    ├── ViewOnlyRecord           an expired legacy record: create the Partner Center account first
    ├── RenewalNotOpen           too early to renew (carries the date it opens)
    ├── SetupIncomplete          the Partner Center account is not set up enough to renew or
    │                            upgrade (carries the steps still to do)
    ├── ResendLimited            too many verification emails to one contact (carries when the
    │                            next one is allowed)
    ├── MailDeliveryError        a mail transport did not take a message: ``permanent`` when
    │                            resending cannot help (a refused mailbox), else temporary
    │                            (carries the server's ``retry_after`` when it gave one)
    ├── SignInRefused            the identity provider refused the user's sign-in token
    │                            (expired, revoked, consent or MFA missing): sign in again
    └── IdentityUnavailable      the identity provider could not answer now (unreachable,
                                 throttled, failing, misconfigured); trying later may help

Dialogs and the bot turn these into words for the user; nothing here knows about chat.
"""

from __future__ import annotations

from datetime import date, datetime

__all__ = [
    "IdentityUnavailable",
    "MailDeliveryError",
    "NotFound",
    "RenewalNotOpen",
    "ResendLimited",
    "ServiceError",
    "SetupIncomplete",
    "SignInRefused",
    "StorageConflict",
    "ViewOnlyRecord",
]


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""


class StorageConflict(ServiceError):
    """A write carried an ETag that no longer matches the stored one.

    The message starts with "Etag conflict" because botbuilder's own components (for example
    the Teams SSO token-exchange de-duplication) recognise a conflict by that text.
    """

    def __init__(self, key: str) -> None:
        super().__init__(f"Etag conflict: {key!r} was changed by another writer")
        self.key = key


class NotFound(ServiceError):
    """The organization, membership or agreement asked for does not exist."""


class ViewOnlyRecord(ServiceError):
    """An expired legacy (Partner Membership Center) record cannot be changed.

    The organization must first create its Partner Center account, which moves the record.
    """


class RenewalNotOpen(ServiceError):
    """Renewal opens a fixed number of days before expiry; it is not open yet."""

    def __init__(self, opens_on: date) -> None:
        super().__init__(f"renewal opens on {opens_on.isoformat()}")
        self.opens_on = opens_on


class SetupIncomplete(ServiceError):
    """Renewing or upgrading needs the Partner Center account first; ``missing`` are the steps
    (``services.membership.Step`` values, in order) still to do."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"the account setup is not finished: {', '.join(missing)}")
        self.missing = missing


class ResendLimited(ServiceError):
    """A contact was sent as many verification emails as the hour (or the day) allows."""

    def __init__(self, next_allowed_at: datetime) -> None:
        super().__init__(f"the next verification email is allowed at {next_allowed_at.isoformat()}")
        self.next_allowed_at = next_allowed_at


class MailDeliveryError(ServiceError):
    """A mail transport refused or could not take a message.

    ``permanent`` means sending the same message again cannot succeed (the server refused the
    mailbox or the content); otherwise the outbox tries again later, no sooner than
    ``retry_after`` seconds when the server asked for that. The message never carries personal
    data: it is stored as the outbox row's last error.
    """

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class SignInRefused(ServiceError):
    """The identity provider refused the user's sign-in token.

    The token expired or was revoked, or the user must consent or pass multi-factor
    authentication first: asking the user to sign in again may help. ``reason`` names the
    provider's error (``invalid_grant``, ``interaction_required``) and never carries a token.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityUnavailable(ServiceError):
    """The identity provider (Microsoft Entra ID, Microsoft Graph) could not answer now.

    Unreachable, throttled beyond the wait allowed, failing, or refusing the app itself (a
    wrong secret, a missing permission). ``reason`` is fit to log: it never carries a token.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
