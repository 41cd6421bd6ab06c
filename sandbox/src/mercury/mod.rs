//! Mercury: the per-device websocket (protocol.md §5) and the hub that routes events to it.
//!
//! Every event for a device goes into that device's ordered [`Buffer`] and stays there until
//! the client acks its id; the newest authorised socket of the device gets it live, and a
//! socket that (re)connects and authorises gets everything still unacked replayed right after
//! its `mercury.buffer_state` frame. The hub is locked after the store (never the other way
//! round), so events emitted by hydra mutations reach each device in mutation order.

mod api;
pub(crate) mod buffer;
mod controls;
pub(crate) mod socket;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::devices::DeviceReg;
use crate::time::now_ms;
use buffer::{Buffer, Event};

pub(crate) use controls::routes;

/// How many close records, acks and ignored frames the hub remembers (oldest dropped).
const LOG_CAP: usize = 10_000;
/// Reasons longer than this do not fit a close frame (125-byte payload minus the code).
const MAX_REASON: usize = 123;

/// A close frame the sandbox sent (or a close without a status, `code: None`, which the
/// client sees as 1005).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MercuryClose {
    /// The device url of the socket.
    pub device_url: String,
    /// The socket's user, once known (`None` when closed before a valid authorization).
    pub email: Option<String>,
    /// Close code; `None` = closed without a status.
    pub code: Option<u16>,
    /// Close reason.
    pub reason: String,
}

/// What a socket's writer task is asked to send.
#[derive(Debug)]
pub(crate) enum Out {
    BufferState,
    Event(Arc<Event>),
    Pong(serde_json::Value),
    Shutdown,
    Raw(String),
    Close(Option<(u16, String)>),
}

/// A device as the hub holds it: registration plus its event buffer.
#[derive(Debug)]
pub(crate) struct DeviceEntry {
    pub reg: DeviceReg,
    buffer: Buffer,
    /// Sockets told to shut down; closed with 4001 once a new socket of the device authorises.
    shutdown_sockets: Vec<u64>,
}

#[derive(Debug)]
struct Sock {
    id: u64,
    device: Uuid,
    /// `(person uuid, email)` once authorised.
    user: Option<(Uuid, String)>,
    /// Authorisation order; the newest authorised socket of a device gets the events.
    order: u64,
    tx: mpsc::UnboundedSender<Out>,
}

/// Outcome of an authorization frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    Ok,
    /// Close with 4401 and this reason.
    Rejected(&'static str),
    /// The device does not exist (or expired): close without a status.
    NoDevice,
}

/// All live-event state.
#[derive(Debug)]
pub(crate) struct Hub {
    base_url: String,
    ws_base: String,
    pub device_cap: usize,
    buffer_cap: usize,
    pub devices: Vec<DeviceEntry>,
    sockets: Vec<Sock>,
    next_socket: u64,
    next_order: u64,
    skip_buffer_state: HashMap<Uuid, u32>,
    closes: VecDeque<MercuryClose>,
    acks: VecDeque<(Uuid, String)>,
    ignored: VecDeque<String>,
    /// Added to the wall clock for device expiry (test hook: `Sandbox::advance_clock`).
    skew_ms: i64,
}

impl Hub {
    pub fn new(base_url: &str, device_cap: usize, buffer_cap: usize) -> Hub {
        let ws_base = base_url.replacen("http://", "ws://", 1).replacen("https://", "wss://", 1);
        Hub {
            base_url: base_url.to_string(),
            ws_base,
            device_cap,
            buffer_cap,
            devices: Vec::new(),
            sockets: Vec::new(),
            next_socket: 0,
            next_order: 0,
            skip_buffer_state: HashMap::new(),
            closes: VecDeque::new(),
            acks: VecDeque::new(),
            ignored: VecDeque::new(),
            skew_ms: 0,
        }
    }

    /// The hub's clock (ms): the wall clock plus any test skew.
    pub fn now(&self) -> i64 {
        now_ms().saturating_add(self.skew_ms)
    }

    /// Moves the hub's clock forward (device ttls run out without waiting).
    pub fn advance(&mut self, ms: i64) {
        self.skew_ms = self.skew_ms.saturating_add(ms.max(0));
    }

    /// `<base>/wdm/api/v1/devices/<uuid>`.
    pub fn device_url(&self, device: Uuid) -> String {
        format!("{}/wdm/api/v1/devices/{device}", self.base_url)
    }

    /// `ws://host:port/mercury/api/v1/apps/wx2/registrations/<uuid>/messages`.
    pub fn websocket_url(&self, device: Uuid) -> String {
        format!("{}/mercury/api/v1/apps/wx2/registrations/{device}/messages", self.ws_base)
    }

    /// The device uuid of a device url (or of a bare uuid).
    pub fn device_of_url(url: &str) -> Option<Uuid> {
        let url = url.trim().trim_end_matches('/');
        let last = url.rsplit('/').next().unwrap_or(url);
        let last = last.split(['?', '#']).next().unwrap_or(last);
        Uuid::parse_str(last).ok()
    }

    /// Forgets devices whose ttl ran out (expiry is lazy: checked on every access) and
    /// closes their sockets without a status.
    pub fn purge(&mut self) {
        let now = self.now();
        let expired: Vec<Uuid> = self.devices.iter().filter(|d| d.reg.expired(now)).map(|d| d.reg.uuid).collect();
        for d in expired {
            self.remove_device(d);
        }
    }

    /// A live device.
    pub fn device(&self, uuid: Uuid) -> Option<&DeviceEntry> {
        self.devices.iter().find(|d| d.reg.uuid == uuid)
    }

    /// A live device, mutable.
    pub fn device_mut(&mut self, uuid: Uuid) -> Option<&mut DeviceEntry> {
        self.devices.iter_mut().find(|d| d.reg.uuid == uuid)
    }

    /// Adds a registration.
    pub fn add_device(&mut self, reg: DeviceReg) {
        let buffer = Buffer::new(self.buffer_cap);
        self.devices.push(DeviceEntry { reg, buffer, shutdown_sockets: Vec::new() });
    }

    /// Removes a device and closes its sockets without a status: the JS client then
    /// refreshes its device, gets 404 and registers a new one (protocol.md §4.3, §5.7; the
    /// real service's close code here is unknown: guess).
    pub fn remove_device(&mut self, uuid: Uuid) -> bool {
        let before = self.devices.len();
        self.devices.retain(|d| d.reg.uuid != uuid);
        let ids: Vec<u64> = self.sockets.iter().filter(|s| s.device == uuid).map(|s| s.id).collect();
        for id in ids {
            self.close_socket(id, None);
        }
        self.devices.len() != before
    }

    /// How many unacked events a device holds.
    pub fn pending(&self, device: Uuid) -> usize {
        self.device(device).map(|d| d.buffer.len()).unwrap_or(0)
    }

    /// How many events a device's full buffer dropped.
    pub fn dropped(&self, device: Uuid) -> u64 {
        self.device(device).map(|d| d.buffer.dropped()).unwrap_or(0)
    }

    // ---- sockets ----

    /// Registers a freshly upgraded, not yet authorised socket.
    pub fn open_socket(&mut self, device: Uuid) -> (u64, mpsc::UnboundedReceiver<Out>, mpsc::UnboundedSender<Out>) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.next_socket += 1;
        let id = self.next_socket;
        self.sockets.push(Sock { id, device, user: None, order: 0, tx: tx.clone() });
        (id, rx, tx)
    }

    /// Handles a valid-looking authorization frame from `user`.
    pub fn authorise(&mut self, sock: u64, user: Uuid, email: &str, buffer_states: bool) -> Auth {
        self.purge();
        let Some(device) = self.sockets.iter().find(|s| s.id == sock).map(|s| s.device) else {
            return Auth::NoDevice;
        };
        let Some(owner) = self.device(device).map(|d| d.reg.owner) else {
            return Auth::NoDevice;
        };
        if owner != user {
            return Auth::Rejected("Unauthorized: the device belongs to another user");
        }
        self.next_order += 1;
        let order = self.next_order;
        let skip = match self.skip_buffer_state.get_mut(&user) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        };
        let Some(s) = self.sockets.iter_mut().find(|s| s.id == sock) else { return Auth::NoDevice };
        s.user = Some((user, email.to_string()));
        s.order = order;
        let tx = s.tx.clone();
        if buffer_states && !skip {
            let _ = tx.send(Out::BufferState);
        }
        let mut old = Vec::new();
        if let Some(d) = self.device_mut(device) {
            for ev in d.buffer.iter() {
                let _ = tx.send(Out::Event(ev.clone()));
            }
            old = std::mem::take(&mut d.shutdown_sockets);
        }
        for id in old.into_iter().filter(|id| *id != sock) {
            self.close_socket(id, Some((4001, "replaced during shutdown".into())));
        }
        Auth::Ok
    }

    /// Forgets a socket whose connection ended. If it was the device's event socket and an
    /// older authorised socket of the device is still open, that one takes over and gets the
    /// unacked events replayed (at-least-once: it may see some twice).
    pub fn unregister(&mut self, sock: u64) {
        let Some(pos) = self.sockets.iter().position(|s| s.id == sock) else { return };
        let s = self.sockets.remove(pos);
        if s.user.is_none() {
            return;
        }
        let was_active = self.active(s.device).is_none_or(|a| a.order < s.order);
        if was_active && let (Some(next), Some(d)) = (self.active(s.device), self.device(s.device)) {
            for ev in d.buffer.iter() {
                let _ = next.tx.send(Out::Event(ev.clone()));
            }
        }
    }

    /// The newest authorised socket of a device.
    fn active(&self, device: Uuid) -> Option<&Sock> {
        self.sockets.iter().filter(|s| s.device == device && s.user.is_some()).max_by_key(|s| s.order)
    }

    /// Queues a close on a socket and records it.
    pub fn close_socket(&mut self, sock: u64, close: Option<(u16, String)>) -> bool {
        let Some(s) = self.sockets.iter().find(|s| s.id == sock) else { return false };
        let close = close.map(|(code, reason)| (code, truncate(reason)));
        let record = MercuryClose {
            device_url: self.device_url(s.device),
            email: s.user.as_ref().map(|u| u.1.clone()),
            code: close.as_ref().map(|c| c.0),
            reason: close.as_ref().map(|c| c.1.clone()).unwrap_or_default(),
        };
        let sent = s.tx.send(Out::Close(close)).is_ok();
        push_capped(&mut self.closes, record);
        sent
    }

    /// Records an ack from a socket.
    pub fn ack(&mut self, sock: u64, id: &str) {
        let Some(device) = self.sockets.iter().find(|s| s.id == sock).map(|s| s.device) else { return };
        if let Some(d) = self.device_mut(device) {
            d.buffer.ack(id);
        }
        push_capped(&mut self.acks, (device, id.to_string()));
    }

    /// Records a client frame that was ignored (not JSON, or not understood).
    pub fn ignored(&mut self, text: &str) {
        let mut t: String = text.chars().take(200).collect();
        if t.len() < text.len() {
            t.push('…');
        }
        push_capped(&mut self.ignored, t);
    }

    // ---- events ----

    /// Whether any of `people` has a registered device (an event for them would go somewhere).
    pub fn has_devices_of(&self, people: &[Uuid]) -> bool {
        self.devices_of(people).next().is_some()
    }

    /// The devices registered by any of `people`.
    fn devices_of<'a>(&'a self, people: &'a [Uuid]) -> impl Iterator<Item = &'a DeviceEntry> + 'a {
        self.devices.iter().filter(|d| people.contains(&d.reg.owner))
    }

    /// Buffers `count` copies of an event (each with its own id) for every device of the
    /// given people, delivering live where a socket is authorised. Returns how many devices
    /// received them.
    pub fn publish(&mut self, people: &[Uuid], data: &str, count: usize) -> usize {
        self.purge();
        let now = now_ms();
        let targets: Vec<Uuid> = self.devices_of(people).map(|d| d.reg.uuid).collect();
        if count == 0 || targets.is_empty() {
            return targets.len();
        }
        let events: Vec<Arc<Event>> = (0..count).map(|_| Arc::new(Event::new(data.to_string(), now))).collect();
        for device in &targets {
            let tx = self.active(*device).map(|s| s.tx.clone());
            if let Some(d) = self.device_mut(*device) {
                for ev in &events {
                    d.buffer.push(ev.clone());
                    if let Some(tx) = &tx {
                        let _ = tx.send(Out::Event(ev.clone()));
                    }
                }
            }
        }
        targets.len()
    }

    // ---- controls ----

    /// Authorised sockets of a person.
    pub fn sockets_of(&self, user: Uuid) -> usize {
        self.sockets.iter().filter(|s| s.user.as_ref().is_some_and(|u| u.0 == user)).count()
    }

    fn socket_ids(&self, f: impl Fn(&Sock) -> bool) -> Vec<u64> {
        self.sockets.iter().filter(|s| f(s)).map(|s| s.id).collect()
    }

    /// Closes the authorised sockets of a person; returns how many.
    pub fn close_user(&mut self, user: Uuid, close: Option<(u16, String)>) -> usize {
        let ids = self.socket_ids(|s| s.user.as_ref().is_some_and(|u| u.0 == user));
        ids.into_iter().filter(|id| self.close_socket(*id, close.clone())).count()
    }

    /// Closes every socket of a device (authorised or not); returns how many.
    pub fn close_device(&mut self, device: Uuid, close: Option<(u16, String)>) -> usize {
        let ids = self.socket_ids(|s| s.device == device);
        ids.into_iter().filter(|id| self.close_socket(*id, close.clone())).count()
    }

    /// Closes every socket (server stopping).
    pub fn close_all(&mut self, close: Option<(u16, String)>) {
        for id in self.socket_ids(|_| true) {
            self.close_socket(id, close.clone());
        }
    }

    /// Sends `{"type":"shutdown"}` to the authorised sockets of a device and marks them for a
    /// 4001 close once a new socket of the device authorises; returns how many.
    pub fn shutdown(&mut self, device: Uuid) -> usize {
        let ids = self.socket_ids(|s| s.device == device && s.user.is_some());
        let mut sent = 0;
        for id in &ids {
            if self.sockets.iter().find(|s| s.id == *id).is_some_and(|s| s.tx.send(Out::Shutdown).is_ok()) {
                sent += 1;
            }
        }
        if let Some(d) = self.device_mut(device) {
            d.shutdown_sockets.extend(ids);
        }
        sent
    }

    /// The next `n` authorisations of a person skip the buffer_state frame.
    pub fn skip_buffer_state(&mut self, user: Uuid, n: u32) {
        self.skip_buffer_state.insert(user, n);
    }

    /// Sends a raw text frame to the authorised sockets of a person; returns how many.
    pub fn send_raw(&mut self, user: Uuid, text: &str) -> usize {
        self.sockets
            .iter()
            .filter(|s| s.user.as_ref().is_some_and(|u| u.0 == user))
            .filter(|s| s.tx.send(Out::Raw(text.to_string())).is_ok())
            .count()
    }

    pub fn closes(&self) -> Vec<MercuryClose> {
        self.closes.iter().cloned().collect()
    }

    /// Acked ids of the given devices, oldest first.
    pub fn acks_of(&self, devices: &[Uuid]) -> Vec<String> {
        self.acks.iter().filter(|(d, _)| devices.contains(d)).map(|(_, id)| id.clone()).collect()
    }

    pub fn ignored_frames(&self) -> Vec<String> {
        self.ignored.iter().cloned().collect()
    }
}

fn push_capped<T>(q: &mut VecDeque<T>, v: T) {
    if q.len() >= LOG_CAP {
        q.pop_front();
    }
    q.push_back(v);
}

/// Cuts a close reason to what fits in a close frame, on a character boundary.
fn truncate(mut reason: String) -> String {
    if reason.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}
