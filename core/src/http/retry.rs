//! The retry policy: what to retry, how long to wait (protocol.md §1.6).
//!
//! - 429 and 423 mean "not processed, come back later": retried for every method, waiting
//!   what `Retry-After` says (seconds or an HTTP date; garbage gets the configured default).
//!   A wait longer than the configured maximum is not slept: the call fails RATE_LIMITED
//!   with the wait attached, so the app decides.
//! - 502/503/504, timeouts and broken connections are retried with doubling backoff, but only
//!   for idempotent methods: a POST the server may have processed is never sent twice.
//! - A refused connection (nothing was sent) is retried for every method.

use std::time::{Duration, SystemTime};

/// The policy's knobs, from the `http.*` config attributes.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Wait when `Retry-After` is missing or unreadable.
    pub retry_after_default: Duration,
    /// Longest `Retry-After` the engine sleeps through.
    pub max_retry_after: Duration,
    /// First backoff for 5xx and network errors.
    pub backoff_base: Duration,
}

/// What one attempt ended in, as the policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP status came back.
    Status(u16),
    /// The connection could not be made: nothing was sent.
    ConnectFailed,
    /// The request may have reached the server (timeout, reset, broken body).
    MaybeSent,
    /// The client refused the server (its TLS certificate is not trusted): nothing was sent,
    /// and asking again cannot change the answer.
    Refused,
}

/// The policy's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Hand the outcome to the caller.
    Done,
    /// Try again after the wait.
    RetryAfter(Duration),
}

impl RetryPolicy {
    /// Decide after attempt number `attempt` (0-based) ended in `outcome`. `retry_after` is the
    /// raw `Retry-After` header, if any.
    pub fn decide(&self, attempt: u32, outcome: Outcome, idempotent: bool, retry_after: Option<&str>) -> Decision {
        if attempt >= self.max_retries {
            return Decision::Done;
        }
        let backoff = self.backoff_base.saturating_mul(1u32 << attempt.min(16)).min(Duration::from_secs(30));
        match outcome {
            Outcome::Status(429 | 423) => {
                let wait =
                    retry_after.map_or(self.retry_after_default, |h| parse_retry_after(h, self.retry_after_default));
                if wait > self.max_retry_after { Decision::Done } else { Decision::RetryAfter(wait) }
            }
            Outcome::Status(502..=504) if idempotent => {
                let wait = retry_after.map_or(backoff, |h| parse_retry_after(h, backoff));
                if wait > self.max_retry_after { Decision::Done } else { Decision::RetryAfter(wait) }
            }
            Outcome::ConnectFailed => Decision::RetryAfter(backoff),
            Outcome::MaybeSent if idempotent => Decision::RetryAfter(backoff),
            _ => Decision::Done,
        }
    }
}

/// Read a `Retry-After` value: delta seconds (fractions tolerated), or an HTTP date. Anything
/// else (`rand(30),add(30)`, negative, empty) gives `default`.
pub fn parse_retry_after(raw: &str, default: Duration) -> Duration {
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return if secs.is_finite() && secs >= 0.0 { Duration::from_secs_f64(secs.min(86_400.0)) } else { default };
    }
    match httpdate::parse_http_date(raw) {
        Ok(when) => when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO),
        Err(_) => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            retry_after_default: Duration::from_secs(15),
            max_retry_after: Duration::from_secs(60),
            backoff_base: Duration::from_millis(250),
        }
    }

    #[test]
    fn retry_after_forms() {
        let d = Duration::from_secs(15);
        assert_eq!(parse_retry_after("2", d), Duration::from_secs(2));
        assert_eq!(parse_retry_after(" 0.5 ", d), Duration::from_millis(500));
        assert_eq!(parse_retry_after("rand(30),add(30)", d), d);
        assert_eq!(parse_retry_after("-4", d), d);
        assert_eq!(parse_retry_after("", d), d);
        let later = SystemTime::now() + Duration::from_secs(120);
        let parsed = parse_retry_after(&httpdate::fmt_http_date(later), d);
        assert!(parsed > Duration::from_secs(100) && parsed <= Duration::from_secs(120), "{parsed:?}");
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(120));
        assert_eq!(parse_retry_after(&past, d), Duration::ZERO);
    }

    #[test]
    fn rate_limits_are_retried_for_every_method() {
        let p = policy();
        assert_eq!(p.decide(0, Outcome::Status(429), false, Some("1")), Decision::RetryAfter(Duration::from_secs(1)));
        assert_eq!(p.decide(0, Outcome::Status(423), true, None), Decision::RetryAfter(Duration::from_secs(15)));
        assert_eq!(p.decide(0, Outcome::Status(429), true, Some("3600")), Decision::Done);
        assert_eq!(p.decide(3, Outcome::Status(429), true, Some("1")), Decision::Done);
    }

    #[test]
    fn server_errors_only_for_idempotent_calls() {
        let p = policy();
        assert_eq!(p.decide(0, Outcome::Status(503), true, None), Decision::RetryAfter(Duration::from_millis(250)));
        assert_eq!(p.decide(2, Outcome::Status(502), true, None), Decision::RetryAfter(Duration::from_millis(1000)));
        assert_eq!(p.decide(0, Outcome::Status(503), false, None), Decision::Done);
        assert_eq!(p.decide(0, Outcome::Status(500), true, None), Decision::Done);
        assert_eq!(p.decide(0, Outcome::MaybeSent, false, None), Decision::Done);
        assert_eq!(p.decide(0, Outcome::MaybeSent, true, None), Decision::RetryAfter(Duration::from_millis(250)));
        assert_eq!(p.decide(0, Outcome::ConnectFailed, false, None), Decision::RetryAfter(Duration::from_millis(250)));
        assert_eq!(p.decide(0, Outcome::Status(200), true, None), Decision::Done);
        assert_eq!(p.decide(0, Outcome::Refused, true, None), Decision::Done, "an untrusted certificate stays so");
        assert_eq!(p.decide(0, Outcome::Status(404), true, None), Decision::Done);
    }
}
