//! Credentials: the access token and who may read it.
//!
//! The token lives here only; the HTTP pipeline asks for it per request, so a token set later
//! (`credentials.set`) is used by the next request.

use crate::config::Config;
use std::sync::RwLock;

/// The current access token.
#[derive(Debug, Default)]
pub struct Credentials {
    token: RwLock<Option<String>>,
    token_type: String,
}

impl Credentials {
    /// Credentials from the config's `credentials` block.
    pub fn from_config(config: &Config) -> Credentials {
        for secret in ["credentials.access_token", "credentials.refresh_token", "credentials.client_secret"] {
            if let Some(s) = config.str(secret) {
                crate::log::register_secret(s);
            }
        }
        Credentials {
            token: RwLock::new(config.str("credentials.access_token").map(str::to_owned)),
            token_type: config.str("credentials.token_type").unwrap_or("Bearer").to_owned(),
        }
    }

    /// The `Authorization` header value, if there is a token.
    pub fn authorization(&self) -> Option<String> {
        let token = self.token.read().ok()?.clone()?;
        Some(format!("{} {token}", self.token_type))
    }

    /// The bare token (for redaction and the socket's auth frame).
    pub fn access_token(&self) -> Option<String> {
        self.token.read().ok()?.clone()
    }

    /// Whether a token is present.
    pub fn can_authorize(&self) -> bool {
        self.token.read().map(|t| t.is_some()).unwrap_or(false)
    }

    /// Replace the token.
    pub fn set_access_token(&self, token: Option<String>) {
        if let Some(t) = &token {
            crate::log::register_secret(t);
        }
        if let Ok(mut t) = self.token.write() {
            *t = token;
        }
    }

    /// `text` with every secret this object holds replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        match self.access_token() {
            Some(token) if token.len() >= 4 => text.replace(&token, "<redacted>"),
            _ => text.to_owned(),
        }
    }
}
