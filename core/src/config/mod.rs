//! The config document: the official SDK's `webex` attribute reference as one JSON document,
//! the same from Rust, C, Python and Node.
//!
//! Accepted shapes (as `Webex.init` accepts them): the attributes at the top level, or under
//! `config` (`{"credentials": .., "config": {"meetings": ..}}`), `credentials` as a bare token
//! string, and `fedramp` as an alias of `fedRamp`. A wrong value is an error naming its path;
//! an unknown key is a warning.

mod schema;

pub use schema::{Attribute, LOG_LEVELS, Rule, attributes, is_http_url};

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::time::Duration;

/// A validated config: the user's document merged over the defaults.
#[derive(Clone, Debug)]
pub struct Config {
    effective: Value,
    warnings: Vec<String>,
}

impl Config {
    /// Parse a config document from JSON text, filling what it leaves out from the process
    /// environment (`WEBEX_ACCESS_TOKEN`, `HYDRA_SERVICE_URL`, `U2C_SERVICE_URL`, ...).
    pub fn from_json_str(text: &str) -> Result<Config> {
        let doc: Value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str(text).map_err(|e| {
                Error::invalid(format!("config: not valid JSON ({e}); pass a JSON object such as {{\"credentials\": {{\"access_token\": \"...\"}}}}"))
            })?
        };
        Config::from_value(doc)
    }

    /// Parse a config document, filling from the process environment.
    pub fn from_value(doc: Value) -> Result<Config> {
        Config::from_value_with_env(doc, &|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Parse a config document, filling from `env` (tests pass their own).
    pub fn from_value_with_env(doc: Value, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
        let doc = normalize(doc)?;
        let attrs = attributes();
        let mut warnings = Vec::new();
        validate(&doc, "", &attrs, &mut warnings)?;
        let mut effective = defaults(&attrs);
        merge(&mut effective, &doc);
        fill_from_env(&mut effective, &doc, env);
        if effective.pointer("/fedRamp") == Some(&Value::Bool(true)) {
            apply_fedramp(&mut effective, &doc);
        }
        Ok(Config { effective, warnings })
    }

    /// The effective document (defaults, then the user's values, then environment fill-ins).
    /// The access token and other secrets are in it: never log it whole.
    pub fn effective(&self) -> &Value {
        &self.effective
    }

    /// The effective document with secrets replaced by `"<redacted>"`, safe to print or log.
    pub fn redacted(&self) -> Value {
        let mut v = self.effective.clone();
        if let Some(creds) = v.get_mut("credentials").and_then(Value::as_object_mut) {
            for (key, value) in creds.iter_mut() {
                if !PUBLIC_CREDENTIALS.contains(&key.as_str()) {
                    redact_strings(value);
                }
            }
        }
        redact_userinfo(&mut v, false);
        v
    }

    /// Warnings about keys this version does not know; a [`Client`](crate::Client) made from
    /// this config logs them (target `webex::config`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The value at a dotted path (`meetings.bandwidth.video`), `None` when unset.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut cur = &self.effective;
        for part in path.split('.') {
            cur = cur.get(part)?;
        }
        (!cur.is_null()).then_some(cur)
    }

    /// A string attribute.
    pub fn str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    /// A boolean attribute (false when unset).
    pub fn bool(&self, path: &str) -> bool {
        self.get(path).and_then(Value::as_bool).unwrap_or(false)
    }

    /// An integer attribute (0 when unset).
    pub fn u64(&self, path: &str) -> u64 {
        self.get(path).and_then(Value::as_u64).unwrap_or(0)
    }

    /// A millisecond attribute as a duration.
    pub fn millis(&self, path: &str) -> Duration {
        Duration::from_millis(self.u64(path))
    }

    /// A string-list attribute.
    pub fn strings(&self, path: &str) -> Vec<String> {
        self.get(path)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// Bring the accepted shapes to one: attributes at the top level.
fn normalize(doc: Value) -> Result<Value> {
    let Value::Object(mut top) = doc else {
        if let Value::String(token) = doc {
            // `Webex.init("<token>")`-style: a bare token.
            return normalize(serde_json::json!({"credentials": {"access_token": token}}));
        }
        return Err(Error::invalid(format!(
            "config: expected a JSON object, got {}; pass e.g. {{\"credentials\": {{\"access_token\": \"...\"}}}}",
            describe(&doc)
        )));
    };
    if let Some(inner) = top.remove("config") {
        let Value::Object(inner) = inner else {
            return Err(Error::invalid(format!("config: expected an object, got {}", describe(&inner))));
        };
        for (k, v) in inner {
            match top.get_mut(&k) {
                Some(existing) => merge(existing, &v),
                None => {
                    top.insert(k, v);
                }
            }
        }
    }
    if let Some(v) = top.remove("fedramp") {
        top.entry("fedRamp").or_insert(v);
    }
    if let Some(Value::String(token)) = top.get("credentials") {
        let token = token.clone();
        top.insert("credentials".into(), serde_json::json!({"access_token": token}));
    }
    // Tokens are often pasted with a `Bearer ` prefix; the official SDK normalises it too.
    if let Some(Value::String(t)) = top.get_mut("credentials").and_then(|c| c.get_mut("access_token")) {
        let stripped = t.trim().strip_prefix("Bearer ").map(|s| s.trim().to_owned());
        if let Some(s) = stripped {
            *t = s;
        } else {
            *t = t.trim().to_owned();
        }
    }
    Ok(Value::Object(top))
}

fn validate(v: &Value, prefix: &str, attrs: &[Attribute], warnings: &mut Vec<String>) -> Result<()> {
    let Value::Object(map) = v else { return Ok(()) };
    for (key, value) in map {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        if let Some(attr) = attrs.iter().find(|a| a.path == path) {
            // `null` means "use the default", as an absent key does.
            if !value.is_null() && !attr.rule.accepts(value) {
                return Err(Error::invalid(format!(
                    "{path}: {}, got {}",
                    attr.rule.expected(),
                    describe_value(&path, value)
                )));
            }
            if matches!(attr.rule, Rule::OpenObject) {
                validate(value, &path, attrs, warnings)?;
            }
        } else if attrs.iter().any(|a| a.path.starts_with(&format!("{path}."))) {
            if !value.is_object() {
                return Err(Error::invalid(format!("{path}: expected an object, got {}", describe(value))));
            }
            validate(value, &path, attrs, warnings)?;
        } else {
            let near = closest(&path, attrs);
            if (prefix == "credentials" || prefix.starts_with("credentials.")) && !near.is_empty() {
                // A misspelt credential leaves the client without its token (or, with
                // WEBEX_ACCESS_TOKEN set, quietly acting as someone else): refused, not warned.
                // Other extra members (a token response's `refresh_token_expires_in`) are warned.
                return Err(Error::invalid(format!(
                    "{path}: unknown credentials key{near}; the keys are those of credentials.* in the attribute reference"
                )));
            }
            if !prefix.starts_with("defaultMercuryOptions") {
                warnings.push(format!(
                    "{path}: unknown config key, ignored{near} (check the spelling against the attribute reference)"
                ));
            }
        }
    }
    Ok(())
}

/// `; did you mean `x`?` for the attribute or section nearest `path`, when one is near.
fn closest(path: &str, attrs: &[Attribute]) -> String {
    // Sections too: `meetings.bandwith` is near `meetings.bandwidth`, far from its members.
    let candidates =
        attrs.iter().flat_map(|a| a.path.match_indices('.').map(|(i, _)| &a.path[..i]).chain(std::iter::once(a.path)));
    match candidates.map(|c| (crate::boundary::distance(path, c), c)).min() {
        Some((d, near)) if d <= 3 => format!("; did you mean `{near}`?"),
        _ => String::new(),
    }
}

/// Credentials members that are no secret, shown by [`Config::redacted`]; every other one
/// (the known secrets, and any the app may add) is redacted.
const PUBLIC_CREDENTIALS: &[&str] =
    &["token_type", "expires_in", "clientType", "client_id", "scope", "redirect_uri", "idbroker", "refreshCallback"];

/// Every string under `v` replaced by `"<redacted>"`.
fn redact_strings(v: &mut Value) {
    match v {
        Value::String(s) => *s = "<redacted>".into(),
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// URLs under `v` without their user and password (`http://user:secret@proxy:3128`);
/// `any_text`: also what looks like userinfo in text with no scheme (a malformed URL an error
/// message shows), else only in URLs.
fn redact_userinfo(v: &mut Value, any_text: bool) {
    match v {
        Value::String(s) => {
            if let Some(shown) = without_userinfo(s).filter(|_| any_text || s.contains("://")) {
                *s = shown;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_userinfo(v, any_text)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_userinfo(v, any_text)),
        _ => {}
    }
}

/// `text` with the userinfo of a URL in it (`scheme://user:pass@host`) replaced, or `None`
/// when it has none. Sliced rather than parsed: in a malformed URL (no scheme) whatever comes
/// before an `@` is taken for userinfo too.
fn without_userinfo(text: &str) -> Option<String> {
    // Up to the last `@`, not the first `/`, `?` or `#`: a password that holds one
    // (unescaped, so the URL is refused and quoted) must not show. From the scheme's `://`,
    // or the start of the word the `@` ends.
    let at = text.rfind('@')?;
    let scheme = text[..at].find("://").map(|i| i + 3);
    let word = text[..at].rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let start = scheme.map_or(word, |s| s.max(word));
    Some(format!("{}<redacted>{}", &text[..start], &text[at..]))
}

/// A value as an error message shows it: JSON text, never a secret.
fn describe_value(path: &str, v: &Value) -> String {
    if path.starts_with("credentials.") && !path.ends_with("clientType") {
        return describe(v);
    }
    let mut v = v.clone();
    redact_userinfo(&mut v, true);
    let s = v.to_string();
    if s.chars().count() > 80 { format!("{}...", s.chars().take(77).collect::<String>()) } else { s }
}

/// The JSON type of a value, for messages that must not echo it.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
    .into()
}

fn defaults(attrs: &[Attribute]) -> Value {
    let mut doc = Value::Object(Map::new());
    for attr in attrs {
        set_path(&mut doc, attr.path, attr.default.clone());
    }
    doc
}

fn set_path(doc: &mut Value, path: &str, value: Value) {
    let mut cur = doc;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        let map = cur.as_object_mut().expect("config tree nodes are objects");
        cur = map.entry(part.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
    }
    if let Some(map) = cur.as_object_mut() {
        map.insert(parts[parts.len() - 1].to_string(), value);
    }
}

/// Deep-merge `over` into `base`; `null` in `over` keeps the base value.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    Some(_) if v.is_null() => {}
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) if !o.is_null() => *b = o.clone(),
        _ => {}
    }
}

fn user_set(doc: &Value, path: &str) -> bool {
    let mut cur = doc;
    for part in path.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return false,
        }
    }
    !cur.is_null()
}

fn fill_from_env(effective: &mut Value, doc: &Value, env: &dyn Fn(&str) -> Option<String>) {
    let pairs = [
        ("credentials.access_token", "WEBEX_ACCESS_TOKEN"),
        ("credentials.client_id", "WEBEX_CLIENT_ID"),
        ("credentials.client_secret", "WEBEX_CLIENT_SECRET"),
        ("credentials.redirect_uri", "WEBEX_REDIRECT_URI"),
        ("credentials.scope", "WEBEX_SCOPE"),
        ("services.discovery.hydra", "HYDRA_SERVICE_URL"),
        ("services.discovery.u2c", "U2C_SERVICE_URL"),
        ("logger.level", "WEBEX_LOG_LEVEL"),
        ("credentials.idbroker.url", "IDBROKER_BASE_URL"),
    ];
    for (path, var) in pairs {
        if user_set(doc, path) {
            continue;
        }
        let Some(value) = env(var) else { continue };
        let attr = attributes().into_iter().find(|a| a.path == path);
        let ok = attr.is_some_and(|a| a.rule.accepts(&Value::String(value.clone())));
        if ok {
            set_path(effective, path, Value::String(value));
        } else {
            tracing::warn!(target: "webex::config", "{var} is set but is not a valid {path}; ignored");
        }
    }
    if !user_set(doc, "fedRamp") && env("ENABLE_FEDRAMP").is_some_and(|v| v == "true") {
        set_path(effective, "fedRamp", Value::Bool(true));
    }
}

/// FedRAMP replaces the discovery URLs wholesale (protocol.md §2.6) unless the user set them.
fn apply_fedramp(effective: &mut Value, doc: &Value) {
    if !user_set(doc, "services.discovery.hydra") {
        set_path(effective, "services.discovery.hydra", Value::String(schema::FEDRAMP_HYDRA.into()));
    }
    if !user_set(doc, "services.discovery.u2c") {
        set_path(effective, "services.discovery.u2c", Value::String(schema::FEDRAMP_U2C.into()));
    }
}

/// Domains that may receive the token outside the catalog (protocol.md §2.1, §3.3).
pub fn allowed_domains(config: &Config) -> Vec<String> {
    let mut domains = config.strings("device.allowedDomains");
    domains.extend(config.strings("services.allowedDomains"));
    if !config.bool("fedRamp") {
        domains.extend(schema::COMMERCIAL_ALLOWED_DOMAINS.iter().map(|s| s.to_string()));
    }
    domains.sort();
    domains.dedup();
    domains
}

#[cfg(test)]
mod tests;
