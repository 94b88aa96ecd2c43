"""Walk every question of every journey as a user reaches it, from the first message on.

``Demo`` keeps one migrated SQLite database with the demo data as a template and gives each
session a fresh copy of it (and fresh bot state), so that any path can be replayed from its
start as often as a test needs. A ``Path`` is a demo user and what they did since joining the
chat: buttons clicked by their position on the question (so that one path replays in either
language), answers typed, the profile form submitted. ``explore`` finds every question
reachable from the menu, breadth first, and gives the path to each.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path as FilePath
from typing import Any

from botbuilder.core import MemoryStorage
from botbuilder.dialogs import DialogState

from services import db
from services.clock import Clock
from services.demo_data import load_demo
from services.handoff import HandoffService
from services.unit_of_work import UnitOfWorkFactory
from tests.support.chat import Chat, Reply
from tests.support.help_desk import TicketsOnlyHelpDesk

__all__ = ["PROFILE", "Demo", "Move", "Path", "Session", "explore"]

# What a user gives where a question wants typed words or a form, by the waiting dialog's id.
PROFILE = {
    "legal_name": "Contoso Taiwan Ltd.",
    "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5",
    "city": "Taipei",
    "region": "Taipei City",
    "postal_code": "110",
    "country": "TW",
    "contact_first_name": "Mei",
    "contact_last_name": "Lin",
    "contact_email": "mei.lin@contoso.example",
    "contact_phone": "02 2345 6789",
}
TYPED = {
    "tenant": "3f1c2a10-0000-4000-8000-00000000beef",
    "seats": "5",
    "evidence": "Our case studies: https://contoso.example/cases",
}
FORMS = {"profile_form": PROFILE}
_PERSON = "human"  # the "Talk to a person" button's action: not a path of the journey


@dataclass(frozen=True)
class Move:
    """One thing a user does at a question."""

    click: int | None = None  # the question's n-th button
    say: str | None = None
    form: tuple[tuple[str, str], ...] | None = None  # the first button, with these inputs

    def __str__(self) -> str:
        if self.click is not None:
            return f"button {self.click + 1}"
        if self.form is not None:
            return "the form, filled in"
        return repr(self.say)


@dataclass(frozen=True)
class Path:
    """A demo user, and what they did since joining the chat."""

    user: str
    moves: tuple[Move, ...] = ()
    shown: tuple[str, ...] = field(default=(), compare=False)  # the questions, for a report

    def then(self, move: Move, question: str) -> Path:
        return replace(self, moves=(*self.moves, move), shown=(*self.shown, question))

    def __str__(self) -> str:
        steps = [f"{question[:60]!r} -> {move}" for question, move in zip(
            self.shown, self.moves, strict=True)]  # fmt: skip
        return " | ".join([self.user, "join", *steps])


@dataclass
class Session:
    """One user's chat on a fresh copy of the demo, at the end of a path."""

    chat: Chat
    storage: MemoryStorage
    replies: list[Reply]

    @property
    def question(self) -> Reply:
        """What the bot asked last."""
        return self.replies[-1]

    def waiting(self) -> tuple[str, ...]:
        """The ids of the dialogs on the stack, outermost first, down to the one that waits."""
        state = next(
            (item for key, item in self.storage.memory.items() if "/conversations/" in key), {}
        )
        ids: list[str] = []
        dialogs: Any = state.get("DialogState")
        while isinstance(dialogs, DialogState) and dialogs.dialog_stack:
            instance = dialogs.dialog_stack[0]
            ids.append(instance.id)
            dialogs = instance.state.get("dialogs") if isinstance(instance.state, dict) else None
        return tuple(ids)

    async def do(self, move: Move) -> list[Reply]:
        """Make ``move`` at the current question; the replies become the session's."""
        if move.click is not None:
            replies = await self.chat.press(self.question.actions[move.click])
        elif move.form is not None:
            replies = await self.chat.press(self.question.actions[0], dict(move.form))
        else:
            replies = await self.chat.say(move.say or "")
        self.replies = replies or self.replies
        return replies

    async def do_say(self, text: str) -> list[Reply]:
        """Type ``text`` at the current question."""
        return await self.do(Move(say=text))

    def moves(self) -> list[Move]:
        """What a user can do at the current question to go on with the journey."""
        waiting = self.waiting()
        last = waiting[-1] if waiting else ""
        if last in FORMS:
            cancel = len(self.question.actions) - 1
            return [Move(form=tuple(FORMS[last].items())), Move(click=cancel)]
        if last in TYPED:
            return [Move(say=TYPED[last])]
        return [
            Move(click=index)
            for index, action in enumerate(self.question.actions)
            if action.get("type") in ("Action.Submit", "Action.Execute")
            and _action_of(action) != _PERSON
        ]


def _action_of(button: dict[str, Any]) -> object:
    data = button.get("data") or {}
    value = (data.get("msteams") or {}).get("value") or {}
    return value.get("action", data.get("action"))


class Demo:
    """The demo data on a template database, copied afresh for each session."""

    def __init__(self, folder: FilePath, clock: Clock) -> None:
        self._folder = folder
        self._template = folder / "template.db"
        self._clock = clock
        self._sessions = 0

    async def prepare(self) -> None:
        """Migrate the template and load the demo data into it (once)."""
        if self._template.exists():
            return
        url = f"sqlite:///{self._template}"
        await db.upgrade_async(url)
        engine = db.create_engine(url)
        try:
            await load_demo(UnitOfWorkFactory(engine), self._clock)
        finally:
            await engine.dispose()

    @asynccontextmanager
    async def session(self, path: Path, locale: str) -> AsyncIterator[Session]:
        """A chat in ``locale`` on a fresh copy of the demo, taken along ``path``."""
        from tests.conftest import journey_services_on

        await self.prepare()
        self._sessions += 1
        copy = self._folder / f"session-{self._sessions}.db"
        shutil.copyfile(self._template, copy)
        engine = db.create_engine(f"sqlite:///{copy}")
        try:
            units = UnitOfWorkFactory(engine)
            handoffs = HandoffService(units, self._clock, reraise_after=timedelta(minutes=15))
            services = replace(
                journey_services_on(units, self._clock), help_desk=TicketsOnlyHelpDesk(handoffs)
            )
            storage = MemoryStorage()
            chat = Chat(storage, services, locale=locale, user_id=path.user,
                        conversation_id=f"walk-{path.user}")  # fmt: skip
            session = Session(chat, storage, await chat.join())
            for move in path.moves:
                await session.do(move)
            yield session
        finally:
            await engine.dispose()
            copy.unlink(missing_ok=True)


def _key(session: Session) -> tuple[object, ...]:
    question = session.question
    return (session.waiting(), question.text, tuple(question.buttons))


async def explore(demo: Demo, user: str, *, locale: str = "en-US", most: int = 80) -> list[Path]:
    """Every question ``user`` can reach from the menu (the menu first), breadth first.

    A question met again (the same dialog waiting, the same words and buttons) is not gone
    through again; a path that comes back to the menu ends there.
    """
    found: list[Path] = []
    seen: set[tuple[object, ...]] = set()
    queue = [Path(user)]
    while queue and len(found) < most:
        path = queue.pop(0)
        async with demo.session(path, locale) as session:
            key = _key(session)
            if key in seen:
                continue
            at_menu = session.waiting()[-1:] == ("menu_prompt",)
            if at_menu and path.moves:
                continue
            seen.add(key)
            found.append(path)
            question = session.question.text.split("\n")[0]
            queue += [path.then(move, question) for move in session.moves()]
    return found
