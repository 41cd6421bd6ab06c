//! `/v1/webhooks`: registrations only; the sandbox is offline and delivers nothing.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok, no_content};
use crate::ids::{self, IdType};
use crate::paging::{self, Limits};
use crate::state::{AppState, Call};
use crate::store::{Store, Webhook};
use crate::time::{iso_ms, now_ms};

const LIMITS: Limits = Limits { default: 100, limit: 1000, strict: false };
/// `resource` values of the spec's Webhook schema.
const RESOURCES: &[&str] = &[
    "attachmentActions",
    "dataSources",
    "memberships",
    "messages",
    "rooms",
    "meetings",
    "recordings",
    "convergedRecordings",
    "meetingParticipants",
    "meetingTranscripts",
    "telephony_calls",
    "telephony_conference",
    "telephony_mwi",
    "uc_counters",
    "serviceApp",
    "adminBatchJobs",
];
/// `event` values of the spec's Webhook schema.
const EVENTS: &[&str] = &[
    "created",
    "updated",
    "deleted",
    "started",
    "ended",
    "joined",
    "left",
    "migrated",
    "authorized",
    "deauthorized",
    "statusChanged",
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks", get(list).post(create))
        .route("/v1/webhooks/", get(list).post(create))
        .route("/v1/webhooks/{id}", get(one).put(update).delete(remove))
}

/// The Webhook object. `orgId`, `createdBy` and `appId` are not in the spec's schema but the
/// cloud sends them (and repeats them in every delivery).
fn webhook_json(w: &Webhook, store: &Store) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), ids::encode_uuid(IdType::Webhook, w.uuid).into());
    for k in ["name", "targetUrl", "resource", "event", "filter", "secret"] {
        if let Some(v) = w.fields.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    o.insert("orgId".into(), store.org_id().into());
    o.insert("createdBy".into(), ids::encode_uuid(IdType::People, w.owner).into());
    o.insert("appId".into(), ids::encode_uuid(IdType::Application, store.app).into());
    for k in ["ownedBy", "status"] {
        if let Some(v) = w.fields.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    o.insert("created".into(), iso_ms(w.created).into());
    Value::Object(o)
}

fn one_of(body: &Body, key: &str, allowed: &[&str]) -> ApiResult<Option<String>> {
    match body.str(key)? {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(ApiError::invalid(key, &format!("must be one of {}", allowed.join(", "))))
        }
        v => Ok(v),
    }
}

async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let mut fields = Map::new();
    fields.insert("name".into(), body.req_str("name")?.into());
    fields.insert("targetUrl".into(), body.req_str("targetUrl")?.into());
    let resource = one_of(&body, "resource", RESOURCES)?.ok_or_else(|| ApiError::missing("resource"))?;
    fields.insert("resource".into(), resource.into());
    let event = one_of(&body, "event", EVENTS)?.ok_or_else(|| ApiError::missing("event"))?;
    fields.insert("event".into(), event.into());
    for k in ["filter", "secret"] {
        if let Some(v) = body.str(k)? {
            fields.insert(k.into(), v.into());
        }
    }
    let owned_by = one_of(&body, "ownedBy", &["creator", "org"])?.unwrap_or_else(|| "creator".into());
    fields.insert("ownedBy".into(), owned_by.into());
    fields.insert("status".into(), "active".into());
    let mut store = call.st.store();
    let w = Webhook { uuid: Uuid::new_v4(), owner: call.me.uuid, fields, created: now_ms() };
    let v = webhook_json(&w, &store);
    store.webhooks.push(w);
    Ok(json_ok(v))
}

/// Visible webhooks: the caller's own, plus org-owned ones when asked with `ownedBy=org`.
async fn list(call: Call) -> ApiResult<Response> {
    let page = paging::page(&call, LIMITS)?;
    let org = call.q("ownedBy") == Some("org");
    let store = call.st.store();
    let items = store
        .webhooks
        .iter()
        .filter(|w| w.owner == call.me.uuid || (org && w.fields.get("ownedBy").and_then(Value::as_str) == Some("org")))
        .map(|w| webhook_json(w, &store))
        .collect();
    Ok(paging::respond(&call, items, page, None))
}

fn own(store: &Store, me: Uuid, id: &str) -> ApiResult<usize> {
    let uuid = ids::uuid_of(id, IdType::Webhook).ok_or_else(ApiError::not_found)?;
    store.webhooks.iter().position(|w| w.uuid == uuid && w.owner == me).ok_or_else(ApiError::not_found)
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let store = call.st.store();
    let i = own(&store, call.me.uuid, &id)?;
    Ok(json_ok(webhook_json(&store.webhooks[i], &store)))
}

async fn update(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let name = body.req_str("name")?;
    let target = body.req_str("targetUrl")?;
    let secret = body.str("secret")?;
    let owned_by = one_of(&body, "ownedBy", &["creator", "org"])?;
    let status = one_of(&body, "status", &["active", "inactive"])?;
    let mut store = call.st.store();
    let i = own(&store, call.me.uuid, &id)?;
    let f = &mut store.webhooks[i].fields;
    f.insert("name".into(), name.into());
    f.insert("targetUrl".into(), target.into());
    for (k, v) in [("secret", secret), ("ownedBy", owned_by), ("status", status)] {
        if let Some(v) = v {
            f.insert(k.into(), v.into());
        }
    }
    Ok(json_ok(webhook_json(&store.webhooks[i], &store)))
}

async fn remove(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let mut store = call.st.store();
    let i = own(&store, call.me.uuid, &id)?;
    store.webhooks.remove(i);
    Ok(no_content())
}
