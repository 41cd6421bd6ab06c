"""App-supplied storage: where the engine keeps what must survive a restart (the credentials,
the device registration) when the app wants it in its own store (a keyring, a database).

Any object with these three methods is an adapter (`StorageAdapter`); put it in the config::

    Webex({"credentials": {...}, "storage": {"boundedAdapter": store, "unboundedAdapter": store}})

The client registers it with the engine while it is created and releases the registration
right after (the client keeps the adapter). The engine reads every key it uses once, during
creation, on the creating thread, and writes through on every change from its own threads.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, MutableMapping, Optional, Protocol, runtime_checkable

from . import _native

__all__ = ["StorageAdapter"]

#: The config's storage settings that may name an adapter.
ADAPTER_KEYS = ("boundedAdapter", "unboundedAdapter")
_METHODS = ("get", "put", "delete")


@runtime_checkable
class StorageAdapter(Protocol):
    """A key-value store for the engine's persistent state, supplied by the app.

    Keys are short names (``"credentials"``, ``"device"``); values are JSON text, stored and
    returned as given. The values hold the access and refresh tokens: keep them where secrets
    belong.

    - ``get(key)`` returns the stored text, or ``None`` when nothing is stored. Called once
      per key while the client is created, on the thread creating it.
    - ``put(key, value)`` stores ``value`` under ``key``; ``delete(key)`` forgets it (a key
      that is not there is not an error). Called on engine threads, one at a time per client,
      after each change: keep them short.

    An exception from any of them is logged (type and message) by the engine, which carries on
    with what it holds in memory; it is never raised into the app. A value that is not valid
    JSON is ignored (logged) and overwritten by the next change.
    """

    def get(self, key: str, /) -> Optional[str]: ...

    def put(self, key: str, value: str, /) -> None: ...

    def delete(self, key: str, /) -> None: ...


def _is_adapter(value: Any) -> bool:
    """An app's adapter object, as opposed to a setting the engine reads itself (``"memory"``,
    ``{"dir": ...}``, ``{"adapter": handle}``). An object with only some of the methods counts,
    so that registering it names what is missing."""
    if value is None or isinstance(value, (str, bytes, dict, int, float, bool, list, tuple)):
        return False
    return any(hasattr(value, m) for m in _METHODS)


def register_adapters(doc: MutableMapping[str, Any]) -> List[int]:
    """Replaces every adapter object in the config's storage settings (at the top level or
    under ``config``) by ``{"adapter": handle}`` of a fresh registration, copying what it
    changes (the app's dicts are left alone). Returns the handles, to `release` once the
    client exists. The same object under both keys is registered once."""
    handles: List[int] = []
    by_object: Dict[int, int] = {}
    try:
        holders: List[MutableMapping[str, Any]] = [doc]
        inner = doc.get("config")
        if isinstance(inner, Mapping) and isinstance(inner.get("storage"), Mapping):
            doc["config"] = dict(inner)
            holders.append(doc["config"])
        for holder in holders:
            storage = holder.get("storage")
            if not isinstance(storage, Mapping) or not any(_is_adapter(storage.get(k)) for k in ADAPTER_KEYS):
                continue
            settings = dict(storage)
            for key in ADAPTER_KEYS:
                adapter = settings.get(key)
                if not _is_adapter(adapter):
                    continue
                handle = by_object.get(id(adapter))
                if handle is None:
                    handle = _native.register_storage(adapter)
                    handles.append(handle)
                    by_object[id(adapter)] = handle
                settings[key] = {"adapter": handle}
            holder["storage"] = settings
    except BaseException:
        release(handles)
        raise
    return handles


def release(handles: List[int]) -> None:
    """Releases registrations (clients created with them keep their adapters)."""
    for handle in handles:
        try:
            _native.release_storage(handle)
        except Exception:  # pragma: no cover - only an unknown handle fails, never ours
            pass
