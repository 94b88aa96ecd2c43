"""Every interruption at every question of every journey, in both languages.

The walk (``tests/support/walk.py``) finds each question a demo user can reach from the menu,
journeys run inside other journeys included (renew → create the account → the profile form →
the agreement), and replays the path to it on a fresh copy of the demo in English and in
Traditional Chinese. There the user types each interruption, in either language's words:

* help, a person, a greeting and thanks: the answer, then the same question again, nothing
  lost (never "I didn't understand");
* the other language: the switch is said, the same question comes in the new language, and
  the next turns stay in it; "language" offers both, and picking one switches back;
* cancel and start over: the journey stops (saved work kept) and the menu comes.

No turn may fail (no apology, nothing logged as a failed turn).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from botbuilder.core import MemoryStorage

from dialogs.interruptible_dialog import GREETED, HELP_TEXT, THANKED
from services.clock import FixedClock
from services.i18n import Locale, translator
from tests.support.chat import Chat, Reply
from tests.support.language import strip
from tests.support.walk import Demo, Path, explore

EN, ZH = "en-US", "zh-TW"
OTHER = {EN: ZH, ZH: EN}
WORDS = {  # what a user types, in English and in Chinese
    "help": ("help", "說明"),
    "person": ("talk to a person", "真人客服"),
    "greeting": ("hello", "你好"),
    "thanks": ("thank you", "謝謝"),
    "cancel": ("cancel", "取消"),
    "start over": ("start over", "重新開始"),
    "language": ("language", "語言"),
    EN: ("English", "英文"),
    ZH: ("Chinese", "中文"),
}
ANSWERS = {"help": HELP_TEXT, "greeting": GREETED, "thanks": THANKED}  # never "didn't catch"
NAMES = {EN: "English", ZH: "繁體中文"}  # each language named in its own words, on its button
SWITCHED = "OK, I'll speak English from now on."  # each catalog says it in its own language
STOPPED = "OK, I've stopped that. Anything you saved is kept."
MENU = "What would you like to do? Pick an option or type its number."
APOLOGY = "Sorry, something went wrong on my side. What you saved is kept; please try again."


def say(locale: str, source: str) -> str:
    return strip(translator(Locale(locale)).gettext(source))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    return Demo(tmp_path_factory.mktemp("walk"), FixedClock(datetime(2026, 11, 24, 9, tzinfo=UTC)))


class Findings:
    """What went wrong, path by path, reported together at the end."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, ok: bool, path: Path, locale: str, what: str, got: list[Reply]) -> None:
        if not ok:
            shown = " / ".join(reply.text[:80].replace("\n", " ") for reply in got)
            self.found.append(f"[{locale}] {path}\n    {what}; got: {shown}")


def _asked_again(replies: list[Reply], question: Reply) -> bool:
    last = replies[-1] if replies else None
    return last is not None and (last.text, last.buttons) == (question.text, question.buttons)


def _no_apology(replies: list[Reply]) -> bool:
    return not any(APOLOGY in reply.text or say(ZH, APOLOGY) in reply.text for reply in replies)


async def _interrupt_and_go_on(
    demo: Demo, path: Path, locale: str, questions: dict[str, Reply], findings: Findings
) -> None:
    """Help and a person in both languages' words, then the other language and back."""
    other = OTHER[locale]
    async with demo.session(path, locale) as session:
        waiting = session.waiting()
        for kind in ("help", "person", "greeting", "thanks"):
            for word in WORDS[kind]:
                replies = await session.do_say(word)
                answer = ANSWERS.get(kind)
                findings.check(
                    _no_apology(replies) and _asked_again(replies, questions[locale])
                    and session.waiting() == waiting
                    and (answer is None or replies[0].text == say(locale, answer)),
                    path, locale, f"{word!r}: the answer, then the same question", replies,
                )  # fmt: skip
        for word in WORDS[other]:
            replies = await session.do_say(word)
            findings.check(
                _no_apology(replies) and replies[0].text == say(other, SWITCHED)
                and _asked_again(replies, questions[other]) and session.waiting() == waiting,
                path, other, f"{word!r}: the switch, then the question in {other}", replies,
            )  # fmt: skip
            kept = await session.do_say(WORDS["help"][1 if other == EN else 0])
            findings.check(
                kept[:1] != [] and kept[0].text == say(other, HELP_TEXT),
                path, other, "the next turn stays in the chosen language", kept,
            )  # fmt: skip
            offered = await session.do_say(WORDS["language"][0 if other == EN else 1])
            back = next(
                (b for b in offered[-1].actions if b.get("title") == NAMES[locale]), None
            ) if offered else None  # fmt: skip
            findings.check(back is not None, path, other, "'language' offers both", offered)
            if back is None:
                return
            replies = await session.chat.press(back)
            session.replies = replies or session.replies
            findings.check(
                _no_apology(replies) and replies[0].text == say(locale, SWITCHED)
                and _asked_again(replies, questions[locale]) and session.waiting() == waiting,
                path, locale, "picking the first language asks the question in it again", replies,
            )  # fmt: skip


async def _stop(
    demo: Demo, path: Path, locale: str, kind: str, word: str, findings: Findings
) -> None:
    """Cancel or start over: the journey ends and the menu comes, in the chat's language."""
    async with demo.session(path, locale) as session:
        replies = await session.do_say(word)
        first = say(locale, STOPPED) if kind == "cancel" else None
        findings.check(
            _no_apology(replies) and bool(replies)
            and (first is None or replies[0].text == first)
            and replies[-1].text.startswith(say(locale, MENU))
            and session.waiting()[-1:] == ("menu_prompt",),
            path, locale, f"{word!r}: stopped, and the menu", replies,
        )  # fmt: skip


@pytest.mark.parametrize("user", ["mei.lin", "ana.silva", "olivia.wang"])
async def test_every_interruption_at_every_question_keeps_the_journey(demo, user, caplog):
    findings = Findings()
    paths = await explore(demo, user)
    assert len(paths) > 5, "the walk found the journeys' questions"

    for path in paths:
        questions: dict[str, Reply] = {}
        for locale in (EN, ZH):
            async with demo.session(path, locale) as session:
                questions[locale] = session.question
        for locale in (EN, ZH):
            await _interrupt_and_go_on(demo, path, locale, questions, findings)
            own, other = (0, 1) if locale == EN else (1, 0)
            await _stop(demo, path, locale, "cancel", WORDS["cancel"][own], findings)
            await _stop(demo, path, locale, "start over", WORDS["start over"][other], findings)

    failed_turns = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not findings.found, f"{len(findings.found)} problems:\n" + "\n".join(findings.found)
    assert failed_turns == []


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


async def test_help_inside_the_account_journey_that_renewal_started_asks_its_question_again(
    storage, journey_services
):
    chat = Chat(storage, journey_services, locale=ZH, user_id="mei.lin")
    await chat.say("我要續約")
    started = await chat.say("好")

    replies = await chat.say("說明")

    assert replies[0].text == say(ZH, HELP_TEXT)
    assert (replies[-1].text, replies[-1].buttons) == (started[-1].text, started[-1].buttons)
    assert replies[-1].buttons == ["下一步", "先確認需要準備什麼", "現在不要"]


async def test_english_at_the_profile_form_inside_renewal_switches_and_the_choice_stays(
    storage, journey_services
):
    chat = Chat(storage, journey_services, locale=ZH, user_id="mei.lin")
    await chat.say("我要續約")
    await chat.say("好")
    await chat.say("下一步")  # signed in: the profile form

    switched = await chat.say("English")
    later = await chat.say("說明")

    assert switched[0].text == "OK, I'll speak English from now on."
    assert switched[-1].buttons == ["Register now", "Cancel"]
    assert "Legal business profile and primary contact" in switched[-1].text
    assert later[0].text == HELP_TEXT and later[-1].buttons == ["Register now", "Cancel"]
