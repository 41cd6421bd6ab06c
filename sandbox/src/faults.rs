//! Fault injection: make the next matching requests fail, stall, or both.

use serde::Deserialize;

/// A fault to inject. It applies, before normal handling, to requests whose path starts with
/// `path` (and whose method equals `method`, if given), `count` times.
#[derive(Clone, Debug, Default, Deserialize)]
// Unknown members are refused: a misspelt `delayMs` (`delay_ms`) made a fault that did nothing.
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); `None` matches any.
    pub method: Option<String>,
    /// Request path prefix, e.g. `/v1/messages`.
    pub path: String,
    /// Status to answer with; `None` answers normally (after `delay_ms`).
    pub status: Option<u16>,
    /// Raw `Retry-After` value; may be garbage or an HTTP date on purpose.
    pub retry_after: Option<String>,
    /// Raw body text; defaults to the cloud error body for `status`.
    pub body: Option<String>,
    /// Wait this long before answering.
    pub delay_ms: Option<u64>,
    /// How many requests it applies to; `None` = 1, `Some(0)` = every request until cleared.
    pub count: Option<u32>,
    /// Extra headers of the fault's answer, e.g. `("cisco-location", url)` to move a request
    /// elsewhere (only with `status`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

impl Fault {
    /// A fault from its JSON, as every language hands it over, checked: unknown members, a
    /// status that is no HTTP status and a path that could never match are refused, naming
    /// what is wrong.
    pub fn from_json(text: &[u8]) -> Result<Fault, String> {
        let fault: Fault = serde_json::from_slice(text).map_err(|e| format!("not a sandbox fault: {e}"))?;
        if fault.status.is_some_and(|s| !(100..=999).contains(&s)) {
            return Err(format!("status {}: not an HTTP status", fault.status.unwrap_or_default()));
        }
        if !fault.path.starts_with('/') {
            // Matched against request paths, which all start with `/`: it would never apply.
            return Err(format!("path {:?}: a path prefix starting with `/`, e.g. /v1/rooms", fault.path));
        }
        Ok(fault)
    }
}

#[derive(Debug)]
struct Armed {
    fault: Fault,
    /// Requests left; `None` = unlimited.
    remaining: Option<u32>,
}

/// The armed faults, first armed first matched.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    next_id: u64,
    armed: Vec<(u64, Armed)>,
}

impl Faults {
    /// Arms a fault and returns its id.
    pub fn add(&mut self, fault: Fault) -> u64 {
        self.next_id += 1;
        let remaining = match fault.count {
            None => Some(1),
            Some(0) => None,
            Some(n) => Some(n),
        };
        self.armed.push((self.next_id, Armed { fault, remaining }));
        self.next_id
    }

    /// Disarms every fault.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// Disarms the fault with this id; whether it was still armed.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.armed.len();
        self.armed.retain(|(i, _)| *i != id);
        self.armed.len() != before
    }

    /// The fault that applies to this request, consuming one use of it.
    pub fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let pos = self.armed.iter().position(|(_, a)| {
            path.starts_with(&a.fault.path) && a.fault.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let armed = &mut self.armed[pos].1;
        let fault = armed.fault.clone();
        if let Some(n) = armed.remaining.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.armed.remove(pos);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_that_could_never_apply_is_refused_by_name() {
        let e = Fault::from_json(br#"{"path": "/v1", "delay_ms": 5000}"#).unwrap_err();
        assert!(e.contains("unknown field `delay_ms`"), "{e}");
        let e = Fault::from_json(br#"{"path": "v1/rooms", "status": 500}"#).unwrap_err();
        assert!(e.starts_with("path \"v1/rooms\": a path prefix starting with `/`"), "{e}");
        let e = Fault::from_json(br#"{"path": "/v1", "status": 42}"#).unwrap_err();
        assert_eq!(e, "status 42: not an HTTP status");
        let f = Fault::from_json(br#"{"path": "/v1", "delayMs": 5, "headers": [["a", "b"]]}"#).unwrap();
        assert_eq!((f.delay_ms, f.headers), (Some(5), vec![("a".into(), "b".into())]));
    }

    #[test]
    fn count_and_match() {
        let mut f = Faults::default();
        f.add(Fault {
            method: Some("post".into()),
            path: "/v1/messages".into(),
            status: Some(429),
            count: Some(2),
            ..Fault::default()
        });
        assert!(f.take("GET", "/v1/messages").is_none());
        assert!(f.take("POST", "/v1/messages?x=1").is_some());
        assert!(f.take("POST", "/v1/messages").is_some());
        assert!(f.take("POST", "/v1/messages").is_none());
    }
}
