//! `/v1/rooms`: spaces. A caller only ever sees rooms it is a member of; anything else is
//! 404, as the cloud answers (never 403, which would leak existence).

use std::cmp::Reverse;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::activities::Emitter;
use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok, no_content};
use crate::ids::{self, IdType};
use crate::paging::{self, Limits};
use crate::state::{AppState, Call};
use crate::store::{Room, Store};
use crate::time::{iso_ms, now_ms};

const LIMITS: Limits = Limits { default: 100, limit: 1000, strict: true };

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/rooms", get(list).post(create))
        .route("/v1/rooms/", get(list).post(create))
        .route("/v1/rooms/{id}", get(one).put(update).delete(remove))
        .route("/v1/rooms/{id}/meetingInfo", get(meeting_info))
}

/// The Room object as `viewer` sees it (a direct room is titled after the other person).
pub(crate) fn room_json(r: &Room, store: &Store, viewer: Uuid) -> Value {
    let title = if r.direct {
        store
            .memberships
            .iter()
            .filter(|m| m.room == r.uuid && m.person != viewer)
            .find_map(|m| store.person(m.person))
            .map(|p| p.display_name.clone())
            .unwrap_or_else(|| r.title.clone())
    } else {
        r.title.clone()
    };
    let mut o = Map::new();
    o.insert("id".into(), ids::encode_uuid(IdType::Room, r.uuid).into());
    o.insert("title".into(), title.into());
    o.insert("type".into(), if r.direct { "direct" } else { "group" }.into());
    o.insert("isLocked".into(), r.is_locked.into());
    if let Some(t) = r.team {
        o.insert("teamId".into(), ids::encode_uuid(IdType::Team, t).into());
    }
    o.insert("lastActivity".into(), iso_ms(r.last_activity).into());
    o.insert("creatorId".into(), ids::encode_uuid(IdType::People, r.creator).into());
    o.insert("created".into(), iso_ms(r.created).into());
    o.insert("ownerId".into(), store.org_id().into());
    if let Some(c) = &r.classification_id {
        o.insert("classificationId".into(), c.clone().into());
    }
    o.insert("isAnnouncementOnly".into(), r.is_announcement_only.into());
    o.insert("isReadOnly".into(), r.is_read_only.into());
    o.insert("isPublic".into(), r.is_public.into());
    if let Some(t) = r.made_public {
        o.insert("madePublic".into(), iso_ms(t).into());
    }
    if let Some(d) = &r.description {
        o.insert("description".into(), d.clone().into());
    }
    Value::Object(o)
}

/// The room behind a hydra room id, if `me` may see it.
pub(crate) fn visible_room_uuid(store: &Store, me: Uuid, id: &str) -> Option<Uuid> {
    let uuid = ids::uuid_of(id, IdType::Room)?;
    store.visible_room(me, uuid).map(|r| r.uuid)
}

/// The spec: "A space can only be put into announcement mode when it is locked."
fn announcement_unlocked() -> ApiError {
    ApiError::invalid("isAnnouncementOnly", "a space can only be put into announcement mode when it is locked")
}

async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let title = body.req_str("title")?;
    let mut store = call.st.store();
    let team = match body.str("teamId")? {
        None => None,
        Some(id) => {
            let t = ids::uuid_of(&id, IdType::Team)
                .and_then(|t| store.visible_team(call.me.uuid, t))
                .ok_or_else(|| ApiError::invalid("teamId", "no such team"))?;
            Some(t.uuid)
        }
    };
    let is_locked = body.bool("isLocked")?.unwrap_or(false);
    let is_announcement_only = body.bool("isAnnouncementOnly")?.unwrap_or(false);
    if is_announcement_only && !is_locked {
        return Err(announcement_unlocked());
    }
    let is_public = body.bool("isPublic")?.unwrap_or(false);
    let description = body.str("description")?;
    if is_public && description.is_none() {
        // The spec: "isPublic ... requires a description".
        return Err(ApiError::missing("description"));
    }
    let now = now_ms();
    let room = Room {
        uuid: Uuid::new_v4(),
        title,
        direct: false,
        is_locked,
        team,
        creator: call.me.uuid,
        created: now,
        last_activity: now,
        classification_id: body.str("classificationId")?,
        description,
        is_announcement_only,
        is_read_only: false,
        is_public,
        made_public: is_public.then_some(now),
    };
    // Moderator only where moderation exists: locked rooms and team rooms (guess).
    let uuid = store.create_room(room, is_locked || team.is_some());
    Emitter::new(&call.st, &store, call.me.uuid).room_created(uuid);
    let r = store.room(uuid).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(room_json(r, &store, call.me.uuid)))
}

async fn list(call: Call) -> ApiResult<Response> {
    let page = paging::page(&call, LIMITS)?;
    let kind = call.q("type");
    if kind.is_some_and(|k| k != "direct" && k != "group") {
        return Err(ApiError::invalid("type", "must be 'direct' or 'group'"));
    }
    let team = match call.q("teamId") {
        None => None,
        Some(id) => Some(ids::uuid_of(id, IdType::Team).ok_or_else(ApiError::not_found)?),
    };
    let sort = call.q("sortBy").unwrap_or("lastactivity");
    if !["id", "lastactivity", "created"].contains(&sort) {
        return Err(ApiError::invalid("sortBy", "must be 'id', 'lastactivity' or 'created'"));
    }
    let store = call.st.store();
    let mut rooms: Vec<&Room> = store
        .rooms
        .iter()
        .filter(|r| store.is_member(call.me.uuid, r.uuid))
        .filter(|r| kind.is_none_or(|k| (k == "direct") == r.direct))
        .filter(|r| team.is_none_or(|t| r.team == Some(t)))
        .collect();
    // Without sortBy the cloud's order is unspecified; most recent activity first (guess).
    match sort {
        "id" => rooms.sort_by_key(|r| ids::encode_uuid(IdType::Room, r.uuid)),
        "created" => rooms.sort_by_key(|r| Reverse(r.created)),
        _ => rooms.sort_by_key(|r| Reverse(r.last_activity)),
    }
    let items = rooms.into_iter().map(|r| room_json(r, &store, call.me.uuid)).collect();
    Ok(paging::respond(&call, items, page, None))
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let store = call.st.store();
    let uuid = visible_room_uuid(&store, call.me.uuid, &id).ok_or_else(ApiError::not_found)?;
    let r = store.room(uuid).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(room_json(r, &store, call.me.uuid)))
}

async fn update(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let mut store = call.st.store();
    let uuid = visible_room_uuid(&store, call.me.uuid, &id).ok_or_else(ApiError::not_found)?;
    let title = body.req_str("title")?;
    let team = match body.str("teamId")? {
        None => None,
        Some(t) => Some(
            ids::uuid_of(&t, IdType::Team)
                .and_then(|t| store.visible_team(call.me.uuid, t))
                .map(|t| t.uuid)
                .ok_or_else(|| ApiError::invalid("teamId", "no such team"))?,
        ),
    };
    let (classification, description) = (body.str("classificationId")?, body.str("description")?);
    let (locked, public) = (body.bool("isLocked")?, body.bool("isPublic")?);
    let (announce, read_only) = (body.bool("isAnnouncementOnly")?, body.bool("isReadOnly")?);
    if store.room(uuid).is_some_and(|r| r.is_locked) && !store.moderates(call.me.uuid, uuid) {
        // A locked room is moderated: changing it is for moderators (guess from
        // "locked/moderated"; the cloud's wording is unknown).
        return Err(ApiError::forbidden("Only moderators may change a locked room."));
    }
    let r = store.rooms.iter_mut().find(|r| r.uuid == uuid).ok_or_else(ApiError::not_found)?;
    let before = r.clone();
    if !r.direct {
        r.title = title;
    }
    if team.is_some() {
        r.team = team;
    }
    r.classification_id = classification.or(r.classification_id.take());
    r.description = description.or(r.description.take());
    r.is_locked = locked.unwrap_or(r.is_locked);
    if let Some(p) = public {
        if p && !r.is_public {
            r.made_public = Some(now_ms());
        }
        r.is_public = p;
    }
    r.is_announcement_only = announce.unwrap_or(r.is_announcement_only);
    r.is_read_only = read_only.unwrap_or(r.is_read_only);
    if r.is_announcement_only && !r.is_locked {
        if !before.is_announcement_only {
            // Turning announcement mode on in an unlocked room: refused, as the spec says.
            *r = before;
            return Err(announcement_unlocked());
        }
        // Unlocking a room in announcement mode ends it (a guess): SDKs send the whole room
        // back, announcement flag included, when they only mean to unlock.
        r.is_announcement_only = false;
    }
    let others_changed = before.title != r.title
        || before.team != r.team
        || before.classification_id != r.classification_id
        || before.description != r.description
        || before.is_public != r.is_public
        || before.is_announcement_only != r.is_announcement_only
        || before.is_read_only != r.is_read_only;
    let (was_locked, is_locked) = (before.is_locked, r.is_locked);
    if is_locked && !was_locked {
        // The spec: "Set the space as locked/moderated and the creator becomes a moderator";
        // so does whoever locked it, lest a room locked after its creator left has none
        // (a guess; no activity of its own is sent for it here, also a guess).
        let (creator, me) = (r.creator, call.me.uuid);
        for m in store.memberships.iter_mut().filter(|m| m.room == uuid && (m.person == creator || m.person == me)) {
            m.is_moderator = true;
        }
    }
    let emit = Emitter::new(&call.st, &store, call.me.uuid);
    // A lock change is its own activity (`lock`/`unlock`); any other change, or a PUT that
    // changes nothing, is an `update` (guess: what the cloud sends for a no-op is unknown).
    if others_changed || was_locked == is_locked {
        emit.room_changed(uuid, "update");
    }
    if was_locked != is_locked {
        emit.room_changed(uuid, if is_locked { "lock" } else { "unlock" });
    }
    let r = store.room(uuid).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(room_json(r, &store, call.me.uuid)))
}

/// Deletion rule: the creator or a moderator deletes a group room (who counts besides
/// moderators is a guess); any other member is removed from it instead, as the spec says of
/// "a non moderator"; 1:1 rooms cannot be deleted (403).
async fn remove(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let mut store = call.st.store();
    let uuid = visible_room_uuid(&store, call.me.uuid, &id).ok_or_else(ApiError::not_found)?;
    let r = store.room(uuid).ok_or_else(ApiError::not_found)?;
    if r.direct {
        return Err(ApiError::forbidden("A 1:1 room cannot be deleted."));
    }
    if r.creator != call.me.uuid && !store.moderates(call.me.uuid, uuid) {
        let me = call.me.uuid;
        store.remove_membership(me, uuid);
        Emitter::new(&call.st, &store, me).membership(me, uuid, "leave");
        return Ok(no_content());
    }
    // Deleting a room removes every member: each gets a `leave` for everyone (guess; the JS
    // SDK has no room-deleted event, and a `leave` maps to memberships:deleted).
    let emit = Emitter::new(&call.st, &store, call.me.uuid);
    let members = emit.members(uuid);
    for p in &members {
        emit.membership_to(*p, uuid, "leave", &members);
    }
    store.delete_room(uuid);
    Ok(no_content())
}

/// A space's own meeting: what `GET /rooms/{id}/meetingInfo` answers and what Locus joins
/// (`locus::resolve` looks rooms up by these).
pub(crate) struct SpaceMeeting {
    pub number: String,
    pub sip_address: String,
    pub link: String,
}

/// The space meeting of a room. Stable per room: derived from the room uuid so repeated
/// calls agree and nothing needs storing.
pub(crate) fn space_meeting(room: Uuid) -> SpaceMeeting {
    let number = format!("2{:09}", room.as_u128() % 1_000_000_000);
    SpaceMeeting {
        sip_address: format!("{number}@sandbox.webex.com"),
        link: format!("https://sandbox.webex.com/m/{room}"),
        number,
    }
}

async fn meeting_info(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let store = call.st.store();
    let uuid = visible_room_uuid(&store, call.me.uuid, &id).ok_or_else(ApiError::not_found)?;
    let m = space_meeting(uuid);
    Ok(json_ok(json!({
        "roomId": ids::encode_uuid(IdType::Room, uuid),
        "meetingLink": m.link,
        "sipAddress": m.sip_address,
        "meetingNumber": m.number,
        "meetingId": uuid.simple().to_string(),
        "callInTollFreeNumber": "+1-866-432-9903",
        "callInTollNumber": "+1-408-525-6800",
    })))
}
