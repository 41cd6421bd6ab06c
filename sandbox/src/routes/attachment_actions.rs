//! `/v1/attachment/actions`: adaptive-card submissions.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::activities::Emitter;
use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok};
use crate::ids::{self, IdType};
use crate::routes::messages::visible_message;
use crate::state::{AppState, Call};
use crate::store::AttachmentAction;
use crate::time::{iso_ms, now_ms};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/attachment/actions", post(create)).route("/v1/attachment/actions/{id}", get(one))
}

fn action_json(a: &AttachmentAction) -> Value {
    json!({
        "id": ids::encode_uuid(IdType::AttachmentAction, a.uuid),
        "personId": ids::encode_uuid(IdType::People, a.person),
        "roomId": ids::encode_uuid(IdType::Room, a.room),
        "type": "submit",
        "messageId": ids::encode_uuid(IdType::Message, a.message),
        "inputs": a.inputs,
        "created": iso_ms(a.created),
    })
}

/// Answers 200 although the spec says 202: the official Python SDK accepts only 200 for a
/// POST, and it is used against the real cloud (so 200 is what the cloud sends; guess).
async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    if body.req_str("type")? != "submit" {
        return Err(ApiError::invalid("type", "must be 'submit'"));
    }
    let message_id = body.req_str("messageId")?;
    let inputs = match body.get("inputs") {
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(ApiError::invalid("inputs", "expected an object")),
        None => return Err(ApiError::missing("inputs")),
    };
    let mut store = call.st.store();
    let m = visible_message(&store, call.me.uuid, &message_id)
        .ok_or_else(|| ApiError::invalid("messageId", "no such message"))?;
    let a = AttachmentAction {
        uuid: Uuid::new_v4(),
        person: call.me.uuid,
        room: m.room,
        message: m.uuid,
        inputs,
        created: now_ms(),
    };
    let v = action_json(&a);
    Emitter::new(&call.st, &store, call.me.uuid).card_action(&a);
    store.actions.push(a);
    Ok(json_ok(v))
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let uuid = ids::uuid_of(&id, IdType::AttachmentAction).ok_or_else(ApiError::not_found)?;
    let store = call.st.store();
    let a = store
        .actions
        .iter()
        .find(|a| a.uuid == uuid && store.is_member(call.me.uuid, a.room))
        .ok_or_else(ApiError::not_found)?;
    Ok(json_ok(action_json(a)))
}
