//! Meeting media (audio and video) between JS and the engine; one implementation for both
//! kinds, which differ only in the frame JS gets and the engine's sink ([`Kind`]).
//!
//! Sending is a plain synchronous call (`NativeClient::send_audio` / `send_video`): the engine
//! encodes (audio) or copies (video) the frame before it returns and never blocks, so the JS
//! thread does not wait.
//!
//! Receiving: the engine calls a meeting's sink on a media task, once per frame per source,
//! and the sink must not block. Here it copies the frame and queues it on a weak thread-safe
//! function with a bounded queue ([`QUEUE`] frames per meeting and kind): when JS falls that
//! far behind, frames are dropped (never waited for) and counted; each frame JS gets carries
//! the count so far (`dropped`), and the engine log warns at the 1st, 2nd, 4th, 8th... drop.
//! The function is weak (it never keeps the process alive by itself) and is released when JS
//! clears the handler (`onAudio(id, null)`, `onVideo(id, null)`), replaces the sink, or closes
//! the client.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use webex_core::boundary::{Handle, engine};
use webex_core::meetings::{AudioFrame, AudioSink, VideoFrame, VideoSink};

/// Frames that may wait for the JS thread, per meeting and kind (audio: 128 × 20 ms, 2.5 s of
/// one speaker; video: about 4 s of one 30 fps source).
pub const QUEUE: usize = 128;

/// One received audio frame as JS gets it.
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

/// One received (encoded) video frame as JS gets it.
#[napi(object, object_from_js = false)]
pub struct JsVideoFrame {
    pub meeting_id: String,
    /// The sender's participant id (`members[].id`); absent when the roster does not name it.
    pub participant_id: Option<String>,
    /// `VP8` or `H264`.
    pub codec: String,
    /// A VP8 frame or an H.264 access unit (Annex-B); the JS side owns the copy.
    pub data: Buffer,
    pub keyframe: bool,
    /// Pixels, from VP8 keyframes; 0 otherwise.
    pub width: u32,
    pub height: u32,
    /// 90 kHz clock.
    pub rtp_timestamp: u32,
    /// Frames of this meeting dropped so far because JS was behind.
    pub dropped: f64,
}

/// What differs between audio and video: the frame JS gets and the engine's sink.
pub trait Kind: Sized + Send + Sync + 'static {
    /// A frame as JS gets it (owned, sent to the JS thread).
    type Js: ToNapiValue + Send + 'static;
    /// The engine's sink type.
    type Sink;
    /// `audio` or `video`, for the log.
    const NAME: &'static str;
    /// The engine sink that copies each frame and hands it to `slot`.
    fn sink(slot: Arc<Slot<Self>>) -> Self::Sink;
    /// Sets (or clears, `None`) meeting `meeting_id`'s sink in the engine.
    fn set_sink(handle: Handle, meeting_id: &str, sink: Option<Self::Sink>) -> webex_core::Result<()>;
}

/// Received audio: decoded PCM.
pub struct Audio;
/// Received video: encoded frames.
pub struct Video;

impl Kind for Audio {
    type Js = JsAudioFrame;
    type Sink = AudioSink;
    const NAME: &'static str = "audio";

    fn sink(slot: Arc<Slot<Self>>) -> AudioSink {
        Arc::new(move |f: &AudioFrame<'_>| {
            slot.deliver(f.meeting_id, |dropped| JsAudioFrame {
                meeting_id: f.meeting_id.to_owned(),
                participant_id: f.participant_id.map(str::to_owned),
                pcm: Int16Array::new(f.samples.to_vec()),
                frames: u32::try_from(f.frames).unwrap_or(u32::MAX),
                channels: f.channels,
                sample_rate: f.sample_rate,
                rtp_timestamp: f.rtp_timestamp,
                dropped,
            })
        })
    }

    fn set_sink(handle: Handle, meeting_id: &str, sink: Option<AudioSink>) -> webex_core::Result<()> {
        engine().meeting_set_audio_sink(handle, meeting_id, sink)
    }
}

impl Kind for Video {
    type Js = JsVideoFrame;
    type Sink = VideoSink;
    const NAME: &'static str = "video";

    fn sink(slot: Arc<Slot<Self>>) -> VideoSink {
        Arc::new(move |f: &VideoFrame<'_>| {
            slot.deliver(f.meeting_id, |dropped| JsVideoFrame {
                meeting_id: f.meeting_id.to_owned(),
                participant_id: f.participant_id.map(str::to_owned),
                codec: f.codec.as_str().to_owned(),
                data: Buffer::from(f.data.to_vec()),
                keyframe: f.keyframe,
                width: f.width,
                height: f.height,
                rtp_timestamp: f.rtp_timestamp,
                dropped,
            })
        })
    }

    fn set_sink(handle: Handle, meeting_id: &str, sink: Option<VideoSink>) -> webex_core::Result<()> {
        engine().meeting_set_video_sink(handle, meeting_id, sink)
    }
}

/// The frame function: weak, never callee-handled, bounded.
type FrameFn<T> = ThreadsafeFunction<T, (), T, Status, false, true, QUEUE>;

/// One meeting's delivery of one kind to JS.
pub struct Slot<K: Kind> {
    tsfn: RwLock<Option<FrameFn<K::Js>>>,
    dropped: AtomicU64,
}

impl<K: Kind> Slot<K> {
    /// On the engine's media task: copy (`frame`, given the drops so far), queue without
    /// waiting, count what does not fit.
    fn deliver(&self, meeting_id: &str, frame: impl FnOnce(f64) -> K::Js) {
        let Ok(guard) = self.tsfn.read() else { return };
        let Some(tsfn) = guard.as_ref() else { return };
        let frame = frame(self.dropped.load(Ordering::Relaxed) as f64);
        if tsfn.call(frame, ThreadsafeFunctionCallMode::NonBlocking) == Status::QueueFull {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    target: "webex::node",
                    meeting = meeting_id,
                    "the JS thread is behind on received {}: {n} frame(s) dropped so far",
                    K::NAME
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

/// The deliveries of one kind of one client, by meeting id.
pub struct Sinks<K: Kind>(Arc<Mutex<HashMap<String, Arc<Slot<K>>>>>);

impl<K: Kind> Default for Sinks<K> {
    fn default() -> Self {
        Sinks(Arc::default())
    }
}

impl<K: Kind> Sinks<K> {
    /// Deliver meeting `meeting_id`'s received frames to `callback` (on the JS thread, in
    /// order per source), or stop (`None`). Engine errors (an unknown meeting) come back as
    /// they are.
    pub fn set(
        &self,
        handle: Handle,
        meeting_id: &str,
        callback: Option<Function<K::Js, ()>>,
    ) -> Result<webex_core::Result<()>> {
        let Some(callback) = callback else {
            if let Some(old) = self.0.lock().ok().and_then(|mut m| m.remove(meeting_id)) {
                old.release();
            }
            return Ok(K::set_sink(handle, meeting_id, None));
        };
        let tsfn: FrameFn<K::Js> = callback
            .build_threadsafe_function::<K::Js>()
            .callee_handled::<false>()
            .weak::<true>()
            .max_queue_size::<QUEUE>()
            .build()?;
        let slot = Arc::new(Slot::<K> { tsfn: RwLock::new(Some(tsfn)), dropped: AtomicU64::new(0) });
        if let Err(e) = K::set_sink(handle, meeting_id, Some(K::sink(slot.clone()))) {
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
        let slots: Vec<Arc<Slot<K>>> =
            self.0.lock().map(|mut m| m.drain().map(|(_, s)| s).collect()).unwrap_or_default();
        for slot in slots {
            slot.release();
        }
    }
}

/// A client's deliveries, both kinds.
#[derive(Default)]
pub struct MediaSinks {
    pub audio: Sinks<Audio>,
    pub video: Sinks<Video>,
}

impl MediaSinks {
    /// Release every delivery of both kinds (the client is closing).
    pub fn release_all(&self) {
        self.audio.release_all();
        self.video.release_all();
    }
}
