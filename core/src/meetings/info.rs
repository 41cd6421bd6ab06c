//! What a meeting destination is, and resolving it through the meeting-info service
//! (protocol.md §6.1: `POST <webex-appapi-service>/meetingInfo`).

use crate::error::{Error, Result};
use crate::http::{Http, HttpRequest};
use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How a destination names its meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DestinationType {
    /// A meeting number (9 to 13 digits; spaces and dashes ignored).
    MeetingNumber,
    /// A meeting link (`https://...`).
    Link,
    /// A SIP address (`name@host` or `sip:name@host`).
    Sip,
    /// A room (space) id: the room's own meeting.
    Room,
}

/// The service the meeting-info request goes to (UNSURE: the catalog name the official SDK
/// reads, `webex-appapi-service`, is from its code; the sandbox serves it).
pub const SERVICE: &str = "webex-appapi-service";

/// Work out what `destination` is, unless the app said so.
pub fn classify(destination: &str, given: Option<DestinationType>) -> Result<DestinationType> {
    if let Some(t) = given {
        return Ok(t);
    }
    let d = destination.trim();
    let digits: String = d.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && (9..=13).contains(&digits.len()) {
        return Ok(DestinationType::MeetingNumber);
    }
    if d.starts_with("https://") || d.starts_with("http://") {
        return Ok(DestinationType::Link);
    }
    if d.starts_with("sip:") || (d.contains('@') && !d.contains(char::is_whitespace)) {
        return Ok(DestinationType::Sip);
    }
    if room_uuid(d).is_some() {
        return Ok(DestinationType::Room);
    }
    Err(Error::invalid(format!(
        "meetings.create: cannot tell what destination {d:?} is; give a meeting number, a meeting link, a SIP address or a room id (or set `type`)"
    )))
}

/// The uuid inside a hydra room id (`ciscospark://us/ROOM/<uuid>`, base64 with or without
/// padding, either alphabet).
pub fn room_uuid(id: &str) -> Option<String> {
    let trimmed = id.trim().trim_end_matches('=');
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let rest = text.strip_prefix("ciscospark://")?;
    let mut parts = rest.split('/');
    let (_cluster, kind, uuid) = (parts.next()?, parts.next()?, parts.next()?);
    (kind == "ROOM" && !uuid.is_empty()).then(|| uuid.to_owned())
}

/// Resolve a destination: the meeting-info answer (`meetingNumber`, `sipUrl`, `meetingJoinUrl`,
/// `meetingName`, `locusUrl` when the meeting is running, ...).
pub async fn resolve(http: &Http, destination: &str, kind: DestinationType) -> Result<Value> {
    let d = destination.trim();
    let mut body = match kind {
        DestinationType::MeetingNumber => {
            json!({"meetingKey": d.chars().filter(|c| !matches!(c, ' ' | '-')).collect::<String>()})
        }
        DestinationType::Link => json!({"meetingUrl": d}),
        DestinationType::Sip => json!({"sipUrl": d.trim_start_matches("sip:")}),
        DestinationType::Room => {
            let uuid =
                room_uuid(d).ok_or_else(|| Error::invalid(format!("meetings.create: {d:?} is not a room id")))?;
            json!({"conversationUrl": http.service_url("conversation", &format!("conversations/{uuid}"))?})
        }
    };
    body["supportHostKey"] = json!(true);
    body["supportCountryList"] = json!(true);
    let url = http.service_url(SERVICE, "meetingInfo")?;
    http.send_json(HttpRequest::new(reqwest::Method::POST, url).json(body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_told_apart() {
        assert_eq!(classify("123 456 789", None).unwrap(), DestinationType::MeetingNumber);
        assert_eq!(classify("2550-123-4567", None).unwrap(), DestinationType::MeetingNumber);
        assert_eq!(classify("https://sandbox.webex.com/meet/alice", None).unwrap(), DestinationType::Link);
        assert_eq!(classify("sip:alice@sandbox.webex.com", None).unwrap(), DestinationType::Sip);
        assert_eq!(classify("alice@sandbox.webex.com", None).unwrap(), DestinationType::Sip);
        let room = crate::activity::hydra_id("ROOM", "8f0a-uuid");
        assert_eq!(classify(&room, None).unwrap(), DestinationType::Room);
        assert_eq!(room_uuid(&room).as_deref(), Some("8f0a-uuid"));
        assert_eq!(room_uuid(&crate::activity::hydra_id("PEOPLE", "p")), None);
        assert_eq!(classify("12345", Some(DestinationType::Sip)).unwrap(), DestinationType::Sip);
        let err = classify("12345", None).unwrap_err();
        assert!(err.message.contains("cannot tell what destination \"12345\" is"), "{}", err.message);
    }
}
