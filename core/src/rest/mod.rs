//! The Webex REST API ("hydra", protocol.md §1.8): typed models and one module per resource.
//!
//! Models keep every field the cloud sends: known ones typed, unknown ones in `extra`, unknown
//! enum values as `Other(..)`. Parameter structs reject unknown fields, so a typo is an error
//! that names the field instead of a silently ignored filter.

pub mod attachment_actions;
pub mod meetings;
pub mod memberships;
pub mod messages;
pub mod people;
pub mod rooms;
pub mod team_memberships;
pub mod teams;
pub mod webhooks;

use crate::error::{Error, Result};
use crate::http::{Http, HttpRequest, Method, Pages};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Declare an enum that the cloud sends as a string, keeping values this version does not
/// know as `Other(String)` (so a new cloud value never breaks decoding).
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept as sent.
            Other(String),
        }
        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self { $($name::$variant => $wire,)+ $name::Other(s) => s }
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s { $($wire => $name::$variant,)+ other => $name::Other(other.to_owned()) }
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok($name::from(s.as_ref()))
            }
        }
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> { stringify!($name).into() }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({"type": "string", "examples": [$($wire),+]})
            }
        }
    };
}

/// Free-form members a model does not name, kept as sent.
pub type Extra = serde_json::Map<String, Value>;

/// `base/<id>` with the id as one escaped path segment; an empty id is an error naming it.
pub(crate) fn with_id(base: &str, id_name: &str, id: &str) -> Result<String> {
    if id.trim().is_empty() {
        return Err(Error::invalid(format!("{id_name} is required and must not be empty")));
    }
    let mut url = url::Url::parse(base).map_err(|e| Error::internal(format!("bad service URL: {e}")))?;
    url.path_segments_mut().map_err(|_| Error::internal("service URL cannot have a path"))?.push(id);
    Ok(url.into())
}

/// The hydra URL of `resource`.
pub(crate) fn hydra(http: &Http, resource: &str) -> Result<String> {
    http.service_url("hydra", resource)
}

fn to_json(body: &impl Serialize) -> Result<Value> {
    serde_json::to_value(body).map_err(|e| Error::invalid(format!("cannot encode the request: {e}")))
}

/// POST a JSON body to a hydra resource.
pub(crate) async fn create<T: DeserializeOwned>(http: &Http, resource: &str, body: &impl Serialize) -> Result<T> {
    http.send_json(HttpRequest::new(Method::POST, hydra(http, resource)?).json(to_json(body)?)).await
}

/// GET one object.
pub(crate) async fn get<T: DeserializeOwned>(http: &Http, resource: &str, id_name: &str, id: &str) -> Result<T> {
    http.send_json(HttpRequest::get(with_id(&hydra(http, resource)?, id_name, id)?)).await
}

/// GET one object with query parameters.
pub(crate) async fn get_with<T: DeserializeOwned>(
    http: &Http,
    resource: &str,
    id_name: &str,
    id: &str,
    query: &impl Serialize,
) -> Result<T> {
    let url = with_id(&hydra(http, resource)?, id_name, id)?;
    http.send_json(HttpRequest::get(url).query_from(&to_json(query)?)).await
}

/// PUT (or another method) a JSON body to one object.
pub(crate) async fn update<T: DeserializeOwned>(
    http: &Http,
    method: Method,
    resource: &str,
    id_name: &str,
    id: &str,
    body: &impl Serialize,
) -> Result<T> {
    let url = with_id(&hydra(http, resource)?, id_name, id)?;
    http.send_json(HttpRequest::new(method, url).json(to_json(body)?)).await
}

/// DELETE one object (204).
pub(crate) async fn delete(http: &Http, resource: &str, id_name: &str, id: &str, query: &impl Serialize) -> Result<()> {
    let url = with_id(&hydra(http, resource)?, id_name, id)?;
    http.send(HttpRequest::new(Method::DELETE, url).query_from(&to_json(query)?)).await.map(drop)
}

/// A lazy list with query parameters.
pub(crate) fn list<T: DeserializeOwned>(http: &Http, resource: &str, query: &impl Serialize) -> Result<Pages<T>> {
    let request = HttpRequest::get(hydra(http, resource)?).query_from(&to_json(query)?);
    Ok(Pages::new(http.clone(), request))
}

/// An empty parameter set (for calls that take none).
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Every REST row of the operation table.
pub(crate) fn operations() -> Vec<crate::boundary::operation::Operation> {
    let mut ops = rooms::operations();
    ops.extend(memberships::operations());
    ops.extend(messages::operations());
    ops.extend(people::operations());
    ops.extend(teams::operations());
    ops.extend(team_memberships::operations());
    ops.extend(webhooks::operations());
    ops.extend(attachment_actions::operations());
    ops.extend(meetings::operations());
    ops
}
