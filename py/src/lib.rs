//! # webex-py: the native module of the `webex_native` Python package
//!
//! Glue only, like the C ABI (`ffi-c`): it exposes the engine's boundary
//! (`webex_core::boundary`) to Python and nothing more. The Python side (`py/python/`) builds
//! `client.rooms.create(...)` namespaces from the operation table, the exception classes from
//! the error codes, and the blocking and asyncio clients on top of these primitives:
//!
//! - `NativeClient.call` runs one operation and waits for it with the GIL released;
//! - `NativeClient.call_async` starts one and queues its outcome for an asyncio loop, which
//!   an engine thread wakes without taking the GIL (`completions.rs`);
//! - `EventQueue.next_batch` waits (GIL released) for the client's events, which the engine's
//!   sink queues without ever touching the GIL, so an engine thread never blocks on Python;
//! - `FrameQueue.next_batch` does the same for received meeting audio and video (one queue
//!   per kind, bounded: the oldest frames go when Python falls behind), and `send_audio` /
//!   `send_video` hand frames to the engine with the GIL released (`media.rs`).
//!
//! An app's storage adapter (a Python object with `get`/`put`/`delete`) is registered with
//! `register_storage` and named in the config by its handle (`storage.rs`); the engine calls it
//! from its threads, attaching to the interpreter for each call, which is safe because every
//! call above waits with the GIL released.
//!
//! Errors cross as the engine's error JSON; Python turns it into one exception class per code
//! (`set_error_factory`). A panic never crosses: the engine's boundary catches its own, and
//! this crate has no code that panics on input.

/// The engine allocates and frees whole pages of JSON on two threads at once; glibc's malloc
/// spends more time consolidating than the engine spends parsing (bench/python). This module's
/// own allocator: Python's is untouched.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;
use webex_core::boundary::{self, Handle, engine};
use webex_core::{Error, ErrorCode, Event};

use completions::Completions;

mod completions;
mod logs;
mod media;
mod objects;
mod sandbox;
mod storage;

/// Builds the Python exception for an engine error (set once by `webex_native._errors`).
static ERROR_FACTORY: OnceLock<Py<PyAny>> = OnceLock::new();

/// The Python exception for an engine error: `factory(error_json)`.
fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    let json = e.to_json().to_string();
    match ERROR_FACTORY.get() {
        Some(factory) => match factory.call1(py, (json,)) {
            Ok(exc) => PyErr::from_value(exc.into_bound(py)),
            Err(err) => err,
        },
        None => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A queue filled on engine threads and drained by one Python thread, the GIL released while
/// it waits. Filling never blocks on Python: it only takes a short mutex.
struct Queue<T> {
    state: Mutex<QueueState<T>>,
    ready: Condvar,
}

struct QueueState<T> {
    items: VecDeque<T>,
    closed: bool,
    /// Items `push_bounded` dropped (oldest first) because the queue was full.
    dropped: u64,
}

impl<T> Queue<T> {
    fn new() -> Arc<Queue<T>> {
        Arc::new(Queue {
            state: Mutex::new(QueueState { items: VecDeque::new(), closed: false, dropped: 0 }),
            ready: Condvar::new(),
        })
    }

    fn push(&self, item: T) {
        if let Ok(mut s) = self.state.lock()
            && !s.closed
        {
            s.items.push_back(item);
            self.ready.notify_all();
        }
    }

    /// Like `push`, but holds at most `capacity` items: the oldest go first, counted.
    fn push_bounded(&self, item: T, capacity: usize) {
        if let Ok(mut s) = self.state.lock()
            && !s.closed
        {
            while s.items.len() >= capacity.max(1) {
                s.items.pop_front();
                s.dropped += 1;
            }
            s.items.push_back(item);
            self.ready.notify_all();
        }
    }

    /// How many items `push_bounded` dropped so far.
    fn dropped(&self) -> u64 {
        self.state.lock().map(|s| s.dropped).unwrap_or(0)
    }

    /// Ends the stream once what is queued has been taken.
    fn close(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.closed = true;
            self.ready.notify_all();
        }
    }

    /// Everything queued (waiting for at least one item), or `None` once closed and empty.
    fn take_all(&self) -> Option<Vec<T>> {
        let mut s = self.state.lock().ok()?;
        loop {
            if !s.items.is_empty() {
                return Some(s.items.drain(..).collect());
            }
            if s.closed {
                return None;
            }
            s = self.ready.wait(s).ok()?;
        }
    }
}

/// Closes the event queue when the engine drops the client's sink (the client's event task
/// ended), so the Python side sees the end of the stream exactly when the engine is done.
struct CloseOnDrop(Arc<Queue<String>>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A client's events, as JSON `{"type", "data"}` texts, in order.
#[pyclass(module = "webex_native._native", frozen)]
struct EventQueue {
    queue: Arc<Queue<String>>,
}

#[pymethods]
impl EventQueue {
    /// Every event queued so far, waiting (GIL released) for at least one; `None` once the
    /// client is closed and every event was taken.
    fn next_batch(&self, py: Python<'_>) -> Option<Vec<String>> {
        let queue = self.queue.clone();
        py.detach(move || queue.take_all())
    }

    /// Ends the stream (the dispatching thread then finishes).
    fn close(&self) {
        self.queue.close();
    }
}

/// One engine client: a handle in the engine's registry.
#[pyclass(module = "webex_native._native", frozen)]
struct NativeClient {
    handle: Handle,
    closed: AtomicBool,
    events: Arc<Queue<String>>,
    /// Received meeting audio, from every meeting's audio sink (`media.rs`).
    audio: Arc<Queue<media::RawAudio>>,
    /// Received meeting video, from every meeting's video sink.
    video: Arc<Queue<media::RawVideo>>,
}

#[pymethods]
impl NativeClient {
    /// A client from a JSON config document (the same document as every other language).
    #[new]
    fn new(py: Python<'_>, config_json: &str) -> PyResult<NativeClient> {
        let events = Queue::new();
        let sink_queue = events.clone();
        let guard = CloseOnDrop(events.clone());
        let sink: boundary::EventSink = Arc::new(move |event: &Event| {
            let _keep = &guard;
            sink_queue.push(event.to_json());
        });
        let config = config_json.to_owned();
        let handle = py.detach(move || engine().client_new(&config, sink)).map_err(|e| to_pyerr(py, &e))?;
        Ok(NativeClient { handle, closed: AtomicBool::new(false), events, audio: Queue::new(), video: Queue::new() })
    }

    /// The engine handle (for diagnostics).
    #[getter]
    fn handle(&self) -> Handle {
        self.handle
    }

    /// Whether `close` ran.
    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The client's event stream (one per client; the Python side fans it out).
    fn events(&self) -> EventQueue {
        EventQueue { queue: self.events.clone() }
    }

    /// The client's received meeting frames of `kind` (`"audio"` or `"video"`): one queue
    /// per client and kind, for every meeting whose sink of that kind is set with `set_sink`.
    fn frames(&self, py: Python<'_>, kind: &str) -> PyResult<media::FrameQueue> {
        Ok(match media::Kind::parse(py, kind)? {
            media::Kind::Audio => media::FrameQueue::new(&self.audio),
            media::Kind::Video => media::FrameQueue::new(&self.video),
        })
    }

    /// Queues meeting `meeting_id`'s received frames of `kind` for `frames(kind)` (`on`), or
    /// stops them. Never blocks; raises for a meeting this client does not know.
    fn set_sink(&self, py: Python<'_>, kind: &str, meeting_id: &str, on: bool) -> PyResult<()> {
        let (e, h) = (engine(), self.handle);
        let set = match media::Kind::parse(py, kind)? {
            media::Kind::Audio => {
                let sink = on.then(|| media::audio_sink(&self.audio));
                py.detach(|| e.meeting_set_audio_sink(h, meeting_id, sink))
            }
            media::Kind::Video => {
                let sink = on.then(|| media::video_sink(&self.video));
                py.detach(|| e.meeting_set_video_sink(h, meeting_id, sink))
            }
        };
        set.map_err(|e| to_pyerr(py, &e))
    }

    /// Sends one frame of audio to a meeting joined with `audio.send`: interleaved 16-bit PCM
    /// in native byte order, 48 kHz, 480 or 960 samples per channel; the GIL released while
    /// the engine encodes it. Never blocks.
    fn send_audio(&self, py: Python<'_>, meeting_id: &str, pcm: &[u8], channels: u32) -> PyResult<()> {
        media::send_audio(py, self.handle, meeting_id, pcm, channels)
    }

    /// Sends one encoded video frame (VP8, or H.264 Annex-B, in the join's codec) to a meeting
    /// joined with `video.send`; the GIL released while the engine checks and copies it.
    /// Never blocks.
    fn send_video(
        &self,
        py: Python<'_>,
        meeting_id: &str,
        data: &[u8],
        keyframe: bool,
        duration_us: u64,
    ) -> PyResult<()> {
        media::send_video(py, self.handle, meeting_id, data, keyframe, duration_us)
    }

    /// Runs operation `op` with JSON params and waits for it, the GIL released; returns the
    /// result as Python objects (dicts, lists, str, ...; see `objects`). Ctrl-C is honoured while waiting (the call then goes on in the
    /// engine and its result is dropped).
    fn call<'py>(&self, py: Python<'py>, op: &str, params_json: &str) -> PyResult<Bound<'py, PyAny>> {
        let (tx, rx) = mpsc::sync_channel(1);
        let accepted = py.detach(|| {
            engine().client_call(
                self.handle,
                op,
                params_json,
                Box::new(move |result| {
                    let _ = tx.send(result);
                }),
            )
        });
        accepted.map_err(|e| to_pyerr(py, &e))?;
        let mut rx = rx;
        loop {
            // The receiver moves into the detached closure and back (it is Send, not Sync).
            let (received, back) = py.detach(move || (rx.recv_timeout(Duration::from_millis(200)), rx));
            rx = back;
            match received {
                Ok(Ok(answer)) => {
                    return objects::answer(py, &answer)
                        .map_err(|e| to_pyerr(py, &Error::internal(format!("unreadable answer: {e}"))));
                }
                Ok(Err(e)) => return Err(to_pyerr(py, &e)),
                Err(mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // The engine guarantees one completion; this is only reachable by a bug.
                    return Err(to_pyerr(py, &Error::internal(format!("{op} finished without a result"))));
                }
            }
        }
    }

    /// Starts operation `op`; its outcome goes to `completions` under `call_id` (see
    /// [`Completions`]). Refused calls (closed client, unknown operation, params that are not
    /// an object) raise here and never complete.
    fn call_async(
        &self,
        py: Python<'_>,
        op: &str,
        params_json: &str,
        completions: &Completions,
        call_id: u64,
    ) -> PyResult<()> {
        let shared = completions.shared.clone();
        let done: boundary::Done = Box::new(move |result| {
            shared.push((call_id, result.map_err(|e| e.to_json().to_string())));
        });
        py.detach(|| engine().client_call(self.handle, op, params_json, done)).map_err(|e| to_pyerr(py, &e))
    }

    /// Closes the client: calls in flight finish with `CANCELLED`, the event stream ends.
    /// Waits (GIL released) until every callback has returned. A second close does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let result = py.detach(|| engine().client_close(self.handle));
        self.events.close();
        self.audio.close();
        self.video.close();
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.code == ErrorCode::Closed => Ok(()),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }
}

impl Drop for NativeClient {
    /// The finalizer's safety net: a client nobody closed is closed when Python frees it.
    fn drop(&mut self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let handle = self.handle;
        // Closing waits for callbacks that may need the GIL (asyncio completions), so it must
        // not hold it: release it if we are attached, and never wait on an engine thread.
        let close = move || {
            let _ = engine().client_close(handle);
        };
        if Python::try_attach(|py| py.detach(close)).is_none() {
            let _ = engine().client_close(handle);
        }
        self.events.close();
        self.audio.close();
        self.video.close();
    }
}

/// Registers the function that turns an engine error JSON into a Python exception.
#[pyfunction]
fn set_error_factory(factory: Py<PyAny>) -> bool {
    ERROR_FACTORY.set(factory).is_ok()
}

/// Every operation of the engine's table as JSON: `[{name, doc, kind, idParam, params, result}]`.
#[pyfunction]
fn operations_json() -> String {
    boundary::describe_operations().to_string()
}

/// The engine's error codes as `(name, number)`, in numeric order.
#[pyfunction]
fn error_codes() -> Vec<(&'static str, i32)> {
    ErrorCode::ALL.iter().map(|c| (c.as_str(), c.number())).collect()
}

/// Whether the engine still holds a client handle (for tests of finalizers).
#[pyfunction]
fn client_is_open(handle: Handle) -> bool {
    engine().client(handle).is_ok()
}

/// The native module `webex_native._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VERSION", webex_core::VERSION)?;
    m.add_class::<NativeClient>()?;
    m.add_class::<EventQueue>()?;
    m.add_class::<Completions>()?;
    m.add_class::<media::FrameQueue>()?;
    m.add_class::<sandbox::NativeSandbox>()?;
    m.add_function(wrap_pyfunction!(set_error_factory, m)?)?;
    m.add_function(wrap_pyfunction!(operations_json, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(client_is_open, m)?)?;
    m.add_function(wrap_pyfunction!(logs::set_log_handler, m)?)?;
    m.add_function(wrap_pyfunction!(storage::register_storage, m)?)?;
    m.add_function(wrap_pyfunction!(storage::release_storage, m)?)?;
    m.add_function(wrap_pyfunction!(objects::loads, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_hands_out_batches_then_ends() {
        let q = Queue::new();
        q.push(1);
        q.push(2);
        q.push(3);
        q.close();
        q.push(4);
        assert_eq!(q.take_all(), Some(vec![1, 2, 3]));
        assert_eq!(q.take_all(), None);
    }

    #[test]
    fn a_bounded_push_drops_the_oldest() {
        let q = Queue::new();
        for i in 0..5 {
            q.push_bounded(i, 3);
        }
        assert_eq!((q.take_all(), q.dropped()), (Some(vec![2, 3, 4]), 2));
    }

    #[test]
    fn the_event_queue_ends_when_the_sink_is_dropped() {
        let q: Arc<Queue<String>> = Queue::new();
        let guard = CloseOnDrop(q.clone());
        q.push("ready".into());
        drop(guard);
        assert_eq!(q.take_all(), Some(vec!["ready".to_owned()]));
        assert_eq!(q.take_all(), None);
    }
}
