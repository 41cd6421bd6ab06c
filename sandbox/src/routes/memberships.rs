//! `/v1/memberships`: who is in which room.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::activities::Emitter;
use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok, no_content};
use crate::ids::{self, IdType};
use crate::paging::{self, Limits};
use crate::routes::rooms::visible_room_uuid;
use crate::state::{AppState, Call};
use crate::store::{Membership, Store};
use crate::time::iso_ms;

const LIMITS: Limits = Limits { default: 100, limit: 1000, strict: false };

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/memberships", get(list).post(create))
        .route("/v1/memberships/", get(list).post(create))
        .route("/v1/memberships/{id}", get(one).put(update).delete(remove))
}

/// The Membership object.
pub(crate) fn membership_json(m: &Membership, store: &Store) -> Value {
    let person = store.person(m.person);
    let direct = store.room(m.room).is_some_and(|r| r.direct);
    json!({
        "id": ids::encode(IdType::Membership, &format!("{}:{}", m.person, m.room)),
        "roomId": ids::encode_uuid(IdType::Room, m.room),
        "personId": ids::encode_uuid(IdType::People, m.person),
        "personEmail": person.map(|p| p.email.clone()).unwrap_or_default(),
        "personDisplayName": person.map(|p| p.display_name.clone()).unwrap_or_default(),
        "personOrgId": store.org_id(),
        "isModerator": m.is_moderator,
        "isRoomHidden": m.is_room_hidden,
        "roomType": if direct { "direct" } else { "group" },
        "isMonitor": false,
        "created": iso_ms(m.created),
    })
}

/// The person named by a body's `personId` or `personEmail` (unknown emails are invited).
pub(crate) fn target_person(store: &mut Store, body: &Body) -> ApiResult<Uuid> {
    if let Some(id) = body.str("personId")? {
        let uuid = ids::uuid_of(&id, IdType::People)
            .filter(|u| store.person(*u).is_some())
            .ok_or_else(|| ApiError::invalid("personId", "no such person"))?;
        return Ok(uuid);
    }
    match body.str("personEmail")? {
        Some(email) if email.contains('@') => Ok(store.person_or_invite(&email)),
        Some(_) => Err(ApiError::invalid("personEmail", "not an email address")),
        None => Err(ApiError::bad_request("Missing required field: one of 'personId' or 'personEmail'.")),
    }
}

async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let room_id = body.req_str("roomId")?;
    let is_moderator = body.bool("isModerator")?.unwrap_or(false);
    let mut store = call.st.store();
    let room = visible_room_uuid(&store, call.me.uuid, &room_id).ok_or_else(ApiError::not_found)?;
    let r = store.room(room).ok_or_else(ApiError::not_found)?;
    if r.direct {
        return Err(ApiError::bad_request("People cannot be added to a 1:1 room."));
    }
    if r.is_locked && !store.moderates(call.me.uuid, room) {
        return Err(ApiError::forbidden("Only moderators may add people to a locked room."));
    }
    let person = target_person(&mut store, &body)?;
    if store.is_member(person, room) {
        return Err(ApiError::conflict("The person is already a member of the room."));
    }
    store.add_membership(person, room, is_moderator);
    Emitter::new(&call.st, &store, call.me.uuid).membership(person, room, "add");
    let m = store.membership(person, room).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(membership_json(m, &store)))
}

async fn list(call: Call) -> ApiResult<Response> {
    let page = paging::page(&call, LIMITS)?;
    let store = call.st.store();
    let room = match call.q("roomId") {
        Some(id) => Some(visible_room_uuid(&store, call.me.uuid, id).ok_or_else(ApiError::not_found)?),
        None => None,
    };
    let person = match (call.q("personId"), call.q("personEmail")) {
        (Some(id), _) => Some(ids::uuid_of(id, IdType::People)),
        (None, Some(email)) => Some(store.person_by_email(email).map(|p| p.uuid)),
        (None, None) => None,
    };
    // Without roomId the listing is the caller's own memberships (the cloud's behaviour);
    // a person filter without roomId therefore only ever matches the caller.
    let items = store
        .memberships
        .iter()
        .filter(|m| match room {
            Some(r) => m.room == r,
            None => m.person == call.me.uuid,
        })
        .filter(|m| person.is_none_or(|p| p == Some(m.person)))
        .map(|m| membership_json(m, &store))
        .collect();
    Ok(paging::respond(&call, items, page, None))
}

/// `(person, room)` of a membership id the caller may see.
fn visible(store: &Store, me: Uuid, id: &str) -> ApiResult<(Uuid, Uuid)> {
    let (person, room) = ids::uuid_pair_of(id, IdType::Membership).ok_or_else(ApiError::not_found)?;
    if !store.is_member(me, room) || !store.is_member(person, room) {
        return Err(ApiError::not_found());
    }
    Ok((person, room))
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let store = call.st.store();
    let (person, room) = visible(&store, call.me.uuid, &id)?;
    let m = store.membership(person, room).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(membership_json(m, &store)))
}

/// Both fields are optional here although the spec lists them as required: the JS SDK sends
/// the whole membership object back and other clients send only what changes.
async fn update(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let (is_moderator, hidden) = (body.bool("isModerator")?, body.bool("isRoomHidden")?);
    let mut store = call.st.store();
    let (person, room) = visible(&store, call.me.uuid, &id)?;
    // What a PUT changes is checked, not what it carries: the JS SDK sends the whole
    // membership back, unchanged members included.
    let current = store.membership(person, room).ok_or_else(ApiError::not_found)?;
    if hidden.is_some_and(|h| h != current.is_room_hidden) && person != call.me.uuid {
        // Hiding is the member's own view of their rooms.
        return Err(ApiError::forbidden("Only the member may hide or show a room for themselves."));
    }
    if is_moderator.is_some_and(|m| m != current.is_moderator)
        && store.room(room).is_some_and(|r| r.is_locked)
        && !store.moderates(call.me.uuid, room)
    {
        // A locked room is moderated: who moderates is the moderators' call (guess from
        // "locked/moderated" in the spec; the cloud's exact wording is unknown).
        return Err(ApiError::forbidden("Only moderators may change who moderates a locked room."));
    }
    let m =
        store.memberships.iter_mut().find(|m| m.person == person && m.room == room).ok_or_else(ApiError::not_found)?;
    let (was_moderator, was_hidden) = (m.is_moderator, m.is_room_hidden);
    m.is_moderator = is_moderator.unwrap_or(m.is_moderator);
    m.is_room_hidden = hidden.unwrap_or(m.is_room_hidden);
    let (now_moderator, now_hidden) = (m.is_moderator, m.is_room_hidden);
    if was_moderator != now_moderator {
        let verb = if now_moderator { "assignModerator" } else { "unassignModerator" };
        Emitter::new(&call.st, &store, call.me.uuid).membership(person, room, verb);
    }
    if was_hidden != now_hidden {
        // Hiding is the member's own view: the member is the actor and the only recipient.
        // `unhide` is a guess (the JS SDK ignores it).
        Emitter::new(&call.st, &store, person).hidden(room, if now_hidden { "hide" } else { "unhide" });
    }
    let m = store.membership(person, room).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(membership_json(m, &store)))
}

async fn remove(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let mut store = call.st.store();
    let (person, room) = visible(&store, call.me.uuid, &id)?;
    if store.room(room).is_some_and(|r| r.direct) {
        return Err(ApiError::bad_request("Memberships of 1:1 rooms cannot be deleted."));
    }
    if person != call.me.uuid && store.room(room).is_some_and(|r| r.is_locked) && !store.moderates(call.me.uuid, room) {
        // Anyone may leave; removing others from a locked (moderated) room is for moderators
        // (guess, as for adding them).
        return Err(ApiError::forbidden("Only moderators may remove people from a locked room."));
    }
    store.remove_membership(person, room);
    Emitter::new(&call.st, &store, call.me.uuid).membership(person, room, "leave");
    Ok(no_content())
}
