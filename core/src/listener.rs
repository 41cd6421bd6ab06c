//! From socket envelopes to public events: drop duplicates, map activities, read new messages
//! through REST (up to 16 at a time, emitted in arrival order), wrap each in the webhook-shaped
//! envelope of the official SDK (protocol.md §3.5), pass unknown event types through raw.

use crate::activity::{self, Mapped};
use crate::events::{Event, EventHub};
use crate::http::{Http, HttpRequest};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
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
        if let Ok(mut e) = self.envelope.lock()
            && e.is_null()
        {
            *e = json!({
                "createdBy": me.get("id"),
                "orgId": me.get("orgId"),
                "ownedBy": "creator",
                "status": "active",
                "created": crate::time::now_iso(),
            });
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

/// Remembers the last `capacity` ids. Activity ids are uuids, kept as 128-bit numbers so the hot
/// path allocates nothing; any other id is kept as text.
struct Seen {
    order: VecDeque<SeenId>,
    set: HashSet<SeenId>,
    capacity: usize,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum SeenId {
    Uuid(u128),
    Text(Arc<str>),
}

impl Seen {
    fn new(capacity: usize) -> Seen {
        Seen { order: VecDeque::with_capacity(1024), set: HashSet::with_capacity(1024), capacity }
    }

    fn first_time(&mut self, id: &str) -> bool {
        // Only the canonical hyphenated form is folded to a number, so two different strings
        // never become one id.
        let key = match uuid::Uuid::try_parse(id) {
            Ok(u) if id.len() == 36 && u.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()) == id => {
                SeenId::Uuid(u.as_u128())
            }
            _ => SeenId::Text(Arc::from(id)),
        };
        if self.set.contains(&key) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(key.clone());
        self.set.insert(key);
        true
    }
}

/// At most this many activities wait for their REST read at once.
const READS_IN_FLIGHT: usize = 16;

/// Run until the socket side hangs up: envelopes in, public events out, in arrival order.
pub async fn run(
    mut envelopes: mpsc::UnboundedReceiver<Value>,
    http: Http,
    hub: Arc<EventHub>,
    state: Arc<ListenState>,
    meetings: Arc<crate::meetings::Meetings>,
    verbose_meeting_events: bool,
) {
    let mut seen = Seen::new(100_000);
    // Activities that need a REST read queue here, and so does anything arriving behind them
    // (order is kept); while the queue is empty a raw event is emitted at once, costing no
    // future of its own.
    let mut queue: FuturesOrdered<futures_util::future::BoxFuture<'static, Vec<Event>>> = FuturesOrdered::new();
    let mut open = true;
    while open || !queue.is_empty() {
        tokio::select! {
            biased;
            Some(events) = queue.next(), if !queue.is_empty() => {
                for event in events {
                    hub.emit(event);
                }
            }
            envelope = envelopes.recv(), if open && queue.len() < READS_IN_FLIGHT => {
                let Some(first) = envelope else {
                    open = false;
                    continue;
                };
                // Take whatever else is already waiting, so a burst costs one wake-up.
                let mut next = Some(first);
                while let Some(mut envelope) = next.take() {
                    let id = envelope.pointer("/data/activity/id").or_else(|| envelope.get("id")).and_then(Value::as_str);
                    if id.is_some_and(|id| !seen.first_time(id)) {
                        tracing::debug!(target: "webex::events", "dropping a duplicate event");
                    } else if envelope.pointer("/data/eventType").and_then(Value::as_str) == Some("conversation.activity") {
                        queue.push_back(Box::pin(process(envelope, http.clone(), state.clone())));
                    } else if queue.is_empty() {
                        meeting_event(&envelope, &meetings, verbose_meeting_events);
                        for event in passthrough(&mut envelope) {
                            hub.emit(event);
                        }
                    } else {
                        meeting_event(&envelope, &meetings, verbose_meeting_events);
                        queue.push_back(Box::pin(futures_util::future::ready(passthrough(&mut envelope))));
                    }
                    if queue.len() < READS_IN_FLIGHT {
                        next = envelopes.try_recv().ok();
                    }
                }
            }
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
                        Ok(url) => match read_message(&http, url).await {
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

/// Meeting events (`locus.*`) go to the client's meetings (they still pass through raw, for
/// apps that follow Locus themselves), logged whole at `info` when
/// `meetings.logging.verboseEvents` is on (the default, as in the official SDK), else only
/// their type at `debug`. The log layer redacts secrets from the text.
fn meeting_event(envelope: &Value, meetings: &crate::meetings::Meetings, verbose: bool) {
    let Some(kind) = envelope.pointer("/data/eventType").and_then(Value::as_str) else { return };
    if !kind.starts_with("locus.") {
        return;
    }
    meetings.on_locus_event(&envelope["data"]);
    if verbose {
        tracing::info!(target: "webex::meetings", "meeting event {kind}: {}", envelope["data"]);
    } else {
        tracing::debug!(target: "webex::meetings", "meeting event {kind}");
    }
}

/// Read a new message. The pipeline already retried; a read that still fails for a passing
/// reason (rate limits, a server error, the network) is tried again for a while rather than
/// dropping the event: events queued behind it wait, so order is kept and nothing is lost to
/// a burst of 429s. A message that is gone (deleted, no access) is not retried.
async fn read_message(http: &Http, url: String) -> crate::error::Result<Value> {
    use crate::error::ErrorCode;
    let mut wait = std::time::Duration::from_millis(500);
    for attempt in 1.. {
        match http.send_json::<Value>(HttpRequest::get(url.clone())).await {
            Err(e)
                if attempt < READ_ATTEMPTS
                    && matches!(
                        e.code,
                        ErrorCode::RateLimited | ErrorCode::Server | ErrorCode::Network | ErrorCode::Timeout
                    ) =>
            {
                let pause = e.retry_after.unwrap_or(wait);
                tracing::debug!(target: "webex::events", "reading a new message failed ({}); again in {pause:?}", e.code.as_str());
                tokio::time::sleep(pause).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(8));
            }
            other => return other,
        }
    }
    unreachable!("the loop returns")
}

/// How often a new message is read before its event is given up (each read already carries
/// the pipeline's own retries).
const READ_ATTEMPTS: u32 = 8;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_ids_are_exact_and_bounded() {
        let mut seen = Seen::new(2);
        let a = "0b3c5f0e-8d7a-4a39-9a3a-5b0f6c1d2e3f";
        assert!(seen.first_time(a));
        assert!(!seen.first_time(a));
        // Another spelling of the same uuid is another id: only the exact text is a duplicate.
        assert!(seen.first_time(&a.to_uppercase()));
        assert!(seen.first_time("not-a-uuid"));
        assert!(!seen.first_time("not-a-uuid"));
        // The oldest id has been forgotten (capacity 2).
        assert!(seen.first_time(a));
    }
}
