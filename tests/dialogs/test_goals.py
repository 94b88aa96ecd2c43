"""What a user asked for survives what it needs first, and the seed's rules hold.

To renew or upgrade, the organization first sets up its Partner Center account (sign-in, the
legal profile and primary contact, the agreement). Asked for before that, the renewal (or the
upgrade) runs the account journey, then goes on by itself; left unfinished, it is kept and
offered as the next button once what it waits for is done. Turn by turn, typed as people type,
in both languages, on the demo data (Contoso's legacy record expired 30 days ago; Northwind is
in Partner Center with 20 days left).
"""

from __future__ import annotations

import pytest
from botbuilder.core import MemoryStorage

from services.membership import Goal, Source, Step, StepState
from tests.support.chat import Chat
from tests.support.walk import PROFILE


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def chat_as(storage, services, user: str, locale: str) -> Chat:
    return Chat(storage, services, locale=locale, user_id=user, conversation_id=f"c-{user}")


async def states(services, organization: str = "contoso") -> dict[Step, StepState]:
    status = await services.membership.status(organization)
    return {item.step: item.state for item in status.checklist}


async def test_renewing_after_a_stopped_setup_names_what_is_missing_and_does_not_renew(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "mei.lin", "zh-TW")
    await chat.say("建立帳戶")
    await chat.say("下一步")  # signed in: the record moved into Partner Center
    await chat.say("取消")  # at the profile form

    asked = await chat.say("我要續約")
    went_on = await chat.say("好")

    assert asked[-1].text.startswith(
        "若要續約，Contoso Taiwan Ltd. 須先完成合作夥伴中心帳戶的設定。尚待完成：法律商務設定檔及"
        "主要連絡人、已接受合作夥伴合約。"
    )
    assert asked[-1].buttons == ["繼續：建立合作夥伴中心帳戶", "現在不要"]
    assert went_on[-1].buttons == ["立即註冊", "取消"]  # the profile form, where it stopped
    status = await journey_services.membership.status("contoso")
    assert status.membership.expiry_date.isoformat() == "2026-10-25"  # nothing was renewed
    assert (await states(journey_services))[Step.AGREEMENT] is StepState.PENDING


@pytest.mark.parametrize(
    ("locale", "words", "renewed"),
    [
        ("zh-TW", ("我要續約", "好", "下一步", "是", "接受", "立即續約"),
         "已續約。您的銀級專長認證（MPN ID 4100001）現在有效至 2027-11-24。"),
        ("en-US", ("I need to renew our membership", "yes", "next", "yes", "accept", "yes"),
         "Renewed. Your Silver competency (MPN ID 4100001) now runs until 2027-11-24."),
    ],
)  # fmt: skip
async def test_a_renewal_asked_for_a_legacy_record_goes_on_by_itself_after_the_setup(
    storage, journey_services, locale, words, renewed
):
    chat = chat_as(storage, journey_services, "mei.lin", locale)
    renew, yes, next_, can_sign, accept, renew_now = words
    await chat.say(renew)
    await chat.say(yes)
    form = await chat.say(next_)
    await chat.click(form[-1].buttons[0], {"action": "submit_profile", **PROFILE})
    await chat.say(can_sign)

    question = await chat.say(accept)
    done = await chat.say(renew_now)

    assert len(question[-1].buttons) == 2  # the renewal question came by itself
    assert "4100001" in question[-1].text
    assert renewed in done[0].text
    assert await journey_services.membership.goal("contoso", "mei.lin") is None


async def test_a_renewal_left_at_the_agreement_is_kept_and_offered_once_it_is_accepted(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "mei.lin", "zh-TW")
    await chat.say("續約")
    await chat.say("好")
    form = await chat.say("下一步")
    await chat.click(form[-1].buttons[0], {"action": "submit_profile", **PROFILE})

    kept = await chat.say("不")
    accepted = await chat.click("繼續：接受合作夥伴合約")
    await chat.say("是")
    offered = await chat.say("接受")
    question = await chat.click("繼續：續約會員資格")
    done = await chat.click("立即續約")

    assert kept[-2].text == "我會先為您保留這次續約：還需要完成已接受合作夥伴合約。"
    assert kept[-2].buttons == ["繼續：接受合作夥伴合約"]
    assert accepted[-1].text == "您是否有權代表 Contoso Taiwan Ltd. 簽署法律合約？"
    assert (
        offered[-2].text == "續約所需的步驟都已完成：Contoso Taiwan Ltd. 現在可以續約會員資格了。"
    )
    assert offered[-2].buttons == ["繼續：續約會員資格"]
    assert question[0].text.startswith("要續約 Contoso Taiwan Ltd. 的銀級專長認證")
    assert "2027-11-24" in done[0].text


async def test_not_now_drops_the_renewal_and_nothing_is_offered_later(storage, journey_services):
    chat = chat_as(storage, journey_services, "mei.lin", "en-US")
    await chat.say("renew")

    dropped = await chat.say("not now")
    later = await chat.say("Create the Partner Center account")

    assert dropped[0].text == "OK, nothing was changed."
    assert await journey_services.membership.goal("contoso", "mei.lin") is None
    assert later[-1].buttons == ["Next", "Check what I need first", "Not now"]


async def test_the_kept_renewal_survives_another_chat_and_another_day(storage, journey_services):
    first = chat_as(storage, journey_services, "mei.lin", "en-US")
    await first.say("renew")
    await first.say("yes")
    await first.say("next")  # and leaves at the profile form

    assert await journey_services.membership.goal("contoso", "mei.lin") is Goal.RENEW
    again = Chat(storage, journey_services, locale="en-US", user_id="mei.lin",
                 conversation_id="another-chat")  # fmt: skip
    form = await again.say("Create the Partner Center account")
    await again.click(form[-1].buttons[0], {"action": "submit_profile", **PROFILE})
    await again.say("yes")
    offered = await again.say("accept")

    assert offered[-2].text == (
        "Everything renewing needs is done: Contoso Taiwan Ltd. can renew its membership now."
    )


@pytest.mark.parametrize(
    ("locale", "item", "choose", "question"),
    [
        ("en-US", "Renew or upgrade the membership", "Upgrade the membership",
         "Which one would you like?"),
        ("zh-TW", "2", "升級會員資格", "您想要哪一個？"),
    ],
)  # fmt: skip
async def test_the_renew_or_upgrade_menu_item_reaches_the_upgrade(
    storage, journey_services, locale, item, choose, question
):
    chat = chat_as(storage, journey_services, "ana.silva", locale)
    await chat.join()

    which = await chat.say(item)
    upgrade = await chat.say(choose)

    assert len(which[-1].buttons) == 3
    assert upgrade[-1].text == question


MENU_ITEM = {"en-US": "Renew or upgrade the membership", "zh-TW": "續約或升級會員資格"}


@pytest.mark.parametrize(
    ("locale", "answer", "question"),
    [
        ("zh-TW", "升級", "您想要哪一個？"),
        ("zh-TW", "我想升級會員資格", "您想要哪一個？"),
        ("en-US", "upgrade", "Which one would you like?"),
        ("en-US", "2", "Which one would you like?"),
    ],
)  # fmt: skip
async def test_the_renew_or_upgrade_question_takes_the_answer_as_people_type_it(
    storage, journey_services, locale, answer, question
):
    # A part of a button's label, the label within a sentence, or the button's number.
    chat = chat_as(storage, journey_services, "ana.silva", locale)
    await chat.join()
    which = await chat.say(MENU_ITEM[locale])

    upgrade = await chat.say(answer)

    assert len(which[-1].buttons) == 3
    assert upgrade[-1].text == question


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
async def test_an_answer_that_fits_both_renewing_and_upgrading_is_asked_again(
    storage, journey_services, locale
):
    chat = chat_as(storage, journey_services, "ana.silva", locale)
    await chat.join()
    which = await chat.say(MENU_ITEM[locale])

    again = await chat.say("會員資格" if locale == "zh-TW" else "the membership")

    assert again[-1].text == which[-1].text and len(again[-1].buttons) >= 3


@pytest.mark.parametrize(
    ("locale", "typed"),
    [("en-US", "upgrade to gold"), ("zh-TW", "升級"), ("zh-TW", "我想升級到金級")],
)
async def test_upgrade_typed_as_people_type_it_opens_the_upgrade_not_the_renewal(
    storage, journey_services, locale, typed
):
    replies = await chat_as(storage, journey_services, "ana.silva", locale).say(typed)

    assert any("Gold competency" in r.text or "金級專長認證" in r.text for r in replies)
    assert not any("90" in r.text and ("Renewal" in r.text or "續約" in r.text) for r in replies)


async def test_an_upgrade_asked_for_a_legacy_record_names_the_missing_steps_then_goes_on(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "mei.lin", "en-US")

    asked = await chat.say("upgrade")
    await chat.click("Continue: Create the Partner Center account")
    form = await chat.say("next")
    await chat.click(form[-1].buttons[0], {"action": "submit_profile", **PROFILE})
    await chat.say("yes")
    went_on = await chat.say("accept")

    assert asked[-1].text.startswith(
        "To upgrade, Contoso Taiwan Ltd. first sets up its Partner Center account."
    )
    # Contoso's membership expired: renewing comes first, with a button, and the upgrade waits.
    assert went_on[-2].text == (
        "Your membership expired on 2026-10-25: renew it first, then you can upgrade."
    )
    assert went_on[-2].buttons == ["Continue: Renew the membership"]
    await chat.click("Continue: Renew the membership")
    renewed = await chat.click("Renew now")
    assert renewed[-2].text == (
        "Everything upgrading needs is done: Contoso Taiwan Ltd. can upgrade its membership now."
    )
    status = await journey_services.membership.status("contoso")
    assert status.membership.source is Source.PARTNER_CENTER


async def test_cancel_drops_what_the_user_set_out_to_do(storage, journey_services):
    chat = chat_as(storage, journey_services, "mei.lin", "zh-TW")
    await chat.say("續約")
    await chat.say("好")

    stopped = await chat.say("取消")

    assert stopped[0].text == "好的，已經停止。您已儲存的內容都會保留。"
    assert await journey_services.membership.goal("contoso", "mei.lin") is None


@pytest.mark.parametrize(
    ("locale", "typed", "told"),
    [
        ("en-US", "renew",
         "Global administrators in your tenant: 林美玲 Mei Lin. Ask one of them to open this chat "
         "and choose “Renew the membership”."),
        ("zh-TW", "我要續約",
         "貴租用戶的全域管理員：林美玲 Mei Lin。請他們開啟此交談並選擇「續約會員資格」。"),
    ],
)  # fmt: skip
async def test_someone_who_cannot_sign_in_for_the_organization_is_told_who_can_not_led_in(
    storage, journey_services, locale, typed, told
):
    replies = await chat_as(storage, journey_services, "david.chen", locale).say(typed)

    assert told in replies[0].text
    assert replies[0].buttons == []  # no button into a journey that would stop him
    assert await journey_services.membership.goal("contoso", "david.chen") is None
