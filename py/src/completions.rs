//! Where `AsyncWebex` calls finish: engine threads queue outcomes here and wake the asyncio
//! loop, which takes every queued outcome in one `take()`.
//!
//! The wake-up never needs the GIL: an engine thread writes one byte to a socket whose other
//! end the loop watches (`loop.add_reader(fileno, drain)`). Taking the GIL instead (for
//! `loop.call_soon_threadsafe`) stalled a tokio worker for as long as the loop's thread ran
//! Python (up to the interpreter's 5 ms switch interval), and each attach from an engine
//! thread built and tore down a Python thread state (two `mmap`s). Loops without
//! `add_reader` (Windows' proactor loop) get the `call_soon_threadsafe` wake-up instead.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use webex_core::Error;
use webex_core::boundary::Answer;

/// One finished asynchronous call: its id and its answer, or its error as JSON text.
pub(crate) type Outcome = (u64, Result<Answer, String>);

/// An outcome as the loop takes it: `(call_id, error_json, result)`, `error_json` None on
/// success and `result` None on failure.
type Settled<'py> = (u64, Option<String>, Option<Bound<'py, PyAny>>);

/// How an engine thread tells the loop that outcomes are waiting.
enum Wake {
    /// Write a byte to `writer`; the loop reads `reader` (registered with `add_reader`).
    #[cfg(unix)]
    Socket { reader: std::os::unix::net::UnixStream, writer: std::os::unix::net::UnixStream },
    /// `event_loop.call_soon_threadsafe(drain)`, with the GIL.
    Loop { event_loop: Py<PyAny>, drain: Py<PyAny> },
}

pub(crate) struct CompletionsShared {
    outcomes: Mutex<Vec<Outcome>>,
    /// Whether the loop has been woken and not drained since.
    scheduled: AtomicBool,
    wake: Wake,
}

impl CompletionsShared {
    /// Runs on an engine thread. Only the first outcome after a drain wakes the loop; the
    /// others are queued and taken with it.
    pub(crate) fn push(&self, outcome: Outcome) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            outcomes.push(outcome);
        }
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        match &self.wake {
            #[cfg(unix)]
            Wake::Socket { writer, .. } => {
                use std::io::Write;
                // Non-blocking, and at most one byte waits per drain, so it cannot fill up. A
                // failure means the reader is gone, and nobody awaits these calls any more.
                let _ = (&*writer).write(&[1]);
            }
            Wake::Loop { event_loop, drain } => {
                // try_attach: during interpreter shutdown there is nobody left to tell.
                Python::try_attach(|py| {
                    if let Err(err) = event_loop.call_method1(py, "call_soon_threadsafe", (drain.clone_ref(py),)) {
                        // The loop was closed before the call finished: nobody awaits it any more.
                        if !err.is_instance_of::<PyRuntimeError>(py) {
                            err.write_unraisable(py, None);
                        }
                    }
                });
            }
        }
    }
}

/// The outcomes of one client's calls on one asyncio loop.
///
/// `Completions(None, None)` wakes the loop through `fileno()` (register it with
/// `loop.add_reader(fileno, drain)`); `Completions(loop, drain)` wakes it with
/// `loop.call_soon_threadsafe(drain)`, for loops that cannot watch a file descriptor.
#[pyclass(module = "webex_native._native", frozen)]
pub(crate) struct Completions {
    pub(crate) shared: std::sync::Arc<CompletionsShared>,
}

#[pymethods]
impl Completions {
    #[new]
    #[pyo3(signature = (event_loop=None, drain=None))]
    fn new(event_loop: Option<Py<PyAny>>, drain: Option<Py<PyAny>>) -> PyResult<Completions> {
        let wake = match (event_loop, drain) {
            (Some(event_loop), Some(drain)) => Wake::Loop { event_loop, drain },
            #[cfg(unix)]
            (None, None) => {
                let (reader, writer) = std::os::unix::net::UnixStream::pair()?;
                reader.set_nonblocking(true)?;
                writer.set_nonblocking(true)?;
                Wake::Socket { reader, writer }
            }
            _ => {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "Completions(event_loop, drain): give both (or neither, on Unix, to wake through fileno())",
                ));
            }
        };
        Ok(Completions {
            shared: std::sync::Arc::new(CompletionsShared {
                outcomes: Mutex::new(Vec::new()),
                scheduled: AtomicBool::new(false),
                wake,
            }),
        })
    }

    /// The descriptor that becomes readable when outcomes wait (None in the loop mode).
    fn fileno(&self) -> Option<i32> {
        match &self.shared.wake {
            #[cfg(unix)]
            Wake::Socket { reader, .. } => {
                use std::os::fd::AsRawFd;
                Some(reader.as_raw_fd())
            }
            Wake::Loop { .. } => None,
        }
    }

    /// Every outcome queued so far (called by the drain, on the loop), answers built into
    /// Python objects here, with the GIL the drain holds anyway.
    fn take<'py>(&self, py: Python<'py>) -> Vec<Settled<'py>> {
        self.take_outcomes()
            .into_iter()
            .map(|(call_id, outcome)| match outcome.map(|answer| crate::objects::answer(py, &answer)) {
                Ok(Ok(result)) => (call_id, None, Some(result)),
                Ok(Err(e)) => {
                    (call_id, Some(Error::internal(format!("unreadable answer: {e}")).to_json().to_string()), None)
                }
                Err(error) => (call_id, Some(error), None),
            })
            .collect()
    }
}

impl Completions {
    fn take_outcomes(&self) -> Vec<Outcome> {
        // In this order: empty the wake-up socket, clear the flag, take the outcomes. Emptying
        // after clearing could swallow the byte of a push that came in between, leaving the
        // flag set with nothing to read: every later push would then stay silent.
        #[cfg(unix)]
        if let Wake::Socket { reader, .. } = &self.shared.wake {
            use std::io::Read;
            let mut sink = [0u8; 64];
            while matches!((&*reader).read(&mut sink), Ok(n) if n > 0) {}
        }
        // An outcome pushed from now on wakes the loop again (a later drain finds it, or
        // nothing when this take already had it).
        self.shared.scheduled.store(false, Ordering::Release);
        self.shared.outcomes.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn one_wake_up_per_drain_however_many_outcomes() {
        let c = Completions::new(None, None).unwrap();
        let Wake::Socket { reader, .. } = &c.shared.wake else { panic!("socket mode") };
        let mut buf = [0u8; 8];
        assert!((&*reader).read(&mut buf).is_err(), "nothing to read before an outcome");
        for id in 1..=3 {
            c.shared.push((id, Ok(Answer::value(serde_json::json!({})))));
        }
        assert_eq!((&*reader).read(&mut buf).unwrap(), 1, "three outcomes, one byte");
        let taken = c.take_outcomes();
        assert_eq!(taken.iter().map(|o| o.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(c.take_outcomes().is_empty());
        c.shared.push((4, Err("{}".into())));
        assert_eq!((&*reader).read(&mut buf).unwrap(), 1, "after a drain, the next outcome wakes again");
    }
    #[test]
    fn no_wake_up_is_lost_between_pushing_threads_and_the_loop() {
        // Four engine threads push while a "loop" waits for the descriptor and drains, as
        // asyncio's add_reader does. A wake-up consumed without its flag being cleared would
        // leave outcomes queued and the descriptor silent: the poll below would time out.
        const THREADS: u64 = 4;
        const EACH: u64 = 20_000;
        let c = Completions::new(None, None).unwrap();
        let fd = c.fileno().unwrap();
        let pushers: Vec<_> = (0..THREADS)
            .map(|t| {
                let shared = c.shared.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        shared.push((t * EACH + i, Err(String::new())));
                    }
                })
            })
            .collect();
        let mut seen = 0;
        while seen < THREADS * EACH {
            let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            // 10 s: a hang guard, not a timing.
            let ready = unsafe { libc::poll(&mut pfd, 1, 10_000) };
            assert_eq!(ready, 1, "outcomes waiting ({} of {}) but no wake-up", seen, THREADS * EACH);
            seen += c.take_outcomes().len() as u64;
        }
        for p in pushers {
            p.join().unwrap();
        }
        assert_eq!(seen, THREADS * EACH);
    }
}
