//! Team memberships: `/team/memberships` (protocol.md §1.8, OpenAPI webex-messaging
//! "Team Memberships").

use super::memberships::check_person;
use super::{Extra, NoParams};
use crate::boundary::operation::{Operation, call, call_id, list};
use crate::error::Result;
use crate::http::{Http, Method, Pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

const RESOURCE: &str = "team/memberships";

/// A person's membership in a team.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamMembership {
    /// Team membership id.
    pub id: String,
    /// The team.
    pub team_id: Option<String>,
    /// The member.
    pub person_id: Option<String>,
    /// The member's email.
    pub person_email: Option<String>,
    /// The member's display name.
    pub person_display_name: Option<String>,
    /// The member's org.
    pub person_org_id: Option<String>,
    /// Whether the member moderates the team.
    pub is_moderator: Option<bool>,
    /// When the membership was created.
    pub created: Option<String>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters of `teamMemberships.create`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTeamMembership {
    /// The team to add the person to.
    pub team_id: String,
    /// The person to add, by id (or give `personEmail`).
    pub person_id: Option<String>,
    /// The person to add, by email (or give `personId`).
    pub person_email: Option<String>,
    /// Make the person a team moderator.
    pub is_moderator: Option<bool>,
}

/// Parameters of `teamMemberships.list`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListTeamMemberships {
    /// The team whose memberships to list.
    pub team_id: String,
    /// Page size.
    pub max: Option<u32>,
}

/// Parameters of `teamMemberships.update` (besides `membershipId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTeamMembership {
    /// Make the member a team moderator, or not.
    pub is_moderator: bool,
}

/// The team memberships API.
#[derive(Clone)]
pub struct TeamMemberships {
    pub(crate) http: Http,
}

impl TeamMemberships {
    /// Add a person to a team.
    pub async fn create(&self, params: &CreateTeamMembership) -> Result<TeamMembership> {
        check_person("teamMemberships.create", &params.person_id, &params.person_email)?;
        super::create(&self.http, RESOURCE, params).await
    }

    /// List a team's memberships, lazily across pages.
    pub fn list(&self, params: &ListTeamMemberships) -> Result<Pages<TeamMembership>> {
        super::list(&self.http, RESOURCE, params)
    }

    /// Get a team membership.
    pub async fn get(&self, membership_id: &str) -> Result<TeamMembership> {
        super::get(&self.http, RESOURCE, "membershipId", membership_id).await
    }

    /// Update a team membership.
    pub async fn update(&self, membership_id: &str, params: &UpdateTeamMembership) -> Result<TeamMembership> {
        super::update(&self.http, Method::PUT, RESOURCE, "membershipId", membership_id, params).await
    }

    /// Remove a person from a team.
    pub async fn delete(&self, membership_id: &str) -> Result<()> {
        super::delete(&self.http, RESOURCE, "membershipId", membership_id, &NoParams {}).await
    }
}

/// The team memberships rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call("teamMemberships.create", "Add a person to a team.", |c, p: CreateTeamMembership| async move {
            c.team_memberships().create(&p).await
        }),
        list("teamMemberships.list", "List a team's memberships.", |c, p: ListTeamMemberships| {
            c.team_memberships().list(&p)
        }),
        call_id("teamMemberships.get", "membershipId", "Get a team membership.", |c, id, _: NoParams| async move {
            c.team_memberships().get(&id).await
        }),
        call_id(
            "teamMemberships.update",
            "membershipId",
            "Update a team membership.",
            |c, id, p: UpdateTeamMembership| async move { c.team_memberships().update(&id, &p).await },
        ),
        call_id(
            "teamMemberships.delete",
            "membershipId",
            "Remove a person from a team.",
            |c, id, _: NoParams| async move { c.team_memberships().delete(&id).await },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_keeps_unknowns() {
        let m: TeamMembership = serde_json::from_value(serde_json::json!({
            "id": "tm1",
            "teamId": "t1",
            "personId": "p1",
            "personEmail": "a@example.com",
            "personDisplayName": "A",
            "personOrgId": "o1",
            "isModerator": true,
            "created": "2015-10-18T14:26:16.203Z",
            "newThing": [1, 2]
        }))
        .unwrap();
        assert_eq!(m.is_moderator, Some(true));
        assert_eq!(m.extra["newThing"], serde_json::json!([1, 2]));
    }

    #[test]
    fn list_requires_team() {
        assert!(serde_json::from_value::<ListTeamMemberships>(serde_json::json!({"max": 5})).is_err());
        let p: ListTeamMemberships = serde_json::from_value(serde_json::json!({"teamId": "t"})).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!({"teamId": "t"}));
    }
}
