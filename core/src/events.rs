//! Public events, held until someone listens (design.md "Events are held until a listener is
//! attached, never dropped").

use serde::Serialize;
use serde_json::Value;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// A public event: `{type, data}` (e.g. `ready`, `messages:created`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// The event name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its payload.
    pub data: Value,
}

impl Event {
    /// An event.
    pub fn new(kind: impl Into<String>, data: Value) -> Event {
        Event { kind: kind.into(), data }
    }

    /// `{"type", "data"}` as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Fan-out of events to subscribers; events emitted while nobody listens are kept and handed
/// to the first subscriber.
#[derive(Default)]
pub struct EventHub {
    state: Mutex<HubState>,
}

#[derive(Default)]
struct HubState {
    held: Vec<Event>,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
    closed: bool,
}

impl EventHub {
    /// Emit an event to every live subscriber (or hold it).
    pub fn emit(&self, event: Event) {
        let Ok(mut s) = self.state.lock() else { return };
        if s.closed {
            return;
        }
        s.subscribers.retain(|tx| !tx.is_closed());
        if s.subscribers.is_empty() {
            s.held.push(event);
            return;
        }
        // Clone for all but the last subscriber: the usual single listener costs no copy.
        let last = s.subscribers.len() - 1;
        for tx in &s.subscribers[..last] {
            let _ = tx.send(event.clone());
        }
        let _ = s.subscribers[last].send(event);
    }

    /// A new subscriber; the first one after a quiet spell receives what was held.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut s) = self.state.lock() {
            for event in s.held.drain(..) {
                let _ = tx.send(event);
            }
            if !s.closed {
                s.subscribers.push(tx);
            }
        }
        rx
    }

    /// Stop: subscribers see the end of their stream.
    pub fn close(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.closed = true;
            s.subscribers.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn held_until_someone_listens_then_fanned_out() {
        let hub = EventHub::default();
        hub.emit(Event::new("ready", Value::Null));
        let mut first = hub.subscribe();
        assert_eq!(first.recv().await.unwrap().kind, "ready");
        let mut second = hub.subscribe();
        hub.emit(Event::new("online", Value::Null));
        assert_eq!(first.recv().await.unwrap().kind, "online");
        assert_eq!(second.recv().await.unwrap().kind, "online");
        hub.close();
        assert!(first.recv().await.is_none());
    }
}
