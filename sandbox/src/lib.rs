//! `webex-sandbox`: a local, offline, Webex-compatible cloud for tests.
//!
//! A real HTTP server on loopback with in-memory state that speaks the Webex REST API
//! ("hydra", under `/v1`), the U2C service catalog, WDM device registration and the Mercury
//! websocket (with `conversation.activity` events for every hydra mutation), Locus meeting
//! signalling (join, leave, mute, end) with `locus.*` events, a WebRTC media server that
//! forwards audio and video between participants (ROAP over `PUT <selfUrl>/media`, answers in
//! the response or over Mercury), a built-in participant playing a tone and a test pattern,
//! plus a `/_sandbox/` admin API for users, fault injection, the request log and Mercury controls.
//! See `shared/protocol.md` §1, §3, §4, §5 and §6.

mod activities;
mod admin;
mod body;
mod catalog;
mod devices;
mod errors;
mod faults;
pub mod ids;
mod locus;
mod markdown;
mod mercury;
mod middleware;
mod oauth;
mod paging;
mod record;
mod routes;
mod state;
mod store;
mod time;
mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use devices::{DEFAULT_DEVICE_CAP, EXCESSIVE as EXCESSIVE_DEVICES_MESSAGE};
pub use faults::Fault;
pub use locus::bot::{BotVideo, MEDIA_BOT_EMAIL, MediaBotOptions};
pub use locus::control::MEETING_CONTROLS;
pub use locus::sfu::ParticipantMedia;
pub use mercury::MercuryClose;
pub use mercury::buffer::DEFAULT_BUFFER_CAP;
pub use mercury::socket::AUTH_TIMEOUT_REASON;
pub use record::RecordedRequest;

use state::{AppState, Shared, lock};
use store::Store;

/// Where the sandbox listens and how its live-events side behaves.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// TCP port; 0 lets the OS pick a free one.
    pub port: u16,
    /// Interface to bind; defaults to 127.0.0.1.
    pub host: IpAddr,
    /// WDM registrations allowed per user ([`DEFAULT_DEVICE_CAP`]); beyond it `POST devices`
    /// answers 400 with [`EXCESSIVE_DEVICES_MESSAGE`].
    pub device_cap: usize,
    /// Serve the U2C catalog without the `wdm` service (also switchable at run time with
    /// [`Sandbox::set_catalog_wdm`]).
    pub catalog_without_wdm: bool,
    /// How long a Mercury socket may stay open without a valid authorization frame before it
    /// is closed with 1008 and [`AUTH_TIMEOUT_REASON`] (default 30 s).
    pub mercury_auth_timeout: Duration,
    /// Unacknowledged events kept per device ([`DEFAULT_BUFFER_CAP`]); the oldest are dropped
    /// beyond it.
    pub mercury_buffer_cap: usize,
    /// Lifetime of access tokens issued by the OAuth and guest endpoints (the seeded users'
    /// tokens never expire).
    pub access_token_ttl: Duration,
    /// Serve HTTPS (and `wss://` for Mercury) with a certificate from a CA made for this
    /// sandbox ([`Sandbox::ca_certificate`]); ALPN offers HTTP/2 and HTTP/1.1, as the cloud's
    /// front ends do. Off by default: plain `http://` on loopback.
    pub tls: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            device_cap: DEFAULT_DEVICE_CAP,
            catalog_without_wdm: false,
            mercury_auth_timeout: Duration::from_secs(30),
            mercury_buffer_cap: DEFAULT_BUFFER_CAP,
            access_token_ttl: Duration::from_secs(14 * 24 * 3600),
            tls: false,
        }
    }
}

/// A user of the sandbox cloud with a valid access token.
#[derive(Clone, Debug, Serialize)]
pub struct SandboxUser {
    /// Primary email (lower case).
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Bearer token, shaped `<64 hex>_PF84_<orgUuid>` like a real one.
    pub token: String,
    /// Hydra person id.
    pub person_id: String,
    /// Whether this is the bot account.
    pub is_bot: bool,
}

/// A running sandbox server. Dropping it stops the server.
#[derive(Debug)]
pub struct Sandbox {
    shared: AppState,
    /// The runtime it serves on: controls called from other threads (the bindings') run
    /// their media work there.
    runtime: tokio::runtime::Handle,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Email of the seeded bot.
pub const BOT_EMAIL: &str = "sandbox-bot@webex.bot";

impl Sandbox {
    /// Binds, seeds the org (a bot, alice@example.com, bob@example.com) and starts serving.
    pub async fn start(opts: SandboxOptions) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(opts.host, opts.port)).await?;
        let addr = listener.local_addr()?;
        // A wildcard bind is reachable on loopback; advertise that.
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            match addr.ip() {
                IpAddr::V6(ip) => format!("[{ip}]"),
                IpAddr::V4(ip) => ip.to_string(),
            }
        };
        let host_port = format!("{host}:{}", addr.port());
        let mut store = Store { org: uuid::Uuid::new_v4(), app: uuid::Uuid::new_v4(), ..Store::default() };
        store.oauth = oauth::OauthState::new(opts.access_token_ttl);
        for (email, name, kind) in [
            (BOT_EMAIL, "Sandbox Bot", "bot"),
            ("alice@example.com", "Alice", "person"),
            ("bob@example.com", "Bob", "person"),
        ] {
            let uuid = store.add_person(email, name, kind);
            store.new_token(uuid);
        }
        let authority = if opts.tls { Some(tls::Authority::new(opts.host)?) } else { None };
        let base_url = format!("{}://{host_port}", if opts.tls { "https" } else { "http" });
        let loci = locus::LocusStore::new(&base_url, store.org, opts.host);
        let hub = mercury::Hub::new(&base_url, opts.device_cap, opts.mercury_buffer_cap);
        let shared = Arc::new(Shared {
            base_url,
            ca_pem: authority.as_ref().map(|a| a.ca_pem.clone()),
            host_port,
            host,
            store: Mutex::new(store),
            locus: Mutex::new(loci),
            faults: Mutex::default(),
            log: Mutex::default(),
            logged: tokio::sync::watch::channel(0).0,
            mercury: Mutex::new(hub),
            catalog_wdm: AtomicBool::new(!opts.catalog_without_wdm),
            auth_timeout: opts.mercury_auth_timeout,
            connections: tokio::sync::watch::channel(0).0,
            socket_tokens: Mutex::default(),
        });
        let app = routes::app(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stop = async {
                let _ = rx.await;
            };
            match authority {
                Some(authority) => {
                    // `tap_io` (a no-op here: Nagle is off before the handshake) is what lets
                    // axum hand the peer address to handlers for any listener.
                    let listener = axum::serve::ListenerExt::tap_io(
                        tls::TlsListener::new(listener, authority.server),
                        |_: &mut tls::Stream| {},
                    );
                    let _ = axum::serve(listener, app).with_graceful_shutdown(stop).await;
                }
                None => {
                    // No Nagle: a response written in more than one piece (HTTP/2 frames,
                    // websocket frames) must not wait for the client's delayed ACK (40 ms).
                    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                        let _ = tcp.set_nodelay(true);
                    });
                    let _ = axum::serve(listener, app).with_graceful_shutdown(stop).await;
                }
            }
        });
        Ok(Sandbox { shared, runtime: tokio::runtime::Handle::current(), shutdown: Some(tx), task: Some(task) })
    }

    /// `http://127.0.0.1:PORT` (`https://` with [`SandboxOptions::tls`]).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The PEM certificate of the CA that signed the sandbox's server certificate, when it
    /// serves HTTPS: give it to a client as `http.caCertificates`.
    pub fn ca_certificate(&self) -> Option<String> {
        self.shared.ca_pem.clone()
    }

    /// A client config document acting as the user with this email: their token, the
    /// sandbox's discovery URLs and, over HTTPS, the CA to trust. `None` for an unknown user.
    pub fn client_config(&self, email: &str) -> Option<Value> {
        let user = self.user(email)?;
        let mut config = json!({
            "credentials": {"access_token": user.token},
            "services": {"discovery": {"hydra": self.hydra_url(), "u2c": self.u2c_url()}},
        });
        if let Some(ca) = &self.shared.ca_pem {
            config["http"] = json!({"caCertificates": ca});
        }
        Some(config)
    }

    /// The hydra base, `<base>/v1`.
    pub fn hydra_url(&self) -> String {
        self.shared.hydra()
    }

    /// The U2C base, `<base>/u2c/api/v1`.
    pub fn u2c_url(&self) -> String {
        format!("{}/u2c/api/v1", self.shared.base_url)
    }

    /// Every user that holds a token (invited, pending people are not users yet).
    pub fn users(&self) -> Vec<SandboxUser> {
        users_of(&self.shared)
    }

    /// The user with this email.
    pub fn user(&self, email: &str) -> Option<SandboxUser> {
        let email = email.trim().to_lowercase();
        self.users().into_iter().find(|u| u.email == email)
    }

    /// The seeded bot.
    pub fn bot(&self) -> SandboxUser {
        // The bot is seeded at start and people are never deleted, so it is always there.
        self.user(BOT_EMAIL).unwrap_or_else(|| add_user_to(&self.shared, BOT_EMAIL, "Sandbox Bot"))
    }

    /// Adds a user (or returns the existing one with that email; an invited, pending
    /// person becomes a full user).
    pub fn add_user(&self, email: &str, display_name: &str) -> SandboxUser {
        add_user_to(&self.shared, email, display_name)
    }

    /// Issues another valid token for an existing user.
    pub fn add_token(&self, email: &str) -> Option<String> {
        let mut store = self.shared.store();
        let p = store.person_by_email(email).filter(|p| !p.pending)?.uuid;
        Some(store.new_token(p))
    }

    /// Arms a fault; returns its id.
    pub fn inject_fault(&self, fault: Fault) -> u64 {
        lock(&self.shared.faults).add(fault)
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every request seen so far (last 10,000), oldest first; `/_sandbox/` calls excluded.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).all()
    }

    /// The request log as every binding shows it, oldest first: `[{"method", "path" (with
    /// the query), "version", "status"}]`. Headers are left out: they carry tokens.
    pub fn requests_json(&self) -> Value {
        let rows = lock(&self.shared.log).all().into_iter();
        Value::Array(
            rows.map(|r| json!({"method": r.method, "path": r.path, "version": r.version, "status": r.status}))
                .collect(),
        )
    }

    /// A receiver whose value changes after every request is logged; await `changed()` /
    /// `wait_for(..)` and re-read [`Sandbox::requests`] to wait for a request a client makes
    /// on its own (a prefetch, a retry) instead of polling.
    pub fn requests_watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.logged.subscribe()
    }

    /// `{"hydra", "u2c", "wdm", "orgId", "users": [{"email", "token", "personId", "displayName", "type"}],
    /// "oauth", "caCertificate"}` (the CA's PEM over TLS, else null).
    pub fn info_json(&self) -> Value {
        info_json(&self.shared)
    }

    /// Stops the server, letting in-flight requests finish; Mercury sockets are closed with
    /// 1001 ("going away": clients reconnect).
    pub async fn stop(mut self) {
        self.close_sockets();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            // A client holding a request open could stall a graceful shutdown; bound it.
            let grace = std::time::Duration::from_secs(5);
            if tokio::time::timeout(grace, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Sandbox {
    fn close_sockets(&self) {
        lock(&self.shared.mercury).close_all(Some((1001, "sandbox stopping".into())));
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.close_sockets();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn users_of(st: &Shared) -> Vec<SandboxUser> {
    let store = st.store();
    store
        .people
        .iter()
        .filter(|p| !p.pending)
        .filter_map(|p| {
            Some(SandboxUser {
                email: p.email.clone(),
                display_name: p.display_name.clone(),
                token: store.token_of(p.uuid)?,
                person_id: p.id(),
                is_bot: p.kind == "bot",
            })
        })
        .collect()
}

pub(crate) fn add_user_to(st: &Shared, email: &str, display_name: &str) -> SandboxUser {
    let mut store = st.store();
    let uuid = store.add_person(email, display_name, "person");
    let token = match store.token_of(uuid) {
        Some(t) => t,
        None => store.new_token(uuid),
    };
    let p = store.person(uuid).cloned();
    let (email, display_name, kind) = p
        .map(|p| (p.email, p.display_name, p.kind))
        .unwrap_or_else(|| (email.to_lowercase(), display_name.to_string(), "person"));
    SandboxUser {
        email,
        display_name,
        token,
        person_id: ids::encode_uuid(ids::IdType::People, uuid),
        is_bot: kind == "bot",
    }
}

pub(crate) fn user_json(u: &SandboxUser) -> Value {
    json!({
        "email": u.email,
        "token": u.token,
        "personId": u.person_id,
        "displayName": u.display_name,
        "type": if u.is_bot { "bot" } else { "person" },
    })
}

pub(crate) fn info_json(st: &Shared) -> Value {
    let users: Vec<Value> = users_of(st).iter().map(user_json).collect();
    let store = st.store();
    let org = store.org_id();
    json!({
        "hydra": st.hydra(),
        "u2c": format!("{}/u2c/api/v1", st.base_url),
        "wdm": format!("{}/wdm/api/v1", st.base_url),
        "orgId": org,
        "users": users,
        // Over HTTPS, the CA certificate (PEM) a client must trust; null over plain HTTP.
        "caCertificate": st.ca_pem,
        // The one OAuth integration: `credentials.idbroker.url` is `idbroker`; its authorize
        // endpoint consents at once for the user named by `login_hint`.
        "oauth": {
            "clientId": store.oauth.client_id,
            "clientSecret": store.oauth.client_secret,
            "idbroker": st.base_url,
        },
    })
}
