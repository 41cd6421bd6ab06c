//! Meeting audio across the GIL: frames in (`NativeClient.send_audio`, the GIL released while
//! the engine encodes) and frames out (a meeting's audio sink queues them, bounded, without
//! touching Python; one Python thread per client takes them in batches with `AudioQueue`).

use crate::{Queue, to_pyerr};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::Arc;
use webex_core::boundary::{Handle, engine};
use webex_core::meetings::{AudioFrame, AudioSink};
use webex_core::{Error, ErrorCode};

/// How many received frames a client holds for Python (10 s of one speaker at 20 ms a frame);
/// past that the oldest go and are counted.
pub(crate) const AUDIO_QUEUE_FRAMES: usize = 500;

/// One received frame, owned: queued on the media task, turned into Python objects on the
/// thread that takes the batch.
pub(crate) struct RawFrame {
    meeting_id: String,
    participant_id: Option<String>,
    /// Interleaved 16-bit PCM in native byte order (what `array('h')` reads).
    pcm: Vec<u8>,
    frames: usize,
    channels: u32,
    sample_rate: u32,
    rtp_timestamp: u32,
}

impl RawFrame {
    fn from_frame(f: &AudioFrame<'_>) -> RawFrame {
        let mut pcm = Vec::with_capacity(f.samples.len() * 2);
        for s in f.samples {
            pcm.extend_from_slice(&s.to_ne_bytes());
        }
        RawFrame {
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

/// A frame as Python gets it: `(meeting_id, participant_id, pcm, frames, channels,
/// sample_rate, rtp_timestamp)`.
type PyFrame<'py> = (String, Option<String>, Bound<'py, PyBytes>, usize, u32, u32, u32);

/// A client's received audio: every meeting's sink pushes here.
#[pyclass(module = "webex_native._native", frozen)]
pub struct AudioQueue {
    pub(crate) queue: Arc<Queue<RawFrame>>,
}

#[pymethods]
impl AudioQueue {
    /// `(frames, dropped)`: every frame queued so far, waiting (GIL released) for at least one,
    /// and how many frames this client dropped in all because Python fell behind; `None` once
    /// the client is closed and every frame was taken.
    #[allow(clippy::type_complexity)]
    fn next_batch<'py>(&self, py: Python<'py>) -> Option<(Vec<PyFrame<'py>>, u64)> {
        let queue = self.queue.clone();
        let (batch, dropped) = py.detach(move || queue.take_all().map(|b| (b, queue.dropped())))?;
        let frames = batch
            .into_iter()
            .map(|f| {
                let pcm = PyBytes::new(py, &f.pcm);
                (f.meeting_id, f.participant_id, pcm, f.frames, f.channels, f.sample_rate, f.rtp_timestamp)
            })
            .collect();
        Some((frames, dropped))
    }

    /// How many frames were dropped so far.
    #[getter]
    fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// Ends the stream (the delivering thread then finishes).
    fn close(&self) {
        self.queue.close();
    }
}

/// The sink for one meeting of a client: queues each frame (dropping the oldest past
/// [`AUDIO_QUEUE_FRAMES`]). Runs on an engine media task: a short mutex, never the GIL.
pub(crate) fn sink(queue: &Arc<Queue<RawFrame>>) -> AudioSink {
    let queue = queue.clone();
    Arc::new(move |f: &AudioFrame<'_>| queue.push_bounded(RawFrame::from_frame(f), AUDIO_QUEUE_FRAMES))
}

/// Sends one frame (native-order 16-bit PCM bytes), the GIL released while it is converted and
/// encoded.
pub(crate) fn send(py: Python<'_>, handle: Handle, meeting_id: &str, pcm: &[u8], channels: u32) -> PyResult<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_sink_keeps_the_newest_frames_and_counts_the_rest() {
        let q: Arc<Queue<RawFrame>> = Queue::new();
        let sink = sink(&q);
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
}
