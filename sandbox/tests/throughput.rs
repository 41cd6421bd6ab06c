//! Mercury delivery rate to one socket, for humans: `cargo test --release -p webex-sandbox
//! --test throughput -- --ignored --nocapture`. Prints the rate; asserts only completeness
//! and order (never timing).

mod common;

use std::time::Instant;

use common::start;
use common::ws::{Ws, register, wait_sockets};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run by hand in release"]
async fn events_per_second_to_one_socket() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let d = register(&sb, &alice.token).await;
    let mut ws = Ws::connect(&d, &alice.token).await;
    wait_sockets(&sb, "alice@example.com", 1).await;
    const N: usize = 200_000;
    let t = Instant::now();
    sb.emit_raw("alice@example.com", "bench.event", r#"{"k":"v"}"#, N);
    let queued = t.elapsed();
    for i in 0..N {
        let ev = ws.json().await;
        assert_eq!(ev["sequenceNumber"], (i + 2) as u64);
        ws.ack(&ev["id"]).await;
    }
    let all = t.elapsed();
    println!(
        "{N} events: queued in {queued:?}, received+acked in {all:?} = {:.0} events/s",
        N as f64 / all.as_secs_f64()
    );
    ws.ping("end").await;
    println!("pending after acks: {}", sb.mercury_pending(d["url"].as_str().unwrap()));
}
