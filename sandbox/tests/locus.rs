//! Locus signalling (stage 1, no media) over real HTTP and real Mercury sockets:
//! meetingInfo, join, mute, moderator controls, leave, end, and the `locus.*` events.

mod common;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use webex_sandbox::Sandbox;

use common::ws::{Ws, next_locus, register, wait_sockets};
use common::{assert_error, call, json, room, start};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

fn locus_base(sb: &Sandbox) -> String {
    format!("{}/locus/api/v1", sb.base_url())
}

fn info_url(sb: &Sandbox) -> String {
    format!("{}/wbxappapi/v1/meetingInfo", sb.base_url())
}

/// A scheduled meeting hosted by `token`'s user.
async fn scheduled(sb: &Sandbox, token: &str) -> Value {
    let body = json!({"title": "Weekly sync", "start": "2030-01-02T10:00:00Z", "end": "2030-01-02T11:00:00Z"});
    let (s, m) = json(Method::POST, &format!("{}/meetings", sb.hydra_url()), token, Some(body)).await;
    assert_eq!(s, 200, "{m}");
    m
}

/// The body of a join: the device, and a TURN discovery request when `turn`.
fn join_body(device: &Value, address: Option<&str>, turn: bool) -> Value {
    let mut b = json!({
        "device": {"url": device["url"], "deviceType": "WEB"},
        "usingResource": null,
        "correlationId": "corr-1",
        "respOnlySdp": true,
        "allowMultiDevice": true,
        "supportsNativeLobby": 1,
        "clientMediaPreferences": {"preferTranscoding": true, "joinCookie": null, "ipver": 4},
    });
    if let Some(a) = address {
        b["invitee"] = json!({"address": a});
    }
    if turn {
        let roap = json!({"messageType": "TURN_DISCOVERY_REQUEST", "version": "2", "seq": 0,
            "headers": ["includeAnswerInHttpResponse", "noOkInTransaction"]});
        b["localMedias"] = json!([{"localSdp": json!({"roapMessage": roap, "reachability": null}).to_string()}]);
    }
    b
}

/// `/loci/call` by meeting number; returns the answer.
async fn call_join(sb: &Sandbox, token: &str, device: &Value, number: &str, turn: bool) -> Value {
    let url = format!("{}/loci/call?alternateRedirect=true", locus_base(sb));
    let (s, v) = json(Method::POST, &url, token, Some(join_body(device, Some(&format!("wbxmn:{number}")), turn))).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// `POST <locusUrl>/participant`; returns `(status, answer)`.
async fn participant_join(locus_url: &str, token: &str, device: &Value) -> (u16, Value) {
    let url = format!("{locus_url}/participant?alternateRedirect=true");
    json(Method::POST, &url, token, Some(join_body(device, None, false))).await
}

/// A connected Mercury socket and device for a user.
async fn online(sb: &Sandbox, email: &str) -> (Value, Ws) {
    let u = sb.user(email).unwrap();
    let d = register(sb, &u.token).await;
    let ws = Ws::connect(&d, &u.token).await;
    wait_sockets(sb, email, 1).await;
    (d, ws)
}

fn participant<'a>(locus: &'a Value, email: &str) -> &'a Value {
    locus["participants"].as_array().unwrap().iter().find(|p| p["person"]["email"] == email).expect(email)
}

#[tokio::test]
async fn meeting_info_resolves_number_link_sip_and_space() {
    let sb = start().await;
    let (alice, bob) = (sb.user(ALICE).unwrap(), sb.user(BOB).unwrap());
    let m = scheduled(&sb, &alice.token).await;
    let number = m["meetingNumber"].as_str().unwrap();
    let spaced = format!("{} {} {}", &number[..3], &number[3..6], &number[6..]);
    let sip = m["sipAddress"].as_str().unwrap();
    let bodies = [
        json!({"meetingKey": spaced, "supportHostKey": true, "supportCountryList": true}),
        json!({"meetingUrl": m["webLink"]}),
        json!({"sipUrl": sip}),
        json!({"sipUrl": format!("sip:{sip}")}),
    ];
    for body in bodies {
        // Anyone may look a scheduled meeting up, not only its host.
        let (s, v) = json(Method::POST, &info_url(&sb), &bob.token, Some(body.clone())).await;
        assert_eq!(s, 200, "{body}: {v}");
        assert_eq!(v["meetingNumber"], number);
        assert_eq!(v["sipUrl"], sip);
        assert_eq!(v["meetingJoinUrl"], m["webLink"]);
        assert_eq!(v["meetingName"], "Weekly sync");
        assert_eq!(v["hostId"], alice.person_id.as_str());
        assert!(v.get("locusUrl").is_none() && v.get("conversationUrl").is_none(), "{v}");
    }

    // A space's own meeting: the same numbers as the hydra room meetingInfo.
    let room_id = room(&sb, &alice.token, "Standup").await;
    let (_, hydra) =
        json(Method::GET, &format!("{}/rooms/{room_id}/meetingInfo", sb.hydra_url()), &alice.token, None).await;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&room_id).unwrap();
    let uuid = String::from_utf8(decoded).unwrap().rsplit('/').next().unwrap().to_string();
    let conv = format!("{}/conversation/api/v1/conversations/{uuid}", sb.base_url());
    let (s, v) = json(Method::POST, &info_url(&sb), &alice.token, Some(json!({"conversationUrl": conv}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["meetingNumber"], hydra["meetingNumber"]);
    assert_eq!(v["sipUrl"], hydra["sipAddress"]);
    assert_eq!(v["meetingJoinUrl"], hydra["meetingLink"]);
    assert_eq!(v["meetingName"], "Standup");
    assert_eq!(v["conversationUrl"], conv.as_str());
    assert_eq!(v["hostId"], alice.person_id.as_str());

    // Not a member: 403. Unknown: 404. None or two keys: 400 naming them.
    let res = call(Method::POST, &info_url(&sb), &bob.token, Some(json!({"conversationUrl": conv}))).await;
    assert_error(res, 403).await;
    let res = call(Method::POST, &info_url(&sb), &bob.token, Some(json!({"meetingKey": "1234567890"}))).await;
    assert_error(res, 404).await;
    let two = json!({"meetingKey": number, "sipUrl": sip});
    let body = assert_error(call(Method::POST, &info_url(&sb), &bob.token, Some(two)).await, 400).await;
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains("'meetingKey'") && msg.contains("'sipUrl'"), "{msg}");
    let none = json!({"supportHostKey": true});
    let body = assert_error(call(Method::POST, &info_url(&sb), &bob.token, Some(none)).await, 400).await;
    assert!(body["message"].as_str().unwrap().contains("'conversationUrl'"), "{body}");
    assert_eq!(call(Method::POST, &info_url(&sb), "nope", Some(json!({"meetingKey": number}))).await.status(), 401);
}

#[tokio::test]
async fn two_users_join_and_each_sees_their_own_self() {
    let sb = start().await;
    let (alice, bob) = (sb.user(ALICE).unwrap(), sb.user(BOB).unwrap());
    let m = scheduled(&sb, &alice.token).await;
    let number = m["meetingNumber"].as_str().unwrap();
    let (da, mut wa) = online(&sb, ALICE).await;
    let (db, mut wb) = online(&sb, BOB).await;

    // Alice starts it with a TURN discovery request piggy-backed on the join.
    let answer = call_join(&sb, &alice.token, &da, number, true).await;
    let locus = &answer["locus"];
    let locus_url = locus["url"].as_str().unwrap().to_string();
    assert!(locus_url.starts_with(&format!("{}/loci/", locus_base(&sb))), "{locus_url}");
    assert_eq!(locus["fullState"]["state"], "ACTIVE");
    assert_eq!(locus["fullState"]["count"], 1);
    assert_eq!(locus["info"]["webExMeetingId"], number);
    assert_eq!(locus["info"]["sipUri"], m["sipAddress"]);
    assert_eq!(locus["info"]["topic"], "Weekly sync");
    assert_eq!(locus["host"]["name"], "Alice");
    assert_eq!(locus["syncUrl"], format!("{locus_url}/sync"));
    assert_eq!(locus["sequence"]["rangeStart"], 0);
    let me = &locus["self"];
    assert_eq!(me["state"], "JOINED");
    assert_eq!(me["url"], format!("{locus_url}/participant/{}", me["id"].as_str().unwrap()));
    assert_eq!((me["isCreator"].clone(), me["moderator"].clone()), (json!(true), json!(true)));
    assert_eq!(me["controls"]["role"]["roles"][0], json!({"type": "MODERATOR", "hasRole": true}));
    assert_eq!(me["devices"][0]["url"], da["url"]);
    assert_eq!(me["devices"][0]["state"], "JOINED");
    assert_eq!(me["devices"][0]["correlationId"], "corr-1");
    assert_eq!(me["devices"][0]["keepAliveSecs"], 300);
    let conns = answer["mediaConnections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "{answer}");
    assert!(conns[0]["mediaId"].is_string());
    let sdp: Value = serde_json::from_str(conns[0]["remoteSdp"].as_str().unwrap()).unwrap();
    assert_eq!(
        sdp["roapMessage"],
        json!({"messageType": "TURN_DISCOVERY_RESPONSE", "version": "2", "seq": 0, "headers": ["noOkInTransaction"]})
    );
    let keep_alive = me["devices"][0]["keepAliveUrl"].as_str().unwrap();
    assert_eq!(json(Method::GET, keep_alive, &alice.token, None).await, (200, json!({})));

    let ev = next_locus(&mut wa).await;
    assert_eq!(ev["eventType"], "locus.participant_joined");
    assert_eq!(ev["locusUrl"], locus_url.as_str());
    assert_eq!(ev["locus"]["self"]["person"]["email"], ALICE);

    // meetingInfo now names the running locus.
    let (_, info) = json(Method::POST, &info_url(&sb), &bob.token, Some(json!({"meetingKey": number}))).await;
    assert_eq!(info["locusUrl"], locus_url.as_str());

    // Bob joins the known locus: no ROAP, no media connections.
    let (s, answer) = participant_join(&locus_url, &bob.token, &db).await;
    assert_eq!(s, 200, "{answer}");
    assert_eq!(answer["mediaConnections"], json!([]));
    assert_eq!(answer["locus"]["self"]["person"]["email"], BOB);
    assert_eq!(answer["locus"]["self"]["moderator"], false);
    assert_eq!(answer["locus"]["fullState"]["count"], 2);
    for (ws, email) in [(&mut wa, ALICE), (&mut wb, BOB)] {
        let ev = next_locus(ws).await;
        assert_eq!(ev["eventType"], "locus.participant_joined");
        assert_eq!(ev["locus"]["self"]["person"]["email"], email, "each recipient gets its own self");
        assert_eq!(ev["locus"]["participants"].as_array().unwrap().len(), 2);
        assert_eq!(ev["locus"]["sequence"], answer["locus"]["sequence"]);
    }
    let mut csis: Vec<u64> = answer["locus"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["status"]["csis"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()))
        .collect();
    csis.sort();
    csis.dedup();
    assert_eq!(csis.len(), 4, "two unique CSIs per participant");

    // Reading: GET /loci, GET locus, sync; a stranger may not read it.
    let (s, loci) = json(Method::GET, &format!("{}/loci", locus_base(&sb)), &bob.token, None).await;
    assert_eq!(s, 200);
    assert_eq!(loci["locusUrls"], json!([locus_url]));
    assert_eq!(loci["loci"][0]["self"]["person"]["email"], BOB);
    for url in [locus_url.clone(), format!("{locus_url}/sync")] {
        let (s, v) = json(Method::GET, &url, &bob.token, None).await;
        assert_eq!((s, v["self"]["person"]["email"].clone()), (200, json!(BOB)));
    }
    let carol = sb.add_user("carol@example.com", "Carol");
    assert_error(call(Method::GET, &locus_url, &carol.token, None).await, 403).await;
    let bogus = format!("{}/loci/0b4f4a57-2fd1-4b43-9f4b-6b1b2c1d9e01/participant", locus_base(&sb));
    assert_error(call(Method::POST, &bogus, &carol.token, Some(join_body(&db, None, false))).await, 404).await;
}

/// Alice (host) and Bob in a meeting, with their sockets past the join events.
struct Joined {
    sb: Sandbox,
    number: String,
    locus_url: String,
    alice_pid: String,
    bob_pid: String,
    wa: Ws,
    wb: Ws,
    db: Value,
}

async fn joined() -> Joined {
    let sb = start().await;
    let (alice, bob) = (sb.user(ALICE).unwrap(), sb.user(BOB).unwrap());
    let m = scheduled(&sb, &alice.token).await;
    let number = m["meetingNumber"].as_str().unwrap().to_string();
    let (da, mut wa) = online(&sb, ALICE).await;
    let (db, mut wb) = online(&sb, BOB).await;
    let a = call_join(&sb, &alice.token, &da, &number, false).await;
    // Bob joins by SIP address through /loci/call: the same locus.
    let url = format!("{}/loci/call", locus_base(&sb));
    let sip = format!("sip:{}", m["sipAddress"].as_str().unwrap());
    let (s, b) = json(Method::POST, &url, &bob.token, Some(join_body(&db, Some(&sip), false))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(a["locus"]["url"], b["locus"]["url"]);
    next_locus(&mut wa).await;
    next_locus(&mut wa).await;
    next_locus(&mut wb).await;
    Joined {
        locus_url: a["locus"]["url"].as_str().unwrap().to_string(),
        alice_pid: a["locus"]["self"]["id"].as_str().unwrap().to_string(),
        bob_pid: b["locus"]["self"]["id"].as_str().unwrap().to_string(),
        sb,
        number,
        wa,
        wb,
        db,
    }
}

fn local_sdp(audio_muted: bool, video_muted: bool, roap: Option<Value>) -> Value {
    let mut sdp = json!({"audioMuted": audio_muted, "videoMuted": video_muted});
    if let Some(r) = roap {
        sdp["roapMessage"] = r;
    }
    json!({
        "device": {"url": "x", "deviceType": "WEB"},
        "correlationId": "corr-1",
        "respOnlySdp": true,
        "usingResource": null,
        "localMedias": [{"localSdp": sdp.to_string(), "mediaId": "media-1"}],
    })
}

#[tokio::test]
async fn local_mute_moderator_mute_and_roap_offer() {
    let mut j = joined().await;
    let (alice, bob) = (j.sb.user(ALICE).unwrap(), j.sb.user(BOB).unwrap());
    let bob_media = format!("{}/participant/{}/media", j.locus_url, j.bob_pid);
    let (s, v) = json(Method::PUT, &bob_media, &bob.token, Some(local_sdp(true, false, None))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["locus"]["self"]["status"]["audioStatus"], "RECVONLY");
    assert_eq!(v["locus"]["self"]["status"]["videoStatus"], "SENDRECV");
    assert_eq!(v["mediaConnections"], json!([]));
    for (ws, email) in [(&mut j.wa, ALICE), (&mut j.wb, BOB)] {
        let ev = next_locus(ws).await;
        assert_eq!(ev["eventType"], "locus.participant_audio_muted");
        assert_eq!(ev["locus"]["self"]["person"]["email"], email);
        assert_eq!(participant(&ev["locus"], BOB)["status"]["audioStatus"], "RECVONLY");
    }
    // Alice may not touch Bob's media; Bob may not moderate.
    assert_error(call(Method::PUT, &bob_media, &alice.token, Some(local_sdp(false, false, None))).await, 403).await;
    let alice_controls = format!("{}/participant/{}/controls", j.locus_url, j.alice_pid);
    let mute = json!({"audio": {"muted": true}});
    assert_error(call(Method::PATCH, &alice_controls, &bob.token, Some(mute.clone())).await, 403).await;

    // The host mutes Bob.
    let bob_controls = format!("{}/participant/{}/controls", j.locus_url, j.bob_pid);
    let (s, v) = json(Method::PATCH, &bob_controls, &alice.token, Some(mute)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(participant(&v["locus"], BOB)["controls"]["audio"]["muted"], true);
    let ev = next_locus(&mut j.wb).await;
    assert_eq!(ev["eventType"], "locus.participant_audio_muted");
    assert_eq!(ev["locus"]["self"]["controls"]["audio"]["muted"], true);
    next_locus(&mut j.wa).await;

    // An OFFER whose SDP the media server cannot read is refused with a ROAP ERROR (a real
    // offer is answered: tests/media.rs); unmuting video emits its event.
    let offer = json!({"messageType": "OFFER", "version": "2", "seq": 1, "sdps": ["v=0"], "tieBreaker": 7,
        "headers": ["includeAnswerInHttpResponse", "noOkInTransaction"]});
    let (s, v) = json(Method::PUT, &bob_media, &bob.token, Some(local_sdp(true, true, Some(offer)))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["mediaConnections"][0]["mediaId"], "media-1");
    let sdp: Value = serde_json::from_str(v["mediaConnections"][0]["remoteSdp"].as_str().unwrap()).unwrap();
    let roap = &sdp["roapMessage"];
    assert_eq!((roap["messageType"].clone(), roap["seq"].clone()), (json!("ERROR"), json!(1)), "{sdp}");
    assert_eq!(roap["errorType"], "FAILED");
    assert!(roap["errorCause"].as_str().unwrap().contains("Sdp"), "{sdp}");
    let ev = next_locus(&mut j.wa).await;
    assert_eq!(ev["eventType"], "locus.participant_video_muted");
    assert_eq!(participant(&ev["locus"], BOB)["status"]["videoStatus"], "RECVONLY");
}

#[tokio::test]
async fn leave_rejoin_and_the_last_one_out_makes_it_inactive() {
    let mut j = joined().await;
    let (alice, bob) = (j.sb.user(ALICE).unwrap(), j.sb.user(BOB).unwrap());
    let bob_leave = format!("{}/participant/{}/leave", j.locus_url, j.bob_pid);
    let alice_leave = format!("{}/participant/{}/leave", j.locus_url, j.alice_pid);
    assert_error(call(Method::PUT, &bob_leave, &alice.token, Some(json!({}))).await, 403).await;
    let (s, v) = json(Method::PUT, &bob_leave, &bob.token, Some(json!({"correlationId": "corr-1"}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["locus"]["self"]["state"], "LEFT");
    assert_eq!(v["locus"]["self"]["devices"][0]["state"], "LEFT");
    assert_eq!(v["locus"]["fullState"]["count"], 1);
    for ws in [&mut j.wa, &mut j.wb] {
        let ev = next_locus(ws).await;
        assert_eq!(ev["eventType"], "locus.participant_left");
        assert_eq!(participant(&ev["locus"], BOB)["state"], "LEFT");
    }
    let (_, loci) = json(Method::GET, &format!("{}/loci", locus_base(&j.sb)), &bob.token, None).await;
    assert_eq!(loci["loci"], json!([]));

    // Rejoining reuses the participant id.
    let (s, v) = participant_join(&j.locus_url, &bob.token, &j.db).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["locus"]["self"]["id"], j.bob_pid.as_str());
    assert_eq!(v["locus"]["self"]["state"], "JOINED");
    next_locus(&mut j.wa).await;
    next_locus(&mut j.wb).await;

    json(Method::PUT, &bob_leave, &bob.token, Some(json!({}))).await;
    let (s, v) = json(Method::PUT, &alice_leave, &alice.token, Some(json!({}))).await;
    assert_eq!(s, 200);
    assert_eq!(v["locus"]["fullState"]["state"], "INACTIVE");
    assert_eq!(v["locus"]["fullState"]["active"], false);
    let loci = j.sb.loci_json();
    assert_eq!(loci[0]["fullState"]["state"], "INACTIVE");
    assert!(loci[0].get("self").is_none());
    // meetingInfo no longer names it; the next call starts a new locus.
    let (_, info) = json(Method::POST, &info_url(&j.sb), &bob.token, Some(json!({"meetingKey": j.number}))).await;
    assert!(info.get("locusUrl").is_none(), "{info}");
    let da = register(&j.sb, &alice.token).await;
    let again = call_join(&j.sb, &alice.token, &da, &j.number, false).await;
    assert_ne!(again["locus"]["url"], j.locus_url.as_str());
    assert_eq!(j.sb.loci_json().as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn end_for_everybody_then_joining_is_409() {
    let mut j = joined().await;
    let (alice, bob) = (j.sb.user(ALICE).unwrap(), j.sb.user(BOB).unwrap());
    let end = format!("{}/end", j.locus_url);
    assert_error(call(Method::POST, &end, &bob.token, None).await, 403).await;
    let (s, v) = json(Method::POST, &end, &alice.token, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["locus"]["fullState"]["state"], "ENDED");
    assert_eq!(v["locus"]["fullState"]["active"], false);
    assert!(v["locus"]["participants"].as_array().unwrap().iter().all(|p| p["state"] == "LEFT"));
    for ws in [&mut j.wa, &mut j.wb] {
        let types = [next_locus(ws).await, next_locus(ws).await, next_locus(ws).await];
        let names: Vec<&str> = types.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
        assert_eq!(names, ["locus.participant_left", "locus.participant_left", "locus.controls_updated"]);
        assert!(types.iter().all(|e| e["locus"]["fullState"]["state"] == "ENDED"));
    }
    let (s, v) = participant_join(&j.locus_url, &bob.token, &j.db).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["errorCode"], 2_403_004);
    assert_eq!(v["message"], "The meeting has ended.");
    assert_error(call(Method::POST, &end, &alice.token, None).await, 409).await;
}

#[tokio::test]
async fn rust_api_kick_and_end_meeting() {
    let mut j = joined().await;
    assert!(!j.sb.kick(&j.number, "nobody@example.com"));
    assert!(j.sb.kick(&j.number, BOB));
    let ev = next_locus(&mut j.wb).await;
    assert_eq!(ev["eventType"], "locus.participant_left");
    assert_eq!(ev["locus"]["self"]["state"], "LEFT");
    assert_eq!(ev["locus"]["self"]["removed"], true);
    assert_eq!(next_locus(&mut j.wa).await["eventType"], "locus.participant_left");
    assert!(!j.sb.kick(&j.number, BOB), "already out");
    assert!(j.sb.end_meeting(&j.number));
    let names = [next_locus(&mut j.wa).await, next_locus(&mut j.wa).await];
    assert_eq!(
        names.map(|e| e["eventType"].clone()),
        [json!("locus.participant_left"), json!("locus.controls_updated")]
    );
    assert!(!j.sb.end_meeting(&j.number));
    assert_eq!(j.sb.loci_json()[0]["fullState"]["state"], "ENDED");
}
