//! The layer every request passes: tracking id, fault injection, request log.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::{JSON_CONTENT_TYPE, TRACKING_ID, default_message, error_body, new_tracking_id};
use crate::record::Entry;
use crate::state::{AppState, lock};

/// Admin paths: neither faulted nor logged, so controlling the sandbox never disturbs what a
/// test observes.
const ADMIN_PREFIX: &str = "/_sandbox/";

/// Tracking id + faults + logging around the router.
pub(crate) async fn around(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with(ADMIN_PREFIX) {
        return next.run(req).await;
    }
    let tracking_id = new_tracking_id();
    let (method, uri, version, headers) =
        (req.method().clone(), req.uri().clone(), req.version(), req.headers().clone());

    let fault = lock(&st.faults).take(method.as_str(), &path);
    let mut res = None;
    if let Some(fault) = fault {
        if let Some(ms) = fault.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(status) = fault.status {
            res = Some(fault_response(status, fault.retry_after, fault.body, &fault.headers, &tracking_id));
        }
    }
    let mut res = match res {
        Some(r) => r,
        None => {
            let r = TRACKING_ID.scope(tracking_id.clone(), next.run(req)).await;
            as_cloud_error(r, &tracking_id).await
        }
    };
    if let Ok(v) = HeaderValue::from_str(&tracking_id) {
        res.headers_mut().insert("trackingid", v);
    }
    lock(&st.log).push(Entry { method, uri, version, headers, status: res.status().as_u16() });
    st.logged.send_modify(|n| *n = n.wrapping_add(1));
    res
}

/// Rewrites error answers that did not come from our handlers (axum's extractor rejections,
/// such as an undecodable path or an oversized body, are plain text) into the cloud's error
/// body, keeping their status and using their text as the message.
async fn as_cloud_error(res: Response, tracking_id: &str) -> Response {
    let is_json =
        res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("json"));
    if is_json || !(res.status().is_client_error() || res.status().is_server_error()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = if text.is_empty() { default_message(parts.status.as_u16()).to_string() } else { text };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    Response::from_parts(parts, Body::from(error_body(&message, tracking_id)))
}

fn fault_response(
    status: u16,
    retry_after: Option<String>,
    body: Option<String>,
    headers: &[(String, String)],
    tracking_id: &str,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = body.unwrap_or_else(|| error_body(default_message(status.as_u16()), tracking_id));
    let mut res = (status, Body::from(body)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    // Garbage values are sent as given (tests rely on that); only bytes HTTP cannot carry
    // are dropped.
    if let Some(v) = retry_after.and_then(|r| HeaderValue::from_str(&r).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (header::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            res.headers_mut().append(name, value);
        }
    }
    res
}
