//! Meeting audio between JS and the engine.
//!
//! Sending is a plain synchronous call (`NativeClient::send_audio`): the engine encodes the
//! frame before it returns and never blocks, so the JS thread does not wait.
//!
//! Receiving: the engine calls a meeting's sink on a media task, once per 20 ms frame per
//! speaker, and the sink must not block. Here it copies the samples and queues them on a weak
//! thread-safe function with a bounded queue ([`QUEUE`] frames): when JS falls that far
//! behind, frames are dropped (never waited for) and counted; each frame JS gets carries the
//! count so far (`dropped`), and the engine log warns at the 1st, 2nd, 4th, 8th... drop.
//! The function is weak (it never keeps the process alive by itself) and is released when JS
//! clears the handler (`onAudio(id, null)`), replaces the sink, or closes the client.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use webex_core::boundary::{Handle, engine};
use webex_core::meetings::{AudioFrame, AudioSink};

/// Frames that may wait for the JS thread, per meeting (128 × 20 ms: 2.5 s of one speaker).
pub const QUEUE: usize = 128;

/// One received frame as JS gets it.
#[napi(object, object_from_js = false)]
pub struct JsAudioFrame {
    pub meeting_id: String,
    /// The speaker's participant id (`members[].id`); absent when the roster does not name it.
    pub participant_id: Option<String>,
    /// Interleaved 16-bit PCM, `frames × channels` samples (the JS side owns the copy).
    pub pcm: Int16Array,
    pub frames: u32,
    pub channels: u32,
    pub sample_rate: u32,
    pub rtp_timestamp: u32,
    /// Frames of this meeting dropped so far because JS was behind.
    pub dropped: f64,
}

/// The frame function: weak, never callee-handled, bounded.
type AudioFn = ThreadsafeFunction<JsAudioFrame, (), JsAudioFrame, Status, false, true, QUEUE>;

/// One meeting's delivery to JS.
struct Slot {
    tsfn: RwLock<Option<AudioFn>>,
    dropped: AtomicU64,
}

impl Slot {
    /// On the engine's media task: copy, queue without waiting, count what does not fit.
    fn deliver(&self, f: &AudioFrame<'_>) {
        let Ok(guard) = self.tsfn.read() else { return };
        let Some(tsfn) = guard.as_ref() else { return };
        let frame = JsAudioFrame {
            meeting_id: f.meeting_id.to_owned(),
            participant_id: f.participant_id.map(str::to_owned),
            pcm: Int16Array::new(f.samples.to_vec()),
            frames: u32::try_from(f.frames).unwrap_or(u32::MAX),
            channels: f.channels,
            sample_rate: f.sample_rate,
            rtp_timestamp: f.rtp_timestamp,
            dropped: self.dropped.load(Ordering::Relaxed) as f64,
        };
        if tsfn.call(frame, ThreadsafeFunctionCallMode::NonBlocking) == Status::QueueFull {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    target: "webex::node",
                    meeting = f.meeting_id,
                    "the JS thread is behind on received audio: {n} frame(s) dropped so far"
                );
            }
        }
        // Closing: the client or the environment is going away; nothing to do.
    }

    /// Release the function (any thread); later frames are ignored.
    fn release(&self) {
        let taken = self.tsfn.write().ok().and_then(|mut g| g.take());
        drop(taken);
    }
}

/// The audio deliveries of one client, by meeting id.
#[derive(Clone, Default)]
pub struct AudioSinks(Arc<Mutex<HashMap<String, Arc<Slot>>>>);

impl AudioSinks {
    /// Deliver meeting `meeting_id`'s received audio to `callback` (on the JS thread, in order
    /// per speaker), or stop (`None`). Engine errors (an unknown meeting) come back as they are.
    pub fn set(
        &self,
        handle: Handle,
        meeting_id: &str,
        callback: Option<Function<JsAudioFrame, ()>>,
    ) -> Result<webex_core::Result<()>> {
        let Some(callback) = callback else {
            if let Some(old) = self.0.lock().ok().and_then(|mut m| m.remove(meeting_id)) {
                old.release();
            }
            return Ok(engine().meeting_set_audio_sink(handle, meeting_id, None));
        };
        let tsfn: AudioFn = callback
            .build_threadsafe_function::<JsAudioFrame>()
            .callee_handled::<false>()
            .weak::<true>()
            .max_queue_size::<QUEUE>()
            .build()?;
        let slot = Arc::new(Slot { tsfn: RwLock::new(Some(tsfn)), dropped: AtomicU64::new(0) });
        let sink_slot = slot.clone();
        let sink: AudioSink = Arc::new(move |f: &AudioFrame<'_>| sink_slot.deliver(f));
        if let Err(e) = engine().meeting_set_audio_sink(handle, meeting_id, Some(sink)) {
            slot.release();
            return Ok(Err(e));
        }
        let old = self.0.lock().ok().and_then(|mut m| m.insert(meeting_id.to_owned(), slot));
        if let Some(old) = old {
            old.release();
        }
        Ok(Ok(()))
    }

    /// Release every delivery (the client is closing).
    pub fn release_all(&self) {
        let slots: Vec<Arc<Slot>> = self.0.lock().map(|mut m| m.drain().map(|(_, s)| s).collect()).unwrap_or_default();
        for slot in slots {
            slot.release();
        }
    }
}
