//! The Locus DTO (protocol.md §6.4): always a full DTO, rendered for one viewer (`self`).

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{KEEP_ALIVE_SECS, Locus, LocusState, LocusStore, Participant};
use crate::time::iso_ms;

fn joined_str(joined: bool) -> &'static str {
    if joined { "JOINED" } else { "LEFT" }
}

/// RECVONLY while locally muted (the SDK's `isMuted` reads exactly that), else SENDRECV.
fn media_status(muted: bool) -> &'static str {
    if muted { "RECVONLY" } else { "SENDRECV" }
}

impl LocusStore {
    /// `<locusUrl>/participant/<id>`.
    pub fn participant_url(&self, l: &Locus, p: &Participant) -> String {
        format!("{}/participant/{}", self.url(l.id), p.id)
    }

    /// A participant (or `self`) object.
    fn participant(&self, l: &Locus, p: &Participant) -> Value {
        let url = self.participant_url(l, p);
        let devices: Vec<Value> = p
            .devices
            .iter()
            .map(|d| {
                let mut o = json!({
                    "url": d.url,
                    "deviceType": d.device_type,
                    "state": joined_str(d.joined),
                    "keepAliveUrl": format!("{url}/keepAlive"),
                    "keepAliveSecs": KEEP_ALIVE_SECS,
                });
                if let Some(c) = &d.correlation_id {
                    o["correlationId"] = c.clone().into();
                }
                o
            })
            .collect();
        let mut o = json!({
            "id": p.id.to_string(),
            "url": url,
            "state": joined_str(p.joined),
            "type": "USER",
            "isCreator": p.is_creator,
            "guest": false,
            "moderator": p.moderator,
            "person": {
                "id": p.person.uuid.to_string(),
                "name": p.person.name,
                "orgId": self.org.to_string(),
                "email": p.person.email,
            },
            "devices": devices,
            "status": {
                "audioStatus": media_status(p.audio_muted),
                "videoStatus": media_status(p.video_muted),
                "csis": p.csis,
            },
            "controls": {
                "audio": {"muted": p.audio_locked},
                "video": {"muted": p.video_locked},
                "role": {"roles": [{"type": "MODERATOR", "hasRole": p.moderator}]},
            },
        });
        if p.removed {
            o["removed"] = true.into();
        }
        o
    }

    /// The full DTO of locus `i` as `viewer` sees it (`self` omitted when the viewer is not
    /// a participant, e.g. the test API's view).
    pub fn dto(&self, i: usize, viewer: Option<Uuid>) -> Value {
        let l = &self.loci[i];
        let url = self.url(l.id);
        let m = &l.meeting;
        let mut o = Map::new();
        o.insert("url".into(), url.clone().into());
        o.insert("created".into(), iso_ms(l.created).into());
        o.insert("info".into(), json!({"topic": m.title, "sipUri": m.sip, "webExMeetingId": m.number}));
        o.insert(
            "host".into(),
            json!({"id": m.host.uuid.to_string(), "name": m.host.name, "orgId": self.org.to_string()}),
        );
        let count = l.participants.iter().filter(|p| p.joined).count();
        o.insert(
            "fullState".into(),
            json!({
                "active": l.state == LocusState::Active,
                "count": count,
                "locked": false,
                "state": l.state.as_str(),
                "type": "MEETING",
            }),
        );
        o.insert("controls".into(), json!({}));
        let participants: Vec<Value> = l.participants.iter().map(|p| self.participant(l, p)).collect();
        o.insert("participants".into(), participants.into());
        if let Some(p) = viewer.and_then(|v| l.participant_of(v)) {
            o.insert("self".into(), self.participant(l, p));
        }
        o.insert("sequence".into(), json!({"entries": [l.sequence], "rangeStart": 0, "rangeEnd": 0}));
        o.insert("syncUrl".into(), format!("{url}/sync").into());
        if let Some(r) = m.room {
            o.insert("conversationUrl".into(), self.conversation_url(r).into());
        }
        Value::Object(o)
    }
}
