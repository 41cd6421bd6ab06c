"""webex-native quick start in Python: on the embedded sandbox (or the real cloud when
WEBEX_ACCESS_TOKEN is set), create a room, add Alice and Bob at the same time, say hello and
list the messages.

    pip install ./py && python examples/python/quickstart.py
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Dict, Optional

import webex_native
from webex_native import AsyncWebex, Sandbox


def step(text: str) -> None:
    print(f"- {text}", flush=True)


async def run(config: Dict[str, Any]) -> None:
    async with AsyncWebex(config) as webex:
        await webex.wait_for("ready")
        step("client ready")
        me = await webex.people.me()
        step(f"signed in as {me.displayName} ({me.emails[0] if me.emails else '?'})")

        room = await webex.rooms.create(title="My First Room")
        step(f"created room {room.title!r}")

        alice, bob = await asyncio.gather(
            webex.memberships.create(roomId=room.id, personEmail="alice@example.com"),
            webex.memberships.create(roomId=room.id, personEmail="bob@example.com"),
        )
        step(f"added {alice.personEmail} and {bob.personEmail} (concurrently)")

        message = await webex.messages.create(roomId=room.id, markdown="**Hi Everyone**")
        step(f"sent {message.markdown!r}")

        step("messages in the room:")
        async for m in webex.messages.list(roomId=room.id):
            print(f"    {m.personEmail}: {m.text}", flush=True)


def main() -> None:
    token: Optional[str] = os.environ.get("WEBEX_ACCESS_TOKEN")
    if token:
        step("using the Webex cloud (WEBEX_ACCESS_TOKEN)")
        asyncio.run(run({"credentials": {"access_token": token}}))
        return
    with Sandbox() as sandbox:
        step(f"embedded sandbox at {sandbox.base_url} (webex_native {webex_native.__version__})")
        asyncio.run(run(sandbox.config()))
    step("done")


if __name__ == "__main__":
    main()
