//! Where the engine keeps what must survive a restart (the device registration, later the
//! credentials): `storage.*Adapter` = `"memory"` (default) or `{"dir": "<path>"}`.
//!
//! The directory adapter writes each key to `<dir>/<key>.json` atomically (a temporary file,
//! fsync, rename) with mode 0600, so a crash mid-write leaves the old value, never half a file.

use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// A key-value store for engine state.
pub trait Storage: Send + Sync {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Option<Value>;
    /// Store `value` under `key`.
    fn put(&self, key: &str, value: &Value) -> Result<()>;
    /// Forget `key`.
    fn delete(&self, key: &str) -> Result<()>;
}

/// The storage an adapter setting names.
pub fn from_setting(setting: Option<&Value>, path: &str) -> Result<Box<dyn Storage>> {
    match setting {
        None | Some(Value::Null) => Ok(Box::new(Memory::default())),
        Some(Value::String(s)) if s == "memory" => Ok(Box::new(Memory::default())),
        Some(Value::Object(m)) if m.get("dir").and_then(Value::as_str).is_some() => {
            let dir = PathBuf::from(m["dir"].as_str().unwrap_or_default());
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::invalid(format!("{path}: cannot create directory {}: {e}", dir.display())))?;
            Ok(Box::new(Directory { dir }))
        }
        Some(other) => {
            Err(Error::invalid(format!("{path}: expected \"memory\" or {{\"dir\": \"<path>\"}}, got {other}")))
        }
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

    #[test]
    fn bad_settings_name_the_path() {
        let err = from_setting(Some(&json!({"disk": 1})), "storage.boundedAdapter").err().unwrap();
        assert!(err.message.starts_with("storage.boundedAdapter: expected"), "{}", err.message);
    }
}
