//! Credentials end to end against the sandbox's idbroker and guest issuer: the OAuth code flow,
//! refresh before expiry and after a 401 (with one replay), an expired refresh token, a token
//! expiring while the socket is open, guest JWT login and its renewal, the app renewing tokens
//! itself, and tokens kept in disk storage across restarts.

use serde_json::{Value, json};
use std::time::Duration;
use webex_core::rest::memberships::CreateMembership;
use webex_core::rest::messages::CreateMessage;
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, Config, ErrorCode};
use webex_sandbox::{Sandbox, SandboxOptions};
use webex_tests::*;

const REDIRECT: &str = "https://app.example.test/callback";
const DAY: Duration = Duration::from_secs(24 * 3600);

fn oauth_config(sb: &Sandbox) -> Value {
    let (id, secret) = sb.oauth_client();
    let mut cfg = config_for(sb, "unused");
    cfg["credentials"] = json!({"client_id": id, "client_secret": secret, "redirect_uri": REDIRECT, "scope": "spark:all", "idbroker": {"url": sb.idbroker_url()}});
    cfg["mercury"] = json!({"backoffTimeReset": 10, "backoffTimeMax": 100});
    cfg
}

/// What the user's browser does: open the authorize URL, consent, land on the redirect.
async fn consent(authorize_url: &str, email: &str) -> (String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = browser.get(format!("{authorize_url}&login_hint={email}")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT));
    let get = |k: &str| location.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned()).unwrap();
    (get("code"), get("state"))
}

async fn logged_in(sb: &Sandbox, cfg: Value) -> Client {
    let client = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    let url = client.http().authorization_url(Some("xyz")).unwrap();
    let (code, state) = consent(&url, ALICE).await;
    assert_eq!(state, "xyz");
    let granted = client.http().exchange_code(&code).await.unwrap();
    assert!(granted.refresh_token.is_some());
    let _ = sb;
    client
}

fn token_requests(sb: &Sandbox) -> usize {
    sb.requests().iter().filter(|r| r.path == "/idb/oauth2/v1/access_token").count()
}

#[tokio::test]
async fn code_flow_then_refresh_after_a_401_with_one_replay() {
    let sb = sandbox().await;
    let client = logged_in(&sb, oauth_config(&sb)).await;
    assert_eq!(client.people().me().await.unwrap().emails.unwrap()[0], ALICE);
    assert_eq!(token_requests(&sb), 1);
    sb.advance_clock(15 * DAY); // the access token (14 days) is now expired in the cloud
    assert_eq!(client.people().me().await.unwrap().emails.unwrap()[0], ALICE);
    assert_eq!(token_requests(&sb), 2, "one refresh");
    let me_calls: Vec<u16> = sb.requests().iter().filter(|r| r.path == "/v1/people/me").map(|r| r.status).collect();
    assert_eq!(me_calls, [200, 401, 200], "the 401 was replayed once with the new token");
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    let sb = Sandbox::start(SandboxOptions { access_token_ttl: Duration::from_secs(30), ..Default::default() })
        .await
        .unwrap();
    let client = logged_in(&sb, oauth_config(&sb)).await;
    // 30 s left is inside the renewal margin: the next call renews first and never sees a 401.
    client.people().me().await.unwrap();
    assert_eq!(token_requests(&sb), 2);
    assert!(sb.requests().iter().all(|r| r.status != 401));
}

#[tokio::test]
async fn an_expired_refresh_token_tells_the_app_to_reauthorize() {
    let sb = sandbox().await;
    let client = logged_in(&sb, oauth_config(&sb)).await;
    sb.advance_clock(91 * DAY);
    let err = client.people().me().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(err.message.contains("re-authorize"), "{}", err.message);
}

#[tokio::test]
async fn a_token_expiring_mid_stream_reauthorises_the_socket_without_losing_events() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let room = bot.rooms().create(&CreateRoom { title: "expiry".into(), ..Default::default() }).await.unwrap();
    let add = CreateMembership { room_id: room.id.clone(), person_email: Some(ALICE.into()), ..Default::default() };
    bot.memberships().create(&add).await.unwrap();
    // A device without ttl, so that moving the clock 15 days expires the token, not the device.
    let mut cfg = oauth_config(&sb);
    cfg["device"] = json!({"ephemeral": false});
    let alice = logged_in(&sb, cfg).await;
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    let post = |t: &str| CreateMessage { room_id: Some(room.id.clone()), text: Some(t.into()), ..Default::default() };
    bot.messages().create(&post("before")).await.unwrap();
    sb.advance_clock(15 * DAY); // the socket's token expires: the cloud closes it with 4401
    bot.messages().create(&post("during")).await.unwrap();
    bot.messages().create(&post("after")).await.unwrap();
    let mut got = Vec::new();
    let mut kinds = Vec::new();
    while got.len() < 3 {
        let e = events.recv().await.unwrap();
        kinds.push(e.kind.clone());
        if e.kind == "messages:created" {
            got.push(e.data["data"]["text"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(got, ["before", "during", "after"]);
    assert!(kinds.contains(&"offline.transient".to_string()), "{kinds:?}");
    assert!(!kinds.iter().any(|k| k == "offline.permanent"), "{kinds:?}");
    assert!(sb.mercury_closes().iter().any(|c| c.code == Some(4401)));
    alice.shutdown().await;
}

#[tokio::test]
async fn guest_login_from_a_jwt_logs_in_again_when_the_token_expires() {
    let sb = sandbox().await;
    let jwt = sb.guest_jwt("guest-1", "Guest One", Duration::from_secs(30 * 24 * 3600));
    let mut cfg = config_for(&sb, "unused");
    cfg["credentials"] = json!({});
    let guest = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    guest.http().jwt_login(&jwt).await.unwrap();
    let me = guest.people().me().await.unwrap();
    assert_eq!(me.display_name.as_deref(), Some("Guest One"));
    sb.advance_clock(7 * 3600 * Duration::from_secs(1));
    assert_eq!(guest.people().me().await.unwrap().id, me.id);
    assert_eq!(sb.requests().iter().filter(|r| r.path == "/v1/jwt/login").count(), 2);
    let bad = Client::new(Config::from_value(config_for(&sb, "unused")).unwrap()).unwrap();
    let err = bad.http().jwt_login("a.b.c").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(!err.message.contains("a.b.c"));
}

#[tokio::test]
async fn the_app_can_renew_tokens_itself() {
    let sb = sandbox().await;
    let issuer = logged_in(&sb, oauth_config(&sb)).await; // only to obtain an expiring token
    let token = issuer.http().credentials().access_token().unwrap();
    let mut cfg = config_for(&sb, &token);
    cfg["credentials"]["refreshCallback"] = json!(true);
    let client = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    let mut events = client.events();
    sb.advance_clock(15 * DAY);
    let renewer = client.clone();
    let fresh = sb.add_token(ALICE).unwrap();
    let app = tokio::spawn(async move {
        loop {
            let e = events.recv().await.unwrap();
            if e.kind == "credentials:refresh" {
                assert_eq!(e.data["reason"], "unauthorized");
                renewer.http().credentials().set_access_token(Some(fresh));
                return;
            }
        }
    });
    assert_eq!(client.people().me().await.unwrap().emails.unwrap()[0], ALICE);
    app.await.unwrap();
}

#[tokio::test]
async fn tokens_in_disk_storage_survive_a_restart() {
    let sb = sandbox().await;
    let dir = std::env::temp_dir().join(format!("webex-creds-{}", std::process::id()));
    let mut cfg = oauth_config(&sb);
    cfg["storage"] = json!({"boundedAdapter": {"dir": dir.to_string_lossy()}});
    let first = logged_in(&sb, cfg.clone()).await;
    first.people().me().await.unwrap();
    drop(first);
    let second = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    assert_eq!(second.people().me().await.unwrap().emails.unwrap()[0], ALICE);
    assert_eq!(token_requests(&sb), 1, "the stored tokens were reused");
    let stored = std::fs::read_to_string(dir.join("credentials.json")).unwrap();
    assert!(stored.contains("refresh_token"));
    std::fs::remove_dir_all(dir).ok();
}
