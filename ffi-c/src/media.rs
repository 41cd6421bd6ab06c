//! Meeting audio for C: 16-bit PCM at 48 kHz into a meeting (`webex_meeting_send_audio`) and
//! out of it, one callback per decoded frame of each remote speaker
//! (`webex_meeting_set_audio_callback`). No JSON on this path and no allocation per sample.
//!
//! The callback is kept in a [`Slot`] the engine's sink shares. A call marks the slot busy
//! while the C function runs; replacing or clearing the callback empties the slot and (off
//! engine threads) waits until the slot is idle, so the old `user_data` may be freed as soon
//! as that returns.

use crate::{UserData, entry, str_arg};
use std::collections::HashMap;
use std::ffi::{CString, c_char, c_void};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use webex_core::boundary::engine;
use webex_core::meetings::{AudioFrame, AudioSink};
use webex_core::{Error, ErrorCode};

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
/// must not close its client. It may call `webex_meeting_send_audio`.
///
/// Ownership: `frame` and all its pointers are borrowed for the call only. `user_data` is the
/// pointer given to `webex_meeting_set_audio_callback`, passed back untouched.
#[allow(non_camel_case_types)]
pub type webex_audio_frame_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *const webex_audio_frame)>;

type Callback = unsafe extern "C" fn(*mut c_void, *const webex_audio_frame);

/// The C callback of one `webex_meeting_set_audio_callback`, shared with the engine's sink.
struct Slot {
    state: Mutex<SlotState>,
    idle: Condvar,
    /// The meeting id given when setting, as C text (the engine names the same meeting).
    meeting_id: CString,
    /// Participant ids as C text, built once per speaker.
    participants: Mutex<HashMap<String, Arc<CString>>>,
}

struct SlotState {
    /// `None` once replaced or cleared: later frames are dropped.
    callback: Option<(Callback, UserData)>,
    /// Calls of `callback` running now.
    running: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stay consistent (no user code runs under these locks).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Decrements `running` when a call ends, also if it unwinds.
struct Running<'a>(&'a Slot);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.0.state);
        state.running -= 1;
        if state.running == 0 {
            self.0.idle.notify_all();
        }
    }
}

impl Slot {
    fn participant(&self, id: &str) -> Arc<CString> {
        let mut cache = lock(&self.participants);
        if let Some(c) = cache.get(id) {
            return c.clone();
        }
        let c = Arc::new(crate::to_cstring(id.to_owned()));
        cache.insert(id.to_owned(), c.clone());
        c
    }

    fn deliver(&self, f: &AudioFrame<'_>) {
        let (callback, user_data) = {
            let mut state = lock(&self.state);
            let Some(cb) = state.callback else { return };
            state.running += 1;
            cb
        };
        let _running = Running(self);
        let other_meeting;
        let meeting_id = if self.meeting_id.as_bytes() == f.meeting_id.as_bytes() {
            self.meeting_id.as_ptr()
        } else {
            other_meeting = crate::to_cstring(f.meeting_id.to_owned());
            other_meeting.as_ptr()
        };
        let participant = f.participant_id.map(|p| self.participant(p));
        let frame = webex_audio_frame {
            meeting_id,
            participant_id: participant.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
            samples: f.samples.as_ptr(),
            frames: f.frames,
            channels: f.channels,
            sample_rate: f.sample_rate,
            rtp_timestamp: f.rtp_timestamp,
        };
        // SAFETY: the caller's callback with the caller's pointer (their contract); `frame` and
        // the strings and samples it points to outlive the call.
        unsafe { callback(user_data.get(), &frame) };
    }

    /// Empties the slot; with `wait`, returns once no call of the old callback runs.
    fn retire(&self, wait: bool) {
        let mut state = lock(&self.state);
        state.callback = None;
        while wait && state.running > 0 {
            state = self.idle.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The slot installed for each (client, meeting). Weak: the engine's sink owns the slot, and
/// drops it with the meeting.
type Slots = HashMap<(u64, String), Weak<Slot>>;
static SLOTS: Mutex<Option<Slots>> = Mutex::new(None);

fn on_engine_thread() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

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
    entry(|| {
        // SAFETY: per this function's contract.
        let meeting_id = unsafe { str_arg(meeting_id, "meeting_id") }?;
        let key = (client, meeting_id.to_owned());
        let new = callback.map(|cb| {
            Arc::new(Slot {
                state: Mutex::new(SlotState { callback: Some((cb, UserData(user_data))), running: 0 }),
                idle: Condvar::new(),
                meeting_id: crate::to_cstring(meeting_id.to_owned()),
                participants: Mutex::new(HashMap::new()),
            })
        });
        // The engine's sink and the table change together (two setters racing stay
        // consistent); the wait for the old callback happens after, without the table lock (a
        // running callback may itself set a callback).
        let (result, old) = {
            let mut slots = lock(&SLOTS);
            let slots = slots.get_or_insert_with(HashMap::new);
            let sink = new.clone().map(|slot| -> AudioSink { Arc::new(move |f: &AudioFrame<'_>| slot.deliver(f)) });
            let result = engine().meeting_set_audio_sink(client, meeting_id, sink);
            let old = match (&result, &new) {
                (Ok(()), Some(new)) => slots.insert(key, Arc::downgrade(new)),
                (_, None) => slots.remove(&key),
                (Err(_), Some(_)) => None,
            };
            // Slots the engine dropped (their meeting or client is gone) are not called again.
            slots.retain(|_, slot| slot.strong_count() > 0);
            (result, old)
        };
        let had_callback = old.is_some();
        if let Some(old) = old.and_then(|w| w.upgrade()) {
            old.retire(!on_engine_thread());
        }
        match result {
            // Clearing what was set, or anything of a closed client: nothing runs any more.
            Err(e) if callback.is_none() && (had_callback || e.code == ErrorCode::Closed) => Ok(()),
            r => r,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn slow(user_data: *mut c_void, frame: *const webex_audio_frame) {
        // SAFETY: the test's frame, borrowed for the call.
        let f = unsafe { &*frame };
        assert_eq!((f.frames, f.channels, f.sample_rate), (2, 1, 48_000));
        // SAFETY: the test passes a pointer to a `u64`.
        assert_eq!(unsafe { *user_data.cast::<u64>() }, 7);
        std::thread::sleep(Duration::from_millis(200));
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn retiring_waits_for_a_running_call_and_stops_later_ones() {
        let mut value = 7u64;
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState { callback: Some((slow, UserData((&raw mut value).cast()))), running: 0 }),
            idle: Condvar::new(),
            meeting_id: CString::new("m").unwrap(),
            participants: Mutex::new(HashMap::new()),
        });
        let samples = [1i16, 2];
        let frame = |p| AudioFrame {
            meeting_id: "m",
            participant_id: p,
            samples: &samples,
            frames: 2,
            channels: 1,
            sample_rate: 48_000,
            rtp_timestamp: 0,
        };
        std::thread::scope(|scope| {
            let running = scope.spawn(|| slot.deliver(&AudioFrame { participant_id: Some("p1"), ..frame(None) }));
            while lock(&slot.state).running == 0 {
                std::thread::yield_now();
            }
            slot.retire(true);
            assert_eq!(CALLS.load(Ordering::SeqCst), 1, "retire returned before the running call ended");
            slot.deliver(&frame(None));
            assert_eq!(CALLS.load(Ordering::SeqCst), 1, "a retired slot still calls");
            running.join().unwrap();
        });
        assert_eq!(lock(&slot.participants).len(), 1);
    }
}
