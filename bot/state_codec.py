"""Bot state as JSON text: fast, deterministic, and restricted to known classes.

Conversation state holds the SDK's own objects (``DialogState``, ``DialogInstance``,
``PromptOptions`` and, at times, schema models such as ``Activity``), so plain ``json`` is not
enough. jsonpickle, which the SDK's storages use, walks objects through generic reflection and
will rebuild any class named in the data. This codec writes objects as
``{"py/object": "module.Class", "state": {...}}`` and, when reading, rebuilds only classes from
the Bot Framework packages; everything else is plain JSON parsed by the C ``json`` module.
Plain values are stored as JSON has them: a tuple reads back as a list, a number used as a
dict key as text, an enumeration as its value (state written before issue 9's levers 17 and
22 may hold ``py/tuple`` and ``py/enum`` markers, which still read).

The same text serves as the state's change-detection hash (``encode`` is deterministic for an
unchanged object), see ``bot/state.py``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

import orjson

__all__ = ["StateCodecError", "decode", "encode"]

_ALLOWED_MODULES = ("botbuilder.", "botframework.")
_OBJECT, _STATE, _TUPLE, _DATETIME, _ENUM, _DICT = (
    "py/object", "state", "py/tuple", "py/datetime", "py/enum", "py/dict",
)  # fmt: skip


class StateCodecError(TypeError):
    """A value cannot be stored in bot state, or stored text names a class we do not rebuild."""


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _marker(value: Any) -> Any:
    """What the C encoder cannot write itself: a Bot Framework object or a datetime (as a
    marker), an enumeration (as its value, which is what orjson writes)."""
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, Enum):
        return value.value
    kind = type(value)
    if kind.__module__.startswith(_ALLOWED_MODULES) and hasattr(value, "__dict__"):
        return {_OBJECT: _qualified(kind), _STATE: vars(value)}
    raise StateCodecError(
        f"{_qualified(kind)} cannot be stored in bot state: keep state to JSON-able values "
        "(pydantic models as model_dump(mode='json'))"
    )


def _escaped(value: Any) -> Any:
    """``value`` with every dict that has a ``py/`` key written as key/value pairs.

    Such a data key would otherwise read back as one of the markers. Objects come out as
    their markers, so that their state is escaped too; everything else is left to the
    encoder.
    """
    if isinstance(value, dict):
        plain = {key: _escaped(item) for key, item in value.items()}
        if any(isinstance(key, str) and key.startswith("py/") for key in plain):
            return {_DICT: [[key, item] for key, item in plain.items()]}
        return plain
    if isinstance(value, list | tuple):
        return [_escaped(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    marker = _marker(value)
    if isinstance(marker, dict) and _STATE in marker:
        marker[_STATE] = _escaped(marker[_STATE])
    return marker


def _encoder(default: Callable[[Any], Any]) -> json.JSONEncoder:
    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=default)


# Datetimes and dataclasses to ``default`` (``_marker``), as the ``json`` module sends them.
_FAST = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def encode(value: Any) -> str:
    """Return ``value`` as compact JSON text.

    A C encoder walks the state and calls back only for the objects and datetimes in it
    (``_marker``): orjson, in a fifth of the time of the ``json`` module, which in turn took
    a third of the time the same walk in Python took (issue 9, decision 0011 levers 17 and
    22). What orjson refuses (a key that is not text, an integer beyond 64 bits, nesting
    deeper than 254, a string that is not valid Unicode) the ``json`` module writes, or
    refuses with this codec's error. Then every ``"py/`` in the text must be one of the
    markers: when data has a ``py/`` key (or a string that starts so), the state is encoded
    again with such dicts escaped (``_escaped``), which reads back the same.

    Enumerations are written as their values (``json`` wrote the bot's ``StrEnum``s so, and
    others as ``py/enum`` markers, which still read), a UUID as its text, and a float that is
    not a number as ``null``.
    """
    markers = 0

    def default(item: Any) -> Any:
        nonlocal markers
        found = _marker(item)
        markers += type(found) is dict
        return found

    try:
        text = orjson.dumps(value, default=default, option=_FAST).decode()
    except orjson.JSONEncodeError:
        markers = 0
        try:
            text = _encoder(default).encode(value)
        except StateCodecError:
            raise
        except TypeError as error:  # a key JSON has no text for
            raise StateCodecError(f"state keys must be strings: {error}") from error
    if text.count('"py/') == markers:
        return text
    return _encoder(_marker).encode(_escaped(value))


@cache
def _class(qualified: str) -> type:
    if not qualified.startswith(_ALLOWED_MODULES):
        raise StateCodecError(f"refusing to rebuild {qualified!r} from stored state")
    module, _, name = qualified.rpartition(".")
    try:
        kind = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise StateCodecError(f"stored state names an unknown class {qualified!r}") from error
    if not isinstance(kind, type):
        raise StateCodecError(f"{qualified!r} is not a class")
    return kind


def _from_json(item: dict[str, Any]) -> Any:
    if _OBJECT in item:
        kind = _class(item[_OBJECT])
        obj: Any = object.__new__(kind)
        obj.__dict__.update(item[_STATE])
        return obj
    if _TUPLE in item:
        return tuple(item[_TUPLE])
    if _DICT in item:
        return dict(item[_DICT])
    if _DATETIME in item:
        return datetime.fromisoformat(item[_DATETIME])
    if _ENUM in item:
        return _class(item[_ENUM])(item["value"])
    return item


def decode(text: str) -> Any:
    """Rebuild a value written by ``encode``."""
    return json.loads(text, object_hook=_from_json)
