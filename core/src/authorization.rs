//! The credential rows of the operation table: OAuth, guest login, setting and renewing tokens.

use crate::boundary::operation::{Operation, call};
use crate::credentials::{Renewal, TokenSet};
use crate::rest::NoParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// Params of `authorization.url`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlParams {
    /// Opaque value returned on the redirect (protects against CSRF).
    #[serde(default)]
    pub state: Option<String>,
}

/// Params of `authorization.exchangeCode`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeParams {
    /// The `code` from the redirect.
    pub code: String,
}

/// Params of `authorization.requestAccessTokenFromJwt`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtParams {
    /// The guest issuer's signed JWT.
    pub jwt: String,
}

/// Params of `credentials.set`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetParams {
    /// The new access token.
    pub access_token: String,
    /// A refresh token, if any.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// What `credentials.status` reports (never the tokens themselves).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// A token is present or can be obtained.
    pub can_authorize: bool,
    /// When the access token expires (ms since the epoch), if known.
    pub expires_at: Option<u64>,
    /// `none`, `refreshToken`, `jwt` or `callback`.
    pub renewal: &'static str,
}

/// What token operations answer (never the tokens themselves: they stay in the engine).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Granted {
    /// When the new access token expires (ms since the epoch), if known.
    pub expires_at: Option<u64>,
    /// Whether a refresh token came with it.
    pub has_refresh_token: bool,
}

fn granted(t: TokenSet) -> Granted {
    Granted { expires_at: t.expires_at, has_refresh_token: t.refresh_token.is_some() }
}

/// The rows.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call("authorization.url", "The OAuth authorize URL to send the user to.", |c, p: UrlParams| async move {
            c.http().authorization_url(p.state.as_deref())
        }),
        call("authorization.exchangeCode", "Exchange the redirect's code for tokens.", |c, p: CodeParams| async move {
            c.http().exchange_code(&p.code).await.map(granted)
        }),
        call(
            "authorization.requestAccessTokenFromJwt",
            "Log in as a guest with a JWT.",
            |c, p: JwtParams| async move { c.http().jwt_login(&p.jwt).await.map(granted) },
        ),
        call(
            "credentials.set",
            "Use this token from now on (e.g. after credentials:refresh).",
            |c, p: SetParams| async move {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
                let mut tokens = c.http().credentials().tokens().unwrap_or_default();
                tokens.access_token = p.access_token;
                tokens.expires_at = p.expires_in.map(|s| now + s * 1000);
                if p.refresh_token.is_some() {
                    tokens.refresh_token = p.refresh_token;
                }
                c.http().credentials().set(tokens);
                Ok(())
            },
        ),
        call("credentials.refresh", "Renew the access token now.", |c, _: NoParams| async move {
            let seen = c.http().credentials().access_token();
            c.http().renew_token(seen.as_deref(), "requested").await
        }),
        call("credentials.status", "Whether the client can authorize, and until when.", |c, _: NoParams| async move {
            let creds = c.http().credentials();
            Ok(Status {
                can_authorize: creds.can_authorize(),
                expires_at: creds.tokens().and_then(|t| t.expires_at),
                renewal: match creds.renewal() {
                    Renewal::None => "none",
                    Renewal::RefreshToken => "refreshToken",
                    Renewal::Jwt => "jwt",
                    Renewal::Callback => "callback",
                },
            })
        }),
    ]
}
