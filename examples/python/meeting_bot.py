"""webex-native meeting audio in Python, on the embedded sandbox: Alice schedules a meeting and
joins it to listen; the bot joins and says a 440 Hz tone for 2 s; Alice prints the roster and
the frequency she heard from the bot.

    pip install ./py && python examples/python/meeting_bot.py

Threading: `send_audio` is synchronous and never blocks (the engine encodes the frame with the
GIL released), so the bot paces its frames itself, one per 20 ms. Alice's handler runs on her
client's audio thread, with frames in batches; it only appends, and the main thread waits on a
`threading.Event`.
"""

from __future__ import annotations

import array
import math
import threading
import time
from typing import List

import webex_native
from webex_native import AudioFrame, Sandbox, Webex

RATE = 48_000
FRAME = 960  # samples per channel: 20 ms at 48 kHz
TONE_HZ = 440.0
SECONDS = 2.0


def step(text: str) -> None:
    print(f"- {text}", flush=True)


def tone_frame(index: int) -> "array.array[int]":
    """Frame `index` of a continuous mono tone."""
    return array.array(
        "h",
        (int(8000 * math.sin(2 * math.pi * TONE_HZ * (index * FRAME + i) / RATE)) for i in range(FRAME)),
    )


def tone_power(x: List[float], freq: float) -> float:
    """Power of `freq` Hz in `x` (Goertzel)."""
    c = 2.0 * math.cos(2.0 * math.pi * freq / RATE)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    return s1 * s1 + s2 * s2 - c * s1 * s2


def dominant_frequency(pcm: "array.array[int]", lo: int = 100, hi: int = 2000) -> int:
    """The strongest whole frequency between `lo` and `hi` Hz: 10 Hz steps on the last 50 ms,
    then 1 Hz steps around that peak on all of `pcm`."""
    x = [float(v) for v in pcm]
    short = x[-2400:]
    coarse = max(range(lo, hi + 1, 10), key=lambda f: tone_power(short, f))
    return max(range(max(lo, coarse - 10), min(hi, coarse + 10) + 1), key=lambda f: tone_power(x, f))


class Listener:
    """Alice's audio handler: keeps the bot's PCM; `enough` is set once `samples` arrived."""

    def __init__(self, samples: int) -> None:
        self.speaker_id = ""
        self.pcm = array.array("h")
        self.others = 0
        self.enough = threading.Event()
        self._samples = samples
        self._lock = threading.Lock()

    def __call__(self, frame: AudioFrame) -> None:
        with self._lock:
            if frame.participant_id != self.speaker_id:
                self.others += 1
                return
            self.pcm.frombytes(frame.pcm)
            if len(self.pcm) >= self._samples:
                self.enough.set()

    def heard(self) -> "array.array[int]":
        """A copy of the bot's PCM so far."""
        with self._lock:
            return array.array("h", self.pcm)


def main() -> None:
    with Sandbox() as sandbox:
        step(f"embedded sandbox at {sandbox.base_url} (webex_native {webex_native.__version__})")
        with Webex(sandbox.config("alice@example.com")) as alice, Webex(sandbox.config()) as bot:
            meeting = alice.scheduledMeetings.create(
                title="Tone check", start="2030-01-01T10:00:00Z", end="2030-01-01T10:30:00Z"
            )
            number = str(meeting.meetingNumber)
            step(f"Alice scheduled meeting {number}")

            # Alice listens (receive only); her handler is set before she joins.
            listener = Listener(samples=int(RATE * 1.5))
            heard_in = alice.meetings.create(destination=number)
            alice.meetings.on_audio(heard_in.id, listener)
            alice.meetings.join(heard_in.id, audio={"receive": True})
            step("Alice joined to listen")

            # The bot joins with audio to send; join resolves once its media is connected.
            said_in = bot.meetings.create(destination=number)
            view = bot.meetings.join(said_in.id, audio={"send": True})
            listener.speaker_id = str(view.selfId)
            step(f"the bot joined (media {view.mediaState})")

            frames = int(SECONDS * RATE / FRAME)
            start = time.monotonic()
            for i in range(frames):
                bot.meetings.send_audio(said_in.id, tone_frame(i))
                time.sleep(max(0.0, start + (i + 1) * FRAME / RATE - time.monotonic()))
            step(f"the bot said {TONE_HZ:.0f} Hz for {SECONDS:.0f} s ({frames} frames)")

            if not listener.enough.wait(10.0):
                raise SystemExit(f"Alice heard only {len(listener.pcm) / RATE:.2f} s of the bot")

            step("roster, as Alice sees it:")
            for member in alice.meetings.members(heard_in.id):
                muted = " (muted)" if member.audioMuted else ""
                print(f"    {member.name}: {member.status}{muted}", flush=True)

            pcm = listener.heard()
            hz = dominant_frequency(pcm[-RATE // 2 :])  # the last 0.5 s
            step(f"Alice heard {len(pcm) / RATE:.2f} s of the bot, dominant frequency {hz} Hz")
            if alice.meetings.dropped_audio_frames():
                step(f"({alice.meetings.dropped_audio_frames()} frames dropped)")

            bot.meetings.leave(said_in.id)
            alice.meetings.on_audio(heard_in.id, None)
            alice.meetings.leave(heard_in.id)
    step("done")


if __name__ == "__main__":
    main()
