"""Shared set-up: a real sandbox on loopback (in this process) and configs for its users."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Generic, Iterator, List, Optional, Set, TypeVar

import pytest

import webex_native

ALICE = "alice@example.com"
BOB = "bob@example.com"
# Short retry waits keep fault tests quick; the waits themselves are never asserted.
FAST_HTTP = {"retryAfterDefaultMs": 20, "backoffBaseMs": 5, "maxRetryAfterMs": 2000}
# Safety net of the media tests' waits: a broken build fails instead of hanging. Nothing
# asserts how long anything took.
NET = 30.0


@pytest.fixture
def sandbox() -> Iterator[webex_native.Sandbox]:
    with webex_native.Sandbox() as sb:
        yield sb


@pytest.fixture
def config(sandbox: webex_native.Sandbox) -> Dict[str, Any]:
    return sandbox.config(http=FAST_HTTP)


@pytest.fixture
def client(config: Dict[str, Any]) -> Iterator[webex_native.Webex]:
    with webex_native.Webex(config) as c:
        yield c


class HangingServer:
    """A TCP server on loopback that reads requests and never answers: a request to it is in
    flight for as long as the test wants, and the test knows exactly when it arrived."""

    def __init__(self) -> None:
        import socket
        import threading

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._arrived = threading.Condition()
        self.count = 0
        self._conns: list[Any] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            import threading

            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: Any) -> None:
        try:
            data = conn.recv(65536)
        except OSError:
            return
        if data:
            with self._arrived:
                self.count += 1
                self._arrived.notify_all()

    def wait_for(self, n: int, timeout: float = 30.0) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: self.count >= n, timeout)

    def config(self, token: str) -> Dict[str, Any]:
        return {
            "credentials": {"access_token": token},
            "services": {"discovery": {"hydra": self.url + "/v1", "u2c": self.url + "/u2c/api/v1"}},
            "http": {"timeoutMs": 600_000},
        }

    def close(self) -> None:
        self._sock.close()
        for conn in self._conns:
            conn.close()


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()


# ---------------------------------------------------------------------------------- meetings


def scheduled(webex: webex_native.Webex, title: str = "Media check") -> str:
    """The number of a new scheduled meeting."""
    meeting = webex.scheduledMeetings.create(title=title, start="2030-01-01T10:00:00Z", end="2030-01-01T10:30:00Z")
    return str(meeting.meetingNumber)


class Pacer:
    """A live source on its own thread: ``send(i)`` for i = 0, 1, ... once per ``period``
    seconds (a deadline clock, as a microphone or camera would). With ``lossy`` the frames the
    meeting refuses (``WebexError``, e.g. while media reconnects) are counted in ``lost`` and
    the source goes on; otherwise the first error stops it and `stop()` raises it."""

    def __init__(self, send: Callable[[int], None], period: float, lossy: bool = False) -> None:
        self.sent = 0
        self.lost = 0
        self.error: Optional[BaseException] = None
        self._send = send
        self._period = period
        self._lossy = lossy
        self._pushed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pacer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic()
        while not self._stop.is_set():
            try:
                self._send(self.sent)
            except BaseException as e:
                if not (self._lossy and isinstance(e, webex_native.WebexError)):
                    self.error = e  # surfaced by stop()
                    return
                self.lost += 1
            with self._pushed:
                self.sent += 1
                self._pushed.notify_all()
            deadline += self._period
            self._stop.wait(max(0.0, deadline - time.monotonic()))  # pacing, not polling

    def wait_sent(self, n: int) -> None:
        with self._pushed:
            assert self._pushed.wait_for(lambda: self.sent >= n, NET), f"only {self.sent} frames pushed"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(NET)
        if self.error is not None:
            raise self.error


_Frame = TypeVar("_Frame", webex_native.AudioFrame, webex_native.VideoFrame)


class Collector(Generic[_Frame]):
    """A frame handler that keeps every frame and the threads it ran on; `wait(pred)` blocks
    (bounded by `NET`) until the frames kept satisfy `pred`."""

    def __init__(self) -> None:
        self.frames: List[_Frame] = []
        self.threads: Set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, frame: _Frame) -> None:
        with self._cond:
            self.frames.append(frame)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            self.frames = []

    def of(self, participant_id: str) -> List[_Frame]:
        with self._cond:
            return [f for f in self.frames if f.participant_id == participant_id]

    def wait(self, pred: Callable[[List[_Frame]], bool], what: str) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: pred(self.frames), NET), f"{what}: only {len(self.frames)} frames"


class Watch:
    """Every event of one type a client got; `wait(pred)` until one matches."""

    def __init__(self, webex: webex_native.Webex, kind: str) -> None:
        self.events: List[webex_native.Event] = []
        self._cond = threading.Condition()
        webex.on(kind, self._on)

    def _on(self, event: webex_native.Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait(self, pred: Callable[[Any], bool]) -> webex_native.Event:
        with self._cond:
            assert self._cond.wait_for(lambda: any(pred(e.data) for e in self.events), NET)
            return next(e for e in self.events if pred(e.data))


def member_id(watch: Watch, meeting_id: str, email: str) -> str:
    """The roster id of ``email`` once a ``members:update`` of the meeting names them."""

    def named(d: Any) -> bool:
        return bool(d.meetingId == meeting_id and any(m.email == email for m in d.full or []))

    event = watch.wait(named)
    return str(next(m.id for m in event.data.full if m.email == email))
