//! Credentials: the access token, how it is renewed, and who may read it.
//!
//! The token lives here only; the HTTP pipeline asks for it per request, so a token renewed
//! or set later is used by the next request. Renewal (protocol.md §1.6, §2.2): with a refresh
//! token and an OAuth client, the engine refreshes at the idbroker token URL before expiry and
//! once after a 401; a guest logged in from a JWT logs in again; with
//! `credentials.refreshCallback` the app renews (it gets `credentials:refresh` and answers
//! with `credentials.set`).

use crate::config::Config;
use crate::events::Event;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A token set as the cloud hands it out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenSet {
    /// The access token.
    pub access_token: String,
    /// The refresh token, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires, in ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// A guest JWT to log in again with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
}

/// How a token can be renewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renewal {
    /// Not at all: a 401 is final.
    None,
    /// Refresh-token grant at the idbroker.
    RefreshToken,
    /// Log in again with the guest JWT.
    Jwt,
    /// Ask the app (`credentials:refresh`) and wait for `credentials.set`.
    Callback,
}

/// The current credentials.
pub struct Credentials {
    tokens: RwLock<Option<TokenSet>>,
    token_type: String,
    /// OAuth client id and secret (for code exchange and refresh).
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<String>,
    /// OAuth redirect URI.
    pub redirect_uri: Option<String>,
    /// OAuth scopes.
    pub scope: Option<String>,
    /// The idbroker base URL.
    pub idbroker: String,
    /// The app renews tokens itself.
    pub callback: bool,
    /// Bumped whenever the token changes (waiters for an app's renewal watch it).
    pub changed: tokio::sync::watch::Sender<u64>,
    /// One renewal at a time.
    pub renewing: tokio::sync::Mutex<()>,
    events: OnceLock<Arc<dyn Fn(Event) + Send + Sync>>,
    store: OnceLock<Arc<dyn crate::storage::Storage>>,
    /// Held by `set` across the store's write and the memory's, so two sets at once (a
    /// renewal and the app's own) leave the store and memory with the same, last token.
    /// Not the `tokens` lock: the app's store may call back into the client and read it.
    setting: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { <redacted> }")
    }
}

const STORAGE_KEY: &str = "credentials";

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Credentials {
    /// Credentials from the config's `credentials` block.
    pub fn from_config(config: &Config) -> Credentials {
        for secret in ["credentials.access_token", "credentials.refresh_token", "credentials.client_secret"] {
            if let Some(s) = config.str(secret) {
                crate::log::register_secret(s);
            }
        }
        let tokens = config.str("credentials.access_token").map(|t| TokenSet {
            access_token: t.to_owned(),
            refresh_token: config.str("credentials.refresh_token").map(str::to_owned),
            expires_at: config.get("credentials.expires_in").and_then(|v| v.as_u64()).map(|s| now_ms() + s * 1000),
            jwt: None,
        });
        let owned = |p: &str| config.str(p).map(str::to_owned);
        Credentials {
            tokens: RwLock::new(tokens),
            token_type: config.str("credentials.token_type").unwrap_or("Bearer").to_owned(),
            client_id: owned("credentials.client_id"),
            client_secret: owned("credentials.client_secret"),
            redirect_uri: owned("credentials.redirect_uri"),
            scope: owned("credentials.scope"),
            idbroker: config
                .str("credentials.idbroker.url")
                .unwrap_or("https://idbroker.webex.com")
                .trim_end_matches('/')
                .to_owned(),
            callback: config.bool("credentials.refreshCallback"),
            changed: tokio::sync::watch::channel(0).0,
            renewing: tokio::sync::Mutex::new(()),
            events: OnceLock::new(),
            store: OnceLock::new(),
            setting: std::sync::Mutex::new(()),
        }
    }

    /// Where renewal events go (set once by the client).
    pub fn set_event_hook(&self, hook: Arc<dyn Fn(Event) + Send + Sync>) {
        let _ = self.events.set(hook);
    }

    /// Emit an event through the client's hub.
    pub fn emit(&self, event: Event) {
        if let Some(hook) = self.events.get() {
            hook(event);
        }
    }

    /// Persist tokens in `store`; tokens already stored there are used when the config gave none.
    pub fn attach_storage(&self, store: Arc<dyn crate::storage::Storage>) {
        let stored = store.get(STORAGE_KEY).and_then(|v| serde_json::from_value::<TokenSet>(v).ok());
        if let Ok(mut t) = self.tokens.write() {
            match (&*t, stored) {
                (None, Some(s)) => {
                    crate::log::register_secret(&s.access_token);
                    if let Some(r) = &s.refresh_token {
                        crate::log::register_secret(r);
                    }
                    *t = Some(s);
                }
                (Some(current), _) => {
                    let _ = store.put(STORAGE_KEY, &serde_json::to_value(current).unwrap_or_default());
                }
                (None, None) => {}
            }
        }
        let _ = self.store.set(store);
    }

    /// The `Authorization` header value, if there is a token.
    pub fn authorization(&self) -> Option<String> {
        Some(format!("{} {}", self.token_type, self.access_token()?))
    }

    /// The bare token (for redaction and the socket's auth frame).
    pub fn access_token(&self) -> Option<String> {
        self.tokens.read().ok()?.as_ref().map(|t| t.access_token.clone())
    }

    /// The whole token set.
    pub fn tokens(&self) -> Option<TokenSet> {
        self.tokens.read().ok()?.clone()
    }

    /// Whether a token is present.
    pub fn can_authorize(&self) -> bool {
        self.access_token().is_some() || self.renewal() != Renewal::None
    }

    /// How the token can be renewed now.
    pub fn renewal(&self) -> Renewal {
        let t = self.tokens();
        if t.as_ref().is_some_and(|t| t.jwt.is_some()) {
            Renewal::Jwt
        } else if t.as_ref().is_some_and(|t| t.refresh_token.is_some()) && self.client_id.is_some() {
            Renewal::RefreshToken
        } else if self.callback {
            Renewal::Callback
        } else {
            Renewal::None
        }
    }

    /// Whether the token expires within `margin` (and so should be renewed first).
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.tokens().and_then(|t| t.expires_at).is_some_and(|at| now_ms() + margin.as_millis() as u64 >= at)
    }

    /// Replace the tokens (and persist them).
    pub fn set(&self, tokens: TokenSet) {
        crate::log::register_secret(&tokens.access_token);
        if let Some(r) = &tokens.refresh_token {
            crate::log::register_secret(r);
        }
        {
            let _one = self.setting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(store) = self.store.get() {
                let _ = store.put(STORAGE_KEY, &serde_json::to_value(&tokens).unwrap_or_default());
            }
            if let Ok(mut t) = self.tokens.write() {
                *t = Some(tokens);
            }
        }
        self.changed.send_modify(|n| *n += 1);
    }

    /// Replace only the access token (keeps the refresh token).
    pub fn set_access_token(&self, token: Option<String>) {
        match token {
            Some(access_token) => {
                let mut t = self.tokens().unwrap_or_default();
                t.access_token = access_token;
                t.expires_at = None;
                self.set(t);
            }
            None => {
                if let Ok(mut t) = self.tokens.write() {
                    *t = None;
                }
            }
        }
    }

    /// `text` with every secret this object holds replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if let Some(t) = self.tokens() {
            for s in [Some(t.access_token), t.refresh_token, t.jwt].into_iter().flatten() {
                if s.len() >= 4 {
                    out = out.replace(&s, "<redacted>");
                }
            }
        }
        crate::log::redact(&out)
    }
}
