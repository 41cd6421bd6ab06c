//! `POST /v1/messages`: JSON or multipart/form-data (file in a part named `files`).

use axum::body::{Body as HttpBody, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::activities::Emitter;
use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok};
use crate::ids::{self, IdType};
use crate::markdown::{self, Rendered};
use crate::routes::messages::message_json;
use crate::routes::rooms::visible_room_uuid;
use crate::state::Call;
use crate::store::{Content, Message, Room, Store};
use crate::time::now_ms;

/// Text and markdown limit (spec: 7439 bytes).
const MAX_TEXT: usize = 7439;
const CARD_TYPE: &str = "application/vnd.microsoft.card.adaptive";

/// A file uploaded in the `files` part.
struct Upload {
    filename: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// Renders markdown, resolving mentions against the people the sandbox knows.
pub(crate) fn render_markdown(store: &Store, md: &str) -> Rendered {
    let resolve = |kind: &str, value: &str| {
        let p = match kind {
            "personEmail" => store.person_by_email(value),
            "personId" => ids::uuid_of(value, IdType::People).and_then(|u| store.person(u)),
            _ => None,
        }?;
        Some((p.id(), p.display_name.clone()))
    };
    markdown::render(md, &resolve)
}

pub(crate) async fn create(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (body, upload) =
        if is_multipart { parse_multipart(&headers, bytes).await? } else { (Body::parse(&headers, &bytes)?, None) };
    let hydra = call.st.hydra();
    let mut store = call.st.store();
    let v = post(&mut store, &call, &body, upload, &hydra)?;
    Ok(json_ok(v))
}

async fn parse_multipart(headers: &HeaderMap, bytes: Bytes) -> ApiResult<(Body, Option<Upload>)> {
    let mut req = Request::new(HttpBody::from(bytes));
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        req.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
    }
    let bad = |_| ApiError::bad_request("Malformed multipart/form-data body.");
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|_| ApiError::bad_request("Malformed multipart/form-data body."))?;
    let mut body = Body::default();
    let mut upload = None;
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        match (name.as_str(), field.file_name().map(str::to_string)) {
            ("files", Some(filename)) => {
                if upload.is_some() {
                    return Err(ApiError::invalid("files", "only one file is allowed per message"));
                }
                let content_type =
                    field.content_type().map(str::to_string).unwrap_or_else(|| guess_type(&filename).into());
                let bytes = field.bytes().await.map_err(bad)?.to_vec();
                upload = Some(Upload { filename, content_type, bytes });
            }
            // A `files` part without a filename carries a URL, as in a JSON body.
            ("files", None) => {
                let url = field.text().await.map_err(bad)?;
                body.0.insert("files".into(), json!([url]));
            }
            _ => {
                let text = field.text().await.map_err(bad)?;
                body.0.insert(name, Value::String(text));
            }
        }
    }
    Ok((body, upload))
}

fn guess_type(filename: &str) -> &'static str {
    let ext = filename.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// Validates and stores a message; answers the Message object.
fn post(store: &mut Store, call: &Call, body: &Body, upload: Option<Upload>, hydra: &str) -> ApiResult<Value> {
    let me = call.me.uuid;
    let (room_id, to_id, to_email) = (body.str("roomId")?, body.str("toPersonId")?, body.str("toPersonEmail")?);
    let targets = [&room_id, &to_id, &to_email].iter().filter(|t| t.is_some()).count();
    if targets != 1 {
        return Err(ApiError::bad_request("Exactly one of 'roomId', 'toPersonId' or 'toPersonEmail' is required."));
    }
    let (text, md) = (body.str("text")?, body.str("markdown")?);
    for (k, v) in [("text", &text), ("markdown", &md)] {
        if v.as_ref().is_some_and(|s| s.len() > MAX_TEXT) {
            return Err(ApiError::invalid(k, "longer than 7439 bytes"));
        }
    }
    let files = match body.get("files") {
        None => Vec::new(),
        Some(Value::Array(a)) if a.len() == 1 && a[0].is_string() => vec![a[0].as_str().unwrap_or("").to_string()],
        Some(_) => return Err(ApiError::invalid("files", "expected an array with exactly one URL")),
    };
    if !files.is_empty() && upload.is_some() {
        return Err(ApiError::invalid("files", "only one file is allowed per message"));
    }
    let attachments = match body.get("attachments") {
        None => Vec::new(),
        Some(Value::Array(a)) if a.len() <= 1 => a.clone(),
        Some(Value::Array(_)) => return Err(ApiError::invalid("attachments", "only one card is allowed per message")),
        Some(_) => return Err(ApiError::invalid("attachments", "expected an array")),
    };
    for a in &attachments {
        if a.get("contentType").and_then(Value::as_str) != Some(CARD_TYPE)
            || !a.get("content").is_some_and(Value::is_object)
        {
            return Err(ApiError::invalid(
                "attachments",
                "expected {contentType: \"application/vnd.microsoft.card.adaptive\", content: {...}}",
            ));
        }
    }
    if text.is_none() && md.is_none() && files.is_empty() && upload.is_none() && attachments.is_empty() {
        return Err(ApiError::bad_request("A message needs 'text', 'markdown', 'files' or 'attachments'."));
    }

    let mut new_direct = None;
    let room = match &room_id {
        Some(id) => visible_room_uuid(store, me, id).ok_or_else(ApiError::not_found)?,
        None => {
            let other = match (&to_id, &to_email) {
                (Some(id), _) => ids::uuid_of(id, IdType::People)
                    .filter(|u| store.person(*u).is_some())
                    .ok_or_else(|| ApiError::invalid("toPersonId", "no such person"))?,
                (None, Some(email)) if email.contains('@') => store.person_or_invite(email),
                _ => return Err(ApiError::invalid("toPersonEmail", "not an email address")),
            };
            if other == me {
                return Err(ApiError::bad_request("You cannot send a 1:1 message to yourself."));
            }
            let existing = store.direct_room(me, other);
            let room = direct_room(store, me, other);
            new_direct = existing.is_none().then_some(room);
            room
        }
    };
    if store.room(room).is_some_and(|r| r.is_announcement_only) && !store.moderates(me, room) {
        // The spec: "Announcement Mode where only moderators can post messages".
        return Err(ApiError::forbidden("Only moderators may post in this space: it is in announcement mode."));
    }
    let parent = match body.str("parentId")? {
        None => None,
        Some(pid) => {
            let p = ids::uuid_of(&pid, IdType::Message).and_then(|u| store.message(u));
            let p = p
                .filter(|p| p.room == room)
                .ok_or_else(|| ApiError::invalid("parentId", "no such message in this room"))?;
            if p.parent.is_some() {
                return Err(ApiError::invalid("parentId", "cannot reply to a reply"));
            }
            Some(p.uuid)
        }
    };

    let uuid = Uuid::new_v4();
    let mut files = files;
    if let Some(up) = upload {
        let key = format!("{uuid}/0");
        files.push(format!("{hydra}/contents/{}", ids::encode(IdType::Content, &key)));
        store.contents.push(Content {
            key,
            room,
            filename: up.filename,
            content_type: up.content_type,
            bytes: up.bytes,
        });
    }
    let rendered = md.as_deref().map(|m| render_markdown(store, m));
    let now = now_ms();
    let (html, text, people, groups) = match rendered {
        Some(r) => (Some(r.html), text.or(Some(r.text)), r.mentioned_people, r.mentioned_groups),
        None => (None, text, Vec::new(), Vec::new()),
    };
    let seq = store.seq();
    store.messages.push(Message {
        uuid,
        seq,
        room,
        parent,
        author: me,
        text,
        markdown: md,
        html,
        files,
        attachments,
        mentioned_people: people,
        mentioned_groups: groups,
        created: now,
        updated: None,
        edits: 0,
    });
    if let Some(r) = store.rooms.iter_mut().find(|r| r.uuid == room) {
        r.last_activity = now;
    }
    let emit = Emitter::new(&call.st, store, me);
    if let Some(r) = new_direct {
        emit.room_created(r);
    }
    emit.message_posted(uuid);
    let m = store.messages.last().ok_or_else(ApiError::not_found)?;
    let mut v = message_json(m, store);
    // The POST answer echoes how a 1:1 message was addressed (Message schema fields).
    if let Some(o) = v.as_object_mut() {
        if let Some(id) = to_id {
            o.insert("toPersonId".into(), id.into());
        }
        if let Some(email) = to_email {
            o.insert("toPersonEmail".into(), email.into());
        }
    }
    Ok(v)
}

/// The 1:1 room of `me` and `other`, created on first use.
fn direct_room(store: &mut Store, me: Uuid, other: Uuid) -> Uuid {
    if let Some(r) = store.direct_room(me, other) {
        return r;
    }
    let now = now_ms();
    let uuid = store.create_room(
        Room {
            uuid: Uuid::new_v4(),
            title: String::new(),
            direct: true,
            is_locked: false,
            team: None,
            creator: me,
            created: now,
            last_activity: now,
            classification_id: None,
            description: None,
            is_announcement_only: false,
            is_read_only: false,
            is_public: false,
            made_public: None,
        },
        false,
    );
    store.add_membership(other, uuid, false);
    uuid
}
