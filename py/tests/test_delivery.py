"""How batches reach an event loop: a loop that does not keep up holds the pump back (at most
`IN_FLIGHT` batches wait for it), so what comes next stays in the engine's bounded queues
instead of piling up as callbacks."""

import asyncio
import threading
from typing import List

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
