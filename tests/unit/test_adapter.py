"""The adapter's turn: the dialogs' memory as the SDK builds it, shared between turns."""

from __future__ import annotations

from botbuilder.core import ConversationState, MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogSet
from botbuilder.dialogs.memory import DialogStateManager
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    DeliveryModes,
)

from bot.adapter import create_adapter
from tests.conftest import make_settings


def _incoming(conversation: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        id="incoming-1",
        text="hi",
        channel_id="msteams",
        service_url="https://smba.example/",
        conversation=ConversationAccount(id=conversation),
        from_property=ChannelAccount(id="user-1"),
        recipient=ChannelAccount(id="bot-1"),
        delivery_mode=DeliveryModes.expect_replies,
    )


def _names(things: list[object]) -> list[str]:
    return [type(thing).__name__ for thing in things]


async def test_each_turns_dialog_memory_has_the_scopes_the_sdk_would_build(sqlite_url):
    adapter = create_adapter(make_settings(sqlite_url))
    dialogs = DialogSet(ConversationState(MemoryStorage()).create_property("DialogState"))
    seen: list[tuple[list[str], list[str], object]] = []

    async def logic(context: TurnContext) -> None:
        manager = (await dialogs.create_context(context)).state
        configuration = manager.configuration
        seen.append((
            _names(configuration.memory_scopes), _names(configuration.path_resolvers), configuration
        ))  # fmt: skip
        await context.send_activity("ok")

    for conversation in ("a:one", "a:two"):
        response = await adapter.process_activity("", _incoming(conversation), logic)
        assert response is not None and len(response.body["activities"]) == 1

    # What the SDK builds on its own, for a context that brings no configuration.
    plain = TurnContext(TestAdapter(), _incoming("a:x"))
    own = DialogStateManager(await dialogs.create_context(plain)).configuration
    assert len(own.memory_scopes) == 9 and len(own.path_resolvers) == 5
    for scopes, resolvers, _ in seen:
        assert scopes == _names(own.memory_scopes)
        assert resolvers == _names(own.path_resolvers)
    assert seen[0][2] is seen[1][2]  # built once, for every turn
