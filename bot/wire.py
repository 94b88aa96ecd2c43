"""Bot Framework schema objects to JSON, as msrest would write them, without msrest's cost.

Replies returned in an ``expectReplies`` response are serialized once per turn; msrest's
generic serializer (validation, key transformers, type dispatch through strings) costs more
than the rest of a simple turn's reply path. This walker reads the same ``_attribute_map``
and writes the same JSON; ``tests/unit/test_wire.py`` holds it to msrest's output.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from msrest.serialization import Model, Serializer

__all__ = ["to_wire"]

_BASIC = frozenset({"str", "bool", "int", "float", "long"})


def _iso(value: dt.datetime) -> str:
    """msrest's own ISO 8601 form (milliseconds, 'Z'), so dates read back identically."""
    return str(Serializer.serialize_iso(value))  # type: ignore[no-untyped-call]


def to_wire(value: Any) -> Any:
    """Return ``value`` (a schema model, or a plain structure holding them) as JSON-able data."""
    if isinstance(value, Model):
        return _model(value)
    return _object(value)


def _model(model: Model) -> dict[str, Any]:
    kind = type(model)
    readonly = getattr(kind, "_validation", {}) or {}
    out: dict[str, Any] = {}
    for attr, spec in kind._attribute_map.items():
        value = getattr(model, attr, None)
        if value is None or readonly.get(attr, {}).get("readonly"):
            continue
        if spec["key"] == "":  # additional properties are merged into the object
            out.update({str(k): _object(v) for k, v in value.items()})
            continue
        out[spec["key"]] = _typed(value, spec["type"])
    return out


def _typed(value: Any, kind: str) -> Any:
    if kind in _BASIC:
        return value.value if isinstance(value, Enum) else value
    if kind == "iso-8601":
        return _iso(value)
    if kind == "object":
        return _object(value)
    if kind.startswith("[") and kind.endswith("]"):
        return [None if item is None else _typed(item, kind[1:-1]) for item in value]
    if kind.startswith("{") and kind.endswith("}"):
        return {str(k): None if v is None else _typed(v, kind[1:-1]) for k, v in value.items()}
    if isinstance(value, Model):
        return _model(value)
    return _object(value)


def _object(value: Any) -> Any:
    """msrest's ``serialize_object``: plain data as is, models as models, the rest as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Model):
        return _model(value)
    if isinstance(value, dict):
        return {str(k): _object(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_object(item) for item in value]
    if isinstance(value, dt.datetime):
        return _iso(value)
    return str(value)
