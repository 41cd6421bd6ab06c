//! `/_sandbox/`: test controls over HTTP. No auth, loopback peers only.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::json;

use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok, no_content};
use crate::faults::Fault;
use crate::state::{AppState, lock};
use crate::{info_json, user_json};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/info", get(info))
        .route("/_sandbox/users", post(add_user))
        .route("/_sandbox/faults", post(add_fault).delete(clear_faults))
        .route("/_sandbox/faults/{id}", delete(remove_fault))
        .route("/_sandbox/requests", get(requests))
        .route("/_sandbox/meetings/{number}/{action}", post(meeting_control))
        .route_layer(middleware::from_fn(loopback_only))
}

/// Refuses admin calls from other machines when the sandbox listens on a public address.
pub(crate) async fn loopback_only(req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if peer.is_some_and(|ip| !ip.is_loopback()) {
        return ApiError::forbidden("The sandbox admin API is loopback only.").into_response();
    }
    next.run(req).await
}

async fn info(State(st): State<AppState>) -> Response {
    json_ok(info_json(&st))
}

/// Adds a user (or returns the existing one with that email) with a fresh token.
async fn add_user(State(st): State<AppState>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let email = body.req_str("email")?;
    if !email.contains('@') {
        return Err(ApiError::invalid("email", "not an email address"));
    }
    let name = body.str("displayName")?.unwrap_or_else(|| email.clone());
    let user = crate::add_user_to(&st, &email, &name);
    Ok(json_ok(user_json(&user)))
}

/// `POST /_sandbox/meetings/{meetingNumber}/{action}` with the params as the JSON body (none
/// = `{}`): [`crate::Sandbox::meeting_control`] over HTTP, for apps in any language that run
/// the sandbox binary. Refusals are 400 with the reason.
async fn meeting_control(
    State(st): State<AppState>,
    Path((number, action)): Path<(String, String)>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let params: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("The params are not JSON: {e}.")))?
    };
    st.meeting_control(&number, &action, &params).map(json_ok).map_err(ApiError::bad_request)
}

async fn add_fault(State(st): State<AppState>, bytes: Bytes) -> ApiResult<Response> {
    let fault = Fault::from_json(&bytes).map_err(|e| ApiError::bad_request(format!("Invalid fault: {e}.")))?;
    let id = lock(&st.faults).add(fault);
    Ok(json_ok(json!({ "id": id })))
}

/// Disarms one fault by the id its arming answered; 404 once it is spent or gone.
async fn remove_fault(State(st): State<AppState>, Path(id): Path<u64>) -> ApiResult<Response> {
    if lock(&st.faults).remove(id) { Ok(no_content()) } else { Err(ApiError::not_found()) }
}

async fn clear_faults(State(st): State<AppState>) -> Response {
    lock(&st.faults).clear();
    no_content()
}

/// The request log with headers (a test may check what a client sent), the credentials in
/// them redacted: the log is served to whatever asks on loopback, and ends up in test output.
async fn requests(State(st): State<AppState>) -> Response {
    let mut all = lock(&st.log).all();
    for request in &mut all {
        for (name, value) in &mut request.headers {
            if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie") {
                let scheme = value.split_once(' ').map_or("", |(scheme, _)| scheme);
                *value = format!("{scheme} <redacted>").trim_start().to_owned();
            }
        }
    }
    json_ok(json!({ "items": all }))
}
