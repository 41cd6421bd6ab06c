//! # webex-node: the Node.js addon of webex-native
//!
//! Glue between napi and the engine's boundary (`webex_core::boundary`), nothing more: the JS
//! API (`node/index.js`) builds every namespace from [`operations`], the operation table.
//!
//! Threads: the engine calls back on its own threads. Results come back to JS through one
//! `JsDeferred` per call (a thread-safe function that settles the Promise on the JS thread);
//! events through one thread-safe function per client. Nothing here blocks the JS thread:
//! closing a client and stopping a sandbox finish on other threads and settle a Promise.
//!
//! Lifetimes: the event function is weak (it does not keep the process alive) unless the JS
//! side asks for it while it listens ([`NativeClient::keep_alive`]); `close()` and the napi
//! finalizer (`Drop`) release it and the client's handle.
//!
//! Also: an app's storage adapter as the engine's `AppStore` ([`storage`]), engine logs into
//! JS in batches ([`logs`]), and meeting audio and video ([`media`]: frames sent
//! synchronously, frames received through one weak, bounded thread-safe function per meeting
//! and kind).

use napi::JsDeferred;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use webex_core::boundary::{self, Handle, engine};
use webex_core::{ErrorCode, Event};
use webex_sandbox::{Fault, Sandbox, SandboxOptions};

pub mod logs;
pub mod media;
pub mod storage;

/// The event function: called with `{"type", "data"}` JSON text; weak, never callee-handled.
type EventFn = ThreadsafeFunction<String, (), String, Status, false, true, 0>;

/// Clients created and not yet released (closed or finalized); for the tests of finalizers.
static OPEN_CLIENTS: AtomicUsize = AtomicUsize::new(0);

/// Every operation of the table as JSON: `[{name, doc, kind, idParam, params, result}]`, the
/// last two JSON Schemas.
#[napi]
pub fn operations() -> String {
    boundary::describe_operations().to_string()
}

/// The stable error codes as JSON `[{name, number}]` (`Error.code` is the name).
#[napi]
pub fn error_codes() -> String {
    let codes: Vec<serde_json::Value> =
        ErrorCode::ALL.iter().map(|c| serde_json::json!({"name": c.as_str(), "number": c.number()})).collect();
    serde_json::Value::Array(codes).to_string()
}

/// The engine's version.
#[napi]
pub fn version() -> String {
    webex_core::VERSION.to_owned()
}

/// How many clients are open (neither closed nor finalized).
#[napi]
pub fn open_clients() -> u32 {
    u32::try_from(OPEN_CLIENTS.load(Ordering::Relaxed)).unwrap_or(u32::MAX)
}

/// An error to throw with the package's `code` (what `js_error` builds), for a sync method.
pub(crate) fn coded(env: &Env, code: ErrorCode, message: impl Into<String>) -> Error {
    match js_error(env, &webex_core::Error::new(code, message)) {
        Ok(error) => Error::from(error),
        Err(e) => e,
    }
}

/// The one place engine errors become JS errors: an `Error` with `code` (the stable name),
/// `codeNumber`, and `statusCode`, `trackingId`, `retryAfter` (seconds) when the cloud sent
/// them.
fn js_error(env: &Env, e: &webex_core::Error) -> Result<Unknown<'static>> {
    let mut error = env.create_error(Error::from_reason(e.message.clone()))?;
    error.set_named_property("code", e.code.as_str())?;
    error.set_named_property("codeNumber", e.code.number())?;
    if let Some(status) = e.status {
        error.set_named_property("statusCode", u32::from(status))?;
    }
    if let Some(id) = &e.tracking_id {
        error.set_named_property("trackingId", id.as_str())?;
    }
    if let Some(wait) = e.retry_after {
        error.set_named_property("retryAfter", wait.as_secs_f64())?;
    }
    let raw = error.raw();
    // SAFETY: `raw` is a live value of this env, converted on the JS thread it belongs to.
    unsafe { Unknown::from_napi_value(env.raw(), raw) }
}

type Settle<T> = Box<dyn FnOnce(Env) -> Result<T>>;

/// A Promise settled later from any thread with an engine result.
fn promise<T: ToNapiValue + 'static>(env: &Env) -> Result<(JsDeferred<T, Settle<T>>, Object<'_>)> {
    env.create_deferred::<T, Settle<T>>()
}

fn settle<T: ToNapiValue + Send + 'static>(deferred: JsDeferred<T, Settle<T>>, result: webex_core::Result<T>) {
    deferred.resolve(Box::new(move |env: Env| match result {
        Ok(value) => Ok(value),
        Err(e) => Err(Error::from(js_error(&env, &e)?)),
    }));
}

/// A rejected Promise (on the JS thread, for errors found before the engine ran).
fn rejected<T: ToNapiValue + Send + 'static>(env: &Env, e: webex_core::Error) -> Result<Object<'_>> {
    let (deferred, promise) = promise::<T>(env)?;
    settle(deferred, Err(e));
    Ok(promise)
}

/// A client of the engine: a handle, its event function, and whether it was closed.
#[napi]
pub struct NativeClient {
    handle: Handle,
    events: Arc<Mutex<Option<EventFn>>>,
    closed: Arc<AtomicBool>,
    media: media::MediaSinks,
}

#[napi]
impl NativeClient {
    /// A client from a JSON config document; `on_event` receives each event as JSON text, on
    /// the JS thread, in order, starting with `ready`. An invalid config throws `Error` with
    /// `code` `INVALID_ARGUMENT`.
    #[napi(constructor)]
    pub fn new(env: Env, config_json: String, on_event: Function<String, ()>) -> Result<NativeClient> {
        let tsfn: EventFn =
            on_event.build_threadsafe_function::<String>().callee_handled::<false>().weak::<true>().build()?;
        let events = Arc::new(Mutex::new(Some(tsfn)));
        let sink_events = events.clone();
        let sink: boundary::EventSink = Arc::new(move |event: &Event| {
            if let Ok(guard) = sink_events.lock()
                && let Some(tsfn) = guard.as_ref()
            {
                tsfn.call(event.to_json(), ThreadsafeFunctionCallMode::NonBlocking);
            }
        });
        match engine().client_new(&config_json, sink) {
            Ok(handle) => {
                OPEN_CLIENTS.fetch_add(1, Ordering::Relaxed);
                Ok(NativeClient {
                    handle,
                    events,
                    closed: Arc::new(AtomicBool::new(false)),
                    media: media::MediaSinks::default(),
                })
            }
            Err(e) => {
                let error = js_error(&env, &e)?;
                Err(Error::from(error))
            }
        }
    }

    /// The engine handle (a number; 0 is never valid).
    #[napi(getter)]
    pub fn handle(&self) -> f64 {
        self.handle as f64
    }

    /// Run operation `op` with JSON params; resolves with the result as JSON text, rejects
    /// with a mapped `Error`. Never throws.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn call<'env>(&self, env: &'env Env, op: String, params_json: String) -> Result<Object<'env>> {
        if self.closed.load(Ordering::Acquire) {
            return rejected::<String>(env, closed_error(&op));
        }
        let (deferred, promise) = promise::<String>(env)?;
        // The deferred is shared with the closure: the engine either takes the closure (and
        // calls it exactly once) or refuses the call at once, and then we settle it here.
        let slot = Arc::new(Mutex::new(Some(deferred)));
        let done_slot = slot.clone();
        let accepted = engine().client_call(
            self.handle,
            &op,
            &params_json,
            Box::new(move |result| {
                if let Some(d) = done_slot.lock().ok().and_then(|mut s| s.take()) {
                    settle(d, result.map(|v| v.to_string()));
                }
            }),
        );
        if let Err(e) = accepted
            && let Some(d) = slot.lock().ok().and_then(|mut s| s.take())
        {
            settle(d, Err(e));
        }
        Ok(promise)
    }

    /// Keep the process alive for events (while listening) or not.
    #[napi]
    #[allow(deprecated)] // ref/unref are what napi_ref_threadsafe_function is for.
    pub fn keep_alive(&self, env: Env, on: bool) -> Result<()> {
        if let Ok(mut guard) = self.events.lock()
            && let Some(tsfn) = guard.as_mut()
        {
            if on { tsfn.refer(&env)? } else { tsfn.unref(&env)? }
        }
        Ok(())
    }

    /// Send one frame of audio to meeting `meeting_id` (joined with `audio.send`): interleaved
    /// 16-bit PCM at 48 kHz, `channels` 1 or 2, 480 or 960 samples per channel. Synchronous and
    /// never blocks (the engine encodes it before returning). Throws the engine's `Error`
    /// (`INVALID_ARGUMENT` for a wrong size, `CLOSED` before joining with audio or after
    /// leaving or closing).
    #[napi]
    pub fn send_audio(&self, env: Env, meeting_id: String, pcm: Int16ArraySlice, channels: u32) -> Result<()> {
        self.send(&env, "meetings.sendAudio", || engine().meeting_send_audio(self.handle, &meeting_id, &pcm, channels))
    }

    /// Send one encoded video frame to meeting `meeting_id` (joined with `video.send`): a VP8
    /// frame or an H.264 access unit (Annex-B) in the join's codec, `keyframe` as the encoder
    /// says, shown for `duration_us` (1/frame rate). Synchronous and never blocks (the engine
    /// copies it before returning). Throws the engine's `Error` (`INVALID_ARGUMENT` for an
    /// empty or malformed frame, `CLOSED` before joining with video or after leaving or
    /// closing).
    #[napi]
    pub fn send_video(
        &self,
        env: Env,
        meeting_id: String,
        data: Uint8ArraySlice,
        keyframe: bool,
        duration_us: f64,
    ) -> Result<()> {
        // JS passes a whole, non-negative number of microseconds (index.js checks it).
        let duration_us = duration_us as u64;
        self.send(&env, "meetings.sendVideo", || {
            engine().meeting_send_video(self.handle, &meeting_id, &data, keyframe, duration_us)
        })
    }

    /// Deliver meeting `meeting_id`'s received audio to `on_frame` (weak; at most
    /// `media::QUEUE` frames wait for the JS thread, later ones are dropped and counted), or
    /// stop and release it (`null`). Throws the engine's `Error` for an unknown meeting, and
    /// `CLOSED` once the client is closed (clearing then does nothing).
    #[napi(ts_args_type = "meetingId: string, onFrame: ((frame: JsAudioFrame) => void) | null")]
    pub fn set_audio_sink(
        &self,
        env: Env,
        meeting_id: String,
        on_frame: Option<Function<media::JsAudioFrame, ()>>,
    ) -> Result<()> {
        self.set_sink(&env, &self.media.audio, "meetings.onAudio", &meeting_id, on_frame)
    }

    /// Deliver meeting `meeting_id`'s received video to `on_frame`, or stop and release it
    /// (`null`); as `set_audio_sink`.
    #[napi(ts_args_type = "meetingId: string, onFrame: ((frame: JsVideoFrame) => void) | null")]
    pub fn set_video_sink(
        &self,
        env: Env,
        meeting_id: String,
        on_frame: Option<Function<media::JsVideoFrame, ()>>,
    ) -> Result<()> {
        self.set_sink(&env, &self.media.video, "meetings.onVideo", &meeting_id, on_frame)
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Close: calls in flight reject with `CANCELLED`, events stop, the handle is released.
    /// Resolves once the engine has finished (on another thread; the JS thread never waits).
    /// A second close resolves at once.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let (deferred, promise) = promise::<()>(env)?;
        if self.closed.swap(true, Ordering::AcqRel) {
            settle(deferred, Ok(()));
            return Ok(promise);
        }
        let handle = self.handle;
        let events = self.events.clone();
        self.media.release_all();
        background_close(handle, events, move |result| settle(deferred, result));
        Ok(promise)
    }
}

impl NativeClient {
    /// A synchronous send (`op`): `CLOSED` once closed, else what the engine says, thrown.
    fn send(&self, env: &Env, op: &str, send: impl FnOnce() -> webex_core::Result<()>) -> Result<()> {
        let result = if self.closed.load(Ordering::Acquire) { Err(closed_error(op)) } else { send() };
        result.or_else(|e| Err(Error::from(js_error(env, &e)?)))
    }

    /// Set or clear (`None`) a meeting's delivery of one kind (`op` names it in errors).
    fn set_sink<K: media::Kind>(
        &self,
        env: &Env,
        sinks: &media::Sinks<K>,
        op: &str,
        meeting_id: &str,
        on_frame: Option<Function<K::Js, ()>>,
    ) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            if on_frame.is_none() {
                return Ok(());
            }
            return Err(Error::from(js_error(env, &closed_error(op))?));
        }
        sinks.set(self.handle, meeting_id, on_frame)?.or_else(|e| Err(Error::from(js_error(env, &e)?)))
    }
}

impl Drop for NativeClient {
    // The napi finalizer: a client dropped without close() is closed in the background.
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.media.release_all();
            background_close(self.handle, self.events.clone(), |_| {});
        }
    }
}

fn closed_error(op: &str) -> webex_core::Error {
    webex_core::Error::new(
        ErrorCode::Closed,
        format!("{op}: this client was closed; create a new one with Webex.init()"),
    )
}

/// Closes a client on a thread of its own (the engine's close waits for callbacks in flight),
/// then releases the event function so it cannot keep the process alive.
fn background_close(
    handle: Handle,
    events: Arc<Mutex<Option<EventFn>>>,
    then: impl FnOnce(webex_core::Result<()>) + Send + 'static,
) {
    let work = move || {
        let result = engine().client_close(handle);
        if let Ok(mut guard) = events.lock() {
            guard.take();
        }
        OPEN_CLIENTS.fetch_sub(1, Ordering::Relaxed);
        then(result);
    };
    // Should the process be out of threads, the handle leaks rather than block the JS thread.
    if std::thread::Builder::new().name("webex-close".into()).spawn(work).is_err() {
        eprintln!("webex-native: could not start a thread to close client {handle}");
    }
}

/// The embedded sandbox: a local Webex-compatible cloud on loopback, served by the engine's
/// runtime.
#[napi]
pub struct NativeSandbox {
    sandbox: Arc<Mutex<Option<Sandbox>>>,
}

#[napi]
impl NativeSandbox {
    /// Start a sandbox on a free loopback port (bot, alice@example.com, bob@example.com);
    /// `tls` serves https:// and wss:// with a CA made for it.
    #[napi(ts_return_type = "Promise<NativeSandbox>")]
    pub fn start(env: &Env, tls: bool) -> Result<Object<'_>> {
        let (deferred, promise) = promise::<NativeSandbox>(env)?;
        engine().runtime().spawn(async move {
            let result = Sandbox::start(SandboxOptions { tls, ..SandboxOptions::default() })
                .await
                .map(|s| NativeSandbox { sandbox: Arc::new(Mutex::new(Some(s))) })
                .map_err(|e| {
                    webex_core::Error::new(ErrorCode::Network, format!("the sandbox cannot listen on loopback: {e}"))
                });
            settle(deferred, result);
        });
        Ok(promise)
    }

    /// `f` on the running sandbox; a stopped one is a `CLOSED` error (with its `code`, as
    /// every error of the package has).
    fn with<T>(&self, env: &Env, f: impl FnOnce(&Sandbox) -> T) -> Result<T> {
        let guard = self.sandbox.lock().map_err(|_| coded(env, ErrorCode::Internal, "sandbox lock poisoned"))?;
        let sandbox = guard.as_ref().ok_or_else(|| coded(env, ErrorCode::Closed, "this sandbox was stopped"))?;
        Ok(f(sandbox))
    }

    /// `{base, hydra, u2c, wdm, orgId, users: [{email, token, personId, displayName, type}],
    /// oauth: {clientId, clientSecret, idbroker}, caCertificate}` as JSON (`caCertificate`:
    /// the CA's PEM over TLS, else null).
    #[napi]
    pub fn info(&self, env: Env) -> Result<String> {
        self.with(&env, |s| {
            let mut info = s.info_json();
            info["base"] = serde_json::Value::String(s.base_url());
            info["bot"] = serde_json::Value::String(s.bot().email);
            info.to_string()
        })
    }

    /// A client config acting as the user with this email (token, discovery URLs and, over
    /// HTTPS, the CA to trust) as JSON; `NOT_FOUND` if there is no such user.
    #[napi]
    pub fn client_config(&self, env: Env, email: String) -> Result<String> {
        self.with(&env, |s| s.client_config(&email).map(|c| c.to_string()))?
            .ok_or_else(|| coded(&env, ErrorCode::NotFound, format!("the sandbox has no user '{email}'")))
    }

    /// Add a user (or return the existing one) as JSON `{email, token, personId, ...}`.
    #[napi]
    pub fn add_user(&self, env: Env, email: String, display_name: String) -> Result<String> {
        self.with(&env, |s| serde_json::to_string(&s.add_user(&email, &display_name)).unwrap_or_default())
    }

    /// Arm a fault, given as JSON `{path, method?, status?, retryAfter?, body?, delayMs?,
    /// count?}`; returns its id.
    #[napi]
    pub fn inject_fault(&self, env: Env, fault_json: String) -> Result<f64> {
        let fault = Fault::from_json(fault_json.as_bytes()).map_err(|e| coded(&env, ErrorCode::InvalidArgument, e))?;
        self.with(&env, |s| s.inject_fault(fault) as f64)
    }

    /// Disarm every fault.
    #[napi]
    pub fn clear_faults(&self, env: Env) -> Result<()> {
        self.with(&env, |s| s.clear_faults())
    }

    /// The requests the sandbox saw (the last 10,000), oldest first, as JSON
    /// `[{method, path, version, status}]`.
    #[napi]
    pub fn requests(&self, env: Env) -> Result<String> {
        self.with(&env, |s| s.requests_json().to_string())
    }

    /// One meeting control on the running meeting with this number, passed straight to
    /// `Sandbox::meeting_control` (actions `media`, `cut`, `kick`, `end`, `addBot`,
    /// `removeBot`); `params_json` is a JSON object (or null). Returns the answer as JSON; the
    /// sandbox's refusal (an unknown action, a bad parameter, a meeting that is not running,
    /// a person who is not in it) throws `Error` with `code` `INVALID_ARGUMENT` and its message.
    #[napi]
    pub fn meeting_control(
        &self,
        env: Env,
        meeting_number: String,
        action: String,
        params_json: String,
    ) -> Result<String> {
        let refused = |message: String| -> Result<String> { Err(coded(&env, ErrorCode::InvalidArgument, message)) };
        let params = match serde_json::from_str::<serde_json::Value>(&params_json) {
            Ok(params) => params,
            Err(e) => return refused(format!("{action}: params are not JSON ({e})")),
        };
        match self.with(&env, |s| s.meeting_control(&meeting_number, &action, &params))? {
            Ok(answer) => Ok(answer.to_string()),
            Err(message) => refused(message),
        }
    }

    /// Stop serving; resolves when the port is closed. A second stop resolves at once.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let (deferred, promise) = promise::<()>(env)?;
        let taken = self.sandbox.lock().ok().and_then(|mut s| s.take());
        match taken {
            Some(sandbox) => {
                engine().runtime().spawn(async move {
                    sandbox.stop().await;
                    settle(deferred, Ok(()));
                });
            }
            None => settle(deferred, Ok(())),
        }
        Ok(promise)
    }
}

impl Drop for NativeSandbox {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.lock().ok().and_then(|mut s| s.take()) {
            engine().runtime().spawn(sandbox.stop());
        }
    }
}
