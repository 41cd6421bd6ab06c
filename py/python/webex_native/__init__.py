"""webex-native for Python: a Webex SDK on one async Rust engine.

- `Webex` (blocking; the GIL is released while the engine works) and `AsyncWebex` (asyncio),
  both configured with the same config document as every other language, both with every
  operation of the engine's table as ``client.<namespace>.<verb>(...)``.
- Events: ``client.on("messages:created", handler)``, ``client.events()``.
- Meeting audio and video: ``client.meetings.send_audio(...)`` / ``send_video(...)``,
  ``on_audio(...)`` / ``on_video(...)``, ``audio_frames(...)`` / ``video_frames(...)``
  (`AudioFrame`, `VideoFrame`); frames are not operations, see ``webex_native._media`` for
  the threading.
- Errors: `WebexError` and one subclass per engine error code (`NotFoundError`, ...).
- Logs: the ``webex_native`` logger.
- Storage: ``storage.boundedAdapter`` / ``unboundedAdapter`` may be the app's own store, any
  object with ``get``/``put``/``delete`` (`StorageAdapter`).
- `Sandbox`: a local Webex-compatible cloud in this process.
"""

from __future__ import annotations

from typing import Any, List

from . import _native
from ._errors import *  # noqa: F401,F403  (one class per engine error code)
from ._errors import WebexError, error_class
from ._log import TRACE
from ._model import Event, Model
from ._ops import OPERATIONS
from ._client import AsyncEventStream, AsyncPageIterator, AsyncWebex, EventStream, PageIterator, Webex
from ._media import AsyncAudioStream, AsyncFrameStream, AsyncVideoStream, AudioFrame, Pcm, VideoData, VideoFrame
from ._sandbox import Sandbox
from ._storage import StorageAdapter
from . import _errors

__version__: str = _native.VERSION


def operations() -> List[Any]:
    """The engine's operation table: ``{name, doc, kind, idParam, params, result}`` per
    operation (JSON Schemas for params and result)."""
    import json

    rows: List[Any] = json.loads(_native.operations_json())
    return rows


__all__ = [
    "Webex",
    "AsyncWebex",
    "Sandbox",
    "StorageAdapter",
    "Model",
    "Event",
    "EventStream",
    "AsyncEventStream",
    "AudioFrame",
    "AsyncAudioStream",
    "Pcm",
    "VideoFrame",
    "AsyncVideoStream",
    "VideoData",
    "AsyncFrameStream",
    "PageIterator",
    "AsyncPageIterator",
    "WebexError",
    "error_class",
    "operations",
    "OPERATIONS",
    "TRACE",
    "__version__",
    # `TimeoutError` stays out of `import *`: it would shadow the builtin (see `_gen._SHADOWING`).
    *[n for n in _errors.__all__ if n.endswith("Error") and n not in ("WebexError", "TimeoutError")],
]


def __getattr__(name: str) -> Any:
    # The result model names of the stubs (Room, Message, ...) exist at run time too, as the
    # one `Model` class results really are, so annotations that name them resolve; so do the
    # namespace classes (`RoomsNamespace`, `AsyncRoomsNamespace`), built from the table.
    from ._gen import Gen
    from ._client import namespace_class

    found = namespace_class(name)
    if found is not None:
        globals()[name] = found
        return found
    if name[:1].isupper():
        gen = Gen()
        for op in operations():
            gen.result_type(op)
        if name in gen.models:
            globals()[name] = Model
            return Model
    raise AttributeError(f"module 'webex_native' has no attribute {name!r}")
