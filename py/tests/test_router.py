"""Who gets which event (no sandbox needed): the router behind ``on``, ``events()`` and
``wait_for``, fed batches as the engine's event thread would."""

from __future__ import annotations

import gc
import json
import logging
import threading
from typing import Any, List, Optional, Tuple

import pytest

from webex_native import Event
from webex_native._client import HELD_LIMIT, EventStream, _call_sync_handler, _Router

# Safety net only: a broken build fails instead of hanging.
NET = 30.0


def _batch(kind: str, *ns: int) -> List[str]:
    return [json.dumps({"type": kind, "data": {"n": n}}) for n in ns]


def _waiter(router: _Router, pattern: str) -> List[Optional[Event]]:
    got: List[Optional[Event]] = []
    router.add_waiter(pattern, got.append)
    return got


def test_a_waiter_takes_one_event_and_the_rest_of_the_batch_is_held() -> None:
    router = _Router(_call_sync_handler)
    first = _waiter(router, "messages:created")
    router.dispatch(_batch("messages:created", 0, 1, 2))
    assert [e.data.n for e in first if e] == [0]
    # Each later waiter gets the oldest held event, once.
    assert [e.data.n for w in (_waiter(router, "messages:created") for _ in range(2)) for e in w if e] == [1, 2]
    assert _waiter(router, "messages:created") == [], "nothing left: the next one waits"


def test_closing_ends_every_pending_waiter_and_later_ones() -> None:
    router = _Router(_call_sync_handler)
    pending = _waiter(router, "online")
    router.close()
    assert pending == [None]
    assert _waiter(router, "online") == [None]


def test_a_dropped_stream_stops_receiving_and_events_are_held_again() -> None:
    router = _Router(_call_sync_handler)
    stream = EventStream(router)
    router.dispatch(_batch("a", 0))
    assert next(stream).data.n == 0
    del stream
    gc.collect()  # only for interpreters without reference counting; CPython freed it already
    router.dispatch(_batch("a", 1))
    got: List[Any] = []
    router.add_handler("a", lambda e: got.append(e.data.n))
    assert got == [1], "held for the handler that came later, not queued into the dropped stream"


def test_closing_a_stream_ends_a_consumer_waiting_in_it() -> None:
    router = _Router(_call_sync_handler)
    stream = EventStream(router)
    seen: List[Any] = []
    consumer = threading.Thread(target=lambda: seen.extend(e.type for e in stream))
    consumer.start()
    router.dispatch(_batch("a", 0))
    stream.close()
    consumer.join(NET)
    assert not consumer.is_alive() and seen[:1] == ["a"]


def test_held_events_are_bounded_and_the_drop_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    router = _Router(_call_sync_handler)
    with caplog.at_level(logging.WARNING, logger="webex_native"):
        router.dispatch(_batch("unwanted", *range(HELD_LIMIT + 5)))
    got: List[int] = []
    router.add_handler("unwanted", lambda e: got.append(e.data.n))
    assert got == list(range(5, HELD_LIMIT + 5)), "the newest are kept"
    assert len([r for r in caplog.records if "dropping the oldest" in r.getMessage()]) == 1


def _blocked_in(router: _Router, pattern: str, batch: List[str]) -> Tuple[threading.Thread, threading.Event]:
    """Dispatches ``batch`` on a thread of its own with a handler for ``pattern`` that blocks in
    its first event; returns (that thread, the event that releases it) once it blocks."""
    inside, release = threading.Event(), threading.Event()

    def slow(event: Event) -> None:
        inside.set()
        release.wait(NET)

    router.add_handler(pattern, slow)
    delivery = threading.Thread(target=router.dispatch, args=(batch,))
    delivery.start()
    assert inside.wait(NET)
    return delivery, release


def test_a_slow_handler_holds_up_no_other_thread() -> None:
    # While a handler blocks inside its event, another thread registers a waiter and a stream
    # and removes a handler. They used to wait for the handler (one lock over the lists and
    # the handler calls).
    router = _Router(_call_sync_handler)
    delivery, release = _blocked_in(router, "a", _batch("a", 0) + _batch("b", 1))
    try:
        done = threading.Event()
        got: List[Optional[Event]] = []

        def others() -> None:
            router.add_waiter("c", got.append)
            EventStream(router).close()
            router.remove_handler("z", None)
            done.set()

        threading.Thread(target=others).start()
        assert done.wait(NET), "registration waited for a running handler"
    finally:
        release.set()
        delivery.join(NET)
    # The waiter registered meanwhile takes the next event of its kind.
    router.dispatch(_batch("c", 2))
    assert [e.data.n for e in got if e] == [2]


def test_a_handler_attached_during_a_dispatch_gets_held_events_first() -> None:
    router = _Router(_call_sync_handler)
    router.dispatch(_batch("a", 0, 1))  # held: nobody wants them yet
    order: List[int] = []
    delivery, release = _blocked_in(router, "b", _batch("b", 9) + _batch("a", 2))
    attach = threading.Thread(target=router.add_handler, args=("a", lambda e: order.append(e.data.n)))
    attach.start()
    release.set()
    delivery.join(NET)
    attach.join(NET)
    assert order == [0, 1, 2], "the held events before the newer one, whichever thread ran first"


def test_an_event_given_back_goes_to_the_next_waiter_first() -> None:
    # The first waiter takes the event, then stops waiting (interrupted): the second, already
    # waiting, gets it, and it is not held for a later one as well.
    router = _Router(_call_sync_handler)
    first: List[Optional[Event]] = []
    with pytest.raises(KeyboardInterrupt):
        with router.waiting("x", first.append, first):
            second = _waiter(router, "x")
            router.dispatch(_batch("x", 1))
            assert [e.data.n for e in first if e] == [1]
            raise KeyboardInterrupt
    assert [e.data.n for e in second if e] == [1], "handed to the next waiter"
    assert _waiter(router, "x") == [], "and not held as well"


def test_an_event_a_handler_had_is_not_held_again_when_given_back() -> None:
    router = _Router(_call_sync_handler)
    handled: List[int] = []
    router.add_handler("x", lambda e: handled.append(e.data.n))
    first: List[Optional[Event]] = []
    with pytest.raises(KeyboardInterrupt):
        with router.waiting("x", first.append, first):
            router.dispatch(_batch("x", 1))
            raise KeyboardInterrupt
    assert handled == [1]
    router.remove_handler("x", None)
    assert _waiter(router, "x") == [], "the handler had it: not replayed"
