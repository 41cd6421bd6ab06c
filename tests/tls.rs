//! The sandbox over HTTPS (`SandboxOptions::tls`), as the real cloud is only reachable: a client
//! told to trust the sandbox's CA (`http.caCertificates`) calls REST over HTTP/2 (chosen by ALPN)
//! and opens the event socket over `wss://`; a client that is not told refuses the server, so
//! verification stays on and the token never leaves it.

use serde_json::{Value, json};
use webex_core::error::ErrorCode;
use webex_core::{Client, Config};
use webex_sandbox::{Sandbox, SandboxOptions};
use webex_tests::*;

async fn https_sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions { tls: true, ..SandboxOptions::default() }).await.expect("the sandbox starts")
}

/// The sandbox's own config for `email`: token, discovery and the CA.
fn config(sb: &Sandbox, email: &str) -> Value {
    sb.client_config(email).expect("a sandbox user")
}

fn client(doc: Value) -> Client {
    Client::new(Config::from_value(doc).expect("valid config")).expect("client")
}

#[tokio::test]
async fn rest_over_http2_and_events_over_wss_with_the_sandbox_ca() {
    let sb = https_sandbox().await;
    assert!(sb.base_url().starts_with("https://"), "{}", sb.base_url());
    let ca = sb.ca_certificate().expect("an HTTPS sandbox has a CA");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    let bot = client(config(&sb, &sb.bot().email));
    let alice = client(config(&sb, ALICE));

    message_reaches(&bot, &alice, ALICE, "encrypted").await;

    let requests = sb.requests();
    let create = requests.iter().find(|r| r.method == "POST" && r.path == "/v1/rooms").expect("the room create");
    assert_eq!(create.version, "HTTP/2.0", "REST took HTTP/2, which the server offered");
    let socket = requests.iter().find(|r| r.path.contains("/mercury/")).expect("the socket's upgrade request");
    assert_eq!(socket.version, "HTTP/1.1", "the websocket upgrade asked for HTTP/1.1");
    alice.shutdown().await;
    bot.shutdown().await;
}

#[tokio::test]
async fn a_client_not_told_of_the_ca_refuses_the_server_and_keeps_the_token() {
    let sb = https_sandbox().await;
    let mut doc = config(&sb, &sb.bot().email);
    doc.as_object_mut().unwrap().remove("http");
    let token = sb.bot().token;
    let stranger = client(doc);
    let err = stranger.people().me().await.expect_err("an unknown CA is refused");
    assert_eq!(err.code, ErrorCode::Network, "{err:?}");
    // Named as what it is, with the fix, and not retried (a refusal cannot change).
    assert!(err.message.contains("certificate is not trusted"), "{}", err.message);
    assert!(err.message.contains("http.caCertificates"), "{}", err.message);
    assert!(!err.message.contains(&token), "the token is not in the error");
    // Live events need the device registered over the same TLS: refused for good too, so
    // listen() fails (it does not retry forever) and says how to fix it.
    let listening = stranger.listen("messages").await.expect_err("no events from an untrusted server");
    assert!(listening.message.contains("http.caCertificates"), "{}", listening.message);
    assert!(sb.requests().is_empty(), "no request reached the server: {:?}", sb.requests());
    stranger.shutdown().await;
}

#[test]
fn a_ca_setting_that_holds_no_certificate_is_refused_by_name() {
    let doc = json!({
        "credentials": {"access_token": "t"},
        "http": {"caCertificates": "/etc/ssl/certs/corp-ca.pem"},
    });
    let err = Client::new(Config::from_value(doc).expect("the shape is valid")).err().expect("refused");
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("http.caCertificates"), "{}", err.message);
    assert!(err.message.contains("BEGIN CERTIFICATE"), "says what is expected: {}", err.message);
}
