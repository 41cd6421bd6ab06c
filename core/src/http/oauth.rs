//! Getting and renewing tokens: the OAuth 2.0 authorization-code flow at the idbroker
//! (protocol.md §2.2), the refresh-token grant, guest login from a JWT (`POST <hydra>/jwt/login`)
//! and renewal by the app itself.

use super::{Body, Http, HttpRequest, Method};
use crate::credentials::{Renewal, TokenSet};
use crate::error::{Error, ErrorCode, Result};
use crate::events::Event;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Http {
    /// The URL to send a user to so they grant this app access (`authorize`, response type
    /// `code`); `state` comes back on the redirect.
    pub fn authorization_url(&self, state: Option<&str>) -> Result<String> {
        let c = self.credentials();
        let (Some(client_id), Some(redirect_uri)) = (&c.client_id, &c.redirect_uri) else {
            return Err(Error::invalid("authorization.url needs credentials.client_id and credentials.redirect_uri"));
        };
        let mut url = url::Url::parse(&format!("{}/idb/oauth2/v1/authorize", c.idbroker))
            .map_err(|e| Error::invalid(format!("credentials.idbroker.url: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", client_id)
                .append_pair("redirect_uri", redirect_uri);
            q.append_pair("scope", c.scope.as_deref().unwrap_or("spark:all"));
            if let Some(state) = state {
                q.append_pair("state", state);
            }
        }
        Ok(url.into())
    }

    /// Exchange an authorization code for tokens and use them from now on.
    pub async fn exchange_code(&self, code: &str) -> Result<TokenSet> {
        let c = self.credentials();
        let (Some(client_id), Some(secret), Some(redirect_uri)) = (&c.client_id, &c.client_secret, &c.redirect_uri)
        else {
            return Err(Error::invalid(
                "authorization.exchangeCode needs credentials.client_id, credentials.client_secret and credentials.redirect_uri",
            ));
        };
        let form = vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), redirect_uri.clone()),
            ("client_id".into(), client_id.clone()),
            ("client_secret".into(), secret.clone()),
        ];
        let tokens = self.token_request(form, None).await?;
        c.set(tokens.clone());
        Ok(tokens)
    }

    /// Log in as a guest with a JWT (`POST <hydra>/jwt/login`); the JWT is kept to log in
    /// again when the token expires.
    pub async fn jwt_login(&self, jwt: &str) -> Result<TokenSet> {
        crate::log::register_secret(jwt);
        let mut request = HttpRequest::new(Method::POST, self.service_url("hydra", "jwt/login")?).without_auth();
        request.headers.push(("authorization".into(), format!("Bearer {jwt}")));
        let answer: Value = self.send_json(request).await.map_err(|e| {
            if e.code == ErrorCode::Unauthorized {
                Error {
                    message: "the guest JWT was refused (expired or not signed by a known issuer); create a new one"
                        .into(),
                    ..e
                }
            } else {
                e
            }
        })?;
        let token = answer
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("jwt/login answered without `token`"))?;
        let tokens = TokenSet {
            access_token: token.to_owned(),
            refresh_token: None,
            expires_at: answer.get("expiresIn").and_then(Value::as_u64).map(|s| now_ms() + s * 1000),
            jwt: Some(jwt.to_owned()),
        };
        self.credentials().set(tokens.clone());
        Ok(tokens)
    }

    /// Renew the token now. `seen` is the token the caller's request used: when another task
    /// renewed it meanwhile, nothing more is done.
    pub async fn renew_token(&self, seen: Option<&str>, reason: &str) -> Result<()> {
        let c = self.credentials().clone();
        let _one_at_a_time = c.renewing.lock().await;
        if c.access_token().as_deref() != seen {
            return Ok(());
        }
        let tokens = c.tokens().unwrap_or_default();
        match c.renewal() {
            Renewal::None => Err(Error::new(
                ErrorCode::Unauthorized,
                "the access token was refused and cannot be renewed; provide a new one",
            )),
            Renewal::Jwt => self.jwt_login(tokens.jwt.as_deref().unwrap_or_default()).await.map(drop),
            Renewal::RefreshToken => {
                let form = vec![
                    ("grant_type".into(), "refresh_token".into()),
                    ("refresh_token".into(), tokens.refresh_token.clone().unwrap_or_default()),
                    ("client_id".into(), c.client_id.clone().unwrap_or_default()),
                    ("client_secret".into(), c.client_secret.clone().unwrap_or_default()),
                ];
                let renewed = self.token_request(form, tokens.refresh_token.clone()).await.map_err(|e| {
                    if matches!(e.code, ErrorCode::Unauthorized | ErrorCode::InvalidArgument) {
                        Error {
                            code: ErrorCode::Unauthorized,
                            message: format!("the refresh token was refused ({}); re-authorize the user (authorization.url, then authorization.exchangeCode)", e.message),
                            ..e
                        }
                    } else {
                        e
                    }
                })?;
                c.set(renewed);
                c.emit(Event::new("credentials:refreshed", json!({"reason": reason})));
                Ok(())
            }
            Renewal::Callback => {
                let mut changed = c.changed.subscribe();
                changed.borrow_and_update();
                c.emit(Event::new("credentials:refresh", json!({"reason": reason})));
                let wait = tokio::time::timeout(std::time::Duration::from_secs(60), changed.changed()).await;
                match wait {
                    Ok(Ok(())) => Ok(()),
                    _ => Err(Error::new(
                        ErrorCode::Unauthorized,
                        "the app did not renew the token (credentials:refresh went unanswered for 60 s); call credentials.set",
                    )),
                }
            }
        }
    }

    async fn token_request(&self, form: Vec<(String, String)>, keep_refresh: Option<String>) -> Result<TokenSet> {
        let c = self.credentials();
        let mut request =
            HttpRequest::new(Method::POST, format!("{}/idb/oauth2/v1/access_token", c.idbroker)).without_auth();
        request.body = Body::Form(form);
        let answer: Value = self.send_json(request).await?;
        let access = answer
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("the token endpoint answered without `access_token`"))?;
        Ok(TokenSet {
            access_token: access.to_owned(),
            refresh_token: answer.get("refresh_token").and_then(Value::as_str).map(str::to_owned).or(keep_refresh),
            expires_at: answer.get("expires_in").and_then(Value::as_u64).map(|s| now_ms() + s * 1000),
            jwt: None,
        })
    }
}
