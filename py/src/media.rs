//! Meeting audio and video across the GIL: frames in (`NativeClient.send_audio` /
//! `send_video`, the GIL released while the engine copies, encodes and queues) and frames out
//! (a meeting's sink queues them, bounded, without touching Python; one Python thread per
//! client and kind takes them in batches with `FrameQueue`). Audio and video share everything
//! but the owned frame type ([`RawAudio`], [`RawVideo`]) and the queue's bound.

use crate::{Queue, to_pyerr};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::Arc;
use webex_core::boundary::{Handle, engine};
use webex_core::meetings::{AudioFrame, AudioSink, VideoFrame, VideoSink};
use webex_core::{Error, ErrorCode};

/// How many received audio frames a client holds for Python (10 s of one speaker at 20 ms a
/// frame); past that the oldest go and are counted.
pub(crate) const AUDIO_QUEUE_FRAMES: usize = 500;

/// How many received video frames a client holds for Python (5 s of one sender at 30 fps);
/// past that the oldest go and are counted.
pub(crate) const VIDEO_QUEUE_FRAMES: usize = 150;

/// The kinds of media frames a client receives: each has its own queue and Python thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Audio,
    Video,
}

impl Kind {
    pub(crate) fn parse(py: Python<'_>, kind: &str) -> PyResult<Kind> {
        match kind {
            "audio" => Ok(Kind::Audio),
            "video" => Ok(Kind::Video),
            other => {
                Err(to_pyerr(py, &Error::invalid(format!("media kind must be \"audio\" or \"video\", not {other:?}"))))
            }
        }
    }
}

/// A received frame, owned: queued on the media task, turned into a Python tuple (the
/// arguments of `AudioFrame` / `VideoFrame`, meeting id first) on the thread that takes the
/// batch.
pub(crate) trait RawFrame: Send + 'static {
    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>>;
}

/// One received audio frame: `(meeting_id, participant_id, pcm, frames, channels,
/// sample_rate, rtp_timestamp)` in Python.
pub(crate) struct RawAudio {
    meeting_id: String,
    participant_id: Option<String>,
    /// Interleaved 16-bit PCM in native byte order (what `array('h')` reads).
    pcm: Vec<u8>,
    frames: usize,
    channels: u32,
    sample_rate: u32,
    rtp_timestamp: u32,
}

impl RawAudio {
    fn from_frame(f: &AudioFrame<'_>) -> RawAudio {
        let mut pcm = Vec::with_capacity(f.samples.len() * 2);
        for s in f.samples {
            pcm.extend_from_slice(&s.to_ne_bytes());
        }
        RawAudio {
            meeting_id: f.meeting_id.to_owned(),
            participant_id: f.participant_id.map(str::to_owned),
            pcm,
            frames: f.frames,
            channels: f.channels,
            sample_rate: f.sample_rate,
            rtp_timestamp: f.rtp_timestamp,
        }
    }
}

impl RawFrame for RawAudio {
    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        let pcm = PyBytes::new(py, &self.pcm);
        let tuple = (
            self.meeting_id,
            self.participant_id,
            pcm,
            self.frames,
            self.channels,
            self.sample_rate,
            self.rtp_timestamp,
        );
        Ok(tuple.into_pyobject(py)?.into_any())
    }
}

/// One received encoded video frame: `(meeting_id, participant_id, codec, data, keyframe,
/// width, height, rtp_timestamp)` in Python.
pub(crate) struct RawVideo {
    meeting_id: String,
    participant_id: Option<String>,
    codec: &'static str,
    data: Vec<u8>,
    keyframe: bool,
    width: u32,
    height: u32,
    rtp_timestamp: u32,
}

impl RawVideo {
    fn from_frame(f: &VideoFrame<'_>) -> RawVideo {
        RawVideo {
            meeting_id: f.meeting_id.to_owned(),
            participant_id: f.participant_id.map(str::to_owned),
            codec: f.codec.as_str(),
            data: f.data.to_vec(),
            keyframe: f.keyframe,
            width: f.width,
            height: f.height,
            rtp_timestamp: f.rtp_timestamp,
        }
    }
}

impl RawFrame for RawVideo {
    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        let data = PyBytes::new(py, &self.data);
        let tuple = (
            self.meeting_id,
            self.participant_id,
            self.codec,
            data,
            self.keyframe,
            self.width,
            self.height,
            self.rtp_timestamp,
        );
        Ok(tuple.into_pyobject(py)?.into_any())
    }
}

/// What `FrameQueue` needs of a client's queue of one kind of frame.
trait Frames: Send + Sync {
    /// Everything queued, waiting (GIL released) for at least one; `None` once closed and empty.
    fn next_batch<'py>(&self, py: Python<'py>) -> PyResult<Option<Vec<Bound<'py, PyAny>>>>;
    fn dropped(&self) -> u64;
    fn close(&self);
}

impl<T: RawFrame> Frames for Arc<Queue<T>> {
    fn next_batch<'py>(&self, py: Python<'py>) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
        let queue = self.clone();
        let Some(batch) = py.detach(move || queue.take_all()) else { return Ok(None) };
        batch.into_iter().map(|f| f.into_py(py)).collect::<PyResult<Vec<_>>>().map(Some)
    }

    fn dropped(&self) -> u64 {
        Queue::dropped(self)
    }

    fn close(&self) {
        Queue::close(self)
    }
}

/// A client's received frames of one kind (audio or video): every meeting's sink of that kind
/// pushes here.
#[pyclass(module = "webex_native._native", frozen)]
pub struct FrameQueue {
    frames: Box<dyn Frames>,
}

impl FrameQueue {
    pub(crate) fn new<T: RawFrame>(queue: &Arc<Queue<T>>) -> FrameQueue {
        FrameQueue { frames: Box::new(queue.clone()) }
    }
}

#[pymethods]
impl FrameQueue {
    /// `(frames, dropped)`: every frame queued so far as tuples (the arguments of `AudioFrame`
    /// or `VideoFrame`), waiting (GIL released) for at least one, and how many frames of this
    /// kind the client dropped in all because Python fell behind; `None` once the client is
    /// closed and every frame was taken.
    #[allow(clippy::type_complexity)]
    fn next_batch<'py>(&self, py: Python<'py>) -> PyResult<Option<(Vec<Bound<'py, PyAny>>, u64)>> {
        Ok(self.frames.next_batch(py)?.map(|batch| (batch, self.frames.dropped())))
    }

    /// How many frames were dropped so far.
    #[getter]
    fn dropped(&self) -> u64 {
        self.frames.dropped()
    }

    /// Ends the stream (the delivering thread then finishes).
    fn close(&self) {
        self.frames.close();
    }
}

/// The audio sink for one meeting of a client: queues each frame (dropping the oldest past
/// [`AUDIO_QUEUE_FRAMES`]). Runs on an engine media task: a short mutex, never the GIL.
pub(crate) fn audio_sink(queue: &Arc<Queue<RawAudio>>) -> AudioSink {
    let queue = queue.clone();
    Arc::new(move |f: &AudioFrame<'_>| queue.push_bounded(RawAudio::from_frame(f), AUDIO_QUEUE_FRAMES))
}

/// The video sink for one meeting of a client, like [`audio_sink`] (bound
/// [`VIDEO_QUEUE_FRAMES`]).
pub(crate) fn video_sink(queue: &Arc<Queue<RawVideo>>) -> VideoSink {
    let queue = queue.clone();
    Arc::new(move |f: &VideoFrame<'_>| queue.push_bounded(RawVideo::from_frame(f), VIDEO_QUEUE_FRAMES))
}

/// Sends one audio frame (native-order 16-bit PCM bytes), the GIL released while it is
/// converted and encoded.
pub(crate) fn send_audio(py: Python<'_>, handle: Handle, meeting_id: &str, pcm: &[u8], channels: u32) -> PyResult<()> {
    if !pcm.len().is_multiple_of(2) {
        return Err(to_pyerr(
            py,
            &Error::new(
                ErrorCode::InvalidArgument,
                format!("pcm has {} bytes: not a whole number of 16-bit samples", pcm.len()),
            ),
        ));
    }
    let sent = py.detach(|| {
        let samples: Vec<i16> = pcm.chunks_exact(2).map(|b| i16::from_ne_bytes([b[0], b[1]])).collect();
        engine().meeting_send_audio(handle, meeting_id, &samples, channels)
    });
    sent.map_err(|e| to_pyerr(py, &e))
}

/// Sends one encoded video frame, the GIL released while the engine checks, copies and queues
/// it (`data` borrows the caller's immutable `bytes`).
pub(crate) fn send_video(
    py: Python<'_>,
    handle: Handle,
    meeting_id: &str,
    data: &[u8],
    keyframe: bool,
    duration_us: u64,
) -> PyResult<()> {
    let sent = py.detach(|| engine().meeting_send_video(handle, meeting_id, data, keyframe, duration_us));
    sent.map_err(|e| to_pyerr(py, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use webex_core::meetings::VideoCodec;

    fn frame(samples: &[i16]) -> AudioFrame<'_> {
        AudioFrame {
            meeting_id: "m",
            participant_id: Some("p"),
            samples,
            frames: samples.len(),
            channels: 1,
            sample_rate: 48_000,
            rtp_timestamp: 7,
        }
    }

    #[test]
    fn the_audio_sink_keeps_the_newest_frames_and_counts_the_rest() {
        let q: Arc<Queue<RawAudio>> = Queue::new();
        let sink = audio_sink(&q);
        for i in 0..(AUDIO_QUEUE_FRAMES as i16 + 3) {
            sink(&frame(&[i, -i]));
        }
        let batch = q.take_all().unwrap();
        assert_eq!((batch.len(), q.dropped()), (AUDIO_QUEUE_FRAMES, 3));
        let first = &batch[0];
        assert_eq!(first.pcm, [3i16.to_ne_bytes(), (-3i16).to_ne_bytes()].concat());
        assert_eq!((first.meeting_id.as_str(), first.participant_id.as_deref()), ("m", Some("p")));
        assert_eq!((first.frames, first.channels, first.sample_rate, first.rtp_timestamp), (2, 1, 48_000, 7));
    }

    #[test]
    fn the_video_sink_keeps_the_newest_frames_and_counts_the_rest() {
        let q: Arc<Queue<RawVideo>> = Queue::new();
        let sink = video_sink(&q);
        for i in 0..(VIDEO_QUEUE_FRAMES + 2) {
            let data = [i as u8, 1, 2];
            sink(&VideoFrame {
                meeting_id: "m",
                participant_id: None,
                codec: VideoCodec::H264,
                data: &data,
                keyframe: i % 2 == 0,
                width: 0,
                height: 0,
                rtp_timestamp: i as u32,
            });
        }
        let batch = q.take_all().unwrap();
        assert_eq!((batch.len(), q.dropped()), (VIDEO_QUEUE_FRAMES, 2));
        let first = &batch[0];
        assert_eq!(
            (first.codec, first.data.as_slice(), first.keyframe, first.rtp_timestamp),
            ("H264", &[2u8, 1, 2][..], true, 2)
        );
    }
}
