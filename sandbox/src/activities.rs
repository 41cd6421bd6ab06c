//! `conversation.activity` events (protocol.md §5.4-§5.5) emitted by hydra mutations.
//!
//! Called with the store still locked, right after the mutation, so each device gets a
//! room's events in mutation order. Ids inside activities are bare uuids and map to the
//! hydra ids the REST API answers with: `activity.id` of a post = the message uuid, rooms ↔
//! `target.id`, people ↔ `entryUUID` (the §5.5 mapping rule).

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::state::{Shared, lock};
use crate::store::{AttachmentAction, Room, Store};
use crate::time::{iso_ms, now_ms};

/// Who receives what: everything is built against the store as it is right now.
pub(crate) struct Emitter<'a> {
    st: &'a Shared,
    store: &'a Store,
    actor: Uuid,
}

impl<'a> Emitter<'a> {
    pub fn new(st: &'a Shared, store: &'a Store, actor: Uuid) -> Self {
        Emitter { st, store, actor }
    }

    fn conversation_url(&self, room: Uuid) -> String {
        format!("{}/conversation/api/v1/conversations/{room}", self.st.base_url)
    }

    /// Members of a room now.
    pub fn members(&self, room: Uuid) -> Vec<Uuid> {
        self.store.memberships.iter().filter(|m| m.room == room).map(|m| m.person).collect()
    }

    /// A person as activities carry it (actor, membership object, participant).
    fn person(&self, uuid: Uuid, room: Option<Uuid>) -> Value {
        let p = self.store.person(uuid);
        let email = p.map(|p| p.email.clone()).unwrap_or_default();
        let mut v = json!({
            "id": uuid.to_string(),
            "objectType": "person",
            "displayName": p.map(|p| p.display_name.clone()).unwrap_or_default(),
            "orgId": self.store.org.to_string(),
            "emailAddress": email,
            "entryUUID": uuid.to_string(),
            "entryEmail": email,
            "type": "PERSON",
        });
        if let (Some(room), Some(o)) = (room, v.as_object_mut()) {
            let is_moderator = self.store.membership(uuid, room).is_some_and(|m| m.is_moderator);
            o.insert("roomProperties".into(), json!({ "isModerator": is_moderator }));
        }
        v
    }

    fn tags(room: Option<&Room>) -> Vec<&'static str> {
        let mut tags = Vec::new();
        if let Some(r) = room {
            if r.direct {
                tags.push("ONE_ON_ONE");
            }
            if r.is_locked {
                tags.push("LOCKED");
            }
        }
        tags
    }

    /// The room as an activity `target`.
    fn target(&self, room: Uuid) -> Value {
        json!({
            "id": room.to_string(),
            "objectType": "conversation",
            "url": self.conversation_url(room),
            "tags": Self::tags(self.store.room(room)),
        })
    }

    /// The room as an activity `object` (create/update/lock/unlock/hide).
    fn conversation(&self, room: Uuid, participants: bool) -> Value {
        let r = self.store.room(room);
        let mut v = self.target(room);
        if let Some(o) = v.as_object_mut() {
            if let Some(r) = r {
                o.insert("displayName".into(), r.title.clone().into());
                o.insert("creatorUUID".into(), r.creator.to_string().into());
            }
            if participants {
                let items: Vec<Value> = self.members(room).into_iter().map(|p| self.person(p, Some(room))).collect();
                o.insert("participants".into(), json!({ "items": items }));
            }
        }
        v
    }

    /// Sends one activity to every device of `to`.
    fn send(&self, id: Uuid, verb: &str, object: Value, target: Option<Value>, parent: Option<Value>, to: &[Uuid]) {
        let mut to = to.to_vec();
        to.sort();
        to.dedup();
        let mut mercury = lock(&self.st.mercury);
        // Nobody to tell (no recipient has a device): skip building the activity, which
        // costs a REST mutation more than the rest of its handling (bench/python).
        if !mercury.has_devices_of(&to) {
            return;
        }
        let mut a = Map::new();
        a.insert("id".into(), id.to_string().into());
        a.insert("objectType".into(), "activity".into());
        a.insert("url".into(), format!("{}/conversation/api/v1/activities/{id}", self.st.base_url).into());
        a.insert("published".into(), iso_ms(now_ms()).into());
        a.insert("verb".into(), verb.into());
        a.insert("actor".into(), self.person(self.actor, None));
        a.insert("object".into(), object);
        if let Some(t) = target {
            a.insert("target".into(), t);
        }
        if let Some(p) = parent {
            a.insert("parent".into(), p);
        }
        let data = json!({ "eventType": "conversation.activity", "activity": a }).to_string();
        mercury.publish(&to, &data, 1);
    }

    /// `post` (or `share` with files); `activity.id` is the message uuid.
    pub fn message_posted(&self, message: Uuid) {
        let Some(m) = self.store.message(message) else { return };
        let share = !m.files.is_empty();
        let mut o = Map::new();
        o.insert("objectType".into(), if share { "content" } else { "comment" }.into());
        if let Some(t) = &m.text {
            o.insert("displayName".into(), t.clone().into());
        }
        if let Some(h) = m.html.as_ref().or(m.markdown.as_ref()) {
            o.insert("content".into(), h.clone().into());
        }
        let mentions: Vec<Value> = m
            .mentioned_people
            .iter()
            .filter_map(|id| crate::ids::uuid_of(id, crate::ids::IdType::People))
            .map(|u| json!({ "id": u.to_string(), "objectType": "person" }))
            .collect();
        if !mentions.is_empty() {
            o.insert("mentions".into(), json!({ "items": mentions }));
        }
        if share {
            let items: Vec<Value> = m
                .files
                .iter()
                .enumerate()
                .map(|(i, url)| {
                    let key = format!("{}/{i}", m.uuid);
                    match self.store.contents.iter().find(|c| c.key == key) {
                        Some(c) => json!({
                            "objectType": "file",
                            "url": url,
                            "displayName": c.filename,
                            "mimeType": c.content_type,
                            "fileSize": c.bytes.len(),
                        }),
                        None => json!({ "objectType": "file", "url": url }),
                    }
                })
                .collect();
            o.insert("files".into(), json!({ "items": items }));
        }
        let parent = m.parent.map(|p| json!({ "id": p.to_string(), "type": "reply" }));
        let verb = if share { "share" } else { "post" };
        self.send(m.uuid, verb, Value::Object(o), Some(self.target(m.room)), parent, &self.members(m.room));
    }

    /// `delete`; `object.id` is the deleted message's uuid.
    pub fn message_deleted(&self, message: Uuid, room: Uuid) {
        let object = json!({ "id": message.to_string(), "objectType": "activity" });
        self.send(Uuid::new_v4(), "delete", object, Some(self.target(room)), None, &self.members(room));
    }

    /// `create`; `object` is the conversation with every member as a participant.
    pub fn room_created(&self, room: Uuid) {
        let object = self.conversation(room, true);
        self.send(Uuid::new_v4(), "create", object, Some(self.target(room)), None, &self.members(room));
    }

    /// `update`, `lock` or `unlock`; `object` is the conversation.
    pub fn room_changed(&self, room: Uuid, verb: &str) {
        let object = self.conversation(room, false);
        self.send(Uuid::new_v4(), verb, object, Some(self.target(room)), None, &self.members(room));
    }

    /// `add`, `leave`, `assignModerator`, `unassignModerator`: `object` is the member, sent to
    /// the room's members now plus the member (who may just have left).
    pub fn membership(&self, person: Uuid, room: Uuid, verb: &str) {
        let mut to = self.members(room);
        to.push(person);
        self.membership_to(person, room, verb, &to);
    }

    /// A membership activity sent to exactly `to`.
    pub fn membership_to(&self, person: Uuid, room: Uuid, verb: &str, to: &[Uuid]) {
        let object = self.person(person, Some(room));
        self.send(Uuid::new_v4(), verb, object, Some(self.target(room)), None, to);
    }

    /// `hide` (or `unhide`, a guess): the actor's own view of a room, so only the actor
    /// gets it; the room is the `object`.
    pub fn hidden(&self, room: Uuid, verb: &str) {
        let object = self.conversation(room, false);
        self.send(Uuid::new_v4(), verb, object, Some(self.target(room)), None, &[self.actor]);
    }

    /// `cardAction`; `activity.id` is the attachment action uuid, `parent.id` the message's.
    pub fn card_action(&self, a: &AttachmentAction) {
        let object = json!({ "objectType": "submit", "inputs": a.inputs });
        let parent = json!({ "id": a.message.to_string(), "type": "cardAction" });
        self.send(a.uuid, "cardAction", object, Some(self.target(a.room)), Some(parent), &self.members(a.room));
    }
}
