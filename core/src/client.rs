//! The client: one configured connection to the Webex cloud, with typed resource APIs and
//! live events.

use crate::config::Config;
use crate::credentials::Credentials;
use crate::device::Devices;
use crate::error::{Error, Result};
use crate::events::{Event, EventHub};
use crate::http::Http;
use crate::listener::{self, ListenState};
use crate::mercury::{self, Mercury};
use crate::rest::{
    attachment_actions::AttachmentActions, meetings::ScheduledMeetings, memberships::Memberships, messages::Messages,
    people::People, rooms::Rooms, team_memberships::TeamMemberships, teams::Teams, webhooks::Webhooks,
};
use crate::storage::{self, Storage};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// How long closing waits for the device to be unregistered.
pub const UNREGISTER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A Webex client. Cheap to clone; clones share everything.
///
/// Lifetime: dropping the last clone does not stop a client that connected its event socket
/// (`listen`, `connect`): the socket task holds it and keeps reconnecting. End a client with
/// [`Client::shutdown`], which closes the socket, unregisters an in-memory device and ends
/// the event streams; [`Client::close`] only ends the event streams.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: Http,
    events: Arc<EventHub>,
    devices: Arc<Devices>,
    mercury: Mercury,
    listen: Arc<ListenState>,
    /// Taken by the first `connect`, which starts the event processor.
    envelopes: Mutex<Option<mpsc::UnboundedReceiver<Value>>>,
    catalog: tokio::sync::Mutex<bool>,
    persistent_device: bool,
    meetings: Arc<crate::meetings::Meetings>,
}

impl Client {
    /// A client for `config`. Emits `ready` once its storage is loaded (protocol.md §2.8);
    /// nothing is sent to the cloud until a call needs it.
    pub fn new(config: Config) -> Result<Client> {
        crate::log::init(config.str("logger.level").unwrap_or("error"), config.u64("logger.historyLength") as usize);
        // Logged here, once the client's log level is in place: logged while parsing, the first
        // client's warnings (a misspelt key) went nowhere.
        for w in config.warnings() {
            tracing::warn!(target: "webex::config", "{w}");
        }
        let credentials = Arc::new(Credentials::from_config(&config));
        let token_store: Arc<dyn Storage> =
            storage::from_setting(config.get("storage.boundedAdapter"), "storage.boundedAdapter")?.into();
        credentials.attach_storage(token_store);
        let http = Http::new(&config, credentials.clone())?;
        let device_store: Arc<dyn Storage> =
            storage::from_setting(config.get("storage.unboundedAdapter"), "storage.unboundedAdapter")?.into();
        let persistent_device = config.get("storage.unboundedAdapter").is_some_and(Value::is_object);
        let devices = Arc::new(Devices::new(http.clone(), device_store, &config));
        let events = Arc::new(EventHub::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let hub = events.clone();
        let lifecycle: mercury::Lifecycle = Arc::new(move |e| hub.emit(e));
        credentials.set_event_hook(lifecycle.clone());
        let mercury =
            Mercury::new(http.clone(), devices.clone(), mercury::Options::from_config(&config), tx, lifecycle);
        let meetings = Arc::new(crate::meetings::Meetings::new(
            http.clone(),
            events.clone(),
            crate::meetings::MeetingSettings::from_config(&config),
        ));
        let client = Client {
            inner: Arc::new(Inner {
                config,
                http,
                events,
                devices,
                mercury,
                listen: Arc::default(),
                envelopes: Mutex::new(Some(rx)),
                catalog: tokio::sync::Mutex::new(false),
                persistent_device,
                meetings,
            }),
        };
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

    /// Device registration.
    pub fn devices(&self) -> &Arc<Devices> {
        &self.inner.devices
    }

    /// Meetings (joining them; `scheduled_meetings` is the `/meetings` REST API).
    pub fn meetings(&self) -> &Arc<crate::meetings::Meetings> {
        &self.inner.meetings
    }

    /// The event socket.
    pub fn mercury(&self) -> &Mercury {
        &self.inner.mercury
    }

    /// Subscribe to public events; events emitted before the first subscription are held
    /// and delivered to it (only to it: `ready`, emitted by [`Client::new`], reaches the first
    /// subscriber). The events: `ready`; `online`, `offline.transient`, `offline.permanent`,
    /// `offline.replaced` (the socket); `<resource>:<event>` once [`Client::listen`] asked for
    /// the resource (`messages:created`, `memberships:updated`, ...); `event:<type>` (raw socket
    /// events); `credentials:refresh`, `credentials:refreshed`; `meeting:*`, `members:update`,
    /// `media:*` for joined meetings.
    pub fn events(&self) -> mpsc::UnboundedReceiver<Event> {
        self.inner.events.subscribe()
    }

    /// Emit a public event (the engine's own: apps receive, never inject).
    pub(crate) fn emit(&self, event: Event) {
        self.inner.events.emit(event);
    }

    /// Load the U2C catalog once (retried on the next call after a failure).
    pub async fn load_catalog(&self) -> Result<()> {
        let mut loaded = self.inner.catalog.lock().await;
        if !*loaded {
            crate::catalog::load(&self.inner.http).await?;
            *loaded = true;
        }
        Ok(())
    }

    /// Register the device and open the event socket; resolves once it is online.
    pub async fn connect(&self) -> Result<()> {
        let envelopes = self.inner.envelopes.lock().ok().and_then(|mut e| e.take());
        if let Some(rx) = envelopes {
            let verbose = self.inner.config.bool("meetings.logging.verboseEvents");
            tokio::spawn(listener::run(
                rx,
                self.inner.http.clone(),
                self.inner.events.clone(),
                self.inner.listen.clone(),
                self.inner.meetings.clone(),
                verbose,
            ));
        }
        self.load_catalog().await?;
        self.inner.mercury.connect().await
    }

    /// Start emitting `<resource>:*` events (`messages`, `memberships`, `rooms`,
    /// `attachmentActions`), connecting first if needed: the official `listen()`.
    pub async fn listen(&self, resource: &str) -> Result<()> {
        if !listener::RESOURCES.contains(&resource) {
            return Err(Error::invalid(format!(
                "cannot listen to '{resource}'; one of {}",
                listener::RESOURCES.join(", ")
            )));
        }
        let me = self.people().me().await?;
        self.inner.listen.add(resource, &serde_json::to_value(&me).unwrap_or_default());
        self.connect().await
    }

    /// Stop emitting a resource's events; the socket closes when nothing is listened to.
    pub async fn stop_listening(&self, resource: &str) {
        if !self.inner.listen.remove(resource) {
            self.inner.mercury.disconnect().await;
        }
    }

    /// Close the socket, unregister an in-memory device (a persisted one is kept for the next
    /// start), and end the event streams.
    pub async fn shutdown(&self) {
        self.inner.http.stop_fetching_ahead();
        // Media connections close with the client (the meetings are not left: Locus drops
        // the participant when its keep-alives stop).
        self.inner.meetings.close_media().await;
        self.inner.mercury.disconnect().await;
        if !self.inner.persistent_device {
            // Bounded: closing must not hang on a network that drops traffic (the cloud
            // expires an unregistered device by itself).
            match tokio::time::timeout(UNREGISTER_WAIT, self.inner.devices.unregister()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(target: "webex::device", "unregister on close failed: {e}"),
                Err(_) => {
                    tracing::warn!(target: "webex::device", "unregister on close gave up after {UNREGISTER_WAIT:?}")
                }
            }
        }
        self.inner.events.close();
    }

    /// End the event streams now (the synchronous part of [`Client::shutdown`]; the socket
    /// and the device stay until that runs).
    pub fn close(&self) {
        self.inner.http.stop_fetching_ahead();
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
