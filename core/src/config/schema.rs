//! The `webex` attribute reference: every key the config document may hold, what it must
//! be, and its default. Defaults are the official SDK's (shared/protocol.md §2) unless a
//! comment says why not. Keys under `http` are webex-native's own.

use serde_json::{Value, json};

/// What a value at a path must be.
#[derive(Clone, Copy, Debug)]
pub enum Rule {
    /// `true` or `false`.
    Bool,
    /// An integer > 0.
    PositiveInt,
    /// An integer >= 0.
    NonNegativeInt,
    /// A number > 0.
    PositiveNumber,
    /// Any string.
    Text,
    /// A non-empty string.
    NonEmptyText,
    /// An absolute http(s) URL.
    Url,
    /// One of the listed strings.
    OneOf(&'static [&'static str]),
    /// A list of strings.
    TextList,
    /// An object whose keys are free and whose values are URLs (`services.override`).
    UrlMap,
    /// A string or an object (storage adapters: checked by the storage module).
    Adapter,
    /// Any object (`defaultMercuryOptions`): known members are checked by their own entries.
    OpenObject,
}

impl Rule {
    /// What the rule expects, in the words of an error message.
    pub fn expected(self) -> String {
        match self {
            Rule::Bool => "expected true or false".into(),
            Rule::PositiveInt => "expected a positive integer".into(),
            Rule::NonNegativeInt => "expected an integer >= 0".into(),
            Rule::PositiveNumber => "expected a positive number".into(),
            Rule::Text => "expected a string".into(),
            Rule::NonEmptyText => "expected a non-empty string".into(),
            Rule::Url => "expected an absolute http:// or https:// URL".into(),
            Rule::OneOf(options) => format!("expected one of {}", options.join(", ")),
            Rule::TextList => "expected a list of strings".into(),
            Rule::UrlMap => "expected an object of service name -> URL".into(),
            Rule::Adapter => "expected \"memory\", a {\"dir\": <path>} object or an adapter".into(),
            Rule::OpenObject => "expected an object".into(),
        }
    }

    /// Whether `v` satisfies the rule.
    pub fn accepts(self, v: &Value) -> bool {
        match self {
            Rule::Bool => v.is_boolean(),
            Rule::PositiveInt => v.as_u64().is_some_and(|n| n > 0),
            Rule::NonNegativeInt => v.as_u64().is_some(),
            Rule::PositiveNumber => v.as_f64().is_some_and(|n| n > 0.0),
            Rule::Text => v.is_string(),
            Rule::NonEmptyText => v.as_str().is_some_and(|s| !s.trim().is_empty()),
            Rule::Url => v.as_str().is_some_and(is_http_url),
            Rule::OneOf(options) => v.as_str().is_some_and(|s| options.contains(&s)),
            Rule::TextList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            Rule::UrlMap => v.as_object().is_some_and(|m| m.values().all(|u| u.as_str().is_some_and(is_http_url))),
            Rule::Adapter => v.is_string() || v.is_object(),
            Rule::OpenObject => v.is_object(),
        }
    }
}

/// Whether `s` is an absolute http(s) URL with a host.
pub fn is_http_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// One attribute: its dotted path, its rule, its default (`Null` = unset) and what it does.
pub struct Attribute {
    /// Dotted path, e.g. `meetings.bandwidth.video`.
    pub path: &'static str,
    /// What the value must be.
    pub rule: Rule,
    /// The default; `Value::Null` means unset.
    pub default: Value,
    /// One line for the docs.
    pub doc: &'static str,
}

fn a(path: &'static str, rule: Rule, default: Value, doc: &'static str) -> Attribute {
    Attribute { path, rule, default, doc }
}

/// Log levels, by precedence (protocol.md §2.4).
pub const LOG_LEVELS: &[&str] = &["silent", "error", "warn", "log", "info", "debug", "trace"];

/// The whole attribute reference.
pub fn attributes() -> Vec<Attribute> {
    use Rule::*;
    let n = Value::Null;
    vec![
        // credentials (protocol.md §2.2)
        a("credentials.access_token", NonEmptyText, n.clone(), "The access token (env WEBEX_ACCESS_TOKEN)."),
        a("credentials.token_type", NonEmptyText, json!("Bearer"), "Token type sent before the token."),
        a("credentials.refresh_token", NonEmptyText, n.clone(), "Refresh token, to renew the access token."),
        a("credentials.expires_in", PositiveInt, n.clone(), "Seconds the access token stays valid."),
        a("credentials.clientType", OneOf(&["confidential", "public"]), json!("confidential"), "OAuth client type."),
        a("credentials.client_id", NonEmptyText, n.clone(), "OAuth client id (env WEBEX_CLIENT_ID)."),
        a("credentials.client_secret", NonEmptyText, n.clone(), "OAuth client secret (env WEBEX_CLIENT_SECRET)."),
        a("credentials.scope", NonEmptyText, n.clone(), "OAuth scopes, space separated."),
        a("credentials.redirect_uri", Url, n.clone(), "OAuth redirect URI."),
        a(
            "credentials.idbroker.url",
            Url,
            json!("https://idbroker.webex.com"),
            "OAuth server (env IDBROKER_BASE_URL).",
        ),
        a(
            "credentials.refreshCallback",
            Bool,
            json!(false),
            "The app renews tokens: emit credentials:refresh, wait for credentials.set.",
        ),
        // device (protocol.md §2.3); `ephemeral` is true as in the `webex` package's Webex.init.
        a("device.validateDomains", Bool, json!(true), "Send the token to allowedDomains outside the catalog."),
        a("device.allowedDomains", TextList, json!([]), "Extra domains that may receive the token."),
        a("device.ephemeral", Bool, json!(true), "Register the device with a ttl."),
        a("device.ephemeralDeviceTTL", PositiveInt, json!(1800), "Device ttl in seconds."),
        // storage (protocol.md §2.1)
        a("storage.boundedAdapter", Adapter, json!("memory"), "Where credentials live."),
        a("storage.unboundedAdapter", Adapter, json!("memory"), "Where the device registration lives."),
        // meetings (protocol.md §2.5)
        a("meetings.mediaSettings.pstn", Bool, json!(false), "Offer PSTN audio."),
        a("meetings.reconnection.enabled", Bool, json!(false), "Reconnect media on ICE failure."),
        a("meetings.reconnection.autoRejoin", Bool, json!(true), "Rejoin when Locus dropped us."),
        a("meetings.reconnection.detection", Bool, json!(true), "Start reconnecting when media drops."),
        a(
            "meetings.reconnection.iceReconnectionTimeout",
            PositiveInt,
            json!(10000),
            "How long a media reconnection may take, ms.",
        ),
        a("meetings.reconnection.maxRejoinAttempts", PositiveInt, json!(3), "Reconnection attempts before giving up."),
        a("meetings.logging.enable", Bool, json!(true), "Log meeting activity."),
        a("meetings.logging.verboseEvents", Bool, json!(true), "Log every meeting event."),
        a("meetings.resolution.maxWidth", PositiveInt, json!(1280), "Camera max width."),
        a("meetings.resolution.maxHeight", PositiveInt, json!(720), "Camera max height."),
        a("meetings.resolution.idealWidth", PositiveInt, json!(1280), "Camera ideal width."),
        a("meetings.resolution.idealHeight", PositiveInt, json!(720), "Camera ideal height."),
        a("meetings.screenResolution.maxWidth", PositiveInt, json!(1920), "Share max width."),
        a("meetings.screenResolution.maxHeight", PositiveInt, json!(1080), "Share max height."),
        a("meetings.screenResolution.idealWidth", PositiveInt, json!(1920), "Share ideal width."),
        a("meetings.screenResolution.idealHeight", PositiveInt, json!(1080), "Share ideal height."),
        a("meetings.bandwidth.audio", PositiveInt, json!(64000), "Audio bandwidth, bps."),
        a("meetings.bandwidth.video", PositiveInt, json!(4000000), "Video bandwidth, bps."),
        a("meetings.bandwidth.startBitrate", PositiveInt, json!(2000), "Start bitrate, kbps."),
        a("meetings.videoShareFrameRate", PositiveInt, json!(30), "Share frame rate."),
        a("meetings.aspectRatio", PositiveNumber, json!(1.7695852534562213), "Video aspect ratio."),
        a("meetings.autoUploadLogs", Bool, json!(true), "Upload logs after meetings."),
        a("meetings.enableRtx", Bool, json!(true), "Negotiate RTX retransmission."),
        a("meetings.receiveTranscription", Bool, json!(false), "Receive transcription."),
        a("meetings.enableExtmap", Bool, json!(false), "Negotiate RTP header extensions."),
        a("meetings.experimental.enableMediaNegotiatedEvent", Bool, json!(false), "Emit media:negotiated."),
        a("meetings.experimental.enableUnifiedMeetings", Bool, json!(true), "Unified meetings."),
        a("meetings.experimental.enableAdhocMeetings", Bool, json!(true), "Ad-hoc meetings in rooms."),
        a("meetings.experimental.enableTurnDiscovery", Bool, json!(true), "TURN discovery before join."),
        a("meetings.degradationPreferences.maxMacroblocksLimit", PositiveInt, json!(8192), "Decoder macroblock limit."),
        a("meetings.metrics.clientName", NonEmptyText, json!("WEBEX_JS_SDK"), "Metrics client name."),
        a("meetings.metrics.clientType", NonEmptyText, json!("WEBEX_SDK"), "Metrics client type."),
        // logger (protocol.md §2.4); `error` is the official fallback level.
        a("logger.level", OneOf(LOG_LEVELS), json!("error"), "Log level (env WEBEX_LOG_LEVEL)."),
        a("logger.historyLength", NonNegativeInt, json!(10000), "Log lines kept for support uploads."),
        // identity of the app (protocol.md §1.5)
        a("appName", NonEmptyText, n.clone(), "App name for spark-user-agent and user-agent."),
        a("appVersion", NonEmptyText, n.clone(), "App version for the user agents."),
        a("appPlatform", NonEmptyText, n.clone(), "App platform for spark-user-agent."),
        a("fedRamp", Bool, json!(false), "Use the FedRAMP cloud."),
        // tracking ids (protocol.md §2.1); the prefix is ours: this is not the JS SDK.
        a("trackingIdPrefix", NonEmptyText, json!("webex-native"), "trackingid prefix."),
        a("trackingIdBase", NonEmptyText, n.clone(), "trackingid base (default: a random uuid)."),
        a("trackingIdSuffix", Text, json!(""), "trackingid suffix."),
        a("maxAppLevelRedirects", NonNegativeInt, json!(10), "Max cisco-location redirects."),
        a("maxAuthenticationReplays", NonNegativeInt, json!(1), "Replays after a 401 and a refresh."),
        // proxy for REST and the socket
        a("defaultMercuryOptions", OpenObject, n.clone(), "Options for the event socket."),
        a("defaultMercuryOptions.proxy", Url, n.clone(), "HTTP CONNECT proxy for REST and the socket."),
        // services (protocol.md §2.1, §3)
        a(
            "services.discovery.hydra",
            Url,
            json!("https://api.ciscospark.com/v1"),
            "REST base before the catalog (env HYDRA_SERVICE_URL).",
        ),
        a(
            "services.discovery.u2c",
            Url,
            json!("https://u2c.wbx2.com/u2c/api/v1"),
            "Catalog base (env U2C_SERVICE_URL).",
        ),
        a("services.override", UrlMap, n.clone(), "Service URLs that beat every catalog."),
        a("services.validateDomains", Bool, json!(true), "Same as device.validateDomains."),
        a("services.allowedDomains", TextList, json!([]), "Same as device.allowedDomains."),
        // the event socket (protocol.md §5.6); bufferStateTimeout and maxFrameBytes are ours
        a("mercury.pingInterval", PositiveInt, json!(15000), "Time between pings, ms."),
        a("mercury.pongTimeout", PositiveInt, json!(14000), "Time to wait for a pong, ms."),
        a("mercury.backoffTimeMax", PositiveInt, json!(32000), "Longest reconnect wait, ms."),
        a("mercury.backoffTimeReset", PositiveInt, json!(1000), "First reconnect wait, ms."),
        a("mercury.forceCloseDelay", PositiveInt, json!(2000), "Wait for the server's close frame, ms."),
        a("mercury.maxRetries", NonNegativeInt, n.clone(), "Reconnect attempts before giving up (default: forever)."),
        a(
            "mercury.initialConnectionMaxRetries",
            NonNegativeInt,
            n.clone(),
            "Attempts before the first connection gives up.",
        ),
        a(
            "mercury.bufferStateTimeout",
            PositiveInt,
            json!(15000),
            "Wait for mercury.buffer_state before reconnecting, ms.",
        ),
        a("mercury.maxFrameBytes", PositiveInt, json!(8388608), "Largest socket frame accepted."),
        // webex-native's own HTTP policy
        a("http.timeoutMs", PositiveInt, json!(30000), "Per-attempt timeout of a REST call."),
        a("http.maxRetries", NonNegativeInt, json!(3), "Retries after 429/423/5xx/network errors."),
        a("http.retryAfterDefaultMs", NonNegativeInt, json!(15000), "Wait when Retry-After is missing or garbage."),
        a(
            "http.maxRetryAfterMs",
            NonNegativeInt,
            json!(60000),
            "Longer Retry-After: fail with RATE_LIMITED instead of waiting.",
        ),
        a("http.backoffBaseMs", NonNegativeInt, json!(250), "First backoff for 5xx and network errors; doubles."),
        a("http.verifyTls", Bool, json!(true), "Verify TLS certificates (leave on)."),
        a(
            "http.caCertificates",
            NonEmptyText,
            n.clone(),
            "Extra CA certificates to trust (PEM text, one or more), beside the system's: a \
             TLS-inspecting proxy's CA, or the sandbox's HTTPS mode.",
        ),
        a(
            "http.prefetchPages",
            Bool,
            json!(true),
            "While a list's page after the first is read, fetch the one after it (at most one unread page).",
        ),
    ]
}

/// Commercial domains that may receive the token outside the catalog (protocol.md §2.1);
/// not used under FedRAMP.
pub const COMMERCIAL_ALLOWED_DOMAINS: &[&str] = &[
    "wbx2.com",
    "ciscospark.com",
    "webex.com",
    "webexapis.com",
    "broadcloudpbx.com",
    "broadcloud.eu",
    "broadcloud.com.au",
    "broadcloudpbx.net",
];

/// FedRAMP discovery URLs (protocol.md §2.6).
pub const FEDRAMP_HYDRA: &str = "https://api-usgov.webex.com/v1";
/// FedRAMP U2C (protocol.md §2.6).
pub const FEDRAMP_U2C: &str = "https://u2c.gov.ciscospark.com/u2c/api/v1";
