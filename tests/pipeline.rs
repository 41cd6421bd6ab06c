//! The request pipeline against the real sandbox: headers, auth scope, retries, errors.

use serde_json::json;
use webex_core::http::{Body, HttpRequest, Method};
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, Config, ErrorCode};
use webex_sandbox::Fault;
use webex_tests::*;

fn room(title: &str) -> CreateRoom {
    CreateRoom { title: title.into(), ..Default::default() }
}

#[tokio::test]
async fn headers_follow_the_official_sdk() {
    let sb = sandbox().await;
    let bot = sb.bot();
    let mut cfg = config_for(&sb, &bot.token);
    cfg["appName"] = json!("myapp");
    cfg["appVersion"] = json!("1.2");
    cfg["appPlatform"] = json!("testplat");
    let client = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    client.rooms().create(&room("a")).await.unwrap();
    client.rooms().create(&room("b")).await.unwrap();
    let seen: Vec<_> =
        sb.requests().into_iter().filter(|r| r.method == "POST" && r.path.starts_with("/v1/rooms")).collect();
    assert_eq!(seen.len(), 2);
    let header = |i: usize, name: &str| {
        seen[i].headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    assert_eq!(header(0, "authorization"), format!("Bearer {}", bot.token));
    let (t0, t1) = (header(0, "trackingid"), header(1, "trackingid"));
    assert!(t0.starts_with("webex-native_") && t0.ends_with("_1"), "{t0}");
    assert_eq!(t1, format!("{}_2", t0.trim_end_matches("_1")));
    let sua = header(0, "spark-user-agent");
    assert!(sua.starts_with("webex-native/") && sua.ends_with(" myapp/1.2 testplat"), "{sua}");
    assert_eq!(header(0, "user-agent"), "myapp/1.2");
}

#[tokio::test]
async fn the_token_never_follows_a_foreign_link() {
    // A next link that points at another host must be fetched without the token.
    let sb = sandbox().await;
    let other = sandbox().await;
    let bot = sb.bot();
    let client = Client::new(Config::from_value(config_for(&sb, &bot.token)).unwrap()).unwrap();
    let foreign = format!("{}/rooms", other.hydra_url());
    let err = client.http().page_text(webex_core::http::HttpRequest::get(foreign)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized, "the other host saw no token: {err}");
    assert!(other.requests().iter().all(|r| !r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization"))));
}

#[tokio::test]
async fn unauthorized_carries_the_tracking_id_and_never_the_token() {
    let sb = sandbox().await;
    let client = Client::new(Config::from_value(config_for(&sb, "not-a-valid-token")).unwrap()).unwrap();
    let err = client.rooms().create(&room("x")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert_eq!(err.status, Some(401));
    assert!(err.tracking_id.as_deref().is_some_and(|t| !t.is_empty()), "{err:?}");
    assert!(!err.message.contains("not-a-valid-token"), "{}", err.message);
    assert!(err.message.contains("POST /v1/rooms"), "{}", err.message);
    assert!(err.message.contains("it may be expired or revoked"), "{}", err.message);
}

#[tokio::test]
async fn unauthorized_without_any_token_says_none_is_configured() {
    let sb = sandbox().await;
    let mut config = config_for(&sb, "unused");
    config["credentials"].as_object_mut().unwrap().remove("access_token");
    // A misspelt key is where a token goes missing; the environment must not fill it in.
    config["credentails"] = serde_json::json!({"access_token": "misplaced"});
    let config = Config::from_value_with_env(config, &|_| None).unwrap();
    let err = Client::new(config).unwrap().people().me().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(err.message.contains("no access token is configured: set credentials.access_token"), "{}", err.message);
    assert!(!err.message.contains("misplaced"), "{}", err.message);
}

#[tokio::test]
async fn rate_limits_are_waited_out_even_for_posts() {
    let sb = sandbox().await;
    let client = bot_client(&sb);
    sb.inject_fault(Fault {
        method: Some("POST".into()),
        path: "/v1/rooms".into(),
        status: Some(429),
        retry_after: Some("rand(30),add(30)".into()),
        count: Some(2),
        ..Default::default()
    });
    let created = client.rooms().create(&room("after 429s")).await.unwrap();
    assert_eq!(created.title.as_deref(), Some("after 429s"));
    let posts = sb.requests().iter().filter(|r| r.method == "POST" && r.path == "/v1/rooms").count();
    assert_eq!(posts, 3, "two 429s then the real answer");
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_is_handed_to_the_app() {
    let sb = sandbox().await;
    let client = bot_client(&sb);
    sb.inject_fault(Fault {
        path: "/v1/rooms".into(),
        status: Some(429),
        retry_after: Some("120".into()),
        ..Default::default()
    });
    let err = client.rooms().list(&Default::default()).unwrap().next_page().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(120)));
    assert!(err.message.contains("wait 120 s (the error's retry-after)"), "{}", err.message);
}

#[tokio::test]
async fn server_errors_retry_gets_but_never_posts() {
    let sb = sandbox().await;
    let client = bot_client(&sb);
    let made = client.rooms().create(&room("r")).await.unwrap();
    sb.inject_fault(Fault {
        method: Some("GET".into()),
        path: "/v1/rooms/".into(),
        status: Some(503),
        count: Some(2),
        ..Default::default()
    });
    assert_eq!(client.rooms().get(&made.id).await.unwrap().id, made.id);

    sb.inject_fault(Fault {
        method: Some("POST".into()),
        path: "/v1/rooms".into(),
        status: Some(502),
        ..Default::default()
    });
    let err = client.rooms().create(&room("once")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Server);
    assert_eq!(err.status, Some(502));
    let posts = sb.requests().iter().filter(|r| r.method == "POST" && r.path == "/v1/rooms").count();
    assert_eq!(posts, 2, "the failed POST was sent exactly once");
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error() {
    let sb = sandbox().await;
    let client = bot_client(&sb);
    sb.inject_fault(Fault {
        path: "/v1/people/me".into(),
        status: Some(200),
        body: Some("{\"id\": ".into()),
        ..Default::default()
    });
    let err = client.people().me().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Protocol);
    assert!(err.message.contains("malformed JSON"), "{}", err.message);
    sb.inject_fault(Fault {
        path: "/v1/people/me".into(),
        status: Some(200),
        body: Some("[1, 2]".into()),
        ..Default::default()
    });
    let err = client.people().me().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Protocol);
    assert!(err.message.contains("unexpected response shape"), "{}", err.message);
}

#[tokio::test]
async fn a_dead_server_is_a_network_error_after_the_retries() {
    let sb = sandbox().await;
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut cfg = config_for(&sb, &sb.bot().token);
    cfg["services"]["discovery"]["hydra"] = json!(format!("http://127.0.0.1:{dead}/v1"));
    let client = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    let err = client.rooms().create(&room("nowhere")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Network, "{err}");
    assert!(err.message.contains("cannot connect"), "{}", err.message);
}

#[tokio::test]
async fn slow_answers_time_out() {
    let sb = sandbox().await;
    let mut cfg = config_for(&sb, &sb.bot().token);
    cfg["http"]["timeoutMs"] = json!(100);
    cfg["http"]["maxRetries"] = json!(0);
    let client = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    sb.inject_fault(Fault { path: "/v1/people/me".into(), delay_ms: Some(3_000), ..Default::default() });
    let err = client.people().me().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout, "{err}");
}

#[tokio::test]
async fn secrets_a_request_carries_itself_never_follow_a_redirect_elsewhere() {
    let sb = sandbox().await;
    let other = sandbox().await;
    let client = bot_client(&sb);
    let elsewhere = format!("{}/people/me", other.hydra_url());
    let moved = || Fault {
        method: Some("POST".into()),
        path: "/v1/moved".into(),
        status: Some(307),
        headers: vec![("cisco-location".into(), elsewhere.clone())],
        ..Fault::default()
    };
    let url = format!("{}/moved", sb.hydra_url());
    // A form such as an OAuth refresh (refresh token, client secret)...
    sb.inject_fault(moved());
    let mut form = HttpRequest::new(Method::POST, url.clone()).without_auth();
    form.body = Body::Form(vec![("refresh_token".into(), "a-refresh-token".into())]);
    client.http().send(form).await.unwrap_err();
    // ...and a request with its own Authorization (a guest JWT login) stay where they were sent.
    sb.inject_fault(moved());
    let mut jwt = HttpRequest::new(Method::POST, url.clone()).without_auth();
    jwt.headers.push(("authorization".into(), "Bearer a-guest-jwt".into()));
    client.http().send(jwt).await.unwrap_err();
    assert!(other.requests().is_empty(), "followed to another host: {:?}", other.requests());

    // A request whose only secret is the token still moves, without the token.
    sb.inject_fault(moved());
    client.http().send(HttpRequest::new(Method::POST, url).json(json!({}))).await.unwrap_err();
    let seen = other.requests();
    assert_eq!(seen.len(), 1, "the redirect is followed");
    assert!(!seen[0].headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization")));
}
