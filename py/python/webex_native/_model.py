"""Results as objects: attribute access over the JSON the engine returns (camelCase as on the
wire; snake_case spellings work too), and ``to_dict()`` / ``dict(obj)`` back to plain data."""

from __future__ import annotations

import copy
from typing import Any, Callable, ClassVar, Dict, FrozenSet, Iterator, List, Mapping, Tuple


_CAMELS: Dict[str, str] = {}


def _camel(name: str) -> str:
    camel = _CAMELS.get(name)
    if camel is None:
        head, *rest = name.split("_")
        camel = head + "".join(p[:1].upper() + p[1:] for p in rest)
        # Attribute names come from source code, so the memo stays small; bounded anyway.
        if len(_CAMELS) < 4096:
            _CAMELS[name] = camel
    return camel


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """``base`` with ``overrides`` merged in, object into object (``http={"timeoutMs": 5000}``
    keeps ``http.caCertificates``); anything else replaces. Neither argument is changed."""
    out = dict(base)
    for key, value in overrides.items():
        there = out.get(key)
        out[key] = merged(there, value) if type(value) is dict and type(there) is dict else value
    return out


def wrap(value: Any) -> Any:
    """JSON data as models: objects become ``Model``, lists are wrapped item by item."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is list:
        # A page of objects: one call per item instead of two (a third of a page's wrapping).
        return [Model(v) if type(v) is dict else wrap(v) for v in value]
    if isinstance(value, dict):
        return Model(value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def _member(data: Dict[str, Any], name: str) -> Any:
    """``name`` of a JSON object, as written or in camelCase; ``None`` when absent."""
    if name in data:
        return wrap(data[name])
    camel = _camel(name)
    if camel in data:
        return wrap(data[camel])
    if name.startswith("__"):
        raise AttributeError(name)
    # Absent optional members read as None, as in the Webex REST API docs.
    return None


def _class_names(cls: type) -> FrozenSet[str]:
    return frozenset(name for c in cls.__mro__ for name in vars(c))


_object_getattribute = object.__getattribute__


class Model(Mapping[str, Any]):
    """A JSON object from the engine: ``room.title``, ``room["title"]``, ``dict(room)``.

    A member named like a mapping method (``items``, ``keys``, ``values``, ``get``,
    ``to_dict``) is read by subscript: ``page["items"]`` (``page.items`` is the method)."""

    __slots__ = ("_data",)

    #: Names the class itself answers (methods, the slot, dunders): they win over JSON members,
    #: as with ordinary attribute lookup.
    _own: ClassVar[FrozenSet[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._own = _class_names(cls)

    def __init__(self, data: Dict[str, Any]) -> None:
        _set_data(self, data)

    def __getattribute__(self, name: str) -> Any:
        # Members are looked up here rather than in __getattr__ alone: Python reaches
        # __getattr__ only after a failed ordinary lookup has built and dropped an
        # AttributeError, which made `message.id` cost ~860 ns; this path takes ~230 ns.
        if name in type(self)._own:
            return _object_getattribute(self, name)
        data = _get_data(self)
        if name in data:
            value = data[name]
            kind = type(value)
            if kind is str or kind is int or kind is bool or value is None:
                return value
            return wrap(value)
        return _member(data, name)

    def __getattr__(self, name: str) -> Any:
        # Reached only when a class member's own lookup fails.
        return _member(_get_data(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; use to_dict() for a mutable copy")

    def __getitem__(self, key: str) -> Any:
        return wrap(_get_data(self)[key])

    def __iter__(self) -> Iterator[str]:
        return iter(_get_data(self))

    def __len__(self) -> int:
        return len(_get_data(self))

    def __contains__(self, key: object) -> bool:
        return key in _get_data(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Model):
            return _get_data(self) == _get_data(other)
        if isinstance(other, dict):
            return _get_data(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __dir__(self) -> List[str]:
        return sorted(set(_get_data(self)) | {"to_dict"})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_get_data(self)!r})"

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy as plain dicts and lists."""
        return copy.deepcopy(_get_data(self))

    # copy, deepcopy and pickle rebuild a model from its data: their default would set the
    # slot through __setattr__, which refuses (models are read-only).
    def __reduce__(self) -> Tuple[Any, Tuple[Dict[str, Any]]]:
        return (type(self), (_get_data(self),))

    def __copy__(self) -> "Model":
        return type(self)(_get_data(self))

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Model":
        return type(self)(copy.deepcopy(_get_data(self), memo))


Model._own = _class_names(Model)
# The slot's own accessors: reading `self._data` inside the class would go through
# __getattribute__ above.
_get_data: Callable[[Model], Dict[str, Any]] = Model._data.__get__  # type: ignore[attr-defined]
_set_data: Callable[[Model, Dict[str, Any]], None] = Model._data.__set__  # type: ignore[attr-defined]


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
