"""Bot state round-trips through the codec, and nothing but Bot Framework classes is rebuilt."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum

import pytest
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.state_codec import StateCodecError, decode, encode


def _dialog_state() -> dict[str, object]:
    inner = DialogInstance()
    inner.id = "menu_prompt"
    inner.state = {
        "options": PromptOptions(prompt=Activity(type="message", text="選擇")),
        "n": (1, 2),
    }
    stack = DialogState([inner])
    return {
        "DialogState": stack,
        "answers": {"company": "Contoso 股份有限公司", "py/object": "just data"},
        "when": datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        "from": ChannelAccount(id="29:1", name="Mei"),
    }


def test_dialog_state_round_trips_to_an_equal_encoding():
    text = encode(_dialog_state())

    restored = decode(text)

    assert encode(restored) == text
    prompt = restored["DialogState"].dialog_stack[0].state["options"].prompt
    assert prompt.text == "選擇" and isinstance(prompt, Activity)
    assert restored["answers"] == {"company": "Contoso 股份有限公司", "py/object": "just data"}
    assert restored["DialogState"].dialog_stack[0].state["n"] == [1, 2]  # as JSON has it
    assert restored["when"] == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "data",
    [
        {"py/object": "subprocess.Popen", "state": {"args": ["sh"]}},  # a data key like a marker
        {"said": ["user", "py/object"], "also": {"py/dict": 1}},  # and a string like one
    ],
)
def test_data_that_looks_like_the_codecs_markers_reads_back_as_the_same_data(
    data: dict[str, object],
) -> None:
    state = {"answers": data, "from": ChannelAccount(id="29:1", name="py/Mei")}

    restored = decode(encode(state))

    assert restored["answers"] == data
    assert restored["from"].name == "py/Mei" and isinstance(restored["from"], ChannelAccount)
    assert encode(restored) == encode(state)


def test_state_written_with_tuples_before_lever_17_still_reads():
    assert decode('{"n":{"py/tuple":[1,2]}}') == {"n": (1, 2)}


@pytest.mark.parametrize(
    "data",
    [
        {"big": 2**70, "when": datetime(2026, 11, 24, 9, 30, tzinfo=UTC)},  # beyond 64 bits
        {"by_step": {3: "three"}, "from": ChannelAccount(id="29:1", name="Mei")},  # key not text
    ],
    ids=["integer beyond 64 bits", "numeric key"],
)
def test_what_the_fast_encoder_refuses_is_stored_as_the_json_module_stores_it(
    data: dict[str, object],
) -> None:
    restored = decode(encode(data))

    if "big" in data:
        assert restored == data
    else:
        assert restored["by_step"] == {"3": "three"}  # as JSON has it
        assert restored["from"].name == "Mei" and isinstance(restored["from"], ChannelAccount)


class Shade(Enum):
    DARK = 1


def test_an_enumeration_reads_back_as_its_value_and_an_older_marker_as_the_enumeration():
    assert decode(encode({"shade": Shade.DARK, "type": ActivityTypes.message})) == {
        "shade": 1,
        "type": "message",
    }
    enum = "botbuilder.schema._connector_client_enums.ActivityTypes"
    older = json.dumps({"type": {"py/enum": enum, "value": "typing"}})
    assert decode(older) == {"type": ActivityTypes.typing}


def test_a_key_json_cannot_write_is_refused():
    with pytest.raises(StateCodecError, match="keys must be strings"):
        encode({"scores": {(1, 2): "a tuple as a key"}})


def test_an_unchanged_state_encodes_to_the_same_text_and_a_changed_one_does_not():
    state = decode(encode(_dialog_state()))
    before = encode(state)

    state["DialogState"].dialog_stack[0].state["options"].prompt.text = "changed"

    assert encode(decode(before)) == before
    assert encode(state) != before


class Anything:
    def __init__(self) -> None:
        self.x = 1


def test_storing_an_arbitrary_object_is_refused_with_advice():
    with pytest.raises(StateCodecError, match="cannot be stored in bot state"):
        encode({"profile": Anything()})


def test_stored_text_naming_a_class_outside_the_bot_framework_is_not_rebuilt():
    hostile = json.dumps({"py/object": "subprocess.Popen", "state": {"args": ["sh"]}})

    with pytest.raises(StateCodecError, match="refusing to rebuild"):
        decode(hostile)
