//! What the C ABI adds to a call: `config.get` (no I/O, result through a callback) through
//! `webex_client_call` (C strings in, UTF-8 checks, the result serialised to a C string, an
//! `extern "C"` callback) vs the same call in Rust through
//! `webex_core::boundary::engine().client_call`. Both wait for their callback the same way
//! (mutex + condvar), interleaved on one client. A third series, the Rust call whose callback
//! serialises the result to a C string, shows how much of the difference is the JSON text
//! itself. Prints medians and the difference.
//! Goal: <= 10 us median added.
//!
//! Run: `cargo run --release -p webex-bench --bin ffi_overhead [-- <iterations>]`

use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use webex::{WebexStatus, webex_client_call, webex_client_close, webex_client_new};
use webex_core::boundary::engine;

/// One completion, reused across calls.
#[derive(Default)]
struct Signal {
    done: Mutex<bool>,
    cond: Condvar,
}

impl Signal {
    fn set(&self) {
        *self.done.lock().unwrap() = true;
        self.cond.notify_one();
    }

    fn wait(&self) {
        let mut done = self.done.lock().unwrap();
        while !*done {
            done = self.cond.wait(done).unwrap();
        }
        *done = false;
    }
}

unsafe extern "C" fn on_result(user_data: *mut c_void, status: WebexStatus, result: *const c_char, _: *const c_char) {
    assert_eq!(status, WebexStatus::WEBEX_OK);
    // Touch the result as a C caller would (its length), so it is not optimised away.
    // SAFETY: a borrowed, NUL-terminated string valid during the callback.
    assert!(unsafe { CStr::from_ptr(result) }.count_bytes() > 2);
    // SAFETY: `user_data` is the `Signal` that outlives every call below.
    unsafe { &*(user_data as *const Signal) }.set();
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let iterations: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let config = c"{\"credentials\": {\"access_token\": \"bench-token\"}}";
    let mut client = 0u64;
    // SAFETY: a valid C string and out-pointer; no event callback.
    let status = unsafe { webex_client_new(config.as_ptr(), None, std::ptr::null_mut(), &mut client) };
    assert_eq!(status, WebexStatus::WEBEX_OK);

    let signal = Arc::new(Signal::default());
    let op = c"config.get";
    let params = c"{}";
    let through_c = || {
        let t = Instant::now();
        // SAFETY: valid C strings; `signal` outlives the call (we wait for the callback).
        let status = unsafe {
            webex_client_call(
                client,
                op.as_ptr(),
                params.as_ptr(),
                Some(on_result),
                Arc::as_ptr(&signal) as *mut c_void,
            )
        };
        assert_eq!(status, WebexStatus::WEBEX_OK);
        signal.wait();
        t.elapsed()
    };
    let in_rust = || {
        let t = Instant::now();
        let s = signal.clone();
        engine()
            .client_call(
                client,
                "config.get",
                "{}",
                Box::new(move |r| {
                    assert!(r.is_ok());
                    s.set();
                }),
            )
            .unwrap();
        signal.wait();
        t.elapsed()
    };

    // The Rust call plus what any JSON-text boundary must do: serialise the result.
    let in_rust_as_text = || {
        let t = Instant::now();
        let s = signal.clone();
        engine()
            .client_call(
                client,
                "config.get",
                "{}",
                Box::new(move |r| {
                    let text = CString::new(r.unwrap().to_string()).unwrap();
                    assert!(text.count_bytes() > 2);
                    s.set();
                }),
            )
            .unwrap();
        signal.wait();
        t.elapsed()
    };

    for _ in 0..1000 {
        through_c();
        in_rust();
        in_rust_as_text();
    }
    let (mut c, mut rust, mut text) =
        (Vec::with_capacity(iterations), Vec::with_capacity(iterations), Vec::with_capacity(iterations));
    for _ in 0..iterations {
        c.push(through_c());
        rust.push(in_rust());
        text.push(in_rust_as_text());
    }
    assert_eq!(webex_client_close(client), WebexStatus::WEBEX_OK);

    let (c, rust, text) = (median(c), median(rust), median(text));
    println!("config.get with its callback, {iterations} iterations each, interleaved");
    println!("  Rust, engine().client_call:                 median {:>8.2} us", us(rust));
    println!("  Rust, result serialised to a C string:      median {:>8.2} us", us(text));
    println!("  C ABI, webex_client_call:                   median {:>8.2} us", us(c));
    println!("  added by the C ABI: {:+.2} us (goal <= 10 us)", us(c) - us(rust));
    println!("    of which serialising the result as JSON text: {:+.2} us", us(text) - us(rust));
}
