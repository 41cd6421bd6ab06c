//! From socket envelopes to public events: drop duplicates, map activities, read new messages
//! through REST (up to 16 at a time, emitted in arrival order), wrap each in the webhook-shaped
//! envelope of the official SDK (protocol.md §3.5), pass unknown event types through raw.

use crate::activity::{self, Mapped};
use crate::events::{Event, EventHub};
use crate::http::{Http, HttpRequest};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The resources whose events `listen()` can turn on.
pub const RESOURCES: &[&str] = &["messages", "memberships", "rooms", "attachmentActions"];

/// Who is listening to what.
#[derive(Default)]
pub struct ListenState {
    resources: Mutex<HashSet<String>>,
    envelope: Mutex<Value>,
}

impl ListenState {
    /// Turn on a resource's events; `me` is the caller's Person (for `createdBy`/`orgId`).
    pub fn add(&self, resource: &str, me: &Value) {
        if let Ok(mut r) = self.resources.lock() {
            r.insert(resource.to_owned());
        }
        if let Ok(mut e) = self.envelope.lock() {
            if e.is_null() {
                *e = json!({
                    "createdBy": me.get("id"),
                    "orgId": me.get("orgId"),
                    "ownedBy": "creator",
                    "status": "active",
                    "created": crate::time::now_iso(),
                });
            }
        }
    }

    /// Turn a resource's events off; returns whether any resource is still on.
    pub fn remove(&self, resource: &str) -> bool {
        self.resources
            .lock()
            .map(|mut r| {
                r.remove(resource);
                !r.is_empty()
            })
            .unwrap_or(false)
    }

    fn on(&self, resource: &str) -> bool {
        self.resources.lock().map(|r| r.contains(resource)).unwrap_or(false)
    }

    fn wrap(&self, resource: &str, event: &str, data: Value, actor_id: Option<Value>) -> Event {
        let mut envelope = self.envelope.lock().map(|e| e.clone()).unwrap_or(Value::Null);
        if !envelope.is_object() {
            envelope = json!({});
        }
        envelope["resource"] = json!(resource);
        envelope["event"] = json!(event);
        envelope["actorId"] = actor_id.unwrap_or(Value::Null);
        envelope["data"] = data;
        Event::new(format!("{resource}:{event}"), envelope)
    }
}

/// Remembers the last `capacity` ids (each stored once, shared by the queue and the set).
struct Seen {
    order: VecDeque<Arc<str>>,
    set: HashSet<Arc<str>>,
    capacity: usize,
}

impl Seen {
    fn first_time(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        let id: Arc<str> = Arc::from(id);
        self.order.push_back(id.clone());
        self.set.insert(id);
        true
    }
}

/// Run until the socket side hangs up: envelopes in, public events out.
pub async fn run(
    mut envelopes: mpsc::UnboundedReceiver<Value>,
    http: Http,
    hub: Arc<EventHub>,
    state: Arc<ListenState>,
) {
    let mut seen = Seen { order: VecDeque::new(), set: HashSet::new(), capacity: 100_000 };
    let incoming = futures_util::stream::poll_fn(move |cx| envelopes.poll_recv(cx));
    let unique = incoming.filter(move |envelope| {
        let id = envelope.pointer("/data/activity/id").or_else(|| envelope.get("id")).and_then(Value::as_str);
        let keep = id.is_none_or(|id| seen.first_time(id));
        if !keep {
            tracing::debug!(target: "webex::events", "dropping a duplicate event");
        }
        futures_util::future::ready(keep)
    });
    // Only activities may need a REST read; everything else is ready at once, so the common
    // raw event costs no future of its own.
    let processed = unique
        .map(|mut envelope| {
            if envelope.pointer("/data/eventType").and_then(Value::as_str) == Some("conversation.activity") {
                futures_util::future::Either::Left(process(envelope, http.clone(), state.clone()))
            } else {
                futures_util::future::Either::Right(futures_util::future::ready(passthrough(&mut envelope)))
            }
        })
        .buffered(16);
    tokio::pin!(processed);
    while let Some(events) = processed.next().await {
        for event in events {
            hub.emit(event);
        }
    }
}

async fn process(envelope: Value, http: Http, state: Arc<ListenState>) -> Vec<Event> {
    let event_type = envelope.pointer("/data/eventType").and_then(Value::as_str).unwrap_or("").to_owned();
    if event_type == "conversation.activity" {
        let Some(activity) = envelope.pointer("/data/activity") else {
            tracing::warn!(target: "webex::events", "conversation.activity without an activity; passed through raw");
            return vec![Event::new("event:conversation.activity", envelope["data"].clone())];
        };
        let mut out = Vec::new();
        for mapped in activity::map(activity) {
            match mapped {
                Mapped::Emit { resource, event, data, actor_id } if state.on(resource) => {
                    out.push(state.wrap(resource, event, data, actor_id.map(Value::String)));
                }
                Mapped::MessageCreated { message_id } if state.on("messages") => {
                    match http
                        .service_url("hydra", "messages")
                        .and_then(|base| crate::rest::with_id(&base, "messageId", &message_id))
                    {
                        Ok(url) => match http.send_json::<Value>(HttpRequest::get(url)).await {
                            Ok(message) => {
                                let actor = message.get("personId").cloned();
                                out.push(state.wrap("messages", "created", message, actor));
                            }
                            Err(e) => tracing::warn!(target: "webex::events", "cannot read new message: {e}"),
                        },
                        Err(e) => tracing::warn!(target: "webex::events", "cannot read new message: {e}"),
                    }
                }
                _ => {}
            }
        }
        return out;
    }
    Vec::new()
}

/// Any other event type passes through as `event:<eventType>` with its `data`; the socket's own
/// `mercury.*` events stay inside.
fn passthrough(envelope: &mut Value) -> Vec<Event> {
    let data = envelope.get_mut("data").map(Value::take).unwrap_or(Value::Null);
    let name = match data.get("eventType").and_then(Value::as_str) {
        Some(t) if !t.starts_with("mercury.") => format!("event:{t}"),
        _ => return Vec::new(),
    };
    vec![Event::new(name, data)]
}

/// The live-event rows of the operation table.
pub(crate) fn operations() -> Vec<crate::boundary::Operation> {
    use crate::boundary::operation::call;
    use crate::rest::NoParams;
    let mut ops = Vec::new();
    for (listen, stop, resource) in [
        ("messages.listen", "messages.stopListening", "messages"),
        ("memberships.listen", "memberships.stopListening", "memberships"),
        ("rooms.listen", "rooms.stopListening", "rooms"),
        ("attachmentActions.listen", "attachmentActions.stopListening", "attachmentActions"),
    ] {
        ops.push(call(
            listen,
            "Connect the event socket and emit this resource's events.",
            move |c, _: NoParams| async move { c.listen(resource).await },
        ));
        ops.push(call(
            stop,
            "Stop this resource's events (the socket closes when none are left).",
            move |c, _: NoParams| async move {
                c.stop_listening(resource).await;
                Ok(())
            },
        ));
    }
    ops.push(call("mercury.connect", "Register the device and open the event socket.", |c, _: NoParams| async move {
        c.connect().await
    }));
    ops.push(call("mercury.disconnect", "Close the event socket.", |c, _: NoParams| async move {
        c.mercury().disconnect().await;
        Ok(())
    }));
    ops.push(call(
        "device.register",
        "Register (or reuse) the device; returns its WDM record.",
        |c, _: NoParams| async move {
            c.load_catalog().await?;
            Ok(c.devices().ensure().await?.raw)
        },
    ));
    ops.push(call("device.refresh", "Refresh the device registration.", |c, _: NoParams| async move {
        c.load_catalog().await?;
        Ok(c.devices().refresh().await?.raw)
    }));
    ops.push(call("device.unregister", "Unregister the device.", |c, _: NoParams| async move {
        c.devices().unregister().await
    }));
    ops.push(call(
        "catalog.load",
        "Load the U2C service catalog; returns service name -> URL.",
        |c, _: NoParams| async move { crate::catalog::load(c.http()).await },
    ));
    ops
}
