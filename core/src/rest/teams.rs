//! Teams: `/teams` (protocol.md §1.8, OpenAPI webex-messaging "Teams").

use super::{Extra, NoParams};
use crate::boundary::operation::{Operation, call, call_id, list};
use crate::error::Result;
use crate::http::{Http, Method, Pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// A team (a group of rooms with shared membership).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    /// Team id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// When it was created.
    pub created: Option<String>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters of `teams.create`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTeam {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// Parameters of `teams.update` (besides `teamId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTeam {
    /// Name (the cloud requires it on every update).
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// Parameters of `teams.list`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListTeams {
    /// Page size.
    pub max: Option<u32>,
}

/// The teams API.
#[derive(Clone)]
pub struct Teams {
    pub(crate) http: Http,
}

impl Teams {
    /// Create a team; the caller becomes its first member (and a general room is created).
    pub async fn create(&self, params: &CreateTeam) -> Result<Team> {
        super::create(&self.http, "teams", params).await
    }

    /// List the caller's teams, lazily across pages.
    pub fn list(&self, params: &ListTeams) -> Result<Pages<Team>> {
        super::list(&self.http, "teams", params)
    }

    /// Get a team.
    pub async fn get(&self, team_id: &str) -> Result<Team> {
        super::get(&self.http, "teams", "teamId", team_id).await
    }

    /// Update a team.
    pub async fn update(&self, team_id: &str, params: &UpdateTeam) -> Result<Team> {
        super::update(&self.http, Method::PUT, "teams", "teamId", team_id, params).await
    }

    /// Delete a team.
    pub async fn delete(&self, team_id: &str) -> Result<()> {
        super::delete(&self.http, "teams", "teamId", team_id, &NoParams {}).await
    }
}

/// The teams rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call("teams.create", "Create a team; the caller becomes its first member.", |c, p: CreateTeam| async move {
            c.teams().create(&p).await
        }),
        list("teams.list", "List the caller's teams.", |c, p: ListTeams| c.teams().list(&p)),
        call_id("teams.get", "teamId", "Get a team.", |c, id, _: NoParams| async move { c.teams().get(&id).await }),
        call_id("teams.update", "teamId", "Update a team.", |c, id, p: UpdateTeam| async move {
            c.teams().update(&id, &p).await
        }),
        call_id(
            "teams.delete",
            "teamId",
            "Delete a team.",
            |c, id, _: NoParams| async move { c.teams().delete(&id).await },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_keeps_unknowns() {
        let t: Team = serde_json::from_value(serde_json::json!({
            "id": "Y2lzY29zcGFyazovL3VzL1RFQU0vMA",
            "name": "Build Squad",
            "description": "Builders",
            "created": "2015-10-18T14:26:16+00:00",
            "creatorId": "p1"
        }))
        .unwrap();
        assert_eq!(t.name.as_deref(), Some("Build Squad"));
        assert_eq!(t.extra["creatorId"], "p1");
        assert_eq!(serde_json::to_value(&t).unwrap()["creatorId"], "p1");
    }

    #[test]
    fn update_requires_name() {
        assert!(serde_json::from_value::<UpdateTeam>(serde_json::json!({"description": "d"})).is_err());
        assert!(serde_json::from_value::<CreateTeam>(serde_json::json!({"name": "n", "title": "t"})).is_err());
    }
}
