//! `/v1/messages`: reading, editing and deleting messages (posting is in `message_post`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;
use uuid::Uuid;

use crate::activities::Emitter;
use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok, no_content};
use crate::ids::{self, IdType, UuidId};
use crate::paging::{self, Limits};
use crate::routes::message_post::{self, render_markdown};
use crate::routes::rooms::visible_room_uuid;
use crate::state::{AppState, Call};
use crate::store::{Message, Store};
use crate::time::{self, iso_ms, now_ms};

const LIMITS: Limits = Limits { default: 50, limit: 1000, strict: false };
/// "Cannot exceed 100 if used with `mentionedPeople`" (spec).
const MENTION_LIMITS: Limits = Limits { default: 50, limit: 100, strict: false };
/// The cloud allows 10 edits per message.
const MAX_EDITS: u32 = 10;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", get(list).post(message_post::create))
        .route("/v1/messages/", get(list).post(message_post::create))
        .route("/v1/messages/direct", get(direct))
        .route("/v1/messages/{id}", get(one).put(update).delete(remove))
}

/// The Message object (the ListMessage shape: what GET answers).
pub(crate) fn message_json(m: &Message, store: &Store) -> Value {
    // Serializing plain strings and ids cannot fail.
    serde_json::to_value(MessageView::of(m, store)).unwrap_or_default()
}

/// A message as the cloud shows it, serialized straight from the store: a listing writes a
/// page of a thousand of these without building a JSON tree for each (which was most of a
/// page's cost). Members in the order the cloud sends them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageView<'a> {
    id: UuidId,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<UuidId>,
    room_id: UuidId,
    room_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    html: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    files: &'a [String],
    person_id: UuidId,
    person_email: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    mentioned_people: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    mentioned_groups: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    attachments: &'a [Value],
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
}

impl<'a> MessageView<'a> {
    pub(crate) fn of(m: &'a Message, store: &'a Store) -> MessageView<'a> {
        let direct = store.room(m.room).is_some_and(|r| r.direct);
        MessageView {
            id: UuidId(IdType::Message, m.uuid),
            parent_id: m.parent.map(|p| UuidId(IdType::Message, p)),
            room_id: UuidId(IdType::Room, m.room),
            room_type: if direct { "direct" } else { "group" },
            text: m.text.as_deref(),
            markdown: m.markdown.as_deref(),
            html: m.html.as_deref(),
            files: &m.files,
            person_id: UuidId(IdType::People, m.author),
            person_email: store.person(m.author).map_or("", |p| p.email.as_str()),
            mentioned_people: &m.mentioned_people,
            mentioned_groups: &m.mentioned_groups,
            attachments: &m.attachments,
            created: iso_ms(m.created),
            updated: m.updated.map(iso_ms),
        }
    }
}

/// The message behind an id, if `me` is in its room.
pub(crate) fn visible_message<'a>(store: &'a Store, me: Uuid, id: &str) -> Option<&'a Message> {
    let uuid = ids::uuid_of(id, IdType::Message)?;
    let m = store.message(uuid)?;
    store.is_member(me, m.room).then_some(m)
}

async fn list(call: Call) -> ApiResult<Response> {
    let room_id =
        call.q("roomId").ok_or_else(|| ApiError::bad_request("Missing required query parameter 'roomId'."))?;
    let mentioned = call.q("mentionedPeople");
    let page = paging::page(&call, if mentioned.is_some() { MENTION_LIMITS } else { LIMITS })?;
    let store = call.st.store();
    let room = visible_room_uuid(&store, call.me.uuid, room_id).ok_or_else(ApiError::not_found)?;
    let my_id = call.me.id();
    if let Some(m) = mentioned
        && m.split(',').any(|p| p.trim() != "me" && ids::uuid_of(p, IdType::People) != Some(call.me.uuid))
    {
        return Err(ApiError::invalid("mentionedPeople", "only 'me' or your own person id may be given"));
    }
    let parent = match call.q("parentId") {
        None => None,
        Some(p) => {
            Some(ids::uuid_of(p, IdType::Message).ok_or_else(|| ApiError::invalid("parentId", "not a message id"))?)
        }
    };
    let before = match call.q("before") {
        None => None,
        Some(b) => Some(time::parse(b).ok_or_else(|| ApiError::invalid("before", "not an ISO 8601 date"))?),
    };
    let before_seq = match call.q("beforeMessage") {
        None => None,
        Some(id) => {
            let m =
                visible_message(&store, call.me.uuid, id).filter(|m| m.room == room).ok_or_else(ApiError::not_found)?;
            Some(m.seq)
        }
    };
    let mut msgs: Vec<&Message> = store
        .messages
        .iter()
        .filter(|m| m.room == room)
        .filter(|m| parent.is_none_or(|p| m.parent == Some(p)))
        .filter(|m| mentioned.is_none() || m.mentioned_people.contains(&my_id))
        .filter(|m| before.is_none_or(|b| m.created < b))
        .filter(|m| before_seq.is_none_or(|s| m.seq < s))
        .collect();
    msgs.sort_by_key(|m| std::cmp::Reverse(m.seq));
    // Render only the page: a long room's listing must not cost every message per page.
    let total = msgs.len();
    let items: Vec<MessageView<'_>> =
        msgs[paging::window(total, page)].iter().map(|m| MessageView::of(m, &store)).collect();
    Ok(paging::respond_window(&call, &items, total, page, None))
}

async fn direct(call: Call) -> ApiResult<Response> {
    let page = paging::page(&call, LIMITS)?;
    let store = call.st.store();
    let person = match (call.q("personId"), call.q("personEmail")) {
        (Some(id), _) => ids::uuid_of(id, IdType::People).and_then(|u| store.person(u)),
        (None, Some(email)) => store.person_by_email(email),
        (None, None) => {
            return Err(ApiError::bad_request("Missing required query parameter: one of 'personId' or 'personEmail'."));
        }
    }
    .ok_or_else(ApiError::not_found)?;
    let parent = match call.q("parentId") {
        None => None,
        Some(p) => {
            Some(ids::uuid_of(p, IdType::Message).ok_or_else(|| ApiError::invalid("parentId", "not a message id"))?)
        }
    };
    let room = store.direct_room(call.me.uuid, person.uuid);
    let mut msgs: Vec<&Message> = store
        .messages
        .iter()
        .filter(|m| Some(m.room) == room)
        .filter(|m| parent.is_none_or(|p| m.parent == Some(p)))
        .collect();
    msgs.sort_by_key(|m| std::cmp::Reverse(m.seq));
    let items = msgs.into_iter().map(|m| message_json(m, &store)).collect();
    Ok(paging::respond(&call, items, page, None))
}

async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let store = call.st.store();
    let m = visible_message(&store, call.me.uuid, &id).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(message_json(m, &store)))
}

/// Editing emits no Mercury activity (guess): the real cloud's edit activity is unknown, and
/// the JS SDK (3.12) has no message-updated event — any `post`-shaped activity would make it
/// re-GET a message id that does not exist and fail with an unhandled rejection.
async fn update(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let room_id = body.req_str("roomId")?;
    let (text, markdown) = (body.str("text")?, body.str("markdown")?);
    if body.get("html").is_some() {
        return Err(ApiError::invalid("html", "must not be sent; it is derived from markdown"));
    }
    if text.is_none() && markdown.is_none() {
        return Err(ApiError::missing("text"));
    }
    let mut store = call.st.store();
    let m = visible_message(&store, call.me.uuid, &id).ok_or_else(ApiError::not_found)?;
    if ids::uuid_of(&room_id, IdType::Room) != Some(m.room) {
        return Err(ApiError::invalid("roomId", "does not match the message's room"));
    }
    if m.author != call.me.uuid {
        return Err(ApiError::forbidden("Only the author may edit a message."));
    }
    if !m.files.is_empty() || !m.attachments.is_empty() {
        return Err(ApiError::bad_request("Messages with files or attachments cannot be edited."));
    }
    if m.edits >= MAX_EDITS {
        return Err(ApiError::bad_request("A message can be edited at most 10 times."));
    }
    let uuid = m.uuid;
    let rendered = markdown.as_deref().map(|md| render_markdown(&store, md));
    let m = store.message_mut(uuid).ok_or_else(ApiError::not_found)?;
    match rendered {
        Some(r) => {
            m.text = Some(text.unwrap_or(r.text));
            m.html = Some(r.html);
            m.mentioned_people = r.mentioned_people;
            m.mentioned_groups = r.mentioned_groups;
        }
        None => {
            m.text = text;
            m.html = None;
            m.mentioned_people.clear();
            m.mentioned_groups.clear();
        }
    }
    m.markdown = markdown;
    m.updated = Some(now_ms());
    m.edits += 1;
    let m = store.message(uuid).ok_or_else(ApiError::not_found)?;
    Ok(json_ok(message_json(m, &store)))
}

/// The author or a room moderator may delete a message; replies stay.
async fn remove(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let mut store = call.st.store();
    let m = visible_message(&store, call.me.uuid, &id).ok_or_else(ApiError::not_found)?;
    let moderator = store.membership(call.me.uuid, m.room).is_some_and(|x| x.is_moderator);
    if m.author != call.me.uuid && !moderator {
        return Err(ApiError::forbidden("Only the author or a moderator may delete a message."));
    }
    let (uuid, room) = (m.uuid, m.room);
    store.messages.retain(|m| m.uuid != uuid);
    let prefix = format!("{uuid}/");
    store.contents.retain(|c| !c.key.starts_with(&prefix));
    Emitter::new(&call.st, &store, call.me.uuid).message_deleted(uuid, room);
    Ok(no_content())
}
