//! The cloud's error body and the per-request tracking id (protocol.md §1.4).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

tokio::task_local! {
    /// The tracking id of the request being handled; set by the request middleware so error
    /// bodies built deep inside handlers carry the same id as the `trackingid` header.
    pub static TRACKING_ID: String;
}

/// A fresh tracking id shaped like the cloud's (`ROUTERGW_<uuid>`).
pub fn new_tracking_id() -> String {
    format!("ROUTERGW_{}", uuid::Uuid::new_v4())
}

/// The tracking id of the current request (a fresh one outside a request).
pub fn current_tracking_id() -> String {
    TRACKING_ID.try_with(|t| t.clone()).unwrap_or_else(|_| new_tracking_id())
}

/// The JSON content type hydra answers with.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// A failed request: a status plus the text for `message` and `errors[0].description`.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status to answer with.
    pub status: StatusCode,
    /// Human-readable reason, says what is wrong.
    pub message: String,
    /// A numeric `errorCode` added to the body (Locus answers carry one; hydra's do not).
    pub code: Option<i64>,
}

/// Result type of every handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with an explicit status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), code: None }
    }
    /// The same error with an `errorCode` in its body.
    pub fn with_code(mut self, code: i64) -> Self {
        self.code = Some(code);
        self
    }
    /// 400: the request is malformed or a field is invalid.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    /// 404 with the cloud's generic text; also used for things the caller may not see.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, default_message(404))
    }
    /// 403: visible but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    /// 409: e.g. the person is already a member.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    /// 401: missing or unknown token.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, default_message(401))
    }
    /// 400 naming a required field.
    pub fn missing(field: &str) -> Self {
        Self::bad_request(format!("Missing required field '{field}'."))
    }
    /// 400 naming a field with a bad value.
    pub fn invalid(field: &str, why: &str) -> Self {
        Self::bad_request(format!("Invalid value for '{field}': {why}."))
    }
}

/// The text the cloud uses for a bare status (wording is a guess where not observed).
pub fn default_message(status: u16) -> &'static str {
    match status {
        400 => "The request was invalid or cannot be otherwise served.",
        401 => "The request requires a valid access token set in the Authorization request header.",
        403 => "The server understood the request, but refused to fulfill it.",
        404 => "The requested resource could not be found.",
        405 => "The request was made to a resource using an HTTP request method that is not supported.",
        409 => "The request could not be processed because it conflicts with some established rule of the system.",
        410 => "The requested resource is no longer available.",
        415 => {
            "The request was made to a resource without specifying a media type or used a media type that is not supported."
        }
        423 => "The requested resource is temporarily unavailable.",
        429 => "Too many requests have been sent in a given amount of time and the request has been rate limited.",
        500 => "Something went wrong on the server.",
        502 => "The server received an invalid response from an upstream server while processing the request.",
        503 => "Server is overloaded with requests. Try again later.",
        504 => "An upstream server failed to respond on time.",
        _ => "The request failed.",
    }
}

/// The error body `{"message", "errors": [{"description"}], "trackingId"}` as text.
pub fn error_body(message: &str, tracking_id: &str) -> String {
    error_value(message, tracking_id).to_string()
}

/// The error body as a JSON value.
fn error_value(message: &str, tracking_id: &str) -> serde_json::Value {
    json!({
        "message": message,
        "errors": [{"description": message}],
        "trackingId": tracking_id,
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = error_value(&self.message, &current_tracking_id());
        if let Some(code) = self.code {
            body["errorCode"] = code.into();
        }
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
        res
    }
}

/// A 200 JSON response.
pub fn json_ok(value: serde_json::Value) -> Response {
    json_status(StatusCode::OK, value)
}

/// A JSON response with a chosen status.
pub fn json_status(status: StatusCode, value: serde_json::Value) -> Response {
    json_text(status, value.to_string())
}

/// A JSON response whose body is already written.
pub fn json_text(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    res
}

/// 204 with an empty body (every successful DELETE).
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
