"""Delivery to the app: the threads that take what the engine queued (events, received audio
and video) in batches, and handlers on an asyncio loop (a coroutine handler becomes a task,
kept until it is done; whatever a handler raises is logged, never lost and never raised into
the engine's delivery)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from typing import Any, Callable, Generic, List, Optional, Set, Tuple, TypeVar, Union

log = logging.getLogger("webex_native")

#: Put into a stream's queue last: the stream has ended.
END = object()

_T = TypeVar("_T")


class QueueStream(Generic[_T]):
    """An ``async for`` over what is put into ``self._queue`` on the event loop, until `END`
    arrives or `close()`; also an async context manager. Subclasses make the queue and say
    what `close` stops."""

    _queue: "asyncio.Queue[Any]"
    _done: bool = False

    def __aiter__(self) -> "QueueStream[_T]":
        return self

    async def __anext__(self) -> _T:
        if self._done:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is END:
            self._done = True
            raise StopAsyncIteration
        value: _T = item
        return value

    def close(self) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> "QueueStream[_T]":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class LoopTasks:
    """Runs handlers for one client on its loop (``loop`` may be set once it is known)."""

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.loop = loop
        self.tasks: Set["asyncio.Future[Any]"] = set()

    def run(self, handler: Callable[[Any], Any], arg: Any, what: str) -> None:
        """``handler(arg)``; ``what`` names the handler in the log if it raises."""
        try:
            result = handler(arg)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result, loop=self.loop)
                self.tasks.add(task)
                task.add_done_callback(lambda done: self._done(done, what))
        except Exception:
            log.exception("%s raised", what)

    def _done(self, task: "asyncio.Future[Any]", what: str) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s raised", what, exc_info=task.exception())


# ---------------------------------------------------------------------------------- delivery
#
# Everything the engine hands a client (events, received audio, received video) reaches Python
# the same way: the engine queues it natively without the GIL; one Python thread per stream
# waits for it (GIL released) and takes everything queued at once; the batch is delivered on
# that thread (`Webex`) or on the event loop with one ``call_soon_threadsafe`` (`AsyncWebex`).


def start_pump(queue: Any, name: str, deliver: Callable[[Any], None], on_end: Callable[[], None]) -> threading.Thread:
    """Starts the daemon thread ``name`` that calls ``deliver(batch)`` for every batch
    ``queue.next_batch()`` returns (it waits with the GIL released), then ``on_end()`` once
    the queue ends (`None`). The thread holds only the queue and these two functions, never
    the client, so a forgotten client is freed and its native finalizer ends the queue."""

    def run() -> None:
        while True:
            batch = queue.next_batch()
            if batch is None:
                break
            deliver(batch)
        on_end()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


class LoopRef:
    """The loop a pump delivers on, which the client may move: an `AsyncWebex` whose loop
    closed (one ``asyncio.run`` ended) is rebound to the loop it is used in next."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop


def on_loop(
    loop: Union[None, asyncio.AbstractEventLoop, LoopRef],
    dispatch: Callable[[Any], None],
    close: Callable[[], None],
    stopping: Optional[threading.Event] = None,
    hold: Optional[Callable[[Any], None]] = None,
) -> Tuple[Callable[[Any], None], Callable[[], None]]:
    """``(deliver, on_end)`` for `start_pump`: ``dispatch(batch)`` and ``close()`` on the pump's
    thread when ``loop`` is None, else on the loop (one ``call_soon_threadsafe`` per batch).

    On a loop, at most `IN_FLIGHT` batches wait for it: the pump takes no more until the loop
    has run one, so a slow loop leaves what comes next in the engine's own queue (bounded for
    audio and video, with drops counted; events are kept) instead of piling up callbacks
    without bound. While the loop is closed (and not yet rebound through a `LoopRef`) batches
    go to ``hold`` (events: kept for whoever listens next) or are dropped (frames: nobody
    listens any more); once ``stopping`` is set (the client is closing, perhaps on the
    loop's own thread) they are dropped. ``close`` runs on the pump's thread when the loop is
    closed."""
    if loop is None:
        return dispatch, close
    ref = loop if isinstance(loop, LoopRef) else LoopRef(loop)
    # Permits per loop: callbacks a closed loop never ran must not hold up the next one.
    current: List[Any] = [None, None]

    def deliver(batch: Any) -> None:
        while True:
            event_loop = ref.loop
            if current[0] is not event_loop:
                current[0], current[1] = event_loop, threading.Semaphore(IN_FLIGHT)
            closing = stopping is not None and stopping.is_set()
            if event_loop.is_closed():
                if hold is not None and not closing:
                    hold(batch)
                return
            if current[1].acquire(timeout=0.1):
                break
            if closing:
                return
        waiting: threading.Semaphore = current[1]

        def run() -> None:
            try:
                dispatch(batch)
            finally:
                waiting.release()

        try:
            event_loop.call_soon_threadsafe(run)
        except RuntimeError:  # the loop closed meanwhile
            waiting.release()
            if hold is not None:
                hold(batch)

    def on_end() -> None:
        try:
            ref.loop.call_soon_threadsafe(close)
        except RuntimeError:
            close()

    return deliver, on_end


#: Batches handed to an event loop and not yet run, per stream, before the pump waits.
IN_FLIGHT = 2
