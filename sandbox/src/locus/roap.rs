//! ROAP (protocol.md §6.3): TURN discovery is answered (without TURN: the sandbox is on
//! loopback), the local mute flags riding in `localSdp` are decoded. OFFERs in `PUT /media`
//! go to the media server (`routes::media`); an OFFER inside a join is refused.

use serde_json::{Value, json};

use crate::body::Body;
use crate::errors::{ApiError, ApiResult};

/// `localMedias[0]` of a join or `/media` request, decoded.
#[derive(Debug, Default)]
pub(crate) struct LocalMedia {
    pub media_id: Option<String>,
    pub audio_muted: Option<bool>,
    pub video_muted: Option<bool>,
    pub roap: Option<Value>,
}

/// `localMedias[0]`, or `None` when the request has none. `localSdp` is a JSON *string*
/// holding `{audioMuted, videoMuted, roapMessage?, reachability?}`.
pub(crate) fn local_media(body: &Body) -> ApiResult<Option<LocalMedia>> {
    let Some(list) = body.get("localMedias") else { return Ok(None) };
    let first = match list {
        Value::Array(a) => match a.first() {
            Some(v) => v,
            None => return Ok(None),
        },
        _ => return Err(ApiError::invalid("localMedias", "expected an array")),
    };
    let bad_sdp = || ApiError::invalid("localMedias[0].localSdp", "expected a JSON object encoded as a string");
    let sdp = match first.get("localSdp") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).map_err(|_| bad_sdp())?,
        Some(_) => return Err(bad_sdp()),
    };
    if !sdp.is_object() {
        return Err(bad_sdp());
    }
    let flag = |k: &str| -> ApiResult<Option<bool>> {
        match sdp.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(&format!("localSdp.{k}"), "expected a boolean")),
        }
    };
    let roap = match sdp.get("roapMessage") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(ApiError::invalid("localSdp.roapMessage", "expected an object")),
    };
    Ok(Some(LocalMedia {
        media_id: first.get("mediaId").and_then(Value::as_str).map(str::to_string),
        audio_muted: flag("audioMuted")?,
        video_muted: flag("videoMuted")?,
        roap,
    }))
}

/// The server's ROAP answer to a client message, if it gets one.
pub(crate) fn reply(roap: &Value) -> Option<Value> {
    let seq = roap.get("seq").cloned().unwrap_or(Value::Null);
    match roap.get("messageType").and_then(Value::as_str)? {
        // No `x-cisco-turn-*` headers: the sandbox is on loopback, so no TURN server.
        // `noOkInTransaction`: the client sends no OK for it (UNSURE whether Locus sets it).
        "TURN_DISCOVERY_REQUEST" => Some(json!({
            "messageType": "TURN_DISCOVERY_RESPONSE",
            "version": "2",
            "seq": seq,
            "headers": ["noOkInTransaction"],
        })),
        // Offers are taken in `PUT <selfUrl>/media` only (what the SDKs do after joining).
        // The errorType is UNSURE.
        "OFFER" => Some(json!({
            "messageType": "ERROR",
            "version": "2",
            "seq": seq,
            "errorType": "NOT_SUPPORTED",
        })),
        // OK, ERROR, ANSWER: bookkeeping only, nothing to answer.
        _ => None,
    }
}

/// Whether a client ROAP message asks for the reply in the HTTP response (its `headers` hold
/// `includeAnswerInHttpResponse`); otherwise the reply goes over Mercury (protocol.md §6.3).
pub(crate) fn answer_in_http(roap: &Value) -> bool {
    roap.get("headers")
        .and_then(Value::as_array)
        .is_some_and(|h| h.iter().any(|v| v.as_str() == Some("includeAnswerInHttpResponse")))
}

/// `mediaConnections` of a join or `/media` answer: the ROAP reply inside `remoteSdp`
/// (a JSON string of `{"roapMessage": ...}`), or none.
pub(crate) fn media_connections(media_id: &str, reply: Option<Value>) -> Value {
    match reply {
        Some(r) => json!([{
            "mediaId": media_id,
            "remoteSdp": json!({"roapMessage": r}).to_string(),
        }]),
        None => json!([]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::answer_in_http;

    #[test]
    fn the_answer_goes_in_http_only_when_the_offer_asks() {
        let offer = |headers| json!({"messageType": "OFFER", "seq": 1, "headers": headers});
        assert!(answer_in_http(&offer(json!(["includeAnswerInHttpResponse", "noOkInTransaction"]))));
        assert!(!answer_in_http(&offer(json!(["noOkInTransaction"]))));
        assert!(!answer_in_http(&offer(json!("includeAnswerInHttpResponse"))));
        assert!(!answer_in_http(&json!({"messageType": "OFFER", "seq": 1})));
    }
}
