//! One error model for the whole engine, mapped once per binding (design.md "Errors").

use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// Stable error codes. The names (see [`ErrorCode::as_str`]) and numbers (see
/// [`ErrorCode::number`]) are part of the public contract of every binding: never renumber.
/// The set is closed on purpose (every binding maps each code, checked by the compiler in
/// the C ABI): a new code is a breaking change of every binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A parameter or a config value is wrong; the message names it.
    InvalidArgument,
    /// The cloud rejected the credentials (HTTP 401) or there are none.
    Unauthorized,
    /// The credentials are valid but not allowed to do this (HTTP 403).
    Forbidden,
    /// The resource does not exist or the caller cannot see it (HTTP 404).
    NotFound,
    /// The request conflicts with the current state (HTTP 409), e.g. a duplicate membership.
    Conflict,
    /// Too many requests (HTTP 429 or 423) and the retry policy gave up; see `retry_after`.
    RateLimited,
    /// The cloud failed (HTTP 5xx) and the retry policy gave up.
    Server,
    /// The cloud could not be reached (DNS, refused connection, TLS, proxy).
    Network,
    /// No answer in time.
    Timeout,
    /// The operation was cancelled, e.g. because its client was closed while it ran.
    Cancelled,
    /// The object was closed; it cannot be used any more.
    Closed,
    /// A handle passed to the boundary is unknown, stale or of the wrong kind.
    InvalidHandle,
    /// The cloud answered something this engine cannot understand.
    Protocol,
    /// Audio or video failed.
    Media,
    /// A bug in webex-native; please report it with the message.
    Internal,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::InvalidArgument,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::Server,
        ErrorCode::Network,
        ErrorCode::Timeout,
        ErrorCode::Cancelled,
        ErrorCode::Closed,
        ErrorCode::InvalidHandle,
        ErrorCode::Protocol,
        ErrorCode::Media,
        ErrorCode::Internal,
    ];

    /// The stable name, as bindings expose it (`err.code` in Node, the C enum suffix).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Server => "SERVER",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::InvalidHandle => "INVALID_HANDLE",
            ErrorCode::Protocol => "PROTOCOL",
            ErrorCode::Media => "MEDIA",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// The stable number (the C ABI's status; 0 is success there, so codes start at 1).
    pub fn number(self) -> i32 {
        ErrorCode::ALL.iter().position(|c| *c == self).map_or(15, |i| i as i32 + 1)
    }

    /// The code for an HTTP error status.
    pub fn from_status(status: u16) -> ErrorCode {
        match status {
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 | 410 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            423 | 429 => ErrorCode::RateLimited,
            500..=599 => ErrorCode::Server,
            _ => ErrorCode::InvalidArgument,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An engine error: a stable code, a message that says what to do, and what the cloud said.
/// `status` tells an answer of the cloud (`Some`, e.g. a 400 as `InvalidArgument`) from the
/// engine's own refusal (`None`, e.g. a missing parameter). Made with [`Error::new`] and
/// friends; fields may be added.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Error {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong and how to fix it. Never contains a token.
    pub message: String,
    /// The HTTP status, when the cloud answered.
    pub status: Option<u16>,
    /// The cloud's `trackingId` (quote it to Cisco support).
    pub tracking_id: Option<String>,
    /// How long the cloud asked to wait before trying again.
    pub retry_after: Option<Duration>,
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a code and a message and nothing else.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), status: None, tracking_id: None, retry_after: None }
    }

    /// Shorthand for [`ErrorCode::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    /// Shorthand for [`ErrorCode::Protocol`].
    pub fn protocol(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Protocol, message)
    }

    /// Shorthand for [`ErrorCode::Internal`].
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Internal, message)
    }

    /// The JSON every binding hands out:
    /// `{"code", "message", "status"?, "trackingId"?, "retryAfter"? (seconds)}`.
    pub fn to_json(&self) -> serde_json::Value {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            code: &'static str,
            code_number: i32,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            status: Option<u16>,
            #[serde(skip_serializing_if = "Option::is_none")]
            tracking_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            retry_after: Option<f64>,
        }
        serde_json::to_value(Wire {
            code: self.code.as_str(),
            code_number: self.code.number(),
            message: &self.message,
            status: self.status,
            tracking_id: self.tracking_id.as_deref(),
            retry_after: self.retry_after.map(|d| d.as_secs_f64()),
        })
        .unwrap_or_default()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.tracking_id {
            write!(f, " (trackingId {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_distinct() {
        let numbers: Vec<i32> = ErrorCode::ALL.iter().map(|c| c.number()).collect();
        assert_eq!(numbers, (1..=15).collect::<Vec<_>>());
        assert_eq!(ErrorCode::Unauthorized.number(), 2);
        assert_eq!(ErrorCode::Internal.number(), 15);
    }

    #[test]
    fn status_mapping() {
        assert_eq!(ErrorCode::from_status(401), ErrorCode::Unauthorized);
        assert_eq!(ErrorCode::from_status(423), ErrorCode::RateLimited);
        assert_eq!(ErrorCode::from_status(503), ErrorCode::Server);
        assert_eq!(ErrorCode::from_status(400), ErrorCode::InvalidArgument);
    }

    #[test]
    fn json_carries_details() {
        let mut e = Error::new(ErrorCode::RateLimited, "slow down");
        e.status = Some(429);
        e.tracking_id = Some("ROUTERGW_1".into());
        e.retry_after = Some(Duration::from_millis(1500));
        let j = e.to_json();
        assert_eq!(j["code"], "RATE_LIMITED");
        assert_eq!(j["codeNumber"], 6);
        assert_eq!(j["status"], 429);
        assert_eq!(j["trackingId"], "ROUTERGW_1");
        assert_eq!(j["retryAfter"], 1.5);
        assert_eq!(e.to_string(), "RATE_LIMITED: slow down (trackingId ROUTERGW_1)");
    }
}
