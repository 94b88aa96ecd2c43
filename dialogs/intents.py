"""What a user's free text asks for, in English or Traditional Chinese, without a cloud service.

Two kinds of match, on text folded with NFKC and casefold (full-width letters and digits
become ASCII, case is ignored, punctuation and spaces are dropped):

* an **interruption** (help, cancel, start over, language, a language's name, a greeting or a
  thank-you) must be the whole message, give or take a typo, so that an answer that merely
  contains "help" is not hijacked;
* a **menu choice** may also be a menu number, or a phrase that contains one of its keywords
  (renewing and upgrading, which share a menu item, are each recognized by their own words).

Typos are tolerated with ``difflib``'s similarity ratio on the folded text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache

from services.i18n import N_

__all__ = [
    "JOURNEY_LABELS",
    "MENU",
    "MENU_LABELS",
    "Intent",
    "MenuChoices",
    "fold",
    "recognize_interruption",
    "recognize_menu_choice",
    "recognize_score",
    "recognize_yes_no",
]


class Intent(StrEnum):
    """Everything the bot can be asked for by name."""

    CREATE_ACCOUNT = "create_account"
    RENEW_OR_UPGRADE = "renew_or_upgrade"  # the menu item: asks which
    RENEW = "renew"
    UPGRADE = "upgrade"
    VERIFY_CONTACT = "verify_contact"
    ACCEPT_AGREEMENT = "accept_agreement"
    ADMIN_AGENT = "admin_agent"
    BENEFITS = "benefits"
    STATUS = "status"
    HUMAN = "human"
    HELP = "help"
    CANCEL = "cancel"
    START_OVER = "start_over"
    LANGUAGE = "language"
    ENGLISH = "english"
    CHINESE = "chinese"
    GREETING = "greeting"
    THANKS = "thanks"


# The main menu, in display order; its position + 1 is the number a user may type.
MENU: tuple[Intent, ...] = (
    Intent.CREATE_ACCOUNT,
    Intent.RENEW_OR_UPGRADE,
    Intent.VERIFY_CONTACT,
    Intent.ACCEPT_AGREEMENT,
    Intent.ADMIN_AGENT,
    Intent.BENEFITS,
    Intent.STATUS,
    Intent.HUMAN,
    Intent.HELP,
)

# What each menu item is called (English source strings; a button sends its label).
MENU_LABELS: dict[Intent, str] = {
    Intent.CREATE_ACCOUNT: N_("Create the Partner Center account"),
    Intent.RENEW_OR_UPGRADE: N_("Renew or upgrade the membership"),
    Intent.VERIFY_CONTACT: N_("Verify the primary contact"),
    Intent.ACCEPT_AGREEMENT: N_("Accept the partner agreement"),
    Intent.ADMIN_AGENT: N_("Check the admin agent role"),
    Intent.BENEFITS: N_("Buy and activate benefits"),
    Intent.STATUS: N_("Membership status"),
    Intent.HUMAN: N_("Talk to a person"),
    Intent.HELP: N_("Help"),
}
assert tuple(MENU_LABELS) == MENU, "the menu's labels follow its order"

# What each journey is called on a button that leads to it (the menu's, and the two journeys
# that share one menu item).
JOURNEY_LABELS: dict[Intent, str] = {
    **MENU_LABELS,
    Intent.RENEW: N_("Renew the membership"),
    Intent.UPGRADE: N_("Upgrade the membership"),
}

_INTERRUPTION_WORDS: dict[Intent, tuple[str, ...]] = {
    Intent.HELP: ("help", "?", "what can you do", "幫助", "說明", "求助", "幫忙", "怎麼用"),
    Intent.CANCEL: ("cancel", "stop", "quit", "exit", "never mind", "取消", "停止", "算了", "離開"),
    Intent.START_OVER: ("start over", "restart", "reset", "重新開始", "從頭開始", "重來"),
    Intent.LANGUAGE: ("language", "change language", "語言", "切換語言", "更改語言"),
    Intent.ENGLISH: ("english", "英文", "英語", "en", "en-us"),
    Intent.CHINESE: ("繁體中文", "中文", "chinese", "traditional chinese", "zh-tw", "國語"),
    Intent.GREETING: (
        "hi",
        "hello",
        "hey",
        "hi there",
        "hello there",
        "good morning",
        "good afternoon",
        "good evening",
        "你好",
        "您好",
        "嗨",
        "哈囉",
        "哈啰",
        "早安",
        "午安",
        "大家好",
    ),
    Intent.THANKS: (
        "thanks",
        "thank you",
        "thanks a lot",
        "thank you very much",
        "many thanks",
        "thx",
        "謝謝",
        "謝謝你",
        "謝謝您",
        "感謝",
        "感謝你",
        "感謝您",
        "多謝",
        "謝啦",
        "謝了",
    ),
    Intent.HUMAN: (
        "talk to a person",
        "a person",
        "person",
        "human",
        "real person",
        "help desk",
        "helpdesk",
        "真人",
        "真人客服",
        "找真人",
        "找真人客服",
        "與真人客服對話",
        "服務台",
    ),
}

_MENU_WORDS: dict[Intent, tuple[str, ...]] = {
    Intent.CREATE_ACCOUNT: (
        "create account", "create the account", "partner center account", "register",
        "sign up", "建立帳戶", "建立帳號", "建立合作夥伴中心帳戶", "註冊", "開戶",
        # Signing in to the organization's tenant is the account journey's first step; the
        # Partner Center page still calls it Azure AD ("登入 Azure AD").
        "microsoft entra id", "microsoft entra", "entra id", "azure ad", "azure active directory",
        "sign in to azure ad", "aad tenant", "tenant", "create a tenant", "create a new tenant",
        "登入 azure ad", "租用戶", "建立新的租用戶", "建立租用戶",
    ),
    Intent.RENEW: ("renew", "renewal", "續約", "續訂", "更新會員"),
    Intent.UPGRADE: (
        "upgrade", "upgrade the membership", "upgrade to silver", "upgrade to gold", "go gold",
        "升級", "升級會員", "升級會員資格", "升級到金級", "升級到銀級", "升級為金級", "升級為銀級",
    ),
    Intent.VERIFY_CONTACT: (
        "verify contact", "verify email", "primary contact", "contact verification",
        "驗證聯絡人", "驗證電子郵件", "主要連絡人", "主要聯絡人", "驗證",
    ),
    Intent.ACCEPT_AGREEMENT: ("agreement", "accept agreement", "合約", "協議", "接受合約", "同意"),
    Intent.ADMIN_AGENT: (
        "admin agent", "admin agent role", "check admin agent", "系統管理代理人", "管理代理人",
        "代理人",
    ),
    Intent.BENEFITS: (
        "benefits", "benefit", "buy benefits", "activate", "權益", "福利", "購買", "啟用",
    ),
    Intent.STATUS: (
        "status", "membership status", "expire", "expiry", "when does", "狀態", "會員狀態",
        "到期", "何時到期",
    ),
    Intent.HUMAN: (
        "talk to a person", "human", "agent", "person", "help desk", "helpdesk", "support",
        "真人", "真人客服", "客服", "找人", "服務台",
    ),
    Intent.HELP: ("help", "what can you do", "幫助", "說明"),
}  # fmt: skip

_FUZZY_THRESHOLD = 0.8


@lru_cache(maxsize=2048)  # menu labels are folded on every menu answer; user texts repeat
def fold(text: str) -> str:
    """Fold ``text`` for matching: NFKC, casefold, only letters, digits and '?'."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in normalized if ch.isalnum() or ch == "?")


# Typos are looked for only in short texts: an interruption is a word or two, and a long
# free-text answer (a company name, an address) must not cost a fuzzy pass over every keyword.
_LONGEST_INTERRUPTION = 24
_LONGEST_FUZZY_MENU_TEXT = 80


def _similar(a: str, b: str) -> bool:
    # Short words need an exact match: "en" must not be a typo of "no".
    if min(len(a), len(b)) < 4:
        return a == b
    # ratio = 2 * matches / (len(a) + len(b)) cannot reach the threshold when the lengths
    # differ this much; skip building the matcher.
    if 2 * min(len(a), len(b)) < _FUZZY_THRESHOLD * (len(a) + len(b)):
        return False
    matcher = SequenceMatcher(None, a, b)
    return matcher.quick_ratio() >= _FUZZY_THRESHOLD and matcher.ratio() >= _FUZZY_THRESHOLD


def _folded(table: dict[Intent, tuple[str, ...]]) -> dict[Intent, tuple[str, ...]]:
    return {intent: tuple(fold(word) for word in words) for intent, words in table.items()}


_INTERRUPTIONS = _folded(_INTERRUPTION_WORDS)
_MENU_KEYWORDS = _folded(_MENU_WORDS)


def recognize_interruption(text: str | None) -> Intent | None:
    """Return the interruption that ``text`` is, as a whole message, if any."""
    folded = fold(text or "")
    return _interruption(folded) if folded else None


@lru_cache(maxsize=4096)  # asked of every message; what users type repeats (menu words, numbers)
def _interruption(folded: str) -> Intent | None:
    for intent, words in _INTERRUPTIONS.items():
        if folded in words:
            return intent
    if len(folded) > _LONGEST_INTERRUPTION:
        return None
    for intent, words in _INTERRUPTIONS.items():
        if any(_similar(folded, word) for word in words):
            return intent
    return None


def recognize_menu_choice(
    text: str | None, labels: Mapping[Intent, Sequence[str]] | None = None
) -> Intent | None:
    """Return the menu item that ``text`` picks: its number, its label, or one of its keywords.

    ``labels`` are the items' displayed names, in every language (a button sends its label).
    A dialog that asks on every turn keeps a ``MenuChoices`` for its labels instead.
    """
    return MenuChoices(labels).recognize(text)


class MenuChoices:
    """``recognize_menu_choice`` for a fixed set of labels, folded once.

    An answer that matches nothing exactly costs a fuzzy pass over every keyword and label
    (about 90 comparisons); what users type repeats, so answers are remembered per distinct
    text, as interruptions are (issue 9, decision 0011).
    """

    def __init__(self, labels: Mapping[Intent, Sequence[str]] | None = None) -> None:
        self._labels = {
            intent: tuple(fold(label) for label in names)
            for intent, names in (labels or {}).items()
        }
        self._remembered = lru_cache(maxsize=4096)(self._recognize)

    def recognize(self, text: str | None) -> Intent | None:
        """Return the menu item that ``text`` picks, if any."""
        return self._remembered(text or "")

    def _recognize(self, text: str) -> Intent | None:
        folded = fold(text)
        if not folded:
            return None
        if folded.isdigit() and 1 <= int(folded) <= len(MENU):
            return MENU[int(folded) - 1]
        for intent, names in self._labels.items():
            if folded in names:
                return intent
        for intent, words in _MENU_KEYWORDS.items():
            if folded in words:
                return intent
        # Longest keyword contained in the text wins: "renew our membership" -> renew.
        contained = [
            (len(word), intent)
            for intent, words in _MENU_KEYWORDS.items()
            for word in words
            if len(word) >= 2 and word in folded
        ]
        if contained:
            return max(contained, key=lambda pair: pair[0])[1]
        if len(folded) > _LONGEST_FUZZY_MENU_TEXT:
            return None
        # Typos: compare the whole text and each run of up to three of its words.
        pieces = {folded, *_word_runs(text)}
        for intent, words in _MENU_KEYWORDS.items():
            candidates = (*words, *self._labels.get(intent, ()))
            if any(_similar(piece, word) for piece in pieces for word in candidates):
                return intent
        return None


def _word_runs(text: str, longest: int = 3) -> list[str]:
    words = [fold(word) for word in unicodedata.normalize("NFKC", text).split()]
    words = [word for word in words if word]
    return [
        "".join(words[start : start + size])
        for size in range(1, longest + 1)
        for start in range(len(words) - size + 1)
    ]


_YES = frozenset(fold(w) for w in (
    "yes", "y", "yeah", "yep", "ok", "okay", "sure", "i can", "accept", "agree", "confirm",
    "是", "是的", "好", "好的", "對", "可以", "同意", "接受", "確認", "沒問題",
))  # fmt: skip
_NO = frozenset(fold(w) for w in (
    "no", "n", "nope", "not", "decline", "i cannot", "i can't", "reject",
    "否", "不", "不是", "不要", "不行", "不可以", "拒絕", "不同意",
))  # fmt: skip


def recognize_yes_no(text: str | None) -> bool | None:
    """Return True for a yes, False for a no, None for anything else (either language)."""
    folded = fold(text or "")
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    return None


_SCORES = {
    "1": 1, "2": 2, "3": 3, "4": 4, "5": 5,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "一": 1, "二": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
}  # fmt: skip
# A score alone, or said the usual ways: "5 stars", "4/5", "5 out of 5", "5分", "給五顆星".
_SCORE = re.compile(
    r"(?:i(?:'d)?give(?:it)?|我給|給|打)?"
    rf"(?P<score>{'|'.join(_SCORES)})"
    r"(?:stars?|points?|/5|outof5|分|顆星|星)?"
)
_SCORE_END = ".!。！"


def recognize_score(text: str | None) -> int | None:
    """Return the 1 to 5 rating that ``text`` gives, in either language, if it is one."""
    normalized = unicodedata.normalize("NFKC", text or "").casefold()
    compact = "".join(normalized.split()).rstrip(_SCORE_END)
    if compact and set(compact) == {"★"}:
        return len(compact) if len(compact) <= 5 else None
    found = _SCORE.fullmatch(compact)
    return _SCORES[found["score"]] if found else None
