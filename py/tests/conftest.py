"""Shared set-up: a real sandbox on loopback (in this process) and configs for its users."""

from __future__ import annotations

from typing import Any, Dict, Iterator

import pytest

import webex_native

ALICE = "alice@example.com"
BOB = "bob@example.com"
# Short retry waits keep fault tests quick; the waits themselves are never asserted.
FAST_HTTP = {"retryAfterDefaultMs": 20, "backoffBaseMs": 5, "maxRetryAfterMs": 2000}


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
