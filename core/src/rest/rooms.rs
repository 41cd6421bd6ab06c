//! Rooms (spaces): `/rooms` (protocol.md §1.8, OpenAPI webex-messaging "Rooms").

use super::{Extra, NoParams};
use crate::boundary::operation::{Operation, call, call_id, list};
use crate::error::Result;
use crate::http::{Http, Method, Pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

crate::wire_enum!(
    /// Whether a room is a 1:1 or a group room.
    RoomType { Direct = "direct", Group = "group" }
);

/// A room.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    /// Room id.
    pub id: String,
    /// Title (for 1:1 rooms, the other person's name).
    pub title: Option<String>,
    /// `direct` or `group`.
    #[serde(rename = "type")]
    pub room_type: Option<RoomType>,
    /// Whether the room is moderated.
    pub is_locked: Option<bool>,
    /// The team the room belongs to.
    pub team_id: Option<String>,
    /// When the last activity happened.
    pub last_activity: Option<String>,
    /// Who created it.
    pub creator_id: Option<String>,
    /// When it was created.
    pub created: Option<String>,
    /// The owning person or org.
    pub owner_id: Option<String>,
    /// Data classification id.
    pub classification_id: Option<String>,
    /// Only moderators may post.
    pub is_announcement_only: Option<bool>,
    /// Read-only room.
    pub is_read_only: Option<bool>,
    /// Public (discoverable) room.
    pub is_public: Option<bool>,
    /// When it was made public.
    pub made_public: Option<String>,
    /// Description (public rooms).
    pub description: Option<String>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters of `rooms.create`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoom {
    /// Title.
    pub title: String,
    /// Create it inside this team.
    pub team_id: Option<String>,
    /// Data classification id.
    pub classification_id: Option<String>,
    /// Moderated room.
    pub is_locked: Option<bool>,
    /// Public room (needs a description).
    pub is_public: Option<bool>,
    /// Description.
    pub description: Option<String>,
    /// Only moderators may post.
    pub is_announcement_only: Option<bool>,
}

/// Parameters of `rooms.update` (besides `roomId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRoom {
    /// Title (the cloud requires it on every update, as `PUT` replaces the room: pass the
    /// current one to keep it).
    pub title: String,
    /// Data classification id.
    pub classification_id: Option<String>,
    /// Move into a team.
    pub team_id: Option<String>,
    /// Moderated room.
    pub is_locked: Option<bool>,
    /// Public room.
    pub is_public: Option<bool>,
    /// Description.
    pub description: Option<String>,
    /// Only moderators may post.
    pub is_announcement_only: Option<bool>,
    /// Read-only room.
    pub is_read_only: Option<bool>,
}

/// Parameters of `rooms.list`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListRooms {
    /// Only rooms of this team.
    pub team_id: Option<String>,
    /// `direct` or `group`.
    #[serde(rename = "type")]
    pub room_type: Option<RoomType>,
    /// Public rooms of this org.
    pub org_public_spaces: Option<bool>,
    /// Made public after this time.
    pub from: Option<String>,
    /// Made public before this time.
    pub to: Option<String>,
    /// `id`, `lastactivity` or `created`.
    pub sort_by: Option<String>,
    /// Page size, 1..1000.
    pub max: Option<u32>,
}

/// A room's meeting details (`GET /rooms/{roomId}/meetingInfo`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomMeetingInfo {
    /// Room id.
    pub room_id: Option<String>,
    /// Meeting link.
    pub meeting_link: Option<String>,
    /// SIP address.
    pub sip_address: Option<String>,
    /// Meeting number.
    pub meeting_number: Option<String>,
    /// Meeting id.
    pub meeting_id: Option<String>,
    /// Toll-free call-in number.
    pub call_in_toll_free_number: Option<String>,
    /// Toll call-in number.
    pub call_in_toll_number: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The rooms API.
#[derive(Clone)]
pub struct Rooms {
    pub(crate) http: Http,
}

impl Rooms {
    /// Create a group room; the caller becomes its first member.
    pub async fn create(&self, params: &CreateRoom) -> Result<Room> {
        super::create(&self.http, "rooms", params).await
    }

    /// List the caller's rooms, lazily across pages.
    pub fn list(&self, params: &ListRooms) -> Result<Pages<Room>> {
        super::list(&self.http, "rooms", params)
    }

    /// Get a room.
    pub async fn get(&self, room_id: &str) -> Result<Room> {
        super::get(&self.http, "rooms", "roomId", room_id).await
    }

    /// Update a room.
    pub async fn update(&self, room_id: &str, params: &UpdateRoom) -> Result<Room> {
        super::update(&self.http, Method::PUT, "rooms", "roomId", room_id, params).await
    }

    /// Delete a room.
    pub async fn delete(&self, room_id: &str) -> Result<()> {
        super::delete(&self.http, "rooms", "roomId", room_id, &NoParams {}).await
    }

    /// A room's meeting details.
    pub async fn meeting_info(&self, room_id: &str) -> Result<RoomMeetingInfo> {
        let url = super::with_id(&super::hydra(&self.http, "rooms")?, "roomId", room_id)?;
        self.http.send_json(crate::http::HttpRequest::get(format!("{url}/meetingInfo"))).await
    }
}

/// The rooms rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call(
            "rooms.create",
            "Create a group room; the caller becomes its first member.",
            |c, p: CreateRoom| async move { c.rooms().create(&p).await },
        ),
        list("rooms.list", "List the caller's rooms.", |c, p: ListRooms| c.rooms().list(&p)),
        call_id("rooms.get", "roomId", "Get a room.", |c, id, _: NoParams| async move { c.rooms().get(&id).await }),
        call_id("rooms.update", "roomId", "Update a room.", |c, id, p: UpdateRoom| async move {
            c.rooms().update(&id, &p).await
        }),
        call_id(
            "rooms.delete",
            "roomId",
            "Delete a room.",
            |c, id, _: NoParams| async move { c.rooms().delete(&id).await },
        ),
        call_id("rooms.meetingInfo", "roomId", "A room's meeting details.", |c, id, _: NoParams| async move {
            c.rooms().meeting_info(&id).await
        }),
    ]
}
