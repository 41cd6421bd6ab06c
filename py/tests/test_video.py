"""Meeting video end to end against the sandbox's media server (like tests/video.rs): Bob sees
the sandbox's media bot (its VP8 test pattern) and then Alice, who sends the same pattern from
its IVF file at 15 fps; bad frames and frames after leaving get clear errors; and the asyncio
stream."""

from __future__ import annotations

import asyncio
import pathlib
from typing import List

import pytest

import webex_native
from webex_native import AsyncWebex, Sandbox, VideoFrame, Webex

from conftest import ALICE, BOB, FAST_HTTP, NET, Collector, Pacer, Watch, member_id, scheduled

ASSET = pathlib.Path(__file__).resolve().parents[2] / "sandbox" / "assets" / "test-pattern-320x240.ivf"
FPS = 15
BOT = "media-bot@sandbox.example"


def ivf_frames(path: pathlib.Path) -> List[bytes]:
    """The frames of an IVF file: a 32-byte header (its length at bytes 6..8), then per frame
    a 12-byte header (u32 LE size, u64 LE pts) and the frame."""
    data = path.read_bytes()
    assert data[:4] == b"DKIF", "not an IVF file"
    pos = int.from_bytes(data[6:8], "little")
    frames = []
    while pos + 12 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "little")
        pos += 12
        frames.append(data[pos : pos + size])
        pos += size
    return frames


def is_keyframe(frame: bytes) -> bool:
    """VP8: the key frame bit (bit 0 of the first byte) is clear."""
    return frame[0] & 1 == 0


PATTERN = ivf_frames(ASSET)


def test_the_asset_is_the_test_pattern() -> None:
    assert len(PATTERN) == 30
    assert [i for i, f in enumerate(PATTERN) if is_keyframe(f)] == [0, 15]


def camera(webex: Webex, meeting_id: str) -> Pacer:
    """Alice's camera: the pattern's frames in a loop at 15 fps."""

    def send(i: int) -> None:
        frame = PATTERN[i % len(PATTERN)]
        webex.meetings.send_video(meeting_id, frame, keyframe=is_keyframe(frame), duration_us=1_000_000 // FPS)

    return Pacer(send, 1.0 / FPS)


def frames_of(seen: Collector[VideoFrame], participant_id: str, n: int) -> List[VideoFrame]:
    """The first `n` frames of one sender (waiting for them, bounded)."""
    seen.wait(lambda frames: sum(f.participant_id == participant_id for f in frames) >= n, f"frames of {participant_id}")
    return seen.of(participant_id)[:n]


def check_pattern(frames: List[VideoFrame], meeting_id: str) -> None:
    """A sender's frames as Bob got them: a 320x240 VP8 keyframe first, then whole frames of
    the pattern with the right keyframe flags."""
    first = frames[0]
    assert (first.keyframe, first.width, first.height, first.codec) == (True, 320, 240, "VP8"), first
    for f in frames:
        assert f.meeting_id == meeting_id and f.codec == "VP8"
        assert isinstance(f.data, bytes) and f.data in PATTERN, "a frame that is not the test pattern"
        assert f.keyframe == is_keyframe(f.data)


def test_bob_sees_the_bot_then_alice(sandbox: Sandbox) -> None:
    with Webex(sandbox.config(ALICE, http=FAST_HTTP)) as alice, Webex(sandbox.config(BOB, http=FAST_HTTP)) as bob:
        number = scheduled(alice, "Video check")

        # Bob watches before joining; the media bot joins with the VP8 pattern.
        b = bob.meetings.create(destination=number)
        members = Watch(bob, "members:update")
        seen: Collector[VideoFrame] = Collector()
        bob.meetings.on_video(b.id, seen)
        assert bob.meetings.join(b.id, video={"receive": True}).mediaState == "CONNECTED"
        assert sandbox.meeting_control(number, "addBot", video="VP8").email == BOT
        bot_id = member_id(members, b.id, BOT)
        check_pattern(frames_of(seen, bot_id, 20), b.id)
        # Delivered on Bob's video thread, never on an engine thread, the audio or event thread.
        assert seen.threads == {f"webex-video-{bob._core.native.handle}"}  # type: ignore[attr-defined]

        # Alice sends the pattern from the file; Bob sees her by her roster id.
        a = alice.meetings.create(destination=number)
        a_view = alice.meetings.join(a.id, video={"send": True})
        assert (a_view.state, a_view.mediaState) == ("JOINED", "CONNECTED")
        alice_id = str(a_view.selfId)
        keyframe_asked = Watch(alice, "meeting:keyframeRequested")
        sending = camera(alice, a.id)
        try:
            check_pattern(frames_of(seen, alice_id, 10), b.id)
            # Bob asks for a keyframe of Alice: her client is told to send one.
            assert bob.meetings.requestKeyframe(b.id, participantId=alice_id) == {}
            keyframe_asked.wait(lambda d: d.meetingId == a.id)
        finally:
            sending.stop()
        assert bob.meetings.dropped_video_frames() == 0
        assert any(m.email == ALICE and m.videoPackets > 0 for m in sandbox.meeting_control(number, "media"))

        # Every bytes-like buffer is accepted.
        for data in (bytearray(PATTERN[0]), memoryview(PATTERN[1]), memoryview(b"." + PATTERN[2])[1:]):
            alice.meetings.send_video(a.id, data)

        # Bad frames and arguments, named.
        with pytest.raises(webex_native.InvalidArgumentError, match="empty") as empty:
            alice.meetings.send_video(a.id, b"")
        assert isinstance(empty.value, ValueError)
        with pytest.raises(webex_native.InvalidArgumentError, match="data must be a bytes-like object.*list") as bad:
            alice.meetings.send_video(a.id, [1, 2, 3])  # type: ignore[arg-type]
        assert isinstance(bad.value, TypeError)
        with pytest.raises(TypeError, match="keyframe must be a bool"):
            alice.meetings.send_video(a.id, PATTERN[0], keyframe="yes")  # type: ignore[arg-type]
        with pytest.raises(webex_native.InvalidArgumentError, match="duration_us"):
            alice.meetings.send_video(a.id, PATTERN[0], duration_us=-1)
        with pytest.raises(webex_native.InvalidArgumentError, match="inter frame"):
            alice.meetings.send_video(a.id, PATTERN[1], keyframe=True)
        with pytest.raises(webex_native.NotFoundError):
            alice.meetings.send_video("no-such-meeting", PATTERN[0])
        with pytest.raises(webex_native.InvalidArgumentError, match="on_video.*callable"):
            bob.meetings.on_video(b.id, "not a handler")  # type: ignore[arg-type]

        # After leaving, frames are refused with ClosedError.
        assert alice.meetings.leave(a.id).state == "LEFT"
        with pytest.raises(webex_native.ClosedError, match="LEFT"):
            alice.meetings.send_video(a.id, PATTERN[0], keyframe=True)
        bob.meetings.on_video(b.id, None)


def test_video_frames_on_asyncio(sandbox: Sandbox) -> None:
    async def run() -> None:
        async with AsyncWebex(sandbox.config(BOB, http=FAST_HTTP)) as bob:
            meeting = await bob.scheduledMeetings.create(
                title="Async video", start="2030-01-01T10:00:00Z", end="2030-01-01T10:30:00Z"
            )
            number = str(meeting.meetingNumber)
            b = await bob.meetings.create(destination=number)
            loop = asyncio.get_running_loop()
            got: List[VideoFrame] = []
            async with bob.meetings.video_frames(b.id) as frames:
                await bob.meetings.join(b.id, video={"receive": True})
                sandbox.meeting_control(number, "addBot", video="VP8")

                async def watch() -> None:
                    async for frame in frames:
                        assert asyncio.get_running_loop() is loop
                        got.append(frame)
                        if len(got) >= 5:
                            return

                await asyncio.wait_for(watch(), NET)
            assert got[0].keyframe and (got[0].width, got[0].height) == (320, 240)
            assert all(f.data in PATTERN for f in got)
            assert bob.meetings.dropped_video_frames() == 0
            # A stream ends when its client closes (after the frames it still holds).
            stream = bob.meetings.video_frames(b.id)
            await bob.close()

            async def drain() -> int:
                return len([f async for f in stream])

            await asyncio.wait_for(drain(), NET)

    asyncio.run(run())


def test_sandbox_meeting_controls_name_what_is_wrong(sandbox: Sandbox, client: Webex) -> None:
    with pytest.raises(ValueError, match="not running"):
        sandbox.meeting_control("123456789", "end")
    number = scheduled(client, "Controls")
    m = client.meetings.create(destination=number)
    client.meetings.join(m.id)
    assert sandbox.meeting_control(number, "media") == []
    with pytest.raises(ValueError, match="unknown meeting control"):
        sandbox.meeting_control(number, "explode")
    with pytest.raises(ValueError, match="email"):
        sandbox.meeting_control(number, "cut")
    with pytest.raises(ValueError, match="video must be"):
        sandbox.meeting_control(number, "addBot", video="AV1")
    assert sandbox.meeting_control(number, "addBot", video=None, toneHz=300).email == BOT
    assert sandbox.meeting_control(number, "removeBot") == {}
    assert sandbox.meeting_control(number, "end") == {}
