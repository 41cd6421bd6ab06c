//! The embedded sandbox (a local Webex-compatible cloud on loopback), started on the engine's
//! runtime so Python tests and examples run offline.

use crate::to_pyerr;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::json;
use std::sync::Mutex;
use webex_core::boundary::engine;
use webex_core::{Error, ErrorCode};
use webex_sandbox::{Fault, Sandbox, SandboxOptions};

/// A running sandbox.
#[pyclass(module = "webex_native._native", frozen)]
pub struct NativeSandbox {
    // Taken out by stop (which consumes the sandbox); calls racing a stop see `CLOSED`.
    sandbox: Mutex<Option<Sandbox>>,
}

impl NativeSandbox {
    /// `f` on the running sandbox, with the GIL released for as long as the lock is held: a
    /// thread holding the lock must never need the GIL, or a thread holding the GIL and
    /// waiting for the lock would stall both (and the whole interpreter).
    fn with<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Sandbox) -> Result<T, Error> + Send) -> PyResult<T> {
        py.detach(|| {
            let guard = self.sandbox.lock().map_err(|_| Error::internal("sandbox lock poisoned"))?;
            let sandbox = guard.as_ref().ok_or_else(|| Error::new(ErrorCode::Closed, "the sandbox was stopped"))?;
            f(sandbox)
        })
        .map_err(|e| to_pyerr(py, &e))
    }
}

fn no_user(email: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("the sandbox has no user '{email}'"))
}

#[pymethods]
impl NativeSandbox {
    /// Starts a sandbox on a free loopback port (or `port`), seeded with a bot,
    /// alice@example.com and bob@example.com.
    #[new]
    #[pyo3(signature = (port = 0, tls = false))]
    fn new(py: Python<'_>, port: u16, tls: bool) -> PyResult<NativeSandbox> {
        let options = SandboxOptions { port, tls, ..SandboxOptions::default() };
        let started = py.detach(|| engine().wait_for(Sandbox::start(options))).map_err(|e| to_pyerr(py, &e))?;
        let sandbox = started.map_err(|e| {
            to_pyerr(py, &Error::new(ErrorCode::Network, format!("the sandbox cannot listen on loopback: {e}")))
        })?;
        Ok(NativeSandbox { sandbox: Mutex::new(Some(sandbox)) })
    }

    /// `{"hydra", "u2c", "wdm", "orgId", "users": [...], "caCertificate"}` plus `"base"`, as JSON.
    fn info_json(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |s| {
            let mut info = s.info_json();
            info["base"] = json!(s.base_url());
            Ok(info.to_string())
        })
    }

    /// The email of the seeded bot.
    fn bot_email(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |s| Ok(s.bot().email))
    }

    /// A client config document acting as the user with this email.
    fn config_json(&self, py: Python<'_>, email: &str) -> PyResult<String> {
        self.with(py, |s| Ok(s.client_config(email).ok_or_else(|| no_user(email))?.to_string()))
    }

    /// Adds a user (or returns the existing one); `{"email", "token", "personId", ...}`.
    fn add_user(&self, py: Python<'_>, email: &str, display_name: &str) -> PyResult<String> {
        self.with(py, |s| {
            let u = s.add_user(email, display_name);
            Ok(json!({"email": u.email, "displayName": u.display_name, "token": u.token,
                      "personId": u.person_id, "isBot": u.is_bot})
            .to_string())
        })
    }

    /// Arms a fault from its JSON (`{"path", "method"?, "status"?, "retryAfter"?, "body"?,
    /// "delayMs"?, "count"?}`); returns its id.
    fn inject_fault(&self, py: Python<'_>, fault_json: &str) -> PyResult<u64> {
        self.with(py, |s| {
            let fault = Fault::from_json(fault_json.as_bytes()).map_err(Error::invalid)?;
            Ok(s.inject_fault(fault))
        })
    }

    /// Disarms every fault.
    fn clear_faults(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |s| {
            s.clear_faults();
            Ok(())
        })
    }

    /// The requests seen so far as JSON `[{"method", "path", "version", "status"}]`, oldest
    /// first.
    fn requests_json(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |s| Ok(s.requests_json().to_string()))
    }

    /// One meeting control (`Sandbox::meeting_control`: media, cut, kick, end, addBot,
    /// removeBot) on the running meeting with this number, passed straight through: `params`
    /// and the answer are JSON text. The sandbox's refusal (an unknown action, a bad
    /// parameter, a meeting that is not running, ...) raises `ValueError` with its message.
    fn meeting_control_json(
        &self,
        py: Python<'_>,
        meeting_number: &str,
        action: &str,
        params_json: &str,
    ) -> PyResult<String> {
        let params: serde_json::Value = serde_json::from_str(params_json)
            .map_err(|e| PyValueError::new_err(format!("{action}: params are not JSON: {e}")))?;
        let answer = self.with(py, |s| Ok(s.meeting_control(meeting_number, action, &params)))?;
        answer.map(|v| v.to_string()).map_err(PyValueError::new_err)
    }

    /// Whether `stop` ran.
    #[getter]
    fn stopped(&self, py: Python<'_>) -> bool {
        py.detach(|| self.sandbox.lock().map(|s| s.is_none()).unwrap_or(true))
    }

    /// Stops the server (requests in flight get up to 5 s). A second stop does nothing.
    fn stop(&self, py: Python<'_>) {
        py.detach(|| {
            let taken = self.sandbox.lock().ok().and_then(|mut s| s.take());
            if let Some(sandbox) = taken {
                // Python threads are never the engine's: this waits.
                let _ = engine().wait_for(sandbox.stop());
            }
        });
    }
}
