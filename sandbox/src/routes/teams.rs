//! `/v1/teams`: teams; creating one also creates its General room.

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
use crate::state::{AppState, Call};
use crate::store::{Room, Team, TeamMembership};
use crate::time::{iso_ms, now_ms};

const LIMITS: Limits = Limits { default: 100, limit: 1000, strict: false };

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/teams", get(list).post(create))
        .route("/v1/teams/", get(list).post(create))
        .route("/v1/teams/{id}", get(one).put(update).delete(remove))
}

fn team_json(t: &Team) -> Value {
    let mut v = json!({
        "id": ids::encode_uuid(IdType::Team, t.uuid),
        "name": t.name,
        "created": iso_ms(t.created),
    });
    if let (Some(d), Some(o)) = (&t.description, v.as_object_mut()) {
        o.insert("description".into(), d.clone().into());
    }
    v
}

async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let name = body.req_str("name")?;
    let description = body.str("description")?;
    let mut store = call.st.store();
    let now = now_ms();
    let team = Team { uuid: Uuid::new_v4(), name: name.clone(), description: description.clone(), created: now };
    let uuid = team.uuid;
    store.teams.push(team.clone());
    store.team_memberships.push(TeamMembership { person: call.me.uuid, team: uuid, is_moderator: true, created: now });
    // The General room is titled after the team and carries its teamId.
    let general = store.create_room(
        Room {
            uuid: Uuid::new_v4(),
            title: name,
            direct: false,
            is_locked: false,
            team: Some(uuid),
            creator: call.me.uuid,
            created: now,
            last_activity: now,
            classification_id: None,
            description,
            is_announcement_only: false,
            is_read_only: false,
            is_public: false,
            made_public: None,
        },
        true,
    );
    Emitter::new(&call.st, &store, call.me.uuid).room_created(general);
    Ok(json_ok(team_json(&team)))
}

async fn list(call: Call) -> ApiResult<Response> {
    let page = paging::page(&call, LIMITS)?;
    let store = call.st.store();
    let items =
        store.teams.iter().filter(|t| store.team_membership(call.me.uuid, t.uuid).is_some()).map(team_json).collect();
    Ok(paging::respond(&call, items, page, None))
}

fn visible_team(call: &Call, store: &crate::store::Store, id: &str) -> ApiResult<Uuid> {
    ids::uuid_of(id, IdType::Team)
        .and_then(|t| store.visible_team(call.me.uuid, t))
        .map(|t| t.uuid)
        .ok_or_else(ApiError::not_found)
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let store = call.st.store();
    let uuid = visible_team(&call, &store, &id)?;
    let t = store.teams.iter().find(|t| t.uuid == uuid).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(team_json(t)))
}

async fn update(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let name = body.req_str("name")?;
    let description = body.str("description")?;
    let mut store = call.st.store();
    let uuid = visible_team(&call, &store, &id)?;
    let t = store.teams.iter_mut().find(|t| t.uuid == uuid).ok_or_else(ApiError::not_found)?;
    t.name = name;
    if description.is_some() {
        t.description = description;
    }
    let v = team_json(t);
    Ok(json_ok(v))
}

/// A team moderator may delete the team; its rooms go with it.
async fn remove(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let mut store = call.st.store();
    let uuid = visible_team(&call, &store, &id)?;
    if !store.team_membership(call.me.uuid, uuid).is_some_and(|m| m.is_moderator) {
        return Err(ApiError::forbidden("Only a team moderator may delete the team."));
    }
    let rooms: Vec<Uuid> = store.rooms.iter().filter(|r| r.team == Some(uuid)).map(|r| r.uuid).collect();
    // As for a deleted room: every member of every team room gets each member's `leave`.
    let emit = Emitter::new(&call.st, &store, call.me.uuid);
    for r in &rooms {
        let members = emit.members(*r);
        for p in &members {
            emit.membership_to(*p, *r, "leave", &members);
        }
    }
    for r in rooms {
        store.delete_room(r);
    }
    store.teams.retain(|t| t.uuid != uuid);
    store.team_memberships.retain(|m| m.team != uuid);
    Ok(no_content())
}
