"""Results as objects: attribute access over the JSON the engine returns (camelCase as on the
wire; snake_case spellings work too), and ``to_dict()`` / ``dict(obj)`` back to plain data."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Mapping


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def wrap(value: Any) -> Any:
    """JSON data as models: objects become ``Model``, lists are wrapped item by item."""
    if isinstance(value, dict):
        return Model(value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


class Model(Mapping[str, Any]):
    """A JSON object from the engine: ``room.title``, ``room["title"]``, ``dict(room)``."""

    __slots__ = ("_data",)

    def __init__(self, data: Dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        data = self._data
        if name in data:
            return wrap(data[name])
        camel = _camel(name)
        if camel in data:
            return wrap(data[camel])
        if name.startswith("__"):
            raise AttributeError(name)
        # Absent optional members read as None, as in the Webex REST API docs.
        return None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; use to_dict() for a mutable copy")

    def __getitem__(self, key: str) -> Any:
        return wrap(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Model):
            return self._data == other._data
        if isinstance(other, dict):
            return self._data == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __dir__(self) -> List[str]:
        return sorted(set(self._data) | {"to_dict"})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy as plain dicts and lists."""
        import copy

        return copy.deepcopy(self._data)


class Event:
    """A client event: ``type`` (``ready``, ``online``, ``messages:created``, ...) and ``data``."""

    __slots__ = ("type", "data")

    def __init__(self, type: str, data: Any) -> None:
        self.type = type
        self.data = wrap(data) if data is not None else Model({})

    def to_dict(self) -> Dict[str, Any]:
        data = self.data.to_dict() if isinstance(self.data, Model) else self.data
        return {"type": self.type, "data": data}

    def __repr__(self) -> str:
        return f"Event({self.type!r}, {self.data!r})"
