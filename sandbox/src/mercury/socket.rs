//! The websocket itself: upgrade, authorization, then a reader task (client frames: auth,
//! ping, ack) and a writer task (everything the server sends, numbered per socket) joined by
//! an unbounded channel, so a client that writes a lot never blocks delivery or vice versa.

use std::time::Duration;

use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use uuid::Uuid;

use super::buffer::{buffer_state_frame, pong_frame, shutdown_frame};
use super::{Auth, Out};
use crate::errors::ApiError;
use crate::state::{AppState, bearer, lock};
use crate::time::now_ms;

/// The server's auth-timeout close reason, verbatim from the real service (§5.2; it says
/// "seconds" although the window is 30 s).
pub const AUTH_TIMEOUT_REASON: &str = "authentication did not happen within the timeout window of 30000 seconds.";
/// How long the server waits for the client's close reply after sending its own close.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Frames written before the writer flushes, so a burst goes out in few syscalls.
const BATCH: usize = 512;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/mercury/api/v1/apps/wx2/registrations/{device}/messages", get(upgrade))
}

async fn upgrade(
    State(st): State<AppState>,
    Path(device): Path<String>,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Ok(device) = Uuid::parse_str(&device) else {
        return ApiError::not_found().into_response();
    };
    // A plain GET (no upgrade) gets axum's rejection, turned into the cloud error body.
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // Every §5.1 parameter is accepted; only `bufferStates=false` changes anything (no
    // buffer_state frame then; events are replayed either way: guess).
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let buffer_states = !pairs.iter().any(|(k, v)| k == "bufferStates" && v.eq_ignore_ascii_case("false"));
    ws.on_upgrade(move |socket| run(st, device, buffer_states, socket))
}

async fn run(st: AppState, device: Uuid, buffer_states: bool, socket: WebSocket) {
    let (id, rx, tx) = lock(&st.mercury).open_socket(device);
    let (sink, stream) = socket.split();
    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(writer(sink, rx, done_tx));
    reader(&st, id, buffer_states, stream, tx, done_rx).await;
    lock(&st.mercury).unregister(id);
    st.connections_changed();
}

/// A client frame; every field optional so any JSON object parses.
#[derive(Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<Value>,
    #[serde(rename = "messageId")]
    message_id: Option<Value>,
    data: Option<Value>,
}

async fn reader(
    st: &AppState,
    sock: u64,
    buffer_states: bool,
    mut stream: SplitStream<WebSocket>,
    tx: mpsc::UnboundedSender<Out>,
    mut done: oneshot::Receiver<()>,
) {
    // A huge timeout must not overflow the clock: treat it as "a year".
    let auth_deadline = Instant::now()
        .checked_add(st.auth_timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
    let mut authorised = false;
    let mut closing: Option<Instant> = None;
    loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = sleep_until(auth_deadline), if !authorised && closing.is_none() => {
                lock(&st.mercury).close_socket(sock, Some((1008, AUTH_TIMEOUT_REASON.into())));
                closing = Some(Instant::now() + CLOSE_GRACE);
                continue;
            }
            _ = &mut done, if closing.is_none() => {
                // The writer sent a close (or died): wait briefly for the client's reply.
                closing = Some(Instant::now() + CLOSE_GRACE);
                continue;
            }
            _ = sleep_until(closing.unwrap_or_else(Instant::now)), if closing.is_some() => break,
        };
        let text = match msg {
            None | Some(Err(_)) => break,
            Some(Ok(Message::Text(t))) => t.as_str().to_string(),
            // Lenient: a binary frame carrying UTF-8 JSON is read like text (guess).
            Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
            Some(Ok(_)) => continue,
        };
        if closing.is_some() {
            continue;
        }
        let Ok(frame) = serde_json::from_str::<ClientFrame>(&text) else {
            lock(&st.mercury).ignored(&text);
            continue;
        };
        match (frame.kind.as_deref(), authorised) {
            (Some("authorization"), false) => match authorise(st, sock, buffer_states, frame.data.as_ref()) {
                Auth::Ok => authorised = true,
                Auth::Rejected(reason) => {
                    lock(&st.mercury).close_socket(sock, Some((4401, reason.into())));
                    closing = Some(Instant::now() + CLOSE_GRACE);
                }
                Auth::NoDevice => {
                    lock(&st.mercury).close_socket(sock, None);
                    closing = Some(Instant::now() + CLOSE_GRACE);
                }
            },
            (Some("ping"), true) => {
                let _ = tx.send(Out::Pong(frame.id.unwrap_or(Value::Null)));
            }
            (Some("ack"), true) => {
                let id = match frame.message_id {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => continue,
                };
                lock(&st.mercury).ack(sock, &id);
            }
            _ => lock(&st.mercury).ignored(&text),
        }
    }
}

/// Checks `data.token` (`Bearer <token>`) and hands over to the hub.
fn authorise(st: &AppState, sock: u64, buffer_states: bool, data: Option<&Value>) -> Auth {
    let token = data.and_then(|d| d.get("token")).and_then(Value::as_str).and_then(bearer);
    let Some(token) = token else {
        return Auth::Rejected("Unauthorized: missing or malformed token");
    };
    // The store lock is released before the hub is locked (lock order: store, then hub).
    let person = st.store().person_by_token(token).map(|p| (p.uuid, p.email.clone()));
    let Some((user, email)) = person else {
        return Auth::Rejected("Unauthorized: invalid token");
    };
    let auth = lock(&st.mercury).authorise(sock, user, &email, buffer_states);
    if auth == Auth::Ok {
        lock(&st.socket_tokens).insert(sock, token.to_owned());
        st.connections_changed();
    }
    auth
}

async fn writer(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::UnboundedReceiver<Out>,
    done: oneshot::Sender<()>,
) {
    let mut seq: u64 = 0;
    'outer: while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut n = 0;
        while let Some(out) = next.take() {
            let msg = match out {
                Out::Close(close) => {
                    let frame = close.map(|(code, reason)| CloseFrame { code, reason: reason.into() });
                    let _ = sink.send(Message::Close(frame)).await;
                    break 'outer;
                }
                Out::Raw(text) => Message::Text(text.into()),
                other => {
                    seq += 1;
                    let now = now_ms();
                    Message::Text(
                        match other {
                            Out::BufferState => buffer_state_frame(seq, now),
                            Out::Event(ev) => ev.frame(seq, now),
                            Out::Pong(id) => pong_frame(&id, seq),
                            _ => shutdown_frame(seq),
                        }
                        .into(),
                    )
                }
            };
            if sink.feed(msg).await.is_err() {
                break 'outer;
            }
            n += 1;
            if n < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
    }
    let _ = done.send(());
}
