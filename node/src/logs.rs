//! Engine logs into JS: the engine hands redacted records to a sink in batches on its log
//! thread; each batch becomes one call of a weak thread-safe function (`index.js` turns it
//! into `logger` events), so the JS thread is woken once per batch, not once per line, and
//! logging never keeps the process alive.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use webex_core::log::{self, LogRecord};

/// The batch function: called with a JSON array of records; weak, never callee-handled.
type BatchFn = ThreadsafeFunction<String, (), String, Status, false, true, 0>;

/// Route engine log records to `handler(batchJson)`, `batchJson` being a JSON array of
/// `{level, target, message, timestampMs}` (redacted), oldest first. Every call adds a sink
/// (one per JS environment: each worker sees the engine's records); returns its id for
/// `removeLogSink`. A sink whose environment is gone removes itself.
#[napi(ts_args_type = "handler: (batchJson: string) => void")]
pub fn add_log_sink(handler: Function<String, ()>) -> Result<f64> {
    let tsfn: BatchFn =
        handler.build_threadsafe_function::<String>().callee_handled::<false>().weak::<true>().build()?;
    let id = Arc::new(AtomicU64::new(0));
    let own_id = id.clone();
    let sink: log::Sink = Arc::new(move |batch: &[LogRecord]| {
        let Ok(json) = serde_json::to_string(batch) else { return };
        if tsfn.call(json, ThreadsafeFunctionCallMode::NonBlocking) == Status::Closing {
            log::remove_sink(own_id.load(Ordering::Acquire));
        }
    });
    let sink_id = log::add_sink(sink);
    id.store(sink_id, Ordering::Release);
    Ok(sink_id as f64)
}

/// Stop a sink of `addLogSink`.
#[napi]
pub fn remove_log_sink(id: f64) {
    if id.fract() == 0.0 && id >= 1.0 {
        log::remove_sink(id as u64);
    }
}
