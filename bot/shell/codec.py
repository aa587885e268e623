"""JSON for a person's kept flow state in conversations.json: plain values, and only the records registered.

A whitelist rather than pickle: the file is read back at start-up, and a hand-edited or damaged
one must never make the bot build anything but the records and enums the flows keep.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any


class Codec:
    """JSON for per-user state: plain values, tuples, maps with any keys, times, and registered records.

    Registering is the whitelist: a record or enum in the file whose type was not registered is
    refused when read, so a hand-edited file can only ever give back the types the flows use.
    """

    def __init__(self, types: Iterable[type]) -> None:
        self.types: dict[str, type] = {kind.__name__: kind for kind in types}

    def encode(self, value: object) -> object:
        if value is None or (isinstance(value, bool | int | float | str) and not isinstance(value, enum.Enum)):
            return value
        if isinstance(value, enum.Enum):
            return {"enum": self._name(type(value)), "value": value.value}
        if isinstance(value, datetime):
            return {"datetime": value.isoformat()}
        if isinstance(value, date):
            return {"date": value.isoformat()}
        if isinstance(value, timedelta):
            return {"seconds": value.total_seconds()}
        if isinstance(value, tuple):
            return {"tuple": [self.encode(item) for item in value]}
        if isinstance(value, list):
            return [self.encode(item) for item in value]
        if isinstance(value, Mapping):
            return {"map": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: self.encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
            return {"record": self._name(type(value)), "fields": fields}
        raise TypeError(f"{type(value).__name__} cannot be kept in a flow's state")

    def decode(self, value: object) -> Any:
        if isinstance(value, list):
            return [self.decode(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "tuple" in value:
            return tuple(self.decode(item) for item in value["tuple"])
        if "map" in value:
            return {self._key(self.decode(k)): self.decode(v) for k, v in value["map"]}
        if "datetime" in value:
            return datetime.fromisoformat(value["datetime"])
        if "date" in value:
            return date.fromisoformat(value["date"])
        if "seconds" in value:
            return timedelta(seconds=value["seconds"])
        if "enum" in value:
            return self._type(value["enum"])(value["value"])
        if "record" in value:
            fields = {name: self.decode(item) for name, item in value["fields"].items()}
            return self._type(value["record"])(**fields)
        raise ValueError(f"unknown value {sorted(value)}")

    def _name(self, kind: type) -> str:
        if self.types.get(kind.__name__) is not kind:
            raise TypeError(f"{kind.__name__} is not registered for a flow's state")
        return kind.__name__

    def _type(self, name: str) -> type:
        if name not in self.types:
            raise ValueError(f"{name} is not a type the flows keep")
        return self.types[name]

    @staticmethod
    def _key(key: object) -> object:
        return tuple(key) if isinstance(key, list) else key  # a map key is hashable
