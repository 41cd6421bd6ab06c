"""The embedded sandbox: a local Webex-compatible cloud on loopback, started in this process on
the engine's runtime, for tests, examples and offline development."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from . import _native
from ._model import Model, merged, wrap

__all__ = ["Sandbox"]


class Sandbox:
    """``with Sandbox() as sb: Webex(sb.config())``. Seeded with a bot
    (``sandbox-bot@webex.bot``), ``alice@example.com`` and ``bob@example.com``, each with a
    token."""

    def __init__(self, port: int = 0, *, tls: bool = False) -> None:
        """Starts serving on ``port`` (0: a free one). ``tls=True`` serves ``https://`` and
        ``wss://`` with a certificate from a CA made for this sandbox, offering HTTP/2 as
        the cloud does; `config` then tells the client to trust that CA."""
        self._native = _native.NativeSandbox(port, tls)
        info = json.loads(self._native.info_json())
        #: ``http://127.0.0.1:PORT`` (``https://`` with ``tls=True``).
        self.base_url: str = info["base"]
        #: With ``tls=True``, the PEM certificate of the sandbox's CA (the config's
        #: ``http.caCertificates``); None over plain HTTP.
        self.ca_certificate: Optional[str] = info.get("caCertificate")
        #: The REST base, ``<base>/v1`` (the config's ``services.discovery.hydra``).
        self.hydra_url: str = info["hydra"]
        #: The service catalog base (the config's ``services.discovery.u2c``).
        self.u2c_url: str = info["u2c"]
        #: The sandbox org's id.
        self.org_id: str = info.get("orgId", "")
        #: The seeded bot's email.
        self.bot_email: str = self._native.bot_email()

    @property
    def users(self) -> List[Model]:
        """Every user: ``email``, ``token``, ``personId``, ``displayName``, ``type``."""
        users: List[Model] = wrap(json.loads(self._native.info_json()).get("users", []))
        return users

    @property
    def oauth(self) -> Model:
        """The sandbox's OAuth integration: ``clientId``, ``clientSecret`` and ``idbroker``
        (the config's ``credentials.idbroker.url``). Its authorize endpoint consents at once
        for the user named by ``login_hint``."""
        oauth: Model = wrap(json.loads(self._native.info_json()).get("oauth", {}))
        return oauth

    def token(self, email: Optional[str] = None) -> str:
        """The access token of a user (the bot by default)."""
        config = self.config(email)
        token: str = config["credentials"]["access_token"]
        return token

    def config(self, email: Optional[str] = None, **overrides: Any) -> Dict[str, Any]:
        """A client config acting as this user (the bot by default), ready for `Webex` and
        `AsyncWebex`; keywords are merged in (an object into the object already there, so
        ``http={"timeoutMs": 5000}`` keeps the sandbox's ``http.caCertificates``)."""
        doc: Dict[str, Any] = json.loads(self._native.config_json(email or self.bot_email))
        return merged(doc, overrides)

    def add_user(self, email: str, display_name: str = "") -> Model:
        """Adds a user with a token (or returns the existing one)."""
        return Model(json.loads(self._native.add_user(email, display_name or email.split("@")[0])))

    def inject_fault(
        self,
        path: str,
        *,
        method: Optional[str] = None,
        status: Optional[int] = None,
        retry_after: Optional[str] = None,
        body: Optional[str] = None,
        delay_ms: Optional[int] = None,
        count: Optional[int] = None,
    ) -> int:
        """Makes the next ``count`` (default 1; 0 = until cleared) requests under ``path``
        (e.g. ``/v1/people/me``) fail with ``status`` and/or answer after ``delay_ms``.
        Returns the fault's id."""
        fault = {"path": path, "method": method, "status": status, "retryAfter": retry_after,
                 "body": body, "delayMs": delay_ms, "count": count}
        fault_id: int = self._native.inject_fault(json.dumps({k: v for k, v in fault.items() if v is not None}))
        return fault_id

    def clear_faults(self) -> None:
        """Disarms every fault."""
        self._native.clear_faults()

    def requests(self) -> List[Model]:
        """The requests the sandbox saw, oldest first: ``method``, ``path``, ``version``
        (``HTTP/1.1``, or ``HTTP/2.0`` over TLS when the client chose it), ``status``."""
        requests: List[Model] = wrap(json.loads(self._native.requests_json()))
        return requests

    def meeting_control(self, meeting_number: str, action: str, **params: Any) -> Any:
        """One control of the running meeting with this number; the keywords are the action's
        params (JSON values, camelCase as in the table). The answer is JSON wrapped as models:

        - ``media``: a list, one per participant with media, in join order: ``email``,
          ``audioPackets``, ``videoPackets``, ``keyframeRequests`` (RTP packets and keyframe
          requests the sandbox's media server received from them so far), ``msSinceAudio``,
          ``msSinceVideo`` (None before the first packet);
        - ``cut`` (``email=``): their media session is dropped, Locus unchanged, as a media
          server that lost the client would;
        - ``kick`` (``email=``): Locus removes them;
        - ``end``: the meeting ends for everybody;
        - ``addBot`` (``toneHz=440``, ``video="VP8" | "H264" | None``, VP8 when not given):
          the built-in participant (``media-bot@sandbox.example``) joins, saying a tone and
          showing a 320x240 test pattern at 15 fps; answers ``{email}``;
        - ``removeBot``.

        Actions without an answer return an empty `Model`; ``media`` of a meeting nobody is in
        is an empty list. The sandbox's refusal (an unknown action, a bad or missing param, a
        meeting that is not running for an action on it, a person who is not in it) raises
        `ValueError` with its message. Callable from any thread."""
        if not isinstance(meeting_number, str):
            raise TypeError(f"meeting_number must be a str (the meeting's number), not {type(meeting_number).__name__}")
        try:
            params_json = json.dumps(params)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{action}: params cannot be sent as JSON: {e}") from None
        return wrap(json.loads(self._native.meeting_control_json(meeting_number, action, params_json)))

    @property
    def stopped(self) -> bool:
        return bool(self._native.stopped)

    def stop(self) -> None:
        """Stops the server. Stopping twice is fine."""
        self._native.stop()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<webex_native.Sandbox {self.base_url}{' stopped' if self.stopped else ''}>"
