//! Device registration with WDM (protocol.md §4): register once, keep the registration in
//! storage and reuse it on the next start, refresh an ephemeral device at ttl/2 + 60 s,
//! register anew when the cloud forgot it (404), clean up after "excessive device
//! registrations", unregister on close.

use crate::config::Config;
use crate::error::{Error, ErrorCode, Result};
use crate::http::{Http, HttpRequest, Method};
use crate::storage::Storage;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

const STORAGE_KEY: &str = "device";
/// The message WDM answers when a user has too many devices (protocol.md §4.1).
const EXCESSIVE: &str = "excessive device registrations";

/// A registered device.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// The device URL (its identity).
    pub url: String,
    /// Where its Mercury socket lives.
    pub web_socket_url: String,
    /// The whole DTO as WDM sent it.
    pub raw: Value,
}

impl Device {
    fn from_dto(raw: Value) -> Result<Device> {
        let field = |name: &str| raw.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(url), Some(web_socket_url)) = (field("url"), field("webSocketUrl")) else {
            return Err(Error::protocol("WDM answered a device without `url` or `webSocketUrl`"));
        };
        Ok(Device { url, web_socket_url, raw })
    }
}

/// The device of one client.
pub struct Devices {
    http: Http,
    storage: Arc<dyn Storage>,
    body: Value,
    ttl: Option<u64>,
    current: Mutex<Option<Device>>,
}

impl Devices {
    /// Device handling for a client.
    pub fn new(http: Http, storage: Arc<dyn Storage>, config: &Config) -> Devices {
        let ttl = config.bool("device.ephemeral").then(|| config.u64("device.ephemeralDeviceTTL"));
        let mut body = json!({
            "name": "webex-native",
            "deviceType": "WEB",
            "model": "webex-native",
            "localizedModel": "webex-native",
            "systemName": std::env::consts::OS,
            "systemVersion": crate::VERSION,
        });
        if let Some(ttl) = ttl {
            body["ttl"] = json!(ttl);
        }
        Devices { http, storage, body, ttl, current: Mutex::new(None) }
    }

    /// How often an ephemeral device is refreshed (ttl/2 + 60 s), if it is ephemeral.
    pub fn refresh_interval(&self) -> Option<Duration> {
        self.ttl.map(|ttl| Duration::from_secs(ttl / 2 + 60))
    }

    /// The registered device: the one in memory, else the stored one (refreshed, so a device
    /// the cloud forgot is replaced), else a new registration.
    pub async fn ensure(&self) -> Result<Device> {
        let mut current = self.current.lock().await;
        if let Some(d) = current.as_ref() {
            return Ok(d.clone());
        }
        let device = match self.storage.get(STORAGE_KEY).and_then(|v| Device::from_dto(v).ok()) {
            Some(stored) => match self.put(&stored).await {
                Ok(d) => d,
                Err(e) if e.code == ErrorCode::NotFound => self.register().await?,
                Err(e) => return Err(e),
            },
            None => self.register().await?,
        };
        self.persist(&device);
        *current = Some(device.clone());
        Ok(device)
    }

    /// Keep the registration in storage. A store that cannot write is logged and the device is
    /// used from memory: a failing app store never fails the socket (storage.rs).
    fn persist(&self, device: &Device) {
        if let Err(e) = self.storage.put(STORAGE_KEY, &device.raw) {
            tracing::warn!(target: "webex::device", "the device registration is kept in memory only: {}", e.message);
        }
    }

    /// Refresh the registration (PUT); a forgotten device (404) is registered anew.
    pub async fn refresh(&self) -> Result<Device> {
        let mut current = self.current.lock().await;
        let device = match current.as_ref() {
            Some(d) => match self.put(d).await {
                Err(e) if e.code == ErrorCode::NotFound => self.register().await?,
                other => other?,
            },
            None => self.register().await?,
        };
        self.persist(&device);
        *current = Some(device.clone());
        Ok(device)
    }

    /// Unregister (DELETE) and forget the device, here and in storage.
    pub async fn unregister(&self) -> Result<()> {
        let device = self.current.lock().await.take();
        if let Err(e) = self.storage.delete(STORAGE_KEY) {
            tracing::warn!(target: "webex::device", "the stored device registration could not be forgotten: {}", e.message);
        }
        if let Some(d) = device {
            match self.http.send(HttpRequest::new(Method::DELETE, d.url)).await {
                Err(e) if e.code != ErrorCode::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// The current device, if registered.
    pub async fn current(&self) -> Option<Device> {
        self.current.lock().await.clone()
    }

    async fn register(&self) -> Result<Device> {
        let wdm = self.http.service_url("wdm", "devices").map_err(|_| {
            Error::protocol(
                "device: cannot register, the 'wdm' service is not in the catalog (set services.override.wdm)",
            )
        })?;
        let post = || {
            let mut r = HttpRequest::new(Method::POST, wdm.clone()).json(self.body.clone());
            r.query.push(("includeUpstreamServices".into(), "all".into()));
            r
        };
        match self.http.send_json::<Value>(post()).await {
            Ok(dto) => Device::from_dto(dto),
            Err(e) if e.message.to_lowercase().contains(EXCESSIVE) => {
                self.clean_up(&wdm).await?;
                Device::from_dto(self.http.send_json::<Value>(post()).await?)
            }
            Err(e) => Err(e),
        }
    }

    /// After "excessive device registrations": delete the oldest third of our own kind of
    /// devices when there are more than two (as the official SDK does, protocol.md §4.1).
    async fn clean_up(&self, wdm: &str) -> Result<()> {
        let list: Value = self.http.send_json(HttpRequest::get(wdm)).await?;
        let mut ours: Vec<&Value> = list
            .get("devices")
            .and_then(Value::as_array)
            .map(|d| d.iter().filter(|d| d.get("deviceType") == self.body.get("deviceType")).collect())
            .unwrap_or_default();
        if ours.len() <= 2 {
            return Ok(());
        }
        ours.sort_by_key(|d| d.get("modificationTime").and_then(Value::as_str).unwrap_or("").to_owned());
        let remove = ours.len() / 3;
        tracing::warn!(target: "webex::device", "excessive device registrations: deleting the {remove} oldest");
        for d in ours.into_iter().take(remove) {
            if let Some(url) = d.get("url").and_then(Value::as_str) {
                let _ = self.http.send(HttpRequest::new(Method::DELETE, url)).await;
            }
        }
        Ok(())
    }

    async fn put(&self, device: &Device) -> Result<Device> {
        let mut body = device.raw.clone();
        if let Some(map) = body.as_object_mut() {
            for key in ["features", "mediaCluster", "etag"] {
                map.remove(key);
            }
            if let Some(ttl) = self.ttl {
                map.insert("ttl".into(), json!(ttl));
            }
        }
        let mut request = HttpRequest::new(Method::PUT, device.url.clone()).json(body);
        request.query.push(("includeUpstreamServices".into(), "all".into()));
        Device::from_dto(self.http.send_json::<Value>(request).await?)
    }
}
