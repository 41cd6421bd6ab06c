//! Locus: meeting signalling (protocol.md §6; docs/meetings-design.md §4) and, through [`sfu`],
//! audio and video; [`bot`] is the built-in participant.
//!
//! A locus is one running instance of a meeting (scheduled meeting or space meeting). The
//! first `/loci/call` for a meeting creates it ACTIVE; when the last participant leaves it
//! goes INACTIVE and the next call creates a new locus (new id); `end` makes it ENDED for
//! good. Every mutation bumps the locus sequence and is published over Mercury as a full
//! DTO rendered for each recipient (their own `self`).
//!
//! Lock order: `store` → `locus` → `mercury`. Handlers read what they need from the store
//! (or keep it locked) before locking the loci, and publish with the loci still locked, so
//! each device gets a locus's events in sequence order.

mod api;
pub(crate) mod bot;
pub(crate) mod control;
mod dto;
mod events;
mod info;
mod ops;
mod resolve;
mod roap;
mod routes;
pub(crate) mod sfu;

use uuid::Uuid;

use crate::store::Person;
use crate::time::now_ms;

pub(crate) use resolve::MeetingRef;

/// The catalog's `locus` service path.
pub(crate) const LOCUS_PATH: &str = "/locus/api/v1";
/// The catalog's `webex-appapi-service` path (meetingInfo).
pub(crate) const APPAPI_PATH: &str = "/wbxappapi/v1";
/// How often a client must hit its keepAliveUrl (the value in the SDK's locus fixture).
const KEEP_ALIVE_SECS: u64 = 300;

pub(crate) fn routes() -> axum::Router<crate::state::AppState> {
    routes::routes().merge(info::routes())
}

/// `fullState.state` of a locus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocusState {
    Active,
    /// Everybody left; a new call starts a new locus.
    Inactive,
    /// Ended by a moderator; joining answers 409.
    Ended,
}

impl LocusState {
    pub fn as_str(self) -> &'static str {
        match self {
            LocusState::Active => "ACTIVE",
            LocusState::Inactive => "INACTIVE",
            LocusState::Ended => "ENDED",
        }
    }
}

/// A person as a locus shows them (copied at join: names do not change mid-meeting here).
#[derive(Clone, Debug)]
pub(crate) struct PersonRef {
    pub uuid: Uuid,
    pub name: String,
    pub email: String,
}

impl From<&Person> for PersonRef {
    fn from(p: &Person) -> Self {
        PersonRef { uuid: p.uuid, name: p.display_name.clone(), email: p.email.clone() }
    }
}

/// One device of a participant (a person may join from several: `allowMultiDevice`).
#[derive(Clone, Debug)]
pub(crate) struct Device {
    pub url: String,
    pub device_type: String,
    pub joined: bool,
    pub correlation_id: Option<String>,
}

/// A person in a locus. Kept after leaving (state LEFT) so a rejoin reuses the id.
#[derive(Clone, Debug)]
pub(crate) struct Participant {
    pub id: Uuid,
    pub person: PersonRef,
    pub joined: bool,
    pub is_creator: bool,
    pub moderator: bool,
    /// Removed by the cloud (kick), not by the person: the SDK's autoRejoin path.
    pub removed: bool,
    pub devices: Vec<Device>,
    /// Local mute (`status.audioStatus`/`videoStatus` RECVONLY).
    pub audio_muted: bool,
    pub video_muted: bool,
    /// Moderator mute (`controls.audio/video.muted`).
    pub audio_locked: bool,
    pub video_locked: bool,
    /// Audio and video CSIs, unique in the locus; the SFU stamps the one of the packet's kind
    /// as the CSRC of the packets it forwards.
    pub csis: [u32; 2],
}

/// One running (or finished) instance of a meeting.
#[derive(Clone, Debug)]
pub(crate) struct Locus {
    pub id: Uuid,
    pub meeting: MeetingRef,
    pub created: i64,
    pub state: LocusState,
    pub sequence: u64,
    pub participants: Vec<Participant>,
}

impl Locus {
    /// The participant of a person.
    pub fn participant_of(&self, person: Uuid) -> Option<&Participant> {
        self.participants.iter().find(|p| p.person.uuid == person)
    }

    /// Index of a participant by id.
    pub fn participant_index(&self, id: Uuid) -> Option<usize> {
        self.participants.iter().position(|p| p.id == id)
    }

    /// People currently JOINED.
    pub fn joined_people(&self) -> Vec<Uuid> {
        self.participants.iter().filter(|p| p.joined).map(|p| p.person.uuid).collect()
    }

    /// Whether a person is a JOINED moderator.
    pub fn is_moderator(&self, person: Uuid) -> bool {
        self.participant_of(person).is_some_and(|p| p.joined && p.moderator)
    }

    /// The next sequence entry (every mutation calls this once).
    pub fn bump(&mut self) {
        self.sequence += 1;
    }

    /// Two CSIs not used by anyone in this locus.
    fn fresh_csis(&self) -> [u32; 2] {
        let used = |c: u32| c == 0 || self.participants.iter().any(|p| p.csis.contains(&c));
        let pick = || loop {
            let c = rand::random::<u32>();
            if !used(c) {
                return c;
            }
        };
        let a = pick();
        let mut b = pick();
        while b == a {
            b = pick();
        }
        [a, b]
    }
}

/// Every locus, plus what URLs and DTOs are built from.
#[derive(Debug)]
pub(crate) struct LocusStore {
    /// `http://host:port`.
    pub base_url: String,
    /// The org uuid (`orgId` in DTOs).
    pub org: Uuid,
    pub loci: Vec<Locus>,
    /// The media server (its own locks; taken after `locus`, never before).
    pub sfu: std::sync::Arc<sfu::Sfu>,
    /// Answer every ROAP message of `PUT /media` over Mercury, even when the client asked for
    /// the answer in the HTTP response (a test hook: [`crate::Sandbox::set_roap_via_mercury`]).
    pub roap_via_mercury: bool,
}

impl LocusStore {
    pub fn new(base_url: &str, org: Uuid, media_bind: std::net::IpAddr) -> Self {
        LocusStore {
            base_url: base_url.to_string(),
            org,
            loci: Vec::new(),
            sfu: std::sync::Arc::new(sfu::Sfu::new(media_bind)),
            roap_via_mercury: false,
        }
    }

    /// `<base>/locus/api/v1/loci/<id>`.
    pub fn url(&self, id: Uuid) -> String {
        format!("{}{LOCUS_PATH}/loci/{id}", self.base_url)
    }

    /// `<base>/conversation/api/v1/conversations/<room>`.
    pub fn conversation_url(&self, room: Uuid) -> String {
        format!("{}/conversation/api/v1/conversations/{room}", self.base_url)
    }

    /// Index of a locus by id.
    pub fn find(&self, id: Uuid) -> Option<usize> {
        self.loci.iter().position(|l| l.id == id)
    }

    /// Index of the ACTIVE locus of a meeting.
    pub fn active_for(&self, number: &str) -> Option<usize> {
        self.loci.iter().position(|l| l.state == LocusState::Active && l.meeting.number == number)
    }

    /// The active locus of a meeting, created (ACTIVE, nobody in it) when there is none.
    pub fn active_or_create(&mut self, meeting: MeetingRef) -> usize {
        if let Some(i) = self.active_for(&meeting.number) {
            return i;
        }
        let l = Locus {
            id: Uuid::new_v4(),
            meeting,
            created: now_ms(),
            state: LocusState::Active,
            sequence: 1,
            participants: Vec::new(),
        };
        self.loci.push(l);
        self.loci.len() - 1
    }
}
