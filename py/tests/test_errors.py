"""One exception class per engine error code, carrying what the cloud said."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

import pytest

import webex_native
from webex_native import AsyncWebex, Sandbox, Webex, WebexError


def test_one_class_per_engine_code() -> None:
    codes = webex_native._native.error_codes()
    assert len(codes) == 15
    for code, number in codes:
        name = "".join(p.capitalize() for p in code.split("_")) + "Error"
        cls = getattr(webex_native, name)
        assert issubclass(cls, WebexError) and cls.code == code and cls.code_number == number
        assert webex_native.error_class(code) is cls
    assert webex_native.NotFoundError.__name__ == "NotFoundError"
    assert issubclass(webex_native.InvalidArgumentError, ValueError)
    assert issubclass(webex_native.TimeoutError, TimeoutError)


def test_not_found_carries_status_and_tracking_id(client: Webex) -> None:
    with pytest.raises(webex_native.NotFoundError) as info:
        client.rooms.get("Y2lzY29zcGFyazovL3VzL1JPT00vbm9wZQ")
    e = info.value
    assert e.code == "NOT_FOUND" and e.status == 404
    assert e.tracking_id and e.tracking_id in str(e)


def test_rate_limited_carries_retry_after(sandbox: Sandbox, config: Dict[str, Any]) -> None:
    sandbox.inject_fault("/v1/people/me", status=429, retry_after="3600", count=0)
    with Webex(config) as webex, pytest.raises(webex_native.RateLimitedError) as info:
        webex.people.me()
    assert info.value.status == 429 and info.value.retry_after == 3600
    assert "wait 3600 s" in str(info.value)


_FIRST_CLIENT_WARNS = """
import logging, threading, webex_native
arrived = threading.Event()
class Watch(logging.Handler):
    def emit(self, record):
        if "htp: unknown config key" in record.getMessage():
            arrived.set()
logging.getLogger("webex_native").addHandler(Watch())
with webex_native.Webex({"credentials": {"access_token": "x" * 40}, "htp": {}}):
    print("warned" if arrived.wait(10) else "silent")
"""


def test_the_first_clients_config_warnings_reach_logging() -> None:
    # In a child process: only the first client of a process showed the bug (its warnings were
    # logged before the engine's log was set up, so a typo in the config went unseen).
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _FIRST_CLIENT_WARNS], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "warned", done.stderr


def test_no_token_at_all_says_so(sandbox: Sandbox, config: Dict[str, Any]) -> None:
    # A misspelt section is the usual way to lose the token.
    doc = {**config, "credentails": config["credentials"]}
    del doc["credentials"]
    with Webex(doc) as webex, pytest.raises(webex_native.UnauthorizedError) as info:
        webex.people.me()
    assert "no access token is configured" in str(info.value)


def test_server_errors_and_unauthorized(sandbox: Sandbox, config: Dict[str, Any]) -> None:
    sandbox.inject_fault("/v1/people/me", status=503, count=0)
    with Webex(config) as webex:
        with pytest.raises(webex_native.ServerError) as info:
            webex.people.me()
        assert info.value.status == 503
    bad = dict(config, credentials={"access_token": "not-a-valid-token-at-all"})
    with Webex(bad) as webex, pytest.raises(webex_native.UnauthorizedError) as unauthorized:
        webex.rooms.create(title="x")
    assert unauthorized.value.status == 401
    assert "not-a-valid-token-at-all" not in str(unauthorized.value)


def test_closed_client_raises_closed(config: Dict[str, Any]) -> None:
    webex = Webex(config)
    webex.close()
    webex.close()  # twice is fine
    assert webex.closed
    with pytest.raises(webex_native.ClosedError, match="closed"):
        webex.people.me()


def test_async_errors_are_the_same_classes(sandbox: Sandbox, config: Dict[str, Any]) -> None:
    async def main() -> None:
        async with AsyncWebex(config) as webex:
            with pytest.raises(webex_native.NotFoundError):
                await webex.messages.get("nope")
            with pytest.raises(webex_native.InvalidArgumentError, match="title"):
                await webex.rooms.create(title=5)  # type: ignore[arg-type]

    asyncio.run(main())
