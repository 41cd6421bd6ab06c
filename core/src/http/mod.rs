//! The request pipeline: base URLs, the token only where it belongs, tracking ids and user
//! agents (protocol.md §1.5), `cisco-location` redirects, the retry policy, timeouts, and the
//! mapping of every failure to the stable error codes.

mod ahead;
mod oauth;
mod paging;
mod retry;
mod services;

pub use paging::{Pages, TextPage, next_link};
pub use retry::{Decision, Outcome, RetryPolicy, parse_retry_after};
pub use services::Services;

use crate::config::{self, Config};
use crate::credentials::{Credentials, Renewal};
use crate::error::{Error, ErrorCode, Result};
use crate::tls::Trust;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Renew a token this long before it expires.
const RENEW_MARGIN: Duration = Duration::from_secs(60);

/// The HTTP method of a request.
pub use reqwest::Method;

/// A request body.
#[derive(Clone, Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// `application/json`.
    Json(Value),
    /// `multipart/form-data` (file uploads, protocol.md §1.1).
    Multipart(Vec<FormPart>),
    /// `application/x-www-form-urlencoded` (OAuth token requests).
    Form(Vec<(String, String)>),
}

/// One part of a multipart body.
#[derive(Clone, Debug)]
pub enum FormPart {
    /// A plain text field.
    Text {
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
    /// A file.
    File {
        /// Field name (`files` for messages).
        name: String,
        /// The file name the cloud will show.
        filename: String,
        /// Its media type.
        mime: String,
        /// Its bytes (kept so a retried request can send them again).
        bytes: Arc<[u8]>,
    },
}

/// A request, before the pipeline adds headers and policy.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL, query included.
    pub url: String,
    /// Extra query parameters.
    pub query: Vec<(String, String)>,
    /// Body.
    pub body: Body,
    /// Whether the token may be attached (it still goes only where services allow it).
    pub auth: bool,
    /// Extra headers (e.g. a guest JWT as `authorization` on `auth: false` requests).
    pub headers: Vec<(String, String)>,
}

impl HttpRequest {
    /// A request with no body.
    pub fn new(method: Method, url: impl Into<String>) -> HttpRequest {
        HttpRequest { method, url: url.into(), query: Vec::new(), body: Body::Empty, auth: true, headers: Vec::new() }
    }

    /// Never attach the token (e.g. the limited catalog, protocol.md §3.2).
    pub fn without_auth(mut self) -> HttpRequest {
        self.auth = false;
        self
    }

    /// A GET.
    pub fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest::new(Method::GET, url)
    }

    /// With a JSON body.
    pub fn json(mut self, body: Value) -> HttpRequest {
        self.body = Body::Json(body);
        self
    }

    /// With query parameters taken from a JSON object (null members are left out; lists are
    /// joined with commas, as the cloud expects for `id` lists).
    pub fn query_from(mut self, params: &Value) -> HttpRequest {
        if let Value::Object(map) = params {
            for (k, v) in map {
                let text = match v {
                    Value::Null => continue,
                    Value::String(s) => s.clone(),
                    Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                self.query.push((k.clone(), text));
            }
        }
        self
    }

    /// `METHOD /path`, for messages (no host, no query: nothing secret).
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, url_path(&self.url))
    }

    fn idempotent(&self) -> bool {
        self.method != Method::POST && self.method != Method::PATCH
    }
}

/// A response with its body read.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
    what: String,
}

impl HttpResponse {
    /// Every value of a header.
    pub fn header_values(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers.get_all(name).iter().filter_map(|v| v.to_str().ok())
    }

    /// The body as JSON of type `T`; a malformed or unexpected body is a PROTOCOL error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        // The fast path decodes once; only a failure pays for the path-tracking decoder that
        // names where the shape went wrong.
        if let Ok(value) = serde_json::from_slice(&self.body) {
            return Ok(value);
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            if inner.is_syntax() || inner.is_eof() {
                Error::protocol(format!("{}: the cloud answered malformed JSON ({inner})", self.what))
            } else {
                Error::protocol(format!("{}: unexpected response shape at `{}`: {inner}", self.what, e.path()))
            }
        })
    }
}

/// The pipeline. Cheap to clone; clones share connections and counters.
#[derive(Clone)]
pub struct Http {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    /// TLS for the sockets the client opens itself (Mercury), trusting what `client` trusts.
    socket_tls: Arc<rustls::ClientConfig>,
    services: Arc<Services>,
    credentials: Arc<Credentials>,
    policy: RetryPolicy,
    session_id: String,
    counter: AtomicU64,
    spark_user_agent: String,
    max_redirects: u64,
    max_auth_replays: u64,
    /// `http.prefetchPages`.
    prefetch_pages: bool,
    /// Pages being fetched ahead of `pages.next` (`ahead.rs`); `None` once the client closed.
    ahead: std::sync::Mutex<Option<VecDeque<ahead::Ahead>>>,
}

impl Http {
    /// Build the pipeline from the config.
    pub fn new(config: &Config, credentials: Arc<Credentials>) -> Result<Http> {
        install_crypto_provider();
        let user_agent = match (config.str("appName"), config.str("appVersion")) {
            (Some(name), version) => format!("{name}/{}", version.unwrap_or("0.0")),
            _ => format!("webex-native/{}", crate::VERSION),
        };
        let trust = Trust::from_config(config)?;
        if matches!(trust, Trust::AnyCertificate) {
            tracing::warn!(target: "webex::http", "http.verifyTls is false: TLS certificates are NOT verified");
        }
        // A websocket upgrade is HTTP/1.1: say so in ALPN, so a server offering HTTP/2 picks 1.1.
        let socket_tls = Arc::new(trust.client_config(&[b"http/1.1"])?);
        let mut builder = trust.apply(
            reqwest::Client::builder()
                .user_agent(user_agent)
                .timeout(config.millis("http.timeoutMs"))
                .connect_timeout(config.millis("http.timeoutMs").min(Duration::from_secs(10)))
                .redirect(reqwest::redirect::Policy::none()),
        )?;
        if let Some(proxy) = config.str("defaultMercuryOptions.proxy") {
            let proxy =
                reqwest::Proxy::all(proxy).map_err(|e| Error::invalid(format!("defaultMercuryOptions.proxy: {e}")))?;
            builder = builder.proxy(proxy);
        }
        let client = builder.build().map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        let session_id = {
            let base = config.str("trackingIdBase").map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
            let mut id = format!("{}_{base}", config.str("trackingIdPrefix").unwrap_or("webex-native"));
            if let Some(suffix) = config.str("trackingIdSuffix").filter(|s| !s.is_empty()) {
                id.push('_');
                id.push_str(suffix);
            }
            id
        };
        Ok(Http {
            inner: Arc::new(Inner {
                client,
                socket_tls,
                services: Arc::new(services_from(config)),
                credentials,
                policy: RetryPolicy {
                    max_retries: config.u64("http.maxRetries") as u32,
                    retry_after_default: config.millis("http.retryAfterDefaultMs"),
                    max_retry_after: config.millis("http.maxRetryAfterMs"),
                    backoff_base: config.millis("http.backoffBaseMs"),
                },
                session_id,
                counter: AtomicU64::new(0),
                spark_user_agent: spark_user_agent(config),
                max_redirects: config.u64("maxAppLevelRedirects"),
                max_auth_replays: config.u64("maxAuthenticationReplays"),
                prefetch_pages: config.bool("http.prefetchPages"),
                ahead: std::sync::Mutex::new(Some(VecDeque::new())),
            }),
        })
    }

    /// The service map.
    pub fn services(&self) -> &Arc<Services> {
        &self.inner.services
    }

    /// TLS for sockets the client opens itself (Mercury): the same trust as REST calls.
    pub fn socket_tls(&self) -> Arc<rustls::ClientConfig> {
        self.inner.socket_tls.clone()
    }

    /// The credentials the pipeline authorizes with.
    pub fn credentials(&self) -> &Arc<Credentials> {
        &self.inner.credentials
    }

    /// `<service base>/<resource>`; unknown services are an error naming the service.
    pub fn service_url(&self, service: &str, resource: &str) -> Result<String> {
        let base = self.inner.services.url(service).ok_or_else(|| {
            Error::invalid(format!(
                "'{service}' is not a known service; set services.override.{service} or check the catalog"
            ))
        })?;
        Ok(format!("{base}/{}", resource.trim_start_matches('/')))
    }

    /// The session part of tracking ids.
    pub fn session_id(&self) -> &str {
        &self.inner.session_id
    }

    /// Send a request through the whole pipeline; a non-2xx answer is an `Error`.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let what = request.describe();
        let mut request = request;
        let mut redirects = 0u64;
        let mut attempt = 0u32;
        let mut replays = 0u64;
        // Whether this URL may carry the token: decided once per URL (again after a redirect).
        let mut bearer = self.bearer_for(&request);
        let credentials = self.inner.credentials.clone();
        if bearer && credentials.renewal() != Renewal::None && credentials.expires_within(RENEW_MARGIN) {
            // Renew before expiry; if that fails the request still goes and a 401 decides.
            if let Err(e) = self.renew_boxed(credentials.access_token(), "expiring").await {
                tracing::warn!(target: "webex::credentials", "renewing the token before expiry failed: {e}");
            }
        }
        loop {
            let used = credentials.access_token();
            let outcome = self.attempt(&request, bearer, &what).await;
            if let Ok(resp) = &outcome
                && resp.status == 401
                && bearer
                && replays < self.inner.max_auth_replays
                && credentials.renewal() != Renewal::None
            {
                replays += 1;
                self.renew_boxed(used.clone(), "unauthorized").await?;
                continue;
            }
            let (decision_input, retry_after) = match &outcome {
                Ok(resp) => (
                    Outcome::Status(resp.status),
                    resp.headers.get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned),
                ),
                Err((_, o)) => (*o, None),
            };
            // Moved: `cisco-location`, or Locus's 404 with errorCode 2000002 and the new
            // `location` (protocol.md §6.1), followed alike within one budget.
            if let Ok(resp) = &outcome
                && let Some(location) = locus_redirect(resp)
                    .or_else(|| resp.headers.get("cisco-location").and_then(|v| v.to_str().ok()).map(str::to_owned))
                && redirects < self.inner.max_redirects
                && config::is_http_url(&location)
                && self.may_follow(&request, &location)
            {
                redirects += 1;
                request.url = location;
                request.query.clear();
                bearer = self.bearer_for(&request);
                continue;
            }
            match self.inner.policy.decide(attempt, decision_input, request.idempotent(), retry_after.as_deref()) {
                Decision::RetryAfter(wait) => {
                    tracing::debug!(target: "webex::http", "{what}: retry {} after {wait:?} ({decision_input:?})", attempt + 1);
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                Decision::Done => {
                    return match outcome {
                        Ok(resp) if (200..300).contains(&resp.status) => Ok(resp),
                        Ok(resp) => Err(self.status_error(&resp, &what)),
                        Err((e, _)) => Err(e),
                    };
                }
            }
        }
    }

    /// Whether `request` may be sent again to `url` when the cloud moves it there. Secrets
    /// the request carries itself (an OAuth form with a refresh token or client secret, its
    /// own `Authorization` such as a guest JWT) are not the token `bearer` guards, so they
    /// follow a redirect only where the token may go; elsewhere the redirect answer stands.
    /// Whether the request's URL may carry the token (decided once per URL).
    fn bearer_for(&self, request: &HttpRequest) -> bool {
        request.auth && self.inner.services.may_receive_token(&request.url)
    }

    fn may_follow(&self, request: &HttpRequest, url: &str) -> bool {
        let own_secret = matches!(request.body, Body::Form(_))
            || request.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        !own_secret || self.inner.services.may_receive_token(url)
    }

    /// `renew_token` behind a box: renewing sends requests itself, so `send` cannot hold its
    /// future by value.
    fn renew_boxed(
        &self,
        seen: Option<String>,
        reason: &'static str,
    ) -> futures_util::future::BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.renew_token(seen.as_deref(), reason).await })
    }

    /// Send and decode a JSON answer.
    pub async fn send_json<T: DeserializeOwned>(&self, request: HttpRequest) -> Result<T> {
        self.send(request).await?.json()
    }

    /// One try of `request`; `bearer`: whether its URL may carry the token.
    async fn attempt(
        &self,
        request: &HttpRequest,
        bearer: bool,
        what: &str,
    ) -> std::result::Result<HttpResponse, (Error, Outcome)> {
        let n = self.inner.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let mut rb = self
            .inner
            .client
            .request(request.method.clone(), &request.url)
            .header("trackingid", format!("{}_{n}", self.inner.session_id))
            .header("spark-user-agent", &self.inner.spark_user_agent)
            .header("cisco-no-http-redirect", "true")
            .header("accept", "application/json");
        if !request.query.is_empty() {
            rb = rb.query(&request.query);
        }
        for (name, value) in &request.headers {
            if let Ok(mut v) = HeaderValue::from_str(value) {
                v.set_sensitive(name.eq_ignore_ascii_case("authorization"));
                rb = rb.header(name.as_str(), v);
            }
        }
        if bearer
            && let Some(auth) = self.inner.credentials.authorization()
            && let Ok(mut value) = HeaderValue::from_str(&auth)
        {
            value.set_sensitive(true);
            rb = rb.header("authorization", value);
        }
        rb = match &request.body {
            Body::Empty => rb,
            Body::Json(v) => rb.json(v),
            Body::Multipart(parts) => rb.multipart(build_form(parts)),
            Body::Form(pairs) => rb.form(pairs),
        };
        let response = rb.send().await.map_err(|e| self.transport_error(e, what))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.transport_error(e, what))?;
        Ok(HttpResponse { status, headers, body: body.to_vec(), what: what.to_owned() })
    }

    fn transport_error(&self, e: reqwest::Error, what: &str) -> (Error, Outcome) {
        // reqwest's Display may include the URL; URLs carry no secrets here, but redact anyway.
        let detail = self.inner.credentials.redact(&error_chain(&e));
        if e.is_timeout() {
            let outcome = if e.is_connect() { Outcome::ConnectFailed } else { Outcome::MaybeSent };
            (
                Error::new(
                    ErrorCode::Timeout,
                    format!("{what}: no answer in time ({detail}); raise http.timeoutMs or check the network"),
                ),
                outcome,
            )
        } else if crate::tls::certificate_refused(&e) {
            (
                Error::new(
                    ErrorCode::Network,
                    format!(
                        "{what}: the server's TLS certificate is not trusted ({detail}); {}",
                        crate::tls::REFUSED_HINT
                    ),
                ),
                Outcome::Refused,
            )
        } else if e.is_connect() {
            (
                Error::new(
                    ErrorCode::Network,
                    format!("{what}: cannot connect ({detail}); check the service URL, proxy and network"),
                ),
                Outcome::ConnectFailed,
            )
        } else {
            (Error::new(ErrorCode::Network, format!("{what}: the connection failed ({detail})")), Outcome::MaybeSent)
        }
    }

    fn status_error(&self, resp: &HttpResponse, what: &str) -> Error {
        let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
        let cloud_message = body.as_ref().and_then(cloud_message).unwrap_or_default();
        let tracking_id = body
            .as_ref()
            .and_then(|b| b.get("trackingId"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| resp.header_values("trackingid").next().map(str::to_owned));
        let code = ErrorCode::from_status(resp.status);
        let retry_after = resp
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(|h| parse_retry_after(h, self.inner.policy.retry_after_default));
        let hint = match code {
            ErrorCode::Unauthorized if !self.inner.credentials.can_authorize() => {
                "; no access token is configured: set credentials.access_token (or WEBEX_ACCESS_TOKEN), \
                 or log in with the authorization operations"
                    .to_owned()
            }
            ErrorCode::Unauthorized => "; check credentials.access_token (it may be expired or revoked)".to_owned(),
            ErrorCode::Forbidden => "; this user or token lacks the right (scope, role or license)".to_owned(),
            ErrorCode::NotFound => "; it does not exist or this user cannot see it".to_owned(),
            ErrorCode::RateLimited => match retry_after {
                Some(wait) => format!("; wait {} s (the error's retry-after) before calling again", wait.as_secs_f64()),
                None => "; wait before calling again".to_owned(),
            },
            ErrorCode::Server => "; the cloud failed, try again later".to_owned(),
            _ => String::new(),
        };
        let said = if cloud_message.is_empty() { String::new() } else { format!(": {cloud_message}") };
        let message = self.inner.credentials.redact(&format!("{what} failed with HTTP {}{said}{hint}", resp.status));
        Error { code, message, status: Some(resp.status), tracking_id, retry_after }
    }
}

/// The path of an absolute URL (`/v1/rooms` of `https://host/v1/rooms?max=1`), for messages:
/// sliced rather than parsed, as it is taken for every request.
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = match after_scheme.find(['/', '?', '#']) {
        Some(i) if after_scheme[i..].starts_with('/') => &after_scheme[i..],
        _ => "/",
    };
    path.split(['?', '#']).next().unwrap_or(path)
}

/// The `location` of a Locus redirect: HTTP 404 whose body has `errorCode` 2000002.
fn locus_redirect(resp: &HttpResponse) -> Option<String> {
    if resp.status != 404 {
        return None;
    }
    let body: Value = serde_json::from_slice(&resp.body).ok()?;
    (body.get("errorCode")?.as_i64()? == 2_000_002).then(|| body.get("location")?.as_str().map(str::to_owned))?
}

/// The cloud's own words in an error body (protocol.md §1.4): `message`, else the first
/// `errors[].description`.
fn cloud_message(body: &Value) -> Option<String> {
    body.get("message")
        .and_then(Value::as_str)
        .or_else(|| body.get("errors")?.get(0)?.get("description")?.as_str())
        .or_else(|| body.get("error_description")?.as_str())
        .map(str::to_owned)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn build_form(parts: &[FormPart]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for part in parts {
        form = match part {
            FormPart::Text { name, value } => form.text(name.clone(), value.clone()),
            FormPart::File { name, filename, mime, bytes } => {
                let p = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(filename.clone());
                let p = p
                    .mime_str(mime)
                    .unwrap_or_else(|_| reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(filename.clone()));
                form.part(name.clone(), p)
            }
        };
    }
    form
}

fn spark_user_agent(config: &Config) -> String {
    let mut ua = format!("webex-native/{} ({})", crate::VERSION, std::env::consts::OS);
    if let Some(name) = config.str("appName") {
        ua.push_str(&format!(" {name}/{}", config.str("appVersion").unwrap_or("0.0")));
    }
    if let Some(platform) = config.str("appPlatform") {
        ua.push(' ');
        ua.push_str(platform);
    }
    ua
}

fn services_from(config: &Config) -> Services {
    let mut discovery = BTreeMap::new();
    for name in ["hydra", "u2c"] {
        if let Some(url) = config.str(&format!("services.discovery.{name}")) {
            discovery.insert(name.to_owned(), url.to_owned());
        }
    }
    let overrides = config
        .get("services.override")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    let validate = config.bool("device.validateDomains") && config.bool("services.validateDomains");
    Services::new(discovery, overrides, config::allowed_domains(config), validate)
}

/// One rustls provider for the process (ring), installed before the first TLS use.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_described_by_method_and_path_only() {
        let r = |url: &str| HttpRequest::new(Method::GET, url).describe();
        assert_eq!(r("https://webexapis.com/v1/rooms?max=1&cursor=secret"), "GET /v1/rooms");
        assert_eq!(r("http://127.0.0.1:8080/v1/people/me#frag"), "GET /v1/people/me");
        assert_eq!(r("https://host.example"), "GET /");
        assert_eq!(r("https://host.example?q=/x"), "GET /");
    }
}
