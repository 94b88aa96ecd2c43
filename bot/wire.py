"""Bot Framework schema objects to and from JSON, as msrest does it, without msrest's cost.

Replies returned in an ``expectReplies`` response are serialized once per turn, and every
incoming activity is deserialized; msrest's generic (de)serializer (validation, key
extractors, type dispatch through strings, a copy of each attribute's description) cost more
than the rest of a simple turn's reply path, and 0.15 ms of each turn on the way in. These
walkers read the same ``_attribute_map`` and give the same results; ``tests/unit/test_wire.py``
holds them to msrest's output. What the inbound walker is not sure to read exactly as msrest
would (a value of an unexpected type, a type it does not know) it leaves to msrest.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Callable
from enum import Enum
from typing import Any

import orjson
from msrest.serialization import Deserializer, Model, Serializer

__all__ = ["dumps", "from_wire", "to_wire"]

_BASIC = frozenset({"str", "bool", "int", "float", "long"})


def _iso(value: dt.datetime) -> str:
    """msrest's own ISO 8601 form (milliseconds, 'Z'), so dates read back identically."""
    return str(Serializer.serialize_iso(value))  # type: ignore[no-untyped-call]


def to_wire(value: Any) -> Any:
    """Return ``value`` (a schema model, or a plain structure holding them) as JSON-able data."""
    if isinstance(value, Model):
        return _model(value)
    return _object(value)


def dumps(value: Any) -> bytes:
    """``json.dumps(to_wire(value))`` as UTF-8, with the plain data left to a C encoder.

    ``to_wire`` copies every dict and list of a card in Python before the response encodes
    the copy again; here the encoder walks the plain data itself and calls back only for what
    it cannot write: a model (its attributes under their JSON names, their values left to the
    encoder), a date-time, an enumeration, anything else as text.

    The encoder is orjson, in a third of the ``json`` module's time on a turn's replies (issue
    9, decision 0011 lever 22). Where the two differ, the reply keeps ``json``'s meaning: what
    orjson refuses (a key that is not text, an integer beyond 64 bits, nesting deeper than 254)
    is written by ``json``; non-ASCII text is written as UTF-8 rather than ``\\u`` escapes, and
    a float that is not a number as ``null`` (``json`` would write ``NaN``, which no JSON
    reader accepts).
    """
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except orjson.JSONEncodeError:
        return json.dumps(value, default=_default).encode()


def _default(value: Any) -> Any:
    if isinstance(value, Model):
        return _model(value, _for_encoder)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return _iso(value)
    return str(value)


_WRITTEN: dict[type, tuple[tuple[str, str, str], ...]] = {}


def _written(kind: Any) -> tuple[tuple[str, str, str], ...]:
    """A schema class's attributes that are written: name, JSON name ("" for additional
    properties, merged into the object) and declared type, in the schema's order."""
    found = _WRITTEN.get(kind)
    if found is None:
        readonly = getattr(kind, "_validation", {}) or {}
        found = _WRITTEN[kind] = tuple(
            (attr, spec["key"], spec["type"])
            for attr, spec in kind._attribute_map.items()
            if not readonly.get(attr, {}).get("readonly")
        )
    return found


def _for_encoder(value: Any, kind: str) -> Any:
    """An attribute's value as the encoder can take it: dates converted, the rest as is."""
    return _iso(value) if kind == "iso-8601" else value


def _model(model: Model, convert: Callable[[Any, str], Any] | None = None) -> dict[str, Any]:
    """The model's attributes under their JSON names, each converted by its declared type
    (``_typed``, all the way down; ``dumps`` passes ``_for_encoder`` for one level)."""
    convert = convert or _typed
    out: dict[str, Any] = {}
    for attr, key, kind in _written(type(model)):
        value = getattr(model, attr, None)
        if value is None:
            continue
        if not key:  # additional properties are merged into the object
            out.update({str(k): convert(v, "object") for k, v in value.items()})
        else:
            out[key] = convert(value, kind)
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


class _Unsure(Exception):
    """The fast path cannot promise msrest's result for this input: let msrest read it."""


def from_wire(kind: type[Model], data: Any) -> Any:
    """``kind.deserialize(data)``, as msrest reads it (``Activity().deserialize(body)``)."""
    try:
        return _read_model(kind, data)
    except _Unsure:
        return kind.deserialize(data)  # type: ignore[no-untyped-call]


_Reader = Any  # Callable[[Any], Any]; recursive readers are built lazily per schema class


def _exactly(expected: type) -> _Reader:
    """A reader that takes a value of exactly ``expected`` as it is and leaves any other to
    msrest (a subclass too: ``true`` in an int field is msrest's to convert)."""

    def read(value: Any) -> Any:
        if type(value) is not expected:
            raise _Unsure
        return value

    return read


def _read_iso(value: Any) -> Any:
    if type(value) is not str:
        raise _Unsure
    return Deserializer.deserialize_iso(value)  # type: ignore[no-untyped-call]


def _read_object(value: Any) -> Any:
    """msrest's ``deserialize_object`` on JSON: plain values as they are, containers copied."""
    kind = type(value)
    if kind is str or kind is bool or kind is int or kind is float:
        return value
    if kind is dict:
        return {key: None if item is None else _read_object(item) for key, item in value.items()}
    if kind is list:
        return [None if item is None else _read_object(item) for item in value]
    raise _Unsure


_READERS: dict[str, _Reader] = {
    "str": _exactly(str),
    "bool": _exactly(bool),
    "int": _exactly(int),
    "iso-8601": _read_iso,
    "object": _read_object,
}


def _reader(kind: str, models: dict[str, type]) -> _Reader:
    if kind in _READERS:
        return _READERS[kind]
    if kind.startswith("[") and kind.endswith("]"):
        item = _reader(kind[1:-1], models)

        def read_list(value: Any) -> list[Any]:
            if type(value) is not list:
                raise _Unsure
            return [None if element is None else item(element) for element in value]

        return read_list
    if kind.startswith("{") and kind.endswith("}"):
        item = _reader(kind[1:-1], models)

        def read_dict(value: Any) -> dict[str, Any]:
            if type(value) is not dict:
                raise _Unsure
            return {
                key: None if element is None else item(element) for key, element in value.items()
            }

        return read_dict
    model = models.get(kind)
    if model is None or not issubclass(model, Model):
        raise _Unsure  # an enum, or a type this walker does not know
    return lambda value: _read_model(model, value)


class _Layout:
    """What reading one schema class needs, worked out once: its attributes and their readers."""

    def __init__(self, kind: type[Model]) -> None:
        module = importlib.import_module(kind.__module__)
        models = {name: value for name, value in vars(module).items() if isinstance(value, type)}
        self.fields: list[tuple[str, str, _Reader]] = []
        self.known: set[str] = set()
        for attr, spec in kind._attribute_map.items():
            key = spec["key"]
            if key == "" or "." in key or spec["type"] is None:
                raise _Unsure  # additional properties, or flattened keys: msrest's business
            self.fields.append((attr, key, _reader(spec["type"], models)))
            self.known.add(key)
        validation = getattr(kind, "_validation", None) or {}
        if any(rule.get("readonly") or rule.get("constant") for rule in validation.values()):
            raise _Unsure
        if getattr(kind, "_subtype_map", None):
            raise _Unsure


_LAYOUTS: dict[type[Model], _Layout | None] = {}


def _layout(kind: type[Model]) -> _Layout | None:
    if kind not in _LAYOUTS:
        try:
            _LAYOUTS[kind] = _Layout(kind)
        except _Unsure:
            _LAYOUTS[kind] = None
    return _LAYOUTS[kind]


def _read_model(kind: type[Model], data: Any) -> Any:
    layout = _layout(kind)
    if layout is None or type(data) is not dict:
        raise _Unsure
    values = {}
    for attr, key, read in layout.fields:
        value = data.get(key)
        values[attr] = None if value is None else read(value)
    model = kind(**values)
    if unknown := data.keys() - layout.known:
        model.additional_properties = {key: data[key] for key in unknown}
    return model
