//! Attachment actions (adaptive card submissions): `/attachment/actions` (protocol.md §1.8,
//! OpenAPI webex-messaging "Attachment Actions").

use super::{Extra, NoParams};
use crate::boundary::operation::{Operation, call, call_id};
use crate::error::Result;
use crate::http::Http;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

const RESOURCE: &str = "attachment/actions";

crate::wire_enum!(
    /// The kind of card action.
    AttachmentActionType {
        /// The card's inputs were submitted.
        Submit = "submit",
    }
);

impl Default for AttachmentActionType {
    /// `submit`, the only kind the cloud accepts today.
    fn default() -> Self {
        AttachmentActionType::Submit
    }
}

/// An action performed on a message's card.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentAction {
    /// Action id.
    pub id: String,
    /// Who performed it.
    pub person_id: Option<String>,
    /// The room it happened in.
    pub room_id: Option<String>,
    /// `submit`.
    #[serde(rename = "type")]
    pub action_type: Option<AttachmentActionType>,
    /// The message carrying the card.
    pub message_id: Option<String>,
    /// The card's input values by input id.
    pub inputs: Option<Map<String, Value>>,
    /// When it happened.
    pub created: Option<String>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters of `attachmentActions.create`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAttachmentAction {
    /// The kind of action (default `submit`).
    #[serde(rename = "type", default)]
    pub action_type: AttachmentActionType,
    /// The message carrying the card.
    pub message_id: String,
    /// The card's input values by input id (a JSON object).
    pub inputs: Map<String, Value>,
}

/// The attachment actions API.
#[derive(Clone)]
pub struct AttachmentActions {
    pub(crate) http: Http,
}

impl AttachmentActions {
    /// Submit a card action (as if the user pressed a card's submit button).
    pub async fn create(&self, params: &CreateAttachmentAction) -> Result<AttachmentAction> {
        super::create(&self.http, RESOURCE, params).await
    }

    /// Get an attachment action (e.g. the one a webhook or event names).
    pub async fn get(&self, id: &str) -> Result<AttachmentAction> {
        super::get(&self.http, RESOURCE, "id", id).await
    }
}

/// The attachment actions rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call("attachmentActions.create", "Submit a card action.", |c, p: CreateAttachmentAction| async move {
            c.attachment_actions().create(&p).await
        }),
        call_id("attachmentActions.get", "id", "Get an attachment action.", |c, id, _: NoParams| async move {
            c.attachment_actions().get(&id).await
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_keeps_unknowns() {
        let a: AttachmentAction = serde_json::from_value(serde_json::json!({
            "id": "aa1",
            "personId": "p1",
            "roomId": "r1",
            "type": "execute",
            "messageId": "m1",
            "inputs": {"Name": "John Andersen", "Email": "john.andersen@example.com"},
            "created": "2016-05-10T19:41:00.100Z",
            "orgId": "o1"
        }))
        .unwrap();
        assert_eq!(a.action_type, Some(AttachmentActionType::Other("execute".into())));
        assert_eq!(a.inputs.as_ref().unwrap()["Name"], "John Andersen");
        assert_eq!(a.extra["orgId"], "o1");
    }

    #[test]
    fn create_defaults_to_submit_and_wants_an_object() {
        let p: CreateAttachmentAction =
            serde_json::from_value(serde_json::json!({"messageId": "m", "inputs": {"a": 1}})).unwrap();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"type": "submit", "messageId": "m", "inputs": {"a": 1}})
        );
        assert!(
            serde_json::from_value::<CreateAttachmentAction>(serde_json::json!({"messageId": "m", "inputs": [1]}))
                .is_err()
        );
    }
}
