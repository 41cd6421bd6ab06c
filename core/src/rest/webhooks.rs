//! Webhooks: `/webhooks` (protocol.md §1.8, OpenAPI webex-messaging "Webhooks").

use super::{Extra, NoParams};
use crate::boundary::operation::{Operation, call, call_id, list};
use crate::error::Result;
use crate::http::{Http, Method, Pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

crate::wire_enum!(
    /// The resource a webhook watches.
    WebhookResource {
        /// Adaptive card submissions.
        AttachmentActions = "attachmentActions",
        /// Data sources.
        DataSources = "dataSources",
        /// Room memberships.
        Memberships = "memberships",
        /// Messages.
        Messages = "messages",
        /// Rooms.
        Rooms = "rooms",
        /// Meetings.
        Meetings = "meetings",
        /// Recordings.
        Recordings = "recordings",
        /// Converged recordings.
        ConvergedRecordings = "convergedRecordings",
        /// Meeting participants.
        MeetingParticipants = "meetingParticipants",
        /// Meeting transcripts.
        MeetingTranscripts = "meetingTranscripts",
        /// Webex Calling calls.
        TelephonyCalls = "telephony_calls",
        /// Webex Calling conferences.
        TelephonyConference = "telephony_conference",
        /// Webex Calling message waiting indicators.
        TelephonyMwi = "telephony_mwi",
        /// Unified communications counters.
        UcCounters = "uc_counters",
        /// Service apps.
        ServiceApp = "serviceApp",
        /// Admin batch jobs.
        AdminBatchJobs = "adminBatchJobs",
        /// Every resource (historical, UNSURE).
        All = "all",
    }
);

crate::wire_enum!(
    /// The event a webhook fires on.
    WebhookEvent {
        /// An object was created.
        Created = "created",
        /// An object was updated.
        Updated = "updated",
        /// An object was deleted.
        Deleted = "deleted",
        /// A meeting started.
        Started = "started",
        /// A meeting ended.
        Ended = "ended",
        /// A participant joined.
        Joined = "joined",
        /// A participant left.
        Left = "left",
        /// A meeting was migrated.
        Migrated = "migrated",
        /// A service app was authorized.
        Authorized = "authorized",
        /// A service app was deauthorized.
        Deauthorized = "deauthorized",
        /// A status changed.
        StatusChanged = "statusChanged",
        /// Every event (historical, UNSURE).
        All = "all",
    }
);

crate::wire_enum!(
    /// Whether a webhook delivers.
    WebhookStatus {
        /// Delivering.
        Active = "active",
        /// Disabled (e.g. after repeated delivery failures).
        Inactive = "inactive",
    }
);

impl Default for WebhookResource {
    /// An empty value (like an empty `String`): the cloud rejects it.
    fn default() -> Self {
        WebhookResource::Other(String::new())
    }
}

impl Default for WebhookEvent {
    /// An empty value (like an empty `String`): the cloud rejects it.
    fn default() -> Self {
        WebhookEvent::Other(String::new())
    }
}

/// A webhook.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Webhook id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// The URL that receives the POSTs.
    pub target_url: Option<String>,
    /// The watched resource.
    pub resource: Option<WebhookResource>,
    /// The watched event.
    pub event: Option<WebhookEvent>,
    /// Filter (e.g. `roomId=...`).
    pub filter: Option<String>,
    /// Secret used to sign deliveries (`X-Spark-Signature`).
    pub secret: Option<String>,
    /// `active` or `inactive`.
    pub status: Option<WebhookStatus>,
    /// When it was created.
    pub created: Option<String>,
    /// `org` for org-wide webhooks.
    pub owned_by: Option<String>,
    /// The creator's org.
    pub org_id: Option<String>,
    /// Who created it.
    pub created_by: Option<String>,
    /// The integration that created it.
    pub app_id: Option<String>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters of `webhooks.create`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// Name.
    pub name: String,
    /// The URL that receives the POSTs.
    pub target_url: String,
    /// The resource to watch.
    pub resource: WebhookResource,
    /// The event to watch.
    pub event: WebhookEvent,
    /// Filter (e.g. `roomId=...`).
    pub filter: Option<String>,
    /// Secret to sign deliveries with (HMAC-SHA1 in `X-Spark-Signature`).
    pub secret: Option<String>,
    /// `org` for an org-wide webhook (admins).
    pub owned_by: Option<String>,
}

/// Parameters of `webhooks.update` (besides `webhookId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhook {
    /// Name (the cloud requires it on every update).
    pub name: String,
    /// Target URL (the cloud requires it on every update).
    pub target_url: String,
    /// Secret.
    pub secret: Option<String>,
    /// `org` for an org-wide webhook.
    pub owned_by: Option<String>,
    /// `active` re-enables a disabled webhook.
    pub status: Option<WebhookStatus>,
}

/// Parameters of `webhooks.list`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListWebhooks {
    /// Page size.
    pub max: Option<u32>,
    /// `org` to list org-wide webhooks.
    pub owned_by: Option<String>,
}

/// The webhooks API.
#[derive(Clone)]
pub struct Webhooks {
    pub(crate) http: Http,
}

impl Webhooks {
    /// Create a webhook.
    pub async fn create(&self, params: &CreateWebhook) -> Result<Webhook> {
        super::create(&self.http, "webhooks", params).await
    }

    /// List webhooks, lazily across pages.
    pub fn list(&self, params: &ListWebhooks) -> Result<Pages<Webhook>> {
        super::list(&self.http, "webhooks", params)
    }

    /// Get a webhook.
    pub async fn get(&self, webhook_id: &str) -> Result<Webhook> {
        super::get(&self.http, "webhooks", "webhookId", webhook_id).await
    }

    /// Update a webhook.
    pub async fn update(&self, webhook_id: &str, params: &UpdateWebhook) -> Result<Webhook> {
        super::update(&self.http, Method::PUT, "webhooks", "webhookId", webhook_id, params).await
    }

    /// Delete a webhook.
    pub async fn delete(&self, webhook_id: &str) -> Result<()> {
        super::delete(&self.http, "webhooks", "webhookId", webhook_id, &NoParams {}).await
    }
}

/// The webhooks rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call(
            "webhooks.create",
            "Create a webhook.",
            |c, p: CreateWebhook| async move { c.webhooks().create(&p).await },
        ),
        list("webhooks.list", "List webhooks.", |c, p: ListWebhooks| c.webhooks().list(&p)),
        call_id("webhooks.get", "webhookId", "Get a webhook.", |c, id, _: NoParams| async move {
            c.webhooks().get(&id).await
        }),
        call_id("webhooks.update", "webhookId", "Update a webhook.", |c, id, p: UpdateWebhook| async move {
            c.webhooks().update(&id, &p).await
        }),
        call_id("webhooks.delete", "webhookId", "Delete a webhook.", |c, id, _: NoParams| async move {
            c.webhooks().delete(&id).await
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_keeps_unknowns() {
        let w: Webhook = serde_json::from_value(serde_json::json!({
            "id": "w1",
            "name": "My Attachment Action Webhook",
            "targetUrl": "https://example.com/mywebhook",
            "resource": "messages",
            "event": "reacted",
            "filter": "roomId=r1",
            "secret": "86dacc007724d8ea666f88fc77d918dad9537a15",
            "status": "paused",
            "created": "2015-10-18T14:26:16+00:00",
            "ownedBy": "org",
            "orgId": "o1",
            "createdBy": "p1",
            "appId": "a1",
            "hookVersion": 2
        }))
        .unwrap();
        assert_eq!(w.resource, Some(WebhookResource::Messages));
        assert_eq!(w.event, Some(WebhookEvent::Other("reacted".into())));
        assert_eq!(w.status, Some(WebhookStatus::Other("paused".into())));
        assert_eq!(w.extra["hookVersion"], 2);
        let back = serde_json::to_value(&w).unwrap();
        assert_eq!(back["event"], "reacted");
        assert_eq!(back["hookVersion"], 2);
    }

    #[test]
    fn create_encodes_wire_names() {
        let p: CreateWebhook = serde_json::from_value(serde_json::json!({
            "name": "n", "targetUrl": "https://x", "resource": "telephony_calls", "event": "created"
        }))
        .unwrap();
        assert_eq!(p.resource, WebhookResource::TelephonyCalls);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": "n", "targetUrl": "https://x", "resource": "telephony_calls", "event": "created"})
        );
        assert!(serde_json::from_value::<CreateWebhook>(serde_json::json!({"name": "n", "targetUrl": "u"})).is_err());
    }
}
