//! `/v1/people`: who is who. Everyone in the sandbox org is visible to everyone.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::errors::{ApiError, ApiResult, json_ok};
use crate::ids::{self, IdType};
use crate::paging::{self, Limits};
use crate::state::{AppState, Call};
use crate::store::{Person, Store};
use crate::time::iso_ms;

const LIMITS: Limits = Limits { default: 100, limit: 1000, strict: false };

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/people", get(list))
        // The JS SDK batcher calls `/people/?id=...` (slash before `?`).
        .route("/v1/people/", get(list))
        .route("/v1/people/me", get(me))
        .route("/v1/people/{id}", get(one))
}

/// The Person object; `id` lets a by-id lookup echo the caller's exact id string.
pub(crate) fn person_json(p: &Person, store: &Store, id: Option<&str>) -> Value {
    let (first, last) = p.display_name.split_once(' ').unwrap_or((p.display_name.as_str(), ""));
    let mut v = json!({
        "id": id.map(str::to_string).unwrap_or_else(|| p.id()),
        "emails": [p.email],
        "phoneNumbers": [],
        "displayName": p.display_name,
        "nickName": first,
        "firstName": first,
        "lastName": last,
        "orgId": store.org_id(),
        "created": iso_ms(p.created),
        "lastActivity": iso_ms(p.created),
        "status": if p.pending { "pending" } else { "active" },
        "type": p.kind,
    });
    if last.is_empty()
        && let Some(o) = v.as_object_mut()
    {
        o.remove("lastName");
    }
    v
}

async fn me(call: Call) -> ApiResult<Response> {
    let store = call.st.store();
    Ok(json_ok(person_json(&call.me, &store, None)))
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let uuid = ids::uuid_of(&id, IdType::People).ok_or_else(ApiError::not_found)?;
    let store = call.st.store();
    let p = store.person(uuid).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(person_json(p, &store, None)))
}

async fn list(call: Call) -> ApiResult<Response> {
    let page = paging::page(&call, LIMITS)?;
    let email = call.q("email").map(str::to_lowercase);
    let name = call.q("displayName").map(str::to_lowercase);
    let ids_param = call.q("id").map(str::to_string);
    if email.is_none() && name.is_none() && ids_param.is_none() {
        return Err(ApiError::bad_request("Either 'email', 'displayName' or 'id' is required."));
    }
    let store = call.st.store();
    let matches = |p: &Person| {
        email.as_deref().is_none_or(|e| p.email == e)
            && name.as_deref().is_none_or(|n| p.display_name.to_lowercase().starts_with(n))
    };
    let Some(ids_param) = ids_param else {
        let items = store.people.iter().filter(|p| matches(p)).map(|p| person_json(p, &store, None)).collect();
        return Ok(paging::respond(&call, items, page, None));
    };
    // By id: answer with the exact id strings the caller sent (the JS batcher matches them
    // string-equal) and list the unknown ones in `notFoundIds` so no caller waits forever.
    let requested: Vec<&str> = ids_param.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if requested.len() > 85 {
        return Err(ApiError::invalid("id", "at most 85 ids are allowed"));
    }
    let mut items = Vec::new();
    let mut not_found = Vec::new();
    for raw in requested {
        let found = ids::uuid_of(raw, IdType::People).and_then(|u| store.person(u)).filter(|p| matches(p));
        match found {
            Some(p) => items.push(person_json(p, &store, Some(raw))),
            None => not_found.push(Value::String(raw.to_string())),
        }
    }
    Ok(paging::respond(&call, items, page, Some(("notFoundIds", Value::Array(not_found)))))
}
