//! The request log: what each request looked like and how it was answered.

use std::collections::VecDeque;

use serde::Serialize;

/// How many requests the log keeps (oldest dropped first).
pub const LOG_CAP: usize = 10_000;

/// One request the sandbox answered.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path plus query, as requested.
    pub path: String,
    /// The HTTP version it came over: `HTTP/1.1`, or `HTTP/2.0` when a TLS client chose it.
    pub version: String,
    /// Request headers in arrival order (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Status answered.
    pub status: u16,
}

/// A request as the log keeps it: the parts as they arrived (cheap to clone: a header value
/// is shared, not copied), turned into a [`RecordedRequest`] only when someone reads the log.
#[derive(Debug)]
pub(crate) struct Entry {
    pub method: axum::http::Method,
    pub uri: axum::http::Uri,
    pub version: axum::http::Version,
    pub headers: axum::http::HeaderMap,
    pub status: u16,
}

impl Entry {
    fn recorded(&self) -> RecordedRequest {
        RecordedRequest {
            method: self.method.as_str().to_string(),
            path: self.uri.path_and_query().map_or_else(|| self.uri.path().to_string(), |p| p.as_str().to_string()),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect(),
            version: format!("{:?}", self.version),
            status: self.status,
        }
    }
}

/// Bounded log of recorded requests.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<Entry>,
}

impl RequestLog {
    /// Appends, dropping the oldest entry beyond [`LOG_CAP`].
    pub fn push(&mut self, r: Entry) {
        if self.entries.len() == LOG_CAP {
            self.entries.pop_front();
        }
        self.entries.push_back(r);
    }

    /// A copy of the log, oldest first.
    pub fn all(&self) -> Vec<RecordedRequest> {
        self.entries.iter().map(Entry::recorded).collect()
    }
}
