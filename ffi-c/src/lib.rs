//! # webex-ffi: the C ABI of webex-native
//!
//! `libwebex.so` / `libwebex.a` and `include/webex.h` (generated from this crate by cbindgen).
//! It exposes the engine's boundary (`webex_core::boundary`) and nothing more: clients driven
//! by operation name with JSON in and JSON out, events and results through callbacks, meeting
//! audio as 16-bit PCM frames and video as encoded frames (no JSON on that path), and the
//! embedded sandbox so C programs and tests run offline.
//!
//! Rules that hold for every function (the header repeats them where they apply):
//! - Every function that can fail returns a [`WebexStatus`]; `WEBEX_OK` is 0 and every other
//!   value is one of the engine's stable error codes. The details of the last failure on the
//!   calling thread are in `webex_last_error`.
//! - Strings passed in are borrowed for the duration of the call and must be NUL-terminated
//!   UTF-8; NULL or invalid UTF-8 is `WEBEX_INVALID_ARGUMENT` naming the argument.
//! - Strings passed out through `char **` are owned by the caller and freed with
//!   [`webex_string_free`]. Strings passed into callbacks are borrowed and valid only during
//!   the callback: copy what you keep.
//! - Handles are `uint64_t`; 0 is never valid; a closed, stale or wrong-kind handle is an error
//!   code, never undefined behaviour.
//! - A panic never crosses the ABI: it becomes `WEBEX_INTERNAL`.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::Arc;
use webex_core::boundary::{self, engine};
use webex_core::{Error, ErrorCode, Event, Result};

mod frame_callback;
mod gate;
mod log;
mod media;
mod sandbox;
mod storage;

pub use media::*;
pub use sandbox::*;
pub use storage::*;

/// The status every fallible function returns: `WEBEX_OK` (0) or one of the engine's stable
/// error codes (design.md "Errors"). The numbers never change; new codes only get new numbers.
/// The details of a failure are JSON: `webex_last_error` for a function's own failure, the
/// `error_json` argument of a `webex_result_cb` for an operation's.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WebexStatus {
    /// Success.
    WEBEX_OK = 0,
    /// A parameter or a config value is wrong; the message names it.
    WEBEX_INVALID_ARGUMENT = 1,
    /// The cloud rejected the credentials (HTTP 401) or there are none.
    WEBEX_UNAUTHORIZED = 2,
    /// The credentials are valid but not allowed to do this (HTTP 403).
    WEBEX_FORBIDDEN = 3,
    /// The resource does not exist or the caller cannot see it (HTTP 404).
    WEBEX_NOT_FOUND = 4,
    /// The request conflicts with the current state (HTTP 409), e.g. a duplicate membership.
    WEBEX_CONFLICT = 5,
    /// Too many requests (HTTP 429 or 423) and the retry policy gave up; see `retryAfter`.
    WEBEX_RATE_LIMITED = 6,
    /// The cloud failed (HTTP 5xx) and the retry policy gave up.
    WEBEX_SERVER = 7,
    /// The cloud could not be reached (DNS, refused connection, TLS, proxy).
    WEBEX_NETWORK = 8,
    /// No answer in time.
    WEBEX_TIMEOUT = 9,
    /// The operation was cancelled, e.g. because its client was closed while it ran.
    WEBEX_CANCELLED = 10,
    /// The object was closed; it cannot be used any more.
    WEBEX_CLOSED = 11,
    /// A handle is unknown, was never issued, or is of the wrong kind.
    WEBEX_INVALID_HANDLE = 12,
    /// The cloud answered something the engine cannot understand.
    WEBEX_PROTOCOL = 13,
    /// Audio or video failed.
    WEBEX_MEDIA = 14,
    /// A bug in webex-native (a caught panic included); please report it with the message.
    WEBEX_INTERNAL = 15,
}

impl From<ErrorCode> for WebexStatus {
    fn from(code: ErrorCode) -> WebexStatus {
        match code {
            ErrorCode::InvalidArgument => WebexStatus::WEBEX_INVALID_ARGUMENT,
            ErrorCode::Unauthorized => WebexStatus::WEBEX_UNAUTHORIZED,
            ErrorCode::Forbidden => WebexStatus::WEBEX_FORBIDDEN,
            ErrorCode::NotFound => WebexStatus::WEBEX_NOT_FOUND,
            ErrorCode::Conflict => WebexStatus::WEBEX_CONFLICT,
            ErrorCode::RateLimited => WebexStatus::WEBEX_RATE_LIMITED,
            ErrorCode::Server => WebexStatus::WEBEX_SERVER,
            ErrorCode::Network => WebexStatus::WEBEX_NETWORK,
            ErrorCode::Timeout => WebexStatus::WEBEX_TIMEOUT,
            ErrorCode::Cancelled => WebexStatus::WEBEX_CANCELLED,
            ErrorCode::Closed => WebexStatus::WEBEX_CLOSED,
            ErrorCode::InvalidHandle => WebexStatus::WEBEX_INVALID_HANDLE,
            ErrorCode::Protocol => WebexStatus::WEBEX_PROTOCOL,
            ErrorCode::Media => WebexStatus::WEBEX_MEDIA,
            ErrorCode::Internal => WebexStatus::WEBEX_INTERNAL,
        }
    }
}

/// Receives a client's events as JSON `{"type": ..., "data": {...}}`, starting with `ready`.
///
/// Thread: runs on an engine thread, never on the thread that created the client; events of
/// one client arrive one at a time, in order. It must not block (hand work to your own thread)
/// and must not call `webex_client_close` on its own client expecting it to wait (use
/// `webex_client_close_async` to learn when that close is complete).
///
/// Ownership: `event_json` is borrowed, valid only until the callback returns; copy what you
/// keep. `user_data` is the pointer given to `webex_client_new`, passed back untouched; it must
/// stay valid until `webex_client_close` returns.
#[allow(non_camel_case_types)]
pub type webex_event_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, event_json: *const c_char)>;

/// Receives the result of one `webex_client_call`, exactly once.
///
/// On success `status` is `WEBEX_OK`, `result_json` is the operation's result (a JSON value:
/// an object, or `null` for deletions) and `error_json` is NULL. On failure `status` is the
/// error code, `result_json` is NULL and `error_json` is
/// `{"code", "codeNumber", "message", "status"?, "trackingId"?, "retryAfter"? (seconds)}`.
/// Closing the client while the call runs completes it with `WEBEX_CANCELLED`.
///
/// Thread: runs on an engine thread (never inside `webex_client_call` itself). It must not
/// block; it may call `webex_client_call` to chain the next operation.
///
/// Ownership: `result_json` and `error_json` are borrowed, valid only until the callback
/// returns; copy what you keep. `user_data` is the pointer given to `webex_client_call`.
#[allow(non_camel_case_types)]
pub type webex_result_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        status: WebexStatus,
        result_json: *const c_char,
        error_json: *const c_char,
    ),
>;

/// A caller's `user_data`: the engine only hands it back, on its threads, as the caller asked.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);
// SAFETY: the pointer is never dereferenced here; the caller vouches (header docs) that their
// callbacks may use it from engine threads.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl UserData {
    // A method, not `.0`: closures then capture the whole (Send) wrapper, not the raw field.
    fn get(self) -> *mut c_void {
        self.0
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Runs an entry point: a panic becomes `INTERNAL`, a failure is remembered for
/// `webex_last_error`, a success clears it.
fn entry(f: impl FnOnce() -> Result<()>) -> WebexStatus {
    let result = boundary::guard(f);
    let (status, last) = match result {
        Ok(()) => (WebexStatus::WEBEX_OK, None),
        Err(e) => (WebexStatus::from(e.code), Some(error_json(&e))),
    };
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = last);
    status
}

fn error_json(e: &Error) -> CString {
    to_cstring(e.to_json().to_string())
}

/// JSON text never holds a raw NUL (serde escapes it), but a message could; drop them rather
/// than fail.
fn to_cstring(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let mut bytes = e.into_vec();
        bytes.retain(|b| *b != 0);
        CString::new(bytes).unwrap_or_default()
    })
}

/// A borrowed C string argument, checked.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL, NUL-terminated per the caller's contract.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str()
        .map_err(|e| Error::invalid(format!("{name} is not valid UTF-8 (bad byte at offset {})", e.valid_up_to())))
}

/// An out-pointer argument, checked.
///
/// # Safety
/// `ptr` is NULL or valid for writes of a `T` for `'a`.
unsafe fn out_arg<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    // SAFETY: per the caller's contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::invalid(format!("{name} is NULL")))
}

/// Hands a string to C: the caller owns it and frees it with `webex_string_free`.
fn give_string(out: &mut *mut c_char, s: String) {
    *out = to_cstring(s).into_raw();
}

/// The library's version, e.g. `"0.1.0"`.
///
/// Ownership: a static string owned by the library; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn webex_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The stable name of a status (`"OK"`, `"NOT_FOUND"`, ...), the same name the error JSON's
/// `code` carries; `"UNKNOWN"` for a number that is not a status.
///
/// Ownership: a static string owned by the library; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn webex_status_name(status: i32) -> *const c_char {
    let name: &'static CStr = match status {
        0 => c"OK",
        n => match ErrorCode::ALL.iter().find(|c| c.number() == n) {
            Some(ErrorCode::InvalidArgument) => c"INVALID_ARGUMENT",
            Some(ErrorCode::Unauthorized) => c"UNAUTHORIZED",
            Some(ErrorCode::Forbidden) => c"FORBIDDEN",
            Some(ErrorCode::NotFound) => c"NOT_FOUND",
            Some(ErrorCode::Conflict) => c"CONFLICT",
            Some(ErrorCode::RateLimited) => c"RATE_LIMITED",
            Some(ErrorCode::Server) => c"SERVER",
            Some(ErrorCode::Network) => c"NETWORK",
            Some(ErrorCode::Timeout) => c"TIMEOUT",
            Some(ErrorCode::Cancelled) => c"CANCELLED",
            Some(ErrorCode::Closed) => c"CLOSED",
            Some(ErrorCode::InvalidHandle) => c"INVALID_HANDLE",
            Some(ErrorCode::Protocol) => c"PROTOCOL",
            Some(ErrorCode::Media) => c"MEDIA",
            Some(ErrorCode::Internal) => c"INTERNAL",
            None => c"UNKNOWN",
        },
    };
    name.as_ptr()
}

/// The details of the most recent failure of a `WebexStatus` function on the calling thread,
/// as JSON `{"code", "codeNumber", "message", "status"?, "trackingId"?, "retryAfter"?}`, or
/// NULL when that call succeeded (every call that returns `WEBEX_OK` clears it). Errors of
/// operations arrive in the result callback instead.
///
/// Ownership: the returned string is the caller's; free it with `webex_string_free`. Each call
/// returns a new copy.
#[unsafe(no_mangle)]
pub extern "C" fn webex_last_error() -> *mut c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ref().map(|s| s.clone().into_raw()))
        .ok()
        .flatten()
        .unwrap_or(std::ptr::null_mut())
}

/// Frees a string this library handed out through a `char **` out-parameter or
/// `webex_last_error`. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string this library returned and that was not freed yet. Never pass
/// static strings (`webex_version`, `webex_status_name`) or strings received in callbacks.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` came from `CString::into_raw` in this library (the caller's contract).
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Every operation `webex_client_call` accepts, as a JSON array of
/// `{"name", "doc", "kind" ("call" or "list"), "idParam" (the member naming the object acted
/// on, or null), "params" (JSON Schema), "result" (JSON Schema)}`.
///
/// Ownership: on `WEBEX_OK`, `*out_json` is the caller's; free it with `webex_string_free`.
/// On failure `*out_json` is set to NULL.
///
/// # Safety
/// `out_json` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_operations(out_json: *mut *mut c_char) -> WebexStatus {
    entry(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_arg(out_json, "out_json") }?;
        *out = std::ptr::null_mut();
        give_string(out, boundary::describe_operations().to_string());
        Ok(())
    })
}

/// Creates a client from a JSON config document (the official SDK's attribute reference, e.g.
/// `{"credentials": {"access_token": "..."}}`; `"{}"` takes the token from the environment's
/// `WEBEX_ACCESS_TOKEN`). An invalid config is `WEBEX_INVALID_ARGUMENT` naming its path.
///
/// `event_callback` (may be NULL to ignore events) receives the client's events, starting
/// with `ready`; events emitted before it runs are held, never dropped. It runs only once
/// `*out_client` holds the new handle, so it may use it.
///
/// No callback of this library (events, results, frames, storage) may let a C++ exception or
/// any other unwinding escape into the library: catch everything inside the callback.
///
/// Ownership: `config_json` is borrowed for the call. `user_data` is not touched by the
/// library, only passed to `event_callback`; it must stay valid until `webex_client_close`
/// returns. On `WEBEX_OK`, `*out_client` is a new handle the caller must close with
/// `webex_client_close`; on failure it is set to 0.
///
/// # Safety
/// `config_json` is NULL or a NUL-terminated string; `out_client` is NULL or valid for one
/// write; `event_callback` (when not NULL) may be called from engine threads with `user_data`
/// until `webex_client_close` returns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_client_new(
    config_json: *const c_char,
    event_callback: webex_event_cb,
    user_data: *mut c_void,
    out_client: *mut u64,
) -> WebexStatus {
    entry(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_arg(out_client, "out_client") }?;
        *out = 0;
        // SAFETY: per this function's contract.
        let config = unsafe { str_arg(config_json, "config_json") }?;
        let user_data = UserData(user_data);
        // The first event (`ready`) may come before this returns; the callback waits until
        // `*out_client` holds the handle, so a callback that uses it reads it written.
        let handed_out = Arc::new(HandedOut::default());
        let sink_handed_out = handed_out.clone();
        let sink: boundary::EventSink = Arc::new(move |event: &Event| {
            if let Some(callback) = event_callback {
                sink_handed_out.wait();
                let json = to_cstring(event.to_json());
                // SAFETY: the caller's callback with the caller's pointer (their contract).
                unsafe { callback(user_data.get(), json.as_ptr()) };
            }
        });
        // Opened when this returns, however it returns (an engine worker must never wait
        // for a handle that will not come).
        let _open_on_return = OpenOnDrop(handed_out);
        *out = engine().client_new(config, sink)?;
        Ok(())
    })
}

/// Starts operation `operation` (a name from the operation table, e.g. `"rooms.create"`,
/// `"messages.list"`, `"config.get"`; see `webex_operations`) with parameters `params_json`
/// (a JSON object with the Webex REST API's names, e.g. `{"title": "My First Room"}`; `"{}"`,
/// `""` or NULL for none, as in the sandbox functions).
///
/// Returns at once. On `WEBEX_OK` the call was accepted and `callback` runs exactly once,
/// later, on an engine thread, with the result or the error (including errors about the
/// params' members). On any other status `callback` is never called: the handle is bad
/// (`WEBEX_INVALID_HANDLE`, `WEBEX_CLOSED`), the operation is unknown, or the params are not a
/// JSON object (`WEBEX_INVALID_ARGUMENT`); see `webex_last_error`.
///
/// Ownership: `operation` and `params_json` are borrowed for the call. `user_data` is not
/// touched by the library, only passed to `callback`; it must stay valid until `callback` has
/// run.
///
/// # Safety
/// `operation` and `params_json` are NULL or NUL-terminated strings; `callback` (required)
/// may be called from an engine thread with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_client_call(
    client: u64,
    operation: *const c_char,
    params_json: *const c_char,
    callback: webex_result_cb,
    user_data: *mut c_void,
) -> WebexStatus {
    entry(|| {
        // SAFETY: per this function's contract.
        let op = unsafe { str_arg(operation, "operation")? };
        // SAFETY: per this function's contract; NULL params are none, as `""` is.
        let params = if params_json.is_null() { "" } else { unsafe { str_arg(params_json, "params_json")? } };
        let Some(callback) = callback else {
            return Err(Error::invalid("callback is NULL; every call reports its result through its callback"));
        };
        let user_data = UserData(user_data);
        engine().client_call(
            client,
            op,
            params,
            Box::new(move |result| {
                let user_data = user_data.get();
                match result {
                    Ok(value) => {
                        let json = to_cstring(value.to_string());
                        // SAFETY: the caller's callback with the caller's pointer (their contract).
                        unsafe { callback(user_data, WebexStatus::WEBEX_OK, json.as_ptr(), std::ptr::null()) };
                    }
                    Err(e) => {
                        let json = error_json(&e);
                        // SAFETY: as above.
                        unsafe { callback(user_data, e.code.into(), std::ptr::null(), json.as_ptr()) };
                    }
                }
            }),
        )
    })
}

/// Closes a client: calls in flight complete with `WEBEX_CANCELLED` (each callback still runs
/// exactly once), the event stream ends, and the handle becomes invalid (`WEBEX_CLOSED`
/// afterwards, also for a second close).
///
/// Called from an ordinary thread it waits until every callback of this client (events,
/// results, audio and video frames) has returned, so `user_data` pointers may be freed
/// afterwards; a call started concurrently either completes before this returns or is refused
/// with `WEBEX_CLOSED`. It may wait on the network to unregister the client's device, at most
/// 5 s. Called from a callback (an engine thread) it cannot wait: callbacks may still be
/// finishing on other engine threads when it returns (`webex_client_close_async` says when
/// they have). A second close returns `WEBEX_CLOSED`
/// at once, even while the first is still waiting: free `user_data` after the first returned.
#[unsafe(no_mangle)]
pub extern "C" fn webex_client_close(client: u64) -> WebexStatus {
    entry(|| {
        let closed = engine().client_close(client);
        // The engine's close waits for the meetings' receive tasks, so from an ordinary thread
        // no frame callback runs any more. From a callback the close cannot wait: retiring the
        // slots then still stops new calls at once, and a later clear waits for a running one.
        frame_callback::retire_client(client);
        closed
    })
}

/// Called once when `webex_client_close_async` has finished, with the `user_data` given to it.
#[allow(non_camel_case_types)]
pub type webex_closed_cb = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Closes a client as `webex_client_close` does, without waiting: returns at once, and
/// `closed_callback` (when not NULL) runs exactly once, on an engine thread, after every
/// callback of this client (events, results, audio and video frames) has returned; none runs
/// afterwards, so the client's `user_data` pointers may be freed from there. Unlike
/// `webex_client_close` it may be called from inside an event or result callback (not a frame
/// callback) and still tell the app when the close is complete. The handle is `WEBEX_CLOSED` from the moment this returns. On a
/// handle that is already closed (or closing) it returns `WEBEX_CLOSED` and never calls
/// `closed_callback`.
///
/// # Safety
/// `closed_callback` (when not NULL) may be called from an engine thread with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_client_close_async(
    client: u64,
    closed_callback: webex_closed_cb,
    user_data: *mut c_void,
) -> WebexStatus {
    let user_data = UserData(user_data);
    entry(|| {
        engine().client_close_then(
            client,
            Box::new(move || {
                // The engine's close has waited for the meetings' receive tasks, so no frame
                // callback runs; this only clears the client's entries from the slot table.
                frame_callback::retire_client_waiting(client, true);
                if let Some(callback) = closed_callback {
                    // SAFETY: the caller's contract: callable with `user_data` from any thread.
                    unsafe { callback(user_data.get()) };
                }
            }),
        )
    })
}

/// Opened once `webex_client_new` has written the handle out; event callbacks wait for it.
#[derive(Default)]
struct HandedOut {
    open: std::sync::Mutex<bool>,
    opened: std::sync::Condvar,
}

struct OpenOnDrop(Arc<HandedOut>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

impl HandedOut {
    fn open(&self) {
        *self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while !*open {
            open = self.opened.wait(open).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_numbers_are_the_error_code_numbers() {
        assert_eq!(WebexStatus::WEBEX_OK as i32, 0);
        for code in ErrorCode::ALL {
            assert_eq!(WebexStatus::from(code) as i32, code.number(), "{code}");
            assert_eq!(format!("{:?}", WebexStatus::from(code)), format!("WEBEX_{}", code.as_str()));
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(webex_status_name(code.number())) };
            assert_eq!(name.to_str().unwrap(), code.as_str());
        }
        // SAFETY: static strings.
        unsafe {
            assert_eq!(CStr::from_ptr(webex_status_name(0)).to_str().unwrap(), "OK");
            assert_eq!(CStr::from_ptr(webex_status_name(99)).to_str().unwrap(), "UNKNOWN");
        }
    }

    #[test]
    fn a_panic_becomes_internal_and_is_reported() {
        let status = entry(|| panic!("boom"));
        assert_eq!(status, WebexStatus::WEBEX_INTERNAL);
        let last = webex_last_error();
        // SAFETY: a string this library returned.
        let text = unsafe { CStr::from_ptr(last) }.to_str().unwrap().to_owned();
        unsafe { webex_string_free(last) };
        assert!(text.contains("\"INTERNAL\""), "{text}");
        assert_eq!(entry(|| Ok(())), WebexStatus::WEBEX_OK);
        assert!(webex_last_error().is_null(), "a success clears the last error");
    }

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(webex_version()) };
        assert_eq!(v.to_str().unwrap(), webex_core::VERSION);
    }
}
