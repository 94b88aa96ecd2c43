"""Tenant isolation: a user sees and acts only on organizations of the tenant they come from.

Teams names the tenant of every activity (``channelData.tenant.id``, ``conversation.tenantId``).
Mei Lin is a Contoso Taiwan user (tenant …c0de01) acting for Contoso; Northwind Traders is
tenant …c0de02; Olivia Wang is tied to Fabrikam, an organization with no tenant yet.
"""

from __future__ import annotations

import pytest
from botbuilder.core import MemoryStorage

from tests.support.chat import Chat

CONTOSO_TENANT = "7f3c2a10-0000-4000-8000-000000c0de01"
NORTHWIND_TENANT = "7f3c2a10-0000-4000-8000-000000c0de02"
UNKNOWN_TENANT = "00000000-0000-4000-8000-00000000dead"
NOT_FOUND = "I can't find you in your organization's directory"
REFUSED = {
    "en-US": f"{NOT_FOUND}, so I can't look up its membership.",
    "zh-TW": "我在貴組織的目錄中找不到您，因此無法查詢會員資格。",
}
LOCAL_HINT = {
    "en-US": "(On the local chat page, pick a demo user at the top.)",
    "zh-TW": "（在本機聊天頁面上，請從頂端選擇一位示範使用者。）",
}
JOURNEYS = [
    "Membership status",
    "Create the Partner Center account",
    "Renew or upgrade the membership",
    "Verify the primary contact",
    "Accept the partner agreement",
    "Check the admin agent role",
]


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def teams_chat(storage, services, user: str, tenant: str, locale: str = "en-US") -> Chat:
    return Chat(
        storage,
        services,
        locale=locale,
        user_id=user,
        conversation_id=f"a:{user}-{tenant}",
        tenant_id=tenant,
        channel_id="msteams",
    )


async def test_a_contoso_user_in_the_contoso_tenant_sees_contosos_status(storage, journey_services):
    chat = teams_chat(storage, journey_services, "mei.lin", CONTOSO_TENANT)

    replies = await chat.say("Membership status")

    assert "Contoso Taiwan Ltd." in replies[0].text


async def test_the_same_user_from_another_tenant_sees_nothing_of_contoso_and_cannot_act_on_it(
    storage, journey_services
):
    before = await journey_services.membership.status("contoso")
    chat = teams_chat(storage, journey_services, "mei.lin", NORTHWIND_TENANT)

    for journey in JOURNEYS:
        replies = await chat.say(journey)
        said = "\n".join(str(reply) for reply in replies)

        assert NOT_FOUND in said, journey
        assert "Contoso" not in said and "Northwind" not in said, journey
        await chat.say("cancel")

    # Nothing was done to Contoso's record either.
    assert await journey_services.membership.status("contoso") == before


@pytest.mark.parametrize(
    ("user", "tenant"),
    [
        ("mei.lin", UNKNOWN_TENANT),  # a tenant the directory does not know
        ("olivia.wang", UNKNOWN_TENANT),  # no tenant of her own, and an unknown one
        ("olivia.wang", NORTHWIND_TENANT),  # Northwind's tenant: Northwind is not her organization
        ("stranger", CONTOSO_TENANT),  # nobody the directory knows
    ],
)
async def test_a_user_from_a_tenant_the_directory_does_not_tie_them_to_is_refused(
    storage, journey_services, user, tenant
):
    replies = await teams_chat(storage, journey_services, user, tenant).say("Membership status")

    assert replies[0].text.startswith(NOT_FOUND)
    assert "Northwind" not in replies[0].text and "Fabrikam" not in replies[0].text


async def test_without_a_tenant_the_local_chat_page_still_finds_the_demo_user(
    storage, journey_services
):
    chat = Chat(storage, journey_services, user_id="olivia.wang", conversation_id="dl-olivia")

    replies = await chat.say("Membership status")

    assert "Fabrikam Design Co." in replies[0].text


async def test_a_user_tied_to_an_organization_without_a_tenant_is_found_from_a_known_tenant(
    storage, journey_services
):
    # Contoso Taiwan's tenant has no organization of its own yet: Fabrikam is not another's.
    chat = teams_chat(storage, journey_services, "olivia.wang", CONTOSO_TENANT)

    replies = await chat.say("Membership status")

    assert "Fabrikam Design Co." in replies[0].text


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
@pytest.mark.parametrize("typed", ["Membership status", "Stop these reminders"])
async def test_in_teams_the_refusal_says_nothing_of_the_local_chat_page(
    storage, journey_services, locale, typed
):
    chat = teams_chat(storage, journey_services, "mei.lin", UNKNOWN_TENANT, locale)

    if typed == "Stop these reminders":  # a reminder card's button, answered at any step
        replies = await chat.submit({"action": "reminders.stop", "organization_id": "contoso"})
    else:
        replies = await chat.say(typed if locale == "en-US" else "會員狀態")

    assert replies[0].text == REFUSED[locale]


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
async def test_on_the_local_chat_page_an_unknown_user_is_told_to_pick_a_demo_user(
    storage, journey_services, locale
):
    chat = Chat(
        storage, journey_services, locale=locale, user_id="dl_8f2a", conversation_id="dl-1",
        channel_id="webchat", local_page=True,
    )  # fmt: skip

    replies = await chat.say("Membership status" if locale == "en-US" else "會員狀態")

    assert replies[0].text.startswith(REFUSED[locale])
    assert replies[0].text.endswith(LOCAL_HINT[locale])
