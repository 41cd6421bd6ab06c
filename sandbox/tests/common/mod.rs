//! Shared helpers for the sandbox integration tests (real HTTP on loopback).
#![allow(dead_code)]

pub mod ws;

use reqwest::{Client, Method, Response};
use serde_json::Value;
use webex_sandbox::{Sandbox, SandboxOptions};

/// Starts a sandbox on an OS-picked loopback port.
pub async fn start() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).await.expect("sandbox starts")
}

/// A plain-HTTP client (reqwest is built without a TLS provider here).
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().expect("client")
}

/// Sends a request with a bearer token and an optional JSON body.
pub async fn call(method: Method, url: &str, token: &str, body: Option<Value>) -> Response {
    let mut req = client().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("request")
}

/// Sends and returns `(status, JSON body or Null)`.
pub async fn json(method: Method, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let res = call(method, url, token, body).await;
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Creates a group room as `token` and returns its id.
pub async fn room(sb: &Sandbox, token: &str, title: &str) -> String {
    let (s, v) =
        json(Method::POST, &format!("{}/rooms", sb.hydra_url()), token, Some(serde_json::json!({ "title": title })))
            .await;
    assert_eq!(s, 200, "{v}");
    v["id"].as_str().expect("room id").to_string()
}

/// Asserts the cloud error body shape and that its trackingId equals the header.
pub async fn assert_error(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status);
    let header = res.headers().get("trackingid").expect("trackingid header").to_str().unwrap().to_string();
    let body: Value = res.json().await.expect("error body is JSON");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["errors"][0]["description"].is_string(), "{body}");
    assert_eq!(body["trackingId"], header.as_str());
    assert!(header.starts_with("ROUTERGW_"));
    body
}
