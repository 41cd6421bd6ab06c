//! App-supplied storage for C: three callbacks the engine calls to read, write and forget its
//! persistent state (credentials and the device registration), so an app can keep them in
//! its own store (a keychain, a database) instead of memory or a directory.

use crate::{UserData, entry, out_arg};
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::sync::Arc;
use webex_core::Error;
use webex_core::storage::{self, AppStore};

/// Hands the engine the value a `get` callback found: JSON text, or NULL for "nothing stored".
/// Call it at most once, before `get` returns; the engine copies the text.
#[allow(non_camel_case_types)]
pub type webex_storage_found_cb = Option<unsafe extern "C" fn(found_ctx: *mut c_void, json: *const c_char)>;

/// The callbacks of an app-supplied store. Keys are short names (`"credentials"`,
/// `"device"`); values are JSON text the app stores as given. The values hold the access and
/// refresh tokens: keep them where secrets belong.
///
/// Threads: `get` runs while `webex_client_new` runs, on its thread: for each key the
/// client's settings read (a store named for both `boundedAdapter` and `unboundedAdapter` is
/// asked for each key once per setting), at every `webex_client_new`. `put` and `remove` run
/// on engine threads (or that thread), one at a time per store, and must not block for long.
/// Each returns 0 on success; any other value is logged as a failure (the engine goes on with
/// what it holds in memory).
///
/// `release` (may be NULL) runs once when the last client using the store is gone and the
/// handle is released: free `user_data` there. It may run on an engine thread, after
/// `webex_client_close` has returned (once the client's last writes are done): an app that
/// unloads the code of its callbacks waits for `release` first.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct webex_storage_callbacks {
    /// Read `key`: call `found(found_ctx, json)` with the stored JSON text, or do not call it
    /// (or call it with NULL) when nothing is stored.
    pub get: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            key: *const c_char,
            found: webex_storage_found_cb,
            found_ctx: *mut c_void,
        ) -> c_int,
    >,
    /// Store `json` under `key` (replacing what was there).
    pub put: Option<unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char, json: *const c_char) -> c_int>,
    /// Forget `key` (forgetting a key that is not there is a success).
    pub remove: Option<unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char) -> c_int>,
    /// Free `user_data`; may be NULL.
    pub release: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

struct CStore {
    get: unsafe extern "C" fn(*mut c_void, *const c_char, webex_storage_found_cb, *mut c_void) -> c_int,
    put: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> c_int,
    remove: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    release: Option<unsafe extern "C" fn(*mut c_void)>,
    user_data: UserData,
}

unsafe extern "C" fn found(ctx: *mut c_void, json: *const c_char) {
    // SAFETY: `ctx` is the `Option<String>` that `CStore::get` passed, alive during its call.
    let slot = unsafe { &mut *ctx.cast::<Option<String>>() };
    if !json.is_null() {
        // SAFETY: a NUL-terminated string per the callback's contract, borrowed for this call.
        *slot = Some(unsafe { CStr::from_ptr(json) }.to_string_lossy().into_owned());
    }
}

fn key_arg(key: &str) -> CString {
    CString::new(key).unwrap_or_default()
}

fn status(what: &str, key: &str, rc: c_int) -> Result<(), String> {
    if rc == 0 { Ok(()) } else { Err(format!("the {what} callback returned {rc} for {key:?}")) }
}

impl AppStore for CStore {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        let mut value: Option<String> = None;
        let k = key_arg(key);
        // SAFETY: the app vouched for its callbacks (header docs); `value` outlives the call.
        let rc = unsafe { (self.get)(self.user_data.get(), k.as_ptr(), Some(found), (&raw mut value).cast()) };
        status("get", key, rc)?;
        Ok(value)
    }
    fn put(&self, key: &str, json: &str) -> Result<(), String> {
        let (k, v) = (key_arg(key), CString::new(json).map_err(|e| e.to_string())?);
        // SAFETY: as above; both strings are borrowed for the call.
        status("put", key, unsafe { (self.put)(self.user_data.get(), k.as_ptr(), v.as_ptr()) })
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        let k = key_arg(key);
        // SAFETY: as above.
        status("remove", key, unsafe { (self.remove)(self.user_data.get(), k.as_ptr()) })
    }
}

impl Drop for CStore {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: the app's release callback, called exactly once, with its own pointer.
            unsafe { release(self.user_data.get()) };
        }
    }
}

/// Registers an app-supplied store. Name it in the config of `webex_client_new` as
/// `{"storage": {"boundedAdapter": {"adapter": <handle>}, "unboundedAdapter": {"adapter": <handle>}}}`
/// (bounded: credentials; unbounded: the device registration; one store may serve both).
///
/// `get`, `put` and `remove` are required; `release` may be NULL. Clients keep the store
/// while they live, so `webex_storage_release` may be called right after `webex_client_new`;
/// `release` runs when both the handle and every client using it are gone.
///
/// Ownership: `callbacks` is copied; `user_data` is passed back to the callbacks untouched
/// and must stay valid until `release` runs. On `WEBEX_OK`, `*out_storage` is a handle to
/// release with `webex_storage_release`; on failure it is 0 and `release` is not called.
///
/// # Safety
/// `callbacks` is NULL or points to a valid `webex_storage_callbacks`; `out_storage` is NULL
/// or valid for one write; the callbacks may be called from engine threads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn webex_storage_new(
    callbacks: *const webex_storage_callbacks,
    user_data: *mut c_void,
    out_storage: *mut u64,
) -> crate::WebexStatus {
    entry(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_arg(out_storage, "out_storage") }?;
        *out = 0;
        // SAFETY: per this function's contract.
        let cb = unsafe { callbacks.as_ref() }.ok_or_else(|| Error::invalid("callbacks is NULL"))?;
        let missing =
            |name: &str| Error::invalid(format!("callbacks->{name} is NULL; get, put and remove are required"));
        let store = CStore {
            get: cb.get.ok_or_else(|| missing("get"))?,
            put: cb.put.ok_or_else(|| missing("put"))?,
            remove: cb.remove.ok_or_else(|| missing("remove"))?,
            release: cb.release,
            user_data: UserData(user_data),
        };
        *out = storage::register_app_store(Arc::new(store));
        Ok(())
    })
}

/// Releases a handle from `webex_storage_new`. Clients created with it keep using the store;
/// its `release` callback runs once they are all closed. A released or unknown handle is an
/// error (`WEBEX_CLOSED`, `WEBEX_INVALID_HANDLE`).
#[unsafe(no_mangle)]
pub extern "C" fn webex_storage_release(storage: u64) -> crate::WebexStatus {
    entry(|| storage::release_app_store(storage))
}
