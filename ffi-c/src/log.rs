//! `webex_set_log_callback`: the engine's log records, redacted, to a C function.

use crate::gate::{Gate, lock};
use crate::{UserData, entry, to_cstring};
use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex};
use webex_core::log::{self, LogRecord};

/// Receives one engine log record.
///
/// Thread: runs on the engine's log thread (`webex-log`), one record at a time, in order,
/// a few records at once every 50 ms at most. It must not block for long (records wait
/// behind it); it may call `webex_set_log_callback`, also to clear itself.
///
/// Ownership: `level` (`"error"`, `"warn"`, `"info"`, `"debug"` or `"trace"`), `target`
/// (where it came from, e.g. `"webex::mercury"`) and `message` (redacted: no token, no
/// `Bearer` value, no JWT) are borrowed for the call only. `timestamp_ms` is milliseconds
/// since the Unix epoch. `user_data` is the pointer given to `webex_set_log_callback`.
#[allow(non_camel_case_types)]
pub type webex_log_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: *const c_char,
        target: *const c_char,
        message: *const c_char,
        timestamp_ms: u64,
    ),
>;

type LogFn = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *const c_char, u64);

/// The app's callback, with its `user_data`, as the log thread calls it.
type LogGate = Gate<(LogFn, UserData)>;

/// The callback set now, with the id of the engine's sink that feeds it.
static CURRENT: Mutex<Option<(u64, Arc<LogGate>)>> = Mutex::new(None);

/// Sends the engine's log records to `callback` (see `webex_log_cb`), for the whole process;
/// replaces the callback set before, and `NULL` stops. Records are those of the level the
/// clients' configs ask for (`logger.level`, `"error"` by default; the most verbose client's
/// wins): set `"warn"` to see unknown config keys and storage failures.
///
/// Replacing or clearing returns once no call of the old callback runs (unless called from
/// inside it), so its `user_data` may be freed then. `logs.history` (an operation) keeps
/// the recent records either way.
///
/// # Safety
/// `callback` (when not NULL) may be called from the engine's log thread with `user_data`
/// until it is replaced or cleared.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_set_log_callback(callback: webex_log_cb, user_data: *mut c_void) -> crate::WebexStatus {
    entry(|| {
        let gate = callback.map(|cb| Arc::new(Gate::new((cb, UserData(user_data)))));
        let old = {
            let mut current = lock(&CURRENT);
            let old = current.take();
            if let Some(gate) = gate {
                let feeding = gate.clone();
                let sink: log::Sink = Arc::new(move |batch: &[LogRecord]| deliver(&feeding, batch));
                *current = Some((log::add_sink(sink), gate));
            }
            old
        };
        if let Some((sink, gate)) = old {
            log::remove_sink(sink);
            gate.retire(!log::on_log_thread());
        }
        Ok(())
    })
}

fn deliver(gate: &LogGate, batch: &[LogRecord]) {
    for record in batch {
        // Taken per record: a callback cleared meanwhile gets no more of the batch.
        let Some(((callback, user_data), _running)) = gate.enter() else { return };
        let (level, target, message) = (
            to_cstring(record.level.to_owned()),
            to_cstring(record.target.clone()),
            to_cstring(record.message.clone()),
        );
        // SAFETY: the caller's callback with the caller's pointer (their contract); the strings
        // outlive the call.
        unsafe { callback(user_data.get(), level.as_ptr(), target.as_ptr(), message.as_ptr(), record.timestamp_ms) };
    }
}
