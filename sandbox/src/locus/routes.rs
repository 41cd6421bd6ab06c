//! Locus HTTP routes under `<base>/locus/api/v1` (protocol.md §6.1; Bearer auth via `Call`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, patch, post, put};
use serde_json::{Value, json};
use uuid::Uuid;

use super::ops::{Join, Kind, Mute, ended};
use super::resolve::{Key, resolve};
use super::roap::{self, LocalMedia};
use super::{Locus, LocusState, LocusStore, PersonRef, sfu};
use crate::body::Body;
use crate::errors::{ApiError, ApiResult, json_ok};
use crate::state::{AppState, Call, lock};

pub(crate) fn routes() -> Router<AppState> {
    let l = "/locus/api/v1/loci";
    Router::new()
        .route(l, get(list))
        .route(&format!("{l}/call"), post(call_join))
        .route(&format!("{l}/{{id}}"), get(one))
        .route(&format!("{l}/{{id}}/sync"), get(one))
        .route(&format!("{l}/{{id}}/end"), post(end))
        .route(&format!("{l}/{{id}}/participant"), post(participant_join))
        .route(&format!("{l}/{{id}}/participant/{{pid}}/leave"), put(leave))
        .route(&format!("{l}/{{id}}/participant/{{pid}}/media"), put(media))
        .route(&format!("{l}/{{id}}/participant/{{pid}}/controls"), patch(controls))
        .route(&format!("{l}/{{id}}/participant/{{pid}}/keepAlive"), get(keep_alive))
}

/// Index of the locus with this id (404 when unknown).
fn locus_index(ls: &LocusStore, id: &str) -> ApiResult<usize> {
    Uuid::parse_str(id).ok().and_then(|u| ls.find(u)).ok_or_else(ApiError::not_found)
}

/// Index of a participant by id (404 when unknown).
fn participant_index(l: &Locus, pid: &str) -> ApiResult<usize> {
    Uuid::parse_str(pid).ok().and_then(|u| l.participant_index(u)).ok_or_else(ApiError::not_found)
}

/// A participant the caller is (403 for anybody else's).
fn own_participant(l: &Locus, pid: &str, me: Uuid) -> ApiResult<usize> {
    let pi = participant_index(l, pid)?;
    if l.participants[pi].person.uuid != me {
        return Err(ApiError::forbidden("Only the participant may do this."));
    }
    Ok(pi)
}

/// A caller who was never in the locus may not read it.
fn must_have_been_in(l: &Locus, me: Uuid) -> ApiResult<()> {
    match l.participant_of(me) {
        Some(_) => Ok(()),
        None => Err(ApiError::forbidden("Only participants may read this locus.")),
    }
}

/// The join body (protocol.md §6.2); only `device.url` is required.
fn join_request(body: &Body) -> ApiResult<Join> {
    let device = body.get("device").and_then(Value::as_object).ok_or_else(|| ApiError::missing("device"))?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let device_url =
        text(device.get("url")).filter(|u| !u.is_empty()).ok_or_else(|| ApiError::missing("device.url"))?;
    // The pin may come as digits in a number (UNSURE what the SDK sends).
    let pin = match body.get("pin") {
        Some(Value::Number(n)) => Some(n.to_string()),
        other => text(other),
    };
    Ok(Join {
        device_url,
        device_type: text(device.get("deviceType")).unwrap_or_else(|| "WEB".into()),
        correlation_id: body.str("correlationId")?,
        media: roap::local_media(body)?,
        moderator: body.bool("moderator")?.unwrap_or(false),
        pin,
    })
}

/// `{locus, mediaConnections}` after a join: the ROAP reply, if the join carried ROAP.
fn join_answer(ls: &LocusStore, i: usize, me: Uuid, media: Option<&LocalMedia>) -> Response {
    let reply = media.and_then(|m| m.roap.as_ref()).and_then(roap::reply);
    let media_id = media.and_then(|m| m.media_id.clone()).unwrap_or_else(|| Uuid::new_v4().to_string());
    json_ok(json!({"locus": ls.dto(i, Some(me)), "mediaConnections": roap::media_connections(&media_id, reply)}))
}

/// `POST /loci/call`: join the meeting named by `invitee.address`, starting a locus if none
/// is active.
async fn call_join(call: Call, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let address = body
        .get("invitee")
        .and_then(|i| i.get("address"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing("invitee.address"))?;
    let key = Key::address(address).ok_or_else(|| ApiError::invalid("invitee.address", "not a meeting address"))?;
    let join = join_request(&body)?;
    let meeting = resolve(&call.st.store(), &key, call.me.uuid)?;
    let me = PersonRef::from(&call.me);
    let mut ls = lock(&call.st.locus);
    let i = ls.active_or_create(meeting);
    ls.join(&mut lock(&call.st.mercury), i, &me, &join)?;
    Ok(join_answer(&ls, i, me.uuid, join.media.as_ref()))
}

/// `POST <locusUrl>/participant`: join a known locus.
async fn participant_join(call: Call, Path(id): Path<String>, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let join = join_request(&body)?;
    let me = PersonRef::from(&call.me);
    // Lock order store → locus: the store answers the space-membership question.
    let store = call.st.store();
    let mut ls = lock(&call.st.locus);
    let i = locus_index(&ls, &id)?;
    if ls.loci[i].meeting.room.is_some_and(|r| !store.is_member(me.uuid, r)) {
        return Err(ApiError::forbidden("Only members of the space may join its meeting."));
    }
    drop(store);
    ls.join(&mut lock(&call.st.mercury), i, &me, &join)?;
    Ok(join_answer(&ls, i, me.uuid, join.media.as_ref()))
}

/// `GET /loci`: the active loci the caller is JOINED in.
async fn list(call: Call) -> ApiResult<Response> {
    let ls = lock(&call.st.locus);
    let mine: Vec<usize> = (0..ls.loci.len())
        .filter(|&i| {
            let l = &ls.loci[i];
            l.state == LocusState::Active && l.participant_of(call.me.uuid).is_some_and(|p| p.joined)
        })
        .collect();
    let loci: Vec<Value> = mine.iter().map(|&i| ls.dto(i, Some(call.me.uuid))).collect();
    let urls: Vec<String> = mine.iter().map(|&i| ls.url(ls.loci[i].id)).collect();
    Ok(json_ok(json!({"loci": loci, "locusUrls": urls})))
}

/// `GET <locusUrl>` and `GET <locusUrl>/sync` (the sandbox always answers the full DTO).
async fn one(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let ls = lock(&call.st.locus);
    let i = locus_index(&ls, &id)?;
    must_have_been_in(&ls.loci[i], call.me.uuid)?;
    Ok(json_ok(ls.dto(i, Some(call.me.uuid))))
}

/// `PUT <selfUrl>/leave`.
async fn leave(call: Call, Path((id, pid)): Path<(String, String)>) -> ApiResult<Response> {
    let mut ls = lock(&call.st.locus);
    let i = locus_index(&ls, &id)?;
    let pi = own_participant(&ls.loci[i], &pid, call.me.uuid)?;
    ls.leave(&mut lock(&call.st.mercury), i, pi, false);
    Ok(json_ok(json!({"locus": ls.dto(i, Some(call.me.uuid))})))
}

/// `PUT <selfUrl>/media`: local mute flags and ROAP. An OFFER is answered by the media
/// server ([`super::sfu`]). The ROAP reply goes in the HTTP response (`mediaConnections`)
/// when the message's headers carry `includeAnswerInHttpResponse`; otherwise (or with
/// [`crate::Sandbox::set_roap_via_mercury`]) the response has no `mediaConnections` and the
/// reply goes to the caller over Mercury as `locus.message.roap` (protocol.md §6.3).
async fn media(
    call: Call,
    Path((id, pid)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let local = roap::local_media(&body)?.ok_or_else(|| ApiError::missing("localMedias"))?;
    let correlation_id = body.str("correlationId")?;
    let (owner, sfu, via_mercury) = {
        let mut ls = lock(&call.st.locus);
        let i = locus_index(&ls, &id)?;
        let pi = own_participant(&ls.loci[i], &pid, call.me.uuid)?;
        if ls.loci[i].state == LocusState::Ended {
            return Err(ended());
        }
        if !ls.loci[i].participants[pi].joined {
            // UNSURE: the status and text Locus uses for media on a participant who left.
            return Err(ApiError::conflict("The participant is not in the meeting."));
        }
        let mut hub = lock(&call.st.mercury);
        for (kind, muted) in [(Kind::Audio, local.audio_muted), (Kind::Video, local.video_muted)] {
            if let Some(muted) = muted {
                ls.mute(&mut hub, i, pi, Mute { kind, by_moderator: false, muted }, call.me.uuid);
            }
        }
        let p = &ls.loci[i].participants[pi];
        let owner = sfu::Owner { locus: ls.loci[i].id, participant: p.id, email: p.person.email.clone(), csis: p.csis };
        let via_mercury = ls.roap_via_mercury;
        (owner, ls.sfu.clone(), via_mercury)
    };
    let in_http = !via_mercury && local.roap.as_ref().is_some_and(roap::answer_in_http);
    let reply = match &local.roap {
        Some(offer) if offer.get("messageType").and_then(Value::as_str) == Some("OFFER") => {
            Some(answer_offer(&sfu, owner, offer).await)
        }
        Some(other) => roap::reply(other),
        None => None,
    };
    let ls = lock(&call.st.locus);
    let i = locus_index(&ls, &id)?;
    let mut answer = json!({"locus": ls.dto(i, Some(call.me.uuid))});
    match reply {
        Some(reply) if !in_http => {
            ls.publish_roap(&mut lock(&call.st.mercury), i, call.me.uuid, correlation_id.as_deref(), reply);
        }
        reply => {
            let media_id = local.media_id.unwrap_or_else(|| Uuid::new_v4().to_string());
            answer["mediaConnections"] = roap::media_connections(&media_id, reply);
        }
    }
    Ok(json_ok(answer))
}

/// The ROAP ANSWER (or ERROR) to an OFFER: `sdps[0]` goes to the media server.
async fn answer_offer(sfu: &std::sync::Arc<sfu::Sfu>, owner: sfu::Owner, offer: &Value) -> Value {
    let seq = offer.get("seq").cloned().unwrap_or(Value::Null);
    let sdp = offer.get("sdps").and_then(|s| s.get(0)).and_then(Value::as_str);
    let Some(sdp) = sdp else {
        // UNSURE: the errorType Locus uses for an OFFER without SDP.
        return json!({"messageType": "ERROR", "version": "2", "seq": seq, "errorType": "INVALID_STATE"});
    };
    match sfu.offer(owner, sdp.to_string()).await {
        Ok(answer) => json!({"messageType": "ANSWER", "version": "2", "seq": seq, "sdps": [answer]}),
        Err(e) => {
            log_media_failure(&e);
            json!({"messageType": "ERROR", "version": "2", "seq": seq, "errorType": "FAILED", "errorCause": e})
        }
    }
}

/// The sandbox has no logger: media failures go to stderr for whoever runs the tests.
fn log_media_failure(e: &str) {
    eprintln!("webex-sandbox: media offer failed: {e}");
}

/// `muted` of `{"audio": {"muted": bool}}`-style bodies.
fn muted_of(body: &Body, key: &str) -> ApiResult<Option<bool>> {
    match body.get(key) {
        None => Ok(None),
        Some(v) => match v.get("muted") {
            Some(Value::Bool(b)) => Ok(Some(*b)),
            _ => Err(ApiError::invalid(&format!("{key}.muted"), "expected a boolean")),
        },
    }
}

/// `PATCH <locusUrl>/participant/<pid>/controls`: a moderator mutes someone.
async fn controls(
    call: Call,
    Path((id, pid)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes)?;
    let changes = [(Kind::Audio, muted_of(&body, "audio")?), (Kind::Video, muted_of(&body, "video")?)];
    if changes.iter().all(|(_, m)| m.is_none()) {
        return Err(ApiError::bad_request("Give 'audio' or 'video' with 'muted'."));
    }
    let mut ls = lock(&call.st.locus);
    let i = locus_index(&ls, &id)?;
    let pi = participant_index(&ls.loci[i], &pid)?;
    if !ls.loci[i].is_moderator(call.me.uuid) {
        return Err(ApiError::forbidden("Only the host or a moderator may change another participant's controls."));
    }
    if ls.loci[i].state == LocusState::Ended {
        return Err(ended());
    }
    let mut hub = lock(&call.st.mercury);
    for (kind, muted) in changes {
        if let Some(muted) = muted {
            ls.mute(&mut hub, i, pi, Mute { kind, by_moderator: true, muted }, call.me.uuid);
        }
    }
    drop(hub);
    Ok(json_ok(json!({"locus": ls.dto(i, Some(call.me.uuid))})))
}

/// `POST <locusUrl>/end`: the host or a moderator ends the meeting for everybody.
async fn end(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let mut ls = lock(&call.st.locus);
    let i = locus_index(&ls, &id)?;
    // A moderator who already left may still end it (UNSURE).
    if !ls.loci[i].participant_of(call.me.uuid).is_some_and(|p| p.moderator) {
        return Err(ApiError::forbidden("Only the host or a moderator may end the meeting."));
    }
    if ls.loci[i].state == LocusState::Ended {
        return Err(ended());
    }
    ls.end(&mut lock(&call.st.mercury), i, Some(call.me.uuid));
    Ok(json_ok(json!({"locus": ls.dto(i, Some(call.me.uuid))})))
}

/// `GET <device keepAliveUrl>`: nothing expires in the sandbox; just confirm it exists.
async fn keep_alive(call: Call, Path((id, pid)): Path<(String, String)>) -> ApiResult<Response> {
    let ls = lock(&call.st.locus);
    let i = locus_index(&ls, &id)?;
    participant_index(&ls.loci[i], &pid)?;
    Ok(json_ok(json!({})))
}
