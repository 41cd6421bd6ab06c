"""The sandbox over HTTPS (``Sandbox(tls=True)``), as the real cloud is only reachable: its
config carries the CA to trust, so REST and live events work; without that CA the client
refuses the server with an error that names the fix."""

from __future__ import annotations

import pytest

import webex_native
from webex_native import Webex, error_class

from conftest import ALICE, FAST_HTTP


def test_rest_and_events_over_https_with_the_sandbox_ca() -> None:
    with webex_native.Sandbox(tls=True) as sb:
        assert sb.base_url.startswith("https://")
        assert sb.ca_certificate and sb.ca_certificate.startswith("-----BEGIN CERTIFICATE-----")
        # Overrides merge into the sandbox's own `http` section instead of replacing it.
        config = sb.config(http=FAST_HTTP)
        assert config["http"]["caCertificates"] == sb.ca_certificate
        with Webex(config) as bot, Webex(sb.config(ALICE)) as alice:
            room = bot.rooms.create(title="over TLS")
            bot.memberships.create(roomId=room.id, personEmail=ALICE)
            alice.messages.listen()
            sent = bot.messages.create(roomId=room.id, text="encrypted")
            created = alice.wait_for("messages:created", timeout=30)
            assert created.data.data.id == sent.id
        create = [r for r in sb.requests() if r.method == "POST" and r.path == "/v1/rooms"]
        assert [r.version for r in create] == ["HTTP/2.0"]


def test_client_keywords_merge_into_the_config_document() -> None:
    with webex_native.Sandbox(tls=True) as sb:
        config = sb.config()
        # `http=` next to the document keeps its `http.caCertificates` (it replaced the whole
        # section, and the server was refused), and the app's dict is left as it was.
        with Webex(config, http={"timeoutMs": 5000}) as bot:
            assert bot.people.me().displayName
            assert bot.config.get()["http"]["timeoutMs"] == 5000
        assert "timeoutMs" not in config["http"]
        # Except credentials: another user's token replaces the document's, refresh token and all.
        with_refresh = {**config, "credentials": {**config["credentials"], "refresh_token": "r" * 40}}
        with Webex(with_refresh, credentials={"access_token": sb.token(ALICE)}) as alice:
            assert alice.people.me().emails[0] == ALICE
            assert alice.config.get()["credentials"]["refresh_token"] is None


def test_without_the_ca_the_server_is_refused_by_name() -> None:
    with webex_native.Sandbox(tls=True) as sb:
        config = sb.config()
        del config["http"]
        with Webex(config) as stranger:
            with pytest.raises(error_class("NETWORK")) as refused:
                stranger.people.me()
        assert "certificate is not trusted" in str(refused.value)
        assert "http.caCertificates" in str(refused.value)
        assert sb.token() not in str(refused.value)
        assert sb.requests() == []


def test_plain_sandbox_has_no_ca() -> None:
    with webex_native.Sandbox() as sb:
        assert sb.base_url.startswith("http://")
        assert sb.ca_certificate is None
        assert "http" not in sb.config()
