//! `/v1/meetings`: scheduled meeting series (no real media; see the meetings protocol for
//! joining). Only the host sees a meeting. Recurrence is stored and echoed but not expanded:
//! every series has exactly one occurrence (documented simplification).

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value};

use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok, no_content};
use crate::ids::{self, IdType};
use crate::paging::{self, Limits};
use crate::routes::meeting_fields::{adhoc_span, apply, generated, meeting_number};
use crate::routes::rooms::visible_room_uuid;
use crate::state::{AppState, Call};
use crate::store::{Meeting, Store};
use crate::time::{self, compact, now_ms};

/// "up to 100 ... The default value is 10" (spec).
const LIMITS: Limits = Limits { default: 10, limit: 100, strict: false };
const WEEK_MS: i64 = 7 * 86_400_000;
const TYPES: &[&str] = &["meetingSeries", "scheduledMeeting", "meeting"];
const STATES: &[&str] = &["active", "scheduled", "ready", "lobby", "inProgress", "ended", "missed", "expired"];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/meetings", get(list).post(create))
        .route("/v1/meetings/", get(list).post(create))
        .route("/v1/meetings/{id}", get(one).put(replace).patch(patch).delete(remove))
}

/// The series object, or the view of its (single) scheduled occurrence.
fn view(m: &Meeting, occurrence: bool) -> Value {
    let mut f = m.fields.clone();
    if occurrence {
        let occ = format!("{}_{}", m.id, compact(m.start));
        let mut o = Map::new();
        o.insert("id".into(), occ.clone().into());
        o.insert("meetingSeriesId".into(), m.id.clone().into());
        o.insert("scheduledMeetingId".into(), occ.into());
        f.remove("id");
        o.extend(f);
        o.insert("meetingType".into(), "scheduledMeeting".into());
        o.insert("isModified".into(), false.into());
        return Value::Object(o);
    }
    Value::Object(f)
}

/// Index of the caller's meeting for a series id or an occurrence id (`<series>_<time>`),
/// and whether it was an occurrence id.
fn find(store: &Store, call: &Call, id: &str) -> ApiResult<(usize, bool)> {
    let (series, occurrence) = match id.split_once('_') {
        Some((s, _)) => (s, true),
        None => (id, false),
    };
    let i =
        store.meetings.iter().position(|m| m.id == series && m.host == call.me.uuid).ok_or_else(ApiError::not_found)?;
    if occurrence && id != format!("{}_{}", series, compact(store.meetings[i].start)) {
        return Err(ApiError::not_found());
    }
    Ok((i, occurrence))
}

async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let mut body = Body::parse(&headers, &bytes)?;
    let mut store = call.st.store();
    let room = match body.str("roomId")? {
        Some(r) => Some(
            visible_room_uuid(&store, call.me.uuid, &r).ok_or_else(|| ApiError::invalid("roomId", "no such room"))?,
        ),
        None => None,
    };
    if body.bool("adhoc")? == Some(true) {
        // An instant meeting for a space: roomId required, start/end default to now + 1h.
        if room.is_none() {
            return Err(ApiError::missing("roomId"));
        }
        let (s, e) = adhoc_span();
        for (k, v) in [("start", s), ("end", e)] {
            body.0.entry(k).or_insert_with(|| time::iso_s(v).into());
        }
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut number = meeting_number();
    while store.meetings.iter().any(|m| m.fields.get("meetingNumber").and_then(Value::as_str) == Some(number.as_str()))
    {
        number = meeting_number();
    }
    let me = &call.me;
    let mut fields = generated(&id, &number, (&me.id(), &me.display_name, &me.email));
    let (start, end) = apply(&mut fields, &body, true, (0, 0))?;
    if let Some(r) = room {
        fields.insert("roomId".into(), ids::encode_uuid(IdType::Room, r).into());
    }
    let m = Meeting { id, host: me.uuid, start, end, fields };
    let v = view(&m, false);
    store.meetings.push(m);
    Ok(json_ok(v))
}

async fn list(call: Call) -> ApiResult<Response> {
    let page = paging::page(&call, LIMITS)?;
    let keys = ["meetingNumber", "webLink", "roomId"];
    let given: Vec<(&str, &str)> = keys.iter().filter_map(|k| call.q(k).map(|v| (*k, v))).collect();
    if given.len() > 1 {
        return Err(ApiError::bad_request("'meetingNumber', 'webLink' and 'roomId' are mutually exclusive."));
    }
    let store = call.st.store();
    let mine = store.meetings.iter().filter(|m| m.host == call.me.uuid);
    if let Some((k, v)) = given.first() {
        // These lookups ignore type, state and time filters (spec).
        let items =
            mine.filter(|m| m.fields.get(*k).and_then(Value::as_str) == Some(*v)).map(|m| view(m, false)).collect();
        return Ok(paging::respond(&call, items, page, None));
    }
    let kind = call.q("meetingType").unwrap_or("meetingSeries");
    if !TYPES.contains(&kind) {
        return Err(ApiError::invalid("meetingType", &format!("must be one of {}", TYPES.join(", "))));
    }
    let state = call.q("state");
    if state.is_some_and(|s| !STATES.contains(&s)) {
        return Err(ApiError::invalid("state", &format!("must be one of {}", STATES.join(", "))));
    }
    let parse = |k: &str| -> ApiResult<Option<i64>> {
        call.q(k)
            .map(|v| time::parse(v).ok_or_else(|| ApiError::invalid(k, "not an ISO 8601 date and time")))
            .transpose()
    };
    // Defaults from the spec: a week from now, or a week around whichever bound is given.
    let (from, to) = match (parse("from")?, parse("to")?) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, f + WEEK_MS),
        (None, Some(t)) => (t - WEEK_MS, t),
        (None, None) => (now_ms(), now_ms() + WEEK_MS),
    };
    if from > to {
        return Err(ApiError::invalid("from", "cannot be after 'to'"));
    }
    let series_id = call.q("meetingSeriesId");
    let tag = call.q("integrationTag");
    let mut found: Vec<&Meeting> = mine
        .filter(|m| m.end > from && m.start < to)
        .filter(|m| state.is_none_or(|s| m.fields.get("state").and_then(Value::as_str) == Some(s)))
        .filter(|m| series_id.is_none_or(|s| m.id == s))
        .filter(|m| {
            tag.is_none_or(|t| {
                m.fields.get("integrationTags").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x == t))
            })
        })
        .collect();
    found.sort_by_key(|m| m.start);
    // `meeting` instances only exist once a meeting has run, which never happens here.
    let items = match kind {
        "meeting" => Vec::new(),
        k => found.into_iter().map(|m| view(m, k == "scheduledMeeting")).collect(),
    };
    Ok(paging::respond(&call, items, page, None))
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let store = call.st.store();
    let (i, occ) = find(&store, &call, &id)?;
    Ok(json_ok(view(&store.meetings[i], occ)))
}

async fn update(call: Call, id: String, headers: HeaderMap, bytes: Bytes, full: bool) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let mut store = call.st.store();
    let (i, occ) = find(&store, &call, &id)?;
    let m = &mut store.meetings[i];
    let mut fields = m.fields.clone();
    let (start, end) = apply(&mut fields, &body, full, (m.start, m.end))?;
    (m.fields, m.start, m.end) = (fields, start, end);
    Ok(json_ok(view(m, occ)))
}

/// PUT replaces every settable field (title, start and end required; guess from the docs).
async fn replace(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    update(call, id, headers, bytes, true).await
}

/// PATCH changes only the fields given (the spec's example is a plain JSON object, sent as
/// `application/json-patch+json`; both content types are read as JSON).
async fn patch(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    update(call, id, headers, bytes, false).await
}

async fn remove(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let mut store = call.st.store();
    let (i, _) = find(&store, &call, &id)?;
    store.meetings.remove(i);
    Ok(no_content())
}
