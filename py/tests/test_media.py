"""Meeting audio end to end against the sandbox's media server (like tests/media.rs and
tests/reconnect.rs): Alice's 440 Hz tone reaches Bob's handler, her mute stops her packets at
the server, bad frames and frames after leaving get clear errors, her media comes back by
itself after the server cuts it; and the asyncio stream."""

from __future__ import annotations

import array
import asyncio
import math
import threading
from typing import Any, List

import pytest

import webex_native
from webex_native import AsyncWebex, AudioFrame, Sandbox, Webex

from conftest import ALICE, BOB, FAST_HTTP, NET, Collector, Pacer, Watch, scheduled

AUDIO = {"send": True, "receive": True}


# ---------------------------------------------------------------------------------- signal


def tone_frame(hz: float, index: int, channels: int = 1, samples: int = 960) -> "array.array[int]":
    """Frame `index` (960 samples per channel, 20 ms at 48 kHz) of a continuous tone."""
    out = array.array("h")
    for i in range(samples):
        t = (index * samples + i) / 48_000.0
        v = int(math.sin(2.0 * math.pi * hz * t) * 8000.0)
        out.extend([v] * channels)
    return out


def tone_power(x: List[float], freq: float) -> float:
    """Power of `freq` Hz in `x` at 48 kHz (Goertzel)."""
    c = 2.0 * math.cos(2.0 * math.pi * freq / 48_000.0)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    return s1 * s1 + s2 * s2 - c * s1 * s2


def dominant_frequency(pcm: "array.array[int]", lo: int, hi: int) -> int:
    """The strongest whole frequency between `lo` and `hi` Hz of mono 48 kHz PCM: a coarse scan
    (10 Hz steps) on the last 50 ms, whose main lobe is wider than a step, then 1 Hz steps
    around its peak on all of `pcm` (pure Python, so not 300 full scans)."""
    x = [float(v) for v in pcm]
    short = x[-2400:]
    coarse = max(range(lo, hi + 1, 10), key=lambda f: tone_power(short, f))
    return max(range(max(lo, coarse - 10), min(hi, coarse + 10) + 1), key=lambda f: tone_power(x, f))


def test_a_stream_keeps_the_newest_frames_and_counts_the_rest() -> None:
    from webex_native._media import AUDIO as KIND, STREAM_FRAMES, AsyncAudioStream, FrameRouter

    class NativeQueue:
        dropped = 3

    async def run() -> None:
        router = FrameRouter(NativeQueue(), KIND)
        stream = AsyncAudioStream(lambda s: None, router)
        for i in range(STREAM_FRAMES + 2):
            stream._put(AudioFrame("m", None, b"", i, 1, 48_000))
        assert router.dropped == 3 + 2
        assert (await stream.__anext__()).frames == 2

    asyncio.run(run())


def test_a_handler_that_raises_is_logged_and_keeps_its_frames_coming(caplog: pytest.LogCaptureFixture) -> None:
    from webex_native._media import AUDIO as KIND, FrameRouter, _SyncHandler

    class NativeQueue:
        dropped = 0

    seen: List[int] = []

    def handler(frame: AudioFrame) -> None:
        seen.append(frame.frames)
        raise RuntimeError("boom")

    router = FrameRouter(NativeQueue(), KIND)
    router.set("m", _SyncHandler(handler, KIND))
    batch = [("m", "p", b"", 1, 1, 48_000, 0), ("other", "p", b"", 9, 1, 48_000, 0), ("m", None, b"", 2, 1, 48_000, 0)]
    router.dispatch((batch, 0))
    assert seen == [1, 2]
    assert "an audio handler for meeting 'm' raised" in caplog.text


def test_the_tone_detector_finds_the_tone() -> None:
    pcm = array.array("h")
    for i in range(25):
        pcm.extend(tone_frame(443.0, i))
    assert dominant_frequency(pcm, 300, 600) == 443


# ---------------------------------------------------------------------------------- helpers


def packets_of(sandbox: Sandbox, number: str, email: str) -> int:
    return next((int(m.audioPackets) for m in sandbox.meeting_control(number, "media") if m.email == email), 0)


def speaker(webex: Webex, meeting_id: str, lossy: bool = False) -> Pacer:
    """A 440 Hz tone into the meeting from a thread, one 960-sample frame per 20 ms (real time);
    with ``lossy`` the frames refused while media is down are lost, as from a microphone."""
    return Pacer(lambda i: webex.meetings.send_audio(meeting_id, tone_frame(440.0, i)), 0.020, lossy)


class Heard(Collector[AudioFrame]):
    """Bob's audio handler: `wait(id, n)` until `n` samples of one speaker arrived, then their PCM."""

    def pcm_of(self, participant_id: str) -> "array.array[int]":
        pcm = array.array("h")
        for f in self.of(participant_id):
            pcm.frombytes(f.pcm)
        return pcm

    def wait_samples(self, participant_id: str, samples: int) -> "array.array[int]":
        def enough(frames: List[AudioFrame]) -> bool:
            return sum(f.frames for f in frames if f.participant_id == participant_id) >= samples

        self.wait(enough, "Bob heard too little")
        return self.pcm_of(participant_id)

    def hears_440(self, participant_id: str) -> None:
        """From now on (what was heard before is dropped), 0.6 s of the speaker peak at 440 Hz
        (the last 0.5 s of it)."""
        self.reset()
        pcm = self.wait_samples(participant_id, 30 * 960)
        f = dominant_frequency(pcm[-24_000:], 300, 600)
        assert 435 <= f <= 445, f"Bob hears {f} Hz"


def alice_muted(data: Any, muted: bool) -> bool:
    return any(m.name == "Alice" and m.audioMuted == muted for m in data.full or [])


# ---------------------------------------------------------------------------------- tests


def test_bob_hears_alices_tone_and_her_mute(sandbox: Sandbox) -> None:
    with Webex(sandbox.config(ALICE, http=FAST_HTTP)) as alice, Webex(sandbox.config(BOB, http=FAST_HTTP)) as bob:
        number = scheduled(alice, "Tone check")
        a = alice.meetings.create(destination=number)
        a_view = alice.meetings.join(a.id, audio=AUDIO)
        assert (a_view.state, a_view.mediaState) == ("JOINED", "CONNECTED")
        alice_id = str(a_view.selfId)

        # Bob listens before joining; Alice already talks while he joins.
        b = bob.meetings.create(destination=number)
        members = Watch(bob, "members:update")
        heard = Heard()
        bob.meetings.on_audio(b.id, heard)
        talking = speaker(alice, a.id)
        try:
            b_view = bob.meetings.join(b.id, audio=AUDIO)
            assert b_view.mediaState == "CONNECTED"

            # The tone: Bob's PCM from Alice peaks at 440 Hz.
            heard.hears_440(alice_id)
            frame = heard.frames[-1]
            assert (frame.meeting_id, frame.frames, frame.channels, frame.sample_rate) == (b.id, 960, 1, 48_000)
            assert len(frame.pcm) == 960 * 2 and isinstance(frame.pcm, bytes)
            assert len(frame.samples()) == 960
            # Delivered on Bob's audio thread, never on an engine thread or the event thread.
            assert heard.threads == {f"webex-audio-{bob._core.native.handle}"}  # type: ignore[attr-defined]
            assert bob.meetings.dropped_audio_frames() == 0

            # Mute: once Bob's roster shows it, Alice's further frames never reach the server.
            assert alice.meetings.muteAudio(a.id).audioMuted is True
            members.wait(lambda d: d.meetingId == b.id and alice_muted(d, True))
            before = packets_of(sandbox, number, ALICE)
            assert before > 0
            talking.wait_sent(talking.sent + 25)
            assert packets_of(sandbox, number, ALICE) == before, "muted Alice sent packets"

            # Unmute: Bob hears her again.
            alice.meetings.unmuteAudio(a.id)
            members.wait(lambda d: d.meetingId == b.id and alice_muted(d, False))
            heard.reset()
            heard.wait_samples(alice_id, 5 * 960)
            assert packets_of(sandbox, number, ALICE) > before
        finally:
            talking.stop()

        # Every int16 buffer type is accepted (480 samples: 10 ms frames too).
        for pcm_buffer in (
            tone_frame(440.0, 0).tobytes(),
            bytearray(tone_frame(440.0, 1).tobytes()),
            memoryview(tone_frame(440.0, 2)),
            tone_frame(440.0, 3, samples=480),
            tone_frame(440.0, 4, channels=2),
        ):
            channels = 2 if len(memoryview(pcm_buffer).cast("B")) == 960 * 4 else 1
            alice.meetings.send_audio(a.id, pcm_buffer, channels=channels)

        # Bad frames.
        with pytest.raises(webex_native.InvalidArgumentError) as bad:
            alice.meetings.send_audio(a.id, array.array("h", [0] * 500))
        assert "500" in str(bad.value) and "480 or 960" in str(bad.value)
        assert isinstance(bad.value, ValueError)
        with pytest.raises(webex_native.InvalidArgumentError, match="channels"):
            alice.meetings.send_audio(a.id, tone_frame(440.0, 0), channels=3)
        with pytest.raises(webex_native.InvalidArgumentError, match="1919 bytes"):
            alice.meetings.send_audio(a.id, b"\0" * 1919)
        with pytest.raises(webex_native.InvalidArgumentError, match="16-bit"):
            alice.meetings.send_audio(a.id, array.array("i", [0] * 960))
        with pytest.raises(webex_native.InvalidArgumentError, match="buffer"):
            alice.meetings.send_audio(a.id, [0] * 960)  # type: ignore[arg-type]
        with pytest.raises(webex_native.NotFoundError):
            alice.meetings.send_audio("no-such-meeting", tone_frame(440.0, 0))

        # Alice leaves: her frames are refused with ClosedError.
        assert alice.meetings.leave(a.id).state == "LEFT"
        with pytest.raises(webex_native.ClosedError) as closed:
            alice.meetings.send_audio(a.id, tone_frame(440.0, 0))
        assert "LEFT" in str(closed.value)
        members.wait(lambda d: any(m.name == "Alice" and m.status == "NOT_IN_MEETING" for m in d.full or []))
        assert [m.email for m in sandbox.meeting_control(number, "media")] == [BOB]

        # Bob stops listening; a closed client refuses audio.
        bob.meetings.on_audio(b.id, None)
    with pytest.raises(webex_native.ClosedError):
        alice.meetings.send_audio(a.id, tone_frame(440.0, 0))


def test_frames_before_joining_with_audio_are_refused(client: Webex) -> None:
    meeting = client.meetings.create(destination=scheduled(client, "Tone check"))
    with pytest.raises(webex_native.ClosedError, match="IDLE"):
        client.meetings.send_audio(meeting.id, tone_frame(440.0, 0))
    with pytest.raises(webex_native.InvalidArgumentError, match="callable"):
        client.meetings.on_audio(meeting.id, "not a handler")  # type: ignore[arg-type]
    with pytest.raises(webex_native.NotFoundError):
        client.meetings.on_audio("no-such-meeting", lambda f: None)
    with pytest.raises(webex_native.NotFoundError):
        client.meetings.on_video("no-such-meeting", lambda f: None)
    # A receiver that was refused started no delivery thread.
    handle = client._core.native.handle
    assert [t.name for t in threading.enumerate() if t.name.endswith(f"-{handle}") and "events" not in t.name] == []


def test_media_cut_by_the_server_comes_back_by_itself(sandbox: Sandbox) -> None:
    """With ``meetings.reconnection.enabled``, Alice's client brings her media back by itself
    after the media server drops her session; Bob hears her tone again."""
    reconnecting = {"reconnection": {"enabled": True}}
    with Webex(sandbox.config(ALICE, http=FAST_HTTP, meetings=reconnecting)) as alice, Webex(
        sandbox.config(BOB, http=FAST_HTTP)
    ) as bob:
        number = scheduled(alice, "Reconnection")
        a = alice.meetings.create(destination=number)
        alice_id = str(alice.meetings.join(a.id, audio=AUDIO).selfId)
        b = bob.meetings.create(destination=number)
        heard = Heard()
        bob.meetings.on_audio(b.id, heard)
        assert bob.meetings.join(b.id, audio=AUDIO).mediaState == "CONNECTED"
        starting = Watch(alice, "meeting:reconnectionStarting")
        success = Watch(alice, "meeting:reconnectionSuccess")
        # Frames refused while her media is down are lost, as from a live microphone.
        talking = speaker(alice, a.id, lossy=True)
        try:
            heard.hears_440(alice_id)

            assert sandbox.meeting_control(number, "cut", email=ALICE) == {}
            done = success.wait(lambda d: d.meetingId == a.id)
            assert done.data.attempt >= 1
            assert starting.wait(lambda d: d.meetingId == a.id).data.attempt == 1
            view = alice.meetings.get(a.id)
            assert (view.state, view.mediaState) == ("JOINED", "CONNECTED")

            heard.hears_440(str(view.selfId))
        finally:
            talking.stop()
        alice.meetings.leave(a.id)


def test_audio_frames_on_asyncio(sandbox: Sandbox) -> None:
    async def run() -> None:
        async with AsyncWebex(sandbox.config(ALICE, http=FAST_HTTP)) as alice, AsyncWebex(
            sandbox.config(BOB, http=FAST_HTTP)
        ) as bob:
            meeting = await alice.scheduledMeetings.create(
                title="Async tone", start="2030-01-01T10:00:00Z", end="2030-01-01T10:30:00Z"
            )
            a = await alice.meetings.create(destination=str(meeting.meetingNumber))
            a_view = await alice.meetings.join(a.id, audio=AUDIO)
            b = await bob.meetings.create(destination=str(meeting.meetingNumber))
            loop = asyncio.get_running_loop()

            async def speak() -> None:
                # send_audio is synchronous on AsyncWebex too: it never blocks the loop.
                i = 0
                start = loop.time()
                while True:
                    alice.meetings.send_audio(a.id, tone_frame(440.0, i))
                    i += 1
                    await asyncio.sleep(max(0.0, start + i * 0.020 - loop.time()))

            speaking = asyncio.ensure_future(speak())
            on_loop: List[bool] = []
            pcm = array.array("h")
            try:
                async with bob.meetings.audio_frames(b.id) as frames:
                    await bob.meetings.join(b.id, audio=AUDIO)

                    async def hear() -> None:
                        async for frame in frames:
                            on_loop.append(asyncio.get_running_loop() is loop)
                            if frame.participant_id == a_view.selfId:
                                pcm.frombytes(frame.pcm)
                            if len(pcm) >= 30 * 960:
                                return

                    await asyncio.wait_for(hear(), NET)
                assert on_loop and all(on_loop)
                f = dominant_frequency(pcm[-24_000:], 300, 600)
                assert 435 <= f <= 445, f"Bob hears {f} Hz"

                # A coroutine handler replaces a stream (which then ends) and runs as a task.
                stream = bob.meetings.audio_frames(b.id)
                got: List[AudioFrame] = []
                five = asyncio.Event()

                async def handler(frame: AudioFrame) -> None:
                    got.append(frame)
                    if len(got) >= 5:
                        five.set()

                bob.meetings.on_audio(b.id, handler)

                async def drain(s: webex_native.AsyncAudioStream) -> int:
                    return len([f async for f in s])

                await asyncio.wait_for(drain(stream), NET)
                await asyncio.wait_for(five.wait(), NET)
                assert bob.meetings.dropped_audio_frames() == 0
            finally:
                speaking.cancel()

            # A stream ends when its client closes (after the frames it still holds).
            stream = bob.meetings.audio_frames(b.id)
            await bob.close()
            await asyncio.wait_for(drain(stream), NET)
            await alice.meetings.leave(a.id)

    asyncio.run(run())
