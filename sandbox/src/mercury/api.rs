//! The Rust test API for devices and Mercury on [`Sandbox`].

use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

use super::{Hub, MercuryClose};
use crate::Sandbox;
use crate::state::{Shared, lock};

/// The uuid of a (non-pending) person by email.
pub(crate) fn person_uuid(st: &Shared, email: &str) -> Option<Uuid> {
    st.store().person_by_email(email).map(|p| p.uuid)
}

/// The device DTOs of a person (empty when unknown).
pub(crate) fn devices_of(st: &Shared, email: &str) -> Vec<Value> {
    let Some(user) = person_uuid(st, email) else { return Vec::new() };
    let org = st.store().org;
    let mut hub = lock(&st.mercury);
    hub.purge();
    hub.devices.iter().filter(|d| d.reg.owner == user).map(|d| d.reg.dto(&hub, org)).collect()
}

/// `(code, reason)` as a close request; code 1005 means "close without a status" (1005 may
/// not appear in a close frame; sending none is how a client gets to see it).
pub(crate) fn close_request(code: u16, reason: &str) -> Option<(u16, String)> {
    (code != 1005).then(|| (code, reason.to_string()))
}

/// The `data` of a synthetic event: the given JSON object with `eventType` first; anything
/// that is not a JSON object is carried as `{"eventType", "value"}`.
pub(crate) fn raw_event_data(event_type: &str, data_json: &str) -> String {
    let mut out = serde_json::Map::new();
    out.insert("eventType".into(), event_type.into());
    match serde_json::from_str::<Value>(data_json) {
        Ok(Value::Object(o)) => {
            for (k, v) in o {
                if k != "eventType" {
                    out.insert(k, v);
                }
            }
        }
        Ok(other) => {
            out.insert("value".into(), other);
        }
        Err(_) => {
            out.insert("value".into(), data_json.into());
        }
    }
    Value::Object(out).to_string()
}

impl Sandbox {
    /// The WDM base, `<base>/wdm/api/v1`.
    pub fn wdm_url(&self) -> String {
        format!("{}/wdm/api/v1", self.shared.base_url)
    }

    /// The device DTOs registered by the user with this email (expired ones are gone).
    pub fn devices(&self, email: &str) -> Vec<Value> {
        devices_of(&self.shared, email)
    }

    /// Moves the sandbox's device clock forward, so ephemeral devices whose ttl runs out in
    /// that time expire now (nothing else is affected).
    pub fn advance_clock(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        lock(&self.shared.mercury).advance(ms);
        // Issued tokens expire on the same clock; sockets they authorised close with 4401.
        self.shared.store().oauth.skew_ms += ms;
        crate::oauth::close_expired_sockets(&self.shared);
    }

    /// The OAuth integration's `(client_id, client_secret)`.
    pub fn oauth_client(&self) -> (String, String) {
        let store = self.shared.store();
        (store.oauth.client_id.clone(), store.oauth.client_secret.clone())
    }

    /// The idbroker base (authorize and token endpoints live under `/idb/oauth2/v1/`).
    pub fn idbroker_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// A guest JWT signed by the sandbox's guest issuer, valid for `ttl`.
    pub fn guest_jwt(&self, subject: &str, name: &str, ttl: std::time::Duration) -> String {
        self.shared.store().oauth.guest_jwt(subject, name, ttl)
    }

    /// Serve the catalog with (`true`, the default) or without the `wdm` service.
    pub fn set_catalog_wdm(&self, enabled: bool) {
        self.shared.catalog_wdm.store(enabled, std::sync::atomic::Ordering::SeqCst);
    }

    /// Live, authorised Mercury sockets of a user.
    pub fn mercury_sockets(&self, email: &str) -> usize {
        person_uuid(&self.shared, email).map(|u| lock(&self.shared.mercury).sockets_of(u)).unwrap_or(0)
    }

    /// A receiver whose value changes whenever a socket is authorised or goes away; await
    /// `changed()` / `wait_for(..)` and re-read [`Sandbox::mercury_sockets`] instead of polling.
    pub fn connections_watch(&self) -> watch::Receiver<u64> {
        self.shared.connections.subscribe()
    }

    /// Closes every authorised socket of a user with `code` and `reason` (1005 = no status);
    /// returns how many were asked to close.
    pub fn mercury_close_user(&self, email: &str, code: u16, reason: &str) -> usize {
        let Some(u) = person_uuid(&self.shared, email) else { return 0 };
        lock(&self.shared.mercury).close_user(u, close_request(code, reason))
    }

    /// Closes every socket of the device with this url (or uuid); returns how many.
    pub fn mercury_close_device(&self, device_url: &str, code: u16, reason: &str) -> usize {
        let Some(d) = Hub::device_of_url(device_url) else { return 0 };
        lock(&self.shared.mercury).close_device(d, close_request(code, reason))
    }

    /// Sends `{"type":"shutdown"}` to the device's authorised sockets; once the device
    /// authorises a new socket, those old ones are closed with 4001. Returns how many got it.
    pub fn mercury_shutdown(&self, device_url: &str) -> usize {
        let Some(d) = Hub::device_of_url(device_url) else { return 0 };
        lock(&self.shared.mercury).shutdown(d)
    }

    /// The next `connections` authorisations of this user get no buffer_state frame.
    pub fn mercury_skip_buffer_state(&self, email: &str, connections: u32) {
        if let Some(u) = person_uuid(&self.shared, email) {
            lock(&self.shared.mercury).skip_buffer_state(u, connections);
        }
    }

    /// Sends `text` verbatim as one text frame to every authorised socket of the user
    /// (outside the sequence numbering); returns how many sockets.
    pub fn mercury_send_raw(&self, email: &str, text: &str) -> usize {
        let Some(u) = person_uuid(&self.shared, email) else { return 0 };
        lock(&self.shared.mercury).send_raw(u, text)
    }

    /// Buffers (and delivers live) `count` events of `event_type` to every device of the
    /// user; `data_json` is the rest of `data` (see `raw_event_data` in this module). Returns how many
    /// devices got them.
    pub fn emit_raw(&self, email: &str, event_type: &str, data_json: &str, count: usize) -> usize {
        let Some(u) = person_uuid(&self.shared, email) else { return 0 };
        let data = raw_event_data(event_type, data_json);
        lock(&self.shared.mercury).publish(&[u], &data, count)
    }

    /// Every close the sandbox sent on a Mercury socket, oldest first (last 10,000).
    pub fn mercury_closes(&self) -> Vec<MercuryClose> {
        lock(&self.shared.mercury).closes()
    }

    /// Message ids the user's current devices acked, oldest first (last 10,000 acks overall).
    pub fn mercury_acks(&self, email: &str) -> Vec<String> {
        let Some(u) = person_uuid(&self.shared, email) else { return Vec::new() };
        let hub = lock(&self.shared.mercury);
        let devices: Vec<Uuid> = hub.devices.iter().filter(|d| d.reg.owner == u).map(|d| d.reg.uuid).collect();
        hub.acks_of(&devices)
    }

    /// Unacknowledged events buffered for a device.
    pub fn mercury_pending(&self, device_url: &str) -> usize {
        Hub::device_of_url(device_url).map(|d| lock(&self.shared.mercury).pending(d)).unwrap_or(0)
    }

    /// Events dropped from a device's full buffer (see `SandboxOptions::mercury_buffer_cap`).
    pub fn mercury_dropped(&self, device_url: &str) -> u64 {
        Hub::device_of_url(device_url).map(|d| lock(&self.shared.mercury).dropped(d)).unwrap_or(0)
    }

    /// Client frames the server ignored (not JSON or not understood), oldest first, each cut
    /// to 200 characters.
    pub fn mercury_ignored_frames(&self) -> Vec<String> {
        lock(&self.shared.mercury).ignored_frames()
    }
}
