//! Every operation of the table, driven through the boundary (JSON in, JSON out, callbacks)
//! against the real sandbox; and the boundary's contract for bad handles, bad input and close.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use webex_core::boundary::{Handle, engine, operations};
use webex_core::{Error, ErrorCode, Event};
use webex_sandbox::{Fault, Sandbox};
use webex_tests::*;

struct Harness {
    handle: Handle,
    called: Mutex<BTreeSet<String>>,
    events: Arc<Mutex<Vec<Event>>>,
    events_rx: Mutex<mpsc::Receiver<()>>,
}

impl Harness {
    fn new(sb: &Sandbox, email: &str) -> Harness {
        Harness::with_http(sb, email, json!({}))
    }

    /// A harness whose config's `http` section also has `http`'s members.
    fn with_http(sb: &Sandbox, email: &str, http: Value) -> Harness {
        let events = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink_events = events.clone();
        let tx = Mutex::new(tx);
        let token = sb.user(email).unwrap().token;
        let handle = engine()
            .client_new(
                &{
                    let mut config = config_for(sb, &token);
                    if let (Some(section), Value::Object(http)) = (config["http"].as_object_mut(), http) {
                        section.extend(http);
                    }
                    config.to_string()
                },
                Arc::new(move |e: &Event| {
                    sink_events.lock().unwrap().push(e.clone());
                    let _ = tx.lock().unwrap().send(());
                }),
            )
            .unwrap();
        Harness { handle, called: Mutex::default(), events, events_rx: Mutex::new(rx) }
    }

    fn try_call(&self, op: &str, params: Value) -> Result<Value, Error> {
        self.called.lock().unwrap().insert(op.to_owned());
        let (tx, rx) = mpsc::channel();
        engine().client_call(self.handle, op, &params.to_string(), Box::new(move |r| tx.send(r).unwrap()))?;
        let result = rx.recv().expect("the callback runs exactly once");
        assert!(rx.recv().is_err(), "{op}: the callback ran twice");
        // What a binding gets: the answer's JSON text.
        result.map(|answer| {
            let text = answer.to_string();
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{op}: the answer is not JSON ({e}): {text}"))
        })
    }

    fn call(&self, op: &str, params: Value) -> Value {
        self.try_call(op, params.clone()).unwrap_or_else(|e| panic!("{op}({params}): {e}"))
    }

    fn wait_event(&self, kind: &str) -> Event {
        loop {
            if let Some(e) = self.events.lock().unwrap().iter().find(|e| e.kind == kind) {
                return e.clone();
            }
            self.events_rx.lock().unwrap().recv().expect("events keep coming");
        }
    }
}

fn started_sandbox() -> (tokio::runtime::Runtime, Sandbox) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt.block_on(sandbox());
    (rt, sb)
}

#[test]
fn every_operation_through_the_boundary() {
    let (_rt, sb) = started_sandbox();
    let h = Harness::new(&sb, &sb.bot().email);
    assert_eq!(h.wait_event("ready").data, json!({}));

    // people
    let me = h.call("people.me", json!({}));
    assert_eq!(me["emails"][0], sb.bot().email);
    let alice = &h.call("people.list", json!({"email": ALICE}))["items"][0];
    assert_eq!(alice["emails"][0], ALICE);
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    assert_eq!(h.call("people.get", json!({"personId": alice_id}))["displayName"], alice["displayName"]);
    let bob_id = sb.user(BOB).unwrap().person_id;

    // rooms
    let room = h.call("rooms.create", json!({"title": "My First Room"}));
    let room_id = room["id"].as_str().unwrap().to_owned();
    assert_eq!(room["type"], "group");
    assert_eq!(h.call("rooms.get", json!({"roomId": room_id}))["title"], "My First Room");
    assert_eq!(h.call("rooms.update", json!({"roomId": room_id, "title": "Renamed"}))["title"], "Renamed");
    let rooms = h.call("rooms.list", json!({"max": 1}));
    assert_eq!(rooms["items"].as_array().unwrap().len(), 1);
    assert!(h.call("rooms.meetingInfo", json!({"roomId": room_id}))["meetingLink"].is_string());

    // pagination through the cursor
    h.call("rooms.create", json!({"title": "Second"}));
    let first = h.call("rooms.list", json!({"max": 1}));
    let cursor = first["next"].as_str().expect("a next cursor with two rooms and max 1").to_owned();
    let second = h.call("pages.next", json!({"cursor": cursor}));
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);

    // memberships
    let m_alice = h.call("memberships.create", json!({"roomId": room_id, "personEmail": ALICE}));
    let m_bob = h.call("memberships.create", json!({"roomId": room_id, "personId": bob_id}));
    assert_eq!(m_alice["personEmail"], ALICE);
    let dup = h.try_call("memberships.create", json!({"roomId": room_id, "personEmail": ALICE})).unwrap_err();
    assert_eq!(dup.code, ErrorCode::Conflict);
    let members = h.call("memberships.list", json!({"roomId": room_id}));
    assert_eq!(members["items"].as_array().unwrap().len(), 3);
    let m_bob_id = m_bob["id"].as_str().unwrap();
    assert_eq!(h.call("memberships.get", json!({"membershipId": m_bob_id}))["personId"], bob_id);
    assert_eq!(
        h.call("memberships.update", json!({"membershipId": m_bob_id, "isModerator": true}))["isModerator"],
        true
    );
    assert_eq!(h.call("memberships.delete", json!({"membershipId": m_bob_id})), Value::Null);

    // messages
    let msg = h.call("messages.create", json!({"roomId": room_id, "markdown": "**Hi Everyone**"}));
    let msg_id = msg["id"].as_str().unwrap().to_owned();
    assert_eq!(msg["markdown"], "**Hi Everyone**");
    let direct = h.call("messages.create", json!({"toPersonEmail": ALICE, "text": "hello alice"}));
    assert_eq!(direct["roomType"], "direct");
    assert_eq!(h.call("messages.listDirect", json!({"personEmail": ALICE}))["items"][0]["text"], "hello alice");
    assert_eq!(h.call("messages.list", json!({"roomId": room_id}))["items"][0]["id"], msg_id);
    assert_eq!(h.call("messages.get", json!({"messageId": msg_id}))["roomId"], room_id);
    assert_eq!(
        h.call("messages.update", json!({"messageId": msg_id, "roomId": room_id, "text": "edited"}))["text"],
        "edited"
    );
    let card = json!({"contentType": "application/vnd.microsoft.card.adaptive",
        "content": {"type": "AdaptiveCard", "version": "1.2", "body": [{"type": "TextBlock", "text": "Pick"}],
                    "actions": [{"type": "Action.Submit", "title": "OK"}]}});
    let card_msg = h.call("messages.create", json!({"roomId": room_id, "text": "card", "attachments": [card]}));
    let action = h.call(
        "attachmentActions.create",
        json!({"type": "submit", "messageId": card_msg["id"], "inputs": {"choice": "a"}}),
    );
    assert_eq!(h.call("attachmentActions.get", json!({"id": action["id"]}))["inputs"]["choice"], "a");
    assert_eq!(h.call("messages.delete", json!({"messageId": msg_id})), Value::Null);
    assert_eq!(h.try_call("messages.get", json!({"messageId": msg_id})).unwrap_err().code, ErrorCode::NotFound);

    // teams and team memberships
    let team = h.call("teams.create", json!({"name": "Team A", "description": "d"}));
    let team_id = team["id"].as_str().unwrap().to_owned();
    assert_eq!(h.call("teams.get", json!({"teamId": team_id}))["name"], "Team A");
    assert_eq!(h.call("teams.update", json!({"teamId": team_id, "name": "Team B"}))["name"], "Team B");
    assert!(h.call("teams.list", json!({}))["items"].as_array().unwrap().iter().any(|t| t["id"] == team_id.as_str()));
    let tm = h.call("teamMemberships.create", json!({"teamId": team_id, "personEmail": ALICE}));
    let tm_id = tm["id"].as_str().unwrap();
    assert_eq!(h.call("teamMemberships.list", json!({"teamId": team_id}))["items"].as_array().unwrap().len(), 2);
    assert_eq!(h.call("teamMemberships.get", json!({"membershipId": tm_id}))["teamId"], team_id);
    assert_eq!(
        h.call("teamMemberships.update", json!({"membershipId": tm_id, "isModerator": true}))["isModerator"],
        true
    );
    h.call("teamMemberships.delete", json!({"membershipId": tm_id}));
    h.call("teams.delete", json!({"teamId": team_id}));

    // webhooks
    let hook = h.call(
        "webhooks.create",
        json!({"name": "w", "targetUrl": "https://example.test/hook", "resource": "messages", "event": "created"}),
    );
    let hook_id = hook["id"].as_str().unwrap();
    assert_eq!(h.call("webhooks.get", json!({"webhookId": hook_id}))["resource"], "messages");
    assert_eq!(
        h.call(
            "webhooks.update",
            json!({"webhookId": hook_id, "name": "w2", "targetUrl": "https://example.test/hook2"})
        )["name"],
        "w2"
    );
    assert_eq!(h.call("webhooks.list", json!({}))["items"].as_array().unwrap().len(), 1);
    h.call("webhooks.delete", json!({"webhookId": hook_id}));

    // scheduled meetings
    let meeting = h.call(
        "scheduledMeetings.create",
        json!({"title": "Sync", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z"}),
    );
    let meeting_id = meeting["id"].as_str().unwrap();
    assert!(meeting["meetingNumber"].is_string());
    assert_eq!(h.call("scheduledMeetings.get", json!({"meetingId": meeting_id}))["title"], "Sync");
    assert!(
        h.call("scheduledMeetings.list", json!({"from": "2029-12-31T00:00:00Z", "to": "2030-01-02T00:00:00Z"}))["items"].as_array().unwrap().iter().any(|m| m["id"] == meeting_id)
    );
    let updated = h.call("scheduledMeetings.update", json!({"meetingId": meeting_id, "title": "Sync 2", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T12:00:00Z"}));
    assert_eq!(updated["title"], "Sync 2");
    assert_eq!(
        h.call("scheduledMeetings.patch", json!({"meetingId": meeting_id, "agenda": "notes"}))["agenda"],
        "notes"
    );
    // meetings (signalling): join the scheduled meeting through Locus
    let number = meeting["meetingNumber"].as_str().unwrap();
    let m = h.call("meetings.create", json!({"destination": number}));
    let mid = m["id"].as_str().unwrap();
    assert_eq!(m["state"], "IDLE");
    assert_eq!(m["destinationType"], "MEETING_NUMBER");
    let bad = h.try_call("meetings.join", json!({"meetingId": mid, "video": {"send": true, "codec": "AV1"}}));
    assert_eq!(bad.unwrap_err().code, ErrorCode::InvalidArgument);
    assert_eq!(h.call("meetings.join", json!({"meetingId": mid}))["state"], "JOINED");
    assert_eq!(h.call("meetings.get", json!({"meetingId": mid}))["members"][0]["isSelf"], true);
    assert_eq!(h.call("meetings.members", json!({"meetingId": mid})).as_array().unwrap().len(), 1);
    assert_eq!(h.call("meetings.list", json!({}))["items"][0]["id"], mid);
    assert_eq!(h.call("meetings.muteAudio", json!({"meetingId": mid}))["audioMuted"], true);
    assert_eq!(h.call("meetings.unmuteAudio", json!({"meetingId": mid}))["audioMuted"], false);
    assert_eq!(h.call("meetings.muteVideo", json!({"meetingId": mid}))["videoMuted"], true);
    assert_eq!(h.call("meetings.unmuteVideo", json!({"meetingId": mid}))["videoMuted"], false);
    assert_eq!(h.call("meetings.leave", json!({"meetingId": mid}))["state"], "LEFT");
    // Again with audio: media connects to the sandbox's media server before the join resolves.
    let joined = h.call("meetings.join", json!({"meetingId": mid, "audio": {"send": true, "receive": true}}));
    assert_eq!((joined["state"].clone(), joined["mediaState"].clone()), (json!("JOINED"), json!("CONNECTED")));
    assert!(h.call("meetings.getStats", json!({"meetingId": mid})).is_array());
    assert_eq!(h.call("meetings.requestKeyframe", json!({"meetingId": mid})), json!({}));
    let nobody = h.try_call("meetings.requestKeyframe", json!({"meetingId": mid, "participantId": "nobody"}));
    assert_eq!(nobody.unwrap_err().code, ErrorCode::NotFound);
    // A new offer on a new connection: media is back before it resolves.
    assert_eq!(h.call("meetings.reconnect", json!({"meetingId": mid}))["mediaState"], "CONNECTED");
    assert_eq!(h.call("meetings.end", json!({"meetingId": mid}))["state"], "ENDED");
    h.call("scheduledMeetings.delete", json!({"meetingId": meeting_id}));

    // engine-level
    let cfg = h.call("config.get", json!({}));
    assert_eq!(cfg["credentials"]["access_token"], "<redacted>");
    assert_eq!(h.call("http.request", json!({"method": "GET", "resource": "people/me"}))["id"], me["id"]);
    h.call("rooms.delete", json!({"roomId": room_id}));
    assert!(h.call("logs.history", json!({})).is_array());

    // live events: catalog, device, socket, listening
    assert!(h.call("catalog.load", json!({}))["wdm"].is_string());
    let device = h.call("device.register", json!({}));
    assert_eq!(h.call("device.refresh", json!({}))["url"], device["url"]);
    h.call("mercury.connect", json!({}));
    for resource in ["messages", "memberships", "rooms", "attachmentActions"] {
        h.call(&format!("{resource}.listen"), json!({}));
        h.call(&format!("{resource}.stopListening"), json!({}));
    }
    h.call("mercury.disconnect", json!({}));
    h.call("device.unregister", json!({}));
    assert!(sb.devices(&sb.bot().email).is_empty());

    // credentials: this client has a plain token, so OAuth calls explain what is missing
    let status = h.call("credentials.status", json!({}));
    assert_eq!((status["canAuthorize"].clone(), status["renewal"].clone()), (json!(true), json!("none")));
    let e = h.try_call("authorization.url", json!({})).unwrap_err();
    assert!(e.message.contains("credentials.client_id"), "{}", e.message);
    let e = h.try_call("authorization.exchangeCode", json!({"code": "c"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert_eq!(h.try_call("credentials.refresh", json!({})).unwrap_err().code, ErrorCode::Unauthorized);
    let jwt = sb.guest_jwt("g-7", "Guest Seven", std::time::Duration::from_secs(3600));
    h.call("authorization.requestAccessTokenFromJwt", json!({"jwt": jwt}));
    assert_eq!(h.call("people.me", json!({}))["displayName"], "Guest Seven");
    h.call("credentials.refresh", json!({}));
    // A token set by the app that the cloud refuses: the guest JWT logs in again.
    h.call("credentials.set", json!({"access_token": "no-such-token-at-all"}));
    assert_eq!(h.call("people.me", json!({}))["displayName"], "Guest Seven");
    assert_eq!(sb.requests().iter().filter(|r| r.path == "/v1/jwt/login").count(), 3);

    let called = h.called.lock().unwrap().clone();
    let missing: Vec<&str> = operations().iter().map(|o| o.name).filter(|n| !called.contains(*n)).collect();
    assert!(missing.is_empty(), "operations never driven through the boundary: {missing:?}");
    engine().client_close(h.handle).unwrap();
}

#[test]
fn bad_handles_operations_and_params_are_clear_errors() {
    let (_rt, sb) = started_sandbox();
    let h = Harness::new(&sb, ALICE);
    let noop = || Box::new(|_: Result<webex_core::boundary::Answer, Error>| panic!("no callback for a refused call"));
    let e = engine().client_call(0, "rooms.list", "{}", noop()).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidHandle);
    let e = engine().client_call(u64::MAX, "rooms.list", "{}", noop()).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidHandle);
    let e = engine().client_call(h.handle, "rooms.creat", "{}", noop()).unwrap_err();
    assert_eq!(e.message, "unknown operation 'rooms.creat'; did you mean 'rooms.create'?");
    let e = engine().client_call(h.handle, "rooms.create", "{not json", noop()).unwrap_err();
    assert!(e.message.starts_with("rooms.create: params are not valid JSON"), "{}", e.message);
    let e = engine().client_call(h.handle, "rooms.create", "[1]", noop()).unwrap_err();
    assert_eq!(e.message, "rooms.create: params must be a JSON object");
    // Shape errors come back through the callback, naming the member.
    let e = h.try_call("rooms.create", json!({"title": "t", "isLocked": "yes"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("isLocked"), "{}", e.message);
    // A value in the wrong member may be a token: the error names the member and the type only.
    let secret = "NWQ0ZTEyYjgtYjM5Zi00ZGFkLTk1ZjEtMmM2Y2NhMWE0YjUx_PF84_x";
    let e = h.try_call("credentials.set", json!({"access_token": secret, "expires_in": secret})).unwrap_err();
    assert_eq!(e.message, "credentials.set: invalid params at `expires_in`: invalid type: a string, expected u64");
    let e = h.try_call("rooms.create", json!({"titel": "t"})).unwrap_err();
    assert!(e.message.contains("unknown field `titel`"), "{}", e.message);
    let e = h.try_call("rooms.get", json!({})).unwrap_err();
    assert_eq!(e.message, "rooms.get: `roomId` is required");
    // The cloud replaces the room on update: its title is required, before any request.
    let e = h.try_call("rooms.update", json!({"roomId": "r", "isLocked": true})).unwrap_err();
    assert_eq!(e.message, "rooms.update: invalid params: missing field `title`");
    let e = h.try_call("http.request", json!({"method": "FETCH ME", "resource": "x"})).unwrap_err();
    assert!(e.message.contains("is not an HTTP method"), "{}", e.message);

    engine().client_close(h.handle).unwrap();
    let e = engine().client_call(h.handle, "rooms.list", "{}", noop()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Closed);
    assert_eq!(engine().client_close(h.handle).unwrap_err().code, ErrorCode::Closed);
}

#[test]
fn bad_config_is_refused_with_its_path() {
    let e =
        engine().client_new(r#"{"meetings": {"bandwidth": {"video": "fast"}}}"#, Arc::new(|_: &Event| {})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert_eq!(e.message, "meetings.bandwidth.video: expected a positive integer, got \"fast\"");
}

#[test]
fn close_cancels_calls_in_flight_and_each_callback_runs_once() {
    let (_rt, sb) = started_sandbox();
    let h = Harness::new(&sb, ALICE);
    sb.inject_fault(Fault {
        path: "/v1/people/me".into(),
        delay_ms: Some(60_000),
        count: Some(5),
        ..Default::default()
    });
    let (tx, rx) = mpsc::channel();
    for _ in 0..5 {
        let tx = tx.clone();
        engine().client_call(h.handle, "people.me", "{}", Box::new(move |r| tx.send(r).unwrap())).unwrap();
    }
    drop(tx);
    // The calls are in flight: accepted by the engine, and the sandbox holds every answer for
    // a minute, so none can have completed before close.
    engine().client_close(h.handle).unwrap();
    let results: Vec<_> = rx.iter().collect();
    assert_eq!(results.len(), 5);
    for r in results {
        assert_eq!(r.unwrap_err().code, ErrorCode::Cancelled);
    }
}

#[test]
fn close_from_another_runtimes_thread_waits_for_every_callback() {
    let (rt, sb) = started_sandbox();
    let h = Harness::new(&sb, ALICE);
    sb.inject_fault(Fault { path: "/v1/people/me".into(), delay_ms: Some(60_000), ..Default::default() });
    let (tx, rx) = mpsc::channel();
    engine().client_call(h.handle, "people.me", "{}", Box::new(move |r| tx.send(r).unwrap())).unwrap();
    // The app's own tokio runtime is not the engine's: close waits there too, so the call's
    // callback has run (CANCELLED) by the time close returns.
    rt.block_on(async { engine().client_close(h.handle) }).unwrap();
    let result = rx.try_recv().expect("the callback ran before close returned");
    assert_eq!(result.unwrap_err().code, ErrorCode::Cancelled);
    // And a call on the closed handle is refused at once, never started.
    let refused = engine().client_call(h.handle, "people.me", "{}", Box::new(|_| panic!("never called")));
    assert_eq!(refused.unwrap_err().code, ErrorCode::Closed);
}

#[test]
fn leaving_when_the_cloud_is_gone_fails_instead_of_waiting_for_a_socket() {
    let (rt, sb) = started_sandbox();
    let alice = Harness::new(&sb, ALICE);
    let meeting = alice.call(
        "scheduledMeetings.create",
        json!({"title": "Outage", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z"}),
    );
    let number = meeting["meetingNumber"].as_str().unwrap();
    let m = alice.call("meetings.create", json!({"destination": number}))["id"].as_str().unwrap().to_owned();
    alice.call("meetings.join", json!({"meetingId": m}));
    rt.block_on(sb.stop());
    // The leave used to connect the event socket first, which with the cloud gone never
    // ended. It must fail as a request to a vanished server does. The bound is a hang guard.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(alice.try_call("meetings.leave", json!({"meetingId": m}))));
    let left = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("meetings.leave returned");
    assert_eq!(left.unwrap_err().code, ErrorCode::Network);
}

#[test]
fn audio_frames_cross_the_boundary() {
    let (_rt, sb) = started_sandbox();
    let alice = Harness::new(&sb, ALICE);
    let bob = Harness::new(&sb, BOB);
    let meeting = alice.call(
        "scheduledMeetings.create",
        json!({"title": "Tone", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z"}),
    );
    let number = meeting["meetingNumber"].as_str().unwrap();
    let audio = json!({"send": true, "receive": true});
    let a = alice.call("meetings.create", json!({"destination": number}))["id"].as_str().unwrap().to_owned();
    let alice_id = alice.call("meetings.join", json!({"meetingId": a, "audio": audio}))["selfId"].clone();
    let b = bob.call("meetings.create", json!({"destination": number}))["id"].as_str().unwrap().to_owned();
    // The sink is set before the join, from a thread that is not the engine's.
    let (tx, rx) = mpsc::channel::<(Option<String>, Vec<i16>)>();
    let tx = Mutex::new(tx);
    let sink: webex_core::meetings::AudioSink = Arc::new(move |f: &webex_core::meetings::AudioFrame<'_>| {
        let _ = tx.lock().unwrap().send((f.participant_id.map(str::to_owned), f.samples.to_vec()));
    });
    engine().meeting_set_audio_sink(bob.handle, &b, Some(sink)).unwrap();
    assert_eq!(bob.call("meetings.join", json!({"meetingId": b, "audio": audio}))["mediaState"], "CONNECTED");

    // Alice's frames go in from this plain thread, paced like a microphone.
    let mut pcm = Vec::new();
    for k in 0..500 {
        engine().meeting_send_audio(alice.handle, &a, &tone_frame(440.0, k, 1), 1).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        while let Ok((who, frame)) = rx.try_recv() {
            assert_eq!(who.as_deref(), alice_id.as_str());
            pcm.extend(frame);
        }
        if pcm.len() >= 36_000 {
            break;
        }
    }
    assert!(pcm.len() >= 36_000, "Bob heard {} samples", pcm.len());
    let f = dominant_frequency(&pcm[pcm.len() - 24_000..], 300, 600);
    assert!((435..=445).contains(&f), "Bob hears {f} Hz");
    let stats = alice.call("meetings.getStats", json!({"meetingId": a}));
    assert!(stats.as_array().unwrap().iter().any(|s| s["direction"] == "send" && s["packets"].as_u64() > Some(0)));

    let e = engine().meeting_send_audio(alice.handle, &a, &[0; 500], 1).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert_eq!(engine().meeting_send_audio(alice.handle, "nope", &[0; 960], 1).unwrap_err().code, ErrorCode::NotFound);
    alice.call("meetings.leave", json!({"meetingId": a}));
    let e = engine().meeting_send_audio(alice.handle, &a, &[0; 960], 1).unwrap_err();
    assert_eq!(e.code, ErrorCode::Closed);
    engine().meeting_set_audio_sink(bob.handle, &b, None).unwrap();
    engine().client_close(alice.handle).unwrap();
    engine().client_close(bob.handle).unwrap();
    assert_eq!(engine().meeting_send_audio(alice.handle, &a, &[0; 960], 1).unwrap_err().code, ErrorCode::Closed);
}

/// A room of `n` messages and the listing of it one message per page.
fn paged_room(h: &Harness, n: usize) -> Value {
    let room = h.call("rooms.create", json!({"title": "pages"}))["id"].clone();
    for i in 0..n {
        h.call("messages.create", json!({"roomId": room, "text": format!("m{i}")}));
    }
    h.call("messages.list", json!({"roomId": room, "max": 1}))
}

fn texts(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
}

fn fail_every_listing(sb: &Sandbox) {
    sb.inject_fault(Fault {
        method: Some("GET".into()),
        path: "/v1/messages".into(),
        status: Some(404),
        count: Some(0),
        ..Fault::default()
    });
}

#[test]
fn a_walk_past_the_first_page_fetches_the_next_one_while_the_app_reads() {
    let (rt, sb) = started_sandbox();
    let h = Harness::new(&sb, &sb.bot().email);
    let first = paged_room(&h, 4);
    let second = h.call("pages.next", json!({"cursor": first["next"]}));
    let third_url = second["next"].as_str().expect("four messages, one per page").to_owned();

    // The engine asks for the third page on its own...
    let mut logged = sb.requests_watch();
    let asked = |sb: &Sandbox| sb.requests().iter().any(|r| r.method == "GET" && third_url.ends_with(&r.path));
    rt.block_on(async {
        let wait = logged.wait_for(|_| asked(&sb));
        tokio::time::timeout(std::time::Duration::from_secs(10), wait).await.expect("the third page is fetched ahead")
    })
    .expect("the sandbox is running");

    // ...so it is answered even once every listing fails; the fetch it started in turn (the
    // fourth page) meets the fault, is made again when asked for, and fails then too.
    fail_every_listing(&sb);
    let third = h.call("pages.next", json!({"cursor": third_url}));
    let err = h.try_call("pages.next", json!({"cursor": third["next"]})).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound, "{err}");
    sb.clear_faults();

    let pages = [&first, &second, &third].map(texts);
    assert_eq!(pages, [["m3"], ["m2"], ["m1"]], "newest first, each page once");
    let third_fetches = sb.requests().iter().filter(|r| third_url.ends_with(&r.path)).count();
    assert_eq!(third_fetches, 1, "a prefetched page is not fetched again");
}

#[test]
fn a_new_walk_never_gets_a_page_an_abandoned_walk_fetched() {
    let (rt, sb) = started_sandbox();
    let h = Harness::new(&sb, &sb.bot().email);
    let first = paged_room(&h, 4);
    let room = first["items"][0]["roomId"].clone();
    // A walk that stops after its second page leaves the third fetched...
    let second = h.call("pages.next", json!({"cursor": first["next"]}));
    let third_url = second["next"].as_str().unwrap().to_owned();
    let mut logged = sb.requests_watch();
    rt.block_on(logged.wait_for(|_| sb.requests().iter().any(|r| third_url.ends_with(&r.path)))).unwrap();
    // ...then the room changes, and a new walk over the same filters (the same next links)
    // must see the room as it is now.
    h.call("messages.create", json!({"roomId": room, "text": "m4"}));
    let first = h.call("messages.list", json!({"roomId": room, "max": 1}));
    let second = h.call("pages.next", json!({"cursor": first["next"]}));
    assert_eq!(second["next"], third_url, "the same cursor as the abandoned walk's");
    let third = h.call("pages.next", json!({"cursor": third_url}));
    assert_eq!([&first, &second, &third].map(texts), [["m4"], ["m3"], ["m2"]]);
}

#[test]
fn without_prefetch_a_page_is_fetched_only_when_asked_for() {
    let (_rt, sb) = started_sandbox();
    let h = Harness::with_http(&sb, &sb.bot().email, json!({"prefetchPages": false}));
    let first = paged_room(&h, 3);
    let second = h.call("pages.next", json!({"cursor": first["next"]}));
    fail_every_listing(&sb);
    let third_url = second["next"].as_str().unwrap().to_owned();
    let err = h.try_call("pages.next", json!({"cursor": third_url})).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound, "{err}");
    let third_fetches = sb.requests().iter().filter(|r| third_url.ends_with(&r.path)).count();
    assert_eq!(third_fetches, 1, "fetched once, when asked for");
}
