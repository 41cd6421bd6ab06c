//! Request bodies: JSON (or form-encoded) objects with typed, 400-on-mistake field access.

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult};

/// A request body object.
#[derive(Debug, Default)]
pub(crate) struct Body(pub Map<String, Value>);

impl Body {
    /// Parses JSON (any `*json*` or missing content type) or `x-www-form-urlencoded` bytes.
    /// An empty body is an empty object so required-field checks produce the message.
    pub fn parse(headers: &HeaderMap, bytes: &[u8]) -> ApiResult<Body> {
        let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body::default());
        }
        if ctype.starts_with("application/x-www-form-urlencoded") {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(bytes).map_err(|_| ApiError::bad_request("Malformed form body."))?;
            return Ok(Body(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Body(map)),
            Ok(_) => Err(ApiError::bad_request("The request body must be a JSON object.")),
            Err(e) => Err(ApiError::bad_request(format!("Malformed JSON body: {e}."))),
        }
    }

    /// The raw value of a field (JSON `null` counts as absent).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// An optional string field; a non-string is a 400.
    pub fn str(&self, key: &str) -> ApiResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(key, "expected a string")),
        }
    }

    /// A required, non-empty string field.
    pub fn req_str(&self, key: &str) -> ApiResult<String> {
        match self.str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ApiError::missing(key)),
        }
    }

    /// An optional boolean field (`"true"`/`"false"` accepted for form bodies).
    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid(key, "expected a boolean")),
        }
    }

    /// Checks that a present field has the JSON type the spec gives it.
    pub fn check_type(&self, key: &str, kind: JsonKind) -> ApiResult<()> {
        let ok = match (self.get(key), kind) {
            (None, _) => true,
            (Some(v), JsonKind::Bool) => v.is_boolean(),
            (Some(v), JsonKind::Number) => v.is_number(),
            (Some(v), JsonKind::String) => v.is_string(),
            (Some(v), JsonKind::Object) => v.is_object(),
            (Some(v), JsonKind::Array) => v.is_array(),
        };
        if ok { Ok(()) } else { Err(ApiError::invalid(key, kind.expected())) }
    }
}

/// JSON value kinds for [`Body::check_type`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum JsonKind {
    Bool,
    Number,
    String,
    Object,
    Array,
}

impl JsonKind {
    fn expected(self) -> &'static str {
        match self {
            JsonKind::Bool => "expected a boolean",
            JsonKind::Number => "expected a number",
            JsonKind::String => "expected a string",
            JsonKind::Object => "expected an object",
            JsonKind::Array => "expected an array",
        }
    }
}
