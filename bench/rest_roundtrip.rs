//! messages.create round trip: through the engine vs a bare reqwest request, same sandbox,
//! same kind of pooled connection. Prints medians and the ratio. Goal: ratio <= 1.2.
//!
//! Run: `cargo run --release -p webex-bench --bin rest_roundtrip [-- <iterations>]`

use serde_json::json;
use std::time::{Duration, Instant};
use webex_core::rest::messages::CreateMessage;
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, Config};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let iterations: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let sandbox = webex_sandbox::Sandbox::start(Default::default()).await.expect("sandbox");
    let bot = sandbox.bot();
    let config = json!({
        "credentials": {"access_token": bot.token},
        "services": {"discovery": {"hydra": sandbox.hydra_url(), "u2c": sandbox.u2c_url()}},
    });
    let client = Client::new(Config::from_value(config).unwrap()).unwrap();
    let room = client.rooms().create(&CreateRoom { title: "bench".into(), ..Default::default() }).await.unwrap();

    let bare = reqwest::Client::new();
    let url = format!("{}/messages", sandbox.hydra_url());
    let auth = format!("Bearer {}", bot.token);
    let body = json!({"roomId": room.id, "text": "bench"});
    let msg = CreateMessage { room_id: Some(room.id.clone()), text: Some("bench".into()), ..Default::default() };

    // Warm both connection pools and the sandbox.
    for _ in 0..50 {
        client.messages().create(&msg).await.unwrap();
        bare.post(&url).header("authorization", &auth).json(&body).send().await.unwrap().bytes().await.unwrap();
    }

    let (mut engine, mut reference, mut same_headers) =
        (Vec::with_capacity(iterations), Vec::with_capacity(iterations), Vec::with_capacity(iterations));
    let mut n = 0u64;
    // Interleave so all see the same sandbox state (its message list grows as we go).
    for _ in 0..iterations {
        let t = Instant::now();
        let resp = bare.post(&url).header("authorization", &auth).json(&body).send().await.unwrap();
        let value: serde_json::Value = resp.json().await.unwrap();
        assert!(value["id"].is_string());
        reference.push(t.elapsed());

        // The same wire request the engine sends (its headers cost the server too).
        n += 1;
        let t = Instant::now();
        let resp = bare
            .post(&url)
            .header("authorization", &auth)
            .header("trackingid", format!("webex-native_00000000-0000-0000-0000-000000000000_{n}"))
            .header("spark-user-agent", "webex-native/0.1.0 (linux)")
            .header("cisco-no-http-redirect", "true")
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .unwrap();
        let value: serde_json::Value = resp.json().await.unwrap();
        assert!(value["id"].is_string());
        same_headers.push(t.elapsed());

        let t = Instant::now();
        let sent = client.messages().create(&msg).await.unwrap();
        assert!(!sent.id.is_empty());
        engine.push(t.elapsed());
    }
    let (e, r, h) = (median(engine), median(reference), median(same_headers));
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("messages.create round trip, {iterations} iterations each, interleaved");
    println!("  bare reqwest, auth header only:        median {:>8.1} us", us(r));
    println!("  bare reqwest, the engine's headers:    median {:>8.1} us", us(h));
    println!("  webex-core (typed, whole pipeline):    median {:>8.1} us", us(e));
    println!("  ratio engine / bare (auth only):       {:.2}x (goal <= 1.20x)", us(e) / us(r));
    println!("  ratio engine / bare (same headers):    {:.2}x", us(e) / us(h));
}
