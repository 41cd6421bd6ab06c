//! WDM device registration (protocol.md §4): `/wdm/api/v1/devices`. Devices belong to the
//! user whose token registered them; another user's device is 404, as is an unknown one.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok, no_content};
use crate::mercury::Hub;
use crate::state::{AppState, Call, lock};
use crate::time::iso_ms;

/// Per-user registration cap by default (the real limit is unknown: guess).
pub const DEFAULT_DEVICE_CAP: usize = 25;
/// The NPM 3.12.0 SDK matches this text exactly to clean up old devices (§4.1).
pub const EXCESSIVE: &str = "User has excessive device registrations";

/// Fields the server owns: a client echoing the whole DTO back on refresh cannot change them.
const SERVER_FIELDS: &[&str] = &[
    "url",
    "webSocketUrl",
    "userId",
    "orgId",
    "features",
    "creationTime",
    "modificationTime",
    "services",
    "serviceHostMap",
    "etag",
    "ephemeral",
];

/// A registration.
#[derive(Clone, Debug)]
pub(crate) struct DeviceReg {
    pub uuid: Uuid,
    pub owner: Uuid,
    /// What the client sent (name, deviceType, model, ...), minus server-owned fields.
    pub fields: Map<String, Value>,
    /// Seconds without a refresh after which an ephemeral device expires.
    pub ttl: Option<u64>,
    pub created: i64,
    pub modified: i64,
}

impl DeviceReg {
    /// Whether the ttl ran out since the last registration or refresh.
    pub fn expired(&self, now: i64) -> bool {
        self.ttl.is_some_and(|t| {
            now.saturating_sub(self.modified) > i64::try_from(t).unwrap_or(i64::MAX).saturating_mul(1000)
        })
    }

    /// The device DTO (§4.2). No `etag` anywhere: the SDK would then skip developer toggles.
    pub fn dto(&self, hub: &Hub, org: Uuid) -> Value {
        let mut o = Map::new();
        o.insert("url".into(), hub.device_url(self.uuid).into());
        o.insert("webSocketUrl".into(), hub.websocket_url(self.uuid).into());
        o.insert("userId".into(), self.owner.to_string().into());
        o.insert("orgId".into(), org.to_string().into());
        for (k, v) in &self.fields {
            o.insert(k.clone(), v.clone());
        }
        o.insert("features".into(), json!({"developer": [], "entitlement": [], "user": []}));
        o.insert("creationTime".into(), iso_ms(self.created).into());
        o.insert("modificationTime".into(), iso_ms(self.modified).into());
        if let Some(t) = self.ttl {
            o.insert("ttl".into(), t.into());
        }
        o.insert("ephemeral".into(), self.ttl.is_some().into());
        Value::Object(o)
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/wdm/api/v1/devices", get(list).post(create))
        .route("/wdm/api/v1/devices/{id}", get(one).put(refresh).delete(remove))
}

/// Client fields of a body plus its `ttl` (seconds; a positive integer, or a numeric string).
fn client_fields(body: Body) -> ApiResult<(Map<String, Value>, Option<u64>)> {
    let ttl = match body.get("ttl") {
        None => None,
        Some(Value::Number(n)) => Some(n.as_u64().filter(|t| *t > 0).ok_or_else(bad_ttl)?),
        Some(Value::String(s)) => Some(s.trim().parse::<u64>().ok().filter(|t| *t > 0).ok_or_else(bad_ttl)?),
        Some(_) => return Err(bad_ttl()),
    };
    let mut fields = body.0;
    fields.retain(|k, _| k != "ttl" && !SERVER_FIELDS.contains(&k.as_str()));
    Ok((fields, ttl))
}

fn bad_ttl() -> ApiError {
    ApiError::invalid("ttl", "expected a positive number of seconds")
}

fn device_id(id: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found())
}

async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    // Every known client sends deviceType; the real service's required set is unknown (guess).
    body.req_str("deviceType")?;
    let (fields, ttl) = client_fields(body)?;
    let org = call.st.store().org;
    let mut hub = lock(&call.st.mercury);
    hub.purge();
    let now = hub.now();
    let mine = hub.devices.iter().filter(|d| d.reg.owner == call.me.uuid).count();
    if mine >= hub.device_cap {
        // Status 400 is a guess; the SDK matches only the message text (§4.1).
        return Err(ApiError::new(StatusCode::BAD_REQUEST, EXCESSIVE));
    }
    let reg = DeviceReg { uuid: Uuid::new_v4(), owner: call.me.uuid, fields, ttl, created: now, modified: now };
    let dto = reg.dto(&hub, org);
    hub.add_device(reg);
    Ok(json_ok(dto))
}

async fn list(call: Call) -> ApiResult<Response> {
    let org = call.st.store().org;
    let mut hub = lock(&call.st.mercury);
    hub.purge();
    let devices: Vec<Value> =
        hub.devices.iter().filter(|d| d.reg.owner == call.me.uuid).map(|d| d.reg.dto(&hub, org)).collect();
    Ok(json_ok(json!({ "devices": devices })))
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let uuid = device_id(&id)?;
    let org = call.st.store().org;
    let mut hub = lock(&call.st.mercury);
    hub.purge();
    let d = hub.device(uuid).filter(|d| d.reg.owner == call.me.uuid).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(d.reg.dto(&hub, org)))
}

/// Refresh: merges the client fields, keeps the ttl unless a new one is sent, and restarts
/// the expiry clock.
async fn refresh(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let uuid = device_id(&id)?;
    let body = Body::parse(&headers, &bytes)?;
    let (fields, ttl) = client_fields(body)?;
    let org = call.st.store().org;
    let mut hub = lock(&call.st.mercury);
    hub.purge();
    let now = hub.now();
    let d = hub.device_mut(uuid).filter(|d| d.reg.owner == call.me.uuid).ok_or_else(ApiError::not_found)?;
    d.reg.fields.extend(fields);
    d.reg.ttl = ttl.or(d.reg.ttl);
    // Strictly increasing even when two refreshes land in the same millisecond.
    d.reg.modified = now.max(d.reg.modified + 1);
    let reg = d.reg.clone();
    Ok(json_ok(reg.dto(&hub, org)))
}

async fn remove(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let uuid = device_id(&id)?;
    let mut hub = lock(&call.st.mercury);
    hub.purge();
    if hub.device(uuid).is_none_or(|d| d.reg.owner != call.me.uuid) {
        return Err(ApiError::not_found());
    }
    hub.remove_device(uuid);
    Ok(no_content())
}
