//! A device's ordered buffer of undelivered-or-unacknowledged events, and the text of the
//! frames the server sends (protocol.md §5.2-§5.3).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How many unacknowledged events a device keeps by default; beyond it the oldest is dropped
/// (the real service's limit is unknown: guess, large enough that tests never hit it by
/// accident).
pub const DEFAULT_BUFFER_CAP: usize = 100_000;

/// One event as pushed to a device; the envelope's `sequenceNumber` and `wsWriteTimestamp`
/// are per socket and added when it is written.
#[derive(Debug)]
pub(crate) struct Event {
    /// Envelope `id` (what the client acks).
    pub id: String,
    /// Envelope `timestamp` (ms).
    pub timestamp: i64,
    /// Envelope `trackingId`.
    pub tracking_id: String,
    /// The `data` object, already serialised (done once however many devices receive it).
    pub data: String,
}

impl Event {
    /// A new event with a fresh id.
    pub fn new(data: String, timestamp: i64) -> Event {
        let id = uuid::Uuid::new_v4().to_string();
        let tracking_id = format!("SANDBOX-MERCURY_{id}");
        Event { id, timestamp, tracking_id, data }
    }

    /// The envelope text as a socket sends it.
    pub fn frame(&self, seq: u64, now: i64) -> String {
        // `id` and `trackingId` are made of uuid characters and a fixed prefix: no escaping.
        format!(
            "{{\"id\":\"{}\",\"data\":{},\"timestamp\":{},\"trackingId\":\"{}\",\"alertType\":\"none\",\
             \"headers\":{{}},\"sequenceNumber\":{seq},\"filterMessage\":false,\"wsWriteTimestamp\":{now}}}",
            self.id, self.data, self.timestamp, self.tracking_id
        )
    }
}

/// The `mercury.buffer_state` frame that opens an authorised connection.
pub(crate) fn buffer_state_frame(seq: u64, now: i64) -> String {
    let id = uuid::Uuid::new_v4();
    format!(
        "{{\"id\":\"{id}\",\"data\":{{\"eventType\":\"mercury.buffer_state\"}},\"timestamp\":{now},\
         \"trackingId\":\"SANDBOX-MERCURY_{id}\",\"sequenceNumber\":{seq}}}"
    )
}

/// The answer to a client `ping`, echoing its id verbatim (any JSON value).
pub(crate) fn pong_frame(id: &serde_json::Value, seq: u64) -> String {
    format!("{{\"type\":\"pong\",\"id\":{id},\"sequenceNumber\":{seq}}}")
}

/// "Server going away" (NPM 3.12.0, protocol.md §5.3). It carries a `sequenceNumber` like
/// every other JSON frame so the client's +1 check holds (guess: the real frame's fields
/// beyond `type` are unknown).
pub(crate) fn shutdown_frame(seq: u64) -> String {
    format!("{{\"type\":\"shutdown\",\"sequenceNumber\":{seq}}}")
}

/// Ordered, ack-addressable event storage.
#[derive(Debug)]
pub(crate) struct Buffer {
    cap: usize,
    next: u64,
    events: BTreeMap<u64, Arc<Event>>,
    index: HashMap<String, u64>,
    dropped: u64,
}

impl Buffer {
    /// An empty buffer keeping at most `cap` events (at least 1).
    pub fn new(cap: usize) -> Buffer {
        Buffer { cap: cap.max(1), next: 0, events: BTreeMap::new(), index: HashMap::new(), dropped: 0 }
    }

    /// Appends an event, dropping the oldest beyond the cap.
    pub fn push(&mut self, ev: Arc<Event>) {
        while self.events.len() >= self.cap {
            match self.events.pop_first() {
                Some((_, old)) => {
                    self.index.remove(&old.id);
                    self.dropped += 1;
                }
                None => break,
            }
        }
        self.next += 1;
        self.index.insert(ev.id.clone(), self.next);
        self.events.insert(self.next, ev);
    }

    /// Forgets an acknowledged event; false when the id is not buffered.
    pub fn ack(&mut self, id: &str) -> bool {
        match self.index.remove(id) {
            Some(n) => self.events.remove(&n).is_some(),
            None => false,
        }
    }

    /// The unacknowledged events, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Event>> {
        self.events.values()
    }

    /// How many events are waiting for an ack.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// How many events were dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_and_cap_keep_order() {
        let mut b = Buffer::new(3);
        let evs: Vec<Arc<Event>> = (0..4).map(|i| Arc::new(Event::new(format!("{{\"n\":{i}}}"), 0))).collect();
        for e in &evs {
            b.push(e.clone());
        }
        assert_eq!(b.dropped(), 1);
        assert!(!b.ack(&evs[0].id));
        assert!(b.ack(&evs[2].id));
        let left: Vec<&str> = b.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(left, ["{\"n\":1}", "{\"n\":3}"]);
        let f: serde_json::Value = serde_json::from_str(&evs[1].frame(7, 9)).unwrap();
        assert_eq!(f["sequenceNumber"], 7);
        assert_eq!(f["data"]["n"], 1);
        let p: serde_json::Value = serde_json::from_str(&pong_frame(&serde_json::json!("a\"b"), 2)).unwrap();
        assert_eq!(p["id"], "a\"b");
    }
}
