//! An app's storage adapter from JS: `{get(key), put(key, json), delete(key)}` as the engine's
//! [`AppStore`].
//!
//! JS functions run only on the JS thread, and the engine writes from its own threads, so the
//! adapter is used in two ways. `registerStorage` runs on the JS thread: it reads every key the
//! engine stores ([`KEYS`]) right there with the adapter's synchronous `get`, and the engine's
//! reads (once, when a client starts) are answered from those values. Writes (`put`, `delete`)
//! go through one weak thread-safe function: fire and forget, in the engine's order (puts and
//! deletes share its queue), never keeping the process alive. What the adapter throws, or a
//! Promise it returns that rejects, is a warning in the engine log (`webex::storage`), never a
//! crash.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use webex_core::storage::{self, AppStore, KEYS};

/// One write as the dispatcher's arguments: `("put", key, json)` or `("delete", key, null)`.
type WriteArgs = FnArgs<(&'static str, String, Option<String>)>;
/// The dispatcher as a thread-safe function: weak, never callee-handled (it never throws).
type WriteFn = ThreadsafeFunction<WriteArgs, (), WriteArgs, Status, false, true, 0>;
/// An adapter's method bound to the adapter (`this` is the adapter, as when JS calls it).
type Method<Args> = FunctionRef<Args, Unknown<'static>>;

/// The adapter as the engine sees it.
struct JsStore {
    /// What `get` answered for each key at registration (an error: it threw), kept current by
    /// the writes, so a client created later from the same handle sees them.
    values: Mutex<HashMap<String, std::result::Result<Option<String>, String>>>,
    write: WriteFn,
}

impl JsStore {
    fn remember(&self, key: &str, value: Option<&str>) {
        if let Ok(mut values) = self.values.lock() {
            values.insert(key.to_owned(), Ok(value.map(str::to_owned)));
        }
    }

    fn send(&self, op: &'static str, key: &str, json: Option<&str>) -> std::result::Result<(), String> {
        match self
            .write
            .call(FnArgs::from((op, key.to_owned(), json.map(str::to_owned))), ThreadsafeFunctionCallMode::NonBlocking)
        {
            Status::Ok => Ok(()),
            status => Err(format!("the JS adapter's {op} cannot be called any more ({status})")),
        }
    }
}

impl AppStore for JsStore {
    fn get(&self, key: &str) -> std::result::Result<Option<String>, String> {
        let values = self.values.lock().map_err(|_| "storage adapter lock poisoned".to_owned())?;
        values.get(key).cloned().unwrap_or(Ok(None))
    }

    fn put(&self, key: &str, json: &str) -> std::result::Result<(), String> {
        self.remember(key, Some(json));
        self.send("put", key, Some(json))
    }

    fn delete(&self, key: &str) -> std::result::Result<(), String> {
        self.remember(key, None);
        self.send("delete", key, None)
    }
}

/// A TypeError (with `code` `INVALID_ARGUMENT`), thrown on the JS thread.
fn type_error(env: &Env, message: &str) -> Error {
    match env.throw_type_error(message, Some("INVALID_ARGUMENT")) {
        Ok(()) => Error::new(Status::PendingException, message.to_owned()),
        Err(e) => e,
    }
}

/// `a number`, `an object`, ... for messages about what JS handed over.
fn a_type(value: &Unknown) -> &'static str {
    match value.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Object) => {
            if value.is_promise().unwrap_or(false) {
                "a Promise"
            } else {
                "an object"
            }
        }
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        _ => "a value of an unknown type",
    }
}

/// The adapter's method `name`, or a TypeError naming it.
fn method<'env, Args: JsValuesTupleIntoVec>(
    env: &'env Env,
    adapter: &Object<'env>,
    name: &str,
) -> Result<Function<'env, Args, Unknown<'static>>> {
    let value: Unknown = adapter.get_named_property(name)?;
    if value.get_type()? != ValueType::Function {
        let signature = match name {
            "get" => "get(key) returning the stored JSON string, or null/undefined",
            "put" => "put(key, json)",
            _ => "delete(key)",
        };
        return Err(type_error(
            env,
            &format!(
                "storage adapter: `{name}` must be a function, got {}; an adapter has {signature}",
                a_type(&value)
            ),
        ));
    }
    // SAFETY: checked above to be a function of this env, on its JS thread.
    unsafe { Function::from_napi_value(env.raw(), value.raw()) }
}

/// What JS threw or rejected with, for the log (its `toString()`).
fn describe(env: &Env, value: Unknown) -> String {
    let text = match value.get_type() {
        Ok(ValueType::Symbol) => "a symbol".to_owned(), // toString() of a symbol throws
        _ => value
            .coerce_to_string()
            .and_then(|s| s.into_utf8())
            .and_then(|s| s.into_owned())
            .unwrap_or_else(|_| a_type(&value).to_owned()),
    };
    clear_exception(env);
    text
}

/// Drop an exception a failed conversion left pending (the log line is all we need).
fn clear_exception(env: &Env) {
    let mut pending = false;
    // SAFETY: plain Node-API calls on the JS thread of `env`.
    unsafe {
        if napi::sys::napi_is_exception_pending(env.raw(), &mut pending) == napi::sys::Status::napi_ok && pending {
            let mut exception = std::ptr::null_mut();
            napi::sys::napi_get_and_clear_last_exception(env.raw(), &mut exception);
        }
    }
}

/// The reason of a JS exception captured as an `Error` (its `toString()`).
fn reason(e: &Error) -> String {
    if e.reason.is_empty() { format!("{}", e.status) } else { e.reason.clone() }
}

/// Calls `adapter.get(key)` for every key the engine stores.
fn read_all(
    env: &Env,
    get: &Function<String, Unknown<'static>>,
) -> Result<HashMap<String, std::result::Result<Option<String>, String>>> {
    let mut values = HashMap::new();
    for key in KEYS {
        let value = match get.call((*key).to_owned()) {
            Ok(value) => value,
            Err(e) => {
                // A throw is a failed read: the engine logs it and starts without that value.
                clear_exception(env);
                values.insert((*key).to_owned(), Err(format!("get threw {}", reason(&e))));
                continue;
            }
        };
        let read = match value.get_type()? {
            ValueType::String => {
                // SAFETY: a string of this env, on its JS thread.
                Some(unsafe { String::from_napi_value(env.raw(), value.raw()) }?)
            }
            ValueType::Undefined | ValueType::Null => None,
            _ => {
                if is_promise(&value) {
                    // Refused, but its rejection must not become an unhandled one.
                    on_rejection(env, &value, |_| {});
                }
                return Err(type_error(
                    env,
                    &format!(
                        "storage adapter: get({key:?}) returned {}; get must be synchronous and return the stored JSON \
                         string, or null/undefined when nothing is stored (put and delete may be async)",
                        a_type(&value)
                    ),
                ));
            }
        };
        values.insert((*key).to_owned(), Ok(read));
    }
    Ok(values)
}

/// Log a write that failed: what it threw, or what its Promise rejected with.
fn write_failed(op: &str, key: &str, what: &str) {
    tracing::warn!(target: "webex::storage", "the app storage's {op}({key:?}) failed: {what}; the engine carries on with what it holds");
}

/// The one function every write goes through, on the JS thread:
/// `(op, key, json) => adapter[op](key, json)`, with failures logged, never thrown.
fn dispatcher<'env>(
    env: &'env Env,
    put: Method<FnArgs<(String, String)>>,
    delete: Method<String>,
) -> Result<Function<'env, WriteArgs, ()>> {
    env.create_function_from_closure::<WriteArgs, (), _>("webexStorageWrite", move |ctx| {
        // Never an Err: the thread-safe function would turn it into an uncaught exception.
        let Ok((op, key, json)) = ctx.args::<(String, String, Option<String>)>() else { return Ok(()) };
        let env: &Env = ctx.env;
        let outcome = if op == "put" {
            put.borrow_back(env).and_then(|f| f.call(FnArgs::from((key.clone(), json.unwrap_or_default()))))
        } else {
            delete.borrow_back(env).and_then(|f| f.call(key.clone()))
        };
        match outcome {
            Err(e) => {
                clear_exception(env);
                write_failed(&op, &key, &format!("it threw {}", reason(&e)));
            }
            Ok(value) if is_promise(&value) => {
                on_rejection(env, &value, move |what| {
                    write_failed(&op, &key, &format!("its Promise rejected with {what}"))
                });
            }
            Ok(_) => {}
        }
        Ok(())
    })
}

fn is_promise(value: &Unknown) -> bool {
    value.get_type().is_ok_and(|t| t == ValueType::Object) && value.is_promise().unwrap_or(false)
}

/// Handle the rejection of `promise` (so it is never an unhandled rejection) with `then`, given
/// what it rejected with.
fn on_rejection(env: &Env, promise: &Unknown, then: impl FnOnce(String) + 'static) {
    let promise = PromiseRaw::<Unknown>::new(env.raw(), promise.raw());
    let caught = promise.catch(move |ctx: CallbackContext<Unknown>| {
        then(describe(&ctx.env, ctx.value));
        Ok(())
    });
    if caught.is_err() {
        clear_exception(env);
    }
}

/// Register a storage adapter `{get, put, delete}` for the config's
/// `storage.boundedAdapter` / `storage.unboundedAdapter` as `{adapter: <handle>}`. Reads every
/// key the engine stores with `get` now (it must be synchronous: a string, or null/undefined);
/// `put` and `delete` are called later, in order, on the JS thread (they may return a
/// Promise). Throws a TypeError naming a missing method or what `get` wrongly returned. Release
/// the handle (`releaseStorage`) once the clients using it are created.
#[napi(ts_args_type = "adapter: {get: Function; put: Function; delete: Function}")]
pub fn register_storage(env: &Env, adapter: Unknown) -> Result<f64> {
    if adapter.get_type()? != ValueType::Object {
        return Err(type_error(
            env,
            &format!("storage adapter: expected an object with get, put and delete, got {}", a_type(&adapter)),
        ));
    }
    // SAFETY: checked above to be an object of this env.
    let adapter: Object = unsafe { Object::from_napi_value(env.raw(), adapter.raw()) }?;
    let get = method::<String>(env, &adapter, "get")?;
    let put = method::<FnArgs<(String, String)>>(env, &adapter, "put")?;
    let delete = method::<String>(env, &adapter, "delete")?;
    let values = read_all(env, &get.bind(adapter)?)?;
    let write: WriteFn = dispatcher(env, put.bind(adapter)?.create_ref()?, delete.bind(adapter)?.create_ref()?)?
        .build_threadsafe_function::<WriteArgs>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    let store = JsStore { values: Mutex::new(values), write };
    Ok(storage::register_app_store(Arc::new(store)) as f64)
}

/// Release a handle of `registerStorage` (clients created with it keep the adapter).
#[napi]
pub fn release_storage(env: Env, handle: f64) -> Result<()> {
    if handle.fract() != 0.0 || handle < 1.0 || handle > u64::MAX as f64 {
        let message = format!("{handle} is not a storage adapter's handle");
        return Err(crate::coded(&env, webex_core::ErrorCode::InvalidHandle, message));
    }
    storage::release_app_store(handle as u64).map_err(|e| crate::coded(&env, e.code, e.message))
}
