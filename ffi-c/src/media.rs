//! Meeting media for C, no JSON on this path and no allocation per sample:
//! - audio: 16-bit PCM at 48 kHz into a meeting (`webex_meeting_send_audio`) and out of it, one
//!   callback per decoded frame of each remote speaker (`webex_meeting_set_audio_callback`);
//! - video: encoded VP8 / H.264 frames into a meeting (`webex_meeting_send_video`) and out of
//!   it, one callback per reassembled frame of each remote sender
//!   (`webex_meeting_set_video_callback`).
//!
//! Both callbacks share one implementation ([`crate::frame_callback`]): the same threads, the
//! same replacing and clearing rules.

use crate::frame_callback::{self, FrameKind, Slot};
use crate::{entry, str_arg};
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use webex_core::Error;
use webex_core::boundary::engine;
use webex_core::meetings::{AudioFrame, AudioSink, VideoCodec, VideoFrame, VideoSink};

/// One frame of a remote participant's audio, as given to a `webex_audio_frame_cb`.
///
/// Ownership: the struct and everything it points to are borrowed, valid only until the
/// callback returns; copy the samples (and strings) you keep.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct webex_audio_frame {
    /// The meeting (`id` of `meetings.create`), NUL-terminated.
    pub meeting_id: *const c_char,
    /// The speaker's Locus participant id (`members[].id` of `meetings.members`), or NULL
    /// while the roster does not name them yet.
    pub participant_id: *const c_char,
    /// Interleaved 16-bit PCM: `frames * channels` samples.
    pub samples: *const i16,
    /// Samples per channel (960: 20 ms).
    pub frames: usize,
    /// 1 or 2 (meetings joined through `meetings.join` receive mono: 1).
    pub channels: u32,
    /// Always 48000.
    pub sample_rate: u32,
    /// The RTP timestamp of the frame (48 kHz clock), for ordering and gap detection.
    pub rtp_timestamp: u32,
}

/// Receives one decoded frame of a remote participant's audio.
///
/// Thread: runs on engine threads, never on the thread that set it. The frames of one speaker
/// arrive one at a time, in order; frames of different speakers may arrive concurrently on
/// different threads. It must not block (copy the samples to your own buffer or queue) and
/// must not close its client (unlike event and result callbacks, a frame callback is not
/// among those `webex_client_close_async` may be called from). It may call
/// `webex_meeting_send_audio`.
///
/// Ownership: `frame` and all its pointers are borrowed for the call only. `user_data` is the
/// pointer given to `webex_meeting_set_audio_callback`, passed back untouched.
#[allow(non_camel_case_types)]
pub type webex_audio_frame_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *const webex_audio_frame)>;

/// Sends one frame of audio to a meeting joined with `"audio": {"send": true}`: interleaved
/// 16-bit PCM at 48 kHz, `samples` holding `frames * channels` values, `frames` 480 or 960
/// (10 or 20 ms), `channels` 1 or 2. Send one frame per 10 or 20 ms of real time: the engine
/// paces nothing and drops frames beyond a short queue.
///
/// Synchronous and thread-safe: it never blocks, may be called from any thread, including a
/// `webex_audio_frame_cb` or any other callback, and encodes the samples before it returns
/// (the buffer may be reused at once). While the meeting's audio is muted the frame is
/// accepted and dropped.
///
/// Errors: `WEBEX_INVALID_ARGUMENT` for a NULL `meeting_id`, NULL `samples` with `frames > 0`,
/// or a wrong `frames` / `channels` (the message says which and what it got);
/// `WEBEX_NOT_FOUND` for a meeting the client does not have; `WEBEX_CLOSED` when the meeting
/// is not JOINED with audio sending on (before the join, after `meetings.leave`) or the client
/// was closed.
///
/// Ownership: `meeting_id` and `samples` are borrowed for the call.
///
/// # Safety
/// `meeting_id` is NULL or a NUL-terminated string; `samples` is NULL or valid for reads of
/// `frames * channels` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_meeting_send_audio(
    client: u64,
    meeting_id: *const c_char,
    samples: *const i16,
    frames: usize,
    channels: u32,
) -> crate::WebexStatus {
    entry(|| {
        // SAFETY: per this function's contract.
        let meeting_id = unsafe { str_arg(meeting_id, "meeting_id") }?;
        if !matches!(channels, 1 | 2) {
            return Err(Error::invalid(format!("channels must be 1 or 2; got {channels}")));
        }
        if frames != 480 && frames != 960 {
            return Err(Error::invalid(format!(
                "frames must be 480 or 960 samples per channel (10 or 20 ms at 48 kHz); got {frames}"
            )));
        }
        if samples.is_null() {
            return Err(Error::invalid(format!("samples is NULL (with frames = {frames})")));
        }
        // SAFETY: non-NULL and valid for `frames * channels` reads (this function's contract);
        // both are small (checked above).
        let pcm = unsafe { std::slice::from_raw_parts(samples, frames * channels as usize) };
        engine().meeting_send_audio(client, meeting_id, pcm, channels)
    })
}

/// Sets the function that receives a meeting's audio: one call per decoded 20 ms frame of
/// each remote speaker (see `webex_audio_frame_cb` for its threads). May be set before
/// `meetings.join` (receiving needs `"audio": {"receive": true}` in the join); setting it
/// again replaces the previous callback. NULL `callback` clears it.
///
/// Replacing or clearing waits: when it returns, no call of the previous callback is running
/// and none will start, so the previous `user_data` may be freed. Called from a callback (an
/// engine thread) it cannot wait (that call may be the one running): it only guarantees that
/// no new call starts.
///
/// Clearing also works after `meetings.leave` and after `webex_client_close` (it returns
/// `WEBEX_OK` for a closed client), so "clear, then free `user_data`" is always safe.
///
/// `meetings.leave` completes, and `webex_client_close` returns, only once a running call of
/// this callback has returned: a callback must not wait for something the app does only
/// after the leave completed (or the close returned), or neither ever finishes.
///
/// Errors: `WEBEX_INVALID_ARGUMENT` for a NULL `meeting_id`; `WEBEX_NOT_FOUND` for a meeting
/// the client does not have; `WEBEX_CLOSED` / `WEBEX_INVALID_HANDLE` for the client handle.
/// On an error nothing changes.
///
/// Ownership: `meeting_id` is borrowed for the call. `user_data` is not touched by the
/// library, only passed to `callback`; it must stay valid until the callback is replaced or
/// cleared (by a call from a thread that is not an engine thread).
///
/// # Safety
/// `meeting_id` is NULL or a NUL-terminated string; `callback` (when not NULL) may be called
/// from engine threads with `user_data` until it is replaced or cleared.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_meeting_set_audio_callback(
    client: u64,
    meeting_id: *const c_char,
    callback: webex_audio_frame_cb,
    user_data: *mut c_void,
) -> crate::WebexStatus {
    // SAFETY: per this function's contract.
    entry(|| unsafe { frame_callback::set_callback::<Audio>(client, meeting_id, callback, user_data) })
}

/// Audio frames for `frame_callback`.
struct Audio;

impl FrameKind for Audio {
    type C = webex_audio_frame;

    fn install(client: u64, meeting_id: &str, slot: Option<Arc<Slot<webex_audio_frame>>>) -> webex_core::Result<()> {
        let sink = slot.map(|slot| -> AudioSink {
            Arc::new(move |f: &AudioFrame<'_>| {
                slot.deliver(f.meeting_id, f.participant_id, |meeting_id, participant_id| webex_audio_frame {
                    meeting_id,
                    participant_id,
                    samples: f.samples.as_ptr(),
                    frames: f.frames,
                    channels: f.channels,
                    sample_rate: f.sample_rate,
                    rtp_timestamp: f.rtp_timestamp,
                })
            })
        });
        engine().meeting_set_audio_sink(client, meeting_id, sink)
    }
}

/// One encoded frame of a remote participant's video, as given to a `webex_video_frame_cb`.
/// The engine never decodes video: `data` is what the sender's encoder produced, whole
/// (reassembled from its RTP packets), and the first frame of a sender is a keyframe.
///
/// Ownership: the struct and everything it points to are borrowed, valid only until the
/// callback returns; copy the data (and strings) you keep.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct webex_video_frame {
    /// The meeting (`id` of `meetings.create`), NUL-terminated.
    pub meeting_id: *const c_char,
    /// The sender's Locus participant id (`members[].id` of `meetings.members`), or NULL
    /// while the roster does not name them yet.
    pub participant_id: *const c_char,
    /// `"VP8"` or `"H264"` (a static string).
    pub codec: *const c_char,
    /// The frame: a VP8 frame, or an H.264 access unit in Annex-B form (with start codes).
    pub data: *const u8,
    /// Bytes at `data`.
    pub len: usize,
    /// A keyframe (VP8: the key frame bit; H.264: an IDR slice or an SPS).
    pub keyframe: bool,
    /// Width in pixels of a VP8 keyframe (from its header); 0 for other frames.
    pub width: u32,
    /// Height in pixels of a VP8 keyframe (from its header); 0 for other frames.
    pub height: u32,
    /// The RTP timestamp of the frame (90 kHz clock), for ordering and display timing.
    pub rtp_timestamp: u32,
}

/// Receives one encoded frame of a remote participant's video.
///
/// Thread: the same rules as `webex_audio_frame_cb`. It runs on engine threads, never on the
/// thread that set it. The frames of one received stream arrive one at a time, in order;
/// frames of different streams may arrive concurrently on different threads. It must not
/// block (copy the data to your own buffer or queue; decode elsewhere) and must not close its
/// client (as for audio frames). It may call `webex_meeting_send_video` and
/// `webex_meeting_send_audio`.
///
/// Ownership: `frame` and all its pointers are borrowed for the call only. `user_data` is the
/// pointer given to `webex_meeting_set_video_callback`, passed back untouched.
#[allow(non_camel_case_types)]
pub type webex_video_frame_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *const webex_video_frame)>;

/// Sends one encoded video frame to a meeting joined with `"video": {"send": true}`: a VP8
/// frame or an H.264 access unit (Annex-B, with start codes) in the join's `video.codec`
/// (default VP8). `keyframe` says what the encoder made (a VP8 frame marked as a keyframe must
/// be one; VP8 keyframes larger than `meetings.resolution` are refused); `duration_us` is how
/// long the frame is shown, 1/frame rate (66667 at 15 fps): the RTP clock of the next frame
/// moves on by it. Send one frame per `duration_us` of real time: the engine paces nothing and
/// drops frames beyond a short queue. Send a keyframe first, and when the client emits
/// `meeting:keyframeRequested`.
///
/// Synchronous and thread-safe: it never blocks, may be called from any thread, including a
/// frame callback or any other callback, and copies the data before it returns (the buffer
/// may be reused at once). While the meeting's video is muted the frame is accepted and
/// dropped.
///
/// Errors: `WEBEX_INVALID_ARGUMENT` for a NULL `meeting_id`, NULL `data` with `len > 0`, an
/// empty frame (`len` 0), a zero `duration_us`, or a VP8 frame that is not what it claims (the
/// message says what is wrong); `WEBEX_NOT_FOUND` for a meeting the client does not have;
/// `WEBEX_CLOSED` when the meeting is not JOINED with video sending on (before the join, after
/// `meetings.leave`) or the client was closed.
///
/// Ownership: `meeting_id` and `data` are borrowed for the call.
///
/// # Safety
/// `meeting_id` is NULL or a NUL-terminated string; `data` is NULL or valid for reads of `len`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_meeting_send_video(
    client: u64,
    meeting_id: *const c_char,
    data: *const u8,
    len: usize,
    keyframe: bool,
    duration_us: u64,
) -> crate::WebexStatus {
    entry(|| {
        // SAFETY: per this function's contract.
        let meeting_id = unsafe { str_arg(meeting_id, "meeting_id") }?;
        let frame: &[u8] = match (data.is_null(), len) {
            (_, 0) => &[],
            (true, _) => return Err(Error::invalid(format!("data is NULL (with len = {len})"))),
            // SAFETY: non-NULL and valid for `len` reads (this function's contract).
            (false, _) => unsafe { std::slice::from_raw_parts(data, len) },
        };
        engine().meeting_send_video(client, meeting_id, frame, keyframe, duration_us)
    })
}

/// Sets the function that receives a meeting's video: one call per encoded frame of each
/// remote sender (see `webex_video_frame_cb` for its threads). May be set before
/// `meetings.join` (receiving needs `"video": {"receive": true}` in the join); setting it
/// again replaces the previous callback. NULL `callback` clears it. Audio and video callbacks
/// are independent: setting one never touches the other.
///
/// The same rules as `webex_meeting_set_audio_callback`: replacing or clearing waits, so when
/// it returns no call of the previous callback is running and none will start, and the
/// previous `user_data` may be freed. Called from a callback (an engine thread) it cannot wait
/// (that call may be the one running): it only guarantees that no new call starts.
///
/// Clearing also works after `meetings.leave` and after `webex_client_close` (it returns
/// `WEBEX_OK` for a closed client), so "clear, then free `user_data`" is always safe.
///
/// Errors: `WEBEX_INVALID_ARGUMENT` for a NULL `meeting_id`; `WEBEX_NOT_FOUND` for a meeting
/// the client does not have; `WEBEX_CLOSED` / `WEBEX_INVALID_HANDLE` for the client handle.
/// On an error nothing changes.
///
/// Ownership: `meeting_id` is borrowed for the call. `user_data` is not touched by the
/// library, only passed to `callback`; it must stay valid until the callback is replaced or
/// cleared (by a call from a thread that is not an engine thread).
///
/// # Safety
/// `meeting_id` is NULL or a NUL-terminated string; `callback` (when not NULL) may be called
/// from engine threads with `user_data` until it is replaced or cleared.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_meeting_set_video_callback(
    client: u64,
    meeting_id: *const c_char,
    callback: webex_video_frame_cb,
    user_data: *mut c_void,
) -> crate::WebexStatus {
    // SAFETY: per this function's contract.
    entry(|| unsafe { frame_callback::set_callback::<Video>(client, meeting_id, callback, user_data) })
}

/// Video frames for `frame_callback`.
struct Video;

impl FrameKind for Video {
    type C = webex_video_frame;

    fn install(client: u64, meeting_id: &str, slot: Option<Arc<Slot<webex_video_frame>>>) -> webex_core::Result<()> {
        let sink = slot.map(|slot| -> VideoSink {
            Arc::new(move |f: &VideoFrame<'_>| {
                slot.deliver(f.meeting_id, f.participant_id, |meeting_id, participant_id| webex_video_frame {
                    meeting_id,
                    participant_id,
                    codec: codec_name(f.codec),
                    data: f.data.as_ptr(),
                    len: f.data.len(),
                    keyframe: f.keyframe,
                    width: f.width,
                    height: f.height,
                    rtp_timestamp: f.rtp_timestamp,
                })
            })
        });
        engine().meeting_set_video_sink(client, meeting_id, sink)
    }
}

/// The codec's name as a static C string.
fn codec_name(codec: VideoCodec) -> *const c_char {
    match codec {
        VideoCodec::Vp8 => c"VP8".as_ptr(),
        VideoCodec::H264 => c"H264".as_ptr(),
    }
}
