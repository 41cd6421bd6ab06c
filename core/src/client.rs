//! The client: one configured connection to the Webex cloud, with typed resource APIs.

use crate::config::Config;
use crate::credentials::Credentials;
use crate::error::Result;
use crate::events::{Event, EventHub};
use crate::http::Http;
use crate::rest::{
    attachment_actions::AttachmentActions, meetings::ScheduledMeetings, memberships::Memberships, messages::Messages,
    people::People, rooms::Rooms, team_memberships::TeamMemberships, teams::Teams, webhooks::Webhooks,
};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A Webex client. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: Http,
    events: EventHub,
}

impl Client {
    /// A client for `config`. Emits `ready` once its storage is loaded (memory storage: at once,
    /// protocol.md §2.8); nothing is sent to the cloud until a call needs it.
    pub fn new(config: Config) -> Result<Client> {
        let credentials = Arc::new(Credentials::from_config(&config));
        let http = Http::new(&config, credentials)?;
        let client = Client { inner: Arc::new(Inner { config, http, events: EventHub::default() }) };
        client.emit(Event::new("ready", json!({})));
        Ok(client)
    }

    /// A client from a JSON config document.
    pub fn from_json(config: &str) -> Result<Client> {
        Client::new(Config::from_json_str(config)?)
    }

    /// The effective config.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The request pipeline.
    pub fn http(&self) -> &Http {
        &self.inner.http
    }

    /// Subscribe to public events; events emitted before the first subscription are held
    /// and delivered to it.
    pub fn events(&self) -> mpsc::UnboundedReceiver<Event> {
        self.inner.events.subscribe()
    }

    /// Emit a public event.
    pub fn emit(&self, event: Event) {
        self.inner.events.emit(event);
    }

    /// Close the client: event streams end.
    pub fn close(&self) {
        self.inner.events.close();
    }

    /// Rooms.
    pub fn rooms(&self) -> Rooms {
        Rooms { http: self.inner.http.clone() }
    }

    /// Memberships.
    pub fn memberships(&self) -> Memberships {
        Memberships { http: self.inner.http.clone() }
    }

    /// Messages.
    pub fn messages(&self) -> Messages {
        Messages { http: self.inner.http.clone() }
    }

    /// People.
    pub fn people(&self) -> People {
        People { http: self.inner.http.clone() }
    }

    /// Teams.
    pub fn teams(&self) -> Teams {
        Teams { http: self.inner.http.clone() }
    }

    /// Team memberships.
    pub fn team_memberships(&self) -> TeamMemberships {
        TeamMemberships { http: self.inner.http.clone() }
    }

    /// Webhooks.
    pub fn webhooks(&self) -> Webhooks {
        Webhooks { http: self.inner.http.clone() }
    }

    /// Attachment actions (adaptive card submissions).
    pub fn attachment_actions(&self) -> AttachmentActions {
        AttachmentActions { http: self.inner.http.clone() }
    }

    /// Scheduled meetings (`/meetings` REST; joining meetings is `meetings.*` in the table).
    pub fn scheduled_meetings(&self) -> ScheduledMeetings {
        ScheduledMeetings { http: self.inner.http.clone() }
    }
}
