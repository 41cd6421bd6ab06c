//! Live events end to end: catalog, device, the Mercury socket and the public events, against
//! the sandbox's real websocket server.

use serde_json::{Value, json};
use std::collections::HashMap;
use tokio::sync::mpsc::UnboundedReceiver;
use webex_core::rest::memberships::{CreateMembership, UpdateMembership};
use webex_core::rest::messages::CreateMessage;
use webex_core::rest::rooms::{CreateRoom, UpdateRoom};
use webex_core::{Client, Config, ErrorCode, Event};
use webex_sandbox::{Fault, Sandbox, SandboxOptions};
use webex_tests::*;

/// A config with quick reconnects, so drop tests stay short (waits are never asserted).
fn fast_config(sb: &Sandbox, email: &str) -> Value {
    let mut cfg = config_for(sb, &sb.user(email).unwrap().token);
    cfg["mercury"] = json!({"backoffTimeReset": 10, "backoffTimeMax": 100, "bufferStateTimeout": 500});
    cfg
}

fn fast_client(sb: &Sandbox, email: &str) -> Client {
    Client::new(Config::from_value(fast_config(sb, email)).unwrap()).unwrap()
}

async fn next_of(events: &mut UnboundedReceiver<Event>, kind: &str) -> Event {
    loop {
        let e = events.recv().await.unwrap_or_else(|| panic!("the stream ended before {kind}"));
        if e.kind == kind {
            return e;
        }
    }
}

async fn shared_room(sb: &Sandbox, bot: &Client) -> String {
    let room = bot.rooms().create(&CreateRoom { title: "events".into(), ..Default::default() }).await.unwrap();
    let add = CreateMembership { room_id: room.id.clone(), person_email: Some(ALICE.into()), ..Default::default() };
    bot.memberships().create(&add).await.unwrap();
    let _ = sb;
    room.id
}

fn text(room: &str, t: &str) -> CreateMessage {
    CreateMessage { room_id: Some(room.into()), text: Some(t.into()), ..Default::default() }
}

#[tokio::test]
async fn messages_created_arrives_with_the_official_envelope() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let alice = fast_client(&sb, ALICE);
    let room = shared_room(&sb, &bot).await;
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    next_of(&mut events, "online").await;
    let sent = bot.messages().create(&text(&room, "hello alice")).await.unwrap();
    let e = next_of(&mut events, "messages:created").await;
    let me = alice.people().me().await.unwrap();
    assert_eq!(e.data["resource"], "messages");
    assert_eq!(e.data["event"], "created");
    assert_eq!(e.data["createdBy"], me.id);
    assert_eq!(e.data["orgId"], json!(me.org_id));
    assert_eq!(e.data["ownedBy"], "creator");
    assert_eq!(e.data["status"], "active");
    assert_eq!(e.data["actorId"], sb.bot().person_id);
    assert_eq!(e.data["data"]["id"], sent.id);
    assert_eq!(e.data["data"]["text"], "hello alice");
    // The device was registered once, as ephemeral, with the official query.
    let posts: Vec<_> =
        sb.requests().into_iter().filter(|r| r.method == "POST" && r.path.starts_with("/wdm/api/v1/devices")).collect();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].path.contains("includeUpstreamServices=all"));
    alice.shutdown().await;
    assert!(sb.devices(ALICE).is_empty(), "an in-memory device is unregistered on close");
}

#[tokio::test]
async fn every_resource_event() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let alice = fast_client(&sb, ALICE);
    let mut events = alice.events();
    for resource in ["messages", "memberships", "rooms", "attachmentActions"] {
        alice.listen(resource).await.unwrap();
    }
    let room = bot.rooms().create(&CreateRoom { title: "all".into(), ..Default::default() }).await.unwrap();
    let add = CreateMembership { room_id: room.id.clone(), person_email: Some(ALICE.into()), ..Default::default() };
    let membership = bot.memberships().create(&add).await.unwrap();
    let e = next_of(&mut events, "memberships:created").await;
    assert_eq!(e.data["data"]["personEmail"], ALICE);
    assert_eq!(e.data["data"]["roomId"], room.id);
    assert_eq!(e.data["data"]["id"], membership.id);

    bot.rooms().update(&room.id, &UpdateRoom { title: "renamed".into(), ..Default::default() }).await.unwrap();
    assert_eq!(next_of(&mut events, "rooms:updated").await.data["data"]["id"], room.id);

    let update = UpdateMembership { is_moderator: Some(true), ..Default::default() };
    bot.memberships().update(&membership.id, &update).await.unwrap();
    assert_eq!(next_of(&mut events, "memberships:updated").await.data["data"]["isModerator"], true);

    let card = json!({"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "version": "1.2", "body": []}});
    let msg =
        CreateMessage { attachments: Some(vec![serde_json::from_value(card).unwrap()]), ..text(&room.id, "card") };
    let posted = bot.messages().create(&msg).await.unwrap();
    assert_eq!(next_of(&mut events, "messages:created").await.data["data"]["id"], posted.id);
    let action = webex_core::rest::attachment_actions::CreateAttachmentAction {
        message_id: posted.id.clone(),
        inputs: serde_json::from_value(json!({"choice": "b"})).unwrap(),
        ..Default::default()
    };
    let submitted = alice.attachment_actions().create(&action).await.unwrap();
    let e = next_of(&mut events, "attachmentActions:created").await;
    assert_eq!(e.data["data"]["id"], submitted.id);
    assert_eq!(e.data["data"]["messageId"], posted.id);

    bot.messages().delete(&posted.id).await.unwrap();
    assert_eq!(next_of(&mut events, "messages:deleted").await.data["data"]["id"], posted.id);

    bot.memberships().delete(&membership.id).await.unwrap();
    assert_eq!(next_of(&mut events, "memberships:deleted").await.data["data"]["id"], membership.id);

    // A room Alice creates herself.
    let own = alice.rooms().create(&CreateRoom { title: "mine".into(), ..Default::default() }).await.unwrap();
    assert_eq!(next_of(&mut events, "rooms:created").await.data["data"]["id"], own.id);
    alice.shutdown().await;
}

#[tokio::test]
async fn events_are_held_until_someone_listens() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let alice = fast_client(&sb, ALICE);
    let room = shared_room(&sb, &bot).await;
    alice.listen("messages").await.unwrap();
    let sent = bot.messages().create(&text(&room, "early")).await.unwrap();
    // Nobody has subscribed yet; the first subscriber still gets everything, in order.
    let mut events = alice.events();
    assert_eq!(events.recv().await.unwrap().kind, "ready");
    assert_eq!(next_of(&mut events, "messages:created").await.data["data"]["id"], sent.id);
    alice.shutdown().await;
}

#[tokio::test]
async fn nothing_lost_nothing_twice_across_twenty_dropped_sockets() {
    const MESSAGES: usize = 2000;
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let alice = fast_client(&sb, ALICE);
    let room = shared_room(&sb, &bot).await;
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    let closes = [(1001, ""), (1011, "server error"), (1000, "idle"), (1000, "Pong not received"), (1006, "")];
    let mut dropped = 0;
    for i in 0..MESSAGES {
        bot.messages().create(&text(&room, &format!("n{i}"))).await.unwrap();
        if i % 100 == 50 {
            let (code, reason) = closes[dropped % closes.len()];
            // 1006 cannot be sent as a frame; the sandbox's 1005 (no status) stands in for an
            // abrupt end, which the client also treats as transient.
            let code = if code == 1006 { 1005 } else { code };
            // Drop a live socket each time: wait until the client is back from the last drop.
            let mut watch = sb.connections_watch();
            watch.wait_for(|_| sb.mercury_sockets(ALICE) == 1).await.unwrap();
            assert_eq!(sb.mercury_close_user(ALICE, code, reason), 1);
            dropped += 1;
        }
    }
    assert_eq!(dropped, 20);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut order = Vec::with_capacity(MESSAGES);
    while order.len() < MESSAGES {
        let e = next_of(&mut events, "messages:created").await;
        let t = e.data["data"]["text"].as_str().unwrap().to_owned();
        *seen.entry(t.clone()).or_default() += 1;
        order.push(t);
    }
    let expected: Vec<String> = (0..MESSAGES).map(|i| format!("n{i}")).collect();
    assert_eq!(order, expected, "every message exactly once, in order");
    assert!(seen.values().all(|n| *n == 1));
    let reconnects = sb.requests().iter().filter(|r| r.path.starts_with("/mercury/")).count();
    assert!(reconnects >= 21, "the socket really was reopened after each drop ({reconnects} upgrades)");
    alice.shutdown().await;
}

#[tokio::test]
async fn a_socket_killed_during_a_burst_of_429s_loses_nothing() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let alice = fast_client(&sb, ALICE);
    let room = shared_room(&sb, &bot).await;
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    // Alice's reads of new messages hit 429s (with a garbage Retry-After) for a while.
    sb.inject_fault(Fault {
        method: Some("GET".into()),
        path: "/v1/messages/".into(),
        status: Some(429),
        retry_after: Some("soon".into()),
        count: Some(40),
        ..Default::default()
    });
    for i in 0..60 {
        bot.messages().create(&text(&room, &format!("b{i}"))).await.unwrap();
        if i == 30 {
            sb.mercury_close_user(ALICE, 1011, "server error");
        }
    }
    let mut got = Vec::new();
    while got.len() < 60 {
        got.push(next_of(&mut events, "messages:created").await.data["data"]["text"].as_str().unwrap().to_owned());
    }
    assert_eq!(got, (0..60).map(|i| format!("b{i}")).collect::<Vec<_>>());
    alice.shutdown().await;
}

#[tokio::test]
async fn lifecycle_events_follow_the_close_code_table() {
    let sb = sandbox().await;
    let alice = fast_client(&sb, ALICE);
    let mut events = alice.events();
    alice.connect().await.unwrap();
    next_of(&mut events, "online").await;
    sb.mercury_close_user(ALICE, 1001, "going away");
    assert_eq!(next_of(&mut events, "offline.transient").await.data["code"], 1001);
    next_of(&mut events, "online").await;
    sb.mercury_close_user(ALICE, 4000, "replaced");
    assert_eq!(next_of(&mut events, "offline.replaced").await.data["code"], 4000);
    let err = alice.mercury().connect().await;
    assert!(err.is_ok(), "connect() after a stop opens a new socket: {err:?}");
    next_of(&mut events, "online").await;
    sb.mercury_close_user(ALICE, 1000, "Done");
    assert_eq!(next_of(&mut events, "offline.permanent").await.data["reason"], "Done");
    alice.shutdown().await;
}

#[tokio::test]
async fn giving_up_reconnecting_is_offline_permanent() {
    let sb = sandbox().await;
    let mut cfg = fast_config(&sb, ALICE);
    cfg["mercury"]["maxRetries"] = json!(1);
    let alice = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    let mut events = alice.events();
    alice.connect().await.unwrap();
    next_of(&mut events, "online").await;
    sb.stop().await; // the socket goes, and every reconnection is refused
    next_of(&mut events, "offline.transient").await;
    let gave_up = next_of(&mut events, "offline.permanent").await;
    let reason = gave_up.data["reason"].as_str().unwrap();
    assert!(reason.starts_with("gave up reconnecting after 2 attempts"), "{reason}");
    alice.shutdown().await;
}

#[tokio::test]
async fn shutdown_switches_sockets_before_the_old_one_closes() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let alice = fast_client(&sb, ALICE);
    let room = shared_room(&sb, &bot).await;
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    let device = alice.devices().current().await.unwrap();
    assert_eq!(sb.mercury_shutdown(&device.url), 1);
    next_of(&mut events, "event:mercury_shutdown_imminent").await;
    let mut watch = sb.connections_watch();
    watch.wait_for(|_| sb.mercury_closes().iter().any(|c| c.code == Some(4001))).await.unwrap();
    let sent = bot.messages().create(&text(&room, "after switch")).await.unwrap();
    let e = next_of(&mut events, "messages:created").await;
    assert_eq!(e.data["data"]["id"], sent.id);
    assert_eq!(sb.mercury_sockets(ALICE), 1);
    alice.shutdown().await;
}

#[tokio::test]
async fn a_socket_without_buffer_state_reconnects_instead_of_stalling() {
    let sb = sandbox().await;
    let alice = fast_client(&sb, ALICE);
    sb.mercury_skip_buffer_state(ALICE, 2);
    let mut events = alice.events();
    alice.connect().await.unwrap();
    next_of(&mut events, "online").await;
    let upgrades = sb.requests().iter().filter(|r| r.path.starts_with("/mercury/")).count();
    assert_eq!(upgrades, 3, "two stalled sockets were abandoned, the third came online");
    alice.shutdown().await;
}

#[tokio::test]
async fn bursts_arrive_whole_and_in_order_around_messages_that_need_a_read() {
    // Bursts larger than what the socket loop handles per pass, with activities that wait for
    // a REST read in between: every event arrives once, in the order the cloud sent it.
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let alice = fast_client(&sb, ALICE);
    let room = shared_room(&sb, &bot).await;
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    let mut expected = Vec::new();
    for round in 0..3 {
        let sent = bot.messages().create(&text(&room, &format!("round {round}"))).await.unwrap();
        expected.push(format!("message {}", sent.id));
        // Published to Alice's one device.
        assert_eq!(sb.emit_raw(ALICE, "test.tick", &format!(r#"{{"round": {round}}}"#), 700), 1);
        expected.extend((0..700).map(|_| format!("tick {round}")));
    }
    let mut got = Vec::new();
    while got.len() < expected.len() {
        let e = events.recv().await.expect("the stream ended early");
        match e.kind.as_str() {
            "messages:created" => got.push(format!("message {}", e.data["data"]["id"].as_str().unwrap())),
            "event:test.tick" => got.push(format!("tick {}", e.data["round"])),
            _ => {}
        }
    }
    assert_eq!(got, expected);
    alice.shutdown().await;
}

#[tokio::test]
async fn garbage_unknown_and_oversized_frames_never_break_the_stream() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let mut cfg = fast_config(&sb, ALICE);
    cfg["mercury"]["maxFrameBytes"] = json!(64 * 1024);
    let alice = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    let room = shared_room(&sb, &bot).await;
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    sb.mercury_send_raw(ALICE, "not json at all");
    sb.mercury_send_raw(ALICE, "[1,2,3]");
    sb.mercury_send_raw(ALICE, r#"{"id": "x1", "data": "no event type"}"#);
    sb.emit_raw(ALICE, "future.thing_happened", r#"{"answer": 42}"#, 1);
    let raw = next_of(&mut events, "event:future.thing_happened").await;
    assert_eq!(raw.data["answer"], 42);
    sb.mercury_send_raw(ALICE, &format!("{{\"pad\": \"{}\"}}", "x".repeat(200 * 1024)));
    // The oversized frame costs a reconnect; the next message still arrives.
    next_of(&mut events, "offline.transient").await;
    let sent = bot.messages().create(&text(&room, "still here")).await.unwrap();
    assert_eq!(next_of(&mut events, "messages:created").await.data["data"]["id"], sent.id);
    alice.shutdown().await;
}

#[tokio::test]
async fn a_stored_device_is_reused_and_a_forgotten_one_replaced() {
    let sb = sandbox().await;
    let dir = std::env::temp_dir().join(format!("webex-device-{}", std::process::id()));
    let mut cfg = fast_config(&sb, ALICE);
    cfg["storage"] = json!({"unboundedAdapter": {"dir": dir.to_string_lossy()}});
    let posts =
        || sb.requests().iter().filter(|r| r.method == "POST" && r.path.starts_with("/wdm/api/v1/devices")).count();
    let first = Client::new(Config::from_value(cfg.clone()).unwrap()).unwrap();
    first.connect().await.unwrap();
    let url = first.devices().current().await.unwrap().url;
    first.shutdown().await;
    assert_eq!(posts(), 1);
    assert_eq!(sb.devices(ALICE).len(), 1, "a persisted device stays registered");

    let second = Client::new(Config::from_value(cfg.clone()).unwrap()).unwrap();
    second.connect().await.unwrap();
    assert_eq!(second.devices().current().await.unwrap().url, url, "the stored device is reused");
    assert_eq!(posts(), 1, "no second registration");
    second.shutdown().await;

    // The cloud forgets the device: the next start refreshes, gets 404, registers anew.
    let alice_http = client_as(&sb, ALICE);
    alice_http.load_catalog().await.unwrap();
    alice_http
        .http()
        .send(webex_core::http::HttpRequest::new(webex_core::http::Method::DELETE, url.clone()))
        .await
        .unwrap();
    let third = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    third.connect().await.unwrap();
    assert_ne!(third.devices().current().await.unwrap().url, url);
    assert_eq!(posts(), 2);
    third.devices().unregister().await.unwrap();
    third.shutdown().await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn excessive_registrations_are_cleaned_up() {
    let sb = Sandbox::start(SandboxOptions { device_cap: 3, ..Default::default() }).await.unwrap();
    let mut cfg = fast_config(&sb, ALICE);
    cfg["device"] = json!({"ephemeral": false});
    for _ in 0..3 {
        let c = Client::new(Config::from_value(cfg.clone()).unwrap()).unwrap();
        c.load_catalog().await.unwrap();
        c.devices().ensure().await.unwrap();
        // Leave it registered, as a crashed app would.
    }
    assert_eq!(sb.devices(ALICE).len(), 3);
    let c = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    c.connect().await.unwrap();
    assert_eq!(sb.devices(ALICE).len(), 3, "the oldest third was deleted, then the new one registered");
    c.shutdown().await;
}

#[tokio::test]
async fn a_catalog_without_wdm_is_a_clear_error() {
    let sb = Sandbox::start(SandboxOptions { catalog_without_wdm: true, ..Default::default() }).await.unwrap();
    let alice = fast_client(&sb, ALICE);
    let err = alice.listen("messages").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Protocol);
    assert!(err.message.contains("'wdm' service is not in the catalog"), "{}", err.message);
}

#[tokio::test]
async fn the_token_never_goes_to_a_foreign_socket() {
    // services.override points wdm at a second sandbox: its webSocketUrl is not under a
    // catalog service of this client, so the socket must not be sent the token.
    let sb = sandbox().await;
    let other = sandbox().await;
    let mut cfg = fast_config(&sb, ALICE);
    cfg["services"]["override"] = json!({"wdm": other.wdm_url()});
    cfg["mercury"]["initialConnectionMaxRetries"] = json!(0);
    let alice = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    let _ = alice.connect().await;
    assert!(other.mercury_acks(ALICE).is_empty());
    let foreign_upgrades = other.requests().iter().filter(|r| r.path.starts_with("/mercury/")).count();
    assert_eq!(foreign_upgrades, 0, "no socket was opened to a host outside the catalog");
}

#[tokio::test]
async fn events_reach_the_boundary_callback_as_json() {
    let rt_sb = sandbox().await;
    let bot = bot_client(&rt_sb);
    let room = shared_room(&rt_sb, &bot).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let engine = webex_core::boundary::engine();
    let handle = engine
        .client_new(
            &fast_config(&rt_sb, ALICE).to_string(),
            std::sync::Arc::new(move |e: &Event| {
                let _ = tx.send(e.to_json());
            }),
        )
        .unwrap();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    engine
        .client_call(
            handle,
            "messages.listen",
            "{}",
            Box::new(move |r| {
                let _ = done_tx.send(r);
            }),
        )
        .unwrap();
    done_rx.await.unwrap().unwrap();
    let sent = bot.messages().create(&text(&room, "to C and friends")).await.unwrap();
    loop {
        let line = rx.recv().await.unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["type"] == "messages:created" {
            assert_eq!(v["data"]["data"]["id"], sent.id);
            break;
        }
    }
    tokio::task::spawn_blocking(move || engine.client_close(handle)).await.unwrap().unwrap();
}
