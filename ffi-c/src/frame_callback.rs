//! The machinery behind `webex_meeting_set_audio_callback` and
//! `webex_meeting_set_video_callback`: one implementation for both kinds of frames.
//!
//! A C callback is kept in a [`Slot`] the engine's sink shares, behind a [`Gate`]: a call
//! marks it busy while the C function runs; replacing or clearing the callback empties it and
//! (off engine threads) waits until it is idle, so the old `user_data` may be freed as soon as
//! that returns.

use crate::gate::{Gate, lock};
use crate::{UserData, str_arg};
use std::any::TypeId;
use std::collections::HashMap;
use std::ffi::{CString, c_char, c_void};
use std::sync::{Arc, Mutex, Weak};
use webex_core::{ErrorCode, Result};

/// A C frame callback taking frames of type `F` (`webex_audio_frame`, `webex_video_frame`).
pub(crate) type Callback<F> = unsafe extern "C" fn(*mut c_void, *const F);

/// A kind of frames (audio, video): the C struct its callbacks receive and how the engine
/// gets the sink that feeds them. A meeting has one callback of each kind.
pub(crate) trait FrameKind: 'static {
    /// What the C callback receives a pointer to.
    type C: 'static;
    /// Hands the meeting's engine sink of this kind a closure over `slot` (`None`: no sink).
    fn install(client: u64, meeting_id: &str, slot: Option<Arc<Slot<Self::C>>>) -> Result<()>;
}

/// The C callback of one `webex_meeting_set_*_callback`, shared with the engine's sink.
pub(crate) struct Slot<F: 'static> {
    /// The callback and its `user_data`; empty once replaced or cleared.
    gate: Gate<(Callback<F>, UserData)>,
    /// The meeting id given when setting, as C text (the engine names the same meeting).
    meeting_id: CString,
    /// Participant ids as C text, built once per sender.
    participants: Mutex<HashMap<String, Arc<CString>>>,
}

impl<F> Slot<F> {
    fn new(meeting_id: &str, callback: Callback<F>, user_data: UserData) -> Slot<F> {
        Slot {
            gate: Gate::new((callback, user_data)),
            meeting_id: crate::to_cstring(meeting_id.to_owned()),
            participants: Mutex::new(HashMap::new()),
        }
    }

    fn participant(&self, id: &str) -> Arc<CString> {
        let mut cache = lock(&self.participants);
        if let Some(c) = cache.get(id) {
            return c.clone();
        }
        let c = Arc::new(crate::to_cstring(id.to_owned()));
        cache.insert(id.to_owned(), c.clone());
        c
    }

    /// Calls the C callback (if the slot still holds one) with the frame `build` makes from
    /// the meeting id and the participant id (NULL when unknown) as C strings.
    pub(crate) fn deliver(
        &self,
        meeting_id: &str,
        participant_id: Option<&str>,
        build: impl FnOnce(*const c_char, *const c_char) -> F,
    ) {
        let Some(((callback, user_data), _running)) = self.gate.enter() else { return };
        let other_meeting;
        let meeting_id = if self.meeting_id.as_bytes() == meeting_id.as_bytes() {
            self.meeting_id.as_ptr()
        } else {
            other_meeting = crate::to_cstring(meeting_id.to_owned());
            other_meeting.as_ptr()
        };
        let participant = participant_id.map(|p| self.participant(p));
        let frame = build(meeting_id, participant.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()));
        // SAFETY: the caller's callback with the caller's pointer (their contract); `frame` and
        // the strings and data it points to outlive the call.
        unsafe { callback(user_data.get(), &frame) };
    }
}

/// What the table of installed slots needs of a slot, whatever its frames.
trait Retire: Send + Sync {
    /// Empties the slot; with `wait`, returns once no call of the old callback runs.
    fn retire(&self, wait: bool);
}

impl<F> Retire for Slot<F> {
    fn retire(&self, wait: bool) {
        self.gate.retire(wait);
    }
}

/// The slot installed for each (client, meeting, kind of frames). Weak: the engine's sink owns
/// the slot, and drops it with the meeting.
type Slots = HashMap<(u64, String, TypeId), Weak<dyn Retire>>;
static SLOTS: Mutex<Option<Slots>> = Mutex::new(None);

/// Retires every frame callback of a closed client, waiting for running calls unless on an
/// engine thread. After a close from an ordinary thread none is running (the engine waited
/// for the receive tasks) and the client's entries leave the table; after a close from inside
/// a callback, which cannot wait, this is what stops new calls at once, and the entries stay
/// until the engine drops the slots, so that clearing a callback still waits for its last call.
pub(crate) fn retire_client(client: u64) {
    retire_client_waiting(client, !webex_core::boundary::on_engine_thread());
}

/// [`retire_client`], choosing whether to wait for running calls (a close completion waits on
/// a blocking-pool thread, where waiting holds up no callback).
pub(crate) fn retire_client_waiting(client: u64, wait: bool) {
    let retired: Vec<Arc<dyn Retire>> = {
        let mut slots = lock(&SLOTS);
        let Some(slots) = slots.as_mut() else { return };
        let keys: Vec<_> = slots.keys().filter(|k| k.0 == client).cloned().collect();
        if wait {
            keys.into_iter().filter_map(|k| slots.remove(&k)).filter_map(|slot| slot.upgrade()).collect()
        } else {
            // A call may still run (this close came from inside a callback): the entries stay,
            // so a clear from an app thread finds the slot and waits for it before the app
            // frees its user_data. They go once the engine drops the slots (`retain` below).
            keys.iter().filter_map(|k| slots.get(k)).filter_map(Weak::upgrade).collect()
        }
    };
    for slot in retired {
        slot.retire(wait);
    }
}

/// Sets, replaces or (with `callback` None) clears a meeting's callback of frames `K`, with
/// the semantics the header documents: the engine gets its new sink (a closure over the new
/// slot, or none); the previous slot is retired, waiting for a running call unless on an
/// engine thread. Clearing succeeds also after the meeting or the client is gone.
///
/// # Safety
/// `meeting_id` is NULL or a NUL-terminated string; `callback` (when not NULL) may be called
/// from engine threads with `user_data` until it is replaced or cleared.
pub(crate) unsafe fn set_callback<K: FrameKind>(
    client: u64,
    meeting_id: *const c_char,
    callback: Option<Callback<K::C>>,
    user_data: *mut c_void,
) -> Result<()> {
    // SAFETY: per this function's contract.
    let meeting_id = unsafe { str_arg(meeting_id, "meeting_id") }?;
    let key = (client, meeting_id.to_owned(), TypeId::of::<K>());
    let new = callback.map(|cb| Arc::new(Slot::new(meeting_id, cb, UserData(user_data))));
    // The engine's sink and the table change together (two setters racing stay consistent);
    // the wait for the old callback happens after, without the table lock (a running callback
    // may itself set a callback).
    let (result, old) = {
        let mut slots = lock(&SLOTS);
        let slots = slots.get_or_insert_with(HashMap::new);
        let result = K::install(client, meeting_id, new.clone());
        let old = match (&result, new) {
            (Ok(()), Some(new)) => {
                let new: Arc<dyn Retire> = new;
                slots.insert(key, Arc::downgrade(&new))
            }
            (_, None) => slots.remove(&key),
            (Err(_), Some(_)) => None,
        };
        // Slots the engine dropped (their meeting or client is gone) are not called again.
        slots.retain(|_, slot| slot.strong_count() > 0);
        (result, old)
    };
    let had_callback = old.is_some();
    if let Some(old) = old.and_then(|w| w.upgrade()) {
        old.retire(!webex_core::boundary::on_engine_thread());
    }
    match result {
        // Clearing what was set, or anything of a closed client: nothing runs any more.
        Err(e) if callback.is_none() && (had_callback || e.code == ErrorCode::Closed) => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, PoisonError};
    use std::time::Duration;

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn slow(user_data: *mut c_void, frame: *const u32) {
        // SAFETY: the test's frame, borrowed for the call.
        assert_eq!(unsafe { *frame }, 2);
        // SAFETY: the test passes a pointer to a `u64`.
        assert_eq!(unsafe { *user_data.cast::<u64>() }, 7);
        std::thread::sleep(Duration::from_millis(200));
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn retiring_waits_for_a_running_call_and_stops_later_ones() {
        let mut value = 7u64;
        let slot = Arc::new(Slot::new("m", slow, UserData((&raw mut value).cast())));
        std::thread::scope(|scope| {
            let running = scope.spawn(|| slot.deliver("m", Some("p1"), |_, _| 2));
            while slot.gate.running() == 0 {
                std::thread::yield_now();
            }
            slot.retire(true);
            assert_eq!(CALLS.load(Ordering::SeqCst), 1, "retire returned before the running call ended");
            slot.deliver("m", None, |_, _| 2);
            assert_eq!(CALLS.load(Ordering::SeqCst), 1, "a retired slot still calls");
            running.join().unwrap();
        });
        assert_eq!(lock(&slot.participants).len(), 1);
    }

    /// A frame kind whose engine side is gone, as after a client close.
    struct Closed;

    impl FrameKind for Closed {
        type C = u32;
        fn install(_: u64, _: &str, _: Option<Arc<Slot<u32>>>) -> Result<()> {
            Err(webex_core::Error::new(ErrorCode::Closed, "client handle was closed"))
        }
    }

    /// A callback that blocks until its latch opens.
    struct Latch {
        open: Mutex<bool>,
        opened: Condvar,
    }

    unsafe extern "C" fn gated(user_data: *mut c_void, _: *const u32) {
        // SAFETY: the test passes a `Latch` that outlives the call.
        let gate = unsafe { &*user_data.cast::<Latch>() };
        let mut open = lock(&gate.open);
        while !*open {
            open = gate.opened.wait(open).unwrap_or_else(PoisonError::into_inner);
        }
    }

    #[test]
    fn clearing_after_a_close_from_a_callback_waits_for_the_running_call() {
        const CLIENT: u64 = u64::MAX - 7;
        let gate = Latch { open: Mutex::new(false), opened: Condvar::new() };
        let user_data = UserData((&raw const gate).cast_mut().cast());
        // The engine's sink holds the slot; the table knows it by (client, meeting, kind).
        let slot = Arc::new(Slot::new("m", gated as Callback<u32>, user_data));
        let retire: Arc<dyn Retire> = slot.clone();
        lock(&SLOTS)
            .get_or_insert_with(HashMap::new)
            .insert((CLIENT, "m".into(), TypeId::of::<Closed>()), Arc::downgrade(&retire));
        std::thread::scope(|scope| {
            let frame = scope.spawn(|| slot.deliver("m", None, |_, _| 2));
            while slot.gate.running() == 0 {
                std::thread::yield_now();
            }
            // The close ran inside a callback, so it could not wait.
            retire_client_waiting(CLIENT, false);
            let clear = scope.spawn(|| {
                // SAFETY: a valid C string; no callback is set.
                let cleared = unsafe { set_callback::<Closed>(CLIENT, c"m".as_ptr(), None, std::ptr::null_mut()) };
                (cleared.is_ok(), slot.gate.running())
            });
            // Before the fix the clear returned at once, with the callback running. Give it a
            // bounded chance to do so (this only catches the bug; a correct clear waits, and the
            // gate opening below lets it return whenever it got there).
            let deadline = std::time::Instant::now() + Duration::from_secs(1);
            while !clear.is_finished() && std::time::Instant::now() < deadline {
                std::thread::yield_now();
            }
            *lock(&gate.open) = true;
            gate.opened.notify_all();
            let (cleared, running_at_return) = clear.join().unwrap();
            assert!(cleared, "clearing after close succeeds");
            assert_eq!(running_at_return, 0, "the clear returned while the callback still ran");
            frame.join().unwrap();
        });
        drop(retire);
    }
}
