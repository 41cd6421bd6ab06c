//! Engine logs into Python's `logging`: the engine hands redacted records to our sink in
//! batches on its log thread; each batch crosses the GIL once, as one call of the Python
//! function registered with `set_log_handler` (`webex_native._log`, which feeds the
//! `webex_native` logger).

use pyo3::prelude::*;
use std::sync::{Arc, Mutex};
use webex_core::log::{self, LogRecord};

/// The id of the registered sink.
static SINK: Mutex<Option<u64>> = Mutex::new(None);

/// Routes engine log batches to `handler(records)`, `records` being a list of
/// `(level, target, message, timestamp_ms)`; replaces an earlier handler. `None` stops it.
#[pyfunction]
#[pyo3(signature = (handler))]
pub fn set_log_handler(handler: Option<Py<PyAny>>) {
    let Ok(mut slot) = SINK.lock() else { return };
    if let Some(id) = slot.take() {
        log::remove_sink(id);
    }
    if let Some(handler) = handler {
        let sink: log::Sink = Arc::new(move |batch: &[LogRecord]| {
            let rows: Vec<(&'static str, String, String, u64)> =
                batch.iter().map(|r| (r.level, r.target.clone(), r.message.clone(), r.timestamp_ms)).collect();
            // try_attach: nothing to deliver to while the interpreter shuts down.
            Python::try_attach(|py| {
                if let Err(err) = handler.call1(py, (rows,)) {
                    err.write_unraisable(py, None);
                }
            });
        });
        *slot = Some(log::add_sink(sink));
    }
}
