//! In-memory state of the sandbox cloud. Plain vectors: the data sets are tiny and insertion
//! order doubles as the default listing order.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::ids::{self, IdType};
use crate::time::now_ms;

/// A person (user, bot or invited-but-pending address).
#[derive(Clone, Debug)]
pub struct Person {
    /// Internal uuid (hydra `PEOPLE` payload).
    pub uuid: Uuid,
    /// Primary email, lower-cased for matching.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// `person` or `bot`.
    pub kind: &'static str,
    /// Invited by email but never signed in (no token).
    pub pending: bool,
    /// Creation time (ms).
    pub created: i64,
}

impl Person {
    /// The hydra person id.
    pub fn id(&self) -> String {
        ids::encode_uuid(IdType::People, self.uuid)
    }
}

/// A space: `direct` (1:1) or `group`.
#[derive(Clone, Debug)]
pub struct Room {
    pub uuid: Uuid,
    pub title: String,
    pub direct: bool,
    pub is_locked: bool,
    pub team: Option<Uuid>,
    pub creator: Uuid,
    pub created: i64,
    pub last_activity: i64,
    pub classification_id: Option<String>,
    pub description: Option<String>,
    pub is_announcement_only: bool,
    pub is_read_only: bool,
    pub is_public: bool,
    pub made_public: Option<i64>,
}

/// A person's membership of a room.
#[derive(Clone, Debug)]
pub struct Membership {
    pub person: Uuid,
    pub room: Uuid,
    pub is_moderator: bool,
    pub is_room_hidden: bool,
    pub created: i64,
}

/// A posted message.
#[derive(Clone, Debug)]
pub struct Message {
    pub uuid: Uuid,
    /// Creation order; the message listing sorts on it (newest first).
    pub seq: u64,
    pub room: Uuid,
    pub parent: Option<Uuid>,
    pub author: Uuid,
    pub text: Option<String>,
    pub markdown: Option<String>,
    pub html: Option<String>,
    pub files: Vec<String>,
    pub attachments: Vec<Value>,
    pub mentioned_people: Vec<String>,
    pub mentioned_groups: Vec<String>,
    pub created: i64,
    pub updated: Option<i64>,
    pub edits: u32,
}

/// Bytes uploaded with a multipart `POST /messages`.
#[derive(Clone, Debug)]
pub struct Content {
    /// Hydra `CONTENT` payload `<messageUuid>/<index>`.
    pub key: String,
    pub room: Uuid,
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A team; its General room carries `teamId`.
#[derive(Clone, Debug)]
pub struct Team {
    pub uuid: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub created: i64,
}

/// A person's membership of a team.
#[derive(Clone, Debug)]
pub struct TeamMembership {
    pub person: Uuid,
    pub team: Uuid,
    pub is_moderator: bool,
    pub created: i64,
}

/// A registered webhook (never delivered: the sandbox is offline).
#[derive(Clone, Debug)]
pub struct Webhook {
    pub uuid: Uuid,
    pub owner: Uuid,
    pub fields: Map<String, Value>,
    pub created: i64,
}

/// An adaptive-card submission.
#[derive(Clone, Debug)]
pub struct AttachmentAction {
    pub uuid: Uuid,
    pub person: Uuid,
    pub room: Uuid,
    pub message: Uuid,
    pub inputs: Value,
    pub created: i64,
}

/// A scheduled meeting series; `fields` is the JSON the API answers with.
#[derive(Clone, Debug)]
pub struct Meeting {
    pub id: String,
    pub host: Uuid,
    pub start: i64,
    pub end: i64,
    pub fields: Map<String, Value>,
}

/// Everything the sandbox cloud knows.
#[derive(Debug, Default)]
pub struct Store {
    pub org: Uuid,
    pub app: Uuid,
    pub people: Vec<Person>,
    /// `(token, person uuid)`; a person may hold several tokens.
    pub tokens: Vec<(String, Uuid)>,
    pub rooms: Vec<Room>,
    pub memberships: Vec<Membership>,
    pub messages: Vec<Message>,
    pub contents: Vec<Content>,
    pub teams: Vec<Team>,
    pub team_memberships: Vec<TeamMembership>,
    pub webhooks: Vec<Webhook>,
    pub actions: Vec<AttachmentAction>,
    pub meetings: Vec<Meeting>,
    pub next_seq: u64,
    /// OAuth and guest state (expiring tokens, refresh tokens, codes).
    pub oauth: crate::oauth::OauthState,
}

impl Store {
    /// The hydra organization id.
    pub fn org_id(&self) -> String {
        ids::encode_uuid(IdType::Organization, self.org)
    }

    /// The next creation-order number.
    pub fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A fresh token shaped like a real one: `<64 hex>_PF84_<orgUuid>` (protocol.md §2.2).
    pub fn new_token(&mut self, person: Uuid) -> String {
        let hex: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        let token = format!("{hex}_PF84_{}", self.org);
        self.tokens.push((token.clone(), person));
        token
    }

    /// The person a token belongs to.
    pub fn person_by_token(&self, token: &str) -> Option<&Person> {
        if self.oauth.expired(token) {
            return None;
        }
        let uuid = self.tokens.iter().find(|(t, _)| t == token)?.1;
        self.person(uuid)
    }

    /// The first token of a person.
    pub fn token_of(&self, person: Uuid) -> Option<String> {
        self.tokens.iter().find(|(_, p)| *p == person).map(|(t, _)| t.clone())
    }

    /// A person by uuid.
    pub fn person(&self, uuid: Uuid) -> Option<&Person> {
        self.people.iter().find(|p| p.uuid == uuid)
    }

    /// A person by email (case-insensitive).
    pub fn person_by_email(&self, email: &str) -> Option<&Person> {
        let email = email.trim().to_lowercase();
        self.people.iter().find(|p| p.email == email)
    }

    /// Adds a person, or activates an invited (pending) one, and returns its uuid.
    pub fn add_person(&mut self, email: &str, display_name: &str, kind: &'static str) -> Uuid {
        let email = email.trim().to_lowercase();
        if let Some(p) = self.people.iter_mut().find(|p| p.email == email) {
            if p.pending {
                p.pending = false;
                p.display_name = display_name.to_string();
            }
            return p.uuid;
        }
        let uuid = Uuid::new_v4();
        self.people.push(Person {
            uuid,
            email,
            display_name: display_name.to_string(),
            kind,
            pending: false,
            created: now_ms(),
        });
        uuid
    }

    /// The person with this email, inviting (creating a pending person) when unknown, as the
    /// cloud does for memberships and messages addressed by email.
    pub fn person_or_invite(&mut self, email: &str) -> Uuid {
        if let Some(p) = self.person_by_email(email) {
            return p.uuid;
        }
        let email = email.trim().to_lowercase();
        let uuid = Uuid::new_v4();
        self.people.push(Person {
            uuid,
            display_name: email.clone(),
            email,
            kind: "person",
            pending: true,
            created: now_ms(),
        });
        uuid
    }

    /// A message by uuid. Searched from the newest: the messages read by uuid are mostly the
    /// ones just posted (the activity of a post, a reply's parent), and a long-lived sandbox
    /// holds tens of thousands of older ones.
    pub fn message(&self, uuid: Uuid) -> Option<&Message> {
        self.messages.iter().rev().find(|m| m.uuid == uuid)
    }

    /// [`Store::message`], to edit it.
    pub fn message_mut(&mut self, uuid: Uuid) -> Option<&mut Message> {
        self.messages.iter_mut().rev().find(|m| m.uuid == uuid)
    }

    /// A room by uuid.
    pub fn room(&self, uuid: Uuid) -> Option<&Room> {
        self.rooms.iter().find(|r| r.uuid == uuid)
    }

    /// The membership of `person` in `room`.
    pub fn membership(&self, person: Uuid, room: Uuid) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.person == person && m.room == room)
    }

    /// Whether `person` moderates `room`.
    pub fn moderates(&self, person: Uuid, room: Uuid) -> bool {
        self.membership(person, room).is_some_and(|m| m.is_moderator)
    }

    /// Whether `person` is a member of `room`.
    pub fn is_member(&self, person: Uuid, room: Uuid) -> bool {
        self.membership(person, room).is_some()
    }

    /// The room `me` may see: it exists and `me` is a member.
    pub fn visible_room(&self, me: Uuid, room: Uuid) -> Option<&Room> {
        self.room(room).filter(|r| self.is_member(me, r.uuid))
    }

    /// Adds a membership (no duplicate check; callers check first).
    pub fn add_membership(&mut self, person: Uuid, room: Uuid, is_moderator: bool) {
        self.memberships.push(Membership { person, room, is_moderator, is_room_hidden: false, created: now_ms() });
    }

    /// Removes `person` from `room` (no-op when not a member).
    pub fn remove_membership(&mut self, person: Uuid, room: Uuid) {
        self.memberships.retain(|m| !(m.person == person && m.room == room));
    }

    /// Creates a room with `creator` as its first member.
    pub fn create_room(&mut self, room: Room, creator_is_moderator: bool) -> Uuid {
        let (uuid, creator) = (room.uuid, room.creator);
        self.rooms.push(room);
        self.add_membership(creator, uuid, creator_is_moderator);
        uuid
    }

    /// The 1:1 room of two people, if any.
    pub fn direct_room(&self, a: Uuid, b: Uuid) -> Option<Uuid> {
        self.rooms.iter().find(|r| r.direct && self.is_member(a, r.uuid) && self.is_member(b, r.uuid)).map(|r| r.uuid)
    }

    /// Removes a room and everything inside it.
    pub fn delete_room(&mut self, room: Uuid) {
        self.rooms.retain(|r| r.uuid != room);
        self.memberships.retain(|m| m.room != room);
        self.messages.retain(|m| m.room != room);
        self.contents.retain(|c| c.room != room);
        self.actions.retain(|a| a.room != room);
    }

    /// The team membership of `person` in `team`.
    pub fn team_membership(&self, person: Uuid, team: Uuid) -> Option<&TeamMembership> {
        self.team_memberships.iter().find(|m| m.person == person && m.team == team)
    }

    /// The team `me` may see: it exists and `me` is a member.
    pub fn visible_team(&self, me: Uuid, team: Uuid) -> Option<&Team> {
        self.team_membership(me, team)?;
        self.teams.iter().find(|t| t.uuid == team)
    }

    /// The General room of a team (its first room).
    pub fn general_room(&self, team: Uuid) -> Option<Uuid> {
        self.rooms.iter().find(|r| r.team == Some(team)).map(|r| r.uuid)
    }
}
