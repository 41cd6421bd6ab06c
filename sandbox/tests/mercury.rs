//! The Mercury websocket with real clients: handshake, keep-alive, acks and replay, and the
//! test controls.

mod common;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use webex_sandbox::{AUTH_TIMEOUT_REASON, MercuryClose, Sandbox, SandboxOptions};

use common::ws::{Got, Ws, register, wait_sockets};
use common::{client, json, room, start};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

#[tokio::test]
async fn good_auth_gets_buffer_state_then_pongs_numbered() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::open(&d).await;
    ws.auth(&alice.token).await;
    let bs = ws.json().await;
    assert_eq!(bs["data"]["eventType"], "mercury.buffer_state");
    assert_eq!(bs["sequenceNumber"], 1);
    assert!(bs["id"].is_string() && bs["timestamp"].is_i64() && bs["trackingId"].is_string(), "{bs}");
    assert!(bs.get("type").is_none());
    wait_sockets(&sb, ALICE, 1).await;
    let pong = ws.ping("p-1").await;
    assert_eq!(pong, json!({"type": "pong", "id": "p-1", "sequenceNumber": 2}));
    // Acks of anything (even a pong id) are accepted; garbage is ignored, never fatal.
    ws.ack(&json!("p-1")).await;
    ws.send_text("not json at all {").await;
    ws.send_json(json!({"type": "mystery"})).await;
    ws.send_json(json!([1, 2, 3])).await;
    let pong = ws.ping("p-2").await;
    assert_eq!(pong["sequenceNumber"], 3);
    assert!(sb.mercury_ignored_frames().iter().any(|f| f.starts_with("not json")));
    assert_eq!(sb.mercury_acks(ALICE), vec!["p-1".to_string()]);
    ws.close().await;
    wait_sockets(&sb, ALICE, 0).await;
}

#[tokio::test]
async fn bad_token_and_foreign_device_close_4401() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let bob = sb.user(BOB).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::open(&d).await;
    ws.auth("not-a-token").await;
    let (code, reason) = ws.closed().await.expect("a close frame");
    assert_eq!(code, 4401);
    assert!(!reason.is_empty());
    let mut ws = Ws::open(&d).await;
    ws.send_json(json!({"type": "authorization", "data": {"token": alice.token}})).await; // no "Bearer"
    assert_eq!(ws.closed().await.map(|c| c.0), Some(4401));
    let mut ws = Ws::open(&d).await;
    ws.auth(&bob.token).await;
    assert_eq!(ws.closed().await.map(|c| c.0), Some(4401));
    let closes = sb.mercury_closes();
    assert_eq!(closes.len(), 3);
    assert!(closes.iter().all(|c| c.code == Some(4401) && c.device_url == d["url"].as_str().unwrap()));
    assert_eq!(sb.mercury_sockets(ALICE), 0);
}

#[tokio::test]
async fn deleted_device_socket_closes_without_status() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::connect(&d, &alice.token).await;
    let res = common::call(Method::DELETE, d["url"].as_str().unwrap(), &alice.token, None).await;
    assert_eq!(res.status().as_u16(), 204);
    // No status in the close frame: the client sees 1005 and refreshes its device (§5.7).
    assert_eq!(ws.closed().await, None);
    let mut ws = Ws::open(&d).await;
    ws.auth(&alice.token).await;
    assert_eq!(ws.closed().await, None);
}

#[tokio::test]
async fn no_auth_frame_closes_1008_with_the_cloud_reason() {
    let opts = SandboxOptions { mercury_auth_timeout: Duration::from_millis(50), ..SandboxOptions::default() };
    let sb = Sandbox::start(opts).await.unwrap();
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::open(&d).await;
    ws.send_text("garbage before auth").await;
    let (code, reason) = ws.closed().await.expect("close frame");
    assert_eq!(code, 1008);
    assert_eq!(reason, AUTH_TIMEOUT_REASON);
    assert_eq!(reason, "authentication did not happen within the timeout window of 30000 seconds.");
}

/// Posts `n` messages as alice into a fresh room; returns the room id and message ids.
async fn post_messages(sb: &Sandbox, token: &str, n: usize) -> (String, Vec<String>) {
    let room_id = room(sb, token, "replay").await;
    let mut ids = Vec::new();
    for i in 0..n {
        let (s, m) = json(
            Method::POST,
            &format!("{}/messages", sb.hydra_url()),
            token,
            Some(json!({"roomId": room_id, "text": format!("m{i}")})),
        )
        .await;
        assert_eq!(s, 200);
        ids.push(m["id"].as_str().unwrap().to_string());
    }
    (room_id, ids)
}

fn text_of(ev: &Value) -> String {
    ev["data"]["activity"]["object"]["displayName"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn unacked_events_are_replayed_in_order_after_reconnect() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 1).await;
    // The room's create activity comes first; ack it so only the messages remain.
    let (_, _) = post_messages(&sb, &alice.token, 0).await;
    let create = ws.json().await;
    assert_eq!(create["data"]["activity"]["verb"], "create");
    ws.ack(&create["id"]).await;
    let room_id = {
        let (_, rooms) = json(Method::GET, &format!("{}/rooms", sb.hydra_url()), &alice.token, None).await;
        rooms["items"][0]["id"].as_str().unwrap().to_string()
    };
    for i in 0..10 {
        let (s, _) = json(
            Method::POST,
            &format!("{}/messages", sb.hydra_url()),
            &alice.token,
            Some(json!({"roomId": room_id, "text": format!("m{i}")})),
        )
        .await;
        assert_eq!(s, 200);
    }
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(ws.json().await);
    }
    let texts: Vec<String> = seen.iter().map(text_of).collect();
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4"]);
    let seqs: Vec<i64> = seen.iter().map(|e| e["sequenceNumber"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [3, 4, 5, 6, 7]);
    for e in &seen[..3] {
        ws.ack(&e["id"]).await;
    }
    // A ping round trip proves the server handled the acks before the socket goes.
    ws.ping("sync").await;
    assert_eq!(sb.mercury_pending(d["url"].as_str().unwrap()), 7);
    ws.close().await;
    wait_sockets(&sb, ALICE, 0).await;

    let mut ws = Ws::connect(&d, &alice.token).await;
    let mut replayed = Vec::new();
    for _ in 0..7 {
        replayed.push(ws.json().await);
    }
    let texts: Vec<String> = replayed.iter().map(text_of).collect();
    assert_eq!(texts, ["m3", "m4", "m5", "m6", "m7", "m8", "m9"]);
    assert_eq!(replayed[0]["id"], seen[3]["id"]);
    assert_eq!(replayed[0]["sequenceNumber"], 2, "numbering restarts per socket");
    // Nothing else is pending: the next frame is the pong.
    let pong = ws.ping("after").await;
    assert_eq!(pong["sequenceNumber"], 9);
}

#[tokio::test]
async fn events_wait_in_the_buffer_while_no_socket_is_open() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let bob = sb.user(BOB).unwrap();
    let d = register(&sb, &bob.token).await;
    let room_id = room(&sb, &alice.token, "offline").await;
    let (s, _) = json(
        Method::POST,
        &format!("{}/memberships", sb.hydra_url()),
        &alice.token,
        Some(json!({"roomId": room_id, "personEmail": BOB})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = json(
        Method::POST,
        &format!("{}/messages", sb.hydra_url()),
        &alice.token,
        Some(json!({"roomId": room_id, "text": "while away"})),
    )
    .await;
    assert_eq!(s, 200);
    let mut ws = Ws::connect(&d, &bob.token).await;
    let add = ws.json().await;
    assert_eq!(add["data"]["activity"]["verb"], "add");
    let post = ws.json().await;
    assert_eq!(text_of(&post), "while away");
}

#[tokio::test]
async fn newest_socket_of_a_device_gets_the_events() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut old = Ws::connect(&d, &alice.token).await;
    let mut new = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 2).await;
    assert_eq!(sb.emit_raw(ALICE, "test.one", r#"{"n": 1}"#, 1), 1);
    let ev = new.json().await;
    assert_eq!(ev["data"], json!({"eventType": "test.one", "n": 1}));
    // The old socket got nothing: its next frame is its own pong.
    assert_eq!(old.ping("o").await["sequenceNumber"], 2);
    // When the newest goes, the older one takes over and gets the unacked event.
    new.close().await;
    wait_sockets(&sb, ALICE, 1).await;
    let again = old.json().await;
    assert_eq!(again["id"], ev["id"]);
}

#[tokio::test]
async fn close_controls_send_the_chosen_code_and_reason() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 1).await;
    assert_eq!(sb.mercury_close_user(ALICE, 4000, "replaced"), 1);
    assert_eq!(ws.closed().await, Some((4000, "replaced".to_string())));
    wait_sockets(&sb, ALICE, 0).await;

    let mut ws = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 1).await;
    assert_eq!(sb.mercury_close_device(d["url"].as_str().unwrap(), 1000, "idle"), 1);
    assert_eq!(ws.closed().await, Some((1000, "idle".to_string())));
    wait_sockets(&sb, ALICE, 0).await;

    // Over HTTP.
    let mut ws = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 1).await;
    let res = client()
        .post(format!("{}/_sandbox/mercury/close", sb.base_url()))
        .json(&json!({"email": ALICE, "code": 1011, "reason": "server error"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"closed": 1}));
    assert_eq!(ws.closed().await, Some((1011, "server error".to_string())));
    let closes = sb.mercury_closes();
    let codes: Vec<Option<u16>> = closes.iter().map(|c| c.code).collect();
    assert_eq!(codes, [Some(4000), Some(1000), Some(1011)]);
    assert_eq!(
        closes[0],
        MercuryClose {
            device_url: d["url"].as_str().unwrap().to_string(),
            email: Some(ALICE.to_string()),
            code: Some(4000),
            reason: "replaced".into()
        }
    );
    let res = client().get(format!("{}/_sandbox/mercury/closes", sb.base_url())).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn shutdown_then_new_socket_closes_the_old_one_with_4001() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let url = d["url"].as_str().unwrap();
    let mut old = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 1).await;
    assert_eq!(sb.mercury_shutdown(url), 1);
    let frame = old.json().await;
    assert_eq!(frame["type"], "shutdown");
    assert_eq!(frame["sequenceNumber"], 2);
    // Make-before-break: the old socket stays open until the new one is authorised.
    assert_eq!(old.ping("still-here").await["sequenceNumber"], 3);
    let mut new = Ws::connect(&d, &alice.token).await;
    assert_eq!(old.closed().await.map(|c| c.0), Some(4001));
    wait_sockets(&sb, ALICE, 1).await;
    sb.emit_raw(ALICE, "test.after", "{}", 1);
    assert_eq!(new.json().await["data"]["eventType"], "test.after");
}

#[tokio::test]
async fn skip_buffer_state_applies_to_the_next_n_connections() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    sb.mercury_skip_buffer_state(ALICE, 1);
    let mut ws = Ws::open(&d).await;
    ws.auth(&alice.token).await;
    // Without buffer_state the first frame is the pong, numbered 1.
    assert_eq!(ws.ping("first").await, json!({"type": "pong", "id": "first", "sequenceNumber": 1}));
    ws.close().await;
    // Over HTTP for the following one; then back to normal.
    let res = client()
        .post(format!("{}/_sandbox/mercury/skip-buffer-state", sb.base_url()))
        .json(&json!({"email": ALICE, "count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let mut ws = Ws::open(&d).await;
    ws.auth(&alice.token).await;
    assert_eq!(ws.ping("second").await["sequenceNumber"], 1);
    ws.close().await;
    Ws::connect(&d, &alice.token).await;
}

#[tokio::test]
async fn raw_frames_reach_live_sockets_verbatim() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 1).await;
    assert_eq!(sb.mercury_send_raw(ALICE, "}{ garbage"), 1);
    match ws.next().await {
        Got::Text(t) => assert_eq!(t, "}{ garbage"),
        other => panic!("{other:?}"),
    }
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    assert_eq!(sb.mercury_send_raw(ALICE, &big), 1);
    assert_eq!(ws.json().await["pad"].as_str().unwrap().len(), 2 * 1024 * 1024);
    let res = client()
        .post(format!("{}/_sandbox/mercury/raw", sb.base_url()))
        .json(&json!({"email": ALICE, "text": "{\"data\":{\"eventType\":\"unknown.kind\"}}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"sent": 1}));
    assert_eq!(ws.json().await["data"]["eventType"], "unknown.kind");
    // Raw frames are outside the numbering: the pong follows the buffer_state directly.
    assert_eq!(ws.ping("n").await["sequenceNumber"], 2);
}

#[tokio::test]
async fn emitted_events_arrive_in_order_with_the_full_envelope() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 1).await;
    const N: usize = 20_000;
    assert_eq!(sb.emit_raw(ALICE, "bench.event", r#"{"k":"v"}"#, N), 1);
    let res = client()
        .post(format!("{}/_sandbox/mercury/emit", sb.base_url()))
        .json(&json!({"email": ALICE, "eventType": "bench.tail", "data": {"last": true}, "count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"devices": 1}));
    for i in 0..N {
        let ev = ws.json().await;
        assert_eq!(ev["sequenceNumber"], (i + 2) as u64);
        if i == 0 {
            let keys: Vec<&str> = ev.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                [
                    "id",
                    "data",
                    "timestamp",
                    "trackingId",
                    "alertType",
                    "headers",
                    "sequenceNumber",
                    "filterMessage",
                    "wsWriteTimestamp"
                ]
            );
            assert_eq!(ev["data"], json!({"eventType": "bench.event", "k": "v"}));
            assert_eq!(ev["alertType"], "none");
            assert_eq!(ev["headers"], json!({}));
            assert_eq!(ev["filterMessage"], false);
        }
    }
    assert_eq!(ws.json().await["data"], json!({"eventType": "bench.tail", "last": true}));
    assert_eq!(sb.mercury_pending(d["url"].as_str().unwrap()), N + 1);
}

#[tokio::test]
async fn sockets_control_and_devices_control_over_http() {
    let sb = start().await;
    let alice = sb.user(ALICE).unwrap();
    let d = register(&sb, &alice.token).await;
    let _ws = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, ALICE, 1).await;
    let v: Value = client()
        .get(format!("{}/_sandbox/mercury/sockets?email={ALICE}", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({"sockets": 1}));
    let v: Value = client()
        .get(format!("{}/_sandbox/devices?email={ALICE}", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["devices"][0]["url"], d["url"]);
    let res = client()
        .post(format!("{}/_sandbox/mercury/shutdown", sb.base_url()))
        .json(&json!({"deviceUrl": d["url"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"sent": 1}));
    let res = client()
        .post(format!("{}/_sandbox/mercury/close", sb.base_url()))
        .json(&json!({"code": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}

#[tokio::test]
async fn upgrade_on_a_non_uuid_device_path_is_404() {
    let sb = start().await;
    let url = format!("{}/mercury/api/v1/apps/wx2/registrations/nope/messages", sb.base_url());
    common::assert_error(client().get(url).send().await.unwrap(), 404).await;
    // A device path without an upgrade is a 400 with the cloud error body.
    let url = format!("{}/mercury/api/v1/apps/wx2/registrations/{}/messages", sb.base_url(), uuid_like());
    let res = client().get(url).send().await.unwrap();
    assert!(res.status().is_client_error());
    assert!(res.json::<Value>().await.unwrap()["message"].is_string());
}

fn uuid_like() -> &'static str {
    "0b4f4a57-2fd1-4b43-9f4b-6b1b2c1d9e01"
}
