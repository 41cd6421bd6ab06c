//! The embedded sandbox (a local Webex-compatible cloud on loopback) for C programs and tests.
//! Sandboxes live in the engine's handle registry as kind `sandbox`, so their handles are
//! checked like clients'.

use crate::{WebexStatus, entry, give_string, out_arg, str_arg};
use std::ffi::c_char;
use std::sync::{Arc, Mutex};
use webex_core::boundary::{self, engine};
use webex_core::{Error, ErrorCode, Result};
use webex_sandbox::{Fault, Sandbox, SandboxOptions};

const SANDBOX: &str = "sandbox";

struct SandboxSlot {
    // Taken out by stop (which consumes the sandbox); accessors racing a stop see `CLOSED`.
    sandbox: Mutex<Option<Sandbox>>,
}

/// Runs `f` on the live sandbox behind `handle`.
fn with_sandbox<T>(handle: u64, f: impl FnOnce(&Sandbox) -> Result<T>) -> Result<T> {
    let slot = engine().registry().get::<SandboxSlot>(SANDBOX, handle)?;
    let guard = slot.sandbox.lock().map_err(|_| Error::internal("sandbox lock poisoned"))?;
    let sandbox =
        guard.as_ref().ok_or_else(|| Error::new(ErrorCode::Closed, format!("sandbox handle {handle} was stopped")))?;
    f(sandbox)
}

/// Writes a string produced from the sandbox behind `handle` to `out`.
///
/// # Safety
/// `out` is NULL or valid for one write.
unsafe fn sandbox_string(
    handle: u64,
    out: *mut *mut c_char,
    name: &str,
    f: impl FnOnce(&Sandbox) -> Result<String>,
) -> WebexStatus {
    entry(|| {
        // SAFETY: per the caller's contract.
        let out = unsafe { out_arg(out, name) }?;
        *out = std::ptr::null_mut();
        let s = with_sandbox(handle, f)?;
        give_string(out, s);
        Ok(())
    })
}

/// Starts a sandbox in this process on a free loopback port, seeded with a bot
/// (`sandbox-bot@webex.bot`), `alice@example.com` and `bob@example.com`, each with a token.
/// The same as `webex_sandbox_start_with(NULL, out_sandbox)`.
///
/// Ownership: on `WEBEX_OK`, `*out_sandbox` is a new handle the caller must stop with
/// `webex_sandbox_stop`; on failure it is set to 0. Not callable from a callback.
///
/// # Safety
/// `out_sandbox` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_start(out_sandbox: *mut u64) -> WebexStatus {
    // SAFETY: per this function's contract (no options).
    unsafe { webex_sandbox_start_with(std::ptr::null(), out_sandbox) }
}

/// Starts a sandbox as `webex_sandbox_start` does, with options as JSON: `{"tls": true}`
/// serves https:// and wss:// with a certificate from a CA made for this sandbox, offering
/// HTTP/2 as the cloud does (`webex_sandbox_client_config` then carries the CA as
/// `http.caCertificates`). NULL or "" is `{}`; an unknown option is `WEBEX_INVALID_ARGUMENT`.
///
/// Ownership: `options_json` is borrowed for the call. On `WEBEX_OK`, `*out_sandbox` is a new
/// handle the caller must stop with `webex_sandbox_stop`; on failure it is set to 0. Not
/// callable from a callback.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string; `out_sandbox` is NULL or valid for
/// one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_start_with(options_json: *const c_char, out_sandbox: *mut u64) -> WebexStatus {
    entry(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_arg(out_sandbox, "out_sandbox") }?;
        *out = 0;
        let given = if options_json.is_null() {
            ""
        } else {
            // SAFETY: per this function's contract.
            unsafe { str_arg(options_json, "options_json") }?
        };
        let tls = start_tls(given)?;
        let sandbox = engine()
            .wait_for(Sandbox::start(SandboxOptions { tls, ..SandboxOptions::default() }))?
            .map_err(|e| Error::new(ErrorCode::Network, format!("the sandbox cannot listen on loopback: {e}")))?;
        let slot = Arc::new(SandboxSlot { sandbox: Mutex::new(Some(sandbox)) });
        *out = engine().registry().insert(SANDBOX, slot);
        Ok(())
    })
}

/// `tls` from `webex_sandbox_start_with`'s options (the only one there is).
fn start_tls(options_json: &str) -> Result<bool> {
    const ONE: &str = "the one option is {\"tls\": true|false}";
    if options_json.trim().is_empty() {
        return Ok(false);
    }
    let value: serde_json::Value = serde_json::from_str(options_json)
        .map_err(|e| Error::invalid(format!("options_json is not JSON ({e}); {ONE}")))?;
    let object = value.as_object().ok_or_else(|| Error::invalid(format!("options_json must be an object; {ONE}")))?;
    if let Some(unknown) = object.keys().find(|k| *k != "tls") {
        return Err(Error::invalid(format!("options_json: unknown option \"{unknown}\"; {ONE}")));
    }
    match object.get("tls") {
        None => Ok(false),
        Some(v) => v.as_bool().ok_or_else(|| Error::invalid(format!("options_json: tls must be true or false; {ONE}"))),
    }
}

/// Stops a sandbox: requests in flight may finish (for up to 5 s), then its port closes and
/// the handle becomes invalid (`WEBEX_CLOSED` afterwards, also for a second stop). Clients
/// pointed at it get `WEBEX_NETWORK` errors from then on. From a callback it does not wait.
#[unsafe(no_mangle)]
pub extern "C" fn webex_sandbox_stop(sandbox: u64) -> WebexStatus {
    entry(|| {
        let slot = engine().registry().remove::<SandboxSlot>(SANDBOX, sandbox)?;
        let taken = slot.sandbox.lock().map_err(|_| Error::internal("sandbox lock poisoned"))?.take();
        if let Some(sandbox) = taken {
            if boundary::on_engine_thread() {
                engine().runtime().spawn(sandbox.stop());
            } else {
                engine().wait_for(sandbox.stop())?;
            }
        }
        Ok(())
    })
}

/// The sandbox's base URL, `http://127.0.0.1:PORT` (`https://` when started with `{"tls": true}`).
///
/// Ownership: on `WEBEX_OK`, `*out_url` is the caller's; free it with `webex_string_free`.
/// On failure it is set to NULL.
///
/// # Safety
/// `out_url` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_base_url(sandbox: u64, out_url: *mut *mut c_char) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe { sandbox_string(sandbox, out_url, "out_url", |s| Ok(s.base_url())) }
}

/// The sandbox's REST ("hydra") base URL, `<base>/v1`: the config's
/// `services.discovery.hydra`.
///
/// Ownership: on `WEBEX_OK`, `*out_url` is the caller's; free it with `webex_string_free`.
/// On failure it is set to NULL.
///
/// # Safety
/// `out_url` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_hydra_url(sandbox: u64, out_url: *mut *mut c_char) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe { sandbox_string(sandbox, out_url, "out_url", |s| Ok(s.hydra_url())) }
}

/// The sandbox's service catalog ("U2C") base URL, `<base>/u2c/api/v1`: the config's
/// `services.discovery.u2c`.
///
/// Ownership: on `WEBEX_OK`, `*out_url` is the caller's; free it with `webex_string_free`.
/// On failure it is set to NULL.
///
/// # Safety
/// `out_url` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_u2c_url(sandbox: u64, out_url: *mut *mut c_char) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe { sandbox_string(sandbox, out_url, "out_url", |s| Ok(s.u2c_url())) }
}

/// The sandbox's URLs and users as JSON:
/// `{"hydra", "u2c", "orgId", "users": [{"email", "token", "personId", "displayName", "type"}],
/// "caCertificate"}` (`caCertificate`: the CA's PEM when started with `{"tls": true}`, else null).
///
/// Ownership: on `WEBEX_OK`, `*out_json` is the caller's; free it with `webex_string_free`.
/// On failure it is set to NULL.
///
/// # Safety
/// `out_json` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_info(sandbox: u64, out_json: *mut *mut c_char) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe { sandbox_string(sandbox, out_json, "out_json", |s| Ok(s.info_json().to_string())) }
}

/// The email of the sandbox's bot user (`sandbox-bot@webex.bot`).
///
/// Ownership: on `WEBEX_OK`, `*out_email` is the caller's; free it with `webex_string_free`.
/// On failure it is set to NULL.
///
/// # Safety
/// `out_email` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_bot_email(sandbox: u64, out_email: *mut *mut c_char) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe { sandbox_string(sandbox, out_email, "out_email", |s| Ok(s.bot().email)) }
}

/// The access token of the sandbox user with this email; `WEBEX_NOT_FOUND` if there is none.
///
/// Ownership: `email` is borrowed for the call. On `WEBEX_OK`, `*out_token` is the caller's;
/// free it with `webex_string_free`. On failure it is set to NULL.
///
/// # Safety
/// `email` is NULL or a NUL-terminated string; `out_token` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_user_token(
    sandbox: u64,
    email: *const c_char,
    out_token: *mut *mut c_char,
) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe {
        sandbox_string(sandbox, out_token, "out_token", |s| {
            let email = str_arg(email, "email")?;
            s.user(email).map(|u| u.token).ok_or_else(|| no_user(email))
        })
    }
}

/// A client config document acting as the sandbox user with this email:
/// `{"credentials": {"access_token"}, "services": {"discovery": {"hydra", "u2c"}}}` (plus
/// `{"http": {"caCertificates"}}` for a TLS sandbox), ready for `webex_client_new`. `WEBEX_NOT_FOUND` if there is no such user.
///
/// Ownership: `email` is borrowed for the call. On `WEBEX_OK`, `*out_config_json` is the
/// caller's; free it with `webex_string_free`. On failure it is set to NULL.
///
/// # Safety
/// `email` is NULL or a NUL-terminated string; `out_config_json` is NULL or valid for one
/// write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_client_config(
    sandbox: u64,
    email: *const c_char,
    out_config_json: *mut *mut c_char,
) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe {
        sandbox_string(sandbox, out_config_json, "out_config_json", |s| {
            let email = str_arg(email, "email")?;
            Ok(s.client_config(email).ok_or_else(|| no_user(email))?.to_string())
        })
    }
}

/// The requests the sandbox answered, oldest first (the last 10,000), as JSON
/// `[{"method", "path" (with the query), "version" ("HTTP/1.1", "HTTP/2.0"), "status"}]`
/// (headers are left out: they hold tokens).
///
/// Ownership: on `WEBEX_OK`, `*out_json` is the caller's; free it with `webex_string_free`.
/// On failure it is set to NULL.
///
/// # Safety
/// `out_json` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_requests(sandbox: u64, out_json: *mut *mut c_char) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe { sandbox_string(sandbox, out_json, "out_json", |s| Ok(s.requests_json().to_string())) }
}

/// One control of the running meeting with this number (a scheduled meeting's
/// `meetingNumber`), passed through unchanged to the sandbox (`Sandbox::meeting_control`, the
/// same call the Python and Node bindings make). `action` and `params_json` (a JSON object;
/// NULL or `""` is `{}`) are one of:
///
/// | action | params | `*out_json` |
/// | --- | --- | --- |
/// | `"media"` | none | `[{"email", "audioPackets", "videoPackets", "keyframeRequests", "msSinceAudio", "msSinceVideo"}]`: what the media server received from each participant, in join order (`[]` when the meeting has no media or is not running) |
/// | `"cut"` | `{"email"}` | `{}`: the media server drops that participant's media session (Locus unchanged) |
/// | `"kick"` | `{"email"}` | `{}`: Locus removes them (their self state LEFT, `removed`) |
/// | `"end"` | none | `{}`: the meeting ends for everybody |
/// | `"addBot"` | `{"toneHz"?: 440, "video"?: "VP8" \| "H264" \| null}` (video defaults to VP8) | `{"email"}`: the built-in participant (`media-bot@sandbox.example`) joins, playing the tone and a 320x240 test pattern |
/// | `"removeBot"` | none | `{}` |
///
/// Synchronous; callable from any thread.
///
/// Errors: `WEBEX_INVALID_ARGUMENT` for a NULL `meeting_number` or `action`, `params_json`
/// that is not JSON (the message names it), or anything the sandbox refuses: an unknown
/// action, a bad parameter, a meeting that is not running, a person who is not in it (the
/// message, from `webex_last_error`, says which); `WEBEX_CLOSED` / `WEBEX_INVALID_HANDLE` for
/// the sandbox handle.
///
/// Ownership: `meeting_number`, `action` and `params_json` are borrowed for the call. On
/// `WEBEX_OK`, `*out_json` is the caller's; free it with `webex_string_free`. On failure it is
/// set to NULL.
///
/// # Safety
/// `meeting_number` and `action` are NULL or NUL-terminated strings; `params_json` is NULL or
/// a NUL-terminated string; `out_json` is NULL or valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_meeting_control(
    sandbox: u64,
    meeting_number: *const c_char,
    action: *const c_char,
    params_json: *const c_char,
    out_json: *mut *mut c_char,
) -> WebexStatus {
    // SAFETY: per this function's contract.
    unsafe {
        sandbox_string(sandbox, out_json, "out_json", |s| {
            let number = str_arg(meeting_number, "meeting_number")?;
            let action = str_arg(action, "action")?;
            let params = if params_json.is_null() { "" } else { str_arg(params_json, "params_json")? };
            let params = match params.trim() {
                "" => serde_json::Value::Object(serde_json::Map::new()),
                text => serde_json::from_str(text)
                    .map_err(|e| Error::invalid(format!("params_json is not valid JSON ({e})")))?,
            };
            s.meeting_control(number, action, &params).map(|v| v.to_string()).map_err(Error::invalid)
        })
    }
}

/// Arms a fault: the next matching requests fail, stall, or both. `fault_json` is
/// `{"path": "/v1/people/me", "method"?, "status"?, "retryAfter"?, "body"?, "delayMs"?,
/// "count"? (default 1, 0 = until cleared), "headers"? ([["name", "value"], ...] added to the
/// fault's answer, with "status")}`; an unknown member is `WEBEX_INVALID_ARGUMENT`.
/// `*out_fault_id` receives the fault's id.
///
/// Ownership: `fault_json` is borrowed for the call.
///
/// # Safety
/// `fault_json` is NULL or a NUL-terminated string; `out_fault_id` is NULL or valid for one
/// write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_sandbox_inject_fault(
    sandbox: u64,
    fault_json: *const c_char,
    out_fault_id: *mut u64,
) -> WebexStatus {
    entry(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_arg(out_fault_id, "out_fault_id") }?;
        *out = 0;
        // SAFETY: per this function's contract.
        let text = unsafe { str_arg(fault_json, "fault_json") }?;
        let fault = Fault::from_json(text.as_bytes()).map_err(|e| Error::invalid(format!("fault_json: {e}")))?;
        *out = with_sandbox(sandbox, |s| Ok(s.inject_fault(fault)))?;
        Ok(())
    })
}

/// Disarms every fault of the sandbox.
#[unsafe(no_mangle)]
pub extern "C" fn webex_sandbox_clear_faults(sandbox: u64) -> WebexStatus {
    entry(|| {
        with_sandbox(sandbox, |s| {
            s.clear_faults();
            Ok(())
        })
    })
}

fn no_user(email: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("the sandbox has no user '{email}'"))
}
