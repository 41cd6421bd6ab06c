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
    // The log thread delivers in batches; the marker logged last tells when all before it arrived.
    let (flushed_tx, mut flushed) = tokio::sync::mpsc::unbounded_channel::<()>();
    let id = log::add_sink(Arc::new(move |batch: &[LogRecord]| {
        sink.lock().unwrap().extend_from_slice(batch);
        if batch.iter().any(|r| r.message == "flush marker") {
            let _ = flushed_tx.send(());
        }
    }));
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
    flushed.recv().await.expect("the log sink saw the marker");
    log::remove_sink(id);
    for r in history.iter().chain(captured.lock().unwrap().iter()) {
        assert!(!r.message.contains(&alice.token), "token in a log line: {r:?}");
        assert!(!r.message.contains("wrong-token-that-is-long"), "token in a log line: {r:?}");
    }
}

#[tokio::test]
async fn meeting_events_are_logged_whole_only_when_verbose() {
    let sb = sandbox().await;
    let alice = sb.user(ALICE).unwrap();
    let mut on = config_for(&sb, &alice.token);
    on["logger"] = json!({"level": "info", "historyLength": 100000});
    let mut off = on.clone();
    off["meetings"] = json!({"logging": {"verboseEvents": false}});
    for (cfg, kind) in [(on, "locus.test_verbose_on"), (off, "locus.test_verbose_off")] {
        let client = Client::new(Config::from_value(cfg).unwrap()).unwrap();
        let mut events = client.events();
        client.connect().await.unwrap();
        // The token inside an event must still never reach a log line.
        sb.emit_raw(ALICE, kind, &json!({"locus": {"state": "ACTIVE"}, "leak": alice.token}).to_string(), 1);
        let wanted = format!("event:{kind}");
        while events.recv().await.expect("the stream ended").kind != wanted {}
        client.shutdown().await;
    }
    let info: Vec<LogRecord> =
        log::history().into_iter().filter(|r| r.target == "webex::meetings" && r.level == "info").collect();
    let on_line =
        info.iter().find(|r| r.message.contains("locus.test_verbose_on")).expect("the verbose event is logged");
    assert!(on_line.message.contains("ACTIVE"), "logged whole: {on_line:?}");
    assert!(!on_line.message.contains(&alice.token), "token in a log line: {on_line:?}");
    assert!(!info.iter().any(|r| r.message.contains("locus.test_verbose_off")), "verboseEvents=false logs no payload");
}
