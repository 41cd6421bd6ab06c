"""Meeting audio and video: ``send_audio`` / ``send_video``, ``on_audio`` / ``on_video`` and
``audio_frames`` / ``video_frames`` on the meetings namespace.

These are not rows of the engine's operation table (frames are not JSON): they are mixed into
the generated ``meetings`` namespaces (`_client._namespace_classes`). Audio and video are one
implementation: a `MediaKind` says what differs (the frame class, how many frames are held).

Threading. Sending hands the buffer to the engine with the GIL released; the engine encodes
(audio) or copies (video) the frame, queues the packets and never blocks. Receiving never
crosses the GIL on the engine's media tasks: the meeting's sink copies each frame into the
client's native queue for that kind (at most 500 audio frames, 150 video frames; past that the
oldest go, counted), and one Python thread per client and kind (``webex-audio-<handle>``,
``webex-video-<handle>``, started by the first receiver of that kind) takes every queued frame
at once with the GIL released, then delivers the batch: to handlers on that thread (`Webex`),
or to the event loop with one ``call_soon_threadsafe`` per batch (`AsyncWebex`).
"""

from __future__ import annotations

import array
import asyncio
import logging
import sys
import threading
import time
from typing import Any, Callable, Dict, Generic, List, Optional, Tuple, Type, TypeVar, Union

from ._errors import error_class
from ._tasks import END as _END, LoopTasks, QueueStream

__all__ = [
    "AudioFrame",
    "VideoFrame",
    "AsyncAudioStream",
    "AsyncVideoStream",
    "AsyncFrameStream",
    "MeetingsMedia",
    "AsyncMeetingsMedia",
    "Pcm",
    "VideoData",
]

log = logging.getLogger("webex_native")

#: A frame of interleaved signed 16-bit PCM in native byte order (at run time a NumPy int16 array works too).
Pcm = Union[bytes, bytearray, memoryview, "array.array[int]"]

#: One encoded video frame (any bytes-like object; ``bytes`` is handed over without a copy).
VideoData = Union[bytes, bytearray, memoryview]

_NATIVE_ORDER = {"h", "@h", "=h", "<h" if sys.byteorder == "little" else ">h"}
_BYTES = {"B", "b", "c", "@B", "=B", "@b", "=b"}


# ---------------------------------------------------------------------------------- frames


class _Frame:
    """What received frames share: plain slots, equality by value, a short repr."""

    __slots__: Tuple[str, ...] = ()

    def _key(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = (
            f"{name}=<{len(value)} bytes>" if isinstance(value, bytes) else f"{name}={value!r}"
            for name, value in zip(self.__slots__, self._key())
        )
        return f"{type(self).__name__}({', '.join(shown)})"


class AudioFrame(_Frame):
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


class VideoFrame(_Frame):
    """One encoded frame of a participant's video, as received (the engine never decodes).

    ``codec`` is ``"VP8"`` or ``"H264"``; ``data`` is a VP8 frame or an H.264 access unit in
    Annex-B form (start codes). ``keyframe`` says whether a decoder can start here (a sender's
    first delivered frame always is one); ``width`` and ``height`` come from VP8 keyframe
    headers (0 otherwise). ``participant_id`` is the sender's roster id (``members[].id``) when
    the roster names it; ``rtp_timestamp`` is on the 90 kHz clock.
    """

    __slots__ = ("meeting_id", "participant_id", "codec", "data", "keyframe", "width", "height", "rtp_timestamp")

    def __init__(
        self,
        meeting_id: str,
        participant_id: Optional[str],
        codec: str,
        data: bytes,
        keyframe: bool,
        width: int = 0,
        height: int = 0,
        rtp_timestamp: int = 0,
    ) -> None:
        self.meeting_id = meeting_id
        self.participant_id = participant_id
        self.codec = codec
        self.data = data
        self.keyframe = keyframe
        self.width = width
        self.height = height
        self.rtp_timestamp = rtp_timestamp


_F = TypeVar("_F", bound=_Frame)


def _invalid(message: str) -> Exception:
    return error_class("INVALID_ARGUMENT")(message)


def _buffer(value: Any, name: str, expected: str) -> Union[bytes, memoryview]:
    """``value`` itself when it is ``bytes`` (handed to the engine without a copy), else a
    memoryview of it; INVALID_ARGUMENT (a `TypeError` too) naming ``name`` when it is no
    buffer."""
    if type(value) is bytes:
        return value
    try:
        return memoryview(value)
    except TypeError:
        raise _invalid(f"{name} must be {expected}, not {type(value).__name__}") from None


def pcm_bytes(pcm: Any) -> bytes:
    """Any buffer of int16 samples (``bytes``, ``bytearray``, ``memoryview``, ``array('h')``,
    a NumPy int16 array) as native-order bytes for the engine."""
    view = _buffer(pcm, "pcm", "a buffer of 16-bit samples (bytes, bytearray, memoryview, array('h'))")
    if isinstance(view, bytes):
        return view
    with view:
        if view.format not in _NATIVE_ORDER and view.format not in _BYTES:
            raise _invalid(
                f"pcm must hold signed 16-bit samples in native byte order (array('h')); "
                f"got items of format {view.format!r}"
            )
        return view.tobytes()


def video_bytes(data: Any) -> bytes:
    """An encoded frame from any bytes-like object (its bytes in C order; ``bytes`` as is)."""
    view = _buffer(data, "data", "a bytes-like object holding one encoded frame (bytes, bytearray, memoryview)")
    if isinstance(view, bytes):
        return view
    with view:
        return view.tobytes()


def _check_meeting_id(meeting_id: Any) -> None:
    if not isinstance(meeting_id, str):
        raise _invalid(f"meeting_id must be a str, not {type(meeting_id).__name__}")


# ---------------------------------------------------------------------------------- kinds


class MediaKind(Generic[_F]):
    """What differs between received audio and video: the name (``"audio"``, ``"video"``,
    the native queue's kind), the frame class, and how many frames are held."""

    def __init__(self, name: str, frame: Type[_F], held: int, stream: "Type[AsyncFrameStream[_F]]") -> None:
        self.name = name
        self.frame = frame
        #: Frames the client's native queue holds, and an async stream holds, for an app that
        #: falls behind (the native queue's bound is in py/src/media.rs).
        self.held = held
        self.stream = stream
        self.handler_name = f"{'an' if name[:1] in 'aeiou' else 'a'} {name} handler"


# ---------------------------------------------------------------------------------- routing


class _Receiver:
    """Where one meeting's frames go: `put` per frame, `end` when the client closes or the
    receiver is replaced."""

    def put(self, frame: Any) -> None:
        raise NotImplementedError

    def end(self) -> None:
        pass


class _SyncHandler(_Receiver):
    def __init__(self, handler: Callable[[Any], Any], kind: MediaKind[Any]) -> None:
        self.handler = handler
        self.kind = kind

    def put(self, frame: Any) -> None:
        try:
            self.handler(frame)
        except Exception:
            log.exception("%s for meeting %r raised", self.kind.handler_name, frame.meeting_id)


class _AsyncHandler(_Receiver):
    """A handler on the loop; a coroutine handler becomes a task (kept until done)."""

    def __init__(self, handler: Callable[[Any], Any], kind: MediaKind[Any], loop: asyncio.AbstractEventLoop) -> None:
        self.handler = handler
        self.kind = kind
        self.runner = LoopTasks(loop)

    def put(self, frame: Any) -> None:
        self.runner.run(self.handler, frame, f"{self.kind.handler_name} for meeting {frame.meeting_id!r}")


class FrameRouter:
    """A client's received frames of one kind: which meeting's frames go to which receiver,
    and what was dropped. `dispatch` runs in the delivery context (the kind's thread for
    `Webex`, the loop for `AsyncWebex`); receivers are set from any thread."""

    def __init__(self, native_queue: Any, kind: MediaKind[Any]) -> None:
        self.kind = kind
        self._lock = threading.Lock()
        self._receivers: Dict[str, _Receiver] = {}
        self._queue = native_queue
        self._closed = False
        self._warned_at = 0.0
        self._seen_dropped = 0
        #: Frames dropped by async streams whose consumer fell behind.
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

    def dispatch(self, got: Tuple[List[Tuple[Any, ...]], int]) -> None:
        """One batch from the native queue: ``(frames as tuples, dropped so far)``."""
        batch, dropped = got
        if dropped > self._seen_dropped:
            now = time.monotonic()
            if now - self._warned_at >= 5.0:
                self._warned_at = now
                log.warning(
                    "webex_native: %d received %s frames dropped in all: the %s handlers fall behind "
                    "(the client holds %d frames)",
                    dropped,
                    self.kind.name,
                    self.kind.name,
                    self.kind.held,
                )
            self._seen_dropped = dropped
        with self._lock:
            receivers = dict(self._receivers)
        make = self.kind.frame
        for raw in batch:
            receiver = receivers.get(raw[0])
            if receiver is not None:
                receiver.put(make(*raw))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            receivers, self._receivers = list(self._receivers.values()), {}
        for receiver in receivers:
            receiver.end()


class AsyncFrameStream(QueueStream[_F]):
    """``async for frame in ...``: a meeting's received frames of one kind, on the event loop,
    until the client closes, the stream is closed (``async with`` / `aclose()`), or another
    receiver is set for the meeting. Holds at most as many frames as the client does for a
    consumer that falls behind (the oldest go, counted with the client's drops)."""

    def __init__(self, stop: Callable[["AsyncFrameStream[_F]"], None], router: FrameRouter) -> None:
        self._held = router.kind.held
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue(maxsize=self._held + 1)
        self._stop = stop
        self._router = router
        self._done = False

    # The receiver side (on the loop).
    def _put(self, item: Any) -> None:
        if self._queue.qsize() >= self._held:
            dropped = self._queue.get_nowait()
            if dropped is not _END:
                self._router.stream_dropped += 1
        self._queue.put_nowait(item)

    def close(self) -> None:
        """Stops the meeting's frames for this stream (the iteration ends, also for a consumer
        waiting in it)."""
        if not self._done:
            self._done = True
            self._stop(self)
            self._put(_END)


class AsyncAudioStream(AsyncFrameStream[AudioFrame]):
    """``async for frame in client.meetings.audio_frames(meeting_id)``: the meeting's received
    audio frames (500 held for a consumer that falls behind)."""


class AsyncVideoStream(AsyncFrameStream[VideoFrame]):
    """``async for frame in client.meetings.video_frames(meeting_id)``: the meeting's received
    video frames (150 held for a consumer that falls behind)."""


class _StreamReceiver(_Receiver):
    def __init__(self, stream: AsyncFrameStream[Any]) -> None:
        self.stream = stream

    def put(self, frame: Any) -> None:
        self.stream._put(frame)

    def end(self) -> None:
        self.stream._put(_END)


AUDIO: MediaKind[AudioFrame] = MediaKind("audio", AudioFrame, 500, AsyncAudioStream)
VIDEO: MediaKind[VideoFrame] = MediaKind("video", VideoFrame, 150, AsyncVideoStream)
MEDIA_KINDS: Dict[str, MediaKind[Any]] = {AUDIO.name: AUDIO, VIDEO.name: VIDEO}

#: Frames an `AsyncAudioStream` holds for a consumer that falls behind (like the native queue).
STREAM_FRAMES = AUDIO.held


# ---------------------------------------------------------------------------------- namespaces


class _MeetingsMediaBase:
    """What both meetings namespaces share; `self._client` is the `Webex` / `AsyncWebex`."""

    _client: Any

    def send_audio(self, meeting_id: str, pcm: Any, channels: int = 1) -> None:
        """Sends one frame of audio to a meeting joined with ``audio={"send": True}``:
        interleaved signed 16-bit PCM at 48 kHz (``bytes``, ``bytearray``, ``memoryview``,
        ``array('h')``, native byte order), 480 or 960 samples per channel (10 or 20 ms),
        ``channels`` 1 or 2. Synchronous on both clients: it never blocks (the engine encodes
        the frame, with the GIL released, and queues the packet); pace the frames yourself
        (one per 20 ms). Callable from any thread, handlers included. The buffer may be reused
        when it returns.

        Raises `InvalidArgumentError` for a wrong size or channel count, `ClosedError` before
        joining with audio, after leaving, or on a closed client, `NotFoundError` for an
        unknown meeting."""
        _check_meeting_id(meeting_id)
        if type(channels) is not int or channels not in (1, 2):
            raise _invalid(f"audio must have 1 or 2 channels; got {channels!r}")
        self._client._core.native.send_audio(meeting_id, pcm_bytes(pcm), channels)

    def send_video(self, meeting_id: str, data: Any, keyframe: bool = False, duration_us: int = 66_667) -> None:
        """Sends one encoded video frame to a meeting joined with ``video={"send": True}``: a
        VP8 frame, or an H.264 access unit in Annex-B form, in the join's ``codec`` (the engine
        never encodes). ``keyframe`` as the encoder says (a VP8 frame marked as a keyframe is
        checked against its header, and a VP8 keyframe against ``meetings.resolution``);
        ``duration_us`` how long the frame is shown, 1/frame rate (66 667 at 15 fps): the
        next frame's RTP timestamp advances by it. Send a keyframe next when the client emits
        ``meeting:keyframeRequested``.

        Synchronous on both clients: it never blocks (the engine copies the frame with the
        GIL released and queues it; ``bytes`` is handed over without another copy, other
        buffers are copied once first); pace the frames yourself. Callable from any thread,
        handlers included. The buffer may be reused when it returns.

        Raises `InvalidArgumentError` (a `ValueError` and a `TypeError`) for an empty or
        malformed frame or an argument of the wrong type, naming it; `ClosedError` before
        joining with video, after leaving, or on a closed client; `NotFoundError` for an
        unknown meeting. While muted (``muteVideo``) frames are accepted and not sent."""
        _check_meeting_id(meeting_id)
        if type(keyframe) is not bool:
            raise _invalid(f"keyframe must be a bool, not {type(keyframe).__name__}")
        if type(duration_us) is not int or not 0 <= duration_us < 2**64:
            raise _invalid(f"duration_us must be a whole number of microseconds (1/frame rate); got {duration_us!r}")
        self._client._core.native.send_video(meeting_id, video_bytes(data), keyframe, duration_us)

    def dropped_audio_frames(self) -> int:
        """Received audio frames dropped so far because the app fell behind (the client holds 500)."""
        return self._dropped(AUDIO)

    def dropped_video_frames(self) -> int:
        """Received video frames dropped so far because the app fell behind (the client holds
        150). A dropped frame breaks decoding until the next keyframe: ask for one with
        ``meetings.requestKeyframe``."""
        return self._dropped(VIDEO)

    def _dropped(self, kind: MediaKind[Any]) -> int:
        router = self._client._core.frame_routers.get(kind.name)
        return 0 if router is None else int(router.dropped)

    # -- receivers ----------------------------------------------------------------------

    def _loop(self) -> Optional[asyncio.AbstractEventLoop]:
        """Where handlers run: None for the client's threads (`Webex`), else the loop."""
        return None

    def _handler(self, handler: Callable[[Any], Any], kind: MediaKind[Any]) -> _Receiver:
        return _SyncHandler(handler, kind)

    def _on(self, kind: MediaKind[Any], meeting_id: str, handler: Optional[Callable[[Any], Any]]) -> None:
        if handler is not None and not callable(handler):
            raise _invalid(f"on_{kind.name}: the handler must be callable (or None)")
        core = self._client._core
        if handler is None:
            router = core.frame_routers.get(kind.name)
            if router is None:
                if isinstance(meeting_id, str):
                    core.native.set_sink(kind.name, meeting_id, False)
                return
            self._set_receiver(kind, meeting_id, None, router)
            return
        router = self._router_for(kind, meeting_id)
        self._set_receiver(kind, meeting_id, self._handler(handler, kind), router)

    def _router_for(self, kind: MediaKind[Any], meeting_id: str) -> FrameRouter:
        """The client's router for ``kind``. Its thread starts with the first receiver, once
        the engine has taken the meeting's sink: an unknown meeting raises before it starts."""
        core = self._client._core
        router: Optional[FrameRouter] = core.frame_routers.get(kind.name)
        if router is None:
            _check_meeting_id(meeting_id)
            core.native.set_sink(kind.name, meeting_id, True)
            router = core.start_frames(kind.name, self._loop())
        return router

    def _set_receiver(
        self, kind: MediaKind[Any], meeting_id: str, receiver: Optional[_Receiver], router: FrameRouter
    ) -> None:
        native = self._client._core.native
        _check_meeting_id(meeting_id)
        if receiver is None:
            previous = router.set(meeting_id, None)
            if previous is not None:
                previous.end()
            native.set_sink(kind.name, meeting_id, False)
            return
        # The native sink first: an unknown meeting raises before anything changes.
        native.set_sink(kind.name, meeting_id, True)
        previous = router.set(meeting_id, receiver)
        if previous is not None:
            previous.end()


class MeetingsMedia(_MeetingsMediaBase):
    """The audio and video methods of `Webex.meetings`."""

    def on_audio(self, meeting_id: str, handler: Optional[Callable[[AudioFrame], Any]]) -> None:
        """Calls ``handler(frame)`` (an `AudioFrame`) for every frame received in the meeting,
        on the client's audio thread (``webex-audio-<handle>``), frames in batches as they were
        queued; `None` stops. One receiver per meeting: a new handler replaces the previous
        one. May be set before joining. The handler must keep up with real time (50 frames a
        second per speaker); past 500 queued frames the oldest are dropped
        (`dropped_audio_frames`)."""
        self._on(AUDIO, meeting_id, handler)

    def on_video(self, meeting_id: str, handler: Optional[Callable[[VideoFrame], Any]]) -> None:
        """Calls ``handler(frame)`` (a `VideoFrame`) for every encoded frame received in the
        meeting (join with ``video={"receive": True}``), on the client's video thread
        (``webex-video-<handle>``, separate from the audio and event threads), frames in
        batches as they were queued; `None` stops. One receiver per meeting: a new handler
        replaces the previous one. May be set before joining. Each sender's frames start at a
        keyframe. The handler must keep up (hand decoding to your own thread); past 150 queued
        frames the oldest are dropped (`dropped_video_frames`)."""
        self._on(VIDEO, meeting_id, handler)


class AsyncMeetingsMedia(_MeetingsMediaBase):
    """The audio and video methods of `AsyncWebex.meetings`."""

    def _loop(self) -> Optional[asyncio.AbstractEventLoop]:
        loop: asyncio.AbstractEventLoop = self._client._get_loop()
        return loop

    def _handler(self, handler: Callable[[Any], Any], kind: MediaKind[Any]) -> _Receiver:
        return _AsyncHandler(handler, kind, self._client._get_loop())

    def on_audio(self, meeting_id: str, handler: Optional[Callable[[AudioFrame], Any]]) -> None:
        """Calls ``handler(frame)`` on the event loop for every audio frame received in the
        meeting (a coroutine handler runs as a task); `None` stops. Frames reach the loop in
        batches (one ``call_soon_threadsafe`` per batch). One receiver per meeting."""
        self._on(AUDIO, meeting_id, handler)

    def on_video(self, meeting_id: str, handler: Optional[Callable[[VideoFrame], Any]]) -> None:
        """Calls ``handler(frame)`` on the event loop for every video frame received in the
        meeting (a coroutine handler runs as a task); `None` stops. Frames reach the loop in
        batches (one ``call_soon_threadsafe`` per batch). One receiver per meeting."""
        self._on(VIDEO, meeting_id, handler)

    def audio_frames(self, meeting_id: str) -> AsyncAudioStream:
        """``async for frame in client.meetings.audio_frames(meeting_id)``: the meeting's
        received audio frames on the event loop (``async with`` closes the stream). One
        receiver per meeting: a new stream or handler ends this one."""
        stream: AsyncAudioStream = self._stream(AUDIO, meeting_id)  # type: ignore[assignment]
        return stream

    def video_frames(self, meeting_id: str) -> AsyncVideoStream:
        """``async for frame in client.meetings.video_frames(meeting_id)``: the meeting's
        received video frames on the event loop (``async with`` closes the stream). One
        receiver per meeting: a new stream or handler ends this one."""
        stream: AsyncVideoStream = self._stream(VIDEO, meeting_id)  # type: ignore[assignment]
        return stream

    def _stream(self, kind: MediaKind[_F], meeting_id: str) -> AsyncFrameStream[_F]:
        router = self._router_for(kind, meeting_id)
        native = self._client._core.native

        def stop(stream: AsyncFrameStream[_F]) -> None:
            if router.remove_if(meeting_id, receiver) and not native.closed:
                try:
                    native.set_sink(kind.name, meeting_id, False)
                except Exception:
                    pass  # the meeting or client is gone: nothing is sent any more

        stream = kind.stream(stop, router)
        receiver = _StreamReceiver(stream)
        self._set_receiver(kind, meeting_id, receiver, router)
        return stream
