"""Events: handlers, streams, lifecycle, and nothing dropped before someone listens."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

import pytest

import webex_native
from webex_native import AsyncWebex, Event, Sandbox, Webex

from conftest import ALICE, FAST_HTTP

# Safety nets only: a broken build fails instead of hanging. Nothing asserts how long it took.
NET = 30.0


def _room_with_alice(webex: Webex) -> str:
    room = webex.rooms.create(title="Events")
    webex.memberships.create(roomId=room.id, personEmail=ALICE)
    return str(room.id)


def test_ready_is_held_until_a_handler_is_attached(client: Webex) -> None:
    # `ready` was emitted when the client was created, before anyone listened.
    client.people.me()  # the client certainly exists and its events were queued
    got: List[Event] = []
    arrived = threading.Event()
    client.on("ready", lambda e: (got.append(e), arrived.set()))
    assert arrived.wait(NET)
    assert got[0].type == "ready"


def test_ready_stays_true_whoever_took_the_event(config: Dict[str, Any]) -> None:
    with Webex(config) as webex:
        arrived = threading.Event()
        webex.on("*", lambda e: arrived.set())  # takes `ready`: a wait_for would not see it
        assert arrived.wait(NET)
        assert webex.ready

    async def main() -> None:
        async with AsyncWebex(config) as client:
            came = asyncio.Event()
            client.on("*", lambda e: came.set())
            await asyncio.wait_for(came.wait(), NET)
            assert client.ready
            # And the async wait_for takes a timeout as the blocking one does.
            try:
                await client.wait_for("ready", timeout=0.05)
            except webex_native.TimeoutError as e:
                assert "no 'ready' event within 0.05 s" in str(e)
            else:
                raise AssertionError("wait_for returned an event a handler had had")

    asyncio.run(main())


def test_async_handlers_may_be_set_before_any_loop_runs(
    config: Dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client = AsyncWebex(config)  # at import time, say: no loop yet
    got: List[str] = []
    came: Dict[str, asyncio.Event] = {}

    @client.on("ready")
    async def ready(event: Event) -> None:
        got.append(event.type)
        came["ready"].set()
        raise RuntimeError("handler bug")

    async def main() -> None:
        came["ready"] = asyncio.Event()
        async with client:  # the first use in a loop attaches the handler
            await asyncio.wait_for(came["ready"].wait(), NET)

    caplog.set_level("ERROR", logger="webex_native")
    asyncio.run(main())
    assert got == ["ready"]
    # A coroutine handler that raised is named in the log, as a plain one is (the close
    # lets the loop run the task's callback).
    assert any("an event handler for 'ready' raised" in r.getMessage() for r in caplog.records)


def test_messages_created_reaches_on_handlers_and_event_streams(sandbox: Sandbox, client: Webex) -> None:
    room_id = _room_with_alice(client)
    created: List[Event] = []
    lifecycle: List[str] = []
    arrived = threading.Event()

    @client.on("messages:created")
    def on_message(event: Event) -> None:
        created.append(event)
        arrived.set()

    client.on("online", lambda e: lifecycle.append(e.type))
    stream = client.events()
    client.messages.listen()
    with Webex(sandbox.config(ALICE, http=FAST_HTTP)) as alice:
        sent = alice.messages.create(roomId=room_id, text="hello bot")
    assert arrived.wait(NET)
    event = created[0]
    assert event.data.resource == "messages" and event.data.event == "created"
    assert event.data.data.id == sent.id and event.data.data.roomId == room_id
    # The stream sees every event, in order, including lifecycle ones.
    seen = []
    for e in stream:
        seen.append(e.type)
        if e.type == "messages:created":
            break
    assert "online" in seen and seen[-1] == "messages:created"
    assert lifecycle == ["online"]
    stream.close()


def test_streams_end_when_the_client_closes(config: Dict[str, Any]) -> None:
    webex = Webex(config)
    stream = webex.events()
    webex.close()
    types = [e.type for e in stream]
    assert types == ["ready"]


def test_async_events_handlers_and_iteration(sandbox: Sandbox, config: Dict[str, Any]) -> None:
    async def main() -> None:
        async with AsyncWebex(config) as webex:
            ready = await asyncio.wait_for(webex.wait_for("ready"), NET)
            assert ready.type == "ready"
            room = await webex.rooms.create(title="Async events")
            await webex.memberships.create(roomId=room.id, personEmail=ALICE)
            from_handler: "asyncio.Future[Event]" = asyncio.get_running_loop().create_future()

            async def handler(event: Event) -> None:  # a coroutine handler runs as a task
                if not from_handler.done():
                    from_handler.set_result(event)

            webex.on("messages:created", handler)
            await webex.messages.listen()
            async with AsyncWebex(sandbox.config(ALICE)) as alice:
                sent = await alice.messages.create(roomId=room.id, text="async hello")
            event = await asyncio.wait_for(from_handler, NET)
            assert event.data.data.id == sent.id

            async def first_created() -> Event:
                async for e in webex.events():
                    if e.type == "messages:created":
                        return e
                raise AssertionError("the stream ended")

            waiter = asyncio.ensure_future(first_created())
            await asyncio.sleep(0)  # let the stream subscribe (an ordering point, not a wait)
            async with AsyncWebex(sandbox.config(ALICE)) as alice:
                second = await alice.messages.create(roomId=room.id, text="again")
            assert (await asyncio.wait_for(waiter, NET)).data.data.id == second.id

    asyncio.run(main())


def test_a_raising_handler_does_not_stop_delivery(client: Webex) -> None:
    arrived = threading.Event()

    def bad(event: Event) -> None:
        raise RuntimeError("handler bug")

    client.on("*", bad)  # takes the held `ready` (and raises)
    client.on("online", lambda e: arrived.set())
    client.messages.listen()  # the socket comes up: `online` goes to both handlers
    assert arrived.wait(NET)
    assert client.people.me().id


def test_wait_for_ends_with_closed_error_when_the_client_closes(config: Dict[str, Any]) -> None:
    webex = Webex(config)
    outcome: List[BaseException] = []

    def wait() -> None:
        try:
            webex.wait_for("messages:created")  # no timeout: only the close ends it
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)

    waiter = threading.Thread(target=wait)
    waiter.start()
    webex.close()
    waiter.join(NET)
    assert not waiter.is_alive()
    assert isinstance(outcome[0], webex_native.ClosedError), outcome

    async def main() -> None:
        client = AsyncWebex(config)
        pending = asyncio.ensure_future(client.wait_for("messages:created"))
        await asyncio.sleep(0)  # let it register (an ordering point, not a wait)
        await client.close()
        try:
            await asyncio.wait_for(pending, NET)
        except webex_native.ClosedError:
            return
        raise AssertionError("wait_for returned after close")

    asyncio.run(main())


def test_wait_for_in_a_handler_is_refused_rather_than_waiting_for_itself(client: Webex) -> None:
    refused: List[BaseException] = []
    handled = threading.Event()

    def handler(event: Event) -> None:
        try:
            client.wait_for("online", timeout=NET)
        except webex_native.InvalidArgumentError as e:
            refused.append(e)
        handled.set()

    client.on("online", handler)  # `online` comes on the client's event thread
    client.messages.listen()
    assert handled.wait(NET)
    assert "would wait for itself" in str(refused[0])


def test_an_async_client_used_in_a_second_loop_gets_its_events_there(config: Dict[str, Any]) -> None:
    webex = AsyncWebex(config)  # made outside any loop

    async def first() -> None:
        assert (await asyncio.wait_for(webex.wait_for("ready"), NET)).type == "ready"

    async def second() -> None:
        await webex.messages.listen()
        assert (await asyncio.wait_for(webex.wait_for("online"), NET)).type == "online"
        await webex.close()

    asyncio.run(first())
    asyncio.run(second())  # the first loop is closed: events follow the client to this one


def test_a_cancelled_async_wait_for_leaves_its_event_for_the_next(config: Dict[str, Any]) -> None:
    async def main() -> None:
        async with AsyncWebex(config) as client:
            first = asyncio.ensure_future(client.wait_for("test:event"))
            await asyncio.sleep(0)  # one step: the waiter is registered
            # The event comes (as the engine's delivery would) and the wait is cancelled before
            # it could return: the event must not go down with it.
            client._router.dispatch(['{"type": "test:event", "data": {"n": 1}}'])
            first.cancel()
            try:
                await first
            except asyncio.CancelledError:
                pass
            again = await client.wait_for("test:event", timeout=NET)
            assert again.data.n == 1

    asyncio.run(main())
