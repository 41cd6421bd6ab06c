//! The operation table: every operation the bindings expose, declared once (design.md "One
//! operation table"). Python and Node build their namespaces from it, the C ABI takes the
//! name, typed surfaces are generated from `describe`.

use super::operation::{Operation, call, page_call};
use crate::error::Error;
use crate::http::{HttpRequest, Method};
use crate::rest::NoParams;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::LazyLock;

static TABLE: LazyLock<Vec<Operation>> = LazyLock::new(build);

/// Operations by name: every call looks its operation up.
static BY_NAME: LazyLock<HashMap<&'static str, &'static Operation>> =
    LazyLock::new(|| TABLE.iter().map(|op| (op.name, op)).collect());

/// Every operation.
pub fn operations() -> &'static [Operation] {
    &TABLE
}

/// The operation called `name`.
pub fn find(name: &str) -> Option<&'static Operation> {
    BY_NAME.get(name).copied()
}

/// Params of `pages.next`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextPage {
    /// The `next` member of the previous page.
    pub cursor: String,
}

/// Params of `http.request`, the escape hatch for REST calls this table does not cover.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// The service (default `hydra`).
    #[serde(default)]
    pub service: Option<String>,
    /// The path under the service, e.g. `rooms` or `people/me`.
    pub resource: String,
    /// Query parameters.
    #[serde(default)]
    pub query: Option<Value>,
    /// JSON body.
    #[serde(default)]
    pub body: Option<Value>,
}

fn build() -> Vec<Operation> {
    let mut ops = crate::rest::operations();
    ops.extend(crate::listener::operations());
    ops.extend(crate::authorization::operations());
    ops.extend(crate::meetings::operations());
    ops.extend([
        // engine-level operations
        call("config.get", "The effective config, secrets redacted.", |c, _: NoParams| async move {
            Ok(c.config().redacted())
        }),
        call(
            "logs.history",
            "The engine's recent log records (logger.historyLength), redacted.",
            |_c, _: NoParams| async move { Ok(crate::log::history()) },
        ),
        page_call("pages.next", "The page after a list result, from its `next` cursor.", |c, p: NextPage| async move {
            c.http().next_page_text(p.cursor).await
        }),
        call(
            "http.request",
            "A raw REST call through the pipeline (auth, retries, errors).",
            |c, p: RawRequest| async move {
                let method = Method::from_bytes(p.method.to_uppercase().as_bytes())
                    .map_err(|_| Error::invalid(format!("http.request: `{}` is not an HTTP method", p.method)))?;
                let url = c.http().service_url(p.service.as_deref().unwrap_or("hydra"), &p.resource)?;
                let mut request = HttpRequest::new(method, url).query_from(&p.query.unwrap_or(Value::Null));
                if let Some(body) = p.body {
                    request = request.json(body);
                }
                let response = c.http().send(request).await?;
                if response.body.is_empty() { Ok(Value::Null) } else { response.json::<Value>() }
            },
        ),
    ]);
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut names: Vec<&str> = operations().iter().map(|o| o.name).collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate operation names");
        for name in names {
            let (ns, verb) = name.split_once('.').unwrap_or_else(|| panic!("{name}: expected namespace.verb"));
            assert!(!ns.is_empty() && !verb.is_empty() && !verb.contains('.'), "{name}");
        }
    }

    #[test]
    fn every_row_describes_itself() {
        for op in operations() {
            let d = op.describe();
            assert_eq!(d["name"], op.name);
            assert!(d["params"].is_object(), "{}", op.name);
            assert!(d["result"].is_object() || d["result"].is_boolean(), "{}", op.name);
        }
    }
}
