//! Memberships (who is in which room): `/memberships` (protocol.md §1.8, OpenAPI webex-messaging
//! "Memberships").

use super::rooms::RoomType;
use super::{Extra, NoParams};
use crate::boundary::operation::{Operation, call, call_id, list};
use crate::error::{Error, Result};
use crate::http::{Http, Method, Pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// A person's membership in a room.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    /// Membership id.
    pub id: String,
    /// The room.
    pub room_id: Option<String>,
    /// The member.
    pub person_id: Option<String>,
    /// The member's email.
    pub person_email: Option<String>,
    /// The member's display name.
    pub person_display_name: Option<String>,
    /// The member's org.
    pub person_org_id: Option<String>,
    /// Whether the member moderates the room.
    pub is_moderator: Option<bool>,
    /// Whether the (direct) room is hidden in the member's clients.
    pub is_room_hidden: Option<bool>,
    /// `direct` or `group`.
    pub room_type: Option<RoomType>,
    /// Whether the member is a monitoring bot (deprecated).
    pub is_monitor: Option<bool>,
    /// When the membership was created.
    pub created: Option<String>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters of `memberships.create`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMembership {
    /// The room to add the person to.
    pub room_id: String,
    /// The person to add, by id (or give `personEmail`).
    pub person_id: Option<String>,
    /// The person to add, by email (or give `personId`).
    pub person_email: Option<String>,
    /// Make the person a moderator.
    pub is_moderator: Option<bool>,
}

/// Parameters of `memberships.list`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListMemberships {
    /// Only memberships of this room.
    pub room_id: Option<String>,
    /// Only this person's memberships (needs `roomId`).
    pub person_id: Option<String>,
    /// Only this email's memberships (needs `roomId`).
    pub person_email: Option<String>,
    /// Page size.
    pub max: Option<u32>,
}

/// Parameters of `memberships.update` (besides `membershipId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMembership {
    /// Make the member a moderator, or not.
    pub is_moderator: Option<bool>,
    /// Hide the (direct) room in the caller's clients, or not.
    pub is_room_hidden: Option<bool>,
}

/// `personId` xor `personEmail`, as the create calls of both membership kinds need.
pub(crate) fn check_person(op: &str, person_id: &Option<String>, person_email: &Option<String>) -> Result<()> {
    let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    match (given(person_id), given(person_email)) {
        (true, false) | (false, true) => Ok(()),
        (false, false) => Err(Error::invalid(format!("{op}: give the person to add as `personId` or `personEmail`"))),
        (true, true) => Err(Error::invalid(format!("{op}: give only one of `personId` and `personEmail`, not both"))),
    }
}

/// The memberships API.
#[derive(Clone)]
pub struct Memberships {
    pub(crate) http: Http,
}

impl Memberships {
    /// Add a person to a room.
    pub async fn create(&self, params: &CreateMembership) -> Result<Membership> {
        check_person("memberships.create", &params.person_id, &params.person_email)?;
        super::create(&self.http, "memberships", params).await
    }

    /// List memberships, lazily across pages.
    pub fn list(&self, params: &ListMemberships) -> Result<Pages<Membership>> {
        super::list(&self.http, "memberships", params)
    }

    /// Get a membership.
    pub async fn get(&self, membership_id: &str) -> Result<Membership> {
        super::get(&self.http, "memberships", "membershipId", membership_id).await
    }

    /// Update a membership.
    pub async fn update(&self, membership_id: &str, params: &UpdateMembership) -> Result<Membership> {
        super::update(&self.http, Method::PUT, "memberships", "membershipId", membership_id, params).await
    }

    /// Remove a person from a room.
    pub async fn delete(&self, membership_id: &str) -> Result<()> {
        super::delete(&self.http, "memberships", "membershipId", membership_id, &NoParams {}).await
    }
}

/// The memberships rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call("memberships.create", "Add a person to a room.", |c, p: CreateMembership| async move {
            c.memberships().create(&p).await
        }),
        list("memberships.list", "List memberships (of a room, or the caller's).", |c, p: ListMemberships| {
            c.memberships().list(&p)
        }),
        call_id("memberships.get", "membershipId", "Get a membership.", |c, id, _: NoParams| async move {
            c.memberships().get(&id).await
        }),
        call_id(
            "memberships.update",
            "membershipId",
            "Update a membership.",
            |c, id, p: UpdateMembership| async move { c.memberships().update(&id, &p).await },
        ),
        call_id(
            "memberships.delete",
            "membershipId",
            "Remove a person from a room.",
            |c, id, _: NoParams| async move { c.memberships().delete(&id).await },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_keeps_unknowns() {
        let m: Membership = serde_json::from_value(serde_json::json!({
            "id": "Y2lzY29zcGFyazovL3VzL01FTUJFUlNISVAvMA",
            "roomId": "r1",
            "personId": "p1",
            "personEmail": "a@example.com",
            "personDisplayName": "A",
            "personOrgId": "o1",
            "isModerator": false,
            "isRoomHidden": false,
            "roomType": "space",
            "isMonitor": false,
            "created": "2024-01-01T00:00:00.000Z",
            "futureField": {"x": 1}
        }))
        .unwrap();
        assert_eq!(m.room_type, Some(RoomType::Other("space".into())));
        assert_eq!(m.extra["futureField"], serde_json::json!({"x": 1}));
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(back["roomType"], "space");
        assert_eq!(back["futureField"]["x"], 1);
    }

    #[test]
    fn person_must_be_named_once() {
        let none = check_person("memberships.create", &None, &None).unwrap_err();
        assert!(none.message.contains("`personId` or `personEmail`"), "{}", none.message);
        let both = check_person("memberships.create", &Some("p".into()), &Some("e".into())).unwrap_err();
        assert!(both.message.contains("not both"), "{}", both.message);
        check_person("memberships.create", &None, &Some("e@x".into())).unwrap();
    }

    #[test]
    fn params_reject_unknown_fields() {
        let err = serde_json::from_value::<CreateMembership>(serde_json::json!({"roomId": "r", "personID": "p"}));
        assert!(err.is_err());
    }
}
