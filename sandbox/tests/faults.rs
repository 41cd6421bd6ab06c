//! Fault injection (Rust API and HTTP admin API) and the request log.

mod common;

use reqwest::Method;
use serde_json::{Value, json};
use webex_sandbox::Fault;

use common::{assert_error, call, start};

#[tokio::test]
async fn rate_limit_fault_applies_count_times_then_clears() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let url = format!("{}/people/me", sb.hydra_url());
    sb.inject_fault(Fault {
        method: Some("GET".into()),
        path: "/v1/people".into(),
        status: Some(429),
        retry_after: Some("rand(30),add(30)".into()),
        count: Some(2),
        ..Fault::default()
    });
    for _ in 0..2 {
        let res = call(Method::GET, &url, &alice.token, None).await;
        assert_eq!(res.headers()["retry-after"], "rand(30),add(30)");
        assert_error(res, 429).await;
    }
    assert_eq!(call(Method::GET, &url, &alice.token, None).await.status(), 200);

    sb.inject_fault(Fault { path: "/v1/".into(), status: Some(503), count: Some(0), ..Fault::default() });
    assert_eq!(call(Method::GET, &url, &alice.token, None).await.status(), 503);
    assert_eq!(call(Method::GET, &url, &alice.token, None).await.status(), 503);
    sb.clear_faults();
    assert_eq!(call(Method::GET, &url, &alice.token, None).await.status(), 200);

    let log = sb.requests();
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 429, 200, 503, 503, 200]);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/v1/people/me");
    assert!(log[0].headers.iter().any(|(k, v)| k == "authorization" && v.ends_with(&alice.token)));
}

#[tokio::test]
async fn admin_http_api_controls_users_faults_and_log() {
    let sb = start().await;
    let c = common::client();
    let admin = format!("{}/_sandbox", sb.base_url());
    let info: Value = c.get(format!("{admin}/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["hydra"], sb.hydra_url().as_str());
    assert_eq!(info["users"].as_array().unwrap().len(), 3);

    let u =
        admin_post(&c, format!("{admin}/users"), json!({"email": "carol@example.com", "displayName": "Carol"})).await;
    let token = u["token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('_').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].len(), 64);
    let (s, me) = common::json(Method::GET, &format!("{}/people/me", sb.hydra_url()), token, None).await;
    assert_eq!(s, 200);
    assert_eq!(me["displayName"], "Carol");
    assert_eq!(me["id"], u["personId"]);

    let f =
        admin_post(&c, format!("{admin}/faults"), json!({"path": "/v1/rooms", "status": 500, "body": "boom"})).await;
    assert!(f["id"].is_u64());
    let res = call(Method::GET, &format!("{}/rooms", sb.hydra_url()), token, None).await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text().await.unwrap(), "boom");
    c.post(format!("{admin}/faults"))
        .json(&json!({"path": "/v1/rooms", "status": 502, "count": 5}))
        .send()
        .await
        .unwrap();
    // One fault goes by the id its arming answered.
    let one = admin_post(&c, format!("{admin}/faults"), json!({"path": "/v1/teams", "status": 503, "count": 0})).await;
    let one = format!("{admin}/faults/{}", one["id"]);
    assert_eq!(c.delete(&one).send().await.unwrap().status(), 204);
    assert_eq!(c.delete(&one).send().await.unwrap().status(), 404);
    assert_eq!(c.delete(format!("{admin}/faults")).send().await.unwrap().status(), 204);
    assert_eq!(call(Method::GET, &format!("{}/rooms", sb.hydra_url()), token, None).await.status(), 200);
    let bad = c.post(format!("{admin}/faults")).json(&json!({"status": 500})).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    // A path without its leading `/` would never match: refused rather than armed for nothing.
    let bad = c.post(format!("{admin}/faults")).json(&json!({"path": "v1/rooms", "status": 500})).send().await.unwrap();
    assert_eq!(bad.status(), 400);

    let log: Value = c.get(format!("{admin}/requests")).send().await.unwrap().json().await.unwrap();
    let statuses: Vec<u64> = log["items"].as_array().unwrap().iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, vec![200, 500, 200]);
    // Headers are there for tests to check, the token in them redacted.
    let text = log.to_string();
    assert!(!text.contains(token), "the request log leaks a token");
    assert!(text.contains("Bearer <redacted>"), "{text}");

    // Catalog: limited without auth, full with it.
    let cat: Value =
        c.get(format!("{}/limited/catalog?format=hostmap", sb.u2c_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(cat["serviceLinks"]["hydra"], sb.hydra_url().as_str());
    let key = sb.base_url().trim_start_matches("http://").to_string();
    assert_eq!(cat["hostCatalog"][&key][0]["host"], "127.0.0.1");
    assert_eq!(call(Method::GET, &format!("{}/catalog", sb.u2c_url()), token, None).await.status(), 200);
    assert_eq!(c.get(format!("{}/catalog", sb.u2c_url())).send().await.unwrap().status(), 401);
    sb.stop().await;
}

/// POSTs `body` to an admin route and reads the JSON answer.
async fn admin_post(c: &reqwest::Client, url: String, body: Value) -> Value {
    c.post(url).json(&body).send().await.unwrap().json().await.unwrap()
}
