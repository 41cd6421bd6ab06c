"""How batches and call outcomes reach an event loop: a loop that does not keep up holds the
pump back (at most `IN_FLIGHT` batches wait for it), so what comes next stays in the engine's
bounded queues instead of piling up as callbacks; outcomes of calls wake the loop without an
engine thread ever entering Python."""

import asyncio
import threading
from typing import Any, Dict, List

import webex_native
from webex_native import AsyncWebex
from webex_native._tasks import IN_FLIGHT, on_loop


def test_a_loop_that_does_not_run_gets_at_most_in_flight_batches() -> None:
    loop = asyncio.new_event_loop()
    got: List[int] = []
    stopping = threading.Event()
    deliver, _ = on_loop(loop, got.append, lambda: None, stopping)
    # The loop is not running: the first IN_FLIGHT batches are handed over at once; the next
    # would wait for the loop, and with `stopping` set they are dropped instead.
    stopping.set()
    pump = threading.Thread(target=lambda: [deliver(i) for i in range(5)])
    pump.start()
    pump.join()
    loop.run_until_complete(asyncio.sleep(0))
    assert got == list(range(IN_FLIGHT))
    loop.close()


def test_a_running_loop_gets_every_batch_in_order() -> None:
    loop = asyncio.new_event_loop()
    got: List[int] = []
    done = asyncio.Event()

    def dispatch(batch: int) -> None:
        got.append(batch)
        if batch == 99:
            done.set()

    deliver, _ = on_loop(loop, dispatch, lambda: None)
    pump = threading.Thread(target=lambda: [deliver(i) for i in range(100)])
    pump.start()
    loop.run_until_complete(done.wait())
    pump.join()
    assert got == list(range(100))
    loop.close()


class _WatchedLoop(asyncio.SelectorEventLoop):
    """Records the threads that schedule callbacks from outside the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.callers: List[str] = []

    def call_soon_threadsafe(self, callback, *args, context=None):  # type: ignore[no-untyped-def]
        self.callers.append(threading.current_thread().name)
        return super().call_soon_threadsafe(callback, *args, context=context)


def test_calls_complete_without_engine_threads_entering_python(config: Dict[str, Any]) -> None:
    # An engine thread that needed the GIL to finish a call would wait for whatever Python
    # the loop's thread is running; the loop is woken through a descriptor instead. (An
    # engine thread entering Python shows up as a "Dummy-N" thread.)
    loop = _WatchedLoop()

    async def main() -> List[Any]:
        async with AsyncWebex(config) as client:
            me = await client.people.me()
            rooms = await asyncio.gather(*[client.rooms.create(title=f"r{i}") for i in range(50)])
            failed = await asyncio.gather(client.rooms.get("nope"), return_exceptions=True)
            return [me, *rooms, *failed]

    try:
        results = loop.run_until_complete(main())
    finally:
        loop.close()
    assert results[0].id and [r.title for r in results[1:51]] == [f"r{i}" for i in range(50)]
    assert isinstance(results[51], webex_native.WebexError)
    assert not [name for name in loop.callers if name.startswith("Dummy")], loop.callers


def test_close_stops_watching_the_completion_descriptor(config: Dict[str, Any]) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        watched = lambda: len(loop._selector.get_map())  # type: ignore[attr-defined]  # noqa: E731
        before = watched()
        client = AsyncWebex(config)
        await client.people.me()
        assert watched() == before + 1
        await client.close()
        assert watched() == before

    asyncio.run(main())


class _LoopWithoutReaders(asyncio.SelectorEventLoop):
    """A loop that cannot watch descriptors, as Windows' proactor loop."""

    def add_reader(self, fd, callback, *args):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def test_a_loop_without_add_reader_is_woken_with_call_soon_threadsafe(config: Dict[str, Any]) -> None:
    loop = _LoopWithoutReaders()

    async def main() -> List[str]:
        async with AsyncWebex(config) as client:
            rooms = await asyncio.gather(*[client.rooms.create(title=f"p{i}") for i in range(20)])
            return [r.title for r in rooms]

    try:
        assert loop.run_until_complete(main()) == [f"p{i}" for i in range(20)]
    finally:
        loop.close()
