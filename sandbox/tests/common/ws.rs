//! A real websocket client for the Mercury tests, plus device registration.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};
use webex_sandbox::Sandbox;

/// Safety net only: a broken server fails the test instead of hanging it. Nothing asserts
/// on how long anything takes.
const PATIENCE: Duration = Duration::from_secs(20);

/// The query string the JS SDK appends (protocol.md §5.1).
pub const JS_QUERY: &str =
    "outboundWireFormat=text&bufferStates=true&aliasHttpStatus=true&multipleConnections=true&clientTimestamp=1";

/// Registers a device as the JS SDK does and returns its DTO.
pub async fn register(sb: &Sandbox, token: &str) -> Value {
    let body = json!({
        "name": "node", "deviceType": "WEB", "model": "web-js-sdk", "localizedModel": "webex-js-sdk",
        "systemName": "WEBEX_JS_SDK", "systemVersion": "1.0.0", "ttl": 1800,
    });
    let url = format!("{}/devices?includeUpstreamServices=all", sb.wdm_url());
    let (s, v) = super::json(Method::POST, &url, token, Some(body)).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// What came out of the socket.
#[derive(Debug)]
pub enum Got {
    Json(Value),
    Text(String),
    Closed(Option<(u16, String)>),
}

pub struct Ws {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    /// Opens the device's webSocketUrl with the JS SDK's query string.
    pub async fn open(device: &Value) -> Ws {
        let url = format!("{}?{JS_QUERY}", device["webSocketUrl"].as_str().expect("webSocketUrl"));
        let (inner, _) = connect_async(url).await.expect("websocket upgrade");
        Ws { inner }
    }

    /// Opens and authorises, returning the socket right after the buffer_state frame.
    pub async fn connect(device: &Value, token: &str) -> Ws {
        let mut ws = Ws::open(device).await;
        ws.auth(token).await;
        let bs = ws.json().await;
        assert_eq!(bs["data"]["eventType"], "mercury.buffer_state", "{bs}");
        ws
    }

    pub async fn send_text(&mut self, text: &str) {
        self.inner.send(Message::Text(text.into())).await.expect("send");
    }

    pub async fn send_json(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn auth(&mut self, token: &str) {
        let frame = json!({"id": "auth-1", "type": "authorization", "data": {"token": format!("Bearer {token}")},
            "trackingId": "test_1"});
        self.send_json(frame).await;
    }

    /// The next text frame (JSON if it parses) or the close.
    pub async fn next(&mut self) -> Got {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.inner.next()).await.expect("a frame in time");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return match serde_json::from_str(t.as_str()) {
                        Ok(v) => Got::Json(v),
                        Err(_) => Got::Text(t.as_str().to_string()),
                    };
                }
                Some(Ok(Message::Close(c))) => {
                    return Got::Closed(c.map(|c| (u16::from(c.code), c.reason.as_str().to_string())));
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return Got::Closed(None),
            }
        }
    }

    /// The next frame, which must be JSON.
    pub async fn json(&mut self) -> Value {
        match self.next().await {
            Got::Json(v) => v,
            other => panic!("expected a JSON frame, got {other:?}"),
        }
    }

    /// Reads until the close frame; returns its code and reason.
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        loop {
            if let Got::Closed(c) = self.next().await {
                // Keep reading so the client's close reply goes out and the stream ends.
                while let Ok(Some(Ok(_))) = tokio::time::timeout(PATIENCE, self.inner.next()).await {}
                return c;
            }
        }
    }

    /// Round-trips a ping: afterwards every frame sent before it has been handled.
    pub async fn ping(&mut self, id: &str) -> Value {
        self.send_json(json!({"id": id, "type": "ping"})).await;
        loop {
            let v = self.json().await;
            if v["type"] == "pong" {
                assert_eq!(v["id"], id);
                return v;
            }
        }
    }

    pub async fn ack(&mut self, id: &Value) {
        self.send_json(json!({"messageId": id, "type": "ack"})).await;
    }

    /// Closes from the client side and waits for the server's close reply.
    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
        while let Ok(Some(Ok(_))) = tokio::time::timeout(PATIENCE, self.inner.next()).await {}
    }
}

/// Waits (without polling) until the user has `n` live authorised sockets.
pub async fn wait_sockets(sb: &Sandbox, email: &str, n: usize) {
    let mut rx = sb.connections_watch();
    let wait = rx.wait_for(|_| sb.mercury_sockets(email) == n);
    tokio::time::timeout(PATIENCE, wait).await.expect("socket count in time").expect("watch open");
}

/// The next `locus.*` event's `data` (other frames skipped), acked.
pub async fn next_locus(ws: &mut Ws) -> Value {
    loop {
        let ev = ws.json().await;
        if ev["type"] == "pong" {
            continue;
        }
        ws.ack(&ev["id"]).await;
        let data = ev["data"].clone();
        if data["eventType"].as_str().is_some_and(|t| t.starts_with("locus.")) {
            return data;
        }
    }
}
