"""Bot state as JSON text: fast, deterministic, and restricted to known classes.

Conversation state holds the SDK's own objects (``DialogState``, ``DialogInstance``,
``PromptOptions`` and, at times, schema models such as ``Activity``), so plain ``json`` is not
enough. jsonpickle, which the SDK's storages use, walks objects through generic reflection and
will rebuild any class named in the data. This codec writes objects as
``{"py/object": "module.Class", "state": {...}}`` and, when reading, rebuilds only classes from
the Bot Framework packages; everything else is plain JSON parsed by the C ``json`` module.

The same text serves as the state's change-detection hash (``encode`` is deterministic for an
unchanged object), see ``bot/state.py``.
"""

from __future__ import annotations

import importlib
import json
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

__all__ = ["StateCodecError", "decode", "encode"]

_ALLOWED_MODULES = ("botbuilder.", "botframework.")
_OBJECT, _STATE, _TUPLE, _DATETIME, _ENUM, _DICT = (
    "py/object", "state", "py/tuple", "py/datetime", "py/enum", "py/dict",
)  # fmt: skip


class StateCodecError(TypeError):
    """A value cannot be stored in bot state, or stored text names a class we do not rebuild."""


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _to_json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StateCodecError(f"state keys must be strings, not {type(key).__name__}")
            plain[key] = _to_json(item)
        # A data key that looks like one of our markers is kept out of reach of the decoder:
        # such a dict is stored as key/value pairs.
        if any(key.startswith("py/") for key in plain):
            return {_DICT: [[key, item] for key, item in plain.items()]}
        return plain
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, tuple):
        return {_TUPLE: [_to_json(item) for item in value]}
    if isinstance(value, Enum):
        return {_ENUM: _qualified(type(value)), "value": _to_json(value.value)}
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    kind = type(value)
    if kind.__module__.startswith(_ALLOWED_MODULES) and hasattr(value, "__dict__"):
        return {_OBJECT: _qualified(kind), _STATE: _to_json(vars(value))}
    raise StateCodecError(
        f"{_qualified(kind)} cannot be stored in bot state: keep state to JSON-able values "
        "(pydantic models as model_dump(mode='json'))"
    )


def encode(value: Any) -> str:
    """Return ``value`` as compact JSON text."""
    return json.dumps(_to_json(value), ensure_ascii=False, separators=(",", ":"))


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
