//! `/v1/team/memberships`: who is in which team. Team members are also members of the
//! team's General room, as in the cloud.

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
use crate::routes::memberships::target_person;
use crate::state::{AppState, Call};
use crate::store::{Store, TeamMembership};
use crate::time::{iso_ms, now_ms};

const LIMITS: Limits = Limits { default: 100, limit: 1000, strict: false };

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/team/memberships", get(list).post(create))
        .route("/v1/team/memberships/", get(list).post(create))
        .route("/v1/team/memberships/{id}", get(one).put(update).delete(remove))
}

fn tm_json(m: &TeamMembership, store: &Store) -> Value {
    let p = store.person(m.person);
    json!({
        "id": ids::encode(IdType::TeamMembership, &format!("{}:{}", m.person, m.team)),
        "teamId": ids::encode_uuid(IdType::Team, m.team),
        "personId": ids::encode_uuid(IdType::People, m.person),
        "personEmail": p.map(|p| p.email.clone()).unwrap_or_default(),
        "personDisplayName": p.map(|p| p.display_name.clone()).unwrap_or_default(),
        "personOrgId": store.org_id(),
        "isModerator": m.is_moderator,
        "created": iso_ms(m.created),
    })
}

fn visible_team(store: &Store, me: Uuid, id: &str) -> ApiResult<Uuid> {
    ids::uuid_of(id, IdType::Team)
        .and_then(|t| store.visible_team(me, t))
        .map(|t| t.uuid)
        .ok_or_else(ApiError::not_found)
}

async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let team_id = body.req_str("teamId")?;
    let is_moderator = body.bool("isModerator")?.unwrap_or(false);
    let mut store = call.st.store();
    let team = visible_team(&store, call.me.uuid, &team_id)?;
    let person = target_person(&mut store, &body)?;
    if store.team_membership(person, team).is_some() {
        return Err(ApiError::conflict("The person is already a member of the team."));
    }
    store.team_memberships.push(TeamMembership { person, team, is_moderator, created: now_ms() });
    if let Some(general) = store.general_room(team)
        && !store.is_member(person, general)
    {
        store.add_membership(person, general, is_moderator);
        Emitter::new(&call.st, &store, call.me.uuid).membership(person, general, "add");
    }
    let m = store.team_membership(person, team).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(tm_json(m, &store)))
}

async fn list(call: Call) -> ApiResult<Response> {
    let page = paging::page(&call, LIMITS)?;
    let team_id =
        call.q("teamId").ok_or_else(|| ApiError::bad_request("Missing required query parameter 'teamId'."))?;
    let store = call.st.store();
    let team = visible_team(&store, call.me.uuid, team_id)?;
    let items = store.team_memberships.iter().filter(|m| m.team == team).map(|m| tm_json(m, &store)).collect();
    Ok(paging::respond(&call, items, page, None))
}

fn visible(store: &Store, me: Uuid, id: &str) -> ApiResult<(Uuid, Uuid)> {
    let (person, team) = ids::uuid_pair_of(id, IdType::TeamMembership).ok_or_else(ApiError::not_found)?;
    if store.team_membership(me, team).is_none() || store.team_membership(person, team).is_none() {
        return Err(ApiError::not_found());
    }
    Ok((person, team))
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let store = call.st.store();
    let (person, team) = visible(&store, call.me.uuid, &id)?;
    let m = store.team_membership(person, team).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(tm_json(m, &store)))
}

async fn update(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let is_moderator = body.bool("isModerator")?.ok_or_else(|| ApiError::missing("isModerator"))?;
    let mut store = call.st.store();
    let (person, team) = visible(&store, call.me.uuid, &id)?;
    if let Some(m) = store.team_memberships.iter_mut().find(|m| m.person == person && m.team == team) {
        m.is_moderator = is_moderator;
    }
    let m = store.team_membership(person, team).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(tm_json(m, &store)))
}

/// Leaving a team also leaves all of its rooms.
async fn remove(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let mut store = call.st.store();
    let (person, team) = visible(&store, call.me.uuid, &id)?;
    store.team_memberships.retain(|m| !(m.person == person && m.team == team));
    let rooms: Vec<Uuid> = store
        .rooms
        .iter()
        .filter(|r| r.team == Some(team) && store.is_member(person, r.uuid))
        .map(|r| r.uuid)
        .collect();
    store.memberships.retain(|m| !(m.person == person && rooms.contains(&m.room)));
    let emit = Emitter::new(&call.st, &store, call.me.uuid);
    for r in rooms {
        emit.membership(person, r, "leave");
    }
    Ok(no_content())
}
