"""The engine's operation table, read once, and the conversion of a Python call into an
operation's JSON params. Namespaces and stubs are built from this table; nothing here knows
any particular operation."""

from __future__ import annotations

import datetime
import enum
import inspect
import json
import keyword
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

from . import _native
from ._errors import error_class
from ._model import Model, _camel

__all__ = ["Operation", "OPERATIONS", "NAMESPACES", "encode_params", "python_name", "wire_name"]


def python_name(wire: str) -> str:
    """A params member as a Python keyword: ``from`` -> ``from_``."""
    return wire + "_" if keyword.iskeyword(wire) else wire


def wire_name(name: str) -> str:
    """A Python keyword back to its member: ``from_`` -> ``from``."""
    if name.endswith("_") and keyword.iskeyword(name[:-1]):
        return name[:-1]
    return name


def snake(name: str) -> str:
    """``teamMemberships`` -> ``team_memberships`` (aliases for Python style)."""
    out = []
    for ch in name:
        if ch.isupper():
            out.append("_" + ch.lower())
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Operation:
    """One row of the engine's operation table."""

    name: str
    doc: str
    kind: str  # "call" or "list"
    id_param: Optional[str]
    params_schema: Dict[str, Any]
    result_schema: Any
    namespace: str = field(init=False)
    verb: str = field(init=False)

    def __post_init__(self) -> None:
        ns, verb = self.name.split(".", 1)
        object.__setattr__(self, "namespace", ns)
        object.__setattr__(self, "verb", verb)

    @property
    def members(self) -> List[str]:
        """The params members (id param first), as on the wire."""
        props = list((self.params_schema.get("properties") or {}).keys())
        return ([self.id_param] if self.id_param else []) + [p for p in props if p != self.id_param]

    def member_of(self, keyword: str) -> str:
        """The params member a keyword names: itself, ``from_`` for ``from``, or the camelCase
        member of a snake_case keyword (``room_id`` -> ``roomId``, as model attributes read)."""
        wire = wire_name(keyword)
        if "_" not in wire:
            return wire
        camel = _camel(wire)
        return camel if camel != wire and camel in self._member_set else wire

    @cached_property
    def _member_set(self) -> FrozenSet[str]:
        return frozenset(self.members)

    def signature(self) -> inspect.Signature:
        """The Python signature: the id param positional-or-keyword, the rest keyword-only."""
        required = set(self.params_schema.get("required") or [])
        params = []
        if self.id_param:
            params.append(inspect.Parameter(self.id_param, inspect.Parameter.POSITIONAL_OR_KEYWORD))
        for member in self.members:
            if member == self.id_param:
                continue
            default = inspect.Parameter.empty if member in required else None
            params.append(inspect.Parameter(python_name(member), inspect.Parameter.KEYWORD_ONLY, default=default))
        return inspect.Signature(params)


def _load() -> Tuple[Operation, ...]:
    rows = json.loads(_native.operations_json())
    return tuple(
        Operation(
            name=r["name"],
            doc=r.get("doc") or "",
            kind=r["kind"],
            id_param=r.get("idParam"),
            params_schema=r.get("params") or {},
            result_schema=r.get("result"),
        )
        for r in rows
    )


OPERATIONS: Tuple[Operation, ...] = _load()

#: namespace -> its operations, in table order.
NAMESPACES: Dict[str, List[Operation]] = {}
for _op in OPERATIONS:
    NAMESPACES.setdefault(_op.namespace, []).append(_op)


def _to_json(value: Any) -> Any:
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, (datetime.datetime, datetime.date)):
        text = value.isoformat()
        return text.replace("+00:00", "Z") if isinstance(value, datetime.datetime) else text
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"a {type(value).__name__} cannot be sent as JSON")


# One encoder for every call: json.dumps with options builds a new one each time.
_ENCODER = json.JSONEncoder(default=_to_json, separators=(",", ":"), allow_nan=False)


def encode_params(op: Operation, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """The JSON params of a call: the id param may be positional (the id, or the resource
    itself, a model with an ``id``), keywords are the members
    (``from_`` for ``from``; ``room_id`` for ``roomId`` too), ``None`` means "not given". The engine checks the rest (unknown
    members, types) and says which member is wrong."""
    params: Dict[str, Any] = {}
    if args:
        if op.id_param is None:
            raise error_class("INVALID_ARGUMENT")(
                f"{op.name}() takes keyword arguments only, got {len(args)} positional"
            )
        if len(args) > 1:
            raise error_class("INVALID_ARGUMENT")(
                f"{op.name}() takes one positional argument ({op.id_param}), got {len(args)}"
            )
        if op.id_param in kwargs:
            raise error_class("INVALID_ARGUMENT")(f"{op.name}() got {op.id_param} both positionally and by keyword")
        first = args[0]
        if isinstance(first, Mapping) and isinstance(first.get("id"), str):
            first = first["id"]  # the resource itself where its id is expected: rooms.get(room)
        params[op.id_param] = first
    for key, value in kwargs.items():
        if value is not None:
            member = op.member_of(key)
            if member in params:
                raise error_class("INVALID_ARGUMENT")(
                    f"{op.name}() got `{member}` more than once (positionally, as `{member}` or in "
                    f"snake_case); give it once"
                )
            params[member] = value
    return _encode(op.name, params)


def _encode(operation: str, params: Mapping[str, Any]) -> str:
    """``params`` as JSON; what cannot be sent is an ``INVALID_ARGUMENT`` naming the member."""
    try:
        return _ENCODER.encode(params)
    except (TypeError, ValueError) as e:
        bad = next((k for k, v in params.items() if not _encodable(v)), None)
        where = f" `{bad}`" if bad else ""
        raise error_class("INVALID_ARGUMENT")(f"{operation}: invalid params{where}: {e}") from None


def encode_call(operation: str, params: Any, kwargs: Mapping[str, Any]) -> str:
    """The JSON params of ``client.call(operation, params, **kwargs)``: checked and encoded as
    the namespace methods do (datetimes, enums and models are sent as JSON)."""
    if params is not None and not isinstance(params, Mapping):
        raise error_class("INVALID_ARGUMENT")(
            f"{operation}: params must be a mapping (a dict), not {type(params).__name__}"
        )
    return _encode(operation, {**(params or {}), **kwargs})


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, default=_to_json, allow_nan=False)
        return True
    except (TypeError, ValueError):
        return False
