//! Which meeting a meetingInfo key or a `/loci/call` invitee address names: a scheduled
//! meeting (`/v1/meetings`: meetingNumber, webLink, sipAddress) or a space's own meeting
//! (the numbers `GET /v1/rooms/{id}/meetingInfo` answers).

use serde_json::Value;
use uuid::Uuid;

use super::PersonRef;
use crate::errors::{ApiError, ApiResult};
use crate::routes::rooms::space_meeting;
use crate::store::Store;

/// What a locus needs to know about its meeting.
#[derive(Clone, Debug)]
pub(crate) struct MeetingRef {
    pub number: String,
    /// SIP address without a `sip:` prefix.
    pub sip: String,
    pub link: String,
    pub title: String,
    pub host: PersonRef,
    /// A scheduled meeting's host key: `moderator: true` + `pin` = this claims the host role.
    pub host_key: Option<String>,
    /// The space of a space meeting: members only, and it carries a `conversationUrl`.
    pub room: Option<Uuid>,
}

/// How a meeting is named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Number(String),
    Link(String),
    Sip(String),
    Room(Uuid),
}

impl Key {
    /// A meeting number with spaces and dashes dropped (as people write them).
    pub fn number(raw: &str) -> Key {
        Key::Number(raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect())
    }

    /// A SIP address, `sip:` prefix optional.
    pub fn sip(raw: &str) -> Key {
        let t = raw.trim();
        Key::Sip(t.strip_prefix("sip:").unwrap_or(t).to_lowercase())
    }

    /// A `/loci/call` invitee address: `wbxmn:<number>`, a SIP address (with or without
    /// `sip:`), a meeting link, or bare digits.
    pub fn address(raw: &str) -> Option<Key> {
        let t = raw.trim();
        if let Some(n) = t.strip_prefix("wbxmn:") {
            return Some(Key::number(n));
        }
        if t.starts_with("http://") || t.starts_with("https://") {
            return Some(Key::Link(t.to_string()));
        }
        if t.contains('@') {
            return Some(Key::sip(t));
        }
        let k = Key::number(t);
        matches!(&k, Key::Number(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())).then_some(k)
    }

    /// The room of a conversation URL (`.../conversations/<uuid>`).
    pub fn conversation(url: &str) -> Option<Key> {
        let path = url.trim().trim_end_matches('/');
        let (head, last) = path.rsplit_once('/')?;
        if !head.ends_with("/conversations") {
            return None;
        }
        Uuid::parse_str(last).ok().map(Key::Room)
    }
}

/// The meeting `key` names, as `me` may join it: 404 when nothing matches, 403 for a space
/// meeting of a space `me` is not a member of.
pub(crate) fn resolve(store: &Store, key: &Key, me: Uuid) -> ApiResult<MeetingRef> {
    if let Some(m) = scheduled(store, key) {
        return Ok(m);
    }
    let room = store.rooms.iter().find(|r| {
        let s = space_meeting(r.uuid);
        match key {
            Key::Number(n) => s.number == *n,
            Key::Link(l) => s.link == *l,
            Key::Sip(a) => s.sip_address.eq_ignore_ascii_case(a),
            Key::Room(u) => r.uuid == *u,
        }
    });
    let r = room.ok_or_else(ApiError::not_found)?;
    if !store.is_member(me, r.uuid) {
        return Err(ApiError::forbidden("Only members of the space may join its meeting."));
    }
    let s = space_meeting(r.uuid);
    let host = store.person(r.creator).map(PersonRef::from).ok_or_else(ApiError::not_found)?;
    Ok(MeetingRef {
        number: s.number,
        sip: s.sip_address,
        link: s.link,
        title: r.title.clone(),
        host,
        host_key: None,
        room: Some(r.uuid),
    })
}

/// A scheduled meeting (anyone with its number, link or address may join: the sandbox has
/// no invitee lists or lobby).
fn scheduled(store: &Store, key: &Key) -> Option<MeetingRef> {
    let field = |m: &crate::store::Meeting, k: &str| m.fields.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let m = store.meetings.iter().find(|m| match key {
        Key::Number(n) => field(m, "meetingNumber") == *n,
        Key::Link(l) => field(m, "webLink") == *l,
        Key::Sip(a) => field(m, "sipAddress").eq_ignore_ascii_case(a),
        Key::Room(_) => false,
    })?;
    Some(MeetingRef {
        number: field(m, "meetingNumber"),
        sip: field(m, "sipAddress"),
        link: field(m, "webLink"),
        title: field(m, "title"),
        host: store.person(m.host).map(PersonRef::from)?,
        host_key: m.fields.get("hostKey").and_then(Value::as_str).map(str::to_string),
        room: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_conversation_urls_parse() {
        assert_eq!(Key::address("wbxmn:2123 456-789"), Some(Key::Number("2123456789".into())));
        assert_eq!(Key::address("sip:2123@Sandbox.webex.com"), Some(Key::Sip("2123@sandbox.webex.com".into())));
        assert_eq!(Key::address("2123@sandbox.webex.com"), Some(Key::Sip("2123@sandbox.webex.com".into())));
        assert_eq!(Key::address("https://x/m/1"), Some(Key::Link("https://x/m/1".into())));
        assert_eq!(Key::address("212 345"), Some(Key::Number("212345".into())));
        assert_eq!(Key::address("nonsense"), None);
        let u = Uuid::new_v4();
        assert_eq!(Key::conversation(&format!("http://h/conversation/api/v1/conversations/{u}/")), Some(Key::Room(u)));
        assert_eq!(Key::conversation(&format!("http://h/rooms/{u}")), None);
        assert_eq!(Key::conversation("http://h/conversations/nope"), None);
    }
}
