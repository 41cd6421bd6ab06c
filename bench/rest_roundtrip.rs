//! messages.create round trip: through the engine vs a bare reqwest request, same sandbox,
//! same kind of pooled connection. Prints medians and the ratio. Goal: ratio <= 1.2.
//!
//! Then a burst of 200 creates in flight, the engine vs bare reqwest, on the engine's own
//! 2-thread runtime as in the Python module. The bare burst with the engine's headers is the
//! floor for any client that speaks the protocol on this server and machine: the Python
//! bench's in-flight goal (webexpythonsdk's sequential time / 20) is read against it.
//!
//! Run: `cargo run --release -p webex-bench --bin rest_roundtrip [-- <iterations>]`

use futures_util::future::join_all;
use serde_json::json;
use std::time::{Duration, Instant};
use webex_core::rest::messages::CreateMessage;
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, Config};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

// The allocator the Python module and the sandbox binary use, so the floor below is the one the
// Python bench's in-flight burst runs on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

    // The bare request, with only the token or with the same headers the engine sends (they
    // cost the server too); `n` makes each trackingid distinct, as the engine's are.
    let bare_create = |n: u64, engine_headers: bool| {
        let mut request = bare.post(&url).header("authorization", &auth);
        if engine_headers {
            request = request
                .header("trackingid", format!("webex-native_00000000-0000-0000-0000-000000000000_{n}"))
                .header("spark-user-agent", "webex-native/0.1.0 (linux)")
                .header("cisco-no-http-redirect", "true")
                .header("accept", "application/json");
        }
        let request = request.json(&body);
        async move {
            let value: serde_json::Value = request.send().await?.json().await?;
            assert!(value["id"].is_string());
            Ok::<_, reqwest::Error>(value)
        }
    };

    let (mut engine, mut reference, mut same_headers) =
        (Vec::with_capacity(iterations), Vec::with_capacity(iterations), Vec::with_capacity(iterations));
    // Interleave so all see the same sandbox state (its message list grows as we go).
    for n in 0..iterations as u64 {
        let t = Instant::now();
        bare_create(n, false).await.unwrap();
        reference.push(t.elapsed());

        let t = Instant::now();
        bare_create(n, true).await.unwrap();
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

    // IN_FLIGHT creates at once, interleaved bursts; the first round only opens the pools wide.
    let (mut engine, mut reference, mut same_headers) = (Vec::new(), Vec::new(), Vec::new());
    let messages = client.messages();
    for round in 0..=BURSTS {
        let t = Instant::now();
        let sent = join_all((0..IN_FLIGHT as u64).map(|n| bare_create(n, false))).await;
        assert!(sent.iter().all(Result::is_ok));
        let bare_wall = t.elapsed();

        let t = Instant::now();
        let sent = join_all((0..IN_FLIGHT as u64).map(|n| bare_create(n, true))).await;
        assert!(sent.iter().all(Result::is_ok));
        let same_headers_wall = t.elapsed();

        let t = Instant::now();
        let sent = join_all((0..IN_FLIGHT).map(|_| messages.create(&msg))).await;
        assert!(sent.iter().all(Result::is_ok));
        if round > 0 {
            reference.push(bare_wall);
            same_headers.push(same_headers_wall);
            engine.push(t.elapsed());
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (e, r, h) = (median(engine), median(reference), median(same_headers));
    println!("{IN_FLIGHT} messages.create in flight, median of {BURSTS} bursts each, interleaved");
    println!("  bare reqwest, auth header only:        median {:>8.2} ms", ms(r));
    println!("  bare reqwest, the engine's headers:    median {:>8.2} ms", ms(h));
    println!("  webex-core (typed, whole pipeline):    median {:>8.2} ms", ms(e));
    println!("  ratio engine / bare (auth only):       {:.2}x", ms(e) / ms(r));
    println!("  ratio engine / bare (same headers):    {:.2}x", ms(e) / ms(h));
}

const IN_FLIGHT: usize = 200;
const BURSTS: usize = 15;
