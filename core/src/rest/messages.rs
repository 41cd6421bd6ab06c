//! Messages: `/messages` (protocol.md §1.8, OpenAPI webex-messaging "Messages"), including
//! local file uploads as `multipart/form-data` (protocol.md §1.1).

use super::rooms::RoomType;
use super::{Extra, NoParams};
use crate::boundary::operation::{Operation, call, call_id, list};
use crate::error::{Error, Result};
use crate::http::{Body, FormPart, Http, HttpRequest, Method, Pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;
use std::sync::Arc;

/// The content type of an adaptive card attachment (the only kind the cloud accepts).
pub const ADAPTIVE_CARD: &str = "application/vnd.microsoft.card.adaptive";

/// A content attachment of a message (an adaptive card).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// `application/vnd.microsoft.card.adaptive`.
    pub content_type: Option<String>,
    /// The card (`{"type": "AdaptiveCard", "version", "body", "actions"}`).
    pub content: Option<Value>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A message.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Message id.
    pub id: String,
    /// The thread's parent message, for replies.
    pub parent_id: Option<String>,
    /// The room.
    pub room_id: Option<String>,
    /// `direct` or `group`.
    pub room_type: Option<RoomType>,
    /// The recipient of a 1:1 message, by id.
    pub to_person_id: Option<String>,
    /// The recipient of a 1:1 message, by email.
    pub to_person_email: Option<String>,
    /// Plain text.
    pub text: Option<String>,
    /// Markdown.
    pub markdown: Option<String>,
    /// HTML rendering (read-only).
    pub html: Option<String>,
    /// File URLs (`<hydra>/contents/<id>`).
    pub files: Option<Vec<String>>,
    /// The author.
    pub person_id: Option<String>,
    /// The author's email.
    pub person_email: Option<String>,
    /// Ids of mentioned people.
    pub mentioned_people: Option<Vec<String>>,
    /// Mentioned groups (e.g. `all`).
    pub mentioned_groups: Option<Vec<String>>,
    /// Cards.
    pub attachments: Option<Vec<Attachment>>,
    /// When it was posted.
    pub created: Option<String>,
    /// When it was last edited (only after an edit).
    pub updated: Option<String>,
    /// Whether the file is a voice clip recorded by a client.
    pub is_voice_clip: Option<bool>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An adaptive card to attach to a new message.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CardAttachment {
    /// Content type (default `application/vnd.microsoft.card.adaptive`).
    pub content_type: Option<String>,
    /// The card: `{"type": "AdaptiveCard", "version": "1.2", "body": [...], "actions": [...]}`.
    pub content: Value,
}

/// Parameters of `messages.create`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMessage {
    /// Post into this room (or give `toPersonId` / `toPersonEmail`).
    pub room_id: Option<String>,
    /// Send 1:1 to this person id.
    pub to_person_id: Option<String>,
    /// Send 1:1 to this email.
    pub to_person_email: Option<String>,
    /// Reply in the thread of this message.
    pub parent_id: Option<String>,
    /// Plain text (the fallback when `markdown` is given).
    pub text: Option<String>,
    /// Markdown (at most 7439 bytes).
    pub markdown: Option<String>,
    /// One file: an `http(s)://` URL the cloud fetches, or a local path that is uploaded.
    pub files: Option<Vec<String>>,
    /// One adaptive card.
    pub attachments: Option<Vec<CardAttachment>>,
}

/// Parameters of `messages.list`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListMessages {
    /// The room (required; `Option` only so a missing one is a clear error).
    pub room_id: Option<String>,
    /// Only replies to this message.
    pub parent_id: Option<String>,
    /// Only messages mentioning these people (`me` or the caller's id; sent comma-joined).
    pub mentioned_people: Option<Vec<String>>,
    /// Only messages before this time (ISO 8601).
    pub before: Option<String>,
    /// Only messages before this message id.
    pub before_message: Option<String>,
    /// Page size.
    pub max: Option<u32>,
}

/// Parameters of `messages.listDirect`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListDirectMessages {
    /// The other person, by id (or give `personEmail`).
    pub person_id: Option<String>,
    /// The other person, by email (or give `personId`).
    pub person_email: Option<String>,
    /// Only replies to this message.
    pub parent_id: Option<String>,
}

/// Parameters of `messages.update` (an edit; besides `messageId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMessage {
    /// The message's room (the cloud requires it).
    pub room_id: String,
    /// New plain text.
    pub text: Option<String>,
    /// New markdown.
    pub markdown: Option<String>,
}

/// How `messages.create` sends a message.
#[derive(Debug, PartialEq)]
enum Plan {
    /// One JSON body (no file, or a file URL).
    Json(Value),
    /// `multipart/form-data` with the local file at this path.
    Upload(String),
}

fn given(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

fn is_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Validate `messages.create` params and decide between a JSON body and an upload.
fn plan(p: &CreateMessage) -> Result<Plan> {
    const OP: &str = "messages.create";
    let targets: Vec<&str> =
        [("roomId", &p.room_id), ("toPersonId", &p.to_person_id), ("toPersonEmail", &p.to_person_email)]
            .into_iter()
            .filter(|(_, v)| given(v))
            .map(|(name, _)| name)
            .collect();
    match targets.len() {
        1 => {}
        0 => {
            return Err(Error::invalid(format!(
                "{OP}: say where to send the message: give one of `roomId`, `toPersonId` or `toPersonEmail`"
            )));
        }
        _ => {
            return Err(Error::invalid(format!(
                "{OP}: give only one of `roomId`, `toPersonId` or `toPersonEmail` (got {})",
                targets.join(" and ")
            )));
        }
    }
    let files = p.files.as_deref().unwrap_or_default();
    let cards = p.attachments.as_deref().unwrap_or_default();
    if !given(&p.text) && !given(&p.markdown) && files.is_empty() && cards.is_empty() {
        return Err(Error::invalid(format!(
            "{OP}: the message is empty: give `text`, `markdown`, `files` or `attachments`"
        )));
    }
    if files.len() > 1 {
        return Err(Error::invalid(format!(
            "{OP}: `files` has {} entries but Webex takes one file per message; send the others in separate messages",
            files.len()
        )));
    }
    if cards.len() > 1 {
        return Err(Error::invalid(format!(
            "{OP}: `attachments` has {} cards but Webex takes one card per message; send the others in separate messages",
            cards.len()
        )));
    }
    match files.first() {
        Some(path) if !is_url(path) => Ok(Plan::Upload(path.clone())),
        _ => {
            let mut body = serde_json::to_value(p).map_err(|e| Error::invalid(format!("{OP}: cannot encode: {e}")))?;
            if let Value::Object(map) = &mut body {
                map.retain(|_, v| v.as_str() != Some(""));
                if files.is_empty() {
                    map.remove("files");
                }
                match attachments_json(cards) {
                    Some(cards) => map.insert("attachments".into(), cards),
                    None => map.remove("attachments"),
                };
            }
            Ok(Plan::Json(body))
        }
    }
}

/// The cards as the cloud wants them (content type filled in), or `None` without cards.
fn attachments_json(cards: &[CardAttachment]) -> Option<Value> {
    if cards.is_empty() {
        return None;
    }
    let list = cards
        .iter()
        .map(|c| {
            serde_json::json!({
                "contentType": c.content_type.as_deref().unwrap_or(ADAPTIVE_CARD),
                "content": c.content,
            })
        })
        .collect();
    Some(Value::Array(list))
}

/// Read the local file of an upload: (file name, MIME type, bytes).
async fn read_upload(path: &str) -> Result<(String, String, Arc<[u8]>)> {
    let bytes = match tokio::fs::metadata(path).await {
        Ok(meta) if meta.is_dir() => Err(std::io::Error::other("it is a directory")),
        Ok(_) => tokio::fs::read(path).await,
        Err(e) => Err(e),
    }
    .map_err(|e| {
        Error::invalid(format!(
            "messages.create: files[0] \"{path}\" is neither an http(s) URL nor a readable file ({e})"
        ))
    })?;
    let filename = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".to_owned());
    let mime = mime_guess::from_path(path).first_or_octet_stream().essence_str().to_owned();
    Ok((filename, mime, bytes.into()))
}

/// The multipart form of a message with one uploaded file.
fn form_parts(p: &CreateMessage, filename: String, mime: String, bytes: Arc<[u8]>) -> Vec<FormPart> {
    let mut parts = Vec::new();
    let fields = [
        ("roomId", &p.room_id),
        ("toPersonId", &p.to_person_id),
        ("toPersonEmail", &p.to_person_email),
        ("parentId", &p.parent_id),
        ("text", &p.text),
        ("markdown", &p.markdown),
    ];
    for (name, value) in fields {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            parts.push(FormPart::Text { name: name.to_owned(), value: value.clone() });
        }
    }
    if let Some(cards) = attachments_json(p.attachments.as_deref().unwrap_or_default()) {
        parts.push(FormPart::Text { name: "attachments".to_owned(), value: cards.to_string() });
    }
    parts.push(FormPart::File { name: "files".to_owned(), filename, mime, bytes });
    parts
}

/// `personId` xor `personEmail` for `messages.listDirect`.
fn check_direct(p: &ListDirectMessages) -> Result<()> {
    match (given(&p.person_id), given(&p.person_email)) {
        (true, false) | (false, true) => Ok(()),
        (false, false) => {
            Err(Error::invalid("messages.listDirect: name the other person with `personId` or `personEmail`"))
        }
        (true, true) => Err(Error::invalid("messages.listDirect: give only one of `personId` and `personEmail`")),
    }
}

/// An edit must change something.
fn check_update(p: &UpdateMessage) -> Result<()> {
    if p.room_id.trim().is_empty() {
        return Err(Error::invalid("messages.update: `roomId` (the message's room) is required"));
    }
    if !given(&p.text) && !given(&p.markdown) {
        return Err(Error::invalid("messages.update: give the new `text` and/or `markdown`"));
    }
    Ok(())
}

/// The messages API.
#[derive(Clone)]
pub struct Messages {
    pub(crate) http: Http,
}

impl Messages {
    /// Post a message (uploading a local file when `files` names one).
    pub async fn create(&self, params: &CreateMessage) -> Result<Message> {
        match plan(params)? {
            Plan::Json(body) => super::create(&self.http, "messages", &body).await,
            Plan::Upload(path) => {
                let (filename, mime, bytes) = read_upload(&path).await?;
                let request = HttpRequest {
                    body: Body::Multipart(form_parts(params, filename, mime, bytes)),
                    ..HttpRequest::new(Method::POST, super::hydra(&self.http, "messages")?)
                };
                self.http.send_json(request).await
            }
        }
    }

    /// List a room's messages, newest first, lazily across pages.
    pub fn list(&self, params: &ListMessages) -> Result<Pages<Message>> {
        if !given(&params.room_id) {
            return Err(Error::invalid("messages.list: `roomId` is required (the room whose messages to list)"));
        }
        super::list(&self.http, "messages", params)
    }

    /// List the 1:1 messages with one person.
    pub fn list_direct(&self, params: &ListDirectMessages) -> Result<Pages<Message>> {
        check_direct(params)?;
        super::list(&self.http, "messages/direct", params)
    }

    /// Get a message.
    pub async fn get(&self, message_id: &str) -> Result<Message> {
        super::get(&self.http, "messages", "messageId", message_id).await
    }

    /// Edit a message's text or markdown.
    pub async fn update(&self, message_id: &str, params: &UpdateMessage) -> Result<Message> {
        check_update(params)?;
        super::update(&self.http, Method::PUT, "messages", "messageId", message_id, params).await
    }

    /// Delete a message.
    pub async fn delete(&self, message_id: &str) -> Result<()> {
        super::delete(&self.http, "messages", "messageId", message_id, &NoParams {}).await
    }
}

/// The messages rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call(
            "messages.create",
            "Post a message to a room or a person (text, markdown, one file URL or local path, one card).",
            |c, p: CreateMessage| async move { c.messages().create(&p).await },
        ),
        list("messages.list", "List a room's messages, newest first.", |c, p: ListMessages| c.messages().list(&p)),
        list("messages.listDirect", "List the 1:1 messages with one person.", |c, p: ListDirectMessages| {
            c.messages().list_direct(&p)
        }),
        call_id("messages.get", "messageId", "Get a message.", |c, id, _: NoParams| async move {
            c.messages().get(&id).await
        }),
        call_id(
            "messages.update",
            "messageId",
            "Edit a message's text or markdown.",
            |c, id, p: UpdateMessage| async move { c.messages().update(&id, &p).await },
        ),
        call_id("messages.delete", "messageId", "Delete a message.", |c, id, _: NoParams| async move {
            c.messages().delete(&id).await
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> CreateMessage {
        serde_json::from_value(v).unwrap()
    }

    fn err(v: Value) -> String {
        plan(&params(v)).unwrap_err().message
    }

    #[test]
    fn decodes_and_keeps_unknowns() {
        let m: Message = serde_json::from_value(json!({
            "id": "Y2lzY29zcGFyazovL3VzL01FU1NBR0UvMA",
            "parentId": "p0",
            "roomId": "r1",
            "roomType": "channel",
            "text": "PROJECT UPDATE - A new project plan has been published",
            "markdown": "**PROJECT UPDATE**",
            "html": "<p><strong>PROJECT UPDATE</strong></p>",
            "files": ["https://webexapis.com/v1/contents/Y2lz"],
            "personId": "p1",
            "personEmail": "matt@example.com",
            "mentionedPeople": ["a", "b"],
            "mentionedGroups": ["all"],
            "attachments": [{"contentType": ADAPTIVE_CARD, "content": {"type": "AdaptiveCard"}, "id": "x"}],
            "created": "2015-10-18T14:26:16+00:00",
            "updated": "2015-10-18T14:27:16+00:00",
            "isVoiceClip": false,
            "reactions": {"thumbsup": 2}
        }))
        .unwrap();
        assert_eq!(m.room_type, Some(RoomType::Other("channel".into())));
        assert_eq!(m.extra["reactions"]["thumbsup"], 2);
        let card = &m.attachments.as_ref().unwrap()[0];
        assert_eq!(card.content.as_ref().unwrap()["type"], "AdaptiveCard");
        assert_eq!(card.extra["id"], "x");
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(back["roomType"], "channel");
        assert_eq!(back["reactions"]["thumbsup"], 2);
    }

    #[test]
    fn destination_must_be_exactly_one() {
        let none = err(json!({"text": "hi"}));
        assert!(none.contains("give one of `roomId`, `toPersonId` or `toPersonEmail`"), "{none}");
        let two = err(json!({"roomId": "r", "toPersonEmail": "a@x", "text": "hi"}));
        assert!(two.contains("only one of") && two.contains("roomId and toPersonEmail"), "{two}");
    }

    #[test]
    fn message_must_not_be_empty() {
        let e = err(json!({"roomId": "r"}));
        assert!(e.contains("empty") && e.contains("`text`, `markdown`, `files` or `attachments`"), "{e}");
        let e = err(json!({"roomId": "r", "text": "", "files": [], "attachments": []}));
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn at_most_one_file_and_one_card() {
        let e = err(json!({"roomId": "r", "files": ["https://a/1.png", "https://a/2.png"]}));
        assert!(e.contains("`files` has 2 entries") && e.contains("one file per message"), "{e}");
        let e = err(json!({"roomId": "r", "attachments": [{"content": {}}, {"content": {}}]}));
        assert!(e.contains("one card per message"), "{e}");
    }

    #[test]
    fn urls_go_in_json_and_cards_get_a_content_type() {
        let p = params(json!({
            "toPersonEmail": "a@example.com",
            "text": "see",
            "files": ["HTTPS://example.com/a.png"],
            "attachments": [{"content": {"type": "AdaptiveCard", "version": "1.2"}}]
        }));
        let Plan::Json(body) = plan(&p).unwrap() else { panic!("expected JSON") };
        assert_eq!(
            body,
            json!({
                "toPersonEmail": "a@example.com",
                "text": "see",
                "files": ["HTTPS://example.com/a.png"],
                "attachments": [{"contentType": ADAPTIVE_CARD, "content": {"type": "AdaptiveCard", "version": "1.2"}}]
            })
        );
        let Plan::Json(body) = plan(&params(json!({"roomId": "r", "text": "t", "files": []}))).unwrap() else {
            panic!("expected JSON")
        };
        assert_eq!(body, json!({"roomId": "r", "text": "t"}));
    }

    #[test]
    fn local_paths_are_uploaded() {
        for path in ["./report.pdf", "/tmp/x.png", "C:\\x.txt", "httpfile.txt", "ftp://x/y"] {
            let p = params(json!({"roomId": "r", "files": [path]}));
            assert_eq!(plan(&p).unwrap(), Plan::Upload(path.to_owned()), "{path}");
        }
    }

    #[tokio::test]
    async fn unreadable_paths_are_named() {
        let e = read_upload("/definitely/not/here.png").await.unwrap_err();
        assert!(
            e.message.starts_with(
                "messages.create: files[0] \"/definitely/not/here.png\" is neither an http(s) URL nor a readable file ("
            ),
            "{}",
            e.message
        );
        let dir = std::env::temp_dir();
        let e = read_upload(dir.to_str().unwrap()).await.unwrap_err();
        assert!(e.message.contains("directory"), "{}", e.message);
    }

    #[tokio::test]
    async fn upload_form_has_text_parts_and_one_file() {
        let path = std::env::temp_dir().join(format!("webex-core-upload-{}.png", std::process::id()));
        tokio::fs::write(&path, b"\x89PNG").await.unwrap();
        let path_str = path.to_str().unwrap().to_owned();
        let p = params(json!({
            "roomId": "r", "parentId": "m0", "markdown": "**hi**",
            "files": [path_str], "attachments": [{"content": {"type": "AdaptiveCard"}}]
        }));
        assert_eq!(plan(&p).unwrap(), Plan::Upload(path_str.clone()));
        let (filename, mime, bytes) = read_upload(&path_str).await.unwrap();
        let _ = tokio::fs::remove_file(&path).await;
        assert_eq!(mime, "image/png");
        let parts = form_parts(&p, filename.clone(), mime, bytes);
        let texts: Vec<(String, String)> = parts
            .iter()
            .filter_map(|part| match part {
                FormPart::Text { name, value } => Some((name.clone(), value.clone())),
                FormPart::File { .. } => None,
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                ("roomId".into(), "r".into()),
                ("parentId".into(), "m0".into()),
                ("markdown".into(), "**hi**".into()),
                (
                    "attachments".into(),
                    json!([{"contentType": ADAPTIVE_CARD, "content": {"type": "AdaptiveCard"}}]).to_string()
                ),
            ]
        );
        match parts.last().unwrap() {
            FormPart::File { name, filename: f, mime, bytes } => {
                assert_eq!((name.as_str(), f.as_str(), mime.as_str()), ("files", filename.as_str(), "image/png"));
                assert_eq!(&bytes[..], b"\x89PNG");
            }
            other => panic!("expected a file part, got {other:?}"),
        }
    }

    #[test]
    fn direct_and_update_checks() {
        assert!(
            check_direct(&ListDirectMessages::default()).unwrap_err().message.contains("`personId` or `personEmail`")
        );
        check_direct(&ListDirectMessages { person_email: Some("a@x".into()), ..Default::default() }).unwrap();
        let e = check_update(&UpdateMessage { room_id: "r".into(), ..Default::default() }).unwrap_err();
        assert!(e.message.contains("`text` and/or `markdown`"), "{}", e.message);
        let p: ListMessages = serde_json::from_value(json!({"roomId": "r", "mentionedPeople": ["me"]})).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"roomId": "r", "mentionedPeople": ["me"]}));
    }
}
