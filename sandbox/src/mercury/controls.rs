//! `/_sandbox/` HTTP controls for devices, the catalog and Mercury (loopback only, no auth).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::Hub;
use super::api::{close_request, devices_of, person_uuid, raw_event_data};
use crate::errors::{ApiError, ApiResult, json_ok, no_content};
use crate::state::{AppState, lock};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/devices", get(devices))
        .route("/_sandbox/catalog", post(catalog))
        .route("/_sandbox/mercury/sockets", get(sockets))
        .route("/_sandbox/mercury/close", post(close))
        .route("/_sandbox/mercury/shutdown", post(shutdown))
        .route("/_sandbox/mercury/skip-buffer-state", post(skip_buffer_state))
        .route("/_sandbox/mercury/raw", post(raw))
        .route("/_sandbox/mercury/emit", post(emit))
        .route("/_sandbox/mercury/closes", get(closes))
        .route_layer(middleware::from_fn(crate::admin::loopback_only))
}

fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("Invalid control body: {e}.")))
}

fn user(st: &AppState, email: &str) -> ApiResult<uuid::Uuid> {
    person_uuid(st, email).ok_or_else(|| ApiError::invalid("email", "no such user"))
}

#[derive(Deserialize)]
struct Email {
    email: String,
}

async fn devices(State(st): State<AppState>, Query(q): Query<Email>) -> Response {
    json_ok(json!({ "devices": devices_of(&st, &q.email) }))
}

#[derive(Deserialize)]
struct CatalogBody {
    wdm: bool,
}

async fn catalog(State(st): State<AppState>, bytes: Bytes) -> ApiResult<Response> {
    let b: CatalogBody = parse(&bytes)?;
    st.catalog_wdm.store(b.wdm, std::sync::atomic::Ordering::SeqCst);
    Ok(no_content())
}

async fn sockets(State(st): State<AppState>, Query(q): Query<Email>) -> ApiResult<Response> {
    let u = user(&st, &q.email)?;
    let n = lock(&st.mercury).sockets_of(u);
    Ok(json_ok(json!({ "sockets": n })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloseBody {
    email: Option<String>,
    device_url: Option<String>,
    code: u16,
    #[serde(default)]
    reason: String,
}

async fn close(State(st): State<AppState>, bytes: Bytes) -> ApiResult<Response> {
    let b: CloseBody = parse(&bytes)?;
    let req = close_request(b.code, &b.reason);
    let n = match (b.email, b.device_url) {
        (Some(email), None) => {
            let u = user(&st, &email)?;
            lock(&st.mercury).close_user(u, req)
        }
        (None, Some(url)) => {
            let d = Hub::device_of_url(&url).ok_or_else(|| ApiError::invalid("deviceUrl", "not a device url"))?;
            lock(&st.mercury).close_device(d, req)
        }
        _ => return Err(ApiError::bad_request("Exactly one of 'email' or 'deviceUrl' is required.")),
    };
    Ok(json_ok(json!({ "closed": n })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceBody {
    device_url: String,
}

async fn shutdown(State(st): State<AppState>, bytes: Bytes) -> ApiResult<Response> {
    let b: DeviceBody = parse(&bytes)?;
    let d = Hub::device_of_url(&b.device_url).ok_or_else(|| ApiError::invalid("deviceUrl", "not a device url"))?;
    let n = lock(&st.mercury).shutdown(d);
    Ok(json_ok(json!({ "sent": n })))
}

#[derive(Deserialize)]
struct SkipBody {
    email: String,
    count: u32,
}

async fn skip_buffer_state(State(st): State<AppState>, bytes: Bytes) -> ApiResult<Response> {
    let b: SkipBody = parse(&bytes)?;
    let u = user(&st, &b.email)?;
    lock(&st.mercury).skip_buffer_state(u, b.count);
    Ok(no_content())
}

#[derive(Deserialize)]
struct RawBody {
    email: String,
    text: String,
}

async fn raw(State(st): State<AppState>, bytes: Bytes) -> ApiResult<Response> {
    let b: RawBody = parse(&bytes)?;
    let u = user(&st, &b.email)?;
    let n = lock(&st.mercury).send_raw(u, &b.text);
    Ok(json_ok(json!({ "sent": n })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmitBody {
    email: String,
    event_type: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
    count: Option<usize>,
}

/// At most this many events per control call (a typo must not exhaust memory).
const MAX_EMIT: usize = 1_000_000;

async fn emit(State(st): State<AppState>, bytes: Bytes) -> ApiResult<Response> {
    let b: EmitBody = parse(&bytes)?;
    let u = user(&st, &b.email)?;
    let count = b.count.unwrap_or(1);
    if count > MAX_EMIT {
        return Err(ApiError::invalid("count", "at most 1000000"));
    }
    let data = raw_event_data(&b.event_type, &b.data.map(|d| d.to_string()).unwrap_or_else(|| "{}".into()));
    let n = lock(&st.mercury).publish(&[u], &data, count);
    Ok(json_ok(json!({ "devices": n })))
}

async fn closes(State(st): State<AppState>) -> Response {
    let items = lock(&st.mercury).closes();
    json_ok(json!({ "items": items }))
}
