//! OAuth 2.0 and guest login, as the real idbroker and hydra answer them (protocol.md §2.2):
//! `GET /idb/oauth2/v1/authorize` (the user "consents" at once and is redirected with a code),
//! `POST /idb/oauth2/v1/access_token` (authorization_code and refresh_token grants, form
//! encoded), and `POST /v1/jwt/login` (a guest issuer's HS256 JWT for an access token).
//! Tokens issued here expire after `SandboxOptions::access_token_ttl`, measured on the
//! sandbox clock (`Sandbox::advance_clock` moves it, so tests never wait).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

use crate::state::{AppState, bearer, lock};

/// Refresh tokens live 90 days, as the cloud's do.
const REFRESH_TTL_MS: i64 = 90 * 24 * 3600 * 1000;
/// Guest tokens live 6 hours (UNSURE: the cloud's `expiresIn` for guests varies).
const GUEST_TTL_S: i64 = 6 * 3600;

/// OAuth and guest state, kept in the store.
#[derive(Debug, Default)]
pub struct OauthState {
    /// The one registered integration.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The guest issuer's HS256 secret.
    pub guest_secret: Vec<u8>,
    /// The guest issuer id (JWT `iss`).
    pub guest_issuer: String,
    access_ttl_ms: i64,
    /// Access token -> expiry (sandbox clock, ms).
    expiry: HashMap<String, i64>,
    /// Refresh token -> (person, expiry).
    refresh: HashMap<String, (Uuid, i64)>,
    /// Code -> (person, redirect_uri).
    codes: HashMap<String, (Uuid, String)>,
    /// Added to the wall clock (test hook).
    pub skew_ms: i64,
}

fn random_hex(bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rand::random::<u8>())).collect()
}

impl OauthState {
    /// A fresh integration and guest issuer.
    pub fn new(access_ttl: Duration) -> OauthState {
        OauthState {
            client_id: format!("C{}", random_hex(32)),
            client_secret: random_hex(32),
            guest_secret: (0..32).map(|_| rand::random::<u8>()).collect(),
            guest_issuer: format!("Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9{}", random_hex(8)),
            access_ttl_ms: i64::try_from(access_ttl.as_millis()).unwrap_or(i64::MAX),
            ..OauthState::default()
        }
    }

    /// Now on the sandbox clock.
    pub fn now_ms(&self) -> i64 {
        crate::time::now_ms() + self.skew_ms
    }

    /// Whether an issued token has expired (seeded tokens never do).
    pub fn expired(&self, token: &str) -> bool {
        self.expiry.get(token).is_some_and(|at| self.now_ms() >= *at)
    }

    /// The tokens that are expired now.
    pub fn expired_tokens(&self) -> Vec<String> {
        let now = self.now_ms();
        self.expiry.iter().filter(|(_, at)| now >= **at).map(|(t, _)| t.clone()).collect()
    }

    /// Sign a guest JWT (what a guest issuer's backend would hand its users).
    pub fn guest_jwt(&self, subject: &str, name: &str, ttl: Duration) -> String {
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let exp = self.now_ms() / 1000 + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let signing = format!(
            "{}.{}",
            b64(&json!({"alg": "HS256", "typ": "JWT"})),
            b64(&json!({"sub": subject, "name": name, "iss": self.guest_issuer, "exp": exp}))
        );
        format!("{signing}.{}", self.sign(&signing))
    }

    fn sign(&self, input: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.guest_secret).expect("HMAC takes any key length");
        mac.update(input.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The verified claims of a guest JWT, or why it is refused.
    fn verify(&self, jwt: &str) -> Result<Value, &'static str> {
        let parts: Vec<&str> = jwt.split('.').collect();
        let [h, p, sig] = parts.as_slice() else { return Err("not a JWT") };
        let expected = self.sign(&format!("{h}.{p}"));
        if expected.as_bytes() != sig.as_bytes() {
            return Err("bad signature");
        }
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).map_err(|_| "bad payload")?;
        let claims: Value = serde_json::from_slice(&payload).map_err(|_| "bad payload")?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.guest_issuer.as_str()) {
            return Err("unknown issuer");
        }
        if claims.get("exp").and_then(Value::as_i64).is_none_or(|exp| exp * 1000 <= self.now_ms()) {
            return Err("expired");
        }
        Ok(claims)
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/idb/oauth2/v1/authorize", get(authorize))
        .route("/idb/oauth2/v1/access_token", post(access_token))
        .route("/v1/jwt/login", post(jwt_login))
}

/// OAuth errors use the OAuth shape (RFC 6749 §5.2), not hydra's.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description, "trackingId": crate::errors::current_tracking_id()}))).into_response()
}

async fn authorize(State(st): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut store = st.store();
    if q.get("response_type").map(String::as_str) != Some("code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_response_type", "response_type must be code");
    }
    if q.get("client_id") != Some(&store.oauth.client_id) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client", "unknown client_id");
    }
    let Some(redirect) = q.get("redirect_uri").filter(|r| r.starts_with("http")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "redirect_uri is required");
    };
    // The sandbox has no login page: `login_hint` names the user who consents (default Alice).
    let email = q.get("login_hint").map_or("alice@example.com", String::as_str);
    let Some(person) = store.person_by_email(email).map(|p| p.uuid) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "login_hint names no user");
    };
    let code = random_hex(24);
    store.oauth.codes.insert(code.clone(), (person, redirect.clone()));
    let mut location = url_with(redirect, "code", &code);
    if let Some(state) = q.get("state") {
        location = url_with(&location, "state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn url_with(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let encoded: String = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
    format!("{url}{sep}{encoded}")
}

async fn access_token(State(st): State<AppState>, Form(f): Form<HashMap<String, String>>) -> Response {
    let mut store = st.store();
    if f.get("client_id") != Some(&store.oauth.client_id) || f.get("client_secret") != Some(&store.oauth.client_secret)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client_id or client_secret is wrong");
    }
    let person = match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = f.get("code").cloned().unwrap_or_default();
            match store.oauth.codes.remove(&code) {
                Some((p, redirect)) if f.get("redirect_uri") == Some(&redirect) => p,
                Some(_) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "redirect_uri does not match"),
                None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "the code is unknown or used"),
            }
        }
        Some("refresh_token") => {
            let refresh = f.get("refresh_token").cloned().unwrap_or_default();
            let now = store.oauth.now_ms();
            match store.oauth.refresh.get(&refresh).copied() {
                Some((p, exp)) if exp > now => {
                    let access = issue(&mut store, p);
                    let ttl = store.oauth.access_ttl_ms / 1000;
                    return Json(json!({"access_token": access, "token_type": "Bearer", "expires_in": ttl,
                        "refresh_token": refresh, "refresh_token_expires_in": (exp - now) / 1000}))
                    .into_response();
                }
                _ => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "the refresh token is expired or revoked",
                    );
                }
            }
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            );
        }
    };
    let access = issue(&mut store, person);
    let refresh = random_hex(40);
    let now = store.oauth.now_ms();
    store.oauth.refresh.insert(refresh.clone(), (person, now + REFRESH_TTL_MS));
    let ttl = store.oauth.access_ttl_ms / 1000;
    Json(json!({"access_token": access, "token_type": "Bearer", "expires_in": ttl,
        "refresh_token": refresh, "refresh_token_expires_in": REFRESH_TTL_MS / 1000}))
    .into_response()
}

/// A new expiring access token for `person`.
fn issue(store: &mut crate::store::Store, person: Uuid) -> String {
    let token = store.new_token(person);
    let at = store.oauth.now_ms() + store.oauth.access_ttl_ms;
    store.oauth.expiry.insert(token.clone(), at);
    token
}

async fn jwt_login(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let jwt = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer).map(str::to_owned);
    let mut store = st.store();
    let claims = match jwt.as_deref().map(|j| store.oauth.verify(j)) {
        Some(Ok(c)) => c,
        Some(Err(why)) => {
            return crate::errors::ApiError::new(StatusCode::UNAUTHORIZED, format!("JWT refused: {why}"))
                .into_response();
        }
        None => return crate::errors::ApiError::unauthorized().into_response(),
    };
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("guest");
    let name = claims.get("name").and_then(Value::as_str).unwrap_or(sub);
    let email = format!("{sub}@guest.sandbox.webex.com");
    let person = store.add_person(&email, name, "person");
    let token = store.new_token(person);
    let at = store.oauth.now_ms() + GUEST_TTL_S * 1000;
    store.oauth.expiry.insert(token.clone(), at);
    Json(json!({"token": token, "expiresIn": GUEST_TTL_S})).into_response()
}

/// After the clock moved: close every socket whose token has expired with 4401.
pub(crate) fn close_expired_sockets(st: &AppState) {
    let expired = st.store().oauth.expired_tokens();
    if expired.is_empty() {
        return;
    }
    let socks: Vec<u64> =
        lock(&st.socket_tokens).iter().filter(|(_, t)| expired.contains(t)).map(|(s, _)| *s).collect();
    for sock in socks {
        lock(&st.mercury).close_socket(sock, Some((4401, "token expired".into())));
        lock(&st.socket_tokens).remove(&sock);
    }
}
