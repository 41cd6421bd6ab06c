//! Handles: u64 numbers for engine objects. 0 is never valid, numbers are never reused, a
//! lookup checks the kind, so a stale or wrong-kind handle is an error and never UB.

use crate::error::{Error, ErrorCode, Result};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A handle as bindings see it.
pub type Handle = u64;

struct Entry {
    kind: &'static str,
    object: Arc<dyn Any + Send + Sync>,
}

/// The table of live objects.
#[derive(Default)]
pub struct Registry {
    next: AtomicU64,
    entries: Mutex<HashMap<Handle, Entry>>,
}

impl Registry {
    /// Register an object of `kind`; returns its new handle.
    pub fn insert<T: Any + Send + Sync>(&self, kind: &'static str, object: Arc<T>) -> Handle {
        let handle = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut map) = self.entries.lock() {
            map.insert(handle, Entry { kind, object });
        }
        handle
    }

    /// The object behind `handle`, which must be of `kind`.
    pub fn get<T: Any + Send + Sync>(&self, kind: &'static str, handle: Handle) -> Result<Arc<T>> {
        let map = self.entries.lock().map_err(|_| Error::internal("handle registry poisoned"))?;
        let entry = map.get(&handle).ok_or_else(|| missing(kind, handle, self.next.load(Ordering::Relaxed)))?;
        if entry.kind != kind {
            return Err(Error::new(
                ErrorCode::InvalidHandle,
                format!("handle {handle} is a {}, not a {kind}", entry.kind),
            ));
        }
        entry.object.clone().downcast::<T>().map_err(|_| Error::internal(format!("handle {handle}: type mismatch")))
    }

    /// Remove `handle` (which must be of `kind`) and return its object.
    pub fn remove<T: Any + Send + Sync>(&self, kind: &'static str, handle: Handle) -> Result<Arc<T>> {
        let object = self.get::<T>(kind, handle)?;
        if let Ok(mut map) = self.entries.lock() {
            map.remove(&handle);
        }
        Ok(object)
    }
}

fn missing(kind: &str, handle: Handle, issued: u64) -> Error {
    let message = if handle == 0 {
        format!("handle 0 is never a valid {kind}; create one first")
    } else if handle <= issued {
        format!("{kind} handle {handle} was closed; create a new {kind}")
    } else {
        format!("{kind} handle {handle} was never issued")
    };
    let code = if handle != 0 && handle <= issued { ErrorCode::Closed } else { ErrorCode::InvalidHandle };
    Error::new(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_staleness_and_zero() {
        let r = Registry::default();
        let a = r.insert("client", Arc::new(5u32));
        let b = r.insert("sandbox", Arc::new("s"));
        assert_ne!(a, 0);
        assert_eq!(*r.get::<u32>("client", a).unwrap(), 5);
        assert_eq!(r.get::<u32>("client", b).unwrap_err().message, format!("handle {b} is a sandbox, not a client"));
        assert_eq!(r.get::<u32>("client", 0).unwrap_err().code, ErrorCode::InvalidHandle);
        assert_eq!(r.get::<u32>("client", 999).unwrap_err().code, ErrorCode::InvalidHandle);
        r.remove::<u32>("client", a).unwrap();
        assert_eq!(r.get::<u32>("client", a).unwrap_err().code, ErrorCode::Closed);
        let c = r.insert("client", Arc::new(6u32));
        assert!(c > b, "handles are never reused");
    }
}
