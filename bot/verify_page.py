"""The page behind the link in a contact verification email: ``/verify/contact``.

    GET  /verify/contact?token=…[&lang=zh-TW]   what the link confirms, and a Confirm button
    POST /verify/contact  (token, csrf, lang)   confirm; then the requester is told in the chat

Why a GET never confirms: mail scanners, link previews and safe-browsing checks open links by
GET, often before the contact does. If opening the link confirmed, a scanner would confirm for
them. So a GET only describes (``ContactVerification.describe`` changes nothing) and the
contact confirms with the page's button, a form POST.

CSRF: the POST changes state, so another site must not be able to make a contact's browser
send it. We use a double-submit cookie: the GET sets a random value (``secrets``) in an
HttpOnly, SameSite=Strict cookie scoped to ``/verify`` and puts the same value in a hidden
field; the POST is accepted only when both are there and equal (``hmac.compare_digest``). A
cross-site form cannot read the value, and SameSite=Strict keeps the browser from sending the
cookie with it anyway. On top of that, a POST whose ``Origin`` is another origin, or whose
``Sec-Fetch-Site`` says cross-site, is refused. ``Origin: null`` counts as no Origin: browsers
send exactly that for a form POST from a page served with ``Referrer-Policy: no-referrer``
(the Fetch standard's rule), which is every page here; the cookie still has to match. A refusal
is a 403 page asking to open the link from the email again, and nothing is confirmed.

What each outcome answers (the page always in the contact's language):

    valid link (GET)              200  what is being confirmed, and the button
    confirmed (POST)              200  thank you; the review goes on; the requester is told
    already used, or the address  200 on GET (nothing is wrong: it is done), 409 on POST
      confirmed through another
      link since
    expired                       410  ask for a new email from the chat
    unknown (never issued,        404  the link is not valid (maybe replaced by a newer one)
      tampered, or replaced)
    malformed request (no token,  400  the same "not valid" page
      not token-shaped, not a form)
    CSRF check failed             403  open the link from the email again
    the service failed            503  something went wrong, try again (logged, no details)

Pages for links that are not valid say nothing about any organization or contact. Every answer
carries ``Cache-Control: no-store`` (the page shows personal data and a CSRF value), a strict
Content-Security-Policy (no scripts, no external resources, the one inline style by nonce) and
``Referrer-Policy: no-referrer`` (the URL holds the token).

The language is the ``lang`` query (or form) field, else the language the email was written
in, else the browser's Accept-Language, else en-US. The words come from the gettext catalog
through ``t.gettext`` here; the template in ``templates/`` only lays them out, escaped.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from multidict import MultiDictProxy
from yarl import URL

from services.contact_verification import (
    VERIFY_PATH,
    Confirmation,
    ContactVerification,
    TokenCheck,
    TokenState,
    VettingStatus,
)
from services.i18n import DEFAULT_LOCALE, Locale, Translator, normalize_locale, translator

__all__ = ["CSRF_COOKIE", "add_verify_routes"]

logger = logging.getLogger(__name__)

CSRF_COOKIE = "verify_csrf"
TEMPLATES = Path(__file__).parent / "templates"
_COOKIE_PATH = "/verify"
_TELL_SECONDS = 10  # the contact's page waits this long at most for the chat message to go
# Anything that could be a link's token (secrets.token_urlsafe(32) gives 43 of these); the
# service decides whether it is one. Other values are a malformed request, not a lookup.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_Form: TypeAlias = "MultiDictProxy[str | bytes | bytearray | web.FileField]"  # request.post()
# Each language offered by its own name, which is why these are not translated.
_LANGUAGE_NAMES = {Locale.EN_US: "English", Locale.ZH_TW: "中文（台灣）"}


@dataclass
class _Page:
    """One answer: its status and the (already translated) words it shows."""

    status: int
    locale: Locale
    title: str
    paragraphs: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    points_intro: str = ""
    points: list[str] = field(default_factory=list)
    button: str = ""  # with a form to confirm, when set


class _VerifyPage:
    """The page's handlers, with the services and the template they need."""

    def __init__(
        self,
        verification: Callable[[], ContactVerification],
        confirmed: Callable[[Confirmation], Awaitable[None]],
    ) -> None:
        self._verification = verification
        self._confirmed = confirmed
        self._environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(enabled_extensions=("html",), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    async def show(self, request: web.Request) -> web.Response:
        """Describe what the link confirms; never confirm."""
        asked = normalize_locale(request.query.get("lang"))
        token = _single(request.query.getall("token", []))
        if token is None:
            return self._render(request, _invalid(_t(request, asked), 400))
        try:
            check = await self._verification().describe(token)
        except Exception as error:
            _log_failure("describe", error)
            return self._render(request, _unavailable(_t(request, asked)), token=token)
        t = _t(request, asked or check.locale)
        csrf: str | None = None  # only a page with the Confirm button sets the cookie
        match check.state:
            case TokenState.VALID:
                page, csrf = _describe(t, check), _csrf_value(request)
            case TokenState.USED:
                page = _used(t, 200)
            case TokenState.EXPIRED:
                page = _expired(t)
            case _:
                page = _invalid(t, 404)
        return self._render(request, page, token=token, csrf=csrf)

    async def confirm(self, request: web.Request) -> web.Response:
        """Confirm, when the request comes from our own page.

        Its pages offer no language link: that would be a GET of a link now used.
        """
        return self._render(request, await self._confirm(request), switch=False)

    async def _confirm(self, request: web.Request) -> _Page:
        """Check the request, confirm, and choose the page that says how it went."""
        form = await _form(request)
        asked = normalize_locale(request.query.get("lang"))
        if form is None:
            return _invalid(_t(request, asked), 400)
        t = _t(request, normalize_locale(_text(form, "lang")) or asked)
        if not _same_origin(request) or not _csrf_matches(request, _text(form, "csrf")):
            logger.warning("contact verification refused: the CSRF check failed")
            return _forbidden(t)
        token = _single([value for value in form.getall("token", []) if isinstance(value, str)])
        if token is None:
            return _invalid(t, 400)
        try:
            confirmation = await self._verification().confirm(token)
        except Exception as error:
            _log_failure("confirm", error)
            return _unavailable(t)
        match confirmation.state:
            case TokenState.VALID:
                await self._tell(confirmation)
                return _thanks(t, confirmation)
            case TokenState.USED:
                return _used(t, 409)
            case TokenState.EXPIRED:
                return _expired(t)
            case _:
                return _invalid(t, 404)

    async def other(self, request: web.Request) -> web.Response:
        """Refuse other methods, with the same headers as every page."""
        response = web.Response(status=405, text="405: Method Not Allowed")
        response.headers["Allow"] = "GET, HEAD, POST"
        _secure(response, "'none'")
        return response

    async def _tell(self, confirmation: Confirmation) -> None:
        """Tell the requester; the contact's page does not depend on it."""
        try:
            async with asyncio.timeout(_TELL_SECONDS):
                await self._confirmed(confirmation)
        except Exception as error:  # TimeoutError included: the contact is not kept waiting
            _log_failure("tell the requester", error)

    def _render(
        self,
        request: web.Request,
        page: _Page,
        *,
        token: str | None = None,
        csrf: str | None = None,
        switch: bool = True,
    ) -> web.Response:
        """The page as HTML with its headers; ``csrf`` also goes into the cookie."""
        nonce = secrets.token_urlsafe(16)
        other = next(locale for locale in Locale if locale is not page.locale)
        query = {"token": token, "lang": other.value} if token else {"lang": other.value}
        html = self._environment.get_template("verify_contact.html").render(
            lang=page.locale.value,
            nonce=nonce,
            page=page,
            heading=translator(page.locale).gettext("Partner membership assistant"),
            action=VERIFY_PATH,
            token=token,
            csrf=csrf,
            switch=switch,
            switch_href=f"{VERIFY_PATH}?{urlencode(query)}",
            switch_lang=other.value,
            switch_label=_LANGUAGE_NAMES[other],
        )
        response = web.Response(status=page.status, text=html, content_type="text/html")
        _secure(response, f"'nonce-{nonce}'")
        if csrf is not None:
            response.set_cookie(
                CSRF_COOKIE,
                csrf,
                path=_COOKIE_PATH,
                httponly=True,
                samesite="Strict",
                secure=_is_https(request),
            )
        return response


def _secure(response: web.StreamResponse, style_source: str) -> None:
    """The headers every answer of this page carries."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {style_source}; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


# ---- the pages


def _describe(t: Translator, check: TokenCheck) -> _Page:
    organization = check.organization_name or ""
    return _Page(
        status=200,
        locale=t.locale,
        title=t.gettext(
            "Confirm that you are the primary contact of {organization}",
            organization=organization,
        ),
        paragraphs=[
            t.gettext(
                "{requester} asked us to confirm that you are the primary contact of "
                "{organization} for its Microsoft Partner Network membership.",
                requester=check.requested_by_name or "",
                organization=organization,
            ),
        ],
        details=[
            (t.gettext("Organization (legal name)"), organization),
            (t.gettext("Primary contact"), check.contact_name or ""),
            (t.gettext("Email address"), check.contact_email or ""),
            (t.gettext("Requested by"), check.requested_by_name or ""),
            (t.gettext("Link expires"), _moment(check.expires_at)),
        ],
        points_intro=t.gettext("By confirming, you state that:"),
        points=[
            t.gettext(
                "you registered a Partner Center account for {organization}",
                organization=organization,
            ),
            t.gettext("this email address belongs to {organization}", organization=organization),
        ],
        button=t.gettext("Confirm"),
    )


def _thanks(t: Translator, confirmation: Confirmation) -> _Page:
    requester = confirmation.requested_by.name if confirmation.requested_by else ""
    done = (
        confirmation.review is not None and confirmation.review.status is VettingStatus.AUTHORIZED
    )
    return _Page(
        status=200,
        locale=t.locale,
        title=t.gettext("Thank you, confirmed"),
        paragraphs=[
            t.gettext(
                "Thank you, {name}: you confirmed that you are the primary contact.",
                name=confirmation.contact_name or "",
            ),
            t.gettext("With this, the review of your organization's profile is complete.")
            if done
            else t.gettext("The review of your organization's profile goes on."),
            t.gettext(
                "{requester} will be told in the chat in Microsoft Teams. You can close this page.",
                requester=requester,
            ),
        ],
    )


def _used(t: Translator, status: int) -> _Page:
    return _Page(
        status=status,
        locale=t.locale,
        title=t.gettext("Already confirmed"),
        paragraphs=[
            t.gettext("The address this link was sent to is already confirmed."),
            t.gettext("There is nothing more to do. You can close this page."),
        ],
    )


def _expired(t: Translator) -> _Page:
    return _Page(
        status=410,
        locale=t.locale,
        title=t.gettext("This link has expired"),
        paragraphs=[
            t.gettext("Links in these emails work for a limited time only."),
            t.gettext(
                "Ask the person who asked you to confirm to send a new email from the chat in "
                "Microsoft Teams, then open the link in the new email."
            ),
        ],
    )


def _invalid(t: Translator, status: int) -> _Page:
    return _Page(
        status=status,
        locale=t.locale,
        title=t.gettext("This link is not valid"),
        paragraphs=[
            t.gettext(
                "It may have been replaced by a newer one: open the link in the latest email "
                "you received."
            ),
            t.gettext(
                "If that does not work, ask the person who asked you to confirm to send a new "
                "email from the chat in Microsoft Teams."
            ),
        ],
    )


def _forbidden(t: Translator) -> _Page:
    return _Page(
        status=403,
        locale=t.locale,
        title=t.gettext("Please open the link again"),
        paragraphs=[
            t.gettext("For your security, this confirmation could not be accepted."),
            t.gettext("Open the link from the email again, then choose Confirm."),
        ],
    )


def _unavailable(t: Translator) -> _Page:
    return _Page(
        status=503,
        locale=t.locale,
        title=t.gettext("Something went wrong"),
        paragraphs=[
            t.gettext(
                "We could not handle your request just now. Please try again in a few minutes."
            )
        ],
    )


# ---- the request


def _t(request: web.Request, preferred: Locale | None) -> Translator:
    """Words in ``preferred``, else the browser's language, else en-US."""
    return translator(
        preferred or _accepted(request.headers.get("Accept-Language", "")) or DEFAULT_LOCALE
    )


def _accepted(header: str) -> Locale | None:
    """The language we speak that an Accept-Language header ranks highest."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            ranked.append((-weight, position, tag.strip()))
    for _weight, _position, tag in sorted(ranked):
        if locale := normalize_locale(tag):
            return locale
    return None


def _single(values: list[str]) -> str | None:
    """The one token-shaped value given, or None."""
    if len(values) != 1 or not _TOKEN_SHAPE.fullmatch(values[0]):
        return None
    return values[0]


async def _form(request: web.Request) -> _Form | None:
    """The posted form, or None when the body is not one."""
    if request.content_type not in _FORMS:
        return None
    try:
        return await request.post()
    except (ValueError, web.HTTPException):  # a body that does not parse, or one too large
        return None


def _text(form: _Form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _first(request: web.Request, header: str) -> str:
    """The first value of a proxy's header (``https, http`` → ``https``)."""
    return request.headers.get(header, "").split(",")[0].strip()


def _is_https(request: web.Request) -> bool:
    return request.secure or _first(request, "X-Forwarded-Proto").lower() == "https"


def _own_origin(request: web.Request) -> str:
    scheme = _first(request, "X-Forwarded-Proto").lower() or request.scheme
    host = _first(request, "X-Forwarded-Host") or request.host
    return str(URL.build(scheme=scheme, authority=host).origin())


def _same_origin(request: web.Request) -> bool:
    """False when the browser says the POST comes from another origin or site."""
    if request.headers.get("Sec-Fetch-Site", "").lower() in {"cross-site", "same-site"}:
        return False
    origin = request.headers.get("Origin", "").strip()
    if not origin or origin == "null":  # "null": see the module docstring
        return True
    try:
        return str(URL(origin).origin()) == _own_origin(request)
    except ValueError:
        return False


def _csrf_value(request: web.Request) -> str:
    """The cookie's value if the browser has one (another tab's form stays valid), else new."""
    held = request.cookies.get(CSRF_COOKIE, "")
    return held if _CSRF_SHAPE.fullmatch(held) else secrets.token_urlsafe(32)


def _csrf_matches(request: web.Request, submitted: str) -> bool:
    held = request.cookies.get(CSRF_COOKIE, "")
    if not _CSRF_SHAPE.fullmatch(held) or not submitted:
        return False
    return hmac.compare_digest(held.encode("ascii"), submitted.encode("utf-8"))


def _moment(moment: datetime | None) -> str:
    """``2026-11-27 09:00 UTC``: the contact's time zone is unknown, so say UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _log_failure(action: str, error: Exception) -> None:
    """Log where it failed, without the error's message: it may hold an address."""
    logger.error(
        "contact verification page: %s failed with %s",
        action,
        type(error).__qualname__,
        extra={"stack": "".join(traceback.format_tb(error.__traceback__))},
    )


def add_verify_routes(
    app: web.Application,
    verification: Callable[[], ContactVerification],
    confirmed: Callable[[Confirmation], Awaitable[None]],
) -> None:
    """Mount the contact verification page on ``app``.

    ``verification`` gives the service (built at start-up, so looked up per request);
    ``confirmed`` is awaited after a successful confirmation to tell the requester; if it
    fails, that is logged and the contact still sees the confirmation.
    """
    page = _VerifyPage(verification, confirmed)
    app.router.add_get(VERIFY_PATH, page.show)
    app.router.add_post(VERIFY_PATH, page.confirm)
    app.router.add_route("*", VERIFY_PATH, page.other)
