//! Shared server state and the per-request context (`Call`) handlers start from.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use tokio::sync::watch;

use crate::errors::{ApiError, ApiResult};
use crate::faults::Faults;
use crate::locus::LocusStore;
use crate::mercury::Hub;
use crate::record::RequestLog;
use crate::store::{Person, Store};

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// `http://host:port` (`https://` when serving TLS), used for absolute URLs (next links,
    /// content URLs, catalog).
    pub base_url: String,
    /// The CA certificate (PEM) a client must trust when the sandbox serves HTTPS.
    pub ca_pem: Option<String>,
    /// `host:port` as it appears in `base_url` (the catalog's hostCatalog key).
    pub host_port: String,
    /// The bare host of `base_url`.
    pub host: String,
    pub store: Mutex<Store>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<RequestLog>,
    /// Bumped after every request is logged (never with `log` locked), so a test can wait
    /// for a request the client makes on its own.
    pub logged: watch::Sender<u64>,
    /// Meetings in progress (Locus). Lock order: `store`, then `locus`, then `mercury`;
    /// never an earlier one while holding a later one.
    pub locus: Mutex<LocusStore>,
    /// Devices, their event buffers and the Mercury sockets. Lock order: `store` first,
    /// (then `locus`,) then `mercury`; never the store while holding the hub.
    pub mercury: Mutex<Hub>,
    /// Whether the catalog lists `wdm` (a test hook).
    pub catalog_wdm: AtomicBool,
    /// How long a Mercury socket may stay unauthorised.
    pub auth_timeout: Duration,
    /// Bumped whenever a Mercury socket is authorised or goes away. Never touched with the
    /// hub locked, so a `wait_for` closure may call back into the sandbox.
    pub connections: watch::Sender<u64>,
    /// Which token authorised each Mercury socket (so an expiring token closes its sockets).
    pub socket_tokens: Mutex<std::collections::HashMap<u64, String>>,
}

/// Handle to the shared state.
pub(crate) type AppState = Arc<Shared>;

/// Locks a mutex, recovering from poisoning: a panicked handler must not take the whole
/// sandbox down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// The store, locked.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }
    /// Tells `connections` watchers that the socket set changed (call with no lock held).
    pub fn connections_changed(&self) {
        self.connections.send_modify(|n| *n = n.wrapping_add(1));
    }
    /// The hydra base (`<base>/v1`).
    pub fn hydra(&self) -> String {
        format!("{}/v1", self.base_url)
    }
}

/// Decoded query string in request order (kept ordered so next links repeat it faithfully).
pub(crate) type Query = Vec<(String, String)>;

/// The authenticated caller of a hydra request plus the request's path and query.
pub(crate) struct Call {
    pub st: AppState,
    pub me: Person,
    pub path: String,
    pub query: Query,
}

impl Call {
    /// The first value of a query parameter, `None` when absent or empty.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

impl FromRequestParts<AppState> for Call {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> ApiResult<Self> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(ApiError::unauthorized)?;
        let me = st.store().person_by_token(token).cloned().ok_or_else(ApiError::unauthorized)?;
        let query = parse_query(parts.uri.query())?;
        Ok(Call { st: st.clone(), me, path: parts.uri.path().to_string(), query })
    }
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive, extra
/// spaces tolerated as the JS SDK normalises them).
pub(crate) fn bearer(value: &str) -> Option<&str> {
    let value = value.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Decodes a query string; a malformed one is a 400.
pub(crate) fn parse_query(raw: Option<&str>) -> ApiResult<Query> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|_| ApiError::bad_request("Malformed query string."))
}
