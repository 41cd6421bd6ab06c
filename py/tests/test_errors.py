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
