//! Reading the Locus DTO (protocol.md §6.4): which copy is newer, where this client stands,
//! and the roster.

use super::state::MeetingState;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Whether an object is a Locus DTO: its `sequence` has `rangeStart` and `rangeEnd`.
pub fn is_locus(dto: &Value) -> bool {
    dto.pointer("/sequence/rangeStart").is_some() && dto.pointer("/sequence/rangeEnd").is_some()
}

/// The last `sequence.entries` value (None when empty).
pub fn sequence(dto: &Value) -> Option<u64> {
    dto.pointer("/sequence/entries")?.as_array()?.last()?.as_u64()
}

/// Whether `incoming` replaces `current`: only a newer sequence does (or either is empty).
pub fn is_newer(current: Option<u64>, incoming: Option<u64>) -> bool {
    match (current, incoming) {
        (Some(c), Some(i)) => i > c,
        _ => true,
    }
}

/// Whether a DTO is a delta (it carries `baseSequence`): the client resyncs with a full read.
pub fn is_delta(dto: &Value) -> bool {
    dto.get("baseSequence").is_some()
}

/// The meeting state a DTO shows for this client (`self`), given the state before it.
pub fn state_of(dto: &Value, before: MeetingState) -> MeetingState {
    let full = dto.pointer("/fullState/state").and_then(Value::as_str).unwrap_or("");
    if full == "ENDED" || (full == "INACTIVE" && matches!(before, MeetingState::Joined | MeetingState::Lobby)) {
        return MeetingState::Ended;
    }
    let me = &dto["self"];
    match me.get("state").and_then(Value::as_str).unwrap_or("") {
        "JOINED" => MeetingState::Joined,
        "IDLE" if intent(me) == Some("WAIT") => MeetingState::Lobby,
        "LEFT" | "DECLINED" => MeetingState::Left,
        _ => before,
    }
}

/// A device's intent: `intent.type`, or the first of `intents[]` (the fixture's shape).
fn intent(participant: &Value) -> Option<&str> {
    let device = participant.get("devices")?.get(0)?;
    device.pointer("/intent/type").or_else(|| device.pointer("/intents/0/type")).and_then(Value::as_str)
}

/// Where a member stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberStatus {
    /// Joined.
    InMeeting,
    /// Waiting in the lobby.
    InLobby,
    /// Invited, left or declined.
    NotInMeeting,
}

/// One person of the roster, from a Locus participant (rules of the official SDK's
/// `members/util.ts`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The Locus participant id.
    pub id: String,
    /// The person's hydra id (as `people.get` takes it).
    pub person_id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Email, when Locus shows it.
    pub email: Option<String>,
    /// In the meeting, in the lobby, or not.
    pub status: MemberStatus,
    /// This client.
    pub is_self: bool,
    /// The meeting's host.
    pub is_host: bool,
    /// Has the moderator role.
    pub is_moderator: bool,
    /// A guest.
    pub is_guest: bool,
    /// Audio muted: by a moderator (`controls.audio.muted`) or by themselves (`RECVONLY`).
    pub audio_muted: bool,
    /// Video muted, likewise.
    pub video_muted: bool,
}

/// Audio CSI (`status.csis[0]`, the RTP CSRC the media server stamps) → participant id, for
/// every participant of a DTO. UNSURE: `csis` comes from the Webex iOS SDK, not protocol.md.
pub fn audio_csis(dto: &Value) -> std::collections::HashMap<u32, String> {
    csis_at(dto, "/status/csis/0")
}

/// Video CSI (`status.csis[1]`) → participant id, likewise. UNSURE: that the second CSI is
/// the video one follows the iOS SDK's reading; the sandbox assigns them so.
pub fn video_csis(dto: &Value) -> std::collections::HashMap<u32, String> {
    csis_at(dto, "/status/csis/1")
}

fn csis_at(dto: &Value, pointer: &str) -> std::collections::HashMap<u32, String> {
    let Some(participants) = dto.get("participants").and_then(Value::as_array) else { return Default::default() };
    participants
        .iter()
        .filter_map(|p| {
            let id = p.get("id")?.as_str()?;
            let csi = p.pointer(pointer)?.as_u64()?;
            Some((u32::try_from(csi).ok()?, id.to_owned()))
        })
        .collect()
}

/// The roster of a DTO (participants removed from the meeting are left out).
pub fn roster(dto: &Value) -> Vec<Member> {
    let self_id = dto.pointer("/self/id").and_then(Value::as_str);
    let host_id = dto.pointer("/host/id").and_then(Value::as_str);
    let Some(participants) = dto.get("participants").and_then(Value::as_array) else { return Vec::new() };
    participants
        .iter()
        .filter(|p| !p.get("removed").and_then(Value::as_bool).unwrap_or(false))
        .filter_map(|p| {
            let id = p.get("id")?.as_str()?.to_owned();
            let person = p.get("person").unwrap_or(&Value::Null);
            let person_uuid = person.get("id").and_then(Value::as_str);
            let state = p.get("state").and_then(Value::as_str).unwrap_or("");
            let has_devices = p.get("devices").and_then(Value::as_array).is_some_and(|d| !d.is_empty());
            let status = match state {
                "JOINED" if has_devices => MemberStatus::InMeeting,
                "IDLE" if matches!(intent(p), Some("WAIT" | "OBSERVE")) => MemberStatus::InLobby,
                _ => MemberStatus::NotInMeeting,
            };
            let muted = |kind: &str| {
                p.pointer(&format!("/controls/{kind}/muted")).and_then(Value::as_bool).unwrap_or(false)
                    || p.pointer(&format!("/status/{kind}Status")).and_then(Value::as_str) == Some("RECVONLY")
            };
            let moderator = p.get("moderator").and_then(Value::as_bool).unwrap_or(false)
                || p.pointer("/controls/role/roles")
                    .and_then(Value::as_array)
                    .is_some_and(|roles| roles.iter().any(|r| r["type"] == "MODERATOR" && r["hasRole"] == true));
            Some(Member {
                is_self: self_id == Some(id.as_str()),
                id,
                person_id: person_uuid.map(|u| crate::activity::hydra_id("PEOPLE", u)),
                name: person.get("name").and_then(Value::as_str).map(str::to_owned),
                email: person.get("email").and_then(Value::as_str).map(str::to_owned),
                status,
                is_host: person_uuid.is_some() && person_uuid == host_id,
                is_moderator: moderator,
                is_guest: p.get("guest").and_then(Value::as_bool).unwrap_or(false),
                audio_muted: muted("audio"),
                video_muted: muted("video"),
            })
        })
        .collect()
}

/// What changed between two rosters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct RosterDelta {
    /// New members.
    pub added: Vec<Member>,
    /// Members whose state changed.
    pub updated: Vec<Member>,
    /// Participant ids no longer listed.
    pub removed: Vec<String>,
}

impl RosterDelta {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

/// The difference from `before` to `after`.
pub fn diff(before: &[Member], after: &[Member]) -> RosterDelta {
    let mut delta = RosterDelta::default();
    for m in after {
        match before.iter().find(|b| b.id == m.id) {
            None => delta.added.push(m.clone()),
            Some(b) if b != m => delta.updated.push(m.clone()),
            Some(_) => {}
        }
    }
    delta.removed = before.iter().filter(|b| !after.iter().any(|m| m.id == b.id)).map(|b| b.id.clone()).collect();
    delta
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dto(seq: u64, self_state: &str, full: &str, bob_audio: &str) -> Value {
        json!({
            "url": "https://locus/loci/1",
            "host": {"id": "alice-uuid"},
            "fullState": {"state": full},
            "sequence": {"entries": [seq], "rangeStart": 0, "rangeEnd": 0},
            "self": {"id": "p-alice", "state": self_state, "devices": [{"url": "d"}]},
            "participants": [
                {"id": "p-alice", "state": self_state, "devices": [{"url": "d"}], "person": {"id": "alice-uuid", "name": "Alice"}, "moderator": true},
                {"id": "p-bob", "state": "JOINED", "devices": [{"url": "e"}], "person": {"id": "bob-uuid", "name": "Bob"}, "status": {"audioStatus": bob_audio}},
                {"id": "p-carol", "state": "IDLE", "devices": [{"url": "f", "intent": {"type": "WAIT"}}], "person": {"id": "carol-uuid"}},
                {"id": "p-kicked", "state": "LEFT", "removed": true, "person": {"id": "x"}},
            ],
        })
    }

    #[test]
    fn sequence_state_and_roster() {
        let d = dto(5, "JOINED", "ACTIVE", "SENDRECV");
        assert!(is_locus(&d) && !is_delta(&d));
        assert_eq!(sequence(&d), Some(5));
        assert!(is_newer(Some(4), Some(5)) && !is_newer(Some(5), Some(5)) && is_newer(None, Some(1)));
        assert_eq!(state_of(&d, MeetingState::Joining), MeetingState::Joined);
        assert_eq!(state_of(&dto(6, "LEFT", "ACTIVE", "x"), MeetingState::Joined), MeetingState::Left);
        assert_eq!(state_of(&dto(6, "JOINED", "ENDED", "x"), MeetingState::Joined), MeetingState::Ended);
        assert_eq!(state_of(&dto(6, "LEFT", "INACTIVE", "x"), MeetingState::Left), MeetingState::Left);
        let r = roster(&d);
        assert_eq!(r.len(), 3, "the removed participant is left out");
        assert!(r[0].is_self && r[0].is_host && r[0].is_moderator && r[0].status == MemberStatus::InMeeting);
        assert_eq!(r[0].person_id.as_deref(), Some(crate::activity::hydra_id("PEOPLE", "alice-uuid").as_str()));
        assert!(!r[1].audio_muted && !r[1].is_self);
        assert_eq!(r[2].status, MemberStatus::InLobby);
        let muted = roster(&dto(6, "JOINED", "ACTIVE", "RECVONLY"));
        let delta = diff(&r, &muted);
        assert!(delta.added.is_empty() && delta.removed.is_empty());
        assert_eq!(delta.updated.len(), 1);
        assert!(delta.updated[0].audio_muted);
        assert_eq!(diff(&r, &r[..1]).removed, ["p-bob", "p-carol"]);
    }
}
