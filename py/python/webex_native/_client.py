"""The blocking client (`Webex`) and the asyncio client (`AsyncWebex`).

Both are thin: every operation goes to the engine by name with JSON params
(`NativeClient.call` / `call_async`), and their namespaces (`client.rooms.create`, ...) are
built from the engine's operation table. Events come from the engine's sink through a queue
that one thread per client drains with the GIL released; they are held until a handler or an
`events()` stream wants them, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import threading
import weakref
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

from . import _native, _storage
from ._errors import error_class, from_json
from ._media import MEDIA_KINDS, AsyncMeetingsMedia, FrameRouter, MeetingsMedia
from ._model import Event, Model, merged, wrap
from ._tasks import END as _END, LoopRef, LoopTasks, QueueStream, on_loop, start_pump
from ._ops import NAMESPACES, Operation, encode_call, encode_params, snake

__all__ = ["Webex", "AsyncWebex", "PageIterator", "AsyncPageIterator", "EventStream", "AsyncEventStream"]

log = logging.getLogger("webex_native")

Handler = Callable[[Event], Any]
Config = Union[Mapping[str, Any], str, None]


# ---------------------------------------------------------------------------------- config


def _config_json(config: Config, overrides: Mapping[str, Any]) -> Tuple[str, List[int]]:
    """The config document as JSON: a dict (or JSON text) and/or top-level keywords. Storage
    adapter objects in it (`StorageAdapter`) are registered with the engine and replaced by
    their handles; the handles come back with the JSON, to release once the client exists."""
    if config is None:
        doc: Dict[str, Any] = {}
    elif isinstance(config, str):
        try:
            doc = json.loads(config)
        except ValueError as e:
            raise error_class("INVALID_ARGUMENT")(f"config is not valid JSON: {e}") from None
    elif isinstance(config, Mapping):
        doc = dict(config)
    else:
        raise error_class("INVALID_ARGUMENT")(
            f"config must be a dict (the webex config document) or keyword arguments, not {type(config).__name__}"
        )
    if not isinstance(doc, dict):
        raise error_class("INVALID_ARGUMENT")("config must be a JSON object")
    # Keywords merge into the document as `Sandbox.config(**overrides)` does: `http={...}` next
    # to a config with `http.caCertificates` keeps the CA. Except `credentials`, which replace:
    # another user's token must not inherit the document's refresh token.
    doc = merged(doc, {k: v for k, v in overrides.items() if k != "credentials"})
    if "credentials" in overrides:
        doc["credentials"] = overrides["credentials"]
    # Unless asked otherwise, the engine logs as verbosely as the `webex_native` logger listens.
    logger = doc.get("logger")
    if "WEBEX_LOG_LEVEL" not in os.environ and (logger is None or (isinstance(logger, dict) and "level" not in logger)):
        level = log.getEffectiveLevel()
        name = "trace" if level < logging.DEBUG else "debug" if level < logging.INFO else "info" if level < logging.WARNING else "warn" if level < logging.ERROR else "error"
        doc["logger"] = {**(logger or {}), "level": name}
    handles = _storage.register_adapters(doc)
    try:
        return json.dumps(doc), handles
    except (TypeError, ValueError) as e:
        _storage.release(handles)
        raise error_class("INVALID_ARGUMENT")(f"config cannot be sent as JSON: {e}") from None


def _native_client(config: Config, overrides: Mapping[str, Any]) -> Any:
    """A native client for this config. The engine reads the app's storage adapters while it
    creates the client (this thread, GIL released); their registrations are released right
    after, since the client keeps what it uses."""
    text, handles = _config_json(config, overrides)
    try:
        return _native.NativeClient(text)
    finally:
        _storage.release(handles)


# ---------------------------------------------------------------------------------- events


def _matches(pattern: str, kind: str) -> bool:
    """``*`` matches every event, ``offline.*`` every ``offline.`` event."""
    if pattern.endswith("*"):
        return kind.startswith(pattern[:-1])
    return pattern == kind


#: Events nobody wants yet are held up to this many (the oldest are dropped beyond it), so
#: an app that only ever listens to some event types does not keep every other one.
HELD_LIMIT = 1000


def _events(batch: Sequence[str]) -> Iterator[Event]:
    """The events of a batch from the engine (JSON text each); an unreadable one is logged."""
    for text in batch:
        try:
            raw = json.loads(text)
        except ValueError:
            log.error("webex_native: unreadable event %r", text)
            continue
        yield Event(str(raw.get("type")), raw.get("data"))


class _Router:
    """Who wants which event; events nobody wants yet are held.

    `dispatch` runs in the delivery context (the client's event thread for `Webex`, the
    event loop for `AsyncWebex`); registration may come from any thread. Two locks: `_lock`
    guards the lists and is never held while app code runs, so a slow handler does not hold
    up `off`, `events()` or `wait_for` on other threads; `_delivery` is held while handlers
    run, so a handler attached during a dispatch gets the held events before any newer one.

    Streams are kept by weak reference: a stream the app dropped (``break`` out of
    ``for event in client.events()``) stops receiving, and stops counting as someone who
    wants events. A waiter (``wait_for``) takes exactly one event and is gone under the same
    lock, so the events after it are held for the next waiter rather than lost."""

    def __init__(self, call_handler: Callable[[Handler, Event], None]) -> None:
        self._lock = threading.Lock()
        self._delivery = threading.RLock()
        self._handlers: List[Tuple[str, Handler]] = []
        self._streams: List["weakref.ref[_Stream]"] = []
        self._waiters: List[Tuple[str, Callable[[Optional[Event]], None]]] = []
        self._held: List[Event] = []
        self._dropped = 0
        self._closed = False
        self._call = call_handler
        #: Whether the ``ready`` event has come (the client's ``ready``).
        self.ready = False

    def add_handler(self, pattern: str, handler: Handler) -> None:
        with self._lock:
            if not any(_matches(pattern, e.type) for e in self._held):
                self._handlers.append((pattern, handler))
                return
        # Held events to replay: no newer event may reach the handler before them.
        with self._delivery:
            with self._lock:
                self._handlers.append((pattern, handler))
                replay = [e for e in self._held if _matches(pattern, e.type)]
                self._held = [e for e in self._held if not _matches(pattern, e.type)]
            for event in replay:
                self._call(handler, event)

    def remove_handler(self, pattern: str, handler: Optional[Handler]) -> None:
        with self._lock:
            self._handlers = [
                (p, h) for (p, h) in self._handlers if not (p == pattern and (handler is None or h == handler))
            ]

    def add_waiter(self, pattern: str, take: Callable[[Optional[Event]], None]) -> None:
        """``take(event)`` with the oldest held or the next matching event, once; ``take(None)``
        if the client is closed first. ``take`` must not block (it runs under the lock)."""
        with self._lock:
            held = next((e for e in self._held if _matches(pattern, e.type)), None)
            if held is not None:
                self._held.remove(held)
                take(held)
            elif self._closed:
                take(None)
            else:
                self._waiters.append((pattern, take))

    def remove_waiter(self, take: Callable[[Optional[Event]], None]) -> None:
        with self._lock:
            self._waiters = [(p, t) for (p, t) in self._waiters if t is not take]

    @contextlib.contextmanager
    def waiting(
        self, pattern: str, take: Callable[[Optional[Event]], None], got: List[Optional[Event]]
    ) -> Iterator[None]:
        """A ``wait_for``'s waiter (``take`` appends to ``got``) for the ``with`` body, which
        waits. Afterwards ``got`` is final: an event that came as the wait timed out is in it,
        not lost. A wait that stopped by an exception (interrupted, cancelled) gives the event
        it may have taken meanwhile back, held first for the next one."""
        self.add_waiter(pattern, take)
        try:
            yield
        except BaseException:
            with self._lock:
                self._waiters = [(p, t) for (p, t) in self._waiters if t is not take]
                if got and got[0] is not None:
                    self._give_back(got[0])
            raise
        self.remove_waiter(take)

    def _give_back(self, event: Event) -> None:
        """An event a stopped waiter had taken: to the next waiter for it, else held first,
        unless a handler or stream had it (as they did when it came), so none gets it twice."""
        waiter = next(((p, t) for (p, t) in self._waiters if _matches(p, event.type)), None)
        if waiter is not None:
            self._waiters.remove(waiter)
            waiter[1](event)
        elif not any(_matches(p, event.type) for (p, _) in self._handlers) and not self._live_streams():
            self._held.insert(0, event)

    def add_stream(self, stream: "_Stream") -> None:
        with self._lock:
            held, self._held = self._held, []
            for event in held:
                stream._put(event)
            if self._closed:
                stream._put(_END)
            else:
                self._streams.append(weakref.ref(stream))

    def remove_stream(self, stream: "_Stream") -> None:
        with self._lock:
            self._streams = [r for r in self._streams if r() not in (None, stream)]

    def _live_streams(self) -> List["_Stream"]:
        live = [s for s in (r() for r in self._streams) if s is not None]
        if len(live) != len(self._streams):
            self._streams = [weakref.ref(s) for s in live]
        return live

    def dispatch(self, batch: Sequence[str]) -> None:
        with self._delivery:
            for event in _events(batch):
                if event.type == "ready":
                    self.ready = True
                # Waiters and streams take the event under the lock (neither blocks); handlers,
                # the app's code, run after it is released.
                with self._lock:
                    waiter = next(((p, t) for (p, t) in self._waiters if _matches(p, event.type)), None)
                    if waiter is not None:
                        self._waiters.remove(waiter)
                        waiter[1](event)
                    handlers = [h for (p, h) in self._handlers if _matches(p, event.type)]
                    streams = self._live_streams()
                    if waiter is None and not handlers and not streams:
                        self._hold(event)
                        continue
                    for stream in streams:
                        stream._put(event)
                for handler in handlers:
                    self._call(handler, event)

    def hold(self, batch: Sequence[str]) -> None:
        """Keeps a batch nobody can be given now (no event loop runs the client) for whoever
        listens next."""
        with self._lock:
            for event in _events(batch):
                self.ready = self.ready or event.type == "ready"
                self._hold(event)

    def _hold(self, event: Event) -> None:
        self._held.append(event)
        if len(self._held) > HELD_LIMIT:
            del self._held[0]
            self._dropped += 1
            if self._dropped == 1:
                log.warning(
                    "webex_native: more than %d events arrived that no handler, stream or "
                    "wait_for wanted; dropping the oldest (listen with client.on or client.events())",
                    HELD_LIMIT,
                )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            streams = self._live_streams()
            self._streams = []
            waiters, self._waiters = self._waiters, []
            for stream in streams:
                stream._put(_END)
            for _, take in waiters:
                take(None)


def _waited(event: str, got: List[Optional[Event]], timeout: Optional[float]) -> Event:
    """What a ``wait_for`` returns once its waiter is removed: the event, or the error."""
    if not got:
        raise error_class("TIMEOUT")(f"no {event!r} event within {timeout} s")
    if got[0] is None:
        raise error_class("CLOSED")(f"the client closed before a {event!r} event arrived")
    return got[0]


class _Stream:
    """What the router delivers into: ``_put(event)`` (or `END`)."""

    def _put(self, item: Any) -> None:
        raise NotImplementedError


def _call_sync_handler(handler: Handler, event: Event) -> None:
    try:
        handler(event)
    except Exception:
        log.exception("an event handler for %r raised", event.type)


class EventStream(_Stream, Iterator[Event]):
    """``for event in client.events()``: every event from now on (and those held), until the
    client closes or `close()`. A stream that is dropped stops receiving."""

    def __init__(self, router: _Router) -> None:
        import queue

        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._router = router
        self._done = False
        router.add_stream(self)

    def _put(self, item: Any) -> None:
        self._queue.put(item)

    def __iter__(self) -> "EventStream":
        return self

    def __next__(self) -> Event:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        event: Event = item
        return event

    def close(self) -> None:
        """Ends the stream; a consumer waiting in it gets ``StopIteration``."""
        self._router.remove_stream(self)
        self._queue.put(_END)

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncEventStream(_Stream, QueueStream[Event]):
    """``async for event in client.events()``: like `EventStream`, on the event loop."""

    def __init__(self, router: _Router) -> None:
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue()
        self._router = router
        self._done = False
        router.add_stream(self)

    def _put(self, item: Any) -> None:
        self._queue.put_nowait(item)

    def close(self) -> None:
        """Ends the stream; a consumer waiting in it gets ``StopAsyncIteration``."""
        self._router.remove_stream(self)
        self._queue.put_nowait(_END)


# ---------------------------------------------------------------------------------- core


_open: "weakref.WeakSet[_Core]" = weakref.WeakSet()


class _Core:
    """What a client owns: the native handle, its router and the threads that pump events and
    received media. Namespaces hold this, not the client, so a forgotten client is freed by
    reference counting and its native finalizer closes the engine client."""

    def __init__(self, native: Any, router: _Router) -> None:
        self.native = native
        self.router = router
        self.pump: Optional[threading.Thread] = None
        # Received meeting audio and video: a router and a thread per kind, started by the
        # first receiver of that kind (`_media`).
        self.frame_routers: Dict[str, FrameRouter] = {}
        self.frame_pumps: List[threading.Thread] = []
        self._frames_lock = threading.Lock()
        # Set when closing: a pump waiting for the loop stops waiting (the loop may be the
        # thread that is closing and joining the pumps).
        self.stopping = threading.Event()
        _open.add(self)

    def start_pump(self, loop: Optional[LoopRef]) -> None:
        """Starts the event thread, delivering on it (`loop` None) or on the loop."""
        deliver, on_end = on_loop(loop, self.router.dispatch, self.router.close, self.stopping, self.router.hold)
        self.pump = start_pump(self.native.events(), f"webex-events-{self.native.handle}", deliver, on_end)

    def start_frames(self, kind: str, loop: Optional[asyncio.AbstractEventLoop]) -> FrameRouter:
        """The client's router for received ``kind`` frames (``"audio"``, ``"video"``),
        starting the thread ``webex-<kind>-<handle>`` that takes them from the native queue in
        batches and delivers each batch: on that thread (`loop` None, `Webex`) or on the loop
        with one ``call_soon_threadsafe``."""
        with self._frames_lock:
            router = self.frame_routers.get(kind)
            if router is not None:
                return router
            queue = self.native.frames(kind)
            router = FrameRouter(queue, MEDIA_KINDS[kind])
            deliver, on_end = on_loop(loop, router.dispatch, router.close, self.stopping)
            self.frame_pumps.append(start_pump(queue, f"webex-{kind}-{self.native.handle}", deliver, on_end))
            self.frame_routers[kind] = router
            return router

    def close(self) -> None:
        self.stopping.set()
        self.native.close()
        with self._frames_lock:
            pumps = [self.pump, *self.frame_pumps]
        for pump in pumps:
            if pump is not None and pump is not threading.current_thread():
                pump.join()


def _close_all() -> None:
    """At exit, stop engine logs reaching Python and close forgotten clients, so no engine
    thread needs the interpreter while it shuts down and every event thread has ended."""
    try:
        _native.set_log_handler(None)
    except Exception:
        pass
    for core in list(_open):
        try:
            core.close()
        except Exception:
            pass


try:  # Runs before non-daemon threads are joined (like concurrent.futures).
    threading._register_atexit(_close_all)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):
    import atexit

    atexit.register(_close_all)


# ---------------------------------------------------------------------------------- pages


class PageIterator(Iterator[Any]):
    """The items of a list operation, page after page (``pages.next`` with the ``next`` cursor),
    fetched lazily as the iteration reaches them."""

    def __init__(self, core: _Core, op: str, params_json: str) -> None:
        self._core = core
        self._request: Optional[Tuple[str, str]] = (op, params_json)
        # The current page's items not yet handed out (JSON objects, never None).
        self._items: Iterator[Dict[str, Any]] = iter(())
        # Threads sharing the iterator take turns fetching, so each item is handed out once.
        self._fetching = threading.Lock()

    def __iter__(self) -> "PageIterator":
        return self

    def _fetch(self) -> Optional[List[Any]]:
        if self._request is None:
            return None
        op, params = self._request
        page = self._core.native.call(op, params)
        cursor = page.get("next")
        self._request = ("pages.next", json.dumps({"cursor": cursor})) if cursor else None
        items: List[Any] = page.get("items") or []
        return items

    def __next__(self) -> Any:
        item = next(self._items, None)
        while item is None:
            with self._fetching:
                item = next(self._items, None)  # another thread may have fetched meanwhile
                if item is not None:
                    break
                items = self._fetch()
                if items is None:
                    raise StopIteration
                self._items = iter(items)
                item = next(self._items, None)
        return Model(item)

    def pages(self) -> Iterator[List[Any]]:
        """The remaining pages as lists (one request each)."""
        first = [wrap(i) for i in self._items]
        if first:
            yield first
        while True:
            items = self._fetch()
            if items is None:
                return
            yield [wrap(i) for i in items]


class AsyncPageIterator(AsyncIterator[Any]):
    """``async for`` over the items of a list operation, page after page."""

    def __init__(self, client: "AsyncWebex", op: str, params_json: str) -> None:
        self._client = client
        self._request: Optional[Tuple[str, str]] = (op, params_json)
        self._items: Iterator[Dict[str, Any]] = iter(())
        # Tasks sharing the iterator take turns fetching, so each item is handed out once.
        self._fetching = asyncio.Lock()

    def __aiter__(self) -> "AsyncPageIterator":
        return self

    async def _fetch(self) -> Optional[List[Any]]:
        if self._request is None:
            return None
        op, params = self._request
        page = await self._client._submit(op, params, raw=True)
        cursor = page.get("next")
        self._request = ("pages.next", json.dumps({"cursor": cursor})) if cursor else None
        items: List[Any] = page.get("items") or []
        return items

    async def __anext__(self) -> Any:
        item = next(self._items, None)
        while item is None:
            async with self._fetching:
                item = next(self._items, None)  # another task may have fetched meanwhile
                if item is not None:
                    break
                items = await self._fetch()
                if items is None:
                    raise StopAsyncIteration
                self._items = iter(items)
                item = next(self._items, None)
        return Model(item)

    async def pages(self) -> AsyncIterator[List[Any]]:
        """The remaining pages as lists."""
        first = [wrap(i) for i in self._items]
        if first:
            yield first
        while True:
            items = await self._fetch()
            if items is None:
                return
            yield [wrap(i) for i in items]

    async def collect(self) -> List[Any]:
        """Every remaining item as a list."""
        return [item async for item in self]


# ---------------------------------------------------------------------------------- namespaces


def _make_method(op: Operation, asynchronous: bool) -> Callable[..., Any]:
    if op.kind == "list":

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._client._list(op.name, encode_params(op, args, kwargs))

    elif asynchronous:

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._client._submit(op.name, encode_params(op, args, kwargs))

    else:

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return wrap(self._client._core.native.call(op.name, encode_params(op, args, kwargs)))

    method.__name__ = op.verb
    method.__qualname__ = f"{op.namespace}.{op.verb}"
    method.__doc__ = f"{op.doc}\n\nOperation `{op.name}` ({op.kind}); params: {', '.join(op.members) or 'none'}."
    sig = op.signature()
    method.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY), *sig.parameters.values()]
    )
    return method


class Namespace:
    """A group of operations (``client.rooms``), built from the operation table. Made on each
    access and not kept by the client (a client holding namespaces that hold it would be a
    reference cycle, and a forgotten client would wait for the cyclic garbage collector, its
    socket and threads with it, instead of being freed at once); ``Webex(config).people.me()``
    still works, as the namespace holds its client."""

    _name = ""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<webex_native namespace {self._name}>"


# Methods that are not operations (meeting audio and video: frames, not JSON), mixed into a namespace.
_MIXINS: Dict[Tuple[str, bool], type] = {("meetings", False): MeetingsMedia, ("meetings", True): AsyncMeetingsMedia}


def _namespace_classes(asynchronous: bool) -> Dict[str, type]:
    classes: Dict[str, type] = {}
    for ns, ops in NAMESPACES.items():
        body: Dict[str, Any] = {"_name": ns, "__doc__": f"The `{ns}.*` operations."}
        for op in ops:
            body[op.verb] = _make_method(op, asynchronous)
            if snake(op.verb) != op.verb:
                body[snake(op.verb)] = body[op.verb]
        prefix = "Async" if asynchronous else ""
        mixin = _MIXINS.get((ns, asynchronous))
        bases = (Namespace,) if mixin is None else (Namespace, mixin)
        classes[ns] = type(f"{prefix}{ns[:1].upper()}{ns[1:]}Namespace", bases, body)
    return classes


_SYNC_NAMESPACES = _namespace_classes(False)
_ASYNC_NAMESPACES = _namespace_classes(True)


def namespace_class(name: str) -> Optional[type]:
    """The namespace class named ``name`` (``RoomsNamespace``, ``AsyncRoomsNamespace``), as the
    stubs name it, or None."""
    for classes in (_SYNC_NAMESPACES, _ASYNC_NAMESPACES):
        for cls in classes.values():
            if cls.__name__ == name:
                return cls
    return None


def _add_namespaces(client_class: type, classes: Dict[str, type]) -> None:
    """``client.<namespace>`` (and its snake_case spelling) as properties of the client class."""
    for ns, cls in classes.items():
        prop = property(cls, doc=cls.__doc__)
        setattr(client_class, ns, prop)
        if snake(ns) != ns:
            setattr(client_class, snake(ns), prop)


# ---------------------------------------------------------------------------------- Webex


class Webex:
    """The blocking client. Every operation of the engine is a method of a namespace
    (``webex.rooms.create(title="...")``); the GIL is released while the engine works.

    ``Webex({"credentials": {"access_token": token}})`` or
    ``Webex(credentials={"access_token": token})``: the same config document as every other
    language; keywords next to a document merge into it, object into object
    (``Webex(sandbox.config(), http={"timeoutMs": 5000})``). Use it as a context manager, or
    call `close()`.

    ``storage.boundedAdapter`` (credentials) and ``storage.unboundedAdapter`` (the device
    registration) may be an object of the app's with ``get``/``put``/``delete``
    (`StorageAdapter`), besides ``"memory"`` and ``{"dir": path}``.
    """

    def __init__(self, config: Config = None, /, **options: Any) -> None:
        self._router = _Router(_call_sync_handler)
        self._core = _Core(_native_client(config, options), self._router)
        self._core.start_pump(None)

    # `_list` is what list operations call.
    def _list(self, op: str, params_json: str) -> PageIterator:
        return PageIterator(self._core, op, params_json)

    def call(self, operation: str, params: Optional[Mapping[str, Any]] = None, /, **kwargs: Any) -> Any:
        """Runs any operation by name (``webex.call("rooms.create", title="x")``); list
        operations return their first page ``{items, next}`` (``page["items"]``: ``items`` is
        also the mapping method)."""
        return wrap(self._core.native.call(operation, encode_call(operation, params, kwargs)))

    def on(self, event: str, handler: Optional[Handler] = None) -> Any:
        """Calls ``handler(event)`` for every event of this type (``messages:created``,
        ``ready``, ``online``, ``offline.*``, ``*``) on the client's event thread. Events that
        arrived before any handler wanted them are delivered at once, on the calling thread.
        Usable as a decorator. Resource events (``messages:*``, ``memberships:*``,
        ``rooms:*``, ``attachmentActions:*``) come once ``<resource>.listen()`` has opened
        the event socket; ``event.data.data`` is the resource (the message, ...)."""

        def register(fn: Handler) -> Handler:
            if not callable(fn):
                raise error_class("INVALID_ARGUMENT")(f"on({event!r}): the handler must be callable")
            self._router.add_handler(event, fn)
            return fn

        return register(handler) if handler is not None else register

    def off(self, event: str, handler: Optional[Handler] = None) -> None:
        """Removes a handler (or every handler of this event type)."""
        self._router.remove_handler(event, handler)

    def events(self) -> EventStream:
        """Every event from now on (and those held), as a blocking iterator."""
        return EventStream(self._router)

    def wait_for(self, event: str, timeout: Optional[float] = None) -> Event:
        """Blocks until an event of this type arrives (the oldest held one counts) and returns
        it; each event goes to one ``wait_for``. Raises ``TimeoutError`` after ``timeout``
        seconds and ``ClosedError`` when the client closes first. Handlers run on the
        client's event thread, so a handler cannot wait for an event: use another handler.
        An event a handler or stream has already had is not waited for again: check `ready`
        rather than waiting for ``ready``."""
        if threading.current_thread() is self._core.pump:
            raise error_class("INVALID_ARGUMENT")(
                f"wait_for({event!r}) in an event handler would wait for itself: events are "
                "delivered on this thread; register a handler for that event instead"
            )
        got: List[Optional[Event]] = []
        arrived = threading.Event()

        def take(e: Optional[Event]) -> None:
            got.append(e)
            arrived.set()

        with self._router.waiting(event, take, got):
            arrived.wait(timeout)
        return _waited(event, got, timeout)

    @property
    def ready(self) -> bool:
        """Whether the client is ready: its ``ready`` event has come (whoever took it), as
        ``webex.ready`` in the official SDK."""
        return self._router.ready

    @property
    def closed(self) -> bool:
        return bool(self._core.native.closed)

    def close(self) -> None:
        """Closes the client: calls in flight end with `CancelledError`, event streams end.
        Using it afterwards raises `ClosedError`. Closing twice is fine."""
        self._core.close()

    def __enter__(self) -> "Webex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<webex_native.Webex handle={self._core.native.handle}{' closed' if self.closed else ''}>"


# ---------------------------------------------------------------------------------- AsyncWebex


#: Loop call sets with calls in flight, each keeping its client alive: a call works for the
#: app, so ``await AsyncWebex(config).people.me()`` must not see its client freed (and the
#: call cancelled, its outcome dropped) while it runs. Touched on the loops only.
_BUSY: "Set[_LoopCalls]" = set()


class _LoopCalls:
    """The calls of one client in flight on one loop: futures by call id, and the native
    queue their outcomes arrive in (drained on the loop, many outcomes per wake-up).

    Engine threads wake the loop through a descriptor it watches (``add_reader``), so they
    never wait for the GIL; a loop that cannot watch descriptors is woken with
    ``call_soon_threadsafe`` instead."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        import itertools

        self.ids = itertools.count(1)
        self.pending: Dict[int, Tuple["asyncio.Future[Any]", bool]] = {}
        self.loop = loop
        #: The client, while calls are in flight (see `_BUSY`).
        self.owner: Optional[AsyncWebex] = None
        # The loop's reader holds the native queue (its descriptor must stay open while
        # registered) and this object only weakly: a forgotten client is not kept alive.
        ref = weakref.ref(self)
        self.fileno: Optional[int] = None

        def drain() -> None:
            outcomes = native.take()
            calls = ref()
            if calls is not None:
                calls.settle(outcomes)

        try:
            native = _native.Completions()  # ValueError where there is no wake-up socket
            loop.add_reader(native.fileno(), drain)  # NotImplementedError on a proactor loop
            self.fileno = native.fileno()
        except (NotImplementedError, TypeError, ValueError):
            native = _native.Completions(loop, drain)
        self.native = native
        # A forgotten client: the loop's reader holds the queue and its socket, so stop
        # watching it (on the loop) once this object goes; `detach` does it for a closed one.
        self._forget = weakref.finalize(self, _stop_watching, loop, self.fileno)

    def add(self, call_id: int, future: "asyncio.Future[Any]", raw: bool, owner: "AsyncWebex") -> None:
        """A call in flight; its client stays alive until the last one is settled, or its
        future is done otherwise (cancelled: a timeout, or the loop's tasks cancelled as it
        closes), which also lets the client go."""
        self.pending[call_id] = (future, raw)
        future.add_done_callback(lambda _: self.forget(call_id))
        if self.owner is None:
            self.owner = owner
            _BUSY.add(self)

    def forget(self, call_id: int) -> None:
        """A call whose future is done: nothing waits for its outcome any more."""
        self.pending.pop(call_id, None)
        self._idle()

    def _idle(self) -> None:
        if not self.pending and self.owner is not None:
            self.owner = None
            _BUSY.discard(self)

    def drain(self) -> None:
        """Settles what has arrived, now (on the loop)."""
        self.settle(self.native.take())

    def settle(self, outcomes: List[Tuple[int, Optional[str], Any]]) -> None:
        for call_id, error, value in outcomes:
            entry = self.pending.pop(call_id, None)
            if entry is None:
                continue
            future, raw = entry
            if future.cancelled():
                continue
            if error is not None:
                future.set_exception(from_json(error))
            else:
                future.set_result(value if raw else wrap(value))
        self._idle()

    def detach(self) -> None:
        """After the client closed (every outcome queued): settle them and stop watching."""
        self._forget.detach()
        if self.loop.is_closed():
            # Nothing will settle what is pending: the client is no longer kept for it.
            self.pending.clear()
            self._idle()
            return
        if self.fileno is None:
            return
        fileno, self.fileno = self.fileno, None

        def finish() -> None:
            self.drain()
            self.loop.remove_reader(fileno)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            finish()
        else:
            self.loop.call_soon_threadsafe(finish)


def _stop_watching(loop: asyncio.AbstractEventLoop, fileno: Optional[int]) -> None:
    """Removes a forgotten client's wake-up socket from its loop; the reader's callback held
    the socket, which then closes. From any thread (a finalizer runs where the object died)."""
    if fileno is None or loop.is_closed():
        return
    try:
        loop.call_soon_threadsafe(loop.remove_reader, fileno)
    except RuntimeError:
        pass  # the loop closed meanwhile: its readers went with it


class _AsyncHandlers(LoopTasks):
    """Runs handlers on the loop; coroutine handlers become tasks (kept until done). Holds
    no reference to the client, so the event thread never keeps a forgotten client alive."""

    def call(self, handler: Handler, event: Event) -> None:
        self.run(handler, event, f"an event handler for {event.type!r}")


class AsyncWebex:
    """The asyncio client: operations return awaitables (resolved on the loop, woken by the
    engine threads that finish them), list operations async iterators, and event handlers run on
    the event loop (coroutine handlers become tasks).

    Create it inside a running loop (or before; it then binds to the loop of its first use).
    Once that loop has closed (an ``asyncio.run`` ended), it binds to the next loop it is used
    in; events that arrived in between are held for whoever listens next.
    ``async with AsyncWebex(config) as client: ...`` closes it.
    """

    def __init__(self, config: Config = None, /, **options: Any) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_ref: Optional[LoopRef] = None
        self._handlers = _AsyncHandlers()
        self._calls: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopCalls]" = weakref.WeakKeyDictionary()
        self._router = _Router(self._handlers.call)
        #: Handlers set before any loop ran the client, attached when one does.
        self._unbound: List[Tuple[str, Handler]] = []
        self._core = _Core(_native_client(config, options), self._router)
        try:
            self._bind(asyncio.get_running_loop())
        except RuntimeError:
            pass

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Events and handlers go to ``loop``: the first loop the client is used in, and the
        next one after that loop closed (events that came in between are held)."""
        self._loop = loop
        self._handlers.loop = loop
        if self._loop_ref is None:
            self._loop_ref = LoopRef(loop)
            self._core.start_pump(self._loop_ref)
        else:
            self._loop_ref.loop = loop
        unbound, self._unbound = self._unbound, []
        for event, handler in unbound:
            self._router.add_handler(event, handler)

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if self._loop is not None:
                return self._loop
            raise error_class("INVALID_ARGUMENT")(
                "AsyncWebex is used outside a running asyncio loop; await its calls inside asyncio.run(...)"
            ) from None
        if self._loop is None or (self._loop is not loop and self._loop.is_closed()):
            self._bind(loop)
        return loop

    def _completions_for(self, loop: asyncio.AbstractEventLoop) -> "_LoopCalls":
        calls = self._calls.get(loop)
        if calls is None:
            calls = self._calls[loop] = _LoopCalls(loop)
        return calls

    def _submit(self, op: str, params_json: str, raw: bool = False) -> "asyncio.Future[Any]":
        loop = self._get_loop()
        calls = self._completions_for(loop)
        future: "asyncio.Future[Any]" = loop.create_future()
        call_id = next(calls.ids)
        calls.add(call_id, future, raw, self)
        try:
            self._core.native.call_async(op, params_json, calls.native, call_id)
        except BaseException:
            del calls.pending[call_id]
            calls._idle()
            raise
        return future

    def _list(self, op: str, params_json: str) -> AsyncPageIterator:
        return AsyncPageIterator(self, op, params_json)

    def call(self, operation: str, params: Optional[Mapping[str, Any]] = None, /, **kwargs: Any) -> "asyncio.Future[Any]":
        """Runs any operation by name; list operations give their first page ``{items, next}``
        (``page["items"]``: ``items`` is also the mapping method)."""
        return self._submit(operation, encode_call(operation, params, kwargs))

    def on(self, event: str, handler: Optional[Handler] = None) -> Any:
        """Calls ``handler(event)`` on the event loop for every event of this type; coroutine
        handlers run as tasks. Held events are delivered at once. Usable as a decorator, also
        before any loop runs (at import time): the handler is attached once the client is used
        in a running loop."""

        def register(fn: Handler) -> Handler:
            if not callable(fn):
                raise error_class("INVALID_ARGUMENT")(f"on({event!r}): the handler must be callable")
            if self._loop_for_handlers() is None:
                # No loop to run it on yet (a handler set up at import time): it is attached
                # once the client is used in one.
                self._unbound.append((event, fn))
            else:
                self._router.add_handler(event, fn)
            return fn

        return register(handler) if handler is not None else register

    def off(self, event: str, handler: Optional[Handler] = None) -> None:
        """Removes a handler (or every handler of this event type)."""
        self._unbound = [(e, h) for (e, h) in self._unbound if not (e == event and (handler is None or h == handler))]
        self._router.remove_handler(event, handler)

    def _loop_for_handlers(self) -> Optional[asyncio.AbstractEventLoop]:
        """The loop handlers run on: the running one (bound to it), or the bound loop when it
        is still open; None when there is none yet."""
        try:
            loop = self._get_loop()
        except error_class("INVALID_ARGUMENT"):
            return None
        return None if loop.is_closed() else loop

    def events(self) -> AsyncEventStream:
        """``async for event in client.events()``: every event from now on (and those held)."""
        self._get_loop()
        return AsyncEventStream(self._router)

    async def wait_for(self, event: str, timeout: Optional[float] = None) -> Event:
        """The next event of this type (the oldest held one counts); each event goes to one
        ``wait_for``. Raises ``TimeoutError`` after ``timeout`` seconds and ``ClosedError``
        when the client closes first; when the wait is cancelled, an event it took meanwhile
        is held for the next one. An event a handler or stream has already had is not waited
        for again: check `ready` rather than waiting for ``ready``."""
        loop = self._get_loop()
        future: "asyncio.Future[None]" = loop.create_future()
        got: List[Optional[Event]] = []

        def take(e: Optional[Event]) -> None:
            got.append(e)
            if not future.done():
                future.set_result(None)

        with self._router.waiting(event, take, got):
            await asyncio.wait((future,), timeout=timeout)
        return _waited(event, got, timeout)

    @property
    def ready(self) -> bool:
        """Whether the client is ready: its ``ready`` event has come (whoever took it), as
        ``webex.ready`` in the official SDK. Events reach an `AsyncWebex` once it is used in
        a running loop."""
        return self._router.ready

    @property
    def closed(self) -> bool:
        return bool(self._core.native.closed)

    async def close(self) -> None:
        """Closes the client: awaited calls in flight raise `CancelledError` (webex_native's),
        event streams end. Closing twice is fine."""
        self._core.close()
        # The engine has queued every outcome: settle them before returning.
        for calls in list(self._calls.values()):
            calls.detach()
        await asyncio.sleep(0)

    async def __aenter__(self) -> "AsyncWebex":
        self._get_loop()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<webex_native.AsyncWebex handle={self._core.native.handle}{' closed' if self.closed else ''}>"


_add_namespaces(Webex, _SYNC_NAMESPACES)
_add_namespaces(AsyncWebex, _ASYNC_NAMESPACES)
