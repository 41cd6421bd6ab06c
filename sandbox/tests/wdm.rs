//! U2C catalog shape, metrics, and WDM device registration over real HTTP.

mod common;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use webex_sandbox::{EXCESSIVE_DEVICES_MESSAGE, Sandbox, SandboxOptions};

use common::ws::register;
use common::{assert_error, call, client, json, start};

const SERVICES: [(&str, &str); 8] = [
    ("hydra", "/v1"),
    ("u2c", "/u2c/api/v1"),
    ("wdm", "/wdm/api/v1"),
    ("conversation", "/conversation/api/v1"),
    ("mercury", "/mercury/api/v1"),
    ("locus", "/locus/api/v1"),
    ("metrics", "/metrics/api/v1"),
    ("webex-appapi-service", "/wbxappapi/v1"),
];

fn check_catalog(sb: &Sandbox, v: &Value, with_wdm: bool) {
    let base = sb.base_url();
    let host_port = base.trim_start_matches("http://");
    let host = host_port.split(':').next().unwrap();
    assert_eq!(v["format"], "hostmap");
    let links = v["serviceLinks"].as_object().expect("serviceLinks");
    let hosts = v["hostCatalog"][host_port].as_array().expect("hostCatalog keyed by host:port");
    assert_eq!(v["hostCatalog"].as_object().unwrap().len(), 1);
    for (name, path) in SERVICES {
        if name == "wdm" && !with_wdm {
            assert!(links.get("wdm").is_none(), "{v}");
            assert!(hosts.iter().all(|h| h["id"] != "urn:TEAM:us-east-2_a:wdm"));
            continue;
        }
        assert_eq!(links[name], format!("{base}{path}"), "{name}");
        let entry = hosts.iter().find(|h| h["id"] == format!("urn:TEAM:us-east-2_a:{name}")).expect(name);
        assert_eq!(entry["host"], host, "host without port");
        assert!(entry["priority"].is_number() && entry["ttl"].is_number());
    }
    assert_eq!(links.len(), if with_wdm { 8 } else { 7 });
}

#[tokio::test]
async fn catalog_limited_without_auth_and_full_with_auth() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let limited = format!("{}/limited/catalog?orgId=x&format=hostmap", sb.u2c_url());
    let res = client().get(&limited).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    check_catalog(&sb, &res.json().await.unwrap(), true);
    let full = format!("{}/catalog?format=hostmap", sb.u2c_url());
    assert_error(client().get(&full).send().await.unwrap(), 401).await;
    let (s, v) = json(Method::GET, &full, &alice.token, None).await;
    assert_eq!(s, 200);
    check_catalog(&sb, &v, true);
    assert_eq!(sb.info_json()["wdm"], sb.wdm_url());

    // Metrics are swallowed.
    let res = call(
        Method::POST,
        &format!("{}/metrics/api/v1/clientmetrics", sb.base_url()),
        &alice.token,
        Some(json!({"metrics": []})),
    )
    .await;
    assert_eq!(res.status().as_u16(), 204);
}

#[tokio::test]
async fn catalog_without_wdm_by_option_and_by_control() {
    let opts = SandboxOptions { catalog_without_wdm: true, ..SandboxOptions::default() };
    let sb = Sandbox::start(opts).await.unwrap();
    let alice = sb.user("alice@example.com").unwrap();
    let full = format!("{}/catalog?format=hostmap", sb.u2c_url());
    let (_, v) = json(Method::GET, &full, &alice.token, None).await;
    check_catalog(&sb, &v, false);
    sb.set_catalog_wdm(true);
    let (_, v) = json(Method::GET, &full, &alice.token, None).await;
    check_catalog(&sb, &v, true);
    let res =
        client().post(format!("{}/_sandbox/catalog", sb.base_url())).json(&json!({"wdm": false})).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let res = client().get(format!("{}/limited/catalog", sb.u2c_url())).send().await.unwrap();
    check_catalog(&sb, &res.json().await.unwrap(), false);
}

#[tokio::test]
async fn register_list_refresh_delete() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let bob = sb.user("bob@example.com").unwrap();
    let d = register(&sb, &alice.token).await;
    let url = d["url"].as_str().unwrap().to_string();
    let id = url.rsplit('/').next().unwrap();
    assert_eq!(url, format!("{}/devices/{id}", sb.wdm_url()));
    let port = sb.base_url().rsplit(':').next().unwrap().to_string();
    assert_eq!(d["webSocketUrl"], format!("ws://127.0.0.1:{port}/mercury/api/v1/apps/wx2/registrations/{id}/messages"));
    let alice_uuid = {
        let (_, me) = json(Method::GET, &format!("{}/people/me", sb.hydra_url()), &alice.token, None).await;
        let text = base64_decode(me["id"].as_str().unwrap());
        text.rsplit('/').next().unwrap().to_string()
    };
    assert_eq!(d["userId"], alice_uuid);
    assert_eq!(d["deviceType"], "WEB");
    assert_eq!(d["name"], "node");
    assert_eq!(d["model"], "web-js-sdk");
    assert_eq!(d["features"], json!({"developer": [], "entitlement": [], "user": []}));
    assert!(d["creationTime"].is_string() && d["modificationTime"].is_string());
    assert!(d.get("etag").is_none());

    let (s, list) = json(Method::GET, &format!("{}/devices", sb.wdm_url()), &alice.token, None).await;
    assert_eq!(s, 200);
    assert_eq!(list["devices"].as_array().unwrap().len(), 1);
    assert_eq!(list["devices"][0]["url"], url.as_str());
    let (_, list) = json(Method::GET, &format!("{}/devices", sb.wdm_url()), &bob.token, None).await;
    assert_eq!(list["devices"], json!([]));
    assert_eq!(sb.devices("alice@example.com").len(), 1);

    let (s, got) = json(Method::GET, &url, &alice.token, None).await;
    assert_eq!(s, 200);
    assert_eq!(got["url"], url.as_str());
    // Another user's device, an unknown one and a garbage id are all 404 with the error body.
    assert_error(call(Method::GET, &url, &bob.token, None).await, 404).await;
    assert_error(call(Method::PUT, &url, &bob.token, Some(json!({}))).await, 404).await;
    assert_error(call(Method::DELETE, &url, &bob.token, None).await, 404).await;
    let unknown = format!("{}/devices/{}", sb.wdm_url(), "0b4f4a57-2fd1-4b43-9f4b-6b1b2c1d9e01");
    assert_error(call(Method::GET, &unknown, &alice.token, None).await, 404).await;
    assert_error(call(Method::GET, &format!("{}/devices/nope", sb.wdm_url()), &alice.token, None).await, 404).await;
    assert_error(call(Method::GET, &url, "bad-token", None).await, 401).await;

    // Refresh: the SDK sends the whole model back; server fields stay the server's.
    let mut body = d.clone();
    body["name"] = json!("renamed");
    body["url"] = json!("http://evil/");
    let (s, r) = json(Method::PUT, &format!("{url}?includeUpstreamServices=all"), &alice.token, Some(body)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["name"], "renamed");
    assert_eq!(r["url"], url.as_str());
    assert_eq!(r["creationTime"], d["creationTime"]);
    assert!(r["modificationTime"].as_str().unwrap() > d["modificationTime"].as_str().unwrap(), "{r}");

    let res = call(Method::DELETE, &url, &alice.token, None).await;
    assert_eq!(res.status().as_u16(), 204);
    assert_error(call(Method::GET, &url, &alice.token, None).await, 404).await;
    assert_error(call(Method::DELETE, &url, &alice.token, None).await, 404).await;
    assert!(sb.devices("alice@example.com").is_empty());
}

fn base64_decode(id: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id).unwrap()).unwrap()
}

#[tokio::test]
async fn bad_bodies_are_400() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let url = format!("{}/devices", sb.wdm_url());
    for body in
        [json!({"name": "x"}), json!({"deviceType": "WEB", "ttl": -1}), json!({"deviceType": "WEB", "ttl": "x"})]
    {
        assert_error(call(Method::POST, &url, &alice.token, Some(body)).await, 400).await;
    }
    let res = client().post(&url).bearer_auth(&alice.token).body("[1,2").send().await.unwrap();
    assert_error(res, 400).await;
}

#[tokio::test]
async fn device_cap_answers_excessive_registrations() {
    let opts = SandboxOptions { device_cap: 2, ..SandboxOptions::default() };
    let sb = Sandbox::start(opts).await.unwrap();
    let alice = sb.user("alice@example.com").unwrap();
    let bob = sb.user("bob@example.com").unwrap();
    let first = register(&sb, &alice.token).await;
    register(&sb, &alice.token).await;
    let url = format!("{}/devices", sb.wdm_url());
    let body = json!({"deviceType": "WEB", "name": "third"});
    let res = call(Method::POST, &url, &alice.token, Some(body.clone())).await;
    let err = assert_error(res, 400).await;
    assert_eq!(err["message"], EXCESSIVE_DEVICES_MESSAGE);
    assert_eq!(err["message"], "User has excessive device registrations");
    // The cap is per user, and deleting one makes room.
    register(&sb, &bob.token).await;
    let res = call(Method::DELETE, first["url"].as_str().unwrap(), &alice.token, None).await;
    assert_eq!(res.status().as_u16(), 204);
    let (s, _) = json(Method::POST, &url, &alice.token, Some(body)).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn ephemeral_devices_expire_unless_refreshed() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let url = format!("{}/devices", sb.wdm_url());
    let (_, eph) = json(Method::POST, &url, &alice.token, Some(json!({"deviceType": "WEB", "ttl": 60}))).await;
    let (_, fresh) = json(Method::POST, &url, &alice.token, Some(json!({"deviceType": "WEB", "ttl": 60}))).await;
    let (_, durable) = json(Method::POST, &url, &alice.token, Some(json!({"deviceType": "DESKTOP"}))).await;
    let eph_url = eph["url"].as_str().unwrap();
    let fresh_url = fresh["url"].as_str().unwrap();
    sb.advance_clock(Duration::from_secs(40));
    let (s, _) = json(Method::PUT, fresh_url, &alice.token, Some(json!({}))).await;
    assert_eq!(s, 200);
    sb.advance_clock(Duration::from_secs(40));
    // 80 s since eph's registration: gone. fresh was refreshed 40 s ago: alive.
    assert_error(call(Method::GET, eph_url, &alice.token, None).await, 404).await;
    assert_error(call(Method::PUT, eph_url, &alice.token, Some(json!({}))).await, 404).await;
    let (s, _) = json(Method::GET, fresh_url, &alice.token, None).await;
    assert_eq!(s, 200);
    let urls: Vec<Value> = sb.devices("alice@example.com").iter().map(|d| d["url"].clone()).collect();
    assert_eq!(urls, vec![fresh["url"].clone(), durable["url"].clone()]);
    sb.advance_clock(Duration::from_secs(3600 * 24 * 365));
    let urls: Vec<Value> = sb.devices("alice@example.com").iter().map(|d| d["url"].clone()).collect();
    assert_eq!(urls, vec![durable["url"].clone()]);
}
