"""Meeting audio: ``send_audio``, ``on_audio`` and ``audio_frames`` on the meetings namespace.

These are not rows of the engine's operation table (frames are not JSON): they are mixed into
the generated ``meetings`` namespaces (`_client._namespace_classes`).

Threading. Sending converts the buffer and calls the engine with the GIL released; the engine
encodes and queues the packet and never blocks. Receiving never crosses the GIL on the engine's
media tasks: the meeting's sink copies each 20 ms frame into the client's native queue (at
most 500 frames; past that the oldest go, counted), and one Python thread per client
(``webex-audio-<handle>``, started by the first ``on_audio`` / ``audio_frames``) takes every
queued frame at once with the GIL released, then delivers the batch: to handlers on that
thread (`Webex`), or to the event loop with one ``call_soon_threadsafe`` per batch
(`AsyncWebex`).
"""

from __future__ import annotations

import array
import asyncio
import logging
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ._errors import error_class
from ._tasks import LoopTasks

__all__ = ["AudioFrame", "AsyncAudioStream", "MeetingsAudio", "AsyncMeetingsAudio", "Pcm"]

log = logging.getLogger("webex_native")

#: A frame of interleaved signed 16-bit PCM in native byte order (at run time a NumPy int16 array works too).
Pcm = Union[bytes, bytearray, memoryview, "array.array[int]"]

#: Frames an `AsyncAudioStream` holds for a consumer that falls behind (like the native queue).
STREAM_FRAMES = 500

_NATIVE_ORDER = {"h", "@h", "=h", "<h" if sys.byteorder == "little" else ">h"}
_BYTES = {"B", "b", "c", "@B", "=B", "@b", "=b"}


class AudioFrame:
    """One 20 ms frame of a speaker's audio, as received.

    ``pcm`` is interleaved signed 16-bit PCM in native byte order (``array('h', frame.pcm)``
    or `samples()` reads it), ``frames`` samples per channel, ``channels`` 1 or 2,
    ``sample_rate`` 48000. ``participant_id`` is the speaker's roster id (``members[].id``)
    when the roster names it.
    """

    __slots__ = ("meeting_id", "participant_id", "pcm", "frames", "channels", "sample_rate", "rtp_timestamp")

    def __init__(
        self,
        meeting_id: str,
        participant_id: Optional[str],
        pcm: bytes,
        frames: int,
        channels: int,
        sample_rate: int,
        rtp_timestamp: int = 0,
    ) -> None:
        self.meeting_id = meeting_id
        self.participant_id = participant_id
        self.pcm = pcm
        self.frames = frames
        self.channels = channels
        self.sample_rate = sample_rate
        #: The RTP timestamp of the packet (48 kHz clock).
        self.rtp_timestamp = rtp_timestamp

    def samples(self) -> "array.array[int]":
        """The PCM as ``array('h')`` (interleaved when stereo)."""
        out = array.array("h")
        out.frombytes(self.pcm)
        return out

    def _key(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AudioFrame) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"AudioFrame(meeting_id={self.meeting_id!r}, participant_id={self.participant_id!r}, "
            f"pcm=<{len(self.pcm)} bytes>, frames={self.frames}, channels={self.channels}, "
            f"sample_rate={self.sample_rate})"
        )


def pcm_bytes(pcm: Any) -> bytes:
    """Any buffer of int16 samples (``bytes``, ``bytearray``, ``memoryview``, ``array('h')``,
    a NumPy int16 array) as native-order bytes for the engine."""
    if type(pcm) is bytes:
        return pcm
    try:
        view = memoryview(pcm)
    except TypeError:
        raise error_class("INVALID_ARGUMENT")(
            "pcm must be a buffer of 16-bit samples (bytes, bytearray, memoryview, array('h')), "
            f"not {type(pcm).__name__}"
        ) from None
    with view:
        if view.format not in _NATIVE_ORDER and view.format not in _BYTES:
            raise error_class("INVALID_ARGUMENT")(
                f"pcm must hold signed 16-bit samples in native byte order (array('h')); "
                f"got items of format {view.format!r}"
            )
        return view.tobytes()


def _check_send(meeting_id: Any, channels: Any) -> None:
    if not isinstance(meeting_id, str):
        raise error_class("INVALID_ARGUMENT")(f"meeting_id must be a str, not {type(meeting_id).__name__}")
    if type(channels) is not int or channels not in (1, 2):
        raise error_class("INVALID_ARGUMENT")(f"audio must have 1 or 2 channels; got {channels!r}")


# ---------------------------------------------------------------------------------- routing


class _Receiver:
    """Where one meeting's frames go: `put` per frame, `end` when the client closes or the
    receiver is replaced."""

    def put(self, frame: AudioFrame) -> None:
        raise NotImplementedError

    def end(self) -> None:
        pass


class _SyncHandler(_Receiver):
    def __init__(self, handler: Callable[[AudioFrame], Any]) -> None:
        self.handler = handler

    def put(self, frame: AudioFrame) -> None:
        try:
            self.handler(frame)
        except Exception:
            log.exception("an audio handler for meeting %r raised", frame.meeting_id)


class _AsyncHandler(_Receiver):
    """A handler on the loop; a coroutine handler becomes a task (kept until done)."""

    def __init__(self, handler: Callable[[AudioFrame], Any], loop: asyncio.AbstractEventLoop) -> None:
        self.handler = handler
        self.runner = LoopTasks(loop)

    def put(self, frame: AudioFrame) -> None:
        self.runner.run(self.handler, frame, f"an audio handler for meeting {frame.meeting_id!r}")


class AudioRouter:
    """A client's received audio: which meeting's frames go to which receiver, and what was
    dropped. `dispatch` runs in the delivery context (the audio thread for `Webex`, the loop
    for `AsyncWebex`); receivers are set from any thread."""

    def __init__(self, native_queue: Any) -> None:
        self._lock = threading.Lock()
        self._receivers: Dict[str, _Receiver] = {}
        self._queue = native_queue
        self._closed = False
        self._warned_at = 0.0
        self._seen_dropped = 0
        #: Frames dropped by `AsyncAudioStream`s whose consumer fell behind.
        self.stream_dropped = 0

    @property
    def dropped(self) -> int:
        return int(self._queue.dropped) + self.stream_dropped

    def set(self, meeting_id: str, receiver: Optional[_Receiver]) -> Optional[_Receiver]:
        """Sets (or with `None` removes) the meeting's receiver; returns the previous one."""
        with self._lock:
            previous = self._receivers.pop(meeting_id, None)
            if receiver is not None:
                if self._closed:
                    receiver.end()
                else:
                    self._receivers[meeting_id] = receiver
        return previous

    def remove_if(self, meeting_id: str, receiver: _Receiver) -> bool:
        """Removes the meeting's receiver if it still is this one."""
        with self._lock:
            if self._receivers.get(meeting_id) is receiver:
                del self._receivers[meeting_id]
                return True
        return False

    def dispatch(self, batch: List[Tuple[Any, ...]], dropped: int) -> None:
        if dropped > self._seen_dropped:
            now = time.monotonic()
            if now - self._warned_at >= 5.0:
                self._warned_at = now
                log.warning(
                    "webex_native: %d received audio frames dropped in all: the audio handlers fall behind "
                    "(the client holds %d frames)",
                    dropped,
                    STREAM_FRAMES,
                )
            self._seen_dropped = dropped
        with self._lock:
            receivers = dict(self._receivers)
        for raw in batch:
            receiver = receivers.get(raw[0])
            if receiver is not None:
                receiver.put(AudioFrame(*raw))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            receivers, self._receivers = list(self._receivers.values()), {}
        for receiver in receivers:
            receiver.end()


_END = object()


class AsyncAudioStream:
    """``async for frame in client.meetings.audio_frames(meeting_id)``: the meeting's received
    frames, from the event loop, until the client closes, the stream is closed
    (``async with`` / `aclose()`), or another receiver is set for the meeting. Holds at most
    500 frames for a consumer that falls behind (the oldest go, counted in
    ``meetings.dropped_audio_frames()``)."""

    def __init__(self, stop: Callable[["AsyncAudioStream"], None], router: AudioRouter) -> None:
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue(maxsize=STREAM_FRAMES + 1)
        self._stop = stop
        self._router = router
        self._done = False

    # The receiver side (on the loop).
    def _put(self, item: Any) -> None:
        if self._queue.qsize() >= STREAM_FRAMES:
            dropped = self._queue.get_nowait()
            if dropped is not _END:
                self._router.stream_dropped += 1
        self._queue.put_nowait(item)

    def __aiter__(self) -> "AsyncAudioStream":
        return self

    async def __anext__(self) -> AudioFrame:
        if self._done:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            self._done = True
            raise StopAsyncIteration
        frame: AudioFrame = item
        return frame

    def close(self) -> None:
        """Stops the meeting's audio for this stream (the iteration ends)."""
        if not self._done:
            self._done = True
            self._stop(self)

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> "AsyncAudioStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class _StreamReceiver(_Receiver):
    def __init__(self, stream: AsyncAudioStream) -> None:
        self.stream = stream

    def put(self, frame: AudioFrame) -> None:
        self.stream._put(frame)

    def end(self) -> None:
        self.stream._put(_END)


# ---------------------------------------------------------------------------------- namespaces


class _MeetingsAudioBase:
    """What both meetings namespaces share; `self._client` is the `Webex` / `AsyncWebex`."""

    _client: Any

    def send_audio(self, meeting_id: str, pcm: Any, channels: int = 1) -> None:
        """Sends one frame of audio to a meeting joined with ``audio={"send": True}``:
        interleaved signed 16-bit PCM at 48 kHz (``bytes``, ``bytearray``, ``memoryview``,
        ``array('h')``, native byte order), 480 or 960 samples per channel (10 or 20 ms),
        ``channels`` 1 or 2. Synchronous on both clients: it never blocks (the engine encodes
        the frame, with the GIL released, and queues the packet); pace the frames yourself
        (one per 20 ms). The buffer may be reused when it returns.

        Raises `InvalidArgumentError` for a wrong size or channel count, `ClosedError` before
        joining with audio, after leaving, or on a closed client, `NotFoundError` for an
        unknown meeting."""
        _check_send(meeting_id, channels)
        self._client._core.native.send_audio(meeting_id, pcm_bytes(pcm), channels)

    def dropped_audio_frames(self) -> int:
        """Received frames dropped so far because the app fell behind (the client holds 500)."""
        router = self._client._core.audio_router
        return 0 if router is None else int(router.dropped)

    def _set_receiver(self, meeting_id: str, receiver: Optional[_Receiver], router: AudioRouter) -> None:
        native = self._client._core.native
        if not isinstance(meeting_id, str):
            raise error_class("INVALID_ARGUMENT")(f"meeting_id must be a str, not {type(meeting_id).__name__}")
        if receiver is None:
            previous = router.set(meeting_id, None)
            if previous is not None:
                previous.end()
            native.set_audio_sink(meeting_id, False)
            return
        # The native sink first: an unknown meeting raises before anything changes.
        native.set_audio_sink(meeting_id, True)
        previous = router.set(meeting_id, receiver)
        if previous is not None:
            previous.end()


class MeetingsAudio(_MeetingsAudioBase):
    """The audio methods of `Webex.meetings`."""

    def on_audio(self, meeting_id: str, handler: Optional[Callable[[AudioFrame], Any]]) -> None:
        """Calls ``handler(frame)`` (an `AudioFrame`) for every frame received in the meeting,
        on the client's audio thread, frames in batches as they were queued; `None` stops.
        One receiver per meeting: a new handler replaces the previous one. May be set before
        joining. The handler must keep up with real time (50 frames a second per speaker);
        past 500 queued frames the oldest are dropped (`dropped_audio_frames`)."""
        if handler is not None and not callable(handler):
            raise error_class("INVALID_ARGUMENT")("on_audio: the handler must be callable (or None)")
        core = self._client._core
        router = core.audio_router if handler is None else core.start_audio(None)
        if router is None:
            if isinstance(meeting_id, str):
                core.native.set_audio_sink(meeting_id, False)
            return
        self._set_receiver(meeting_id, None if handler is None else _SyncHandler(handler), router)


class AsyncMeetingsAudio(_MeetingsAudioBase):
    """The audio methods of `AsyncWebex.meetings`."""

    def on_audio(self, meeting_id: str, handler: Optional[Callable[[AudioFrame], Any]]) -> None:
        """Calls ``handler(frame)`` on the event loop for every frame received in the meeting
        (a coroutine handler runs as a task); `None` stops. Frames reach the loop in batches
        (one ``call_soon_threadsafe`` per batch). One receiver per meeting."""
        if handler is not None and not callable(handler):
            raise error_class("INVALID_ARGUMENT")("on_audio: the handler must be callable (or None)")
        core = self._client._core
        if handler is None:
            router = core.audio_router
            if router is None:
                if isinstance(meeting_id, str):
                    core.native.set_audio_sink(meeting_id, False)
                return
            self._set_receiver(meeting_id, None, router)
            return
        loop = self._client._get_loop()
        router = core.start_audio(loop)
        self._set_receiver(meeting_id, _AsyncHandler(handler, loop), router)

    def audio_frames(self, meeting_id: str) -> AsyncAudioStream:
        """``async for frame in client.meetings.audio_frames(meeting_id)``: the meeting's
        received frames on the event loop (``async with`` closes the stream). One receiver per
        meeting: a new stream or handler ends this one."""
        loop = self._client._get_loop()
        core = self._client._core
        router = core.start_audio(loop)
        native = core.native

        def stop(stream: AsyncAudioStream) -> None:
            if router.remove_if(meeting_id, receiver) and not native.closed:
                try:
                    native.set_audio_sink(meeting_id, False)
                except Exception:
                    pass  # the meeting or client is gone: nothing is sent any more

        stream = AsyncAudioStream(stop, router)
        receiver = _StreamReceiver(stream)
        self._set_receiver(meeting_id, receiver, router)
        return stream
