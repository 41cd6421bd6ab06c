"""Every operation family through both clients, against the sandbox, plus pagination."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List, Set

import pytest

import webex_native
from webex_native import AsyncWebex, Model, Sandbox, Webex

from conftest import ALICE, BOB, FAST_HTTP

CARD = {
    "contentType": "application/vnd.microsoft.card.adaptive",
    "content": {"type": "AdaptiveCard", "version": "1.2", "body": [{"type": "TextBlock", "text": "Pick"}],
                "actions": [{"type": "Action.Submit", "title": "OK"}]},
}


class Ops:
    """Calls `ns.verb` on a client and records which operations ran. For the async client
    each call is awaited in the test's loop; list operations are collected."""

    def __init__(self, client: Any, run: Callable[[Any], Any]) -> None:
        self.client = client
        self.run = run
        self.called: Set[str] = set()

    def __call__(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        self.called.add(name)
        ns, verb = name.split(".")
        result = getattr(getattr(self.client, ns), verb)(*args, **kwargs)
        return self.run(result)

    def fails(self, name: str, /, *args: Any, **kwargs: Any) -> webex_native.WebexError:
        with pytest.raises(webex_native.WebexError) as info:
            self(name, *args, **kwargs)
        return info.value


def exercise(ops: Ops, sb: Sandbox) -> None:
    me = ops("people.me")
    assert me.emails == [sb.bot_email]
    alice = ops("people.list", email=ALICE)[0]
    assert ops("people.get", alice.id).displayName == alice.displayName

    room = ops("rooms.create", title="My First Room")
    assert isinstance(room, Model) and room.type == "group" and room["title"] == "My First Room"
    assert dict(room)["id"] == room.id and room.to_dict()["title"] == "My First Room"
    assert ops("rooms.get", room.id).title == "My First Room"
    assert ops("rooms.update", room.id, title="Renamed").title == "Renamed"
    assert any(r.id == room.id for r in ops("rooms.list"))
    assert isinstance(ops("rooms.meetingInfo", roomId=room.id).meetingLink, str)

    m_alice = ops("memberships.create", roomId=room.id, personEmail=ALICE)
    m_bob = ops("memberships.create", roomId=room.id, personEmail=BOB)
    assert m_alice.personEmail == ALICE
    assert isinstance(ops.fails("memberships.create", roomId=room.id, personEmail=ALICE), webex_native.ConflictError)
    assert len(ops("memberships.list", roomId=room.id)) == 3
    assert ops("memberships.get", m_bob.id).personEmail == BOB
    assert ops("memberships.update", m_bob.id, isModerator=True).isModerator is True
    assert ops("memberships.delete", m_bob.id) is None

    msg = ops("messages.create", roomId=room.id, markdown="**Hi Everyone**")
    assert msg.markdown == "**Hi Everyone**"
    ops("messages.create", toPersonEmail=ALICE, text="hello alice")
    assert ops("messages.listDirect", personEmail=ALICE)[0].text == "hello alice"
    assert ops("messages.list", roomId=room.id)[0].id == msg.id
    assert ops("messages.get", msg.id).roomId == room.id
    assert ops("messages.update", msg.id, roomId=room.id, text="edited").text == "edited"
    card_msg = ops("messages.create", roomId=room.id, text="card", attachments=[CARD])
    action = ops("attachmentActions.create", type="submit", messageId=card_msg.id, inputs={"choice": "a"})
    assert ops("attachmentActions.get", action.id).inputs.choice == "a"
    assert ops("messages.delete", msg.id) is None
    assert isinstance(ops.fails("messages.get", msg.id), webex_native.NotFoundError)

    team = ops("teams.create", name="Team A", description="d")
    assert ops("teams.get", team.id).name == "Team A"
    assert ops("teams.update", team.id, name="Team B").name == "Team B"
    assert any(t.id == team.id for t in ops("teams.list"))
    tm = ops("teamMemberships.create", teamId=team.id, personEmail=ALICE)
    assert len(ops("teamMemberships.list", teamId=team.id)) == 2
    assert ops("teamMemberships.get", tm.id).teamId == team.id
    assert ops("teamMemberships.update", tm.id, isModerator=True).isModerator is True
    ops("teamMemberships.delete", tm.id)
    ops("teams.delete", team.id)

    hook = ops("webhooks.create", name="w", targetUrl="https://example.test/hook", resource="messages", event="created")
    assert ops("webhooks.get", hook.id).resource == "messages"
    assert ops("webhooks.update", hook.id, name="w2", targetUrl="https://example.test/hook2").name == "w2"
    assert len(ops("webhooks.list")) == 1
    ops("webhooks.delete", hook.id)

    meeting = ops("scheduledMeetings.create", title="Sync", start="2030-01-01T10:00:00Z", end="2030-01-01T11:00:00Z")
    assert ops("scheduledMeetings.get", meeting.id).title == "Sync"
    # `from` is a Python keyword: `from_` on the Python side.
    listed = ops("scheduledMeetings.list", from_="2029-12-31T00:00:00Z", to="2030-01-02T00:00:00Z")
    assert any(m.id == meeting.id for m in listed)
    updated = ops("scheduledMeetings.update", meeting.id, title="Sync 2", start="2030-01-01T10:00:00Z",
                  end="2030-01-01T12:00:00Z")
    assert updated.title == "Sync 2"
    assert ops("scheduledMeetings.patch", meeting.id, agenda="notes").agenda == "notes"
    # Joining it through Locus (signalling first; a codec the engine does not have is refused).
    m = ops("meetings.create", destination=meeting.meetingNumber)
    assert m.state == "IDLE" and m.destinationType == "MEETING_NUMBER"
    bad_codec = ops.fails("meetings.join", m.id, video={"send": True, "codec": "AV1"})
    assert isinstance(bad_codec, webex_native.InvalidArgumentError) and "AV1" in str(bad_codec)
    assert ops("meetings.join", m.id).state == "JOINED"
    assert ops("meetings.get", m.id)["members"][0].isSelf is True
    assert len(ops("meetings.members", m.id)) == 1
    assert ops("meetings.list")["items"][0].id == m.id
    assert ops("meetings.muteAudio", m.id).audioMuted is True
    assert ops("meetings.unmuteAudio", m.id).audioMuted is False
    assert ops("meetings.muteVideo", m.id).videoMuted is True
    assert ops("meetings.unmuteVideo", m.id).videoMuted is False
    assert ops("meetings.leave", m.id).state == "LEFT"
    joined = ops("meetings.join", m.id, audio={"send": True, "receive": True})
    assert (joined.state, joined.mediaState) == ("JOINED", "CONNECTED")
    assert any(s.kind == "audio" and s.direction == "send" for s in ops("meetings.getStats", m.id))
    assert ops("meetings.reconnect", m.id).mediaState == "CONNECTED"
    assert ops("meetings.requestKeyframe", m.id) == {}
    assert isinstance(ops.fails("meetings.requestKeyframe", m.id, participantId="nobody"), webex_native.NotFoundError)
    assert ops("meetings.end", m.id).state == "ENDED"
    ops("scheduledMeetings.delete", meeting.id)

    # Live events, device and socket.
    assert ops("catalog.load").hydra == sb.hydra_url
    assert ops("device.register").webSocketUrl
    assert ops("device.refresh").url
    ops("mercury.connect")
    for resource in ("messages", "memberships", "rooms", "attachmentActions"):
        assert ops(f"{resource}.listen") is None
        assert ops(f"{resource}.stopListening") is None
    ops("mercury.disconnect")
    ops("device.unregister")

    # Credentials and authorization: this config has a plain token and no OAuth client.
    assert ops("credentials.status").renewal == "none"
    assert isinstance(ops.fails("credentials.refresh"), webex_native.UnauthorizedError)
    ops("credentials.set", access_token=sb.token())
    assert isinstance(ops.fails("authorization.url"), webex_native.InvalidArgumentError)
    assert isinstance(ops.fails("authorization.exchangeCode", code="x"), webex_native.InvalidArgumentError)
    assert isinstance(ops.fails("authorization.requestAccessTokenFromJwt", jwt="x"), webex_native.WebexError)

    # Engine level.
    assert ops("config.get").credentials.access_token == "<redacted>"
    assert ops("http.request", method="GET", resource="people/me").id == me.id
    assert isinstance(ops("logs.history"), list)
    first = ops("pages.next", cursor=sb.hydra_url + "/rooms?max=1")
    assert len(first["items"]) == 1
    ops("rooms.delete", room.id)


def check_coverage(ops: Ops) -> None:
    missing = sorted(op.name for op in webex_native.OPERATIONS if op.name not in ops.called)
    assert not missing, f"operations never called from Python: {missing}"


def test_every_operation_with_the_blocking_client(sandbox: Sandbox, config: Dict[str, Any]) -> None:
    with Webex(config) as webex:
        ops = Ops(webex, lambda r: list(r) if isinstance(r, webex_native.PageIterator) else r)
        exercise(ops, sandbox)
        check_coverage(ops)


def test_every_operation_with_the_asyncio_client(sandbox: Sandbox, config: Dict[str, Any]) -> None:
    async def main() -> None:
        async with AsyncWebex(config) as webex:
            await exercise_async(webex, sandbox)

    asyncio.run(main())


async def exercise_async(webex: AsyncWebex, sb: Sandbox) -> None:
    """The same walk as `exercise`, written with await (every family, both call shapes)."""
    called: Set[str] = set()

    async def op(name: str, /, *args: Any, **kwargs: Any) -> Any:
        called.add(name)
        ns, verb = name.split(".")
        result = getattr(getattr(webex, ns), verb)(*args, **kwargs)
        if isinstance(result, webex_native.AsyncPageIterator):
            return await result.collect()
        return await result

    async def fails(name: str, /, *args: Any, **kwargs: Any) -> webex_native.WebexError:
        with pytest.raises(webex_native.WebexError) as info:
            await op(name, *args, **kwargs)
        return info.value

    me = await op("people.me")
    alice = (await op("people.list", email=ALICE))[0]
    assert (await op("people.get", alice.id)).displayName == alice.displayName
    room = await op("rooms.create", title="Async Room")
    assert (await op("rooms.get", roomId=room.id)).title == "Async Room"
    assert (await op("rooms.update", room.id, title="R2")).title == "R2"
    assert any(r.id == room.id for r in await op("rooms.list"))
    assert (await op("rooms.meetingInfo", room.id)).meetingLink
    ma, mb = await asyncio.gather(
        op("memberships.create", roomId=room.id, personEmail=ALICE),
        op("memberships.create", roomId=room.id, personEmail=BOB),
    )
    assert {ma.personEmail, mb.personEmail} == {ALICE, BOB}
    assert isinstance(await fails("memberships.create", roomId=room.id, personEmail=ALICE), webex_native.ConflictError)
    assert len(await op("memberships.list", roomId=room.id)) == 3
    assert (await op("memberships.get", mb.id)).personEmail == mb.personEmail
    assert (await op("memberships.update", mb.id, isModerator=True)).isModerator is True
    await op("memberships.delete", mb.id)
    msg = await op("messages.create", roomId=room.id, markdown="**Hi Everyone**")
    await op("messages.create", toPersonEmail=ALICE, text="hi")
    assert (await op("messages.listDirect", personEmail=ALICE))[0].text == "hi"
    assert (await op("messages.list", roomId=room.id))[0].id == msg.id
    assert (await op("messages.get", msg.id)).id == msg.id
    assert (await op("messages.update", msg.id, roomId=room.id, text="e")).text == "e"
    card = await op("messages.create", roomId=room.id, text="card", attachments=[CARD])
    action = await op("attachmentActions.create", type="submit", messageId=card.id, inputs={"x": 1})
    assert (await op("attachmentActions.get", action.id)).inputs.x == 1
    await op("messages.delete", msg.id)
    assert isinstance(await fails("messages.get", msg.id), webex_native.NotFoundError)
    team = await op("teams.create", name="T")
    assert (await op("teams.get", team.id)).name == "T"
    await op("teams.update", team.id, name="T2")
    assert await op("teams.list")
    tm = await op("teamMemberships.create", teamId=team.id, personEmail=ALICE)
    assert len(await op("teamMemberships.list", teamId=team.id)) == 2
    await op("teamMemberships.get", tm.id)
    await op("teamMemberships.update", tm.id, isModerator=True)
    await op("teamMemberships.delete", tm.id)
    await op("teams.delete", team.id)
    hook = await op("webhooks.create", name="w", targetUrl="https://example.test/h", resource="rooms", event="created")
    await op("webhooks.get", hook.id)
    await op("webhooks.update", hook.id, name="w2", targetUrl="https://example.test/h2")
    assert len(await op("webhooks.list")) == 1
    await op("webhooks.delete", hook.id)
    meeting = await op("scheduledMeetings.create", title="S", start="2030-01-01T10:00:00Z", end="2030-01-01T11:00:00Z")
    await op("scheduledMeetings.get", meeting.id)
    assert await op("scheduledMeetings.list", from_="2029-12-31T00:00:00Z", to="2030-01-02T00:00:00Z")
    await op("scheduledMeetings.update", meeting.id, title="S2", start="2030-01-01T10:00:00Z", end="2030-01-01T12:00:00Z")
    await op("scheduledMeetings.patch", meeting.id, agenda="a")
    m = await op("meetings.create", destination=meeting.meetingNumber)
    bad_codec = await fails("meetings.join", m.id, video={"send": True, "codec": "AV1"})
    assert isinstance(bad_codec, webex_native.InvalidArgumentError) and "AV1" in str(bad_codec)
    for verb, state in [("join", "JOINED"), ("get", "JOINED"), ("muteAudio", "JOINED"), ("unmuteAudio", "JOINED"),
                        ("muteVideo", "JOINED"), ("unmuteVideo", "JOINED"), ("leave", "LEFT")]:
        assert (await op(f"meetings.{verb}", m.id)).state == state
    joined = await op("meetings.join", m.id, audio={"send": True, "receive": True})
    assert (joined.state, joined.mediaState) == ("JOINED", "CONNECTED")
    assert (await op("meetings.reconnect", m.id)).mediaState == "CONNECTED"
    assert await op("meetings.requestKeyframe", m.id) == {}
    assert isinstance(await fails("meetings.requestKeyframe", m.id, participantId="nobody"), webex_native.NotFoundError)
    assert (await op("meetings.end", m.id)).state == "ENDED"
    assert len(await op("meetings.members", m.id)) == 1
    assert await op("meetings.getStats", m.id) == []
    assert (await op("meetings.list"))["items"][0].id == m.id
    await op("scheduledMeetings.delete", meeting.id)
    await op("catalog.load")
    await op("device.register")
    await op("device.refresh")
    await op("mercury.connect")
    for resource in ("messages", "memberships", "rooms", "attachmentActions"):
        await op(f"{resource}.listen")
        await op(f"{resource}.stopListening")
    await op("mercury.disconnect")
    await op("device.unregister")
    await op("credentials.status")
    await fails("credentials.refresh")
    await op("credentials.set", access_token=sb.token())
    await fails("authorization.url")
    await fails("authorization.exchangeCode", code="x")
    await fails("authorization.requestAccessTokenFromJwt", jwt="x")
    assert (await op("config.get")).credentials.access_token == "<redacted>"
    assert (await op("http.request", method="GET", resource="people/me")).id == me.id
    await op("logs.history")
    await op("pages.next", cursor=sb.hydra_url + "/rooms?max=1")
    await op("rooms.delete", room.id)
    missing = sorted(o.name for o in webex_native.OPERATIONS if o.name not in called)
    assert not missing, f"operations never called from AsyncWebex: {missing}"


def _seed_messages(sb: Sandbox, count: int) -> str:
    with Webex(sb.config(http=FAST_HTTP)) as webex:
        room = webex.rooms.create(title="Pages")
        for i in range(count):
            webex.messages.create(roomId=room.id, text=f"m{i}")
        return str(room.id)


def test_snake_case_keywords_name_their_members(client: Webex) -> None:
    # As model attributes read: `room.is_locked` and `rooms.get(room_id=...)` alike.
    room = client.rooms.create(title="snake")
    assert client.rooms.get(room_id=room.id).id == room.id
    assert client.rooms.get(room).id == room.id, "the resource itself where its id is expected"
    sent = client.messages.create(room_id=room.id, text="hi")
    assert sent.room_id == room.id
    with pytest.raises(webex_native.InvalidArgumentError, match="got `roomId` more than once"):
        client.messages.create(room_id=room.id, roomId=room.id, text="twice")
    with pytest.raises(webex_native.InvalidArgumentError, match="unknown field `room_idd`"):
        client.messages.create(room_idd=room.id, text="typo")


def test_pagination_across_several_pages(sandbox: Sandbox, client: Webex) -> None:
    room_id = _seed_messages(sandbox, 25)
    texts = [m.text for m in client.messages.list(roomId=room_id, max=10)]
    assert sorted(texts) == sorted(f"m{i}" for i in range(25))
    pages = list(client.messages.list(roomId=room_id, max=10).pages())
    assert [len(p) for p in pages] == [10, 10, 5]
    partly_read = client.messages.list(roomId=room_id, max=10)
    first = next(partly_read)
    rest = [m.text for page in partly_read.pages() for m in page]
    assert [first.text, *rest] == texts, "pages() goes on from where iteration stopped"
    # Lazy: nothing is requested until iteration reaches it.
    before = len(sandbox.requests())
    lazy = client.messages.list(roomId=room_id, max=10)
    assert len(sandbox.requests()) == before
    assert next(lazy).text is not None
    assert len(sandbox.requests()) == before + 1

    async def main() -> None:
        async with AsyncWebex(sandbox.config()) as webex:
            got = [m.text async for m in webex.messages.list(roomId=room_id, max=10)]
            assert sorted(got) == sorted(texts)
            sizes = [len(p) async for p in webex.messages.list(roomId=room_id, max=7).pages()]
            assert sizes == [7, 7, 7, 4]
            # Two tasks sharing one iterator split the items between them, each item once.
            shared = webex.messages.list(roomId=room_id, max=10)
            halves = await asyncio.gather(shared.collect(), shared.collect())
            assert sorted(m.text for half in halves for m in half) == sorted(texts)

    asyncio.run(main())
