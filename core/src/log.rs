//! Engine logs: a ring of recent records (`logger.historyLength`, for support uploads), and
//! sinks that bindings register to route records to their ecosystem's logger, delivered in
//! batches from one background thread (so Python crosses the GIL rarely and no engine thread
//! ever waits on a binding). Every message is redacted before it is stored or delivered: the
//! tokens, refresh tokens, client secrets and JWTs the engine knows, and any `Bearer` value.
//!
//! Rust apps that install their own `tracing` subscriber keep it: the engine then installs
//! nothing and its records go there.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// One log record.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: &'static str,
    /// Where it came from, e.g. `webex::mercury`.
    pub target: String,
    /// The message, redacted.
    pub message: String,
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
}

/// A sink receives batches of records on the log thread.
pub type Sink = Arc<dyn Fn(&[LogRecord]) + Send + Sync>;

struct State {
    history: Mutex<VecDeque<LogRecord>>,
    capacity: AtomicUsize,
    /// 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace.
    level: AtomicUsize,
    pending: Mutex<Vec<LogRecord>>,
    wake: Condvar,
    sinks: Mutex<Vec<(u64, Sink)>>,
    next_sink: AtomicU64,
    secrets: Mutex<Vec<String>>,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| State {
        history: Mutex::new(VecDeque::new()),
        capacity: AtomicUsize::new(10_000),
        level: AtomicUsize::new(1),
        pending: Mutex::new(Vec::new()),
        wake: Condvar::new(),
        sinks: Mutex::new(Vec::new()),
        next_sink: AtomicU64::new(1),
        secrets: Mutex::new(Vec::new()),
    })
}

/// The numeric rank of a `logger.level` name (`log` is the official name for info).
pub fn level_rank(name: &str) -> usize {
    match name {
        "silent" => 0,
        "error" => 1,
        "warn" => 2,
        "log" | "info" => 3,
        "debug" => 4,
        "trace" => 5,
        _ => 1,
    }
}

/// Install the engine's subscriber (once, unless the app has its own) and widen the level and
/// history to what this client's config asks (the most verbose client wins).
pub fn init(level: &str, history_length: usize) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(EngineLayer);
        let _ = tracing::subscriber::set_global_default(subscriber);
        std::thread::Builder::new().name(LOG_THREAD.into()).spawn(deliver).ok();
    });
    let s = state();
    let before = s.level.fetch_max(level_rank(level), Ordering::Relaxed);
    s.capacity.fetch_max(history_length, Ordering::Relaxed);
    if level_rank(level) > before {
        // tracing caches "never" for call sites that were disabled when first seen; a more
        // verbose client must make them ask again.
        tracing::callsite::rebuild_interest_cache();
    }
}

/// Register a secret to redact from every record from now on.
pub fn register_secret(secret: &str) {
    if secret.len() >= 8
        && let Ok(mut s) = state().secrets.lock()
        && !s.iter().any(|x| x == secret)
    {
        s.push(secret.to_owned());
    }
}

/// `text` without any registered secret, `Bearer` value or JWT.
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    if let Ok(secrets) = state().secrets.lock() {
        for secret in secrets.iter() {
            out = out.replace(secret.as_str(), "<redacted>");
        }
    }
    redact_patterns(&out)
}

fn redact_patterns(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let words = text.split_inclusive(|c: char| c.is_whitespace() || c == '"' || c == '\'');
    let mut after_bearer = false;
    for word in words {
        let core = word.trim_end_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
        let tail = &word[core.len()..];
        let is_jwt = core.split('.').count() == 3 && core.starts_with("eyJ") && core.len() > 20;
        if (after_bearer && !core.is_empty()) || is_jwt {
            out.push_str("<redacted>");
            out.push_str(tail);
        } else {
            out.push_str(word);
        }
        if !core.is_empty() {
            after_bearer = core.eq_ignore_ascii_case("bearer");
        }
    }
    out
}

/// Add a sink; returns its id for [`remove_sink`].
pub fn add_sink(sink: Sink) -> u64 {
    let s = state();
    let id = s.next_sink.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut sinks) = s.sinks.lock() {
        sinks.push((id, sink));
    }
    id
}

/// Remove a sink.
pub fn remove_sink(id: u64) {
    if let Ok(mut sinks) = state().sinks.lock() {
        sinks.retain(|(i, _)| *i != id);
    }
}

/// Whether this is the log thread, which calls the sinks: a sink's owner clearing it from
/// inside the sink must not wait for that call to end.
pub fn on_log_thread() -> bool {
    std::thread::current().name() == Some(LOG_THREAD)
}

const LOG_THREAD: &str = "webex-log";

/// The most recent records, oldest first.
pub fn history() -> Vec<LogRecord> {
    state().history.lock().map(|h| h.iter().cloned().collect()).unwrap_or_default()
}

fn record(level: &'static str, target: &str, message: &str) {
    let s = state();
    let rec = LogRecord {
        level,
        target: target.to_owned(),
        message: redact(message),
        timestamp_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
    };
    if let Ok(mut h) = s.history.lock() {
        let cap = s.capacity.load(Ordering::Relaxed);
        while cap > 0 && h.len() >= cap {
            h.pop_front();
        }
        if cap > 0 {
            h.push_back(rec.clone());
        }
    }
    if let Ok(mut p) = s.pending.lock() {
        p.push(rec);
        if p.len() >= 256 {
            s.wake.notify_one();
        }
    }
}

/// The log thread: hand pending records to the sinks every 50 ms (or at 256 records).
fn deliver() {
    let s = state();
    loop {
        let batch = {
            let Ok(guard) = s.pending.lock() else { return };
            let Ok((mut guard, _)) = s.wake.wait_timeout(guard, Duration::from_millis(50)) else { return };
            std::mem::take(&mut *guard)
        };
        if batch.is_empty() {
            continue;
        }
        let sinks: Vec<Sink> = s.sinks.lock().map(|v| v.iter().map(|(_, f)| f.clone()).collect()).unwrap_or_default();
        for sink in sinks {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(&batch))).is_err() {
                eprintln!("webex-native: a log sink panicked");
            }
        }
    }
}

struct EngineLayer;

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EngineLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        rank(metadata.level()) <= state().level.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        let level = match *meta.level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            tracing::Level::INFO => "info",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace",
        };
        record(level, meta.target(), &visitor.0);
    }
}

fn rank(level: &tracing::Level) -> usize {
    match *level {
        tracing::Level::ERROR => 1,
        tracing::Level::WARN => 2,
        tracing::Level::INFO => 3,
        tracing::Level::DEBUG => 4,
        tracing::Level::TRACE => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_redacted() {
        assert_eq!(redact_patterns("Authorization: Bearer abc.def"), "Authorization: Bearer <redacted>");
        assert_eq!(redact_patterns("token \"Bearer xyz\" sent"), "token \"Bearer <redacted>\" sent");
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyZWFsbSI6Im8ifQ.c2lnbmF0dXJl";
        assert_eq!(redact_patterns(&format!("got {jwt} ok")), "got <redacted> ok");
        assert_eq!(redact_patterns("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn registered_secrets_never_reach_history_or_sinks() {
        init("trace", 100);
        register_secret("super-secret-token-123");
        let (tx, rx) = std::sync::mpsc::channel::<Vec<LogRecord>>();
        let tx = Mutex::new(tx);
        let id = add_sink(Arc::new(move |batch: &[LogRecord]| {
            let _ = tx.lock().unwrap().send(batch.to_vec());
        }));
        tracing::warn!(target: "webex::test", "sending super-secret-token-123 to the cloud");
        let got = loop {
            let batch = rx.recv().unwrap();
            if let Some(r) = batch.into_iter().find(|r| r.target == "webex::test") {
                break r;
            }
        };
        remove_sink(id);
        assert_eq!(got.message, "sending <redacted> to the cloud");
        assert_eq!(got.level, "warn");
        assert!(history().iter().all(|r| !r.message.contains("super-secret-token-123")));
    }
}
