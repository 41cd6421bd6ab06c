//! What an operation is, and the adapters that turn typed Rust calls into JSON-in/JSON-out
//! table rows.

use super::Answer;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::Pages;
use futures_util::future::BoxFuture;
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;

/// How an operation answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// One result.
    Call,
    /// One page `{items, next}`; `pages.next` with `{cursor: next}` fetches the following one.
    List,
}

type Runner = Box<dyn Fn(Client, Value) -> BoxFuture<'static, Result<Answer>> + Send + Sync>;

/// One row of the operation table.
pub struct Operation {
    /// `namespace.verb`, e.g. `rooms.create`.
    pub name: &'static str,
    /// One line for docs and typed surfaces.
    pub doc: &'static str,
    /// Call or list.
    pub kind: OpKind,
    /// The params member that names the object, e.g. `roomId`.
    pub id_param: Option<&'static str>,
    /// JSON Schema of the params object (without `id_param`).
    pub params_schema: fn() -> Schema,
    /// JSON Schema of the result (for lists: of one item).
    pub result_schema: fn() -> Schema,
    pub(crate) run: Runner,
}

impl Operation {
    /// The row as JSON, for binding generators and docs.
    pub fn describe(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "doc": self.doc,
            "kind": self.kind,
            "idParam": self.id_param,
            "params": (self.params_schema)(),
            "result": (self.result_schema)(),
        })
    }
}

fn schema_of<T: JsonSchema>() -> Schema {
    schemars::schema_for!(T)
}

fn decode<P: DeserializeOwned>(op: &str, params: Value) -> Result<P> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { format!(" at `{path}`") };
        let why = crate::log::redact(&without_strings(&e.inner().to_string()));
        Error::invalid(format!("{op}: invalid params{at}: {why}"))
    })
}

/// serde's message without the string values it quotes (`invalid type: string "…"`): a value
/// in the wrong member may be a token (`credentials.set` with the token as `expires_in`), and
/// errors go to logs and crash reports. The path and the expected type say what to fix.
fn without_strings(message: &str) -> String {
    let message = without_variant(message);
    let message = message.as_str();
    const QUOTED: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(QUOTED) {
        out.push_str(&rest[..start]);
        out.push_str("a string");
        // serde quotes with `{:?}`: the value ends at the first quote not escaped by a backslash.
        let value = &rest[start + QUOTED.len()..];
        let mut escaped = false;
        let end = value.char_indices().find(|&(_, c)| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        });
        match end {
            Some((i, _)) => rest = &value[i + 1..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

fn encode<R: Serialize>(op: &str, result: R) -> Result<Answer> {
    serde_json::to_value(result)
        .map(Answer::value)
        .map_err(|e| Error::internal(format!("{op}: cannot encode the result: {e}")))
}

fn take_id(op: &str, id_param: &str, params: &mut Value) -> Result<String> {
    let map = params.as_object_mut().ok_or_else(|| Error::invalid(format!("{op}: params must be a JSON object")))?;
    match map.remove(id_param) {
        Some(Value::String(id)) if !id.trim().is_empty() => Ok(id),
        Some(_) => Err(Error::invalid(format!("{op}: `{id_param}` must be a non-empty string"))),
        None => Err(Error::invalid(format!("{op}: `{id_param}` is required"))),
    }
}

/// A call: params `P` in, `R` out.
pub fn call<P, R, F, Fut>(name: &'static str, doc: &'static str, f: F) -> Operation
where
    P: DeserializeOwned + JsonSchema + Send + 'static,
    R: Serialize + JsonSchema + 'static,
    F: Fn(Client, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R>> + Send + 'static,
{
    answering(name, doc, schema_of::<R>, move |client, p: P| {
        let result = f(client, p);
        async move { encode(name, result.await?) }
    })
}

/// The row of a call whose result is an [`Answer`] already: params `P` in, the answer out.
fn answering<P, F, Fut>(name: &'static str, doc: &'static str, result_schema: fn() -> Schema, f: F) -> Operation
where
    P: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(Client, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Answer>> + Send + 'static,
{
    let f = std::sync::Arc::new(f);
    Operation {
        name,
        doc,
        kind: OpKind::Call,
        id_param: None,
        params_schema: schema_of::<P>,
        result_schema,
        run: Box::new(move |client, params| {
            let f = f.clone();
            Box::pin(async move {
                let p: P = decode(name, params)?;
                f(client, p).await
            })
        }),
    }
}

/// A call on one object named by `id_param`: params `{<id_param>, ...P}` in, `R` out.
pub fn call_id<P, R, F, Fut>(name: &'static str, id_param: &'static str, doc: &'static str, f: F) -> Operation
where
    P: DeserializeOwned + JsonSchema + Send + 'static,
    R: Serialize + JsonSchema + 'static,
    F: Fn(Client, String, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R>> + Send + 'static,
{
    let f = std::sync::Arc::new(f);
    Operation {
        name,
        doc,
        kind: OpKind::Call,
        id_param: Some(id_param),
        params_schema: schema_of::<P>,
        result_schema: schema_of::<R>,
        run: Box::new(move |client, mut params| {
            let f = f.clone();
            Box::pin(async move {
                let id = take_id(name, id_param, &mut params)?;
                let p: P = decode(name, params)?;
                encode(name, f(client, id, p).await?)
            })
        }),
    }
}

/// A list: params `P` in, the first page of `T` out as `{items, next}`.
pub fn list<P, T, F>(name: &'static str, doc: &'static str, f: F) -> Operation
where
    P: DeserializeOwned + JsonSchema + Send + 'static,
    T: DeserializeOwned + Serialize + JsonSchema + Send + 'static,
    F: Fn(Client, P) -> Result<Pages<T>> + Send + Sync + 'static,
{
    let f = std::sync::Arc::new(f);
    Operation {
        name,
        doc,
        kind: OpKind::List,
        id_param: None,
        params_schema: schema_of::<P>,
        result_schema: schema_of::<T>,
        run: Box::new(move |client, params| {
            let f = f.clone();
            Box::pin(async move {
                let p: P = decode(name, params)?;
                let mut pages = f(client, p)?;
                let items = pages.next_text_page().await?.unwrap_or_else(|| "[]".to_owned());
                Ok(page_answer(&items, pages.next_url()))
            })
        }),
    }
}

/// A call answering a page `{items, next}` as the cloud sent it (`pages.next`).
pub fn page_call<P, F, Fut>(name: &'static str, doc: &'static str, f: F) -> Operation
where
    P: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(Client, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<crate::http::TextPage>> + Send + 'static,
{
    answering(name, doc, schema_of::<Value>, move |client, p: P| {
        let page = f(client, p);
        async move {
            let page = page.await?;
            Ok(page_answer(&page.items, page.next))
        }
    })
}

/// `{"items": <items>, "next": <url or null>}` around a checked JSON array: a page of a
/// thousand objects is passed on as text, never built into a tree and written out again.
fn page_answer(items: &str, next: Option<String>) -> Answer {
    let next = Value::from(next).to_string();
    let mut out = String::with_capacity(items.len() + next.len() + 20);
    out.push_str("{\"items\":");
    out.push_str(items);
    out.push_str(",\"next\":");
    out.push_str(&next);
    out.push('}');
    Answer::text(out)
}

/// serde's ``unknown variant `value`, expected ...`` without a value long enough to be a
/// secret (a codec's `AV1` stays, to say what was wrong; a token in the wrong member goes).
fn without_variant(message: &str) -> String {
    const VARIANT: &str = "unknown variant `";
    let Some(start) = message.find(VARIANT) else { return message.to_owned() };
    let value = &message[start + VARIANT.len()..];
    let Some(end) = value.find('`') else { return message[..start].to_owned() + "unknown variant" };
    if end <= 16 {
        return message.to_owned();
    }
    format!("{}unknown variant{}", &message[..start], &value[end + 1..])
}

#[cfg(test)]
mod tests {
    use super::{page_answer, without_strings};
    use serde_json::json;

    #[test]
    fn a_params_error_names_the_type_never_the_string_value() {
        assert_eq!(
            without_strings(r#"invalid type: string "tok\"en\\", expected u64"#),
            "invalid type: a string, expected u64"
        );
        assert_eq!(
            without_strings(r#"invalid type: string "a", expected x; invalid value: string "b""#),
            "invalid type: a string, expected x; invalid value: a string"
        );
        assert_eq!(without_strings("unknown field `roomid`"), "unknown field `roomid`");
        assert_eq!(without_strings(r#"cut: string "abc"#), "cut: a string");
        assert_eq!(
            without_strings("unknown variant `eyJhbGciOiJIUzI1NiJ9.e30.sig`, expected `VP8` or `H264`"),
            "unknown variant, expected `VP8` or `H264`"
        );
        assert_eq!(
            without_strings("unknown variant `AV1`, expected `VP8` or `H264`"),
            "unknown variant `AV1`, expected `VP8` or `H264`"
        );
    }

    #[test]
    fn a_text_page_is_the_same_json_as_a_built_one() {
        let text =
            page_answer(r#"[{"id":"a","n":1},{"id":"b"}]"#, Some(r#"http://x/v1/rooms?c="q""#.into())).to_string();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v, json!({"items": [{"id": "a", "n": 1}, {"id": "b"}], "next": "http://x/v1/rooms?c=\"q\""}));
        let last: serde_json::Value = serde_json::from_str(&page_answer("[]", None).to_string()).unwrap();
        assert_eq!(last, json!({"items": [], "next": null}));
    }
}
