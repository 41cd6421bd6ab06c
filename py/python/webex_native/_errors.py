"""One exception class per engine error code, built from the engine's own list of codes.

The engine's error JSON (``{"code", "codeNumber", "message", "status"?, "trackingId"?,
"retryAfter"?}``) becomes an instance of the class for its code; this module is the one place
that mapping happens (design.md "Errors").
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple, Type

from . import _native

__all__ = ["WebexError", "error_class", "from_json"]


class WebexError(Exception):
    """An error of webex-native: a stable ``code``, a message that says what to do, and the
    HTTP ``status``, Webex ``tracking_id`` and ``retry_after`` (seconds) when the cloud sent
    them."""

    code: str = "INTERNAL"
    code_number: int = 15

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        tracking_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.tracking_id = tracking_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.tracking_id:
            text += f" (trackingId {self.tracking_id})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, tracking_id={self.tracking_id!r})"


def _class_name(code: str) -> str:
    """``NOT_FOUND`` -> ``NotFoundError``."""
    return "".join(part.capitalize() for part in code.split("_")) + "Error"


# Python's own exception each code also is, so `except ValueError` and friends keep working.
_ALSO: Dict[str, Tuple[Type[BaseException], ...]] = {
    "INVALID_ARGUMENT": (ValueError, TypeError),
    "TIMEOUT": (TimeoutError,),
    "NETWORK": (ConnectionError,),
}

_BY_CODE: Dict[str, Type[WebexError]] = {}

for _code, _number in _native.error_codes():
    _bases: tuple[type, ...] = (WebexError, *_ALSO[_code]) if _code in _ALSO else (WebexError,)
    _cls = type(
        _class_name(_code),
        _bases,
        {"code": _code, "code_number": _number, "__module__": "webex_native", "__doc__": f"Engine error {_code}."},
    )
    _BY_CODE[_code] = _cls  # type: ignore[assignment]
    globals()[_cls.__name__] = _cls
    __all__.append(_cls.__name__)


def error_class(code: str) -> Type[WebexError]:
    """The exception class of an engine error code (``WebexError`` for an unknown one)."""
    return _BY_CODE.get(code, WebexError)


def from_json(text: str) -> WebexError:
    """The exception for an engine error JSON."""
    try:
        data: Dict[str, Any] = json.loads(text)
    except ValueError:
        return _BY_CODE.get("INTERNAL", WebexError)(f"unreadable engine error: {text!r}")
    cls = error_class(str(data.get("code", "INTERNAL")))
    return cls(
        str(data.get("message", "")),
        status=data.get("status"),
        tracking_id=data.get("trackingId"),
        retry_after=data.get("retryAfter"),
    )


_native.set_error_factory(from_json)
