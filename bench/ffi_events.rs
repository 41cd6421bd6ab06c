//! Raw events per second into a C callback (`webex_event_cb`) vs the same events into a Rust
//! sink through `engine().client_new`, each from its own sandbox burst in one run.
//! Goal: >= 100k events/s into C.
//!
//! Run: `cargo run --release -p webex-bench --bin ffi_events [-- <events>]`

use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;
use webex::{WebexStatus, webex_client_call, webex_client_close, webex_client_new};
use webex_core::boundary::engine;

const ALICE: &str = "alice@example.com";

/// Counts `event:bench.tick` and wakes the waiter at the target.
struct Counter {
    seen: AtomicUsize,
    target: usize,
    done: Mutex<bool>,
    cond: Condvar,
}

impl Counter {
    fn new(target: usize) -> Arc<Counter> {
        Arc::new(Counter { seen: AtomicUsize::new(0), target, done: Mutex::new(false), cond: Condvar::new() })
    }
    fn tick(&self) {
        if self.seen.fetch_add(1, Ordering::Relaxed) + 1 == self.target {
            *self.done.lock().unwrap() = true;
            self.cond.notify_all();
        }
    }
    fn wait(&self) {
        let mut done = self.done.lock().unwrap();
        while !*done {
            done = self.cond.wait(done).unwrap();
        }
    }
}

unsafe extern "C" fn on_event(user_data: *mut c_void, event_json: *const c_char) {
    // SAFETY: a borrowed NUL-terminated string, valid during the callback.
    let text = unsafe { CStr::from_ptr(event_json) }.to_bytes();
    if text.starts_with(b"{\"type\":\"event:bench.tick\"") {
        // SAFETY: `user_data` is the Counter that outlives the client.
        unsafe { &*(user_data as *const Counter) }.tick();
    }
}

unsafe extern "C" fn on_done(user_data: *mut c_void, status: WebexStatus, _: *const c_char, _: *const c_char) {
    assert_eq!(status, WebexStatus::WEBEX_OK);
    // SAFETY: the Counter used as a one-shot signal here.
    unsafe { &*(user_data as *const Counter) }.tick();
}

fn config(sb: &webex_sandbox::Sandbox) -> String {
    serde_json::json!({
        "credentials": {"access_token": sb.user(ALICE).unwrap().token},
        "services": {"discovery": {"hydra": sb.hydra_url(), "u2c": sb.u2c_url()}},
    })
    .to_string()
}

fn main() {
    let events: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let rt = engine().runtime();

    // Into a Rust sink.
    let sb = rt.block_on(webex_sandbox::Sandbox::start(Default::default())).unwrap();
    let counter = Counter::new(events);
    let sink_counter = counter.clone();
    let handle = engine()
        .client_new(
            &config(&sb),
            Arc::new(move |e: &webex_core::Event| {
                if e.kind == "event:bench.tick" {
                    let _ = e.to_json();
                    sink_counter.tick();
                }
            }),
        )
        .unwrap();
    let connected = Counter::new(1);
    let c2 = connected.clone();
    engine()
        .client_call(
            handle,
            "mercury.connect",
            "{}",
            Box::new(move |r| {
                r.unwrap();
                c2.tick();
            }),
        )
        .unwrap();
    connected.wait();
    let start = Instant::now();
    sb.emit_raw(ALICE, "bench.tick", "{}", events);
    counter.wait();
    let rust_rate = events as f64 / start.elapsed().as_secs_f64();
    engine().client_close(handle).unwrap();
    drop(sb);

    // Into a C callback.
    let sb = rt.block_on(webex_sandbox::Sandbox::start(Default::default())).unwrap();
    let counter = Counter::new(events);
    let cfg = CString::new(config(&sb)).unwrap();
    let mut client = 0u64;
    // SAFETY: valid strings and out-pointer; the counter outlives the client.
    let status =
        unsafe { webex_client_new(cfg.as_ptr(), Some(on_event), Arc::as_ptr(&counter) as *mut c_void, &mut client) };
    assert_eq!(status, WebexStatus::WEBEX_OK);
    let connected = Counter::new(1);
    // SAFETY: as above.
    let status = unsafe {
        webex_client_call(
            client,
            c"mercury.connect".as_ptr(),
            c"{}".as_ptr(),
            Some(on_done),
            Arc::as_ptr(&connected) as *mut c_void,
        )
    };
    assert_eq!(status, WebexStatus::WEBEX_OK);
    connected.wait();
    let start = Instant::now();
    sb.emit_raw(ALICE, "bench.tick", "{}", events);
    counter.wait();
    let c_rate = events as f64 / start.elapsed().as_secs_f64();
    assert_eq!(webex_client_close(client), WebexStatus::WEBEX_OK);

    println!("raw events into a callback, {events} events each");
    println!("  Rust sink (engine().client_new):   {rust_rate:>10.0} events/s");
    println!("  C callback (webex_client_new):     {c_rate:>10.0} events/s  (goal >= 100000)");
    println!("  ratio C / Rust:                    {:.2}x", c_rate / rust_rate);
}
