//! Live events: how many raw events per second reach a Rust listener through the engine (socket,
//! acks, dedup, the public event stream), and the median latency from posting a message to its
//! `messages:created` (which includes the REST post and the engine's read of the message).
//! Reference, in the same run: a bare websocket client on the same sandbox that authorises,
//! parses and acks each frame and does nothing else. Goal: >= 100k events/s raw.
//!
//! Run: `cargo run --release -p webex-bench --bin events [-- <events> <posts>]`

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use webex_core::rest::memberships::CreateMembership;
use webex_core::rest::messages::CreateMessage;
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, Config};
use webex_sandbox::Sandbox;

const ALICE: &str = "alice@example.com";

fn client(sb: &Sandbox, email: &str) -> Client {
    let cfg = json!({
        "credentials": {"access_token": sb.user(email).unwrap().token},
        "services": {"discovery": {"hydra": sb.hydra_url(), "u2c": sb.u2c_url()}},
    });
    Client::new(Config::from_value(cfg).unwrap()).unwrap()
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A bare client: register a device over plain HTTP, open its socket, authorise.
async fn bare_socket(sb: &Sandbox, email: &str) -> Ws {
    let token = sb.user(email).unwrap().token;
    let device: Value = reqwest::Client::new()
        .post(format!("{}/devices", sb.wdm_url()))
        .bearer_auth(&token)
        .json(&json!({"name": "bench", "deviceType": "WEB", "model": "bench", "localizedModel": "bench", "systemName": "linux", "systemVersion": "1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!("{}?outboundWireFormat=text&bufferStates=true", device["webSocketUrl"].as_str().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let auth = json!({"id": "a", "type": "authorization", "data": {"token": format!("Bearer {token}")}});
    ws.send(Message::Text(auth.to_string().into())).await.unwrap();
    loop {
        let frame: Value = next_json(&mut ws).await;
        ack(&mut ws, &frame).await;
        if frame.pointer("/data/eventType") == Some(&json!("mercury.buffer_state")) {
            return ws;
        }
    }
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        if let Message::Text(t) = ws.next().await.unwrap().unwrap() {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn ack(ws: &mut Ws, frame: &Value) {
    if let Some(id) = frame.get("id").and_then(Value::as_str) {
        ws.send(Message::Text(json!({"messageId": id, "type": "ack"}).to_string().into())).await.unwrap();
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // reqwest is built without a TLS provider (one rustls, one ring: shared/toolchain.md).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let posts: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(300);

    // Raw throughput, reference first: a bare socket on its own sandbox.
    let sb = Sandbox::start(Default::default()).await.unwrap();
    let mut ws = bare_socket(&sb, ALICE).await;
    let start = Instant::now();
    sb.emit_raw(ALICE, "bench.tick", "{}", events);
    for _ in 0..events {
        let frame = next_json(&mut ws).await;
        ack(&mut ws, &frame).await;
    }
    let bare_rate = events as f64 / start.elapsed().as_secs_f64();
    drop(ws);

    // The engine: the same burst into the public event stream.
    let sb = Sandbox::start(Default::default()).await.unwrap();
    let alice = client(&sb, ALICE);
    let mut stream = alice.events();
    alice.connect().await.unwrap();
    let start = Instant::now();
    sb.emit_raw(ALICE, "bench.tick", "{}", events);
    let mut got = 0;
    while got < events {
        if stream.recv().await.unwrap().kind == "event:bench.tick" {
            got += 1;
        }
    }
    let engine_rate = events as f64 / start.elapsed().as_secs_f64();

    // Post -> event latency, engine vs the bare socket's activity frame.
    let bot = client(&sb, &sb.bot().email);
    let room = bot.rooms().create(&CreateRoom { title: "bench".into(), ..Default::default() }).await.unwrap();
    let add = CreateMembership { room_id: room.id.clone(), person_email: Some(ALICE.into()), ..Default::default() };
    bot.memberships().create(&add).await.unwrap();
    alice.listen("messages").await.unwrap();
    let mut bare = bare_socket(&sb, ALICE).await;
    let msg = CreateMessage { room_id: Some(room.id.clone()), text: Some("ping".into()), ..Default::default() };
    let (mut engine_lat, mut bare_lat) = (Vec::new(), Vec::new());
    for _ in 0..posts {
        let t = Instant::now();
        let sent = bot.messages().create(&msg).await.unwrap();
        let (mut engine_done, mut bare_done) = (None, None);
        while engine_done.is_none() || bare_done.is_none() {
            tokio::select! {
                e = stream.recv(), if engine_done.is_none() => {
                    let e = e.unwrap();
                    if e.kind == "messages:created" && e.data["data"]["id"] == sent.id.as_str() {
                        engine_done = Some(t.elapsed());
                    }
                }
                frame = next_json(&mut bare), if bare_done.is_none() => {
                    ack(&mut bare, &frame).await;
                    if frame.pointer("/data/activity/verb") == Some(&json!("post")) {
                        bare_done = Some(t.elapsed());
                    }
                }
            }
        }
        engine_lat.push(engine_done.unwrap());
        bare_lat.push(bare_done.unwrap());
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("live events, {events} raw events, {posts} posts");
    println!("  raw events/s, bare websocket (parse + ack):     {bare_rate:>10.0}");
    println!("  raw events/s, engine to Rust listener:          {engine_rate:>10.0}  (goal >= 100000)");
    println!("  ratio engine / bare:                             {:.2}x", engine_rate / bare_rate);
    println!("  post -> activity frame, bare socket:    median {:>8.1} us", us(median(bare_lat)));
    println!(
        "  post -> messages:created, engine:       median {:>8.1} us (includes reading the message)",
        us(median(engine_lat.clone()))
    );
    alice.shutdown().await;
}
