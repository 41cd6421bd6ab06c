"""Cisco's official Python SDK (webexpythonsdk 2.0.6) against the webex-sandbox binary.

Run by tests/official/run.sh, which starts the sandbox and passes its start-up JSON line in the
WEBEX_SANDBOX_INFO environment variable. Plain asserts, no pytest: every check runs, and the
last line is "N passed, M failed" (exit status 1 if M > 0).
"""

import base64
import json
import os
import sys
import traceback
import uuid

from webexpythonsdk import ApiError, WebexAPI

INFO = json.loads(os.environ["WEBEX_SANDBOX_INFO"])
USERS = {u["email"]: u for u in INFO["users"]}
BOT = USERS["sandbox-bot@webex.bot"]
ALICE = USERS["alice@example.com"]

# The SDK joins base_url and the resource path, so the base needs its trailing slash.
api = WebexAPI(access_token=BOT["token"], base_url=INFO["hydra"].rstrip("/") + "/")
alice_api = WebexAPI(access_token=ALICE["token"], base_url=INFO["hydra"].rstrip("/") + "/")

# Shared between the steps below (each step builds on the previous one).
ctx = {}
results = []


def check(name):
    def run(fn):
        try:
            fn()
        except Exception:  # noqa: BLE001 - report every failure, keep going
            results.append((name, False))
            print(f"FAIL {name}")
            traceback.print_exc(file=sys.stdout)
        else:
            results.append((name, True))
            print(f"ok   {name}")
        return fn

    return run


@check("people.me returns the bot")
def _():
    me = api.people.me()
    assert me.id == BOT["personId"], (me.id, BOT["personId"])
    assert BOT["email"] in me.emails, me.emails
    assert me.displayName == BOT["displayName"], me.displayName
    assert me.type == "bot", me.type
    assert me.orgId, "people/me has no orgId"


@check("rooms.create")
def _():
    title = f"official python sdk {uuid.uuid4().hex[:8]}"
    room = api.rooms.create(title)
    assert room.title == title, room.title
    assert room.id and room.type == "group", (room.id, room.type)
    assert room.creatorId == BOT["personId"], room.creatorId
    ctx["room"] = room


@check("memberships.create (alice by email)")
def _():
    room = ctx["room"]
    m = api.memberships.create(room.id, personEmail=ALICE["email"])
    assert m.roomId == room.id, (m.roomId, room.id)
    assert m.personId == ALICE["personId"], (m.personId, ALICE["personId"])
    assert m.personEmail == ALICE["email"], m.personEmail
    assert m.isModerator is False, m.isModerator
    members = {x.personEmail for x in api.memberships.list(roomId=room.id)}
    assert {BOT["email"], ALICE["email"]} <= members, members


@check("messages.create (markdown)")
def _():
    room = ctx["room"]
    msg = api.messages.create(roomId=room.id, markdown="**hello** from the _python_ SDK")
    assert msg.roomId == room.id, (msg.roomId, room.id)
    assert msg.personId == BOT["personId"], msg.personId
    assert msg.personEmail == BOT["email"], msg.personEmail
    assert msg.markdown == "**hello** from the _python_ SDK", msg.markdown
    assert msg.text == "hello from the python SDK", msg.text
    assert msg.html, "a markdown message has html"
    assert msg.created is not None
    ctx["message"] = msg


@check("messages.list finds the message")
def _():
    room, msg = ctx["room"], ctx["message"]
    found = [m for m in api.messages.list(roomId=room.id) if m.id == msg.id]
    assert len(found) == 1, found
    assert found[0].text == msg.text, found[0].text
    assert api.messages.get(msg.id).id == msg.id


@check("alice (a member) sees the room and the message")
def _():
    room, msg = ctx["room"], ctx["message"]
    assert alice_api.people.me().id == ALICE["personId"]
    assert room.id in {r.id for r in alice_api.rooms.list()}
    assert msg.id in {m.id for m in alice_api.messages.list(roomId=room.id)}


@check("bad room id -> ApiError 404 with a tracking id")
def _():
    # A well-formed hydra room id that names no room, then a malformed one.
    missing = base64.urlsafe_b64encode(f"ciscospark://us/ROOM/{uuid.uuid4()}".encode()).decode().rstrip("=")
    for bad in (missing, "not-a-room-id"):
        try:
            api.rooms.get(bad)
        except ApiError as e:
            assert e.status_code == 404, (bad, e.status_code, e.message)
            assert e.tracking_id, f"no tracking id on {e!r}"
            assert e.message, "no message in the error body"
        else:
            raise AssertionError(f"rooms.get({bad!r}) did not raise")


passed = sum(ok for _, ok in results)
failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
