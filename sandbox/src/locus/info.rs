//! `POST <webex-appapi-service>/meetingInfo` (protocol.md §6.1): what a meeting number,
//! link, SIP address or space resolves to. The service name and response fields are from
//! the JS SDK's code (UNSURE against the real service); errors use the hydra error body.

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde_json::{Map, Value};

use super::APPAPI_PATH;
use super::resolve::{Key, resolve};
use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok};
use crate::ids::{self, IdType};
use crate::state::{AppState, Call, lock};

/// The keys that name a meeting; exactly one must be given. (`supportHostKey`,
/// `supportCountryList` and anything else are accepted and ignored.)
const KEYS: [&str; 4] = ["meetingKey", "meetingUrl", "sipUrl", "conversationUrl"];

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(&format!("{APPAPI_PATH}/meetingInfo"), post(meeting_info))
}

/// The one key of the body.
fn key_of(body: &Body) -> ApiResult<Key> {
    let given: Vec<&str> = KEYS.iter().copied().filter(|k| body.get(k).is_some()).collect();
    let [name] = given.as_slice() else {
        let quoted = |ks: &[&str]| ks.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
        return Err(ApiError::bad_request(if given.is_empty() {
            format!("Give exactly one of {}.", quoted(&KEYS))
        } else {
            format!("Give exactly one of {}; got {}.", quoted(&KEYS), quoted(&given))
        }));
    };
    let value = body.str(name)?.filter(|v| !v.trim().is_empty()).ok_or_else(|| ApiError::missing(name))?;
    match *name {
        "meetingKey" => Ok(Key::number(&value)),
        "meetingUrl" => Ok(Key::Link(value.trim().to_string())),
        "sipUrl" => Ok(Key::sip(&value)),
        _ => Key::conversation(&value).ok_or_else(|| ApiError::invalid(name, "not a conversation URL")),
    }
}

async fn meeting_info(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let key = key_of(&body)?;
    // Lock order store → locus.
    let store = call.st.store();
    let m = resolve(&store, &key, call.me.uuid)?;
    let ls = lock(&call.st.locus);
    let mut o = Map::new();
    o.insert("meetingNumber".into(), m.number.clone().into());
    o.insert("sipUrl".into(), m.sip.clone().into());
    o.insert("meetingJoinUrl".into(), m.link.clone().into());
    o.insert("meetingName".into(), m.title.clone().into());
    o.insert("hostId".into(), ids::encode_uuid(IdType::People, m.host.uuid).into());
    if let Some(r) = m.room {
        o.insert("conversationUrl".into(), ls.conversation_url(r).into());
    }
    if let Some(i) = ls.active_for(&m.number) {
        o.insert("locusUrl".into(), ls.url(ls.loci[i].id).into());
    }
    Ok(json_ok(Value::Object(o)))
}
