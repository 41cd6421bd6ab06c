//! App-supplied storage from Python: an object with `get(key) -> str | None`,
//! `put(key, value: str)` and `delete(key)` becomes the engine's [`AppStore`], registered under
//! a handle that the config names as `{"adapter": <handle>}` (`webex_native._client` does the
//! registering and releasing around the creation of a client).
//!
//! The engine calls `get` once per key while the client is created (on the creating thread,
//! whose call released the GIL) and `put`/`delete` on its own threads; each call attaches to
//! the interpreter for its duration, like the log sink (`logs.rs`). A Python exception never
//! propagates anywhere: it becomes the error message the engine logs (exception type and
//! message; the stored value is scrubbed from it) and the engine carries on with what it holds
//! in memory.

use crate::to_pyerr;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use std::sync::Arc;
use webex_core::Error;
use webex_core::boundary::Handle;
use webex_core::storage::{self, AppStore};

/// The methods an adapter must have, as the engine calls them.
const METHODS: [(&str, &str); 3] = [("get", "get(key)"), ("put", "put(key, value)"), ("delete", "delete(key)")];

/// A Python storage adapter. Dropping it off the interpreter (the last client using it closed
/// on an engine thread) defers the reference count decrement to PyO3's pool, never blocks.
struct PyStore {
    adapter: Py<PyAny>,
}

impl PyStore {
    /// Runs `invoke(adapter)` attached to the interpreter; an exception becomes
    /// `"<method>(<key>) raised <Type>: <message>"`, with `scrub` (the value being stored)
    /// replaced so that a message quoting it cannot carry a token into the log.
    fn call<T>(
        &self,
        method: &str,
        key: &str,
        scrub: Option<&str>,
        invoke: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>,
    ) -> Result<T, String> {
        // try_attach: nobody to call while the interpreter shuts down.
        Python::try_attach(|py| invoke(self.adapter.bind(py)).map_err(|err| describe(py, method, key, &err, scrub)))
            .unwrap_or_else(|| Err(format!("{method}({key:?}): the Python interpreter is not running")))
    }
}

/// `"put(\"credentials\") raised OSError: disk full"`: the exception's type and message, never
/// its traceback or the value being stored.
fn describe(py: Python<'_>, method: &str, key: &str, err: &PyErr, scrub: Option<&str>) -> String {
    let kind = err.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
    let mut message = err.value(py).str().map(|s| s.to_string()).unwrap_or_default();
    if let Some(value) = scrub.filter(|v| !v.is_empty()) {
        message = message.replace(value, "<value>");
    }
    if message.is_empty() {
        format!("{method}({key:?}) raised {kind}")
    } else {
        format!("{method}({key:?}) raised {kind}: {message}")
    }
}

impl AppStore for PyStore {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.call("get", key, None, |adapter| {
            let value = adapter.call_method1("get", (key,))?;
            if value.is_none() {
                return Ok(None);
            }
            value.extract::<String>().map(Some).map_err(|_| {
                let kind = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                PyTypeError::new_err(format!("returned {kind}; expected the stored JSON text (str) or None"))
            })
        })
    }

    fn put(&self, key: &str, json: &str) -> Result<(), String> {
        self.call("put", key, Some(json), |adapter| adapter.call_method1("put", (key, json)).map(drop))
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        self.call("delete", key, None, |adapter| adapter.call_method1("delete", (key,)).map(drop))
    }
}

/// Registers a storage adapter (an object with callable `get(key) -> str | None`,
/// `put(key, value)` and `delete(key)`) and returns its handle, for the config's
/// `storage.boundedAdapter` / `storage.unboundedAdapter` as `{"adapter": handle}`. Raises
/// `InvalidArgumentError` (a `TypeError`) naming the methods the object lacks.
#[pyfunction]
pub fn register_storage(py: Python<'_>, adapter: Bound<'_, PyAny>) -> PyResult<Handle> {
    let missing: Vec<&str> = METHODS
        .iter()
        .filter(|(name, _)| !adapter.getattr(*name).is_ok_and(|m| m.is_callable()))
        .map(|(_, signature)| *signature)
        .collect();
    if !missing.is_empty() {
        let kind = adapter.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into());
        let message = format!(
            "a storage adapter needs callable get(key), put(key, value) and delete(key) methods; {kind} has no {}",
            missing.join(", no ")
        );
        // The package's InvalidArgumentError is a TypeError; without the factory, a plain one.
        let err = to_pyerr(py, &Error::invalid(message.clone()));
        return Err(if err.is_instance_of::<PyTypeError>(py) { err } else { PyTypeError::new_err(message) });
    }
    Ok(storage::register_app_store(Arc::new(PyStore { adapter: adapter.unbind() })))
}

/// Releases a handle from `register_storage`; clients created with it keep the adapter.
#[pyfunction]
pub fn release_storage(py: Python<'_>, handle: Handle) -> PyResult<()> {
    storage::release_app_store(handle).map_err(|e| to_pyerr(py, &e))
}
