"""OAuth and storage from Python, with the same config document as every language: the code
flow against the sandbox's idbroker, an app's storage adapter (a Python object) keeping the
credentials and the device across clients, adapters that misbehave, and no token in the logs."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

import pytest

import webex_native
from webex_native import AsyncWebex, Sandbox, StorageAdapter, Webex

from conftest import ALICE

REDIRECT = "https://app.example.test/callback"
DEVICES = "/wdm/api/v1/devices"
TOKEN_PATH = "/idb/oauth2/v1/access_token"
NET = 30.0


class DictStore:
    """An app's store: a dict, and a record of every call the engine made."""

    def __init__(self) -> None:
        self.values: Dict[str, str] = {}
        self.calls: List[Tuple[str, str]] = []
        self._lock = threading.Lock()  # put/delete run on engine threads

    def get(self, key: str) -> Optional[str]:
        with self._lock:
            self.calls.append(("get", key))
            return self.values.get(key)

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self.calls.append(("put", key))
            self.values[key] = value

    def delete(self, key: str) -> None:
        with self._lock:
            self.calls.append(("delete", key))
            self.values.pop(key, None)


def oauth_config(sb: Sandbox, **extra: Any) -> Dict[str, Any]:
    oauth = sb.oauth
    doc: Dict[str, Any] = {
        "credentials": {
            "client_id": oauth.clientId,
            "client_secret": oauth.clientSecret,
            "redirect_uri": REDIRECT,
            "scope": "spark:all",
            "idbroker": {"url": oauth.idbroker},
        },
        "services": sb.config()["services"],
    }
    doc.update(extra)
    return doc


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def consent(authorize_url: str, email: str) -> Tuple[str, str]:
    """What the user's browser does: open the authorize URL, consent, land on the redirect
    (not followed: the app reads ``code`` and ``state`` from it)."""
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(f"{authorize_url}&login_hint={urllib.parse.quote(email)}", timeout=NET)
    assert redirect.value.code == 302
    location = redirect.value.headers["Location"]
    assert location.startswith(REDIRECT), location
    query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    return query["code"][0], query["state"][0]


def log_in(webex: Webex, email: str = ALICE) -> None:
    url = webex.authorization.url(state="xyz")
    assert isinstance(url, str) and url.startswith("http")
    code, state = consent(url, email)
    assert state == "xyz"
    granted = webex.authorization.exchangeCode(code=code)
    assert granted.hasRefreshToken


def logged(caplog: pytest.LogCaptureFixture, text: str) -> List[str]:
    """The ``webex_native`` messages, once one containing ``text`` arrived (the engine hands
    its records over in batches from its log thread: wait for it, never poll)."""
    arrived = threading.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if text in record.getMessage():
                arrived.set()

    watch = Watch()
    logger = logging.getLogger("webex_native")
    logger.addHandler(watch)
    try:
        already = any(text in r.getMessage() for r in caplog.records if r.name == "webex_native")
        if not already and not arrived.wait(NET):
            raise AssertionError(f"no log record with {text!r}")
    finally:
        logger.removeHandler(watch)
    return [r.getMessage() for r in caplog.records if r.name == "webex_native"]


def posts_to_devices(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests() if r.method == "POST" and r.path.startswith(DEVICES))


def test_the_oauth_code_flow(sandbox: Sandbox) -> None:
    with Webex(oauth_config(sandbox)) as webex:
        log_in(webex)
        me = webex.people.me()
        assert me.emails[0] == ALICE and me.displayName == "Alice"
        assert webex.credentials.status().renewal == "refreshToken"


def test_a_python_storage_adapter_keeps_credentials_and_device(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="webex_native")  # before the clients: they log at debug
    store = DictStore()
    typed: StorageAdapter = store  # the Protocol of the public API
    storage = {"boundedAdapter": typed, "unboundedAdapter": typed}

    with Webex(oauth_config(sandbox, storage=storage)) as first:
        assert set(store.calls) == {("get", "credentials"), ("get", "device")}
        log_in(first)
        assert first.people.me().emails[0] == ALICE
        first.mercury.connect()
    stored = json.loads(store.values["credentials"])
    access_token, refresh_token = stored["access_token"], stored["refresh_token"]
    assert access_token and refresh_token
    assert json.loads(store.values["device"])["url"]
    assert posts_to_devices(sandbox) == 1
    assert storage["boundedAdapter"] is store, "the app's config dict is left as it was"

    # The keyword form, no tokens in the config: everything comes from the adapter.
    with Webex(oauth_config(sandbox), storage=storage) as second:
        assert second.people.me().emails[0] == ALICE
        second.mercury.connect()
    assert posts_to_devices(sandbox) == 1, "the stored device was reused, not registered again"
    assert sum(1 for r in sandbox.requests() if r.path == TOKEN_PATH) == 1, "the stored tokens were reused"

    # The asyncio client takes the same adapter; the engine writes to it (on its threads,
    # taking the GIL) while the loop awaits.
    puts = store.calls.count(("put", "device"))

    async def main() -> str:
        async with AsyncWebex(oauth_config(sandbox, storage=storage)) as client:
            me = await client.people.me()
            await client.mercury.connect()
            return str(me.emails[0])

    assert asyncio.run(main()) == ALICE
    assert store.calls.count(("put", "device")) > puts
    assert posts_to_devices(sandbox) == 1

    # A corrupt value is logged and ignored; that warning, last, also shows every earlier
    # record was delivered.
    broken = DictStore()
    broken.values["device"] = "{not json"
    with Webex(sandbox.config(), storage={"unboundedAdapter": broken}) as webex:
        webex.people.me()
        messages = logged(caplog, "corrupt \"device\"")
    secrets = [access_token, refresh_token, sandbox.oauth.clientSecret]
    leaked = [m for m in messages if any(s in m for s in secrets)]
    assert not leaked, leaked


def test_one_adapter_for_both_settings_is_registered_once_and_released(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    native = webex_native._native
    registered: List[int] = []
    released: List[int] = []

    def register(adapter: Any) -> int:
        handle: int = native_register(adapter)
        registered.append(handle)
        return handle

    def release(handle: int) -> None:
        released.append(handle)
        native_release(handle)

    native_register, native_release = native.register_storage, native.release_storage
    monkeypatch.setattr(native, "register_storage", register)
    monkeypatch.setattr(native, "release_storage", release)
    store = DictStore()
    with Webex(sandbox.config(), storage={"boundedAdapter": store, "unboundedAdapter": store}) as webex:
        assert len(registered) == 1 and released == registered, "released once the client exists"
        webex.people.me()
    # Each setting reads every key once at start; the config's token is then written through.
    assert store.calls.count(("get", "credentials")) == 2
    assert ("put", "credentials") in store.calls
    assert json.loads(store.values["credentials"])["access_token"] == sandbox.token()
    with pytest.raises(webex_native.WebexError):
        native_release(registered[0])  # already released


def test_an_adapter_without_put_is_a_type_error_naming_it(sandbox: Sandbox) -> None:
    class NoPut:
        def get(self, key: str) -> Optional[str]:
            return None

        def delete(self, key: str) -> None:
            pass

    with pytest.raises(TypeError, match=r"NoPut has no put\(key, value\)") as raised:
        Webex(sandbox.config(), storage={"boundedAdapter": NoPut()})
    assert isinstance(raised.value, webex_native.InvalidArgumentError)

    class NotCallable(DictStore):
        delete = "nope"  # type: ignore[assignment]

    with pytest.raises(TypeError, match=r"no delete\(key\)"):
        Webex(sandbox.config(), storage={"unboundedAdapter": NotCallable()})
    # Settings the engine reads itself still go through untouched.
    with Webex(sandbox.config(), storage={"boundedAdapter": "memory", "unboundedAdapter": "memory"}) as webex:
        webex.people.me()


def test_corrupt_values_are_ignored_and_failing_adapters_do_not_break_calls(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="webex_native")
    class Corrupt(DictStore):
        def get(self, key: str) -> Optional[str]:
            super().get(key)
            return "{corrupt" if key == "credentials" else '"not a device"'

    corrupt = Corrupt()
    with Webex(sandbox.config(), storage={"boundedAdapter": corrupt, "unboundedAdapter": corrupt}) as webex:
        assert webex.people.me().emails[0] == sandbox.bot_email
        webex.mercury.connect()
    assert json.loads(corrupt.values["credentials"])["access_token"] == sandbox.token()

    class Failing(DictStore):
        def get(self, key: str) -> Optional[str]:
            raise RuntimeError("the keyring is locked")

        def put(self, key: str, value: str) -> None:
            super().put(key, value)
            raise OSError(f"disk full while writing {value}")

        def delete(self, key: str) -> None:
            super().delete(key)
            raise KeyError(key)

    failing = Failing()
    with Webex(oauth_config(sandbox, storage={"boundedAdapter": failing, "unboundedAdapter": failing})) as webex:
        log_in(webex)  # the tokens cannot be stored: the exchange still succeeds
        assert webex.people.me().emails[0] == ALICE
        webex.mercury.connect()  # nor can the device: the socket still comes up
    assert {key for (method, key) in failing.calls if method == "put"} == {"credentials", "device"}
    # The engine logged each failure with the exception's type and message, not the value.
    messages = logged(caplog, 'put("device") raised OSError: disk full while writing <value>')
    assert any('get("credentials") raised RuntimeError: the keyring is locked' in m for m in messages), messages
    assert not [m for m in messages if any(v in m for v in failing.values.values())]

    class WrongType(DictStore):
        def get(self, key: str) -> Optional[str]:
            return 42  # type: ignore[return-value]

    with Webex(sandbox.config(), storage={"boundedAdapter": WrongType()}) as webex:
        webex.people.me()
