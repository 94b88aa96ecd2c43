"""The dialog tree's shape: the same for every build of the bot, another once steps change."""

from __future__ import annotations

from botbuilder.core import MemoryStorage
from botbuilder.dialogs import WaterfallStepContext

from dialogs.contexts import Component
from dialogs.shape import dialog_shape
from dialogs.waterfall import Waterfall
from tests.support.chat import build_bot


async def _ask(step: WaterfallStepContext) -> object:
    return await step.end_dialog()


async def _confirm(step: WaterfallStepContext) -> object:
    return await step.end_dialog()


def _journey(*steps: object) -> Component:
    journey = Component("journey")
    journey.add_dialog(Waterfall("steps", list(steps)))
    return journey


def test_two_builds_of_the_bot_have_one_shape(journey_services):
    first = build_bot(MemoryStorage(), journey_services)
    second = build_bot(MemoryStorage(), journey_services)

    assert dialog_shape(first._dialog) == dialog_shape(second._dialog)


def test_a_step_added_or_moved_gives_another_shape():
    before = dialog_shape(_journey(_ask))

    assert dialog_shape(_journey(_ask)) == before
    assert dialog_shape(_journey(_confirm, _ask)) != before
    assert dialog_shape(_journey(_ask, _confirm)) != before
