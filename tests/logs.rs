//! Logs at `trace` through a whole session (REST, errors, the socket, events) never contain a
//! token, and reach both the history operation and registered sinks.

use serde_json::json;
use std::sync::{Arc, Mutex};
use webex_core::log::{self, LogRecord};
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, Config};
use webex_sandbox::Fault;
use webex_tests::*;

#[tokio::test]
async fn no_token_in_any_log_line() {
    let sb = sandbox().await;
    let captured: Arc<Mutex<Vec<LogRecord>>> = Arc::default();
    let sink = captured.clone();
    let id = log::add_sink(Arc::new(move |batch: &[LogRecord]| sink.lock().unwrap().extend_from_slice(batch)));
    let alice = sb.user(ALICE).unwrap();
    let mut cfg = config_for(&sb, &alice.token);
    cfg["logger"] = json!({"level": "trace", "historyLength": 100000});
    let client = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    client.rooms().create(&CreateRoom { title: "logged".into(), ..Default::default() }).await.unwrap();
    sb.inject_fault(Fault {
        path: "/v1/rooms".into(),
        status: Some(429),
        retry_after: Some("0".into()),
        ..Default::default()
    });
    client.rooms().list(&Default::default()).unwrap().collect_all().await.unwrap();
    client.listen("messages").await.unwrap();
    sb.mercury_close_user(ALICE, 1001, "bye");
    client.connect().await.unwrap();
    let bad = Client::new(Config::from_value(config_for(&sb, "wrong-token-that-is-long")).unwrap()).unwrap();
    bad.people().me().await.unwrap_err();
    client.shutdown().await;
    // Something was logged at trace (the retry, the socket), so the check below has material.
    let history = log::history();
    assert!(history.iter().any(|r| r.target.starts_with("webex::")), "no engine records: {history:?}");
    tracing::warn!(target: "webex::test", "flush marker");
    loop {
        if captured.lock().unwrap().iter().any(|r| r.message == "flush marker") {
            break;
        }
        tokio::task::yield_now().await;
    }
    log::remove_sink(id);
    for r in history.iter().chain(captured.lock().unwrap().iter()) {
        assert!(!r.message.contains(&alice.token), "token in a log line: {r:?}");
        assert!(!r.message.contains("wrong-token-that-is-long"), "token in a log line: {r:?}");
    }
}
