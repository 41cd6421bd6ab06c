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
    /// Request headers in arrival order (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Status answered.
    pub status: u16,
}

/// Bounded log of recorded requests.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<RecordedRequest>,
}

impl RequestLog {
    /// Appends, dropping the oldest entry beyond [`LOG_CAP`].
    pub fn push(&mut self, r: RecordedRequest) {
        if self.entries.len() == LOG_CAP {
            self.entries.pop_front();
        }
        self.entries.push_back(r);
    }

    /// A copy of the log, oldest first.
    pub fn all(&self) -> Vec<RecordedRequest> {
        self.entries.iter().cloned().collect()
    }
}
