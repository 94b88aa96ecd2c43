"""The outbox folder on the local chat page: the emails the bot "sent", one click away.

Development only, mounted with the chat page (``app.create_app``, no app id). With the
embedded mail transport every email is an ``.eml`` file in ``OUTBOX_DIR``; a newcomer who
registers in the chat opens ``/dev/outbox``, picks the newest email and clicks its link, as the
primary contact would in their mailbox:

    GET /dev/outbox                 the emails, newest first (HTML)
    GET /dev/outbox/{name}          one email: its headers and its HTML part as the contact sees it
    GET /dev/outbox/{name}/raw      the .eml file itself

Only names of the form ``<stamp>-<hex>.eml`` found in the folder are served.
"""

from __future__ import annotations

import html
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiohttp import web

__all__ = ["setup_dev_outbox"]

OUTBOX_DIR = web.AppKey("outbox_dir", Path)
_NAME = re.compile(r"[0-9A-Za-z]+-[0-9a-f]+\.eml")
_SHOWN = 200  # the newest emails listed
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>{title}</title>
<style>
  body {{ font-family: "Segoe UI", system-ui, sans-serif; margin: 1.5rem; color: #242424; }}
  table {{ border-collapse: collapse; }} td, th {{ padding: .3rem .8rem; text-align: left; }}
  tr:nth-child(even) {{ background: #f5f5f5; }} .headers {{ color: #616161; }}
  .email {{ border: 1px solid #ddd; padding: 1rem; margin-top: 1rem; }}
</style></head><body>{body}</body></html>"""


def _read(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def _page(title: str, body: str) -> web.Response:
    return web.Response(
        text=_PAGE.format(title=html.escape(title), body=body),
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _email_path(request: web.Request) -> Path:
    name = request.match_info["name"]
    path = request.app[OUTBOX_DIR] / name
    if not _NAME.fullmatch(name) or not path.is_file():
        raise web.HTTPNotFound(text="No such email in the outbox folder.")
    return path


async def list_emails(request: web.Request) -> web.Response:
    """The outbox folder's emails, newest first."""
    folder = request.app[OUTBOX_DIR]
    names = sorted((p.name for p in folder.glob("*.eml") if _NAME.fullmatch(p.name)), reverse=True)[
        :_SHOWN
    ]
    rows = []
    for name in names:
        message = _read(folder / name)
        rows.append(
            '<tr><td>{date}</td><td>{to}</td><td><a href="/dev/outbox/{name}">{subject}</a>'
            '</td><td><a href="/dev/outbox/{name}/raw">.eml</a></td></tr>'.format(
                date=html.escape(str(message["Date"] or "")),
                to=html.escape(str(message["To"] or "")),
                subject=html.escape(str(message["Subject"] or "(no subject)")),
                name=html.escape(name),
            )
        )
    where = html.escape(str(folder.resolve()))
    table = (
        "<table><tr><th>Date</th><th>To</th><th>Subject</th><th></th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else "<p>No email yet. Register a legal profile in the chat to get one.</p>"
    )
    return _page(
        "Outbox",
        f'<h1>Outbox / 寄件匣</h1><p class="headers">The emails the bot sent, as files in '
        f'<code>{where}</code> (MAIL_TRANSPORT=outbox). <a href="/">Back to the chat</a></p>'
        + table,
    )


async def show_email(request: web.Request) -> web.Response:
    """One email as its recipient sees it (the HTML part, else the plain text)."""
    message = _read(_email_path(request))
    headers = "".join(
        f"<div><b>{field}:</b> {html.escape(str(message[field] or ''))}</div>"
        for field in ("From", "To", "Date", "Subject")
    )
    html_part = message.get_body(("html",))
    if html_part is not None:
        content = str(html_part.get_content())  # our own template's output
    else:
        text_part = message.get_body(("plain",))
        text = str(text_part.get_content()) if text_part is not None else ""
        content = f"<pre>{html.escape(text)}</pre>"
    back = '<p><a href="/dev/outbox">All emails</a></p>'
    return _page(
        str(message["Subject"] or "Email"),
        f'{back}<div class="headers">{headers}</div><div class="email">{content}</div>',
    )


async def raw_email(request: web.Request) -> web.StreamResponse:
    """The ``.eml`` file, for a mail client."""
    return web.FileResponse(_email_path(request), headers={"Content-Type": "message/rfc822"})


def setup_dev_outbox(app: web.Application, folder: Path) -> None:
    """Mount the outbox folder's pages on ``app``."""
    app[OUTBOX_DIR] = folder
    app.router.add_get("/dev/outbox", list_emails)
    app.router.add_get("/dev/outbox/{name}", show_email)
    app.router.add_get("/dev/outbox/{name}/raw", raw_email)
