//! Hydra ids: base64 of `ciscospark://<cluster>/<TYPE>/<payload>` (protocol.md §1.2).
//!
//! Ids are emitted URL-safe without padding (what the JS SDK computes locally, so ids compare
//! equal) and accepted padded or unpadded in either alphabet (the Rust crate pads).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The `<TYPE>` part of a hydra id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdType {
    /// A person (`PEOPLE`).
    People,
    /// A room/space (`ROOM`).
    Room,
    /// A message (`MESSAGE`).
    Message,
    /// A room membership, payload `<personUuid>:<roomUuid>`.
    Membership,
    /// A team (`TEAM`).
    Team,
    /// A team membership, payload `<personUuid>:<teamUuid>` (as in the spec examples).
    TeamMembership,
    /// A webhook (`WEBHOOK`).
    Webhook,
    /// An adaptive-card submission (`ATTACHMENT_ACTION`).
    AttachmentAction,
    /// An uploaded file, payload `<messageUuid>/<index>`.
    Content,
    /// An organization (`ORGANIZATION`).
    Organization,
    /// An integration/bot application (`APPLICATION`); used for webhook `appId`.
    Application,
}

impl IdType {
    /// Every type, in declaration order.
    #[cfg(test)]
    pub const ALL: [IdType; 11] = [
        IdType::People,
        IdType::Room,
        IdType::Message,
        IdType::Membership,
        IdType::Team,
        IdType::TeamMembership,
        IdType::Webhook,
        IdType::AttachmentAction,
        IdType::Content,
        IdType::Organization,
        IdType::Application,
    ];

    /// The type name as it appears inside the id.
    pub fn as_str(self) -> &'static str {
        match self {
            IdType::People => "PEOPLE",
            IdType::Room => "ROOM",
            IdType::Message => "MESSAGE",
            IdType::Membership => "MEMBERSHIP",
            IdType::Team => "TEAM",
            IdType::TeamMembership => "TEAM_MEMBERSHIP",
            IdType::Webhook => "WEBHOOK",
            IdType::AttachmentAction => "ATTACHMENT_ACTION",
            IdType::Content => "CONTENT",
            IdType::Organization => "ORGANIZATION",
            IdType::Application => "APPLICATION",
        }
    }
}

/// Builds the hydra id of `payload` (always cluster `us`, URL-safe, unpadded).
pub fn encode(kind: IdType, payload: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("ciscospark://us/{}/{payload}", kind.as_str()))
}

/// Builds the hydra id of a plain uuid.
pub fn encode_uuid(kind: IdType, uuid: Uuid) -> String {
    with_uuid_id(kind, uuid, str::to_owned)
}

/// The hydra id of a plain uuid, serialized without building a `String`: a page of a thousand
/// messages carries three thousand ids, and formatting each through two heap strings was a
/// fifth of a listing's cost.
#[derive(Clone, Copy, Debug)]
pub struct UuidId(pub IdType, pub Uuid);

impl serde::Serialize for UuidId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        with_uuid_id(self.0, self.1, |id| s.serialize_str(id))
    }
}

/// Calls `f` with the hydra id of `uuid`, built on the stack.
fn with_uuid_id<R>(kind: IdType, uuid: Uuid, f: impl FnOnce(&str) -> R) -> R {
    const PREFIX: &[u8] = b"ciscospark://us/";
    // The longest type name is 17 bytes: 16 + 17 + 1 + 36 = 70 bytes, 94 in base64.
    let mut raw = [0u8; 80];
    let kind = kind.as_str().as_bytes();
    let mut n = 0;
    for part in [PREFIX, kind, b"/"] {
        raw[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    n += uuid.hyphenated().encode_lower(&mut raw[n..]).len();
    let mut out = [0u8; 112];
    let len = URL_SAFE_NO_PAD.encode_slice(&raw[..n], &mut out).unwrap_or(0);
    // base64 output is ASCII.
    f(std::str::from_utf8(&out[..len]).unwrap_or_default())
}

/// Decodes any hydra id into `(TYPE, payload)`; `None` when it is not one.
pub fn decode(id: &str) -> Option<(String, String)> {
    // Normalise to the URL-safe unpadded alphabet so every accepted variant decodes alike.
    let norm: String = id
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = URL_SAFE_NO_PAD.decode(norm.as_bytes()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("ciscospark://")?;
    let mut parts = rest.splitn(3, '/');
    let _cluster = parts.next()?;
    let kind = parts.next()?;
    let payload = parts.next()?;
    if kind.is_empty() || payload.is_empty() {
        return None;
    }
    Some((kind.to_string(), payload.to_string()))
}

/// The payload of `id` when it is a hydra id of type `kind`.
pub fn payload_of(id: &str, kind: IdType) -> Option<String> {
    let (k, payload) = decode(id)?;
    (k == kind.as_str()).then_some(payload)
}

/// The uuid inside `id` when it is a hydra id of type `kind` with a plain uuid payload.
pub fn uuid_of(id: &str, kind: IdType) -> Option<Uuid> {
    Uuid::parse_str(&payload_of(id, kind)?).ok()
}

/// The two uuids of a `<a>:<b>` payload (memberships, team memberships).
pub fn uuid_pair_of(id: &str, kind: IdType) -> Option<(Uuid, Uuid)> {
    let payload = payload_of(id, kind)?;
    let (a, b) = payload.split_once(':')?;
    Some((Uuid::parse_str(a).ok()?, Uuid::parse_str(b).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn round_trip_and_variants() {
        let u = Uuid::new_v4();
        let id = encode_uuid(IdType::Room, u);
        assert!(!id.ends_with('='));
        assert_eq!(uuid_of(&id, IdType::Room), Some(u));
        let padded = STANDARD.encode(format!("ciscospark://us/ROOM/{u}"));
        assert_eq!(uuid_of(&padded, IdType::Room), Some(u));
        assert_eq!(uuid_of(&id, IdType::Message), None);
        assert_eq!(decode("not an id!"), None);
        assert_eq!(decode(""), None);
    }

    #[test]
    fn uuid_ids_built_on_the_stack_match_the_formatted_ones() {
        let u = Uuid::new_v4();
        for kind in IdType::ALL {
            let expected = URL_SAFE_NO_PAD.encode(format!("ciscospark://us/{}/{u}", kind.as_str()));
            assert_eq!(encode_uuid(kind, u), expected, "{kind:?}");
            assert_eq!(serde_json::to_value(UuidId(kind, u)).unwrap(), serde_json::Value::String(expected));
        }
    }
}
