use super::*;
use serde_json::json;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(doc: Value) -> Result<Config> {
    Config::from_value_with_env(doc, &no_env)
}

/// A valid value for `rule` that differs from `default`.
fn other_value(rule: Rule, default: &Value) -> Value {
    match rule {
        Rule::Bool => json!(!default.as_bool().unwrap_or(false)),
        Rule::PositiveInt | Rule::NonNegativeInt => json!(default.as_u64().unwrap_or(0) + 7),
        Rule::PositiveNumber => json!(1.25),
        Rule::Text | Rule::NonEmptyText => json!("value-for-test"),
        Rule::Url => json!("https://example.test/base"),
        Rule::OneOf(options) => json!(options.iter().find(|o| default.as_str() != Some(**o)).unwrap()),
        Rule::TextList => json!(["example.test"]),
        Rule::UrlMap => json!({"hydra": "https://override.example.test/v1"}),
        Rule::Adapter => json!({"dir": "/tmp/webex-test"}),
        Rule::OpenObject => json!({"proxy": "http://proxy.example.test:3128"}),
    }
}

/// Whether `actual` holds `expected` (objects: every expected member, recursively).
fn holds(actual: Option<&Value>, expected: &Value) -> bool {
    match (actual, expected) {
        (Some(Value::Object(a)), Value::Object(e)) => e.iter().all(|(k, v)| holds(a.get(k), v)),
        (Some(a), e) => a == e,
        (None, _) => false,
    }
}

/// A value `rule` must reject.
fn wrong_value(rule: Rule) -> Value {
    match rule {
        Rule::Bool => json!("yes"),
        Rule::PositiveInt => json!(0),
        Rule::NonNegativeInt => json!(-1),
        Rule::PositiveNumber => json!("wide"),
        Rule::Text | Rule::NonEmptyText => json!(5),
        Rule::Url => json!("not a url"),
        Rule::OneOf(_) => json!("no-such-option"),
        Rule::TextList => json!([1]),
        Rule::UrlMap => json!({"hydra": 3}),
        Rule::Adapter => json!(5),
        Rule::OpenObject => json!(3),
    }
}

fn doc_with(path: &str, value: Value) -> Value {
    let mut doc = json!({});
    set_path(&mut doc, path, value);
    doc
}

#[test]
fn every_attribute_reads_back_a_non_default_value() {
    for attr in attributes() {
        let value = other_value(attr.rule, &attr.default);
        assert_ne!(value, attr.default, "{}: test value must differ from the default", attr.path);
        let cfg = parse(doc_with(attr.path, value.clone())).unwrap_or_else(|e| panic!("{}: {e}", attr.path));
        assert!(holds(cfg.get(attr.path), &value), "{}: {:?}", attr.path, cfg.get(attr.path));
        assert!(cfg.warnings().is_empty(), "{}: {:?}", attr.path, cfg.warnings());
    }
}

#[test]
fn every_attribute_rejects_a_wrong_value_naming_its_path() {
    for attr in attributes() {
        let err = parse(doc_with(attr.path, wrong_value(attr.rule))).expect_err(attr.path);
        assert_eq!(err.code, crate::ErrorCode::InvalidArgument);
        assert!(err.message.starts_with(&format!("{}: expected", attr.path)), "{}", err.message);
    }
}

#[test]
fn every_attribute_is_also_accepted_under_config() {
    for attr in attributes() {
        let value = other_value(attr.rule, &attr.default);
        let cfg = parse(json!({"config": doc_with(attr.path, value.clone())})).unwrap();
        assert!(holds(cfg.get(attr.path), &value), "config.{}", attr.path);
    }
}

#[test]
fn the_issue_example_message() {
    let err = parse(json!({"meetings": {"bandwidth": {"video": "fast"}}})).unwrap_err();
    assert_eq!(err.message, "meetings.bandwidth.video: expected a positive integer, got \"fast\"");
}

#[test]
fn a_leaf_where_an_object_belongs_is_named() {
    let err = parse(json!({"meetings": {"bandwidth": 5}})).unwrap_err();
    assert_eq!(err.message, "meetings.bandwidth: expected an object, got a number");
}

#[test]
fn official_defaults() {
    let cfg = parse(json!({})).unwrap();
    assert_eq!(cfg.str("services.discovery.hydra"), Some("https://api.ciscospark.com/v1"));
    assert_eq!(cfg.str("services.discovery.u2c"), Some("https://u2c.wbx2.com/u2c/api/v1"));
    assert_eq!(cfg.u64("meetings.bandwidth.audio"), 64000);
    assert_eq!(cfg.u64("meetings.bandwidth.video"), 4_000_000);
    assert_eq!(cfg.u64("meetings.degradationPreferences.maxMacroblocksLimit"), 8192);
    assert_eq!(cfg.str("logger.level"), Some("error"));
    assert_eq!(cfg.u64("logger.historyLength"), 10000);
    assert!(cfg.bool("meetings.enableRtx"));
    assert!(!cfg.bool("meetings.reconnection.enabled"));
    assert!(cfg.bool("meetings.reconnection.autoRejoin"));
    assert_eq!(cfg.u64("maxAppLevelRedirects"), 10);
    assert_eq!(cfg.get("credentials.access_token"), None);
}

#[test]
fn environment_fills_only_what_the_document_leaves_out() {
    let env = |name: &str| match name {
        "WEBEX_ACCESS_TOKEN" => Some("env-token".to_string()),
        "HYDRA_SERVICE_URL" => Some("http://127.0.0.1:9/v1".to_string()),
        "U2C_SERVICE_URL" => Some("http://127.0.0.1:9/u2c/api/v1".to_string()),
        _ => None,
    };
    let cfg = Config::from_value_with_env(json!({}), &env).unwrap();
    assert_eq!(cfg.str("credentials.access_token"), Some("env-token"));
    assert_eq!(cfg.str("services.discovery.hydra"), Some("http://127.0.0.1:9/v1"));
    assert_eq!(cfg.str("services.discovery.u2c"), Some("http://127.0.0.1:9/u2c/api/v1"));
    let doc = json!({"credentials": {"access_token": "doc-token"}, "services": {"discovery": {"hydra": "https://h.test/v1"}}});
    let cfg = Config::from_value_with_env(doc, &env).unwrap();
    assert_eq!(cfg.str("credentials.access_token"), Some("doc-token"));
    assert_eq!(cfg.str("services.discovery.hydra"), Some("https://h.test/v1"));
    assert_eq!(cfg.str("services.discovery.u2c"), Some("http://127.0.0.1:9/u2c/api/v1"));
}

#[test]
fn an_invalid_environment_value_is_ignored() {
    let env = |name: &str| (name == "HYDRA_SERVICE_URL").then(|| "nonsense".to_string());
    let cfg = Config::from_value_with_env(json!({}), &env).unwrap();
    assert_eq!(cfg.str("services.discovery.hydra"), Some("https://api.ciscospark.com/v1"));
}

#[test]
fn unknown_keys_are_warnings_not_failures() {
    let cfg = parse(json!({"meetings": {"bandwith": 1}, "colour": "blue"})).unwrap();
    assert_eq!(cfg.warnings().len(), 2, "{:?}", cfg.warnings());
    assert!(cfg.warnings().iter().any(|w| w.starts_with("meetings.bandwith: unknown config key")));
    assert!(cfg.warnings().iter().any(|w| w.starts_with("colour: unknown config key")));
}

#[test]
fn unknown_keys_name_the_nearest_one() {
    let cfg = parse(json!({"meetings": {"bandwith": 1}})).unwrap();
    assert!(cfg.warnings()[0].contains("did you mean `meetings.bandwidth`?"), "{:?}", cfg.warnings());
}

#[test]
fn an_unknown_credentials_key_is_refused_without_its_value() {
    let err = parse(json!({"credentials": {"acces_token": "secret-token-1"}})).unwrap_err();
    assert_eq!(err.code, crate::error::ErrorCode::InvalidArgument);
    assert!(err.message.starts_with("credentials.acces_token: unknown credentials key"), "{}", err.message);
    assert!(err.message.contains("did you mean `credentials.access_token`?"), "{}", err.message);
    assert!(!err.message.contains("secret-token-1"), "{}", err.message);
}

#[test]
fn a_token_response_passed_whole_is_taken() {
    // The OAuth token response's extra member is no misspelling: warned, not refused, and
    // redacted as every credentials member but the public ones.
    let cfg = parse(json!({"credentials": {"access_token": "secret-a", "refresh_token_expires_in": 7776000}})).unwrap();
    assert!(cfg.warnings().iter().any(|w| w.starts_with("credentials.refresh_token_expires_in: unknown config key")));
}

#[test]
fn redacted_shows_no_secret_anywhere() {
    let cfg = parse(json!({
        "credentials": {"access_token": "secret-a", "refresh_token": "secret-r", "client_secret": "secret-c",
                        "client_id": "app-id", "idbroker": {"url": "https://user:secret-i@idbroker.example"}},
        "defaultMercuryOptions": {"proxy": "http://user:secret-p@proxy.example:3128"},
    }))
    .unwrap();
    let shown = cfg.redacted().to_string();
    assert!(!shown.contains("secret-"), "{shown}");
    assert_eq!(cfg.redacted()["credentials"]["client_id"], "app-id", "what is no secret stays readable");
    assert_eq!(cfg.redacted()["credentials"]["idbroker"]["url"], "https://<redacted>@idbroker.example");
    assert_eq!(cfg.redacted()["defaultMercuryOptions"]["proxy"], "http://<redacted>@proxy.example:3128");
    let err = parse(json!({"defaultMercuryOptions": {"proxy": "not a url user:secret-q@"}})).unwrap_err();
    assert!(!err.message.contains("secret-q"), "{}", err.message);
    let err = parse(json!({"defaultMercuryOptions": {"proxy": "http://bob:secret#s/x@proxy:3128"}})).unwrap_err();
    assert!(!err.message.contains("secret"), "{}", err.message);
}

#[test]
fn token_shapes_are_normalised() {
    let cfg = parse(json!("abc")).unwrap();
    assert_eq!(cfg.str("credentials.access_token"), Some("abc"));
    let cfg = parse(json!({"credentials": "def"})).unwrap();
    assert_eq!(cfg.str("credentials.access_token"), Some("def"));
    let cfg = parse(json!({"credentials": {"access_token": "Bearer  ghi "}})).unwrap();
    assert_eq!(cfg.str("credentials.access_token"), Some("ghi"));
}

#[test]
fn a_wrong_token_is_never_echoed() {
    let err = parse(json!({"credentials": {"access_token": 12345678}})).unwrap_err();
    assert!(!err.message.contains("12345678"), "{}", err.message);
    let cfg = parse(json!({"credentials": {"access_token": "secret-token"}})).unwrap();
    assert!(!cfg.redacted().to_string().contains("secret-token"));
}

#[test]
fn fedramp_switches_discovery_and_allowed_domains() {
    let cfg = parse(json!({"fedramp": true})).unwrap();
    assert!(cfg.bool("fedRamp"));
    assert_eq!(cfg.str("services.discovery.hydra"), Some(schema::FEDRAMP_HYDRA));
    assert_eq!(cfg.str("services.discovery.u2c"), Some(schema::FEDRAMP_U2C));
    assert!(!allowed_domains(&cfg).contains(&"webex.com".to_string()));
    let commercial = parse(json!({"device": {"allowedDomains": ["corp.test"]}})).unwrap();
    let domains = allowed_domains(&commercial);
    assert!(domains.contains(&"webex.com".to_string()) && domains.contains(&"corp.test".to_string()));
}

#[test]
fn not_json_and_not_an_object() {
    assert!(Config::from_json_str("{").unwrap_err().message.contains("not valid JSON"));
    assert!(parse(json!([1])).unwrap_err().message.contains("expected a JSON object, got a list"));
    assert!(Config::from_json_str("").is_ok());
}
