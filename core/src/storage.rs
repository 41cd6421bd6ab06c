//! Where the engine keeps what must survive a restart (the device registration, later the
//! credentials): `storage.*Adapter` = `"memory"` (default) or `{"dir": "<path>"}`.
//!
//! The directory adapter writes each key to `<dir>/<key>.json` atomically (a temporary file,
//! fsync, rename) with mode 0600, so a crash mid-write leaves the old value, never half a file.
//!
//! An app can supply its own store (a keyring, a database): a binding wraps the app's
//! get/put/delete as an [`AppStore`], registers it ([`register_app_store`]) and the config names
//! the handle: `{"storage": {"boundedAdapter": {"adapter": <handle>}}}`. The engine reads every
//! key it uses ([`KEYS`]) once when a client starts (the official SDK also loads its storage
//! before `ready`) and writes through on every change, so the app's store is never called
//! from inside a request and a slow store cannot stall one.

use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A key-value store for engine state.
pub trait Storage: Send + Sync {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Option<Value>;
    /// Store `value` under `key`.
    fn put(&self, key: &str, value: &Value) -> Result<()>;
    /// Forget `key`.
    fn delete(&self, key: &str) -> Result<()>;
}

/// Every key the engine stores: the credentials (bounded storage) and the device registration
/// (unbounded storage). Values are JSON text.
pub const KEYS: &[&str] = &["credentials", "device"];

/// A store supplied by the app, values as JSON text. Errors are messages for the log; the
/// engine carries on with what it holds in memory.
pub trait AppStore: Send + Sync {
    /// The JSON text under `key`, if any.
    fn get(&self, key: &str) -> std::result::Result<Option<String>, String>;
    /// Store `json` under `key`.
    fn put(&self, key: &str, json: &str) -> std::result::Result<(), String>;
    /// Forget `key`.
    fn delete(&self, key: &str) -> std::result::Result<(), String>;
}

/// The handle kind of app stores.
pub const APP_STORE: &str = "storage";

struct AppStoreSlot(Arc<dyn AppStore>);

/// An app's store called one call at a time, whichever clients and tasks use it (a token
/// renewal and a device refresh can meet): the app writes its store without locking.
struct OneAtATime {
    store: Arc<dyn AppStore>,
    calling: std::sync::Mutex<()>,
}

impl OneAtATime {
    fn call<T>(&self, f: impl FnOnce(&dyn AppStore) -> T) -> T {
        let _one = self.calling.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(self.store.as_ref())
    }
}

impl AppStore for OneAtATime {
    fn get(&self, key: &str) -> std::result::Result<Option<String>, String> {
        self.call(|s| s.get(key))
    }
    fn put(&self, key: &str, json: &str) -> std::result::Result<(), String> {
        self.call(|s| s.put(key, json))
    }
    fn delete(&self, key: &str) -> std::result::Result<(), String> {
        self.call(|s| s.delete(key))
    }
}

/// Register an app's store; the config refers to it as `{"adapter": <handle>}`. Clients keep
/// what they use, so the handle may be released as soon as the clients are created. The
/// engine calls it one call at a time.
pub fn register_app_store(store: Arc<dyn AppStore>) -> crate::boundary::Handle {
    let store: Arc<dyn AppStore> = Arc::new(OneAtATime { store, calling: std::sync::Mutex::new(()) });
    crate::boundary::engine().registry().insert(APP_STORE, Arc::new(AppStoreSlot(store)))
}

/// Release a handle from [`register_app_store`] (clients using the store keep it).
pub fn release_app_store(handle: crate::boundary::Handle) -> Result<()> {
    crate::boundary::engine().registry().remove::<AppStoreSlot>(APP_STORE, handle).map(|_| ())
}

/// The storage an adapter setting names.
pub fn from_setting(setting: Option<&Value>, path: &str) -> Result<Box<dyn Storage>> {
    match setting {
        None | Some(Value::Null) => Ok(Box::new(Memory::default())),
        Some(Value::Object(m)) if m.contains_key("adapter") => {
            let handle = m["adapter"].as_u64().ok_or_else(|| {
                Error::invalid(format!(
                    "{path}.adapter: expected the handle of a registered storage adapter, got {}",
                    m["adapter"]
                ))
            })?;
            let slot = crate::boundary::engine()
                .registry()
                .get::<AppStoreSlot>(APP_STORE, handle)
                .map_err(|e| Error::new(e.code, format!("{path}.adapter: {}", e.message)))?;
            Ok(Box::new(App::load(slot.0.clone())))
        }
        Some(Value::String(s)) if s == "memory" => Ok(Box::new(Memory::default())),
        Some(Value::Object(m)) if m.get("dir").and_then(Value::as_str).is_some() => {
            let dir = PathBuf::from(m["dir"].as_str().unwrap_or_default());
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::invalid(format!("{path}: cannot create directory {}: {e}", dir.display())))?;
            Ok(Box::new(Directory { dir }))
        }
        Some(other) => Err(Error::invalid(format!(
            "{path}: expected \"memory\", {{\"dir\": \"<path>\"}} or an app's adapter, got {other}"
        ))),
    }
}

/// In-process storage (lost at exit).
#[derive(Default)]
pub struct Memory {
    map: Mutex<HashMap<String, Value>>,
}

impl Storage for Memory {
    fn get(&self, key: &str) -> Option<Value> {
        self.map.lock().ok()?.get(key).cloned()
    }
    fn put(&self, key: &str, value: &Value) -> Result<()> {
        if let Ok(mut m) = self.map.lock() {
            m.insert(key.to_owned(), value.clone());
        }
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<()> {
        if let Ok(mut m) = self.map.lock() {
            m.remove(key);
        }
        Ok(())
    }
}

/// An app's store, read once at start and written through.
pub struct App {
    store: Arc<dyn AppStore>,
    loaded: Memory,
    /// Held across the memory's write and the store's, so they end with the same value.
    writing: std::sync::Mutex<()>,
}

impl App {
    fn load(store: Arc<dyn AppStore>) -> App {
        let loaded = Memory::default();
        for key in KEYS {
            match store.get(key) {
                Ok(Some(text)) => match serde_json::from_str::<Value>(&text) {
                    Ok(v) => {
                        let _ = loaded.put(key, &v);
                    }
                    // A corrupt value is dropped: the engine starts afresh and overwrites it.
                    Err(e) => {
                        tracing::warn!(target: "webex::storage", "ignoring the app storage's corrupt {key:?}: {e}")
                    }
                },
                Ok(None) => {}
                Err(e) => tracing::warn!(target: "webex::storage", "the app storage could not read {key:?}: {e}"),
            }
        }
        App { store, loaded, writing: std::sync::Mutex::new(()) }
    }
}

impl Storage for App {
    fn get(&self, key: &str) -> Option<Value> {
        self.loaded.get(key)
    }
    fn put(&self, key: &str, value: &Value) -> Result<()> {
        let _writing = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.loaded.put(key, value)?;
        self.store.put(key, &value.to_string()).map_err(|e| {
            tracing::warn!(target: "webex::storage", "the app storage could not write {key:?}: {e}");
            Error::internal(format!("the app storage could not write {key:?}: {e}"))
        })
    }
    fn delete(&self, key: &str) -> Result<()> {
        let _writing = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.loaded.delete(key)?;
        self.store.delete(key).map_err(|e| {
            tracing::warn!(target: "webex::storage", "the app storage could not delete {key:?}: {e}");
            Error::internal(format!("the app storage could not delete {key:?}: {e}"))
        })
    }
}

/// One JSON file per key in a directory.
pub struct Directory {
    dir: PathBuf,
}

impl Directory {
    fn file(&self, key: &str) -> PathBuf {
        let safe: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        self.dir.join(format!("{safe}.json"))
    }
}

impl Storage for Directory {
    fn get(&self, key: &str) -> Option<Value> {
        let text = std::fs::read(self.file(key)).ok()?;
        match serde_json::from_slice(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(target: "webex::storage", "ignoring corrupt {}: {e}", self.file(key).display());
                None
            }
        }
    }

    fn put(&self, key: &str, value: &Value) -> Result<()> {
        use std::io::Write;
        let target = self.file(key);
        let tmp = target.with_extension(format!("tmp-{}", uuid::Uuid::new_v4()));
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(&tmp)?;
            f.write_all(value.to_string().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::internal(format!("cannot write {}: {e}", target.display()))
        })
    }

    fn delete(&self, key: &str) -> Result<()> {
        match std::fs::remove_file(self.file(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::internal(format!("cannot delete {}: {e}", self.file(key).display()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn directory_round_trip_is_private_and_ignores_corruption() {
        let dir = std::env::temp_dir().join(format!("webex-storage-{}", uuid::Uuid::new_v4()));
        let store = from_setting(Some(&json!({"dir": dir.to_string_lossy()})), "storage.unboundedAdapter").unwrap();
        assert_eq!(store.get("device"), None);
        store.put("device", &json!({"url": "u"})).unwrap();
        assert_eq!(store.get("device"), Some(json!({"url": "u"})));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("device.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join("device.json"), b"{half").unwrap();
        assert_eq!(store.get("device"), None);
        store.delete("device").unwrap();
        store.delete("device").unwrap();
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none(), "no temporary files left");
        std::fs::remove_dir_all(dir).ok();
    }

    /// An app store in memory that records what the engine did.
    #[derive(Default)]
    struct Recorder {
        values: Mutex<HashMap<String, String>>,
        log: Mutex<Vec<String>>,
    }

    impl AppStore for Recorder {
        fn get(&self, key: &str) -> std::result::Result<Option<String>, String> {
            self.log.lock().unwrap().push(format!("get {key}"));
            Ok(self.values.lock().unwrap().get(key).cloned())
        }
        fn put(&self, key: &str, json: &str) -> std::result::Result<(), String> {
            self.log.lock().unwrap().push(format!("put {key}"));
            self.values.lock().unwrap().insert(key.into(), json.into());
            Ok(())
        }
        fn delete(&self, key: &str) -> std::result::Result<(), String> {
            self.log.lock().unwrap().push(format!("delete {key}"));
            self.values.lock().unwrap().remove(key).map(|_| ()).ok_or_else(|| "no such key".to_string())
        }
    }

    #[test]
    fn an_app_store_is_read_once_and_written_through() {
        let app = Arc::new(Recorder::default());
        app.values.lock().unwrap().insert("device".into(), r#"{"url": "u"}"#.into());
        app.values.lock().unwrap().insert("credentials".into(), "{corrupt".into());
        let handle = register_app_store(app.clone());
        let store = from_setting(Some(&json!({"adapter": handle})), "storage.unboundedAdapter").unwrap();
        release_app_store(handle).unwrap();
        assert_eq!(store.get("device"), Some(json!({"url": "u"})));
        assert_eq!(store.get("credentials"), None, "a corrupt value is ignored");
        store.put("credentials", &json!({"access_token": "t"})).unwrap();
        assert_eq!(app.values.lock().unwrap()["credentials"], r#"{"access_token":"t"}"#);
        store.delete("device").unwrap();
        // A failing app store is an error for the caller (the engine logs it), never a panic.
        assert!(store.delete("device").is_err());
        assert_eq!(store.get("device"), None);
        assert_eq!(
            *app.log.lock().unwrap(),
            ["get credentials", "get device", "put credentials", "delete device", "delete device"]
        );
        let released = from_setting(Some(&json!({"adapter": handle})), "storage.boundedAdapter").err().unwrap();
        assert!(released.message.starts_with("storage.boundedAdapter.adapter:"), "{}", released.message);
        let wrong = from_setting(Some(&json!({"adapter": "x"})), "storage.boundedAdapter").err().unwrap();
        assert!(wrong.message.contains("expected the handle of a registered storage adapter"), "{}", wrong.message);
    }

    #[test]
    fn bad_settings_name_the_path() {
        let err = from_setting(Some(&json!({"disk": 1})), "storage.boundedAdapter").err().unwrap();
        assert!(err.message.starts_with("storage.boundedAdapter: expected"), "{}", err.message);
    }
}
