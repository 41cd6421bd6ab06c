//! The Mercury event socket (protocol.md §5): one connection per client, authorised with the
//! token in its first frame, kept alive with pings, reconnected with backoff as the close-code
//! table says, and switched make-before-break when the server announces a shutdown.
//!
//! Every frame with an id is acked. Event envelopes go to the client's event processor, which
//! drops duplicates (a replayed buffer repeats what an earlier socket may already have
//! delivered) and turns activities into public events.

pub mod close;
pub mod socket;

use crate::config::Config;
use crate::device::Devices;
use crate::error::{Error, ErrorCode, Result};
use crate::events::Event;
use crate::http::Http;
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::{Value, json};
use socket::Socket;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_util::sync::CancellationToken;

/// The socket's knobs, from `mercury.*` and `defaultMercuryOptions.*`.
#[derive(Clone, Debug)]
pub struct Options {
    /// Time between pings.
    pub ping_interval: Duration,
    /// Time to wait for a pong.
    pub pong_timeout: Duration,
    /// First backoff wait.
    pub backoff_reset: Duration,
    /// Longest backoff wait.
    pub backoff_max: Duration,
    /// Time to wait for `mercury.buffer_state` after authorising.
    pub buffer_state_timeout: Duration,
    /// Retries before giving up (None: forever).
    pub max_retries: Option<u64>,
    /// Retries before giving up when never connected (None: `max_retries`).
    pub initial_max_retries: Option<u64>,
    /// Largest frame accepted.
    pub max_frame: usize,
    /// HTTP CONNECT proxy for the socket.
    pub proxy: Option<String>,
    /// Ask for `multipleConnections=true` (ephemeral devices).
    pub multiple_connections: bool,
}

impl Options {
    /// Options from the config.
    pub fn from_config(config: &Config) -> Options {
        let opt = |p: &str| config.get(p).and_then(Value::as_u64);
        Options {
            ping_interval: config.millis("mercury.pingInterval"),
            pong_timeout: config.millis("mercury.pongTimeout"),
            backoff_reset: config.millis("mercury.backoffTimeReset"),
            backoff_max: config.millis("mercury.backoffTimeMax"),
            buffer_state_timeout: config.millis("mercury.bufferStateTimeout"),
            max_retries: opt("mercury.maxRetries"),
            initial_max_retries: opt("mercury.initialConnectionMaxRetries"),
            max_frame: config.u64("mercury.maxFrameBytes") as usize,
            proxy: config.str("defaultMercuryOptions.proxy").map(str::to_owned),
            multiple_connections: config.bool("device.ephemeral"),
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        self.backoff_reset.saturating_mul(1u32 << (failures - 1).min(16)).min(self.backoff_max)
    }
}

/// Where the connection is.
#[derive(Clone, Debug)]
pub enum State {
    /// Not started.
    Idle,
    /// Opening or reopening.
    Connecting,
    /// Authorised, events flowing.
    Online,
    /// Gave up, with the reason.
    Failed(Error),
    /// Stopped by the app.
    Stopped,
}

/// Emits lifecycle events.
pub type Lifecycle = Arc<dyn Fn(Event) + Send + Sync>;

/// The socket of one client.
pub struct Mercury {
    inner: Arc<Inner>,
    run: Mutex<Option<(CancellationToken, tokio::task::JoinHandle<()>)>>,
}

struct Inner {
    http: Http,
    devices: Arc<Devices>,
    opts: Options,
    envelopes: mpsc::UnboundedSender<Value>,
    lifecycle: Lifecycle,
    state: watch::Sender<State>,
}

enum End {
    Closed(u16, String),
    Cancelled,
}

/// An opened, authorised socket and the event frames that came before its buffer state.
type Opened = (Socket, Vec<Value>);

struct OpenError {
    error: Error,
    close_code: Option<u16>,
}

impl Mercury {
    /// A socket that delivers envelopes to `envelopes` and lifecycle events to `lifecycle`.
    pub fn new(
        http: Http,
        devices: Arc<Devices>,
        opts: Options,
        envelopes: mpsc::UnboundedSender<Value>,
        lifecycle: Lifecycle,
    ) -> Mercury {
        let (state, _) = watch::channel(State::Idle);
        Mercury { inner: Arc::new(Inner { http, devices, opts, envelopes, lifecycle, state }), run: Mutex::new(None) }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.inner.state.borrow().clone()
    }

    /// Connect (once) and wait until online, or until the connection gives up.
    pub async fn connect(&self) -> Result<()> {
        let mut watch = self.inner.state.subscribe();
        {
            let mut run = self.run.lock().map_err(|_| Error::internal("mercury lock poisoned"))?;
            let running = run.as_ref().is_some_and(|(_, task)| !task.is_finished());
            if !running {
                let cancel = CancellationToken::new();
                self.inner.state.send_replace(State::Connecting);
                let task = tokio::spawn(run_loop(self.inner.clone(), cancel.clone()));
                *run = Some((cancel, task));
            }
        }
        loop {
            match &*watch.borrow_and_update() {
                State::Online => return Ok(()),
                State::Failed(e) => return Err(e.clone()),
                State::Stopped => return Err(Error::new(ErrorCode::Cancelled, "mercury was disconnected")),
                State::Idle | State::Connecting => {}
            }
            if watch.changed().await.is_err() {
                return Err(Error::internal("mercury state dropped"));
            }
        }
    }

    /// Close the socket (1000 `Done`) and stop reconnecting.
    pub async fn disconnect(&self) {
        let run = self.run.lock().ok().and_then(|mut r| r.take());
        if let Some((cancel, task)) = run {
            cancel.cancel();
            let _ = task.await;
            self.inner.state.send_replace(State::Stopped);
        }
    }
}

async fn run_loop(inner: Arc<Inner>, cancel: CancellationToken) {
    let mut failures = 0u32;
    let mut ever_online = false;
    loop {
        let opened = tokio::select! {
            r = open(&inner) => r,
            _ = cancel.cancelled() => break,
        };
        match opened {
            Ok((socket, early)) => {
                ever_online = true;
                inner.state.send_replace(State::Online);
                (inner.lifecycle)(Event::new("online", json!({})));
                for envelope in early {
                    let _ = inner.envelopes.send(envelope);
                }
                let started = Instant::now();
                match run_session(&inner, socket, &cancel).await {
                    End::Cancelled => break,
                    End::Closed(code, reason) => {
                        let data = json!({"code": code, "reason": reason});
                        // The official table makes 4401 after open permanent; a renewable token
                        // makes it worth one more try (the token expired mid-stream).
                        let renewable =
                            code == 4401 && inner.http.credentials().renewal() != crate::credentials::Renewal::None;
                        let kind =
                            if renewable { close::AfterOpen::Transient } else { close::after_open(code, &reason) };
                        if renewable {
                            renew(&inner).await;
                        }
                        match kind {
                            close::AfterOpen::Transient => {
                                (inner.lifecycle)(Event::new("offline.transient", data));
                                inner.state.send_replace(State::Connecting);
                                // A socket that lived a while earns an immediate reconnect; quick
                                // repeated drops back off like failed attempts.
                                failures = if started.elapsed() >= Duration::from_secs(10) { 0 } else { failures };
                            }
                            kind => {
                                let name = if kind == close::AfterOpen::Replaced {
                                    "offline.replaced"
                                } else {
                                    "offline.permanent"
                                };
                                (inner.lifecycle)(Event::new(name, data));
                                let message = format!(
                                    "the event socket closed with {code} {reason:?} ({name}); call listen() again to reconnect"
                                );
                                inner.state.send_replace(State::Failed(Error::new(ErrorCode::Closed, message)));
                                return;
                            }
                        }
                    }
                }
            }
            Err(OpenError { error, close_code }) => {
                tracing::warn!(target: "webex::mercury", "connection attempt failed: {error}");
                // A server whose certificate is not trusted (device registration or the
                // socket) is as final as a fatal close code: no retry changes it, the app's
                // config must (`code` is then null).
                let fatal = crate::tls::is_refusal(&error).then_some(close::BeforeOpen::Fatal);
                match fatal.or(close_code.map(close::before_open)) {
                    Some(close::BeforeOpen::Fatal) => {
                        (inner.lifecycle)(Event::new(
                            "offline.permanent",
                            json!({"code": close_code, "reason": error.message}),
                        ));
                        inner.state.send_replace(State::Failed(error));
                        return;
                    }
                    Some(close::BeforeOpen::RefreshDevice) => {
                        let _ = inner.devices.refresh().await;
                    }
                    Some(close::BeforeOpen::RefreshToken) => renew(&inner).await,
                    Some(close::BeforeOpen::Retry) | None => {}
                }
                let limit = if ever_online {
                    inner.opts.max_retries
                } else {
                    inner.opts.initial_max_retries.or(inner.opts.max_retries)
                };
                if limit.is_some_and(|l| u64::from(failures) >= l) {
                    if ever_online {
                        // The app saw `online` and must learn that no reconnection follows
                        // (a first connection that never came up fails its `connect` instead).
                        let reason = format!("gave up reconnecting after {} attempts: {}", failures + 1, error.message);
                        (inner.lifecycle)(Event::new("offline.permanent", json!({"code": null, "reason": reason})));
                    }
                    inner.state.send_replace(State::Failed(error));
                    return;
                }
            }
        }
        let wait = inner.opts.backoff(failures);
        failures = failures.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => break,
        }
    }
    inner.state.send_replace(State::Stopped);
}

/// Renew the token after the socket refused it (errors are logged: the next attempt tells).
async fn renew(inner: &Inner) {
    let seen = inner.http.credentials().access_token();
    if let Err(e) = inner.http.renew_token(seen.as_deref(), "socket").await {
        tracing::warn!(target: "webex::mercury", "renewing the token for the socket failed: {e}");
    }
}

/// Open, authorise and wait for the buffer state. Returns the socket and any event frames that
/// arrived before the buffer state.
async fn open(inner: &Inner) -> std::result::Result<Opened, OpenError> {
    let fail = |error: Error| OpenError { error, close_code: None };
    // A registration the cloud refused for good (no wdm service, bad request, no right) cannot
    // succeed by retrying: report it as the handshake's fatal 4403 would.
    let device = inner.devices.ensure().await.map_err(|error| {
        let fatal = matches!(
            error.code,
            ErrorCode::Protocol | ErrorCode::InvalidArgument | ErrorCode::Forbidden | ErrorCode::Unauthorized
        );
        OpenError { error, close_code: fatal.then_some(4403) }
    })?;
    let mut url = url::Url::parse(&device.web_socket_url)
        .map_err(|e| fail(Error::protocol(format!("the device's webSocketUrl is not a URL: {e}"))))?;
    // The token goes in the first frame: only to a socket under a catalog service.
    let mut as_http = url.clone();
    let _ = as_http.set_scheme(if url.scheme() == "wss" { "https" } else { "http" });
    if !inner.http.services().may_receive_token(as_http.as_str()) {
        return Err(OpenError {
            error: Error::new(
                ErrorCode::Forbidden,
                format!("refusing to send the token to {} (not a catalog service)", url.host_str().unwrap_or("")),
            ),
            close_code: Some(4403),
        });
    }
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("outboundWireFormat", "text")
            .append_pair("bufferStates", "true")
            .append_pair("aliasHttpStatus", "true");
        if inner.opts.multiple_connections {
            q.append_pair("multipleConnections", "true");
        }
        q.append_pair("clientTimestamp", &now_ms().to_string());
    }
    let env = |name: &str| std::env::var(name).ok();
    let proxy = socket::proxy_for(&url, inner.opts.proxy.as_deref(), &env);
    let mut ws =
        socket::open(&url, proxy.as_ref(), inner.opts.max_frame, inner.http.socket_tls()).await.map_err(fail)?;
    let Some(authorization) = inner.http.credentials().authorization() else {
        return Err(OpenError {
            error: Error::new(ErrorCode::Unauthorized, "no access token for the event socket"),
            close_code: Some(4401),
        });
    };
    let auth = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "type": "authorization",
        "data": {"token": authorization},
        "trackingId": format!("{}_{}", inner.http.session_id(), now_ms()),
    });
    ws.send(Message::Text(auth.to_string().into()))
        .await
        .map_err(|e| fail(Error::new(ErrorCode::Network, format!("socket: {e}"))))?;
    let mut early = Vec::new();
    let deadline = tokio::time::sleep(inner.opts.buffer_state_timeout);
    tokio::pin!(deadline);
    loop {
        let frame = tokio::select! {
            f = ws.next() => f,
            _ = &mut deadline => {
                let _ = ws.close(None).await;
                return Err(fail(Error::new(ErrorCode::Timeout, "the event socket sent no buffer state in time; reconnecting")));
            }
        };
        match frame {
            Some(Ok(Message::Text(text))) => {
                let Some(frame) = parse_frame(text.as_str()) else { continue };
                if let Some(id) = frame.get("id").and_then(Value::as_str) {
                    let _ = ws.send(ack(id)).await;
                }
                let event_type = frame.pointer("/data/eventType").and_then(Value::as_str);
                if frame.get("type").is_none()
                    && matches!(event_type, Some("mercury.buffer_state" | "mercury.registration_status"))
                {
                    return Ok((ws, early));
                }
                if event_type.is_some() {
                    early.push(frame);
                }
            }
            Some(Ok(Message::Close(close))) => {
                let (code, reason) = close.map_or((1005, String::new()), |c| (u16::from(c.code), c.reason.to_string()));
                return Err(OpenError {
                    error: Error::new(
                        ErrorCode::Network,
                        format!("the event socket closed during the handshake: {code} {reason:?}"),
                    ),
                    close_code: Some(code),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(fail(Error::new(ErrorCode::Network, format!("socket: {e}")))),
            None => {
                return Err(OpenError {
                    error: Error::new(ErrorCode::Network, "the event socket closed during the handshake"),
                    close_code: Some(1006),
                });
            }
        }
    }
}

/// Read an open socket until it closes or the app stops it.
async fn run_session(inner: &Inner, socket: Socket, cancel: &CancellationToken) -> End {
    let (mut out, mut stream) = spawn_writer(socket);
    let mut ping = tokio::time::interval(inner.opts.ping_interval);
    // An ephemeral device is refreshed every ttl/2 + 60 s (protocol.md §4.3) while connected.
    let refresh_every = inner.devices.refresh_interval().unwrap_or(Duration::from_secs(365 * 24 * 3600));
    let mut device_refresh = tokio::time::interval_at(tokio::time::Instant::now() + refresh_every, refresh_every);
    let socket_url = inner.devices.current().await.map(|d| d.web_socket_url);
    let mut pending: Option<(String, tokio::time::Instant)> = None;
    let mut replacement: Option<futures_util::future::BoxFuture<'_, std::result::Result<Opened, OpenError>>> = None;
    // The old socket ended while its replacement was still opening.
    let mut old_closed = false;
    loop {
        let pong_deadline = pending.as_ref().map(|(_, at)| *at);
        tokio::select! {
            _ = cancel.cancelled() => {
                let _ = out.send(close_message(1000, "Done"));
                return End::Cancelled;
            }
            _ = device_refresh.tick() => {
                match inner.devices.refresh().await {
                    // WDM forgot the device and a new one was registered: its socket is elsewhere.
                    Ok(d) if Some(&d.web_socket_url) != socket_url.as_ref() => {
                        let _ = out.send(close_message(1000, "idle"));
                        return End::Closed(1000, "idle".into());
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(target: "webex::device", "refreshing the device failed: {e}"),
                }
            }
            _ = ping.tick() => {
                if pending.is_none() {
                    let id = uuid::Uuid::new_v4().to_string();
                    let _ = out.send(Message::Text(json!({"id": id, "type": "ping"}).to_string().into()));
                    pending = Some((id, tokio::time::Instant::now() + inner.opts.pong_timeout));
                }
            }
            _ = async { tokio::time::sleep_until(pong_deadline.unwrap_or_else(tokio::time::Instant::now)).await }, if pong_deadline.is_some() => {
                let _ = out.send(close_message(1000, "Pong not received"));
                return End::Closed(1000, "Pong not received".into());
            }
            opened = async { replacement.as_mut().expect("guarded").await }, if replacement.is_some() => {
                replacement = None;
                match opened {
                    Ok((socket, early)) => {
                        // Make-before-break: the old socket drains until the server closes it (4001).
                        let old = std::mem::replace(&mut stream, futures_util::stream::empty().boxed());
                        if !std::mem::take(&mut old_closed) {
                            tokio::spawn(drain(old, out.clone(), inner.envelopes.clone()));
                        }
                        let (new_out, new_stream) = spawn_writer(socket);
                        out = new_out;
                        stream = new_stream;
                        pending = None;
                        for e in early {
                            let _ = inner.envelopes.send(e);
                        }
                        tracing::info!(target: "webex::mercury", "switched to a new socket after the server's shutdown notice");
                    }
                    Err(e) => {
                        tracing::warn!(target: "webex::mercury", "could not open the replacement socket: {}", e.error);
                        if old_closed {
                            // Neither socket is left: reconnect (the cloud replays what was missed).
                            return End::Closed(1006, "the replacement socket failed after the old one closed".into());
                        }
                    }
                }
            }
            frame = stream.next() => {
                // Handle whatever else has already arrived too: a burst costs one pass through
                // this select, not one per frame.
                let mut next = Some(frame);
                let mut handled = 0;
                while let Some(frame) = next.take() {
                    if let Some(end) = on_frame(inner, frame, &out, &mut pending, &mut replacement) {
                        if replacement.is_none() {
                            return end;
                        }
                        // The server closes the old socket (4001) as soon as the new one
                        // authorises, which can be read before the new one's handshake
                        // finishes here: keep waiting for the new socket, not a reconnect.
                        tracing::debug!(target: "webex::mercury", "the old socket closed during the switch; waiting for the new one");
                        stream = futures_util::stream::pending().boxed();
                        old_closed = true;
                        break;
                    }
                    handled += 1;
                    if handled < BURST {
                        next = stream.next().now_or_never();
                    }
                }
            }
        }
    }
}

/// Frames handled per pass of the session loop before timers get a look in.
const BURST: usize = 64;

/// One frame of an open session; `Some` ends the session.
fn on_frame<'a>(
    inner: &'a Inner,
    frame: Option<std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>,
    out: &mpsc::UnboundedSender<Message>,
    pending: &mut Option<(String, tokio::time::Instant)>,
    replacement: &mut Option<futures_util::future::BoxFuture<'a, std::result::Result<Opened, OpenError>>>,
) -> Option<End> {
    match frame {
        Some(Ok(Message::Text(text))) => {
            let frame = parse_frame(text.as_str())?;
            if let Some(id) = frame.get("id").and_then(Value::as_str) {
                let _ = out.send(ack(id));
            }
            match frame.get("type").and_then(Value::as_str) {
                Some("pong") => {
                    let id = frame.get("id").and_then(Value::as_str);
                    match pending {
                        Some((expected, _)) if Some(expected.as_str()) == id => *pending = None,
                        _ => {
                            let _ = out.send(close_message(1000, "Pong mismatch"));
                            return Some(End::Closed(1000, "Pong mismatch".into()));
                        }
                    }
                }
                Some("shutdown") => {
                    (inner.lifecycle)(Event::new("event:mercury_shutdown_imminent", json!({})));
                    if replacement.is_none() {
                        *replacement = Some(Box::pin(open(inner)));
                    }
                }
                _ if frame.pointer("/data/eventType").is_some() => {
                    let _ = inner.envelopes.send(frame);
                }
                _ => tracing::debug!(target: "webex::mercury", "ignoring a frame without eventType"),
            }
            None
        }
        Some(Ok(Message::Close(close))) => {
            let (code, reason) = close.map_or((1005, String::new()), |c| (u16::from(c.code), c.reason.to_string()));
            Some(End::Closed(code, reason))
        }
        Some(Ok(_)) => None,
        Some(Err(e)) => {
            tracing::warn!(target: "webex::mercury", "the event socket failed: {e}");
            Some(End::Closed(1006, e.to_string()))
        }
        None => Some(End::Closed(1006, String::new())),
    }
}

type FrameStream =
    futures_util::stream::BoxStream<'static, std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>;

/// Split a socket: a writer task fed by a channel (so a slow write never blocks reading), and
/// the read half.
fn spawn_writer(socket: Socket) -> (mpsc::UnboundedSender<Message>, FrameStream) {
    let (mut sink, stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        // Acks come one per event: queue whatever is waiting and flush once, so a burst costs
        // a few writes instead of one per frame.
        'outer: while let Some(first) = rx.recv().await {
            let mut next = Some(first);
            while let Some(message) = next.take() {
                let closing = matches!(message, Message::Close(_));
                if sink.feed(message).await.is_err() || closing {
                    let _ = sink.flush().await;
                    break 'outer;
                }
                next = rx.try_recv().ok();
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    (tx, stream.boxed())
}

/// Keep reading a replaced socket until the server closes it, acking and forwarding what it
/// still delivers (duplicates are dropped downstream).
async fn drain(mut stream: FrameStream, out: mpsc::UnboundedSender<Message>, envelopes: mpsc::UnboundedSender<Value>) {
    while let Some(Ok(message)) = stream.next().await {
        match message {
            Message::Text(text) => {
                let Some(frame) = parse_frame(text.as_str()) else { continue };
                if let Some(id) = frame.get("id").and_then(Value::as_str) {
                    let _ = out.send(ack(id));
                }
                if frame.pointer("/data/eventType").is_some() {
                    let _ = envelopes.send(frame);
                }
            }
            Message::Close(close) => {
                tracing::info!(target: "webex::mercury", "the replaced socket closed: {close:?}");
                break;
            }
            _ => {}
        }
    }
}

fn parse_frame(text: &str) -> Option<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if v.is_object() => Some(v),
        Ok(_) | Err(_) => {
            let shown: String = text.chars().take(80).collect();
            tracing::warn!(target: "webex::mercury", "ignoring a frame that is not a JSON object ({} bytes): {shown:?}", text.len());
            None
        }
    }
}

fn ack(id: &str) -> Message {
    // Written directly: one per frame, on the hot path. Ids are the server's uuids; anything
    // needing escapes goes through serde.
    if id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Message::Text(format!(r#"{{"messageId":"{id}","type":"ack"}}"#).into())
    } else {
        Message::Text(json!({"messageId": id, "type": "ack"}).to_string().into())
    }
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code: code.into(), reason: reason.to_owned().into() }))
}

fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}
