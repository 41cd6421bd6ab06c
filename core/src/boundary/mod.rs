//! The boundary every binding calls: the engine's runtime, the handle registry, the operation
//! table and the event sink (design.md "The engine").
//!
//! Contract for bindings:
//! - [`Engine::client_call`] either returns an error at once (bad handle, unknown operation,
//!   params that are not a JSON object) and never calls `done`, or returns `Ok` and calls
//!   `done` exactly once, later, on an engine thread.
//! - Callbacks run on engine threads and must not block.
//! - A panic inside the engine becomes an `INTERNAL` error; it never unwinds into the caller.

mod answer;
pub mod operation;
mod operations;
mod registry;

pub use answer::{Answer, Json};
pub use operation::{OpKind, Operation};
pub use operations::{NextPage, RawRequest, find, operations};
pub use registry::{Handle, Registry};

use crate::client::Client;
use crate::config::Config;
use crate::error::{Error, ErrorCode, Result};
use crate::events::Event;
use futures_util::FutureExt;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Receives every public event of a client, as `{type, data}`.
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;
/// Receives the result of one call, exactly once.
pub type Done = Box<dyn FnOnce(Result<Answer>) + Send>;

/// The kind name of client handles.
pub const CLIENT: &str = "client";

/// A client as the boundary holds it.
pub struct ClientSlot {
    /// The client.
    pub client: Client,
    cancel: CancellationToken,
    tracker: TaskTracker,
    /// Whether calls are still started; taken with the call's spawn, so a call racing close
    /// either runs (and close waits for it) or is refused with `CLOSED`, never completes
    /// after close returned.
    accepting: std::sync::Mutex<bool>,
}

thread_local! {
    static ENGINE_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is one of the engine's (a callback runs on one): waiting there for
/// engine work could deadlock, so the boundary and bindings do not wait on them. Another
/// runtime's thread, or the app's thread inside `client_new`, is not one.
pub fn on_engine_thread() -> bool {
    ENGINE_THREAD.with(std::cell::Cell::get)
}

/// The process-wide engine.
pub struct Engine {
    runtime: Runtime,
    registry: Registry,
}

static ENGINE: OnceLock<Engine> = OnceLock::new();

/// The engine, started on first use.
pub fn engine() -> &'static Engine {
    ENGINE.get_or_init(|| Engine {
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("webex-engine")
            .on_thread_start(|| {
                ENGINE_THREAD.with(|t| t.set(true));
                block_sigpipe();
            })
            .enable_all()
            .build()
            .expect("the engine runtime must start"),
        registry: Registry::default(),
    })
}

/// Blocks SIGPIPE on the calling (engine) thread. A write to a connection the peer has closed
/// raises SIGPIPE on the writing thread, and `writev` (which hyper and rustls use) cannot say
/// MSG_NOSIGNAL; in a C host, where SIGPIPE keeps its default action, that killed the whole
/// process (seen under valgrind: the sandbox answering a client that had just refused its
/// certificate). Blocked, the signal stays pending on this thread, the write fails with EPIPE
/// and the connection's error path handles it; the host's own signal handling is untouched.
/// (Rust, Python and Node hosts already ignore SIGPIPE.)
fn block_sigpipe() {
    #[cfg(unix)]
    // SAFETY: a sigset_t on the stack, initialised by sigemptyset before use; pthread_sigmask
    // changes only this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

impl Engine {
    /// The engine's runtime (bindings spawn nothing else).
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Runs `work` on the engine and waits for its output: from any thread but the engine's
    /// own (see [`on_engine_thread`]), also from a thread of another tokio runtime, where
    /// `Runtime::block_on` would panic.
    pub fn wait_for<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T> {
        if on_engine_thread() {
            return Err(Error::invalid(
                "this cannot wait on an engine thread (a callback); call it from another thread",
            ));
        }
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv().map_err(|_| Error::internal("the engine dropped the work it was waiting for"))
    }

    /// The handle registry (bindings register their own kinds, e.g. sandboxes).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Create a client from a JSON config document; events go to `sink` on engine threads,
    /// starting with `ready`.
    pub fn client_new(&self, config_json: &str, sink: EventSink) -> Result<Handle> {
        guard(|| {
            let config = Config::from_json_str(config_json)?;
            let _enter = self.runtime.enter();
            let client = Client::new(config)?;
            let mut events = client.events();
            let cancel = CancellationToken::new();
            let tracker = TaskTracker::new();
            tracker.spawn(async move {
                while let Some(event) = events.recv().await {
                    let sink = sink.clone();
                    if std::panic::catch_unwind(AssertUnwindSafe(|| sink(&event))).is_err() {
                        tracing::error!(target: "webex::boundary", "an event callback panicked; event {} dropped", event.kind);
                    }
                }
            });
            let slot = Arc::new(ClientSlot { client, cancel, tracker, accepting: std::sync::Mutex::new(true) });
            Ok(self.registry.insert(CLIENT, slot))
        })
    }

    /// The client behind a handle.
    pub fn client(&self, handle: Handle) -> Result<Arc<ClientSlot>> {
        self.registry.get::<ClientSlot>(CLIENT, handle)
    }

    /// Run operation `op` with JSON `params` on a client; see the module docs for the contract.
    pub fn client_call(&self, handle: Handle, op: &str, params_json: &str, done: Done) -> Result<()> {
        let slot = self.client(handle)?;
        let operation = find(op).ok_or_else(|| unknown_operation(op))?;
        let params: Value = if params_json.trim().is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_str(params_json)
                .map_err(|e| Error::invalid(format!("{op}: params are not valid JSON ({e})")))?
        };
        if !params.is_object() {
            return Err(Error::invalid(format!("{op}: params must be a JSON object")));
        }
        self.spawn_call(&slot, operation, params, done)
    }

    fn spawn_call(&self, slot: &ClientSlot, operation: &'static Operation, params: Value, done: Done) -> Result<()> {
        let accepting = slot.accepting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !*accepting {
            return Err(Error::new(ErrorCode::Closed, "the client was closed"));
        }
        let future = (operation.run)(slot.client.clone(), params);
        let cancel = slot.cancel.clone();
        let name = operation.name;
        let _enter = self.runtime.enter();
        slot.tracker.spawn(async move {
            let result = tokio::select! {
                r = AssertUnwindSafe(future).catch_unwind() => r.unwrap_or_else(|_| Err(Error::internal(format!("{name} panicked; please report this")))),
                _ = cancel.cancelled() => Err(Error::new(ErrorCode::Cancelled, format!("{name} was cancelled because its client was closed"))),
            };
            if std::panic::catch_unwind(AssertUnwindSafe(|| done(result))).is_err() {
                tracing::error!(target: "webex::boundary", "the completion callback of {name} panicked");
            }
        });
        Ok(())
    }

    /// Close a client: in-flight calls complete with `CANCELLED`, the event stream ends, and
    /// (unless called from an engine thread) this waits until every callback has returned.
    /// Afterwards the handle is `CLOSED`.
    pub fn client_close(&self, handle: Handle) -> Result<()> {
        let shutdown = self.begin_close(handle)?;
        if on_engine_thread() {
            // A callback closing its own client: it finishes in the background.
            self.runtime.spawn(shutdown);
        } else {
            self.wait_for(shutdown)?;
        }
        Ok(())
    }

    /// Close a client as [`Engine::client_close`] does, without waiting anywhere: `then` runs
    /// once, on a blocking-pool thread of the engine (it may wait there), after every callback
    /// of the client has returned. Callable from a callback. `CLOSED` (and `then` dropped
    /// unrun) when the handle is already closed.
    pub fn client_close_then(&self, handle: Handle, then: Box<dyn FnOnce() + Send>) -> Result<()> {
        let shutdown = self.begin_close(handle)?;
        self.runtime.spawn(async move {
            shutdown.await;
            if tokio::task::spawn_blocking(then).await.is_err() {
                tracing::error!(target: "webex::boundary", "a close completion panicked");
            }
        });
        Ok(())
    }

    /// Takes the client out of the registry, refuses new calls, cancels those in flight, and
    /// returns what finishes the close: the client's shutdown, then every callback returned.
    fn begin_close(&self, handle: Handle) -> Result<impl Future<Output = ()> + Send + 'static> {
        let slot = self.registry.remove::<ClientSlot>(CLIENT, handle)?;
        *slot.accepting.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = false;
        slot.cancel.cancel();
        slot.tracker.close();
        let client = slot.client.clone();
        Ok(async move {
            client.shutdown().await;
            slot.tracker.wait().await;
        })
    }
}

/// Audio and video frames across the boundary (docs/meetings-design.md §5.4): no JSON, no runtime needed on
/// the caller's thread.
impl Engine {
    fn meeting(&self, handle: Handle, meeting_id: &str) -> Result<Arc<crate::meetings::meeting::Meeting>> {
        self.client(handle)?.client.meetings().get(meeting_id)
    }

    /// Sends one frame of audio to a meeting joined with `audio.send`: interleaved 16-bit PCM
    /// at 48 kHz, `channels` 1 or 2, 480 or 960 samples per channel. Synchronous, thread-safe,
    /// never blocks; the samples are encoded before it returns (the buffer may be reused).
    pub fn meeting_send_audio(&self, handle: Handle, meeting_id: &str, pcm: &[i16], channels: u32) -> Result<()> {
        guard(|| self.meeting(handle, meeting_id)?.send_audio(pcm, channels))
    }

    /// Where a meeting's received audio goes (`None` stops it); may be set before joining.
    /// The sink runs on engine threads, one speaker's frames in order, and must not block.
    /// UNSURE: clearing it does not yet wait for a sink call already running.
    pub fn meeting_set_audio_sink(
        &self,
        handle: Handle,
        meeting_id: &str,
        sink: Option<crate::meetings::AudioSink>,
    ) -> Result<()> {
        guard(|| {
            let sink = sink.map(|s| -> crate::meetings::AudioSink {
                Arc::new(move |f: &crate::meetings::AudioFrame<'_>| {
                    if std::panic::catch_unwind(AssertUnwindSafe(|| s(f))).is_err() {
                        tracing::error!(target: "webex::boundary", "an audio callback panicked; frame dropped");
                    }
                })
            });
            self.meeting(handle, meeting_id)?.set_audio_sink(sink);
            Ok(())
        })
    }

    /// Sends one encoded video frame to a meeting joined with `video.send`: a VP8 frame or an
    /// H.264 access unit (Annex-B), in the join's codec; `keyframe` as the encoder says,
    /// `duration_us` how long the frame is shown (1/frame rate). Synchronous, thread-safe,
    /// never blocks; the data is copied before it returns.
    pub fn meeting_send_video(
        &self,
        handle: Handle,
        meeting_id: &str,
        data: &[u8],
        keyframe: bool,
        duration_us: u64,
    ) -> Result<()> {
        let info =
            crate::meetings::VideoFrameInfo { keyframe, duration: std::time::Duration::from_micros(duration_us) };
        guard(|| self.meeting(handle, meeting_id)?.send_video(data, info))
    }

    /// Where a meeting's received video goes (`None` stops it); may be set before joining.
    /// The sink runs on engine threads, one receive slot's frames in order, and must not
    /// block. UNSURE: clearing it does not yet wait for a sink call already running.
    pub fn meeting_set_video_sink(
        &self,
        handle: Handle,
        meeting_id: &str,
        sink: Option<crate::meetings::VideoSink>,
    ) -> Result<()> {
        guard(|| {
            let sink = sink.map(|s| -> crate::meetings::VideoSink {
                Arc::new(move |f: &crate::meetings::VideoFrame<'_>| {
                    if std::panic::catch_unwind(AssertUnwindSafe(|| s(f))).is_err() {
                        tracing::error!(target: "webex::boundary", "a video callback panicked; frame dropped");
                    }
                })
            });
            self.meeting(handle, meeting_id)?.set_video_sink(sink);
            Ok(())
        })
    }
}

/// Run `f`, turning a panic into an `INTERNAL` error.
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Error::internal("webex-native panicked; please report this")))
}

fn unknown_operation(op: &str) -> Error {
    let closest = operations().iter().map(|o| (distance(op, o.name), o.name)).min();
    let hint = match closest {
        Some((d, name)) if d <= 3 => format!("; did you mean '{name}'?"),
        _ => "; see operations() for the list".into(),
    };
    Error::invalid(format!("unknown operation '{op}'{hint}"))
}

/// Levenshtein distance, for "did you mean".
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Every operation's description, as JSON (for generators of typed surfaces).
pub fn describe_operations() -> Value {
    Value::Array(operations().iter().map(Operation::describe).collect())
}
