//! `conversation.activity` → the public events of the official SDK (protocol.md §5.4-§5.5).
//! Pure: the listener fetches what needs fetching (new messages are read through REST, no KMS).

use base64::Engine;
use serde_json::{Value, json};

/// A public event to emit, or the message to read first.
#[derive(Clone, Debug, PartialEq)]
pub enum Mapped {
    /// Emit `<resource>:<event>` with `data`, acted by `actor_id`.
    Emit {
        /// `messages`, `memberships`, `rooms` or `attachmentActions`.
        resource: &'static str,
        /// `created`, `updated`, `deleted` or `seen`.
        event: &'static str,
        /// The resource object as hydra would show it.
        data: Value,
        /// Who did it (hydra person id).
        actor_id: Option<String>,
    },
    /// Read message `message_id` through REST; it becomes `messages:created`.
    MessageCreated {
        /// The hydra message id.
        message_id: String,
    },
}

/// The hydra id of an internal uuid (`ciscospark://us/<TYPE>/<uuid>`, unpadded URL-safe
/// base64, as the official SDK builds it).
pub fn hydra_id(kind: &str, uuid: &str) -> String {
    // The cluster is `us` for every commercial catalog id starting urn:TEAM:us-east-2_a
    // (protocol.md §3.3); other clusters are not reachable from here (UNSURE for EU clusters).
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("ciscospark://us/{kind}/{uuid}"))
}

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn person_uuid(p: &Value) -> Option<&str> {
    s(p, "/entryUUID").or_else(|| s(p, "/id"))
}

fn tags(v: &Value) -> Vec<&str> {
    v.get("tags").and_then(Value::as_array).map(|t| t.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn room_type(room: &Value) -> &'static str {
    if tags(room).contains(&"ONE_ON_ONE") { "direct" } else { "group" }
}

/// The public events of one activity. Unknown verbs map to nothing (logged by the caller).
pub fn map(activity: &Value) -> Vec<Mapped> {
    let verb = s(activity, "/verb").unwrap_or("");
    let actor = activity.get("actor").cloned().unwrap_or(Value::Null);
    let object = activity.get("object").cloned().unwrap_or(Value::Null);
    let target = activity.get("target").cloned().unwrap_or(Value::Null);
    let published = activity.get("published").cloned().unwrap_or(Value::Null);
    let actor_id = person_uuid(&actor).map(|u| hydra_id("PEOPLE", u));
    let emit = |resource, event, data| Mapped::Emit { resource, event, data, actor_id: actor_id.clone() };
    let membership = |person: &Value, room: &Value, room_type: &str| {
        let (p, r) = (person_uuid(person).unwrap_or(""), s(room, "/id").unwrap_or(""));
        json!({
            "id": hydra_id("MEMBERSHIP", &format!("{p}:{r}")),
            "roomId": hydra_id("ROOM", r),
            "roomType": room_type,
            "personId": hydra_id("PEOPLE", p),
            "personEmail": s(person, "/emailAddress").or_else(|| s(person, "/entryEmail")),
            "personDisplayName": s(person, "/displayName"),
            "personOrgId": s(person, "/orgId").map(|o| hydra_id("ORGANIZATION", o)),
            "isModerator": object.pointer("/roomProperties/isModerator").and_then(Value::as_bool).unwrap_or(false),
            "isRoomHidden": false,
            "created": published,
        })
    };
    let room = |room: &Value, tag_source: &Value| {
        let t = tags(tag_source);
        json!({
            "id": hydra_id("ROOM", s(room, "/id").unwrap_or("")),
            "type": if t.contains(&"ONE_ON_ONE") { "direct" } else { "group" },
            "isLocked": t.contains(&"LOCKED"),
            "created": published,
            "lastActivity": published,
            "creatorId": s(&object, "/creatorUUID").or_else(|| person_uuid(&actor)).map(|u| hydra_id("PEOPLE", u)),
        })
    };
    match verb {
        "post" | "share" => match s(activity, "/id") {
            Some(id) => vec![Mapped::MessageCreated { message_id: hydra_id("MESSAGE", id) }],
            None => vec![],
        },
        "delete" => vec![emit(
            "messages",
            "deleted",
            json!({
                "id": hydra_id("MESSAGE", s(&object, "/id").unwrap_or("")),
                "roomId": hydra_id("ROOM", s(&target, "/id").unwrap_or("")),
                "roomType": room_type(&target),
                "personId": actor_id,
                "personEmail": s(&actor, "/emailAddress").or_else(|| person_uuid(&actor)),
            }),
        )],
        "create" => {
            let room_obj = if s(&object, "/id").is_some() { &object } else { &target };
            let mut out = vec![emit("rooms", "created", room(room_obj, &object))];
            let participants =
                object.pointer("/participants/items").and_then(Value::as_array).cloned().unwrap_or_default();
            out.extend(
                participants
                    .iter()
                    .map(|p| emit("memberships", "created", membership(p, room_obj, room_type(&object)))),
            );
            out
        }
        "update" | "lock" | "unlock" => vec![emit("rooms", "updated", room(&target, &target))],
        "add" => vec![emit("memberships", "created", membership(&object, &target, room_type(&target)))],
        "leave" => vec![emit("memberships", "deleted", membership(&object, &target, room_type(&target)))],
        "assignModerator" | "unassignModerator" => {
            let mut data = membership(&object, &target, room_type(&target));
            data["isModerator"] = json!(verb == "assignModerator");
            vec![emit("memberships", "updated", data)]
        }
        "hide" => {
            let mut data = membership(&actor, &object, "direct");
            data["isRoomHidden"] = json!(true);
            vec![emit("memberships", "updated", data)]
        }
        "acknowledge" => {
            let mut data = membership(&actor, &target, room_type(&target));
            data["lastSeenId"] = json!(hydra_id("MESSAGE", s(&object, "/id").unwrap_or("")));
            vec![emit("memberships", "seen", data)]
        }
        "cardAction" => vec![emit(
            "attachmentActions",
            "created",
            json!({
                "id": hydra_id("ATTACHMENT_ACTION", s(activity, "/id").unwrap_or("")),
                "type": "submit",
                "messageId": hydra_id("MESSAGE", s(activity, "/parent/id").unwrap_or("")),
                "roomId": hydra_id("ROOM", s(&target, "/id").unwrap_or("")),
                "personId": actor_id,
                "inputs": object.get("inputs").cloned().unwrap_or(json!({})),
                "created": published,
            }),
        )],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(uuid: &str, email: &str) -> Value {
        json!({"id": uuid, "entryUUID": uuid, "emailAddress": email, "displayName": "P", "orgId": "o", "objectType": "person"})
    }

    #[test]
    fn posts_read_the_message_by_the_activity_id() {
        let a = json!({"id": "m-1", "verb": "post", "actor": person("p1", "a@x"), "target": {"id": "r1", "tags": []}});
        assert_eq!(map(&a), vec![Mapped::MessageCreated { message_id: hydra_id("MESSAGE", "m-1") }]);
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(hydra_id("MESSAGE", "m-1")).unwrap();
        assert_eq!(decoded, b"ciscospark://us/MESSAGE/m-1");
    }

    #[test]
    fn membership_and_room_verbs() {
        let add = json!({"id": "a1", "verb": "add", "actor": person("p1", "a@x"), "object": person("p2", "b@x"),
            "target": {"id": "r1", "tags": ["LOCKED"]}, "published": "2026-01-01T00:00:00.000Z"});
        let Mapped::Emit { resource, event, data, actor_id } = &map(&add)[0] else { panic!() };
        assert_eq!((*resource, *event), ("memberships", "created"));
        assert_eq!(data["id"], hydra_id("MEMBERSHIP", "p2:r1"));
        assert_eq!(data["personEmail"], "b@x");
        assert_eq!(actor_id.as_deref(), Some(hydra_id("PEOPLE", "p1").as_str()));
        let lock = json!({"verb": "lock", "actor": person("p1", "a@x"), "target": {"id": "r1", "tags": ["LOCKED"]}});
        let Mapped::Emit { resource, data, .. } = &map(&lock)[0] else { panic!() };
        assert_eq!(*resource, "rooms");
        assert_eq!(data["isLocked"], true);
        let card = json!({"id": "c1", "verb": "cardAction", "actor": person("p1", "a@x"), "object": {"inputs": {"k": 1}},
            "target": {"id": "r1"}, "parent": {"id": "m1"}});
        let Mapped::Emit { data, .. } = &map(&card)[0] else { panic!() };
        assert_eq!(data["messageId"], hydra_id("MESSAGE", "m1"));
        assert_eq!(data["inputs"]["k"], 1);
        assert!(map(&json!({"verb": "favorite"})).is_empty());
        assert!(map(&json!("garbage")).is_empty());
    }
}
