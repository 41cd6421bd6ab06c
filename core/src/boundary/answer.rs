//! What an operation hands back across the boundary: JSON text for the bindings, built from a
//! value or, for list pages, passed through as the cloud sent it.

use serde_json::Value;
use std::fmt;

/// An operation's result. Bindings write it out as JSON text (`to_string()`); Rust callers
/// may take the value ([`Answer::into_value`]).
pub struct Answer(Repr);

enum Repr {
    Value(Value),
    /// JSON text already checked to be well-formed: a page of a thousand items is handed on
    /// as it came, instead of being built into a tree and written out again.
    Text(String),
}

impl Answer {
    /// The answer `value`.
    pub fn value(value: Value) -> Answer {
        Answer(Repr::Value(value))
    }

    /// An answer whose JSON text is `json`; the caller has checked that it is well-formed.
    pub(crate) fn text(json: String) -> Answer {
        Answer(Repr::Text(json))
    }

    /// The answer as it is held, for bindings that build their own objects from it (Python)
    /// instead of writing JSON text and parsing it again.
    pub fn json(&self) -> Json<'_> {
        match &self.0 {
            Repr::Value(v) => Json::Value(v),
            Repr::Text(t) => Json::Text(t),
        }
    }

    /// The answer as a JSON value.
    pub fn into_value(self) -> Value {
        match self.0 {
            Repr::Value(v) => v,
            // Checked when it was made; a failure here would be an engine bug, not bad input.
            Repr::Text(t) => serde_json::from_str(&t).unwrap_or(Value::Null),
        }
    }
}

/// An [`Answer`] as it is held: a value, or well-formed JSON text (a list page).
#[derive(Debug, Clone, Copy)]
pub enum Json<'a> {
    /// A JSON value.
    Value(&'a Value),
    /// JSON text, checked to be well-formed when the answer was made.
    Text(&'a str),
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Value(v) => fmt::Display::fmt(v, f),
            Repr::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Answer({self})")
    }
}
